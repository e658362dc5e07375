//! The operations and their parameters, with OpenCV's semantics.
//!
//! Each operation family has its own module with the row/tile kernels; this module holds the
//! validated [`Op`] that a job runs and the flat [`OpSettings`] that the CLI and the window edit.
//! An [`Op`] is built only through its checked constructors ([`Op::threshold`],
//! [`Op::adaptive`], ...) or [`OpSettings::to_op`], so a job never sees a parameter out of range.
//!
//! ```
//! use tessera_engine::ops::{AdaptiveMethod, Op, OpKind, ThresholdType};
//! let op = Op::adaptive(AdaptiveMethod::Gaussian, ThresholdType::Binary, 255.0, 11, 2.0)?;
//! assert_eq!(op.kind(), OpKind::AdaptiveGaussian);
//! assert_eq!(op.halo(), 5);
//! assert!(Op::adaptive(AdaptiveMethod::Mean, ThresholdType::Binary, 255.0, 4, 2.0).is_err());
//! # Ok::<(), tessera_engine::EngineError>(())
//! ```
//!
//! | op | OpenCV call |
//! |---|---|
//! | [`Op::Gray`] | `cvtColor(src, COLOR_RGB2GRAY)` |
//! | [`Op::Threshold`] | `threshold(gray, thresh, maxval, type)` |
//! | [`Op::Otsu`] / [`Op::Triangle`] | `threshold(gray, 0, maxval, type \| THRESH_OTSU / THRESH_TRIANGLE)` |
//! | [`Op::Adaptive`] | `adaptiveThreshold(gray, maxval, MEAN_C / GAUSSIAN_C, type, blockSize, C)` |

pub(crate) mod adaptive;
pub mod auto;
pub mod gray;
pub mod level;
pub mod local;
mod names;
pub(crate) mod simd;
pub mod threshold;
pub mod wide;

pub use names::{AdaptiveMethod, Anchor, OpGroup, OpKind, ParseNameError, ThresholdType};

use local::{FijiLocal, Local, NiblackMethod, SkimageLocal};

use serde::{Deserialize, Serialize};
use std::mem::MaybeUninit;

use super::error::EngineError;
use super::source::Depth;

/// The flat, editable settings of an operation: what the CLI parses and the window edits.
/// Fields that the chosen op does not use are kept (so switching ops back and forth keeps
/// them) and ignored. [`OpSettings::to_op`] validates them into an [`Op`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpSettings {
    /// Which operation.
    pub op: OpKind,
    /// The threshold type (ignored by [`OpKind::Gray`]).
    pub kind: ThresholdType,
    /// The fixed threshold of [`OpKind::Threshold`].
    pub thresh: f64,
    /// The value given to pixels that pass (`maxval`).
    pub max_value: f64,
    /// The adaptive ops' neighbourhood, odd, 3..=[`MAX_BLOCK_SIZE`].
    pub block_size: u32,
    /// The constant the adaptive ops subtract from the local mean.
    pub c: f64,
    /// Whose semantics (`--like`); `None`: the op's default ([`OpKind::anchors`]).
    pub like: Option<Anchor>,
    /// The local methods' parameters; `None` fields take the method's default.
    pub local: LocalSettings,
    /// The depth inputs are read at: 16-bit kept ([`Depth::Native`], the default) or
    /// everything 8-bit as OpenCV's `imread(IMREAD_COLOR)` ([`Depth::Eight`]).
    pub depth: Depth,
    /// On 16-bit images, the global methods' level found on this many equal bins instead of
    /// the full histogram ([`Op::with_bins`]); `None`: the full histogram.
    pub bins: Option<u32>,
}

/// A parameter of an op, as [`OpSettings::params`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// The fixed threshold (`--thresh`).
    Thresh,
    /// The square window (`--block-size`).
    BlockSize,
    /// The adaptive ops' `C` (`--c`).
    C,
    /// Fiji's radius (`--radius`).
    Radius,
    /// `k` (`--k`).
    K,
    /// `r` (`--r`).
    R,
    /// Bradley's percentage (`--t`).
    T,
    /// Fiji's `C` (`--c` for Fiji's methods).
    FijiC,
    /// Bernsen's contrast threshold (`--contrast`).
    Contrast,
    /// Multi-Otsu's classes (`--classes`).
    Classes,
}

impl Param {
    /// The command-line option (`--k`).
    pub fn flag(self) -> &'static str {
        match self {
            Param::Thresh => "--thresh",
            Param::BlockSize => "--block-size",
            Param::C | Param::FijiC => "--c",
            Param::Radius => "--radius",
            Param::K => "--k",
            Param::R => "--r",
            Param::T => "--t",
            Param::Contrast => "--contrast",
            Param::Classes => "--classes",
        }
    }

    /// A label for the window.
    pub fn label(self) -> &'static str {
        match self {
            Param::Thresh => "Threshold",
            Param::BlockSize => "Block size",
            Param::C | Param::FijiC => "C",
            Param::Radius => "Radius",
            Param::K => "k",
            Param::R => "r",
            Param::T => "t (%)",
            Param::Contrast => "Min contrast",
            Param::Classes => "Classes",
        }
    }
}

/// The parameters of the local methods, as the CLI parses them and the window edits them.
/// A field left `None` takes the chosen method's default (`tessera methods` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalSettings {
    /// `k`, the weight of the local deviation (Niblack, Sauvola, Wolf, NICK, Phansalkar).
    pub k: Option<f64>,
    /// `r`, Sauvola's and Phansalkar's dynamic range of the deviation.
    pub r: Option<f64>,
    /// Bradley's `t`: percent below the local mean, 0..=100 (default 15).
    pub t: Option<f64>,
    /// Fiji's radius (default 15, Fiji's).
    pub radius: u32,
    /// Fiji's `C` (Mean, Median, MidGrey, Niblack; Fiji's default 0).
    pub c: Option<f64>,
    /// Bernsen's contrast threshold (Fiji's default 15).
    pub contrast: Option<f64>,
    /// Multi-Otsu's number of classes (default 3).
    pub classes: u32,
}

