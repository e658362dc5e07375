//! Plans made ahead of a job array: list the input once, write one slice file per shard.
//!
//! `tessera plan` (or [`write()`]) walks the input folder once, plans every output name over
//! the whole listing (as a batch does, collisions included), and writes into a plan folder:
//!
//! * `slice-I-of-N.jsonl`: shard I's items, one JSON object per line
//!   (`{"input":"sub/a.png","output":"sub/a.png"}`, plus `problem`, or `wanted` and `reason`
//!   for a renamed result), paths relative to the input and output folders;
//! * `plan.json` ([`PlanHeader`]): the tool, the settings that name the outputs, the shard
//!   count, the [`Listing`] (item count and hash) and each slice's item count. It is written
//!   last, so a folder with a `plan.json` holds a complete plan.
//!
//! Every file is written atomically, and nothing in them depends on the time or the machine:
//! the same input and settings give the same bytes. A shard run with
//! [`BatchConfig::plan`](super::BatchConfig::plan) reads `plan.json` and its own slice only,
//! so a task of a job array over millions of files neither walks the folder nor holds more
//! than its slice; the planner holds the whole listing once (about 200 bytes per file).
//! A shard refuses a plan made with other naming settings or another operation, or for
//! another shard count, and a slice whose item count does not match the header.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::plan::{Collision, Item, Plan};
use super::{BatchConfig, Listing, OutputFormat, Shard};
use crate::error::EngineError;
use crate::io::write_atomic;

/// The name of the header file in a plan folder.
pub const PLAN_FILE: &str = "plan.json";

/// The file of shard `shard`'s items in a plan folder.
pub fn slice_name(shard: Shard) -> String {
    format!("slice-{}-of-{}.jsonl", shard.index, shard.count)
}

/// What a plan was made for: the settings that decide which files are inputs and what their
/// results are called, and the operation (a shard with another operation is refused, so
/// that all the shards of one plan make one batch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSettings {
    /// The operation, as [`Op::describe`](crate::ops::Op::describe) names it.
    pub op: String,
    /// The results' format.
    pub format: OutputFormat,
    /// The suffix of result names.
    pub suffix: String,
    /// Whether sub-folders were walked.
    pub recursive: bool,
    /// The include patterns (empty: every file with an image extension).
    pub include: Vec<String>,
    /// Whether results go into the input folder itself (names like results are then not
    /// inputs).
    pub same_folder: bool,
}

/// One slice file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceInfo {
    /// Its file name in the plan folder.
    pub file: String,
    /// Its item count.
    pub items: usize,
}

/// The contents of `plan.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanHeader {
    /// `tessera-engine` and its version.
    pub tool: String,
    /// The input folder as given to the planner (for reading; shards name their own).
    pub input: String,
    /// The shard count.
    pub shards: usize,
    /// The whole listing: its item count and hash, as every shard's report carries it.
    pub listing: Listing,
    /// What the plan was made for.
    pub settings: PlanSettings,
    /// One per shard, in order.
    pub slices: Vec<SliceInfo>,
}

/// One line of a slice file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Line {
    input: String,
    output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wanted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn settings_of(cfg: &BatchConfig) -> Result<PlanSettings, EngineError> {
    let op = cfg.validate()?;
    Ok(PlanSettings {
        op: op.describe(),
        format: cfg.format,
        suffix: cfg.suffix.clone(),
        recursive: cfg.recursive,
        include: cfg.include.clone(),
        same_folder: super::plan::absolute(&cfg.input) == super::plan::absolute(&cfg.output),
    })
}

/// A relative path as stored in a slice (`/` separated); `None` when it is not UTF-8.
fn rel_str(path: &Path, root: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/"))
}

fn plan_err(dir: &Path, reason: String) -> EngineError {
    EngineError::Output {
        path: dir.to_path_buf(),
        reason,
    }
}

