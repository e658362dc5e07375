//! Fixed-level thresholding with the five types of `cv::threshold` on 8-bit images.
//!
//! OpenCV compares with `T = floor(thresh)` and uses `maxval` rounded (half to even) and
//! saturated to 0..=255. A level below 0 or at/above 255 makes every pixel compare the same
//! way; the formulas then saturate exactly as OpenCV's special cases do.

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::{ThresholdType, as_uninit, saturate_round_u8};

/// A threshold ready to apply to rows: type, integer level and 8-bit max value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholder {
    kind: ThresholdType,
    /// `floor(thresh)`, clamped to -1..=255 (every value outside behaves like the ends).
    level: i32,
    max_value: u8,
}

impl Thresholder {
    /// The threshold `threshold(gray, thresh, max_value, kind)` applies (any finite values;
    /// OpenCV's flooring, rounding and clamping are done here).
    pub fn new(kind: ThresholdType, thresh: f64, max_value: f64) -> Self {
        let level = thresh.floor().clamp(-1.0, 255.0) as i32;
        Thresholder {
            kind,
            level,
            max_value: saturate_round_u8(max_value),
        }
    }

    /// The level as OpenCV reports it for an integer input (`floor(thresh)`).
    pub fn level(&self) -> i32 {
        self.level
    }

    /// The output for one pixel value: the definition every kernel must match.
    #[inline]
    pub fn apply(&self, v: u8) -> u8 {
        let above = v as i32 > self.level;
        let t = self.level.clamp(0, 255) as u8;
        match self.kind {
            ThresholdType::Binary => {
                if above {
                    self.max_value
                } else {
                    0
                }
            }
            ThresholdType::BinaryInv => {
                if above {
                    0
                } else {
                    self.max_value
                }
            }
            ThresholdType::Trunc => {
                if above {
                    t
                } else {
                    v
                }
            }
            ThresholdType::ToZero => {
                if above {
                    v
                } else {
                    0
                }
            }
            ThresholdType::ToZeroInv => {
                if above {
                    0
                } else {
                    v
                }
            }
        }
    }

    /// A 256-entry table of [`Thresholder::apply`].
    pub fn lut(&self) -> [u8; 256] {
        std::array::from_fn(|v| self.apply(v as u8))
    }

    /// Applies the threshold to a row. `src` and `dst` have the same length.
    pub fn apply_row(&self, src: &[u8], dst: &mut [u8]) {
        self.apply_row_uninit(src, as_uninit(dst));
    }

    /// [`Thresholder::apply_row`] into a row not yet initialised: every byte is written.
    pub(crate) fn apply_row_uninit(&self, src: &[u8], dst: &mut [MaybeUninit<u8>]) {
        assert_eq!(src.len(), dst.len());
        if !(0..255).contains(&self.level) {
            // Every pixel compares the same way: a table is as fast as anything here.
            let lut = self.lut();
            for (d, &s) in dst.iter_mut().zip(src) {
                d.write(lut[s as usize]);
            }
            return;
        }
        let t = self.level as u8;
        let m = self.max_value;
        match self.kind {
            ThresholdType::Binary => select_row(src, dst, t, m, 0),
            ThresholdType::BinaryInv => select_row(src, dst, t, 0, m),
            ThresholdType::Trunc => trunc_row(src, dst, t),
            ThresholdType::ToZero => tozero_row(src, dst, t, false),
            ThresholdType::ToZeroInv => tozero_row(src, dst, t, true),
        }
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn select_row(src: &[u8], dst: &mut [MaybeUninit<u8>], t: u8, above: u8, below: u8) {
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
fn trunc_row(src: &[u8], dst: &mut [MaybeUninit<u8>], t: u8) {
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
fn tozero_row(src: &[u8], dst: &mut [MaybeUninit<u8>], t: u8, inverse: bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_kernels_match_the_table_for_all_levels_and_types() {
        let src: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        for kind in ThresholdType::ALL {
            for thresh in [
                -300.0, -3.0, -0.5, 0.0, 0.7, 100.5, 127.0, 254.0, 254.5, 255.0, 1e6,
            ] {
                for max in [255.0, 200.0, 0.0, -5.0, 300.0, 127.5] {
                    let t = Thresholder::new(kind, thresh, max);
                    let lut = t.lut();
                    let mut dst = vec![0u8; src.len()];
                    t.apply_row(&src, &mut dst);
                    for (i, &s) in src.iter().enumerate() {
                        assert_eq!(dst[i], lut[s as usize], "{kind} {thresh} {max} v={s}");
                    }
                }
            }
        }
    }

    #[test]
    fn opencv_special_cases_for_levels_out_of_range() {
        // T < 0: binary -> all maxval, binary-inv/trunc/tozero-inv -> all 0, tozero -> copy.
        let neg = |k| Thresholder::new(k, -3.0, 200.0);
        assert_eq!(neg(ThresholdType::Binary).apply(0), 200);
        assert_eq!(neg(ThresholdType::BinaryInv).apply(0), 0);
        assert_eq!(neg(ThresholdType::Trunc).apply(77), 0);
        assert_eq!(neg(ThresholdType::ToZero).apply(77), 77);
        assert_eq!(neg(ThresholdType::ToZeroInv).apply(77), 0);
        // T >= 255: binary -> 0, binary-inv -> maxval, trunc/tozero-inv -> copy, tozero -> 0.
        let high = |k| Thresholder::new(k, 255.0, 200.0);
        assert_eq!(high(ThresholdType::Binary).apply(255), 0);
        assert_eq!(high(ThresholdType::BinaryInv).apply(255), 200);
        assert_eq!(high(ThresholdType::Trunc).apply(255), 255);
        assert_eq!(high(ThresholdType::ToZero).apply(255), 0);
        assert_eq!(high(ThresholdType::ToZeroInv).apply(255), 255);
    }

    #[test]
    fn fractional_level_is_floored() {
        let t = Thresholder::new(ThresholdType::Binary, 100.5, 255.0);
        assert_eq!(t.level(), 100);
        assert_eq!(t.apply(100), 0);
        assert_eq!(t.apply(101), 255);
    }
}
