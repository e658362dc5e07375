//! The Batch tab of the window: a folder in, a folder out, with the window's operation
//! settings and worker count, live progress, Cancel and the report.
//!
//! The batch runs as a background [`Task`] ([`tessera_engine::batch::run`]); the panel only reads its
//! [`Control`] (atomics) and receives the report through the task. The engine wakes the
//! window with `request_repaint` after every file. The UI thread never decodes, processes or
//! writes. The window drains the panel ([`BatchPanel::poll`]) every frame, whatever tab is
//! shown, and cancels and waits for a running batch at exit ([`BatchPanel::shutdown`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ui::dialog::{PendingDialog, ShowDialog};
use crate::ui::task::Task;
use tessera_engine::EngineError;
use tessera_engine::batch::{
    self, BatchConfig, BatchReport, Control, OutputFormat, Phase, Progress, Strategy,
};
use tessera_engine::ops::OpSettings;

/// A batch running in the background.
struct Running {
    ctl: Arc<Control>,
    /// Sends the report (or why there is none), once.
    task: Task<Result<BatchReport, String>>,
}

/// State of the Batch tab.
pub struct BatchPanel {
    /// Input folder, as typed or picked.
    pub input: String,
    /// Output folder, as typed or picked.
    pub output: String,
    pub recursive: bool,
    /// Glob patterns separated by spaces (empty: every file with an image extension).
    pub include: String,
    pub format: OutputFormat,
    pub suffix: String,
    pub skip_existing: bool,
    /// Masks as 1-bit PNG (`--png-bilevel`).
    pub png_bilevel: bool,
    pub strategy: Strategy,
    /// A folder of ground truths to score the results against (empty: none).
    pub truth: String,
    /// How results are scored (the Workbench's ground-truth options, set by the window).
    pub eval: tessera_engine::metrics::EvalOptions,
    running: Option<Running>,
    /// The last batch's report, or why it could not start.
    last: Option<Result<BatchReport, String>>,
    /// Progress as it was when the last batch ended.
    last_progress: Option<Progress>,
    /// The failure whose reason is shown (index into the report's failures).
    selected_failure: Option<usize>,
    /// A folder dialog being shown, for the input (0), output (1) or ground-truth (2) field.
    dialog: Option<PendingDialog<u8>>,
}

impl Default for BatchPanel {
    fn default() -> Self {
        BatchPanel {
            input: String::new(),
            output: String::new(),
            recursive: false,
            include: String::new(),
            format: OutputFormat::Png,
            suffix: String::new(),
            skip_existing: false,
            png_bilevel: false,
            strategy: Strategy::WorkerReads,
            truth: String::new(),
            eval: Default::default(),
            running: None,
            last: None,
            last_progress: None,
            selected_failure: None,
            dialog: None,
        }
    }
}

impl BatchPanel {
    /// Whether a batch is running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The running batch's progress.
    pub fn progress(&self) -> Option<Progress> {
        self.running.as_ref().map(|r| r.ctl.progress())
    }

    /// The last finished batch's report.
    pub fn report(&self) -> Option<&BatchReport> {
        self.last.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// Why the last batch could not start, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.last
            .as_ref()
            .and_then(|r| r.as_ref().err().map(String::as_str))
    }

    /// The config the panel would run with these settings.
    pub fn config(&self, settings: &OpSettings, workers: usize) -> BatchConfig {
        BatchConfig {
            recursive: self.recursive,
            include: self.include.split_whitespace().map(String::from).collect(),
            format: self.format,
            suffix: self.suffix.clone(),
            skip_existing: self.skip_existing,
            png: tessera_engine::io::PngOptions {
                bilevel: self.png_bilevel && self.format == OutputFormat::Png,
                ..Default::default()
            },
            strategy: self.strategy,
            workers: workers.max(1),
            op: *settings,
            ground_truth: (!self.truth.trim().is_empty()).then(|| batch::GroundTruth {
                dir: self.truth.trim().into(),
                eval: self.eval,
            }),
            ..BatchConfig::new(self.input.trim(), self.output.trim())
        }
    }

