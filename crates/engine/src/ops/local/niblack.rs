//! The mean-and-deviation family: OpenCV contrib's `niBlackThreshold` (Niblack, Sauvola, Wolf,
//! NICK), scikit-image's `threshold_niblack` and `threshold_sauvola`, and Bradley–Roth's
//! integral-image mean.
//!
//! All three read exact integer window sums (the crate-private `window` module); they differ in border,
//! arithmetic and comparison, each as its oracle computes it:
//!
//! * **OpenCV** (`niblack_thresholding.cpp`, 5.1): replicated border; `boxFilter` and
//!   `sqrBoxFilter` to float32 (`m = f32(f32(S)·f32(1/n))`, likewise the mean of squares
//!   `q`), `var = f32(q − f32(m·m))`, `s = sqrt(var)` (NaN when the float32 variance is
//!   negative in a flat bright window), the threshold from those values, converted to 8 bits
//!   (round half to even, saturate, **NaN → 255** as OpenCV 5.1 does), then
//!   `v > T` for binary and the other four types as `cv::threshold` defines them.
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

use super::window::{Border, Sample, clipped_len, for_each_row, u64_to_f64};
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

/// The whole-image statistics Wolf needs: the image minimum and the largest local deviation.
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
    fn scale(&self) -> f32 {
        let n = self.block_size as f64 * self.block_size as f64;
        (1.0 / n) as f32
    }

    /// Wolf's statistics over the rows of `rect` (merged over the tiles by the job).
    pub(crate) fn wolf_stats(&self, src: &GrayView<'_>, rect: Rect) -> WolfStats {
        let scale = self.scale();
        let mut st = WolfStats::EMPTY;
        let r = self.block_size as usize / 2;
        for_each_row(src, rect, r, Border::Replicate, true, |i, s, q| {
            let row = &src.row(rect.y + i)[rect.x..rect.x + rect.w];
            let (lo, hi) = row_stats(row, s, q, scale);
            st = st.merge(WolfStats {
                src_min: lo,
                s_max: hi,
            });
        });
        st
    }

    pub(crate) fn run_tile(
        &self,
        src: &GrayView<'_>,
        rect: Rect,
        wolf: WolfStats,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        let k = self.k as f32 as f64;
        let r = self.r;
        let (mm, smax) = (wolf.src_min, wolf.s_max);
        // One loop per method, so that the formula is inlined and the loop has no branch on
        // the method.
        match self.method {
            NiblackMethod::Niblack => self.tile_with(src, rect, out, |m, _, sd| m + k * sd),
            NiblackMethod::Sauvola => {
                self.tile_with(src, rect, out, |m, _, sd| m * (1.0 + k * (sd / r - 1.0)))
            }
            NiblackMethod::Wolf => self.tile_with(src, rect, out, |m, _, sd| {
                m - k * (m - mm - sd * (m - mm) / smax)
            }),
            NiblackMethod::Nick => self.tile_with(src, rect, out, |m, sq, sd| {
                let _ = sd;
                m + k * ((sq - m * m) + sq).sqrt()
            }),
        }
    }

    fn tile_with(
        &self,
        src: &GrayView<'_>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
        t_of: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) {
        let scale = self.scale();
        let imax = saturate_round_u8(self.max_value);
        let kind = self.kind;
        for_each_row(
            src,
            rect,
            self.block_size as usize / 2,
            Border::Replicate,
            true,
            |i, s, q| {
                let row = &src.row(rect.y + i)[rect.x..rect.x + rect.w];
                let o = &mut *out[i];
                // Branch-free: `m` is 0xFF where the pixel is above its threshold (a branch
                // there is taken about half the time on a document, and mispredicted).
                macro_rules! d {
                    ($pick:expr) => {
                        decide(row, s, q, scale, t_of, $pick, o)
                    };
                }
                match kind {
                    ThresholdType::Binary => d!(|_, _, m| m & imax),
                    ThresholdType::BinaryInv => d!(|_, _, m| !m & imax),
                    ThresholdType::Trunc => d!(|v, t, m| (m & t) | (!m & v)),
                    ThresholdType::ToZero => d!(|v, _, m| m & v),
                    ThresholdType::ToZeroInv => d!(|v, _, m| !m & v),
                }
            },
        );
    }
}

/// `1.5 · 2⁵²`: adding and subtracting it rounds an f64 of magnitude below 2⁵¹ to an integer,
/// half to even (the default rounding mode), without a call to `rint`.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `thresh.convertTo(CV_8U)` of one threshold, as an f64 holding the integer: round half to
/// even, saturate to 0..=255, and NaN → 255 (OpenCV 5.1). Branch-free, so the row loop
/// vectorises.
#[inline(always)]
fn to_u8_threshold(t: f64) -> f64 {
    let c = t.clamp(-1.0, 256.0);
    let r = ((c + ROUND_MAGIC) - ROUND_MAGIC).clamp(0.0, 255.0);
    if t.is_nan() { 255.0 } else { r }
}

