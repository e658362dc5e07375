//! The batch pipeline: a folder of images in, a folder of results out, on exactly N workers,
//! with progress, cancel and a complete report.
//!
//! ```text
//! discover (sorted, names planned) ─► N workers, each: decode ─► run_here ─► encode ─► temp file ─► rename
//! ```
//!
//! * **Strategies.** [`Strategy::WorkerReads`] (the default): each worker takes the next file,
//!   reads and decodes it itself, processes it on its own thread ([`job::run_here`]), encodes
//!   and writes it. No pixels cross threads. [`Strategy::Preload`]: one extra reader thread
//!   decodes every file in order and hands the pixels to the N workers through a bounded
//!   queue (the seed's "load in one place, then process" design, kept for comparison; on small
//!   files the single reader is the bottleneck).
//! * **Memory bound.** Discovery keeps one path pair per file (about 200 bytes each), never
//!   pixels. With `WorkerReads` at most N images are in memory at once; with `Preload` at
//!   most N + `queue` + 1. Each image in flight costs about its decoded size plus two gray
//!   planes (input gray and result): `(channels + 2) × width × height` bytes, plus the
//!   encoder's buffer (1 MiB). A single decode is capped by [`DecodeLimits`].
//! * **Never a half-written file.** Each result is encoded into a temporary
//!   `.tessera-*.part` file in its output folder and renamed into place when complete.
//!   Cancel stops the workers before their next file and interrupts processing between
//!   tiles; a file being encoded is finished and renamed, so only complete results exist.
//!   [`Durability`] says when data is forced to the disk.
//! * **Never into the inputs.** The output folder may be the input folder only with a
//!   suffix, outputs never take an input's name (see [`plan`] for collisions), and a result
//!   is never written over the file it came from.
//! * **Errors per file.** Unreadable, empty, truncated, corrupt, non-image and oversized
//!   files, broken links, write failures and panics are recorded with their reason and the
//!   batch goes on. [`run`] fails only for usage and setup problems.

pub mod plan;

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use image::ImageFormat;
use serde::{Deserialize, Serialize, Serializer};

pub use plan::{Collision, INPUT_EXTENSIONS, Item, Plan};

use super::error::EngineError;
use super::io::{DecodeLimits, read_image, write_gray_atomic_with};
use super::job::{self, JobControl};
use super::ops::{Op, OpSettings};
use super::pool::{MAX_WORKERS, WorkerPool, available_cores};
use super::source::SourceImage;
use super::tile::TileSize;

/// Where decoding happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Each worker reads, decodes, processes and writes its own files.
    #[default]
    WorkerReads,
    /// One reader thread decodes every file; the workers process and write.
    Preload,
}

impl Strategy {
    pub const ALL: [Strategy; 2] = [Strategy::WorkerReads, Strategy::Preload];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::WorkerReads => "worker-reads",
            Strategy::Preload => "preload",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Strategy::WorkerReads => "Each worker reads its files",
            Strategy::Preload => "Preload in one reader, then process",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The format results are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Lossless, the default (thresholded images compress well).
    #[default]
    Png,
    /// JPEG at quality 95, as OpenCV's `imwrite`.
    Jpg,
    Tif,
    Bmp,
    /// Lossless WebP.
    Webp,
    Pgm,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Png,
        OutputFormat::Jpg,
        OutputFormat::Tif,
        OutputFormat::Bmp,
        OutputFormat::Webp,
        OutputFormat::Pgm,
    ];

    /// The name and file extension (`png`, `jpg`, ...).
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpg => "jpg",
            OutputFormat::Tif => "tif",
            OutputFormat::Bmp => "bmp",
            OutputFormat::Webp => "webp",
            OutputFormat::Pgm => "pgm",
        }
    }

    /// Parses a name or extension (`jpeg` and `tiff` too), case-insensitively.
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "jpeg" => Some(OutputFormat::Jpg),
            "tiff" => Some(OutputFormat::Tif),
            l => Self::ALL.into_iter().find(|f| f.extension() == l),
        }
    }

    pub fn image_format(self) -> ImageFormat {
        match self {
            OutputFormat::Png => ImageFormat::Png,
            OutputFormat::Jpg => ImageFormat::Jpeg,
            OutputFormat::Tif => ImageFormat::Tiff,
            OutputFormat::Bmp => ImageFormat::Bmp,
            OutputFormat::Webp => ImageFormat::WebP,
            OutputFormat::Pgm => ImageFormat::Pnm,
        }
    }
}

