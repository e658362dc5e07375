//! The operations and their parameters, with OpenCV's semantics.
//!
//! Each operation family has its own module with the row/tile kernels; this module holds the
//! validated [`Op`] that a job runs and the flat [`OpSettings`] that the CLI and the window edit.
//!
//! | op | OpenCV call |
//! |---|---|
//! | [`Op::Gray`] | `cvtColor(src, COLOR_RGB2GRAY)` |
//! | [`Op::Threshold`] | `threshold(gray, thresh, maxval, type)` |
//! | [`Op::Otsu`] / [`Op::Triangle`] | `threshold(gray, 0, maxval, type \| THRESH_OTSU / THRESH_TRIANGLE)` |
//! | [`Op::Adaptive`] | `adaptiveThreshold(gray, maxval, MEAN_C / GAUSSIAN_C, type, blockSize, C)` |

pub mod adaptive;
pub mod auto;
pub mod gray;
pub mod level;
pub mod threshold;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::mem::MaybeUninit;

use super::error::EngineError;

/// The five threshold types of `cv::threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdType {
    /// `v > T ? maxval : 0`
    #[default]
    Binary,
    /// `v > T ? 0 : maxval`
    BinaryInv,
    /// `v > T ? T : v`
    Trunc,
    /// `v > T ? v : 0`
    ToZero,
    /// `v > T ? 0 : v`
    ToZeroInv,
}

impl ThresholdType {
    pub const ALL: [ThresholdType; 5] = [
        ThresholdType::Binary,
        ThresholdType::BinaryInv,
        ThresholdType::Trunc,
        ThresholdType::ToZero,
        ThresholdType::ToZeroInv,
    ];

    /// The name used on the command line and in reports (`binary`, `binary-inv`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ThresholdType::Binary => "binary",
            ThresholdType::BinaryInv => "binary-inv",
            ThresholdType::Trunc => "trunc",
            ThresholdType::ToZero => "tozero",
            ThresholdType::ToZeroInv => "tozero-inv",
        }
    }

    /// Parses a name as written by [`ThresholdType::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for ThresholdType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ThresholdType {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParseNameError::new("type", s, Self::ALL.map(Self::name)))
    }
}

/// A name that is not one of a closed set (an op, a threshold type, a tile size): the message
/// lists what is accepted, as the CLI and the window show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?} (expected one of: {})", expected.join(", "))]
pub struct ParseNameError {
    what: &'static str,
    got: String,
    expected: Vec<&'static str>,
}

impl ParseNameError {
    pub(crate) fn new(
        what: &'static str,
        got: &str,
        expected: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        ParseNameError {
            what,
            got: got.to_string(),
            expected: expected.into_iter().collect(),
        }
    }
}

/// How `adaptiveThreshold` computes the local level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdaptiveMethod {
    /// `ADAPTIVE_THRESH_MEAN_C`: box mean over the block.
    Mean,
    /// `ADAPTIVE_THRESH_GAUSSIAN_C`: Gaussian-weighted mean over the block.
    Gaussian,
}

/// The operation kinds, as chosen in the CLI (`--op`) and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Gray,
    Threshold,
    Otsu,
    Triangle,
    AdaptiveMean,
    #[default]
    AdaptiveGaussian,
}

impl OpKind {
    pub const ALL: [OpKind; 6] = [
        OpKind::Gray,
        OpKind::Threshold,
        OpKind::Otsu,
        OpKind::Triangle,
        OpKind::AdaptiveMean,
        OpKind::AdaptiveGaussian,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Gray => "gray",
            OpKind::Threshold => "threshold",
            OpKind::Otsu => "otsu",
            OpKind::Triangle => "triangle",
            OpKind::AdaptiveMean => "adaptive-mean",
            OpKind::AdaptiveGaussian => "adaptive-gaussian",
        }
    }

    /// A human label for menus.
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Gray => "Grayscale",
            OpKind::Threshold => "Fixed threshold",
            OpKind::Otsu => "Otsu threshold",
            OpKind::Triangle => "Triangle threshold",
            OpKind::AdaptiveMean => "Adaptive mean",
            OpKind::AdaptiveGaussian => "Adaptive Gaussian",
        }
    }

    /// Parses a name as written by [`OpKind::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether the op takes a threshold type at all, and which ones.
    pub fn allowed_types(self) -> &'static [ThresholdType] {
        match self {
            OpKind::Gray => &[],
            OpKind::Threshold | OpKind::Otsu | OpKind::Triangle => &ThresholdType::ALL,
            OpKind::AdaptiveMean | OpKind::AdaptiveGaussian => {
                &[ThresholdType::Binary, ThresholdType::BinaryInv]
            }
        }
    }

    pub fn uses_thresh(self) -> bool {
        self == OpKind::Threshold
    }

    pub fn uses_block(self) -> bool {
        matches!(self, OpKind::AdaptiveMean | OpKind::AdaptiveGaussian)
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The flat, editable settings of an operation: what the CLI parses and the window edits.
/// Fields that the chosen op does not use are kept (so switching ops back and forth keeps
/// them) and ignored. [`OpSettings::to_op`] validates them into an [`Op`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpSettings {
    pub op: OpKind,
    pub kind: ThresholdType,
    pub thresh: f64,
    pub max_value: f64,
    pub block_size: u32,
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
    /// Validates the settings into a runnable [`Op`].
    pub fn to_op(&self) -> Result<Op, EngineError> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(EngineError::InvalidParam(format!(
                    "{name} must be a finite number, got {v}"
                )))
            }
        };
        let max_value = finite("max-value", self.max_value)?;
        let kind = self.kind;
        let op = match self.op {
            OpKind::Gray => Op::Gray,
            OpKind::Threshold => Op::Threshold {
                kind,
                thresh: finite("thresh", self.thresh)?,
                max_value,
            },
            OpKind::Otsu => Op::Otsu { kind, max_value },
            OpKind::Triangle => Op::Triangle { kind, max_value },
            OpKind::AdaptiveMean | OpKind::AdaptiveGaussian => {
                let method = if self.op == OpKind::AdaptiveMean {
                    AdaptiveMethod::Mean
                } else {
                    AdaptiveMethod::Gaussian
                };
                if !matches!(kind, ThresholdType::Binary | ThresholdType::BinaryInv) {
                    return Err(EngineError::InvalidParam(format!(
                        "{} supports only the types binary and binary-inv, not {kind}",
                        self.op
                    )));
                }
                validate_block_size(self.block_size)?;
                Op::Adaptive {
                    method,
                    kind,
                    block_size: self.block_size,
                    c: finite("c", self.c)?,
                    max_value,
                }
            }
        };
        Ok(op)
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Gray,
    Threshold {
        kind: ThresholdType,
        thresh: f64,
        max_value: f64,
    },
    Otsu {
        kind: ThresholdType,
        max_value: f64,
    },
    Triangle {
        kind: ThresholdType,
        max_value: f64,
    },
    Adaptive {
        method: AdaptiveMethod,
        kind: ThresholdType,
        block_size: u32,
        c: f64,
        max_value: f64,
    },
}

impl Op {
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
pub fn saturate_round_u8(v: f64) -> u8 {
    let r = v.round_ties_even();
    if r <= 0.0 {
        0
    } else if r >= 255.0 {
        255
    } else {
        r as u8
    }
}

impl std::str::FromStr for OpKind {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParseNameError::new("op", s, Self::ALL.map(Self::name)))
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
        }
        for t in ThresholdType::ALL {
            assert_eq!(ThresholdType::from_name(t.name()), Some(t));
        }
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
