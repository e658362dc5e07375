//! The application state and its drawing: tabs, the workbench (controls, viewer, charts) and
//! the Batch and Scaling lab panels. All work runs in [`super::jobs`]; this file only keeps
//! state, reacts to reports and draws.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, RichText, Ui};
use image::GrayImage;
use serde::{Deserialize, Serialize};

use super::batch_panel::BatchPanel;
use super::charts::{self, Marker, RunRecord};
use super::frame_log::FrameLog;
use super::jobs::{ImageOrigin, Jobs, Msg, Pick};
use super::lab::LabPanel;
use super::view::{self, FullRes, Hover, Layer, ViewMode, Viewer, describe_pixel};
use crate::assets::SAMPLES;
use tessera_engine::io::{output_format, same_file};
use tessera_engine::ops::level::Histogram;
use tessera_engine::ops::{MAX_BLOCK_SIZE, Op, OpKind, OpSettings, ThresholdType};
use tessera_engine::pool::available_cores;
use tessera_engine::source::SourceImage;
use tessera_engine::{EngineError, JobConfig, JobStats, TileSize};

/// Key of the persisted preferences in eframe's storage.
pub const STORAGE_KEY: &str = "tessera-workbench";
/// Recent files kept.
pub const RECENT_MAX: usize = 10;

/// The tabs of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    #[default]
    Workbench,
    Batch,
    Lab,
}

/// Everything that persists between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub settings: OpSettings,
    pub workers: usize,
    pub tile: TileSize,
    /// The folder of the last file opened or saved.
    pub last_folder: Option<PathBuf>,
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    /// The image open when the window closed (reopened when no image is given).
    pub last_image: Option<PathBuf>,
    pub view_mode: ViewMode,
    /// Position of the split divider, 0..1 of the view's width.
    pub split: f32,
    pub show_charts: bool,
    pub histogram_log: bool,
    pub tab: Tab,
    /// Whether the window has run before (the first start opens the sample).
    pub started_before: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            settings: window_default_settings(),
            workers: available_cores(),
            tile: TileSize::Auto,
            last_folder: None,
            recent: Vec::new(),
            last_image: None,
            view_mode: ViewMode::Split,
            split: 0.5,
            show_charts: true,
            histogram_log: false,
            tab: Tab::Workbench,
            started_before: false,
        }
    }
}

impl Prefs {
    /// Brings values from an older or edited storage back into range.
    fn sanitize(&mut self) {
        self.workers = self.workers.clamp(1, max_workers());
        if let TileSize::Square(e) = self.tile {
            self.tile = TileSize::Square(e.clamp(MIN_TILE, MAX_TILE));
        }
        let s = &mut self.settings;
        if s.block_size < 3 || s.block_size.is_multiple_of(2) || s.block_size > MAX_BLOCK_SIZE {
            s.block_size = 11;
        }
        if !s.thresh.is_finite() {
            s.thresh = 127.0;
        }
        if !s.max_value.is_finite() {
            s.max_value = 255.0;
        }
        if !s.c.is_finite() {
            s.c = 2.0;
        }
        if !s.op.allowed_types().is_empty() && !s.op.allowed_types().contains(&s.kind) {
            s.kind = ThresholdType::Binary;
        }
        if !self.split.is_finite() {
            self.split = 0.5;
        }
        self.split = self.split.clamp(0.0, 1.0);
        self.recent.truncate(RECENT_MAX);
    }

    fn remember_file(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(RECENT_MAX);
        self.last_image = Some(path.to_path_buf());
        if let Some(dir) = path.parent() {
            self.last_folder = Some(dir.to_path_buf());
        }
    }
}

/// The parameters the window starts with: adaptive Gaussian with block 25 and C 10, which
/// suit photographed pages better than OpenCV's textbook 11 / 2 (that keeps paper grain).
pub fn window_default_settings() -> OpSettings {
    OpSettings {
        block_size: 25,
        c: 10.0,
        ..OpSettings::default()
    }
}

/// Smallest and largest tile edge offered.
pub const MIN_TILE: u32 = 16;
pub const MAX_TILE: u32 = 8192;

/// The most workers offered: twice the cores.
pub fn max_workers() -> usize {
    2 * available_cores()
}

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
    histogram: Histogram,
    layer: Layer,
    decode_time: Duration,
}

struct ResultView {
    image_id: u64,
    image: Arc<GrayImage>,
    level: Option<u8>,
    stats: JobStats,
    settings: OpSettings,
    op: Op,
    megapixels: f64,
    layer: Layer,
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
}