impl Default for LocalSettings {
    fn default() -> Self {
        LocalSettings {
            k: None,
            r: None,
            t: None,
            radius: 15,
            c: None,
            contrast: None,
            classes: 3,
        }
    }
}

impl Default for OpSettings {
    fn default() -> Self {
        OpSettings {
            op: OpKind::AdaptiveGaussian,
            kind: ThresholdType::Binary,
            thresh: 127.0,
            max_value: 255.0,
            block_size: 11,
            c: 2.0,
            like: None,
            local: LocalSettings::default(),
            depth: Depth::Native,
            bins: None,
        }
    }
}

impl OpSettings {
    /// The depth to read inputs at for these settings: [`Depth::Eight`] when asked, and also
    /// when the op has no 16-bit form ([`Op::supports_16bit`]): such an op reads a 16-bit
    /// image exactly as OpenCV's `imread(IMREAD_COLOR)` does, as its anchor would.
    ///
    /// ```
    /// use tessera_engine::{Depth, ops::{OpKind, OpSettings}};
    /// let s = OpSettings { op: OpKind::Otsu, ..OpSettings::default() };
    /// assert_eq!(s.read_depth(), Depth::Native);
    /// let s = OpSettings { op: OpKind::AdaptiveMean, ..s };
    /// assert_eq!(s.read_depth(), Depth::Eight);
    /// ```
    pub fn read_depth(&self) -> Depth {
        match (self.depth, self.to_op()) {
            (Depth::Native, Ok(op)) if !op.supports_16bit() => Depth::Eight,
            (d, _) => d,
        }
    }

