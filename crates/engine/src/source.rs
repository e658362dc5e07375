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
//!
//! # Native depth
//!
//! With [`Depth::Native`] (the default of the CLI and the window) a 16-bit image keeps its
//! 16-bit samples, as OpenCV's `imread(IMREAD_ANYDEPTH | IMREAD_COLOR)` keeps them:
//! [`Pixels::Gray16`], [`Pixels::Rgb16`], [`Pixels::Rgba16`] (gray + alpha keeps its gray
//! channel). This covers 16-bit PNG, 16-bit TIFF (gray, RGB, RGBA; WhiteIsZero inverted)
//! and PNM with a maxval over 255 (the samples as stored, no scaling). Floating-point
//! images (TIFF with 32- or 64-bit float samples) become 16-bit as `v * 65535` rounded half
//! to even, clamped to 0..=65535, NaN 0 (so 0.0..1.0 spans the full range; values outside
//! are clamped: a documented choice, since no oracle thresholds floats). 8-bit images are
//! the same at either depth. [`Depth::Eight`] gives the 8-bit pixels above, exactly
//! OpenCV's `imread(IMREAD_COLOR)`.

use image::{DynamicImage, GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use serde::{Deserialize, Serialize};

/// A 16-bit gray image.
pub type Gray16Image = ImageBuffer<Luma<u16>, Vec<u16>>;
/// A 16-bit RGB image.
pub type Rgb16Image = ImageBuffer<Rgb<u16>, Vec<u16>>;
/// A 16-bit RGBA image (alpha ignored).
pub type Rgba16Image = ImageBuffer<Rgba<u16>, Vec<u16>>;

/// The sample depth an image is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Depth {
    /// 16-bit images stay 16-bit (float images become 16-bit); 8-bit images stay 8-bit.
    #[default]
    Native,
    /// Everything 8-bit, exactly as OpenCV's `imread(IMREAD_COLOR)`.
    #[serde(rename = "8")]
    Eight,
}

impl Depth {
    /// Every depth, in the order a user is offered them.
    pub const ALL: [Depth; 2] = [Depth::Native, Depth::Eight];

    /// The name the CLI takes: `native` or `8`.
    pub fn name(self) -> &'static str {
        match self {
            Depth::Native => "native",
            Depth::Eight => "8",
        }
    }
}

impl std::fmt::Display for Depth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Depth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(Depth::Native),
            "8" => Ok(Depth::Eight),
            _ => Err(format!("depth {s:?}: use native or 8")),
        }
    }
}

/// The pixels of a decoded image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Pixels {
    /// 8-bit gray.
    Gray(GrayImage),
    /// 8-bit RGB.
    Rgb(RgbImage),
    /// RGBA: alpha is ignored.
    Rgba(RgbaImage),
    /// 16-bit gray ([`Depth::Native`]).
    Gray16(Gray16Image),
    /// 16-bit RGB ([`Depth::Native`]).
    Rgb16(Rgb16Image),
    /// 16-bit RGBA, alpha ignored ([`Depth::Native`]).
    Rgba16(Rgba16Image),
}

/// A decoded input: its pixels and a word on what it was.
#[derive(Debug, Clone)]
pub struct SourceImage {
    /// The pixels, in the layout the kernels read.
    pub pixels: Pixels,
    /// What the file held, such as "RGB 8-bit" or "gray 16-bit (high byte kept)".
    pub color: String,
}

impl SourceImage {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match &self.pixels {
            Pixels::Gray(i) => i.dimensions(),
            Pixels::Rgb(i) => i.dimensions(),
            Pixels::Rgba(i) => i.dimensions(),
            Pixels::Gray16(i) => i.dimensions(),
            Pixels::Rgb16(i) => i.dimensions(),
            Pixels::Rgba16(i) => i.dimensions(),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.dimensions().0 as usize
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.dimensions().1 as usize
    }

    /// Bits per sample: 8 or 16.
    pub fn bit_depth(&self) -> u32 {
        if self.is_16bit() { 16 } else { 8 }
    }

    /// Whether the samples are 16-bit.
    pub fn is_16bit(&self) -> bool {
        matches!(
            self.pixels,
            Pixels::Gray16(_) | Pixels::Rgb16(_) | Pixels::Rgba16(_)
        )
    }

    /// Whether the pixels are gray (one channel), at either depth.
    pub fn is_gray(&self) -> bool {
        matches!(self.pixels, Pixels::Gray(_) | Pixels::Gray16(_))
    }

