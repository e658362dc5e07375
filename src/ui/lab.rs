//! The Scaling lab tab: sweep the open image (or the sample) over worker counts and tile
//! sizes, and compare speedups visually.
//!
//! The sweep runs as a background [`Task`] ([`tessera_engine::sweep::run`]); it reports through the
//! task, which wakes the window, and the UI thread reads its progress from the shared
//! [`Control`]. The window drains the panel ([`LabPanel::poll`]) every frame, whatever
//! tab is shown, and cancels and waits for a running sweep at exit ([`LabPanel::shutdown`]).
//! Finished sweeps stay in a session history; each has a checkbox that overlays it on the
//! time, speedup and efficiency charts. The table, the tile heat map and the Gantt timeline
//! show the selected sweep. Exports (CSV, JSON, PNG charts, in the `export` module) go to the path in
//! the export field, which the Browse button fills from a save dialog.

pub mod charts;
mod export;

pub use export::Export;

use std::path::PathBuf;
use std::sync::Arc;

use crate::ui::dialog::PendingDialog;
use crate::ui::task::{Reporter, Task};
use tessera_engine::Control;
use tessera_engine::EngineError;
use tessera_engine::ops::OpSettings;
use tessera_engine::pool::available_cores;
use tessera_engine::source::SourceImage;
use tessera_engine::sweep::{
    self, ImageWorkload, Summary, SweepConfig, SweepResult, Workload, folder::FolderWorkload,
};

/// A finished sweep kept in the session history.
pub struct SweepEntry {
    /// 1-based number in the session.
    pub number: usize,
    /// `#1 chelsea.png, adaptive-gaussian` (unique within the session).
    pub label: String,
    pub result: Arc<SweepResult>,
    pub summary: Summary,
    /// Intervals, models, noise warnings and the verdict.
    pub inference: sweep::inference::Inference,
    /// Overlaid on the charts.
    pub visible: bool,
}

struct Running {
    ctl: Arc<Control>,
    /// Sends the sweep's result, once.
    task: Task<Result<SweepResult, EngineError>>,
    label: String,
}

/// How often the window redraws while a sweep runs.
const SWEEP_REPAINT: std::time::Duration = std::time::Duration::from_millis(500);

/// What the lab's main area shows: the summary (verdict and speedup chart) first, each
/// other view one click away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabView {
    Summary,
    Table,
    Time,
    Efficiency,
    Tiles,
    Timeline,
    Everything,
}

impl LabView {
    /// In the order of the view bar.
    pub const ALL: [LabView; 7] = [
        LabView::Summary,
        LabView::Table,
        LabView::Time,
        LabView::Efficiency,
        LabView::Tiles,
        LabView::Timeline,
        LabView::Everything,
    ];

    /// The view bar's label.
    pub fn name(self) -> &'static str {
        match self {
            LabView::Summary => "Summary",
            LabView::Table => "Table",
            LabView::Time => "Time",
            LabView::Efficiency => "Efficiency",
            LabView::Tiles => "Tile sizes",
            LabView::Timeline => "Timeline",
            LabView::Everything => "All on one page",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            LabView::Summary => {
                "The verdict and the speedup chart: ideal line, 95 % intervals, fitted models, \
                 memory ceiling"
            }
            LabView::Table => "Every configuration of the selected sweep, with its statistics",
            LabView::Time => "Median time against workers, every shown sweep overlaid",
            LabView::Efficiency => "Speedup per worker, every shown sweep overlaid",
            LabView::Tiles => "Throughput by tile size and workers (selected sweep)",
            LabView::Timeline => "What each worker did during one run (selected sweep)",
            LabView::Everything => "The table and every chart on one scrolling page",
        }
    }
}

/// State of the Scaling lab tab.
pub struct LabPanel {
    /// The view shown (the lab opens on the summary).
    pub view: LabView,
    /// Worker counts as typed (`1-4`, `1,2,4`).
    pub workers_text: String,
    /// Tile sizes as typed (`auto, 64, 256`).
    pub tiles_text: String,
    /// A folder to time as a batch instead of the open image (empty: the open image).
    pub folder_text: String,
    /// Any program to time instead, `{workers}` standing for the worker count (empty:
    /// tessera itself).
    pub command_text: String,
    /// The open image's name, for labels and exports (the window sets it).
    pub image_name: Option<String>,
    /// Also measure the memory copy bandwidth on each worker count after the sweep, for the
    /// speedup chart's memory ceiling.
    pub measure_bandwidth: bool,
    pub repeats: usize,
    pub warmup: usize,
    /// Base path of the exports: `<base>.csv`, `<base>.json`, `<base>-<chart>.png`.
    pub export_base: String,
    history: Vec<SweepEntry>,
    /// Index into `history` of the sweep the table, heat map and Gantt show.
    selected: Option<usize>,
    /// Configuration index of the Gantt chart (`None`: the last measured run).
    gantt_config: Option<usize>,
    /// The y ranges the time, speedup and efficiency charts showed last frame.
    chart_ranges: Vec<(f64, f64)>,
    running: Option<Running>,
    /// The last message: (is an error, text).
    message: Option<(bool, String)>,
    /// An export being written on a background thread; its message arrives here.
    exporting: Option<Task<(bool, String)>>,
    /// The export "Browse…" dialog being shown.
    dialog: Option<PendingDialog<()>>,
    cores: usize,
}

