//! The batch pipeline: a folder of images in, a folder of results out, on exactly N workers,
//! with progress, cancel and a complete report.
//!
//! ```text
//! discover (sorted, names planned) ─► N workers, each: decode ─► run_here ─► encode ─► temp file ─► rename
//! ```
//!
//! * **Strategies.** [`Strategy::WorkerReads`] (the default): each worker takes the next file,
//!   reads and decodes it itself, processes it on its own thread
//!   ([`job::run_here`](crate::job::run_here)), encodes and writes it. No pixels cross
//!   threads. [`Strategy::Preload`]: one extra reader thread decodes every file in order and
//!   hands the pixels to the N workers through a bounded queue (the seed's "load in one
//!   place, then process" design, kept for comparison; on small files the single reader is
//!   the bottleneck).
//! * **Memory bound.** Discovery keeps one path pair per file (about 200 bytes each), never
//!   pixels. Every image in flight (being processed, or decoded and queued with `Preload`)
//!   holds its whole job's memory from one [`MemoryBudget`] of
//!   `limits.max_memory` bytes: once its header is read, an image waits until the others
//!   leave room, so the batch as a whole stays under that total whatever N is (an image
//!   alone over it fails). The job's memory is estimated as
//!   [`job_bytes`](crate::io::job_bytes) says: the file's bytes, the decoded pixels, any
//!   turned or 8-bit copy, the gray plane and the result. Besides that, each worker waiting
//!   for room holds its file's bytes (read whole up to 64 MiB).
//! * **Never a half-written file.** Each result is encoded into a temporary
//!   `.tessera-*.part` file in its output folder and renamed into place when complete.
//!   Cancel stops the workers before their next file and interrupts processing between
//!   tiles; a file being encoded is finished and renamed, so only complete results exist.
//!   [`Durability`] says when data is forced to the disk.
//! * **Resuming.** `skip_existing` keeps a result only if the output folder's
//!   [`manifest`] says it came from this same, unchanged input with these settings; any
//!   other existing result (cut short, of another input, of other settings) is made again.
//!   Temporary files left by a killed run on this host are removed when a batch starts.
//! * **Warnings.** A file whose decoder warns but gives pixels (a truncated JPEG, decoded as
//!   OpenCV does) is written and listed in [`BatchReport::warnings`], or fails with
//!   [`FailOn::Warning`].
//! * **Never into the inputs.** The output folder may be the input folder only with a
//!   suffix, outputs never take an input's name (see [`plan`] for collisions), and a result
//!   is never written over the file it came from.
//! * **Shards.** With [`BatchConfig::shard`] a batch takes only its [`Shard`] of the sorted
//!   listing (task I of N of a job array); outputs are named over the whole listing, so N
//!   shards write exactly what one batch would. With [`BatchConfig::plan`] it reads its
//!   slice from a plan made once ahead ([`saved`]) instead of listing the input.
//! * **Errors per file.** Unreadable, empty, truncated, corrupt, non-image and oversized
//!   files, broken links, write failures and panics are recorded with their reason and the
//!   batch goes on. [`run`] fails only for usage and setup problems.

mod config;
pub mod manifest;
pub mod merge;
pub(crate) mod output;
pub mod plan;
pub mod quality;
pub mod remote;
mod report;
pub mod saved;
pub mod shard;
mod worker;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

pub use config::{BatchConfig, Durability, FailOn, MAX_QUEUE, OutputFormat, Strategy};
pub use manifest::MANIFEST_NAME;
pub use plan::{Collision, INPUT_EXTENSIONS, Item, Plan};
pub use quality::{GroundTruth, Quality, QualitySummary, Stat, Worst};
pub use report::{BatchReport, Failure, ImageRecord, Outcome, Warning};
pub use shard::{Listing, Shard, ShardSpec};

/// The control, its phases and file events, re-exported here where batch code looks for them.
pub use crate::control::{Control, FileEvent, Phase, Progress};

