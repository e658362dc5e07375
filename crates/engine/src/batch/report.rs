//! The account of a batch: what happened to each file, and the totals.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::config::{FailOn, OutputFormat, Strategy};
use super::plan::Collision;
use crate::control::secs;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum Outcome {
    /// Its result was written.
    Written,
    /// Its result existed already (`skip_existing`).
    Skipped,
    /// It failed, for this reason.
    Failed(String),
    /// Stopped by a cancel before it was written.
    Cancelled,
}

/// A file that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The input file (written losslessly, see [`json_path`](crate::json_path)).
    #[serde(flatten, serialize_with = "crate::json_path::path")]
    pub path: PathBuf,
    /// Why, without the path.
    pub reason: String,
}

/// A file whose decoder warned (a truncated JPEG) but still gave pixels: its result was
/// written from them (as OpenCV would), unless the batch fails on warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The input file (written losslessly, see [`json_path`](crate::json_path)).
    #[serde(flatten, serialize_with = "crate::json_path::path")]
    pub path: PathBuf,
    /// The decoder's warnings, joined with `; `.
    pub reason: String,
}

/// One file's processing: which worker, when (from the batch's start), how big.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRecord {
    /// The input file.
    #[serde(flatten, serialize_with = "crate::json_path::path")]
    pub path: PathBuf,
    /// Where its result goes.
    #[serde(flatten, serialize_with = "crate::json_path::output")]
    pub output: PathBuf,
    /// Worker index, 0..workers.
    pub worker: usize,
    #[serde(serialize_with = "secs", rename = "start_s")]
    /// When the worker took it.
    pub start: Duration,
    #[serde(serialize_with = "secs", rename = "end_s")]
    /// When the worker was done with it.
    pub end: Duration,
    /// 0 when it was not decoded.
    pub megapixels: f64,
    /// What its decoder warned about (empty for nearly every file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    /// What happened to it.
    pub outcome: Outcome,
    /// Its result against its ground truth, when the batch has
    /// [`BatchConfig::ground_truth`](super::BatchConfig::ground_truth) and the result was made.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub quality: Option<super::quality::Quality>,
}

/// The complete account of a batch. Always `found == written + skipped + failed +
/// not_processed`, where `not_processed` counts the files a cancel left untouched (0 unless
/// `cancelled`).
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// The input folder.
    #[serde(flatten, serialize_with = "crate::json_path::input")]
    pub input: PathBuf,
    /// The output folder.
    #[serde(flatten, serialize_with = "crate::json_path::output")]
    pub output: PathBuf,
    /// The operation with its parameters, as `tessera run` prints it.
    pub op: String,
    /// The format of the results.
    pub format: OutputFormat,
    /// Where decoding happened.
    pub strategy: Strategy,
    /// Worker threads.
    pub workers: usize,
    /// Files found.
    pub found: usize,
    /// Results written.
    pub written: usize,
    /// Files skipped (their result existed).
    pub skipped: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files a cancel left untouched.
    pub not_processed: usize,
    /// Files whose decoder warned (counted also as written, or as failed with
    /// [`FailOn::Warning`]).
    pub warned: usize,
    /// Whether a warning fails a file.
    pub fail_on: FailOn,
    /// Whether the batch was cancelled.
    pub cancelled: bool,
    /// From the call to the end, discovery and the final sync included.
    #[serde(serialize_with = "secs", rename = "seconds")]
    pub total: Duration,
    #[serde(serialize_with = "secs", rename = "discovery_seconds")]
    /// Time spent finding the files.
    pub discovery: Duration,
    #[serde(serialize_with = "secs", rename = "sync_seconds")]
    /// Time spent forcing results to the disk.
    pub sync: Duration,
    /// Megapixels of the images written.
    pub megapixels: f64,
    /// Megapixels written per second of `total`.
    pub mp_per_s: f64,
    /// Files finished per second of `total`.
    pub images_per_s: f64,
    /// The files that failed, sorted by path.
    pub failures: Vec<Failure>,
    /// The files whose decoder warned, sorted by path.
    pub warnings: Vec<Warning>,
    /// Outputs renamed because their name was taken.
    pub collisions: Vec<Collision>,
    /// The task of a job array this batch ran (absent for a whole batch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::Shard>,
    /// With a shard: the whole listing it was cut from (for `tessera merge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing: Option<super::Listing>,
    /// Every file a worker took, sorted by start time.
    pub records: Vec<ImageRecord>,
    /// The results against their ground truths (with
    /// [`BatchConfig::ground_truth`](super::BatchConfig::ground_truth)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<super::quality::QualitySummary>,
}

impl BatchReport {
    /// The counts in one line, as the CLI and the window print them:
    /// `9 found: 6 written, 0 skipped, 3 failed` (+ `, N with warnings`, `, N not processed
    /// (cancelled)`).
    pub fn counts_line(&self) -> String {
        let mut line = format!(
            "{} found: {} written, {} skipped, {} failed",
            self.found, self.written, self.skipped, self.failed
        );
        if self.warned > 0 {
            line += &format!(", {} with warnings", self.warned);
        }
        if self.not_processed > 0 {
            line += &format!(", {} not processed (cancelled)", self.not_processed);
        }
        line
    }

    /// Whether every file was written or skipped.
    pub fn all_ok(&self) -> bool {
        self.failed == 0 && !self.cancelled && self.not_processed == 0
    }

    /// Sum of the time workers spent on files.
    pub fn busy(&self) -> Duration {
        self.records.iter().map(|r| r.end - r.start).sum()
    }
}
