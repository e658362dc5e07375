//! Running one operation on one image: tiles, on exactly N workers, with progress, cancel and
//! per-tile timing.
//!
//! A job has stages, each a parallel pass over the tiles:
//! 1. `gray`: RGB(A) to gray (skipped for a gray input unless the op is `gray` itself);
//! 2. `histogram` (Otsu and triangle only): per-tile histograms summed into one;
//! 3. the op itself (threshold with the fixed or found level, or adaptive threshold).
//!
//! Progress counts tiles over all stages: a job adds its tiles to its [`Control`]'s total as
//! it starts and ticks each one off, so the counters of a control shared by many jobs (a
//! batch, a sweep) only grow. Cancel is checked before each tile: a cancelled job skips its
//! remaining tiles and returns [`EngineError::Cancelled`] without an image.

use std::mem::MaybeUninit;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::control::Control;
use super::error::EngineError;
use super::ops::adaptive::Adaptive;
use super::ops::auto;
use super::ops::gray::rgb_row_to_gray_uninit;
use super::ops::level::Histogram;
use super::ops::local::LocalRunner;
use super::ops::local::niblack::WolfStats;
use super::ops::threshold::Thresholder;
use super::ops::{Op, ThresholdType};
use super::pool::WorkerPool;
use super::source::{Pixels, Plane, SourceImage};
use super::tile::{
    GrayView, MAX_TILES, Rect, TileMut, TileShape, TileSize, min_edge, split_output, tiles,
};

/// How a job runs: worker count and tile size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JobConfig {
    /// Worker threads, 1..=[`MAX_WORKERS`](super::pool::MAX_WORKERS).
    pub workers: usize,
    /// How the image is cut into tiles.
    pub tile: TileSize,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            workers: super::pool::available_cores(),
            tile: TileSize::Auto,
        }
    }
}

/// The stages of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// RGB(A) to gray.
    Gray,
    /// Per-tile histograms, summed (the global methods).
    Histogram,
    /// Per-tile whole-image statistics, merged (Wolf's minimum and largest deviation).
    Stats,
    /// The operation itself.
    Op,
}

/// One tile's execution: which worker ran it and when (relative to the job's start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TileRecord {
    /// The stage the tile ran in.
    pub stage: Stage,
    /// Index of the tile within its stage.
    pub index: usize,
    /// The tile, in image pixels.
    pub rect: Rect,
    /// The worker that ran the tile, `0..workers`: 0 is the thread that called the job, the
    /// others are pool threads numbered as they joined it ([`WorkerPool::for_each`]).
    pub worker: usize,
    /// When the tile started.
    pub start: Duration,
    /// When the tile ended.
    pub end: Duration,
}

/// Timing of a finished job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStats {
    /// Worker threads the job ran on (1 for [`run_here`]).
    pub workers: usize,
    /// The resolved tile shape.
    pub tile: TileShape,
    /// Tiles per stage.
    pub tiles: usize,
    /// Wall time of the whole job (all stages).
    pub compute: Duration,
    /// Every tile of every stage, sorted by start time.
    pub records: Vec<TileRecord>,
}

impl JobStats {
    /// Sum of the time workers spent inside tiles.
    pub fn busy(&self) -> Duration {
        self.records.iter().map(|r| r.end - r.start).sum()
    }
}

/// The result of a job.
#[derive(Debug, Clone)]
pub struct JobOutput {
    /// The result: 8-bit, or 16-bit where an op keeps a 16-bit image's values ([`Plane`]).
    pub image: Plane,
    /// The level a global method found, in the image's units (`None` for the other ops):
    /// the result is `v > level` for a binary threshold.
    pub level: Option<u16>,
    /// The levels multi-Otsu found, ascending, in the image's units (empty for the other
    /// ops).
    pub levels: Vec<u16>,
    /// How the job ran.
    pub stats: JobStats,
}

