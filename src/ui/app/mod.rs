//! The application: the [`Workbench`] state, the tabs and the [`eframe::App`] glue. Its
//! concerns live in submodules, each adding to `Workbench`: [`prefs`] (what persists),
//! `schedule` (background work and its reports), `side_panel` (the controls), `central` (the
//! viewer and charts) and `save` (saving the result). All work runs as background tasks
//! ([`crate::ui::task`]); this module only keeps state, reacts to reports and draws.

mod central;
pub mod history;
pub mod prefs;
mod save;
mod schedule;
mod side_panel;
mod truth;
mod try_all;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use super::batch_panel::BatchPanel;
use super::charts::RunRecord;
use super::frame_log::FrameLog;
use super::jobs::{ImageOrigin, Jobs};
use super::lab::LabPanel;
use super::tune_panel::TunePanel;
use super::view::{self, Hover, Layer, ViewMode, Viewer};
use tessera_engine::ops::level::Histogram;
use tessera_engine::ops::{Op, OpSettings};
use tessera_engine::source::{Plane, SourceImage};
use tessera_engine::{JobStats, TileSize};

use crate::ui::jobs::{Roi, RoiScope};

pub use prefs::{
    MAX_TILE, MIN_TILE, Prefs, RECENT_MAX, STORAGE_KEY, Tab, max_workers, window_default_settings,
};

/// What the window opens at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// This file (from the command line).
    Path(PathBuf),
    /// The last image of the previous run if it still exists, else the embedded sample.
    Default,
    /// The embedded sample.
    Sample,
    /// Nothing (tests).
    Nothing,
}

/// How the newest job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Idle,
    Running,
    Done,
    Cancelled,
    Failed(String),
}

struct OpenImage {
    id: u64,
    origin: ImageOrigin,
    source: Arc<SourceImage>,
    /// A 16-bit image read again at 8 bits (OpenCV's `imread`), for the ops with no 16-bit
    /// form.
    source8: Option<Arc<SourceImage>>,
    /// Histogram of the gray image, in 256 bins of `scale`.
    histogram: Histogram,
    scale: crate::ui::jobs::HistScale,
    levels: crate::ui::jobs::AllLevels,
    /// The depth it was read at ([`OpSettings::depth`] when it was opened).
    read_at: tessera_engine::Depth,
    /// A 16-bit image's display range (`None` for 8-bit).
    range: Option<(u16, u16)>,
    layer: Layer,
    decode_time: Duration,
    /// The decoder's warnings (a truncated file), shown under the image's name.
    warnings: Vec<String>,
}

/// The overlay's two mask layers of a result, uploaded on first use.
enum Masks {
    /// Their previews, made by the job.
    Pending {
        previews: (egui::ColorImage, egui::ColorImage),
        factor: usize,
        generation: u64,
    },
    /// Foreground and background, as textures.
    Ready(Box<(Layer, Layer)>),
    /// Being turned from pending to ready.
    Taken,
}

impl ResultView {
    /// Uploads the overlay's mask layers if not yet done; afterwards `masks` is `Ready`.
    fn ensure_masks(&mut self, ctx: &egui::Context, max_texture_side: usize) {
        if let Masks::Pending {
            previews: (fg, bg),
            factor,
            generation,
        } = std::mem::replace(&mut self.masks, Masks::Taken)
        {
            let mask = |name: &str, preview, invert| {
                Layer::new_mask(
                    ctx,
                    &format!("{name}-{generation}"),
                    self.layer.full.clone(),
                    (preview, factor),
                    max_texture_side,
                    invert,
                )
            };
            self.masks = Masks::Ready(Box::new((
                mask("mask", fg, false),
                mask("unmask", bg, true),
            )));
        }
    }
}

struct ResultView {
    /// The job that made it.
    generation: u64,
    image_id: u64,
    image: Arc<Plane>,
    level: Option<u16>,
    /// The levels multi-Otsu found.
    levels: Vec<u16>,
    stats: JobStats,
    settings: OpSettings,
    op: Op,
    megapixels: f64,
    layer: Layer,
    /// The overlay's masks: foreground, background.
    masks: Masks,
    /// The region its level was found in, and where it was applied.
    roi: Option<(Roi, RoiScope)>,
    /// That region's histogram.
    roi_histogram: Option<(Histogram, crate::ui::jobs::AllLevels)>,
}

