//! A folder batch as a sweep workload: every run is a whole `engine::batch` run (discover,
//! decode, process, encode, write) on the sweep's pool, one image per worker at a time.

use std::path::Path;

use super::{ItemRecord, RunSample, Workload, WorkloadInfo};
use crate::batch::{self, BatchConfig};
use crate::control::Control;
use crate::error::EngineError;
use crate::ops::OpSettings;
use crate::pool::WorkerPool;
use crate::tile::TileSize;

/// Times `tessera batch INPUT -o <temporary folder>` with the given operation. The results go
/// to a private temporary folder (removed with the workload) and are overwritten by each run,
/// so every run does the same work, writing included.
pub struct FolderWorkload {
    cfg: BatchConfig,
    info: WorkloadInfo,
    _out: tempfile::TempDir,
}

impl FolderWorkload {
    /// The temporary folder the timed batches write into (removed when the workload is
    /// dropped).
    pub fn scratch_dir(&self) -> &Path {
        self._out.path()
    }

    /// Validates the batch settings and counts the folder's images; an empty folder is a
    /// usage error.
    pub fn new(input: &Path, recursive: bool, settings: &OpSettings) -> Result<Self, EngineError> {
        let out = tempfile::Builder::new()
            .prefix("tessera-bench-")
            .tempdir()
            .map_err(|e| EngineError::Output {
                path: std::env::temp_dir(),
                reason: format!("cannot create a temporary output folder: {e}"),
            })?;
        let mut cfg = BatchConfig::new(input, out.path());
        cfg.recursive = recursive;
        cfg.op = *settings;
        let op = cfg.validate()?;
        let images = batch::discover(&cfg)?.items.len();
        if images == 0 {
            return Err(EngineError::InvalidParam(format!(
                "{}: no images to time in this folder",
                input.display()
            )));
        }
        let info = WorkloadInfo {
            kind: "folder".into(),
            name: input.display().to_string(),
            width: None,
            height: None,
            images,
            megapixels: 0.0,
            op: *settings,
            op_description: op.describe(),
            bytes_per_pixel: None,
        };
        Ok(FolderWorkload {
            cfg,
            info,
            _out: out,
        })
    }
}

impl Workload for FolderWorkload {
    fn info(&self) -> WorkloadInfo {
        self.info.clone()
    }

    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &Control,
    ) -> Result<RunSample, EngineError> {
        let mut cfg = self.cfg.clone();
        cfg.tile = tile;
        cfg.workers = pool.workers();
        // The batch keeps its own file counters on a child control; the child shares the
        // sweep's cancel flag, so a cancel stops the batch between images and between the
        // tiles of the image in hand.
        let report = batch::run_on(pool, &cfg, &ctl.child())?;
        if report.cancelled || ctl.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        if let Some(f) = report.failures.first() {
            return Err(EngineError::Input {
                path: f.path.clone(),
                reason: format!(
                    "{} ({} of {} images failed; a sweep needs every image to succeed)",
                    f.reason, report.failed, report.found
                ),
            });
        }
        Ok(RunSample {
            wall: report.total,
            megapixels: report.megapixels,
            tile_shape: "per image".into(),
            items: report
                .records
                .iter()
                .enumerate()
                .map(|(index, r)| ItemRecord {
                    worker: r.worker,
                    index,
                    label: r.path.display().to_string(),
                    start_s: r.start.as_secs_f64(),
                    end_s: r.end.as_secs_f64(),
                })
                .collect(),
        })
    }
}
