//! The Tune tab: the best parameters for the open image (with its ground truth) or a folder of
//! images and ground truths, by grid search ([`tessera_engine::tune`]) on the window's workers.
//!
//! The search runs as a background [`Task`]; the panel reads its [`Control`] (atomics) for
//! progress and gets the report through the task. It shows the ranking, a heat map of the best
//! method's scores (viridis, with its scale; a click on a cell applies its parameters to the
//! workbench) and the quality against compute time of every combination with the Pareto front.
//! The window drains the panel every frame whatever tab is shown, and cancels and waits for a
//! running search at exit.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText, Sense, Ui, pos2, vec2};

use crate::ui::dialog::{PendingDialog, ShowDialog};
use crate::ui::task::Task;
use tessera_engine::Control;
use tessera_engine::io::DecodeLimits;
use tessera_engine::metrics::{EvalOptions, Metric};
use tessera_engine::ops::{OpKind, OpSettings, Param};
use tessera_engine::tune::{self, TuneConfig, TuneReport};

/// What to search on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuneSource {
    /// The workbench's open image and its ground truth.
    OpenImage,
    /// A folder of images and a folder of ground truths.
    Folder,
}

struct Running {
    ctl: Arc<Control>,
    task: Task<Result<TuneReport, String>>,
}

/// State of the Tune tab.
pub struct TunePanel {
    pub source: TuneSource,
    /// Images folder and ground-truth folder (for [`TuneSource::Folder`]).
    pub folder: String,
    pub truth_folder: String,
    /// The methods, comma-separated (`sauvola,niblack`).
    pub methods: String,
    /// The grid, as `tessera tune --grid` takes it.
    pub grid: String,
    pub metric: Metric,
    running: Option<Running>,
    last: Option<Result<Arc<TuneReport>, String>>,
    /// Images left out of the last search (no ground truth), one line each.
    left_out: Vec<String>,
    /// A folder dialog: for the images (`true`) or the ground truths (`false`).
    dialog: Option<PendingDialog<bool>>,
}

impl Default for TunePanel {
    fn default() -> Self {
        TunePanel {
            source: TuneSource::OpenImage,
            folder: String::new(),
            truth_folder: String::new(),
            methods: "sauvola".into(),
            grid: "block-size=11..101:10,k=0.1..0.5:0.05".into(),
            metric: Metric::FMeasure,
            running: None,
            last: None,
            left_out: Vec::new(),
            dialog: None,
        }
    }
}

/// A grid over the parameters `settings` uses, around their values: what "From the current
/// method" fills in.
pub fn suggest_grid(settings: &OpSettings) -> String {
    let mut parts = Vec::new();
    for (p, _) in settings.params() {
        let v = settings.param(p);
        let axis = match p {
            Param::BlockSize => "block-size=11..101:10".to_string(),
            Param::Radius => "radius=5..50:5".to_string(),
            Param::K => {
                if v < 0.0 {
                    "k=-0.5..-0.05:0.05".to_string()
                } else {
                    "k=0.05..0.5:0.05".to_string()
                }
            }
            Param::C | Param::FijiC => "c=0/2/5/10/15".to_string(),
            Param::T => "t=5..30:5".to_string(),
            Param::Contrast => "contrast=5..50:5".to_string(),
            Param::Thresh => "thresh=50..200:10".to_string(),
            Param::R | Param::Classes => continue,
        };
        parts.push(axis);
    }
    parts.join(",")
}

impl TunePanel {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The last search's report.
    pub fn report(&self) -> Option<&TuneReport> {
        self.last
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .map(|r| &**r)
    }

    /// Why the last search could not run.
    pub fn error(&self) -> Option<&str> {
        self.last
            .as_ref()
            .and_then(|r| r.as_ref().err().map(String::as_str))
    }

