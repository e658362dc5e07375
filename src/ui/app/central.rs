//! The workbench's central view (the image viewer with its toolbar and pixel readout) and the
//! charts below it.

use egui::{Color32, RichText, Ui};

use super::{Masks, Workbench, max_workers};
use crate::ui::charts::{self, Marker};
use crate::ui::jobs::RoiScope;
use crate::ui::view::{Overlay, OverlayStyle, ViewMode, describe_pixel};
use tessera_engine::ops::{OpKind, ThresholdType};

impl Workbench {
    pub(super) fn charts(&mut self, ui: &mut Ui) {
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
        let scale = img.scale;
        if ui.available_width() < 200.0 {
            return; // too narrow for two charts (a window being resized down)
        }
        // The region's histogram and levels while its level is shown, else the image's.
        let (hist, all) = self
            .result
            .as_ref()
            .filter(|r| r.image_id == img.id && r.roi.is_some() && self.roi.is_some())
            .and_then(|r| r.roi_histogram.as_ref())
            .map_or((&img.histogram, &img.levels), |(h, l)| (h, l));
        let fiji = self.prefs.settings.like == Some(tessera_engine::ops::Anchor::Fiji);
        let levels = Some(if fiji { &all.fiji } else { &all.imagej });
        let input = ui.columns(2, |cols| {
            let input = charts::histogram(
                &mut cols[0],
                hist,
                scale,
                marker,
                &mut self.prefs.histogram_log,
                levels.map(|l| (l.as_slice(), &mut self.prefs.histogram_levels, fiji)),
            );
            charts::timing(&mut cols[1], &self.runs, id, &op, max_workers());
            input
        });
        if let Some(level) = input.level {
            // A level picked on the histogram is a fixed threshold there (from Otsu's or the
            // triangle's level, the marker, when dragging starts near it).
            let s = &mut self.prefs.settings;
            if s.op != OpKind::Threshold {
                s.op = OpKind::Threshold;
                if !matches!(s.kind, ThresholdType::Binary | ThresholdType::BinaryInv) {
                    s.kind = ThresholdType::Binary;
                }
            }
            s.thresh = level;
        }
        self.histogram_input = input;
    }

