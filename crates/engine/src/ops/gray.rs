//! RGB to gray, exactly as `cv::cvtColor(src, dst, COLOR_RGB2GRAY)` on 8-bit pixels:
//! `Y = (9798 R + 19235 G + 3735 B + 16384) >> 15` (15-bit fixed point, BT.601 weights).
//! This formula is exact against OpenCV for all 2^24 colours.

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::as_uninit;
use super::simd::Simd;

const WR: u32 = 9798;
const WG: u32 = 19235;
const WB: u32 = 3735;
const ROUND: u32 = 1 << 14;
const SHIFT: u32 = 15;

/// The gray value of one RGB pixel.
#[inline(always)]
pub fn gray_of(r: u8, g: u8, b: u8) -> u8 {
    ((WR * r as u32 + WG * g as u32 + WB * b as u32 + ROUND) >> SHIFT) as u8
}

/// Converts a row of interleaved pixels with `channels` bytes each (3: RGB, 4: RGBA, alpha
/// ignored) into gray. `dst.len()` pixels are converted.
pub fn rgb_row_to_gray(src: &[u8], channels: usize, dst: &mut [u8]) {
    rgb_row_to_gray_uninit(src, channels, as_uninit(dst));
}

/// [`rgb_row_to_gray`] into a row not yet initialised: every byte is written (the source is
/// cut to exactly `dst.len()` pixels, which the kernels below check).
pub(crate) fn rgb_row_to_gray_uninit(src: &[u8], channels: usize, dst: &mut [MaybeUninit<u8>]) {
    assert!(src.len() >= dst.len() * channels, "source row too short");
    match channels {
        3 => rgb3_row(&src[..dst.len() * 3], dst, Simd::detect()),
        4 => rgb4_to_gray(&src[..dst.len() * 4], dst),
        _ => panic!("rgb_row_to_gray: {channels} channels"),
    }
}

/// One 3-channel row with the given kernel, which the CPU must run (`src.len()` is exactly
/// `3 * dst.len()`).
fn rgb3_row(src: &[u8], dst: &mut [MaybeUninit<u8>], kernel: Simd) {
    match kernel {
        // SAFETY: `kernel` comes from `Simd::detect` or `Simd::available`, so the CPU has
        // AVX-512F and AVX-512BW; the caller cut the source
        // to exactly three bytes per output pixel, as the kernel requires.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { x86::rgb3_to_gray_avx512(src, dst) },
        // SAFETY: as above, with AVX2.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { x86::rgb3_to_gray_avx2(src, dst) },
        Simd::Scalar => rgb3_to_gray(src, dst),
    }
}

