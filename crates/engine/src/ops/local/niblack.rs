//! The mean-and-deviation family: OpenCV contrib's `niBlackThreshold` (Niblack, Sauvola, Wolf,
//! NICK), scikit-image's `threshold_niblack` and `threshold_sauvola`, and Bradley–Roth's
//! integral-image mean.
//!
//! All three read exact integer window sums (the crate-private `window` module); they differ in border,
//! arithmetic and comparison, each as its oracle computes it:
//!
//! * **OpenCV** (`niblack_thresholding.cpp`, 5.1): replicated border; `boxFilter` and
//!   `sqrBoxFilter` to float32 (`m = f32(f32(S)·f32(1/n))`, likewise the mean of squares
//!   `q`; the image's last `width mod 4` columns `f32(S·(1/n))` in double, see `Means`), `var = f32(q − f32(m·m))`, `s = sqrt(var)` (NaN when the float32 variance is
//!   negative in a flat bright window), then the threshold in float32 as OpenCV's matrix
//!   expressions evaluate it, fused multiply-adds included (`scaleAdd`, `addWeighted`,
//!   `convertTo` with a scale and shift, `multiply` with a scale: see `run_tile`), converted
//!   to 8 bits (round half to even, saturate, **NaN → 255** as OpenCV 5.1 does), then
//!   `v > T` for binary and the other four types as `cv::threshold` defines them. The result
//!   is OpenCV's bit for bit, thresholds that land on a half integer included (the
//!   golden-methods pack calls those pixels ambiguous; tessera's tests do not excuse them),
//!   except Wolf where `minMaxIdx` returns NaN for the largest deviation (see `WolfStats`).
//! * **scikit-image** (0.26): numpy's `reflect` border; float64 `m = S/n`,
//!   `s = sqrt(max(Q/n − m², 0))`; Niblack `T = m − k·s` (note the minus), Sauvola
//!   `T = m·(1 + k·(s/r − 1))` with `r` by default half the dtype's range (127.5 for uint8,
//!   32767.5 for uint16); foreground `v > T`.
//! * **Bradley–Roth** (2007, "Adaptive thresholding using the integral image"): the window is
//!   clipped at the border and `count` is the number of pixels inside; a pixel is background
//!   (0) when `v·count ≤ ⌊S·(100 − t)/100⌋`, else foreground, as the paper's code computes it.
//!
//! scikit-image's methods and Bradley–Roth take 8-bit or 16-bit samples (`GrayView<'_, u8>`
//! or `GrayView<'_, u16>`, one generic kernel monomorphised per type), with the same 8-bit
//! output. OpenCV's stay 8-bit: `niBlackThreshold` 5.1 asserts `CV_8U` for Sauvola, and for
//! the others on `CV_16U` gives a 16-bit image (thresholds converted to 16 bits, `maxValue`
//! saturated to 16 bits, trunc writing 16-bit thresholds), which is not this 8-bit mask.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use super::window::{
    Border, NARROW_MAX_RADIUS, Sample, WindowSum, clipped_len, for_each_row, for_each_row_narrow,
};
use crate::ops::{ThresholdType, saturate_round_u8};
use crate::tile::{GrayView, Rect};

/// OpenCV contrib's `BINARIZATION_*` methods of `niBlackThreshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NiblackMethod {
    /// `T = m + k·s`.
    Niblack,
    /// `T = m·(1 + k·(s/r − 1))`.
    Sauvola,
    /// `T = m − k·(m − M − s·(m − M)/S)`, `M` the image minimum, `S` the largest `s`.
    Wolf,
    /// `T = m + k·sqrt(var + q)` (OpenCV's NICK; Doxa's differs).
    Nick,
}

/// OpenCV's float32 means of a row's window sums. `ColumnSum<int, float>` (box_filter.simd.hpp)
/// scales four columns at a time as `f32(S)·f32(1/n)` and the image's last `width mod 4`
/// columns, its scalar tail, as `f32(S·(1/n))` in double (observed bit for bit on
/// `cv2.boxFilter` and `cv2.sqrBoxFilter` 5.1 for widths 8 to 1500).
#[derive(Debug, Clone, Copy)]
struct Means {
    scale: f32,
    scale_d: f64,
    /// The first column of the tile in the image's scalar tail (`rect.w` when none is).
    tail_from: usize,
}

