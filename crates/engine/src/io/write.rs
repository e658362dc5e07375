//! Encoding results and writing files atomically: a temporary file in the destination folder,
//! renamed into place only once complete, so a failure or a cancel never leaves a
//! half-written file behind.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageError, ImageFormat};

use super::io_reason;
use super::jpeg::write_jpeg;
use crate::error::EngineError;
use crate::source::{Gray16Image, Plane};

/// The formats results can be written in, by file extension.
pub const OUTPUT_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "pgm", "pnm",
];

/// The output format for a path, from its extension.
pub fn output_format(path: &Path) -> Result<ImageFormat, EngineError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !OUTPUT_EXTENSIONS.contains(&ext.as_str()) {
        return Err(EngineError::InvalidParam(format!(
            "{}: cannot tell the output format from the extension {:?} (use one of: {})",
            path.display(),
            ext,
            OUTPUT_EXTENSIONS.join(", ")
        )));
    }
    ImageFormat::from_extension(&ext).ok_or_else(|| {
        EngineError::InvalidParam(format!("{}: unknown output format", path.display()))
    })
}

/// JPEG quality used when writing JPEG (OpenCV's `imwrite` default).
pub const JPEG_QUALITY: u8 = 95;

/// How PNG results are deflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PngCompression {
    /// The default, chosen per result: masks (every pixel 0 or 255) by a run-length deflate as
    /// zlib's `Z_RLE`, anything else by zlib level 1 with adaptive filters. Both give files
    /// smaller than OpenCV's `imwrite` in less time (README, *PNG output*).
    #[default]
    Auto,
    /// Masks as [`PngCompression::Auto`]; anything else by fdeflate's ultra-fast mode, about
    /// three times faster than zlib level 1 with files about 10% larger (and a little larger
    /// than OpenCV's on photos).
    Fast,
    /// zlib level 0 (stored) to 9 (smallest, slowest); 1 is OpenCV's `imwrite` default.
    Level(u8),
}

impl std::str::FromStr for PngCompression {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<PngCompression, EngineError> {
        match s.trim() {
            "auto" => Ok(PngCompression::Auto),
            "fast" => Ok(PngCompression::Fast),
            t => match t.parse::<u8>() {
                Ok(n) if n <= 9 => Ok(PngCompression::Level(n)),
                _ => Err(EngineError::InvalidParam(format!(
                    "--compression must be auto, fast or a zlib level 0-9, got {s:?}"
                ))),
            },
        }
    }
}

impl PngCompression {
    /// Whether 8-bit masks are written with the run-length deflate ([`MaskIdat`]).
    pub(crate) fn rle_masks(self) -> bool {
        matches!(self, PngCompression::Auto | PngCompression::Fast)
    }
}

impl std::fmt::Display for PngCompression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PngCompression::Auto => f.write_str("auto"),
            PngCompression::Fast => f.write_str("fast"),
            PngCompression::Level(n) => write!(f, "{n}"),
        }
    }
}

/// How PNG results are written. Pixels never depend on it: every setting decodes to the
/// same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PngOptions {
    /// The deflate setting.
    pub compression: PngCompression,
    /// Write an 8-bit result whose every pixel is 0 or 255 (a mask) as a 1-bit PNG, as
    /// OpenCV's `IMWRITE_PNG_BILEVEL` does: every PNG reader expands it back to 0 and 255
    /// (some, such as Pillow, report it as a 1-bit image). Other results stay 8-bit.
    pub bilevel: bool,
}

impl PngOptions {
    /// Whether these are the defaults (fast, 8-bit), which every format accepts.
    pub fn is_default(&self) -> bool {
        *self == PngOptions::default()
    }
}

/// Whether every pixel is 0 or 255.
pub fn is_mask(img: &GrayImage) -> bool {
    // Whole chunks without an early exit per byte, so the test vectorises.
    img.as_raw()
        .chunks(4096)
        .all(|c| c.iter().fold(true, |ok, &v| ok & ((v == 0) | (v == 255))))
}

