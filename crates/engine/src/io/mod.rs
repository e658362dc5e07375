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

mod budget;
mod formats;
mod jpeg;
pub(crate) mod partial;
mod read;
mod rle;
pub(crate) use rle::ZlibRle;
mod tif;
mod tif_jpeg;
pub(crate) mod write;

use std::path::Path;

use image::{ImageError, ImageFormat, ImageReader, Limits};

use self::read::Admit;
pub(crate) use self::read::not_regular;
use super::source::SourceImage;

pub use self::budget::{MemoryBudget, Permit};
pub use self::partial::{remove_partial_files, remove_stale_partials};
pub use self::read::{
    Decoded, ReadOptions, decode_bytes, decode_bytes_with, job_bytes, read_image, read_image_with,
};

pub use self::write::{
    JPEG_QUALITY, OUTPUT_EXTENSIONS, PngCompression, PngOptions, check_plane_format, encode_gray,
    encode_gray_with, encode_plane, encode_plane_with, holds_16bit, is_mask, output_format,
    write_atomic, write_gray_atomic, write_gray_atomic_with, write_plane_atomic,
    write_plane_atomic_with,
};

/// Limits on one image: a decompression bomb, a forged header or an image too large for
/// the machine fails with a clear reason before its pixels are decoded.
///
/// The defaults follow OpenCV's `imread` where it has a limit: at most 2³⁰ pixels
/// (`CV_IO_MAX_IMAGE_PIXELS`). The memory limit bounds the image's whole job (see
/// [`job_bytes`]), not only the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width or height accepted (default 65,535).
    pub max_dimension: u32,
    /// Largest width × height accepted (default 2³⁰, OpenCV's `CV_IO_MAX_IMAGE_PIXELS`).
    pub max_pixels: u64,
    /// Largest memory one image's whole job may hold, in bytes: decode buffer, any turned
    /// or 8-bit copy, gray plane and result (default 4 GiB).
    pub max_memory: u64,
    /// Most scans a progressive JPEG may have (default 100; real encoders write about 10).
    /// libjpeg re-reads the whole image for each scan, so a file with thousands of tiny
    /// scans would take minutes.
    pub max_scans: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_dimension: 65_535,
            max_pixels: 1 << 30,
            max_memory: 4 << 30,
            max_scans: 100,
        }
    }
}

impl DecodeLimits {
    /// The reason given when an image is over these limits; `what` says by how much.
    pub(crate) fn too_large(self, what: impl std::fmt::Display) -> String {
        format!(
            "image too large to open ({what}; limits: {} pixels per side, {} megapixels, \
             {} MiB)",
            self.max_dimension,
            self.max_pixels / 1_000_000,
            self.max_memory >> 20
        )
    }

    fn to_image_limits(self) -> Limits {
        let mut l = Limits::default();
        l.max_image_width = Some(self.max_dimension);
        l.max_image_height = Some(self.max_dimension);
        l.max_alloc = Some(self.max_memory);
        l
    }
}

