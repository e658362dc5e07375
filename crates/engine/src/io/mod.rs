//! Reading images with clear errors and bounded memory, and writing results atomically.
//!
//! Writes go to a temporary file in the destination folder and are renamed into place only
//! once complete, so a failure or a cancel never leaves a half-written file behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};

use std::io::Read;

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::error::EngineError;
use super::source::SourceImage;

/// Limits on what a decoder may allocate: a decompression bomb fails instead of exhausting
/// memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width or height accepted.
    pub max_dimension: u32,
    /// Largest decoder allocation in bytes.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_dimension: 65_535,
            // 4 GiB: a 1-gigapixel RGBA image still opens.
            max_alloc: 4 << 30,
        }
    }
}

impl DecodeLimits {
    /// The reason given when an image is over these limits; `what` says by how much.
    fn too_large(self, what: impl std::fmt::Display) -> String {
        format!(
            "image too large to open ({what}; limits: {} pixels per side, {} MiB)",
            self.max_dimension,
            self.max_alloc >> 20
        )
    }

    fn to_image_limits(self) -> Limits {
        let mut l = Limits::default();
        l.max_image_width = Some(self.max_dimension);
        l.max_image_height = Some(self.max_dimension);
        l.max_alloc = Some(self.max_alloc);
        l
    }
}

/// Files up to this size are read into memory in one call and decoded from there (the JPEG
/// decoder reads its whole input into memory anyway); larger ones are streamed, so a huge
/// non-image file is never loaded whole.
const READ_WHOLE_MAX: u64 = 64 << 20;

/// Reads and decodes an image file. The format is recognised from the content, not the name.
pub fn read_image(path: &Path, limits: DecodeLimits) -> Result<SourceImage, EngineError> {
    let input_err = |reason: String| EngineError::Input {
        path: path.to_path_buf(),
        reason,
    };
    // One open and one fstat: on a folder of small images the system calls per file are a
    // good part of the cost.
    let mut file = File::open(path).map_err(|e| input_err(io_reason(&e)))?;
    let meta = file.metadata().map_err(|e| input_err(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(input_err("is a folder, not an image file".into()));
    }
    if meta.len() == 0 {
        return Err(input_err("empty file".into()));
    }
    if meta.len() <= READ_WHOLE_MAX {
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        // Through `take`, so std does not stat and seek the file again for a size hint.
        (&mut file)
            .take(meta.len() + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| input_err(io_reason(&e)))?;
        return decode_slice(&bytes, limits).map_err(input_err);
    }
    let reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| input_err(io_reason(&e)))?;
    decode(reader, limits).map_err(input_err)
}

/// Decodes an image held in memory (the embedded sample, a drop from another program).
pub fn decode_bytes(
    name: &str,
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<SourceImage, EngineError> {
    let input_err = |reason: String| EngineError::Input {
        path: PathBuf::from(name),
        reason,
    };
    decode_slice(bytes, limits).map_err(input_err)
}

/// Decodes an image held in memory; JPEG straight from the slice (no copy).
fn decode_slice(bytes: &[u8], limits: DecodeLimits) -> Result<SourceImage, String> {
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    if image::guess_format(bytes).ok() == Some(ImageFormat::Jpeg) {
        return decode_jpeg(bytes, jpeg_buffers_whole_image(bytes), limits);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| io_reason(&e))?;
    decode(reader, limits)
}

fn decode<R: std::io::BufRead + std::io::Seek>(
    mut reader: ImageReader<R>,
    limits: DecodeLimits,
) -> Result<SourceImage, String> {
    let Some(format) = reader.format() else {
        return Err(
            "not an image in a supported format (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM)".into(),
        );
    };
    if format == ImageFormat::Jpeg {
        // Streamed: libjpeg reads as it decodes. The headers are not looked at beforehand, so
        // the memory check assumes the worst (a progressive file).
        return decode_jpeg(reader.into_inner(), true, limits);
    }
    reader.limits(limits.to_image_limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_reason(&e, limits))?;
    // As OpenCV's imread does by default: the pixels are turned as the file's EXIF says.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut budget = limits.to_image_limits();
    budget
        .reserve(decoder.total_bytes())
        .map_err(|e| decode_reason(&e, limits))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_reason(&e, limits))?;
    img.apply_orientation(orientation);
    if img.width() == 0 || img.height() == 0 {
        return Err("image has no pixels".into());
    }
    Ok(SourceImage::from_dynamic(img))
}