    /// Validates the settings into a runnable [`Op`] through its checked constructors; the
    /// fields the chosen op does not use are ignored.
    ///
    /// ```
    /// use tessera_engine::ops::{OpKind, OpSettings};
    /// let s = OpSettings { op: OpKind::Threshold, thresh: 100.0, ..OpSettings::default() };
    /// assert_eq!(s.to_op()?.describe(), "threshold binary thresh 100 max 255");
    /// let bad = OpSettings { block_size: 8, ..OpSettings::default() };
    /// assert!(bad.to_op().unwrap_err().is_usage());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn to_op(&self) -> Result<Op, EngineError> {
        self.unbinned_op()?.with_bins(self.bins)
    }

    fn unbinned_op(&self) -> Result<Op, EngineError> {
        let (kind, max_value) = (self.kind, self.max_value);
        finite("max-value", max_value)?;
        let like = self.anchor()?;
        let l = &self.local;
        match self.op {
            OpKind::Gray => Ok(Op::gray()),
            OpKind::Threshold => Op::threshold(kind, self.thresh, max_value),
            OpKind::Otsu if like == Anchor::OpenCv => Op::otsu(kind, max_value),
            OpKind::Triangle if like == Anchor::OpenCv => Op::triangle(kind, max_value),
            OpKind::AdaptiveMean => Op::adaptive(
                AdaptiveMethod::Mean,
                kind,
                max_value,
                self.block_size,
                self.c,
            ),
            OpKind::AdaptiveGaussian => Op::adaptive(
                AdaptiveMethod::Gaussian,
                kind,
                max_value,
                self.block_size,
                self.c,
            ),
            op if op.group() == OpGroup::Global
                || matches!(op, OpKind::Otsu | OpKind::Triangle) =>
            {
                let method = op
                    .auto_method()
                    .ok_or_else(|| EngineError::Internal(format!("{op} has no global method")))?;
                let like = if like == Anchor::Fiji {
                    auto::Like::Fiji
                } else {
                    auto::Like::ImageJ
                };
                Op::auto(method, like, kind, max_value)
            }
            OpKind::Niblack | OpKind::Sauvola | OpKind::Wolf | OpKind::Nick
                if like == Anchor::OpenCv =>
            {
                let method = match self.op {
                    OpKind::Niblack => NiblackMethod::Niblack,
                    OpKind::Sauvola => NiblackMethod::Sauvola,
                    OpKind::Wolf => NiblackMethod::Wolf,
                    _ => NiblackMethod::Nick,
                };
                let k = l.k.unwrap_or(match method {
                    NiblackMethod::Niblack | NiblackMethod::Nick => -0.2,
                    NiblackMethod::Sauvola => 0.2,
                    NiblackMethod::Wolf => 0.5,
                });
                let method = Local::OpenCv {
                    method,
                    block_size: self.block_size,
                    k,
                    r: l.r.unwrap_or(128.0),
                };
                Op::local(method, kind, max_value)
            }
            OpKind::Niblack | OpKind::Sauvola if like == Anchor::Skimage => {
                let method = if self.op == OpKind::Niblack {
                    SkimageLocal::Niblack
                } else {
                    SkimageLocal::Sauvola
                };
                let method = Local::Skimage {
                    method,
                    window: self.block_size,
                    k: l.k.unwrap_or(0.2),
                    r: l.r,
                };
                Op::local(method, kind, max_value)
            }
            OpKind::MultiOtsu => Op::multi_otsu(l.classes, max_value),
            OpKind::Bradley => Op::local(
                Local::Bradley {
                    block_size: self.block_size,
                    t: l.t.unwrap_or(15.0),
                },
                kind,
                max_value,
            ),
            op => {
                let method = match op {
                    OpKind::Niblack => FijiLocal::Niblack,
                    OpKind::Sauvola => FijiLocal::Sauvola,
                    OpKind::Bernsen => FijiLocal::Bernsen,
                    OpKind::Contrast => FijiLocal::Contrast,
                    OpKind::LocalMean => FijiLocal::Mean,
                    OpKind::Median => FijiLocal::Median,
                    OpKind::MidGrey => FijiLocal::MidGrey,
                    OpKind::LocalOtsu => FijiLocal::Otsu,
                    OpKind::Phansalkar => FijiLocal::Phansalkar,
                    op => {
                        return Err(EngineError::Internal(format!(
                            "{op} like {like} has no implementation"
                        )));
                    }
                };
                // Fiji's parameters 1 and 2, named; 0 is Fiji's "default".
                let z = |v: Option<f64>| v.unwrap_or(0.0);
                let (p1, p2) = match method {
                    FijiLocal::Bernsen => (z(l.contrast), 0.0),
                    FijiLocal::Mean | FijiLocal::Median | FijiLocal::MidGrey => (z(l.c), 0.0),
                    FijiLocal::Niblack => (z(l.k), z(l.c)),
                    FijiLocal::Sauvola | FijiLocal::Phansalkar => (z(l.k), z(l.r)),
                    FijiLocal::Contrast | FijiLocal::Otsu => (0.0, 0.0),
                };
                let m = Local::Fiji {
                    method,
                    radius: l.radius,
                    p1,
                    p2,
                };
                Op::local(m, kind, max_value)
            }
        }
    }

    /// The threshold types the op takes with the chosen implementation: those of
    /// [`OpKind::allowed_types`], but only binary and binary-inv for a local method other
    /// than OpenCV's (as [`Op::local`] checks).
    pub fn allowed_types(&self) -> &'static [ThresholdType] {
        if self.op.is_local() && self.anchor().ok() != Some(Anchor::OpenCv) {
            &[ThresholdType::Binary, ThresholdType::BinaryInv]
        } else {
            self.op.allowed_types()
        }
    }

    /// The parameters the chosen op and implementation use beyond the type and max value,
    /// each with the value it takes when left unset (the window shows these rows).
    ///
    /// ```
    /// use tessera_engine::ops::{Anchor, OpKind, OpSettings, Param};
    /// let s = OpSettings { op: OpKind::Sauvola, like: Some(Anchor::Fiji), ..OpSettings::default() };
    /// assert_eq!(s.params(), vec![(Param::Radius, 15.0), (Param::K, 0.5), (Param::R, 128.0)]);
    /// ```
    pub fn params(&self) -> Vec<(Param, f64)> {
        use Param::*;
        let like = self.anchor().unwrap_or(Anchor::OpenCv);
        let block = (BlockSize, 11.0);
        match self.op {
            OpKind::Threshold => vec![(Thresh, 127.0)],
            OpKind::AdaptiveMean | OpKind::AdaptiveGaussian => vec![block, (C, 2.0)],
            OpKind::Niblack => match like {
                Anchor::Fiji => {
                    let k = if self.kind == ThresholdType::BinaryInv {
                        -0.2
                    } else {
                        0.2
                    };
                    vec![(Radius, 15.0), (K, k), (FijiC, 0.0)]
                }
                Anchor::Skimage => vec![block, (K, 0.2)],
                _ => vec![block, (K, -0.2)],
            },
            OpKind::Sauvola => match like {
                Anchor::Fiji => vec![(Radius, 15.0), (K, 0.5), (R, 128.0)],
                Anchor::Skimage => vec![block, (K, 0.2), (R, 127.5)],
                _ => vec![block, (K, 0.2), (R, 128.0)],
            },
            OpKind::Wolf => vec![block, (K, 0.5)],
            OpKind::Nick => vec![block, (K, -0.2)],
            OpKind::Bradley => vec![block, (T, 15.0)],
            OpKind::Bernsen => vec![(Radius, 15.0), (Contrast, 15.0)],
            OpKind::Contrast | OpKind::LocalOtsu => vec![(Radius, 15.0)],
            OpKind::LocalMean | OpKind::Median | OpKind::MidGrey => {
                vec![(Radius, 15.0), (FijiC, 0.0)]
            }
            OpKind::Phansalkar => vec![(Radius, 15.0), (K, 0.25), (R, 0.5)],
            OpKind::MultiOtsu => vec![(Classes, 3.0)],
            _ => Vec::new(),
        }
    }

    /// The value of a parameter as the op will use it (set, or its default).
    pub fn param(&self, p: Param) -> f64 {
        let default = self
            .params()
            .into_iter()
            .find(|(q, _)| *q == p)
            .map_or(0.0, |(_, d)| d);
        match p {
            Param::Thresh => self.thresh,
            Param::BlockSize => self.block_size as f64,
            Param::C => self.c,
            Param::Radius => self.local.radius as f64,
            Param::K => self.local.k.unwrap_or(default),
            Param::R => self.local.r.unwrap_or(default),
            Param::T => self.local.t.unwrap_or(default),
            Param::FijiC => self.local.c.unwrap_or(default),
            Param::Contrast => self.local.contrast.unwrap_or(default),
            Param::Classes => self.local.classes as f64,
        }
    }

    /// Sets a parameter (see [`OpSettings::params`]).
    pub fn set_param(&mut self, p: Param, v: f64) {
        match p {
            Param::Thresh => self.thresh = v,
            Param::BlockSize => self.block_size = v.max(3.0) as u32 | 1,
            Param::C => self.c = v,
            Param::Radius => self.local.radius = v.max(1.0) as u32,
            Param::K => self.local.k = Some(v),
            Param::R => self.local.r = Some(v),
            Param::T => self.local.t = Some(v),
            Param::FijiC => self.local.c = Some(v),
            Param::Contrast => self.local.contrast = Some(v),
            Param::Classes => self.local.classes = v.clamp(2.0, 5.0) as u32,
        }
    }

    /// The implementation the settings resolve to: `like`, or the op's default; a usage error
    /// when the op has no such implementation.
    pub fn anchor(&self) -> Result<Anchor, EngineError> {
        let anchors = self.op.anchors();
        match self.like {
            None => Ok(anchors.first().copied().unwrap_or(Anchor::OpenCv)),
            Some(a) if anchors.contains(&a) => Ok(a),
            Some(a) if anchors.is_empty() => Err(EngineError::InvalidParam(format!(
                "{} has one definition; --like {a} does not apply",
                self.op
            ))),
            Some(a) => Err(EngineError::InvalidParam(format!(
                "{} is not defined like {a}: use --like {}",
                self.op,
                anchors
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }
}

impl OpSettings {
    /// Like [`OpSettings::to_op`], but every field is checked, also those the chosen op
    /// does not use (a command line with `--thresh nan` is wrong whatever `--op` says).
    ///
    /// ```
    /// use tessera_engine::ops::{OpKind, OpSettings};
    /// let s = OpSettings { op: OpKind::Otsu, thresh: f64::NAN, ..OpSettings::default() };
    /// assert!(s.to_op().is_ok());
    /// assert!(s.to_op_strict().unwrap_err().to_string().contains("thresh"));
    /// ```
    pub fn to_op_strict(&self) -> Result<Op, EngineError> {
        finite("thresh", self.thresh)?;
        finite("max-value", self.max_value)?;
        finite("c", self.c)?;
        validate_block_size(self.block_size)?;
        for (name, v) in [
            ("k", self.local.k),
            ("r", self.local.r),
            ("t", self.local.t),
            ("c", self.local.c),
            ("contrast", self.local.contrast),
        ] {
            if let Some(v) = v {
                finite(name, v)?;
            }
        }
        if let Some(n) = self.bins {
            Op::gray().with_bins(Some(n))?;
        }
        self.to_op()
    }
}

/// `v`, or a usage error naming the parameter when it is not a finite number.
fn finite(name: &str, v: f64) -> Result<f64, EngineError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(EngineError::InvalidParam(format!(
            "{name} must be a finite number, got {v}"
        )))
    }
}

/// Largest block size accepted: far beyond any useful value, small enough that every sum
/// fits the kernels' integer types.
pub const MAX_BLOCK_SIZE: u32 = 4095;

fn validate_block_size(b: u32) -> Result<(), EngineError> {
    if b < 3 || b.is_multiple_of(2) {
        return Err(EngineError::InvalidParam(format!(
            "block-size must be odd and at least 3, got {b}"
        )));
    }
    if b > MAX_BLOCK_SIZE {
        return Err(EngineError::InvalidParam(format!(
            "block-size must be at most {MAX_BLOCK_SIZE}, got {b}"
        )));
    }
    Ok(())
}

/// A validated operation. Every op but [`Op::Gray`] runs on the 8-bit gray image.
///
/// Built only through the checked constructors ([`Op::gray`], [`Op::threshold`], [`Op::otsu`],
/// [`Op::triangle`], [`Op::adaptive`]) or [`OpSettings::to_op`]: the variants are
/// `#[non_exhaustive]`, so code outside this crate cannot build one with unchecked values. Read
/// the parameters with the accessors ([`Op::threshold_type`], [`Op::max_value`], ...) or by
/// matching with `..`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `cvtColor(src, COLOR_RGB2GRAY)`; a gray input is copied.
    #[non_exhaustive]
    Gray,
    /// `threshold(gray, thresh, maxval, type)`.
    #[non_exhaustive]
    Threshold {
        /// The threshold type.
        kind: ThresholdType,
        /// The threshold (finite).
        thresh: f64,
        /// `maxval` (finite).
        max_value: f64,
    },
    /// `threshold(gray, 0, maxval, type | THRESH_OTSU)`.
    #[non_exhaustive]
    Otsu {
        /// The threshold type.
        kind: ThresholdType,
        /// `maxval` (finite).
        max_value: f64,
        /// On a 16-bit image: the level found on this many equal bins over `min..=max`
        /// instead of the full histogram ([`Op::with_bins`]).
        bins: Option<u32>,
    },
    /// `threshold(gray, 0, maxval, type | THRESH_TRIANGLE)`.
    #[non_exhaustive]
    Triangle {
        /// The threshold type.
        kind: ThresholdType,
        /// `maxval` (finite).
        max_value: f64,
    },
    /// `adaptiveThreshold(gray, maxval, method, type, blockSize, C)`.
    #[non_exhaustive]
    Adaptive {
        /// Mean or Gaussian.
        method: AdaptiveMethod,
        /// [`ThresholdType::Binary`] or [`ThresholdType::BinaryInv`].
        kind: ThresholdType,
        /// Odd, 3..=[`MAX_BLOCK_SIZE`].
        block_size: u32,
        /// The constant subtracted from the local mean (finite).
        c: f64,
        /// `maxval` (finite).
        max_value: f64,
    },
    /// A threshold at an ImageJ/Fiji global method's level:
    /// `threshold(gray, level, maxval, type)` with the level of
    /// [`auto::level`] on the gray image's histogram.
    #[non_exhaustive]
    Auto {
        /// The method.
        method: auto::AutoMethod,
        /// ImageJ's or Fiji's semantics.
        like: auto::Like,
        /// The threshold type.
        kind: ThresholdType,
        /// `maxval` (finite).
        max_value: f64,
        /// On a 16-bit image with Fiji's semantics: the level found on this many equal bins
        /// over `min..=max` ([`Op::with_bins`]); ImageJ's always reduces to its own 256.
        bins: Option<u32>,
    },
    /// scikit-image's `threshold_multiotsu(gray, classes)`, then each pixel's class
    /// (`np.digitize`) spread over `0..=max_value`: class `i` becomes
    /// `round(i · max_value / (classes − 1))`, saturated to 8 bits.
    #[non_exhaustive]
    MultiOtsu {
        /// 2..=5.
        classes: u32,
        /// The value of the top class (finite).
        max_value: f64,
        /// On a 16-bit image: the thresholds found on this many equal bins over
        /// `min..=max` (as `threshold_multiotsu(image, nbins=N)` bins a float image)
        /// ([`Op::with_bins`]).
        bins: Option<u32>,
    },
    /// A local method ([`local`]).
    #[non_exhaustive]
    Local {
        /// The method and its parameters.
        method: Local,
        /// The threshold type (binary or binary-inv, all five for OpenCV's).
        kind: ThresholdType,
        /// The value of pixels that pass (finite).
        max_value: f64,
    },
}

