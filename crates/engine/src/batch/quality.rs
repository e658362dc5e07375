//! Scoring a batch's results against a folder of ground truths (`BatchConfig::ground_truth`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::ImageRecord;
use crate::metrics::{EvalOptions, Metric, Metrics, json_number};

/// Where the ground truths are and how to judge against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroundTruth {
    /// The folder of ground truths: `sub/a.jpg` of the input folder is judged against
    /// `sub/a.<ext>` here (the same relative path and stem; the input's own extension is tried
    /// first, then png, tif, tiff, bmp, pgm, pbm, pnm, webp, gif, jpg, jpeg).
    pub dir: PathBuf,
    /// Foreground and definitions.
    pub eval: EvalOptions,
}

/// Extensions a ground truth may have, after the input's own.
const EXTENSIONS: [&str; 12] = [
    "png", "tif", "tiff", "bmp", "pgm", "pbm", "pnm", "webp", "gif", "jpg", "jpeg", "PNG",
];

impl GroundTruth {
    /// The ground truth of `input` (a file under `input_dir`), if one exists.
    pub fn find(&self, input_dir: &Path, input: &Path) -> Result<PathBuf, String> {
        let rel = input.strip_prefix(input_dir).unwrap_or(input);
        let stem_path = self.dir.join(rel).with_extension("");
        let own = input.extension().and_then(|e| e.to_str());
        for ext in own.into_iter().chain(EXTENSIONS) {
            let p = stem_path.with_extension(ext);
            if p.is_file() {
                return Ok(p);
            }
        }
        Err(format!(
            "no ground truth for it: nothing named {}.* in {}",
            stem_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            stem_path.parent().unwrap_or(&self.dir).display()
        ))
    }
}

/// One file's result against its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Quality {
    /// Scored.
    Scored {
        /// The ground truth it was judged against.
        #[serde(flatten, serialize_with = "crate::json_path::ground_truth")]
        ground_truth: PathBuf,
        /// The metrics.
        metrics: Metrics,
    },
    /// Not scored, and why (no ground truth, a size mismatch, an unreadable file). The result
    /// is still written: a missing ground truth is not a failure of the batch.
    Unscored {
        /// Why.
        ground_truth_error: String,
    },
}

/// Mean and median of one metric over the scored files.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    /// The metric.
    pub metric: Metric,
    /// Mean over the files where the metric is finite.
    pub mean: f64,
    /// Median over the same files.
    pub median: f64,
    /// Files where it is NaN or infinite (F-measure with no true positive, PSNR of a perfect
    /// result), left out of the mean and median.
    pub not_finite: usize,
}

impl Serialize for Stat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("mean", &json_number(self.mean))?;
        m.serialize_entry("median", &json_number(self.median))?;
        m.serialize_entry("not_finite", &self.not_finite)?;
        m.end()
    }
}

/// A file among the worst by F-measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Worst {
    /// The input file.
    #[serde(flatten, serialize_with = "crate::json_path::path")]
    pub path: PathBuf,
    /// Its F-measure (NaN, written "NaN", when it has no true positive).
    #[serde(serialize_with = "ser_number")]
    pub f_measure: f64,
}

fn ser_number<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    json_number(*v).serialize(s)
}

/// The batch's quality in a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualitySummary {
    /// The ground-truth folder.
    #[serde(flatten, serialize_with = "crate::json_path::ground_truth")]
    pub ground_truth: PathBuf,
    /// `dibco` or `doxa`.
    pub like: &'static str,
    /// `black` or `white`.
    pub foreground: &'static str,
    /// Files scored.
    pub scored: usize,
    /// Files written but not scored (see each record's `ground_truth_error`).
    pub unscored: usize,
    /// Mean and median of each metric, by its JSON key.
    #[serde(serialize_with = "ser_stats")]
    pub stats: Vec<Stat>,
    /// Up to five files with the lowest F-measure (undefined first), worst first.
    pub worst: Vec<Worst>,
}

fn ser_stats<S: serde::Serializer>(stats: &[Stat], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(stats.len()))?;
    for st in stats {
        m.serialize_entry(st.metric.key(), st)?;
    }
    m.end()
}

impl QualitySummary {
    /// The summary of `records` (those with a [`Quality`]).
    pub fn of(gt: &GroundTruth, records: &[ImageRecord]) -> QualitySummary {
        let scored: Vec<(&Path, &Metrics)> = records
            .iter()
            .filter_map(|r| match &r.quality {
                Some(Quality::Scored { metrics, .. }) => Some((r.path.as_path(), metrics)),
                _ => None,
            })
            .collect();
        let unscored = records
            .iter()
            .filter(|r| matches!(r.quality, Some(Quality::Unscored { .. })))
            .count();
        let stats = Metric::ALL
            .iter()
            .map(|&metric| {
                let mut v: Vec<f64> = scored
                    .iter()
                    .map(|(_, m)| m.get(metric))
                    .filter(|v| v.is_finite())
                    .collect();
                v.sort_by(f64::total_cmp);
                Stat {
                    metric,
                    mean: v.iter().sum::<f64>() / v.len() as f64,
                    median: median(&v),
                    not_finite: scored.len() - v.len(),
                }
            })
            .collect();
        let mut worst: Vec<Worst> = scored
            .iter()
            .map(|(p, m)| Worst {
                path: p.to_path_buf(),
                f_measure: m.f_measure,
            })
            .collect();
        worst.sort_by(|a, b| {
            Metric::FMeasure
                .rank_score(a.f_measure)
                .total_cmp(&Metric::FMeasure.rank_score(b.f_measure))
                .then_with(|| a.path.cmp(&b.path))
        });
        worst.truncate(5);
        QualitySummary {
            ground_truth: gt.dir.clone(),
            like: gt.eval.like.name(),
            foreground: gt.eval.foreground.name(),
            scored: scored.len(),
            unscored,
            stats,
            worst,
        }
    }

    /// The mean and median of one metric.
    pub fn stat(&self, metric: Metric) -> &Stat {
        self.stats
            .iter()
            .find(|s| s.metric == metric)
            .expect("every metric has a stat")
    }
}

/// The median of sorted values (NaN when empty).
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
