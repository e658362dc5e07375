//! How good a binarization is: the document-binarization (DIBCO) metrics of a result against
//! its ground truth.
//!
//! [`evaluate`] counts, per pixel, true and false positives and negatives (the *foreground*,
//! text by default, is the positive class) and derives from them precision, recall,
//! F-measure, accuracy, PSNR, NRM and MCC, plus DRD, the distance-reciprocal distortion of
//! Lu et al. (2004) that DIBCO ranks by. Every metric equals doxa's `calculate_performance`
//! (doxapy 0.9.2) to 1e-6 on the golden pack's 31 pairs; DRD follows the DIBCO definition by
//! default and doxa's variant under [`Like::Doxa`]:
//!
//! | | DIBCO (default) | doxa |
//! |---|---|---|
//! | weights | `1/distance`, normalised, exact | the same rounded to 6 decimals (integers ×10⁶) |
//! | a block is non-uniform when | its pixels (all 8×8) are not all equal | its top-left 7×7 pixels are not all equal |
//! | partial 8×8 blocks at the right and bottom | counted, judged on their pixels in the image | dropped |
//! | `NUBN · 10⁶` | exact | 32-bit unsigned: wraps past 4294 blocks |
//!
//! Both compute DRD_k for each pixel `k` where the result differs from the ground truth as the
//! sum of the weights of the 5×5 ground-truth neighbours that differ from the result's value at
//! `k`; neighbours outside the image contribute nothing. DRD = ΣDRD_k / NUBN, where NUBN counts
//! the non-uniform 8×8 blocks of the ground truth.
//!
//! **Which pixels are foreground.** By default an image is binarized at half its range: with
//! [`Foreground::Black`] a value below 128 is foreground, with [`Foreground::White`] a value of
//! 128 and above. [`Like::Doxa`] compares the stored values as doxa does instead: a pixel is
//! foreground only when it is exactly 0 (255 for white foreground, on the inverted images),
//! and a grey 128 in the result differs from both 0 and 255 in the ground truth.
//!
//! The work is split in bands of rows over the rayon workers of the caller's pool
//! ([`WorkerPool::install`](crate::pool::WorkerPool::install)); every count is an integer, so
//! the figures do not depend on the number of workers. O(pixels), plus 24 neighbour reads per
//! wrong pixel.
//!
//! ```
//! use image::GrayImage;
//! use tessera_engine::metrics::{evaluate, EvalOptions};
//!
//! // Ground truth: a black (text) square on white paper.
//! let truth = GrayImage::from_fn(32, 32, |x, y| {
//!     image::Luma([if (5..21).contains(&x) && (5..21).contains(&y) { 0 } else { 255 }])
//! });
//! let perfect = evaluate(&truth, &truth, &EvalOptions::default()).unwrap();
//! assert_eq!(perfect.f_measure, 100.0);
//! assert_eq!(perfect.drd, 0.0);
//! assert!(perfect.psnr.is_infinite());
//!
//! // One missed text pixel.
//! let mut result = truth.clone();
//! result.put_pixel(5, 5, image::Luma([255]));
//! let m = evaluate(&result, &truth, &EvalOptions::default()).unwrap();
//! assert_eq!((m.confusion.tp, m.confusion.fn_, m.confusion.fp), (255, 1, 0));
//! assert!(m.recall < 100.0 && m.precision == 100.0);
//! assert!(m.drd > 0.0);
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use image::GrayImage;
use rayon::prelude::*;

use crate::error::EngineError;
use crate::io::{DecodeLimits, ReadOptions, read_image_with};
use crate::source::{Depth, Pixels, SourceImage};

/// Which value is the foreground (the positive class: text, objects).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Foreground {
    /// Dark foreground on a light background (text on paper; DIBCO's and doxa's convention).
    #[default]
    Black,
    /// Light foreground on a dark background (what tessera's `binary` masks mark with 255).
    White,
}

impl Foreground {
    /// The name used on the command line: `black` or `white`.
    pub fn name(self) -> &'static str {
        match self {
            Foreground::Black => "black",
            Foreground::White => "white",
        }
    }
}

impl FromStr for Foreground {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "black" => Ok(Foreground::Black),
            "white" => Ok(Foreground::White),
            _ => Err(format!("unknown foreground {s:?}: expected black or white")),
        }
    }
}

