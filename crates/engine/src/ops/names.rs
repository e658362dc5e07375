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

    /// Whether the result keeps input values (trunc, tozero, tozero-inv) rather than being a
    /// mask of `maxval` and 0: on a 16-bit image such a result is 16-bit.
    pub fn keeps_values(self) -> bool {
        matches!(
            self,
            ThresholdType::Trunc | ThresholdType::ToZero | ThresholdType::ToZeroInv
        )
    }

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

/// Whose semantics an op reproduces when several trusted implementations define the same name
/// differently (`--like` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    /// OpenCV 5.1 (with contrib's `ximgproc` for the Niblack family).
    OpenCv,
    /// ImageJ 1.53t's `AutoThresholder`.
    ImageJ,
    /// Fiji: the Auto Threshold 1.18.0 and Auto Local Threshold 1.11.0 plugins.
    Fiji,
    /// scikit-image 0.26.
    Skimage,
}

impl Anchor {
    /// Every anchor.
    pub const ALL: [Anchor; 4] = [
        Anchor::OpenCv,
        Anchor::ImageJ,
        Anchor::Fiji,
        Anchor::Skimage,
    ];

    /// The name on the command line: `opencv`, `imagej`, `fiji`, `skimage`.
    pub fn name(self) -> &'static str {
        match self {
            Anchor::OpenCv => "opencv",
            Anchor::ImageJ => "imagej",
            Anchor::Fiji => "fiji",
            Anchor::Skimage => "skimage",
        }
    }

    /// The implementation, as a person names it.
    pub fn label(self) -> &'static str {
        match self {
            Anchor::OpenCv => "OpenCV 5.1",
            Anchor::ImageJ => "ImageJ 1.53t",
            Anchor::Fiji => "Fiji",
            Anchor::Skimage => "scikit-image 0.26",
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Anchor {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| ParseNameError::new("implementation", s, Self::ALL.map(Self::name)))
    }
}

/// The families of ops, as the window groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpGroup {
    /// Gray, fixed threshold, OpenCV's Otsu/triangle and adaptive threshold.
    OpenCv,
    /// Global automatic levels (ImageJ / Fiji Auto Threshold).
    Global,
    /// Local methods (OpenCV contrib, Fiji Auto Local Threshold, scikit-image, Bradley).
    Local,
    /// Several levels, a label image (multi-Otsu).
    MultiLevel,
}

macro_rules! op_kinds {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, $label:literal, $group:ident; )*) => {
        /// The operation kinds, as chosen in the CLI (`--op`) and the window. Where several
        /// implementations define a name, [`Anchor`] (`--like`) picks one
        /// ([`OpKind::anchors`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
        #[serde(rename_all = "kebab-case")]
        pub enum OpKind {
            $( $(#[$doc])* $v, )*
        }

        impl OpKind {
            /// Every kind, in menu order.
            pub const ALL: [OpKind; [$(OpKind::$v),*].len()] = [$(OpKind::$v),*];

            /// The name used on the command line and in reports.
            pub fn name(self) -> &'static str {
                match self { $( OpKind::$v => $name, )* }
            }

            /// A human label for menus.
            pub fn label(self) -> &'static str {
                match self { $( OpKind::$v => $label, )* }
            }

            /// The family the op belongs to.
            pub fn group(self) -> OpGroup {
                match self { $( OpKind::$v => OpGroup::$group, )* }
            }
        }
    };
}