use super::error::EngineError;
use super::io::MemoryBudget;
use super::ops::Op;
use super::pool::WorkerPool;
use manifest::Manifest;
use output::{prepare_output, sync_outputs};
use worker::Ctx;

/// Runs a batch on the shared pool for `cfg.workers`, reporting to `ctl` (see [`run_on`]).
pub fn run(cfg: &BatchConfig, ctl: &Control) -> Result<BatchReport, EngineError> {
    cfg.validate()?;
    let pool = WorkerPool::shared(cfg.workers)?;
    run_on(&pool, cfg, ctl)
}

/// The files a batch with `cfg` would process, and the output names they get, without
/// processing anything (the scaling lab counts a folder's images with it).
pub fn discover(cfg: &BatchConfig) -> Result<Plan, EngineError> {
    discover_with(cfg, |_| {})
}

fn discover_with(cfg: &BatchConfig, on_found: impl FnMut(usize)) -> Result<Plan, EngineError> {
    #[cfg(feature = "s3")]
    if remote::is_url(&cfg.input) {
        return remote::discover(cfg);
    }
    let disc = plan::Discovery {
        input: &cfg.input,
        output: &cfg.output,
        input_abs: plan::absolute(&cfg.input),
        output_abs: plan::absolute(&cfg.output),
        recursive: cfg.recursive,
        include: plan::compile_include(&cfg.include)?,
        suffix: &cfg.suffix,
        format: cfg.format,
    };
    Ok(disc.run(on_found))
}

/// Runs a batch on a given pool (its worker count wins over `cfg.workers`). Fails only for
/// usage and setup problems (bad config, output folder that cannot be created or written);
/// every per-file problem is in the report.
///
/// `ctl`'s counters restart from 0 (its cancel flag stays): the batch sets the phase, counts
/// files as they are found and finished, and each image's job adds its tiles to the tile
/// counters, so every counter only grows until the batch ends.
pub fn run_on(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    ctl: &Control,
) -> Result<BatchReport, EngineError> {
    let t0 = Instant::now();
    let cfg = &BatchConfig {
        workers: pool.workers(),
        ..cfg.clone()
    };
    let op = cfg.validate()?;
    ctl.begin(t0);
    ctl.set_phase(Phase::Discovering);
    let result = run_inner(pool, cfg, &op, ctl, t0);
    ctl.finish(match &result {
        Ok(r) => r.total,
        Err(_) => t0.elapsed(),
    });
    result
}

fn run_inner(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    op: &Op,
    ctl: &Control,
    t0: Instant,
) -> Result<BatchReport, EngineError> {
    // A plan is checked before anything is written.
    let saved = cfg
        .plan
        .as_deref()
        .map(|dir| saved::read_slice(dir, cfg))
        .transpose()?;
    let remote = remote::involved(cfg);
    if !remote {
        prepare_output(&cfg.output)?;
    }
    let (plan, listing) = match saved {
        Some((plan, listing)) => (plan, Some(listing)),
        None => {
            let plan = discover_with(cfg, |n| {
                ctl.set_found(n);
                if n % 256 == 0 {
                    ctl.poke();
                }
            })?;
            let listing = (cfg.shard != Shard::ALL).then(|| shard::Listing::of(&plan, &cfg.input));
            (plan.shard(cfg.shard), listing)
        }
    };
    ctl.set_found(plan.items.len());
    let discovery = t0.elapsed();
    ctl.set_phase(Phase::Running);
    if remote {
        #[cfg(feature = "s3")]
        {
            let records = remote::run(pool, cfg, op, ctl, t0, &plan.items)?;
            let parts = Parts {
                found: plan.items.len(),
                collisions: plan.collisions,
                listing,
                discovery,
                sync: std::time::Duration::ZERO,
            };
            return Ok(report(cfg, op, ctl, t0, records, parts));
        }
        #[cfg(not(feature = "s3"))]
        unreachable!("validate refuses s3:// URLs without the s3 feature");
    }
    let records = process(pool, cfg, op, ctl, t0, &plan.items, None);

    let written_paths: Vec<&Path> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Written)
        .map(|r| r.output.as_path())
        .collect();
    let ts = Instant::now();
    if cfg.durability == Durability::AtEnd && !written_paths.is_empty() {
        ctl.set_phase(Phase::Syncing);
        sync_outputs(&cfg.output, &written_paths);
    }
    let sync = ts.elapsed();
    let parts = Parts {
        found: plan.items.len(),
        collisions: plan.collisions,
        listing,
        discovery,
        sync,
    };
    Ok(report(cfg, op, ctl, t0, records, parts))
}

