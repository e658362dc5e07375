//! The workers of a batch: each takes the next file, decodes it (or takes it decoded from
//! the reader with [`Strategy::Preload`](super::Strategy::Preload)), processes it on its own thread, and writes its
//! result.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Instant;

use super::config::{BatchConfig, Durability, FailOn};
use super::manifest::Manifest;
use super::plan::Item;
use super::quality::{GroundTruth, Quality};
use super::report::{ImageRecord, Outcome};
use crate::control::Control;
use crate::error::EngineError;
use crate::io::write_plane_atomic_with;
use crate::io::{Decoded as Read, MemoryBudget, ReadOptions, read_image_with, same_file};
use crate::job;
use crate::metrics::{evaluate_here, read_gray};
use crate::ops::Op;
use crate::pool::WorkerPool;

/// What the workers share.
pub(crate) struct Ctx<'a> {
    pub(crate) cfg: &'a BatchConfig,
    pub(crate) op: &'a Op,
    pub(crate) ctl: &'a Control,
    pub(crate) t0: Instant,
    pub(crate) items: &'a [Item],
    /// The names events and records give each item, when not the files processed (a batch
    /// on object storage processes scratch copies of its objects).
    pub(crate) shown: Option<&'a [Item]>,
    /// Output sub-folders already created.
    pub(crate) made_dirs: Mutex<HashSet<PathBuf>>,
    /// The memory all the images in flight share.
    pub(crate) budget: &'a MemoryBudget,
    /// What made each result in the output folder.
    pub(crate) manifest: &'a Manifest,
}

/// A decoded input (or why it could not be), from the reader thread; `None` when the
/// reader skipped it.
type Decoded<'a> = Option<Result<Read<'a>, Outcome>>;

/// The outcome of reading one input.
fn read_outcome(e: EngineError) -> Outcome {
    match e {
        EngineError::Cancelled => Outcome::Cancelled,
        e => Outcome::Failed(reason_of(&e)),
    }
}

