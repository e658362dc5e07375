//! A ground truth beside the open image: the shown result's metrics (DIBCO's F-measure,
//! precision, recall, PSNR, DRD, NRM, MCC), recomputed in the background with every result,
//! and the Errors view (false positives red, false negatives blue, over the original).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{RichText, Ui};
use image::GrayImage;

use super::Workbench;
use crate::ui::jobs::{Pick, Scored};
use crate::ui::view::{FullRes, Layer};
use tessera_engine::metrics::{EvalOptions, Foreground, Like, Metrics};

/// The ground truth in use.
pub(super) struct Truth {
    pub id: u64,
    pub path: PathBuf,
    pub image: Arc<GrayImage>,
}

/// The metrics of one result against one ground truth, and its error layer.
pub(super) struct ScoreView {
    pub generation: u64,
    pub truth_id: u64,
    pub opts: EvalOptions,
    pub result: Result<Metrics, String>,
    pub layer: Option<Layer>,
}

impl Workbench {
    /// Reads `path` as the ground truth of the open image (in the background); the metrics
    /// follow every result from then on.
    pub fn load_ground_truth(&mut self, path: PathBuf) {
        self.truth_field = path.display().to_string();
        self.truth_loading = Some(self.jobs.load_truth(path));
    }

    /// Forgets the ground truth (and the metrics).
    pub fn clear_ground_truth(&mut self) {
        self.truth = None;
        self.score = None;
        self.truth_loading = None;
    }

    /// The ground truth in use.
    pub fn ground_truth(&self) -> Option<&Path> {
        self.truth.as_ref().map(|t| t.path.as_path())
    }

    /// Whether a ground truth is being read.
    pub fn is_loading_truth(&self) -> bool {
        self.truth_loading.is_some()
    }

    /// How results are judged: the foreground and whose definitions, as the controls say.
    pub fn eval_options(&self) -> EvalOptions {
        EvalOptions {
            foreground: if self.prefs.truth_white {
                Foreground::White
            } else {
                Foreground::Black
            },
            like: if self.prefs.truth_doxa {
                Like::Doxa
            } else {
                Like::Dibco
            },
        }
    }

    /// The shown result's metrics against the ground truth, with the current options, or why
    /// there are none; `None` while they are being computed (or with no ground truth).
    pub fn metrics(&self) -> Option<Result<&Metrics, &str>> {
        let s = self.current_score()?;
        Some(s.result.as_ref().map_err(|e| e.as_str()))
    }

    fn current_score(&self) -> Option<&ScoreView> {
        let (t, r) = (self.truth.as_ref()?, self.result.as_ref()?);
        self.score.as_ref().filter(|s| {
            s.truth_id == t.id && s.generation == r.generation && s.opts == self.eval_options()
        })
    }