/// When results are forced to the disk (`fsync`). Every result is complete when it appears,
/// whatever this says; it only matters for a power cut or a crash of the whole machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// Leave it to the operating system (as `cp` and OpenCV's `imwrite` do): the default.
    #[default]
    Never,
    /// Once, when the batch ends (also when cancelled): one `syncfs` of the output folder's
    /// file system (Linux; elsewhere each written file is synced then). It also waits for
    /// other programs' pending writes on that file system.
    AtEnd,
    /// Every file before it is renamed into place (slow: one disk flush per file).
    EachFile,
}

impl Durability {
    pub const ALL: [Durability; 3] = [Durability::Never, Durability::AtEnd, Durability::EachFile];

    pub fn name(self) -> &'static str {
        match self {
            Durability::Never => "never",
            Durability::AtEnd => "end",
            Durability::EachFile => "each",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Everything a batch needs. Build with [`BatchConfig::new`] and adjust the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// The folder of images.
    pub input: PathBuf,
    /// Where results go (created if missing). May be `input` only with a `suffix`.
    pub output: PathBuf,
    /// Walk sub-folders too (results keep the sub-folder layout).
    pub recursive: bool,
    /// Glob patterns on the path relative to `input` (`*.png`, `scans/**/*.tif`). When
    /// given they replace the default filter (files with an image extension).
    pub include: Vec<String>,
    pub format: OutputFormat,
    /// Appended to each result's file stem (`a.jpg` → `a<suffix>.png`).
    pub suffix: String,
    /// Leave results that already exist as they are (to resume a cancelled batch).
    pub skip_existing: bool,
    pub strategy: Strategy,
    /// Worker threads, 1..=[`MAX_WORKERS`].
    pub workers: usize,
    /// The operation, as the window and `tessera run` edit it.
    pub op: OpSettings,
    /// Tiles within one image (each image runs on one worker, tile after tile).
    pub tile: TileSize,
    pub limits: DecodeLimits,
    /// Decoded images waiting for a worker with [`Strategy::Preload`]; 0 picks 2 × workers.
    pub queue: usize,
    pub durability: Durability,
}

impl BatchConfig {
    /// Defaults: adaptive Gaussian 11/2, PNG, one worker per core, not recursive.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        BatchConfig {
            input: input.into(),
            output: output.into(),
            recursive: false,
            include: Vec::new(),
            format: OutputFormat::Png,
            suffix: String::new(),
            skip_existing: false,
            strategy: Strategy::WorkerReads,
            workers: available_cores(),
            op: OpSettings::default(),
            tile: TileSize::Auto,
            limits: DecodeLimits::default(),
            queue: 0,
            durability: Durability::Never,
        }
    }

    /// The queue bound actually used.
    pub fn queue_bound(&self) -> usize {
        if self.queue == 0 {
            2 * self.workers.max(1)
        } else {
            self.queue
        }
    }

    /// Checks everything that can be checked without touching the output: the operation,
    /// the worker count, the suffix, the patterns, the folders. Every problem is a usage error
    /// ([`EngineError::InvalidParam`]).
    pub fn validate(&self) -> Result<Op, EngineError> {
        let usage = |m: String| Err(EngineError::InvalidParam(m));
        let op = self.op.to_op()?;
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return usage(format!(
                "workers must be between 1 and {MAX_WORKERS}, got {}",
                self.workers
            ));
        }
        if self.suffix.contains(['/', '\\', '\0']) || self.suffix == "." || self.suffix == ".." {
            return usage(format!(
                "the suffix {:?} must not contain path separators",
                self.suffix
            ));
        }
        plan::compile_include(&self.include)?;
        if self.input.as_os_str().is_empty() {
            return usage("no input folder given".into());
        }
        if self.output.as_os_str().is_empty() {
            return usage("no output folder given".into());
        }
        match std::fs::metadata(&self.input) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return usage(format!(
                    "the input {} is a file, not a folder (use `tessera run` for one image)",
                    self.input.display()
                ));
            }
            Err(e) => {
                return usage(format!(
                    "the input folder {}: {}",
                    self.input.display(),
                    super::io::io_reason(&e)
                ));
            }
        }
        if self.output.exists() && !self.output.is_dir() {
            return usage(format!(
                "the output {} exists and is not a folder",
                self.output.display()
            ));
        }
        if plan::absolute(&self.input) == plan::absolute(&self.output) && self.suffix.is_empty() {
            return usage(format!(
                "the output folder {} is the input folder: results would replace the inputs; \
                 choose another output folder or give a suffix (--suffix _bin)",
                self.output.display()
            ));
        }
        Ok(op)
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum Outcome {
    Written,
    /// Its result existed already (`skip_existing`).
    Skipped,
    Failed(String),
    /// Stopped by a cancel before it was written.
    Cancelled,
}