impl<'a> Ctx<'a> {
    fn read_options(&self) -> ReadOptions<'a> {
        ReadOptions {
            limits: self.cfg.limits,
            control: Some(self.ctl),
            budget: Some(self.budget),
            depth: self.cfg.op.read_depth(),
        }
    }

    /// Runs each of the pool's N workers until `next` has nothing more for it (or the batch
    /// is cancelled): `next` gives the index of an item and, with preload, its decoded
    /// pixels. Returns every record made.
    fn on_workers(
        &self,
        pool: &WorkerPool,
        next: impl Fn() -> Option<(usize, Option<Decoded<'a>>)> + Sync,
    ) -> Vec<ImageRecord> {
        let per_worker: Vec<Vec<ImageRecord>> = pool.install(|| {
            rayon::broadcast(|b| {
                let mut out = Vec::new();
                while !self.ctl.is_cancelled() {
                    let Some((i, decoded)) = next() else {
                        break;
                    };
                    let shown = self.shown.map_or(&self.items[i], |s| &s[i]);
                    out.push(self.one(b.index(), &self.items[i], shown, decoded));
                }
                out
            })
        });
        per_worker.into_iter().flatten().collect()
    }

    /// Each of the N workers takes the next file in order until none is left.
    pub(crate) fn worker_reads(&self, pool: &WorkerPool) -> Vec<ImageRecord> {
        let next = AtomicUsize::new(0);
        self.on_workers(pool, || {
            let i = next.fetch_add(1, Ordering::Relaxed);
            (i < self.items.len()).then_some((i, None))
        })
    }

    /// One reader thread decodes in order into a bounded queue; N workers take from it.
    pub(crate) fn preload(&self, pool: &WorkerPool) -> Vec<ImageRecord> {
        let (tx, rx) = mpsc::sync_channel::<(usize, Decoded<'a>)>(self.cfg.queue_bound());
        let rx = Mutex::new(rx);
        std::thread::scope(|s| {
            let reader = std::thread::Builder::new()
                .name("tessera-reader".into())
                .spawn_scoped(s, move || {
                    for (i, item) in self.items.iter().enumerate() {
                        if self.ctl.is_cancelled() {
                            break;
                        }
                        let decoded = if self.needs_decode(item) {
                            let opts = self.read_options();
                            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                read_image_with(&item.input, &opts).map_err(read_outcome)
                            }))
                            .unwrap_or_else(|p| Err(Outcome::Failed(panic_reason(p.as_ref()))));
                            Some(r)
                        } else {
                            None
                        };
                        if tx.send((i, decoded)).is_err() {
                            break; // the workers stopped (cancel)
                        }
                    }
                });
            let records = self.on_workers(pool, || {
                // Err: all sent.
                let msg = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                msg.ok().map(|(i, decoded)| (i, Some(decoded)))
            });
            // Unblock the reader if it waits on a full queue, then let it end.
            drop(rx);
            if let Ok(r) = reader {
                let _ = r.join();
            }
            records
        })
    }

    /// Creates the folder of `output` if needed. The output folder itself exists from the
    /// start; sub-folders (recursive batches) are created once, by the first file that needs
    /// them.
    fn ensure_parent(&self, output: &Path) -> Result<(), String> {
        let Some(parent) = output.parent() else {
            return Ok(());
        };
        if parent.as_os_str().is_empty() || parent == self.cfg.output {
            return Ok(());
        }
        let mut made = self.made_dirs.lock().unwrap_or_else(|p| p.into_inner());
        if made.contains(parent) {
            return Ok(());
        }
        std::fs::create_dir_all(parent).map_err(|e| {
            format!(
                "cannot create the folder {}: {}",
                parent.display(),
                crate::io::io_reason(&e)
            )
        })?;
        made.insert(parent.to_path_buf());
        Ok(())
    }

    /// Whether `item`'s existing result is kept (`skip_existing` and the manifest says it
    /// came from this input with these settings).
    fn keeps(&self, item: &Item) -> bool {
        self.cfg.skip_existing && self.manifest.trusts(item)
    }

    fn needs_decode(&self, item: &Item) -> bool {
        item.problem.is_none() && !self.keeps(item)
    }

    /// Processes one file on this worker; never panics.
    fn one(
        &self,
        worker: usize,
        item: &Item,
        shown: &Item,
        decoded: Option<Decoded<'a>>,
    ) -> ImageRecord {
        let start = self.t0.elapsed();
        let mut megapixels = 0.0;
        let mut warnings = Vec::new();
        let mut input_meta = None;
        let mut quality = None;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            self.process(
                item,
                decoded,
                &mut megapixels,
                &mut warnings,
                &mut input_meta,
                &mut quality,
            )
        }))
        .unwrap_or_else(|p| Outcome::Failed(panic_reason(p.as_ref())));
        let end = self.t0.elapsed();
        let pixels = (megapixels * 1e6).round() as u64;
        if outcome == Outcome::Written {
            self.manifest.record(item, input_meta.as_ref());
        }
        self.ctl
            .file_done(&shown.input, &shown.output, &outcome, pixels, &warnings);
        ImageRecord {
            path: shown.input.clone(),
            output: shown.output.clone(),
            worker,
            start,
            end,
            megapixels,
            warnings,
            quality: quality.filter(|_| outcome == Outcome::Written),
            outcome,
        }
    }

    fn process(
        &self,
        item: &Item,
        decoded: Option<Decoded<'a>>,
        megapixels: &mut f64,
        warnings: &mut Vec<String>,
        input_meta: &mut Option<std::fs::Metadata>,
        quality: &mut Option<Quality>,
    ) -> Outcome {
        if let Some(p) = &item.problem {
            return Outcome::Failed(p.clone());
        }
        let read = match decoded {
            Some(Some(r)) => r,
            // The reader skipped it: its result is kept (skip_existing).
            Some(None) => return Outcome::Skipped,
            None if self.keeps(item) => return Outcome::Skipped,
            None => read_image_with(&item.input, &self.read_options()).map_err(read_outcome),
        };
        let Read {
            image: src,
            warnings: warned,
            permit,
            file,
            ..
        } = match read {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        *warnings = warned;
        *input_meta = file;
        *megapixels = src.megapixels();
        if !warnings.is_empty() && self.cfg.fail_on == FailOn::Warning {
            return Outcome::Failed(format!("{} (failing on warnings)", warnings.join("; ")));
        }
        let out = match job::run_here(&src, self.op, self.cfg.tile, self.ctl) {
            Ok(o) => o,
            Err(EngineError::Cancelled) => return Outcome::Cancelled,
            Err(e) => return Outcome::Failed(reason_of(&e)),
        };
        drop(src);
        if let Some(gt) = &self.cfg.ground_truth {
            *quality = Some(self.score(gt, item, &out.image));
        }
        if same_file(&item.input, &item.output) {
            return Outcome::Failed(format!(
                "its result {} is the input file itself; not overwritten",
                item.output.display()
            ));
        }
        if let Err(reason) = self.ensure_parent(&item.output) {
            return Outcome::Failed(reason);
        }
        let sync = self.cfg.durability == Durability::EachFile;
        let outcome = match write_plane_atomic_with(&out.image, &item.output, sync, self.cfg.png) {
            Ok(()) => Outcome::Written,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        // The image's memory goes back to the budget only now, once its result is out.
        drop((out, permit));
        outcome
    }
}

impl Ctx<'_> {
    /// One result against its ground truth, on this worker's thread.
    fn score(&self, gt: &GroundTruth, item: &Item, image: &crate::source::Plane) -> Quality {
        let unscored = |reason: String| Quality::Unscored {
            ground_truth_error: reason,
        };
        let path = match gt.find(&self.cfg.input, &item.input) {
            Ok(p) => p,
            Err(reason) => return unscored(reason),
        };
        if same_file(&path, &item.output) {
            return unscored(format!(
                "its ground truth {} is where its result goes",
                path.display()
            ));
        }
        let Some(result) = image.as_gray8() else {
            return unscored("the result is 16-bit; metrics judge an 8-bit mask".into());
        };
        let truth = match read_gray(&path, self.cfg.limits) {
            Ok(t) => t,
            Err(e) => return unscored(format!("ground truth {}", e)),
        };
        match evaluate_here(result, &truth, &gt.eval) {
            Ok(metrics) => Quality::Scored {
                ground_truth: path,
                metrics,
            },
            Err(e) => unscored(format!("against {}: {e}", path.display())),
        }
    }
}

/// The reason of an error without the path (the report names the file).
fn reason_of(e: &EngineError) -> String {
    match e {
        EngineError::Input { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn panic_reason(p: &(dyn std::any::Any + Send)) -> String {
    EngineError::from_panic(p).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_reported_for_its_file() {
        let r = std::panic::catch_unwind(|| panic!("boom in one image"))
            .map(|_: ()| Outcome::Written)
            .unwrap_or_else(|p| Outcome::Failed(panic_reason(p.as_ref())));
        assert_eq!(
            r,
            Outcome::Failed("internal error while processing: boom in one image".into())
        );
    }
}
