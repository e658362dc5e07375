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

/// Encodes a gray image in `format` into `w`. PNG is streamed row by row (fast compression,
/// adaptive filters), so no second copy of the image is held while writing.
pub fn encode_gray<W: Write + std::io::Seek>(
    img: &GrayImage,
    format: ImageFormat,
    w: &mut W,
) -> Result<(), ImageError> {
    match format {
        ImageFormat::Png => write_png_stream(img, w).map_err(|e| match e {
            png::EncodingError::IoError(io) => ImageError::IoError(io),
            other => ImageError::IoError(std::io::Error::other(other.to_string())),
        }),
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

fn write_png_stream<W: Write>(img: &GrayImage, w: W) -> Result<(), png::EncodingError> {
    let mut enc = png::Encoder::new(w, img.width(), img.height());
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Adaptive);
    let mut writer = enc.write_header()?;
    let mut stream = writer.stream_writer_with_size(1 << 16)?;
    stream.write_all(img.as_raw())?;
    stream.finish()?;
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
    match img {
        Plane::Gray8(g) => encode_gray(g, format, w),
        Plane::Gray16(g) => match format {
            ImageFormat::Png => write_png16_stream(g, w).map_err(|e| match e {
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

fn write_png16_stream<W: Write>(img: &Gray16Image, w: W) -> Result<(), png::EncodingError> {
    let mut enc = png::Encoder::new(w, img.width(), img.height());
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Sixteen);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Adaptive);
    let mut writer = enc.write_header()?;
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
    let format = check_plane_format(img, path)?;
    let bytes = img.width() as usize * img.height() as usize * (img.bit_depth() as usize / 8);
    let capacity = (bytes + 4096).min(1 << 20);
    write_with(path, sync, capacity, |w| encode_plane(img, format, w))
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