impl Default for LabPanel {
    fn default() -> Self {
        let cores = available_cores();
        LabPanel {
            view: LabView::Summary,
            workers_text: format!("1-{}", (2 * cores).min(tessera_engine::pool::MAX_WORKERS)),
            tiles_text: "auto".into(),
            folder_text: String::new(),
            command_text: String::new(),
            image_name: None,
            measure_bandwidth: true,
            repeats: 5,
            warmup: 1,
            export_base: "tessera-sweep".into(),
            history: Vec::new(),
            selected: None,
            gantt_config: None,
            chart_ranges: Vec::new(),
            running: None,
            message: None,
            exporting: None,
            dialog: None,
            cores,
        }
    }
}

/// What the lab remembers between runs (kept in the window's preferences).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LabSettings {
    pub workers_text: String,
    pub tiles_text: String,
    pub folder_text: String,
    pub command_text: String,
    pub repeats: usize,
    pub warmup: usize,
    pub export_base: String,
}

impl Default for LabSettings {
    fn default() -> Self {
        LabPanel::default().settings()
    }
}

impl LabPanel {
    /// The fields worth remembering.
    pub fn settings(&self) -> LabSettings {
        LabSettings {
            workers_text: self.workers_text.clone(),
            tiles_text: self.tiles_text.clone(),
            folder_text: self.folder_text.clone(),
            command_text: self.command_text.clone(),
            repeats: self.repeats,
            warmup: self.warmup,
            export_base: self.export_base.clone(),
        }
    }

    /// Restores remembered fields.
    pub fn apply(&mut self, s: &LabSettings) {
        self.workers_text = s.workers_text.clone();
        self.tiles_text = s.tiles_text.clone();
        self.folder_text = s.folder_text.clone();
        self.command_text = s.command_text.clone();
        self.repeats = s.repeats.clamp(1, tessera_engine::sweep::MAX_REPEATS);
        self.warmup = s.warmup.min(tessera_engine::sweep::MAX_REPEATS);
        self.export_base = s.export_base.clone();
    }

    /// The sweeps of this session, oldest first.
    pub fn history(&self) -> &[SweepEntry] {
        &self.history
    }