    /// Runs `(done, total)` of the search running now.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.running.as_ref().map(|r| r.ctl.runs())
    }

    /// The search these fields describe. `open` is the workbench's image and ground truth
    /// files (for [`TuneSource::OpenImage`]); `base` its settings (the implementation and
    /// threshold type each method keeps).
    pub fn config(
        &self,
        open: Option<(PathBuf, PathBuf)>,
        base: &OpSettings,
        workers: usize,
        eval: EvalOptions,
    ) -> Result<(TuneConfig, Vec<String>), String> {
        let mut methods = Vec::new();
        for name in self
            .methods
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let op: OpKind = name
                .parse()
                .map_err(|e: tessera_engine::ops::ParseNameError| e.to_string())?;
            methods.push(OpSettings {
                op,
                like: base.like.filter(|a| op.anchors().contains(a)),
                kind: base.kind,
                depth: base.depth,
                ..OpSettings::default()
            });
        }
        if methods.is_empty() {
            return Err("name at least one method (sauvola, niblack, ...)".into());
        }
        let grid = if self.grid.trim().is_empty() {
            Vec::new()
        } else {
            tune::parse_grid(&self.grid)?
        };
        let (pairs, left_out) = match self.source {
            TuneSource::OpenImage => {
                let (img, gt) = open.ok_or(
                    "open an image file and load its ground truth in the Workbench first (or \
                     search a folder)",
                )?;
                (vec![(img, gt)], Vec::new())
            }
            TuneSource::Folder => tune::find_pairs(
                &PathBuf::from(self.folder.trim()),
                &PathBuf::from(self.truth_folder.trim()),
                false,
            )
            .map_err(|e| e.to_string())?,
        };
        let cfg = TuneConfig {
            pairs,
            methods,
            grid,
            eval,
            metric: self.metric,
            workers: workers.max(1),
            limits: DecodeLimits::default(),
        };
        tune::candidates(&cfg).map_err(|e| e.to_string())?;
        Ok((cfg, left_out))
    }

    /// Starts the search on a background thread; a problem with the fields is shown at once.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        open: Option<(PathBuf, PathBuf)>,
        base: &OpSettings,
        workers: usize,
        eval: EvalOptions,
    ) {
        if self.running.is_some() {
            return;
        }
        let (cfg, left_out) = match self.config(open, base, workers, eval) {
            Ok(c) => c,
            Err(e) => {
                self.last = Some(Err(e));
                return;
            }
        };
        self.left_out = left_out;
        self.last = None;
        let repaint = ctx.clone();
        let ctl = Arc::new(Control::with_notify(move || repaint.request_repaint()));
        let worker_ctl = Arc::clone(&ctl);
        let task = Task::spawn(
            ctx,
            "tune",
            1,
            move |r| {
                r.send(tune::run(&cfg, &worker_ctl).map_err(|e| e.to_string()));
            },
            Err,
        );
        self.running = Some(Running { ctl, task });
    }

    pub fn cancel(&self) {
        if let Some(r) = &self.running {
            r.ctl.cancel();
        }
    }

    /// Takes the report of a finished search (never blocks); called every frame.
    pub fn poll(&mut self) {
        let Some(r) = &mut self.running else { return };
        let result = match r.task.poll() {
            Some(res) => res,
            None if r.task.is_finished() => Err("the search thread stopped unexpectedly".into()),
            None => return,
        };
        self.last = Some(result.map(Arc::new));
        self.running = None;
    }

    /// Cancels a running search and waits for it (window closing).
    pub fn shutdown(&mut self) {
        if let Some(r) = &mut self.running {
            r.ctl.cancel();
            r.task.wait();
        }
        self.poll();
    }

    /// The settings of row `i` of the last report, on top of `base` (what a click on a heat
    /// map cell or a ranking row applies).
    pub fn settings_of(&self, i: usize, base: &OpSettings) -> Option<OpSettings> {
        let r = self.report()?;
        let row = r.rows.get(i)?;
        let mut s = OpSettings {
            op: row.method.parse().ok()?,
            ..*base
        };
        s.like = base.like.filter(|a| s.op.anchors().contains(a));
        for (axis, v) in r.grid.iter().zip(&row.values) {
            if let Some(v) = v {
                let p = s
                    .params()
                    .into_iter()
                    .map(|(p, _)| p)
                    .find(|p| p.flag().trim_start_matches("--") == axis.name)?;
                s.set_param(p, *v);
            }
        }
        Some(s)
    }

    /// Draws the tab; returns settings to apply to the workbench when a cell or row was
    /// clicked.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        open: Option<(PathBuf, PathBuf)>,
        base: &OpSettings,
        workers: usize,
        eval: EvalOptions,
    ) -> Option<OpSettings> {
        self.poll();
        ui.heading("Tune: the best parameters against ground truth");
        let running = self.running.is_some();
        ui.add_enabled_ui(!running, |ui| self.options_ui(ui, &open, base, eval));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new("Search"))
                .on_hover_text(format!(
                    "Run every combination on every image on {workers} workers and rank them"
                ))
                .clicked()
            {
                self.start(ui.ctx(), open.clone(), base, workers, eval);
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel"))
                .clicked()
            {
                self.cancel();
            }
            if let Some((d, t)) = self.progress() {
                ui.add(
                    egui::ProgressBar::new(d as f32 / t.max(1) as f32)
                        .text(format!("{d} / {t} runs"))
                        .desired_width(260.0),
                );
            }
        });
        for l in &self.left_out {
            ui.label(RichText::new(format!("left out: {l}")).small().weak());
        }
        let mut apply = None;
        match &self.last {
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Error: {e}"));
            }
            Some(Ok(r)) => {
                let r = Arc::clone(r);
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    apply = self
                        .report_ui(ui, &r)
                        .and_then(|i| self.settings_of(i, base));
                });
            }
            None => {}
        }
        apply
    }

    fn options_ui(
        &mut self,
        ui: &mut Ui,
        open: &Option<(PathBuf, PathBuf)>,
        base: &OpSettings,
        eval: EvalOptions,
    ) {
        if let Some(answer) = self.dialog.as_mut().and_then(|d| d.poll()) {
            let images = self.dialog.take().is_some_and(|d| d.target);
            if let Some(p) = answer {
                let f = if images {
                    &mut self.folder
                } else {
                    &mut self.truth_folder
                };
                *f = p.display().to_string();
            }
        }
        egui::Grid::new("tune-options")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label("Search on");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.source, TuneSource::OpenImage, "the open image")
                        .on_hover_text("The Workbench's image and the ground truth loaded there");
                    ui.selectable_value(&mut self.source, TuneSource::Folder, "a folder")
                        .on_hover_text(
                            "Every image of a folder that has a ground truth (same name) in \
                             another",
                        );
                    if self.source == TuneSource::OpenImage {
                        let text = match open {
                            Some((i, g)) => format!(
                                "{} against {}",
                                i.file_name().unwrap_or_default().to_string_lossy(),
                                g.file_name().unwrap_or_default().to_string_lossy()
                            ),
                            None => "no image file with a ground truth in the Workbench".into(),
                        };
                        ui.label(RichText::new(text).weak());
                    }
                });
                ui.end_row();
                if self.source == TuneSource::Folder {
                    let open_dialog = self.dialog.is_some();
                    for (images, label) in [(true, "Images folder"), (false, "Ground truths")] {
                        let l = ui.label(label);
                        ui.horizontal(|ui| {
                            let field = if images {
                                &mut self.folder
                            } else {
                                &mut self.truth_folder
                            };
                            ui.add(egui::TextEdit::singleline(field).desired_width(360.0))
                                .labelled_by(l.id);
                            if ui
                                .add_enabled(!open_dialog, egui::Button::new("Browse…"))
                                .clicked()
                            {
                                let start: ShowDialog = Box::new(move || {
                                    rfd::FileDialog::new().set_title(label).pick_folder()
                                });
                                self.dialog = Some(PendingDialog::spawn(ui.ctx(), images, start));
                            }
                        });
                        ui.end_row();
                    }
                }
                let l = ui.label("Methods");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.methods)
                            .hint_text("sauvola,niblack,otsu")
                            .desired_width(260.0),
                    )
                    .labelled_by(l.id)
                    .on_hover_text("Comma-separated; each varies the grid parameters it uses");
                    if ui
                        .button("From the current method")
                        .on_hover_text("The Workbench's method and a grid over its parameters")
                        .clicked()
                    {
                        self.methods = base.op.name().to_string();
                        self.grid = suggest_grid(base);
                    }
                });
                ui.end_row();
                let l = ui.label("Grid");
                ui.add(
                    egui::TextEdit::singleline(&mut self.grid)
                        .hint_text("block-size=11..101:10,k=0.1..0.5:0.05")
                        .desired_width(420.0),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "name=a..b:step, name=v1/v2 or name=v, comma-separated: block-size, radius, \
                     k, r, c, t, contrast, classes, thresh",
                );
                ui.end_row();
                ui.label("Rank by");
                ui.horizontal(|ui| {
                    egui::ComboBox::from_id_salt("tune-metric")
                        .selected_text(self.metric.name())
                        .show_ui(ui, |ui| {
                            for m in Metric::ALL {
                                ui.selectable_value(&mut self.metric, m, m.name());
                            }
                        });
                    ui.label(
                        RichText::new(format!(
                            "mean over the images; {} definitions, {} text (set in the \
                             Workbench's Ground truth)",
                            eval.like, eval.foreground
                        ))
                        .weak(),
                    );
                });
                ui.end_row();
            });
    }

    /// The ranking, the heat map and the quality/speed chart; returns the row clicked.
    fn report_ui(&self, ui: &mut Ui, r: &TuneReport) -> Option<usize> {
        let m = r.metric;
        let best = r.best();
        let mut clicked = None;
        ui.label(
            RichText::new(format!(
                "Best: {} — mean {} {:.2} over {} image{} ({} combinations, {:.2} s on {} workers)",
                best.op,
                m,
                best.mean(m),
                r.images.len(),
                if r.images.len() == 1 { "" } else { "s" },
                r.rows.len(),
                r.total.as_secs_f64(),
                r.workers
            ))
            .strong(),
        );
        if ui
            .button("Apply the best to the Workbench")
            .on_hover_text("Set the Workbench's method and parameters to these")
            .clicked()
        {
            clicked = Some(r.best);
        }
        ui.columns(2, |cols| {
            cols[0].strong("Heat map (click a cell to apply it)");
            if let Some(i) = heat_map_ui(&mut cols[0], r) {
                clicked = Some(i);
            }
            cols[1].strong("Quality against compute time (Pareto front joined)");
            pareto_ui(&mut cols[1], r);
        });
        ui.strong("Ranking");
        egui::Grid::new("tune-ranking")
            .striped(true)
            .num_columns(6)
            .show(ui, |ui| {
                for h in ["#", "method", "parameters", m.name(), "DRD", "compute ms"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (k, row) in r.ranked().into_iter().take(10).enumerate() {
                    let i = r
                        .rows
                        .iter()
                        .position(|x| std::ptr::eq(x, row))
                        .unwrap_or(0);
                    ui.label(format!("{}", k + 1));
                    ui.label(&row.method);
                    if ui
                        .link(r.values_text(row, "(defaults)"))
                        .on_hover_text(format!("Apply: {}", row.op))
                        .clicked()
                    {
                        clicked = Some(i);
                    }
                    ui.label(format!("{:.2}", row.mean(m)));
                    ui.label(format!("{:.3}", row.mean(Metric::Drd)));
                    ui.label(format!("{:.1}", row.compute.as_secs_f64() * 1e3));
                    ui.end_row();
                }
            });
        clicked
    }
}

