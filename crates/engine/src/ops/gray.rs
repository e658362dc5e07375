//! RGB to gray, exactly as `cv::cvtColor(src, dst, COLOR_RGB2GRAY)` on 8-bit pixels:
//! `Y = (9798 R + 19235 G + 3735 B + 16384) >> 15` (15-bit fixed point, BT.601 weights).
//! This formula is exact against OpenCV for all 2^24 colours.

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::as_uninit;

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
        3 => {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 (and so SSSE3) is available, checked just above, and the source
                // is cut to exactly three bytes per output pixel, as the function requires.
                unsafe { x86::rgb3_to_gray_avx2(&src[..dst.len() * 3], dst) };
                return;
            }
            rgb3_to_gray(&src[..dst.len() * 3], dst)
        }
        4 => rgb4_to_gray(&src[..dst.len() * 4], dst),
        _ => panic!("rgb_row_to_gray: {channels} channels"),
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

/// Explicit x86 SIMD for the interleaved RGB case, which compilers do not vectorise well:
/// deinterleave 16 pixels with `pshufb`, then `pmaddwd` pairs (R,G)·(9798,19235) and
/// (B,1)·(3735,16384) into exact 32-bit sums, shift by 15 and pack — the same integer maths
/// as [`gray_of`], so the result is identical.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Shuffle masks picking R, G and B bytes out of three 16-byte blocks (48 bytes = 16 px).
    const fn masks(channel: usize) -> [[i8; 16]; 3] {
        let mut m = [[-1i8; 16]; 3];
        let mut i = 0;
        while i < 16 {
            let byte = 3 * i + channel;
            m[byte / 16][i] = (byte % 16) as i8;
            i += 1;
        }
        m
    }
    const MR: [[i8; 16]; 3] = masks(0);
    const MG: [[i8; 16]; 3] = masks(1);
    const MB: [[i8; 16]; 3] = masks(2);

    /// # Safety
    /// The CPU must support SSSE3 (implied by AVX2, which the only caller requires).
    #[inline(always)]
    unsafe fn pick(a: __m128i, b: __m128i, c: __m128i, m: &[[i8; 16]; 3]) -> __m128i {
        // SAFETY: the three unaligned loads read exactly the 16 bytes of `m[0]`, `m[1]` and
        // `m[2]`; the shuffles need SSSE3, which the caller guarantees.
        unsafe {
            let ma = _mm_loadu_si128(m[0].as_ptr() as *const __m128i);
            let mb = _mm_loadu_si128(m[1].as_ptr() as *const __m128i);
            let mc = _mm_loadu_si128(m[2].as_ptr() as *const __m128i);
            _mm_or_si128(
                _mm_or_si128(_mm_shuffle_epi8(a, ma), _mm_shuffle_epi8(b, mb)),
                _mm_shuffle_epi8(c, mc),
            )
        }
    }

    /// # Safety
    /// The CPU must support AVX2. `src.len() == 3 * dst.len()`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn rgb3_to_gray_avx2(src: &[u8], dst: &mut [std::mem::MaybeUninit<u8>]) {
        let n = dst.len();
        // Checked even in release: the loads below rely on it.
        assert_eq!(src.len(), 3 * n, "rgb3_to_gray_avx2: source and row sizes");
        let blocks = n / 16;
        // SAFETY: AVX2 is enabled for this function (the caller checked the CPU). For block
        // `i < n / 16`, the loads read `src[48 i .. 48 i + 48]` and the store writes
        // `dst[16 i .. 16 i + 16]`, both in bounds since `src.len() == 3 n` (asserted above);
        // unaligned loads and stores are used throughout. The tail is written below, so every
        // element of `dst` is initialised.
        unsafe {
            let w_rg = _mm256_set1_epi32((19235 << 16) | 9798);
            let w_b1 = _mm256_set1_epi32((16384 << 16) | 3735);
            let one = _mm256_set1_epi16(1);
            for i in 0..blocks {
                let p = src.as_ptr().add(48 * i);
                let a = _mm_loadu_si128(p as *const __m128i);
                let b = _mm_loadu_si128(p.add(16) as *const __m128i);
                let c = _mm_loadu_si128(p.add(32) as *const __m128i);
                let r = _mm256_cvtepu8_epi16(pick(a, b, c, &MR));
                let g = _mm256_cvtepu8_epi16(pick(a, b, c, &MG));
                let bl = _mm256_cvtepu8_epi16(pick(a, b, c, &MB));
                // In-lane interleaves: lo holds pixels 0-3 | 8-11, hi 4-7 | 12-15.
                let lo = _mm256_add_epi32(
                    _mm256_madd_epi16(_mm256_unpacklo_epi16(r, g), w_rg),
                    _mm256_madd_epi16(_mm256_unpacklo_epi16(bl, one), w_b1),
                );
                let hi = _mm256_add_epi32(
                    _mm256_madd_epi16(_mm256_unpackhi_epi16(r, g), w_rg),
                    _mm256_madd_epi16(_mm256_unpackhi_epi16(bl, one), w_b1),
                );
                let lo = _mm256_srli_epi32(lo, 15);
                let hi = _mm256_srli_epi32(hi, 15);
                // packs restores pixel order within each lane: [0-7 | 8-15] as i16.
                let w16 = _mm256_packs_epi32(lo, hi);
                let w8 = _mm256_packus_epi16(w16, w16);
                let w8 = _mm256_permute4x64_epi64(w8, 0b10_00_10_00);
                _mm_storeu_si128(
                    dst.as_mut_ptr().add(16 * i) as *mut __m128i,
                    _mm256_castsi256_si128(w8),
                );
            }
        }
        for i in 16 * blocks..n {
            dst[i].write(super::gray_of(src[3 * i], src[3 * i + 1], src[3 * i + 2]));
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
    fn simd_path_is_exact_for_every_colour() {
        // All 2^24 colours through the dispatching kernel, in rows of 4096 pixels.
        let mut src = vec![0u8; 3 * 4096];
        let mut dst = vec![0u8; 4096];
        for block in 0..(1 << 24) / 4096 {
            for i in 0..4096u32 {
                let c = block * 4096 + i;
                src[3 * i as usize..3 * i as usize + 3].copy_from_slice(&[
                    (c >> 16) as u8,
                    (c >> 8) as u8,
                    c as u8,
                ]);
            }
            rgb_row_to_gray(&src, 3, &mut dst);
            for i in 0..4096 {
                let p = &src[3 * i..3 * i + 3];
                assert_eq!(dst[i], gray_of(p[0], p[1], p[2]), "{p:?}");
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