    /// Starts the batch on a background thread. A usage problem is shown at once instead.
    pub fn start(&mut self, ctx: &egui::Context, settings: &OpSettings, workers: usize) {
        if self.running.is_some() {
            return;
        }
        let cfg = self.config(settings, workers);
        self.selected_failure = None;
        self.last_progress = None;
        if let Err(e) = cfg.validate() {
            self.last = Some(Err(e.to_string()));
            return;
        }
        self.last = None;
        let repaint = ctx.clone();
        let ctl = Arc::new(Control::with_notify(move || repaint.request_repaint()));
        let worker_ctl = Arc::clone(&ctl);
        let task = Task::spawn(
            ctx,
            "batch",
            1,
            move |r| {
                r.send(batch::run(&cfg, &worker_ctl).map_err(|e: EngineError| e.to_string()));
            },
            Err,
        );
        self.running = Some(Running { ctl, task });
    }

    /// Asks the running batch to stop.
    pub fn cancel(&self) {
        if let Some(r) = &self.running {
            r.ctl.cancel();
        }
    }

    /// Takes the result of a finished batch, if any (never blocks). The window calls this
    /// every frame, whatever tab is shown; [`BatchPanel::ui`] calls it too.
    pub fn poll(&mut self) {
        let Some(r) = &mut self.running else {
            return;
        };
        let result = match r.task.poll() {
            Some(res) => res,
            None if r.task.is_finished() => Err("the batch thread stopped unexpectedly".into()),
            None => return,
        };
        self.last_progress = Some(r.ctl.progress());
        self.last = Some(result);
        self.running = None;
    }

    /// Cancels a running batch and waits for its thread to end (it removes its temporary
    /// files first), then takes its report. Called when the window closes.
    pub fn shutdown(&mut self) {
        if let Some(r) = &mut self.running {
            r.ctl.cancel();
            r.task.wait();
        }
        self.poll();
    }

    /// Draws the tab. `settings` and `workers` are the window's shared operation settings.
    pub fn ui(&mut self, ui: &mut egui::Ui, settings: &OpSettings, workers: usize) {
        self.poll();
        ui.heading("Batch: process a folder");
        let running = self.running.is_some();
        ui.add_enabled_ui(!running, |ui| self.options_ui(ui, settings, workers));
        ui.separator();

        ui.horizontal(|ui| {
            let op_ok = settings.to_op().is_ok();
            let ready = !running
                && op_ok
                && !self.input.trim().is_empty()
                && !self.output.trim().is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Start"))
                .on_disabled_hover_text("Choose an input and an output folder")
                .clicked()
            {
                self.start(ui.ctx(), settings, workers);
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel"))
                .clicked()
            {
                self.cancel();
            }
        });

        if let Some(r) = &self.running {
            let p = r.ctl.progress();
            progress_ui(ui, &p);
        } else if let Some(p) = &self.last_progress
            && p.found > 0
        {
            progress_ui(ui, p);
        }

        match &self.last {
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Error: {e}"));
            }
            Some(Ok(_)) => self.report_ui(ui),
            None => {}
        }
    }