/// Encodes a gray image in `format` into `w`. PNG: fast compression, adaptive filters, and
/// for masks (every pixel 0 or 255) no filter and a run-length deflate (`Z_RLE`'s).
pub fn encode_gray<W: Write + std::io::Seek>(
    img: &GrayImage,
    format: ImageFormat,
    w: &mut W,
) -> Result<(), ImageError> {
    encode_gray_with(img, format, PngOptions::default(), w)
}

fn png_error(e: png::EncodingError) -> ImageError {
    match e {
        png::EncodingError::IoError(io) => ImageError::IoError(io),
        other => ImageError::IoError(std::io::Error::other(other.to_string())),
    }
}

/// [`encode_gray`] with the PNG settings `png` (ignored by other formats).
pub fn encode_gray_with<W: Write + std::io::Seek>(
    img: &GrayImage,
    format: ImageFormat,
    png: PngOptions,
    w: &mut W,
) -> Result<(), ImageError> {
    match format {
        ImageFormat::Png if png.bilevel && is_mask(img) => {
            write_png1_whole(img, png.compression, w).map_err(png_error)
        }
        ImageFormat::Png => write_png_whole(img, png.compression, w).map_err(png_error),
        ImageFormat::Jpeg => write_jpeg(img, w),
        // A binary graymap (P5), as OpenCV's imwrite writes `.pgm`: the `image` crate's
        // default for PNM is PAM (P7), which many PGM readers refuse.
        ImageFormat::Pnm => {
            use image::ImageEncoder;
            use image::codecs::pnm::{PnmEncoder, PnmSubtype, SampleEncoding};
            PnmEncoder::new(w)
                .with_subtype(PnmSubtype::Graymap(SampleEncoding::Binary))
                .write_image(
                    img.as_raw(),
                    img.width(),
                    img.height(),
                    image::ExtendedColorType::L8,
                )
        }
        other => img.write_to(w, other),
    }
}

/// Sets the deflate level and the filter. Filters measured on an 8 MP photo and its masks
/// (README, *Output files*): adaptive for 8- and 16-bit samples; for 1-bit masks `Up` with
/// fdeflate and none with zlib.
fn png_settings<W: Write>(enc: &mut png::Encoder<'_, W>, c: PngCompression, one_bit: bool) {
    match c {
        // Masks under `Auto` never reach the encoder's compressor (`MaskIdat`); the rest is
        // zlib level 1.
        PngCompression::Auto => png_settings(enc, PngCompression::Level(1), one_bit),
        PngCompression::Fast => {
            enc.set_compression(png::Compression::Fast);
            enc.set_filter(if one_bit {
                png::Filter::Up
            } else {
                png::Filter::Adaptive
            });
        }
        PngCompression::Level(0) => {
            enc.set_deflate_compression(png::DeflateCompression::NoCompression);
            enc.set_filter(png::Filter::NoFilter);
        }
        PngCompression::Level(n) => {
            enc.set_deflate_compression(png::DeflateCompression::Level(n));
            enc.set_filter(if one_bit {
                png::Filter::NoFilter
            } else {
                png::Filter::Adaptive
            });
        }
    }
}

/// A gray PNG's header written with `depth` and the settings of `c`.
fn png_header<W: Write>(
    w: W,
    (width, height): (u32, u32),
    depth: png::BitDepth,
    c: PngCompression,
) -> Result<png::Writer<W>, png::EncodingError> {
    let mut enc = png::Encoder::new(w, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(depth);
    png_settings(&mut enc, c, depth == png::BitDepth::One);
    enc.write_header()
}

/// An 8-bit gray PNG's header with the settings of `c`, for writers that stream rows.
pub(crate) fn png_gray_header<W: Write>(
    w: W,
    size: (u32, u32),
    c: PngCompression,
) -> Result<png::Writer<W>, png::EncodingError> {
    png_header(w, size, png::BitDepth::Eight, c)
}

/// An 8-bit gray PNG of the whole image. Masks under `auto` and `fast` take the run-length deflate
/// ([`MaskIdat`]); anything else is filtered and compressed in one call
/// (`write_image_data`) rather than through `png`'s stream writer, whose compressor writes
/// every 8 bytes through a chunk writer (10% of a photo batch's profile was in that
/// `write_all`). The stream writer stays for results streamed by bands (`crate::stream`).
fn write_png_whole<W: Write>(
    img: &GrayImage,
    c: PngCompression,
    w: W,
) -> Result<(), png::EncodingError> {
    let mut writer = png_header(w, img.dimensions(), png::BitDepth::Eight, c)?;
    if c.rle_masks() && is_mask(img) {
        // A mask: no filter and run-length deflate, as zlib's Z_RLE (io/rle.rs).
        let mut idat = MaskIdat::new(&mut writer, img.width() as usize);
        idat.write_rows(img.as_raw())?;
        idat.finish()?;
    } else {
        writer.write_image_data(img.as_raw())?;
    }
    writer.finish()
}

/// A mask's pixel data as a PNG's IDAT chunks: rows unfiltered (filter byte 0 before each)
/// through the run-length deflate ([`super::ZlibRle`]), written as chunks of about 1 MiB as
/// they fill, so neither a filtered copy nor the whole compressed image is held. Used for
/// whole images and for results streamed by bands.
pub(crate) struct MaskIdat<'a, W: Write> {
    writer: &'a mut png::Writer<W>,
    z: super::ZlibRle,
    width: usize,
}