impl fmt::Display for Foreground {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whose definition of the metrics to follow where they differ (see the [module](self) docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Like {
    /// The DIBCO definition of DRD (Lu et al.), images binarized at half their range.
    #[default]
    Dibco,
    /// doxa 0.9.2's `calculate_performance`, quirks included: stored values compared as they
    /// are, DRD's rounded weights, dropped partial blocks, 7×7 uniformity test and the 32-bit
    /// wrap of `NUBN · 10⁶`.
    Doxa,
}

impl Like {
    /// The name used on the command line: `dibco` or `doxa`.
    pub fn name(self) -> &'static str {
        match self {
            Like::Dibco => "dibco",
            Like::Doxa => "doxa",
        }
    }
}

impl FromStr for Like {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dibco" => Ok(Like::Dibco),
            "doxa" => Ok(Like::Doxa),
            _ => Err(format!(
                "unknown metrics definition {s:?}: expected dibco or doxa"
            )),
        }
    }
}

impl fmt::Display for Like {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to evaluate: which value is foreground, whose definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EvalOptions {
    /// The foreground's colour (black by default).
    pub foreground: Foreground,
    /// Whose definitions (DIBCO by default).
    pub like: Like,
}

/// Per-pixel counts, foreground being the positive class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Confusion {
    /// Foreground in both.
    pub tp: u64,
    /// Foreground in the result, background in the ground truth.
    pub fp: u64,
    /// Background in the result, foreground in the ground truth.
    pub fn_: u64,
    /// Background in both.
    pub tn: u64,
}

impl Confusion {
    /// The number of pixels counted.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    fn add(self, o: Confusion) -> Confusion {
        Confusion {
            tp: self.tp + o.tp,
            fp: self.fp + o.fp,
            fn_: self.fn_ + o.fn_,
            tn: self.tn + o.tn,
        }
    }
}

/// The metrics of one result against its ground truth. Ratios are `f64` and follow IEEE
/// arithmetic where a definition divides by zero: F-measure is NaN when there is no true
/// positive, PSNR is +∞ for a perfect result, DRD is NaN or +∞ when the ground truth has no
/// non-uniform block. Precision, recall, F-measure and accuracy are in percent, as doxa and
/// the DIBCO reports give them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// The counts the ratios come from.
    pub confusion: Confusion,
    /// TP / (TP + FP), in percent.
    pub precision: f64,
    /// TP / (TP + FN), in percent.
    pub recall: f64,
    /// 2·P·R / (P + R), in percent.
    pub f_measure: f64,
    /// The pseudo-F-measure of DIBCO 2010 (Pratikakis et al.), in percent: 2·Rps·P/(Rps+P)
    /// with the pseudo-recall Rps = the share of the ground truth's *skeleton* that the result
    /// marks as foreground. The skeleton is the ground truth's foreground thinned by Guo and
    /// Hall's parallel algorithm to convergence (MATLAB's `bwmorph(gt, 'thin', Inf)`, which the
    /// DIBCO tools use; scikit-image's `thin`, which the tests compare with). `None` only in
    /// hand-made values. The weighted pseudo-F of DIBCO 2013 and later is not computed: its weights come from the contest tool's own stroke-width and
    /// contour maps, which no oracle here pins down.
    pub pseudo_f_measure: Option<f64>,
    /// The pseudo-recall behind [`Metrics::pseudo_f_measure`], in percent.
    pub pseudo_recall: Option<f64>,
    /// (TP + TN) / N, in percent.
    pub accuracy: f64,
    /// 10·log10(1 / MSE) with MSE = (FP + FN) / N: the images as 0/1.
    pub psnr: f64,
    /// Negative rate metric: (FN/(FN+TP) + FP/(FP+TN)) / 2 (0 is best).
    pub nrm: f64,
    /// Matthews correlation coefficient, 0 when its denominator is 0.
    pub mcc: f64,
    /// Distance-reciprocal distortion (0 is best).
    pub drd: f64,
    /// The number of non-uniform 8×8 blocks of the ground truth DRD is divided by.
    pub nubn: u64,
    /// Whose definitions these are.
    pub like: Like,
    /// Which value was foreground.
    pub foreground: Foreground,
}

impl Metrics {
    /// One metric's value (NaN for a pseudo-F-measure not computed).
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::FMeasure => self.f_measure,
            Metric::PseudoFMeasure => self.pseudo_f_measure.unwrap_or(f64::NAN),
            Metric::Precision => self.precision,
            Metric::Recall => self.recall,
            Metric::Accuracy => self.accuracy,
            Metric::Psnr => self.psnr,
            Metric::Nrm => self.nrm,
            Metric::Mcc => self.mcc,
            Metric::Drd => self.drd,
        }
    }
}

