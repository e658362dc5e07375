//! `cv::adaptiveThreshold` with `ADAPTIVE_THRESH_MEAN_C` and `ADAPTIVE_THRESH_GAUSSIAN_C`,
//! computed one tile at a time from the whole gray image (so a tile reads its halo directly).
//!
//! OpenCV's definition, with `v` the pixel and `m` the 8-bit local mean:
//! `imaxval = saturate(round(maxValue))`, `idelta = ceil(C)` for binary and `floor(C)` for
//! binary-inv; binary gives `imaxval` where `v - m > -idelta`, binary-inv where
//! `v - m <= -idelta`. Both reduce to the one test `m < v + idelta`, negated for binary-inv.
//!
//! **Mean** (`boxFilter`, replicated border, `m = round(sum / A)`, `A = block²` odd): since
//! `m` is an integer, `m < k  ⇔  sum / A < k - 1/2  ⇔  2·sum < (2k - 1)·A` — an exact
//! integer test with no division (ties are impossible with an odd area). Sums come from
//! running column sums and running row sums, so the cost per pixel does not depend on the block.
//!
//! **Gaussian**: the gray image as f32, blurred separably (rows then columns) with OpenCV's
//! kernel for that block size and sigma 0, replicated border, rounded half to even.
//! Symmetric taps add the mirrored pair before multiplying, in tap order from the centre.

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::local::window::window_sums_u32;
use super::{AdaptiveMethod, ThresholdType, saturate_round_u8};
use crate::tile::{GrayView, Rect};

/// The per-pixel decision shared by both methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decider {
    /// binary-inv
    inverse: bool,
    idelta: i32,
    imaxval: u8,
}

impl Decider {
    /// The level `k = clamp(v + idelta, 0, 256)` such that the pixel is "above" iff `m < k`.
    #[inline(always)]
    fn k(&self, v: u8) -> i32 {
        (v as i32 + self.idelta).clamp(0, 256)
    }

    #[inline(always)]
    fn out(&self, above: bool) -> u8 {
        if above != self.inverse {
            self.imaxval
        } else {
            0
        }
    }
}

/// A ready-to-run adaptive threshold.
#[derive(Debug, Clone)]
pub struct Adaptive {
    method: AdaptiveMethod,
    block: usize,
    decider: Decider,
    /// `maxValue < 0`: OpenCV returns an all-zero image.
    all_zero: bool,
    /// Gaussian weights from the centre outwards: `kernel[0]` is the centre tap.
    half_kernel: Vec<f32>,
}

impl Adaptive {
    /// `kind` must be binary or binary-inv and `block_size` odd and at least 3 (checked by
    /// [`super::OpSettings::to_op`]).
    pub fn new(
        method: AdaptiveMethod,
        kind: ThresholdType,
        block_size: u32,
        c: f64,
        max_value: f64,
    ) -> Self {
        let inverse = kind == ThresholdType::BinaryInv;
        let idelta = if inverse { c.floor() } else { c.ceil() };
        // Beyond ±512 every pixel compares the same way; clamping keeps the integer maths safe.
        let idelta = idelta.clamp(-512.0, 512.0) as i32;
        let block = block_size as usize;
        let half_kernel = match method {
            AdaptiveMethod::Gaussian => {
                let k = gaussian_kernel(block);
                k[block / 2..].to_vec()
            }
            AdaptiveMethod::Mean => Vec::new(),
        };
        Adaptive {
            method,
            block,
            decider: Decider {
                inverse,
                idelta,
                imaxval: saturate_round_u8(max_value),
            },
            all_zero: max_value < 0.0,
            half_kernel,
        }
    }

    /// Computes the output pixels of `rect` into `out` (one slice of `rect.w` per row); every
    /// pixel of `out` is written.
    pub fn run_tile(&self, src: &GrayView<'_>, rect: Rect, out: &mut [&mut [MaybeUninit<u8>]]) {
        // The job does not zero its output: every pixel of `rect` must be written, so the
        // rows must be exactly the tile's.
        assert_eq!(out.len(), rect.h, "adaptive tile: row count");
        assert!(
            out.iter().all(|r| r.len() == rect.w),
            "adaptive tile: row width"
        );
        assert!(rect.x + rect.w <= src.width && rect.y + rect.h <= src.height);
        if self.all_zero {
            for row in out.iter_mut() {
                row.fill(MaybeUninit::new(0));
            }
            return;
        }
        match self.method {
            AdaptiveMethod::Mean => self.mean_tile(src, rect, out),
            AdaptiveMethod::Gaussian => self.gaussian_tile(src, rect, out),
        }
    }