/// The whole window's state.
pub struct Workbench {
    pub prefs: Prefs,
    ctx: egui::Context,
    jobs: Jobs,
    image: Option<OpenImage>,
    result: Option<ResultView>,
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
    max_texture_side: usize,
    last_request: Option<Request>,
    /// Wall time of the last job that delivered a result (decides whether a change waits for
    /// the running job or cancels it).
    last_job_wall: Option<Duration>,
    nonce: u64,
    image_counter: u64,
    hover: Option<Hover>,
    dialog_started: Option<Instant>,
    frame_log: Option<FrameLog>,
    title: String,
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
            max_texture_side: ctx.input(|i| i.max_texture_side),
            last_request: None,
            last_job_wall: None,
            nonce: 0,
            image_counter: 0,
            hover: None,
            dialog_started: None,
            frame_log: FrameLog::from_env(),
            title: String::new(),
            prefs,
        };
        let first = !app.prefs.started_before;
        app.prefs.started_before = true;
        match startup {
            Startup::Path(p) => app.open_file(p),
            Startup::Sample => app.open_sample(0),
            Startup::Default => match app.prefs.last_image.clone() {
                Some(p) if !first && p.is_file() => app.open_file(p),
                _ => app.open_sample(0),
            },
            Startup::Nothing => {}
        }
        app
    }

    // ---- state for tests and callers -------------------------------------------------------

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

    /// The open image (shared with the Scaling lab).
    pub fn source(&self) -> Option<Arc<SourceImage>> {
        self.image.as_ref().map(|i| i.source.clone())
    }

    /// The newest finished result and the settings it was computed with.
    pub fn result(&self) -> Option<(&GrayImage, &OpSettings, usize)> {
        self.result
            .as_ref()
            .map(|r| (r.image.as_ref(), &r.settings, r.stats.workers))
    }

    /// The level Otsu or triangle found for the shown result.
    pub fn found_level(&self) -> Option<u8> {
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

    // ---- actions ---------------------------------------------------------------------------

    fn preview_side(&self) -> usize {
        view::preview_side(self.max_texture_side)
    }

    /// Opens an image file (decoded in the background; the current image stays until then).
    pub fn open_file(&mut self, path: PathBuf) {
        let side = self.preview_side();
        self.jobs.load(ImageOrigin::File(path), None, side);
    }

    /// Opens the embedded sample number `i`.
    pub fn open_sample(&mut self, i: usize) {
        let Some(s) = SAMPLES.get(i) else { return };
        let side = self.preview_side();
        self.jobs
            .load(ImageOrigin::Sample(s.name), Some(s.bytes), side);
    }

    /// Cancels the running job.
    pub fn cancel(&mut self) {
        if self.jobs.cancel() {
            self.outcome = Outcome::Cancelled;
        }
    }

    fn default_save_name(&self) -> String {
        let stem = self
            .image
            .as_ref()
            .map(|i| match &i.origin {
                ImageOrigin::File(p) => p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "image".into()),
                ImageOrigin::Sample(n) => n.trim_end_matches(".png").to_owned(),
            })
            .unwrap_or_else(|| "result".into());
        let op = self
            .result
            .as_ref()
            .map_or(self.prefs.settings.op, |r| r.settings.op);
        format!("{stem}-{}.png", op.name())
    }

    fn save_folder(&self) -> Option<PathBuf> {
        self.prefs.last_folder.clone().or_else(|| {
            self.image
                .as_ref()
                .and_then(|i| i.origin.path())
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        })
    }

    /// Saves the shown result to `path` (PNG if it has no extension): refuses the input file,
    /// asks before replacing another existing file, writes in the background.
    pub fn request_save(&mut self, path: PathBuf) {
        let Some(res) = &self.result else {
            self.error = Some("Nothing to save yet: no result has been computed.".into());
            return;
        };
        let mut path = path;
        if path.as_os_str().is_empty() {
            self.error = Some("Type a file name to save to.".into());
            return;
        }
        if path.extension().is_none() {
            path.set_extension("png");
        }
        if let Err(e) = output_format(&path) {
            self.error = Some(e.to_string());
            return;
        }
        if let Some(input) = self.image.as_ref().and_then(|i| i.origin.path())
            && same_file(input, &path)
        {
            self.error = Some(format!(
                "Refusing to overwrite the input image {}: choose another file name.",
                path.display()
            ));
            return;
        }
        if path.exists() {
            self.confirm_overwrite = Some(path);
            return;
        }
        let image = res.image.clone();
        self.start_save(image, path);
    }

    fn start_save(&mut self, image: Arc<GrayImage>, path: PathBuf) {
        self.save_field = path.display().to_string();
        self.notice = Some(format!("Saving {}…", path.display()));
        self.jobs.save(image, path);
    }

    /// Confirms (or not) replacing the file the save asked about.
    pub fn confirm_overwrite(&mut self, yes: bool) {
        if let Some(path) = self.confirm_overwrite.take()
            && yes
            && let Some(res) = &self.result
        {
            let image = res.image.clone();
            self.start_save(image, path);
        }
    }

    // ---- background reports ----------------------------------------------------------------

    fn handle_messages(&mut self) {
        while let Some(msg) = self.jobs.try_recv() {
            match msg {
                Msg::Loaded { request, result } => {
                    if !self.jobs.is_current_load(request) {
                        continue;
                    }
                    let name = self.jobs.loading.take().map(|l| l.1).unwrap_or_default();
                    match result {
                        Ok(loaded) => {
                            self.image_counter += 1;
                            let layer = Layer::new(
                                &self.ctx,
                                &format!("original-{}", self.image_counter),
                                FullRes::Source(loaded.source.clone()),
                                loaded.preview,
                                self.max_texture_side,
                            );
                            if let ImageOrigin::File(p) = &loaded.origin {
                                self.prefs.remember_file(p);
                                self.open_field = p.display().to_string();
                            }
                            self.error = None;
                            self.result = None;
                            self.save_field.clear();
                            self.image = Some(OpenImage {
                                id: self.image_counter,
                                origin: loaded.origin,
                                source: loaded.source,
                                histogram: loaded.histogram,
                                layer,
                                decode_time: loaded.decode_time,
                            });
                        }
                        Err(e) => {
                            let kept = if self.image.is_some() {
                                " The previous image stays open."
                            } else {
                                ""
                            };
                            self.error = Some(format!("Could not open {name}: {e}.{kept}"));
                        }
                    }
                }
                Msg::Processed { generation, result } => {
                    if !self.jobs.is_current_job(generation) {
                        continue;
                    }
                    let wall = self.jobs.running.take().map(|r| r.started.elapsed());
                    match result {
                        Ok(p) => {
                            self.last_job_wall = wall;
                            self.accept_result(*p)
                        }
                        Err(EngineError::Cancelled) => self.outcome = Outcome::Cancelled,
                        Err(e) => {
                            self.outcome = Outcome::Failed(e.to_string());
                            self.error = Some(format!("Processing failed: {e}"));
                        }
                    }
                }
                Msg::Saved { path, result } => {
                    self.jobs.saving = None;
                    match result {
                        Ok(t) => {
                            self.notice = Some(format!(
                                "Saved {} ({:.0} ms).",
                                path.display(),
                                t.as_secs_f64() * 1e3
                            ));
                            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                                self.prefs.last_folder = Some(dir.to_path_buf());
                            }
                        }
                        Err(e) => {
                            self.notice = None;
                            self.error = Some(format!("Could not save: {e}"));
                        }
                    }
                }
                Msg::Picked { pick, path } => {
                    self.jobs.dialog_open = false;
                    let quick = self
                        .dialog_started
                        .take()
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(400));
                    match (pick, path) {
                        (Pick::Open, Some(p)) => self.open_file(p),
                        (Pick::Save, Some(p)) => self.request_save(p),
                        (_, None) if quick => {
                            self.notice = Some(
                                "No file dialog is available here (no desktop portal): type \
                                 a path in the field instead."
                                    .into(),
                            )
                        }
                        (_, None) => {}
                    }
                }
            }
        }
    }

    fn accept_result(&mut self, p: super::jobs::Processed) {
        let Some(img) = &self.image else { return };
        let layer = Layer::new(
            &self.ctx,
            &format!("result-{}", p.generation),
            FullRes::Gray(p.image.clone()),
            p.preview,
            self.max_texture_side,
        );
        let tile_label = match p.tile {
            TileSize::Auto => "auto".to_owned(),
            TileSize::Square(e) => format!("{e}"),
        };
        self.runs.push(RunRecord {
            image_id: img.id,
            image_name: img.origin.name(),
            op: p.op.describe(),
            workers: p.stats.workers,
            tile_label,
            tile: p.stats.tile,
            tiles: p.stats.tiles,
            compute: p.stats.compute,
            megapixels: p.megapixels,
        });
        if self.runs.len() > RUNS_KEPT {
            self.runs.remove(0);
        }
        self.outcome = Outcome::Done;
        self.result = Some(ResultView {
            image_id: img.id,
            image: p.image,
            level: p.level,
            stats: p.stats,
            settings: p.settings,
            op: p.op,
            megapixels: p.megapixels,
            layer,
        });
    }

    /// Starts a job when the image or the settings changed since the last one (see
    /// [`QUICK_JOB`] for when it waits for the running one).
    fn maybe_start_job(&mut self) {
        let Some(img) = &self.image else { return };
        let want = Request {
            image_id: img.id,
            settings: self.prefs.settings,
            workers: self.prefs.workers,
            tile: self.prefs.tile,
            nonce: self.nonce,
        };
        if self.last_request == Some(want) {
            return;
        }
        // A quick job on the same image still running is let finish, and the newest settings
        // start right after it (a repaint comes with its result): while a slider is dragged
        // the view then follows at the job's own rate, instead of every change cancelling the
        // job before it can show anything. A slow job (over QUICK_JOB last time) is cancelled
        // and restarted at once, as before, so a change never waits long behind a stale job.
        let same_image = self
            .last_request
            .is_some_and(|r| r.image_id == want.image_id);
        let quick = self.last_job_wall.is_none_or(|d| d <= QUICK_JOB);
        if let Some(running) = &self.jobs.running
            && same_image
            && quick
            && running.started.elapsed() < 2 * QUICK_JOB
        {
            self.ctx.request_repaint_after(Duration::from_millis(20));
            return;
        }
        if !same_image {
            self.last_job_wall = None;
        }
        self.last_request = Some(want);
        match self.prefs.settings.to_op() {
            Ok(op) => {
                self.invalid = None;
                let source = img.source.clone();
                let cfg = JobConfig {
                    workers: self.prefs.workers,
                    tile: self.prefs.tile,
                };
                let side = self.preview_side();
                self.jobs
                    .process(source, self.prefs.settings, op, cfg, side);
                self.outcome = Outcome::Running;
            }
            Err(e) => {
                self.jobs.cancel();
                self.invalid = Some(e.to_string());
            }
        }
    }

    // ---- drawing ---------------------------------------------------------------------------

    /// Draws the whole window into `ui` (the root `Ui` of a frame) and runs its logic.
    pub fn show(&mut self, ui: &mut Ui) {
        let frame_start = Instant::now();
        self.max_texture_side = ui.ctx().input(|i| i.max_texture_side);
        self.handle_messages();
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
                egui::CentralPanel::default().show(ui, |ui| {
                    self.batch.ui(ui, &self.prefs.settings, self.prefs.workers);
                });
            }
            Tab::Lab => {
                let image = self.source();
                egui::CentralPanel::default().show(ui, |ui| {
                    self.lab.ui(ui, &self.prefs.settings, image);
                });
            }
        }
        self.overwrite_modal(ui.ctx());
        self.maybe_start_job();
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
        let (open, save) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND, Key::O),
                i.consume_key(Modifiers::COMMAND, Key::S),
            )
        });
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

    fn pick_open(&mut self) {
        self.dialog_started = Some(Instant::now());
        let folder = self.prefs.last_folder.clone();
        self.jobs.pick_file(Pick::Open, folder, None);
    }

    fn pick_save(&mut self) {
        self.dialog_started = Some(Instant::now());
        let folder = self.save_folder();
        let name = self.default_save_name();
        self.jobs.pick_file(Pick::Save, folder, Some(name));
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

    fn controls(&mut self, ui: &mut Ui) {
        ui.add_space(4.0);
        ui.strong("Image");
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Open…")
                .on_hover_text(
                    "Choose an image file (Ctrl+O). You can also drop a file on the window.",
                )
                .clicked()
            {
                self.pick_open();
            }
            ui.menu_button("Recent", |ui| {
                if self.prefs.recent.is_empty() {
                    ui.label("No recent files");
                }
                let mut chosen = None;
                for p in &self.prefs.recent {
                    let exists = p.is_file();
                    let name = p
                        .file_name()
                        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into());
                    if ui
                        .add_enabled(exists, egui::Button::new(name))
                        .on_hover_text(p.display().to_string())
                        .on_disabled_hover_text(format!("{} (missing)", p.display()))
                        .clicked()
                    {
                        chosen = Some(p.clone());
                        ui.close();
                    }
                }
                if !self.prefs.recent.is_empty() && ui.button("Clear list").clicked() {
                    self.prefs.recent.clear();
                    ui.close();
                }
                if let Some(p) = chosen {
                    self.open_file(p);
                }
            })
            .response
            .on_hover_text("Reopen one of the last images");
            ui.menu_button("Samples", |ui| {
                for (i, s) in SAMPLES.iter().enumerate() {
                    if ui.button(s.name).on_hover_text(s.description).clicked() {
                        self.open_sample(i);
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Open an image embedded in tessera");
        });
        ui.horizontal(|ui| {
            let l = ui.label("Path");
            let field = egui::TextEdit::singleline(&mut self.open_field)
                .hint_text("/path/to/image.png")
                .desired_width((ui.available_width() - 64.0).max(80.0));
            let r = ui
                .add(field)
                .on_hover_text("Type or paste the path of an image, then press Enter or Open")
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .button("Open")
                .on_hover_text("Open the image at the typed path")
                .clicked()
                || enter
            {
                let p = PathBuf::from(self.open_field.trim());
                if !p.as_os_str().is_empty() {
                    self.open_file(p);
                }
            }
        });
        if let Some((_, name)) = &self.jobs.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Opening {name}…"));
            });
        }
        if let Some(img) = &self.image {
            let s = &img.source;
            let color = s.color.split(' ').take(2).collect::<Vec<_>>().join(" ");
            let details = format!(
                "{}\n{}, decoded in {:.0} ms",
                img.origin
                    .path()
                    .map_or_else(|| img.origin.name(), |p| p.display().to_string()),
                s.color,
                img.decode_time.as_secs_f64() * 1e3
            );
            ui.add(egui::Label::new(RichText::new(img.origin.name()).small()).truncate())
                .on_hover_text(&details);
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "{}×{} · {:.1} MP · {color}",
                        s.width(),
                        s.height(),
                        s.megapixels(),
                    ))
                    .small(),
                )
                .truncate(),
            )
            .on_hover_text(details);
        }
        ui.separator();
        self.op_controls(ui);
        ui.separator();
        self.exec_controls(ui);
        ui.separator();
        self.job_status(ui);
        ui.separator();
        self.save_controls(ui);
    }

    fn op_controls(&mut self, ui: &mut Ui) {
        ui.strong("Operation");
        let s = &mut self.prefs.settings;
        egui::Grid::new("op-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let l = ui.label("Method");
                egui::ComboBox::from_id_salt("operation")
                    .selected_text(s.op.label())
                    .width(170.0)
                    .show_ui(ui, |ui| {
                        for k in OpKind::ALL {
                            ui.selectable_value(&mut s.op, k, k.label())
                                .on_hover_text(op_tooltip(k));
                        }
                    })
                    .response
                    .on_hover_text(
                        "What to compute: grayscale only, a fixed or automatic (Otsu, \
                         triangle) global threshold, or an adaptive threshold against the \
                         local mean",
                    )
                    .labelled_by(l.id);
                ui.end_row();

                let allowed = s.op.allowed_types();
                if !allowed.is_empty() && !allowed.contains(&s.kind) {
                    s.kind = ThresholdType::Binary;
                }
                let l = ui.label("Type");
                ui.add_enabled_ui(!allowed.is_empty(), |ui| {
                    egui::ComboBox::from_id_salt("threshold-type")
                        .selected_text(type_label(s.kind))
                        .width(170.0)
                        .show_ui(ui, |ui| {
                            for &t in allowed {
                                ui.selectable_value(&mut s.kind, t, type_label(t))
                                    .on_hover_text(type_tooltip(t));
                            }
                        })
                        .response
                        .on_hover_text(
                            "What passing and failing pixels become (OpenCV's threshold \
                             types; the adaptive methods allow binary and inverted binary)",
                        )
                        .on_disabled_hover_text("Grayscale has no threshold type")
                        .labelled_by(l.id);
                });
                ui.end_row();

                let l = ui.label("Threshold");
                ui.add_enabled(
                    s.op.uses_thresh(),
                    egui::Slider::new(&mut s.thresh, 0.0..=255.0).step_by(1.0),
                )
                .on_hover_text("Fixed level: pixels brighter than this pass (fixed threshold only)")
                .on_disabled_hover_text(match s.op {
                    OpKind::Otsu | OpKind::Triangle => {
                        "Otsu and triangle find the level themselves (shown below)"
                    }
                    _ => "Only the fixed threshold uses a level",
                })
                .labelled_by(l.id);
                ui.end_row();

                let l = ui.label("Max value");
                ui.add_enabled(
                    s.op != OpKind::Gray,
                    egui::Slider::new(&mut s.max_value, 0.0..=255.0).step_by(1.0),
                )
                .on_hover_text("The value given to passing pixels (binary types)")
                .labelled_by(l.id);
                ui.end_row();

                let l = ui.label("Block size");
                let mut block = s.block_size.clamp(3, 255);
                let r = ui
                    .add_enabled(
                        s.op.uses_block(),
                        egui::Slider::new(&mut block, 3..=255).step_by(2.0),
                    )
                    .on_hover_text(
                        "Side of the square neighbourhood the adaptive level is computed over \
                         (odd, in pixels). Larger blocks follow slower lighting changes.",
                    )
                    .on_disabled_hover_text("Only the adaptive methods use a block")
                    .labelled_by(l.id);
                if r.changed() || block != s.block_size.clamp(3, 255) {
                    s.block_size = block | 1;
                }
                ui.end_row();

                let l = ui.label("C");
                ui.add_enabled(
                    s.op.uses_block(),
                    egui::Slider::new(&mut s.c, -50.0..=50.0).step_by(0.5),
                )
                .on_hover_text(
                    "Subtracted from the local mean: a pixel passes when it is brighter than \
                     the mean minus C. Larger C: fewer dark pixels.",
                )
                .on_disabled_hover_text("Only the adaptive methods use C")
                .labelled_by(l.id);
                ui.end_row();
            });
        if matches!(self.prefs.settings.op, OpKind::Otsu | OpKind::Triangle) {
            let text = match (&self.result, self.jobs.running.is_some()) {
                (Some(r), false) if r.settings.op == self.prefs.settings.op => {
                    format!(
                        "Level found: {}",
                        r.level.map_or("–".into(), |l| l.to_string())
                    )
                }
                _ => "Level found: computing…".to_owned(),
            };
            ui.label(
                RichText::new(text)
                    .strong()
                    .color(Color32::from_rgb(255, 120, 100)),
            )
            .on_hover_text("The global threshold the automatic method chose for this image");
        }
        if let Some(e) = &self.invalid {
            ui.colored_label(Color32::from_rgb(255, 110, 90), e);
        }
        if ui
            .small_button("Reset parameters")
            .on_hover_text("Back to the defaults: adaptive Gaussian, binary, block 25, C 10")
            .clicked()
        {
            self.prefs.settings = window_default_settings();
        }
    }

    fn exec_controls(&mut self, ui: &mut Ui) {
        ui.strong("Execution");
        let cores = available_cores();
        egui::Grid::new("exec-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let l = ui.label("Workers");
                ui.add(egui::Slider::new(
                    &mut self.prefs.workers,
                    1..=max_workers(),
                ))
                .labelled_by(l.id)
                .on_hover_text(format!(
                    "How many threads process the tiles of the image ({cores} cores here; \
                         up to twice that to see the cost of oversubscription)"
                ));
                ui.end_row();

                let l = ui.label("Tiles");
                ui.horizontal(|ui| {
                    let mut auto = self.prefs.tile == TileSize::Auto;
                    if ui
                        .checkbox(&mut auto, "auto")
                        .on_hover_text(
                            "Let the engine choose: full-width strips, about four per worker",
                        )
                        .changed()
                    {
                        self.prefs.tile = if auto {
                            TileSize::Auto
                        } else {
                            TileSize::Square(256)
                        };
                    }
                    let mut edge = match self.prefs.tile {
                        TileSize::Square(e) => e,
                        TileSize::Auto => 256,
                    };
                    let r = ui
                        .add_enabled(
                            !auto,
                            egui::DragValue::new(&mut edge)
                                .range(MIN_TILE..=MAX_TILE)
                                .speed(4.0)
                                .suffix(" px"),
                        )
                        .on_hover_text("Edge of the square tiles in pixels (untick auto to set it)")
                        .labelled_by(l.id);
                    if r.changed() && !auto {
                        self.prefs.tile = TileSize::Square(edge);
                    }
                });
                ui.end_row();
            });
    }

    fn job_status(&mut self, ui: &mut Ui) {
        ui.strong("Job");
        if let Some(r) = &self.jobs.running {
            let (done, total) = r.control.progress();
            let frac = if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            };
            ui.add(
                egui::ProgressBar::new(frac)
                    .text(format!("{done} / {total} tiles"))
                    .animate(true),
            )
            .on_hover_text("Tiles done over all stages of the running job");
        } else {
            let text = match &self.outcome {
                Outcome::Idle => "Waiting for an image".to_owned(),
                Outcome::Running => "Starting…".to_owned(),
                Outcome::Done => "Done".to_owned(),
                Outcome::Cancelled => "Cancelled".to_owned(),
                Outcome::Failed(e) => format!("Failed: {e}"),
            };
            ui.add(
                egui::ProgressBar::new(if self.outcome == Outcome::Done {
                    1.0
                } else {
                    0.0
                })
                .text(text),
            );
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.jobs.running.is_some(), egui::Button::new("Cancel"))
                .on_hover_text("Stop the running job; the previous result stays on screen")
                .clicked()
            {
                self.cancel();
            }
            if ui
                .add_enabled(self.image.is_some(), egui::Button::new("Run again"))
                .on_hover_text("Run the same job again (adds a point to the timing chart)")
                .clicked()
            {
                self.nonce += 1;
            }
        });
        if let Some(r) = &self.result {
            let st = &r.stats;
            let ms = st.compute.as_secs_f64() * 1e3;
            ui.label(
                RichText::new(format!(
                    "Last job: {ms:.1} ms · {} worker{} · {} tiles of {} · {:.0} MP/s",
                    st.workers,
                    if st.workers == 1 { "" } else { "s" },
                    st.tiles,
                    st.tile,
                    r.megapixels / st.compute.as_secs_f64().max(1e-9)
                ))
                .small(),
            )
            .on_hover_text(format!(
                "{} on {:.2} MP; compute time only (decode and display not included)",
                r.op.describe(),
                r.megapixels
            ));
        }
    }

    fn save_controls(&mut self, ui: &mut Ui) {
        ui.strong("Output");
        let has = self.result.is_some();
        if ui
            .add_enabled(has, egui::Button::new("Save result…"))
            .on_hover_text(
                "Choose where to save the result (Ctrl+S). PNG by default; the extension picks \
                 the format (png, jpg, tif, bmp, webp, pgm).",
            )
            .on_disabled_hover_text("No result to save yet")
            .clicked()
        {
            self.pick_save();
        }
        ui.horizontal(|ui| {
            if has && (self.save_field.is_empty() || self.save_field == self.save_field_auto) {
                let dir = self
                    .save_folder()
                    .or_else(|| std::env::current_dir().ok())
                    .unwrap_or_else(|| PathBuf::from("."));
                self.save_field = dir.join(self.default_save_name()).display().to_string();
                self.save_field_auto = self.save_field.clone();
            }
            let l = ui.label("To");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.save_field)
                        .hint_text("/path/to/result.png")
                        .desired_width((ui.available_width() - 64.0).max(80.0)),
                )
                .on_hover_text("Path to save the result to; the extension picks the format")
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .add_enabled(has && self.jobs.saving.is_none(), egui::Button::new("Save"))
                .on_hover_text("Save the result to the typed path")
                .clicked()
                || (enter && has)
            {
                let p = PathBuf::from(self.save_field.trim());
                self.request_save(p);
            }
        });
        if let Some(n) = &self.notice {
            ui.label(RichText::new(n).small());
        }
    }

    fn overwrite_modal(&mut self, ctx: &egui::Context) {
        let Some(path) = self.confirm_overwrite.clone() else {
            return;
        };
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("confirm-overwrite")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Replace the file?");
            ui.label(format!("{} already exists.", path.display()));
            ui.horizontal(|ui| {
                if ui
                    .button("Replace")
                    .on_hover_text("Overwrite the existing file")
                    .clicked()
                {
                    answer = Some(true);
                }
                if ui.button("Keep it").on_hover_text("Do not save").clicked() {
                    answer = Some(false);
                }
            });
        });
        if let Some(a) = answer {
            self.confirm_overwrite(a);
        }
    }

    fn charts(&mut self, ui: &mut Ui) {
        let Some(img) = &self.image else { return };
        let level = self
            .result
            .as_ref()
            .filter(|r| r.image_id == img.id && r.settings.op == self.prefs.settings.op)
            .and_then(|r| r.level);
        let marker = Marker::for_settings(&self.prefs.settings, level);
        let op = self
            .prefs
            .settings
            .to_op()
            .map(|o| o.describe())
            .unwrap_or_default();
        let id = img.id;
        ui.columns(2, |cols| {
            charts::histogram(
                &mut cols[0],
                &img.histogram,
                marker,
                &mut self.prefs.histogram_log,
            );
            charts::timing(&mut cols[1], &self.runs, id, &op, max_workers());
        });
    }

    fn central(&mut self, ui: &mut Ui) {
        if let Some(e) = self.error.clone() {
            egui::Frame::new()
                .fill(Color32::from_rgb(90, 30, 30))
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(e.to_string()).color(Color32::WHITE));
                        if ui
                            .small_button("Dismiss")
                            .on_hover_text("Hide this message")
                            .clicked()
                        {
                            self.error = None;
                        }
                    });
                });
        }
        let Some(img) = &mut self.image else {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() / 3.0);
                if self.jobs.loading.is_some() {
                    ui.spinner();
                    ui.label("Opening the image…");
                } else {
                    ui.heading("Open an image to start");
                    ui.label("Use Open… (Ctrl+O), drop a file on the window, or pick a sample.");
                }
            });
            return;
        };
        let size = (img.source.width(), img.source.height());
        ui.horizontal(|ui| {
            for m in ViewMode::ALL {
                ui.selectable_value(&mut self.prefs.view_mode, m, m.label())
                    .on_hover_text(m.tooltip());
            }
            ui.separator();
            if ui
                .button("−")
                .on_hover_text("Zoom out (−, or the mouse wheel)")
                .clicked()
            {
                self.viewer.zoom_by(0.8, size);
            }
            if ui
                .button("+")
                .on_hover_text("Zoom in (+, or the mouse wheel)")
                .clicked()
            {
                self.viewer.zoom_by(1.25, size);
            }
            if ui
                .selectable_label(self.viewer.fit, "Fit")
                .on_hover_text("Fit the whole image in the view (F, or double-click)")
                .clicked()
            {
                self.viewer.fit = true;
            }
            if ui
                .button("1:1")
                .on_hover_text("One image pixel per screen pixel (1)")
                .clicked()
            {
                let ppp = ui.ctx().pixels_per_point();
                self.viewer.one_to_one(ppp);
            }
            let ppp = ui.ctx().pixels_per_point();
            ui.label(format!("{:.0}%", self.viewer.zoom * ppp * 100.0))
                .on_hover_text("Zoom: screen pixels per image pixel");
            if self.prefs.view_mode == ViewMode::Split {
                ui.separator();
                ui.add(
                    egui::Slider::new(&mut self.prefs.split, 0.0..=1.0)
                        .show_value(false)
                        .text("divider"),
                )
                .on_hover_text("Where the divider between original and result stands");
            }
        });
        let peek =
            ui.ctx().input(|i| i.key_down(egui::Key::Space)) && !ui.ctx().text_edit_focused();
        let mode = if peek {
            ViewMode::Original
        } else {
            self.prefs.view_mode
        };
        let busy = self.jobs.running.is_some();
        let avail = ui.available_size();
        let viewer_size = egui::vec2(avail.x, (avail.y - 24.0).max(50.0));
        let result_layer = self
            .result
            .as_mut()
            .filter(|r| r.image_id == img.id)
            .map(|r| &mut r.layer);
        let (hover, _) = ui
            .allocate_ui(viewer_size, |ui| {
                self.viewer.show(
                    ui,
                    &mut img.layer,
                    result_layer,
                    mode,
                    &mut self.prefs.split,
                    busy,
                )
            })
            .inner;
        self.hover = hover;
        let readout = match hover {
            Some(h) => {
                let orig = img
                    .layer
                    .full
                    .pixel(h.x, h.y)
                    .map(describe_pixel)
                    .unwrap_or_default();
                let res = self
                    .result
                    .as_ref()
                    .filter(|r| r.image_id == img.id)
                    .and_then(|r| r.layer.full.pixel(h.x, h.y))
                    .map(describe_pixel)
                    .unwrap_or_else(|| "–".into());
                format!("x {} y {}   original {orig}   result {res}", h.x, h.y)
            }
            None => "Point at the image to read pixel values · wheel: zoom · drag: pan · \
                     double-click: fit · hold Space: original"
                .to_owned(),
        };
        ui.label(RichText::new(readout).monospace());
    }
}