/// Decodes any format: JPEG through libjpeg-turbo, the others by [`formats`]; each reads its
/// header, has the image admitted (limits, shared memory budget), then decodes its pixels.
fn decode<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
    admit: &mut Admit<'_, '_>,
) -> Result<(SourceImage, Vec<String>), String> {
    let Some(format) = reader.format() else {
        return Err(
            "not an image in a supported format (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM)".into(),
        );
    };
    if format == ImageFormat::Jpeg {
        return self::jpeg::decode_jpeg(reader.into_inner(), true, None, admit);
    }
    // A decoder that panics on a malformed file (a bug in a dependency) must not take the
    // program down: the panic is caught here, at the decode boundary, and becomes a reason.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        formats::decode_other(reader, format, admit)
    }))
    .unwrap_or_else(|payload| {
        let msg = crate::error::panic_message(payload.as_ref()).unwrap_or("no message");
        Err(corrupt(format_args!(
            "the {format:?} decoder failed: {}",
            formats::one_line(msg)
        )))
    })
    .map(|src| (src, Vec::new()))
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
    use crate::error::EngineError;
    use crate::source::Pixels;
    use image::GrayImage;
    use std::io::{Cursor, Write};

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
    fn pgm_results_are_binary_graymaps_as_opencv_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.pgm");
        let img = GrayImage::from_fn(5, 4, |x, y| image::Luma([(x * 40 + y) as u8]));
        write_gray_atomic(&img, &p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.starts_with(b"P5"), "{:?}", &bytes[..8]);
        assert!(bytes.ends_with(img.as_raw()));
        assert_eq!(
            read_image(&p, DecodeLimits::default()).unwrap().raw(),
            img.as_raw()
        );
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
            max_memory: 1000,
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
        // Room for the whole job of the larger file (its bytes, 9216 bytes of pixels, gray,
        // result, buffers) but not also for the coefficients (3 components × 48 blocks × 128
        // bytes = 18432).
        let job = job_bytes(64, 48, 3) + baseline.len().max(progressive.len()) as u64;
        let limits = DecodeLimits {
            max_memory: job + 1000,
            ..DecodeLimits::default()
        };
        let ok = decode_bytes("b.jpg", &baseline, limits).unwrap();
        assert_eq!((ok.width(), ok.height()), (64, 48));
        let e = decode_bytes("p.jpg", &progressive, limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
        let roomy = DecodeLimits {
            max_memory: job + 20_000,
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
        assert!(std::fs::metadata(&p).unwrap().len() > read::READ_WHOLE_MAX);
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
            ..DecodeLimits::default()
        };
        let e = decode_bytes("big.png", bytes.get_ref(), limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
    }
    /// The offset of a JPEG's start-of-frame marker segment.
    fn sof_at(jpeg: &[u8]) -> usize {
        (2..jpeg.len() - 1)
            .find(|&i| jpeg[i] == 0xFF && matches!(jpeg[i + 1], 0xC0..=0xC2))
            .unwrap()
    }

    #[test]
    fn a_truncated_jpeg_decodes_what_it_can_and_says_so() {
        let rgb: Vec<u8> = (0..64 * 48 * 3)
            .map(|i| (i % 192 + i / 192) as u8)
            .collect();
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults(); // baseline, as OpenCV writes
        c.set_size(64, 48);
        let mut s = c.start_compress(Vec::new()).unwrap();
        s.write_scanlines(&rgb).unwrap();
        let good = s.finish().unwrap();
        let opts = ReadOptions::default();
        let whole = decode_bytes_with("a.jpg", &good, &opts).unwrap();
        assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
        // Cut halfway through the entropy-coded data.
        let sos = good.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
        let half = sos + (good.len() - sos) / 2;
        let cut = decode_bytes_with("a.jpg", &good[..half], &opts).unwrap();
        // libjpeg's two warnings, as OpenCV prints them.
        assert_eq!(
            cut.warnings,
            [
                "premature end of JPEG file",
                "corrupt JPEG data: premature end of data segment"
            ]
        );
        // OpenCV's pixels: the decoded part as in the whole file, the rest grey.
        let w = 64 * 3;
        assert_eq!(cut.image.raw()[..w], whole.image.raw()[..w]);
        assert!(
            cut.image.raw()[cut.image.raw().len() - w..]
                .iter()
                .all(|&v| v == 128)
        );
    }

    #[test]
    fn a_jpeg_whose_header_claims_far_more_than_its_data_is_refused() {
        let mut forged = jpeg_with_orientation(64, 48, None);
        let at = sof_at(&forged);
        // 20000 × 20000: under every size limit, but 1.7 MB of data at the very least.
        forged[at + 5..at + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]);
        let e = decode_bytes("bomb.jpg", &forged, DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("truncated or forged JPEG: its header says 20000x20000 pixels"),
            "{e}"
        );
        // 37000 × 37000 is over OpenCV's pixel limit too; either reason refuses it.
        forged[at + 5..at + 9].copy_from_slice(&[0x90, 0x88, 0x90, 0x88]);
        let e = decode_bytes("bomb.jpg", &forged, DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("37000x37000"), "{e}");
    }

    #[test]
    fn the_pixel_limit_is_opencvs() {
        assert_eq!(DecodeLimits::default().max_pixels, 1 << 30);
        let png = {
            let mut c = Cursor::new(Vec::new());
            GrayImage::new(40, 30)
                .write_to(&mut c, ImageFormat::Png)
                .unwrap();
            c.into_inner()
        };
        let limits = DecodeLimits {
            max_pixels: 1199,
            ..DecodeLimits::default()
        };
        let e = decode_bytes("a.png", &png, limits).unwrap_err().to_string();
        assert!(e.contains("40x30 = 0.0 megapixels"), "{e}");
        let limits = DecodeLimits {
            max_pixels: 1200,
            ..limits
        };
        assert!(decode_bytes("a.png", &png, limits).is_ok());
    }

    #[test]
    fn a_progressive_jpeg_with_too_many_scans_is_refused() {
        let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(64, 48);
        c.set_progressive_mode();
        let mut s = c.start_compress(Vec::new()).unwrap();
        s.write_scanlines(&rgb).unwrap();
        let progressive = s.finish().unwrap();
        let scans = progressive
            .windows(2)
            .filter(|m| m == &[0xFF, 0xDA])
            .count() as u32;
        assert!(scans > 3, "{scans} scans");
        let at_limit = DecodeLimits {
            max_scans: scans,
            ..DecodeLimits::default()
        };
        assert!(decode_bytes("p.jpg", &progressive, at_limit).is_ok());
        let under = DecodeLimits {
            max_scans: scans - 1,
            ..at_limit
        };
        let e = decode_bytes("p.jpg", &progressive, under)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("more than {} scans", scans - 1)), "{e}");
    }

    #[test]
    fn a_cancelled_read_stops_inside_the_jpeg_decoder() {
        let ctl = crate::Control::new();
        ctl.cancel();
        let opts = ReadOptions {
            control: Some(&ctl),
            ..ReadOptions::default()
        };
        let jpeg = jpeg_with_orientation(64, 48, None);
        let e = decode_bytes_with("a.jpg", &jpeg, &opts).unwrap_err();
        assert!(matches!(e, EngineError::Cancelled), "{e}");
    }

    #[test]
    fn reads_share_one_memory_budget() {
        let jpeg = jpeg_with_orientation(64, 48, None);
        let budget = MemoryBudget::new(1 << 30);
        let opts = ReadOptions {
            budget: Some(&budget),
            ..ReadOptions::default()
        };
        let a = decode_bytes_with("a.jpg", &jpeg, &opts).unwrap();
        // mozjpeg writes progressive files by default: 72 blocks of coefficients (4:2:0).
        assert!(jpeg_buffers_whole_image(&jpeg));
        let coefficients = 72 * 128;
        assert_eq!(
            a.job_bytes,
            job_bytes(64, 48, 3) + jpeg.len() as u64 + coefficients
        );
        assert_eq!(budget.in_use(), a.job_bytes);
        let b = decode_bytes_with("b.jpg", &jpeg, &opts).unwrap();
        assert_eq!(budget.in_use(), 2 * a.job_bytes);
        drop((a, b));
        assert_eq!(budget.in_use(), 0);
    }
}