/// Runs `op` on `src` as `cfg` says, on the shared pool for that worker count.
pub fn run(
    src: &SourceImage,
    op: &Op,
    cfg: &JobConfig,
    ctl: &Control,
) -> Result<JobOutput, EngineError> {
    let pool = WorkerPool::shared(cfg.workers)?;
    run_on(&pool, src, op, cfg.tile, ctl)
}

/// Like [`run`], but consumes the source: `gray` on a gray image then returns the decoded
/// buffer itself instead of a copy (the CLI uses this to keep peak memory low).
pub fn run_owned(
    src: SourceImage,
    op: &Op,
    cfg: &JobConfig,
    ctl: &Control,
) -> Result<JobOutput, EngineError> {
    if let (Op::Gray, true) = (op, src.is_gray()) {
        let (width, height) = (src.width(), src.height());
        let shape = cfg.tile.resolve(width, height, cfg.workers, 0);
        let image = match src.pixels {
            Pixels::Gray(i) => Plane::Gray8(i),
            Pixels::Gray16(i) => Plane::Gray16(i),
            _ => unreachable!(),
        };
        return Ok(JobOutput {
            image,
            level: None,
            levels: Vec::new(),
            stats: JobStats {
                workers: cfg.workers,
                tile: shape,
                tiles: 0,
                compute: Duration::ZERO,
                records: Vec::new(),
            },
        });
    }
    run(&src, op, cfg, ctl)
}

/// Runs `op` on `src` on a given pool.
pub fn run_on(
    pool: &WorkerPool,
    src: &SourceImage,
    op: &Op,
    tile: TileSize,
    ctl: &Control,
) -> Result<JobOutput, EngineError> {
    run_impl(Some(pool), src, op, tile, ctl)
}

/// Runs `op` on `src` entirely on the calling thread, tile after tile (no pool). The batch
/// pipeline uses this inside its own workers, one image per worker.
pub fn run_here(
    src: &SourceImage,
    op: &Op,
    tile: TileSize,
    ctl: &Control,
) -> Result<JobOutput, EngineError> {
    run_impl(None, src, op, tile, ctl)
}