fn type_label(t: ThresholdType) -> &'static str {
    match t {
        ThresholdType::Binary => "Binary",
        ThresholdType::BinaryInv => "Binary inverted",
        ThresholdType::Trunc => "Truncate",
        ThresholdType::ToZero => "To zero",
        ThresholdType::ToZeroInv => "To zero inverted",
    }
}

fn type_tooltip(t: ThresholdType) -> &'static str {
    match t {
        ThresholdType::Binary => "Passing pixels become max value, the others 0",
        ThresholdType::BinaryInv => "Passing pixels become 0, the others max value",
        ThresholdType::Trunc => "Passing pixels become the level, the others stay",
        ThresholdType::ToZero => "Passing pixels stay, the others become 0",
        ThresholdType::ToZeroInv => "Passing pixels become 0, the others stay",
    }
}

fn op_tooltip(k: OpKind) -> &'static str {
    match k {
        OpKind::Gray => "Convert to 8-bit gray (OpenCV cvtColor RGB2GRAY)",
        OpKind::Threshold => "One fixed level for the whole image",
        OpKind::Otsu => "One level chosen by Otsu's method (best split of the histogram)",
        OpKind::Triangle => {
            "One level chosen by the triangle method (good for one-peak histograms)"
        }
        OpKind::AdaptiveMean => "A level per pixel: the mean of its block minus C",
        OpKind::AdaptiveGaussian => {
            "A level per pixel: the Gaussian-weighted mean of its block minus C"
        }
    }
}

impl eframe::App for Workbench {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.prefs);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.jobs.cancel();
        if let Some(log) = &mut self.frame_log {
            log.finish();
        }
    }
}
