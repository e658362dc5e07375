//! Exact sums of values and of squares over square windows, one output row at a time, with the
//! image border handled as the method's oracle does.
//!
//! For a tile, column sums over the window's rows are kept for the tile's columns plus the
//! halo and slid down one row at a time (add the row entering, subtract the row leaving);
//! each row's window sums are differences of a prefix of those column sums. The cost per
//! pixel is a handful of additions whatever the window size, and the integer sums are exact,
//! so every tile computes what a whole-image pass would.
//!
//! Samples are 8-bit or 16-bit ([`Sample`]); the sums are generic over them and monomorphise
//! to one loop per sample type.
//!
//! # Overflow limits
//!
//! With `v ≤ M` (255 or 65535) and windows at most `W` = [`MAX_BLOCK_SIZE`] = 4095 pixels wide:
//!
//! * column sums of values are `u32`: at most `M·W` = 268,431,825 < 2³² for 16-bit;
//! * column sums of squares are `u32` for 8-bit (`255²·W` ≈ 2.7·10⁸) and `u64` for 16-bit
//!   (`65535²·W` ≈ 1.8·10¹³ > 2³²);
//! * the row prefix sums of those columns are `u64` modulo 2⁶⁴ (they may wrap on a very
//!   wide 16-bit tile: `65535²·W·width` passes 2⁶⁴ beyond about 10⁶ columns), and a window
//!   sum is the wrapping difference of two prefixes, exact because the true window sum is
//!   below 2⁶⁴: at most `M·W²` < 2⁴¹ for values and `M²·W²` ≈ 7.2·10¹⁶ < 2⁵⁷ for squares.
//!
//! Window sums of squares of 16-bit samples may pass 2⁵² (windows wider than 1024): convert
//! them with [`Sample::sq_to_f64`], which rounds as `u64 as f64` does.

use std::ops::{AddAssign, SubAssign};

use crate::ops::MAX_BLOCK_SIZE;
use crate::tile::{GrayView, Rect};

/// A gray sample the window sums take: `u8` or `u16`.
pub(crate) trait Sample: Copy + Default + Send + Sync + 'static {
    /// The column sums of squares: wide enough for [`MAX_BLOCK_SIZE`] rows of the largest
    /// square.
    type Sq: Copy + Default + Into<u64> + AddAssign + SubAssign;
    /// `v`.
    fn to_u32(self) -> u32;
    /// `v` (exact).
    fn to_f64(self) -> f64;
    /// `v²`.
    fn sq(self) -> Self::Sq;
    /// The largest sample (255 or 65535): scikit-image's dtype range, whose half is its
    /// default Sauvola `r`.
    const MAX: f64;
    /// A window sum of squares (or of values) as f64, rounded to nearest even as
    /// `q as f64`, in a form that vectorises.
    fn sq_to_f64(q: u64) -> f64;
}

impl Sample for u8 {
    type Sq = u32;
    const MAX: f64 = 255.0;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sq(self) -> u32 {
        self as u32 * self as u32
    }
    /// Sums of squares of 8-bit samples are below `255²·4095²` < 2⁴¹: exact.
    #[inline(always)]
    fn sq_to_f64(q: u64) -> f64 {
        u64_to_f64(q)
    }
}

impl Sample for u16 {
    type Sq = u64;
    const MAX: f64 = 65535.0;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sq(self) -> u64 {
        self as u64 * self as u64
    }
    /// Up to `65535²·4095²` < 2⁵⁷: the two 32-bit halves convert exactly and one addition
    /// rounds (to nearest even, as `q as f64`).
    #[inline(always)]
    fn sq_to_f64(q: u64) -> f64 {
        u64_to_f64(q >> 32) * 4_294_967_296.0 + u64_to_f64(q & 0xFFFF_FFFF)
    }
}

/// `2⁵²` as f64 bits: or-ing an integer below 2⁵² into its mantissa and subtracting `2⁵²`
/// converts it exactly, in a form that vectorises (x86 has no vector u64 → float).
const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// `x as f64` for `x < 2⁵²` (exact there).
#[inline(always)]
pub(crate) fn u64_to_f64(x: u64) -> f64 {
    f64::from_bits(x | TWO_52_BITS) - TWO_52
}

// The limits above hold for the largest window.
const _: () = {
    let w = MAX_BLOCK_SIZE as u64;
    assert!(65535 * w < 1 << 32);
    assert!(255 * 255 * w < 1 << 32);
    assert!(65535 * w * w < 1 << 52);
    assert!((65535 * 65535 * w as u128 * w as u128) < 1 << 64);
};

/// What a window reads beyond the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Border {
    /// The edge pixel repeated (`aaa|abcd|ddd`, OpenCV's `BORDER_REPLICATE`).
    Replicate,
    /// Mirrored without repeating the edge (`dcb|abcd|cba`, numpy's `mode='reflect'`), and
    /// reflected again for windows wider than the image (period `2(n − 1)`; a 1-pixel axis is
    /// constant).
    Reflect,
    /// Nothing: the window is clipped to the image (the caller counts the pixels inside).
    Clip,
}

