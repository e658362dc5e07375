//! Saving the result: the default name and folder, refusing the input file, confirming an
//! overwrite, and the background write.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_engine::source::Plane;

use super::Workbench;
use crate::ui::jobs::ImageOrigin;
use tessera_engine::io::{output_format, same_file};

impl Workbench {
    pub(super) fn default_save_name(&self) -> String {
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

    pub(super) fn save_folder(&self) -> Option<PathBuf> {
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
        if let Err(e) = tessera_engine::io::check_plane_format(&res.image, &path) {
            self.error = Some(e.to_string());
            return;
        }
        if path.exists() {
            self.confirm_overwrite = Some(path);
            return;
        }
        let image = res.image.clone();
        self.start_save(image, path);
    }

    fn start_save(&mut self, image: Arc<Plane>, path: PathBuf) {
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

    pub(super) fn overwrite_modal(&mut self, ctx: &egui::Context) {
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
}