    /// Width × height, in millions of pixels.
    pub fn megapixels(&self) -> f64 {
        (self.width() * self.height()) as f64 / 1e6
    }

    /// Samples per pixel of the stored layout (1, 3 or 4).
    pub fn channels(&self) -> usize {
        match &self.pixels {
            Pixels::Gray(_) | Pixels::Gray16(_) => 1,
            Pixels::Rgb(_) | Pixels::Rgb16(_) => 3,
            Pixels::Rgba(_) | Pixels::Rgba16(_) => 4,
        }
    }

    /// The interleaved samples of an 8-bit image; empty for a 16-bit one (see [`raw16`]).
    ///
    /// [`raw16`]: SourceImage::raw16
    pub fn raw(&self) -> &[u8] {
        match &self.pixels {
            Pixels::Gray(i) => i.as_raw(),
            Pixels::Rgb(i) => i.as_raw(),
            Pixels::Rgba(i) => i.as_raw(),
            _ => &[],
        }
    }

    /// The interleaved samples of a 16-bit image; empty for an 8-bit one (see [`raw`]).
    ///
    /// [`raw`]: SourceImage::raw
    pub fn raw16(&self) -> &[u16] {
        match &self.pixels {
            Pixels::Gray16(i) => i.as_raw(),
            Pixels::Rgb16(i) => i.as_raw(),
            Pixels::Rgba16(i) => i.as_raw(),
            _ => &[],
        }
    }

    /// A source from a 16-bit gray image (no copy).
    pub fn gray16(img: Gray16Image) -> Self {
        SourceImage {
            pixels: Pixels::Gray16(img),
            color: "gray 16-bit".into(),
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
            Pixels::Gray16(i) => DynamicImage::ImageLuma16(i),
            Pixels::Rgb16(i) => DynamicImage::ImageRgb16(i),
            Pixels::Rgba16(i) => DynamicImage::ImageRgba16(i),
        }
    }

    /// Normalises any decoded image at `depth` (see the module documentation).
    pub fn from_dynamic_at(img: DynamicImage, depth: Depth) -> Self {
        if depth == Depth::Eight {
            return Self::from_dynamic(img);
        }
        let (w, h) = (img.width(), img.height());
        let (pixels, color) = match img {
            DynamicImage::ImageLuma16(i) => (Pixels::Gray16(i), "gray 16-bit"),
            DynamicImage::ImageLumaA16(i) => {
                let g: Vec<u16> = i.as_raw().chunks_exact(2).map(|p| p[0]).collect();
                (
                    Pixels::Gray16(Gray16Image::from_raw(w, h, g).expect("size of gray buffer")),
                    "gray+alpha 16-bit (alpha ignored)",
                )
            }
            DynamicImage::ImageRgb16(i) => (Pixels::Rgb16(i), "RGB 16-bit"),
            DynamicImage::ImageRgba16(i) => (Pixels::Rgba16(i), "RGBA 16-bit (alpha ignored)"),
            DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
                let v: Vec<u16> = img
                    .to_rgb32f()
                    .as_raw()
                    .iter()
                    .map(|&v| float_to_u16(v))
                    .collect();
                (
                    Pixels::Rgb16(Rgb16Image::from_raw(w, h, v).expect("size of RGB buffer")),
                    "floating-point (v*65535 to 16-bit, clamped)",
                )
            }
            other => return Self::from_dynamic(other),
        };
        SourceImage {
            pixels,
            color: color.into(),
        }
    }

    /// Normalises any decoded image to 8 bits, as OpenCV's `imread(IMREAD_COLOR)` (see the
    /// module documentation); [`from_dynamic_at`] keeps 16 bits.
    ///
    /// [`from_dynamic_at`]: SourceImage::from_dynamic_at
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

/// A one-channel result: 8-bit (masks, labels, and everything made from an 8-bit image), or
/// 16-bit where an op keeps a 16-bit image's values (gray, trunc, tozero, tozero-inv).
#[derive(Debug, Clone, PartialEq)]
pub enum Plane {
    /// 8-bit samples.
    Gray8(GrayImage),
    /// 16-bit samples.
    Gray16(Gray16Image),
}