impl Border {
    /// The image index that index `i` (maybe outside `0..n`) reads, `None` for nothing.
    #[inline]
    pub(crate) fn map(self, i: isize, n: usize) -> Option<usize> {
        if i >= 0 && (i as usize) < n {
            return Some(i as usize);
        }
        match self {
            Border::Replicate => Some(i.clamp(0, n as isize - 1) as usize),
            Border::Reflect => {
                if n == 1 {
                    return Some(0);
                }
                let p = 2 * (n as isize - 1);
                let j = i.rem_euclid(p);
                Some(if j >= n as isize { p - j } else { j } as usize)
            }
            Border::Clip => None,
        }
    }
}

/// The number of image pixels in the clipped window of radius `r` around `c` on an axis of `n`.
#[inline]
pub(crate) fn clipped_len(c: usize, r: usize, n: usize) -> usize {
    (c + r).min(n - 1) + 1 - c.saturating_sub(r)
}

/// Calls `f(i, s, q)` for every row `i` of `rect`, where `s[x]` and `q[x]` are the sums of the
/// values and of their squares over the `(2r + 1)²` window centred on pixel
/// `(rect.x + x, rect.y + i)`, the border handled as `border` says. `q` is empty unless
/// `squares`. Sums are exact for windows up to [`MAX_BLOCK_SIZE`] pixels wide (see the
/// module's overflow limits).
pub(crate) fn for_each_row<T: Sample>(
    src: &GrayView<'_, T>,
    rect: Rect,
    r: usize,
    border: Border,
    squares: bool,
    mut f: impl FnMut(usize, &[u64], &[u64]),
) {
    let (w, h) = (src.width, src.height);
    let pw = rect.w + 2 * r;
    let x0 = rect.x as isize - r as isize;
    // Padded columns that lie inside the image are copied as a run; the others are mapped.
    let jlo = (r.saturating_sub(rect.x)).min(pw);
    let jhi = (w + r - rect.x).min(pw).max(jlo);
    let edge: Vec<(usize, Option<usize>)> = (0..jlo)
        .chain(jhi..pw)
        .map(|j| (j, border.map(x0 + j as isize, w)))
        .collect();
    let gather = |y: usize, buf: &mut [T]| {
        let row = src.row(y);
        let start = (x0 + jlo as isize) as usize;
        buf[jlo..jhi].copy_from_slice(&row[start..start + (jhi - jlo)]);
        for &(j, m) in &edge {
            buf[j] = m.map_or(T::default(), |c| row[c]);
        }
    };
    let mut buf = vec![T::default(); pw];
    let mut col_s = vec![0u32; pw];
    let mut col_q = vec![T::Sq::default(); if squares { pw } else { 0 }];
    let mut add = |y: usize, sign: bool, col_s: &mut [u32], col_q: &mut [T::Sq]| {
        gather(y, &mut buf);
        add_sub(col_s, col_q, &buf, sign);
    };
    for dy in -(r as isize)..=r as isize {
        if let Some(y) = border.map(rect.y as isize + dy, h) {
            add(y, true, &mut col_s, &mut col_q);
        }
    }
    let mut pre_s = vec![0u64; pw + 1];
    let mut pre_q = vec![0u64; if squares { pw + 1 } else { 0 }];
    let mut s = vec![0u64; rect.w];
    let mut q = vec![0u64; if squares { rect.w } else { 0 }];
    let win = 2 * r + 1;
    for i in 0..rect.h {
        if i > 0 {
            let y = (rect.y + i) as isize;
            if let Some(yy) = border.map(y + r as isize, h) {
                add(yy, true, &mut col_s, &mut col_q);
            }
            if let Some(yy) = border.map(y - r as isize - 1, h) {
                add(yy, false, &mut col_s, &mut col_q);
            }
        }
        prefix(&col_s, &mut pre_s);
        window(&pre_s, win, &mut s);
        if squares {
            prefix(&col_q, &mut pre_q);
            window(&pre_q, win, &mut q);
        }
        f(i, &s, &q);
    }
}

fn add_sub<T: Sample>(col_s: &mut [u32], col_q: &mut [T::Sq], row: &[T], add: bool) {
    if add {
        for (c, &v) in col_s.iter_mut().zip(row) {
            *c += v.to_u32();
        }
        for (c, &v) in col_q.iter_mut().zip(row) {
            *c += v.sq();
        }
    } else {
        for (c, &v) in col_s.iter_mut().zip(row) {
            *c -= v.to_u32();
        }
        for (c, &v) in col_q.iter_mut().zip(row) {
            *c -= v.sq();
        }
    }
}

/// Prefix sums modulo 2⁶⁴ (see the module's overflow limits).
fn prefix<C: Copy + Into<u64>>(cols: &[C], pre: &mut [u64]) {
    let mut acc = 0u64;
    pre[0] = 0;
    for (p, &c) in pre[1..].iter_mut().zip(cols) {
        acc = acc.wrapping_add(c.into());
        *p = acc;
    }
}