/// Lists `cfg.input` once and writes a plan for `shards` shards into `dir` (created if
/// missing): the slice files, then `plan.json`. `cfg.shard` is ignored. Returns the header.
///
/// ```
/// use tessera_engine::batch::{BatchConfig, Shard, saved};
/// let input = tempfile::tempdir().unwrap();
/// for n in ["a.png", "b.png", "c.jpg"] {
///     std::fs::write(input.path().join(n), b"not decoded when planning").unwrap();
/// }
/// let plans = tempfile::tempdir().unwrap();
/// let cfg = BatchConfig::new(input.path(), "/results");
/// let header = saved::write(&cfg, 2, plans.path()).unwrap();
/// assert_eq!((header.listing.items, header.slices[0].items, header.slices[1].items), (3, 1, 2));
/// let (plan, _) = saved::read_slice(plans.path(), &BatchConfig {
///     shard: Shard::new(1, 2).unwrap(),
///     ..cfg
/// }).unwrap();
/// assert_eq!(plan.items[1].output, std::path::Path::new("/results/c.png"));
/// ```
pub fn write(cfg: &BatchConfig, shards: usize, dir: &Path) -> Result<PlanHeader, EngineError> {
    Shard::new(0, shards)
        .map_err(|e| EngineError::InvalidParam(e.to_string().replace("--shard", "--shards")))?;
    let settings = settings_of(&BatchConfig {
        shard: Shard::ALL,
        ..cfg.clone()
    })?;
    if super::plan::absolute(dir) == super::plan::absolute(&cfg.input) {
        return Err(EngineError::InvalidParam(
            "the plan folder is the input folder; give the plan its own folder".into(),
        ));
    }
    let plan = super::discover(cfg)?;
    let listing = Listing::of(&plan, &cfg.input);
    std::fs::create_dir_all(dir).map_err(|e| {
        plan_err(
            dir,
            format!("cannot create the folder: {}", crate::io::io_reason(&e)),
        )
    })?;
    let renamed: std::collections::HashMap<&Path, &Collision> = plan
        .collisions
        .iter()
        .map(|c| (c.path.as_path(), c))
        .collect();
    let mut slices = Vec::with_capacity(shards);
    for index in 0..shards {
        let shard = Shard {
            index,
            count: shards,
        };
        let mut bytes = Vec::new();
        let items = &plan.items[shard.range(plan.items.len())];
        for it in items {
            let input = rel_str(&it.input, &cfg.input);
            let mut problem = it.problem.clone();
            if input.is_none() && problem.is_none() {
                problem = Some(
                    "its name is not UTF-8, which a plan cannot store; batch it without --plan"
                        .into(),
                );
            }
            let c = renamed.get(it.input.as_path());
            let line = Line {
                input: input.unwrap_or_else(|| {
                    let rel = it.input.strip_prefix(&cfg.input).unwrap_or(&it.input);
                    rel.to_string_lossy().into_owned()
                }),
                output: rel_str(&it.output, &cfg.output)
                    .unwrap_or_else(|| it.output.to_string_lossy().into_owned()),
                problem,
                wanted: c.map(|c| {
                    rel_str(&c.wanted, &cfg.output)
                        .unwrap_or_else(|| c.wanted.to_string_lossy().into_owned())
                }),
                reason: c.map(|c| c.reason.clone()),
            };
            serde_json::to_writer(&mut bytes, &line)
                .map_err(|e| plan_err(dir, format!("cannot write the plan: {e}")))?;
            bytes.push(b'\n');
        }
        let file = slice_name(shard);
        write_atomic(&dir.join(&file), &bytes)?;
        slices.push(SliceInfo {
            file,
            items: items.len(),
        });
    }
    let header = PlanHeader {
        tool: format!("tessera-engine {}", env!("CARGO_PKG_VERSION")),
        input: cfg.input.to_string_lossy().into_owned(),
        shards,
        listing,
        settings,
        slices,
    };
    let mut json = serde_json::to_vec_pretty(&header)
        .map_err(|e| plan_err(dir, format!("cannot write the plan: {e}")))?;
    json.push(b'\n');
    write_atomic(&dir.join(PLAN_FILE), &json)?;
    Ok(header)
}