/// A file finished, as told to [`BatchControl::with_observer`].
#[derive(Debug, Clone, Copy)]
pub struct FileEvent<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub outcome: &'a Outcome,
}

/// Where a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Not started.
    Idle,
    /// Walking the input folder.
    Discovering,
    Running,
    /// Forcing results to the disk.
    Syncing,
    Finished,
}

/// A consistent-enough view of a running batch (each counter is exact; they are read one
/// after another).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchProgress {
    pub phase: Phase,
    /// Files found so far (final once discovery is over).
    pub found: usize,
    /// Files finished (written + skipped + failed).
    pub done: usize,
    pub written: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Megapixels of the images written.
    #[serde(rename = "megapixels")]
    pub megapixels: f64,
    #[serde(serialize_with = "secs", rename = "elapsed_s")]
    pub elapsed: Duration,
    /// Megapixels written per second of elapsed time.
    pub mp_per_s: f64,
    pub images_per_s: f64,
    /// Time left at the rate so far (`None` until a file is done).
    #[serde(serialize_with = "opt_secs", rename = "eta_s")]
    pub eta: Option<Duration>,
    pub cancelled: bool,
}

type Notify = Box<dyn Fn() + Send + Sync>;
type Observer = Box<dyn Fn(&FileEvent<'_>) + Send + Sync>;

/// Shared between a running batch and whoever watches it: cancel, progress counters and
/// optional callbacks. `notify` runs after every file and phase change (the window repaints
/// from it); `observer` is told each file's outcome (the CLI prints failures from it). Both
/// run on the worker threads: keep them short.
#[derive(Default)]
pub struct BatchControl {
    job: JobControl,
    phase: AtomicU8,
    found: AtomicUsize,
    written: AtomicUsize,
    skipped: AtomicUsize,
    failed: AtomicUsize,
    /// Pixels written.
    pixels: AtomicU64,
    start: Mutex<Option<Instant>>,
    /// Nanoseconds from start to finish, 0 while running.
    finished_ns: AtomicU64,
    stop_reported: AtomicBool,
    notify: Option<Notify>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for BatchControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchControl")
            .field("progress", &self.progress())
            .finish()
    }
}

impl BatchControl {
    pub fn new() -> Self {
        Self::default()
    }

    /// A control that calls `notify` after every file and phase change.
    pub fn with_notify(notify: impl Fn() + Send + Sync + 'static) -> Self {
        BatchControl {
            notify: Some(Box::new(notify)),
            ..Self::default()
        }
    }

    /// Adds an observer told of every finished file (on the worker that finished it).
    pub fn with_observer(mut self, f: impl Fn(&FileEvent<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Box::new(f));
        self
    }

    /// Asks the batch to stop: no new file starts, processing stops at the next tile, and a
    /// file being encoded is finished. Returns at once; [`run`] returns soon after.
    pub fn cancel(&self) {
        if !self.is_cancelled() {
            self.job.cancel();
            // Once only: a notify callback may itself call cancel.
            self.poke();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.job.is_cancelled()
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            1 => Phase::Discovering,
            2 => Phase::Running,
            3 => Phase::Syncing,
            4 => Phase::Finished,
            _ => Phase::Idle,
        }
    }

