//! What a batch is asked to do: the folders, the files, the operation, the output format,
//! the workers and when results are forced to the disk.

use std::path::PathBuf;

use image::ImageFormat;
use serde::{Deserialize, Serialize};

use super::plan;
use crate::error::EngineError;
use crate::io::DecodeLimits;
use crate::ops::{Op, OpSettings};
use crate::pool::{MAX_WORKERS, available_cores};
use crate::tile::TileSize;

/// Where decoding happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Each worker reads, decodes, processes and writes its own files.
    #[default]
    WorkerReads,
    /// One reader thread decodes every file; the workers process and write.
    Preload,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 2] = [Strategy::WorkerReads, Strategy::Preload];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::WorkerReads => "worker-reads",
            Strategy::Preload => "preload",
        }
    }

    /// A label for the window.
    pub fn label(self) -> &'static str {
        match self {
            Strategy::WorkerReads => "Each worker reads its files",
            Strategy::Preload => "Preload in one reader, then process",
        }
    }

    /// Parses a name given by [`Strategy::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The format results are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Lossless, the default (thresholded images compress well).
    #[default]
    Png,
    /// JPEG at quality 95, as OpenCV's `imwrite`.
    Jpg,
    /// TIFF.
    Tif,
    /// BMP.
    Bmp,
    /// Lossless WebP.
    Webp,
    /// Binary PGM (the PNM family).
    Pgm,
}

impl OutputFormat {
    /// Every format.
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Png,
        OutputFormat::Jpg,
        OutputFormat::Tif,
        OutputFormat::Bmp,
        OutputFormat::Webp,
        OutputFormat::Pgm,
    ];

    /// The name and file extension (`png`, `jpg`, ...).
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpg => "jpg",
            OutputFormat::Tif => "tif",
            OutputFormat::Bmp => "bmp",
            OutputFormat::Webp => "webp",
            OutputFormat::Pgm => "pgm",
        }
    }

    /// Parses a name or extension (`jpeg` and `tiff` too), case-insensitively.
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "jpeg" => Some(OutputFormat::Jpg),
            "tiff" => Some(OutputFormat::Tif),
            l => Self::ALL.into_iter().find(|f| f.extension() == l),
        }
    }

    /// The `image` crate format that encodes it.
    pub fn image_format(self) -> ImageFormat {
        match self {
            OutputFormat::Png => ImageFormat::Png,
            OutputFormat::Jpg => ImageFormat::Jpeg,
            OutputFormat::Tif => ImageFormat::Tiff,
            OutputFormat::Bmp => ImageFormat::Bmp,
            OutputFormat::Webp => ImageFormat::WebP,
            OutputFormat::Pgm => ImageFormat::Pnm,
        }
    }
}

/// When results are forced to the disk (`fsync`). Every result is complete when it appears,
/// whatever this says; it only matters for a power cut or a crash of the whole machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// Leave it to the operating system (as `cp` and OpenCV's `imwrite` do): the default.
    #[default]
    Never,
    /// Once, when the batch ends (also when cancelled): one `syncfs` of the output folder's
    /// file system (Linux; elsewhere each written file is synced then). It also waits for
    /// other programs' pending writes on that file system.
    AtEnd,
    /// Every file before it is renamed into place (slow: one disk flush per file).
    EachFile,
}

impl Durability {
    /// Every choice.
    pub const ALL: [Durability; 3] = [Durability::Never, Durability::AtEnd, Durability::EachFile];

    /// The name used on the command line (`never`, `end`, `each`).
    pub fn name(self) -> &'static str {
        match self {
            Durability::Never => "never",
            Durability::AtEnd => "end",
            Durability::EachFile => "each",
        }
    }

    /// Parses a name given by [`Durability::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Whether a decoder's warning (a truncated JPEG, decoded with its missing part grey as
/// OpenCV does) fails the file, as libvips' `fail_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// Only errors fail a file; a warned file is written from the pixels decoded and listed
    /// with its warnings (the default).
    #[default]
    Error,
    /// A warning fails the file too: nothing is written for it.
    Warning,
}

impl FailOn {
    /// Every choice.
    pub const ALL: [FailOn; 2] = [FailOn::Error, FailOn::Warning];

    /// The name used on the command line (`error`, `warning`).
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
        }
    }

    /// Parses a name given by [`FailOn::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Most decoded images [`Strategy::Preload`] may queue (`queue`).
pub const MAX_QUEUE: usize = 1024;

