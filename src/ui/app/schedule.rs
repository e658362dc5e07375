//! The workbench's background work: opening images, starting a job when the image or the
//! settings change, taking the reports of its tasks, and the file dialogs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Masks, OpenImage, Outcome, QUICK_JOB, RUNS_KEPT, Request, ResultView, Workbench};
use crate::assets::SAMPLES;
use crate::ui::charts::RunRecord;
use crate::ui::jobs::{ImageOrigin, Msg, Pick, Processed};
use crate::ui::view::{FullRes, Layer, Real};
use tessera_engine::{EngineError, JobConfig, TileSize};

impl Workbench {
    /// Opens an image file (decoded in the background; the current image stays until then).
    pub fn open_file(&mut self, path: PathBuf) {
        let side = self.preview_side();
        let depth = self.prefs.settings.depth;
        self.jobs.load(ImageOrigin::File(path), None, side, depth);
    }

    /// Opens the open image again at the depth the controls ask for (16-bit kept or read as
    /// 8-bit), when it was read at the other one.
    pub(super) fn reload_at_depth(&mut self) {
        let depth = self.prefs.settings.depth;
        let Some(img) = &self.image else { return };
        if img.read_at == depth || self.jobs.loading.is_some() {
            return;
        }
        let origin = img.origin.clone();
        let bytes = match &origin {
            ImageOrigin::Sample(n) => SAMPLES.iter().find(|s| s.name == *n).map(|s| s.bytes),
            ImageOrigin::File(_) => None,
        };
        let side = self.preview_side();
        self.jobs.load(origin, bytes, side, depth);
    }

    /// Opens the embedded sample number `i`.
    pub fn open_sample(&mut self, i: usize) {
        let Some(s) = SAMPLES.get(i) else { return };
        let side = self.preview_side();
        let depth = self.prefs.settings.depth;
        self.jobs
            .load(ImageOrigin::Sample(s.name), Some(s.bytes), side, depth);
    }

    /// Cancels the running job.
    pub fn cancel(&mut self) {
        if self.jobs.cancel() {
            self.outcome = Outcome::Cancelled;
        }
    }

    pub(super) fn pick_open(&mut self) {
        self.dialog_started = Some(Instant::now());
        let folder = self.prefs.last_folder.clone();
        self.jobs.pick_file(Pick::Open, folder, None);
    }

    pub(super) fn pick_save(&mut self) {
        self.dialog_started = Some(Instant::now());
        let folder = self.save_folder();
        let name = self.default_save_name();
        self.jobs.pick_file(Pick::Save, folder, Some(name));
    }