impl Means {
    /// The mean of a window sum in the vectorised columns.
    #[inline(always)]
    fn simd<W: WindowSum>(self) -> impl Fn(W) -> f32 + Copy {
        let scale = self.scale;
        move |s: W| s.to_f32() * scale
    }

    /// The mean of a window sum in the scalar tail.
    #[inline(always)]
    fn tail<W: WindowSum>(self) -> impl Fn(W) -> f32 + Copy {
        let scale_d = self.scale_d;
        move |s: W| (s.to_f64() * scale_d) as f32
    }
}

/// The whole-image statistics Wolf needs: the image minimum and the largest local deviation.
///
/// The largest deviation is the largest number among them. When some deviations are NaN (a
/// negative float32 variance), OpenCV's `minMaxIdx` returns NaN or that number depending on
/// its SIMD lane order (NaN on the golden-methods pack's horse image at block size 25, which
/// makes every threshold NaN); tessera always takes the number.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct WolfStats {
    pub src_min: f64,
    /// `nanmax` of the float32 deviations; NaN when every one is NaN.
    pub s_max: f64,
}

impl WolfStats {
    pub(crate) fn merge(self, o: WolfStats) -> WolfStats {
        WolfStats {
            src_min: self.src_min.min(o.src_min),
            s_max: if self.s_max.is_nan() {
                o.s_max
            } else if o.s_max.is_nan() {
                self.s_max
            } else {
                self.s_max.max(o.s_max)
            },
        }
    }

    pub(crate) const EMPTY: WolfStats = WolfStats {
        src_min: f64::INFINITY,
        s_max: f64::NAN,
    };
}

/// A ready-to-run `niBlackThreshold`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenCvNiblack {
    pub method: NiblackMethod,
    pub block_size: u32,
    pub k: f64,
    pub r: f64,
    pub kind: ThresholdType,
    pub max_value: f64,
}

impl OpenCvNiblack {
    /// How `boxFilter` and `sqrBoxFilter` scale the window sums of the tile's columns.
    fn means(&self, src: &GrayView<'_>, rect: Rect) -> Means {
        let n = self.block_size as f64 * self.block_size as f64;
        let w = src.width;
        Means {
            scale: (1.0 / n) as f32,
            scale_d: 1.0 / n,
            tail_from: (w - w % 4).saturating_sub(rect.x).min(rect.w),
        }
    }

    /// Wolf's statistics over the rows of `rect` (merged over the tiles by the job).
    pub(crate) fn wolf_stats(&self, src: &GrayView<'_>, rect: Rect) -> WolfStats {
        let means = self.means(src, rect);
        let mut st = WolfStats::EMPTY;
        let r = self.block_size as usize / 2;
        let mut merge = |(src_min, s_max): (f64, f64)| st = st.merge(WolfStats { src_min, s_max });
        let row = |i: usize| &src.row(rect.y + i)[rect.x..rect.x + rect.w];
        if r <= NARROW_MAX_RADIUS {
            for_each_row_narrow(src, rect, r, Border::Replicate, true, |i, s, q| {
                merge(row_stats(row(i), s, q, means))
            });
        } else {
            for_each_row(src, rect, r, Border::Replicate, true, |i, s, q| {
                merge(row_stats(row(i), s, q, means))
            });
        }
        st
    }

