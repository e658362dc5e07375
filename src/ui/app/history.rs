//! Undo and redo of parameter changes, the list of settings tried on this image, the command
//! line that reproduces the shown result, and the shortcut sheet.

use egui::{RichText, Ui};

use super::Workbench;
use crate::ui::jobs::ImageOrigin;
use tessera_engine::TileSize;
use tessera_engine::ops::OpSettings;

/// Settings kept in the history.
pub const HISTORY_MAX: usize = 30;

/// The settings tried, oldest first, and which one the controls show.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<OpSettings>,
    at: usize,
}

impl History {
    /// Records `s` as the newest settings when they differ from the current entry; the
    /// entries after the current one (undone) are dropped, as in any editor.
    pub fn commit(&mut self, s: OpSettings) {
        if self.entries.get(self.at) == Some(&s) {
            return;
        }
        if !self.entries.is_empty() {
            self.entries.truncate(self.at + 1);
        }
        self.entries.push(s);
        if self.entries.len() > HISTORY_MAX {
            self.entries.remove(0);
        }
        self.at = self.entries.len() - 1;
    }

    /// The previous settings, if any.
    pub fn undo(&mut self) -> Option<OpSettings> {
        (self.at > 0).then(|| {
            self.at -= 1;
            self.entries[self.at]
        })
    }

    /// The settings undone last, if any.
    pub fn redo(&mut self) -> Option<OpSettings> {
        (self.at + 1 < self.entries.len()).then(|| {
            self.at += 1;
            self.entries[self.at]
        })
    }

    /// Goes to entry `i`.
    pub fn go(&mut self, i: usize) -> Option<OpSettings> {
        let s = *self.entries.get(i)?;
        self.at = i;
        Some(s)
    }

    pub fn entries(&self) -> &[OpSettings] {
        &self.entries
    }

    pub fn position(&self) -> usize {
        self.at
    }

    pub fn clear(&mut self) {
        *self = History::default();
    }
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `tessera run` command that makes the same result from `input`: every parameter, the
/// worker count and the tiles (which do not change the pixels), written to `output`.
pub fn command_line(
    input: &str,
    output: &str,
    s: &OpSettings,
    workers: usize,
    tile: TileSize,
) -> String {
    let mut c = format!(
        "tessera run {} -o {} --op {} --type {}",
        shell_quote(input),
        shell_quote(output),
        s.op,
        s.kind
    );
    if let Some(like) = s.like.filter(|_| s.op.anchors().len() > 1) {
        c += &format!(" --like {like}");
    }
    c += &format!(" --max-value {}", s.max_value);
    // Every parameter the op uses, its default written out too (the command does not
    // depend on tessera's defaults staying the same) — except scikit-image's Sauvola `r`
    // left at its default, which depends on the image's depth (127.5 or 32767.5).
    let dtype_r =
        matches!(s.anchor(), Ok(tessera_engine::ops::Anchor::Skimage)) && s.local.r.is_none();
    for (p, _) in s.params() {
        if p == tessera_engine::ops::Param::R && dtype_r {
            continue;
        }
        c += &format!(" {} {}", p.flag(), s.param(p));
    }
    c += &format!(" --depth {}", s.depth);
    if let Some(n) = s.bins {
        c += &format!(" --bins {n}");
    }
    c += &format!(" --workers {workers} --tile {tile}");
    c
}

impl Workbench {
    /// Records the settings as history once a change is finished (no button held, no text
    /// being typed), so a slider drag is one step.
    pub(super) fn commit_history(&mut self, ctx: &egui::Context) {
        if self.image.is_none() {
            return;
        }
        let busy_input = ctx.input(|i| i.pointer.any_down()) || ctx.text_edit_focused();
        if !busy_input {
            self.history.commit(self.prefs.settings);
        }
    }

    /// Back to the previous settings (Ctrl+Z).
    pub fn undo(&mut self) {
        self.history.commit(self.prefs.settings);
        if let Some(s) = self.history.undo() {
            self.prefs.settings = s;
        }
    }

    /// Forward again (Ctrl+Shift+Z or Ctrl+Y).
    pub fn redo(&mut self) {
        if let Some(s) = self.history.redo() {
            self.prefs.settings = s;
        }
    }

    /// The settings tried on this image, oldest first, and which one is current.
    pub fn history(&self) -> (&[OpSettings], usize) {
        (self.history.entries(), self.history.position())
    }

    /// The `tessera run` command that reproduces the shown result (`None` without one).
    pub fn result_command(&self) -> Option<String> {
        let img = self.image.as_ref()?;
        let res = self.result.as_ref().filter(|r| r.image_id == img.id)?;
        let input = match &img.origin {
            ImageOrigin::File(p) => p.display().to_string(),
            ImageOrigin::Sample(n) => format!("{n} (the embedded sample: save it as a file)"),
        };
        let output = self.default_save_name();
        Some(command_line(
            &input,
            &output,
            &res.settings,
            res.stats.workers,
            self.prefs.tile,
        ))
    }