/// JPEG through libjpeg-turbo's decoder (as vendored by `mozjpeg-sys`; its decoder is
/// libjpeg-turbo's), the library behind OpenCV's `imread`, with the same settings (accurate
/// integer IDCT, fancy upsampling): decoded pixels are bit-identical with OpenCV's, and with
/// its SIMD it decodes small files faster than the pure-Rust decoders. Lenient as libjpeg is
/// for OpenCV: a file that ends early decodes with its missing part grey. The EXIF
/// orientation is applied as `imread` does; a CMYK JPEG is turned to RGB with OpenCV's
/// formula. libjpeg reports fatal errors by unwinding, caught here.
///
/// `whole_image`: whether libjpeg will hold every DCT coefficient of the image at once (a
/// progressive or multi-scan file), counted against the memory limit.
fn decode_jpeg<R: std::io::BufRead>(
    input: R,
    whole_image: bool,
    limits: DecodeLimits,
) -> Result<SourceImage, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_jpeg_unwinding(input, whole_image, limits)
    }))
    .unwrap_or_else(|payload| Err(libjpeg_reason(payload.as_ref())))
}

fn decode_jpeg_unwinding<R: std::io::BufRead>(
    input: R,
    whole_image: bool,
    limits: DecodeLimits,
) -> Result<SourceImage, String> {
    use mozjpeg::{ColorSpace, Decompress, Marker};

    let d = Decompress::with_markers(&[Marker::APP(1)])
        .from_reader(input)
        .map_err(corrupt)?;
    let (w, h) = d.size();
    if w == 0 || h == 0 {
        return Err("image has no pixels".into());
    }
    if w.max(h) as u64 > u64::from(limits.max_dimension) {
        return Err(limits.too_large(format_args!("{w}x{h} pixels")));
    }
    let orientation = d
        .markers()
        .filter(|m| m.marker == Marker::APP(1))
        .find_map(|m| m.data.strip_prefix(b"Exif\0\0"))
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    // As OpenCV: gray stays gray (its BGR would be three equal channels, which gray back to
    // the same values), four channels are CMYK, everything else is converted to RGB.
    let (out, channels, color) = match d.color_space() {
        ColorSpace::JCS_GRAYSCALE => (ColorSpace::JCS_GRAYSCALE, 1, "gray 8-bit (JPEG)"),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => {
            (ColorSpace::JCS_CMYK, 4, "CMYK 8-bit (JPEG)")
        }
        _ => (ColorSpace::JCS_RGB, 3, "RGB 8-bit (JPEG)"),
    };
    // The decoded pixels, plus, for a progressive file, its coefficients (64 × 2 bytes per
    // block of each component), which libjpeg allocates when decoding starts.
    let coefficients: u64 = if whole_image {
        d.components()
            .iter()
            .map(|c| u64::from(c.width_in_blocks) * u64::from(c.height_in_blocks) * 128)
            .sum()
    } else {
        0
    };
    let size = w as u64 * h as u64 * channels + coefficients;
    if size > limits.max_alloc {
        return Err(limits.too_large(format_args!("{w}x{h} needs {} MiB", size >> 20)));
    }
    let mut started = d.to_colorspace(out).map_err(corrupt)?;
    let pixels: Vec<u8> = started.read_scanlines().map_err(corrupt)?;
    // Whatever follows the last scan line (a missing EOI, trailing bytes) does not matter.
    drop(started);
    let (w, h) = (w as u32, h as u32);
    let short = || "corrupt JPEG (size)".to_string();
    let mut img = match channels {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).ok_or_else(short)?),
        3 => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, pixels).ok_or_else(short)?),
        _ => DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(w, h, cmyk_to_rgb(&pixels)).ok_or_else(short)?,
        ),
    };
    img.apply_orientation(orientation);
    let mut src = SourceImage::from_dynamic(img);
    src.color = color.into();
    Ok(src)
}

/// Whether a JPEG's first frame is decoded from a whole-image coefficient buffer: progressive
/// (SOF2, SOF6, ...), or sequential with a first scan that holds only some of the components.
/// Walks the marker segments up to the first scan; anything it cannot follow counts as yes.
fn jpeg_buffers_whole_image(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    let mut frame_components = None;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return true;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let body = bytes.get(at + 4..at + 2 + len);
        match marker {
            // Start of frame, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE) {
                    return true;
                }
                frame_components = body.and_then(|b| b.get(5)).copied();
            }
            0xDA => {
                let scan_components = body.and_then(|b| b.first()).copied();
                return match (frame_components, scan_components) {
                    (Some(f), Some(s)) => s < f,
                    _ => true,
                };
            }
            _ => {}
        }
        at += 2 + len;
    }
    true
}