/// Everything a batch needs. Build with [`BatchConfig::new`] and adjust the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// The folder of images.
    pub input: PathBuf,
    /// Where results go (created if missing). May be `input` only with a `suffix`.
    pub output: PathBuf,
    /// Walk sub-folders too (results keep the sub-folder layout).
    pub recursive: bool,
    /// Glob patterns on the path relative to `input` (`*.png`, `scans/**/*.tif`). When
    /// given they replace the default filter (files with an image extension).
    pub include: Vec<String>,
    /// The format of the results.
    pub format: OutputFormat,
    /// Appended to each result's file stem (`a.jpg` → `a<suffix>.png`).
    pub suffix: String,
    /// Leave results that already exist as they are (to resume a cancelled batch).
    pub skip_existing: bool,
    /// Where decoding happens.
    pub strategy: Strategy,
    /// Worker threads, 1..=[`MAX_WORKERS`].
    pub workers: usize,
    /// The operation, as the window and `tessera run` edit it.
    pub op: OpSettings,
    /// Tiles within one image (each image runs on one worker, tile after tile).
    pub tile: TileSize,
    /// Caps on each image. `limits.max_memory` is also the total memory of all the images
    /// in flight at once: the workers (and the preload queue) share it, so a batch never
    /// holds more, however many workers it has.
    pub limits: DecodeLimits,
    /// Decoded images waiting for a worker with [`Strategy::Preload`], 0..=[`MAX_QUEUE`];
    /// 0 picks 2 × workers.
    pub queue: usize,
    /// Whether a decoder's warning fails the file.
    pub fail_on: FailOn,
    /// When results are forced to the disk.
    pub durability: Durability,
    /// How PNG results are deflated, and masks as 1-bit PNG (pixels never depend on it).
    pub png: crate::io::PngOptions,
    /// Score each result against its ground truth in this folder (see [`GroundTruth`](super::GroundTruth)); the
    /// per-file metrics go to [`ImageRecord::quality`](super::ImageRecord::quality) and a
    /// summary to [`BatchReport::quality`](super::BatchReport::quality).
    pub ground_truth: Option<super::GroundTruth>,
    /// Only this task's slice of the sorted listing ([`Shard::ALL`](super::Shard::ALL): all).
    pub shard: super::Shard,
    /// Take the shard's items from the plan in this folder (made by
    /// [`saved::write`](super::saved::write)) instead of listing the input.
    pub plan: Option<PathBuf>,
}

impl BatchConfig {
    /// Defaults: adaptive Gaussian 11/2, PNG, one worker per core, not recursive.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        BatchConfig {
            input: input.into(),
            output: output.into(),
            recursive: false,
            include: Vec::new(),
            format: OutputFormat::Png,
            suffix: String::new(),
            skip_existing: false,
            strategy: Strategy::WorkerReads,
            workers: available_cores(),
            op: OpSettings::default(),
            tile: TileSize::Auto,
            limits: DecodeLimits::default(),
            queue: 0,
            fail_on: FailOn::Error,
            durability: Durability::Never,
            png: crate::io::PngOptions::default(),
            ground_truth: None,
            shard: super::Shard::ALL,
            plan: None,
        }
    }

    /// The queue bound actually used.
    pub fn queue_bound(&self) -> usize {
        if self.queue == 0 {
            (2 * self.workers.max(1)).min(MAX_QUEUE)
        } else {
            self.queue.min(MAX_QUEUE)
        }
    }

    /// Checks everything that can be checked without touching the output: the operation,
    /// the worker count, the suffix, the patterns, the folders. Every problem is a usage error
    /// ([`EngineError::InvalidParam`]).
    pub fn validate(&self) -> Result<Op, EngineError> {
        let usage = |m: String| Err(EngineError::InvalidParam(m));
        let op = self.op.to_op()?;
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return usage(format!(
                "workers must be between 1 and {MAX_WORKERS}, got {}",
                self.workers
            ));
        }
        if self.queue > MAX_QUEUE {
            return usage(format!(
                "the queue must be between 0 (automatic) and {MAX_QUEUE}, got {}",
                self.queue
            ));
        }
        let l = self.limits;
        if l.max_dimension == 0 || l.max_pixels == 0 || l.max_memory == 0 || l.max_scans == 0 {
            return usage("the image limits must all be at least 1".into());
        }
        if self.suffix.contains(['/', '\\', '\0']) || self.suffix == "." || self.suffix == ".." {
            return usage(format!(
                "the suffix {:?} must not contain path separators",
                self.suffix
            ));
        }
        if self.format != OutputFormat::Png && !self.png.is_default() {
            return usage(format!(
                "--compression and --png-bilevel apply to PNG results, not {}",
                self.format.extension()
            ));
        }
        plan::compile_include(&self.include)?;
        if self.input.as_os_str().is_empty() {
            return usage("no input folder given".into());
        }
        if self.output.as_os_str().is_empty() {
            return usage("no output folder given".into());
        }
        let remote = super::remote::check(self)?;
        match std::fs::metadata(&self.input) {
            _ if super::remote::is_url(&self.input) => {}
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return usage(format!(
                    "the input {} is a file, not a folder (use `tessera run` for one image)",
                    self.input.display()
                ));
            }
            Err(e) => {
                return usage(format!(
                    "the input folder {}: {}",
                    self.input.display(),
                    crate::io::io_reason(&e)
                ));
            }
        }
        if !remote && self.output.exists() && !self.output.is_dir() {
            return usage(format!(
                "the output {} exists and is not a folder",
                self.output.display()
            ));
        }
        if plan::absolute(&self.input) == plan::absolute(&self.output) && self.suffix.is_empty() {
            return usage(format!(
                "the output folder {} is the input folder: results would replace the inputs; \
                 choose another output folder or give a suffix (--suffix _bin)",
                self.output.display()
            ));
        }
        if let Some(gt) = &self.ground_truth {
            if !gt.dir.is_dir() {
                return usage(format!(
                    "the ground-truth folder {} is not a folder",
                    gt.dir.display()
                ));
            }
            if plan::absolute(&gt.dir) == plan::absolute(&self.output) {
                return usage(format!(
                    "the output folder {} is the ground-truth folder: results could replace \
                     ground truths; choose another output folder",
                    self.output.display()
                ));
            }
        }
        Ok(op)
    }
}

