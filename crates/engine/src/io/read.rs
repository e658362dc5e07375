//! Reading an input: only regular files, opened without ever blocking; decoded within the
//! limits and the shared memory budget; cancellable; with the decoder's warnings kept.

use std::fs::{File, Metadata};
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader};

use super::budget::{MemoryBudget, Permit, mib_up};
use super::jpeg::{decode_jpeg, jpeg_buffers_whole_image};
use super::{DecodeLimits, decode, io_reason};
use crate::control::Control;
use crate::error::EngineError;
use crate::source::{Depth, SourceImage};

/// How an image is read: its limits, the control that can cancel it, and the memory budget
/// it shares with the other images in flight.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    /// Caps on this one image.
    pub limits: DecodeLimits,
    /// Cancels the decode (JPEG: between scans and between rows).
    pub control: Option<&'a Control>,
    /// Shared by the images in flight; the image waits for room before its pixels are
    /// decoded.
    pub budget: Option<&'a MemoryBudget>,
    /// 16-bit kept ([`Depth::Native`]) or everything 8-bit as OpenCV's `imread(IMREAD_COLOR)`
    /// ([`Depth::Eight`], the default here and in the one-call readers).
    pub depth: Depth,
}

/// The default limits, 8-bit depth (OpenCV's `imread(IMREAD_COLOR)`), no cancel, no budget.
impl Default for ReadOptions<'_> {
    fn default() -> Self {
        ReadOptions::new(DecodeLimits::default())
    }
}

impl<'a> ReadOptions<'a> {
    /// Options with these limits, 8-bit depth, no cancel and no shared budget.
    pub fn new(limits: DecodeLimits) -> Self {
        ReadOptions {
            limits,
            control: None,
            budget: None,
            depth: Depth::Eight,
        }
    }

    /// These options at `depth`.
    pub fn at(self, depth: Depth) -> Self {
        ReadOptions { depth, ..self }
    }
}

/// A decoded image, with what its decoder warned about and the memory it holds.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The pixels.
    pub image: SourceImage,
    /// What the decoder warned about while still producing pixels, one line each
    /// (`"premature end of JPEG file"`: the missing part is grey, as in OpenCV).
    pub warnings: Vec<String>,
    /// The memory the image's whole job was estimated to need ([`job_bytes`]).
    pub job_bytes: u64,
    /// The memory held from [`ReadOptions::budget`], if one was given: keep it until the
    /// result is written.
    pub permit: Option<Permit<'a>>,
    /// The input file's metadata, taken from the open file (`None` for bytes in memory).
    pub file: Option<Metadata>,
}

/// Reads and decodes an image file within `limits`. The format is recognised from the
/// content, not the name. Decoder warnings (a truncated JPEG) are dropped: use
/// [`read_image_with`] to see them.
pub fn read_image(path: &Path, limits: DecodeLimits) -> Result<SourceImage, EngineError> {
    read_image_with(path, &ReadOptions::new(limits)).map(|d| d.image)
}

/// Decodes an image held in memory (the embedded sample, a drop from another program).
/// Decoder warnings are dropped: use [`decode_bytes_with`] to see them.
pub fn decode_bytes(
    name: &str,
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<SourceImage, EngineError> {
    decode_bytes_with(name, bytes, &ReadOptions::new(limits)).map(|d| d.image)
}

/// Files up to this size are read into memory in one call and decoded from there (the JPEG
/// decoder reads its whole input into memory anyway); larger ones are streamed, so a huge
/// non-image file is never loaded whole.
pub(super) const READ_WHOLE_MAX: u64 = 64 << 20;

/// Reads and decodes an image file. Only a regular file (after following links) is read: a
/// FIFO, a device or a socket is refused, and opening never blocks.
pub fn read_image_with<'a>(
    path: &Path,
    opts: &ReadOptions<'a>,
) -> Result<Decoded<'a>, EngineError> {
    let input_err = |reason: String| input_error(path.to_path_buf(), reason, opts);
    let (mut file, meta) = open_regular(path).map_err(input_err)?;
    if meta.len() <= READ_WHOLE_MAX {
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        // Through `take`, so std does not stat and seek the file again for a size hint.
        (&mut file)
            .take(meta.len() + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| input_err(io_reason(&e)))?;
        let mut admit = Admit::new(opts);
        return decode_slice(&bytes, &mut admit)
            .map(|(image, warnings)| admit.finish(image, warnings, Some(meta)))
            .map_err(input_err);
    }
    let mut admit = Admit::new(opts);
    let reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| input_err(io_reason(&e)))?;
    let decoded = if reader.format() == Some(ImageFormat::Jpeg) {
        // Streamed: libjpeg reads as it decodes. The headers are not looked at beforehand,
        // so the memory check assumes the worst (a progressive file).
        decode_jpeg(reader.into_inner(), true, Some(meta.len()), &mut admit)
    } else {
        decode(reader, &mut admit)
    };
    decoded
        .map(|(image, warnings)| admit.finish(image, warnings, Some(meta)))
        .map_err(input_err)
}