    fn mean_tile(&self, src: &GrayView<'_>, rect: Rect, out: &mut [&mut [MaybeUninit<u8>]]) {
        let (w_img, h_img) = (src.width, src.height);
        let r = self.block / 2;
        let area = (self.block * self.block) as u64;
        // Columns whose vertical sums the tile needs: the tile's plus the halo, inside the image.
        let ca = rect.x.saturating_sub(r);
        let cb = (rect.x + rect.w - 1 + r).min(w_img - 1);
        let nc = cb - ca + 1;
        let mut colsum = vec![0u32; nc];

        // Vertical sums for the first row: rows y0-r ..= y0+r, replicated at the borders.
        let y0 = rect.y as isize;
        let lo = y0 - r as isize;
        let hi = y0 + r as isize;
        let first = lo.max(0) as usize;
        let last = hi.min(h_img as isize - 1) as usize;
        for yy in first..=last {
            add_row(&mut colsum, &src.row(yy)[ca..=cb]);
        }
        if lo < 0 {
            add_row_times(&mut colsum, &src.row(0)[ca..=cb], (-lo) as u32);
        }
        if hi > h_img as isize - 1 {
            add_row_times(
                &mut colsum,
                &src.row(h_img - 1)[ca..=cb],
                (hi - (h_img as isize - 1)) as u32,
            );
        }

        let mut sums = vec![0u32; rect.w];
        let clamp_row = |y: isize| y.clamp(0, h_img as isize - 1) as usize;
        for (i, out_row) in out.iter_mut().enumerate() {
            let y = rect.y + i;
            if i > 0 {
                let add = clamp_row(y as isize + r as isize);
                let sub = clamp_row(y as isize - r as isize - 1);
                if add != sub {
                    add_sub_rows(&mut colsum, &src.row(add)[ca..=cb], &src.row(sub)[ca..=cb]);
                }
            }
            window_sums(&colsum, ca, w_img, r, rect.x, &mut sums);
            let row = &src.row(y)[rect.x..rect.x + rect.w];
            decide_mean(row, &sums, area, self.decider, out_row);
        }
    }

    fn gaussian_tile(&self, src: &GrayView<'_>, rect: Rect, out: &mut [&mut [MaybeUninit<u8>]]) {
        let h_img = src.height;
        let r = self.block / 2;
        let w = rect.w;
        // Source rows the tile needs (inside the image); virtual rows outside replicate.
        let ra = rect.y.saturating_sub(r);
        let rb = (rect.y + rect.h - 1 + r).min(h_img - 1);
        // Streaming, as OpenCV's filter engine: the row-filtered rows live in a ring of 2r+1
        // rows (source row `yy` in slot `yy % n`), each computed just before the first output
        // row that needs it. The ring stays in L2 however tall the tile, so the column pass
        // never goes out to memory (and two workers do not compete for its bandwidth).
        let n = 2 * r + 1;
        let mut ring = vec![0f32; n * w];
        let mut pad = vec![0f32; w + 2 * r];
        let mut acc = vec![0f32; w];
        // Where each tap's input starts: in `pad` for the row pass, in `ring` for the column
        // pass (offsets, not slices, so the list is made once and the ring stays writable).
        let row_taps: Vec<usize> = (0..n).collect();
        let mut col_taps = vec![0usize; n];
        let mut next = ra; // the next source row to filter
        for (i, out_row) in out.iter_mut().enumerate() {
            let y = rect.y + i;
            let need = (y + r).min(rb);
            while next <= need {
                fill_padded(src.row(next), rect.x, r, &mut pad);
                let slot = next % n;
                symmetric_filter(
                    &pad,
                    &row_taps,
                    &self.half_kernel,
                    &mut ring[slot * w..(slot + 1) * w],
                );
                next += 1;
            }
            // The window's rows, clamped to the image (replicated border): all still in the
            // ring, since it holds the n rows up to `need`.
            for (k, t) in col_taps.iter_mut().enumerate() {
                let yy = (y + k).saturating_sub(r).clamp(ra, rb);
                *t = (yy % n) * w;
            }
            symmetric_filter(&ring, &col_taps, &self.half_kernel, &mut acc);
            let row = &src.row(y)[rect.x..rect.x + w];
            decide_gaussian(row, &acc, self.decider, out_row);
        }
    }
}

