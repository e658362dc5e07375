//! One control for every kind of work: a job (one image, tiled), a batch (a folder of
//! images) and a sweep (timed runs of a workload) all take a [`Control`].
//!
//! In the spirit of libvips' single kill flag and progress struct, a control holds:
//!
//! * **one cancel flag**, checked before every tile, every file and every run. A
//!   [`Control::child`] shares it, so a cancel reaches nested work at once (a sweep of a
//!   folder runs each batch on a child of the sweep's control);
//! * **progress counters** for the three units of work: tiles, files and runs. They are
//!   additive: a job *adds* its tiles to the total and ticks them off, so when a batch or a
//!   sweep runs many jobs on one control its counters only ever grow. Only the start of a
//!   batch or a sweep ([`Control`]'s crate-internal `begin`) resets them;
//! * an optional **notify** callback, run after each unit of progress (a tile, a file, a
//!   run, a phase change, the first cancel): the window repaints from it;
//! * an optional **observer** told of every finished file of a batch ([`FileEvent`]): the
//!   command line prints failures from it.
//!
//! [`Control::progress`] reads everything into one [`Progress`] snapshot. Both callbacks run
//! on the worker threads: keep them short. They may call [`Control::cancel`] and
//! [`Control::progress`].

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

use crate::batch::Outcome;

type Notify = dyn Fn() + Send + Sync;
type Observer = dyn Fn(&FileEvent<'_>) + Send + Sync;

/// A file of a batch finished, as told to the observer of [`Control::with_observer`].
#[derive(Debug, Clone, Copy)]
pub struct FileEvent<'a> {
    /// The input file.
    pub input: &'a Path,
    /// Where its result goes (written only when `outcome` is [`Outcome::Written`]).
    pub output: &'a Path,
    /// What happened to it.
    pub outcome: &'a Outcome,
    /// What its decoder warned about (a truncated JPEG), usually nothing.
    pub warnings: &'a [String],
}

/// Where a batch or a sweep is. A lone job leaves it at [`Phase::Idle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Not started.
    Idle,
    /// Walking the input folder (batch).
    Discovering,
    /// Processing files (batch) or making runs (sweep).
    Running,
    /// Forcing results to the disk (batch).
    Syncing,
    /// Over (done, failed or cancelled).
    Finished,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            1 => Phase::Discovering,
            2 => Phase::Running,
            3 => Phase::Syncing,
            4 => Phase::Finished,
            _ => Phase::Idle,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Phase::Idle => 0,
            Phase::Discovering => 1,
            Phase::Running => 2,
            Phase::Syncing => 3,
            Phase::Finished => 4,
        }
    }
}

/// A snapshot of a [`Control`]'s progress. Each counter is exact; they are read one after
/// another, so the snapshot is consistent enough for display. Counters of a unit of work that
/// did not run stay 0 (a lone job has only tiles, a sweep has runs and the tiles of its image
/// runs, a batch has files and tiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Where the batch or sweep is ([`Phase::Idle`] for a lone job).
    pub phase: Phase,
    /// Whether a cancel was asked for.
    pub cancelled: bool,
    /// Time since the batch, sweep or first job started (frozen once a batch or sweep ends).
    #[serde(serialize_with = "secs", rename = "elapsed_s")]
    pub elapsed: Duration,
    /// Tiles finished, over every job run on this control.
    pub tiles_done: usize,
    /// Tiles planned, over every job run on this control (each job adds its own as it
    /// starts, so under a batch this grows with every image).
    pub tiles_total: usize,
    /// Files found so far (batch; final once discovery is over).
    pub found: usize,
    /// Files finished: `written + skipped + failed`.
    pub done: usize,
    /// Files written.
    pub written: usize,
    /// Files skipped because their result existed.
    pub skipped: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files whose decoder warned (also counted as written or failed).
    pub warned: usize,
    /// Megapixels of the images written.
    pub megapixels: f64,
    /// Megapixels written per second of elapsed time.
    pub mp_per_s: f64,
    /// Files finished per second of elapsed time.
    pub images_per_s: f64,
    /// Runs made (sweep; warm-ups included).
    pub runs_done: usize,
    /// Runs planned (sweep; warm-ups included).
    pub runs_total: usize,
    /// Time left at the rate so far, while [`Phase::Running`]: from the files of a batch or
    /// the runs of a sweep; `None` until one is done.
    #[serde(serialize_with = "opt_secs", rename = "eta_s")]
    pub eta: Option<Duration>,
}