fn run_impl(
    pool: Option<&WorkerPool>,
    src: &SourceImage,
    op: &Op,
    tile: TileSize,
    ctl: &Control,
) -> Result<JobOutput, EngineError> {
    let workers = pool.map_or(1, WorkerPool::workers);
    let (width, height) = (src.width(), src.height());
    let shape = tile.resolve(width, height, workers, op.halo());
    let n_tiles = shape.count(width, height);
    if n_tiles > MAX_TILES {
        return Err(EngineError::InvalidParam(format!(
            "tile {tile} cuts this {width}x{height} image into {n_tiles} tiles, more than \
             {MAX_TILES}: use --tile {} or larger, or auto",
            min_edge(width, height)
        )));
    }
    let needs_gray_stage = !src.is_gray() || matches!(op, Op::Gray);
    let local_stats = matches!(op, Op::Local { method, .. } if method.needs_stats());
    let stages = needs_gray_stage as usize
        + matches!(
            op,
            Op::Otsu { .. } | Op::Triangle { .. } | Op::Auto { .. } | Op::MultiOtsu { .. }
        ) as usize
        + local_stats as usize
        + !matches!(op, Op::Gray) as usize;
    if src.is_16bit() {
        check_16bit(op)?;
    }
    ctl.add_tiles(stages * n_tiles);
    let mut run = Runner {
        pool,
        ctl,
        shape,
        width,
        height,
        t0: Instant::now(),
        records: Mutex::new(Vec::with_capacity(stages * n_tiles)),
    };

    if src.is_16bit() {
        return run.wide(src, op, needs_gray_stage, n_tiles);
    }
    let gray_buf: Option<Vec<u8>> = if needs_gray_stage {
        Some(run.gray_stage(src)?)
    } else {
        None
    };
    let gray = GrayView::new(
        gray_buf.as_deref().unwrap_or_else(|| src.raw()),
        width,
        height,
    );

    let mut levels = Vec::new();
    let (out, level) = match *op {
        Op::Gray => (gray_buf.unwrap_or_default(), None),
        Op::Threshold {
            kind,
            thresh,
            max_value,
        } => (run.threshold_stage(&gray, kind, thresh, max_value)?, None),
        Op::Otsu {
            kind, max_value, ..
        }
        | Op::Triangle { kind, max_value } => {
            let hist = run.histogram_stage(&gray)?;
            let level = if matches!(op, Op::Otsu { .. }) {
                hist.otsu_level()
            } else {
                hist.triangle_level()
            };
            let out = run.threshold_stage(&gray, kind, level as f64, max_value)?;
            (out, Some(level))
        }
        Op::Adaptive {
            method,
            kind,
            block_size,
            c,
            max_value,
        } => {
            let a = Adaptive::new(method, kind, block_size, c, max_value);
            let out = run.plane(Stage::Op, |rect, rows| a.run_tile(&gray, rect, rows))?;
            (out, None)
        }
        Op::Auto {
            method,
            like,
            kind,
            max_value,
            ..
        } => {
            let hist = run.histogram_stage(&gray)?;
            let level = auto::level(method, &hist.0, like).map_err(|e| EngineError::NoLevel {
                method: op.kind().to_string(),
                reason: e.to_string(),
            })?;
            let level = level.min(255) as u8;
            let out = run.threshold_stage(&gray, kind, level as f64, max_value)?;
            (out, Some(level))
        }
        Op::MultiOtsu {
            classes, max_value, ..
        } => {
            let hist = run.histogram_stage(&gray)?;
            let t = auto::multi_otsu::multi_otsu(&hist.0, 0, classes as usize).map_err(|e| {
                EngineError::NoLevel {
                    method: op.kind().to_string(),
                    reason: e.to_string(),
                }
            })?;
            let lut = multi_otsu_lut(&t, classes, max_value);
            levels = t.iter().map(|&v| v.clamp(0, 255) as u16).collect();
            let out = run.plane(Stage::Op, |rect, rows| {
                for (i, row) in rows.iter_mut().enumerate() {
                    let s = &gray.row(rect.y + i)[rect.x..rect.x + rect.w];
                    for (o, &v) in row.iter_mut().zip(s) {
                        o.write(lut[v as usize]);
                    }
                }
            })?;
            (out, None)
        }
        Op::Local {
            method,
            kind,
            max_value,
        } => {
            let mut l = LocalRunner::new(method, kind, max_value, &gray);
            if local_stats {
                let stats = run.reduce_stage(
                    Stage::Stats,
                    |rect| l.tile_stats(&gray, rect),
                    WolfStats::EMPTY,
                    WolfStats::merge,
                )?;
                l = l.with_stats(stats);
            }
            let out = run.plane(Stage::Op, |rect, rows| l.run_tile(&gray, rect, rows))?;
            (out, None)
        }
    };
    Ok(JobOutput {
        image: run.image8(out)?,
        level: level.map(u16::from),
        levels,
        stats: run.stats(n_tiles),
    })
}

/// Why a local method has no 16-bit form.
fn why_8bit_only(method: &crate::ops::local::Local) -> &'static str {
    match method {
        crate::ops::local::Local::Fiji { .. } => {
            "Fiji's Auto Local Threshold takes 8-bit images only"
        }
        _ => "OpenCV contrib's niBlackThreshold takes 8-bit images only",
    }
}