/// Reads the header of the plan in `dir`.
pub fn read_header(dir: &Path) -> Result<PlanHeader, EngineError> {
    let path = dir.join(PLAN_FILE);
    let bytes = std::fs::read(&path).map_err(|e| {
        EngineError::InvalidParam(format!(
            "--plan {}: no plan there ({}: {})",
            dir.display(),
            PLAN_FILE,
            crate::io::io_reason(&e)
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        EngineError::InvalidParam(format!(
            "--plan {}: {} is not a tessera plan ({e})",
            dir.display(),
            PLAN_FILE
        ))
    })
}

/// The items of `cfg.shard` from the plan in `dir`, with the listing the plan was made
/// from. Refuses (a usage error) a plan for another shard count, made with other naming
/// settings or another operation, or whose slice is missing, damaged or of the wrong length.
pub fn read_slice(dir: &Path, cfg: &BatchConfig) -> Result<(Plan, Listing), EngineError> {
    let header = read_header(dir)?;
    let usage = |why: String| EngineError::InvalidParam(format!("--plan {}: {why}", dir.display()));
    if header.shards != cfg.shard.count {
        return Err(usage(format!(
            "the plan has {} shards; this is shard {}",
            header.shards, cfg.shard
        )));
    }
    let mine = settings_of(cfg)?;
    let theirs = &header.settings;
    let differ = |what: &str, a: String, b: String| {
        usage(format!(
            "the plan was made with {what} {a}; this batch has {b}; make a new plan or use the plan's"
        ))
    };
    if mine.op != theirs.op {
        return Err(differ("the operation", theirs.op.clone(), mine.op));
    }
    if mine.format != theirs.format {
        return Err(differ(
            "--format",
            theirs.format.extension().into(),
            mine.format.extension().into(),
        ));
    }
    if mine.suffix != theirs.suffix {
        return Err(differ(
            "--suffix",
            format!("{:?}", theirs.suffix),
            format!("{:?}", mine.suffix),
        ));
    }
    if mine.recursive != theirs.recursive || mine.include != theirs.include {
        return Err(differ(
            "--recursive/--include",
            format!("{}/{:?}", theirs.recursive, theirs.include),
            format!("{}/{:?}", mine.recursive, mine.include),
        ));
    }
    if mine.same_folder != theirs.same_folder {
        let says = |same: bool| {
            if same {
                "results in the input folder".to_string()
            } else {
                "results in their own folder".to_string()
            }
        };
        return Err(differ("", says(theirs.same_folder), says(mine.same_folder)));
    }
    let info = header
        .slices
        .get(cfg.shard.index)
        .filter(|s| s.file == slice_name(cfg.shard))
        .ok_or_else(|| usage(format!("plan.json does not list shard {}", cfg.shard)))?;
    let path = dir.join(&info.file);
    let file = std::fs::File::open(&path).map_err(|e| {
        usage(format!(
            "cannot read {}: {}",
            info.file,
            crate::io::io_reason(&e)
        ))
    })?;
    let mut plan = Plan::default();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| {
            usage(format!(
                "cannot read {}: {}",
                info.file,
                crate::io::io_reason(&e)
            ))
        })?;
        let l: Line = serde_json::from_str(&line)
            .map_err(|e| usage(format!("{} line {}: {e}", info.file, n + 1)))?;
        let input = cfg.input.join(&l.input);
        let output = cfg.output.join(&l.output);
        if let (Some(wanted), Some(reason)) = (l.wanted, l.reason) {
            plan.collisions.push(Collision {
                path: input.clone(),
                wanted: cfg.output.join(wanted),
                output: output.clone(),
                reason,
            });
        }
        plan.items.push(Item {
            input,
            output,
            problem: l.problem,
        });
    }
    if plan.items.len() != info.items {
        return Err(usage(format!(
            "{} has {} items; plan.json says {}",
            info.file,
            plan.items.len(),
            info.items
        )));
    }
    Ok((plan, header.listing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn folder(names: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for n in names {
            let p = d.path().join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        d
    }

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn slices_of_a_plan_are_the_shards_of_a_batch() {
        let input = folder(&["b.png", "a.png", "a.jpg", "s/c.tif", "s/d.bmp", "x.txt"]);
        let plans = tempfile::tempdir().unwrap();
        let mut cfg = BatchConfig::new(input.path(), "/out");
        cfg.recursive = true;
        let h = write(&cfg, 3, plans.path()).unwrap();
        assert_eq!(h.listing.items, 5);
        let whole = super::super::discover(&cfg).unwrap();
        assert_eq!(h.listing, Listing::of(&whole, input.path()));
        for i in 0..3 {
            let shard = Shard::new(i, 3).unwrap();
            let cfg = BatchConfig {
                shard,
                ..cfg.clone()
            };
            let (plan, listing) = read_slice(plans.path(), &cfg).unwrap();
            let local = whole.clone().shard(shard);
            assert_eq!(plan.items, local.items, "shard {shard}");
            assert_eq!(plan.collisions, local.collisions, "shard {shard}");
            assert_eq!(listing, h.listing);
        }
    }

    #[test]
    fn refuses_other_settings_counts_and_damaged_slices() {
        let input = folder(&["a.png", "b.png", "c.png"]);
        let plans = tempfile::tempdir().unwrap();
        let cfg = BatchConfig::new(input.path(), "/out");
        write(&cfg, 2, plans.path()).unwrap();
        let at = |shard: &str, f: &dyn Fn(&mut BatchConfig)| {
            let mut c = BatchConfig {
                shard: shard.parse().unwrap(),
                ..cfg.clone()
            };
            f(&mut c);
            read_slice(plans.path(), &c).unwrap_err().to_string()
        };
        assert!(at("0/3", &|_| {}).contains("2 shards"));
        assert!(at("0/2", &|c| c.suffix = "_b".into()).contains("--suffix"));
        assert!(at("0/2", &|c| c.format = OutputFormat::Jpg).contains("--format"));
        assert!(at("0/2", &|c| c.op.op = crate::ops::OpKind::Otsu).contains("operation"));
        let slice = plans.path().join("slice-1-of-2.jsonl");
        let text = std::fs::read_to_string(&slice).unwrap();
        std::fs::write(&slice, text.lines().next().unwrap()).unwrap();
        assert!(at("1/2", &|_| {}).contains("plan.json says 2"));
        std::fs::remove_file(plans.path().join(PLAN_FILE)).unwrap();
        assert!(at("1/2", &|_| {}).contains("no plan there"));
    }

    #[test]
    fn the_plan_folder_may_not_be_the_input() {
        let input = folder(&["a.png"]);
        let cfg = BatchConfig::new(input.path(), "/out");
        assert!(write(&cfg, 2, input.path()).unwrap_err().is_usage());
        assert!(
            write(&cfg, 0, &input.path().join("p"))
                .unwrap_err()
                .is_usage()
        );
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// A plan made twice from the same input is the same, byte for byte, and its
        /// slices are disjoint and cover the listing.
        #[test]
        fn a_plan_made_twice_is_identical(
            names in proptest::collection::btree_set("[a-c]{1,3}(/[a-c]{1,2})?\\.(png|jpg|tif)", 0..40),
            shards in 1usize..9,
        ) {
            let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            let input = folder(&names);
            let mut cfg = BatchConfig::new(input.path(), "/out");
            cfg.recursive = true;
            let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            write(&cfg, shards, p1.path()).unwrap();
            write(&cfg, shards, p2.path()).unwrap();
            prop_assert_eq!(files(p1.path()), files(p2.path()));
            let mut seen = Vec::new();
            for i in 0..shards {
                let c = BatchConfig { shard: Shard::new(i, shards).unwrap(), ..cfg.clone() };
                let (plan, _) = read_slice(p1.path(), &c).unwrap();
                seen.extend(plan.items.into_iter().map(|it| it.input));
            }
            let all: Vec<PathBuf> = super::super::discover(&cfg).unwrap().items.into_iter().map(|it| it.input).collect();
            prop_assert_eq!(seen, all);
        }
    }
}