/// A number for JSON: finite ones as numbers, the others as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"` (JSON has no such numbers; the golden pack writes them so).
pub fn json_number(v: f64) -> serde_json::Value {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "Infinity".into()
    } else if v == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        v.into()
    }
}

/// As one JSON object: `precision`, `recall`, `f_measure`, `pseudo_f_measure` (null: not
/// computed), `accuracy`, `psnr`, `nrm`, `mcc`, `drd` (non-finite values as the strings of
/// [`json_number`]), then `nubn`, `tp`, `fp`, `fn`, `tn`, `like` and `foreground`.
impl serde::Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(17))?;
        m.serialize_entry("precision", &json_number(self.precision))?;
        m.serialize_entry("recall", &json_number(self.recall))?;
        m.serialize_entry("f_measure", &json_number(self.f_measure))?;
        m.serialize_entry("pseudo_f_measure", &self.pseudo_f_measure.map(json_number))?;
        m.serialize_entry("pseudo_recall", &self.pseudo_recall.map(json_number))?;
        m.serialize_entry("accuracy", &json_number(self.accuracy))?;
        m.serialize_entry("psnr", &json_number(self.psnr))?;
        m.serialize_entry("nrm", &json_number(self.nrm))?;
        m.serialize_entry("mcc", &json_number(self.mcc))?;
        m.serialize_entry("drd", &json_number(self.drd))?;
        m.serialize_entry("nubn", &self.nubn)?;
        m.serialize_entry("tp", &self.confusion.tp)?;
        m.serialize_entry("fp", &self.confusion.fp)?;
        m.serialize_entry("fn", &self.confusion.fn_)?;
        m.serialize_entry("tn", &self.confusion.tn)?;
        m.serialize_entry("like", self.like.name())?;
        m.serialize_entry("foreground", self.foreground.name())?;
        m.end()
    }
}

impl Metrics {
    /// The headline figures on one line, as the CLI prints them:
    /// `F-measure 91.85 %, pseudo-F 95.02 %, precision 93.10 %, recall 90.63 %, PSNR 16.63 dB,
    /// NRM 0.0486, MCC 0.9101, DRD 3.871`.
    pub fn summary_line(&self) -> String {
        format!(
            "F-measure {:.2} %, pseudo-F {:.2} %, precision {:.2} %, recall {:.2} %, PSNR {:.2} dB, NRM {:.4}, MCC {:.4}, DRD {:.3}",
            self.f_measure,
            self.pseudo_f_measure.unwrap_or(f64::NAN),
            self.precision,
            self.recall,
            self.psnr,
            self.nrm,
            self.mcc,
            self.drd
        )
    }
}

