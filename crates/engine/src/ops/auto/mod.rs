//! Global auto-threshold methods, exactly as ImageJ 1.53t's `ij.process.AutoThresholder` and
//! Fiji's Auto_Threshold plugin 1.18.0 compute them (G. Landini's ports of the original
//! authors' code).
//!
//! Everything here is a pure function of a histogram: [`level`] for one method, [`raw_level`]
//! for the method's own return before ImageJ maps −1 to 0, [`all_levels`] for all 18 methods,
//! and [`level_16bit`] for 16-bit images (ImageJ's 256-bin reduction, or Fiji's full
//! 65536-bin histogram). [`Like`] selects whose semantics to reproduce:
//!
//! * [`Like::ImageJ`] (default): `new AutoThresholder().getThreshold(method, histogram)`. The
//!   level `t` means objects `v <= t` on a light background, `v > t` on a dark one.
//! * [`Like::Fiji`]: `Auto_Threshold.exec(imp, method, false, false, true, …)`: a histogram
//!   with exactly two occupied bins gives (second value − 1) without running the method; the
//!   histogram is cropped to its occupied range, the method runs on the cropped array and
//!   the first occupied value is added back; `Default` is IJ_IsoData without ImageJ's mode
//!   capping and end-bin zeroing, `Otsu` is Celebi's (first maximum), and `Huang2` exists.
//!   The mask is `v > level`; a level ≤ −1 leaves the image untouched.
//!
//! The arithmetic is done in the order of the Java source, with Java's `int` wrapping where the
//! Java code multiplies `int`s, so the levels match the oracles bit for bit (see the tests in
//! `tests/global_methods.rs`, checked against the golden-methods pack).
//!
//! Differences from the Java code, all where Java has no answer: an empty histogram (all
//! counts 0) is an error ([`AutoError::EmptyHistogram`]) instead of a division by zero or an
//! exception; `Li` and `MinError` stop with [`AutoError::NotConverged`] after 100 000
//! iterations where Java would loop forever; a `MinError` estimate past the last bin is
//! [`AutoError::OutOfRange`] where Java throws `ArrayIndexOutOfBoundsException`. Counts are
//! used as Java `int`s: histograms whose counts or products exceed 2³¹ wrap exactly where the
//! Java code does.

mod entropy;
mod fiji;
mod imagej;
pub mod multi_otsu;

use std::fmt;
use std::str::FromStr;