impl<'a, W: Write> MaskIdat<'a, W> {
    /// Rows of `width` pixels into `writer`, whose header is written.
    pub(crate) fn new(writer: &'a mut png::Writer<W>, width: usize) -> Self {
        MaskIdat {
            writer,
            z: super::ZlibRle::new(),
            width: width.max(1),
        }
    }

    /// Adds whole rows (`rows.len()` a multiple of the width).
    pub(crate) fn write_rows(&mut self, rows: &[u8]) -> Result<(), png::EncodingError> {
        for row in rows.chunks_exact(self.width) {
            self.z.write(&[0]);
            self.z.write(row);
            if self.z.ready() >= 1 << 20 {
                self.writer.write_chunk(png::chunk::IDAT, &self.z.take())?;
            }
        }
        Ok(())
    }

    /// Ends the stream: its last IDAT chunk.
    pub(crate) fn finish(self) -> Result<(), png::EncodingError> {
        self.writer.write_chunk(png::chunk::IDAT, &self.z.finish())
    }
}

/// A 0/255 mask as a 1-bit PNG (255 → 1): packed to 8 pixels a byte, then written whole.
fn write_png1_whole<W: Write>(
    img: &GrayImage,
    c: PngCompression,
    w: W,
) -> Result<(), png::EncodingError> {
    let mut writer = png_header(w, img.dimensions(), png::BitDepth::One, c)?;
    let width = img.width().max(1) as usize;
    let stride = width.div_ceil(8);
    let mut packed = vec![0u8; stride * img.height() as usize];
    for (r, row) in img
        .as_raw()
        .chunks_exact(width)
        .zip(packed.chunks_exact_mut(stride))
    {
        for (x, &v) in r.iter().enumerate() {
            if v != 0 {
                row[x >> 3] |= 0x80 >> (x & 7);
            }
        }
    }
    writer.write_image_data(&packed)?;
    writer.finish()
}

/// Writes a gray image to `path` atomically: encoded into a temporary file beside it, then
/// renamed over `path`. On any failure no file is left at `path` or beside it.
pub fn write_gray_atomic(img: &GrayImage, path: &Path) -> Result<(), EngineError> {
    write_gray_atomic_with(img, path, true)
}

/// Like [`write_gray_atomic`]; `sync` says whether the data is flushed to the disk
/// (`fsync`) before the rename. Without it the file is still never seen half-written by any
/// program, but a power cut soon after may lose it: the batch pipeline syncs once at the end
/// instead, since one `fsync` per small file costs more than the work itself.
pub fn write_gray_atomic_with(img: &GrayImage, path: &Path, sync: bool) -> Result<(), EngineError> {
    let format = output_format(path)?;
    // A buffer about the size of a raw image, at most 1 MiB: small results go out in one
    // write.
    let capacity = (img.as_raw().len() + 4096).min(1 << 20);
    write_with(path, sync, capacity, |w| encode_gray(img, format, w))
}

