//! Background work of the workbench: decoding, processing, saving and file dialogs each run as
//! a [`Task`] (their own thread, reporting over a bounded channel; every report wakes the UI
//! with `request_repaint`). The UI thread only starts them and drains [`Msg`]s.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::ColorImage;
use image::GrayImage;

use tessera_engine::io::{ReadOptions, decode_bytes_with, read_image_with, write_plane_atomic};
use tessera_engine::ops::ThresholdType;
use tessera_engine::ops::level::Histogram;
use tessera_engine::ops::{Op, OpSettings};
use tessera_engine::source::{Gray16Image, Pixels, Plane, SourceImage};
use tessera_engine::{Control, Depth, EngineError, JobConfig, JobStats, TileSize, job};

use super::task::{Reporter, Task};
use tessera_engine::metrics::{EvalOptions, Metrics};

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageOrigin {
    /// A file on disk.
    File(PathBuf),
    /// An embedded sample (its name).
    Sample(&'static str),
}

impl ImageOrigin {
    /// A short name for titles and messages.
    pub fn name(&self) -> String {
        match self {
            ImageOrigin::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            ImageOrigin::Sample(n) => format!("{n} (sample)"),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            ImageOrigin::File(p) => Some(p),
            ImageOrigin::Sample(_) => None,
        }
    }
}

/// Every global method's level on one histogram, with ImageJ's and with Fiji's semantics
/// (`None`: the method finds no level there).
#[derive(Debug, Clone, Default)]
pub struct AllLevels {
    pub imagej: Vec<(tessera_engine::ops::OpKind, Option<u32>)>,
    pub fiji: Vec<(tessera_engine::ops::OpKind, Option<u32>)>,
}

impl AllLevels {
    /// The levels of a 16-bit image (65536-bin `h`), in 16-bit units: where each method cuts
    /// it (`v > level`, as the job does). Fiji's methods run on the full histogram, which
    /// costs up to O(levels²) for some of them: they are listed only when the image spans
    /// at most 4096 values.
    pub fn of16(h: &[u64]) -> AllLevels {
        use tessera_engine::ops::auto::cut_16bit;
        let lo = h.iter().position(|&c| c > 0).unwrap_or(0);
        let hi = h.iter().rposition(|&c| c > 0).unwrap_or(0);
        Self::with(hi - lo < 4096, |m, like| {
            let t = cut_16bit(m, h, like).ok()?;
            Some(t.clamp(0, 65535) as u32)
        })
    }

    pub fn of(h: &Histogram) -> AllLevels {
        use tessera_engine::ops::auto::level;
        Self::with(true, |m, like| level(m, &h.0, like).ok())
    }

    /// Every method's level as `level` gives it (ImageJ's 17, and Fiji's 18 when `fiji`).
    fn with(
        fiji: bool,
        level: impl Fn(
            tessera_engine::ops::auto::AutoMethod,
            tessera_engine::ops::auto::Like,
        ) -> Option<u32>,
    ) -> AllLevels {
        use tessera_engine::ops::OpKind;
        use tessera_engine::ops::auto::Like;
        let of = |like: Like| {
            OpKind::ALL
                .into_iter()
                .filter(|k| like == Like::Fiji || *k != OpKind::Huang2)
                .filter_map(|k| Some((k, k.auto_method()?)))
                .map(|(k, m)| (k, level(m, like)))
                .collect()
        };
        AllLevels {
            imagej: of(Like::ImageJ),
            fiji: if fiji { of(Like::Fiji) } else { Vec::new() },
        }
    }
}

/// How the histogram's 256 bins map to sample values: bin `i` holds the values
/// `lo + i·step ..< lo + (i+1)·step`. 8-bit images: one bin per value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistScale {
    pub lo: f64,
    pub step: f64,
    /// Bits per sample of the image (8 or 16).
    pub bits: u32,
}

impl Default for HistScale {
    fn default() -> Self {
        HistScale::EIGHT
    }
}

impl HistScale {
    pub const EIGHT: HistScale = HistScale {
        lo: 0.0,
        step: 1.0,
        bits: 8,
    };

    /// 256 bins over `lo..=hi` (at least one value per bin).
    pub fn over(lo: u16, hi: u16) -> HistScale {
        let span = f64::from(hi.max(lo) - lo) + 1.0;
        HistScale {
            lo: f64::from(lo),
            step: (span / 256.0).max(1.0),
            bits: 16,
        }
    }

    /// The bin (fractional) of value `v`.
    pub fn bin_of(&self, v: f64) -> f64 {
        (v - self.lo) / self.step
    }

    /// The value at bin position `x` (fractional).
    pub fn value_at(&self, x: f64) -> f64 {
        self.lo + x * self.step
    }

    /// The 256-bin histogram of a 65536-bin one on this scale.
    pub fn bin(&self, h16: &[u64]) -> Histogram {
        let mut h = Histogram::default();
        for (v, &c) in h16.iter().enumerate() {
            if c > 0 {
                let b = self.bin_of(v as f64).floor().clamp(0.0, 255.0) as usize;
                h.0[b] += c;
            }
        }
        h
    }
}

/// A decoded image with what the window needs to show it.
pub struct Loaded {
    pub origin: ImageOrigin,
    pub source: Arc<SourceImage>,
    /// A 16-bit image read again at 8 bits as OpenCV's `imread(IMREAD_COLOR)` reads it, for
    /// the ops with no 16-bit form.
    pub source8: Option<Arc<SourceImage>>,
    /// For a 16-bit image: its 8-bit display copy (the display range mapped to 0..=255) and
    /// that range; `None` for an 8-bit image.
    pub shown: Option<(Arc<SourceImage>, (u16, u16))>,
    /// Histogram of the gray image (what every threshold op reads), in 256 bins of `scale`.
    pub histogram: Histogram,
    /// How the bins map to values (one per value for 8-bit images).
    pub scale: HistScale,
    /// Every ImageJ/Fiji global method's level on that histogram.
    pub levels: AllLevels,
    /// The image for display, at most `preview_side` pixels per side, and its factor.
    pub preview: (ColorImage, usize),
    pub decode_time: Duration,
    /// The depth it was read at.
    pub depth: Depth,
    /// What the decoder warned about (a truncated JPEG, shown with its missing part grey).
    pub warnings: Vec<String>,
}