op_kinds! {
    /// RGB to gray ([`Op::gray`](super::Op::gray)).
    Gray = "gray", "Grayscale", OpenCv;
    /// A fixed threshold ([`Op::threshold`](super::Op::threshold)).
    Threshold = "threshold", "Fixed threshold", OpenCv;
    /// A threshold at Otsu's level: OpenCV's ([`Op::otsu`](super::Op::otsu)), or ImageJ's or
    /// Fiji's ([`Op::auto`](super::Op::auto)).
    Otsu = "otsu", "Otsu threshold", OpenCv;
    /// A threshold at the triangle method's level: OpenCV's, ImageJ's or Fiji's.
    Triangle = "triangle", "Triangle threshold", OpenCv;
    /// Adaptive threshold over the box mean ([`Op::adaptive`](super::Op::adaptive) with [`AdaptiveMethod::Mean`]).
    AdaptiveMean = "adaptive-mean", "Adaptive mean", OpenCv;
    /// Adaptive threshold over the Gaussian-weighted mean ([`Op::adaptive`](super::Op::adaptive) with
    /// [`AdaptiveMethod::Gaussian`]).
    #[default]
    AdaptiveGaussian = "adaptive-gaussian", "Adaptive Gaussian", OpenCv;
    /// ImageJ's `Default` (IJ_IsoData variant).
    IjDefault = "ij-default", "Default (ImageJ)", Global;
    /// Huang's fuzzy thresholding.
    Huang = "huang", "Huang", Global;
    /// Fiji's faster Huang.
    Huang2 = "huang2", "Huang2", Global;
    /// Intermodes.
    Intermodes = "intermodes", "Intermodes", Global;
    /// Ridler–Calvard IsoData.
    IsoData = "isodata", "IsoData", Global;
    /// ImageJ's original IsoData.
    IjIsoData = "ij-isodata", "IJ_IsoData", Global;
    /// Li's minimum cross entropy.
    Li = "li", "Li", Global;
    /// Kapur's maximum entropy.
    MaxEntropy = "max-entropy", "MaxEntropy", Global;
    /// The mean gray level.
    Mean = "mean", "Mean", Global;
    /// Kittler–Illingworth minimum error.
    MinError = "min-error", "MinError", Global;
    /// Prewitt's minimum of the smoothed histogram.
    Minimum = "minimum", "Minimum", Global;
    /// Tsai's moment preservation.
    Moments = "moments", "Moments", Global;
    /// 50 % of the pixels below.
    Percentile = "percentile", "Percentile", Global;
    /// Rényi's entropy.
    RenyiEntropy = "renyi-entropy", "RenyiEntropy", Global;
    /// Shanbhag's fuzzy entropy.
    Shanbhag = "shanbhag", "Shanbhag", Global;
    /// Yen's maximum correlation.
    Yen = "yen", "Yen", Global;
    /// Niblack: `T = m + k·s` (OpenCV), `m − k·s` (scikit-image), Fiji's.
    Niblack = "niblack", "Niblack", Local;
    /// Sauvola: `T = m·(1 + k·(s/r − 1))`.
    Sauvola = "sauvola", "Sauvola", Local;
    /// Wolf–Jolion (OpenCV contrib).
    Wolf = "wolf", "Wolf", Local;
    /// NICK (OpenCV contrib).
    Nick = "nick", "NICK", Local;
    /// Bradley–Roth integral-image mean.
    Bradley = "bradley", "Bradley", Local;
    /// Bernsen's local contrast (Fiji).
    Bernsen = "bernsen", "Bernsen", Local;
    /// Local contrast: nearer the max or the min (Fiji).
    Contrast = "contrast", "Contrast", Local;
    /// Local mean − C on a circular window (Fiji).
    LocalMean = "local-mean", "Local mean", Local;
    /// Local median − C (Fiji).
    Median = "median", "Median", Local;
    /// Local (min + max)/2 − C (Fiji).
    MidGrey = "midgrey", "MidGrey", Local;
    /// Otsu's level in each pixel's circular window (Fiji).
    LocalOtsu = "local-otsu", "Local Otsu", Local;
    /// Phansalkar (Fiji).
    Phansalkar = "phansalkar", "Phansalkar", Local;
    /// scikit-image's multi-Otsu: 2 to 5 classes, a label image.
    MultiOtsu = "multi-otsu", "Multi-Otsu", MultiLevel;
}

