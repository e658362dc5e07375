//! Timing sweeps: run one workload over every combination of worker counts and tile sizes,
//! with warm-up runs and repeated measurements, and derive speedup, efficiency, an Amdahl fit,
//! effective parallelism and load imbalance from the timings.
//!
//! * **Pools** are built once per worker count before any run ([`WorkerPool::build`]); their
//!   creation time is recorded apart ([`PoolInfo`]) and never mixed into a run's time.
//! * **Order**: all warm-up rounds first (one run of every configuration per round, not
//!   measured), then `repeats` measured rounds. Each round runs every configuration once,
//!   round-robin, and round `r` starts at configuration `r mod n`: configurations are
//!   interleaved so slow drift of the machine (thermal, other processes) spreads over all of
//!   them instead of biasing the ones that ran last, and no configuration always follows the
//!   same neighbour ([`SweepConfig::plan`]).
//! * **Per run** a [`RunRecord`] keeps the wall time, the busy time (sum over tiles or images
//!   of their own time), megapixels per second, and per tile or image which worker ran it and
//!   when ([`ItemRecord`]).
//! * **Derived figures** ([`stats::summarize`]): median, min and max per configuration,
//!   speedup and efficiency against the 1-worker median of the same sweep and tile size, the
//!   Amdahl serial fraction, effective parallelism and load imbalance.
//!
//! A workload is anything implementing [`Workload`]: [`ImageWorkload`] (one image and one
//! operation, tiled on the pool) is here; a folder batch is an adapter over
//! `engine::batch::run_on` (see the note on [`Workload`]). Tests drive the engine with
//! synthetic workloads whose timings are known, so every figure can be checked exactly.
//!
//! ```
//! use std::sync::Arc;
//! use tessera_engine::sweep::{self, ImageWorkload, SweepConfig, SweepControl};
//! use tessera_engine::{OpSettings, SourceImage, TileSize};
//! let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x * 4 + y) as u8]));
//! let work = ImageWorkload::new("ramp", Arc::new(SourceImage::gray(img)), &OpSettings::default())
//!     .unwrap();
//! let cfg = SweepConfig { workers: vec![1, 2], tiles: vec![TileSize::Square(16)], repeats: 2, warmup: 1 };
//! let result = sweep::run(&work, &cfg, &SweepControl::new()).unwrap();
//! assert_eq!(result.measured().count(), 4);
//! let summary = sweep::stats::summarize(&result);
//! assert_eq!(summary.rows.len(), 2);
//! assert_eq!(summary.rows[0].speedup, 1.0);
//! ```

pub mod folder;
pub mod report;
pub mod stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::error::EngineError;
use super::job::{self, JobControl, Stage};
use super::ops::{Op, OpSettings};
use super::pool::{MAX_WORKERS, WorkerPool, available_cores};
use super::source::SourceImage;
use super::tile::TileSize;

pub use report::{Machine, SweepReport};
pub use stats::{AmdahlFit, Baseline, ConfigRow, Summary, TABLE_COLUMNS, summarize};

/// The most measured repeats (or warm-up rounds) a sweep accepts.
pub const MAX_REPEATS: usize = 1000;

/// Parses a worker list: `1,2,4`, `1-8`, `1,2,4-6`.
pub fn parse_worker_list(s: &str) -> Result<Vec<usize>, EngineError> {
    let bad = || {
        EngineError::InvalidParam(format!(
            "--workers must be a list of worker counts between 1 and {} such as \
             1,2,4 or 1-8, got {s:?}",
            super::pool::MAX_WORKERS
        ))
    };
    let num = |t: &str| -> Result<usize, EngineError> {
        match t.trim().parse::<usize>() {
            Ok(n) if (1..=super::pool::MAX_WORKERS).contains(&n) => Ok(n),
            _ => Err(bad()),
        }
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    Ok(out)
}

/// Parses a comma-separated list of tile sizes (`auto`, edges in pixels): `auto,256`.
pub fn parse_tile_list(s: &str) -> Result<Vec<TileSize>, EngineError> {
    s.split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim()
                .parse::<TileSize>()
                .map_err(|e| EngineError::InvalidParam(e.to_string()))
        })
        .collect()
}

/// One configuration of a sweep: a worker count and a tile size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConfigKey {
    pub workers: usize,
    pub tile: TileSize,
}

/// What a sweep runs: worker counts × tile sizes, each `warmup` times unmeasured and
/// `repeats` times measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepConfig {
    pub workers: Vec<usize>,
    pub tiles: Vec<TileSize>,
    pub repeats: usize,
    pub warmup: usize,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            workers: Self::default_workers(available_cores()),
            tiles: vec![TileSize::Auto],
            repeats: 5,
            warmup: 1,
        }
    }
}