/// A rectangle of the image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roi {
    pub x: usize,
    pub y: usize,
    pub w: usize,
    pub h: usize,
}

impl Roi {
    /// This region within a `width`×`height` image; `None` when nothing of it is inside.
    pub fn clip(self, width: usize, height: usize) -> Option<Roi> {
        let (x, y) = (self.x.min(width), self.y.min(height));
        let (w, h) = (self.w.min(width - x), self.h.min(height - y));
        (w > 0 && h > 0).then_some(Roi { x, y, w, h })
    }
}

/// Where a level found in a region of interest is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoiScope {
    /// To the whole image.
    #[default]
    Whole,
    /// Inside the region only; the rest of the result is 0.
    Inside,
}

impl RoiScope {
    pub fn label(self) -> &'static str {
        match self {
            RoiScope::Whole => "applied to the whole image",
            RoiScope::Inside => "applied inside the region only",
        }
    }
}

/// The `roi` part of `source`, in its own pixel layout.
pub fn crop_source(source: &SourceImage, roi: Roi) -> SourceImage {
    use image::GenericImageView;
    let (x, y, w, h) = (roi.x as u32, roi.y as u32, roi.w as u32, roi.h as u32);
    let pixels = match &source.pixels {
        Pixels::Gray(i) => Pixels::Gray(i.view(x, y, w, h).to_image()),
        Pixels::Rgb(i) => Pixels::Rgb(i.view(x, y, w, h).to_image()),
        Pixels::Rgba(i) => Pixels::Rgba(i.view(x, y, w, h).to_image()),
        Pixels::Gray16(i) => Pixels::Gray16(i.view(x, y, w, h).to_image()),
        Pixels::Rgb16(i) => Pixels::Rgb16(i.view(x, y, w, h).to_image()),
        Pixels::Rgba16(i) => Pixels::Rgba16(i.view(x, y, w, h).to_image()),
        _ => source.pixels.clone(),
    };
    SourceImage {
        pixels,
        color: source.color.clone(),
    }
}

/// Runs `op` as the window does with a region of interest: an automatic level (Otsu,
/// triangle) is found on the region's pixels alone, then that level thresholds the whole
/// image (or only the region, the rest 0). Other ops ignore the region. Returns the output
/// and the region's histogram with every global method's level on it.
pub fn run_with_roi(
    source: &SourceImage,
    op: &Op,
    cfg: &JobConfig,
    control: &Control,
    roi: Option<(Roi, RoiScope)>,
    scale: HistScale,
) -> Result<(job::JobOutput, Option<(Histogram, AllLevels)>), EngineError> {
    let roi = roi.and_then(|(r, scope)| Some((r.clip(source.width(), source.height())?, scope)));
    let (Some((roi, scope)), Op::Otsu { .. } | Op::Triangle { .. } | Op::Auto { .. }) = (roi, op)
    else {
        return job::run(source, op, cfg, control).map(|o| (o, None));
    };
    let part = crop_source(source, roi);
    let (hist, levels) = if part.is_16bit() {
        let h16 = job::gray_histogram16(&part)?;
        (scale.bin(&h16), AllLevels::of16(&h16))
    } else {
        let h = job::gray_histogram(&part)?;
        let levels = AllLevels::of(&h);
        (h, levels)
    };
    let found = job::run(&part, op, cfg, control)?;
    let level = found.level.unwrap_or(0);
    let fixed = Op::threshold(
        op.threshold_type().unwrap_or(ThresholdType::Binary),
        f64::from(level),
        op.max_value().unwrap_or(255.0),
    )?;
    let mut out = job::run(source, &fixed, cfg, control)?;
    out.level = Some(level);
    if scope == RoiScope::Inside {
        let w = out.image.width() as usize;
        let outside = |i: usize| -> bool {
            let (px, py) = (i % w, i / w);
            px < roi.x || px >= roi.x + roi.w || py < roi.y || py >= roi.y + roi.h
        };
        match &mut out.image {
            Plane::Gray8(g) => g.iter_mut().enumerate().for_each(|(i, v)| {
                if outside(i) {
                    *v = 0
                }
            }),
            Plane::Gray16(g) => g.iter_mut().enumerate().for_each(|(i, v)| {
                if outside(i) {
                    *v = 0
                }
            }),
        }
    }
    Ok((out, Some((hist, levels))))
}

/// A finished processing job.
pub struct Processed {
    /// The request number the job was started for.
    pub generation: u64,
    /// The result as saved: 8-bit, or 16-bit where the op keeps a 16-bit image's values.
    pub image: Arc<Plane>,
    /// A 16-bit result's 8-bit display copy and the display range it was mapped with.
    pub shown: Option<(Arc<SourceImage>, (u16, u16))>,
    /// The level found, in the image's units.
    pub level: Option<u16>,
    /// The levels multi-Otsu found.
    pub levels: Vec<u16>,
    pub stats: JobStats,
    /// The result for display, at most `preview_side` pixels per side, and its factor.
    pub preview: (ColorImage, usize),
    /// The previews of the overlay's masks: foreground, background.
    pub mask_previews: (ColorImage, ColorImage),
    pub settings: OpSettings,
    pub op: Op,
    pub tile: TileSize,
    pub megapixels: f64,
    /// The region the level was found in, and where it was applied.
    pub roi: Option<(Roi, RoiScope)>,
    /// The region's histogram (when the op used the region) and every global level on it.
    pub roi_histogram: Option<(Histogram, AllLevels)>,
}

