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
pub mod threshold;

pub use names::{AdaptiveMethod, OpKind, ParseNameError, ThresholdType};

use serde::{Deserialize, Serialize};
use std::mem::MaybeUninit;

use super::error::EngineError;

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
        }
    }
}

impl OpSettings {
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
        let (kind, max_value) = (self.kind, self.max_value);
        finite("max-value", max_value)?;
        match self.op {
            OpKind::Gray => Ok(Op::gray()),
            OpKind::Threshold => Op::threshold(kind, self.thresh, max_value),
            OpKind::Otsu => Op::otsu(kind, max_value),
            OpKind::Triangle => Op::triangle(kind, max_value),
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
}

impl Op {
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
        Ok(Op::Otsu { kind, max_value })
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

    /// The threshold type; `None` for [`Op::Gray`].
    pub fn threshold_type(&self) -> Option<ThresholdType> {
        match *self {
            Op::Gray => None,
            Op::Threshold { kind, .. }
            | Op::Otsu { kind, .. }
            | Op::Triangle { kind, .. }
            | Op::Adaptive { kind, .. } => Some(kind),
        }
    }

    /// `maxval`; `None` for [`Op::Gray`].
    pub fn max_value(&self) -> Option<f64> {
        match *self {
            Op::Gray => None,
            Op::Threshold { max_value, .. }
            | Op::Otsu { max_value, .. }
            | Op::Triangle { max_value, .. }
            | Op::Adaptive { max_value, .. } => Some(max_value),
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
        }
    }

    /// How many pixels around a tile the op reads (its halo).
    pub fn halo(&self) -> usize {
        match self {
            Op::Adaptive { block_size, .. } => (*block_size as usize) / 2,
            _ => 0,
        }
    }

    /// A short description such as `adaptive-gaussian binary block 11 c 2 max 255`.
    pub fn describe(&self) -> String {
        match *self {
            Op::Gray => "gray".into(),
            Op::Threshold {
                kind,
                thresh,
                max_value,
            } => format!("threshold {kind} thresh {thresh} max {max_value}"),
            Op::Otsu { kind, max_value } => format!("otsu {kind} max {max_value}"),
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
        }
    }
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
    fn saturate_round_matches_cv_round() {
        assert_eq!(saturate_round_u8(200.5), 200);
        assert_eq!(saturate_round_u8(201.5), 202);
        assert_eq!(saturate_round_u8(-3.0), 0);
        assert_eq!(saturate_round_u8(1e9), 255);
        assert_eq!(saturate_round_u8(254.6), 255);
    }
}