/// OpenCV's `icvCvt_CMYK2BGR_8u_C4C3R` (libjpeg hands Adobe's inverted CMYK over as is).
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let k = i32::from(p[3]);
            let f = |v: u8| (k - (((255 - i32::from(v)) * k) >> 8)) as u8;
            [f(p[0]), f(p[1]), f(p[2])]
        })
        .collect()
}

/// The reason for a fatal libjpeg error, from the unwinding payload.
fn libjpeg_reason(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown error");
    corrupt(msg.strip_prefix("libjpeg fatal error: ").unwrap_or(msg))
}

/// The reason for an image whose data cannot be decoded; `detail` is the decoder's word.
fn corrupt(detail: impl std::fmt::Display) -> String {
    format!("corrupt or truncated image ({detail})")
}

fn decode_reason(e: &ImageError, limits: DecodeLimits) -> String {
    match e {
        ImageError::Limits(l) => limits.too_large(l),
        ImageError::Unsupported(u) => format!("unsupported image: {u}"),
        ImageError::Decoding(d) => corrupt(d),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated image (file ends early)".into()
        }
        ImageError::IoError(io) => io_reason(io),
        other => other.to_string(),
    }
}

/// A short reason for an I/O error ("no such file", "permission denied", ...).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or folder".into(),
        PermissionDenied => "permission denied".into(),
        StorageFull => "no space left on the device (disk full)".into(),
        ReadOnlyFilesystem => "read-only file system".into(),
        QuotaExceeded => "disk quota exceeded".into(),
        _ => e.to_string(),
    }
}

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
        other => img.write_to(w, other),
    }
}

/// Baseline JPEG, quality [`JPEG_QUALITY`], by libjpeg-turbo's encoder with libjpeg-turbo's
/// own defaults (`mozjpeg`'s "fastest" profile: no trellis, no progressive), which are what
/// OpenCV's `imwrite` uses: the same gray image gives the same file, byte for byte. With its
/// SIMD it encodes about twice as fast as the pure-Rust `jpeg-encoder`; on a folder of small
/// images, encoding was a third of the batch's time.
fn write_jpeg<W: Write>(img: &GrayImage, w: &mut W) -> Result<(), ImageError> {
    let mut failed = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_GRAYSCALE);
        c.set_fastest_defaults();
        c.set_size(img.width() as usize, img.height() as usize);
        c.set_quality(f32::from(JPEG_QUALITY));
        let sink = KeepError {
            inner: &mut *w,
            error: &mut failed,
        };
        let mut started = c.start_compress(sink)?;
        started.write_scanlines(img.as_raw())?;
        started.finish().map(drop)
    }));
    match (result, failed) {
        // The writer's own error (a full disk, say) rather than libjpeg's "write error".
        (Err(_) | Ok(Err(_)), Some(io)) => Err(ImageError::IoError(io)),
        (Ok(Err(e)), None) => Err(ImageError::IoError(e)),
        (Err(payload), None) => Err(ImageError::IoError(std::io::Error::other(libjpeg_reason(
            payload.as_ref(),
        )))),
        (Ok(Ok(())), _) => Ok(()),
    }
}

/// A writer that keeps the first error of the writer it wraps: libjpeg only learns that a
/// write failed, not why.
struct KeepError<'a, W> {
    inner: &'a mut W,
    error: &'a mut Option<std::io::Error>,
}

impl<W: Write> Write for KeepError<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.keep(e))
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf).inspect_err(|e| self.keep(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.keep(e))
    }
}

impl<W> KeepError<'_, W> {
    fn keep(&mut self, e: &std::io::Error) {
        if self.error.is_none() {
            *self.error = Some(match e.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(e.kind(), e.to_string()),
            });
        }
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
    write_atomic(path, sync, capacity, |w| encode_gray(img, format, w))
}

