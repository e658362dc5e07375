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
//! use tessera_engine::sweep::{self, ImageWorkload, SweepConfig};
//! use tessera_engine::{Control, OpSettings, SourceImage, TileSize};
//! let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x * 4 + y) as u8]));
//! let work = ImageWorkload::new("ramp", Arc::new(SourceImage::gray(img)), &OpSettings::default())
//!     .unwrap();
//! let cfg = SweepConfig { workers: vec![1, 2], tiles: vec![TileSize::Square(16)], repeats: 2, warmup: 1 };
//! let result = sweep::run(&work, &cfg, &Control::new()).unwrap();
//! assert_eq!(result.measured().count(), 4);
//! let summary = sweep::stats::summarize(&result);
//! assert_eq!(summary.rows.len(), 2);
//! assert_eq!(summary.rows[0].speedup, 1.0);
//! ```

pub mod bandwidth;
pub mod command;
mod config;
pub mod folder;
pub mod grid;
pub mod inference;
pub mod report;
pub mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::control::{Control, Phase};
use super::error::EngineError;
use super::job::{self, Stage};
use super::ops::{Op, OpSettings};
use super::pool::{WorkerPool, available_cores};
use super::source::SourceImage;
use super::tile::TileSize;

pub use config::{
    ConfigKey, MAX_REPEATS, PlannedRun, SweepConfig, parse_tile_list, parse_worker_list,
};
pub use report::{Machine, SweepReport};
pub use stats::{AmdahlFit, Baseline, ConfigRow, Summary, TABLE_COLUMNS, summarize};

/// One tile (or image) of a run: which worker ran it and when, in seconds from the start of
/// the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRecord {
    /// The worker that ran it, 0..workers.
    pub worker: usize,
    /// Index of the tile within its stage (or of the image within the batch).
    pub index: usize,
    /// The stage of a tile (`gray`, `histogram`, `op`) or the path of an image.
    pub label: String,
    /// Start, in seconds from the start of the run.
    pub start_s: f64,
    /// End, in seconds from the start of the run.
    pub end_s: f64,
}

impl ItemRecord {
    /// Its time in seconds (never negative).
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
    /// Per tile (or image).
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
    /// Pixel height of a single image (`None` for a folder).
    pub height: Option<usize>,
    /// Images per run (1 for an image).
    pub images: usize,
    /// Megapixels per run (0 for a folder until it ran).
    pub megapixels: f64,
    /// The operation, as the window and the CLI edit it.
    pub op: OpSettings,
    /// The operation in words (`adaptive-gaussian binary block 11 C 2 ...`).
    pub op_description: String,
    /// The least bytes an image workload reads and writes per pixel (its samples plus an 8-bit
    /// result): the divisor of the memory ceiling ([`bandwidth`]). `None` for folders and
    /// commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_pixel: Option<f64>,
}

/// Something a sweep can time: runs once on a given pool and tile size.
///
/// Implementations must do the same work on every call and measure only the work itself
/// (decode once, up front; the pool is built by the sweep). They should honour `ctl`'s cancel
/// flag (the sweep also checks it between runs), and may report tiles to it; nested work that
/// keeps its own counters (a batch) runs on a [`Control::child`].
///
/// Two workloads exist: [`ImageWorkload`] (one image, tiled) and [`folder::FolderWorkload`]
/// (a whole folder batch, one image per worker at a time).
pub trait Workload: Send + Sync {
    /// What the workload is, for reports.
    fn info(&self) -> WorkloadInfo;
    /// Runs the workload once on `pool` with tiles of `tile`, under the sweep's `ctl`.
    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &Control,
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
        Stage::Stats => "stats",
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
            bytes_per_pixel: Some(
                self.src.channels() as f64 * f64::from(self.src.bit_depth() / 8) + 1.0,
            ),
        }
    }

    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &Control,
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