/// Refuses, before any work, an op that has no 16-bit form: its anchor is 8-bit only.
fn check_16bit(op: &Op) -> Result<(), EngineError> {
    let why = match op {
        _ if op.supports_16bit() => None,
        Op::Adaptive { .. } => Some("OpenCV's adaptiveThreshold takes 8-bit images only"),
        Op::Triangle { .. } => Some("OpenCV's THRESH_TRIANGLE takes 8-bit images only"),
        Op::Local { method, .. } => Some(why_8bit_only(method)),
        _ => None,
    };
    match why {
        Some(why) => Err(EngineError::EightBitOnly {
            method: op.kind().to_string(),
            reason: why.into(),
        }),
        None => Ok(()),
    }
}

mod wide;

struct Runner<'a> {
    /// `None`: every tile on the calling thread.
    pool: Option<&'a WorkerPool>,
    ctl: &'a Control,
    shape: TileShape,
    width: usize,
    height: usize,
    t0: Instant,
    records: Mutex<Vec<TileRecord>>,
}

impl Runner<'_> {
    /// The job's timing, its tile records sorted by start.
    fn stats(&mut self, n_tiles: usize) -> JobStats {
        let compute = self.t0.elapsed();
        let mut records = std::mem::take(self.records.get_mut().unwrap_or_else(|p| p.into_inner()));
        records.sort_by_key(|r| (r.start, r.worker));
        JobStats {
            workers: self.pool.map_or(1, WorkerPool::workers),
            tile: self.shape,
            tiles: n_tiles,
            compute,
            records,
        }
    }

    /// Computes a new output plane: runs `f` on every tile in parallel, recording each tile.
    /// `f` must write every pixel of its tile (each kernel does: that is its contract).
    ///
    /// The plane is allocated without zeroing — for a cheap op such as a threshold, zeroing
    /// 8 MB costs about as much as the op itself. It becomes a `Vec<u8>` only once every tile
    /// has run; a cancel or a panic drops it unread.
    fn plane<T: Send, F>(&self, stage: Stage, f: F) -> Result<Vec<T>, EngineError>
    where
        F: Fn(Rect, &mut [&mut [MaybeUninit<T>]]) + Sync,
    {
        let mut out = Box::<[T]>::new_uninit_slice(self.width * self.height);
        let parts = split_output(&mut out, self.width, self.height, self.shape);
        let one = |worker: usize, mut part: TileMut<'_, MaybeUninit<T>>| {
            self.guarded(stage, worker, part.index, part.rect, || {
                f(part.rect, &mut part.rows);
            })
        };
        match self.pool {
            Some(pool) => {
                // Each tile is taken exactly once, by whichever worker draws its index.
                let slots: Vec<Mutex<Option<TileMut<'_, MaybeUninit<T>>>>> =
                    parts.into_iter().map(|p| Mutex::new(Some(p))).collect();
                pool.for_each(slots.len(), |worker, i| {
                    let part = slots[i].lock().unwrap_or_else(|p| p.into_inner()).take();
                    part.map_or(Ok(()), |part| one(worker, part))
                })?
            }
            None => parts.into_iter().try_for_each(|part| one(0, part))?,
        }
        self.check_cancel()?;
        // SAFETY: the tiles cover the plane exactly once (`tiles`, `split_output`), every tile
        // ran to completion (any skip or panic returned above), and every tile kernel writes
        // all the pixels of its rows.
        Ok(unsafe { out.assume_init() }.into_vec())
    }

    fn check_cancel(&self) -> Result<(), EngineError> {
        if self.ctl.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Runs one tile: skipped when cancelled, timed, a panic turned into an error.
    fn guarded<R>(
        &self,
        stage: Stage,
        worker: usize,
        index: usize,
        rect: Rect,
        f: impl FnOnce() -> R,
    ) -> Result<R, EngineError> {
        self.check_cancel()?;
        let start = self.t0.elapsed();
        let r = std::panic::catch_unwind(AssertUnwindSafe(f))
            .map_err(|p| EngineError::from_panic(p.as_ref()))?;
        let end = self.t0.elapsed();
        let rec = TileRecord {
            stage,
            index,
            rect,
            worker,
            start,
            end,
        };
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(rec);
        self.ctl.tile_done();
        Ok(r)
    }

    fn gray_stage(&self, src: &SourceImage) -> Result<Vec<u8>, EngineError> {
        self.gray_plane(src.raw(), src.channels(), rgb_row_to_gray_uninit)
    }

    /// The gray plane of interleaved samples with `cn` channels (1: copied; 3 or 4:
    /// `to_gray`), 8- or 16-bit.
    fn gray_plane<T: Copy + Send + Sync>(
        &self,
        raw: &[T],
        cn: usize,
        to_gray: fn(&[T], usize, &mut [MaybeUninit<T>]),
    ) -> Result<Vec<T>, EngineError> {
        let stride = self.width * cn;
        self.plane(Stage::Gray, |rect, rows| {
            for (i, row) in rows.iter_mut().enumerate() {
                let y = rect.y + i;
                let s = &raw[y * stride + rect.x * cn..y * stride + (rect.x + rect.w) * cn];
                if cn == 1 {
                    row.write_copy_of_slice(s);
                } else {
                    to_gray(s, cn, row);
                }
            }
        })
    }

    fn threshold_stage(
        &self,
        gray: &GrayView<'_>,
        kind: ThresholdType,
        thresh: f64,
        max_value: f64,
    ) -> Result<Vec<u8>, EngineError> {
        let t = Thresholder::new(kind, thresh, max_value);
        self.plane(Stage::Op, |rect, rows| {
            for (i, row) in rows.iter_mut().enumerate() {
                let s = &gray.row(rect.y + i)[rect.x..rect.x + rect.w];
                t.apply_row_uninit(s, row);
            }
        })
    }

    fn histogram_stage(&self, gray: &GrayView<'_>) -> Result<Histogram, EngineError> {
        self.reduce_stage(
            Stage::Histogram,
            |rect| {
                let mut h = Histogram::default();
                h.add_rows(
                    (rect.y..rect.y + rect.h).map(|y| &gray.row(y)[rect.x..rect.x + rect.w]),
                );
                h
            },
            Histogram::default(),
            |mut a, b| {
                a.merge(&b);
                a
            },
        )
    }

    /// Runs `one` on every tile in parallel and merges the results. `merge` must be associative
    /// and commutative (a histogram sum, a min or a max): which worker folds which tile varies.
    fn reduce_stage<T, F, M>(
        &self,
        stage: Stage,
        one: F,
        empty: T,
        merge: M,
    ) -> Result<T, EngineError>
    where
        T: Send + Sync + Clone,
        F: Fn(Rect) -> T + Sync,
        M: Fn(T, T) -> T + Sync,
    {
        let rects = tiles(self.width, self.height, self.shape);
        let one = |worker: usize, index: usize| {
            self.guarded(stage, worker, index, rects[index], || one(rects[index]))
        };
        let out = match self.pool {
            Some(pool) => {
                // Every worker folds the tiles it draws into its own partial result; the
                // partials are merged in worker order once all tiles have run.
                let partials: Vec<Mutex<Option<T>>> =
                    (0..pool.workers()).map(|_| Mutex::new(None)).collect();
                pool.for_each(rects.len(), |worker, index| {
                    let r = one(worker, index)?;
                    let mut slot = partials[worker].lock().unwrap_or_else(|p| p.into_inner());
                    *slot = Some(match slot.take() {
                        Some(acc) => merge(acc, r),
                        None => r,
                    });
                    Ok(())
                })?;
                partials
                    .into_iter()
                    .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
                    .fold(empty, &merge)
            }
            None => (0..rects.len())
                .map(|index| one(0, index))
                .try_fold(empty.clone(), |a, b| b.map(|b| merge(a, b)))?,
        };
        self.check_cancel()?;
        Ok(out)
    }
}

