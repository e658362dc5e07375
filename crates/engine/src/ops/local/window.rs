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

use multiversion::multiversion;

use crate::ops::MAX_BLOCK_SIZE;
use crate::ops::simd::Simd;
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
    /// The view itself when the samples are 8-bit (for the [`for_each_row_narrow`] paths).
    fn as_u8<'v, 'a>(src: &'v GrayView<'a, Self>) -> Option<&'v GrayView<'a, u8>>;
    /// A window sum of squares (or of values) as f64, rounded to nearest even as
    /// `q as f64`, in a form that vectorises.
    fn sq_to_f64(q: u64) -> f64;
}

impl Sample for u8 {
    type Sq = u32;
    const MAX: f64 = 255.0;
    fn as_u8<'v, 'a>(src: &'v GrayView<'a, u8>) -> Option<&'v GrayView<'a, u8>> {
        Some(src)
    }
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
    fn as_u8<'v, 'a>(_: &'v GrayView<'a, u16>) -> Option<&'v GrayView<'a, u8>> {
        None
    }
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

/// A window sum as the kernels read it: `u64` from [`for_each_row`], `u32` from
/// [`for_each_row_narrow`].
pub(crate) trait WindowSum: Copy + Send + Sync {
    /// The sum rounded once to the nearest `f32` (ties to even), as `u64 as f32` does; in a
    /// form that vectorises.
    fn to_f32(self) -> f32;
    /// The sum as f64, exact below 2⁵²; in a form that vectorises.
    fn to_f64(self) -> f64;
    /// A sum of squares of `V` samples as f64, rounded as `u64 as f64` (see
    /// [`Sample::sq_to_f64`]).
    fn sq_to_f64<V: Sample>(self) -> f64;
}

impl WindowSum for u64 {
    /// Exact for sums below 2⁵² (every window sum of 8-bit samples).
    #[inline(always)]
    fn to_f32(self) -> f32 {
        u64_to_f64(self) as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        u64_to_f64(self)
    }
    #[inline(always)]
    fn sq_to_f64<V: Sample>(self) -> f64 {
        V::sq_to_f64(self)
    }
}

impl WindowSum for u32 {
    /// Narrow sums are below 2³¹ (see [`NARROW_MAX_RADIUS`]): `cvtdq2ps`.
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as i32 as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sq_to_f64<V: Sample>(self) -> f64 {
        self as f64
    }
}

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
    let win = 2 * r + 1;
    let mut pre_s = vec![0u64; rect.w + 2 * r + 1];
    let mut pre_q = vec![0u64; if squares { pre_s.len() } else { 0 }];
    let mut s = vec![0u64; rect.w];
    let mut q = vec![0u64; if squares { rect.w } else { 0 }];
    slide_columns(src, rect, r, border, squares, |i, col_s, col_q| {
        prefix(col_s, &mut pre_s);
        window(&pre_s, win, &mut s);
        if squares {
            prefix(col_q, &mut pre_q);
            window(&pre_q, win, &mut q);
        }
        f(i, &s, &q);
    });
}

/// The largest radius [`for_each_row_narrow`] takes: on 8-bit samples, a `181 × 181` window's
/// sum of squares is at most `255²·181²` = 2,130,284,025 < 2³¹, so every window sum fits an
/// `i32` (and converts to float with one `cvtdq2ps`).
pub(crate) const NARROW_MAX_RADIUS: usize = 90;

/// [`for_each_row`] for 8-bit samples and radii up to [`NARROW_MAX_RADIUS`], with the sums as
/// `u32` (each below 2³¹): each row's window sums are a running sum modulo 2³², 8 or 16
/// columns at a time ([`window_sums_u32`]), with half the memory traffic of the `u64` sums.
pub(crate) fn for_each_row_narrow(
    src: &GrayView<'_, u8>,
    rect: Rect,
    r: usize,
    border: Border,
    squares: bool,
    mut f: impl FnMut(usize, &[u32], &[u32]),
) {
    assert!(
        r <= NARROW_MAX_RADIUS,
        "radius {r} too large for 32-bit window sums"
    );
    let win = 2 * r + 1;
    let mut s = vec![0u32; rect.w];
    let mut q = vec![0u32; if squares { rect.w } else { 0 }];
    slide_columns(src, rect, r, border, squares, |i, col_s, col_q| {
        if squares {
            window_sums_u32(col_s, col_q, win, &mut s, &mut q);
        } else {
            window_sums_u32(col_s, &[], win, &mut s, &mut []);
        }
        f(i, &s, &q);
    });
}