/// What a file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Open,
    Save,
    /// A ground truth to judge results against.
    Truth,
}

/// A result judged against the ground truth, with its error overlay.
pub struct Scored {
    /// The job that made the result.
    pub generation: u64,
    /// The ground truth it was judged against.
    pub truth_id: u64,
    pub opts: EvalOptions,
    pub metrics: Metrics,
    /// False positives red, false negatives blue, over the original dimmed (RGB).
    pub errors: Arc<SourceImage>,
    /// Its preview, at most `preview_side` pixels per side, and the factor.
    pub preview: (ColorImage, usize),
}

/// A report from a background thread.
pub enum Msg {
    Loaded {
        request: u64,
        result: Result<Box<Loaded>, String>,
    },
    Processed {
        generation: u64,
        result: Result<Box<Processed>, EngineError>,
    },
    Saved {
        path: PathBuf,
        result: Result<Duration, String>,
    },
    /// One method of "Try all", on the preview.
    TryAllCell { request: u64, cell: Box<TryAllCell> },
    /// New display copies of a 16-bit image (and of its 16-bit result) for a display range.
    Redisplayed(Box<Redisplayed>),
    /// A redisplay could not run (no thread): the old copies stay.
    RedisplayFailed,
    /// "Try all" ended: the size of the preview the methods ran on, or why it stopped.
    TryAllDone {
        request: u64,
        result: Result<(usize, usize), EngineError>,
    },
    /// A ground truth decoded (8-bit gray), or why not.
    TruthLoaded {
        request: u64,
        path: PathBuf,
        result: Result<Arc<GrayImage>, String>,
    },
    /// A result scored against the ground truth, or why it could not be.
    Scored {
        generation: u64,
        truth_id: u64,
        opts: EvalOptions,
        result: Result<Box<Scored>, String>,
    },
    Picked {
        pick: Pick,
        /// The path chosen (`None`: dismissed or no dialog available), or why no dialog could
        /// be shown.
        result: Result<Option<PathBuf>, String>,
    },
}

/// The display copies [`Jobs::redisplay`] made.
pub struct Redisplayed {
    pub request: u64,
    pub image_id: u64,
    pub range: (u16, u16),
    /// The input's 8-bit copy and its preview.
    pub source: (Arc<SourceImage>, (ColorImage, usize)),
    /// The result's (its generation, copy and preview), when it is 16-bit.
    pub result: Option<(u64, Arc<SourceImage>, (ColorImage, usize))>,
}

/// One method's result in "Try all", ready to show.
pub struct TryAllCell {
    pub method: tessera_engine::montage::Method,
    pub label: String,
    pub params: String,
    pub level: Option<u16>,
    /// The result at thumbnail size, or why there is none.
    pub image: Result<ColorImage, String>,
    /// Its F-measure against the ground truth shrunk to the preview (when one is loaded).
    pub f_measure: Option<f64>,
}

/// A ground truth shrunk as [`gray_preview`] shrinks its image (area average by the same whole
/// factor, then binarized at 128), ready to judge the preview's results; `None` when its size
/// is not the image's.
pub fn truth_preview(
    truth: &GrayImage,
    (w, h): (usize, usize),
    side: usize,
    opts: &EvalOptions,
) -> Option<tessera_engine::metrics::PreparedTruth> {
    if (truth.width() as usize, truth.height() as usize) != (w, h) {
        return None;
    }
    let k = preview_factor(w, h, side);
    let small = if k == 1 {
        truth.clone()
    } else {
        let c = downscale(truth.as_raw(), w, h, 1, k);
        let px = c
            .pixels
            .iter()
            .map(|p| if p.r() < 128 { 0 } else { 255 })
            .collect();
        GrayImage::from_raw(c.size[0] as u32, c.size[1] as u32, px)?
    };
    Some(tessera_engine::metrics::PreparedTruth::new_here(
        &small, opts,
    ))
}

/// The gray image of `source`, shrunk by whole factors (area average) to at most `side`
/// pixels per side: what "Try all" runs every method on.
pub fn gray_preview(
    source: &SourceImage,
    side: usize,
    cfg: &JobConfig,
    control: &Control,
) -> Result<SourceImage, EngineError> {
    let gray = job::run(source, &Op::gray(), cfg, control)?.image;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let k = preview_factor(w, h, side);
    let gray = match gray {
        Plane::Gray8(g) => g,
        // 16-bit: the same area average, rounded, kept 16-bit.
        Plane::Gray16(g) => {
            if k == 1 {
                return Ok(SourceImage::gray16(g));
            }
            let (small, (sw, sh)) = downscale16(g.as_raw(), w, h, k);
            return Gray16Image::from_raw(sw as u32, sh as u32, small)
                .map(SourceImage::gray16)
                .ok_or_else(|| EngineError::Internal("preview size".into()));
        }
    };
    if k == 1 {
        return Ok(SourceImage::gray(gray));
    }
    // The display preview's area average, read back as gray.
    let small = downscale(gray.as_raw(), w, h, 1, k);
    let out = small.pixels.iter().map(|p| p.r()).collect();
    GrayImage::from_raw(small.size[0] as u32, small.size[1] as u32, out)
        .map(SourceImage::gray)
        .ok_or_else(|| EngineError::Internal("preview size".into()))
}

/// The processing job now running.
pub struct Running {
    pub generation: u64,
    pub control: Arc<Control>,
    pub started: Instant,
}