/// Multi-Otsu's output for each gray level: its class (`np.digitize` with the thresholds)
/// spread over `0..=max_value`.
pub(crate) fn multi_otsu_lut(thresholds: &[i64], classes: u32, max_value: f64) -> [u8; 256] {
    let v = multi_otsu_classes(thresholds, classes, max_value, 256);
    std::array::from_fn(|i| v[i])
}

/// [`multi_otsu_lut`] for samples `0..levels`.
pub(crate) fn multi_otsu_classes(
    thresholds: &[i64],
    classes: u32,
    max_value: f64,
    levels: usize,
) -> Vec<u8> {
    let step = max_value / (classes.max(2) - 1) as f64;
    let spread: Vec<u8> = (0..=thresholds.len())
        .map(|c| crate::ops::saturate_round_u8(c as f64 * step))
        .collect();
    (0..levels as i64)
        .map(|v| spread[thresholds.iter().filter(|&&t| t <= v).count()])
        .collect()
}

/// The 256-bin histogram of the gray image of `source`: the gray conversion runs as the ops
/// see it (an 8-bit gray source is counted as it is), on the shared pool of every core. A
/// 16-bit source is counted by its high byte (see [`gray_histogram16`] for all 65536 bins).
///
/// ```
/// use tessera_engine::{SourceImage, job::gray_histogram};
/// let src = SourceImage::gray(image::GrayImage::from_raw(2, 1, vec![7, 7]).unwrap());
/// assert_eq!(gray_histogram(&src)?.0[7], 2);
/// # Ok::<(), tessera_engine::EngineError>(())
/// ```
pub fn gray_histogram(source: &SourceImage) -> Result<Histogram, EngineError> {
    if let Pixels::Gray(g) = &source.pixels {
        return Ok(Histogram::from_pixels(g.as_raw()));
    }
    let out = run(source, &Op::gray(), &JobConfig::default(), &Control::new())?;
    Ok(match &out.image {
        Plane::Gray8(g) => Histogram::from_pixels(g.as_raw()),
        Plane::Gray16(g) => {
            let mut h = Histogram::default();
            for &v in g.as_raw() {
                h.0[usize::from(v >> 8)] += 1;
            }
            h
        }
    })
}