/// The 18 global methods: the 17 of ImageJ 1.53t's `AutoThresholder` and Fiji's `Huang2`.
///
/// [`FromStr`] takes ImageJ's spelling in any case (`"ij_isodata"`, `"OTSU"`), plus Fiji's
/// `"MinError(I)"`; [`Display`](fmt::Display) writes ImageJ's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AutoMethod {
    /// ImageJ: IJ_IsoData on a histogram whose mode count is capped at 1.5 × the second
    /// highest count when it is more than twice it (AutoThresholder.java 299-322). Fiji:
    /// `IJDefault`, IJ_IsoData without that capping and without zeroing the end bins.
    Default,
    /// Huang & Wang, "Image thresholding by minimizing the measures of fuzziness", Pattern
    /// Recognition 28(1) 1995: Shannon fuzzy entropy, memberships from the class means; the
    /// first minimum (AutoThresholder.java 80-163). A constant histogram gives −1 (→ 0).
    Huang,
    /// Huang's method as re-implemented by J. Schindelin for Fiji (Auto_Threshold.java
    /// 583-634): class means rounded to integers, the first minimum. ImageJ 1.x has no
    /// Huang2; with [`Like::ImageJ`] it runs that code on the histogram as given.
    Huang2,
    /// Prewitt & Mendelsohn, "The analysis of cell images", Ann. N. Y. Acad. Sci. 128 1966:
    /// the histogram (cropped to its occupied range) is smoothed by 3-point means until it has
    /// exactly two strict local maxima; the level is the floor of their mean
    /// (AutoThresholder.java 182-237). Not bimodal after 10 000 smoothings: −1 (→ 0).
    Intermodes,
    /// Ridler & Calvard, "Picture thresholding using an iterative selection method", IEEE
    /// Trans. SMC 8 1978, as in AutoThresholder.java 239-297: `g` from the first occupied bin
    /// above 0 plus one, the integer mean below `g` and the mean above `g`, the first `g` equal
    /// to their rounded average; −1 (→ 0) when `g` passes n − 2.
    IsoData,
    /// ImageJ's own iterative intermeans (`ImageProcessor` "Default" before 1.42,
    /// AutoThresholder.java 325-363): end bins zeroed, 128 (n/2) when fewer than two bins are
    /// left.
    IjIsoData,
    /// Li & Tam, "An iterative algorithm for minimum cross entropy thresholding", Pattern
    /// Recognition Letters 19(8) 1998 (AutoThresholder.java 366-445): tolerance 0.5, returns
    /// the threshold of the last iteration.
    Li,
    /// Kapur, Sahoo & Wong, "A new method for gray-level picture thresholding using the entropy
    /// of the histogram", CVGIP 29(3) 1985 (AutoThresholder.java 447-530): the maximum is
    /// started at `Double.MIN_VALUE`, so histograms whose entropies are all ≤ 0 (one or two
    /// levels) give −1 (→ 0).
    MaxEntropy,
    /// Glasbey, "An analysis of histogram-based thresholding algorithms", CVGIP 55 1993: the
    /// floor of the mean (AutoThresholder.java 532-545).
    Mean,
    /// Kittler & Illingworth, "Minimum error thresholding", Pattern Recognition 19 1986,
    /// iterative version after Niemistö's Matlab code (AutoThresholder.java 547-614): starts
    /// at Mean, stops when the level repeats or the quadratic has no real root (keeps the
    /// current level); `log10` in the constant term; a NaN estimate keeps the previous level.
    MinError,
    /// Prewitt & Mendelsohn 1966, minimum variant (AutoThresholder.java 616-658): the full
    /// histogram smoothed until bimodal; the first `i` with `h[i−1] > h[i] <= h[i+1]`.
    /// 10 000 smoothings without two maxima: −1 (→ 0).
    Minimum,
    /// Tsai, "Moment-preserving thresholding: a new approach", CVGIP 29 1985
    /// (AutoThresholder.java 660-711): the first bin whose cumulative fraction exceeds p0;
    /// a constant histogram (p0 NaN) gives −1 (→ 0).
    Moments,
    /// Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9
    /// 1979. ImageJ (AutoThresholder.java 713-764): k in 1..254, the **last** maximum, 254 on
    /// a constant image. Fiji: Celebi's code, all bins, the **first** maximum.
    Otsu,
    /// Doyle, "Operations useful for similarity-invariant pattern recognition", JACM 9 1962:
    /// the first bin whose cumulative fraction is closest to 50 % (AutoThresholder.java
    /// 766-802).
    Percentile,
    /// Kapur, Sahoo & Wong 1985 with Rényi entropies (α = 0.5, 1, 2), combined as in Sahoo,
    /// Wilkins & Yeager, Pattern Recognition 30(1) 1997 (AutoThresholder.java 804-1003).
    RenyiEntropy,
    /// Shanbhag, "Utilization of information measure as a means of image thresholding", CVGIP
    /// 56(5) 1994 (AutoThresholder.java 1005-1086): the first minimum of
    /// `|ent_back − ent_obj|`; −1 (→ 0) when none is finite.
    Shanbhag,
    /// Zack, Rogers & Latt, "Automatic measurement of sister chromatid exchange frequency", J.
    /// Histochem. Cytochem. 25(7) 1977 (AutoThresholder.java 1088-1189): the line from the
    /// first mode to the far end of the histogram (one empty bin beyond the data), the first
    /// maximum distance, then `split − 1`; mirrored when the data lies on the low side.
    Triangle,
    /// Yen, Chang & Chang, "A new criterion for automatic multilevel thresholding", IEEE
    /// Trans. Image Processing 4(3) 1995 (AutoThresholder.java 1191-1244): the maximum is
    /// started at `Double.MIN_VALUE`, so one- and two-level histograms give −1 (→ 0).
    Yen,
}

impl AutoMethod {
    /// All 18 methods, in ImageJ's (alphabetical) order with Huang2 after Huang.
    pub const ALL: [AutoMethod; 18] = [
        AutoMethod::Default,
        AutoMethod::Huang,
        AutoMethod::Huang2,
        AutoMethod::Intermodes,
        AutoMethod::IsoData,
        AutoMethod::IjIsoData,
        AutoMethod::Li,
        AutoMethod::MaxEntropy,
        AutoMethod::Mean,
        AutoMethod::MinError,
        AutoMethod::Minimum,
        AutoMethod::Moments,
        AutoMethod::Otsu,
        AutoMethod::Percentile,
        AutoMethod::RenyiEntropy,
        AutoMethod::Shanbhag,
        AutoMethod::Triangle,
        AutoMethod::Yen,
    ];