/// The job parameters a result was (or is being) computed for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Request {
    image_id: u64,
    settings: OpSettings,
    workers: usize,
    tile: TileSize,
    /// Bumped by "Run again".
    nonce: u64,
    /// The region an automatic level is found in, when the op uses one.
    roi: Option<(Roi, RoiScope)>,
}

/// The whole window's state.
pub struct Workbench {
    pub prefs: Prefs,
    ctx: egui::Context,
    jobs: Jobs,
    image: Option<OpenImage>,
    result: Option<ResultView>,
    /// The display range the controls ask for (16-bit images).
    display_range: Option<(u16, u16)>,
    /// The display range being made in the background.
    display_pending: Option<(u16, u16)>,
    viewer: Viewer,
    runs: Vec<RunRecord>,
    error: Option<String>,
    notice: Option<String>,
    /// The settings cannot run (shown beside the controls).
    invalid: Option<String>,
    outcome: Outcome,
    open_field: String,
    save_field: String,
    /// The last default written into `save_field` (it follows the op until edited).
    save_field_auto: String,
    confirm_overwrite: Option<PathBuf>,
    batch: BatchPanel,
    lab: LabPanel,
    tune: TunePanel,
    max_texture_side: usize,
    last_request: Option<Request>,
    /// Wall time of the last job that delivered a result (decides whether a change waits for
    /// the running job or cancels it).
    last_job_wall: Option<Duration>,
    nonce: u64,
    /// The histogram's geometry last frame (and what was picked on it).
    histogram_input: crate::ui::charts::HistogramInput,
    /// Parameter changes, for undo and redo.
    history: history::History,
    /// The region of interest drawn on this image (Shift+drag), and where its level goes.
    roi: Option<Roi>,
    roi_scope: RoiScope,
    /// Whether the shortcut sheet is open.
    show_shortcuts: bool,
    image_counter: u64,
    hover: Option<Hover>,
    dialog_started: Option<Instant>,
    frame_log: Option<FrameLog>,
    title: String,
    /// "Try all", while its window is open.
    try_all: Option<try_all::TryAll>,
    /// The ground truth results are judged against.
    truth: Option<truth::Truth>,
    /// The newest ground-truth read, while it runs.
    truth_loading: Option<u64>,
    truth_counter: u64,
    /// The text of the ground truth's Path field.
    truth_field: String,
    /// The newest result's metrics (and error layer).
    score: Option<truth::ScoreView>,
    /// The scoring running: (job generation, ground truth, options).
    score_asked: Option<(u64, u64, tessera_engine::metrics::EvalOptions)>,
}

/// Runs kept for the timing chart.
const RUNS_KEPT: usize = 200;

/// A job that took at most this long is let finish when the settings change while it runs
/// (the newest settings start right after it); a slower one is cancelled at once.
pub const QUICK_JOB: Duration = Duration::from_millis(1000);
impl Workbench {
    /// A workbench with preferences from `storage` (if any), opening what `startup` says.
    pub fn new(
        ctx: &egui::Context,
        storage: Option<&dyn eframe::Storage>,
        startup: Startup,
    ) -> Workbench {
        let mut prefs: Prefs = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        prefs.sanitize();
        let mut app = Workbench {
            ctx: ctx.clone(),
            jobs: Jobs::new(ctx.clone()),
            image: None,
            result: None,
            viewer: Viewer::default(),
            runs: Vec::new(),
            error: None,
            notice: None,
            invalid: None,
            outcome: Outcome::Idle,
            open_field: String::new(),
            save_field: String::new(),
            save_field_auto: String::new(),
            confirm_overwrite: None,
            batch: BatchPanel::default(),
            lab: LabPanel::default(),
            tune: TunePanel::default(),
            max_texture_side: ctx.input(|i| i.max_texture_side),
            last_request: None,
            last_job_wall: None,
            nonce: 0,
            histogram_input: Default::default(),
            history: Default::default(),
            roi: None,
            roi_scope: RoiScope::Whole,
            display_range: None,
            display_pending: None,
            show_shortcuts: false,
            image_counter: 0,
            hover: None,
            dialog_started: None,
            frame_log: FrameLog::from_env(),
            title: String::new(),
            try_all: None,
            truth: None,
            truth_loading: None,
            truth_counter: 0,
            truth_field: String::new(),
            score: None,
            score_asked: None,
            prefs,
        };
        app.lab.apply(&app.prefs.lab);
        let first = !app.prefs.started_before;
        app.prefs.started_before = true;
        match startup {
            Startup::Path(p) => {
                // An image given to open is shown, whatever tab was last in front.
                app.prefs.tab = Tab::Workbench;
                app.open_file(p);
            }
            Startup::Sample => app.open_sample(0),
            Startup::Default => match app.prefs.last_image.clone() {
                Some(p) if !first && p.is_file() => app.open_file(p),
                _ => app.open_sample(0),
            },
            Startup::Nothing => {}
        }
        app
    }