    pub(crate) fn run_tile(
        &self,
        src: &GrayView<'_>,
        rect: Rect,
        wolf: WolfStats,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        // Each formula is evaluated as OpenCV's matrix expressions evaluate it, in float32
        // with its fused multiply-adds (checked bit for bit against `cv2.scaleAdd`,
        // `cv2.addWeighted`, `Mat::convertTo` and `cv2.multiply` on millions of values, and
        // against `niBlackThreshold` itself, its `THRESH_TRUNC` output included, which shows
        // the 8-bit threshold). `mean + k·stddev` is `scaleAdd(stddev, k, mean)` =
        // `fma(stddev, k, mean)`.
        let k = self.k as f32;
        let kd = k as f64;
        match self.method {
            NiblackMethod::Niblack => self.tile_with(src, rect, out, |m, _, sd| sd.mul_add(k, m)),
            // `mean.mul(1 + k·(stddev/r − 1))`: the expression folds into
            // `stddev.convertTo(α = k·(1/r), β = 1 − k)` = `fma(stddev, f32(α), f32(β))`, then
            // a float32 product.
            NiblackMethod::Sauvola => {
                let alpha = (kd * (1.0 / self.r)) as f32;
                let beta = (1.0 - kd) as f32;
                self.tile_with(src, rect, out, move |m, _, sd| m * sd.mul_add(alpha, beta))
            }
            // `mean − k·(mean − M − stddev.mul(mean − M)/Smax)`: `d = mean − M` (convertTo),
            // `e = (f32(1/Smax)·stddev)·d` (`multiply` with a scale), then
            // `addWeighted(mean, k, e, −k, −k·M)` and a float32 subtraction.
            NiblackMethod::Wolf => {
                let (mm, smax) = (wolf.src_min, wolf.s_max);
                let m32 = mm as f32;
                let inv = (1.0 / smax) as f32;
                let gamma = (-kd * mm) as f32;
                self.tile_with(src, rect, out, move |m, _, sd| {
                    let d = m - m32;
                    let e = (inv * sd) * d;
                    m - m.mul_add(k, e.mul_add(-k, gamma))
                })
            }
            // `sqrt(variance + sqmean)` in float32, then as Niblack.
            NiblackMethod::Nick => self.tile_with(src, rect, out, move |m, sq, _| {
                let var = sq - m * m;
                (var + sq).sqrt().mul_add(k, m)
            }),
        }
    }

    fn tile_with(
        &self,
        src: &GrayView<'_>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
        t_of: impl Fn(f32, f32, f32) -> f32 + Copy,
    ) {
        let means = self.means(src, rect);
        let imax = saturate_round_u8(self.max_value);
        let kind = self.kind;
        let r = self.block_size as usize / 2;
        let row = |i: usize| &src.row(rect.y + i)[rect.x..rect.x + rect.w];
        if r <= NARROW_MAX_RADIUS {
            for_each_row_narrow(src, rect, r, Border::Replicate, true, |i, s, q| {
                decide_row(kind, imax, row(i), s, q, means, t_of, out[i])
            });
        } else {
            for_each_row(src, rect, r, Border::Replicate, true, |i, s, q| {
                decide_row(kind, imax, row(i), s, q, means, t_of, out[i])
            });
        }
    }
}

/// One row of [`OpenCvNiblack::tile_with`]: [`decide`] with the threshold type's pick, the
/// image's scalar-tail columns with their own means.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn decide_row<W: WindowSum>(
    kind: ThresholdType,
    imax: u8,
    row: &[u8],
    s: &[W],
    q: &[W],
    means: Means,
    t_of: impl Fn(f32, f32, f32) -> f32 + Copy,
    o: &mut [MaybeUninit<u8>],
) {
    let t = means.tail_from.min(row.len());
    let (simd, tail) = (means.simd::<W>(), means.tail::<W>());
    // Branch-free: `m` is 0xFF where the pixel is above its threshold (a branch there is
    // taken about half the time on a document, and mispredicted).
    macro_rules! d {
        ($pick:expr) => {{
            let (o1, o2) = o.split_at_mut(t);
            decide(&row[..t], &s[..t], &q[..t], simd, t_of, $pick, o1);
            decide(&row[t..], &s[t..], &q[t..], tail, t_of, $pick, o2);
        }};
    }
    match kind {
        ThresholdType::Binary => d!(|_, _, m| m & imax),
        ThresholdType::BinaryInv => d!(|_, _, m| !m & imax),
        ThresholdType::Trunc => d!(|v, t, m| (m & t) | (!m & v)),
        ThresholdType::ToZero => d!(|v, _, m| m & v),
        ThresholdType::ToZeroInv => d!(|v, _, m| !m & v),
    }
}

/// `1.5 · 2²³`: adding and subtracting it rounds an f32 of magnitude below 2²² to an integer,
/// half to even (the default rounding mode), without a call to `rint`.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `thresh.convertTo(CV_8U)` of one float32 threshold: round half to even, saturate to
/// 0..=255, and NaN → 255 (OpenCV 5.1). The reference for [`compare_threshold`].
#[cfg(test)]
fn to_u8_threshold(t: f32) -> u8 {
    if t.is_nan() {
        255
    } else {
        (t as f64).round_ties_even().clamp(0.0, 255.0) as u8
    }
}