    /// The colour the Errors view shows at image pixel `(x, y)` (false positives
    /// [`FALSE_POSITIVE_RGB`](tessera_engine::metrics::FALSE_POSITIVE_RGB), false negatives
    /// [`FALSE_NEGATIVE_RGB`](tessera_engine::metrics::FALSE_NEGATIVE_RGB)), once the shown
    /// result is scored.
    pub fn error_pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        let p = self.current_score()?.layer.as_ref()?.full.pixel(x, y)?;
        Some([p[0], p[1], p[2]])
    }

    pub(super) fn pick_truth(&mut self) {
        self.dialog_started = Some(std::time::Instant::now());
        let folder = self.prefs.last_folder.clone();
        self.jobs.pick_file(Pick::Truth, folder, None);
    }

    pub(super) fn truth_loaded(
        &mut self,
        request: u64,
        path: PathBuf,
        result: Result<Arc<GrayImage>, String>,
    ) {
        if !self.jobs.is_current_truth(request) {
            return;
        }
        self.truth_loading = None;
        match result {
            Ok(image) => {
                self.truth_counter += 1;
                self.truth = Some(super::truth::Truth {
                    id: self.truth_counter,
                    path,
                    image,
                });
                self.score = None;
            }
            Err(e) => self.error = Some(format!("Could not open the ground truth: {e}")),
        }
    }

    pub(super) fn scored(
        &mut self,
        (generation, truth_id, opts): (u64, u64, EvalOptions),
        result: Result<Box<Scored>, String>,
    ) {
        if self.score_asked != Some((generation, truth_id, opts)) {
            return; // superseded
        }
        self.score_asked = None;
        let (result, layer) = match result {
            Ok(s) => {
                let s = *s;
                let layer = Layer::new(
                    &self.ctx,
                    &format!("errors-{generation}-{truth_id}"),
                    FullRes::Source(s.errors),
                    s.preview,
                    self.max_texture_side,
                );
                (Ok(s.metrics), Some(layer))
            }
            Err(e) => (Err(e), None),
        };
        self.score = Some(ScoreView {
            generation,
            truth_id,
            opts,
            result,
            layer,
        });
    }

    /// Scores the shown result when it, the ground truth or the options changed.
    pub(super) fn maybe_score(&mut self) {
        let (Some(t), Some(r), Some(img)) = (&self.truth, &self.result, &self.image) else {
            return;
        };
        if r.image_id != img.id {
            return;
        }
        let opts = self.eval_options();
        let key = (r.generation, t.id, opts);
        if self.score_asked == Some(key) || self.current_score().is_some() {
            return;
        }
        let background = match &img.layer.full {
            FullRes::Wide { shown, .. } => shown.clone(),
            _ => img.source.clone(),
        };
        let side = self.preview_side();
        self.score_asked = Some(key);
        self.jobs.score(
            (r.generation, t.id),
            r.image.clone(),
            t.image.clone(),
            background,
            opts,
            side,
        );
    }

    /// The Ground truth section of the controls.
    pub(super) fn truth_controls(&mut self, ui: &mut Ui) {
        ui.strong("Ground truth");
        ui.horizontal(|ui| {
            if ui
                .button("Open…")
                .on_hover_text(
                    "Choose the ground truth of this image (the same size; 0 = text, 255 = \
                     paper by default): every result is then scored against it",
                )
                .clicked()
            {
                self.pick_truth();
            }
            let l = ui.label("File");
            let field = egui::TextEdit::singleline(&mut self.truth_field)
                .hint_text("/path/to/truth.png")
                .desired_width((ui.available_width() - 54.0).max(60.0));
            let r = ui.add(field).labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Load").clicked() || enter {
                let p = PathBuf::from(self.truth_field.trim());
                if !p.as_os_str().is_empty() {
                    self.load_ground_truth(p);
                }
            }
        });
        if self.truth_loading.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the ground truth…");
            });
        }
        let Some(t) = &self.truth else {
            ui.label(
                RichText::new("None: load one to see F-measure, PSNR and DRD of each result")
                    .weak()
                    .small(),
            );
            return;
        };
        let name = t.path.file_name().map_or_else(
            || t.path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        let path = t.path.display().to_string();
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(RichText::new(name).small()).truncate())
                .on_hover_text(path);
            if ui.small_button("Clear").clicked() {
                self.clear_ground_truth();
            }
        });
        ui.horizontal(|ui| {
            ui.label("Text is");
            ui.selectable_value(&mut self.prefs.truth_white, false, "black")
                .on_hover_text("Foreground (the positive class) is dark: below 128");
            ui.selectable_value(&mut self.prefs.truth_white, true, "white")
                .on_hover_text("Foreground is light: 128 and above");
            ui.separator();
            ui.selectable_value(&mut self.prefs.truth_doxa, false, "DIBCO")
                .on_hover_text("DRD as DIBCO defines it (Lu et al.)");
            ui.selectable_value(&mut self.prefs.truth_doxa, true, "doxa")
                .on_hover_text(
                    "doxapy 0.9.2's calculate_performance exactly: its DRD counts only whole \
                     8x8 blocks judged on their top-left 7x7 pixels",
                );
        });
        let label = self.result_label();
        match (self.metrics(), label) {
            (Some(Ok(m)), Some(label)) => {
                let m = *m;
                egui::Grid::new("metrics")
                    .num_columns(4)
                    .spacing([10.0, 2.0])
                    .show(ui, |ui| {
                        let cell = |ui: &mut Ui, name: &str, v: String, tip: &str| {
                            ui.label(name).on_hover_text(tip);
                            ui.label(RichText::new(v).monospace().strong())
                                .on_hover_text(tip);
                        };
                        let pct = |v: f64| {
                            if v.is_nan() {
                                "–".to_string()
                            } else {
                                format!("{v:.2} %")
                            }
                        };
                        cell(
                            ui,
                            "F-measure",
                            pct(m.f_measure),
                            "2PR/(P+R): higher is better",
                        );
                        cell(
                            ui,
                            "PSNR",
                            format!("{:.2} dB", m.psnr),
                            "10·log10(1/MSE): higher is better",
                        );
                        ui.end_row();
                        cell(ui, "Precision", pct(m.precision), "TP/(TP+FP)");
                        cell(ui, "Recall", pct(m.recall), "TP/(TP+FN)");
                        ui.end_row();
                        cell(
                            ui,
                            "DRD",
                            format!("{:.3}", m.drd),
                            "Distance-reciprocal distortion: lower is better",
                        );
                        cell(
                            ui,
                            "NRM",
                            format!("{:.4}", m.nrm),
                            "Negative rate metric: lower is better",
                        );
                        ui.end_row();
                        cell(
                            ui,
                            "MCC",
                            format!("{:.4}", m.mcc),
                            "Matthews correlation: 1 is perfect",
                        );
                        cell(ui, "Accuracy", pct(m.accuracy), "(TP+TN)/N");
                        ui.end_row();
                    });
                ui.add(
                    egui::Label::new(RichText::new(format!("of: {label}")).small().weak())
                        .truncate(),
                )
                .on_hover_text(format!(
                    "The metrics of this result. Errors view (key E): false positives red, \
                     false negatives blue.\n{label}"
                ));
            }
            (Some(Err(e)), _) => {
                ui.colored_label(ui.visuals().warn_fg_color, RichText::new(e).small());
            }
            _ if self.result.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(RichText::new("Scoring the result…").small());
                });
            }
            _ => {}
        }
    }
}