    /// ImageJ's name of the method (`"IJ_IsoData"`, `"MinError"`, …).
    pub fn name(self) -> &'static str {
        match self {
            AutoMethod::Default => "Default",
            AutoMethod::Huang => "Huang",
            AutoMethod::Huang2 => "Huang2",
            AutoMethod::Intermodes => "Intermodes",
            AutoMethod::IsoData => "IsoData",
            AutoMethod::IjIsoData => "IJ_IsoData",
            AutoMethod::Li => "Li",
            AutoMethod::MaxEntropy => "MaxEntropy",
            AutoMethod::Mean => "Mean",
            AutoMethod::MinError => "MinError",
            AutoMethod::Minimum => "Minimum",
            AutoMethod::Moments => "Moments",
            AutoMethod::Otsu => "Otsu",
            AutoMethod::Percentile => "Percentile",
            AutoMethod::RenyiEntropy => "RenyiEntropy",
            AutoMethod::Shanbhag => "Shanbhag",
            AutoMethod::Triangle => "Triangle",
            AutoMethod::Yen => "Yen",
        }
    }

    /// Whether ImageJ 1.x's `AutoThresholder` has the method (all but Huang2).
    pub fn in_imagej(self) -> bool {
        self != AutoMethod::Huang2
    }
}

impl fmt::Display for AutoMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given to [`AutoMethod::from_str`] is none of the 18 methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMethod(pub String);

impl fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown auto-threshold method '{}' (one of:", self.0)?;
        for m in AutoMethod::ALL {
            write!(f, " {m}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownMethod {}

impl FromStr for AutoMethod {
    type Err = UnknownMethod;

    /// ImageJ's names, case-insensitive; `"MinError(I)"` (Fiji's name) is MinError.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("MinError(I)") {
            return Ok(AutoMethod::MinError);
        }
        AutoMethod::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownMethod(s.to_string()))
    }
}

/// Whose semantics [`level`] reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Like {
    /// ImageJ 1.53t `AutoThresholder.getThreshold` (what `setAutoThreshold("Otsu dark")` uses).
    #[default]
    ImageJ,
    /// Fiji's Auto_Threshold plugin 1.18.0 (`Image > Adjust > Auto Threshold`).
    Fiji,
}

/// Why a method gives no level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoError {
    /// The histogram has no bins or only zero counts.
    EmptyHistogram,
    /// The oracle's level is negative, so it does not threshold: with [`Like::Fiji`] a level
    /// ≤ −1 (the plugin leaves the image untouched); with [`Like::ImageJ`] a negative level
    /// other than −1 (only MinError can give one). `raw` is that level.
    NoThreshold {
        /// The level the oracle computed.
        raw: i64,
    },
    /// The Java loop never ends on this histogram (Li, MinError cycling between levels).
    NotConverged,
    /// MinError's estimate `estimate` lies past the last bin: the Java code throws
    /// `ArrayIndexOutOfBoundsException`.
    OutOfRange {
        /// The estimate.
        estimate: i64,
    },
}

impl fmt::Display for AutoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutoError::EmptyHistogram => f.write_str("the histogram is empty"),
            AutoError::NoThreshold { raw } => write!(f, "no threshold (the method gave {raw})"),
            AutoError::NotConverged => {
                f.write_str("the method does not converge on this histogram")
            }
            AutoError::OutOfRange { estimate } => {
                write!(
                    f,
                    "the method's estimate {estimate} is outside the histogram"
                )
            }
        }
    }
}

impl std::error::Error for AutoError {}

fn to_java_ints(histogram: &[u64]) -> Result<Vec<i64>, AutoError> {
    if histogram.iter().all(|&c| c == 0) {
        return Err(AutoError::EmptyHistogram);
    }
    // Java `int` counts.
    Ok(histogram.iter().map(|&c| c as i32 as i64).collect())
}