impl Op {
    /// Whether the result keeps the input's values (gray; a fixed or found level with trunc,
    /// tozero or tozero-inv) rather than being a mask or labels: on a 16-bit image such a
    /// result is 16-bit.
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType};
    /// assert!(Op::gray().keeps_values());
    /// assert!(Op::otsu(ThresholdType::Trunc, 255.0)?.keeps_values());
    /// assert!(!Op::otsu(ThresholdType::Binary, 255.0)?.keeps_values());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn keeps_values(&self) -> bool {
        match self {
            Op::Gray => true,
            Op::Threshold { kind, .. }
            | Op::Otsu { kind, .. }
            | Op::Triangle { kind, .. }
            | Op::Auto { kind, .. } => kind.keeps_values(),
            _ => false,
        }
    }

    /// The op finding its level on `bins` equal bins over the image's `min..=max` when the
    /// image is 16-bit (`--bins N`, 2..=65536), instead of the full 65536-bin histogram:
    /// OpenCV's Otsu, Fiji's global methods and multi-Otsu. ImageJ's methods always reduce a
    /// 16-bit image to their own 256 bins (a usage error here). 8-bit images are not binned.
    /// `None` leaves the op as it is; other ops ignore it.
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType};
    /// let op = Op::otsu(ThresholdType::Binary, 255.0)?.with_bins(Some(256))?;
    /// assert_eq!(op.describe(), "otsu binary max 255 bins 256");
    /// assert!(Op::otsu(ThresholdType::Binary, 255.0)?.with_bins(Some(1)).is_err());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn with_bins(self, bins: Option<u32>) -> Result<Op, EngineError> {
        let Some(n) = bins else { return Ok(self) };
        if !(2..=65536).contains(&n) {
            return Err(EngineError::InvalidParam(format!(
                "bins must be between 2 and 65536, got {n}"
            )));
        }
        Ok(match self {
            Op::Otsu {
                kind, max_value, ..
            } => Op::Otsu {
                kind,
                max_value,
                bins: Some(n),
            },
            Op::Auto {
                method,
                like: auto::Like::Fiji,
                kind,
                max_value,
                ..
            } => Op::Auto {
                method,
                like: auto::Like::Fiji,
                kind,
                max_value,
                bins: Some(n),
            },
            Op::Auto { .. } => {
                return Err(EngineError::InvalidParam(
                    "--bins: ImageJ reduces a 16-bit histogram to its own 256 bins; use \
                     --like fiji to bin a Fiji method"
                        .into(),
                ));
            }
            Op::MultiOtsu {
                classes, max_value, ..
            } => Op::MultiOtsu {
                classes,
                max_value,
                bins: Some(n),
            },
            other => other,
        })
    }

    /// The bins of [`Op::with_bins`] (`None`: the full histogram).
    pub fn bins(&self) -> Option<u32> {
        match *self {
            Op::Otsu { bins, .. } | Op::Auto { bins, .. } | Op::MultiOtsu { bins, .. } => bins,
            _ => None,
        }
    }

    /// Whether the op has a 16-bit form: everything but those whose anchor takes 8-bit
    /// images only (OpenCV's adaptive threshold and triangle, OpenCV contrib's
    /// niBlackThreshold family, Fiji's Auto Local Threshold).
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType};
    /// assert!(Op::otsu(ThresholdType::Binary, 255.0)?.supports_16bit());
    /// assert!(!Op::triangle(ThresholdType::Binary, 255.0)?.supports_16bit());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn supports_16bit(&self) -> bool {
        match self {
            Op::Adaptive { .. } | Op::Triangle { .. } => false,
            Op::Local { method, .. } => method.supports_16bit(),
            _ => true,
        }
    }

    /// RGB to gray, as `cvtColor(src, COLOR_RGB2GRAY)`.
    pub const fn gray() -> Op {
        Op::Gray
    }

    /// A fixed threshold, as `threshold(gray, thresh, max_value, kind)`. `thresh` and
    /// `max_value` must be finite (any value: OpenCV's rounding and clamping apply).
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType};
    /// let op = Op::threshold(ThresholdType::Binary, 127.0, 255.0)?;
    /// assert_eq!(op.thresh(), Some(127.0));
    /// assert!(Op::threshold(ThresholdType::Binary, f64::NAN, 255.0).is_err());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn threshold(kind: ThresholdType, thresh: f64, max_value: f64) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        Ok(Op::Threshold {
            kind,
            thresh: finite("thresh", thresh)?,
            max_value,
        })
    }

    /// A threshold at Otsu's level, as `threshold(gray, 0, max_value, kind | THRESH_OTSU)`.
    pub fn otsu(kind: ThresholdType, max_value: f64) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        Ok(Op::Otsu {
            kind,
            max_value,
            bins: None,
        })
    }

    /// A threshold at the triangle method's level, as
    /// `threshold(gray, 0, max_value, kind | THRESH_TRIANGLE)`.
    pub fn triangle(kind: ThresholdType, max_value: f64) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        Ok(Op::Triangle { kind, max_value })
    }

    /// An adaptive threshold, as
    /// `adaptiveThreshold(gray, max_value, method, kind, block_size, c)`. `kind` must be
    /// binary or binary-inv, `block_size` odd in 3..=[`MAX_BLOCK_SIZE`], the numbers finite.
    pub fn adaptive(
        method: AdaptiveMethod,
        kind: ThresholdType,
        max_value: f64,
        block_size: u32,
        c: f64,
    ) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        if !matches!(kind, ThresholdType::Binary | ThresholdType::BinaryInv) {
            return Err(EngineError::InvalidParam(format!(
                "{} supports only the types binary and binary-inv, not {kind}",
                method.op_kind()
            )));
        }
        validate_block_size(block_size)?;
        Ok(Op::Adaptive {
            method,
            kind,
            block_size,
            c: finite("c", c)?,
            max_value,
        })
    }

    /// A threshold at the level of an ImageJ/Fiji global method.
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType, auto::{AutoMethod, Like}};
    /// let op = Op::auto(AutoMethod::Huang, Like::ImageJ, ThresholdType::Binary, 255.0)?;
    /// assert_eq!(op.describe(), "huang like imagej binary max 255");
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn auto(
        method: auto::AutoMethod,
        like: auto::Like,
        kind: ThresholdType,
        max_value: f64,
    ) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        if method == auto::AutoMethod::Huang2 && like == auto::Like::ImageJ {
            return Err(EngineError::InvalidParam(
                "huang2 is Fiji's: use --like fiji".into(),
            ));
        }
        Ok(Op::Auto {
            method,
            like,
            kind,
            max_value,
            bins: None,
        })
    }

    /// A local method. Window sizes must be odd in 3..=[`MAX_BLOCK_SIZE`], the numbers finite,
    /// Sauvola's `r` non-zero, Bradley's `t` in 0..=100; the type binary or binary-inv (all
    /// five for OpenCV's methods, as `niBlackThreshold` takes them).
    ///
    /// ```
    /// use tessera_engine::ops::{Op, ThresholdType, local::{Local, NiblackMethod}};
    /// let m = Local::OpenCv { method: NiblackMethod::Sauvola, block_size: 25, k: 0.2, r: 128.0 };
    /// let op = Op::local(m, ThresholdType::Binary, 255.0)?;
    /// assert_eq!(op.halo(), 12);
    /// assert_eq!(op.describe(), "sauvola like opencv block 25 k 0.2 r 128 binary max 255");
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn local(method: Local, kind: ThresholdType, max_value: f64) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        let binary_only = !matches!(method, Local::OpenCv { .. });
        if binary_only && !matches!(kind, ThresholdType::Binary | ThresholdType::BinaryInv) {
            return Err(EngineError::InvalidParam(format!(
                "{} supports only the types binary and binary-inv, not {kind}",
                Op::local_kind(&method)
            )));
        }
        match method {
            Local::OpenCv {
                method: m,
                block_size,
                k,
                r,
            } => {
                validate_block_size(block_size)?;
                finite("k", k)?;
                finite("r", r)?;
                if m == NiblackMethod::Sauvola && r == 0.0 {
                    return Err(EngineError::InvalidParam("r must not be 0".into()));
                }
            }
            Local::Skimage {
                method: m,
                window,
                k,
                r,
            } => {
                validate_block_size(window)?;
                finite("k", k)?;
                if let Some(r) = r {
                    finite("r", r)?;
                    if m == SkimageLocal::Sauvola && r == 0.0 {
                        return Err(EngineError::InvalidParam("r must not be 0".into()));
                    }
                }
            }
            Local::Fiji { radius, p1, p2, .. } => {
                if radius == 0 || radius > local::fiji::MAX_RADIUS {
                    return Err(EngineError::InvalidParam(format!(
                        "radius must be between 1 and {}, got {radius}",
                        local::fiji::MAX_RADIUS
                    )));
                }
                finite("parameter 1", p1)?;
                finite("parameter 2", p2)?;
            }
            Local::Bradley { block_size, t } => {
                validate_block_size(block_size)?;
                if !(0.0..=100.0).contains(&finite("t", t)?) {
                    return Err(EngineError::InvalidParam(format!(
                        "t is a percentage, 0 to 100, got {t}"
                    )));
                }
            }
        }
        Ok(Op::Local {
            method,
            kind,
            max_value,
        })
    }

    fn local_kind(method: &Local) -> OpKind {
        match method {
            Local::OpenCv { method, .. } => match method {
                NiblackMethod::Niblack => OpKind::Niblack,
                NiblackMethod::Sauvola => OpKind::Sauvola,
                NiblackMethod::Wolf => OpKind::Wolf,
                NiblackMethod::Nick => OpKind::Nick,
            },
            Local::Skimage { method, .. } => match method {
                SkimageLocal::Niblack => OpKind::Niblack,
                SkimageLocal::Sauvola => OpKind::Sauvola,
            },
            Local::Bradley { .. } => OpKind::Bradley,
            Local::Fiji { method, .. } => match method {
                FijiLocal::Bernsen => OpKind::Bernsen,
                FijiLocal::Contrast => OpKind::Contrast,
                FijiLocal::Mean => OpKind::LocalMean,
                FijiLocal::Median => OpKind::Median,
                FijiLocal::MidGrey => OpKind::MidGrey,
                FijiLocal::Niblack => OpKind::Niblack,
                FijiLocal::Otsu => OpKind::LocalOtsu,
                FijiLocal::Phansalkar => OpKind::Phansalkar,
                FijiLocal::Sauvola => OpKind::Sauvola,
            },
        }
    }

    /// Multi-Otsu with `classes` classes (2..=5), a label image spread over `0..=max_value`.
    ///
    /// ```
    /// use tessera_engine::ops::Op;
    /// assert_eq!(Op::multi_otsu(3, 255.0)?.describe(), "multi-otsu classes 3 max 255");
    /// assert!(Op::multi_otsu(6, 255.0).is_err());
    /// # Ok::<(), tessera_engine::EngineError>(())
    /// ```
    pub fn multi_otsu(classes: u32, max_value: f64) -> Result<Op, EngineError> {
        let max_value = finite("max-value", max_value)?;
        if !(2..=5).contains(&classes) {
            return Err(EngineError::InvalidParam(format!(
                "classes must be between 2 and 5, got {classes}"
            )));
        }
        Ok(Op::MultiOtsu {
            classes,
            max_value,
            bins: None,
        })
    }

    /// The threshold type; `None` for [`Op::Gray`].
    pub fn threshold_type(&self) -> Option<ThresholdType> {
        match *self {
            Op::Gray | Op::MultiOtsu { .. } => None,
            Op::Threshold { kind, .. }
            | Op::Otsu { kind, .. }
            | Op::Triangle { kind, .. }
            | Op::Adaptive { kind, .. }
            | Op::Auto { kind, .. }
            | Op::Local { kind, .. } => Some(kind),
        }
    }

    /// `maxval`; `None` for [`Op::Gray`].
    pub fn max_value(&self) -> Option<f64> {
        match *self {
            Op::Gray => None,
            Op::Threshold { max_value, .. }
            | Op::Otsu { max_value, .. }
            | Op::Triangle { max_value, .. }
            | Op::Adaptive { max_value, .. }
            | Op::Auto { max_value, .. }
            | Op::MultiOtsu { max_value, .. }
            | Op::Local { max_value, .. } => Some(max_value),
        }
    }

    /// The fixed threshold of [`Op::Threshold`].
    pub fn thresh(&self) -> Option<f64> {
        match *self {
            Op::Threshold { thresh, .. } => Some(thresh),
            _ => None,
        }
    }

    /// The method of [`Op::Adaptive`].
    pub fn method(&self) -> Option<AdaptiveMethod> {
        match *self {
            Op::Adaptive { method, .. } => Some(method),
            _ => None,
        }
    }

    /// The block size of [`Op::Adaptive`].
    pub fn block_size(&self) -> Option<u32> {
        match *self {
            Op::Adaptive { block_size, .. } => Some(block_size),
            _ => None,
        }
    }

    /// The constant `C` of [`Op::Adaptive`].
    pub fn c(&self) -> Option<f64> {
        match *self {
            Op::Adaptive { c, .. } => Some(c),
            _ => None,
        }
    }

    /// The kind of op, as named on the command line.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Gray => OpKind::Gray,
            Op::Threshold { .. } => OpKind::Threshold,
            Op::Otsu { .. } => OpKind::Otsu,
            Op::Triangle { .. } => OpKind::Triangle,
            Op::Adaptive {
                method: AdaptiveMethod::Mean,
                ..
            } => OpKind::AdaptiveMean,
            Op::Adaptive {
                method: AdaptiveMethod::Gaussian,
                ..
            } => OpKind::AdaptiveGaussian,
            Op::Auto { method, .. } => auto_kind(*method),
            Op::Local { method, .. } => Op::local_kind(method),
            Op::MultiOtsu { .. } => OpKind::MultiOtsu,
        }
    }

    /// How many pixels around a tile the op reads (its halo).
    pub fn halo(&self) -> usize {
        match self {
            Op::Adaptive { block_size, .. } => (*block_size as usize) / 2,
            Op::Local { method, .. } => method.halo(),
            _ => 0,
        }
    }

    /// A short description such as `adaptive-gaussian binary block 11 c 2 max 255`.
    pub fn describe(&self) -> String {
        let s = self.describe_op();
        match self.bins() {
            Some(n) => format!("{s} bins {n}"),
            None => s,
        }
    }

    fn describe_op(&self) -> String {
        match *self {
            Op::Gray => "gray".into(),
            Op::Threshold {
                kind,
                thresh,
                max_value,
            } => format!("threshold {kind} thresh {thresh} max {max_value}"),
            Op::Otsu {
                kind, max_value, ..
            } => format!("otsu {kind} max {max_value}"),
            Op::Triangle { kind, max_value } => format!("triangle {kind} max {max_value}"),
            Op::Adaptive {
                kind,
                block_size,
                c,
                max_value,
                ..
            } => format!(
                "{} {kind} block {block_size} c {c} max {max_value}",
                self.kind()
            ),
            Op::Auto {
                like,
                kind,
                max_value,
                ..
            } => {
                let like = match like {
                    auto::Like::ImageJ => "imagej",
                    auto::Like::Fiji => "fiji",
                };
                format!("{} like {like} {kind} max {max_value}", self.kind())
            }
            Op::MultiOtsu {
                classes, max_value, ..
            } => {
                format!("multi-otsu classes {classes} max {max_value}")
            }
            Op::Local {
                method,
                kind,
                max_value,
            } => format!(
                "{} {} {kind} max {max_value}",
                self.kind(),
                method.describe_params(kind)
            ),
        }
    }
}