/// Starts background work and collects its reports.
pub struct Jobs {
    ctx: egui::Context,
    /// Every task started and not yet drained to its end, oldest first.
    tasks: Vec<Task<Msg>>,
    /// The newest processing job (older ones have been cancelled).
    pub running: Option<Running>,
    generation: u64,
    /// The newest load request and what it loads.
    pub loading: Option<(u64, String)>,
    load_request: u64,
    try_all_request: u64,
    redisplay_request: u64,
    truth_request: u64,
    /// The file being written.
    pub saving: Option<PathBuf>,
    /// A file dialog is open.
    pub dialog_open: bool,
}

/// The longest side of a "Try all" thumbnail.
pub const THUMB_SIDE: usize = 220;

/// Reports waiting in a task's channel before its thread blocks.
const CHANNEL_BOUND: usize = 4;

impl Jobs {
    /// No work running yet; `ctx` is woken by every report.
    pub fn new(ctx: egui::Context) -> Self {
        Jobs {
            ctx,
            tasks: Vec::new(),
            running: None,
            generation: 0,
            loading: None,
            load_request: 0,
            try_all_request: 0,
            redisplay_request: 0,
            truth_request: 0,
            saving: None,
            dialog_open: false,
        }
    }

    /// The next report of any task, if any (never blocks).
    pub fn try_recv(&mut self) -> Option<Msg> {
        let mut found = None;
        for t in &mut self.tasks {
            found = t.poll();
            if found.is_some() {
                break;
            }
        }
        self.tasks.retain(|t| !t.is_finished());
        found
    }