/// Whether `format` can hold 16-bit samples (PNG, TIFF, PGM).
pub fn holds_16bit(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png | ImageFormat::Tiff | ImageFormat::Pnm
    )
}

/// Encodes a result, 8- or 16-bit, in `format` into `w`. A 16-bit result goes to PNG, TIFF
/// or PGM as 16-bit samples (PNG row-streamed, big-endian as PNG stores them); other formats
/// cannot hold it and are refused (see [`check_plane_format`]).
pub fn encode_plane<W: Write + std::io::Seek>(
    img: &Plane,
    format: ImageFormat,
    w: &mut W,
) -> Result<(), ImageError> {
    encode_plane_with(img, format, PngOptions::default(), w)
}

/// [`encode_plane`] with the PNG settings `png` (a 16-bit result is never a 1-bit mask).
pub fn encode_plane_with<W: Write + std::io::Seek>(
    img: &Plane,
    format: ImageFormat,
    png: PngOptions,
    w: &mut W,
) -> Result<(), ImageError> {
    match img {
        Plane::Gray8(g) => encode_gray_with(g, format, png, w),
        Plane::Gray16(g) => match format {
            ImageFormat::Png => write_png16_stream(g, png.compression, w).map_err(|e| match e {
                png::EncodingError::IoError(io) => ImageError::IoError(io),
                other => ImageError::IoError(std::io::Error::other(other.to_string())),
            }),
            // A binary graymap with maxval 65535 and big-endian samples, as OpenCV's imwrite
            // writes a 16-bit `.pgm`.
            ImageFormat::Pnm => {
                write!(w, "P5\n{} {}\n65535\n", g.width(), g.height())?;
                let mut row = Vec::with_capacity(g.width() as usize * 2);
                for r in g.as_raw().chunks_exact(g.width().max(1) as usize) {
                    row.clear();
                    row.extend(r.iter().flat_map(|v| v.to_be_bytes()));
                    w.write_all(&row)?;
                }
                Ok(())
            }
            other => g.write_to(w, other),
        },
    }
}

/// Refuses, as a usage error, a 16-bit result bound for a format that holds 8 bits only.
pub fn check_plane_format(img: &Plane, path: &Path) -> Result<ImageFormat, EngineError> {
    let format = output_format(path)?;
    if img.bit_depth() == 16 && !holds_16bit(format) {
        return Err(EngineError::InvalidParam(format!(
            "{}: a 16-bit result cannot be saved as {}; use .png, .tif or .pgm (or --depth 8)",
            path.display(),
            format
                .extensions_str()
                .first()
                .unwrap_or(&"this format")
                .to_uppercase()
        )));
    }
    Ok(format)
}

fn write_png16_stream<W: Write>(
    img: &Gray16Image,
    c: PngCompression,
    w: W,
) -> Result<(), png::EncodingError> {
    let mut writer = png_header(w, img.dimensions(), png::BitDepth::Sixteen, c)?;
    let mut stream = writer.stream_writer_with_size(1 << 16)?;
    let mut row = Vec::with_capacity(img.width() as usize * 2);
    for r in img.as_raw().chunks_exact(img.width() as usize) {
        row.clear();
        row.extend(r.iter().flat_map(|v| v.to_be_bytes()));
        stream.write_all(&row)?;
    }
    stream.finish()?;
    writer.finish()
}

/// Writes a result, 8- or 16-bit, to `path` atomically (see [`write_gray_atomic_with`]). A
/// 16-bit result needs a format that holds 16 bits ([`check_plane_format`]).
///
/// ```
/// use tessera_engine::source::{Gray16Image, Plane};
/// # let dir = tempfile::tempdir().unwrap();
/// let p = Plane::Gray16(Gray16Image::from_raw(2, 1, vec![0, 4095]).unwrap());
/// let path = dir.path().join("out.png");
/// tessera_engine::io::write_plane_atomic(&p, &path, true).unwrap();
/// let back = image::open(&path).unwrap().into_luma16();
/// assert_eq!(back.as_raw(), &[0, 4095]);
/// assert!(tessera_engine::io::write_plane_atomic(&p, &dir.path().join("x.jpg"), true).is_err());
/// ```
pub fn write_plane_atomic(img: &Plane, path: &Path, sync: bool) -> Result<(), EngineError> {
    write_plane_atomic_with(img, path, sync, PngOptions::default())
}

