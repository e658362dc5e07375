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
use std::str::FromStr;

use serde::Serialize;

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
    /// * Slurm: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or with
    ///   `SLURM_ARRAY_TASK_MIN`/`MAX` (the index is counted from MIN, so `--array=1-4` works);
    /// * Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`;
    /// * AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX`;
    /// * GNU parallel: `PARALLEL_SEQ` (counted from 1).
    ///
    /// Only Slurm tells the number of tasks; for the others it comes from `auto/N`. A count
    /// given both ways must agree.
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
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let from_env = match (num("SLURM_ARRAY_TASK_COUNT")?, num("SLURM_ARRAY_TASK_MAX")?) {
                (Some(c), _) => Some(c),
                (None, Some(max)) if max >= min => Some(max - min + 1),
                _ => None,
            };
            if id < min {
                return Err(usage(&format!(
                    "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                )));
            }
            (id - min, from_env)
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
            (Some(a), Some(b)) if a != b => {
                return Err(usage(&format!(
                    "auto/{a} disagrees with the scheduler's {b} tasks"
                )));
            }
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => {
                return Err(usage(
                    "this scheduler does not tell the number of tasks: give it as --shard auto/N",
                ));
            }
        };
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
        // --array=1-4: counted from MIN.
        assert_eq!(
            s(
                None,
                &[
                    ("SLURM_ARRAY_TASK_ID", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_MAX", "4")
                ]
            )
            .unwrap(),
            Shard { index: 3, count: 4 }
        );
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
        // No count anywhere, a count that disagrees, an index out of range, no index.
        assert!(s(None, &[("JOB_COMPLETION_INDEX", "1")]).is_err());
        assert!(
            s(
                Some(3),
                &[
                    ("SLURM_ARRAY_TASK_ID", "0"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ]
            )
            .is_err()
        );
        assert!(s(Some(2), &[("JOB_COMPLETION_INDEX", "2")]).is_err());
        assert!(s(Some(2), &[]).is_err());
        assert!(s(Some(2), &[("JOB_COMPLETION_INDEX", "x")]).is_err());
    }
}