/// The op kind of an ImageJ/Fiji global method.
fn auto_kind(m: auto::AutoMethod) -> OpKind {
    OpKind::ALL
        .into_iter()
        .find(|k| k.auto_method() == Some(m))
        .unwrap_or(OpKind::Otsu)
}

/// Views initialised bytes as the write-only output type of the kernels (which take
/// `MaybeUninit` rows so that jobs need not zero their output planes first).
///
/// Crate-private on purpose: it is sound only because the kernels never write an
/// uninitialised value, which safe code outside could do.
pub(crate) fn as_uninit(s: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: same layout; every initialised `u8` is a valid `MaybeUninit<u8>`, and the
    // callers' kernels only store initialised bytes, so `s` stays initialised.
    unsafe { &mut *(s as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// `saturate_cast<uchar>(cvRound(v))`: round half to even, then clamp to 0..=255.
pub(crate) fn saturate_round_u8(v: f64) -> u8 {
    let r = v.round_ties_even();
    if r <= 0.0 {
        0
    } else if r >= 255.0 {
        255
    } else {
        r as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_size_must_be_odd_and_at_least_3() {
        let mut s = OpSettings::default();
        for bad in [0, 1, 2, 4, 10, MAX_BLOCK_SIZE + 2] {
            s.block_size = bad;
            assert!(s.to_op().is_err(), "block {bad} accepted");
        }
        for good in [3, 5, 11, 101, MAX_BLOCK_SIZE] {
            s.block_size = good;
            assert!(s.to_op().is_ok(), "block {good} refused");
        }
    }

    #[test]
    fn adaptive_refuses_types_other_than_binary() {
        let mut s = OpSettings {
            op: OpKind::AdaptiveMean,
            ..OpSettings::default()
        };
        s.kind = ThresholdType::Trunc;
        let err = s.to_op().unwrap_err().to_string();
        assert!(err.contains("binary-inv"), "{err}");
        s.kind = ThresholdType::BinaryInv;
        assert!(s.to_op().is_ok());
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        let s = OpSettings {
            op: OpKind::Threshold,
            thresh: f64::NAN,
            ..OpSettings::default()
        };
        assert!(s.to_op().is_err());
        let s = OpSettings {
            op: OpKind::Otsu,
            max_value: f64::INFINITY,
            ..OpSettings::default()
        };
        assert!(s.to_op().is_err());
    }

    #[test]
    fn names_round_trip() {
        for k in OpKind::ALL {
            assert_eq!(OpKind::from_name(k.name()), Some(k));
            assert_eq!(k.to_string().parse::<OpKind>(), Ok(k));
        }
        for t in ThresholdType::ALL {
            assert_eq!(ThresholdType::from_name(t.name()), Some(t));
            assert_eq!(t.to_string().parse::<ThresholdType>(), Ok(t));
        }
        for m in AdaptiveMethod::ALL {
            assert_eq!(m.to_string().parse::<AdaptiveMethod>(), Ok(m));
        }
        let e = "median".parse::<AdaptiveMethod>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown method \"median\" (expected one of: mean, gaussian)"
        );
        assert!("Binary".parse::<ThresholdType>().is_err());
        assert!("sobel".parse::<OpKind>().is_err());
    }

    #[test]
    fn constructors_check_as_settings_do() {
        for s in [
            OpSettings::default(),
            OpSettings {
                op: OpKind::Threshold,
                kind: ThresholdType::Trunc,
                thresh: 99.5,
                ..OpSettings::default()
            },
            OpSettings {
                op: OpKind::AdaptiveMean,
                block_size: 31,
                c: -4.0,
                ..OpSettings::default()
            },
        ] {
            let op = s.to_op().unwrap();
            let again = match op.kind() {
                OpKind::Gray => Op::gray(),
                OpKind::Threshold => Op::threshold(s.kind, s.thresh, s.max_value).unwrap(),
                OpKind::Otsu => Op::otsu(s.kind, s.max_value).unwrap(),
                OpKind::Triangle => Op::triangle(s.kind, s.max_value).unwrap(),
                OpKind::AdaptiveMean | OpKind::AdaptiveGaussian => Op::adaptive(
                    op.method().unwrap(),
                    op.threshold_type().unwrap(),
                    op.max_value().unwrap(),
                    op.block_size().unwrap(),
                    op.c().unwrap(),
                )
                .unwrap(),
                _ => unreachable!("only OpenCV's ops are listed"),
            };
            assert_eq!(op, again);
        }
        let e = Op::adaptive(AdaptiveMethod::Mean, ThresholdType::Trunc, 255.0, 11, 2.0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adaptive-mean supports only the types binary and binary-inv, not trunc"
        );
        assert!(
            Op::otsu(ThresholdType::Binary, f64::NAN)
                .unwrap_err()
                .is_usage()
        );
        assert_eq!(Op::gray().threshold_type(), None);
    }

    #[test]
    fn every_op_and_implementation_resolves_and_others_are_refused() {
        for op in OpKind::ALL {
            for like in Anchor::ALL {
                let s = OpSettings {
                    op,
                    like: Some(like),
                    kind: ThresholdType::Binary,
                    ..OpSettings::default()
                };
                match s.to_op() {
                    Ok(o) => {
                        assert!(op.anchors().contains(&like), "{op} like {like}");
                        assert_eq!(o.kind(), op, "{op} like {like}: {}", o.describe());
                    }
                    Err(e) => {
                        assert!(e.is_usage(), "{op} like {like}: {e}");
                        assert!(!op.anchors().contains(&like), "{op} like {like}: {e}");
                    }
                }
            }
            let s = OpSettings {
                op,
                kind: ThresholdType::Binary,
                ..OpSettings::default()
            };
            assert_eq!(s.to_op().unwrap().kind(), op);
        }
        let s = OpSettings {
            op: OpKind::Huang,
            like: Some(Anchor::OpenCv),
            ..OpSettings::default()
        };
        assert_eq!(
            s.to_op().unwrap_err().to_string(),
            "huang is not defined like opencv: use --like imagej or fiji"
        );
        let s = OpSettings {
            op: OpKind::Bradley,
            like: Some(Anchor::Fiji),
            ..OpSettings::default()
        };
        assert_eq!(
            s.to_op().unwrap_err().to_string(),
            "bradley has one definition; --like fiji does not apply"
        );
    }

    #[test]
    fn saturate_round_matches_cv_round() {
        assert_eq!(saturate_round_u8(200.5), 200);
        assert_eq!(saturate_round_u8(201.5), 202);
        assert_eq!(saturate_round_u8(-3.0), 0);
        assert_eq!(saturate_round_u8(1e9), 255);
        assert_eq!(saturate_round_u8(254.6), 255);
    }
}