/// Runs the Java method on `data` (ImageJ's code, or Fiji's own for Default/Otsu/Huang2).
fn run(method: AutoMethod, data: &[i64], like: Like) -> Result<i64, AutoError> {
    Ok(match method {
        AutoMethod::Default => match like {
            Like::ImageJ => imagej::default(data),
            Like::Fiji => fiji::ij_default(data),
        },
        AutoMethod::Huang => imagej::huang(data, like == Like::Fiji),
        AutoMethod::Huang2 => fiji::huang2(data),
        AutoMethod::Intermodes => imagej::intermodes(data),
        AutoMethod::IsoData => imagej::isodata(data, like == Like::Fiji),
        AutoMethod::IjIsoData => imagej::ij_isodata(data),
        AutoMethod::Li => imagej::li(data, like == Like::Fiji).ok_or(AutoError::NotConverged)?,
        AutoMethod::MaxEntropy => imagej::max_entropy(data),
        AutoMethod::Mean => imagej::mean(data),
        AutoMethod::MinError => match imagej::min_error(data) {
            imagej::MinErrorOutcome::Level(t) => t,
            imagej::MinErrorOutcome::OutOfBounds(t) => {
                return Err(AutoError::OutOfRange { estimate: t });
            }
            imagej::MinErrorOutcome::Cycle => return Err(AutoError::NotConverged),
        },
        AutoMethod::Minimum => imagej::minimum(data, like == Like::Fiji),
        AutoMethod::Moments => imagej::moments(data),
        AutoMethod::Otsu => match like {
            Like::ImageJ => imagej::otsu(data),
            Like::Fiji => fiji::otsu(data),
        },
        AutoMethod::Percentile => imagej::percentile(data),
        AutoMethod::RenyiEntropy => imagej::renyi_entropy(data),
        AutoMethod::Shanbhag => imagej::shanbhag(data),
        AutoMethod::Triangle => imagej::triangle(data),
        AutoMethod::Yen => imagej::yen(data),
    })
}

/// The oracle's own number for `method` on `histogram`, before any mapping.
///
/// * [`Like::ImageJ`]: what the package-private `AutoThresholder` method returns (−1 when it
///   finds no level), on the histogram as given (ImageJ requires 256 bins; any length ≥ 1
///   works here, with ImageJ's 255 read as `len − 1`).
/// * [`Like::Fiji`]: the plugin's level: (second value − 1) for a histogram with exactly two
///   occupied bins; the single occupied value for one; else the method's return on the
///   histogram cropped to its occupied range, plus the first occupied bin (so a failing
///   method gives `first − 1`, which may still be ≥ 0).
pub fn raw_level(method: AutoMethod, histogram: &[u64], like: Like) -> Result<i64, AutoError> {
    let data = to_java_ints(histogram)?;
    match like {
        Like::ImageJ => run(method, &data, like),
        Like::Fiji => {
            let occupied: Vec<usize> = (0..data.len()).filter(|&i| data[i] > 0).collect();
            if occupied.len() == 2 {
                return Ok(occupied[1] as i64 - 1);
            }
            let (minbin, maxbin) = (occupied[0], occupied[occupied.len() - 1]);
            if minbin == maxbin {
                return Ok(minbin as i64);
            }
            Ok(run(method, &data[minbin..=maxbin], like)? + minbin as i64)
        }
    }
}

/// The level `method` gives on `histogram`, as the oracle `like` uses it.
///
/// [`Like::ImageJ`]: `AutoThresholder.getThreshold`, a raw −1 becomes 0 (AutoThresholder.java
/// 67); objects are `v <= level` (light background) or `v > level` (dark background).
/// [`Like::Fiji`]: the plugin's level, objects `v > level`; a level ≤ −1 (the plugin then
/// does nothing) is [`AutoError::NoThreshold`]. See [`raw_level`] for the histogram handling
/// and the module documentation for the errors.
pub fn level(method: AutoMethod, histogram: &[u64], like: Like) -> Result<u32, AutoError> {
    let raw = raw_level(method, histogram, like)?;
    match (like, raw) {
        (Like::ImageJ, -1) => Ok(0),
        (_, r) if r < 0 => Err(AutoError::NoThreshold { raw: r }),
        (_, r) => Ok(r as u32),
    }
}

/// [`level`] of every method, in the order of [`AutoMethod::ALL`].
pub fn all_levels(histogram: &[u64], like: Like) -> [(AutoMethod, Result<u32, AutoError>); 18] {
    AutoMethod::ALL.map(|m| (m, level(m, histogram, like)))
}