/// [`to_u8_threshold`] as far as `v > t8` for an 8-bit `v` can tell, in four vector
/// instructions: rounded half to even and clamped below at 0, but not above (`v > 255` and
/// `v > 256` are both false) and NaN kept (`v > NaN` is false, as `v > 255` is). Where
/// `v > t8`, `t8` is below 255 and equals [`to_u8_threshold`]'s.
#[inline(always)]
fn compare_threshold(t: f32) -> f32 {
    // `clamp` and the `if` keep NaN (they compile to `maxps`/`minps` with NaN passed on).
    let c = t.clamp(-1.0, 256.0);
    let r = (c + ROUND_MAGIC) - ROUND_MAGIC;
    if r < 0.0 { 0.0 } else { r }
}

/// The row's minimum and the `nanmax` of its float32 deviations (NaN when all are NaN).
fn row_stats<W: WindowSum>(row: &[u8], s: &[W], q: &[W], means: Means) -> (f64, f64) {
    let lo = row.iter().copied().min().map_or(f64::INFINITY, f64::from);
    let t = means.tail_from.min(row.len());
    let hi = max_variance(&s[..t], &q[..t], means.simd::<W>()).max(max_variance(
        &s[t..],
        &q[t..],
        means.tail::<W>(),
    ));
    // The largest deviation is the square root of the largest variance (`sqrt` is monotonic
    // and correctly rounded), so one square root per row. A negative variance has a NaN
    // deviation, which `nanmax` skips: it is never the largest unless all are negative,
    // and then the answer is NaN.
    (lo, if hi < 0.0 { f64::NAN } else { hi.sqrt() as f64 })
}

/// The largest float32 variance `sq − m·m` of a row's windows (−∞ for none).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn max_variance<W: WindowSum, M: Fn(W) -> f32>(s: &[W], q: &[W], mean_of: M) -> f32 {
    let mut hi = f32::NEG_INFINITY;
    for (&s, &q) in s.iter().zip(q) {
        let m = mean_of(s);
        let sq = mean_of(q);
        hi = hi.max(sq - m * m);
    }
    hi
}

/// One row: OpenCV's float32 statistics from the exact sums, the method's threshold, its
/// 8-bit conversion, then `pick(v, t8, mask)` with `mask` 0xFF when `v > t8`, else 0.
// FMA: Sauvola's and Wolf's formulas use fused multiply-adds, as OpenCV's do (without the
// feature `mul_add` is a call to `fmaf`, exact but slow).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq+fma",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn decide<W, M, T, P>(
    row: &[u8],
    s: &[W],
    q: &[W],
    mean_of: M,
    t_of: T,
    pick: P,
    out: &mut [MaybeUninit<u8>],
) where
    W: WindowSum,
    M: Fn(W) -> f32,
    T: Fn(f32, f32, f32) -> f32,
    P: Fn(u8, u8, u8) -> u8,
{
    for (((o, &v), &s), &q) in out.iter_mut().zip(row).zip(s).zip(q) {
        // The float32 means OpenCV's box filters give (see `Means`).
        let m = mean_of(s);
        let sq = mean_of(q);
        let sd = (sq - m * m).sqrt();
        let t8 = compare_threshold(t_of(m, sq, sd));
        let mask = ((v as f32 > t8) as u8).wrapping_neg();
        o.write(pick(v, t8 as u8, mask));
    }
}

/// scikit-image's two local methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkimageLocal {
    /// `threshold_niblack`: `T = m − k·s`.
    Niblack,
    /// `threshold_sauvola`: `T = m·(1 + k·(s/r − 1))`.
    Sauvola,
}

/// A ready-to-run `threshold_niblack` / `threshold_sauvola`, then `image > T`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Skimage {
    pub method: SkimageLocal,
    pub window: u32,
    pub k: f64,
    /// Sauvola's `r` (scikit-image's default: 127.5 for 8-bit images, 32767.5 for 16-bit).
    pub r: f64,
    pub inverse: bool,
    pub max_value: f64,
}

