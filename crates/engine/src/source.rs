//! Decoded input pixels, normalised to 8 bits per sample, in the layouts the kernels read.
//!
//! The 8-bit pixels are those of OpenCV 5.1's `imread(path, IMREAD_COLOR)` (then turned gray
//! with `cvtColor(BGR2GRAY)`), format by format; `tests/decode_golden.rs` checks 48 files
//! made by `scripts/make_decode_golden.py` against OpenCV's own output:
//!
//! * **PNG** (libpng in OpenCV): 16-bit samples keep their high byte (`v >> 8`, libpng's
//!   strip-16: 65535 is 255, 0x80FF is 128); alpha (RGBA, gray+alpha, palette tRNS) is
//!   dropped, never composited; palettes and 1/2/4-bit gray are expanded.
//! * **JPEG**: libjpeg-turbo, as in OpenCV (`io/jpeg.rs`).
//! * **TIFF**: OpenCV reads every TIFF through libtiff's RGBA reader (`TIFFReadRGBAStrip`/
//!   `Tile`) when it wants 8 bits, so its rules apply (`io/tif.rs`):
//!   gray 16-bit keeps the high byte (`v >> 8`); RGB and RGBA 16-bit become
//!   `(v * 255 + 32767) / 65535` (v/257 rounded); **unassociated alpha is premultiplied**,
//!   each colour `(c * a + 127) / 255` (after the 16-to-8 step for 16-bit files), while
//!   associated or unspecified alpha leaves the colour as stored; gray + alpha keeps the gray;
//!   WhiteIsZero is inverted; 1/2/4-bit gray is scaled `v * 255 / (2^bits - 1)`; a palette
//!   whose entries all fit in 8 bits is used as is, else each entry keeps its high byte;
//!   CMYK becomes `(255 - k) * (255 - c) / 255` (rounded down); planar and tiled files as
//!   usual. **JPEG-compressed TIFF** goes through libjpeg-turbo as libtiff's JPEG codec does
//!   (the shared `JPEGTables` put in front of each strip or tile; YCbCr converted to RGB by
//!   libjpeg, RGB and gray taken as decoded), so it is exact too.
//! * **Float TIFF** (32 or 64-bit IEEE samples): *documented difference.* OpenCV 5.1's
//!   `imread(IMREAD_COLOR)` refuses them (libtiff's RGBA reader has no float support, and
//!   `imread` returns an empty image). tessera decodes them as OpenCV's
//!   `imread(IMREAD_UNCHANGED)` followed by `convertTo(CV_8U, 255)` would: `v * 255` in
//!   `f32`, rounded half to even, saturated to 0..=255; NaN is 0 (the golden case `float32.tif`
//!   holds exactly that, made with OpenCV). Other float images (none of the enabled decoders
//!   makes them today) follow the same rule.
//! * **PNM** (OpenCV's own reader, `io/formats.rs`): the maxval does **not** scale binary
//!   files: P5/P6 with maxval below 256 give the stored bytes as they are (maxval 100: 0..100),
//!   and maxval 256 or more gives 16-bit samples that keep their high byte (maxval 1000:
//!   0..3). ASCII files (P2/P3) clip each value to maxval, then scale `v * 255 / maxval`
//!   (rounded down) when maxval is below 256, or keep the high byte otherwise. P1/P4 (1 is
//!   black) and P7 are read by the `image` crate.
//! * **BMP**: 16-bit files as OpenCV: BI_RGB is 5-5-5 and BI_BITFIELDS 5-5-5 or 5-6-5, each
//!   channel its bits shifted up with zeros below (`v << 3`, no bit replication: 5-bit white
//!   is 248). Other bit-field masks, which OpenCV refuses, are read by the `image` crate
//!   (documented difference: tessera opens files OpenCV cannot). 1/4/8/24/32-bit files: the
//!   `image` crate, same pixels as OpenCV (32-bit: alpha dropped).
//! * **WebP** (lossless), **GIF** (first frame): the `image` crate, same pixels as OpenCV.
//!   Lossy WebP is not in the golden set (the `image` crate's VP8 decoder is not libwebp).
//!
//! In the kept layouts: 8-bit gray, RGB and RGBA are kept as they are (alpha is ignored by
//! the gray conversion); gray + alpha keeps its gray channel.

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