impl BatchConfig {
    /// Whether the batch reads or writes `path` itself: an input it would take, a place a
    /// result may go, or the output folder's manifest. Returns what it is, so a command can
    /// refuse to write a report (or anything else) there. A path outside both folders is
    /// never claimed.
    ///
    /// ```
    /// use tessera_engine::batch::BatchConfig;
    /// let cfg = BatchConfig::new("photos", "out");
    /// assert!(cfg.claims("photos/a.jpg".as_ref()).is_some());
    /// assert!(cfg.claims("out/a.png".as_ref()).is_some());
    /// assert!(cfg.claims("photos/notes.json".as_ref()).is_none());
    /// assert!(cfg.claims("report.json".as_ref()).is_none());
    /// ```
    pub fn claims(&self, path: &std::path::Path) -> Option<&'static str> {
        let abs = plan::absolute(path);
        let input = plan::absolute(&self.input);
        let output = plan::absolute(&self.output);
        let reachable = |rel: &std::path::Path| self.recursive || rel.components().count() == 1;
        if let Ok(rel) = abs.strip_prefix(&output) {
            if rel == std::path::Path::new(super::MANIFEST_NAME) {
                return Some("the output folder's manifest");
            }
            let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if reachable(rel) && ext.eq_ignore_ascii_case(self.format.extension()) {
                return Some("where a result of this batch may be written");
            }
        }
        if let Ok(rel) = abs.strip_prefix(&input) {
            let inside_output = output != input && abs.starts_with(&output);
            let wanted = match plan::compile_include(&self.include) {
                Ok(Some(set)) => set.is_match(rel),
                Ok(None) => plan::has_image_extension(rel),
                Err(_) => true,
            };
            if reachable(rel) && wanted && !inside_output {
                return Some("an input of this batch");
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::from_name(s.name()), Some(s));
        }
        for f in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_name(f.extension()), Some(f));
        }
        assert_eq!(OutputFormat::from_name("JPEG"), Some(OutputFormat::Jpg));
        for d in Durability::ALL {
            assert_eq!(Durability::from_name(d.name()), Some(d));
        }
        for f in FailOn::ALL {
            assert_eq!(FailOn::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn bad_configs_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ok = BatchConfig::new(d, d.join("out"));
        assert!(ok.validate().is_ok());
        let same = BatchConfig::new(d, d.join("."));
        let e = same.validate().unwrap_err();
        assert!(e.is_usage() && e.to_string().contains("suffix"), "{e}");
        let with_suffix = BatchConfig {
            suffix: "_bin".into(),
            ..same
        };
        assert!(with_suffix.validate().is_ok());
        for bad in [
            BatchConfig {
                workers: 0,
                ..ok.clone()
            },
            BatchConfig {
                suffix: "a/b".into(),
                ..ok.clone()
            },
            BatchConfig {
                queue: MAX_QUEUE + 1,
                ..ok.clone()
            },
            BatchConfig {
                limits: DecodeLimits {
                    max_memory: 0,
                    ..DecodeLimits::default()
                },
                ..ok.clone()
            },
            BatchConfig {
                input: d.join("missing"),
                ..ok.clone()
            },
            BatchConfig {
                include: vec!["[".into()],
                ..ok.clone()
            },
            BatchConfig {
                op: OpSettings {
                    block_size: 4,
                    ..OpSettings::default()
                },
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().unwrap_err().is_usage(), "{bad:?}");
        }
    }
}