impl SweepConfig {
    /// The default worker counts: 1 to twice the number of cores (past the core count the
    /// sweep shows that adding workers stops helping).
    pub fn default_workers(cores: usize) -> Vec<usize> {
        (1..=(2 * cores.max(1)).min(MAX_WORKERS)).collect()
    }

    /// Checks the ranges; a bad value is a usage error.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::InvalidParam(m));
        if self.workers.is_empty() {
            return bad("the sweep needs at least one worker count".into());
        }
        if let Some(&w) = self.workers.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
            return bad(format!(
                "worker counts must be between 1 and {MAX_WORKERS}, got {w}"
            ));
        }
        if self.tiles.is_empty() {
            return bad("the sweep needs at least one tile size".into());
        }
        if self.tiles.contains(&TileSize::Square(0)) {
            return bad("tile sizes must be positive".into());
        }
        if self.repeats == 0 || self.repeats > MAX_REPEATS {
            return bad(format!(
                "repeats must be between 1 and {MAX_REPEATS}, got {}",
                self.repeats
            ));
        }
        if self.warmup > MAX_REPEATS {
            return bad(format!(
                "warm-up rounds must be at most {MAX_REPEATS}, got {}",
                self.warmup
            ));
        }
        Ok(())
    }

    /// Worker counts sorted ascending and deduplicated, tile sizes deduplicated (first
    /// occurrence kept, `auto` first if present, then ascending).
    pub fn normalized(&self) -> SweepConfig {
        let mut workers = self.workers.clone();
        workers.sort_unstable();
        workers.dedup();
        let mut tiles = self.tiles.clone();
        tiles.sort_by_key(|t| match t {
            TileSize::Auto => 0,
            TileSize::Square(n) => *n as u64 + 1,
        });
        tiles.dedup();
        SweepConfig {
            workers,
            tiles,
            repeats: self.repeats,
            warmup: self.warmup,
        }
    }

    /// The configurations, tile-major: for each tile size, every worker count ascending.
    pub fn configs(&self) -> Vec<ConfigKey> {
        self.tiles
            .iter()
            .flat_map(|&tile| {
                self.workers
                    .iter()
                    .map(move |&workers| ConfigKey { workers, tile })
            })
            .collect()
    }

    /// The order of the runs (see the module documentation): warm-up rounds, then measured
    /// rounds, each round every configuration once, round `r` rotated to start at `r mod n`.
    pub fn plan(&self) -> Vec<PlannedRun> {
        let n = self.configs().len();
        let mut plan = Vec::with_capacity(n * (self.warmup + self.repeats));
        for round in 0..self.warmup {
            plan.extend((0..n).map(|k| PlannedRun {
                config: (k + round) % n,
                round,
                warmup: true,
            }));
        }
        for round in 0..self.repeats {
            plan.extend((0..n).map(|k| PlannedRun {
                config: (k + round) % n,
                round,
                warmup: false,
            }));
        }
        plan
    }

    /// Runs in all (warm-up included).
    pub fn total_runs(&self) -> usize {
        self.configs().len() * (self.warmup + self.repeats)
    }
}

/// One planned run: which configuration (index into [`SweepConfig::configs`]), which round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRun {
    pub config: usize,
    pub round: usize,
    pub warmup: bool,
}

/// One tile (or image) of a run: which worker ran it and when, in seconds from the start of
/// the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRecord {
    pub worker: usize,
    /// Index of the tile within its stage (or of the image within the batch).
    pub index: usize,
    /// The stage of a tile (`gray`, `histogram`, `op`) or the path of an image.
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
}

impl ItemRecord {
    pub fn duration_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }
}

/// What a workload reports after one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSample {
    /// Wall time of the run (pool creation not included).
    pub wall: Duration,
    /// Megapixels processed by the run.
    pub megapixels: f64,
    /// The resolved tile shape (`WxH`), or another word on how the work was cut.
    pub tile_shape: String,
    pub items: Vec<ItemRecord>,
}

/// Describes a workload in reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadInfo {
    /// `image` or `folder`.
    pub kind: String,
    /// The input path or name.
    pub name: String,
    /// Pixel size of a single image (`None` for a folder).
    pub width: Option<usize>,
    pub height: Option<usize>,
    /// Images per run (1 for an image).
    pub images: usize,
    pub megapixels: f64,
    pub op: OpSettings,
    /// The operation in words (`adaptive-gaussian binary block 11 C 2 ...`).
    pub op_description: String,
}

/// Something a sweep can time: runs once on a given pool and tile size.
///
/// Implementations must do the same work on every call and measure only the work itself
/// (decode once, up front; the pool is built by the sweep). They should honour `ctl`'s cancel
/// flag; the sweep also checks it between runs.
///
/// Two workloads exist: [`ImageWorkload`] (one image, tiled) and [`folder::FolderWorkload`]
/// (a whole folder batch, one image per worker at a time).
pub trait Workload: Send + Sync {
    fn info(&self) -> WorkloadInfo;
    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &JobControl,
    ) -> Result<RunSample, EngineError>;
}

