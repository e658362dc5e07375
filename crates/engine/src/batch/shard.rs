//! Shards: "task I of N" of a batch, so that a job array (Slurm, Kubernetes Indexed Jobs,
//! AWS Batch, GNU parallel, or P local processes) splits one folder without anything
//! home-made in between.
//!
//! The contract is deterministic and needs no coordination: every task lists the input the
//! same way (sorted by path, output names planned over the whole listing, so a shard names
//! its results exactly as a single run does), then keeps the contiguous slice
//! `[I·len/N, (I+1)·len/N)` of it. Tasks are numbered from 0, as `--array=0-3` numbers them.
//! For any listing and N the slices are disjoint, cover the listing, and differ in size by
//! at most one item.
//!
//! ```
//! use tessera_engine::batch::Shard;
//! let s: Shard = "1/4".parse().unwrap();
//! assert_eq!(s.range(10), 2..5);
//! assert_eq!(Shard::ALL.range(10), 0..10);
//! ```

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// Task `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Shard {
    /// From 0.
    pub index: usize,
    /// At least 1.
    pub count: usize,
}

/// The most shards a batch may be split into.
pub const MAX_SHARDS: usize = 1 << 20;

impl Shard {
    /// The whole listing: task 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Task `index` of `count`, checked.
    pub fn new(index: usize, count: usize) -> Result<Shard, EngineError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(EngineError::InvalidParam(format!(
                "--shard: the count must be 1..={MAX_SHARDS}, not {count}"
            )));
        }
        if index >= count {
            return Err(EngineError::InvalidParam(format!(
                "--shard: task {index} of {count} does not exist (tasks are numbered 0 to {})",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// The items of a listing of `len` this task takes.
    pub fn range(&self, len: usize) -> Range<usize> {
        let at = |i: usize| ((i as u128 * len as u128) / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }

    /// `--shard auto` (or `auto/N`): the task from the scheduler's environment, read through
    /// `var`:
    ///
    /// * Slurm: the index is `SLURM_ARRAY_TASK_ID` (`--array=0-3`), the count
    ///   `SLURM_ARRAY_TASK_COUNT` (else `SLURM_ARRAY_TASK_MAX − MIN + 1`);
    /// * Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`;
    /// * AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX`;
    /// * GNU parallel: `PARALLEL_SEQ` (counted from 1).
    ///
    /// A count given as `auto/N` wins over Slurm's: rerunning only task 2 of 4
    /// (`sbatch --array=2`) makes an array of one task, so its rerun needs `--shard auto/4`.
    /// The other schedulers do not tell the count, so `auto/N` is needed there.
    pub fn from_env(
        count: Option<usize>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, EngineError> {
        let num = |name: &str| -> Result<Option<usize>, EngineError> {
            match var(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                    EngineError::InvalidParam(format!(
                        "--shard auto: {name}={v:?} is not a task number"
                    ))
                }),
            }
        };
        let usage = |why: &str| EngineError::InvalidParam(format!("--shard auto: {why}"));
        let (index, found) = if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let from_env = match (
                num("SLURM_ARRAY_TASK_COUNT")?,
                num("SLURM_ARRAY_TASK_MIN")?,
                num("SLURM_ARRAY_TASK_MAX")?,
            ) {
                (Some(c), _, _) => Some(c),
                (None, Some(min), Some(max)) if max >= min => Some(max - min + 1),
                _ => None,
            };
            (id, from_env)
        } else if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            (i, None)
        } else if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
            (i, None)
        } else if let Some(seq) = num("PARALLEL_SEQ")? {
            if seq == 0 {
                return Err(usage("PARALLEL_SEQ=0 (GNU parallel counts from 1)"));
            }
            (seq - 1, None)
        } else {
            return Err(usage(
                "no task index in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, \
                 AWS_BATCH_JOB_ARRAY_INDEX or PARALLEL_SEQ); give --shard I/N instead",
            ));
        };
        let count = match (count, found) {
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => {
                return Err(usage(
                    "this scheduler does not tell the number of tasks: give it as --shard auto/N",
                ));
            }
        };
        if index >= count {
            return Err(usage(&format!(
                "task {index} of {count} does not exist; tasks are numbered from 0 \
                 (--array=0-{}), and rerunning some tasks of a larger array needs the whole \
                 count: --shard auto/N",
                count.saturating_sub(1)
            )));
        }
        Shard::new(index, count)
    }
}

impl FromStr for Shard {
    type Err = EngineError;

