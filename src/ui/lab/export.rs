//! The lab's exports: the selected sweep as CSV, JSON or PNG charts, written on a background
//! [`Task`] next to the path in the export field (which Browse fills from a save dialog).

use std::path::{Path, PathBuf};

use super::LabPanel;
use crate::ui::dialog::PendingDialog;
use crate::ui::task::{Reporter, Task};
use tessera_engine::EngineError;
use tessera_engine::sweep::{Summary, SweepResult, report};

impl LabPanel {
    /// Whether an export is being written.
    pub fn is_exporting(&self) -> bool {
        self.exporting.is_some()
    }

    /// Writes the selected sweep's CSV, JSON or PNG charts next to the export base path, on a
    /// background thread (the UI thread never writes files); `ctx` is woken when it is done.
    pub fn export(&mut self, ctx: &egui::Context, what: Export) {
        let Some(e) = self.selected_entry() else {
            self.message = Some((true, "Run a sweep first.".into()));
            return;
        };
        let (result, summary) = (e.result.clone(), e.summary.clone());
        let base = PathBuf::from(self.export_base.trim());
        let work = move |r: &Reporter<_>| {
            r.send(match write_export(what, &base, &result, &summary) {
                Ok(paths) => (
                    false,
                    format!(
                        "Wrote {}",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Err(e) => (true, format!("Export failed: {e}")),
            });
        };
        let fail = |e: String| (true, format!("Export failed: {e}"));
        self.exporting = Some(Task::spawn(ctx, "export", 1, work, fail));
        self.message = Some((false, "Exporting…".into()));
    }

    pub(super) fn export_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Export to");
            ui.add(
                egui::TextEdit::singleline(&mut self.export_base)
                    .desired_width(200.0)
                    .hint_text("path without extension"),
            )
            .labelled_by(l.id)
            .on_hover_text("Writes <path>.csv, <path>.json and <path>-<chart>.png");
            if let Some(answer) = self.dialog.as_mut().and_then(|d| d.poll()) {
                self.dialog = None;
                if let Some(p) = answer {
                    self.export_base = strip_ext(&p).display().to_string();
                }
            }
            if ui
                .add_enabled(self.dialog.is_none(), egui::Button::new("Browse…"))
                .clicked()
            {
                self.dialog = Some(PendingDialog::spawn(ui.ctx(), (), || {
                    rfd::FileDialog::new()
                        .set_file_name("tessera-sweep")
                        .save_file()
                }));
            }
            if ui.button("Save CSV").clicked() {
                self.export(ui.ctx(), Export::Csv);
            }
            if ui.button("Save JSON").clicked() {
                self.export(ui.ctx(), Export::Json);
            }
            if ui.button("Save PNG charts").clicked() {
                self.export(ui.ctx(), Export::Png);
            }
        });
    }
}

/// Writes one export (CSV, JSON or every PNG chart) and returns the files written.
fn write_export(
    what: Export,
    base: &Path,
    result: &SweepResult,
    summary: &Summary,
) -> Result<Vec<PathBuf>, EngineError> {
    match what {
        Export::Csv => {
            let p = base.with_extension("csv");
            report::save_csv(summary, &p).map(|_| vec![p])
        }
        Export::Json => {
            let p = base.with_extension("json");
            report::save_json(result, &p).map(|_| vec![p])
        }
        Export::Png => {
            let dir = match base.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let prefix = format!(
                "{}-",
                base.file_name()
                    .map_or("tessera-sweep".into(), |n| n.to_string_lossy().into_owned())
            );
            crate::plots::save_all_prefixed(result, summary, &dir, &prefix)
        }
    }
}

fn strip_ext(p: &Path) -> PathBuf {
    match p.extension().and_then(|e| e.to_str()) {
        Some("csv" | "json" | "png") => p.with_extension(""),
        _ => p.to_path_buf(),
    }
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Csv,
    Json,
    Png,
}