/// The viridis colour of `t` in 0..=1 ([`crate::colormap`]).
fn viridis(t: f64) -> Color32 {
    let [r, g, b] = crate::colormap::viridis(t);
    Color32::from_rgb(r, g, b)
}

/// The heat map, painted: cells in viridis from worst to best, values in them, axes labelled,
/// a colour scale beside, the best outlined. Returns the row of a clicked cell.
fn heat_map_ui(ui: &mut Ui, r: &TuneReport) -> Option<usize> {
    let hm = r.heat_map();
    let m = r.metric;
    let (ncols, nrows) = (hm.cells.first().map_or(0, Vec::len), hm.cells.len());
    if ncols == 0 {
        return None;
    }
    let scores: Vec<f64> = hm
        .cells
        .iter()
        .flatten()
        .flatten()
        .map(|&i| r.rows[i].mean(m))
        .filter(|v| v.is_finite())
        .collect();
    let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let norm = |v: f64| {
        if !v.is_finite() || hi <= lo {
            1.0
        } else if m.higher_is_better() {
            (v - lo) / (hi - lo)
        } else {
            (hi - v) / (hi - lo)
        }
    };
    let width = ui.available_width().clamp(240.0, 700.0);
    let (left, bottom, bar) = (56.0, 34.0, 56.0);
    let cell_w = ((width - left - bar) / ncols as f32).max(8.0);
    // At most ~320 points tall, so the ranking below stays in view.
    let cell_h = (cell_w * 0.6).min(320.0 / nrows as f32).clamp(6.0, 28.0);
    let size = vec2(
        left + cell_w * ncols as f32 + bar,
        cell_h * nrows as f32 + bottom + 4.0,
    );
    let (resp, painter) = ui.allocate_painter(size, Sense::click());
    let o = resp.rect.min;
    let text = ui.visuals().text_color();
    let font = egui::FontId::proportional(11.0);
    let mut clicked = None;
    let pointer = resp.interact_pointer_pos();
    for (yi, line) in hm.cells.iter().enumerate() {
        // Row 0 at the bottom, as a chart's y axis.
        let top = o.y + cell_h * (nrows - 1 - yi) as f32;
        for (xi, cell) in line.iter().enumerate() {
            let rect = egui::Rect::from_min_size(
                pos2(o.x + left + cell_w * xi as f32, top),
                vec2(cell_w, cell_h),
            );
            let Some(i) = *cell else { continue };
            let v = r.rows[i].mean(m);
            let t = norm(v);
            painter.rect_filled(rect.shrink(0.5), 0.0, viridis(t));
            if cell_w >= 30.0 && cell_h >= 13.0 {
                painter.text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    format!("{v:.1}"),
                    font.clone(),
                    if t > 0.6 {
                        Color32::BLACK
                    } else {
                        Color32::WHITE
                    },
                );
            }
            if i == hm.best {
                painter.rect_stroke(
                    rect.shrink(1.5),
                    0.0,
                    egui::Stroke::new(2.5, Color32::RED),
                    egui::StrokeKind::Inside,
                );
            }
            if resp.clicked() && pointer.is_some_and(|p| rect.contains(p)) {
                clicked = Some(i);
            }
            if resp.hovered()
                && ui
                    .ctx()
                    .pointer_hover_pos()
                    .is_some_and(|p| rect.contains(p))
            {
                resp.clone()
                    .on_hover_text(format!("{}: mean {m} {v:.3}", r.rows[i].op));
            }
        }
    }
    // Axis labels: values under the columns and left of the rows, names at the ends.
    let every = |n: usize| (n / 12).max(1);
    if let Some((name, xs)) = &hm.x {
        for (xi, x) in xs.iter().enumerate().step_by(every(xs.len())) {
            painter.text(
                pos2(
                    o.x + left + cell_w * (xi as f32 + 0.5),
                    o.y + cell_h * nrows as f32 + 2.0,
                ),
                egui::Align2::CENTER_TOP,
                format!("{x}"),
                font.clone(),
                text,
            );
        }
        painter.text(
            pos2(o.x + left + cell_w * ncols as f32 / 2.0, o.y + size.y - 2.0),
            egui::Align2::CENTER_BOTTOM,
            name,
            font.clone(),
            text,
        );
    }
    if let Some((name, ys)) = &hm.y {
        let step = every(ys.len()).max((13.0 / cell_h).ceil() as usize);
        for (yi, y) in ys.iter().enumerate().step_by(step) {
            painter.text(
                pos2(
                    o.x + left - 4.0,
                    o.y + cell_h * (nrows as f32 - yi as f32 - 0.5),
                ),
                egui::Align2::RIGHT_CENTER,
                format!("{y}"),
                font.clone(),
                text,
            );
        }
        painter.text(
            pos2(o.x + 2.0, o.y + cell_h * nrows as f32 / 2.0),
            egui::Align2::LEFT_CENTER,
            name,
            font.clone(),
            text,
        );
    }
    // The colour scale: worst at the bottom, best at the top.
    let bx = o.x + left + cell_w * ncols as f32 + 10.0;
    let bh = cell_h * nrows as f32;
    let steps = 32;
    for k in 0..steps {
        let t = k as f64 / (steps - 1) as f64;
        let y1 = o.y + bh * (1.0 - k as f32 / steps as f32);
        let y0 = o.y + bh * (1.0 - (k + 1) as f32 / steps as f32);
        painter.rect_filled(
            egui::Rect::from_min_max(pos2(bx, y0), pos2(bx + 12.0, y1)),
            0.0,
            viridis(t),
        );
    }
    let (best_v, worst_v) = if m.higher_is_better() {
        (hi, lo)
    } else {
        (lo, hi)
    };
    for (y, v) in [(o.y, best_v), (o.y + bh, worst_v)] {
        painter.text(
            pos2(bx + 15.0, y),
            egui::Align2::LEFT_CENTER,
            format!("{v:.1}"),
            font.clone(),
            text,
        );
    }
    if !hm.held.is_empty() {
        let held: Vec<String> = hm.held.iter().map(|(n, v)| format!("{n} {v}")).collect();
        ui.label(
            RichText::new(format!("held at {}", held.join(", ")))
                .small()
                .weak(),
        );
    }
    clicked
}

