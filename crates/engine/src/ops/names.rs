//! The names of the operations and their parameters: [`OpKind`], [`ThresholdType`] and
//! [`AdaptiveMethod`], each with `FromStr`/`Display` in the spelling the CLI and reports use
//! (clap and the window parse through them), and [`ParseNameError`] for a name not in the set.

use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// Every type, in OpenCV's order (`THRESH_BINARY` = 0 .. `THRESH_TOZERO_INV` = 4).
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

impl AdaptiveMethod {
    /// Both methods.
    pub const ALL: [AdaptiveMethod; 2] = [AdaptiveMethod::Mean, AdaptiveMethod::Gaussian];

    /// The name used in reports and accepted by [`FromStr`](std::str::FromStr): `mean` or
    /// `gaussian`.
    pub fn name(self) -> &'static str {
        match self {
            AdaptiveMethod::Mean => "mean",
            AdaptiveMethod::Gaussian => "gaussian",
        }
    }

    /// The op kind that runs this method.
    pub fn op_kind(self) -> OpKind {
        match self {
            AdaptiveMethod::Mean => OpKind::AdaptiveMean,
            AdaptiveMethod::Gaussian => OpKind::AdaptiveGaussian,
        }
    }
}

impl fmt::Display for AdaptiveMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AdaptiveMethod {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| ParseNameError::new("method", s, Self::ALL.map(Self::name)))
    }
}

/// The operation kinds, as chosen in the CLI (`--op`) and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// RGB to gray ([`Op::gray`](super::Op::gray)).
    Gray,
    /// A fixed threshold ([`Op::threshold`](super::Op::threshold)).
    Threshold,
    /// A threshold at Otsu's level ([`Op::otsu`](super::Op::otsu)).
    Otsu,
    /// A threshold at the triangle method's level ([`Op::triangle`](super::Op::triangle)).
    Triangle,
    /// Adaptive threshold over the box mean ([`Op::adaptive`](super::Op::adaptive) with [`AdaptiveMethod::Mean`]).
    AdaptiveMean,
    /// Adaptive threshold over the Gaussian-weighted mean ([`Op::adaptive`](super::Op::adaptive) with
    /// [`AdaptiveMethod::Gaussian`]).
    #[default]
    AdaptiveGaussian,
}

impl OpKind {
    /// Every kind, in menu order.
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

    /// Whether the op takes a fixed threshold (`thresh`).
    pub fn uses_thresh(self) -> bool {
        self == OpKind::Threshold
    }

    /// Whether the op takes a block size and a constant `c` (the adaptive ops).
    pub fn uses_block(self) -> bool {
        matches!(self, OpKind::AdaptiveMean | OpKind::AdaptiveGaussian)
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OpKind {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParseNameError::new("op", s, Self::ALL.map(Self::name)))
    }
}
