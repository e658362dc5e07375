//! The workbench's side panel: the image, the operation and its parameters, the execution
//! settings, the job's status and the output.

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};

use super::{MAX_TILE, MIN_TILE, Outcome, Workbench, max_workers, window_default_settings};
use crate::assets::SAMPLES;
use tessera_engine::TileSize;
use tessera_engine::ops::{Anchor, OpGroup, OpKind, Param, ThresholdType};
use tessera_engine::pool::available_cores;

impl Workbench {
    /// The depth images are read at, and a 16-bit image's display range.
    fn depth_controls(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label("Depth");
            let d = &mut self.prefs.settings.depth;
            for (depth, label, tip) in [
                (
                    tessera_engine::Depth::Native,
                    "native",
                    "16-bit images stay 16-bit: gray, trunc and tozero results are 16-bit, \
                     levels are in 16-bit units (--depth native)",
                ),
                (
                    tessera_engine::Depth::Eight,
                    "8-bit",
                    "Every image read as OpenCV's imread(IMREAD_COLOR) reads it: 16-bit \
                     samples become 8-bit (--depth 8)",
                ),
            ] {
                ui.selectable_value(d, depth, label).on_hover_text(tip);
            }
        });
        let Some(img) = &self.image else { return };
        if img.source8.is_some() && self.prefs.settings.read_depth() == tessera_engine::Depth::Eight
        {
            ui.label(
                RichText::new(format!(
                    "{} has no 16-bit form: it runs on the image read at 8 bits, as OpenCV's \
                     imread reads it",
                    self.prefs.settings.op.label()
                ))
                .small()
                .color(ui.visuals().warn_fg_color),
            );
        }
        let Some(shown) = img.range else { return };
        let auto = crate::ui::jobs::sample_range(&img.source);
        let (mut lo, mut hi) = self.display_range.unwrap_or(shown);
        ui.horizontal(|ui| {
            ui.label("Display").on_hover_text(
                "The 16-bit values shown black and white (the readout and every result \
                     keep the real values; 16-bit results are shown on the same range)",
            );
            let a = ui.add(egui::DragValue::new(&mut lo).range(0..=65535).speed(16.0));
            ui.label("–");
            let b = ui.add(egui::DragValue::new(&mut hi).range(0..=65535).speed(16.0));
            if a.changed() || b.changed() {
                self.display_range = Some((lo.min(hi), hi.max(lo)));
            }
            if ui
                .add_enabled((lo, hi) != auto, egui::Button::new("Auto"))
                .on_hover_text(format!(
                    "The image's own range: {}..{} (its darkest and brightest samples)",
                    auto.0, auto.1
                ))
                .clicked()
            {
                self.display_range = Some(auto);
            }
            if self.display_pending.is_some() {
                ui.spinner();
            }
        });
    }

    pub(super) fn controls(&mut self, ui: &mut Ui) {
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
                // Truncated: a long name must not widen the panel for good.
                ui.add(egui::Label::new(format!("Opening {name}…")).truncate());
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
            for w in &img.warnings {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    RichText::new(format!("Decoder warning: {w}")).small(),
                )
                .on_hover_text(
                    "The file is damaged; it was decoded as OpenCV does (the missing part is \
                     grey). Results made from it carry that.",
                );
            }
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
        self.depth_controls(ui);
        ui.separator();
        self.op_controls(ui);
        ui.separator();
        self.history_controls(ui);
        ui.separator();
        self.exec_controls(ui);
        ui.separator();
        self.job_status(ui);
        ui.separator();
        self.truth_controls(ui);
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
                    .height(600.0)
                    .show_ui(ui, |ui| {
                        // Three columns, one per family: every method visible at once.
                        ui.horizontal_top(|ui| {
                            for (group, title) in [
                                (OpGroup::OpenCv, "OpenCV"),
                                (OpGroup::Global, "Global automatic level"),
                                (OpGroup::Local, "Local (per pixel)"),
                                (OpGroup::MultiLevel, "Multi-level"),
                            ] {
                                ui.vertical(|ui| {
                                    ui.set_min_width(150.0);
                                    ui.label(RichText::new(title).small().strong());
                                    for k in OpKind::ALL.into_iter().filter(|k| k.group() == group)
                                    {
                                        ui.selectable_value(&mut s.op, k, k.label())
                                            .on_hover_text(op_tooltip(k));
                                    }
                                });
                            }
                        });
                    })
                    .response
                    .on_hover_text(
                        "What to compute: grayscale only, a fixed or automatic global \
                         threshold (OpenCV, ImageJ, Fiji), or a local threshold per pixel",
                    )
                    .labelled_by(l.id);
                ui.end_row();

                let anchors = s.op.anchors();
                if s.like.is_some_and(|a| !anchors.contains(&a)) {
                    s.like = None;
                }
                let current = s.anchor().unwrap_or(Anchor::OpenCv);
                let l = ui.label("Like");
                ui.add_enabled_ui(anchors.len() > 1, |ui| {
                    egui::ComboBox::from_id_salt("implementation")
                        .selected_text(if anchors.is_empty() {
                            "the paper".to_owned()
                        } else {
                            current.label().to_owned()
                        })
                        .width(170.0)
                        .show_ui(ui, |ui| {
                            for &a in anchors {
                                let mut sel = current;
                                if ui.selectable_value(&mut sel, a, a.label()).clicked() {
                                    s.like = (a != anchors[0]).then_some(a);
                                }
                            }
                        })
                        .response
                        .on_hover_text(
                            "Whose definition to reproduce bit for bit, where trusted \
                             implementations differ (the command line's --like)",
                        )
                        .on_disabled_hover_text("This method has one definition")
                        .labelled_by(l.id);
                });
                ui.end_row();

                let allowed = s.allowed_types();
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
                    egui::Slider::new(&mut s.thresh, 0.0..=255.0)
                        .step_by(1.0)
                        // Typed values take effect on Enter or when the field loses focus,
                        // not at every keystroke ("255" would run block 2 and 25 first).
                        .update_while_editing(false),
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
                    egui::Slider::new(&mut s.max_value, 0.0..=255.0)
                        .step_by(1.0)
                        // Typed values take effect on Enter or when the field loses focus,
                        // not at every keystroke ("255" would run block 2 and 25 first).
                        .update_while_editing(false),
                )
                .on_hover_text("The value given to passing pixels (binary types)")
                .labelled_by(l.id);
                ui.end_row();

                let params = s.params();
                let uses = |p: Param| params.iter().any(|(q, _)| *q == p);
                let l = ui.label("Block size");
                let mut block = s.block_size.clamp(3, 255);
                let r = ui
                    .add_enabled(
                        uses(Param::BlockSize),
                        egui::Slider::new(&mut block, 3..=255)
                            .step_by(2.0)
                            // Typed values take effect on Enter or when the field loses focus,
                            // not at every keystroke ("255" would run block 2 and 25 first).
                            .update_while_editing(false),
                    )
                    .on_hover_text(
                        "Side of the square neighbourhood the adaptive level is computed over \
                         (odd, in pixels). Larger blocks follow slower lighting changes.",
                    )
                    .on_disabled_hover_text("Only the square-window methods use a block")
                    .labelled_by(l.id);
                if r.changed() || block != s.block_size.clamp(3, 255) {
                    s.block_size = block | 1;
                }
                ui.end_row();

                let l = ui.label("C");
                let fiji_c = uses(Param::FijiC);
                let mut c = if fiji_c { s.param(Param::FijiC) } else { s.c };
                let r = ui
                    .add_enabled(
                        uses(Param::C) || fiji_c,
                        egui::Slider::new(&mut c, -50.0..=50.0)
                            .step_by(if fiji_c { 1.0 } else { 0.5 })
                            // Typed values take effect on Enter or when the field loses
                            // focus, not at every keystroke.
                            .update_while_editing(false),
                    )
                    .on_hover_text(
                        "Subtracted from the local level: a pixel passes when it is brighter \
                         than the level minus C. Larger C: fewer dark pixels. (Fiji truncates \
                         C to an integer, and 0 means its default.)",
                    )
                    .on_disabled_hover_text("Only the adaptive methods and Fiji's use C")
                    .labelled_by(l.id);
                if r.changed() {
                    if fiji_c {
                        s.set_param(Param::FijiC, c);
                    } else {
                        s.c = c;
                    }
                }
                ui.end_row();

                for (p, _) in params.iter().copied() {
                    let (range, step, tip) = match p {
                        Param::Radius => (
                            1.0..=100.0,
                            1.0,
                            "Radius of Fiji's circular neighbourhood, in pixels",
                        ),
                        Param::K => (
                            -1.0..=1.0,
                            0.01,
                            "Weight of the local standard deviation (Fiji: 0 means its default)",
                        ),
                        Param::R if s.op == OpKind::Phansalkar => (
                            0.05..=2.0,
                            0.01,
                            "Dynamic range of the standard deviation on the 0..1 image \
                             (Fiji: 0 means its default, 0.5)",
                        ),
                        Param::R => (
                            1.0..=255.0,
                            0.5,
                            "Dynamic range of the standard deviation (Sauvola's R; Fiji: 0 \
                             means its default)",
                        ),
                        Param::T => (
                            0.0..=100.0,
                            1.0,
                            "Percent below the local mean a pixel must be to be background",
                        ),
                        Param::Contrast => (
                            0.0..=255.0,
                            1.0,
                            "Below this local contrast, a neighbourhood is one class",
                        ),
                        Param::Classes => (
                            2.0..=5.0,
                            1.0,
                            "How many classes multi-Otsu splits the histogram into (the \
                             result shows class i as i/(classes − 1) of max value)",
                        ),
                        _ => continue,
                    };
                    let l = ui.label(p.label());
                    let old = s.param(p);
                    let mut v = old;
                    let r = ui
                        .add(
                            egui::Slider::new(&mut v, range)
                                .step_by(step)
                                .update_while_editing(false),
                        )
                        .on_hover_text(tip)
                        .labelled_by(l.id);
                    // The slider snaps to its steps: keep the value on the step's decimal
                    // grid (0.2, not 0.19999999999999996) and write it back only when it
                    // really moved, so showing a default does not turn it into a setting.
                    let v = (v / step).round() * step;
                    let v = format!("{v:.4}").parse().unwrap_or(v);
                    if r.changed() && (v - old).abs() > 1e-9 {
                        s.set_param(p, v);
                    }
                    ui.end_row();
                }
            });
        // Always one line, so the controls below never move when it appears.
        if self.prefs.settings.op == OpKind::MultiOtsu {
            let text = match (&self.result, self.jobs.running.is_some()) {
                (Some(r), false) if r.settings.op == OpKind::MultiOtsu => {
                    let l: Vec<String> = r.levels.iter().map(|v| v.to_string()).collect();
                    format!("Levels found: {}", l.join(", "))
                }
                _ => "Levels found: computing…".to_owned(),
            };
            ui.label(
                RichText::new(text)
                    .strong()
                    .color(Color32::from_rgb(255, 120, 100)),
            )
            .on_hover_text("The levels between the classes multi-Otsu chose for this image");
        } else if self.prefs.settings.op.finds_level() {
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
        } else {
            ui.label(RichText::new("Level found: – (global methods only)").weak())
                .on_hover_text("The global methods find one level; this op does not");
        }
        if let Some(e) = &self.invalid {
            ui.colored_label(Color32::from_rgb(255, 110, 90), e);
        }
        let can_try = self.image.is_some();
        if ui
            .add_enabled(can_try, egui::Button::new("Try all methods…"))
            .on_hover_text(
                "Every threshold method (OpenCV, ImageJ, Fiji, scikit-image, Bradley) on a \
                 small preview of this image, side by side; click one to use it",
            )
            .on_disabled_hover_text("Open an image first")
            .clicked()
        {
            self.start_try_all();
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
                ui.add(
                    egui::Slider::new(&mut self.prefs.workers, 1..=max_workers())
                        .update_while_editing(false),
                )
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
                                .suffix(" px")
                                .update_while_editing(false),
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
            let (done, total) = r.control.tiles();
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
        if let Some(shown) = self.result_label() {
            let text = format!("Saves the shown result: {shown}");
            if self.result_matches_controls() {
                ui.label(RichText::new(text).small());
            } else {
                ui.label(
                    RichText::new(format!("{text} (not the current settings)"))
                        .small()
                        .color(Color32::from_rgb(240, 190, 80)),
                )
                .on_hover_text("Press Update above the image first to save the current settings");
            }
        }
        if let Some(n) = &self.notice {
            ui.label(RichText::new(n).small());
        }
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
    k.summary()
}