/// Pixels per inner block: small fixed-size arrays let the compiler keep the whole block in
/// vector registers and deinterleave with shuffles.
const BLOCK: usize = 16;

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn rgb3_to_gray(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
    // Every pixel of `dst` is written: one source pixel for each.
    assert_eq!(src.len(), dst.len() * 3);
    let mut s_blocks = src.chunks_exact(3 * BLOCK);
    let mut d_blocks = dst.chunks_exact_mut(BLOCK);
    for (s, d) in (&mut s_blocks).zip(&mut d_blocks) {
        let s: &[u8; 3 * BLOCK] = s.try_into().unwrap_or_else(|_| unreachable!());
        let mut r = [0u32; BLOCK];
        let mut g = [0u32; BLOCK];
        let mut b = [0u32; BLOCK];
        for i in 0..BLOCK {
            r[i] = s[3 * i] as u32;
            g[i] = s[3 * i + 1] as u32;
            b[i] = s[3 * i + 2] as u32;
        }
        for i in 0..BLOCK {
            d[i].write(((WR * r[i] + WG * g[i] + WB * b[i] + ROUND) >> SHIFT) as u8);
        }
    }
    for (s, d) in s_blocks
        .remainder()
        .chunks_exact(3)
        .zip(d_blocks.into_remainder())
    {
        d.write(gray_of(s[0], s[1], s[2]));
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn rgb4_to_gray(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
    // Every pixel of `dst` is written: one source pixel for each.
    assert_eq!(src.len(), dst.len() * 4);
    for (s, d) in src.chunks_exact(4).zip(dst.iter_mut()) {
        d.write(((WR * s[0] as u32 + WG * s[1] as u32 + WB * s[2] as u32 + ROUND) >> SHIFT) as u8);
    }
}

/// Explicit x86 SIMD for the interleaved RGB case, which compilers do not vectorise well.
///
/// Both kernels work on groups of 4 pixels (12 bytes) placed one per 128-bit lane by a dword
/// permute (`vpermd`: dwords 0, 1, 2 of a group go to a lane), so a single in-lane `pshufb`
/// makes (R, G) 16-bit pairs and a second one B: `pmaddwd` with (9798, 19235) and (3735, 0)
/// gives the exact 32-bit sums of [`gray_of`], then `+ 16384 >> 15` and two packs. That is
/// 3 shuffles per 8 pixels (AVX2) or 16 (AVX-512) where deinterleaving whole vectors took 19
/// per 16 (that kernel was bound by the shuffle port, not by memory). The pixel groups come out of the
/// packs lane by lane, and one more dword permute restores their order.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// `pshufb` masks within a lane holding 4 pixels `r0 g0 b0 r1 ... b3`: (R, G) pairs of
    /// 16-bit words, and (B, 0).
    const RG_LANE: [i8; 16] = [0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1];
    const B_LANE: [i8; 16] = [2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1];
    const W_RG: i32 = ((super::WG as i32) << 16) | super::WR as i32;

    /// Scalar pixels `from..dst.len()`.
    fn tail(src: &[u8], dst: &mut [MaybeUninit<u8>], from: usize) {
        for i in from..dst.len() {
            dst[i].write(super::gray_of(src[3 * i], src[3 * i + 1], src[3 * i + 2]));
        }
    }

    /// # Safety
    /// The CPU must support AVX2. `src.len() == 3 * dst.len()`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn rgb3_to_gray_avx2(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
        let n = dst.len();
        // Checked even in release: the loads below rely on it.
        assert_eq!(src.len(), 3 * n, "rgb3_to_gray_avx2: source and row sizes");
        // Blocks of 32 pixels, four loads of 32 bytes at 24-byte steps: the last one reads
        // 8 bytes past the block's 96, so a block is taken only if those bytes exist.
        let blocks = if src.len() >= 8 {
            (src.len() - 8) / 96
        } else {
            0
        };
        // SAFETY: AVX2 is enabled for this function (the caller checked the CPU). Block `i`
        // loads `src[96 i .. 96 i + 104]`, in bounds since `96 (i + 1) + 8 <= src.len()` for
        // `i < blocks`, and stores `dst[32 i .. 32 i + 32]`, in bounds since `32 blocks <= n`.
        // Unaligned loads and stores throughout; `tail` writes every pixel after the blocks,
        // so every element of `dst` is initialised.
        unsafe {
            let idx = _mm256_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5);
            let mrg = _mm256_broadcastsi128_si256(_mm_loadu_si128(RG_LANE.as_ptr().cast()));
            let mb = _mm256_broadcastsi128_si256(_mm_loadu_si128(B_LANE.as_ptr().cast()));
            let w_rg = _mm256_set1_epi32(W_RG);
            let w_b = _mm256_set1_epi32(super::WB as i32);
            let round = _mm256_set1_epi32(super::ROUND as i32);
            // After the packs, lane k holds dwords [group 0 | 1 | 2 | 3] of its pixels 4k..;
            // sub-block j's lane k is pixels 8 j + 4 k .. + 4.
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            for i in 0..blocks {
                let p = src.as_ptr().add(96 * i);
                let sums = |j: usize| {
                    let v = _mm256_loadu_si256(p.add(24 * j).cast());
                    let v = _mm256_permutevar8x32_epi32(v, idx);
                    let s = _mm256_add_epi32(
                        _mm256_madd_epi16(_mm256_shuffle_epi8(v, mrg), w_rg),
                        _mm256_madd_epi16(_mm256_shuffle_epi8(v, mb), w_b),
                    );
                    _mm256_srli_epi32(_mm256_add_epi32(s, round), super::SHIFT as i32)
                };
                let (s0, s1, s2, s3) = (sums(0), sums(1), sums(2), sums(3));
                let bytes =
                    _mm256_packus_epi16(_mm256_packus_epi32(s0, s1), _mm256_packus_epi32(s2, s3));
                _mm256_storeu_si256(
                    dst.as_mut_ptr().add(32 * i).cast(),
                    _mm256_permutevar8x32_epi32(bytes, order),
                );
            }
        }
        tail(src, dst, 32 * blocks);
    }

    /// # Safety
    /// The CPU must support AVX-512F and AVX-512BW. `src.len() == 3 * dst.len()`.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn rgb3_to_gray_avx512(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
        let n = dst.len();
        // Checked even in release: the loads below rely on it.
        assert_eq!(
            src.len(),
            3 * n,
            "rgb3_to_gray_avx512: source and row sizes"
        );
        // SAFETY: AVX-512F/BW are enabled for this function (the caller checked the CPU).
        // Block `i` covers pixels `64 i .. min(64 i + 64, n)`. Its four loads start at
        // `src[192 i + 48 j]` and read 64 bytes when that many are left in `src`, otherwise
        // a masked load reads only the bytes that are (masked-off bytes are not accessed
        // and read as zero). Its store writes 64 pixels when that many are left, otherwise a
        // masked store writes only `dst[64 i .. n]`. So every access is in bounds, and every
        // pixel of `dst` is written once by a block (pixels read as zero only ever feed
        // output lanes that are not stored).
        unsafe {
            let idx = _mm512_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11);
            let mrg = _mm512_broadcast_i32x4(_mm_loadu_si128(RG_LANE.as_ptr().cast()));
            let mb = _mm512_broadcast_i32x4(_mm_loadu_si128(B_LANE.as_ptr().cast()));
            let w_rg = _mm512_set1_epi32(W_RG);
            let w_b = _mm512_set1_epi32(super::WB as i32);
            let round = _mm512_set1_epi32(super::ROUND as i32);
            // Lane k after the packs: dwords [sub-block 0 | 1 | 2 | 3] of pixels 4k..;
            // sub-block j's lane k is pixels 16 j + 4 k .. + 4.
            let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            let base = src.as_ptr();
            for i in 0..n.div_ceil(64) {
                let sums = |j: usize| {
                    let at = 192 * i + 48 * j;
                    let left = src.len().saturating_sub(at);
                    let v = if left >= 64 {
                        _mm512_loadu_si512(base.add(at).cast())
                    } else if left > 0 {
                        _mm512_maskz_loadu_epi8((1u64 << left) - 1, base.add(at).cast())
                    } else {
                        _mm512_setzero_si512()
                    };
                    let v = _mm512_permutexvar_epi32(idx, v);
                    let s = _mm512_add_epi32(
                        _mm512_madd_epi16(_mm512_shuffle_epi8(v, mrg), w_rg),
                        _mm512_madd_epi16(_mm512_shuffle_epi8(v, mb), w_b),
                    );
                    _mm512_srli_epi32(_mm512_add_epi32(s, round), super::SHIFT)
                };
                let (s0, s1, s2, s3) = (sums(0), sums(1), sums(2), sums(3));
                let bytes = _mm512_permutexvar_epi32(
                    order,
                    _mm512_packus_epi16(_mm512_packus_epi32(s0, s1), _mm512_packus_epi32(s2, s3)),
                );
                let out = dst.as_mut_ptr().add(64 * i);
                let left = n - 64 * i;
                if left >= 64 {
                    _mm512_storeu_si512(out.cast(), bytes);
                } else {
                    _mm512_mask_storeu_epi8(out.cast(), (1u64 << left) - 1, bytes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_kernels_match_the_formula_for_every_length() {
        let src: Vec<u8> = (0..4 * 100).map(|i| (i * 37 % 256) as u8).collect();
        for n in 0..100 {
            let mut d3 = vec![0u8; n];
            rgb_row_to_gray(&src, 3, &mut d3);
            let mut d4 = vec![0u8; n];
            rgb_row_to_gray(&src, 4, &mut d4);
            for i in 0..n {
                assert_eq!(d3[i], gray_of(src[3 * i], src[3 * i + 1], src[3 * i + 2]));
                assert_eq!(d4[i], gray_of(src[4 * i], src[4 * i + 1], src[4 * i + 2]));
            }
        }
    }

    #[test]
    fn every_kernel_is_exact_for_every_colour_and_length() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let src: Vec<u8> = (0..3 * 700)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng >> 32) as u8
            })
            .collect();
        for kernel in Simd::available() {
            // All 2^24 colours in rows of 4096 pixels (the row's end is the slice's end).
            let mut rgb = vec![0u8; 3 * 4096];
            let mut dst = vec![MaybeUninit::new(0u8); 4096];
            for block in 0..(1u32 << 24) / 4096 {
                for (i, p) in rgb.chunks_exact_mut(3).enumerate() {
                    let c = block * 4096 + i as u32;
                    p.copy_from_slice(&[(c >> 16) as u8, (c >> 8) as u8, c as u8]);
                }
                rgb3_row(&rgb, &mut dst, kernel);
                for (p, d) in rgb.chunks_exact(3).zip(&dst) {
                    // SAFETY: the kernel wrote every pixel (the buffer started initialised).
                    let d = unsafe { d.assume_init() };
                    assert_eq!(d, gray_of(p[0], p[1], p[2]), "{kernel:?} {p:?}");
                }
            }
            // Every length and start (the kernels' blocks, masked tails and scalar tails),
            // with a guard pixel after the row that must stay untouched.
            for start in 0..4 {
                for n in 0..(700 - start) {
                    let s = &src[3 * start..3 * (start + n)];
                    let mut out = vec![MaybeUninit::new(7u8); n + 1];
                    rgb3_row(s, &mut out[..n], kernel);
                    for i in 0..n {
                        // SAFETY: initialised when made.
                        let d = unsafe { out[i].assume_init() };
                        assert_eq!(d, gray_of(s[3 * i], s[3 * i + 1], s[3 * i + 2]));
                    }
                    // SAFETY: initialised when made.
                    assert_eq!(
                        unsafe { out[n].assume_init() },
                        7,
                        "{kernel:?} wrote past {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn primaries_and_extremes() {
        assert_eq!(gray_of(0, 0, 0), 0);
        assert_eq!(gray_of(255, 255, 255), 255);
        assert_eq!(gray_of(255, 0, 0), 76);
        assert_eq!(gray_of(0, 255, 0), 150);
        assert_eq!(gray_of(0, 0, 255), 29);
    }
}