fn window(pre: &[u64], win: usize, out: &mut [u64]) {
    for ((o, &hi), &lo) in out.iter_mut().zip(&pre[win..]).zip(pre) {
        *o = hi.wrapping_sub(lo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive<T: Sample>(
        src: &GrayView<'_, T>,
        x: usize,
        y: usize,
        r: usize,
        b: Border,
    ) -> (u64, u64) {
        let (mut s, mut q) = (0u64, 0u64);
        for dy in -(r as isize)..=r as isize {
            for dx in -(r as isize)..=r as isize {
                let yy = b.map(y as isize + dy, src.height);
                let xx = b.map(x as isize + dx, src.width);
                if let (Some(yy), Some(xx)) = (yy, xx) {
                    let v = src.row(yy)[xx].to_u32() as u64;
                    s += v;
                    q += v * v;
                }
            }
        }
        (s, q)
    }

    #[test]
    fn numpy_reflect_and_replicate_indices() {
        let m = |i, n| Border::Reflect.map(i, n).unwrap();
        // numpy.pad(np.arange(4), 6, mode='reflect')
        let want = [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3];
        let got: Vec<usize> = (-6..10).map(|i| m(i, 4)).collect();
        assert_eq!(got, want);
        assert_eq!(m(-5, 1), 0);
        assert_eq!(Border::Replicate.map(-3, 4), Some(0));
        assert_eq!(Border::Replicate.map(9, 4), Some(3));
        assert_eq!(Border::Clip.map(4, 4), None);
        assert_eq!(clipped_len(0, 2, 3), 3);
        assert_eq!(clipped_len(5, 2, 10), 5);
    }

    /// Every border, two tiles per image, several radii: the sums equal a naive sum.
    fn sums_equal_naive<T: Sample + std::fmt::Debug>(mut sample: impl FnMut() -> T) {
        for (w, h) in [(1, 1), (1, 7), (9, 1), (13, 11), (30, 17)] {
            let data: Vec<T> = (0..w * h).map(|_| sample()).collect();
            let src = GrayView::new(&data, w, h);
            for b in [Border::Replicate, Border::Reflect, Border::Clip] {
                for r in [1, 2, 5, 20] {
                    for rect in [
                        Rect { x: 0, y: 0, w, h },
                        Rect {
                            x: w / 3,
                            y: h / 2,
                            w: w - w / 3,
                            h: h - h / 2,
                        },
                    ] {
                        for_each_row(&src, rect, r, b, true, |i, s, q| {
                            for x in 0..rect.w {
                                let want = naive(&src, rect.x + x, rect.y + i, r, b);
                                assert_eq!((s[x], q[x]), want, "{w}x{h} {b:?} r{r} {rect:?}");
                            }
                        });
                    }
                }
            }
        }
    }

    #[test]
    fn window_sums_equal_a_naive_sum_for_every_border_and_tile() {
        let mut seed = 12345u32;
        sums_equal_naive(|| {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 24) as u8
        });
    }

    #[test]
    fn sixteen_bit_window_sums_equal_a_naive_sum() {
        let mut seed = 999u32;
        sums_equal_naive(|| {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            // Half the samples near full scale, where the squares need 64-bit columns.
            let v = (seed >> 16) as u16;
            if seed & 1 == 0 { v | 0xFF00 } else { v }
        });
    }

    #[test]
    fn sixteen_bit_sums_at_the_largest_window_are_exact() {
        // A constant 65535 image and the largest window: the column sums of squares pass
        // 2³², the window sum of squares passes 2⁵².
        let (w, h) = (3, 2);
        let data = vec![u16::MAX; w * h];
        let src = GrayView::new(&data, w, h);
        let r = MAX_BLOCK_SIZE as usize / 2;
        let n = (MAX_BLOCK_SIZE as u64).pow(2);
        let rect = Rect { x: 0, y: 0, w, h };
        for_each_row(&src, rect, r, Border::Reflect, true, |_, s, q| {
            for x in 0..w {
                assert_eq!(s[x], 65535 * n);
                assert_eq!(q[x], 65535 * 65535 * n);
                assert!(q[x] > 1 << 52);
            }
        });
    }

    #[test]
    fn sums_convert_to_f64_as_a_cast_does() {
        let mut seed = 1u64;
        let mut vals = vec![0, 1, (1 << 52) - 1, 1 << 52, (1 << 53) + 1, (1 << 53) + 3];
        vals.push(65535 * 65535 * (MAX_BLOCK_SIZE as u64).pow(2));
        for _ in 0..10_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            vals.push(seed >> 7);
            vals.push(seed >> 30);
        }
        for q in vals {
            assert_eq!(<u16 as Sample>::sq_to_f64(q), q as f64, "{q}");
            if q < 1 << 52 {
                assert_eq!(<u8 as Sample>::sq_to_f64(q), q as f64, "{q}");
            }
        }
    }
}