/// Decodes an image held in memory, as [`read_image_with`] does a file.
pub fn decode_bytes_with<'a>(
    name: &str,
    bytes: &[u8],
    opts: &ReadOptions<'a>,
) -> Result<Decoded<'a>, EngineError> {
    let mut admit = Admit::new(opts);
    decode_slice(bytes, &mut admit)
        .map(|(image, warnings)| admit.finish(image, warnings, None))
        .map_err(|reason| input_error(PathBuf::from(name), reason, opts))
}

fn input_error(path: PathBuf, reason: String, opts: &ReadOptions<'_>) -> EngineError {
    if opts.control.is_some_and(Control::is_cancelled) {
        EngineError::Cancelled
    } else {
        EngineError::Input { path, reason }
    }
}

/// Opens `path` for reading if it is a regular file. The open is non-blocking, so a FIFO
/// with no writer (or a device) cannot hang it, and the type is checked on the open file
/// itself, so nothing can be swapped in between the check and the read.
pub(crate) fn open_regular(path: &Path) -> Result<(File, Metadata), String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() == 0 {
        return Err("empty file".into());
    }
    Ok((file, meta))
}

/// Why a file that is not a regular file is not read.
pub(crate) fn not_regular(meta: &Metadata) -> String {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "is a folder, not an image file".into();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let what = if ft.is_fifo() {
            "a named pipe (FIFO)"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "a special file"
        };
        format!("is {what}, not a regular file; only regular files are read")
    }
    #[cfg(not(unix))]
    {
        "not a regular file; only regular files are read".into()
    }
}

/// Decodes an image held in memory; JPEG straight from the slice (no copy).
pub(super) fn decode_slice(
    bytes: &[u8],
    admit: &mut Admit<'_, '_>,
) -> Result<(SourceImage, Vec<String>), String> {
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    // The bytes stay in memory while they are decoded: they count against the job.
    admit.file_bytes = bytes.len() as u64;
    if image::guess_format(bytes).ok() == Some(ImageFormat::Jpeg) {
        return decode_jpeg(
            bytes,
            jpeg_buffers_whole_image(bytes),
            Some(bytes.len() as u64),
            admit,
        );
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| io_reason(&e))?;
    decode(reader, admit)
}

/// What a decoder knows once it has read the header: enough to tell what the whole job
/// will hold in memory, before any pixel is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) width: u64,
    pub(crate) height: u64,
    /// Bytes of the decoder's output buffer.
    pub(crate) decoded: u64,
    /// Bytes the decoder holds besides its output (a progressive JPEG's coefficients).
    pub(crate) scratch: u64,
    /// 8-bit channels after normalisation (1, 3 or 4).
    pub(crate) channels: u64,
    /// Whether an EXIF orientation makes a turned copy.
    pub(crate) turned: bool,
}

/// The encoder's buffer and the smaller allocations of a job, counted once per image.
const JOB_OVERHEAD: u64 = 2 << 20;

/// The memory one image's whole job holds at most: the file's bytes when read whole, the
/// decoder's output and scratch, an EXIF-turned copy, the 8-bit copy of a deeper image, the
/// gray plane and the result (plus [`JOB_OVERHEAD`]).
pub(crate) fn shape_bytes(s: Shape, file_bytes: u64) -> u64 {
    let plane = s.width.saturating_mul(s.height);
    let normalised = plane.saturating_mul(s.channels);
    let mut total = file_bytes
        .saturating_add(s.decoded)
        .saturating_add(s.scratch);
    if s.turned {
        total = total.saturating_add(s.decoded);
    }
    if s.decoded != normalised {
        total = total.saturating_add(normalised);
    }
    total
        .saturating_add(plane.saturating_mul(2))
        .saturating_add(JOB_OVERHEAD)
}