impl OpKind {
    /// Parses a name as written by [`OpKind::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The implementations that define this op, the default first (empty: one definition,
    /// `--like` does not apply).
    pub fn anchors(self) -> &'static [Anchor] {
        use OpKind::*;
        match self {
            Gray | Threshold | AdaptiveMean | AdaptiveGaussian | Wolf | Nick => &[Anchor::OpenCv],
            Otsu | Triangle => &[Anchor::OpenCv, Anchor::ImageJ, Anchor::Fiji],
            Huang2 => &[Anchor::Fiji],
            IjDefault | Huang | Intermodes | IsoData | IjIsoData | Li | MaxEntropy | Mean
            | MinError | Minimum | Moments | Percentile | RenyiEntropy | Shanbhag | Yen => {
                &[Anchor::ImageJ, Anchor::Fiji]
            }
            Niblack | Sauvola => &[Anchor::OpenCv, Anchor::Fiji, Anchor::Skimage],
            Bradley => &[],
            MultiOtsu => &[Anchor::Skimage],
            Bernsen | Contrast | LocalMean | Median | MidGrey | LocalOtsu | Phansalkar => {
                &[Anchor::Fiji]
            }
        }
    }

    /// The ImageJ/Fiji global method this op runs with `--like imagej|fiji`.
    pub fn auto_method(self) -> Option<super::auto::AutoMethod> {
        use super::auto::AutoMethod as M;
        Some(match self {
            OpKind::IjDefault => M::Default,
            OpKind::Huang => M::Huang,
            OpKind::Huang2 => M::Huang2,
            OpKind::Intermodes => M::Intermodes,
            OpKind::IsoData => M::IsoData,
            OpKind::IjIsoData => M::IjIsoData,
            OpKind::Li => M::Li,
            OpKind::MaxEntropy => M::MaxEntropy,
            OpKind::Mean => M::Mean,
            OpKind::MinError => M::MinError,
            OpKind::Minimum => M::Minimum,
            OpKind::Moments => M::Moments,
            OpKind::Otsu => M::Otsu,
            OpKind::Percentile => M::Percentile,
            OpKind::RenyiEntropy => M::RenyiEntropy,
            OpKind::Shanbhag => M::Shanbhag,
            OpKind::Triangle => M::Triangle,
            OpKind::Yen => M::Yen,
            _ => return None,
        })
    }

    /// Whether the op takes a threshold type at all, and which ones.
    pub fn allowed_types(self) -> &'static [ThresholdType] {
        match self {
            OpKind::Gray | OpKind::MultiOtsu => &[],
            OpKind::AdaptiveMean | OpKind::AdaptiveGaussian => {
                &[ThresholdType::Binary, ThresholdType::BinaryInv]
            }
            k if k.group() == OpGroup::Local
                && !matches!(
                    k,
                    OpKind::Niblack | OpKind::Sauvola | OpKind::Wolf | OpKind::Nick
                ) =>
            {
                &[ThresholdType::Binary, ThresholdType::BinaryInv]
            }
            _ => &ThresholdType::ALL,
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

    /// What the op computes, in a line (the CLI's `tessera methods` and the window's tooltips).
    pub fn summary(self) -> &'static str {
        use OpKind::*;
        match self {
            Gray => "Y = (9798 R + 19235 G + 3735 B + 16384) >> 15 (cvtColor RGB2GRAY)",
            Threshold => "one fixed level: pixels > floor(thresh) pass",
            Otsu => {
                "the level maximising the between-class variance (OpenCV THRESH_OTSU; \
                     ImageJ: last maximum in 1..254; Fiji: first maximum)"
            }
            Triangle => {
                "the level farthest from the line from the histogram's peak to its far \
                         end (OpenCV THRESH_TRIANGLE, ImageJ/Fiji Triangle)"
            }
            AdaptiveMean => "a level per pixel: the block's mean minus C (ADAPTIVE_THRESH_MEAN_C)",
            AdaptiveGaussian => {
                "a level per pixel: the block's Gaussian-weighted mean minus C \
                                 (ADAPTIVE_THRESH_GAUSSIAN_C)"
            }
            IjDefault => "IJ_IsoData on a histogram with its mode capped (ImageJ's Default)",
            Huang => "minimum fuzziness (Shannon fuzzy entropy), Huang & Wang 1995",
            Huang2 => "Huang's method with integer class means (Fiji's re-implementation)",
            Intermodes => "mean of the two peaks of the smoothed histogram",
            IsoData => "iterative intermeans, Ridler & Calvard 1978",
            IjIsoData => "ImageJ's own iterative intermeans (end bins zeroed)",
            Li => "minimum cross entropy, Li & Tam 1998",
            MaxEntropy => "maximum entropy, Kapur, Sahoo & Wong 1985",
            Mean => "the mean gray level, Glasbey 1993",
            MinError => "minimum error, Kittler & Illingworth 1986 (iterative)",
            Minimum => "the valley of the smoothed bimodal histogram, Prewitt & Mendelsohn 1966",
            Moments => "moment preserving, Tsai 1985",
            Percentile => "50 % of the pixels below, Doyle 1962",
            RenyiEntropy => "Rényi entropies, Sahoo, Wilkins & Yeager 1997",
            Shanbhag => "information measure, Shanbhag 1994",
            Yen => "maximum correlation, Yen, Chang & Chang 1995",
            Niblack => {
                "T = m + k·s over the window (OpenCV; scikit-image: m − k·s; Fiji: \
                        m + k·s − C on a circle)"
            }
            Sauvola => "T = m·(1 + k·(s/r − 1)) over the window, Sauvola & Pietikäinen 2000",
            Wolf => {
                "T = m − k·(m − M − s·(m − M)/S), M the image minimum, S the largest s \
                     (Wolf & Jolion 2004)"
            }
            Nick => "T = m + k·sqrt(s² + E[v²]) (OpenCV contrib's NICK, Khurshid et al. 2009)",
            Bradley => {
                "foreground when v·n > S·(100 − t)/100 over the clipped window \
                        (Bradley & Roth 2007, integral image)"
            }
            Bernsen => {
                "mid-range (min + max)/2 of the circle; low contrast → by mid >= 128 \
                        (Bernsen 1986)"
            }
            Contrast => "object when the pixel is nearer the circle's max than its min",
            LocalMean => "v > (int)(mean − C) over the circle",
            Median => "v > median − C over the circle",
            MidGrey => "v > (min + max)/2 − C over the circle",
            LocalOtsu => "Otsu's level of the histogram inside each pixel's oval",
            Phansalkar => {
                "Sauvola with an exponential term for low-contrast images, on the \
                           stretched image (Phansalkar et al. 2011)"
            }
            MultiOtsu => {
                "the classes − 1 levels maximising the between-class variance (Liao et al. \
                 2001, scikit-image threshold_multiotsu); a label image"
            }
        }
    }

    /// The options the op takes on the command line.
    pub fn parameters(self) -> &'static str {
        use OpKind::*;
        match self {
            Gray => "-",
            Threshold => "--type, --thresh, --max-value",
            Otsu | Triangle => "--like opencv|imagej|fiji, --type, --max-value",
            AdaptiveMean | AdaptiveGaussian => {
                "--type binary|binary-inv, --block-size, --c, --max-value"
            }
            Huang2 => "--like fiji, --type, --max-value",
            IjDefault | Huang | Intermodes | IsoData | IjIsoData | Li | MaxEntropy | Mean
            | MinError | Minimum | Moments | Percentile | RenyiEntropy | Shanbhag | Yen => {
                "--like imagej|fiji, --type, --max-value"
            }
            Niblack => {
                "opencv: --block-size, --k (-0.2), --type; skimage: --block-size, --k (0.2); \
                 fiji: --radius (15), --k (0.2), --c (0)"
            }
            Sauvola => {
                "opencv: --block-size, --k (0.2), --r (128), --type; skimage: --block-size, \
                 --k (0.2), --r (half the dtype range: 127.5, or 32767.5 on 16-bit); fiji: \
                 --radius (15), --k (0.5), --r (128)"
            }
            Wolf => "--block-size, --k (0.5), --type (any of the five)",
            Nick => "--block-size, --k (-0.2), --type (any of the five)",
            Bradley => "--block-size (the paper: width/8), --t (15), --type binary|binary-inv",
            Bernsen => "--radius (15), --contrast (15), --type binary|binary-inv",
            Contrast | LocalOtsu => "--radius (15), --type binary|binary-inv",
            LocalMean | Median | MidGrey => "--radius (15), --c (0), --type binary|binary-inv",
            Phansalkar => "--radius (15), --k (0.25), --r (0.5), --type binary|binary-inv",
            MultiOtsu => {
                "--classes (3; 2..=5), --max-value (class i becomes round(i·max/(classes − 1)): \
                 --max-value 2 with 3 classes gives the labels 0, 1, 2)"
            }
        }
    }

    /// Whether the op finds one global level (Otsu, triangle and the ImageJ/Fiji methods).
    pub fn finds_level(self) -> bool {
        self.auto_method().is_some()
    }

    /// Whether the op is a local method ([`OpGroup::Local`]).
    pub fn is_local(self) -> bool {
        self.group() == OpGroup::Local
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