    /// Runs done and runs in all of the running sweep.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.running.as_ref().map(|r| r.ctl.runs())
    }

    /// Whether a sweep is running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The configuration the controls describe, validated.
    pub fn config(&self) -> Result<SweepConfig, EngineError> {
        let cfg = SweepConfig {
            workers: sweep::parse_worker_list(self.workers_text.trim())?,
            tiles: sweep::parse_tile_list(&self.tiles_text)?,
            repeats: self.repeats,
            warmup: self.warmup,
        };
        cfg.validate()?;
        Ok(cfg.normalized())
    }

    /// Starts a sweep of `image` (the sample when `None`) on a background thread.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        settings: &OpSettings,
        image: Option<Arc<SourceImage>>,
    ) -> Result<(), EngineError> {
        if self.running.is_some() {
            return Ok(());
        }
        let cfg = self.config()?;
        settings.to_op()?;
        let settings = *settings;
        let repaint = ctx.clone();
        // While a sweep runs the window redraws at most twice a second: every frame costs CPU
        // (all of it with software rendering), and a measuring tool should disturb what it
        // measures as little as it can.
        let ctl = Arc::new(Control::with_notify(move || {
            repaint.request_repaint_after(SWEEP_REPAINT)
        }));
        let ctl2 = ctl.clone();
        let folder = Some(self.folder_text.trim())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let command = Some(self.command_text.trim().to_string()).filter(|c| !c.is_empty());
        let bandwidth = self.measure_bandwidth;
        let image_name = self
            .image_name
            .clone()
            .unwrap_or_else(|| "open image".to_string());
        if command.is_some() && cfg.tiles != [tessera_engine::TileSize::Auto] {
            return Err(EngineError::InvalidParam(
                "tile sizes do not apply to a command: set Tile sizes to auto".into(),
            ));
        }
        let label = match &command {
            Some(c) => format!("#{} command `{c}`", self.history.len() + 1),
            None => format!(
                "#{} {}, {}",
                self.history.len() + 1,
                match (&folder, &image) {
                    (Some(f), _) => format!("folder {}", f.display()),
                    (None, Some(_)) => image_name.clone(),
                    (None, None) => "sample".into(),
                },
                settings.op.name()
            ),
        };
        let work = move |r: &Reporter<_>| {
            let result = (|| {
                if let Some(c) = command {
                    let w = sweep::command::CommandWorkload::new(c)?;
                    return sweep::run(&w, &cfg, &ctl2);
                }
                let work: Box<dyn Workload> = match (folder, image) {
                    // Counting the folder's files is I/O: done here, never on the UI thread.
                    (Some(f), _) => Box::new(FolderWorkload::new(&f, false, &settings)?),
                    (None, Some(i)) => Box::new(ImageWorkload::new(image_name, i, &settings)?),
                    (None, None) => Box::new(ImageWorkload::new(
                        crate::assets::SAMPLE_NAME,
                        Arc::new(crate::assets::sample_image()?),
                        &settings,
                    )?),
                };
                let mut result = sweep::run(work.as_ref(), &cfg, &ctl2)?;
                if bandwidth && result.workload.bytes_per_pixel.is_some() && !ctl2.is_cancelled() {
                    // 128 MiB, best of 2: a second or so per worker count.
                    result.bandwidth = Some(sweep::bandwidth::measure(
                        &result.config.workers,
                        128 << 20,
                        2,
                    )?);
                }
                Ok(result)
            })();
            r.send(result);
        };
        let task = Task::spawn(ctx, "sweep", 1, work, |e| Err(EngineError::Internal(e)));
        self.running = Some(Running { ctl, task, label });
        self.message = None;
        Ok(())
    }

    /// Asks the running sweep to stop.
    pub fn cancel(&self) {
        if let Some(r) = &self.running {
            r.ctl.cancel();
        }
    }

    /// Takes the result of a finished sweep into the history, and an export's message (never
    /// blocks). The window calls this every frame, whatever tab is shown; [`LabPanel::ui`]
    /// calls it too.
    pub fn poll(&mut self) {
        if let Some(t) = &mut self.exporting {
            match t.poll() {
                Some(m) => {
                    self.message = Some(m);
                    self.exporting = None;
                }
                None if t.is_finished() => {
                    self.message = Some((true, "Export failed: the export thread stopped".into()));
                    self.exporting = None;
                }
                None => {}
            }
        }
        let Some(run) = &mut self.running else { return };
        let msg = match run.task.poll() {
            Some(m) => m,
            None if run.task.is_finished() => {
                Err(EngineError::Internal("the sweep thread stopped".into()))
            }
            None => return,
        };
        let label = run.label.clone();
        self.running = None;
        match msg {
            Ok(result) => self.push(label, result),
            Err(EngineError::Cancelled) => {
                self.message = Some((false, "Sweep cancelled; nothing kept.".into()))
            }
            Err(e) => self.message = Some((true, format!("Sweep failed: {e}"))),
        }
    }

    /// Cancels a running sweep and waits for it and for an export being written to end (a
    /// folder sweep removes its temporary files first), then takes their results. Called when
    /// the window closes.
    pub fn shutdown(&mut self) {
        if let Some(r) = &mut self.running {
            r.ctl.cancel();
            r.task.wait();
        }
        if let Some(t) = &mut self.exporting {
            t.wait();
        }
        self.poll();
    }

    /// Adds a finished sweep to the history and selects it.
    pub fn push(&mut self, label: String, result: SweepResult) {
        let summary = sweep::summarize(&result);
        let inference = sweep::inference::infer(&result, &summary);
        self.history.push(SweepEntry {
            number: self.history.len() + 1,
            label,
            result: Arc::new(result),
            summary,
            inference,
            visible: true,
        });
        self.selected = Some(self.history.len() - 1);
        self.gantt_config = None;
    }

    /// The y ranges the time, speedup and efficiency charts showed last frame.
    pub fn chart_ranges(&self) -> &[(f64, f64)] {
        &self.chart_ranges
    }

    fn selected_entry(&self) -> Option<&SweepEntry> {
        self.selected.and_then(|i| self.history.get(i))
    }

    /// Draws the tab. `settings` are the window's shared operation settings and `image` the
    /// image open in the workbench (if any), the default workload of a sweep.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &OpSettings,
        image: Option<Arc<SourceImage>>,
    ) {
        self.poll();
        // Settings, history and exports on the left; the chosen view fills the rest, so the
        // summary chart is in sight without scrolling.
        egui::Panel::left("lab_side")
            .resizable(true)
            .default_size(340.0)
            .size_range(260.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("lab_side_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.controls(ui, settings, image);
                        if !self.history.is_empty() {
                            ui.separator();
                            self.history_ui(ui);
                            ui.separator();
                            self.export_ui(ui);
                        }
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if self.history.is_empty() {
                ui.label(
                    "No sweep yet. Choose worker counts and tile sizes, then Run sweep: \
                     every configuration runs after a warm-up, interleaved with the others, \
                     and the charts compare their medians.",
                );
                return;
            }
            ui.horizontal_wrapped(|ui| {
                for v in LabView::ALL {
                    ui.selectable_value(&mut self.view, v, v.name())
                        .on_hover_text(v.hint());
                }
            });
            ui.separator();
            let visible: Vec<&SweepEntry> = self.history.iter().filter(|e| e.visible).collect();
            let selected = self.selected.and_then(|i| self.history.get(i));
            egui::ScrollArea::vertical()
                .id_salt("lab_scroll")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let mut cfg = self.gantt_config;
                    self.chart_ranges = match self.view {
                        LabView::Summary => {
                            for e in &visible {
                                charts::verdict(ui, e);
                            }
                            // The chart takes the rest of the view (at least a usable height).
                            let h = (ui.available_height() - 60.0).max(260.0);
                            let r = charts::speedup_chart(ui, &visible, self.cores, h);
                            charts::memory_notes(ui, &visible);
                            vec![r]
                        }
                        LabView::Table => {
                            if let Some(e) = selected {
                                charts::verdict(ui, e);
                                charts::table(ui, e);
                            }
                            Vec::new()
                        }
                        LabView::Time => {
                            let h = (ui.available_height() - 30.0).max(260.0);
                            vec![charts::time_chart(ui, &visible, h)]
                        }
                        LabView::Efficiency => {
                            let h = (ui.available_height() - 30.0).max(260.0);
                            vec![charts::efficiency_chart(ui, &visible, self.cores, h)]
                        }
                        LabView::Tiles => {
                            if let Some(e) = selected {
                                charts::tile_heatmap(ui, e);
                            }
                            Vec::new()
                        }
                        LabView::Timeline => {
                            if let Some(e) = selected {
                                charts::gantt(ui, e, &mut cfg);
                            }
                            Vec::new()
                        }
                        LabView::Everything => {
                            if let Some(e) = selected {
                                charts::verdict(ui, e);
                                charts::table(ui, e);
                            }
                            ui.separator();
                            let r = charts::overlay_charts(ui, &visible, self.cores);
                            if let Some(e) = selected {
                                charts::tile_heatmap(ui, e);
                                charts::gantt(ui, e, &mut cfg);
                            }
                            r
                        }
                    };
                    self.gantt_config = cfg;
                });
        });
    }

    fn controls(
        &mut self,
        ui: &mut egui::Ui,
        settings: &OpSettings,
        image: Option<Arc<SourceImage>>,
    ) {
        ui.heading("Scaling lab");
        let workload = match (self.folder_text.trim(), &image) {
            _ if !self.command_text.trim().is_empty() => {
                format!(
                    "the command `{}`, timed as whole processes",
                    self.command_text.trim()
                )
            }
            ("", Some(i)) => format!("the open image ({}x{})", i.width(), i.height()),
            ("", None) => format!("the {}", crate::assets::SAMPLE_NAME),
            (f, _) => format!("a batch of the folder {f} (results to a temporary folder)"),
        };
        let op = settings
            .to_op()
            .map(|o| o.describe())
            .unwrap_or_else(|e| format!("invalid settings: {e}"));
        let op = if self.command_text.trim().is_empty() {
            format!(", {op}")
        } else {
            String::new()
        };
        ui.label(format!(
            "Workload: {workload}{op}. This machine has {} cores.",
            self.cores
        ));
        egui::Grid::new("lab_controls")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("Folder");
                ui.add(
                    egui::TextEdit::singleline(&mut self.folder_text)
                        .hint_text("empty: the open image")
                        .desired_width(160.0),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "Time a whole folder batch (decode, process, encode, write; one image per \
                     worker at a time) instead of the open image",
                );
                ui.end_row();
                let l = ui.label("Workers");
                ui.add(
                    egui::TextEdit::singleline(&mut self.workers_text)
                        .hint_text("1-4 or 1,2,4")
                        .desired_width(160.0),
                )
                .labelled_by(l.id)
                .on_hover_text("Worker counts: a list such as 1,2,4 or a range such as 1-8");
                ui.end_row();
                let l = ui.label("Tile sizes");
                ui.add(
                    egui::TextEdit::singleline(&mut self.tiles_text)
                        .hint_text("auto, 64, 256")
                        .desired_width(160.0),
                )
                .labelled_by(l.id)
                .on_hover_text("Tile edges in pixels, or auto (full-width strips)");
                ui.end_row();
                let l = ui.label("Repeats");
                ui.add(egui::DragValue::new(&mut self.repeats).range(1..=sweep::MAX_REPEATS))
                    .labelled_by(l.id)
                    .on_hover_text("Measured runs of each configuration");
                ui.end_row();
                let l = ui.label("Warm-up");
                ui.add(egui::DragValue::new(&mut self.warmup).range(0..=sweep::MAX_REPEATS))
                    .labelled_by(l.id)
                    .on_hover_text("Unmeasured runs of each configuration, first");
                ui.end_row();
                ui.label("Memory ceiling");
                ui.checkbox(
                    &mut self.measure_bandwidth,
                    "measure the copy bandwidth after the sweep",
                )
                .on_hover_text(
                    "A STREAM-like copy on each worker count: the speedup chart then shows the \
                     ceiling a memory-bound operation cannot pass",
                );
                ui.end_row();
                let l = ui.label("Command");
                ui.add(
                    egui::TextEdit::singleline(&mut self.command_text)
                        .hint_text("empty: tessera; or python my.py --procs {workers}")
                        .desired_width(200.0),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "Time any program instead, as whole processes: a shell command line where \
                     {workers} stands for each worker count (your own program beside tessera \
                     on the same charts)",
                );
                ui.end_row();
            });
        let cfg = self.config();
        match &cfg {
            Ok(c) => {
                let over: Vec<String> = c
                    .workers
                    .iter()
                    .filter(|&&w| w > self.cores)
                    .map(|w| w.to_string())
                    .collect();
                ui.label(format!(
                    "{} configurations x {} runs = {} runs.",
                    c.configs().len(),
                    c.warmup + c.repeats,
                    c.total_runs()
                ));
                if !over.is_empty() {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!(
                            "Warning: {} workers exceed the {} cores; those workers share cores.",
                            over.join(", "),
                            self.cores
                        ),
                    );
                }
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
        }
        ui.horizontal(|ui| {
            if let Some(run) = &self.running {
                let (done, total) = run.ctl.runs();
                let frac = if total > 0 {
                    done as f32 / total as f32
                } else {
                    0.0
                };
                if ui.button("Cancel").clicked() {
                    run.ctl.cancel();
                }
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(240.0)
                        .text(format!("run {done} of {total}")),
                );
                ui.ctx().request_repaint_after(SWEEP_REPAINT);
            } else {
                let can = cfg.is_ok() && settings.to_op().is_ok();
                if ui
                    .add_enabled(can, egui::Button::new("Run sweep"))
                    .clicked()
                    && let Err(e) = self.start(ui.ctx(), settings, image)
                {
                    self.message = Some((true, e.to_string()));
                }
            }
        });
        if let Some((err, m)) = &self.message {
            if *err {
                ui.colored_label(ui.visuals().error_fg_color, m);
            } else {
                ui.label(m);
            }
        }
    }

    fn history_ui(&mut self, ui: &mut egui::Ui) {
        if self.history.is_empty() {
            return;
        }
        ui.label("Session history (tick to overlay; Show selects one for the table and timeline):");
        let mut remove = None;
        for (i, e) in self.history.iter_mut().enumerate() {
            ui.horizontal_wrapped(|ui| {
                let details = format!(
                    "{}, {} runs, {}",
                    e.result.workload.name,
                    e.result.measured().count(),
                    e.result.date
                );
                ui.checkbox(&mut e.visible, &e.label)
                    .on_hover_text(format!("Overlay on the charts. {details}"));
                let sel = self.selected == Some(i);
                if ui
                    .selectable_label(sel, "Show")
                    .on_hover_text("Select for the table, the tile sizes and the timeline")
                    .clicked()
                {
                    self.selected = Some(i);
                    self.gantt_config = None;
                }
                if ui.small_button("Remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            self.history.remove(i);
            self.selected = match self.selected {
                _ if self.history.is_empty() => None,
                Some(s) if s > i => Some(s - 1),
                Some(s) if s == i => Some(self.history.len() - 1),
                s => s,
            };
            self.gantt_config = None;
        }
    }
}