    /// A snapshot of the progress.
    pub fn progress(&self) -> BatchProgress {
        let phase = self.phase();
        let found = self.found.load(Ordering::Relaxed);
        let written = self.written.load(Ordering::Relaxed);
        let skipped = self.skipped.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let done = written + skipped + failed;
        let megapixels = self.pixels.load(Ordering::Relaxed) as f64 / 1e6;
        let elapsed = match self.finished_ns.load(Ordering::Acquire) {
            0 => self
                .start
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .map_or(Duration::ZERO, |t| t.elapsed()),
            ns => Duration::from_nanos(ns),
        };
        let s = elapsed.as_secs_f64();
        let rate = |x: f64| if s > 0.0 { x / s } else { 0.0 };
        let eta = (phase == Phase::Running && done > 0)
            .then(|| elapsed.mul_f64(found.saturating_sub(done) as f64 / done as f64));
        BatchProgress {
            phase,
            found,
            done,
            written,
            skipped,
            failed,
            megapixels,
            elapsed,
            mp_per_s: rate(megapixels),
            images_per_s: rate(done as f64),
            eta,
            cancelled: self.is_cancelled(),
        }
    }

    fn poke(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }

    fn set_phase(&self, p: Phase) {
        let v = match p {
            Phase::Idle => 0,
            Phase::Discovering => 1,
            Phase::Running => 2,
            Phase::Syncing => 3,
            Phase::Finished => 4,
        };
        self.phase.store(v, Ordering::Release);
        self.poke();
    }

    fn begin(&self, t0: Instant) {
        *self.start.lock().unwrap_or_else(|p| p.into_inner()) = Some(t0);
        self.finished_ns.store(0, Ordering::Release);
        for c in [&self.found, &self.written, &self.skipped, &self.failed] {
            c.store(0, Ordering::Relaxed);
        }
        self.pixels.store(0, Ordering::Relaxed);
        self.stop_reported.store(false, Ordering::Relaxed);
    }

    fn record(&self, item: &Item, outcome: &Outcome, pixels: u64) {
        match outcome {
            Outcome::Written => {
                self.written.fetch_add(1, Ordering::Relaxed);
                self.pixels.fetch_add(pixels, Ordering::Relaxed);
            }
            Outcome::Skipped => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed(_) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Cancelled => {}
        }
        if let Some(o) = &self.observer {
            o(&FileEvent {
                input: &item.input,
                output: &item.output,
                outcome,
            });
        }
        self.poke();
    }
}

/// A file that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub path: PathBuf,
    pub reason: String,
}

/// One file's processing: which worker, when (from the batch's start), how big.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRecord {
    pub path: PathBuf,
    pub output: PathBuf,
    /// Worker index, 0..workers.
    pub worker: usize,
    #[serde(serialize_with = "secs", rename = "start_s")]
    pub start: Duration,
    #[serde(serialize_with = "secs", rename = "end_s")]
    pub end: Duration,
    /// 0 when it was not decoded.
    pub megapixels: f64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The complete account of a batch. Always `found == written + skipped + failed +
/// not_processed`, where `not_processed` counts the files a cancel left untouched (0 unless
/// `cancelled`).
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The operation with its parameters, as `tessera run` prints it.
    pub op: String,
    pub format: OutputFormat,
    pub strategy: Strategy,
    pub workers: usize,
    pub found: usize,
    pub written: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_processed: usize,
    pub cancelled: bool,
    /// From the call to the end, discovery and the final sync included.
    #[serde(serialize_with = "secs", rename = "seconds")]
    pub total: Duration,
    #[serde(serialize_with = "secs", rename = "discovery_seconds")]
    pub discovery: Duration,
    #[serde(serialize_with = "secs", rename = "sync_seconds")]
    pub sync: Duration,
    /// Megapixels of the images written.
    pub megapixels: f64,
    /// Megapixels written per second of `total`.
    pub mp_per_s: f64,
    /// Files finished per second of `total`.
    pub images_per_s: f64,
    pub failures: Vec<Failure>,
    pub collisions: Vec<Collision>,
    /// Every file a worker took, sorted by start time.
    pub records: Vec<ImageRecord>,
}

impl BatchReport {
    /// Whether every file was written or skipped.
    /// The counts in one line, as the CLI and the window print them:
    /// `9 found: 6 written, 0 skipped, 3 failed` (+ `, N not processed (cancelled)`).
    pub fn counts_line(&self) -> String {
        let mut line = format!(
            "{} found: {} written, {} skipped, {} failed",
            self.found, self.written, self.skipped, self.failed
        );
        if self.not_processed > 0 {
            line += &format!(", {} not processed (cancelled)", self.not_processed);
        }
        line
    }