/// Calls `f(i, col_s, col_q)` for every row `i` of `rect`, where `col_s[j]` and `col_q[j]`
/// are the sums of the values and of their squares over the `2r + 1` window rows of padded
/// column `j` (image column `rect.x − r + j`, `rect.w + 2r` columns), the border handled as
/// `border` says. `col_q` is empty unless `squares`.
fn slide_columns<T: Sample>(
    src: &GrayView<'_, T>,
    rect: Rect,
    r: usize,
    border: Border,
    squares: bool,
    mut f: impl FnMut(usize, &[u32], &[T::Sq]),
) {
    let (w, h) = (src.width, src.height);
    let pw = rect.w + 2 * r;
    let x0 = rect.x as isize - r as isize;
    // Padded columns that lie inside the image (`jlo..jhi`) read the image rows in place; the
    // others are mapped through the border.
    let jlo = (r.saturating_sub(rect.x)).min(pw);
    let jhi = (w + r - rect.x).min(pw).max(jlo);
    let start = (x0 + jlo as isize) as usize;
    let edge: Vec<(usize, usize)> = (0..jlo)
        .chain(jhi..pw)
        .filter_map(|j| border.map(x0 + j as isize, w).map(|c| (j, c)))
        .collect();
    let mut col_s = vec![0u32; pw];
    let mut col_q = vec![T::Sq::default(); if squares { pw } else { 0 }];
    // Adds row `enter` and subtracts row `leave` (`None`: a row outside the image under
    // `Clip`, nothing).
    let update =
        |col_s: &mut [u32], col_q: &mut [T::Sq], enter: Option<usize>, leave: Option<usize>| {
            let mid = |y: usize| &src.row(y)[start..start + (jhi - jlo)];
            let cq = if squares {
                &mut col_q[jlo..jhi]
            } else {
                &mut [][..]
            };
            add_sub(&mut col_s[jlo..jhi], cq, enter.map(mid), leave.map(mid));
            for &(j, c) in &edge {
                if let Some(y) = enter {
                    let v = src.row(y)[c];
                    col_s[j] += v.to_u32();
                    if squares {
                        col_q[j] += v.sq();
                    }
                }
                if let Some(y) = leave {
                    let v = src.row(y)[c];
                    col_s[j] -= v.to_u32();
                    if squares {
                        col_q[j] -= v.sq();
                    }
                }
            }
        };
    for dy in -(r as isize)..=r as isize {
        update(
            &mut col_s,
            &mut col_q,
            border.map(rect.y as isize + dy, h),
            None,
        );
    }
    for i in 0..rect.h {
        if i > 0 {
            let y = (rect.y + i) as isize;
            update(
                &mut col_s,
                &mut col_q,
                border.map(y + r as isize, h),
                border.map(y - r as isize - 1, h),
            );
        }
        f(i, &col_s, &col_q);
    }
}

/// Adds the row `enter` to the column sums and subtracts `leave` (one pass, vectorised); a
/// missing row adds or subtracts nothing. The sums never leave their types' ranges: a column
/// holds at most `2r + 2` rows in between.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn add_sub<T: Sample>(
    col_s: &mut [u32],
    col_q: &mut [T::Sq],
    enter: Option<&[T]>,
    leave: Option<&[T]>,
) {
    match (enter, leave) {
        (Some(enter), Some(leave)) => {
            for ((c, &a), &b) in col_s.iter_mut().zip(enter).zip(leave) {
                *c = *c + a.to_u32() - b.to_u32();
            }
            for ((c, &a), &b) in col_q.iter_mut().zip(enter).zip(leave) {
                *c += a.sq();
                *c -= b.sq();
            }
        }
        (Some(enter), None) => {
            for (c, &a) in col_s.iter_mut().zip(enter) {
                *c += a.to_u32();
            }
            for (c, &a) in col_q.iter_mut().zip(enter) {
                *c += a.sq();
            }
        }
        (None, Some(leave)) => {
            for (c, &b) in col_s.iter_mut().zip(leave) {
                *c -= b.to_u32();
            }
            for (c, &b) in col_q.iter_mut().zip(leave) {
                *c -= b.sq();
            }
        }
        (None, None) => {}
    }
}