/// The 65536-bin histogram of 16-bit samples.
pub fn histogram_16bit(pixels: &[u16]) -> Vec<u64> {
    let mut h = vec![0u64; 65536];
    for &p in pixels {
        h[p as usize] += 1;
    }
    h
}

/// ImageJ's 256-bin reduction of a 16-bit image (`resetMinAndMax()` then
/// `convertToByte(true)`, TypeConverter.java 49-73): `b = (int)((v − min)·(256/(max−min+1)) +
/// 0.5)`, clamped to 255. Returns the 256 counts and the data `min`, `max`; `None` when the
/// histogram is empty. `histogram` has one bin per 16-bit value (any length ≤ 65536).
pub fn imagej_reduce_16bit(histogram: &[u64]) -> Option<([u64; 256], u16, u16)> {
    let min = histogram.iter().position(|&c| c > 0)?;
    let max = histogram.iter().rposition(|&c| c > 0)?;
    let scale = 256.0 / (max - min + 1) as f64;
    let mut h = [0u64; 256];
    for (v, &c) in histogram.iter().enumerate().take(max + 1).skip(min) {
        let b = (((v - min) as f64 * scale + 0.5) as i64).min(255);
        h[b as usize] += c;
    }
    Some((h, min as u16, max as u16))
}

/// A level on a 16-bit image, see [`level_16bit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level16 {
    /// [`Like::ImageJ`]: the level on the reduced 256-bin scale (after −1 → 0), as
    /// `AutoThresholder.getThreshold` returns it. [`Like::Fiji`]: the level in 16-bit units
    /// (objects `v > level`); ≤ −1 when the plugin leaves the image untouched.
    pub level: i64,
    /// The method's own return ([`raw_level`]) on the histogram it saw.
    pub raw: i64,
    /// The image's minimum sample.
    pub min: u16,
    /// The image's maximum sample.
    pub max: u16,
    /// [`Like::ImageJ`]: the 16-bit threshold range (inclusive) of `setAutoThreshold(method,
    /// false)` (light background, objects darker): `[0, level]` mapped back by
    /// `scaleAndSetThreshold` and rounded by `ShortProcessor.setThreshold`. `None` for Fiji.
    pub light: Option<(u16, u16)>,
    /// [`Like::ImageJ`]: the range of `setAutoThreshold(method, true)` (dark background):
    /// `[min(level+1, 255), 255]` mapped back the same way. `None` for Fiji.
    pub dark: Option<(u16, u16)>,
}

/// The 16-bit threshold ranges ImageJ sets for an 8-bit `level` found on the reduction of
/// an image with samples in `min..=max`: `(light, dark)`, both inclusive, as in
/// [`Level16::light`] and [`Level16::dark`].
pub fn imagej_16bit_ranges(level: u32, min: u16, max: u16) -> ((u16, u16), (u16, u16)) {
    let l8 = level as f64;
    (
        imagej_range_16(0.0, l8, min, max),
        imagej_range_16((l8 + 1.0).min(255.0), 255.0, min, max),
    )
}

/// ImageJ's `scaleAndSetThreshold` (ImageProcessor.java 725-747) and `ShortProcessor.
/// setThreshold`'s rounding (1146-1147): an 8-bit range back to 16-bit units.
fn imagej_range_16(lo8: f64, hi8: f64, min: u16, max: u16) -> (u16, u16) {
    let (mn, mx) = (min as f64, max as f64);
    let (lo, hi) = if mx > mn {
        let lo = if lo8 == 0.0 {
            lo8
        } else {
            mn + (lo8 / 255.0) * (mx - mn)
        };
        let hi = if hi8 == 255.0 {
            65535.0
        } else {
            mn + (hi8 / 255.0) * (mx - mn)
        };
        (lo, hi)
    } else {
        (mn, mn)
    };
    let r = |x: f64| (x.clamp(0.0, 65535.0) + 0.5).floor() as u16;
    (r(lo), r(hi))
}