/// One metric, for ranking and summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Metric {
    /// F-measure (higher is better).
    #[default]
    FMeasure,
    /// DIBCO 2010's pseudo-F-measure (higher is better).
    PseudoFMeasure,
    /// Precision (higher is better).
    Precision,
    /// Recall (higher is better).
    Recall,
    /// Accuracy (higher is better).
    Accuracy,
    /// PSNR (higher is better).
    Psnr,
    /// NRM (lower is better).
    Nrm,
    /// MCC (higher is better).
    Mcc,
    /// DRD (lower is better).
    Drd,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 9] = [
        Metric::FMeasure,
        Metric::PseudoFMeasure,
        Metric::Precision,
        Metric::Recall,
        Metric::Accuracy,
        Metric::Psnr,
        Metric::Nrm,
        Metric::Mcc,
        Metric::Drd,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::FMeasure => "f-measure",
            Metric::PseudoFMeasure => "pseudo-f-measure",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Accuracy => "accuracy",
            Metric::Psnr => "psnr",
            Metric::Nrm => "nrm",
            Metric::Mcc => "mcc",
            Metric::Drd => "drd",
        }
    }

    /// The JSON key (`f_measure`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Metric::FMeasure => "f_measure",
            Metric::PseudoFMeasure => "pseudo_f_measure",
            m => m.name(),
        }
    }

    /// Whether a larger value is better (false for NRM and DRD).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::Nrm | Metric::Drd)
    }

    /// A score to rank by, larger is better for every metric: an undefined value (NaN, as
    /// F-measure with no true positive) ranks below every defined one.
    pub fn rank_score(self, v: f64) -> f64 {
        if v.is_nan() {
            f64::NEG_INFINITY
        } else if self.higher_is_better() {
            v
        } else {
            -v
        }
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.replace('_', "-");
        Metric::ALL
            .into_iter()
            .find(|m| {
                m.name() == s
                    || (s == "fm" && *m == Metric::FMeasure)
                    || (s == "pseudo-fm" && *m == Metric::PseudoFMeasure)
            })
            .ok_or_else(|| {
                let names: Vec<_> = Metric::ALL.iter().map(|m| m.name()).collect();
                format!("unknown metric {s:?}: expected one of {}", names.join(", "))
            })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// DRD's five weight classes, by squared distance 1, 2, 4, 5, 8 from the centre: the 24
/// neighbours of a 5×5 block as (dx, dy, class).
const NEIGHBOURS: [(i32, i32, usize); 24] = {
    let mut out = [(0, 0, 0); 24];
    let mut i = 0;
    let mut dy = -2;
    while dy <= 2 {
        let mut dx = -2;
        while dx <= 2 {
            if dx != 0 || dy != 0 {
                let d2 = dx * dx + dy * dy;
                let class = match d2 {
                    1 => 0,
                    2 => 1,
                    4 => 2,
                    5 => 3,
                    _ => 4,
                };
                out[i] = (dx, dy, class);
                i += 1;
            }
            dx += 1;
        }
        dy += 1;
    }
    out
};

/// How many neighbours each class has (4, 4, 4, 8, 4: 24 in all).
const CLASS_SIZE: [f64; 5] = [4.0, 4.0, 4.0, 8.0, 4.0];
/// Squared distance of each class.
const CLASS_D2: [f64; 5] = [1.0, 2.0, 4.0, 5.0, 8.0];
/// doxa's weights ×10⁶ (DRDM.hpp), by class.
const DOXA_WEIGHTS: [u64; 5] = [72357, 51164, 36179, 32359, 25582];

/// DIBCO's normalised weights `(1/d) / Σ(1/d)`, by class.
fn dibco_weights() -> [f64; 5] {
    let total: f64 = (0..5).map(|c| CLASS_SIZE[c] / CLASS_D2[c].sqrt()).sum();
    std::array::from_fn(|c| 1.0 / CLASS_D2[c].sqrt() / total)
}

/// What one band of rows contributes: its confusion counts, how many differing ground-truth
/// neighbours of wrong pixels fall in each weight class, and its non-uniform blocks.
#[derive(Clone, Copy, Default)]
struct Part {
    confusion: Confusion,
    drd_counts: [u64; 5],
    nubn: u64,
}

impl Part {
    fn add(self, o: Part) -> Part {
        Part {
            confusion: self.confusion.add(o.confusion),
            drd_counts: std::array::from_fn(|c| self.drd_counts[c] + o.drd_counts[c]),
            nubn: self.nubn + o.nubn,
        }
    }
}

/// Rows per band (a multiple of the 8-row blocks).
const BAND_ROWS: usize = 64;

/// The images as doxa compares them: foreground 0, background 255 in the default definition
/// (binarized at 128); the stored values (inverted for white foreground) under doxa's.
fn normalise(img: &GrayImage, opts: &EvalOptions) -> Vec<u8> {
    let raw = img.as_raw();
    let mut out = vec![0u8; raw.len()];
    let map = lut(opts);
    out.par_chunks_mut(1 << 16)
        .zip(raw.par_chunks(1 << 16))
        .for_each(|(o, r)| {
            for (o, &r) in o.iter_mut().zip(r) {
                *o = map[r as usize];
            }
        });
    out
}

/// Stored value → 0 (foreground) or 255 (background), or doxa's raw value.
fn lut(opts: &EvalOptions) -> [u8; 256] {
    std::array::from_fn(|v| match (opts.like, opts.foreground) {
        (Like::Dibco, Foreground::Black) => {
            if v < 128 {
                0
            } else {
                255
            }
        }
        (Like::Dibco, Foreground::White) => {
            if v >= 128 {
                0
            } else {
                255
            }
        }
        (Like::Doxa, Foreground::Black) => v as u8,
        (Like::Doxa, Foreground::White) => 255 - v as u8,
    })
}

fn normalise_here(img: &GrayImage, opts: &EvalOptions) -> Vec<u8> {
    let map = lut(opts);
    img.as_raw().iter().map(|&v| map[v as usize]).collect()
}

/// Evaluates a binarization `result` against its `truth` (both 8-bit gray, the same size).
///
/// Runs on the workers of the current rayon pool (the caller's
/// [`WorkerPool::install`](crate::pool::WorkerPool::install), else rayon's global pool);
/// [`evaluate_here`] stays on the calling thread.
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when the sizes differ or the images are empty.
pub fn evaluate(
    result: &GrayImage,
    truth: &GrayImage,
    opts: &EvalOptions,
) -> Result<Metrics, EngineError> {
    evaluate_in(result, truth, opts, true)
}

/// [`evaluate`] on the calling thread only (a batch worker scoring its own image).
///
/// # Errors
///
/// As [`evaluate`].
pub fn evaluate_here(
    result: &GrayImage,
    truth: &GrayImage,
    opts: &EvalOptions,
) -> Result<Metrics, EngineError> {
    evaluate_in(result, truth, opts, false)
}

fn check_sizes(result: &GrayImage, truth: &GrayImage) -> Result<(), EngineError> {
    if result.dimensions() != truth.dimensions() {
        let (rw, rh) = result.dimensions();
        let (tw, th) = truth.dimensions();
        return Err(EngineError::InvalidParam(format!(
            "the result is {rw}×{rh} but the ground truth is {tw}×{th}: they must be the same size"
        )));
    }
    if truth.width() == 0 || truth.height() == 0 {
        return Err(EngineError::InvalidParam("the images are empty".into()));
    }
    Ok(())
}

fn evaluate_in(
    result: &GrayImage,
    truth: &GrayImage,
    opts: &EvalOptions,
    parallel: bool,
) -> Result<Metrics, EngineError> {
    check_sizes(result, truth)?;
    PreparedTruth::build(truth, opts, parallel).score(result, parallel)
}

/// A ground truth made ready to judge many results: binarized as the options say, its
/// non-uniform blocks counted and its skeleton thinned once (what [`evaluate`] does on every
/// call). A parameter search judges each of its candidates against one of these.
#[derive(Debug, Clone)]
pub struct PreparedTruth {
    opts: EvalOptions,
    w: usize,
    h: usize,
    /// 0 = foreground, 255 = background (doxa: the stored values), as [`normalise`] gives.
    g: Vec<u8>,
    nubn: u64,
    /// Indices of the skeleton's pixels.
    skeleton: Vec<usize>,
}

impl PreparedTruth {
    /// Prepares `truth` for judging with `opts` (on the current rayon pool).
    pub fn new(truth: &GrayImage, opts: &EvalOptions) -> PreparedTruth {
        Self::build(truth, opts, true)
    }

    /// [`PreparedTruth::new`] on the calling thread only.
    pub fn new_here(truth: &GrayImage, opts: &EvalOptions) -> PreparedTruth {
        Self::build(truth, opts, false)
    }

    fn build(truth: &GrayImage, opts: &EvalOptions, parallel: bool) -> PreparedTruth {
        let (w, h) = (truth.width() as usize, truth.height() as usize);
        let g = if parallel {
            normalise(truth, opts)
        } else {
            normalise_here(truth, opts)
        };
        let bands = h.div_ceil(BAND_ROWS);
        let nubn_of = |b: usize| {
            let y0 = b * BAND_ROWS;
            nubn_band(&g, w, h, y0, (y0 + BAND_ROWS).min(h), opts.like)
        };
        let nubn = if parallel {
            (0..bands).into_par_iter().map(nubn_of).sum()
        } else {
            (0..bands).map(nubn_of).sum()
        };
        let mut fg: Vec<u8> = g.iter().map(|&v| u8::from(v == 0)).collect();
        thin(&mut fg, w, h, parallel);
        let skeleton = fg
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| (v == 1).then_some(i))
            .collect();
        PreparedTruth {
            opts: *opts,
            w,
            h,
            g,
            nubn,
            skeleton,
        }
    }

    /// The size of the ground truth.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.w as u32, self.h as u32)
    }

    /// The skeleton the pseudo-recall counts: 1 on its pixels, 0 elsewhere.
    pub fn skeleton(&self) -> GrayImage {
        let mut out = vec![0u8; self.w * self.h];
        for &i in &self.skeleton {
            out[i] = 1;
        }
        GrayImage::from_raw(self.w as u32, self.h as u32, out).expect("sizes match")
    }

    /// Judges `result` (on the current rayon pool).
    ///
    /// # Errors
    ///
    /// [`EngineError::InvalidParam`] when the sizes differ or the images are empty.
    pub fn evaluate(&self, result: &GrayImage) -> Result<Metrics, EngineError> {
        self.score(result, true)
    }

    /// [`PreparedTruth::evaluate`] on the calling thread only.
    ///
    /// # Errors
    ///
    /// As [`PreparedTruth::evaluate`].
    pub fn evaluate_here(&self, result: &GrayImage) -> Result<Metrics, EngineError> {
        self.score(result, false)
    }

    fn score(&self, result: &GrayImage, parallel: bool) -> Result<Metrics, EngineError> {
        let (rw, rh) = result.dimensions();
        if (rw as usize, rh as usize) != (self.w, self.h) {
            return Err(EngineError::InvalidParam(format!(
                "the result is {rw}×{rh} but the ground truth is {}×{}: they must be the same size",
                self.w, self.h
            )));
        }
        if self.w == 0 || self.h == 0 {
            return Err(EngineError::InvalidParam("the images are empty".into()));
        }
        let (w, h, g) = (self.w, self.h, &self.g);
        let p = if parallel {
            normalise(result, &self.opts)
        } else {
            normalise_here(result, &self.opts)
        };
        let bands = h.div_ceil(BAND_ROWS);
        let one = |b: usize| {
            let y0 = b * BAND_ROWS;
            band(&p, g, w, h, y0, (y0 + BAND_ROWS).min(h))
        };
        let mut part = if parallel {
            (0..bands)
                .into_par_iter()
                .map(one)
                .reduce(Part::default, Part::add)
        } else {
            (0..bands).map(one).fold(Part::default(), Part::add)
        };
        part.nubn = self.nubn;
        let hits = self.skeleton.iter().filter(|&&i| p[i] == 0).count();
        let mut m = finish(part, &self.opts);
        let rps = hits as f64 / self.skeleton.len() as f64;
        let prec = m.precision / 100.0;
        m.pseudo_recall = Some(rps * 100.0);
        m.pseudo_f_measure = Some(2.0 * rps * prec / (rps + prec) * 100.0);
        Ok(m)
    }
}