/// The row's minimum and the `nanmax` of its float32 deviations (NaN when all are NaN).
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1", "aarch64+neon"))]
fn row_stats(row: &[u8], s: &[u64], q: &[u64], scale: f32) -> (f64, f64) {
    let lo = row.iter().copied().min().map_or(f64::INFINITY, f64::from);
    // -1 stands for "no number yet": deviations are never negative (a negative variance
    // gives NaN, which `max` skips).
    let mut hi = -1.0f32;
    for (&s, &q) in s.iter().zip(q) {
        let m = u64_to_f64(s) as f32 * scale;
        let sq = u64_to_f64(q) as f32 * scale;
        let sd = (sq - m * m).sqrt();
        hi = hi.max(sd);
    }
    (lo, if hi < 0.0 { f64::NAN } else { hi as f64 })
}

/// One row: OpenCV's float32 statistics from the exact sums, the method's threshold, its
/// 8-bit conversion, then `pick(v, t8, mask)` with `mask` 0xFF when `v > t8`, else 0.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1", "aarch64+neon"))]
fn decide<T, P>(
    row: &[u8],
    s: &[u64],
    q: &[u64],
    scale: f32,
    t_of: T,
    pick: P,
    out: &mut [MaybeUninit<u8>],
) where
    T: Fn(f64, f64, f64) -> f64,
    P: Fn(u8, u8, u8) -> u8,
{
    for (((o, &v), &s), &q) in out.iter_mut().zip(row).zip(s).zip(q) {
        // Window sums are below 2⁴¹: exact in f64, and f64 → f32 rounds as u64 → f32 would.
        let m = u64_to_f64(s) as f32 * scale;
        let sq = u64_to_f64(q) as f32 * scale;
        let sd = (sq - m * m).sqrt();
        let t8 = to_u8_threshold(t_of(m as f64, sq as f64, sd as f64));
        let mask = ((v as f64 > t8) as u8).wrapping_neg();
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
        for_each_row(src, rect, rad, Border::Reflect, true, |i, s, q| {
            let row = &src.row(rect.y + i)[rect.x..rect.x + rect.w];
            let o = &mut *out[i];
            match method {
                SkimageLocal::Niblack => {
                    skimage_row(row, s, q, n, |m, sd| m - k * sd, off, flip, o)
                }
                SkimageLocal::Sauvola => skimage_row(
                    row,
                    s,
                    q,
                    n,
                    |m, sd| m * (1.0 + k * ((sd / r) - 1.0)),
                    off,
                    flip,
                    o,
                ),
            }
        });
    }
}

/// One row of scikit-image's threshold: float64 `m = S/n`, `s = sqrt(max(Q/n − m², 0))`, `T`,
/// then `off ^ (flip & mask)` with `mask` 0xFF where `v > T`.
///
/// `S/n` and `Q/n` are what scikit-image computes when its float64 integral images are exact
/// (below 2⁵³: every 8-bit image up to 1.3·10¹¹ pixels, a 16-bit one of full-scale values up
/// to about 2·10⁶ pixels). Beyond that scikit-image's own sums round; tessera keeps the exact
/// sums, so only pixels within that rounding of their threshold can differ.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1", "aarch64+neon"))]
#[allow(clippy::too_many_arguments)]
fn skimage_row<V: Sample, T: Fn(f64, f64) -> f64>(
    row: &[V],
    s: &[u64],
    q: &[u64],
    n: f64,
    t_of: T,
    off: u8,
    flip: u8,
    out: &mut [MaybeUninit<u8>],
) {
    for (((o, &v), &s), &q) in out.iter_mut().zip(row).zip(s).zip(q) {
        // Sums of values are below 2⁴¹ (exact); sums of squares may pass 2⁵² for 16 bits.
        let m = u64_to_f64(s) / n;
        let g2 = V::sq_to_f64(q) / n;
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
        let inv = self.inverse;
        for_each_row(src, rect, rad, Border::Clip, false, |i, s, _| {
            let y = rect.y + i;
            let rows = clipped_len(y, rad, src.height) as u64;
            let row = &src.row(y)[rect.x..rect.x + rect.w];
            for (x, ((o, &v), &s)) in out[i].iter_mut().zip(row).zip(s).enumerate() {
                let count = rows * clipped_len(rect.x + x, rad, src.width) as u64;
                let lim = (s as f64 * pct / 100.0).floor();
                // `v·count` ≤ 65535·4095² < 2⁴¹ and `S` < 2⁴¹: exact in f64.
                let fg = (v.to_u32() as u64 * count) as f64 > lim;
                o.write(if fg != inv { on } else { 0 });
            }
        });
    }
}