    /// The open image's name (`None` before one has loaded).
    pub fn image_name(&self) -> Option<String> {
        self.image.as_ref().map(|i| i.origin.name())
    }

    /// The open image's size.
    pub fn image_size(&self) -> Option<(usize, usize)> {
        self.image
            .as_ref()
            .map(|i| (i.source.width(), i.source.height()))
    }

    /// The open image as the current op reads it (shared with the Scaling lab): a 16-bit
    /// image's 8-bit reading for an op with no 16-bit form.
    pub fn source(&self) -> Option<Arc<SourceImage>> {
        self.image.as_ref().map(|i| match &i.source8 {
            Some(s8) if self.prefs.settings.read_depth() == tessera_engine::Depth::Eight => {
                s8.clone()
            }
            _ => i.source.clone(),
        })
    }

    /// The newest finished result and the settings it was computed with.
    pub fn result(&self) -> Option<(&Plane, &OpSettings, usize)> {
        self.result
            .as_ref()
            .map(|r| (r.image.as_ref(), &r.settings, r.stats.workers))
    }

    /// The display range a 16-bit image is shown with now (`None` for an 8-bit image).
    pub fn display_range(&self) -> Option<(u16, u16)> {
        self.image.as_ref().and_then(|i| i.range)
    }

    /// Asks for another display range (made in the background; [`Self::display_range`]
    /// says when it is on screen).
    pub fn set_display_range(&mut self, range: (u16, u16)) {
        self.display_range = Some(range);
    }

    /// The real values at image pixel `(x, y)` of the original and of the result, with their
    /// bits, as the readout shows them.
    pub fn values_at(
        &self,
        x: usize,
        y: usize,
    ) -> Option<(view::PixelValue, Option<view::PixelValue>)> {
        let img = self.image.as_ref()?;
        let res = self
            .result
            .as_ref()
            .filter(|r| r.image_id == img.id)
            .and_then(|r| r.layer.full.value(x, y));
        Some((img.layer.full.value(x, y)?, res))
    }

    /// How the histogram's bins map to values, and its 256 counts.
    pub fn histogram(&self) -> Option<(crate::ui::jobs::HistScale, &Histogram)> {
        self.image.as_ref().map(|i| (i.scale, &i.histogram))
    }

    /// The level Otsu or triangle found for the shown result.
    pub fn found_level(&self) -> Option<u16> {
        self.result.as_ref().and_then(|r| r.level)
    }

    /// Whether the shown result matches the current settings and image, with no job running.
    pub fn is_up_to_date(&self) -> bool {
        let (Some(img), Some(res)) = (&self.image, &self.result) else {
            return false;
        };
        self.jobs.running.is_none()
            && res.image_id == img.id
            && res.settings == self.prefs.settings
            && res.stats.workers == self.prefs.workers
    }

    /// Whether the shown result was made from the open image with the settings the controls
    /// show now (the worker count and tiles do not change pixels). `false` with no result.
    pub fn result_matches_controls(&self) -> bool {
        match (&self.image, &self.result) {
            (Some(img), Some(res)) => {
                res.image_id == img.id
                    && res.settings == self.prefs.settings
                    && res.roi == self.effective_roi()
            }
            _ => false,
        }
    }

    /// The region and scope the current op uses: only the global automatic levels (Otsu,
    /// triangle, ImageJ's and Fiji's methods) are found in a region.
    pub(crate) fn effective_roi(&self) -> Option<(Roi, RoiScope)> {
        let auto = self.prefs.settings.op.finds_level();
        self.roi.filter(|_| auto).map(|r| (r, self.roi_scope))
    }

    /// The region of interest (image pixels) and where its level goes.
    pub fn roi(&self) -> (Option<Roi>, RoiScope) {
        (self.roi, self.roi_scope)
    }