/// OpenCV's Gaussian kernel for `ksize` and sigma 0, as `getGaussianKernel(ksize, 0, CV_32F)`:
/// fixed tables for 3, 5, 7, 9; otherwise `exp(x²·(-0.125/σ²))` over doubled offsets with
/// `σ = 0.15·ksize + 0.35` (one fused multiply-add), normalised in double, cast to f32.
pub fn gaussian_kernel(ksize: usize) -> Vec<f32> {
    let fixed: Option<&[f64]> = match ksize {
        1 => Some(&[1.0]),
        3 => Some(&[0.25, 0.5, 0.25]),
        5 => Some(&[0.0625, 0.25, 0.375, 0.25, 0.0625]),
        7 => Some(&[
            0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125,
        ]),
        9 => Some(&[
            0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875,
            0.05078125, 0.015625,
        ]),
        _ => None,
    };
    if let Some(k) = fixed {
        return k.iter().map(|&v| v as f32).collect();
    }
    let n = ksize;
    let sigma = (n as f64).mul_add(0.15, 0.35);
    let scale2x = -0.125 / (sigma * sigma);
    let half = (n - 1) / 2;
    let mut values = Vec::with_capacity(half);
    let mut sum = 0.0f64;
    let mut x = 1 - n as i64;
    for _ in 0..half {
        let t = ((x * x) as f64 * scale2x).exp();
        values.push(t);
        sum += t;
        x += 2;
    }
    sum *= 2.0;
    sum += 1.0;
    if n.is_multiple_of(2) {
        sum += 1.0;
    }
    let mul1 = 1.0 / sum;
    let mut k = vec![0f64; n];
    for (i, &v) in values.iter().enumerate() {
        let t = v * mul1;
        k[i] = t;
        k[n - 1 - i] = t;
    }
    k[half] = mul1;
    if n.is_multiple_of(2) {
        k[half + 1] = mul1;
    }
    k.into_iter().map(|v| v as f32).collect()
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn add_row(sums: &mut [u32], row: &[u8]) {
    for (s, &v) in sums.iter_mut().zip(row) {
        *s = s.wrapping_add(v as u32);
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn add_row_times(sums: &mut [u32], row: &[u8], times: u32) {
    for (s, &v) in sums.iter_mut().zip(row) {
        *s = s.wrapping_add(v as u32 * times);
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn add_sub_rows(sums: &mut [u32], add: &[u8], sub: &[u8]) {
    for ((s, &a), &b) in sums.iter_mut().zip(add).zip(sub) {
        *s = s.wrapping_add(a as u32).wrapping_sub(b as u32);
    }
}

/// Horizontal window sums for the tile's columns `x0 .. x0 + out.len()` from the column sums
/// over image columns `ca ..`, with the border replicated (sums modulo 2³², exact because
/// every window sum fits in u32). Where the whole window lies inside the image, running sums
/// 8 or 16 columns at a time ([`window_sums_u32`], shared with the local methods); in the
/// border columns, one window summed and then slid a column at a time.
fn window_sums(colsum: &[u32], ca: usize, w_img: usize, r: usize, x0: usize, out: &mut [u32]) {
    let n = out.len();
    // Interior: the whole window lies inside the image.
    let xs = r.max(x0).min(x0 + n);
    let xe = (w_img.saturating_sub(r)).min(x0 + n).max(xs);
    if xe > xs {
        window_sums_u32(
            &colsum[xs - r - ca..xe + r - ca],
            &[],
            2 * r + 1,
            &mut out[xs - x0..xe - x0],
            &mut [],
        );
    }
    // Borders: the column sum of image column `c`, replicated past the edges.
    let col = |c: isize| colsum[c.clamp(0, w_img as isize - 1) as usize - ca];
    let r = r as isize;
    for range in [x0..xs, xe..x0 + n] {
        if range.is_empty() {
            continue;
        }
        let x = range.start as isize;
        let mut s = (x - r..=x + r).fold(0u32, |a, c| a.wrapping_add(col(c)));
        for (x, o) in (x..).zip(&mut out[range.start - x0..range.end - x0]) {
            if x > range.start as isize {
                s = s.wrapping_add(col(x + r)).wrapping_sub(col(x - r - 1));
            }
            *o = s;
        }
    }
}

fn decide_mean(row: &[u8], sums: &[u32], area: u64, d: Decider, out: &mut [MaybeUninit<u8>]) {
    // Every pixel of `out` is written: a source pixel and a sum for each.
    assert!(row.len() >= out.len() && sums.len() >= out.len());
    // 2·sum and (2k - 1)·A are at most 511·A: i32 lanes when that fits, i64 otherwise.
    if 511 * area < i32::MAX as u64 {
        decide_mean_i32(row, sums, area as i32, d.idelta, d.inverse, d.imaxval, out);
    } else {
        for ((o, &v), &s) in out.iter_mut().zip(row).zip(sums) {
            let k = d.k(v) as i64;
            o.write(d.out(2 * (s as i64) < (2 * k - 1) * area as i64));
        }
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn decide_mean_i32(
    row: &[u8],
    sums: &[u32],
    area: i32,
    idelta: i32,
    inverse: bool,
    imaxval: u8,
    out: &mut [MaybeUninit<u8>],
) {
    assert!(row.len() >= out.len() && sums.len() >= out.len());
    let (yes, no) = if inverse { (0, imaxval) } else { (imaxval, 0) };
    for ((o, &v), &s) in out.iter_mut().zip(row).zip(sums) {
        let k = (v as i32 + idelta).clamp(0, 256);
        o.write(if 2 * (s as i32) < (2 * k - 1) * area {
            yes
        } else {
            no
        });
    }
}

/// `pad[j] = src[clamp(x0 - r + j)]` as f32: the tile's columns with `r` replicated on each side.
fn fill_padded(src: &[u8], x0: usize, r: usize, pad: &mut [f32]) {
    let w_img = src.len();
    let start = x0 as isize - r as isize;
    // Inside part copied in one vectorisable loop; the border parts repeat the end pixels.
    let inner_lo = (-start).max(0) as usize;
    let inner_hi = ((w_img as isize - start) as usize).min(pad.len());
    pad[..inner_lo].fill(src[0] as f32);
    if inner_hi > inner_lo {
        let s0 = (start + inner_lo as isize) as usize;
        u8_to_f32(
            &src[s0..s0 + inner_hi - inner_lo],
            &mut pad[inner_lo..inner_hi],
        );
    }
    pad[inner_hi.max(inner_lo)..].fill(src[w_img - 1] as f32);
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn u8_to_f32(src: &[u8], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f32;
    }
}

/// Pixels per register block of [`symmetric_filter`]: four AVX vectors of accumulators, so the
/// adds of successive taps overlap instead of waiting on one another.
const LANES: usize = 32;

/// A symmetric filter over `2r + 1` aligned inputs `t_k = data[taps[k]..]` (`t_r` the centre):
/// `out[i] = half[0]·t_r[i] + Σ_{j=1..=r} half[j]·(t_{r-j}[i] + t_{r+j}[i])`,
/// accumulated in exactly that order (the mirrored pair added before the multiply, as
/// OpenCV's symmetric filters do), so every pixel is computed bit for bit the same way
/// whatever the blocking. The accumulators of a block of [`LANES`] pixels stay in registers
/// across all taps: each input is loaded once per block and `out` is written once. The last,
/// partial block is done as a whole block ending at `n` (overlapping pixels already written,
/// which come out the same): on small images the tail would otherwise be a fifth of the
/// pixels, done one at a time.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn symmetric_filter(data: &[f32], taps: &[usize], half: &[f32], out: &mut [f32]) {
    match out.len() {
        n if n >= LANES => filter_blocks::<LANES>(data, taps, half, out),
        n if n >= 8 => filter_blocks::<8>(data, taps, half, out),
        _ => filter_blocks::<1>(data, taps, half, out),
    }
}

/// All of `out` in blocks of `L` (`L <= out.len()`), the last one ending at the end of `out`.
#[inline(always)]
fn filter_blocks<const L: usize>(data: &[f32], taps: &[usize], half: &[f32], out: &mut [f32]) {
    let n = out.len();
    let mut x = 0;
    while x < n {
        filter_block::<L>(data, taps, half, x.min(n - L), out);
        x += L;
    }
}

/// `out[x..x + L]` of [`symmetric_filter`]: one register block (inlined into each of its
/// multiversioned callers).
#[inline(always)]
fn filter_block<const L: usize>(
    data: &[f32],
    taps: &[usize],
    half: &[f32],
    x: usize,
    out: &mut [f32],
) {
    let r = half.len() - 1;
    let k0 = half[0];
    let at = |k: usize| taps[k] + x;
    let c: &[f32; L] = data[at(r)..at(r) + L]
        .try_into()
        .unwrap_or_else(|_| unreachable!());
    let mut acc = [0f32; L];
    for i in 0..L {
        acc[i] = k0 * c[i];
    }
    for (j, &kj) in half.iter().enumerate().skip(1) {
        let a: &[f32; L] = data[at(r - j)..at(r - j) + L]
            .try_into()
            .unwrap_or_else(|_| unreachable!());
        let b: &[f32; L] = data[at(r + j)..at(r + j) + L]
            .try_into()
            .unwrap_or_else(|_| unreachable!());
        for i in 0..L {
            acc[i] += kj * (a[i] + b[i]);
        }
    }
    out[x..x + L].copy_from_slice(&acc);
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn decide_gaussian(row: &[u8], blurred: &[f32], d: Decider, out: &mut [MaybeUninit<u8>]) {
    // Every pixel of `out` is written: a source pixel and a blurred value for each.
    assert!(row.len() >= out.len() && blurred.len() >= out.len());
    let (yes, no) = if d.inverse {
        (0, d.imaxval)
    } else {
        (d.imaxval, 0)
    };
    // All in f32 (integers that small are exact), so the loop vectorises: a float-to-int
    // cast would be scalarised for its saturation and NaN rules.
    let idelta = d.idelta as f32;
    for ((o, &v), &g) in out.iter_mut().zip(row).zip(blurred) {
        // round half to even, as cvRound; the blurred value lies in 0..=255 (+ rounding error).
        let m = g.round_ties_even();
        let k = (v as f32 + idelta).clamp(0.0, 256.0);
        o.write(if m < k { yes } else { no });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_kernels_sum_to_one_and_are_symmetric() {
        for n in (3..=101).step_by(2) {
            let k = gaussian_kernel(n);
            assert_eq!(k.len(), n);
            let s: f64 = k.iter().map(|&v| v as f64).sum();
            assert!((s - 1.0).abs() < 1e-5, "{n}: {s}");
            for i in 0..n / 2 {
                assert_eq!(k[i], k[n - 1 - i]);
            }
            for i in 0..n / 2 {
                assert!(k[i] <= k[i + 1], "kernel {n} not increasing to the centre");
            }
        }
    }

    #[test]
    fn fixed_tables_for_small_kernels() {
        assert_eq!(gaussian_kernel(3), vec![0.25, 0.5, 0.25]);
        let k9: Vec<f32> = [4., 13., 30., 51., 60., 51., 30., 13., 4.]
            .iter()
            .map(|v| v / 256.0)
            .collect();
        assert_eq!(gaussian_kernel(9), k9);
    }

    #[test]
    fn row_window_sums_equal_a_naive_sum_for_every_tile_and_border() {
        let w = 70usize;
        let cols: Vec<u32> = (0..w as u32)
            .map(|i| i.wrapping_mul(2_654_435_761) >> 20)
            .collect();
        for r in [1usize, 2, 5, 17, 34, 35, 69, 70, 200] {
            for x0 in 0..w {
                for n in 1..=w - x0 {
                    // The column sums the tile is given: its columns plus the halo.
                    let ca = x0.saturating_sub(r);
                    let cb = (x0 + n - 1 + r).min(w - 1);
                    let mut out = vec![0u32; n];
                    window_sums(&cols[ca..=cb], ca, w, r, x0, &mut out);
                    for (i, &got) in out.iter().enumerate() {
                        let x = (x0 + i) as isize;
                        let want = (x - r as isize..=x + r as isize)
                            .map(|c| cols[c.clamp(0, w as isize - 1) as usize])
                            .fold(0u32, u32::wrapping_add);
                        assert_eq!(got, want, "r{r} x0 {x0} n {n} x {x}");
                    }
                }
            }
        }
    }

    #[test]
    fn padded_rows_replicate_the_border() {
        let src = [10u8, 20, 30, 40];
        let mut pad = vec![0f32; 2 + 2 * 3];
        fill_padded(&src, 1, 3, &mut pad);
        assert_eq!(pad, vec![10., 10., 10., 20., 30., 40., 40., 40.]);
        let mut pad = vec![0f32; 4 + 2 * 10];
        fill_padded(&src, 0, 10, &mut pad);
        assert_eq!(&pad[..11], &[10.0; 11]);
        assert_eq!(&pad[11..14], &[20., 30., 40.]);
        assert_eq!(&pad[14..], &[40.0; 10]);
    }
}
