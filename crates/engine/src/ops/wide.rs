//! 16-bit (`CV_16U`) kernels, exactly as OpenCV 5.1 computes them: RGB to gray, the five
//! fixed-level threshold types, and Otsu's level on the full 65 536-bin histogram.
//!
//! Pixels are in the order the `image` crate stores them (R, G, B, then alpha, which is
//! ignored); the results are those of OpenCV on the same pixels in its BGR(A) order. Checked
//! bit for bit against `cv2` 5.1.0 by `tests/wide_golden.rs` (data from
//! `scripts/vendor_wide_golden.py`).
//!
//! # Gray
//!
//! `cvtColor(bgr16, COLOR_BGR2GRAY)` (`RGB2Gray<ushort>` in `imgproc/src/color_rgb.simd.hpp`)
//! is integer fixed point with the same 15-bit BT.601 weights as 8-bit images (`RY15`,
//! `GY15`, `BY15`, `gray_shift` in `color.hpp`), not the floating-point formula:
//!
//! `Y = (9798 R + 19235 G + 3735 B + 16384) >> 15`
//!
//! The sum is at most 32768 · 65535 + 16384 < 2³¹, so it is exact in `u32` and `Y <= 65535`.
//! OpenCV's SIMD loop computes the same value (it multiplies the samples as signed 16-bit and
//! adds back `2 · weight` for each sample ≥ 32768, which is exact). The IPP HAL, which the
//! `cv2` wheels carry, converts only 32-bit float images to gray (`ipp_hal_cvtBGRtoGray` in
//! `hal/ipp/src/color_ipp.cpp`), so 16-bit images take this path. Checked against `cv2`
//! on 1.07 · 10⁹ random pixels and on every value of each channel with the others at 0, 1,
//! 32767, 32768, 65534 and 65535: no difference (the float formula
//! `round(0.299 R + 0.587 G + 0.114 B)` differs on a third of random pixels).
//!
//! # Threshold
//!
//! `threshold(src16, dst, thresh, maxval, type)` (`cv::threshold` and `thresh_16u` in
//! `imgproc/src/thresh.cpp`; the IPP HAL's `ipp_hal_threshold` declines 16U) compares with
//! the integer level `T = cvFloor(thresh)` and writes
//! `M = saturate_cast<ushort>(cvRound(maxval))`:
//!
//! | type | `v > T` | otherwise |
//! |---|---|---|
//! | binary | `M` | 0 |
//! | binary-inv | 0 | `M` |
//! | trunc | `T` | `v` |
//! | tozero | `v` | 0 |
//! | tozero-inv | 0 | `v` |
//!
//! `cvFloor` and `cvRound` (round half to even) saturate to the `int` range in 5.1
//! (`thresh = 1e10` gives `T = 2147483647`, `-1e10` gives `-2147483648`; `NaN` gives
//! 2147483647 for both), and `cv2.threshold` returns `T`. A level `T < 0` or `T >= 65535` makes
//! every pixel compare the same way; OpenCV then fills or copies (`dst.setTo` /
//! `src.copyTo`), which is what the table gives. tessera writes the binary types on 16-bit
//! images as 8-bit masks: [`Thresholder16::mask_row`] writes
//! `saturate_cast<uchar>(cvRound(maxval))` where OpenCV's 16-bit result is nonzero, 0
//! elsewhere.
//!
//! # Otsu and triangle
//!
//! `THRESH_OTSU` accepts `CV_16UC1` in 5.1 (`getThreshVal_Otsu_16u`, the template
//! `getThreshVal_Otsu<ushort>` with `N = 65536`); [`otsu_level_16`] is that loop, in `double`:
//!
//! * `scale = 1.0 / (width · height)` and `mu = (Σ i · h[i]) · scale`, summed in bin order
//!   (`h[i]`: the `int` count of value `i`);
//! * then for each bin `i` in order: `p = h[i] · scale`, `mu1 *= q1`, `q1 += p`,
//!   `q2 = 1 - q1`; the bin is skipped if `min(q1, q2) < FLT_EPSILON` or
//!   `max(q1, q2) > 1 - FLT_EPSILON`; else `mu1 = (mu1 + i · p) / q1`,
//!   `mu2 = (mu - q1 · mu1) / q2` and `sigma = q1 · q2 · (mu1 - mu2)²`;
//! * the level is the first bin with the strictly greatest `sigma`, 0 if none (a constant
//!   image). The image is then thresholded at that level as above.
//!
//! The rounding matters: running sums (`Σ i · p / q1` instead of `mu1 *= q1 … / q1`) give
//! other levels on some histograms, which the golden data include.
//!
//! `THRESH_TRIANGLE` is 8-bit only in 5.1 (`CV_Assert(src.type() == CV_8UC1)`; `cv2` raises
//! on a 16-bit image), so there is no 16-bit triangle level here.

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::{ThresholdType, as_uninit};