/// `out[x] = Σ cols[x .. x + win]` modulo 2³², for `out.len() = cols.len() − win + 1`, and
/// likewise `out_q` from `cols_q` unless both are empty: exact where the true sums are below
/// 2³². Running sums, eight columns at a time on AVX2 (an in-register prefix of the
/// differences `cols[x + win − 1] − cols[x − 1]`; sixteen at a time on AVX-512).
pub(crate) fn window_sums_u32(
    cols: &[u32],
    cols_q: &[u32],
    win: usize,
    out: &mut [u32],
    out_q: &mut [u32],
) {
    assert!(
        win >= 1 && cols.len() + 1 == out.len() + win,
        "window sums: lengths"
    );
    assert!(
        cols_q.len() == cols.len() && out_q.len() == out.len()
            || cols_q.is_empty() && out_q.is_empty()
    );
    let simd = Simd::detect();
    window_sums_one(cols, win, out, simd);
    if !out_q.is_empty() {
        window_sums_one(cols_q, win, out_q, simd);
    }
}

/// One array of [`window_sums_u32`] with the given kernel (which the CPU must run).
fn window_sums_one(cols: &[u32], win: usize, out: &mut [u32], simd: Simd) {
    if out.is_empty() {
        return;
    }
    out[0] = cols[..win].iter().fold(0u32, |a, &c| a.wrapping_add(c));
    let x = match simd {
        // SAFETY: `simd` comes from `Simd::detect` or `Simd::available`: the CPU has
        // AVX-512F; the lengths are as the kernel needs (checked by `window_sums_u32`).
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { x86::window_sums_avx512(cols, win, out) },
        // SAFETY: as above, with AVX2.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { x86::window_sums_avx2(cols, win, out) },
        Simd::Scalar => 1,
    };
    let mut acc = out[x - 1];
    for x in x..out.len() {
        acc = acc
            .wrapping_add(cols[x + win - 1])
            .wrapping_sub(cols[x - 1]);
        out[x] = acc;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// [`window_sums_avx2`] sixteen columns at a time: returns `x` with `x − 1` a multiple
    /// of 16.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn window_sums_avx512(cols: &[u32], win: usize, out: &mut [u32]) -> usize {
        let n = out.len();
        debug_assert!(n >= 1 && cols.len() + 1 == n + win);
        let mut x = 1;
        let mut carry = _mm512_set1_epi32(out[0] as i32);
        let zero = _mm512_setzero_si512();
        let last = _mm512_set1_epi32(15);
        while x + 16 <= n {
            // SAFETY: `x + 15 < n`, so `x − 1 + 15 < cols.len()` and
            // `x + win − 1 + 15 < n + win − 1 = cols.len()`.
            let (hi, lo) = unsafe {
                (
                    _mm512_loadu_si512(cols.as_ptr().add(x + win - 1).cast()),
                    _mm512_loadu_si512(cols.as_ptr().add(x - 1).cast()),
                )
            };
            let mut d = _mm512_sub_epi32(hi, lo);
            // Prefix: add the vector shifted up by 1, 2, 4 and 8 lanes (zeros shifted in).
            d = _mm512_add_epi32(d, _mm512_alignr_epi32::<15>(d, zero));
            d = _mm512_add_epi32(d, _mm512_alignr_epi32::<14>(d, zero));
            d = _mm512_add_epi32(d, _mm512_alignr_epi32::<12>(d, zero));
            d = _mm512_add_epi32(d, _mm512_alignr_epi32::<8>(d, zero));
            let total = _mm512_permutexvar_epi32(last, d);
            // SAFETY: `x + 15 < n = out.len()`.
            unsafe {
                _mm512_storeu_si512(out.as_mut_ptr().add(x).cast(), _mm512_add_epi32(d, carry))
            };
            carry = _mm512_add_epi32(carry, total);
            x += 16;
        }
        x
    }

    /// Fills `out[1..x]` for the largest `x ≤ out.len()` with `x − 1` a multiple of 8 and
    /// returns `x`. Needs `cols.len() + 1 == out.len() + win`, `out` not empty, and the first
    /// window's sum in `out[0]`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn window_sums_avx2(cols: &[u32], win: usize, out: &mut [u32]) -> usize {
        let n = out.len();
        debug_assert!(n >= 1 && cols.len() + 1 == n + win);
        let mut x = 1;
        // The running sum so far, in every lane: the only dependency from one block to the
        // next is one addition.
        let mut carry = _mm256_set1_epi32(out[0] as i32);
        let last = _mm256_set1_epi32(7);
        while x + 8 <= n {
            // SAFETY: `x + 7 < n`, so `x − 1 + 7 < cols.len()` and
            // `x + win − 1 + 7 < n + win − 1 = cols.len()`.
            let (hi, lo) = unsafe {
                (
                    _mm256_loadu_si256(cols.as_ptr().add(x + win - 1) as *const __m256i),
                    _mm256_loadu_si256(cols.as_ptr().add(x - 1) as *const __m256i),
                )
            };
            let mut d = _mm256_sub_epi32(hi, lo);
            // Prefix within each 128-bit half, then the low half's total into the high half.
            d = _mm256_add_epi32(d, _mm256_slli_si256::<4>(d));
            d = _mm256_add_epi32(d, _mm256_slli_si256::<8>(d));
            let low_total = _mm256_shuffle_epi32::<0xFF>(d);
            d = _mm256_add_epi32(d, _mm256_permute2x128_si256::<0x08>(low_total, low_total));
            let total = _mm256_permutevar8x32_epi32(d, last);
            // SAFETY: `x + 7 < n = out.len()`.
            unsafe {
                _mm256_storeu_si256(
                    out.as_mut_ptr().add(x) as *mut __m256i,
                    _mm256_add_epi32(d, carry),
                )
            };
            carry = _mm256_add_epi32(carry, total);
            x += 8;
        }
        x
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
    fn window_sums_u32_equal_a_naive_sum_modulo_two_to_the_32() {
        let mut seed = 7u32;
        for n in [1usize, 2, 8, 9, 16, 17, 40, 100] {
            let cols: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    // Large values, so that the running sum wraps.
                    seed
                })
                .collect();
            for win in 1..=n {
                let cols_q: Vec<u32> = cols.iter().map(|c| c.rotate_left(7)).collect();
                let mut out = vec![0u32; n - win + 1];
                let mut out_q = out.clone();
                window_sums_u32(&cols, &cols_q, win, &mut out, &mut out_q);
                for (x, (&o, &oq)) in out.iter().zip(&out_q).enumerate() {
                    let want = cols[x..x + win]
                        .iter()
                        .fold(0u32, |a, &c| a.wrapping_add(c));
                    assert_eq!(o, want, "n {n} win {win} x {x}");
                    let want = cols_q[x..x + win]
                        .iter()
                        .fold(0u32, |a, &c| a.wrapping_add(c));
                    assert_eq!(oq, want, "n {n} win {win} x {x}");
                }
                let mut alone = vec![0u32; n - win + 1];
                window_sums_u32(&cols, &[], win, &mut alone, &mut []);
                assert_eq!(alone, out);
                // Every kernel this CPU runs, not only the widest.
                for simd in Simd::available() {
                    let mut one = vec![0u32; n - win + 1];
                    window_sums_one(&cols, win, &mut one, simd);
                    assert_eq!(one, out, "{simd:?} n {n} win {win}");
                }
            }
        }
    }

    #[test]
    fn narrow_sums_equal_the_wide_ones_up_to_the_largest_radius() {
        let mut seed = 4242u32;
        let (w, h) = (203, 37);
        let data: Vec<u8> = (0..w * h)
            .map(|i| {
                seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                // Bright blocks, where the sums of squares are largest.
                if (i / 50) % 2 == 0 {
                    255
                } else {
                    (seed >> 24) as u8
                }
            })
            .collect();
        let src = GrayView::new(&data, w, h);
        for b in [Border::Replicate, Border::Reflect, Border::Clip] {
            for r in [0, 1, 3, 12, NARROW_MAX_RADIUS] {
                let rect = Rect {
                    x: 5,
                    y: 3,
                    w: w - 9,
                    h: h - 5,
                };
                let mut wide = Vec::new();
                for_each_row(&src, rect, r, b, true, |_, s, q| {
                    wide.push((s.to_vec(), q.to_vec()));
                });
                let mut i = 0;
                for_each_row_narrow(&src, rect, r, b, true, |_, s, q| {
                    let s: Vec<u64> = s.iter().map(|&v| v as u64).collect();
                    let q: Vec<u64> = q.iter().map(|&v| v as u64).collect();
                    assert_eq!((s, q), wide[i], "{b:?} r{r} row {i}");
                    i += 1;
                });
                assert_eq!(i, rect.h);
            }
        }
        // A constant 255 image at the largest radius: the largest sums, below 2³¹.
        let data = vec![255u8; 200 * 3];
        let src = GrayView::new(&data, 200, 3);
        let rect = Rect {
            x: 0,
            y: 0,
            w: 200,
            h: 3,
        };
        let n = (2 * NARROW_MAX_RADIUS as u32 + 1).pow(2);
        for_each_row_narrow(
            &src,
            rect,
            NARROW_MAX_RADIUS,
            Border::Replicate,
            true,
            |_, s, q| {
                assert!(s.iter().all(|&v| v == 255 * n));
                assert!(q.iter().all(|&v| v == 255 * 255 * n && v < 1 << 31));
            },
        );
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