/// [`write_plane_atomic`] with the PNG settings `png` (ignored by other formats).
pub fn write_plane_atomic_with(
    img: &Plane,
    path: &Path,
    sync: bool,
    png: PngOptions,
) -> Result<(), EngineError> {
    let format = check_plane_format(img, path)?;
    let bytes = img.width() as usize * img.height() as usize * (img.bit_depth() as usize / 8);
    let capacity = (bytes + 4096).min(1 << 20);
    write_with(path, sync, capacity, |w| {
        encode_plane_with(img, format, png, w)
    })
}

/// Writes `bytes` to `path` atomically, as [`write_gray_atomic`] does for an image: into a
/// temporary file beside `path`, flushed to the disk, then renamed over `path`. On any failure
/// no file is left at `path` or beside it. For reports, charts, anything already encoded.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("report.csv");
/// tessera_engine::io::write_atomic(&path, b"workers,seconds\n1,0.5\n").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"workers,seconds\n1,0.5\n");
/// let e = tessera_engine::io::write_atomic(dir.path(), b"x").unwrap_err();
/// assert!(e.to_string().ends_with(": is a folder"), "{e}");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    write_with(path, true, bytes.len().clamp(1, 1 << 20), |w| {
        Ok(w.write_all(bytes)?)
    })
}

