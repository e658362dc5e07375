//! RGB to gray, exactly as `cv::cvtColor(src, dst, COLOR_RGB2GRAY)` on 8-bit pixels:
//! `Y = (9798 R + 19235 G + 3735 B + 16384) >> 15` (15-bit fixed point, BT.601 weights).
//! This formula is exact against OpenCV for all 2^24 colours.

use multiversion::multiversion;

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
    assert!(src.len() >= dst.len() * channels, "source row too short");
    match channels {
        3 => rgb3_to_gray(&src[..dst.len() * 3], dst),
        4 => rgb4_to_gray(&src[..dst.len() * 4], dst),
        _ => panic!("rgb_row_to_gray: {channels} channels"),
    }
}

/// Pixels per inner block: small fixed-size arrays let the compiler keep the whole block in
/// vector registers and deinterleave with shuffles.
const BLOCK: usize = 16;

#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1", "aarch64+neon"))]
fn rgb3_to_gray(src: &[u8], dst: &mut [u8]) {
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
            d[i] = ((WR * r[i] + WG * g[i] + WB * b[i] + ROUND) >> SHIFT) as u8;
        }
    }
    for (s, d) in s_blocks
        .remainder()
        .chunks_exact(3)
        .zip(d_blocks.into_remainder())
    {
        *d = gray_of(s[0], s[1], s[2]);
    }
}

#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1", "aarch64+neon"))]
fn rgb4_to_gray(src: &[u8], dst: &mut [u8]) {
    for (s, d) in src.chunks_exact(4).zip(dst.iter_mut()) {
        *d = ((WR * s[0] as u32 + WG * s[1] as u32 + WB * s[2] as u32 + ROUND) >> SHIFT) as u8;
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
    fn primaries_and_extremes() {
        assert_eq!(gray_of(0, 0, 0), 0);
        assert_eq!(gray_of(255, 255, 255), 255);
        assert_eq!(gray_of(255, 0, 0), 76);
        assert_eq!(gray_of(0, 255, 0), 150);
        assert_eq!(gray_of(0, 0, 255), 29);
    }
}
