//! "Try all": every threshold method on a small gray preview of the open image, as a grid of
//! captioned thumbnails computed in the background on the chosen workers; clicking one picks
//! that method (and implementation) for the image.

use std::sync::Arc;

use egui::{Color32, RichText};
use tessera_engine::montage::Method;
use tessera_engine::ops::OpSettings;
use tessera_engine::{Control, EngineError, JobConfig};

use super::Workbench;
use crate::ui::jobs::{THUMB_SIDE, TryAllCell};

/// The longest side of the preview every method runs on.
pub const TRY_ALL_SIDE: usize = 480;

/// A "Try all" run and what it has shown so far.
pub(super) struct TryAll {
    request: u64,
    control: Arc<Control>,
    /// The settings whose shared parameters (type, block size, radius...) the cells used.
    base: OpSettings,
    /// The image it ran on.
    image_id: u64,
    cells: Vec<Shown>,
    /// The preview's size once done, or why it stopped.
    done: Option<Result<(usize, usize), String>>,
}

struct Shown {
    method: Method,
    label: String,
    params: String,
    level: Option<u16>,
    image: Result<egui::TextureHandle, String>,
    /// F-measure against the ground truth on the preview.
    f_measure: Option<f64>,
}

impl Workbench {
    /// Starts "Try all" on the open image (cancelling one running).
    pub(super) fn start_try_all(&mut self) {
        let Some(img) = &self.image else { return };
        if let Some(t) = &self.try_all {
            t.control.cancel();
        }
        let ctx = self.ctx.clone();
        let control = Arc::new(Control::with_notify(move || ctx.request_repaint()));
        let cfg = JobConfig {
            workers: self.prefs.workers,
            tile: self.prefs.tile,
        };
        let base = self.prefs.settings;
        let truth = self
            .truth
            .as_ref()
            .map(|t| (t.image.clone(), self.eval_options()));
        let request = self.jobs.try_all(
            (img.source.clone(), img.source8.clone()),
            base,
            cfg,
            TRY_ALL_SIDE,
            control.clone(),
            truth,
        );
        self.try_all = Some(TryAll {
            request,
            control,
            base,
            image_id: img.id,
            cells: Vec::new(),
            done: None,
        });
    }

    /// Stops and closes "Try all".
    pub(super) fn close_try_all(&mut self) {
        if let Some(t) = self.try_all.take() {
            t.control.cancel();
        }
    }

    pub(super) fn try_all_cell(&mut self, request: u64, cell: TryAllCell) {
        let Some(t) = self.try_all.as_mut().filter(|t| t.request == request) else {
            return;
        };
        let n = t.cells.len();
        let image = cell.image.map(|img| {
            self.ctx
                .load_texture(format!("try-all-{request}-{n}"), img, Default::default())
        });
        t.cells.push(Shown {
            method: cell.method,
            label: cell.label,
            params: cell.params,
            level: cell.level,
            image,
            f_measure: cell.f_measure,
        });
    }

    pub(super) fn try_all_done(
        &mut self,
        request: u64,
        result: Result<(usize, usize), EngineError>,
    ) {
        if let Some(t) = self.try_all.as_mut().filter(|t| t.request == request) {
            t.done = Some(result.map_err(|e| e.to_string()));
        }
    }

    /// The methods of "Try all" in the order shown, with their F-measure against the ground
    /// truth on the preview (sorted by it, best first, when a ground truth is loaded).
    pub fn try_all_order(&self) -> Vec<(String, Option<f64>)> {
        let Some(t) = &self.try_all else {
            return Vec::new();
        };
        order(&t.cells)
            .into_iter()
            .map(|i| (t.cells[i].label.clone(), t.cells[i].f_measure))
            .collect()
    }

    /// Whether "Try all" has every cell (for tests).
    pub fn try_all_cells(&self) -> Option<(usize, bool)> {
        self.try_all
            .as_ref()
            .map(|t| (t.cells.len(), matches!(t.done, Some(Ok(_)))))
    }