/// A 16-bit histogram in `bins` equal bins over its occupied range `lo..=hi`, as
/// `np.histogram(v, bins, range=(lo, hi))` bins integers: value `v` goes to bin
/// `⌊(v − lo)·bins / (hi − lo)⌋` (exact integer arithmetic), the top value into the last bin.
/// Returns the bins and `(lo, hi)`; `None` for an empty histogram.
///
/// ```
/// use tessera_engine::ops::auto::{bin_start, rebin};
/// let mut h = vec![0u64; 65536];
/// h[100] = 1;
/// h[150] = 2;
/// h[300] = 3;
/// let (b, lo, hi) = rebin(&h, 4).unwrap();
/// assert_eq!((b, lo, hi), (vec![1, 2, 0, 3], 100, 300));
/// assert_eq!(bin_start(1, lo, hi, 4), 150);
/// ```
pub fn rebin(histogram: &[u64], bins: usize) -> Option<(Vec<u64>, u16, u16)> {
    let lo = histogram.iter().position(|&c| c > 0)?;
    let hi = histogram.iter().rposition(|&c| c > 0)?;
    let bins = bins.max(1);
    let mut out = vec![0u64; bins];
    let span = (hi - lo).max(1) as u64;
    for (v, &c) in histogram.iter().enumerate().take(hi + 1).skip(lo) {
        let b = (((v - lo) as u64 * bins as u64) / span).min(bins as u64 - 1);
        out[b as usize] += c;
    }
    Some((out, lo as u16, hi as u16))
}

/// The smallest value that [`rebin`] puts in bin `b` or above: `lo + ⌈b·(hi − lo)/bins⌉`
/// (65536 for `b ≥ bins`: nothing).
pub fn bin_start(b: i64, lo: u16, hi: u16, bins: usize) -> i64 {
    if b <= 0 {
        return i64::from(lo);
    }
    if b as usize >= bins {
        return 65536;
    }
    let span = i64::from(hi) - i64::from(lo);
    i64::from(lo) + ((b * span) as u64).div_ceil(bins as u64) as i64
}

/// Where `method` cuts a 16-bit image with this 65536-bin `histogram`: objects are `v > t`
/// (a binary threshold at `t`). [`Like::ImageJ`]: the dark-background range
/// `setAutoThreshold(method, dark)` sets is `[lo, 65535]`, so `t = lo − 1` (on an 8-bit-wide
/// range this is the 8-bit level itself); [`Like::Fiji`]: the plugin's level, an error when
/// the plugin leaves the image as it is (level ≤ −1).
///
/// ```
/// use tessera_engine::ops::auto::{AutoMethod, Like, cut_16bit};
/// let mut h = vec![0u64; 65536];
/// h[1000] = 50;
/// h[3000] = 50;
/// let t = cut_16bit(AutoMethod::Otsu, &h, Like::ImageJ).unwrap();
/// assert!((1000..3000).contains(&t), "{t}");
/// ```
pub fn cut_16bit(method: AutoMethod, histogram: &[u64], like: Like) -> Result<i64, AutoError> {
    let l = level_16bit(method, histogram, like)?;
    match (like, l.dark) {
        (Like::ImageJ, Some((lo, _))) => Ok(i64::from(lo) - 1),
        _ if l.level < 0 => Err(AutoError::NoThreshold { raw: l.raw }),
        _ => Ok(l.level),
    }
}