const WR: u32 = 9798;
const WG: u32 = 19235;
const WB: u32 = 3735;
const ROUND: u32 = 1 << 14;
const SHIFT: u32 = 15;

/// Views initialised 16-bit samples as the write-only output type of the kernels, as
/// [`as_uninit`] does for bytes.
fn as_uninit_u16(s: &mut [u16]) -> &mut [MaybeUninit<u16>] {
    // SAFETY: same layout; every initialised `u16` is a valid `MaybeUninit<u16>`, and the
    // kernels here only store initialised values, so `s` stays initialised.
    unsafe { &mut *(s as *mut [u16] as *mut [MaybeUninit<u16>]) }
}

/// The gray value of one 16-bit RGB pixel, as `cvtColor(COLOR_BGR2GRAY)` on `CV_16U`.
#[inline(always)]
pub fn gray16_of(r: u16, g: u16, b: u16) -> u16 {
    ((WR * r as u32 + WG * g as u32 + WB * b as u32 + ROUND) >> SHIFT) as u16
}

/// Converts a row of interleaved 16-bit pixels with `channels` samples each (3: RGB, 4: RGBA,
/// alpha ignored) into gray. `dst.len()` pixels are converted.
///
/// ```
/// use tessera_engine::ops::wide::rgb16_row_to_gray;
/// let mut gray = [0u16; 2];
/// rgb16_row_to_gray(&[65535, 0, 0, 65535, 65535, 65535], 3, &mut gray);
/// assert_eq!(gray, [19596, 65535]);
/// ```
pub fn rgb16_row_to_gray(src: &[u16], channels: usize, dst: &mut [u16]) {
    rgb16_row_to_gray_uninit(src, channels, as_uninit_u16(dst));
}

/// [`rgb16_row_to_gray`] into a row not yet initialised: every sample is written (the source
/// is cut to exactly `dst.len()` pixels, which the kernels below check).
pub(crate) fn rgb16_row_to_gray_uninit(src: &[u16], channels: usize, dst: &mut [MaybeUninit<u16>]) {
    assert!(src.len() >= dst.len() * channels, "source row too short");
    match channels {
        3 => rgb3_to_gray16(&src[..dst.len() * 3], dst),
        4 => rgb4_to_gray16(&src[..dst.len() * 4], dst),
        _ => panic!("rgb16_row_to_gray: {channels} channels"),
    }
}