/// The pixels of a decoded image.
#[derive(Debug, Clone)]
pub enum Pixels {
    /// 8-bit gray.
    Gray(GrayImage),
    /// 8-bit RGB.
    Rgb(RgbImage),
    /// RGBA: alpha is ignored.
    Rgba(RgbaImage),
}

/// A decoded input: its 8-bit pixels and a word on what it was.
#[derive(Debug, Clone)]
pub struct SourceImage {
    /// The pixels, in the layout the kernels read.
    pub pixels: Pixels,
    /// What the file held, such as "RGB 8-bit" or "gray 16-bit (high byte kept)".
    pub color: String,
}

impl SourceImage {
    /// Width in pixels.
    pub fn width(&self) -> usize {
        match &self.pixels {
            Pixels::Gray(i) => i.width() as usize,
            Pixels::Rgb(i) => i.width() as usize,
            Pixels::Rgba(i) => i.width() as usize,
        }
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        match &self.pixels {
            Pixels::Gray(i) => i.height() as usize,
            Pixels::Rgb(i) => i.height() as usize,
            Pixels::Rgba(i) => i.height() as usize,
        }
    }

    /// Width × height, in millions of pixels.
    pub fn megapixels(&self) -> f64 {
        (self.width() * self.height()) as f64 / 1e6
    }

    /// Bytes per pixel of the stored layout (1, 3 or 4).
    pub fn channels(&self) -> usize {
        match &self.pixels {
            Pixels::Gray(_) => 1,
            Pixels::Rgb(_) => 3,
            Pixels::Rgba(_) => 4,
        }
    }

    /// The raw interleaved bytes.
    pub fn raw(&self) -> &[u8] {
        match &self.pixels {
            Pixels::Gray(i) => i.as_raw(),
            Pixels::Rgb(i) => i.as_raw(),
            Pixels::Rgba(i) => i.as_raw(),
        }
    }

    /// A source from an 8-bit gray image (no copy).
    pub fn gray(img: GrayImage) -> Self {
        SourceImage {
            pixels: Pixels::Gray(img),
            color: "gray 8-bit".into(),
        }
    }

    /// A source from an 8-bit RGB image (no copy).
    pub fn rgb(img: RgbImage) -> Self {
        SourceImage {
            pixels: Pixels::Rgb(img),
            color: "RGB 8-bit".into(),
        }
    }

    /// The pixels as an `image` crate image (no copy).
    pub fn into_dynamic(self) -> DynamicImage {
        match self.pixels {
            Pixels::Gray(i) => DynamicImage::ImageLuma8(i),
            Pixels::Rgb(i) => DynamicImage::ImageRgb8(i),
            Pixels::Rgba(i) => DynamicImage::ImageRgba8(i),
        }
    }

    /// Normalises any decoded image (see the module documentation).
    pub fn from_dynamic(img: DynamicImage) -> Self {
        fn high_bytes(v: &[u16]) -> Vec<u8> {
            v.iter().map(|&s| (s >> 8) as u8).collect()
        }
        let (w, h) = (img.width(), img.height());
        let (pixels, color) = match img {
            DynamicImage::ImageLuma8(i) => (Pixels::Gray(i), "gray 8-bit"),
            DynamicImage::ImageRgb8(i) => (Pixels::Rgb(i), "RGB 8-bit"),
            DynamicImage::ImageRgba8(i) => (Pixels::Rgba(i), "RGBA 8-bit (alpha ignored)"),
            DynamicImage::ImageLumaA8(i) => {
                let g: Vec<u8> = i.as_raw().chunks_exact(2).map(|p| p[0]).collect();
                (gray_from(w, h, g), "gray+alpha 8-bit (alpha ignored)")
            }
            DynamicImage::ImageLuma16(i) => (
                gray_from(w, h, high_bytes(i.as_raw())),
                "gray 16-bit (high byte kept)",
            ),
            DynamicImage::ImageLumaA16(i) => {
                let g: Vec<u8> = i
                    .as_raw()
                    .chunks_exact(2)
                    .map(|p| (p[0] >> 8) as u8)
                    .collect();
                (
                    gray_from(w, h, g),
                    "gray+alpha 16-bit (high byte kept, alpha ignored)",
                )
            }
            DynamicImage::ImageRgb16(i) => (
                Pixels::Rgb(
                    RgbImage::from_raw(w, h, high_bytes(i.as_raw())).expect("size of RGB buffer"),
                ),
                "RGB 16-bit (high byte kept)",
            ),
            DynamicImage::ImageRgba16(i) => (
                Pixels::Rgba(
                    RgbaImage::from_raw(w, h, high_bytes(i.as_raw())).expect("size of RGBA buffer"),
                ),
                "RGBA 16-bit (high byte kept, alpha ignored)",
            ),
            DynamicImage::ImageRgba32F(i) => (
                Pixels::Rgb(
                    RgbImage::from_raw(
                        w,
                        h,
                        i.as_raw()
                            .chunks_exact(4)
                            .flat_map(|p| [p[0], p[1], p[2]].map(float_to_u8))
                            .collect(),
                    )
                    .expect("size of RGB buffer"),
                ),
                "floating-point RGBA (v*255, alpha ignored)",
            ),
            other => (
                Pixels::Rgb(
                    RgbImage::from_raw(
                        w,
                        h,
                        other
                            .to_rgb32f()
                            .as_raw()
                            .iter()
                            .map(|&v| float_to_u8(v))
                            .collect(),
                    )
                    .expect("size of RGB buffer"),
                ),
                "floating-point (v*255)",
            ),
        };
        SourceImage {
            pixels,
            color: color.into(),
        }
    }
}