    pub(super) fn handle_messages(&mut self) {
        while let Some(msg) = self.jobs.try_recv() {
            match msg {
                Msg::Loaded { request, result } => {
                    if !self.jobs.is_current_load(request) {
                        continue;
                    }
                    let name = self.jobs.loading.take().map(|l| l.1).unwrap_or_default();
                    match result {
                        Ok(loaded) => {
                            self.image_counter += 1;
                            let full = match &loaded.shown {
                                Some((shown, range)) => FullRes::Wide {
                                    real: Real::Source(loaded.source.clone()),
                                    shown: shown.clone(),
                                    range: *range,
                                },
                                None => FullRes::Source(loaded.source.clone()),
                            };
                            let layer = Layer::new(
                                &self.ctx,
                                &format!("original-{}", self.image_counter),
                                full,
                                loaded.preview,
                                self.max_texture_side,
                            );

                            if let ImageOrigin::File(p) = &loaded.origin {
                                self.prefs.remember_file(p);
                                self.open_field = p.display().to_string();
                            }
                            self.error = None;
                            self.result = None;
                            self.save_field.clear();
                            // The history and the region are of this image.
                            self.history.clear();
                            self.roi = None;
                            self.display_range = loaded.shown.as_ref().map(|s| s.1);
                            self.display_pending = None;
                            self.image = Some(OpenImage {
                                id: self.image_counter,
                                origin: loaded.origin,
                                source: loaded.source,
                                source8: loaded.source8,
                                histogram: loaded.histogram,
                                scale: loaded.scale,
                                levels: loaded.levels,
                                read_at: loaded.depth,
                                range: loaded.shown.as_ref().map(|s| s.1),
                                layer,
                                decode_time: loaded.decode_time,
                                warnings: loaded.warnings,
                            });
                        }
                        Err(e) => {
                            let kept = if self.image.is_some() {
                                " The previous image stays open."
                            } else {
                                ""
                            };
                            self.error = Some(format!("Could not open {name}: {e}.{kept}"));
                            // The path field shows the file that is open, not the one that
                            // failed.
                            self.open_field = self
                                .image
                                .as_ref()
                                .and_then(|i| i.origin.path())
                                .map(|p| p.display().to_string())
                                .unwrap_or_default();
                        }
                    }
                }
                Msg::Processed { generation, result } => {
                    if !self.jobs.is_current_job(generation) {
                        continue;
                    }
                    let wall = self.jobs.running.take().map(|r| r.started.elapsed());
                    match result {
                        Ok(p) => {
                            self.last_job_wall = wall;
                            self.accept_result(*p)
                        }
                        Err(EngineError::Cancelled) => self.outcome = Outcome::Cancelled,
                        Err(e) => {
                            self.outcome = Outcome::Failed(e.to_string());
                            self.error = Some(format!("Processing failed: {e}"));
                        }
                    }
                }
                Msg::TryAllCell { request, cell } => self.try_all_cell(request, *cell),
                Msg::TryAllDone { request, result } => self.try_all_done(request, result),
                Msg::Redisplayed(r) => self.accept_redisplay(*r),
                Msg::RedisplayFailed => {}
                Msg::TruthLoaded {
                    request,
                    path,
                    result,
                } => self.truth_loaded(request, path, result),
                Msg::Scored {
                    generation,
                    truth_id,
                    opts,
                    result,
                } => self.scored((generation, truth_id, opts), result),
                Msg::Saved { path, result } => {
                    self.jobs.saving = None;
                    match result {
                        Ok(t) => {
                            // A success replaces an old error: what is on screen is current.
                            self.error = None;
                            self.notice = Some(format!(
                                "Saved {} ({:.0} ms).",
                                path.display(),
                                t.as_secs_f64() * 1e3
                            ));
                            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                                self.prefs.last_folder = Some(dir.to_path_buf());
                            }
                        }
                        Err(e) => {
                            self.notice = None;
                            self.error = Some(format!("Could not save: {e}"));
                        }
                    }
                }
                Msg::Picked { pick, result } => {
                    self.jobs.dialog_open = false;
                    let quick = self
                        .dialog_started
                        .take()
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(400));
                    let path = match result {
                        Ok(path) => path,
                        Err(e) => {
                            self.error = Some(format!("Could not show a file dialog: {e}"));
                            continue;
                        }
                    };
                    match (pick, path) {
                        (Pick::Open, Some(p)) => self.open_file(p),
                        (Pick::Save, Some(p)) => self.request_save(p),
                        (Pick::Truth, Some(p)) => self.load_ground_truth(p),
                        (_, None) if quick => {
                            self.notice = Some(
                                "No file dialog is available here (no desktop portal): type \
                                 a path in the field instead."
                                    .into(),
                            )
                        }
                        (_, None) => {}
                    }
                }
            }
        }
    }

    /// Asks for display copies at the display range the controls show, when it changed.
    pub(super) fn maybe_redisplay(&mut self) {
        let Some(img) = &self.image else { return };
        let (Some(want), Some(shown)) = (self.display_range, img.range) else {
            return;
        };
        if want == shown || self.display_pending == Some(want) {
            return;
        }
        self.display_pending = Some(want);
        let result = self
            .result
            .as_ref()
            .filter(|r| r.image_id == img.id && r.image.bit_depth() == 16)
            .map(|r| (r.generation, r.image.clone()));
        let side = self.preview_side();
        self.jobs
            .redisplay(img.id, img.source.clone(), result, want, side);
    }

    fn accept_redisplay(&mut self, r: crate::ui::jobs::Redisplayed) {
        if !self.jobs.is_current_redisplay(r.request) {
            return;
        }
        self.display_pending = None;
        let Some(img) = &mut self.image else { return };
        if img.id != r.image_id {
            return;
        }
        let (shown, preview) = r.source;
        img.layer = Layer::new(
            &self.ctx,
            &format!("original-{}-{}-{}", img.id, r.range.0, r.range.1),
            FullRes::Wide {
                real: Real::Source(img.source.clone()),
                shown,
                range: r.range,
            },
            preview,
            self.max_texture_side,
        );
        img.range = Some(r.range);
        if let (Some((generation, shown, preview)), Some(res)) = (r.result, &mut self.result)
            && res.generation == generation
        {
            res.layer = Layer::new(
                &self.ctx,
                &format!("result-{generation}-{}-{}", r.range.0, r.range.1),
                FullRes::Wide {
                    real: Real::Plane(res.image.clone()),
                    shown,
                    range: r.range,
                },
                preview,
                self.max_texture_side,
            );
        }
    }

    fn accept_result(&mut self, p: Processed) {
        let Some(img) = &self.image else { return };
        let layer = Layer::new(
            &self.ctx,
            &format!("result-{}", p.generation),
            match (&*p.image, &p.shown) {
                (tessera_engine::source::Plane::Gray8(_), _) | (_, None) => {
                    FullRes::Plane(p.image.clone())
                }
                (_, Some((shown, range))) => FullRes::Wide {
                    real: Real::Plane(p.image.clone()),
                    shown: shown.clone(),
                    range: *range,
                },
            },
            p.preview,
            self.max_texture_side,
        );
        // The overlay's masks are uploaded only when the overlay is first shown: most results
        // (a slider being dragged) are never seen as one.
        let masks = Masks::Pending {
            previews: p.mask_previews,
            factor: layer.preview_factor(),
            generation: p.generation,
        };
        let tile_label = match p.tile {
            TileSize::Auto => "auto".to_owned(),
            TileSize::Square(e) => format!("{e}"),
        };
        self.runs.push(RunRecord {
            image_id: img.id,
            image_name: img.origin.name(),
            op: p.op.describe(),
            workers: p.stats.workers,
            tile_label,
            tile: p.stats.tile,
            tiles: p.stats.tiles,
            compute: p.stats.compute,
            megapixels: p.megapixels,
        });
        if self.runs.len() > RUNS_KEPT {
            self.runs.remove(0);
        }
        self.outcome = Outcome::Done;
        self.result = Some(ResultView {
            generation: p.generation,
            image_id: img.id,
            image: p.image,
            level: p.level,
            levels: p.levels,
            stats: p.stats,
            settings: p.settings,
            op: p.op,
            megapixels: p.megapixels,
            layer,
            masks,
            roi: p.roi,
            roi_histogram: p.roi_histogram,
        });
    }

    /// Starts a job when the image or the settings changed since the last one (see
    /// [`QUICK_JOB`] for when it waits for the running one).
    pub(super) fn maybe_start_job(&mut self) {
        let Some(img) = &self.image else { return };
        let want = Request {
            image_id: img.id,
            settings: self.prefs.settings,
            workers: self.prefs.workers,
            tile: self.prefs.tile,
            nonce: self.nonce,
            roi: self.effective_roi(),
        };
        if self.last_request == Some(want) {
            return;
        }
        // A quick job on the same image still running is let finish, and the newest settings
        // start right after it (a repaint comes with its result): while a slider is dragged
        // the view then follows at the job's own rate, instead of every change cancelling the
        // job before it can show anything. A slow job (over QUICK_JOB last time) is cancelled
        // and restarted at once, as before, so a change never waits long behind a stale job.
        let same_image = self
            .last_request
            .is_some_and(|r| r.image_id == want.image_id);
        let quick = self.last_job_wall.is_none_or(|d| d <= QUICK_JOB);
        if let Some(running) = &self.jobs.running
            && same_image
            && quick
            && running.started.elapsed() < 2 * QUICK_JOB
        {
            self.ctx.request_repaint_after(Duration::from_millis(20));
            return;
        }
        if !same_image {
            self.last_job_wall = None;
        }
        self.last_request = Some(want);
        match self.prefs.settings.to_op() {
            Ok(op) => {
                self.invalid = None;
                // An op with no 16-bit form runs on the image read at 8 bits, as its anchor
                // (OpenCV's imread) reads it.
                let Some(source) = self.source() else { return };
                let cfg = JobConfig {
                    workers: self.prefs.workers,
                    tile: self.prefs.tile,
                };
                let side = self.preview_side();
                let shown = self.display_range.or(img.range).unwrap_or((0, 255));
                let display = (side, shown, img.scale);
                self.jobs
                    .process(source, self.prefs.settings, op, cfg, want.roi, display);
                self.outcome = Outcome::Running;
            }
            Err(e) => {
                self.jobs.cancel();
                self.invalid = Some(e.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Outcome, Startup, Workbench};
    use crate::ui::task::fail_spawns;
    use std::path::PathBuf;

    #[test]
    fn a_load_or_job_whose_thread_cannot_start_ends_with_an_error() {
        let ctx = egui::Context::default();
        let mut app = Workbench::new(&ctx, None, Startup::Nothing);
        fail_spawns(true);
        app.open_file(PathBuf::from("photo.png"));
        fail_spawns(false);
        assert!(app.is_loading());
        app.drain_background();
        assert!(!app.is_busy(), "the spinner never stops");
        let e = app.error().unwrap_or_default().to_owned();
        assert!(e.contains("Could not open photo.png: cannot start"), "{e}");

        // A real image, then a job that cannot start.
        app.open_sample(0);
        app.jobs.wait_all();
        app.drain_background();
        assert!(app.image_name().is_some(), "{:?}", app.error());
        fail_spawns(true);
        app.maybe_start_job();
        fail_spawns(false);
        assert_eq!(app.outcome(), &Outcome::Running);
        app.drain_background();
        assert!(!app.is_busy(), "the job still reads as running");
        match app.outcome() {
            Outcome::Failed(e) => assert!(e.contains("cannot start the tessera-job"), "{e}"),
            o => panic!("outcome {o:?}"),
        }
    }
}