/// The atomic write itself: `encode` fills a buffered temporary file beside `path`, which is
/// renamed over `path` only when everything succeeded; on any error the temporary file is
/// removed (dropping a [`Partial`](super::partial::Partial) deletes it) and the reason is returned.
pub(super) fn write_with(
    path: &Path,
    sync: bool,
    capacity: usize,
    encode: impl FnOnce(&mut BufWriter<super::partial::Partial>) -> Result<(), ImageError>,
) -> Result<(), EngineError> {
    let io_err = |reason: String, source: std::io::Error| EngineError::Write {
        path: path.to_path_buf(),
        reason,
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = super::partial::create_in(&dir).map_err(|e| {
        let reason = format!(
            "cannot create a file in {}: {}",
            dir.display(),
            io_reason(&e)
        );
        io_err(reason, e)
    })?;
    let mut writer = BufWriter::with_capacity(capacity, tmp);
    encode(&mut writer).map_err(|e| match e {
        ImageError::IoError(io) => io_err(io_reason(&io), io),
        other => EngineError::Output {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    let tmp = writer.into_inner().map_err(|e| {
        let e = e.into_error();
        io_err(io_reason(&e), e)
    })?;
    if sync {
        tmp.as_file()
            .sync_data()
            .map_err(|e| io_err(io_reason(&e), e))?;
    }
    // A folder at `path` makes the rename fail (EISDIR): no stat beforehand.
    tmp.persist(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::IsADirectory => "is a folder".into(),
            _ => io_reason(&e),
        };
        io_err(reason, e)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Gray16Image, Plane};

    fn png_depth(bytes: &[u8]) -> png::BitDepth {
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        dec.read_info().unwrap().info().bit_depth
    }

    /// The default writes masks with the run-length deflate (io/rle.rs): more than one
    /// deflate block here, read back exactly by two decoders, and smaller than zlib level 6
    /// (fdeflate's fixed codes are larger than level 6 on masks).
    #[test]
    fn default_masks_are_run_length_coded() {
        let mask = GrayImage::from_fn(1500, 900, |x, y| {
            let v = (x * 7 + y * 13) ^ (x * y / 97);
            image::Luma([if v % 23 < 11 { 255 } else { 0 }])
        });
        let encode = |compression| {
            let opts = PngOptions {
                compression,
                bilevel: false,
            };
            let mut buf = std::io::Cursor::new(Vec::new());
            encode_plane_with(
                &Plane::Gray8(mask.clone()),
                ImageFormat::Png,
                opts,
                &mut buf,
            )
            .unwrap();
            buf.into_inner()
        };
        let fast = encode(PngCompression::Fast);
        let level6 = encode(PngCompression::Level(6));
        let back = image::load_from_memory(&fast).unwrap().to_luma8();
        assert_eq!(back.as_raw(), mask.as_raw());
        let mut dec = png::Decoder::new(std::io::Cursor::new(&fast[..]))
            .read_info()
            .unwrap();
        let mut px = vec![0; dec.output_buffer_size().unwrap()];
        dec.next_frame(&mut px).unwrap();
        assert_eq!(px, *mask.as_raw());
        assert!(
            fast.len() < level6.len(),
            "{} vs {}",
            fast.len(),
            level6.len()
        );
    }

    /// Every PNG setting decodes to the same pixels; masks are 1-bit only with `bilevel`,
    /// other results stay 8-bit (or 16-bit).
    #[test]
    fn png_settings_never_change_pixels() {
        let mask = GrayImage::from_fn(13, 7, |x, y| {
            image::Luma([if (x * y + x) % 3 == 0 { 255 } else { 0 }])
        });
        let gray = GrayImage::from_fn(37, 11, |x, y| image::Luma([(x * 7 + y * 31) as u8]));
        let wide = Gray16Image::from_fn(9, 5, |x, y| image::Luma([(x * 7000 + y * 300) as u16]));
        let planes = [
            (Plane::Gray8(mask.clone()), true),
            (Plane::Gray8(gray), false),
            (Plane::Gray16(wide), false),
        ];
        let settings = [
            PngCompression::Auto,
            PngCompression::Fast,
            PngCompression::Level(0),
            PngCompression::Level(1),
            PngCompression::Level(6),
            PngCompression::Level(9),
        ];
        for (plane, is_a_mask) in &planes {
            for &compression in &settings {
                for bilevel in [false, true] {
                    let opts = PngOptions {
                        compression,
                        bilevel,
                    };
                    let mut buf = std::io::Cursor::new(Vec::new());
                    encode_plane_with(plane, ImageFormat::Png, opts, &mut buf).unwrap();
                    let bytes = buf.into_inner();
                    let back = image::load_from_memory(&bytes).unwrap();
                    match plane {
                        Plane::Gray8(g) => {
                            assert_eq!(back.to_luma8().as_raw(), g.as_raw(), "{opts:?}");
                        }
                        Plane::Gray16(g) => {
                            assert_eq!(back.to_luma16().as_raw(), g.as_raw(), "{opts:?}");
                        }
                    }
                    let want = match plane {
                        Plane::Gray16(_) => png::BitDepth::Sixteen,
                        _ if bilevel && *is_a_mask => png::BitDepth::One,
                        _ => png::BitDepth::Eight,
                    };
                    assert_eq!(png_depth(&bytes), want, "{opts:?}");
                }
            }
        }
        assert!(is_mask(&mask));
        // `auto` writes a mask as `fast` does (the run-length deflate) and anything else as
        // zlib level 1 does.
        let bytes = |plane: &Plane, compression| {
            let opts = PngOptions {
                compression,
                bilevel: false,
            };
            let mut buf = std::io::Cursor::new(Vec::new());
            encode_plane_with(plane, ImageFormat::Png, opts, &mut buf).unwrap();
            buf.into_inner()
        };
        let (m, g) = (&planes[0].0, &planes[1].0);
        assert_eq!(
            bytes(m, PngCompression::Auto),
            bytes(m, PngCompression::Fast)
        );
        assert_ne!(
            bytes(m, PngCompression::Auto),
            bytes(m, PngCompression::Level(1))
        );
        assert_eq!(
            bytes(g, PngCompression::Auto),
            bytes(g, PngCompression::Level(1))
        );
        assert_ne!(
            bytes(g, PngCompression::Auto),
            bytes(g, PngCompression::Fast)
        );
        // Parsing.
        assert_eq!(
            "fast".parse::<PngCompression>().unwrap(),
            PngCompression::Fast
        );
        assert_eq!(
            "auto".parse::<PngCompression>().unwrap(),
            PngCompression::Auto
        );
        assert_eq!(PngCompression::default(), PngCompression::Auto);
        assert_eq!(
            "9".parse::<PngCompression>().unwrap(),
            PngCompression::Level(9)
        );
        assert!("10".parse::<PngCompression>().is_err());
    }
}