    /// The "Try all" window, while open.
    pub(super) fn try_all_window(&mut self, ctx: &egui::Context) {
        let Some(t) = &self.try_all else { return };
        let current = self.image.as_ref().map(|i| i.id);
        let stale_image = current != Some(t.image_id);
        let s = &self.prefs.settings;
        let shared_changed = (s.kind, s.max_value, s.block_size, s.local.radius)
            != (
                t.base.kind,
                t.base.max_value,
                t.base.block_size,
                t.base.local.radius,
            );
        let total = tessera_engine::montage::plan().len();
        let mut open = true;
        let mut pick: Option<Method> = None;
        let mut again = false;
        egui::Window::new("Try all methods")
            .open(&mut open)
            .default_size([980.0, 620.0])
            .default_pos([300.0, 60.0])
            .collapsible(false)
            .show(ctx, |ui| {
                ui.horizontal_wrapped(|ui| {
                    let status = match &t.done {
                        None => format!("computing… {} of {total}", t.cells.len()),
                        Some(Ok((w, h))) => format!(
                            "{total} methods on a {w}×{h} gray preview (window sizes in \
                             preview pixels)"
                        ),
                        Some(Err(e)) => format!("stopped: {e}"),
                    };
                    ui.label(status);
                    ui.label(
                        RichText::new(format!(
                            "type {} · block {} · radius {} · max {}",
                            t.base.kind, t.base.block_size, t.base.local.radius, t.base.max_value
                        ))
                        .weak(),
                    );
                    if stale_image || shared_changed {
                        ui.colored_label(
                            Color32::from_rgb(230, 170, 60),
                            if stale_image {
                                "made for another image"
                            } else {
                                "made with other shared settings"
                            },
                        );
                    }
                    if ui
                        .button("Recompute")
                        .on_hover_text("Run every method again with the current settings")
                        .clicked()
                    {
                        again = true;
                    }
                });
                let scored = t.cells.iter().any(|c| c.f_measure.is_some());
                ui.label(
                    RichText::new(if scored {
                        "Sorted by F-measure against the ground truth (both shrunk to the \
                         preview). Click a method to use it on the whole image."
                    } else {
                        "Click a method to use it on the whole image. Load a ground truth to \
                         sort them by F-measure."
                    })
                    .small()
                    .weak(),
                );
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let w = THUMB_SIDE as f32 * 0.8;
                    let cols = ((ui.available_width() / (w + 12.0)).floor() as usize).max(1);
                    egui::Grid::new("try-all-grid")
                        .spacing([10.0, 10.0])
                        .show(ui, |ui| {
                            for (i, c) in
                                order(&t.cells).into_iter().map(|k| &t.cells[k]).enumerate()
                            {
                                ui.vertical(|ui| {
                                    ui.set_width(w);
                                    let anchor =
                                        s.anchor().unwrap_or(tessera_engine::ops::Anchor::OpenCv);
                                    let selected = c.method.kind == s.op
                                        && c.method.anchor.is_none_or(|a| a == anchor);
                                    match &c.image {
                                        Ok(tex) => {
                                            let r = ui.add(
                                                egui::Image::new(tex)
                                                    .max_width(w)
                                                    .max_height(w)
                                                    .sense(egui::Sense::click()),
                                            );
                                            if selected {
                                                ui.painter().rect_stroke(
                                                    r.rect.expand(2.0),
                                                    2.0,
                                                    egui::Stroke::new(2.0, Color32::LIGHT_BLUE),
                                                    egui::StrokeKind::Outside,
                                                );
                                            }
                                            if r.clicked() {
                                                pick = Some(c.method);
                                            }
                                        }
                                        Err(e) => {
                                            ui.colored_label(Color32::from_rgb(230, 120, 100), e);
                                        }
                                    }
                                    let mut caption = c.label.clone();
                                    if let Some(f) = c.f_measure {
                                        caption = format!("F {f:.1} · {caption}");
                                    }
                                    if let Some(l) = c.level {
                                        caption += &format!(" {l}");
                                    } else if !c.params.is_empty() {
                                        caption += &format!(" {}", c.params);
                                    }
                                    if ui
                                        .selectable_label(selected, caption)
                                        .on_hover_text(c.method.kind.summary())
                                        .clicked()
                                    {
                                        pick = Some(c.method);
                                    }
                                });
                                if (i + 1) % cols == 0 {
                                    ui.end_row();
                                }
                            }
                        });
                });
            });
        if let Some(m) = pick {
            let s = &mut self.prefs.settings;
            s.op = m.kind;
            s.like = m.anchor.filter(|a| m.kind.anchors().first() != Some(a));
            if !s.allowed_types().contains(&s.kind) {
                s.kind = tessera_engine::ops::ThresholdType::Binary;
            }
        }
        if again {
            self.start_try_all();
        } else if !open {
            self.close_try_all();
        }
    }
}

/// The order cells are shown in: by F-measure, best first (undefined last), when any has one;
/// else as computed.
fn order(cells: &[Shown]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..cells.len()).collect();
    if cells.iter().any(|c| c.f_measure.is_some()) {
        let key = |i: usize| {
            cells[i]
                .f_measure
                .filter(|f| !f.is_nan())
                .unwrap_or(f64::NEG_INFINITY)
        };
        idx.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    }
    idx
}