    fn options_ui(&mut self, ui: &mut egui::Ui, settings: &OpSettings, workers: usize) {
        egui::Grid::new("batch-options")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                if let Some(answer) = self.dialog.as_mut().and_then(|d| d.poll()) {
                    let target = self.dialog.take().map_or(0, |d| d.target);
                    if let Some(p) = answer {
                        let field = match target {
                            0 => &mut self.input,
                            1 => &mut self.output,
                            _ => &mut self.truth,
                        };
                        *field = p.display().to_string();
                    }
                }
                let open = self.dialog.is_some();
                if let Some(start) = folder_row(ui, "Input folder", &mut self.input, open) {
                    self.dialog = Some(PendingDialog::spawn(ui.ctx(), 0, start));
                }
                if let Some(start) = folder_row(ui, "Output folder", &mut self.output, open) {
                    self.dialog = Some(PendingDialog::spawn(ui.ctx(), 1, start));
                }

                ui.label("Operation");
                match settings.to_op() {
                    Ok(op) => ui.label(format!("{} on {workers} workers", op.describe())),
                    Err(e) => ui.colored_label(ui.visuals().error_fg_color, e.to_string()),
                };
                ui.end_row();

                ui.label("Files");
                ui.horizontal(|ui| {
                    ui.checkbox(&mut self.recursive, "Sub-folders too");
                    let l = ui.label("Include");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.include)
                            .hint_text("*.png scans/*.tif (empty: all images)")
                            .desired_width(220.0),
                    )
                    .labelled_by(l.id);
                });
                ui.end_row();

                ui.label("Results");
                ui.horizontal(|ui| {
                    let l = ui.label("Format");
                    egui::ComboBox::from_id_salt("batch-format")
                        .selected_text(self.format.extension())
                        .show_ui(ui, |ui| {
                            for f in OutputFormat::ALL {
                                ui.selectable_value(&mut self.format, f, f.extension());
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    let l = ui.label("Name suffix");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.suffix)
                            .hint_text("_bin")
                            .desired_width(80.0),
                    )
                    .labelled_by(l.id);
                    ui.checkbox(&mut self.skip_existing, "Skip existing results");
                    ui.add_enabled(
                        self.format == OutputFormat::Png,
                        egui::Checkbox::new(&mut self.png_bilevel, "1-bit PNG for masks"),
                    )
                    .on_hover_text(
                        "Results whose every pixel is 0 or 255 are written as 1-bit PNG \
                         (--png-bilevel): several times smaller, the same pixels once read",
                    );
                });
                ui.end_row();

                let l = ui.label("Reading");
                egui::ComboBox::from_id_salt("batch-strategy")
                    .selected_text(self.strategy.label())
                    .show_ui(ui, |ui| {
                        for s in Strategy::ALL {
                            ui.selectable_value(&mut self.strategy, s, s.label());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let open = self.dialog.is_some();
                if let Some(start) = folder_row(ui, "Ground truths", &mut self.truth, open) {
                    self.dialog = Some(PendingDialog::spawn(ui.ctx(), 2, start));
                }
            });
        ui.label(
            egui::RichText::new(format!(
                "Ground truths (optional): each result is scored against the file with its \
                 name there ({} text, {} definitions: the Workbench's Ground truth options)",
                self.eval.foreground, self.eval.like
            ))
            .small()
            .weak(),
        );
    }

    fn report_ui(&mut self, ui: &mut egui::Ui) {
        let Some(Ok(r)) = &self.last else {
            return;
        };
        ui.separator();
        let title = if r.cancelled {
            "Report (cancelled)"
        } else {
            "Report"
        };
        ui.strong(title);
        ui.label(r.counts_line());
        ui.label(format!(
            "{:.2} s, {:.1} images/s, {:.1} MP/s ({:.1} MP written) on {} workers",
            r.total.as_secs_f64(),
            r.images_per_s,
            r.mp_per_s,
            r.megapixels,
            r.workers
        ));
        if !r.collisions.is_empty() {
            egui::CollapsingHeader::new(format!("{} name collisions resolved", r.collisions.len()))
                .show(ui, |ui| {
                    for c in &r.collisions {
                        ui.label(format!(
                            "{} -> {} ({})",
                            short(&c.path),
                            short(&c.output),
                            c.reason
                        ));
                    }
                });
        }
        if !r.warnings.is_empty() && r.fail_on == tessera_engine::batch::FailOn::Error {
            egui::CollapsingHeader::new(format!(
                "Written with decoder warnings: {}",
                r.warnings.len()
            ))
            .id_salt("batch-warnings")
            .show(ui, |ui| {
                for w in &r.warnings {
                    ui.label(format!("{}: {}", short(&w.path), w.reason));
                }
            });
        }
        if let Some(q) = &r.quality {
            quality_ui(ui, r, q);
        }
        if r.failures.is_empty() {
            return;
        }
        ui.label("Failures (click one for its reason):");
        let mut clicked = None;
        egui::ScrollArea::vertical()
            .max_height(200.0)
            .id_salt("batch-failures")
            .show(ui, |ui| {
                for (i, f) in r.failures.iter().enumerate() {
                    let sel = self.selected_failure == Some(i);
                    if ui
                        .selectable_label(sel, f.path.display().to_string())
                        .clicked()
                    {
                        clicked = Some(i);
                    }
                }
            });
        if let Some(i) = clicked {
            self.selected_failure = if self.selected_failure == Some(i) {
                None
            } else {
                Some(i)
            };
        }
        if let Some(f) = self.selected_failure.and_then(|i| r.failures.get(i)) {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.strong(short(&f.path));
                ui.label(format!("Reason: {}", f.reason));
            });
        }
    }
}