/// Pixels per inner block: fixed-size arrays let the compiler deinterleave the block with
/// shuffles and keep it in vector registers.
const BLOCK: usize = 16;

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn rgb3_to_gray16(src: &[u16], dst: &mut [MaybeUninit<u16>]) {
    // Every pixel of `dst` is written: one source pixel for each.
    assert_eq!(src.len(), dst.len() * 3);
    let mut s_blocks = src.chunks_exact(3 * BLOCK);
    let mut d_blocks = dst.chunks_exact_mut(BLOCK);
    for (s, d) in (&mut s_blocks).zip(&mut d_blocks) {
        let s: &[u16; 3 * BLOCK] = s.try_into().unwrap_or_else(|_| unreachable!());
        let mut r = [0u32; BLOCK];
        let mut g = [0u32; BLOCK];
        let mut b = [0u32; BLOCK];
        for i in 0..BLOCK {
            r[i] = s[3 * i] as u32;
            g[i] = s[3 * i + 1] as u32;
            b[i] = s[3 * i + 2] as u32;
        }
        for i in 0..BLOCK {
            d[i].write(((WR * r[i] + WG * g[i] + WB * b[i] + ROUND) >> SHIFT) as u16);
        }
    }
    for (s, d) in s_blocks
        .remainder()
        .chunks_exact(3)
        .zip(d_blocks.into_remainder())
    {
        d.write(gray16_of(s[0], s[1], s[2]));
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn rgb4_to_gray16(src: &[u16], dst: &mut [MaybeUninit<u16>]) {
    // Every pixel of `dst` is written: one source pixel for each.
    assert_eq!(src.len(), dst.len() * 4);
    for (s, d) in src.chunks_exact(4).zip(dst.iter_mut()) {
        d.write(((WR * s[0] as u32 + WG * s[1] as u32 + WB * s[2] as u32 + ROUND) >> SHIFT) as u16);
    }
}

/// `cvFloor` as OpenCV 5.1 on x86-64 computes it: saturated to the `int` range, `NaN` to
/// `INT_MAX` (checked with `cv2`).
fn cv_floor(v: f64) -> i32 {
    if v.is_nan() {
        i32::MAX
    } else {
        v.floor() as i32
    }
}

/// `cvRound` likewise: half to even, saturated, `NaN` to `INT_MAX`.
fn cv_round(v: f64) -> i32 {
    if v.is_nan() {
        i32::MAX
    } else {
        v.round_ties_even() as i32
    }
}

/// A 16-bit threshold ready to apply to rows: type, OpenCV's integer level and max value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholder16 {
    kind: ThresholdType,
    /// `cvFloor(thresh)`, the level OpenCV compares with and returns.
    level: i32,
    /// `saturate_cast<ushort>(cvRound(maxval))`.
    max_value: u16,
    /// `saturate_cast<uchar>(cvRound(maxval))`, the value of the 8-bit masks.
    mask_value: u8,
}

impl Thresholder16 {
    /// The threshold `threshold(src16, dst, thresh, max_value, kind)` applies, for any
    /// values (OpenCV's flooring, rounding and saturation are done here).
    ///
    /// ```
    /// use tessera_engine::ops::ThresholdType;
    /// use tessera_engine::ops::wide::Thresholder16;
    /// let t = Thresholder16::new(ThresholdType::Binary, 1000.7, 2.5);
    /// assert_eq!(t.level(), 1000);
    /// assert_eq!((t.apply(1000), t.apply(1001)), (0, 2));
    /// ```
    pub fn new(kind: ThresholdType, thresh: f64, max_value: f64) -> Self {
        let max = cv_round(max_value);
        Thresholder16 {
            kind,
            level: cv_floor(thresh),
            max_value: max.clamp(0, u16::MAX as i32) as u16,
            mask_value: max.clamp(0, u8::MAX as i32) as u8,
        }
    }

    /// The threshold type.
    pub fn kind(&self) -> ThresholdType {
        self.kind
    }

    /// The integer level the comparison `v > level` uses, `cvFloor(thresh)`: the value
    /// `cv2.threshold` returns for a 16-bit image.
    pub fn level(&self) -> i64 {
        self.level as i64
    }

    /// The 16-bit value of the binary types, `saturate_cast<ushort>(cvRound(maxval))`.
    pub fn max_value(&self) -> u16 {
        self.max_value
    }

    /// The value of [`Thresholder16::mask_row`]'s set pixels,
    /// `saturate_cast<uchar>(cvRound(maxval))`.
    pub fn mask_value(&self) -> u8 {
        self.mask_value
    }

    /// The output for one pixel value: the definition every kernel must match.
    #[inline]
    pub fn apply(&self, v: u16) -> u16 {
        let above = v as i32 > self.level;
        let t = self.level.clamp(0, u16::MAX as i32) as u16;
        match (self.kind, above) {
            (ThresholdType::Binary, true) | (ThresholdType::BinaryInv, false) => self.max_value,
            (ThresholdType::Binary, false) | (ThresholdType::BinaryInv, true) => 0,
            (ThresholdType::Trunc, true) => t,
            (ThresholdType::Trunc | ThresholdType::ToZeroInv, false) => v,
            (ThresholdType::ToZero, true) => v,
            (ThresholdType::ToZero, false) | (ThresholdType::ToZeroInv, true) => 0,
        }
    }

    /// Applies the threshold to a row. `src` and `dst` have the same length.
    pub fn apply_row(&self, src: &[u16], dst: &mut [u16]) {
        self.apply_row_uninit(src, as_uninit_u16(dst));
    }

    /// [`Thresholder16::apply_row`] into a row not yet initialised: every sample is written.
    pub(crate) fn apply_row_uninit(&self, src: &[u16], dst: &mut [MaybeUninit<u16>]) {
        assert_eq!(src.len(), dst.len());
        if !(0..u16::MAX as i32).contains(&self.level) {
            // Every pixel compares the same way (all above when T < 0, none when T >= 65535):
            // the result is the pixel itself or one value, as OpenCV's copyTo / setTo.
            let above = self.level < 0;
            let copy = match self.kind {
                ThresholdType::ToZero => above,
                ThresholdType::Trunc | ThresholdType::ToZeroInv => !above,
                ThresholdType::Binary | ThresholdType::BinaryInv => false,
            };
            if copy {
                for (d, &s) in dst.iter_mut().zip(src) {
                    d.write(s);
                }
            } else {
                dst.fill(MaybeUninit::new(self.apply(0)));
            }
            return;
        }
        let t = self.level as u16;
        let m = self.max_value;
        match self.kind {
            ThresholdType::Binary => select_row(src, dst, t, m, 0),
            ThresholdType::BinaryInv => select_row(src, dst, t, 0, m),
            ThresholdType::Trunc => trunc_row(src, dst, t),
            ThresholdType::ToZero => tozero_row(src, dst, t, false),
            ThresholdType::ToZeroInv => tozero_row(src, dst, t, true),
        }
    }

    /// The 8-bit mask of a binary or binary-inv threshold: [`Thresholder16::mask_value`]
    /// where OpenCV's 16-bit result is nonzero, 0 elsewhere. `src` and `dst` have the same
    /// length.
    ///
    /// # Panics
    /// For the types other than binary and binary-inv.
    ///
    /// ```
    /// use tessera_engine::ops::ThresholdType;
    /// use tessera_engine::ops::wide::Thresholder16;
    /// let t = Thresholder16::new(ThresholdType::BinaryInv, 30000.0, 65535.0);
    /// let mut mask = [0u8; 3];
    /// t.mask_row(&[0, 30000, 30001], &mut mask);
    /// assert_eq!(mask, [255, 255, 0]);
    /// ```
    pub fn mask_row(&self, src: &[u16], dst: &mut [u8]) {
        self.mask_row_uninit(src, as_uninit(dst));
    }

    /// [`Thresholder16::mask_row`] into a row not yet initialised: every byte is written.
    pub(crate) fn mask_row_uninit(&self, src: &[u16], dst: &mut [MaybeUninit<u8>]) {
        assert_eq!(src.len(), dst.len());
        let m = self.mask_value;
        let (above, below) = match self.kind {
            ThresholdType::Binary => (m, 0),
            ThresholdType::BinaryInv => (0, m),
            kind => panic!("Thresholder16::mask_row: {kind} has no binary mask"),
        };
        if self.level < 0 {
            dst.fill(MaybeUninit::new(above));
        } else if self.level >= u16::MAX as i32 {
            dst.fill(MaybeUninit::new(below));
        } else {
            mask_row(src, dst, self.level as u16, above, below);
        }
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn select_row(src: &[u16], dst: &mut [MaybeUninit<u16>], t: u16, above: u16, below: u16) {
    // Every pixel of `dst` is written: one source pixel for each.
    assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(if s > t { above } else { below });
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn mask_row(src: &[u16], dst: &mut [MaybeUninit<u8>], t: u16, above: u8, below: u8) {
    assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(if s > t { above } else { below });
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn trunc_row(src: &[u16], dst: &mut [MaybeUninit<u16>], t: u16) {
    assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(s.min(t));
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn tozero_row(src: &[u16], dst: &mut [MaybeUninit<u16>], t: u16, inverse: bool) {
    assert_eq!(src.len(), dst.len());
    if inverse {
        for (d, &s) in dst.iter_mut().zip(src) {
            d.write(if s > t { 0 } else { s });
        }
    } else {
        for (d, &s) in dst.iter_mut().zip(src) {
            d.write(if s > t { s } else { 0 });
        }
    }
}

/// Otsu's level of a 16-bit image from its histogram (`hist[v]` pixels of value `v`; at most
/// 65 536 bins, missing bins count as empty), as `getThreshVal_Otsu_16u`: the double-precision
/// loop of the module documentation, the first maximum wins, 0 for a constant or empty image.
/// This is the level `cv2.threshold(img16, 0, maxval, type | THRESH_OTSU)` returns.
///
/// OpenCV counts in `int`: images of 2³¹ pixels or more are outside its range; here the
/// counts are converted to `f64` as they are (exact up to 2⁵³).
///
/// ```
/// use tessera_engine::ops::wide::otsu_level_16;
/// let mut hist = vec![0u64; 65536];
/// hist[1000] = 50;
/// hist[40000] = 70;
/// assert_eq!(otsu_level_16(&hist), 1000);
/// ```
pub fn otsu_level_16(hist: &[u64]) -> u16 {
    assert!(hist.len() <= 1 << 16, "otsu_level_16: {} bins", hist.len());
    super::level::otsu_bin(hist) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::level::Histogram;

    /// A small deterministic generator (xorshift64*), so the tests need no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// A sample, one time in four an extreme (0, 1, 32767, 32768, 65534, 65535).
        fn sample(&mut self) -> u16 {
            const EXTREMES: [u16; 6] = [0, 1, 32767, 32768, 65534, 65535];
            let x = self.next();
            if x.is_multiple_of(4) {
                EXTREMES[(x >> 8) as usize % 6]
            } else {
                (x >> 32) as u16
            }
        }
    }

    /// The formula of the module documentation, in `u64` so it cannot overflow.
    fn naive_gray(r: u16, g: u16, b: u16) -> u16 {
        ((9798 * r as u64 + 19235 * g as u64 + 3735 * b as u64 + 16384) >> 15) as u16
    }

    #[test]
    fn row_kernels_match_the_naive_formula_for_every_length() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let src: Vec<u16> = (0..4 * 200).map(|_| rng.sample()).collect();
        for n in 0..200 {
            let mut d3 = vec![0u16; n];
            rgb16_row_to_gray(&src, 3, &mut d3);
            let mut d4 = vec![0u16; n];
            rgb16_row_to_gray(&src, 4, &mut d4);
            for i in 0..n {
                let p3 = &src[3 * i..3 * i + 3];
                let p4 = &src[4 * i..4 * i + 4];
                assert_eq!(d3[i], naive_gray(p3[0], p3[1], p3[2]), "{p3:?}");
                assert_eq!(d4[i], naive_gray(p4[0], p4[1], p4[2]), "{p4:?}");
            }
        }
    }

    #[test]
    fn every_value_of_each_channel_against_the_others_at_the_extremes() {
        let n = 1 << 16;
        for other in [0u16, 1, 32767, 32768, 65534, 65535] {
            for ch in 0..3 {
                let mut src = vec![other; 3 * n];
                for v in 0..n {
                    src[3 * v + ch] = v as u16;
                }
                let mut dst = vec![0u16; n];
                rgb16_row_to_gray(&src, 3, &mut dst);
                for v in 0..n {
                    let p = &src[3 * v..3 * v + 3];
                    assert_eq!(dst[v], naive_gray(p[0], p[1], p[2]), "{p:?}");
                }
            }
        }
    }

    #[test]
    fn gray_extremes_and_primaries() {
        // The values cv2 5.1 gives for these pixels.
        assert_eq!(gray16_of(0, 0, 0), 0);
        assert_eq!(gray16_of(65535, 65535, 65535), 65535);
        assert_eq!(gray16_of(65535, 0, 0), 19596);
        assert_eq!(gray16_of(0, 65535, 0), 38469);
        assert_eq!(gray16_of(0, 0, 65535), 7470);
        assert_eq!(gray16_of(257, 257, 257), 257);
    }

    #[test]
    fn gray_uninit_and_safe_variants_agree() {
        let mut rng = Rng(17);
        for channels in [3, 4] {
            let src: Vec<u16> = (0..channels * 333).map(|_| rng.sample()).collect();
            let mut safe = vec![0u16; 333];
            rgb16_row_to_gray(&src, channels, &mut safe);
            let mut raw = vec![MaybeUninit::<u16>::uninit(); 333];
            rgb16_row_to_gray_uninit(&src, channels, &mut raw);
            // SAFETY: the kernel writes every element (what this test checks against `safe`).
            let raw: Vec<u16> = raw.iter().map(|v| unsafe { v.assume_init() }).collect();
            assert_eq!(raw, safe);
        }
    }

    #[test]
    #[should_panic(expected = "source row too short")]
    fn gray_refuses_a_short_source() {
        rgb16_row_to_gray(&[1, 2, 3, 4, 5], 3, &mut [0u16; 2]);
    }

    const THRESHES: [f64; 17] = [
        -1e10,
        -70000.0,
        -1.0,
        -0.5,
        0.0,
        0.5,
        1.0,
        1000.5,
        32767.0,
        32768.0,
        65533.9,
        65534.0,
        65534.5,
        65535.0,
        70000.0,
        3e9,
        f64::NAN,
    ];
    const MAXES: [f64; 10] = [
        65535.0, 0.4, 0.5, 1.5, 2.5, -3.0, 300.0, 70000.0, 1e10, -1e10,
    ];

    /// Every value, twice, in an order that is not sorted.
    fn all_values() -> Vec<u16> {
        (0..=u16::MAX).chain((0..=u16::MAX).rev()).collect()
    }

    #[test]
    fn threshold_row_kernels_match_apply_for_all_levels_and_types() {
        let src = all_values();
        let mut dst = vec![0u16; src.len()];
        let mut mask = vec![0u8; src.len()];
        for kind in ThresholdType::ALL {
            for thresh in THRESHES {
                for max in MAXES {
                    let t = Thresholder16::new(kind, thresh, max);
                    t.apply_row(&src, &mut dst);
                    let binary = matches!(kind, ThresholdType::Binary | ThresholdType::BinaryInv);
                    if binary {
                        t.mask_row(&src, &mut mask);
                    }
                    for (i, &s) in src.iter().enumerate() {
                        let want = t.apply(s);
                        assert_eq!(dst[i], want, "{kind} {thresh} {max} v={s}");
                        if binary {
                            let m = if want != 0 { t.mask_value() } else { 0 };
                            assert_eq!(mask[i], m, "mask {kind} {thresh} {max} v={s}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn threshold_uninit_and_safe_variants_agree() {
        let src = all_values();
        for kind in ThresholdType::ALL {
            for thresh in [-5.0, 12345.6, 65535.0] {
                let t = Thresholder16::new(kind, thresh, 4000.0);
                let mut safe = vec![0u16; src.len()];
                t.apply_row(&src, &mut safe);
                let mut raw = vec![MaybeUninit::<u16>::uninit(); src.len()];
                t.apply_row_uninit(&src, &mut raw);
                // SAFETY: the kernel writes every element (checked against `safe`).
                let raw: Vec<u16> = raw.iter().map(|v| unsafe { v.assume_init() }).collect();
                assert_eq!(raw, safe, "{kind} {thresh}");
                if matches!(kind, ThresholdType::Binary | ThresholdType::BinaryInv) {
                    let mut safe = vec![0u8; src.len()];
                    t.mask_row(&src, &mut safe);
                    let mut raw = vec![MaybeUninit::<u8>::uninit(); src.len()];
                    t.mask_row_uninit(&src, &mut raw);
                    // SAFETY: as above.
                    let raw: Vec<u8> = raw.iter().map(|v| unsafe { v.assume_init() }).collect();
                    assert_eq!(raw, safe, "mask {kind} {thresh}");
                }
            }
        }
    }

    #[test]
    fn levels_and_max_values_round_as_opencv() {
        let t = |thresh, max| Thresholder16::new(ThresholdType::Binary, thresh, max);
        assert_eq!(t(100.5, 0.0).level(), 100);
        assert_eq!(t(-0.5, 0.0).level(), -1);
        assert_eq!(t(70000.0, 0.0).level(), 70000);
        assert_eq!(t(1e10, 0.0).level(), i32::MAX as i64);
        assert_eq!(t(-1e10, 0.0).level(), i32::MIN as i64);
        assert_eq!(t(f64::NAN, 0.0).level(), i32::MAX as i64);
        let max = |m: f64| (t(0.0, m).max_value(), t(0.0, m).mask_value());
        assert_eq!(max(0.5), (0, 0));
        assert_eq!(max(1.5), (2, 2));
        assert_eq!(max(2.5), (2, 2));
        assert_eq!(max(300.0), (300, 255));
        assert_eq!(max(65535.5), (65535, 255));
        assert_eq!(max(1e10), (65535, 255));
        assert_eq!(max(-1e10), (0, 0));
        assert_eq!(max(f64::NAN), (65535, 255));
    }

    #[test]
    fn opencv_special_cases_for_levels_out_of_range() {
        // T < 0: binary -> all maxval, binary-inv/trunc/tozero-inv -> all 0, tozero -> copy.
        let neg = |k| Thresholder16::new(k, -3.0, 2000.0);
        assert_eq!(neg(ThresholdType::Binary).apply(0), 2000);
        assert_eq!(neg(ThresholdType::BinaryInv).apply(0), 0);
        assert_eq!(neg(ThresholdType::Trunc).apply(777), 0);
        assert_eq!(neg(ThresholdType::ToZero).apply(777), 777);
        assert_eq!(neg(ThresholdType::ToZeroInv).apply(777), 0);
        // T >= 65535: binary -> 0, binary-inv -> maxval, trunc/tozero-inv -> copy, tozero -> 0.
        let high = |k| Thresholder16::new(k, 65535.0, 2000.0);
        assert_eq!(high(ThresholdType::Binary).apply(65535), 0);
        assert_eq!(high(ThresholdType::BinaryInv).apply(65535), 2000);
        assert_eq!(high(ThresholdType::Trunc).apply(65535), 65535);
        assert_eq!(high(ThresholdType::ToZero).apply(65535), 0);
        assert_eq!(high(ThresholdType::ToZeroInv).apply(65535), 65535);
        // The last level inside: 65534 keeps only 65535 above.
        let top = Thresholder16::new(ThresholdType::Trunc, 65534.9, 0.0);
        assert_eq!((top.apply(65534), top.apply(65535)), (65534, 65534));
    }

    #[test]
    #[should_panic(expected = "has no binary mask")]
    fn mask_row_refuses_other_types() {
        Thresholder16::new(ThresholdType::Trunc, 5.0, 255.0).mask_row(&[1], &mut [0]);
    }

    /// The Otsu loop written once more, straight from OpenCV's source with its names.
    fn naive_otsu(h: &[u64]) -> u16 {
        let n: u64 = h.iter().sum();
        if n == 0 {
            return 0;
        }
        let scale = 1.0 / n as f64;
        let mu = h
            .iter()
            .enumerate()
            .fold(0.0, |acc, (i, &c)| acc + i as f64 * c as f64)
            * scale;
        let (mut mu1, mut q1, mut max_sigma, mut max_val) = (0.0f64, 0.0f64, 0.0f64, 0u16);
        for (i, &c) in h.iter().enumerate() {
            let p_i = c as f64 * scale;
            mu1 *= q1;
            q1 += p_i;
            let q2 = 1.0 - q1;
            if f64::min(q1, q2) < f32::EPSILON as f64
                || f64::max(q1, q2) > 1.0 - f32::EPSILON as f64
            {
                continue;
            }
            mu1 = (mu1 + i as f64 * p_i) / q1;
            let mu2 = (mu - q1 * mu1) / q2;
            let sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
            if sigma > max_sigma {
                max_sigma = sigma;
                max_val = i as u16;
            }
        }
        max_val
    }

    #[test]
    fn otsu_of_constant_empty_and_two_level_images() {
        let mut h = vec![0u64; 65536];
        assert_eq!(otsu_level_16(&h), 0);
        h[40000] = 999;
        assert_eq!(otsu_level_16(&h), 0);
        // cv2 5.1 gives these levels for images with these histograms: with one pixel at
        // 1234 the maximum is reached at 1234 and held (not exceeded) up to 39999.
        h[1234] = 1;
        assert_eq!(otsu_level_16(&h), 1234);
        h[65535] = 5000;
        assert_eq!(otsu_level_16(&h), 40000);
    }

    #[test]
    fn otsu_matches_the_naive_loop_and_ignores_missing_bins() {
        let mut rng = Rng(99);
        for case in 0..20 {
            let mut h = vec![0u64; 65536];
            // Two or three bumps of random width and weight; 12-bit for every other case.
            let top = if case % 2 == 0 { 65536 } else { 4096 };
            for _ in 0..2 + case % 2 {
                let centre = (rng.next() % top) as i64;
                let width = 1 + (rng.next() % (top / 16)) as i64;
                let weight = 1 + rng.next() % 1000;
                for d in -3 * width..=3 * width {
                    let v = centre + d;
                    if (0..top as i64).contains(&v) {
                        let x = d as f64 / width as f64;
                        h[v as usize] += (weight as f64 * (-x * x / 2.0).exp()) as u64;
                    }
                }
            }
            let level = otsu_level_16(&h);
            assert_eq!(level, naive_otsu(&h), "case {case}");
            if top == 4096 {
                assert_eq!(otsu_level_16(&h[..4096]), level, "case {case}, 4096 bins");
            }
        }
    }

    #[test]
    fn otsu_of_an_8_bit_histogram_is_the_8_bit_level() {
        let mut rng = Rng(5);
        for _ in 0..50 {
            let px: Vec<u8> = (0..2000)
                .map(|_| (rng.next() >> 40) as u8 / 2 + 20)
                .collect();
            let h8 = Histogram::from_pixels(&px);
            let mut h = vec![0u64; 65536];
            h[..256].copy_from_slice(&h8.0);
            assert_eq!(otsu_level_16(&h), h8.otsu_level() as u16);
        }
    }
}