impl Plane {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Plane::Gray8(i) => i.dimensions(),
            Plane::Gray16(i) => i.dimensions(),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.dimensions().0
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.dimensions().1
    }

    /// Bits per sample: 8 or 16.
    pub fn bit_depth(&self) -> u32 {
        match self {
            Plane::Gray8(_) => 8,
            Plane::Gray16(_) => 16,
        }
    }

    /// The 8-bit image, `None` for a 16-bit one.
    pub fn as_gray8(&self) -> Option<&GrayImage> {
        match self {
            Plane::Gray8(i) => Some(i),
            Plane::Gray16(_) => None,
        }
    }

    /// The 8-bit image, `None` for a 16-bit one.
    pub fn into_gray8(self) -> Option<GrayImage> {
        match self {
            Plane::Gray8(i) => Some(i),
            Plane::Gray16(_) => None,
        }
    }

    /// The 16-bit image, `None` for an 8-bit one.
    pub fn as_gray16(&self) -> Option<&Gray16Image> {
        match self {
            Plane::Gray16(i) => Some(i),
            Plane::Gray8(_) => None,
        }
    }

    /// The sample at `(x, y)`, widened; `None` outside the image.
    pub fn get(&self, x: u32, y: u32) -> Option<u16> {
        match self {
            Plane::Gray8(i) => i.get_pixel_checked(x, y).map(|p| u16::from(p.0[0])),
            Plane::Gray16(i) => i.get_pixel_checked(x, y).map(|p| p.0[0]),
        }
    }

    /// The samples in raster order, widened to 16 bits (a copy).
    pub fn samples(&self) -> Vec<u16> {
        match self {
            Plane::Gray8(i) => i.as_raw().iter().map(|&v| u16::from(v)).collect(),
            Plane::Gray16(i) => i.as_raw().clone(),
        }
    }

    /// The smallest and largest sample (`(0, 0)` for an empty image).
    pub fn min_max(&self) -> (u16, u16) {
        fn mm<T: Copy + Ord + Into<u16>>(v: &[T]) -> (u16, u16) {
            let lo = v.iter().copied().min();
            let hi = v.iter().copied().max();
            match (lo, hi) {
                (Some(a), Some(b)) => (a.into(), b.into()),
                _ => (0, 0),
            }
        }
        match self {
            Plane::Gray8(i) => mm(i.as_raw()),
            Plane::Gray16(i) => mm(i.as_raw()),
        }
    }

    /// An 8-bit view for display: 8-bit samples as they are; 16-bit samples mapped linearly
    /// from `lo..=hi` to `0..=255` (clamped, rounded), as ImageJ's display range does.
    ///
    /// ```
    /// use tessera_engine::source::{Gray16Image, Plane};
    /// let p = Plane::Gray16(Gray16Image::from_raw(3, 1, vec![100, 550, 1000]).unwrap());
    /// assert_eq!(p.to_display8(100, 1000).as_raw(), &[0, 128, 255]);
    /// ```
    pub fn to_display8(&self, lo: u16, hi: u16) -> GrayImage {
        match self {
            Plane::Gray8(i) => i.clone(),
            Plane::Gray16(i) => {
                let lut = display_lut(lo, hi);
                let (w, h) = i.dimensions();
                GrayImage::from_raw(w, h, i.as_raw().iter().map(|&v| lut(v)).collect())
                    .expect("size of gray buffer")
            }
        }
    }

    /// The image as an `image` crate image (no copy).
    pub fn into_dynamic(self) -> DynamicImage {
        match self {
            Plane::Gray8(i) => DynamicImage::ImageLuma8(i),
            Plane::Gray16(i) => DynamicImage::ImageLuma16(i),
        }
    }
}

impl From<GrayImage> for Plane {
    fn from(i: GrayImage) -> Self {
        Plane::Gray8(i)
    }
}

impl From<Gray16Image> for Plane {
    fn from(i: Gray16Image) -> Self {
        Plane::Gray16(i)
    }
}

/// The display mapping of a 16-bit sample for the range `lo..=hi`: linear to `0..=255`,
/// clamped, rounded half up; a range of one value shows everything at or above it white.
pub fn display_lut(lo: u16, hi: u16) -> impl Fn(u16) -> u8 {
    let (lo, hi) = (f64::from(lo.min(hi)), f64::from(hi.max(lo)));
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    move |v: u16| {
        let v = f64::from(v);
        if hi <= lo {
            return if v >= hi { 255 } else { 0 };
        }
        ((v - lo) * scale + 0.5).floor().clamp(0.0, 255.0) as u8
    }
}

/// A floating-point sample to 16 bits ([`Depth::Native`]): `v * 65535` rounded half to even,
/// clamped to 0..=65535; NaN is 0.
pub(crate) fn float_to_u16(v: f32) -> u16 {
    let x = (f64::from(v) * 65535.0).round_ties_even();
    if x.is_nan() {
        0
    } else {
        x.clamp(0.0, 65535.0) as u16
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