/// The level of `method` on a 16-bit image given by its 65536-bin `histogram` (see
/// [`histogram_16bit`]; shorter histograms are read as the low values).
///
/// * [`Like::ImageJ`] (`ShortProcessor.setAutoThreshold(method, dark, NO_LUT_UPDATE)`): the
///   method runs on the 256-bin reduction of [`imagej_reduce_16bit`]; the level is mapped
///   back to the 16-bit ranges [`Level16::light`] and [`Level16::dark`] (forward map
///   divides by `max−min+1` with 256, the backward one uses 255 and `max−min`, as ImageJ).
/// * [`Like::Fiji`]: the plugin runs on the full 65536-bin histogram (no reduction), see
///   [`raw_level`]; the level is in 16-bit units.
pub fn level_16bit(
    method: AutoMethod,
    histogram: &[u64],
    like: Like,
) -> Result<Level16, AutoError> {
    let (h8, min, max) = imagej_reduce_16bit(histogram).ok_or(AutoError::EmptyHistogram)?;
    match like {
        Like::ImageJ => {
            let raw = raw_level(method, &h8, like)?;
            let level = if raw == -1 { 0 } else { raw };
            if level < 0 {
                return Err(AutoError::NoThreshold { raw });
            }
            let (light, dark) = imagej_16bit_ranges(level as u32, min, max);
            Ok(Level16 {
                level,
                raw,
                min,
                max,
                light: Some(light),
                dark: Some(dark),
            })
        }
        Like::Fiji => {
            let raw = raw_level(method, histogram, like)?;
            Ok(Level16 {
                level: raw,
                raw,
                min,
                max,
                light: None,
                dark: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for m in AutoMethod::ALL {
            assert_eq!(m.to_string().parse::<AutoMethod>().unwrap(), m);
            assert_eq!(
                m.to_string().to_lowercase().parse::<AutoMethod>().unwrap(),
                m
            );
            assert_eq!(
                m.to_string().to_uppercase().parse::<AutoMethod>().unwrap(),
                m
            );
        }
        assert_eq!(
            "MinError(I)".parse::<AutoMethod>().unwrap(),
            AutoMethod::MinError
        );
        assert_eq!(
            "IJ_IsoData".parse::<AutoMethod>().unwrap(),
            AutoMethod::IjIsoData
        );
        assert!("Otsu2".parse::<AutoMethod>().is_err());
        assert_eq!(Like::default(), Like::ImageJ);
    }

    #[test]
    fn empty_histogram_is_an_error() {
        for like in [Like::ImageJ, Like::Fiji] {
            for m in AutoMethod::ALL {
                assert_eq!(level(m, &[0; 256], like), Err(AutoError::EmptyHistogram));
                assert_eq!(level(m, &[], like), Err(AutoError::EmptyHistogram));
            }
        }
        assert_eq!(
            level_16bit(AutoMethod::Otsu, &[0; 65536], Like::ImageJ),
            Err(AutoError::EmptyHistogram)
        );
    }

    #[test]
    fn single_value_histograms_do_what_imagej_does() {
        let mut h = [0u64; 256];
        h[128] = 100;
        let expect = |m: AutoMethod| match m {
            AutoMethod::Otsu => 254,
            AutoMethod::Default | AutoMethod::IjIsoData => 128,
            // Mean, Percentile: the value; Triangle: mode == min -> the value - 1 + ...
            _ => u32::MAX,
        };
        for (m, got) in all_levels(&h, Like::ImageJ) {
            let want = expect(m);
            if want != u32::MAX {
                assert_eq!(got, Ok(want), "{m}");
            }
        }
        assert_eq!(level(AutoMethod::Mean, &h, Like::ImageJ), Ok(128));
        // Percentile: |0 − 0.5| at bin 0 already ties the best, and the strict `<` keeps it.
        assert_eq!(level(AutoMethod::Percentile, &h, Like::ImageJ), Ok(0));
        // Triangle: min = 127, mode 128, the line's first maximum at 127, minus one.
        assert_eq!(level(AutoMethod::Triangle, &h, Like::ImageJ), Ok(126));
        for m in [
            AutoMethod::Huang,
            AutoMethod::Moments,
            AutoMethod::Shanbhag,
            AutoMethod::MaxEntropy,
            AutoMethod::Yen,
        ] {
            assert_eq!(raw_level(m, &h, Like::ImageJ), Ok(-1), "{m}");
            assert_eq!(level(m, &h, Like::ImageJ), Ok(0), "{m}");
        }
        // Fiji: a single occupied bin is its own level, whatever the method.
        for (m, got) in all_levels(&h, Like::Fiji) {
            assert_eq!(got, Ok(128), "{m}");
        }
    }

    #[test]
    fn fiji_two_levels_is_second_minus_one() {
        let mut h = [0u64; 256];
        h[50] = 10;
        h[200] = 3;
        for (m, got) in all_levels(&h, Like::Fiji) {
            assert_eq!(got, Ok(199), "{m}");
        }
    }

    #[test]
    fn reduction_16bit_constant_and_ramp() {
        let mut h = vec![0u64; 65536];
        h[1000] = 5;
        let (h8, mn, mx) = imagej_reduce_16bit(&h).unwrap();
        assert_eq!((h8[0], mn, mx), (5, 1000, 1000));
        let l = level_16bit(AutoMethod::Otsu, &h, Like::ImageJ).unwrap();
        assert_eq!(
            (l.level, l.light, l.dark),
            (254, Some((1000, 1000)), Some((1000, 1000)))
        );
        let px: Vec<u16> = (0..=65535u16).collect();
        let h = histogram_16bit(&px);
        let (h8, _, _) = imagej_reduce_16bit(&h).unwrap();
        assert_eq!(h8.iter().sum::<u64>(), 65536);
    }
}