    /// Sets (or clears) the region of interest.
    pub fn set_roi(&mut self, roi: Option<Roi>, scope: RoiScope) {
        self.roi = roi;
        self.roi_scope = scope;
    }

    /// What the shown result is, as its label says: the operation and every parameter
    /// (`adaptive-gaussian binary block 11 c 2 max 255`).
    pub fn result_label(&self) -> Option<String> {
        // A result made from a 16-bit image's 8-bit reading (an op with no 16-bit form) says so.
        let eight = |r: &ResultView| {
            self.image.as_ref().is_some_and(|i| {
                i.id == r.image_id
                    && i.source8.is_some()
                    && r.settings.read_depth() == tessera_engine::Depth::Eight
            })
        };
        self.result.as_ref().map(|r| {
            let label = self.label_of(r);
            if eight(r) {
                format!("{label}, on the 16-bit image read at 8 bits")
            } else {
                label
            }
        })
    }

    fn label_of(&self, r: &ResultView) -> String {
        match r.roi {
            None => r.op.describe(),
            Some((roi, scope)) => format!(
                "{}, level {} from the region {}x{} at ({}, {}), {}",
                r.op.describe(),
                r.level.map_or("–".into(), |l| l.to_string()),
                roi.w,
                roi.h,
                roi.x,
                roi.y,
                scope.label()
            ),
        }
    }

    /// Where the image viewer was drawn last frame, and where its split divider stands
    /// (0..1 of its width).
    pub fn viewer_geometry(&self) -> (egui::Rect, f32) {
        (self.viewer.rect, self.prefs.split)
    }

    /// The colour the overlay shows at image pixel `(x, y)` with the current style and
    /// opacity (what the viewer blends there); `None` without a current result.
    pub fn overlay_pixel(&self, x: usize, y: usize) -> Option<egui::Color32> {
        let img = self.image.as_ref()?;
        let res = self.result.as_ref().filter(|r| r.image_id == img.id)?;
        let o = img.layer.full.pixel(x, y)?;
        let rgb = if o.len() >= 3 {
            [o[0], o[1], o[2]]
        } else {
            [o[0]; 3]
        };
        let v = *res.layer.full.pixel(x, y)?.first()?;
        Some(crate::ui::view::overlay_colour(
            rgb,
            v,
            self.prefs.overlay_style,
            self.prefs.overlay_opacity,
        ))
    }

    /// Where on the screen the histogram shows `level` (x) and its plot's middle (y), as
    /// drawn last frame; `None` before the charts were drawn.
    pub fn histogram_point(&self, level: f64) -> Option<egui::Pos2> {
        let h = &self.histogram_input;
        (h.per_level > 0.0).then(|| egui::pos2(h.x0 + level as f32 * h.per_level, h.y_mid))
    }

    /// The text of the Path field.
    pub fn open_field_text(&self) -> &str {
        &self.open_field
    }

    /// Whether a load, job or save is running.
    pub fn is_busy(&self) -> bool {
        self.jobs.running.is_some() || self.jobs.loading.is_some() || self.jobs.saving.is_some()
    }

    pub fn is_loading(&self) -> bool {
        self.jobs.loading.is_some()
    }

    pub fn is_saving(&self) -> bool {
        self.jobs.saving.is_some()
    }

    /// The error shown in the window, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The last notice (saved file, ...), if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// How the newest job ended.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The finished runs (for the timing chart), oldest first.
    pub fn runs(&self) -> &[RunRecord] {
        &self.runs
    }

    /// Whether the overwrite confirmation is showing.
    pub fn confirming_overwrite(&self) -> Option<&Path> {
        self.confirm_overwrite.as_deref()
    }

    /// The pixel under the cursor in the last frame.
    pub fn hovered_pixel(&self) -> Option<(usize, usize)> {
        self.hover.map(|h| (h.x, h.y))
    }

    /// The viewer's zoom (screen points per image pixel).
    pub fn zoom(&self) -> f32 {
        self.viewer.zoom
    }

    /// Full-resolution tiles uploaded for the original and the result.
    pub fn tile_textures(&self) -> (usize, usize) {
        (
            self.image.as_ref().map_or(0, |i| i.layer.tile_count()),
            self.result.as_ref().map_or(0, |r| r.layer.tile_count()),
        )
    }

    fn preview_side(&self) -> usize {
        view::preview_side(self.max_texture_side)
    }