/// A pool of the sweep and how long it took to build (threads started).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolInfo {
    /// Worker threads of the pool.
    pub workers: usize,
    /// Seconds it took to build (threads started).
    pub created_s: f64,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Position in the order the runs were made (0-based, warm-ups included).
    pub seq: usize,
    /// Index into [`SweepResult::configs`].
    pub config: usize,
    /// Worker threads of the run.
    pub workers: usize,
    /// `auto` or the tile edge in pixels.
    pub tile: String,
    /// The resolved tile shape (`WxH`).
    pub tile_shape: String,
    /// The round, counted within warm-ups or within measured rounds.
    pub round: usize,
    /// Whether the run is a warm-up (not measured).
    pub warmup: bool,
    /// Wall time of the run in seconds (pool creation not included).
    pub wall_s: f64,
    /// Sum of the time spent inside tiles (or images), over all workers.
    pub busy_s: f64,
    /// Megapixels processed by the run.
    pub megapixels: f64,
    /// Megapixels per second of wall time.
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
    /// What was timed.
    pub workload: WorkloadInfo,
    /// The normalised configuration that ran.
    pub config: SweepConfig,
    /// The configurations, as [`SweepConfig::configs`] orders them.
    pub configs: Vec<ConfigKey>,
    /// Cores of the machine (available to this process).
    pub cores: usize,
    /// The pools built, one per worker count.
    pub pools: Vec<PoolInfo>,
    /// Every run in the order made, warm-ups included (flagged).
    pub runs: Vec<RunRecord>,
    /// When the sweep started (RFC 3339, UTC).
    pub date: String,
    /// Wall time of the whole sweep, pool creation included.
    pub total_s: f64,
    /// The 1-minute load average just before the sweep (Linux; `None` elsewhere).
    pub load_before: Option<f64>,
    /// The same just after it.
    pub load_after: Option<f64>,
    /// The memory copy bandwidth per worker count, when measured ([`bandwidth::measure`],
    /// `tessera bench --bandwidth`, the lab's "Memory ceiling").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<Vec<bandwidth::Bandwidth>>,
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
///
/// `ctl`'s counters restart from 0 (its cancel flag stays); it counts runs (warm-ups
/// included) and, for an [`ImageWorkload`], the tiles of every run, and notifies after each.
pub fn run(
    workload: &dyn Workload,
    cfg: &SweepConfig,
    ctl: &Control,
) -> Result<SweepResult, EngineError> {
    run_with_cores(workload, cfg, ctl, available_cores())
}

/// [`run`] with the core count given (tests use it to check the marks and the fit range).
pub fn run_with_cores(
    workload: &dyn Workload,
    cfg: &SweepConfig,
    ctl: &Control,
    cores: usize,
) -> Result<SweepResult, EngineError> {
    cfg.validate()?;
    let cfg = cfg.normalized();
    let configs = cfg.configs();
    let plan = cfg.plan();
    let t0 = Instant::now();
    ctl.begin(t0);
    ctl.set_runs_total(plan.len());
    ctl.set_phase(Phase::Running);
    let result = run_plan(workload, &cfg, &configs, &plan, ctl, cores, t0);
    ctl.finish(t0.elapsed());
    result
}

/// Builds the pools and makes the runs of `plan`.
fn run_plan(
    workload: &dyn Workload,
    cfg: &SweepConfig,
    configs: &[ConfigKey],
    plan: &[PlannedRun],
    ctl: &Control,
    cores: usize,
    t0: Instant,
) -> Result<SweepResult, EngineError> {
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let load_before = inference::load_average();

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
        let s = workload.run_once(pool_for(key.workers), key.tile, ctl)?;
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
        ctl.run_done();
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
        config: cfg.clone(),
        configs: configs.to_vec(),
        cores,
        runs,
        date,
        total_s: t0.elapsed().as_secs_f64(),
        load_before,
        load_after: inference::load_average(),
        bandwidth: None,
    })
}

#[cfg(test)]
mod tests;