    pub(super) fn history_controls(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.strong("History");
            let (entries, at) = (self.history.entries().len(), self.history.position());
            if ui
                .add_enabled(at > 0, egui::Button::new("Undo").small())
                .on_hover_text("Back to the previous settings (Ctrl+Z)")
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(at + 1 < entries, egui::Button::new("Redo").small())
                .on_hover_text("Forward again (Ctrl+Shift+Z or Ctrl+Y)")
                .clicked()
            {
                self.redo();
            }
            if ui
                .add_enabled(
                    self.result.is_some(),
                    egui::Button::new("Copy command").small(),
                )
                .on_hover_text(
                    "Copy the `tessera run` command that makes the shown result from this image",
                )
                .clicked()
                && let Some(cmd) = self.result_command()
            {
                ui.ctx().copy_text(cmd.clone());
                self.notice = Some(format!("Copied: {cmd}"));
            }
        });
        let mut go = None;
        egui::CollapsingHeader::new(format!("Settings tried ({})", self.history.entries().len()))
            .id_salt("settings-history")
            .show(ui, |ui| {
                for (i, s) in self.history.entries().iter().enumerate().rev().take(12) {
                    let text = s.to_op().map_or_else(|e| e.to_string(), |o| o.describe());
                    let current = i == self.history.position();
                    if ui
                        .selectable_label(current, RichText::new(text).small())
                        .on_hover_text("Restore these settings")
                        .clicked()
                    {
                        go = Some(i);
                    }
                }
            });
        if let Some(i) = go
            && let Some(s) = self.history.go(i)
        {
            self.prefs.settings = s;
        }
    }

    pub(super) fn shortcut_sheet(&mut self, ctx: &egui::Context) {
        if !self.show_shortcuts {
            return;
        }
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
                    for (k, what) in SHORTCUTS {
                        ui.monospace(*k);
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            });
        self.show_shortcuts = open;
    }
}

/// Every shortcut of the workbench, as the sheet (F1 or ?) lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+O", "Open an image"),
    ("Ctrl+S", "Save the shown result"),
    ("Ctrl+Z", "Undo a parameter change"),
    ("Ctrl+Shift+Z, Ctrl+Y", "Redo"),
    (
        "R / O / S / D / V",
        "Result / original / split / side by side / overlay",
    ),
    ("Space (hold)", "Show the original"),
    ("F, double-click", "Fit the image in the view"),
    ("1", "One image pixel per screen pixel"),
    ("+ / -, wheel", "Zoom in / out"),
    ("Drag", "Pan (or move the split divider)"),
    (
        "Press or drag on the histogram",
        "Set a fixed threshold there",
    ),
    ("F1 or ?", "This sheet"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_engine::ops::OpKind;

    #[test]
    fn undo_redo_and_a_new_change_drops_the_undone_ones() {
        let a = OpSettings::default();
        let b = OpSettings { c: 5.0, ..a };
        let c = OpSettings { c: 9.0, ..a };
        let mut h = History::default();
        h.commit(a);
        h.commit(a);
        h.commit(b);
        h.commit(c);
        assert_eq!(h.entries().len(), 3);
        assert_eq!(h.undo(), Some(b));
        assert_eq!(h.undo(), Some(a));
        assert_eq!(h.undo(), None);
        assert_eq!(h.redo(), Some(b));
        let d = OpSettings {
            op: OpKind::Otsu,
            ..a
        };
        h.commit(d);
        assert_eq!(h.entries(), &[a, b, d]);
        assert_eq!(h.redo(), None);
    }

    #[test]
    fn the_command_line_quotes_paths_and_names_every_parameter_the_op_uses() {
        let s = OpSettings {
            op: OpKind::AdaptiveMean,
            block_size: 31,
            c: 7.5,
            ..OpSettings::default()
        };
        assert_eq!(
            command_line("my scans/it's.png", "out.png", &s, 2, TileSize::Auto),
            "tessera run 'my scans/it'\\''s.png' -o out.png --op adaptive-mean --type binary \
             --max-value 255 --block-size 31 --c 7.5 --depth native --workers 2 --tile auto"
        );
        let s = OpSettings {
            op: OpKind::Sauvola,
            like: Some(tessera_engine::ops::Anchor::Fiji),
            ..OpSettings::default()
        };
        assert_eq!(
            command_line("in.png", "out.png", &s, 1, TileSize::Auto),
            "tessera run in.png -o out.png --op sauvola --type binary --like fiji \
             --max-value 255 --radius 15 --k 0.5 --r 128 --depth native --workers 1 --tile auto"
        );
        // scikit-image's Sauvola with its default r (half the dtype's range): no --r, so
        // the command gives the same r on an 8- or a 16-bit image; depth and bins written.
        let s = OpSettings {
            op: OpKind::Sauvola,
            like: Some(tessera_engine::ops::Anchor::Skimage),
            depth: tessera_engine::Depth::Eight,
            bins: Some(64),
            ..OpSettings::default()
        };
        assert_eq!(
            command_line("in.png", "out.png", &s, 1, TileSize::Auto),
            "tessera run in.png -o out.png --op sauvola --type binary --like skimage \
             --max-value 255 --block-size 11 --k 0.2 --depth 8 --bins 64 --workers 1 --tile auto"
        );
    }
}