    /// Takes the reports of every background task, whatever tab is shown: the workbench's
    /// loads, jobs, saves and dialogs, the Batch tab's batch and the lab's sweep and exports.
    /// eframe calls this every frame (and while the window is hidden) through
    /// [`eframe::App::logic`].
    pub fn drain_background(&mut self) {
        self.handle_messages();
        self.batch.poll();
        self.lab.poll();
        self.tune.poll();
    }

    /// Stops the background work before the window closes: cancels the job, the batch and
    /// the sweep, and waits for the batch, the sweep, an export and a save to end, so that no
    /// temporary `.part` file is left behind. (A load or a file dialog is not waited for:
    /// neither writes, and an open dialog would wait for the user.) [`eframe::App::on_exit`]
    /// calls this.
    pub fn shutdown(&mut self) {
        self.cancel();
        self.close_try_all();
        self.batch.shutdown();
        self.lab.shutdown();
        self.tune.shutdown();
        self.jobs.wait_for_saves();
        self.handle_messages();
        if let Some(log) = &mut self.frame_log {
            log.finish();
        }
    }

    /// Background threads of the window not yet ended (or whose reports are not all taken):
    /// the workbench's tasks, a batch and a sweep or export.
    pub fn background_tasks(&self) -> usize {
        self.jobs.active_tasks()
            + usize::from(self.batch.is_running())
            + usize::from(self.lab.is_running())
            + usize::from(self.lab.is_exporting())
            + usize::from(self.tune.is_running())
    }

    /// The Tune tab.
    pub fn tune(&self) -> &TunePanel {
        &self.tune
    }

    /// The Tune tab, to set its fields.
    pub fn tune_mut(&mut self) -> &mut TunePanel {
        &mut self.tune
    }

    /// The open image's file and its ground truth's, when both are files (what the Tune tab
    /// searches on).
    pub fn image_and_truth(&self) -> Option<(PathBuf, PathBuf)> {
        let img = self.image.as_ref()?.origin.path()?.to_path_buf();
        Some((img, self.ground_truth()?.to_path_buf()))
    }

    /// The Batch tab.
    pub fn batch(&self) -> &BatchPanel {
        &self.batch
    }

    /// The Batch tab, to set its fields.
    pub fn batch_mut(&mut self) -> &mut BatchPanel {
        &mut self.batch
    }

    /// The Scaling lab tab.
    pub fn lab(&self) -> &LabPanel {
        &self.lab
    }

    /// The Scaling lab tab, to set its fields.
    pub fn lab_mut(&mut self) -> &mut LabPanel {
        &mut self.lab
    }