/// The atomic write itself: `encode` fills a buffered temporary file beside `path`, which is
/// renamed over `path` only when everything succeeded; on any error the temporary file is
/// removed (dropping a `NamedTempFile` deletes it) and the reason is returned.
fn write_atomic(
    path: &Path,
    sync: bool,
    capacity: usize,
    encode: impl FnOnce(&mut BufWriter<tempfile::NamedTempFile>) -> Result<(), ImageError>,
) -> Result<(), EngineError> {
    let out_err = |reason: String| EngineError::Output {
        path: path.to_path_buf(),
        reason,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tessera-").suffix(".part");
    // Like any new file (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(&dir).map_err(|e| {
        out_err(format!(
            "cannot create a file in {}: {}",
            dir.display(),
            io_reason(&e)
        ))
    })?;
    let mut writer = BufWriter::with_capacity(capacity, tmp);
    encode(&mut writer).map_err(|e| {
        out_err(match &e {
            ImageError::IoError(io) => io_reason(io),
            other => other.to_string(),
        })
    })?;
    let tmp = writer
        .into_inner()
        .map_err(|e| out_err(io_reason(e.error())))?;
    if sync {
        tmp.as_file()
            .sync_data()
            .map_err(|e| out_err(io_reason(&e)))?;
    }
    // A folder at `path` makes the rename fail (EISDIR): no stat beforehand.
    tmp.persist(path).map_err(|e| {
        out_err(match e.error.kind() {
            std::io::ErrorKind::IsADirectory => "is a folder".into(),
            _ => io_reason(&e.error),
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Pixels;

    #[test]
    fn output_format_from_extension() {
        assert_eq!(output_format(Path::new("a.PNG")).unwrap(), ImageFormat::Png);
        assert_eq!(
            output_format(Path::new("a.jpg")).unwrap(),
            ImageFormat::Jpeg
        );
        assert!(output_format(Path::new("a.xyz")).unwrap_err().is_usage());
        assert!(output_format(Path::new("noext")).is_err());
    }

    #[test]
    fn atomic_write_leaves_only_the_result() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.png");
        let img = GrayImage::from_fn(5, 4, |x, y| image::Luma([(x * 40 + y) as u8]));
        write_gray_atomic(&img, &p).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_ne!(mode & 0o044, 0, "result not readable by others: {mode:o}");
        }
        let back = read_image(&p, DecodeLimits::default()).unwrap();
        assert_eq!(back.raw(), img.as_raw());
    }

    #[test]
    fn write_into_missing_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing").join("out.png");
        let img = GrayImage::new(2, 2);
        let e = write_gray_atomic(&img, &p).unwrap_err().to_string();
        assert!(e.contains("cannot write"), "{e}");
        assert!(!p.exists());
    }

    /// An RGB JPEG of `w`×`h`, with an EXIF orientation tag when `orientation` is given.
    pub(crate) fn jpeg_with_orientation(w: u16, h: u16, orientation: Option<u16>) -> Vec<u8> {
        let rgb: Vec<u8> = (0..w as usize * h as usize)
            .flat_map(|i| {
                let (x, y) = (i % w as usize, i / w as usize);
                [
                    (x * 255 / w as usize) as u8,
                    (y * 255 / h as usize) as u8,
                    90,
                ]
            })
            .collect();
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(w as usize, h as usize);
        c.set_quality(100.0);
        let mut enc = c.start_compress(Vec::new()).unwrap();
        if let Some(o) = orientation {
            // "Exif\0\0", a big-endian TIFF header, one IFD entry: 0x0112 SHORT 1 = o.
            let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
            exif.extend_from_slice(&o.to_be_bytes());
            exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            enc.write_marker(mozjpeg::Marker::APP(1), &exif);
        }
        enc.write_scanlines(&rgb).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn jpeg_exif_orientation_is_applied_as_opencv_does() {
        // Orientation 6 ("rotate 90° clockwise to display"), as phones write; OpenCV's imread
        // turns the pixels (tests/jpeg_golden.rs checks the same tag against cv2.imread on an
        // OpenCV-written file), and so do we.
        let limits = DecodeLimits::default();
        let plain = decode_bytes("p.jpg", &jpeg_with_orientation(24, 16, None), limits).unwrap();
        for (tag, turn) in [
            (6u16, image::imageops::rotate90 as fn(&_) -> _),
            (8, image::imageops::rotate270),
            (3, image::imageops::rotate180),
        ] {
            let turned =
                decode_bytes("t.jpg", &jpeg_with_orientation(24, 16, Some(tag)), limits).unwrap();
            let Pixels::Rgb(p) = &plain.pixels else {
                panic!("not RGB")
            };
            let Pixels::Rgb(t) = &turned.pixels else {
                panic!("not RGB")
            };
            let want = turn(p);
            assert_eq!(t.dimensions(), want.dimensions(), "orientation {tag}");
            assert_eq!(t.as_raw(), want.as_raw(), "orientation {tag}");
        }
        // Read from a file, the same.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("phone.jpg");
        std::fs::write(&f, jpeg_with_orientation(24, 16, Some(6))).unwrap();
        let from_file = read_image(&f, limits).unwrap();
        assert_eq!((from_file.width(), from_file.height()), (16, 24));
    }

    #[test]
    fn truncated_and_corrupt_jpegs_have_reasons() {
        let good = jpeg_with_orientation(64, 48, None);
        let limits = DecodeLimits::default();
        // Cut inside the headers: an error naming the problem, no panic.
        let e = decode_bytes("h.jpg", &good[..40], limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated") || e.contains("corrupt"), "{e}");
        let mut bad = good.clone();
        for b in bad.iter_mut().skip(20).take(200) {
            *b = 0xFF;
        }
        // Garbage in the entropy-coded data: an error or (lenient, as libjpeg) pixels, never a
        // panic.
        let _ = decode_bytes("c.jpg", &bad, limits);
        let small = DecodeLimits {
            max_dimension: 32,
            ..limits
        };
        let e = decode_bytes("big.jpg", &good, small)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
        let tiny_alloc = DecodeLimits {
            max_alloc: 1000,
            ..limits
        };
        let e = decode_bytes("big.jpg", &good, tiny_alloc)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn a_progressive_jpeg_counts_its_coefficients_against_the_memory_limit() {
        let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let encode = |progressive: bool| {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_fastest_defaults();
            c.set_size(64, 48);
            c.set_quality(90.0);
            c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1)); // 4:4:4
            if progressive {
                c.set_progressive_mode();
            }
            let mut s = c.start_compress(Vec::new()).unwrap();
            s.write_scanlines(&rgb).unwrap();
            s.finish().unwrap()
        };
        let (baseline, progressive) = (encode(false), encode(true));
        assert!(!jpeg_buffers_whole_image(&baseline));
        assert!(jpeg_buffers_whole_image(&progressive));
        assert!(
            jpeg_buffers_whole_image(b"\xFF\xD8\xFF"),
            "unreadable counts as yes"
        );
        // Room for the decoded pixels (9216 bytes) but not also for the coefficients
        // (3 components × 48 blocks × 128 bytes = 18432).
        let limits = DecodeLimits {
            max_alloc: 20_000,
            ..DecodeLimits::default()
        };
        let ok = decode_bytes("b.jpg", &baseline, limits).unwrap();
        assert_eq!((ok.width(), ok.height()), (64, 48));
        let e = decode_bytes("p.jpg", &progressive, limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
        let roomy = DecodeLimits {
            max_alloc: 30_000,
            ..limits
        };
        let p = decode_bytes("p.jpg", &progressive, roomy).unwrap();
        assert_eq!(p.raw(), ok.raw(), "same pixels either way");
    }

    #[test]
    fn a_full_disk_fails_clearly_and_leaves_nothing() {
        // The encoder's writes fail as on a full disk (ENOSPC) after part of the data went
        // into the temporary file.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.png");
        let full = || std::io::Error::from_raw_os_error(28);
        let e = write_atomic(&p, false, 64, |w| {
            w.write_all(&[7; 100])?;
            Err(ImageError::IoError(full()))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("disk full") && e.contains("out.png"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "files left behind: {left:?}");
        // And a success through the same path writes exactly the bytes.
        write_atomic(&p, false, 8, |w| Ok(w.write_all(b"0123456789")?)).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"0123456789");
    }

    #[test]
    fn write_over_a_folder_fails_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.png");
        std::fs::create_dir(&p).unwrap();
        let e = write_gray_atomic(&GrayImage::new(3, 3), &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a folder"), "{e}");
        assert!(p.is_dir());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left: {names:?}");
    }

    #[test]
    fn a_large_input_is_streamed_and_decodes_the_same() {
        // Over READ_WHOLE_MAX the file is streamed instead of read in one call: same pixels.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pgm");
        let (w, h) = (8192u32, 8193u32);
        let img = GrayImage::from_fn(w, h, |x, y| image::Luma([(x ^ y) as u8]));
        img.save(&p).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > READ_WHOLE_MAX);
        let back = read_image(&p, DecodeLimits::default()).unwrap();
        assert_eq!(back.raw(), img.as_raw());
    }

    #[test]
    fn bad_inputs_have_clear_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.png");
        std::fs::write(&empty, b"").unwrap();
        let e = read_image(&empty, DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty file"), "{e}");
        let text = dir.path().join("notes.png");
        std::fs::write(&text, b"hello, this is not an image at all").unwrap();
        let e = read_image(&text, DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an image"), "{e}");
        let e = read_image(&dir.path().join("nope.png"), DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such file"), "{e}");
    }

    #[test]
    fn oversized_images_hit_the_limit() {
        let img = GrayImage::new(300, 200);
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, ImageFormat::Png).unwrap();
        let limits = DecodeLimits {
            max_dimension: 100,
            max_alloc: 1 << 30,
        };
        let e = decode_bytes("big.png", bytes.get_ref(), limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
    }
}