/// The 65536-bin histogram of the gray image of `source` (an 8-bit source fills bins
/// 0..=255), its gray conversion as the ops see it.
pub fn gray_histogram16(source: &SourceImage) -> Result<Vec<u64>, EngineError> {
    let mut h = vec![0u64; 1 << 16];
    let out;
    let plane = match &source.pixels {
        Pixels::Gray16(g) => g.as_raw().as_slice(),
        Pixels::Gray(g) => {
            for &v in g.as_raw() {
                h[usize::from(v)] += 1;
            }
            return Ok(h);
        }
        _ => {
            out = run(source, &Op::gray(), &JobConfig::default(), &Control::new())?;
            match &out.image {
                Plane::Gray16(g) => g.as_raw().as_slice(),
                Plane::Gray8(g) => {
                    for &v in g.as_raw() {
                        h[usize::from(v)] += 1;
                    }
                    return Ok(h);
                }
            }
        }
    };
    for &v in plane {
        h[usize::from(v)] += 1;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_too_small_for_the_image_is_a_usage_error_before_any_work() {
        let src = SourceImage::gray(image::GrayImage::new(1024, 1024));
        let op = Op::otsu(ThresholdType::Binary, 255.0).unwrap();
        let ctl = Control::new();
        let e = run_here(&src, &op, TileSize::Square(1), &ctl).unwrap_err();
        assert!(e.is_usage(), "{e}");
        assert!(
            e.to_string()
                .contains("into 1048576 tiles, more than 262144: use --tile 2 or larger"),
            "{e}"
        );
        assert_eq!(ctl.tiles(), (0, 0), "no tile was planned");
        assert!(run_here(&src, &op, TileSize::Square(2), &ctl).is_ok());
    }
}