/// One image and one operation, tiled over the pool with [`job::run_on`].
pub struct ImageWorkload {
    name: String,
    src: Arc<SourceImage>,
    op: Op,
    settings: OpSettings,
}

impl ImageWorkload {
    /// Validates the settings; a bad parameter is a usage error.
    pub fn new(
        name: impl Into<String>,
        src: Arc<SourceImage>,
        settings: &OpSettings,
    ) -> Result<Self, EngineError> {
        Ok(ImageWorkload {
            name: name.into(),
            op: settings.to_op()?,
            src,
            settings: *settings,
        })
    }
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Gray => "gray",
        Stage::Histogram => "histogram",
        Stage::Op => "op",
    }
}

impl Workload for ImageWorkload {
    fn info(&self) -> WorkloadInfo {
        WorkloadInfo {
            kind: "image".into(),
            name: self.name.clone(),
            width: Some(self.src.width()),
            height: Some(self.src.height()),
            images: 1,
            megapixels: self.src.megapixels(),
            op: self.settings,
            op_description: self.op.describe(),
        }
    }

    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &JobControl,
    ) -> Result<RunSample, EngineError> {
        let out = job::run_on(pool, &self.src, &self.op, tile, ctl)?;
        let s = out.stats;
        Ok(RunSample {
            wall: s.compute,
            megapixels: self.src.megapixels(),
            tile_shape: s.tile.to_string(),
            items: s
                .records
                .iter()
                .map(|r| ItemRecord {
                    worker: r.worker,
                    index: r.index,
                    label: stage_name(r.stage).into(),
                    start_s: r.start.as_secs_f64(),
                    end_s: r.end.as_secs_f64(),
                })
                .collect(),
        })
    }
}

type Notify = Box<dyn Fn() + Send + Sync>;

/// Shared between a running sweep and whoever watches it: cancel, progress (runs done out of
/// runs in all, warm-ups included) and an optional callback after each run and on start.
#[derive(Default)]
pub struct SweepControl {
    job: JobControl,
    done: AtomicUsize,
    total: AtomicUsize,
    notify: Option<Notify>,
}

impl std::fmt::Debug for SweepControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (done, total) = self.progress();
        f.debug_struct("SweepControl")
            .field("cancelled", &self.is_cancelled())
            .field("done", &done)
            .field("total", &total)
            .finish()
    }
}

impl SweepControl {
    pub fn new() -> Self {
        Self::default()
    }

    /// A control that calls `notify` when the sweep starts and after every run.
    pub fn with_notify(notify: impl Fn() + Send + Sync + 'static) -> Self {
        SweepControl {
            notify: Some(Box::new(notify)),
            ..Self::default()
        }
    }

    /// Stops the sweep: the running job stops before its next tile, no further run starts,
    /// and [`run`] returns [`EngineError::Cancelled`].
    pub fn cancel(&self) {
        self.job.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.job.is_cancelled()
    }

    /// Runs done and runs in all (warm-ups included); 0 / 0 before the sweep starts.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// The control of the job that is running now (tile progress within the current run).
    pub fn job(&self) -> &JobControl {
        &self.job
    }

    fn start(&self, total: usize) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.ping();
    }

    fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.ping();
    }

    fn ping(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }
}

/// A pool of the sweep and how long it took to build (threads started).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolInfo {
    pub workers: usize,
    pub created_s: f64,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Position in the order the runs were made (0-based, warm-ups included).
    pub seq: usize,
    /// Index into [`SweepResult::configs`].
    pub config: usize,
    pub workers: usize,
    /// `auto` or the tile edge in pixels.
    pub tile: String,
    /// The resolved tile shape (`WxH`).
    pub tile_shape: String,
    pub round: usize,
    pub warmup: bool,
    pub wall_s: f64,
    /// Sum of the time spent inside tiles (or images), over all workers.
    pub busy_s: f64,
    pub megapixels: f64,
    pub mp_per_s: f64,
    /// Per tile (or image); kept for measured runs only.
    pub items: Vec<ItemRecord>,
}

impl RunRecord {
    /// Busy time per worker, `workers` entries (an idle worker counts as 0).
    pub fn worker_busy(&self) -> Vec<f64> {
        let n = self
            .items
            .iter()
            .map(|i| i.worker + 1)
            .max()
            .unwrap_or(0)
            .max(self.workers);
        let mut busy = vec![0.0; n];
        for i in &self.items {
            busy[i.worker] += i.duration_s();
        }
        busy
    }