    /// The label of the result on screen: the settings that made it, and, when they are not
    /// the ones the controls show (a job was cancelled, is running, or the settings are
    /// invalid), that it is stale and a way to update it. One line whatever it says, so the
    /// view never moves under the pointer.
    fn result_strip(&mut self, ui: &mut Ui) {
        let Some(shown) = self.result_label() else {
            return;
        };
        if self.image.is_none() {
            return;
        }
        let current = self.result_matches_controls();
        let running = self.jobs.running.is_some();
        let (text, color) = if current {
            (format!("Result: {shown}"), ui.visuals().weak_text_color())
        } else {
            let why = if running {
                "updating to the current settings"
            } else if self.invalid.is_some() {
                "the current settings are invalid"
            } else {
                "not the current settings: press Update"
            };
            (
                format!("Showing the result of {shown} ({why})"),
                Color32::from_rgb(240, 190, 80),
            )
        };
        let height = ui.spacing().interact_size.y;
        ui.allocate_ui_with_layout(
            egui::vec2(ui.available_width(), height),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                let can_update = !current && !running && self.invalid.is_none();
                if ui
                    .add_enabled(can_update, egui::Button::new("Update").small())
                    .on_hover_text("Compute the result of the current settings")
                    .on_disabled_hover_text("The shown result is up to date (or being updated)")
                    .clicked()
                {
                    self.nonce += 1;
                }
                ui.add(egui::Label::new(RichText::new(&text).color(color)).truncate())
                    .on_hover_text(&text);
            },
        );
    }

    pub(super) fn central(&mut self, ui: &mut Ui) {
        if let Some(e) = self.error.clone() {
            egui::Frame::new()
                .fill(Color32::from_rgb(90, 30, 30))
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    // The button first, then the message wrapped in what is left: a long
                    // message never pushes the button (or the view) off the window.
                    ui.set_width(ui.available_width());
                    ui.horizontal_top(|ui| {
                        if ui
                            .small_button("Dismiss")
                            .on_hover_text("Hide this message")
                            .clicked()
                        {
                            self.error = None;
                        }
                        ui.add(
                            egui::Label::new(RichText::new(e.to_string()).color(Color32::WHITE))
                                .wrap(),
                        );
                    });
                });
        }
        self.result_strip(ui);
        let opts = self.eval_options();
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
        // Wrapped, and in a narrow view (a 1024-pixel window) the mode's own controls (the
        // divider, the overlay's style and opacity) start a second row: sliders do not wrap
        // by themselves.
        let narrow = ui.available_width() < 900.0;
        ui.horizontal_wrapped(|ui| {
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
            if self.prefs.view_mode == ViewMode::Overlay {
                if narrow {
                    ui.end_row();
                } else {
                    ui.separator();
                }
                for st in OverlayStyle::ALL {
                    ui.selectable_value(&mut self.prefs.overlay_style, st, st.label())
                        .on_hover_text(match st {
                            OverlayStyle::Red => "Foreground (the pixels the result sets) in red",
                            OverlayStyle::OverUnder => "Foreground green, background blue",
                        });
                }
                ui.add(
                    egui::Slider::new(&mut self.prefs.overlay_opacity, 0.0..=1.0)
                        .text("opacity")
                        .update_while_editing(false),
                )
                .on_hover_text("How strongly the overlay colours cover the original");
            }
            if let Some(r) = self.roi {
                ui.separator();
                ui.label(format!("Region {}x{} at ({}, {})", r.w, r.h, r.x, r.y))
                    .on_hover_text(
                        "Otsu and triangle find their level in this region (drawn with \
                         Shift+drag); the histogram shows its pixels",
                    );
                for sc in [RoiScope::Whole, RoiScope::Inside] {
                    ui.selectable_value(
                        &mut self.roi_scope,
                        sc,
                        match sc {
                            RoiScope::Whole => "whole image",
                            RoiScope::Inside => "inside only",
                        },
                    )
                    .on_hover_text(sc.label());
                }
                if ui.button("Clear region").clicked() {
                    self.roi = None;
                }
            }
            if self.prefs.view_mode == ViewMode::Split {
                if narrow {
                    ui.end_row();
                } else {
                    ui.separator();
                }
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
        // A line of metrics under the readout while a ground truth is loaded.
        let below = if self.truth.is_some() { 46.0 } else { 24.0 };
        let viewer_size = egui::vec2(avail.x, (avail.y - below).max(50.0));
        let (style, opacity) = (self.prefs.overlay_style, self.prefs.overlay_opacity);
        let max_side = self.max_texture_side;
        // The Errors view shows the result's error layer in its place, once scored.
        let errors = match (&self.truth, &self.result) {
            (Some(t), Some(r)) if mode == ViewMode::Errors && r.image_id == img.id => {
                let (tid, generation) = (t.id, r.generation);
                self.score
                    .as_mut()
                    .filter(|s| s.truth_id == tid && s.generation == generation && s.opts == opts)
                    .and_then(|s| s.layer.as_mut())
            }
            _ => None,
        };
        let (result_layer, overlay) = match self.result.as_mut().filter(|r| r.image_id == img.id) {
            Some(r) if mode == ViewMode::Overlay => {
                r.ensure_masks(ui.ctx(), max_side);
                let overlay = match &mut r.masks {
                    Masks::Ready(m) => Some(Overlay {
                        mask: &mut m.0,
                        background: &mut m.1,
                        style,
                        opacity,
                    }),
                    _ => None,
                };
                (Some(&mut r.layer), overlay)
            }
            Some(r) => (Some(errors.unwrap_or(&mut r.layer)), None),
            None => (None, None),
        };
        let (hover, _) = ui
            .allocate_ui(viewer_size, |ui| {
                self.viewer.show(
                    ui,
                    &mut img.layer,
                    result_layer,
                    mode,
                    &mut self.prefs.split,
                    busy,
                    overlay,
                    self.roi,
                )
            })
            .inner;
        self.hover = hover;
        if let Some(r) = self.viewer.roi_drawn.take() {
            // Within the image (a drag can start on its very edge); an empty one is none.
            self.roi = r.clip(size.0, size.1);
        }
        let readout = match hover {
            Some(h) => {
                let orig = img
                    .layer
                    .full
                    .value(h.x, h.y)
                    .map(describe_pixel)
                    .unwrap_or_default();
                let res = self
                    .result
                    .as_ref()
                    .filter(|r| r.image_id == img.id)
                    .and_then(|r| r.layer.full.value(h.x, h.y))
                    .map(describe_pixel)
                    .unwrap_or_else(|| "–".into());
                format!("x {} y {}   original {orig}   result {res}", h.x, h.y)
            }
            None => "Point at the image to read pixel values · wheel: zoom · drag: pan · \
                     Shift+drag: region for global levels · double-click: fit · hold Space: \
                     original"
                .to_owned(),
        };
        ui.label(RichText::new(readout).monospace());
        if let Some(t) = &self.truth {
            let name = t.path.file_name().map_or_else(
                || t.path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            let (text, color) = match self.metrics() {
                Some(Ok(m)) => (
                    format!(
                        "Against {name}: F-measure {:.2} % · pseudo-F {:.2} % · PSNR {:.2} dB · \
                         DRD {:.3} · {} false positives (red in Errors, E), {} false negatives \
                         (blue)",
                        m.f_measure,
                        m.pseudo_f_measure.unwrap_or(f64::NAN),
                        m.psnr,
                        m.drd,
                        m.confusion.fp,
                        m.confusion.fn_
                    ),
                    ui.visuals().text_color(),
                ),
                Some(Err(e)) => (format!("Against {name}: {e}"), ui.visuals().warn_fg_color),
                None => (
                    format!("Against {name}: scoring…"),
                    ui.visuals().weak_text_color(),
                ),
            };
            ui.add(egui::Label::new(RichText::new(text).color(color)).truncate());
        }
    }
}