impl Skimage {
    /// 8-bit (`T = u8`) or 16-bit (`T = u16`) samples; the output is `max_value` or 0.
    pub(crate) fn run_tile<T: Sample>(
        &self,
        src: &GrayView<'_, T>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        let n = self.window as f64 * self.window as f64;
        let on = saturate_round_u8(self.max_value);
        let (k, r, inv, method) = (self.k, self.r, self.inverse, self.method);
        let rad = self.window as usize / 2;
        // The pixel loop is branch-free (a mask picks the output) and vectorises: `off` where
        // `v ≤ T`, `off ^ on` where `v > T`.
        let off = if inv { on } else { 0 };
        let flip = on;
        let niblack = |m: f64, sd: f64| m - k * sd;
        let sauvola = |m: f64, sd: f64| m * (1.0 + k * ((sd / r) - 1.0));
        macro_rules! rows {
            ($src:expr, $for_each:ident) => {
                $for_each($src, rect, rad, Border::Reflect, true, |i, s, q| {
                    let row = &$src.row(rect.y + i)[rect.x..rect.x + rect.w];
                    match method {
                        SkimageLocal::Niblack => {
                            skimage_row(row, s, q, n, niblack, off, flip, out[i])
                        }
                        SkimageLocal::Sauvola => {
                            skimage_row(row, s, q, n, sauvola, off, flip, out[i])
                        }
                    }
                })
            };
        }
        match T::as_u8(src) {
            Some(src8) if rad <= NARROW_MAX_RADIUS => rows!(src8, for_each_row_narrow),
            _ => rows!(src, for_each_row),
        }
    }
}

/// One row of scikit-image's threshold: float64 `m = S/n`, `s = sqrt(max(Q/n − m², 0))`, `T`,
/// then `off ^ (flip & mask)` with `mask` 0xFF where `v > T`.
///
/// `S/n` and `Q/n` are what scikit-image computes when its float64 integral images are exact
/// (below 2⁵³: every 8-bit image up to 1.3·10¹¹ pixels, a 16-bit one of full-scale values up
/// to about 2·10⁶ pixels). Beyond that scikit-image's own sums round; tessera keeps the exact
/// sums, so only pixels within that rounding of their threshold can differ.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn skimage_row<V: Sample, W: WindowSum, T: Fn(f64, f64) -> f64>(
    row: &[V],
    s: &[W],
    q: &[W],
    n: f64,
    t_of: T,
    off: u8,
    flip: u8,
    out: &mut [MaybeUninit<u8>],
) {
    for (((o, &v), &s), &q) in out.iter_mut().zip(row).zip(s).zip(q) {
        // Sums of values are below 2⁴¹ (exact); sums of squares may pass 2⁵² for 16 bits.
        let m = s.to_f64() / n;
        let g2 = q.sq_to_f64::<V>() / n;
        let sd = (g2 - m * m).max(0.0).sqrt();
        let v = v.to_f64();
        let mask = ((v > t_of(m, sd)) as u8).wrapping_neg();
        o.write(off ^ (flip & mask));
    }
}

/// A ready-to-run Bradley–Roth threshold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bradley {
    pub block_size: u32,
    /// Percent below the local mean, 0..=100.
    pub t: f64,
    pub inverse: bool,
    pub max_value: f64,
}

impl Bradley {
    /// 8-bit (`T = u8`) or 16-bit (`T = u16`) samples; the output is `max_value` or 0.
    pub(crate) fn run_tile<T: Sample>(
        &self,
        src: &GrayView<'_, T>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        let on = saturate_round_u8(self.max_value);
        let rad = self.block_size as usize / 2;
        let pct = 100.0 - self.t;
        // Branch-free: `off` where background, `off ^ on` where foreground.
        let (off, flip) = (if self.inverse { on } else { 0 }, on);
        // The clipped window's width at each column of the tile.
        let cols: Vec<f64> = (0..rect.w)
            .map(|x| clipped_len(rect.x + x, rad, src.width) as f64)
            .collect();
        let rows = |i: usize| clipped_len(rect.y + i, rad, src.height) as f64;
        let row = |i: usize| &src.row(rect.y + i)[rect.x..rect.x + rect.w];
        match T::as_u8(src) {
            Some(src8) if rad <= NARROW_MAX_RADIUS => {
                for_each_row_narrow(src8, rect, rad, Border::Clip, false, |i, s, _| {
                    let row = &src8.row(rect.y + i)[rect.x..rect.x + rect.w];
                    bradley_row(row, s, &cols, rows(i), pct, off, flip, out[i])
                })
            }
            _ => for_each_row(src, rect, rad, Border::Clip, false, |i, s, _| {
                bradley_row(row(i), s, &cols, rows(i), pct, off, flip, out[i])
            }),
        }
    }
}