/// Shared between running work and whoever watches it; see the [module](self) documentation.
/// Share it with an `Arc` to cancel or watch from another thread.
#[derive(Default)]
pub struct Control {
    cancel: Arc<AtomicBool>,
    phase: AtomicU8,
    tiles_done: AtomicUsize,
    tiles_total: AtomicUsize,
    found: AtomicUsize,
    written: AtomicUsize,
    skipped: AtomicUsize,
    failed: AtomicUsize,
    warned: AtomicUsize,
    /// Pixels written.
    pixels: AtomicU64,
    runs_done: AtomicUsize,
    runs_total: AtomicUsize,
    start: Mutex<Option<Instant>>,
    /// Nanoseconds from start to finish, 0 while running.
    finished_ns: AtomicU64,
    notify: Option<Arc<Notify>>,
    observer: Option<Arc<Observer>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("progress", &self.progress())
            .finish()
    }
}

impl Control {
    /// A control with no callbacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// A control that calls `notify` after each unit of progress: every tile, file, run and
    /// phase change, and the first cancel.
    pub fn with_notify(notify: impl Fn() + Send + Sync + 'static) -> Self {
        Control {
            notify: Some(Arc::new(notify)),
            ..Self::default()
        }
    }

    /// Adds an observer told of every finished file of a batch (on the worker that finished
    /// it, before the notify callback).
    pub fn with_observer(mut self, f: impl Fn(&FileEvent<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// A new control with its own (zero) counters that shares this one's cancel flag and
    /// callbacks: cancelling either cancels both, and the child's progress notifies this
    /// control's watcher. Nested work whose counters must not mix with the parent's runs on
    /// a child (a folder sweep runs each batch on one).
    pub fn child(&self) -> Control {
        Control {
            cancel: Arc::clone(&self.cancel),
            notify: self.notify.clone(),
            observer: self.observer.clone(),
            ..Self::default()
        }
    }

    /// Asks the work to stop: a job stops before its next tile, a batch starts no new file
    /// (a file being encoded is finished), a sweep makes no further run. Returns at once;
    /// the work returns soon after. The first cancel runs the notify callback.
    pub fn cancel(&self) {
        // Notify once only: a notify callback may itself call cancel.
        if !self.cancel.swap(true, Ordering::Relaxed) {
            self.poke();
        }
    }

    /// Whether a cancel was asked for (on this control, its parent or a child).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The cancel flag itself, for code that cannot hold a reference to the control (a
    /// decoder's callback).
    pub(crate) fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Where the batch or sweep is.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Tiles finished and tiles planned, over every job run on this control.
    pub fn tiles(&self) -> (usize, usize) {
        (
            self.tiles_done.load(Ordering::Relaxed),
            self.tiles_total.load(Ordering::Relaxed),
        )
    }

    /// Runs made and runs planned by a sweep (warm-ups included); 0 / 0 before it starts.
    pub fn runs(&self) -> (usize, usize) {
        (
            self.runs_done.load(Ordering::Relaxed),
            self.runs_total.load(Ordering::Relaxed),
        )
    }

    /// A snapshot of all the progress.
    pub fn progress(&self) -> Progress {
        let phase = self.phase();
        let (tiles_done, tiles_total) = self.tiles();
        let (runs_done, runs_total) = self.runs();
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
        let eta_of = |done: usize, all: usize| {
            (phase == Phase::Running && done > 0)
                .then(|| elapsed.mul_f64(all.saturating_sub(done) as f64 / done as f64))
        };
        let eta = if found > 0 {
            eta_of(done, found)
        } else {
            eta_of(runs_done, runs_total)
        };
        Progress {
            phase,
            cancelled: self.is_cancelled(),
            elapsed,
            tiles_done,
            tiles_total,
            found,
            done,
            written,
            skipped,
            failed,
            warned: self.warned.load(Ordering::Relaxed),
            megapixels,
            mp_per_s: rate(megapixels),
            images_per_s: rate(done as f64),
            runs_done,
            runs_total,
            eta,
        }
    }

    /// Runs the notify callback.
    pub(crate) fn poke(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }

    /// Starts a batch or a sweep at `t0`: every counter back to 0 (the cancel flag stays).
    pub(crate) fn begin(&self, t0: Instant) {
        *self.start.lock().unwrap_or_else(|p| p.into_inner()) = Some(t0);
        self.finished_ns.store(0, Ordering::Release);
        for c in [
            &self.tiles_done,
            &self.tiles_total,
            &self.found,
            &self.written,
            &self.skipped,
            &self.failed,
            &self.warned,
            &self.runs_done,
            &self.runs_total,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.pixels.store(0, Ordering::Relaxed);
        self.phase.store(Phase::Idle.to_u8(), Ordering::Release);
    }

    /// Freezes the elapsed time at `elapsed` and enters [`Phase::Finished`].
    pub(crate) fn finish(&self, elapsed: Duration) {
        self.finished_ns
            .store(elapsed.as_nanos().max(1) as u64, Ordering::Release);
        self.set_phase(Phase::Finished);
    }

    /// Enters a phase and notifies.
    pub(crate) fn set_phase(&self, p: Phase) {
        self.phase.store(p.to_u8(), Ordering::Release);
        self.poke();
    }

    /// A job starts with `tiles` more tiles to do (starts the clock if nothing did).
    pub(crate) fn add_tiles(&self, tiles: usize) {
        {
            let mut start = self.start.lock().unwrap_or_else(|p| p.into_inner());
            start.get_or_insert_with(Instant::now);
        }
        self.tiles_total.fetch_add(tiles, Ordering::Relaxed);
    }

    /// A tile is finished.
    pub(crate) fn tile_done(&self) {
        self.tiles_done.fetch_add(1, Ordering::Relaxed);
        self.poke();
    }

    /// Files found so far (no notify: the caller pokes now and then).
    pub(crate) fn set_found(&self, n: usize) {
        self.found.store(n, Ordering::Relaxed);
    }

    /// A file is finished: counts it, tells the observer, notifies.
    pub(crate) fn file_done(
        &self,
        input: &Path,
        output: &Path,
        outcome: &Outcome,
        pixels: u64,
        warnings: &[String],
    ) {
        if !warnings.is_empty() {
            self.warned.fetch_add(1, Ordering::Relaxed);
        }
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
                input,
                output,
                outcome,
                warnings,
            });
        }
        self.poke();
    }