/// The deletion tables of the two sub-iterations of Guo and Hall's parallel thinning (their
/// algorithm A1, as Lam, Lee and Suen's survey gives it; MATLAB's `bwmorph(…, 'thin')` and
/// scikit-image's `thin`), indexed by the 8 neighbours: bit 0 right, then counter-clockwise
/// (1 top-right, 2 top, 3 top-left, 4 left, 5 bottom-left, 6 bottom, 7 bottom-right).
fn thin_luts() -> [[bool; 256]; 2] {
    let bit = |n: usize, i: usize| n >> (i % 8) & 1 == 1;
    let g1 = |n: usize| {
        [0, 2, 4, 6]
            .iter()
            .filter(|&&i| !bit(n, i) && (bit(n, i + 1) || bit(n, i + 2)))
            .count()
            == 1
    };
    let g2 = |n: usize| {
        let n1 = [1, 3, 5, 7]
            .iter()
            .filter(|&&k| bit(n, k) || bit(n, k - 1))
            .count();
        let n2 = [1, 3, 5, 7]
            .iter()
            .filter(|&&k| bit(n, k) || bit(n, k + 1))
            .count();
        (2..=3).contains(&n1.min(n2))
    };
    let g3 = |n: usize| !((bit(n, 1) || bit(n, 2) || !bit(n, 7)) && bit(n, 0));
    let g3p = |n: usize| !((bit(n, 5) || bit(n, 6) || !bit(n, 3)) && bit(n, 4));
    [
        std::array::from_fn(|n| g1(n) && g2(n) && g3(n)),
        std::array::from_fn(|n| g1(n) && g2(n) && g3p(n)),
    ]
}