/// Processes `items` (local files, results into `cfg.output`) on the pool's workers and
/// returns their records in start order; events and records name each item as `shown`
/// does when given (same order).
pub(crate) fn process(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    op: &Op,
    ctl: &Control,
    t0: Instant,
    items: &[Item],
    shown: Option<&[Item]>,
) -> Vec<ImageRecord> {
    let budget = MemoryBudget::new(cfg.limits.max_memory);
    let manifest = Manifest::open(
        &cfg.output,
        &cfg.input,
        plan::absolute(&cfg.input),
        format!("{}; {}", op.describe(), cfg.format.extension()),
        cfg.skip_existing,
    );
    let ctx = Ctx {
        cfg,
        op,
        ctl,
        t0,
        items,
        shown,
        made_dirs: Mutex::new(HashSet::new()),
        budget: &budget,
        manifest: &manifest,
    };
    let mut records: Vec<ImageRecord> = match cfg.strategy {
        Strategy::WorkerReads => ctx.worker_reads(pool),
        Strategy::Preload => ctx.preload(pool),
    };
    records.sort_by_key(|r| (r.start, r.worker));
    records
}

/// What a report needs besides the records.
struct Parts {
    found: usize,
    collisions: Vec<Collision>,
    listing: Option<Listing>,
    discovery: std::time::Duration,
    sync: std::time::Duration,
}

fn report(
    cfg: &BatchConfig,
    op: &Op,
    ctl: &Control,
    t0: Instant,
    records: Vec<ImageRecord>,
    parts: Parts,
) -> BatchReport {
    let count = |f: fn(&Outcome) -> bool| records.iter().filter(|r| f(&r.outcome)).count();
    let written = count(|o| *o == Outcome::Written);
    let skipped = count(|o| *o == Outcome::Skipped);
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let found = parts.found;
    let not_processed = found - written - skipped - failed;
    let mut failures: Vec<Failure> = records
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(reason) => Some(Failure {
                path: r.path.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    let mut warnings: Vec<Warning> = records
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .map(|r| Warning {
            path: r.path.clone(),
            reason: r.warnings.join("; "),
        })
        .collect();
    warnings.sort_by(|a, b| a.path.cmp(&b.path));
    // A fold from +0.0: an empty f64 sum is -0.0, which would print as "-0.0 MP".
    let megapixels: f64 = records
        .iter()
        .filter(|r| r.outcome == Outcome::Written)
        .fold(0.0, |sum, r| sum + r.megapixels);
    let total = t0.elapsed();
    let s = total.as_secs_f64().max(1e-9);
    BatchReport {
        input: cfg.input.clone(),
        output: cfg.output.clone(),
        op: op.describe(),
        format: cfg.format,
        strategy: cfg.strategy,
        workers: cfg.workers,
        found,
        written,
        skipped,
        failed,
        not_processed,
        warned: warnings.len(),
        fail_on: cfg.fail_on,
        cancelled: ctl.is_cancelled() || not_processed > 0,
        total,
        discovery: parts.discovery,
        sync: parts.sync,
        megapixels,
        mp_per_s: megapixels / s,
        images_per_s: (written + skipped + failed) as f64 / s,
        failures,
        warnings,
        collisions: parts.collisions,
        shard: (cfg.shard != Shard::ALL).then_some(cfg.shard),
        listing: parts.listing,
        quality: cfg
            .ground_truth
            .as_ref()
            .map(|gt| QualitySummary::of(gt, &records)),
        records,
    }
}