    /// A sweep plans `total` runs.
    pub(crate) fn set_runs_total(&self, total: usize) {
        self.runs_total.store(total, Ordering::Relaxed);
    }

    /// A run of a sweep is finished.
    pub(crate) fn run_done(&self) {
        self.runs_done.fetch_add(1, Ordering::Relaxed);
        self.poke();
    }
}

/// Serializes a duration as seconds.
pub(crate) fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Serializes an optional duration as seconds or `null`.
pub(crate) fn opt_secs<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_add_up_over_jobs_and_only_begin_resets() {
        let c = Control::new();
        c.add_tiles(3);
        for _ in 0..3 {
            c.tile_done();
        }
        c.add_tiles(2);
        c.tile_done();
        assert_eq!(c.tiles(), (4, 5));
        c.begin(Instant::now());
        assert_eq!(c.tiles(), (0, 0));
        assert_eq!(c.phase(), Phase::Idle);
    }

    #[test]
    fn a_child_shares_cancel_and_notify_but_not_counters() {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&hits);
        let parent = Control::with_notify(move || {
            h.fetch_add(1, Ordering::Relaxed);
        });
        let child = parent.child();
        child.add_tiles(1);
        child.tile_done();
        assert_eq!(parent.tiles(), (0, 0));
        assert_eq!(child.tiles(), (1, 1));
        assert_eq!(hits.load(Ordering::Relaxed), 1);
        child.cancel();
        assert!(parent.is_cancelled());
        // The first cancel notifies, a second does not.
        parent.cancel();
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn eta_comes_from_files_or_runs_while_running() {
        let c = Control::new();
        c.begin(Instant::now() - Duration::from_secs(2));
        c.set_runs_total(4);
        assert_eq!(c.progress().eta, None);
        c.set_phase(Phase::Running);
        c.run_done();
        let eta = c.progress().eta.unwrap();
        assert!(eta >= Duration::from_secs(6), "{eta:?}");
        c.finish(Duration::from_secs(3));
        let p = c.progress();
        assert_eq!(
            (p.phase, p.elapsed, p.eta),
            (Phase::Finished, Duration::from_secs(3), None)
        );
    }
}