/// One row of Bradley–Roth: foreground where `v·count > ⌊S·(100 − t)/100⌋`, `count` the
/// clipped window's pixels (`rows · cols[x]`). Every product and sum is an integer below 2⁴¹,
/// exact in f64, so the f64 form is the paper's integer arithmetic; it vectorises.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn bradley_row<V: Sample, W: WindowSum>(
    row: &[V],
    s: &[W],
    cols: &[f64],
    rows: f64,
    pct: f64,
    off: u8,
    flip: u8,
    out: &mut [MaybeUninit<u8>],
) {
    for (((o, &v), &s), &c) in out.iter_mut().zip(row).zip(s).zip(cols) {
        let lim = (s.to_f64() * pct / 100.0).floor();
        let fg = v.to_f64() * (rows * c) > lim;
        o.write(off ^ (flip & (fg as u8).wrapping_neg()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_deviation_is_the_root_of_the_largest_variance() {
        // Bright flat windows have small negative float32 variances (NaN deviations).
        let scale = (1.0 / 625.0f64) as f32;
        let mut seed = 11u32;
        for case in 0..200 {
            let n = 1 + case % 37;
            let s: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    if case % 3 == 0 {
                        255 * 625
                    } else {
                        (seed >> 8) as u64 % (255 * 625)
                    }
                })
                .collect();
            let q: Vec<u64> = s
                .iter()
                .map(|&s| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    let m = s as f64 / 625.0;
                    (m * m * 625.0) as u64
                        + if case % 3 == 0 {
                            0
                        } else {
                            (seed >> 12) as u64
                        }
                })
                .collect();
            let row = vec![7u8; n];
            // The second half of the row in OpenCV's scalar tail.
            let means = Means {
                scale,
                scale_d: 1.0 / 625.0,
                tail_from: n / 2,
            };
            let (_, hi) = row_stats(&row, &s, &q, means);
            let mut want = -1.0f32;
            for (x, (&s, &q)) in s.iter().zip(&q).enumerate() {
                let mean = |v: u64| {
                    if x < n / 2 {
                        v.to_f32() * scale
                    } else {
                        (v as f64 * (1.0 / 625.0)) as f32
                    }
                };
                let (m, sq) = (mean(s), mean(q));
                want = want.max((sq - m * m).sqrt());
            }
            let want = if want < 0.0 { f64::NAN } else { want as f64 };
            assert!(
                hi == want || hi.is_nan() && want.is_nan(),
                "case {case}: {hi} {want}"
            );
        }
    }

    #[test]
    fn the_short_threshold_compares_as_opencvs_conversion() {
        let mut ts = vec![
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1e30,
            1e30,
            -1.5,
            -1.0,
            -0.5,
            -0.49,
            0.0,
            0.5,
            1.5,
            2.5,
            253.5,
            254.5,
            255.0,
            255.5,
            256.0,
            256.5,
            300.0,
        ];
        let mut seed = 3u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (seed >> 40) as f32 / (1u32 << 24) as f32;
            let t = u * 262.0 - 3.0;
            // Near and at the half-integers, where the rounding decides.
            ts.extend([
                t,
                t.round() + 0.5,
                f32::from_bits((t.round() + 0.5).to_bits() + 1),
            ]);
            ts.push(f32::from_bits((t.round() + 0.5).to_bits() - 1));
        }
        for t in ts {
            let (short, full) = (compare_threshold(t), to_u8_threshold(t));
            for v in 0..=255u8 {
                assert_eq!(v as f32 > short, v > full, "t {t} v {v}");
                if v as f32 > short {
                    assert_eq!(short as u8, full, "t {t}");
                }
            }
        }
    }
}