    /// Draws the whole window into `ui` (the root `Ui` of a frame) and runs its logic.
    pub fn show(&mut self, ui: &mut Ui) {
        let frame_start = Instant::now();
        self.max_texture_side = ui.ctx().input(|i| i.max_texture_side);
        // eframe's `logic` has drained the tasks already; this covers callers that only draw.
        self.drain_background();
        self.handle_dropped_files(ui.ctx());
        self.handle_keys(ui.ctx());
        self.update_title(ui.ctx());

        egui::Panel::top("tabs").show(ui, |ui| self.top_bar(ui));
        match self.prefs.tab {
            Tab::Workbench => {
                egui::Panel::left("controls")
                    .resizable(true)
                    .default_size(290.0)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
                    });
                if self.prefs.show_charts && self.image.is_some() {
                    egui::Panel::bottom("charts")
                        .resizable(true)
                        .default_size(230.0)
                        .show(ui, |ui| self.charts(ui));
                }
                egui::CentralPanel::default().show(ui, |ui| self.central(ui));
            }
            Tab::Batch => {
                self.batch.eval = self.eval_options();
                egui::CentralPanel::default().show(ui, |ui| {
                    self.batch.ui(ui, &self.prefs.settings, self.prefs.workers);
                });
            }
            Tab::Lab => {
                let image = self.source();
                self.lab.image_name = self.image_name();
                egui::CentralPanel::default().show(ui, |ui| {
                    self.lab.ui(ui, &self.prefs.settings, image);
                });
            }
            Tab::Tune => {
                let open = self.image_and_truth();
                let eval = self.eval_options();
                let (settings, workers) = (self.prefs.settings, self.prefs.workers);
                let apply = egui::CentralPanel::default()
                    .show(ui, |ui| self.tune.ui(ui, open, &settings, workers, eval))
                    .inner;
                if let Some(s) = apply {
                    self.prefs.settings = s;
                    self.prefs.tab = Tab::Workbench;
                    self.notice = Some(format!(
                        "Applied from Tune: {}",
                        s.to_op().map(|o| o.describe()).unwrap_or_default()
                    ));
                }
            }
        }
        self.overwrite_modal(ui.ctx());
        self.shortcut_sheet(ui.ctx());
        if self.prefs.tab == Tab::Workbench {
            self.try_all_window(ui.ctx());
        }
        self.commit_history(ui.ctx());
        self.reload_at_depth();
        self.maybe_redisplay();
        self.maybe_start_job();
        self.maybe_score();
        if self.jobs.running.is_some() || self.jobs.loading.is_some() {
            // Progress is also pushed by each tile; this keeps the bar moving between tiles.
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        if let Some(log) = &mut self.frame_log {
            log.frame(frame_start, self.jobs.running.is_some(), self.runs.len());
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.image {
            Some(i) => format!("{} — tessera", i.origin.name()),
            None => "tessera".to_owned(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if let Some(f) = dropped.first() {
            self.prefs.tab = Tab::Workbench;
            self.open_file(f.path().to_path_buf());
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        use egui::{Key, Modifiers};
        let (open, save, redo, undo) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND, Key::O),
                i.consume_key(Modifiers::COMMAND, Key::S),
                i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                    || i.consume_key(Modifiers::COMMAND, Key::Y),
                i.consume_key(Modifiers::COMMAND, Key::Z),
            )
        });
        if self.prefs.tab == Tab::Workbench && !ctx.text_edit_focused() {
            if undo {
                self.undo();
            }
            if redo {
                self.redo();
            }
        }
        if ctx.input(|i| {
            i.key_pressed(Key::F1)
                || i.events
                    .iter()
                    .any(|e| matches!(e, egui::Event::Text(t) if t == "?"))
        }) && !ctx.text_edit_focused()
        {
            self.show_shortcuts = !self.show_shortcuts;
        }
        if open {
            self.pick_open();
        }
        if save && self.result.is_some() {
            self.pick_save();
        }
        if ctx.text_edit_focused() || self.prefs.tab != Tab::Workbench {
            return;
        }
        let size = self.image_size().unwrap_or((1, 1));
        ctx.input(|i| {
            for (key, mode) in [
                (Key::R, ViewMode::Result),
                (Key::O, ViewMode::Original),
                (Key::S, ViewMode::Split),
                (Key::D, ViewMode::SideBySide),
                (Key::V, ViewMode::Overlay),
                (Key::E, ViewMode::Errors),
            ] {
                if i.key_pressed(key) && i.modifiers.is_none() {
                    self.prefs.view_mode = mode;
                }
            }
            if i.key_pressed(Key::F) {
                self.viewer.fit = true;
            }
            if i.key_pressed(Key::Num1) {
                self.viewer.one_to_one(i.pixels_per_point);
            }
            if i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals) {
                self.viewer.zoom_by(1.25, size);
            }
            if i.key_pressed(Key::Minus) {
                self.viewer.zoom_by(0.8, size);
            }
        });
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading(RichText::new("tessera").strong());
            ui.separator();
            for (tab, label, tip) in [
                (
                    Tab::Workbench,
                    "Workbench",
                    "Open one image, tune the operation with a live preview, compare and save",
                ),
                (
                    Tab::Batch,
                    "Batch",
                    "Process a whole folder with the same settings",
                ),
                (
                    Tab::Lab,
                    "Scaling lab",
                    "Time the operation across worker counts and tile sizes",
                ),
                (
                    Tab::Tune,
                    "Tune",
                    "Find the best method and parameters against ground truth",
                ),
            ] {
                ui.selectable_value(&mut self.prefs.tab, tab, label)
                    .on_hover_text(tip);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if self.prefs.tab == Tab::Workbench {
                    ui.toggle_value(&mut self.prefs.show_charts, "Charts")
                        .on_hover_text("Show or hide the histogram and timing chart");
                }
            });
        });
    }
}

impl eframe::App for Workbench {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs.lab = self.lab.settings();
        eframe::set_value(storage, STORAGE_KEY, &self.prefs);
    }

    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_background();
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.shutdown();
    }
}