/// Thins `fg` (1 = foreground) to its skeleton in place, to convergence: each sub-iteration
/// decides every deletion on the image as it was before it (parallel thinning), pixels outside
/// the image counting as background.
fn thin(fg: &mut [u8], w: usize, h: usize, parallel: bool) {
    let luts = thin_luts();
    let mut del = vec![0u8; fg.len()];
    loop {
        let mut deleted = 0usize;
        for lut in &luts {
            let src: &[u8] = fg;
            let at = |x: isize, y: isize| -> usize {
                if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                    0
                } else {
                    src[y as usize * w + x as usize] as usize
                }
            };
            let row = |(y, out): (usize, &mut [u8])| -> usize {
                let yi = y as isize;
                let mut n = 0;
                for (x, o) in out.iter_mut().enumerate() {
                    *o = 0;
                    if src[y * w + x] == 0 {
                        continue;
                    }
                    let xi = x as isize;
                    let idx = at(xi + 1, yi)
                        | at(xi + 1, yi - 1) << 1
                        | at(xi, yi - 1) << 2
                        | at(xi - 1, yi - 1) << 3
                        | at(xi - 1, yi) << 4
                        | at(xi - 1, yi + 1) << 5
                        | at(xi, yi + 1) << 6
                        | at(xi + 1, yi + 1) << 7;
                    if lut[idx] {
                        *o = 1;
                        n += 1;
                    }
                }
                n
            };
            let n: usize = if parallel {
                del.par_chunks_mut(w).enumerate().map(row).sum()
            } else {
                del.chunks_mut(w).enumerate().map(row).sum()
            };
            if n > 0 {
                for (f, &d) in fg.iter_mut().zip(&del) {
                    *f &= d ^ 1;
                }
            }
            deleted += n;
        }
        if deleted == 0 {
            return;
        }
    }
}