/// A floating-point sample to 8 bits: `v * 255` (in `f32`), rounded half to even and
/// saturated to 0..=255; NaN is 0. This is OpenCV's `convertTo(CV_8U, 255)`.
pub(crate) fn float_to_u8(v: f32) -> u8 {
    let x = (v * 255.0).round_ties_even();
    if x.is_nan() {
        0
    } else {
        x.clamp(0.0, 255.0) as u8
    }
}

/// A 16-bit sample to 8 bits as libtiff's RGBA reader does for RGB TIFFs:
/// `(v * 255 + 32767) / 65535`, which is `v / 257` rounded (ties cannot occur).
pub(crate) fn tiff16_to_u8(v: u16) -> u8 {
    ((u32::from(v) * 255 + 32767) / 65535) as u8
}

fn gray_from(w: u32, h: u32, data: Vec<u8>) -> Pixels {
    Pixels::Gray(GrayImage::from_raw(w, h, data).expect("size of gray buffer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, LumaA, Rgb};

    #[test]
    fn sixteen_bit_keeps_the_high_byte() {
        let img: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_raw(3, 1, vec![65535, 0x80FF, 255]).unwrap();
        let s = SourceImage::from_dynamic(DynamicImage::ImageLuma16(img));
        assert_eq!(s.raw(), &[255, 128, 0]);
        assert_eq!(s.channels(), 1);
        let img: ImageBuffer<Rgb<u16>, Vec<u16>> =
            ImageBuffer::from_raw(1, 1, vec![0x1234, 0xABCD, 0xFF00]).unwrap();
        let s = SourceImage::from_dynamic(DynamicImage::ImageRgb16(img));
        assert_eq!(s.raw(), &[0x12, 0xAB, 0xFF]);
    }

    #[test]
    fn tiff_16_to_8_is_v_over_257_rounded() {
        for v in 0..=u16::MAX {
            assert_eq!(tiff16_to_u8(v), (f64::from(v) / 257.0).round() as u8, "{v}");
        }
    }

    #[test]
    fn floats_scale_by_255_round_half_even_and_saturate() {
        assert_eq!(float_to_u8(0.5 / 255.0), 0); // 0.5: to even
        assert_eq!(float_to_u8(1.5 / 255.0), 2); // 1.5: to even
        assert_eq!(float_to_u8(-0.5), 0);
        assert_eq!(float_to_u8(1.5), 255);
        assert_eq!(float_to_u8(f32::NAN), 0);
        for k in 0..=255u8 {
            assert_eq!(float_to_u8(f32::from(k) / 255.0), k);
        }
    }

    #[test]
    fn gray_alpha_keeps_gray() {
        let img: ImageBuffer<LumaA<u8>, Vec<u8>> =
            ImageBuffer::from_raw(2, 1, vec![10, 0, 200, 255]).unwrap();
        let s = SourceImage::from_dynamic(DynamicImage::ImageLumaA8(img));
        assert_eq!(s.raw(), &[10, 200]);
        assert_eq!((s.width(), s.height()), (2, 1));
    }
}