    /// Background threads started and not yet ended (or whose reports are not all taken).
    pub fn active_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Starts `work` as a task; if it fails (no thread, or a panic) `on_failure` makes the
    /// report its activity expects, so that activity ends with an error.
    fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(&Reporter<Msg>) + Send + 'static,
        on_failure: impl Fn(String) -> Msg + Clone + Send + 'static,
    ) {
        let task = Task::spawn(&self.ctx, name, CHANNEL_BOUND, work, on_failure);
        self.tasks.push(task);
    }

    /// Waits for the saves in progress to end (their reports stay to be drained). Used at
    /// exit, so that no file is left half-written.
    pub fn wait_for_saves(&mut self) {
        for t in &mut self.tasks {
            if t.name().strip_prefix("tessera-") == Some(SAVE_TASK) {
                t.wait();
            }
        }
    }

    /// Waits for every task to end (their reports stay to be drained). Tests only: a file
    /// dialog would wait for the user.
    #[cfg(test)]
    pub fn wait_all(&mut self) {
        self.tasks.iter_mut().for_each(Task::wait);
    }

    /// Decodes a file (or embedded bytes) in the background. A newer load supersedes this one.
    pub fn load(
        &mut self,
        origin: ImageOrigin,
        bytes: Option<&'static [u8]>,
        preview_side: usize,
        depth: Depth,
    ) {
        self.load_request += 1;
        let request = self.load_request;
        self.loading = Some((request, origin.name()));
        let work = move |tx: &Reporter<Msg>| {
            let t0 = Instant::now();
            let opts = ReadOptions::default().at(depth);
            let read = |opts: &ReadOptions<'static>| match (&origin, bytes) {
                (_, Some(b)) => decode_bytes_with(&origin.name(), b, opts),
                (ImageOrigin::File(p), None) => read_image_with(p, opts),
                (ImageOrigin::Sample(n), None) => Err(EngineError::Input {
                    path: PathBuf::from(n),
                    reason: "sample has no data".into(),
                }),
            };
            let decoded = read(&opts);
            let source8 = match &decoded {
                Ok(d) if d.image.is_16bit() => read(&ReadOptions::default().at(Depth::Eight))
                    .ok()
                    .map(|d| Arc::new(d.image)),
                _ => None,
            };
            let result = decoded.map_err(|e| e.to_string()).and_then(|read| {
                let (source, warnings) = (read.image, read.warnings);
                let decode_time = t0.elapsed();
                let (histogram, scale, levels, shown) = if source.is_16bit() {
                    let h16 = job::gray_histogram16(&source).map_err(|e| e.to_string())?;
                    let lo = h16.iter().position(|&c| c > 0).unwrap_or(0) as u16;
                    let hi = h16.iter().rposition(|&c| c > 0).unwrap_or(0) as u16;
                    let scale = HistScale::over(lo, hi);
                    let range = sample_range(&source);
                    let shown = display_copy(&source, range);
                    (
                        scale.bin(&h16),
                        scale,
                        AllLevels::of16(&h16),
                        Some((Arc::new(shown), range)),
                    )
                } else {
                    let h = job::gray_histogram(&source).map_err(|e| e.to_string())?;
                    let levels = AllLevels::of(&h);
                    (h, HistScale::EIGHT, levels, None)
                };
                let preview =
                    preview_of_source(shown.as_ref().map_or(&source, |s| &s.0), preview_side);
                Ok(Box::new(Loaded {
                    origin,
                    source: Arc::new(source),
                    source8,
                    shown,
                    scale,
                    depth,
                    histogram,
                    levels,
                    preview,
                    decode_time,
                    warnings,
                }))
            });
            tx.send(Msg::Loaded { request, result });
        };
        self.spawn("decode", work, move |e| Msg::Loaded {
            request,
            result: Err(e),
        });
    }

    /// Whether `request` is the newest load request.
    pub fn is_current_load(&self, request: u64) -> bool {
        request == self.load_request
    }

    /// Starts processing `source`, cancelling the running job. Returns the job's generation.
    pub fn process(
        &mut self,
        source: Arc<SourceImage>,
        settings: OpSettings,
        op: Op,
        cfg: JobConfig,
        roi: Option<(Roi, RoiScope)>,
        (preview_side, range, scale): (usize, (u16, u16), HistScale),
    ) -> u64 {
        self.cancel();
        self.generation += 1;
        let generation = self.generation;
        let ctx = self.ctx.clone();
        let control = Arc::new(Control::with_notify(move || ctx.request_repaint()));
        self.running = Some(Running {
            generation,
            control: control.clone(),
            started: Instant::now(),
        });
        let work = move |tx: &Reporter<Msg>| {
            let result = run_with_roi(&source, &op, &cfg, &control, roi, scale).and_then(
                |(out, roi_histogram)| {
                    let shown = display_plane(&out.image, range)
                        .map(|g| (Arc::new(SourceImage::gray(g)), range));
                    let preview = match (&shown, &out.image) {
                        (Some((s, _)), _) => preview_of_source(s, preview_side),
                        (None, Plane::Gray8(g)) => preview_of_gray(g, preview_side),
                        (None, Plane::Gray16(_)) => {
                            return Err(EngineError::Internal("no display copy".into()));
                        }
                    };
                    let mask_previews = (
                        crate::ui::view::mask_preview(&preview.0, false),
                        crate::ui::view::mask_preview(&preview.0, true),
                    );
                    if control.is_cancelled() {
                        return Err(EngineError::Cancelled);
                    }
                    Ok(Box::new(Processed {
                        generation,
                        megapixels: source.megapixels(),
                        image: Arc::new(out.image),
                        shown,
                        level: out.level,
                        levels: out.levels,
                        stats: out.stats,
                        preview,
                        mask_previews,
                        settings,
                        op,
                        tile: cfg.tile,
                        roi: roi_histogram.is_some().then_some(roi).flatten(),
                        roi_histogram,
                    }))
                },
            );
            tx.send(Msg::Processed { generation, result });
        };
        self.spawn("job", work, move |e| Msg::Processed {
            generation,
            result: Err(EngineError::Internal(e)),
        });
        generation
    }

    /// Runs every method ([`tessera_engine::montage::plan`]) on a gray preview of `source`
    /// of at most `side` pixels per side, on `cfg`'s workers, reporting each cell as it is
    /// made (the methods with no 16-bit form on the preview of `source8`, a 16-bit image's
    /// 8-bit reading). Returns the request number; `control` stops it.
    pub fn try_all(
        &mut self,
        (source, source8): (Arc<SourceImage>, Option<Arc<SourceImage>>),
        base: OpSettings,
        cfg: JobConfig,
        side: usize,
        control: Arc<Control>,
        truth: Option<(Arc<GrayImage>, EvalOptions)>,
    ) -> u64 {
        self.try_all_request += 1;
        let request = self.try_all_request;
        let work = move |tx: &Reporter<Msg>| {
            let dims = (source.width(), source.height());
            let prepared = truth
                .as_ref()
                .and_then(|(t, opts)| truth_preview(t, dims, side, opts));
            let result = gray_preview(&source, side, &cfg, &control).and_then(|small| {
                let size = (small.width(), small.height());
                let small8 = match &source8 {
                    Some(s8) => Some(gray_preview(s8, side, &cfg, &control)?),
                    None => None,
                };
                tessera_engine::montage::run_each(
                    &small,
                    small8.as_ref(),
                    &base,
                    &cfg,
                    &control,
                    |c| {
                        let f_measure = match (&prepared, &c.result) {
                            (Some(t), Ok(img)) => img
                                .as_gray8()
                                .and_then(|m| t.evaluate_here(m).ok())
                                .map(|m| m.f_measure),
                            _ => None,
                        };
                        let image = c
                            .result
                            .map(|img| preview_of_gray(&crate::sheet::shown(&img), THUMB_SIDE).0);
                        let cell = TryAllCell {
                            method: c.method,
                            label: c.label,
                            params: c.params,
                            level: c.level,
                            image,
                            f_measure,
                        };
                        tx.send(Msg::TryAllCell {
                            request,
                            cell: Box::new(cell),
                        });
                    },
                )?;
                Ok(size)
            });
            tx.send(Msg::TryAllDone { request, result });
        };
        self.spawn("try-all", work, move |e| Msg::TryAllDone {
            request,
            result: Err(EngineError::Internal(e)),
        });
        request
    }

    /// Maps a 16-bit image (and its 16-bit result, if any) to 8-bit display copies for the
    /// display range `range`, in the background. A newer request supersedes this one.
    pub fn redisplay(
        &mut self,
        image_id: u64,
        source: Arc<SourceImage>,
        result: Option<(u64, Arc<Plane>)>,
        range: (u16, u16),
        preview_side: usize,
    ) {
        self.redisplay_request += 1;
        let request = self.redisplay_request;
        let work = move |tx: &Reporter<Msg>| {
            let shown = Arc::new(display_copy(&source, range));
            let preview = preview_of_source(&shown, preview_side);
            let result = result.and_then(|(generation, p)| {
                let g = display_plane(&p, range)?;
                let s = Arc::new(SourceImage::gray(g));
                let preview = preview_of_source(&s, preview_side);
                Some((generation, s, preview))
            });
            tx.send(Msg::Redisplayed(Box::new(Redisplayed {
                request,
                image_id,
                range,
                source: (shown, preview),
                result,
            })));
        };
        // A failed redisplay leaves the old copies on screen.
        self.spawn("redisplay", work, |_| Msg::RedisplayFailed);
    }

    /// Reads a ground truth (as 8-bit gray) in the background. A newer request supersedes
    /// this one. Returns the request number.
    pub fn load_truth(&mut self, path: PathBuf) -> u64 {
        self.truth_request += 1;
        let request = self.truth_request;
        let failed = path.clone();
        let work = move |tx: &Reporter<Msg>| {
            let result = tessera_engine::metrics::read_gray(&path, Default::default())
                .map(Arc::new)
                .map_err(|e| e.to_string());
            tx.send(Msg::TruthLoaded {
                request,
                path,
                result,
            });
        };
        self.spawn("truth", work, move |e| Msg::TruthLoaded {
            request,
            path: failed.clone(),
            result: Err(e),
        });
        request
    }

    /// Whether `request` is the newest ground-truth load.
    pub fn is_current_truth(&self, request: u64) -> bool {
        request == self.truth_request
    }

    /// Judges the result of job `generation` against ground truth `truth_id` in the
    /// background, and draws its errors over `background` (the original as shown).
    #[allow(clippy::too_many_arguments)]
    pub fn score(
        &mut self,
        (generation, truth_id): (u64, u64),
        result: Arc<Plane>,
        truth: Arc<GrayImage>,
        background: Arc<SourceImage>,
        opts: EvalOptions,
        preview_side: usize,
    ) {
        let work = move |tx: &Reporter<Msg>| {
            let scored = (|| -> Result<Box<Scored>, String> {
                let mask = result
                    .as_gray8()
                    .ok_or("the result is 16-bit: metrics judge a binarization (an 8-bit mask)")?;
                let metrics = tessera_engine::metrics::evaluate(mask, &truth, &opts)
                    .map_err(|e| format!("the ground truth does not fit: {e}"))?;
                let gray = job::run(
                    &background,
                    &Op::gray(),
                    &JobConfig::default(),
                    &Control::new(),
                )
                .map_err(|e| e.to_string())?
                .image;
                let gray = gray
                    .as_gray8()
                    .ok_or("the original's display copy is not 8-bit")?;
                let rgb = tessera_engine::metrics::error_overlay(mask, &truth, gray, &opts)
                    .map_err(|e| e.to_string())?;
                let errors = Arc::new(SourceImage::rgb(rgb));
                let preview = preview_of_source(&errors, preview_side);
                Ok(Box::new(Scored {
                    generation,
                    truth_id,
                    opts,
                    metrics,
                    errors,
                    preview,
                }))
            })();
            tx.send(Msg::Scored {
                generation,
                truth_id,
                opts,
                result: scored,
            });
        };
        self.spawn("score", work, move |e| Msg::Scored {
            generation,
            truth_id,
            opts,
            result: Err(e),
        });
    }

    /// Whether `request` is the newest redisplay.
    pub fn is_current_redisplay(&self, request: u64) -> bool {
        request == self.redisplay_request
    }

    /// Whether `request` is the newest "Try all".
    pub fn is_current_try_all(&self, request: u64) -> bool {
        request == self.try_all_request
    }

    /// Asks the running job to stop. Returns whether one was running.
    pub fn cancel(&mut self) -> bool {
        match self.running.take() {
            Some(r) => {
                r.control.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether `generation` is the newest job started.
    pub fn is_current_job(&self, generation: u64) -> bool {
        generation == self.generation
    }

    /// Writes `image` to `path` atomically in the background.
    pub fn save(&mut self, image: Arc<Plane>, path: PathBuf) {
        self.saving = Some(path.clone());
        let failed = path.clone();
        let work = move |tx: &Reporter<Msg>| {
            let t0 = Instant::now();
            let result = write_plane_atomic(&image, &path, true)
                .map(|()| t0.elapsed())
                .map_err(|e| e.to_string());
            tx.send(Msg::Saved { path, result });
        };
        self.spawn(SAVE_TASK, work, move |e| Msg::Saved {
            path: failed.clone(),
            result: Err(e),
        });
    }

    /// Opens a native file dialog on a background thread (rfd; it answers `None` at once where
    /// no desktop portal runs).
    pub fn pick_file(&mut self, pick: Pick, folder: Option<PathBuf>, file_name: Option<String>) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let work = move |tx: &Reporter<Msg>| {
            let mut d = rfd::FileDialog::new();
            if let Some(f) = folder.filter(|f| f.is_dir()) {
                d = d.set_directory(f);
            }
            let path = match pick {
                Pick::Open | Pick::Truth => d
                    .set_title(if pick == Pick::Truth {
                        "Open the ground truth (0 = text, 255 = paper)"
                    } else {
                        "Open an image"
                    })
                    .add_filter(
                        "Images",
                        &[
                            "png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "gif", "pgm",
                            "ppm", "pbm", "pnm",
                        ],
                    )
                    .add_filter("All files", &["*"])
                    .pick_file(),
                Pick::Save => {
                    if let Some(n) = file_name {
                        d = d.set_file_name(n);
                    }
                    d.set_title("Save the result")
                        .add_filter("PNG", &["png"])
                        .add_filter("JPEG", &["jpg", "jpeg"])
                        .add_filter("TIFF", &["tif", "tiff"])
                        .add_filter("BMP", &["bmp"])
                        .add_filter("WebP (lossless)", &["webp"])
                        .add_filter("PGM", &["pgm"])
                        .save_file()
                }
            };
            tx.send(Msg::Picked {
                pick,
                result: Ok(path),
            });
        };
        self.spawn("dialog", work, move |e| Msg::Picked {
            pick,
            result: Err(e),
        });
    }
}

/// The name of the tasks that write files.
const SAVE_TASK: &str = "save";

/// The smallest and largest sample of a 16-bit image (all channels): its automatic display
/// range.
pub fn sample_range(src: &SourceImage) -> (u16, u16) {
    let raw = src.raw16();
    let lo = raw.iter().copied().min().unwrap_or(0);
    let hi = raw.iter().copied().max().unwrap_or(0);
    (lo, hi)
}

/// The 8-bit display copy of a 16-bit image: every sample mapped from `range` to 0..=255
/// ([`tessera_engine::source::display_lut`]); an 8-bit image is copied.
pub fn display_copy(src: &SourceImage, (lo, hi): (u16, u16)) -> SourceImage {
    let lut: Vec<u8> = {
        let f = tessera_engine::source::display_lut(lo, hi);
        (0..=u16::MAX).map(f).collect()
    };
    let map = |v: &[u16]| -> Vec<u8> { v.iter().map(|&s| lut[s as usize]).collect() };
    let (w, h) = src.dimensions();
    let pixels = match &src.pixels {
        Pixels::Gray16(i) => {
            Pixels::Gray(GrayImage::from_raw(w, h, map(i.as_raw())).expect("size"))
        }
        Pixels::Rgb16(i) => {
            Pixels::Rgb(image::RgbImage::from_raw(w, h, map(i.as_raw())).expect("size"))
        }
        Pixels::Rgba16(i) => {
            Pixels::Rgba(image::RgbaImage::from_raw(w, h, map(i.as_raw())).expect("size"))
        }
        other => other.clone(),
    };
    SourceImage {
        pixels,
        color: src.color.clone(),
    }
}

/// The 8-bit display copy of a result: 16-bit results mapped from `range` (the input's
/// display range, so both show on one scale); `None` for an 8-bit result (shown as it is).
pub fn display_plane(p: &Plane, range: (u16, u16)) -> Option<GrayImage> {
    match p {
        Plane::Gray8(_) => None,
        Plane::Gray16(_) => Some(p.to_display8(range.0, range.1)),
    }
}

/// The integer factor that brings `w × h` within `max_side` pixels per side.
pub fn preview_factor(w: usize, h: usize, max_side: usize) -> usize {
    w.max(h).div_ceil(max_side.max(1)).max(1)
}

/// Box-averages `raw` (`channels` bytes per pixel, alpha ignored) by an integer factor `k`.
pub fn downscale(raw: &[u8], w: usize, h: usize, channels: usize, k: usize) -> ColorImage {
    let k = k.max(1);
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let mut pixels = Vec::with_capacity(ow * oh);
    let color_channels = channels.min(3);
    let mut sums = vec![0u32; ow * 3];
    let mut counts = vec![0u32; ow];
    for oy in 0..oh {
        sums.iter_mut().for_each(|s| *s = 0);
        counts.iter_mut().for_each(|c| *c = 0);
        for y in oy * k..((oy + 1) * k).min(h) {
            let row = &raw[y * w * channels..(y + 1) * w * channels];
            for (x, px) in row.chunks_exact(channels).enumerate() {
                let ox = x / k;
                for c in 0..color_channels {
                    sums[ox * 3 + c] += px[c] as u32;
                }
                counts[ox] += 1;
            }
        }
        for ox in 0..ow {
            let n = counts[ox].max(1);
            let v = |c: usize| ((sums[ox * 3 + c] + n / 2) / n) as u8;
            pixels.push(if color_channels == 1 {
                egui::Color32::from_gray(v(0))
            } else {
                egui::Color32::from_rgb(v(0), v(1), v(2))
            });
        }
    }
    ColorImage::new([ow, oh], pixels)
}

/// Box-averages 16-bit gray samples by an integer factor `k` (rounded half up), as
/// [`downscale`] does 8-bit ones. Returns the samples and their size.
pub fn downscale16(raw: &[u16], w: usize, h: usize, k: usize) -> (Vec<u16>, (usize, usize)) {
    let k = k.max(1);
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let mut out = Vec::with_capacity(ow * oh);
    let mut sums = vec![0u64; ow];
    let mut counts = vec![0u64; ow];
    for oy in 0..oh {
        sums.iter_mut().for_each(|s| *s = 0);
        counts.iter_mut().for_each(|c| *c = 0);
        for y in oy * k..((oy + 1) * k).min(h) {
            for (x, &v) in raw[y * w..(y + 1) * w].iter().enumerate() {
                sums[x / k] += u64::from(v);
                counts[x / k] += 1;
            }
        }
        for ox in 0..ow {
            let n = counts[ox].max(1);
            out.push(((sums[ox] + n / 2) / n) as u16);
        }
    }
    (out, (ow, oh))
}

/// The display image of a source, downscaled to at most `max_side` per side, and the factor.
pub fn preview_of_source(src: &SourceImage, max_side: usize) -> (ColorImage, usize) {
    let (w, h) = (src.width(), src.height());
    let k = preview_factor(w, h, max_side);
    (downscale(src.raw(), w, h, src.channels(), k), k)
}

/// The display image of a gray result, downscaled to at most `max_side` per side, and the
/// factor.
pub fn preview_of_gray(img: &GrayImage, max_side: usize) -> (ColorImage, usize) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let k = preview_factor(w, h, max_side);
    (downscale(img.as_raw(), w, h, 1, k), k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_past_the_image_is_clipped_and_an_empty_one_ignored() {
        let img = GrayImage::from_fn(20, 10, |x, _| image::Luma([(x * 12) as u8]));
        let src = SourceImage::gray(img);
        let op = Op::otsu(ThresholdType::Binary, 255.0).unwrap();
        let cfg = JobConfig::default();
        let ctl = Control::new();
        let past = Roi {
            x: 15,
            y: 5,
            w: 50,
            h: 50,
        };
        let (out, hist) = run_with_roi(
            &src,
            &op,
            &cfg,
            &ctl,
            Some((past, RoiScope::Whole)),
            HistScale::EIGHT,
        )
        .unwrap();
        let (hist, levels) = hist.unwrap();
        assert_eq!(hist.0.iter().sum::<u64>(), 5 * 5);
        // The region's own levels: those of its histogram.
        assert_eq!(levels.imagej, AllLevels::of(&hist).imagej);
        assert!(out.level.is_some());
        let empty = Roi {
            x: 20,
            y: 0,
            w: 3,
            h: 3,
        };
        let (_, hist) = run_with_roi(
            &src,
            &op,
            &cfg,
            &ctl,
            Some((empty, RoiScope::Whole)),
            HistScale::EIGHT,
        )
        .unwrap();
        assert!(hist.is_none());
    }

    #[test]
    fn a_thread_that_cannot_start_fails_the_activity_that_asked() {
        let mut jobs = Jobs::new(egui::Context::default());
        super::super::task::fail_spawns(true);
        jobs.load(ImageOrigin::File("in.png".into()), None, 64, Depth::Native);
        let source = Arc::new(SourceImage::gray(GrayImage::new(4, 4)));
        let cfg = JobConfig::default();
        let generation = jobs.process(
            source,
            OpSettings::default(),
            Op::gray(),
            cfg,
            None,
            (64, (0, 255), HistScale::EIGHT),
        );
        jobs.save(
            Arc::new(Plane::Gray8(GrayImage::new(1, 1))),
            PathBuf::from("out.png"),
        );
        jobs.pick_file(Pick::Save, None, None);
        let truth = jobs.load_truth(PathBuf::from("gt.png"));
        let g4 = Arc::new(GrayImage::new(4, 4));
        jobs.score(
            (7, 1),
            Arc::new(Plane::Gray8((*g4).clone())),
            g4.clone(),
            Arc::new(SourceImage::gray((*g4).clone())),
            Default::default(),
            64,
        );
        let src = Arc::new(SourceImage::gray(GrayImage::new(4, 4)));
        let try_all = jobs.try_all(
            (src, None),
            OpSettings::default(),
            cfg,
            64,
            Arc::new(Control::new()),
            None,
        );
        super::super::task::fail_spawns(false);
        let mut seen = 0;
        while let Some(msg) = jobs.try_recv() {
            seen += 1;
            match msg {
                Msg::Loaded { request, result } => {
                    assert!(jobs.is_current_load(request));
                    let e = result.err().unwrap();
                    assert!(e.contains("cannot start the tessera-decode thread"), "{e}");
                }
                Msg::Processed {
                    generation: g,
                    result,
                } => {
                    assert_eq!(g, generation);
                    let e = result.err().unwrap().to_string();
                    assert!(e.contains("cannot start the tessera-job thread"), "{e}");
                }
                Msg::Saved { path, result } => {
                    assert_eq!(path, PathBuf::from("out.png"));
                    let e = result.unwrap_err();
                    assert!(e.contains("cannot start the tessera-save thread"), "{e}");
                }
                Msg::Picked { pick, result } => {
                    assert_eq!(pick, Pick::Save);
                    let e = result.unwrap_err();
                    assert!(e.contains("cannot start the tessera-dialog thread"), "{e}");
                }
                Msg::TryAllDone { request, result } => {
                    assert_eq!(request, try_all);
                    let e = result.unwrap_err().to_string();
                    assert!(e.contains("cannot start the tessera-try-all thread"), "{e}");
                }
                Msg::TruthLoaded {
                    request, result, ..
                } => {
                    assert_eq!(request, truth);
                    let e = result.unwrap_err();
                    assert!(e.contains("cannot start the tessera-truth thread"), "{e}");
                }
                Msg::Scored {
                    generation, result, ..
                } => {
                    assert_eq!(generation, 7);
                    let e = result.err().unwrap();
                    assert!(e.contains("cannot start the tessera-score thread"), "{e}");
                }
                Msg::TryAllCell { .. } => panic!("no cell without a thread"),
                Msg::Redisplayed(_) | Msg::RedisplayFailed => panic!("no redisplay was asked"),
            }
        }
        assert_eq!(seen, 7, "every activity hears of its failure");
        assert_eq!(jobs.active_tasks(), 0);
    }

    #[test]
    fn the_try_all_preview_is_the_gray_image_averaged_by_blocks() {
        let img = GrayImage::from_fn(10, 7, |x, y| image::Luma([(x * 25 + y * 3) as u8]));
        let src = SourceImage::gray(img.clone());
        let cfg = JobConfig::default();
        let small = gray_preview(&src, 4, &cfg, &Control::new()).unwrap();
        let k = preview_factor(10, 7, 4) as u32;
        assert!(k > 1);
        let Pixels::Gray(small) = small.pixels else {
            panic!("a gray preview")
        };
        assert_eq!(small.dimensions(), (10u32.div_ceil(k), 7u32.div_ceil(k)));
        for (px, py, p) in small.enumerate_pixels() {
            let (mut sum, mut n) = (0u32, 0u32);
            for y in py * k..((py + 1) * k).min(7) {
                for x in px * k..((px + 1) * k).min(10) {
                    sum += img.get_pixel(x, y).0[0] as u32;
                    n += 1;
                }
            }
            assert_eq!(p.0[0], ((sum + n / 2) / n) as u8, "({px}, {py})");
        }
    }

    #[test]
    fn downscale_averages_blocks_and_keeps_edges() {
        // 5x3 gray, factor 2 -> 3x2.
        let raw: Vec<u8> = (0..15).map(|i| i as u8 * 10).collect();
        let img = downscale(&raw, 5, 3, 1, 2);
        assert_eq!(img.size, [3, 2]);
        // Block (0,0): 0,10,50,60 -> 30.
        assert_eq!(img.pixels[0], egui::Color32::from_gray(30));
        // Block (2,1): only pixel (4,2) = 140.
        assert_eq!(img.pixels[5], egui::Color32::from_gray(140));
    }

    #[test]
    fn preview_factor_fits_the_side() {
        assert_eq!(preview_factor(100, 50, 2048), 1);
        assert_eq!(preview_factor(3840, 2160, 2048), 2);
        assert_eq!(preview_factor(20000, 5000, 2048), 10);
        assert!(20000usize.div_ceil(preview_factor(20000, 5000, 2048)) <= 2048);
    }

    #[test]
    fn rgb_downscale_ignores_alpha() {
        let raw = [10u8, 20, 30, 0, 30, 40, 50, 255];
        let img = downscale(&raw, 2, 1, 4, 2);
        assert_eq!(img.pixels[0], egui::Color32::from_rgb(20, 30, 40));
    }
}
