//! Reading images with clear errors and bounded memory, and writing results atomically.
//!
//! * [`read_image`] / [`decode_bytes`]: any supported format, recognised from the content;
//!   JPEG through libjpeg-turbo as OpenCV's `imread` does (same pixels), the EXIF orientation
//!   applied, within [`DecodeLimits`].
//! * [`write_gray_atomic`]: a gray result in the format of the path's extension
//!   ([`OUTPUT_EXTENSIONS`]), JPEG as OpenCV's `imwrite` writes it (same bytes).
//! * [`write_atomic`]: any bytes. Writes go to a temporary file in the destination folder and
//!   are renamed into place only once complete, so a failure or a cancel never leaves a
//!   half-written file behind.
//!
//! ```
//! use tessera_engine::io::{DecodeLimits, decode_bytes, write_gray_atomic};
//! # let dir = tempfile::tempdir().unwrap();
//! let img = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([(x * 30 + y) as u8]));
//! let path = dir.path().join("out.png");
//! write_gray_atomic(&img, &path).unwrap();
//! let back = tessera_engine::io::read_image(&path, DecodeLimits::default()).unwrap();
//! assert_eq!(back.raw(), img.as_raw());
//! let e = decode_bytes("notes.txt", b"hello", DecodeLimits::default()).unwrap_err();
//! assert!(e.to_string().starts_with("notes.txt: not an image"));
//! ```

mod formats;
mod jpeg;
mod tif;
mod tif_jpeg;
mod write;

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};

use std::io::Read;

use image::{ImageError, ImageFormat, ImageReader, Limits};

use self::jpeg::{decode_jpeg, jpeg_buffers_whole_image};
use super::error::EngineError;
use super::source::SourceImage;

pub use self::write::{
    JPEG_QUALITY, OUTPUT_EXTENSIONS, encode_gray, output_format, write_atomic, write_gray_atomic,
    write_gray_atomic_with,
};

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
    pub(crate) fn too_large(self, what: impl std::fmt::Display) -> String {
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
    reader: ImageReader<R>,
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
    // A decoder that panics on a malformed file (a bug in a dependency) must not take the
    // program down: the panic is caught here, at the decode boundary, and becomes a reason.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        formats::decode_other(reader, format, limits)
    }))
    .unwrap_or_else(|payload| {
        let msg = crate::error::panic_message(payload.as_ref()).unwrap_or("no message");
        Err(corrupt(format_args!(
            "the {format:?} decoder failed: {}",
            formats::one_line(msg)
        )))
    })
}

/// The reason for an image whose data cannot be decoded; `detail` is the decoder's word.
pub(crate) fn corrupt(detail: impl std::fmt::Display) -> String {
    format!("corrupt or truncated image ({detail})")
}

fn decode_reason(e: &ImageError, limits: DecodeLimits) -> String {
    // Every reason is one readable line: decoders' messages can hold line breaks or Rust
    // debug dumps (the `png` crate's chunk types).
    match e {
        ImageError::Limits(l) => limits.too_large(l),
        ImageError::Unsupported(u) => {
            format!("unsupported image: {}", formats::one_line(&u.to_string()))
        }
        ImageError::Decoding(d) => {
            let msg = d.to_string();
            // "Format error decoding Png: ..." -> "PNG: ..."
            let msg = match msg.strip_prefix("Format error decoding ") {
                Some(rest) => match rest.split_once(": ") {
                    Some((fmt, detail)) => format!("{}: {detail}", fmt.to_uppercase()),
                    None => rest.to_string(),
                },
                None => msg,
            };
            corrupt(formats::one_line(&msg))
        }
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated image (file ends early)".into()
        }
        ImageError::IoError(io) => formats::one_line(&io_reason(io)),
        other => formats::one_line(&other.to_string()),
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

/// Whether `b` names the same existing file as `a`: through a link, a second spelling of the
/// path (`./a.png`, `dir/../a.png`) or a case-insensitive file system. `false` when either
/// does not exist or cannot be looked at, so it answers "would writing `b` overwrite the file
/// `a`?" with no false alarm; a missing `b` costs one `stat`.
///
/// On Unix it compares device and inode numbers; elsewhere the canonical paths.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use tessera_engine::io::same_file;
/// let a = dir.path().join("a.png");
/// std::fs::write(&a, b"x").unwrap();
/// assert!(same_file(&a, &dir.path().join(".").join("a.png")));
/// assert!(!same_file(&a, &dir.path().join("b.png"))); // b does not exist
/// ```
pub fn same_file(a: &Path, b: &Path) -> bool {
    let Ok(mb) = std::fs::metadata(b) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(a).is_ok_and(|ma| ma.dev() == mb.dev() && ma.ino() == mb.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = mb;
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::jpeg::jpeg_buffers_whole_image;
    use super::write::write_with;
    use super::*;
    use crate::source::Pixels;
    use image::GrayImage;
    use std::io::Write;

    #[test]
    fn same_file_sees_through_spellings_and_ignores_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        std::fs::write(&a, b"x").unwrap();
        assert!(same_file(&a, &a));
        assert!(same_file(&a, &dir.path().join(".").join("a.png")));
        assert!(!same_file(&a, &dir.path().join("b.png")));
        assert!(!same_file(
            &dir.path().join("b.png"),
            &dir.path().join("b.png")
        ));
        std::fs::write(dir.path().join("c.png"), b"x").unwrap();
        assert!(!same_file(&a, &dir.path().join("c.png")));
    }

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
        let e = write_with(&p, false, 64, |w| {
            w.write_all(&[7; 100])?;
            Err(ImageError::IoError(full()))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("disk full") && e.contains("out.png"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "files left behind: {left:?}");
        // And a success through the same path writes exactly the bytes.
        write_with(&p, false, 8, |w| Ok(w.write_all(b"0123456789")?)).unwrap();
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