/// The colours of [`error_overlay`]: false positives (foreground found where the ground truth
/// has background) and false negatives (foreground missed).
pub const FALSE_POSITIVE_RGB: [u8; 3] = [230, 60, 40];
/// See [`FALSE_POSITIVE_RGB`].
pub const FALSE_NEGATIVE_RGB: [u8; 3] = [40, 110, 240];

/// The errors of `result` drawn over `background` (the original image, in gray, the same
/// size): false positives in [`FALSE_POSITIVE_RGB`], false negatives in
/// [`FALSE_NEGATIVE_RGB`], correct pixels the background dimmed to 60 % so the colours stand
/// out. Pixels are classified exactly as [`evaluate`] counts them.
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when the sizes differ.
pub fn error_overlay(
    result: &GrayImage,
    truth: &GrayImage,
    background: &GrayImage,
    opts: &EvalOptions,
) -> Result<image::RgbImage, EngineError> {
    check_sizes(result, truth)?;
    check_sizes(background, truth)?;
    let (p, g) = rayon::join(|| normalise(result, opts), || normalise(truth, opts));
    let (w, h) = truth.dimensions();
    let mut out = vec![0u8; p.len() * 3];
    out.par_chunks_mut(3 * w as usize)
        .enumerate()
        .for_each(|(y, row)| {
            let off = y * w as usize;
            for x in 0..w as usize {
                let (pv, gv) = (p[off + x], g[off + x]);
                let px = if pv == gv {
                    let v = (u16::from(background.as_raw()[off + x]) * 3 / 5) as u8 + 40;
                    [v, v, v]
                } else if pv == 0 {
                    FALSE_POSITIVE_RGB
                } else {
                    FALSE_NEGATIVE_RGB
                };
                row[3 * x..3 * x + 3].copy_from_slice(&px);
            }
        });
    Ok(image::RgbImage::from_raw(w, h, out).expect("sizes match"))
}

/// Confusion counts and DRD neighbour counts of rows `y0..y1`.
fn band(p: &[u8], g: &[u8], w: usize, h: usize, y0: usize, y1: usize) -> Part {
    let mut part = Part::default();
    let c = &mut part.confusion;
    for y in y0..y1 {
        let row = y * w;
        let (pr, gr) = (&p[row..row + w], &g[row..row + w]);
        for x in 0..w {
            let (pv, gv) = (pr[x], gr[x]);
            if pv == gv {
                if pv == 0 {
                    c.tp += 1;
                } else {
                    c.tn += 1;
                }
                continue;
            }
            if pv == 0 {
                c.fp += 1;
            } else {
                c.fn_ += 1;
            }
            for &(dx, dy, class) in &NEIGHBOURS {
                let (nx, ny) = (x as i64 + dx as i64, y as i64 + dy as i64);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                if g[ny as usize * w + nx as usize] != pv {
                    part.drd_counts[class] += 1;
                }
            }
        }
    }
    part
}