/// The memory the job of a `width`×`height` image with `channels` 8-bit channels holds at
/// most, as [`ReadOptions`]' limits count it: the decoded pixels, the gray plane, the result
/// and about 2 MiB of buffers (a deeper, turned or progressive image needs more).
///
/// ```
/// // A 24-megapixel RGB photo: 3 + 1 + 1 bytes per pixel.
/// let b = tessera_engine::io::job_bytes(6000, 4000, 3);
/// assert_eq!(b, 6000 * 4000 * 5 + (2 << 20));
/// ```
pub fn job_bytes(width: u32, height: u32, channels: u32) -> u64 {
    let (w, h, c) = (u64::from(width), u64::from(height), u64::from(channels));
    shape_bytes(
        Shape {
            width: w,
            height: h,
            decoded: w * h * c,
            scratch: 0,
            channels: c,
            turned: false,
        },
        0,
    )
}

/// Admits an image once its header is read: checks the limits and takes its memory from the
/// shared budget, waiting for room.
pub(crate) struct Admit<'o, 'a> {
    pub(crate) opts: &'o ReadOptions<'a>,
    /// The file's bytes held in memory while it is decoded (0 when streamed).
    file_bytes: u64,
    job: u64,
    permit: Option<Permit<'a>>,
}

impl<'o, 'a> Admit<'o, 'a> {
    pub(crate) fn new(opts: &'o ReadOptions<'a>) -> Self {
        Admit {
            opts,
            file_bytes: 0,
            job: 0,
            permit: None,
        }
    }

    pub(crate) fn limits(&self) -> DecodeLimits {
        self.opts.limits
    }

    pub(crate) fn depth(&self) -> Depth {
        self.opts.depth
    }

    pub(crate) fn control(&self) -> Option<&'a Control> {
        self.opts.control
    }

    /// Checks the image's size against the limits, then waits for its memory.
    pub(crate) fn admit(&mut self, s: Shape) -> Result<(), String> {
        let l = self.opts.limits;
        let (w, h) = (s.width, s.height);
        if w == 0 || h == 0 {
            return Err("image has no pixels".into());
        }
        if w.max(h) > u64::from(l.max_dimension) || w.saturating_mul(h) > l.max_pixels {
            return Err(l.too_large(format_args!(
                "{w}x{h} = {:.1} megapixels",
                (w * h) as f64 / 1e6
            )));
        }
        let bytes = shape_bytes(s, self.file_bytes);
        if bytes > l.max_memory {
            return Err(l.too_large(format_args!("{w}x{h} needs {} MiB", mib_up(bytes))));
        }
        self.job = bytes;
        if let Some(budget) = self.opts.budget {
            self.permit = Some(budget.acquire(bytes, self.opts.control)?);
        }
        Ok(())
    }

    fn finish(
        self,
        image: SourceImage,
        warnings: Vec<String>,
        file: Option<Metadata>,
    ) -> Decoded<'a> {
        Decoded {
            image,
            warnings,
            job_bytes: self.job,
            permit: self.permit,
            file,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.png");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let link = dir.path().join("link.png");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for p in [&fifo, &link] {
            // Without a writer a blocking open would never return: this test would hang.
            let e = read_image(p, DecodeLimits::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains("named pipe (FIFO), not a regular file"), "{e}");
        }
        let e = read_image(Path::new("/dev/null"), DecodeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a device"), "{e}");
    }

    #[test]
    fn the_job_estimate_counts_every_buffer() {
        let s = Shape {
            width: 100,
            height: 10,
            decoded: 100 * 10 * 6, // 16-bit RGB
            scratch: 50,
            channels: 3,
            turned: true,
        };
        assert_eq!(
            shape_bytes(s, 7),
            7 + 6000 + 50 + 6000 + 3000 + 2000 + JOB_OVERHEAD
        );
    }
}