/// The batch's scores against the ground truths: the means, the worst files, the unscored.
fn quality_ui(ui: &mut egui::Ui, r: &BatchReport, q: &batch::QualitySummary) {
    use tessera_engine::metrics::Metric;
    ui.strong(format!(
        "Against {}: {} scored, {} not scored",
        q.ground_truth.display(),
        q.scored,
        q.unscored
    ));
    if q.scored > 0 {
        let (f, pf, d) = (
            q.stat(Metric::FMeasure),
            q.stat(Metric::PseudoFMeasure),
            q.stat(Metric::Drd),
        );
        ui.label(format!(
            "F-measure mean {:.2} %, median {:.2} % · pseudo-F mean {:.2} % · DRD mean {:.3}",
            f.mean, f.median, pf.mean, d.mean
        ));
        let worst: Vec<String> = q
            .worst
            .iter()
            .map(|w| format!("{} {:.1} %", short(&w.path), w.f_measure))
            .collect();
        ui.label(format!("Lowest F-measure: {}", worst.join(", ")));
    }
    if q.unscored > 0 {
        egui::CollapsingHeader::new(format!("Not scored: {}", q.unscored))
            .id_salt("batch-unscored")
            .show(ui, |ui| {
                for rec in &r.records {
                    if let Some(batch::Quality::Unscored { ground_truth_error }) = &rec.quality {
                        ui.label(format!("{}: {ground_truth_error}", short(&rec.path)));
                    }
                }
            });
    }
}

fn short(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A labelled path field with a "Browse…" button. A click returns the dialog to show (a
/// native folder dialog, run on a background thread; without a desktop portal it answers
/// nothing and the field stays as typed). `dialog_open` disables the button.
fn folder_row(
    ui: &mut egui::Ui,
    label: &str,
    path: &mut String,
    dialog_open: bool,
) -> Option<ShowDialog> {
    let l = ui.label(label);
    let mut start = None;
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(path).desired_width(360.0))
            .labelled_by(l.id);
        if ui
            .add_enabled(!dialog_open, egui::Button::new("Browse…"))
            .clicked()
        {
            let title = label.to_owned();
            let folder = Some(PathBuf::from(path.trim())).filter(|p| p.is_dir());
            start = Some(Box::new(move || {
                let mut dialog = rfd::FileDialog::new().set_title(title);
                if let Some(f) = folder {
                    dialog = dialog.set_directory(f);
                }
                dialog.pick_folder()
            }) as ShowDialog);
        }
    });
    ui.end_row();
    start
}

fn progress_ui(ui: &mut egui::Ui, p: &Progress) {
    let frac = if p.found > 0 {
        p.done as f32 / p.found as f32
    } else {
        0.0
    };
    let text = match p.phase {
        Phase::Discovering => format!("Finding files… {}", p.found),
        Phase::Syncing => "Flushing results to disk…".into(),
        _ => format!("{} / {}", p.done, p.found),
    };
    ui.add(egui::ProgressBar::new(frac).text(text));
    let mut line = format!(
        "{} written, {} skipped, {} failed · {:.1} MP/s · {:.1} s",
        p.written,
        p.skipped,
        p.failed,
        p.mp_per_s,
        p.elapsed.as_secs_f64()
    );
    if let Some(eta) = p.eta {
        line += &format!(" · ETA {:.0} s", eta.as_secs_f64().ceil());
    }
    if p.cancelled && p.phase != Phase::Finished {
        line += " · cancelling…";
    }
    ui.label(line);
}