    pub fn all_ok(&self) -> bool {
        self.failed == 0 && !self.cancelled && self.not_processed == 0
    }

    /// Sum of the time workers spent on files.
    pub fn busy(&self) -> Duration {
        self.records.iter().map(|r| r.end - r.start).sum()
    }
}

fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Runs a batch on the shared pool for `cfg.workers`.
pub fn run(cfg: &BatchConfig, ctl: &BatchControl) -> Result<BatchReport, EngineError> {
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
pub fn run_on(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    ctl: &BatchControl,
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
    if let Ok(r) = &result {
        ctl.finished_ns
            .store(r.total.as_nanos().max(1) as u64, Ordering::Release);
    } else {
        ctl.finished_ns
            .store(t0.elapsed().as_nanos().max(1) as u64, Ordering::Release);
    }
    ctl.set_phase(Phase::Finished);
    result
}

fn run_inner(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    op: &Op,
    ctl: &BatchControl,
    t0: Instant,
) -> Result<BatchReport, EngineError> {
    prepare_output(&cfg.output)?;
    let plan = discover_with(cfg, |n| {
        ctl.found.store(n, Ordering::Relaxed);
        if n % 256 == 0 {
            ctl.poke();
        }
    })?;
    ctl.found.store(plan.items.len(), Ordering::Relaxed);
    let discovery = t0.elapsed();
    ctl.set_phase(Phase::Running);

    let ctx = Ctx {
        cfg,
        op,
        ctl,
        t0,
        items: &plan.items,
        made_dirs: Mutex::new(HashSet::new()),
    };
    let mut records: Vec<ImageRecord> = match cfg.strategy {
        Strategy::WorkerReads => ctx.worker_reads(pool),
        Strategy::Preload => ctx.preload(pool),
    };
    records.sort_by_key(|r| (r.start, r.worker));

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

    let count = |f: fn(&Outcome) -> bool| records.iter().filter(|r| f(&r.outcome)).count();
    let written = count(|o| *o == Outcome::Written);
    let skipped = count(|o| *o == Outcome::Skipped);
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let found = plan.items.len();
    let not_processed = found - written - skipped - failed;
    let failures = records
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(reason) => Some(Failure {
                path: r.path.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect::<Vec<_>>();
    let mut failures = failures;
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    let megapixels: f64 = records
        .iter()
        .filter(|r| r.outcome == Outcome::Written)
        .map(|r| r.megapixels)
        .sum();
    let total = t0.elapsed();
    let s = total.as_secs_f64().max(1e-9);
    Ok(BatchReport {
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
        cancelled: ctl.is_cancelled() || not_processed > 0,
        total,
        discovery,
        sync,
        megapixels,
        mp_per_s: megapixels / s,
        images_per_s: (written + skipped + failed) as f64 / s,
        failures,
        collisions: plan.collisions,
        records,
    })
}

/// Creates the output folder and checks that a file can be created in it.
fn prepare_output(out: &Path) -> Result<(), EngineError> {
    let err = |reason: String| EngineError::Output {
        path: out.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(out).map_err(|e| {
        err(format!(
            "cannot create the folder: {}",
            super::io::io_reason(&e)
        ))
    })?;
    tempfile::Builder::new()
        .prefix(".tessera-")
        .suffix(".part")
        .tempfile_in(out)
        .map_err(|e| {
            err(format!(
                "cannot create files in the folder: {}",
                super::io::io_reason(&e)
            ))
        })?;
    Ok(())
}

/// Forces the written results to the disk (see [`Durability::AtEnd`]). Failures are not
/// fatal: the files are complete either way.
fn sync_outputs(out: &Path, written: &[&Path]) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Ok(dir) = std::fs::File::open(out) {
            // SAFETY: syncfs takes any open descriptor and only flushes; `dir` outlives it.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
                return;
            }
        }
    }
    let _ = out;
    for p in written {
        if let Ok(f) = std::fs::File::open(p) {
            let _ = f.sync_all();
        }
    }
}

/// What the workers share.
struct Ctx<'a> {
    cfg: &'a BatchConfig,
    op: &'a Op,
    ctl: &'a BatchControl,
    t0: Instant,
    items: &'a [Item],
    /// Output sub-folders already created.
    made_dirs: Mutex<HashSet<PathBuf>>,
}