/// The non-uniform 8×8 blocks of the ground truth whose first row lies in `y0..y1` (a band
/// starts on a block boundary).
fn nubn_band(g: &[u8], w: usize, h: usize, y0: usize, y1: usize, like: Like) -> u64 {
    let mut n = 0;
    let (blocks_x, last_row) = match like {
        // Partial blocks count, judged on their pixels in the image.
        Like::Dibco => (w.div_ceil(8), h),
        // `ceil(width / M)` of an integer division: whole blocks only.
        Like::Doxa => (w / 8, h / 8 * 8),
    };
    // doxa's Region(x, y, 8) stops before its inclusive corner: the top-left 7×7.
    let side = match like {
        Like::Dibco => 8,
        Like::Doxa => 7,
    };
    for by in (y0..y1.min(last_row)).step_by(8) {
        for bx in 0..blocks_x {
            let x0 = bx * 8;
            let first = g[by * w + x0];
            let uniform = (by..(by + side).min(h)).all(|y| {
                let r = &g[y * w + x0..y * w + (x0 + side).min(w)];
                r.iter().all(|&v| v == first)
            });
            n += u64::from(!uniform);
        }
    }
    n
}

fn finish(part: Part, opts: &EvalOptions) -> Metrics {
    let Confusion { tp, fp, fn_, tn } = part.confusion;
    let (tpf, fpf, fnf, tnf) = (tp as f64, fp as f64, fn_ as f64, tn as f64);
    let n = tpf + fpf + fnf + tnf;
    let recall = tpf / (tpf + fnf);
    let precision = tpf / (tpf + fpf);
    let f_measure = 2.0 * recall * precision / (recall + precision) * 100.0;
    let mse = (fpf + fnf) / n;
    let psnr = 10.0 * (1.0 / mse).log10();
    let nrm = (fnf / (fnf + tpf) + fpf / (fpf + tnf)) / 2.0;
    let mcc_den = ((tpf + fpf) * (tpf + fnf) * (tnf + fpf) * (tnf + fnf)).sqrt();
    let mcc = if mcc_den == 0.0 {
        0.0
    } else {
        (tpf * tnf - fpf * fnf) / mcc_den
    };
    let drd = match opts.like {
        Like::Dibco => {
            let wts = dibco_weights();
            let sum: f64 = (0..5).map(|c| part.drd_counts[c] as f64 * wts[c]).sum();
            sum / part.nubn as f64
        }
        Like::Doxa => {
            let sum: u64 = (0..5).map(|c| part.drd_counts[c] * DOXA_WEIGHTS[c]).sum();
            // `NUBN(...) * 1000000` in unsigned 32-bit arithmetic (DRDM.hpp).
            let den = (part.nubn as u32).wrapping_mul(1_000_000);
            sum as f64 / f64::from(den)
        }
    };
    Metrics {
        confusion: part.confusion,
        precision: precision * 100.0,
        recall: recall * 100.0,
        f_measure,
        pseudo_f_measure: None,
        pseudo_recall: None,
        accuracy: (tpf + tnf) / n * 100.0,
        psnr,
        nrm,
        mcc,
        drd,
        nubn: part.nubn,
        like: opts.like,
        foreground: opts.foreground,
    }
}

/// Reads a result or ground-truth image as 8-bit gray: a gray file as stored (16-bit samples
/// keep their high byte), a colour one through OpenCV's gray conversion.
///
/// # Errors
///
/// [`EngineError::Input`] when the file cannot be read or decoded.
pub fn read_gray(path: &Path, limits: DecodeLimits) -> Result<GrayImage, EngineError> {
    let decoded = read_image_with(path, &ReadOptions::new(limits).at(Depth::Eight))?;
    Ok(to_gray8(decoded.image))
}

/// 8-bit gray of a decoded image.
fn to_gray8(src: SourceImage) -> GrayImage {
    let (w, h) = src.dimensions();
    if let Pixels::Gray(g) = src.pixels {
        return g;
    }
    let ch = src.channels();
    let raw = src.raw();
    let gray = raw
        .chunks_exact(ch)
        .map(|px| {
            let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
            ((9798 * r + 19235 * g + 3735 * b + 16384) >> 15) as u8
        })
        .collect();
    GrayImage::from_raw(w, h, gray).expect("sizes match")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DIBCO weights sum to 1 and round to doxa's integers.
    #[test]
    fn weights_round_to_doxas() {
        let w = dibco_weights();
        let total: f64 = (0..5).map(|c| w[c] * CLASS_SIZE[c]).sum();
        assert!((total - 1.0).abs() < 1e-12);
        for c in 0..5 {
            assert_eq!((w[c] * 1e6).round() as u64, DOXA_WEIGHTS[c], "class {c}");
        }
        let doxa_total: u64 = (0..5).map(|c| DOXA_WEIGHTS[c] * CLASS_SIZE[c] as u64).sum();
        assert_eq!(doxa_total, 1_000_000);
        assert_eq!(NEIGHBOURS.iter().filter(|n| n.2 == 3).count(), 8);
    }
}