    /// `I/N` (`0/4` … `3/4`). `auto` forms are resolved by [`ShardSpec`].
    fn from_str(s: &str) -> Result<Shard, EngineError> {
        let bad = || {
            EngineError::InvalidParam(format!(
                "--shard: expected I/N (task I of N, from 0) or auto, not {s:?}"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse::<usize>().map_err(|_| bad())?;
        let n = n.trim().parse::<usize>().map_err(|_| bad())?;
        Shard::new(i, n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The whole listing a shard was cut from: its item count and a hash of its sorted relative
/// paths (FNV-1a, 64 bits), so a merge can tell shards that saw different folder contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Items in the whole listing.
    pub items: usize,
    /// `fnv1a64:` and 16 hex digits.
    pub hash: String,
}

impl Listing {
    /// The listing of `plan` (made over the whole folder), paths relative to `input`.
    pub fn of(plan: &super::Plan, input: &Path) -> Listing {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for it in &plan.items {
            let rel = it.input.strip_prefix(input).unwrap_or(&it.input);
            for &b in rel.as_os_str().as_encoded_bytes().iter().chain(&[0u8]) {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Listing {
            items: plan.items.len(),
            hash: format!("fnv1a64:{h:016x}"),
        }
    }
}

/// What `--shard` was given: a task, or `auto` (with the count when the scheduler does not
/// tell it), resolved from the environment by [`ShardSpec::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `I/N`.
    Fixed(Shard),
    /// `auto` or `auto/N`.
    Auto(Option<usize>),
}

impl ShardSpec {
    /// The task, reading the process environment for `auto`.
    pub fn resolve(&self) -> Result<Shard, EngineError> {
        match *self {
            ShardSpec::Fixed(s) => Ok(s),
            ShardSpec::Auto(n) => Shard::from_env(n, |k| std::env::var(k).ok()),
        }
    }
}

impl FromStr for ShardSpec {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<ShardSpec, EngineError> {
        let t = s.trim();
        if t == "auto" {
            return Ok(ShardSpec::Auto(None));
        }
        if let Some(n) = t.strip_prefix("auto/") {
            let n = n.trim().parse::<usize>().map_err(|_| {
                EngineError::InvalidParam(format!("--shard: expected auto/N, not {s:?}"))
            })?;
            // Checked like a count.
            Shard::new(0, n)?;
            return Ok(ShardSpec::Auto(Some(n)));
        }
        t.parse().map(ShardSpec::Fixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #[test]
        fn shards_are_disjoint_cover_and_balanced(len in 0usize..5000, n in 1usize..300) {
            let mut next = 0;
            let mut sizes = Vec::new();
            for i in 0..n {
                let r = Shard::new(i, n).unwrap().range(len);
                // Contiguous and in order: disjoint, and together the whole listing.
                prop_assert_eq!(r.start, next);
                next = r.end;
                sizes.push(r.len());
            }
            prop_assert_eq!(next, len);
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            prop_assert!(hi - lo <= 1);
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            "3/4".parse::<Shard>().unwrap(),
            Shard { index: 3, count: 4 }
        );
        assert_eq!(Shard { index: 3, count: 4 }.to_string(), "3/4");
        for bad in ["4/4", "1/0", "a/2", "2", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("auto".parse::<ShardSpec>().unwrap(), ShardSpec::Auto(None));
        assert_eq!(
            "auto/8".parse::<ShardSpec>().unwrap(),
            ShardSpec::Auto(Some(8))
        );
        assert!("auto/0".parse::<ShardSpec>().is_err());
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn reads_each_scheduler() {
        let s = |n, pairs: &[(&str, &str)]| Shard::from_env(n, env(pairs));
        assert_eq!(
            s(
                None,
                &[
                    ("SLURM_ARRAY_TASK_ID", "2"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ]
            )
            .unwrap(),
            Shard { index: 2, count: 4 }
        );
        // A count from MIN and MAX.
        assert_eq!(
            s(
                None,
                &[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "0"),
                    ("SLURM_ARRAY_TASK_MAX", "3")
                ]
            )
            .unwrap(),
            Shard { index: 3, count: 4 }
        );
        // Rerunning task 2 of 4 alone (`sbatch --array=2`): Slurm says 1 task, auto/4 wins.
        let rerun = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("SLURM_ARRAY_TASK_MIN", "2"),
            ("SLURM_ARRAY_TASK_MAX", "2"),
        ];
        assert_eq!(s(Some(4), &rerun).unwrap(), Shard { index: 2, count: 4 });
        let e = s(None, &rerun).unwrap_err().to_string();
        assert!(e.contains("auto/N"), "{e}");
        assert_eq!(
            s(Some(5), &[("JOB_COMPLETION_INDEX", "4")]).unwrap(),
            Shard { index: 4, count: 5 }
        );
        assert_eq!(
            s(Some(2), &[("AWS_BATCH_JOB_ARRAY_INDEX", "0")]).unwrap(),
            Shard { index: 0, count: 2 }
        );
        assert_eq!(
            s(Some(3), &[("PARALLEL_SEQ", "3")]).unwrap(),
            Shard { index: 2, count: 3 }
        );
        // No count anywhere, an index out of range, no index.
        assert!(s(None, &[("JOB_COMPLETION_INDEX", "1")]).is_err());
        assert!(s(Some(2), &[("JOB_COMPLETION_INDEX", "2")]).is_err());
        assert!(s(Some(2), &[]).is_err());
        assert!(s(Some(2), &[("JOB_COMPLETION_INDEX", "x")]).is_err());
    }
}