/// A decoded input (or why it could not be), from the reader thread.
type Decoded = Option<Result<SourceImage, String>>;

impl Ctx<'_> {
    /// Runs each of the pool's N workers until `next` has nothing more for it (or the batch
    /// is cancelled): `next` gives the index of an item and, with preload, its decoded
    /// pixels. Returns every record made.
    fn on_workers(
        &self,
        pool: &WorkerPool,
        next: impl Fn() -> Option<(usize, Option<Decoded>)> + Sync,
    ) -> Vec<ImageRecord> {
        let per_worker: Vec<Vec<ImageRecord>> = pool.install(|| {
            rayon::broadcast(|b| {
                let mut out = Vec::new();
                while !self.ctl.is_cancelled() {
                    let Some((i, decoded)) = next() else {
                        break;
                    };
                    out.push(self.one(b.index(), &self.items[i], decoded));
                }
                out
            })
        });
        per_worker.into_iter().flatten().collect()
    }

    /// Each of the N workers takes the next file in order until none is left.
    fn worker_reads(&self, pool: &WorkerPool) -> Vec<ImageRecord> {
        let next = AtomicUsize::new(0);
        self.on_workers(pool, || {
            let i = next.fetch_add(1, Ordering::Relaxed);
            (i < self.items.len()).then_some((i, None))
        })
    }

    /// One reader thread decodes in order into a bounded queue; N workers take from it.
    fn preload(&self, pool: &WorkerPool) -> Vec<ImageRecord> {
        let (tx, rx) = mpsc::sync_channel::<(usize, Decoded)>(self.cfg.queue_bound());
        let rx = Mutex::new(rx);
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("tessera-reader".into())
                .spawn_scoped(s, move || {
                    for (i, item) in self.items.iter().enumerate() {
                        if self.ctl.is_cancelled() {
                            break;
                        }
                        let decoded = if self.needs_decode(item) {
                            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                read_image(&item.input, self.cfg.limits).map_err(|e| reason_of(&e))
                            }))
                            .unwrap_or_else(|p| Err(panic_reason(p.as_ref())));
                            Some(r)
                        } else {
                            None
                        };
                        if tx.send((i, decoded)).is_err() {
                            break; // the workers stopped (cancel)
                        }
                    }
                });
            let records = self.on_workers(pool, || {
                // Err: all sent.
                let msg = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                msg.ok().map(|(i, decoded)| (i, Some(decoded)))
            });
            // Unblock the reader if it waits on a full queue, then let it end.
            drop(rx);
            if let Ok(r) = reader {
                let _ = r.join();
            }
            records
        })
    }

    /// Creates the folder of `output` if needed. The output folder itself exists from the
    /// start; sub-folders (recursive batches) are created once, by the first file that needs
    /// them.
    fn ensure_parent(&self, output: &Path) -> Result<(), String> {
        let Some(parent) = output.parent() else {
            return Ok(());
        };
        if parent.as_os_str().is_empty() || parent == self.cfg.output {
            return Ok(());
        }
        let mut made = self.made_dirs.lock().unwrap_or_else(|p| p.into_inner());
        if made.contains(parent) {
            return Ok(());
        }
        std::fs::create_dir_all(parent).map_err(|e| {
            format!(
                "cannot create the folder {}: {}",
                parent.display(),
                super::io::io_reason(&e)
            )
        })?;
        made.insert(parent.to_path_buf());
        Ok(())
    }

    fn needs_decode(&self, item: &Item) -> bool {
        item.problem.is_none() && !(self.cfg.skip_existing && item.output.exists())
    }

    /// Processes one file on this worker; never panics.
    fn one(&self, worker: usize, item: &Item, decoded: Option<Decoded>) -> ImageRecord {
        let start = self.t0.elapsed();
        let mut megapixels = 0.0;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            self.process(item, decoded, &mut megapixels)
        }))
        .unwrap_or_else(|p| Outcome::Failed(panic_reason(p.as_ref())));
        let end = self.t0.elapsed();
        let pixels = (megapixels * 1e6).round() as u64;
        self.ctl.record(item, &outcome, pixels);
        ImageRecord {
            path: item.input.clone(),
            output: item.output.clone(),
            worker,
            start,
            end,
            megapixels,
            outcome,
        }
    }

    fn process(&self, item: &Item, decoded: Option<Decoded>, megapixels: &mut f64) -> Outcome {
        if let Some(p) = &item.problem {
            return Outcome::Failed(p.clone());
        }
        if self.cfg.skip_existing && item.output.exists() {
            return Outcome::Skipped;
        }
        let src = match decoded {
            Some(Some(r)) => r,
            // The reader skipped it: its output appeared meanwhile (skip_existing).
            Some(None) => return Outcome::Skipped,
            None => read_image(&item.input, self.cfg.limits).map_err(|e| reason_of(&e)),
        };
        let src = match src {
            Ok(s) => s,
            Err(reason) => return Outcome::Failed(reason),
        };
        *megapixels = src.megapixels();
        let out = match job::run_here(&src, self.op, self.cfg.tile, &self.ctl.job) {
            Ok(o) => o,
            Err(EngineError::Cancelled) => return Outcome::Cancelled,
            Err(e) => return Outcome::Failed(reason_of(&e)),
        };
        drop(src);
        if same_file(&item.input, &item.output) {
            return Outcome::Failed(format!(
                "its result {} is the input file itself; not overwritten",
                item.output.display()
            ));
        }
        if let Err(reason) = self.ensure_parent(&item.output) {
            return Outcome::Failed(reason);
        }
        let sync = self.cfg.durability == Durability::EachFile;
        match write_gray_atomic_with(&out.image, &item.output, sync) {
            Ok(()) => Outcome::Written,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// The reason of an error without the path (the report names the file).
fn reason_of(e: &EngineError) -> String {
    match e {
        EngineError::Input { reason, .. } => reason.clone(),
        EngineError::Panic(m) => format!("internal error while processing: {m}"),
        other => other.to_string(),
    }
}

fn panic_reason(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into());
    format!("internal error while processing: {msg}")
}

/// Whether `b` names the same file as `a` (through a link, a second spelling of the path or a
/// case-insensitive file system). One `stat` of `b` when it does not exist, as is usual.
fn same_file(a: &Path, b: &Path) -> bool {
    let Ok(mb) = std::fs::metadata(b) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(a).is_ok_and(|ma| ma.dev() == mb.dev() && ma.ino() == mb.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = mb;
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_reported_for_its_file() {
        let r = std::panic::catch_unwind(|| panic!("boom in one image"))
            .map(|_: ()| Outcome::Written)
            .unwrap_or_else(|p| Outcome::Failed(panic_reason(p.as_ref())));
        assert_eq!(
            r,
            Outcome::Failed("internal error while processing: boom in one image".into())
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::from_name(s.name()), Some(s));
        }
        for f in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_name(f.extension()), Some(f));
        }
        assert_eq!(OutputFormat::from_name("JPEG"), Some(OutputFormat::Jpg));
        for d in Durability::ALL {
            assert_eq!(Durability::from_name(d.name()), Some(d));
        }
    }

    #[test]
    fn bad_configs_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ok = BatchConfig::new(d, d.join("out"));
        assert!(ok.validate().is_ok());
        let same = BatchConfig::new(d, d.join("."));
        let e = same.validate().unwrap_err();
        assert!(e.is_usage() && e.to_string().contains("suffix"), "{e}");
        let with_suffix = BatchConfig {
            suffix: "_bin".into(),
            ..same
        };
        assert!(with_suffix.validate().is_ok());
        for bad in [
            BatchConfig {
                workers: 0,
                ..ok.clone()
            },
            BatchConfig {
                suffix: "a/b".into(),
                ..ok.clone()
            },
            BatchConfig {
                input: d.join("missing"),
                ..ok.clone()
            },
            BatchConfig {
                include: vec!["[".into()],
                ..ok.clone()
            },
            BatchConfig {
                op: OpSettings {
                    block_size: 4,
                    ..OpSettings::default()
                },
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().unwrap_err().is_usage(), "{bad:?}");
        }
    }
}