    /// Effective parallelism: busy time over wall time (at most the worker count, less when
    /// workers wait or the machine has fewer cores).
    pub fn parallelism(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.busy_s / self.wall_s
        } else {
            0.0
        }
    }

    /// Load imbalance: the busiest worker's busy time over the mean busy time of all the
    /// pool's workers (1 = perfectly balanced; `workers` = one worker did everything).
    pub fn imbalance(&self) -> f64 {
        let busy = self.worker_busy();
        let total: f64 = busy.iter().sum();
        if total <= 0.0 || busy.is_empty() {
            return 1.0;
        }
        let max = busy.iter().cloned().fold(0.0, f64::max);
        max / (total / busy.len() as f64)
    }
}

/// Everything a sweep measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepResult {
    pub workload: WorkloadInfo,
    /// The normalised configuration that ran.
    pub config: SweepConfig,
    pub configs: Vec<ConfigKey>,
    /// Cores of the machine (available to this process).
    pub cores: usize,
    pub pools: Vec<PoolInfo>,
    /// Every run in the order made, warm-ups included (flagged).
    pub runs: Vec<RunRecord>,
    /// When the sweep started (RFC 3339, UTC).
    pub date: String,
    /// Wall time of the whole sweep, pool creation included.
    pub total_s: f64,
}

impl SweepResult {
    /// The measured runs (warm-ups left out).
    pub fn measured(&self) -> impl Iterator<Item = &RunRecord> {
        self.runs.iter().filter(|r| !r.warmup)
    }

    /// The run a summary timeline shows: of the configurations with the most workers that
    /// fit the cores (the most workers overall if none fits), the measured run of median
    /// wall time. `None` when nothing was measured.
    pub fn timeline_run(&self) -> Option<&RunRecord> {
        let most = |fit: bool| {
            self.measured()
                .filter(|r| !fit || r.workers <= self.cores)
                .map(|r| r.workers)
                .max()
        };
        let workers = most(true).or_else(|| most(false))?;
        // The first tile size swept with that worker count.
        let config = self.measured().find(|r| r.workers == workers)?.config;
        let mut runs: Vec<&RunRecord> = self.measured().filter(|r| r.config == config).collect();
        runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
        Some(runs[(runs.len() - 1) / 2])
    }

    /// The last measured run of a configuration (the Gantt chart shows it).
    pub fn last_run(&self, config: usize) -> Option<&RunRecord> {
        self.measured().filter(|r| r.config == config).last()
    }
}

/// Runs the sweep. Builds one pool per worker count, then makes the runs in the order of
/// [`SweepConfig::plan`]. Returns [`EngineError::Cancelled`] when cancelled, or the first
/// error of a run.
pub fn run(
    workload: &dyn Workload,
    cfg: &SweepConfig,
    ctl: &SweepControl,
) -> Result<SweepResult, EngineError> {
    run_with_cores(workload, cfg, ctl, available_cores())
}

/// [`run`] with the core count given (tests use it to check the marks and the fit range).
pub fn run_with_cores(
    workload: &dyn Workload,
    cfg: &SweepConfig,
    ctl: &SweepControl,
    cores: usize,
) -> Result<SweepResult, EngineError> {
    cfg.validate()?;
    let cfg = cfg.normalized();
    let configs = cfg.configs();
    let plan = cfg.plan();
    ctl.start(plan.len());
    let t0 = Instant::now();
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();

    let mut pools = Vec::with_capacity(cfg.workers.len());
    for &w in &cfg.workers {
        if ctl.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        pools.push(WorkerPool::build(w)?);
    }
    let pool_for = |workers: usize| {
        pools
            .iter()
            .find(|p| p.workers() == workers)
            .expect("a pool per worker count")
    };

    let mut runs = Vec::with_capacity(plan.len());
    for (seq, p) in plan.iter().enumerate() {
        if ctl.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let key = configs[p.config];
        let s = workload.run_once(pool_for(key.workers), key.tile, &ctl.job)?;
        let wall_s = s.wall.as_secs_f64();
        let busy_s = s.items.iter().map(ItemRecord::duration_s).sum();
        runs.push(RunRecord {
            seq,
            config: p.config,
            workers: key.workers,
            tile: key.tile.to_string(),
            tile_shape: s.tile_shape,
            round: p.round,
            warmup: p.warmup,
            wall_s,
            busy_s,
            megapixels: s.megapixels,
            mp_per_s: if wall_s > 0.0 {
                s.megapixels / wall_s
            } else {
                0.0
            },
            items: if p.warmup { Vec::new() } else { s.items },
        });
        ctl.tick();
    }

    Ok(SweepResult {
        workload: workload.info(),
        pools: pools
            .iter()
            .map(|p| PoolInfo {
                workers: p.workers(),
                created_s: p.created_in().as_secs_f64(),
            })
            .collect(),
        config: cfg,
        configs,
        cores,
        runs,
        date,
        total_s: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests;