/// Every combination as a point (compute time, mean score), the Pareto front joined.
fn pareto_ui(ui: &mut Ui, r: &TuneReport) {
    use egui_plot::{Line, Plot, Points};
    let m = r.metric;
    let pts: Vec<[f64; 2]> = r
        .rows
        .iter()
        .map(|row| [row.compute.as_secs_f64() * 1e3, row.mean(m)])
        .filter(|p| p[1].is_finite())
        .collect();
    let front: Vec<[f64; 2]> = r
        .pareto()
        .into_iter()
        .map(|i| [r.rows[i].compute.as_secs_f64() * 1e3, r.rows[i].mean(m)])
        .filter(|p| p[1].is_finite())
        .collect();
    let methods: Vec<&str> = {
        let mut v: Vec<&str> = r.rows.iter().map(|x| x.method.as_str()).collect();
        v.dedup();
        v
    };
    Plot::new("tune-pareto")
        .height(220.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label("compute ms (all images)")
        .y_axis_label(format!("mean {m}"))
        .legend(egui_plot::Legend::default().position(egui_plot::Corner::RightBottom))
        .show(ui, |p| {
            for name in &methods {
                let mine: Vec<[f64; 2]> = r
                    .rows
                    .iter()
                    .filter(|x| x.method == *name)
                    .map(|row| [row.compute.as_secs_f64() * 1e3, row.mean(m)])
                    .filter(|p| p[1].is_finite())
                    .collect();
                p.points(Points::new(*name, mine).radius(2.5));
            }
            p.line(
                Line::new("Pareto front", front)
                    .width(2.5)
                    .color(Color32::from_rgb(255, 220, 80)),
            );
            let _ = pts;
        });
}
