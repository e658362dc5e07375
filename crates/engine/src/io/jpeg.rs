//! JPEG through libjpeg-turbo (as vendored by `mozjpeg-sys`), the codec behind OpenCV's
//! `imread` and `imwrite`: decoded pixels and encoded files are bit-identical with OpenCV's.

use std::cell::RefCell;
use std::io::Write;
use std::os::raw::c_int;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageError};
use mozjpeg_sys as ffi;

#[cfg(doc)]
use super::DecodeLimits;
use super::read::{Admit, Shape};
use super::{JPEG_QUALITY, corrupt};
use crate::control::Control;
use crate::error::panic_message;
use crate::source::SourceImage;

/// JPEG through libjpeg-turbo's decoder (as vendored by `mozjpeg-sys`; its decoder is
/// libjpeg-turbo's), the library behind OpenCV's `imread`, with the same settings (accurate
/// integer IDCT, fancy upsampling): decoded pixels are bit-identical with OpenCV's, and with
/// its SIMD it decodes small files faster than the pure-Rust decoders.
///
/// * Lenient as libjpeg is for OpenCV: a file that ends early decodes with its missing part
///   grey, and libjpeg's warnings ("premature end of JPEG file", "corrupt JPEG data: ...")
///   are returned with the pixels, as OpenCV prints them.
/// * Refused before any pixel is decoded: over the limits or the memory budget (see
///   [`Admit`]); a file far too short for the size its header claims (`data_len`: every
///   Huffman-coded block takes at least one bit, so `blocks / 8` bytes is a floor); more
///   than [`DecodeLimits::max_scans`] scans.
/// * Cancelled between scans and between rows when the admit's control is cancelled.
/// * The EXIF orientation is applied as `imread` does; a CMYK JPEG is turned to RGB with
///   OpenCV's formula. libjpeg reports fatal errors by unwinding, caught here.
///
/// `whole_image`: whether libjpeg will hold every DCT coefficient of the image at once (a
/// progressive or multi-scan file), counted against the memory limit.
pub(super) fn decode_jpeg<R: std::io::BufRead>(
    input: R,
    whole_image: bool,
    data_len: Option<u64>,
    admit: &mut Admit<'_, '_>,
) -> Result<(SourceImage, Vec<String>), String> {
    let watch = Watch {
        scans: 0,
        max_scans: admit.limits().max_scans,
        warnings: Vec::new(),
        cancel: admit.control().map(Control::cancel_flag),
    };
    let previous = WATCH.with(|w| w.replace(Some(watch)));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_jpeg_unwinding(input, whole_image, data_len, admit)
    }))
    .unwrap_or_else(|payload| Err(libjpeg_reason(payload.as_ref())));
    let watch = WATCH.with(|w| w.replace(previous));
    let warnings = watch.map(|w| w.warnings).unwrap_or_default();
    result.map(|src| (src, warnings))
}

/// What the decoder on this thread is watching for: libjpeg calls back into
/// [`emit_message`] with no way to pass it data of ours, and a decode runs on one thread.
struct Watch {
    scans: u32,
    max_scans: u32,
    warnings: Vec<String>,
    cancel: Option<Arc<AtomicBool>>,
}

thread_local! {
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

/// Why a decode was stopped on purpose (as the payload of libjpeg's unwinding).
const CANCELLED: &str = "cancelled";

/// libjpeg's message hook: keeps warnings (level -1), counts scans (the "start of scan"
/// trace message) and stops the decode when cancelled or over the scan limit.
extern "C-unwind" fn emit_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    // SAFETY: libjpeg passes its live struct, whose `err` points at our error manager.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    let stop = WATCH.with(|w| {
        let mut w = w.borrow_mut();
        let w = w.as_mut()?;
        if w.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Some(CANCELLED.to_string());
        }
        if level < 0 {
            // Each distinct warning once: a damaged file can repeat one thousands of times.
            let msg = format_message(cinfo);
            if !w.warnings.contains(&msg) && w.warnings.len() < 16 {
                w.warnings.push(msg);
            }
        } else if code == ffi::JTRC_SOS as c_int {
            w.scans += 1;
            if w.scans > w.max_scans {
                return Some(corrupt(format_args!(
                    "more than {} scans: refused, decoding it would take very long",
                    w.max_scans
                )));
            }
        }
        None
    });
    if let Some(reason) = stop {
        std::panic::resume_unwind(Box::new(reason));
    }
}

/// libjpeg's fatal error hook: unwinds with the message (caught in [`decode_jpeg`]).
extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpeg_common_struct) {
    let msg = format_message(cinfo);
    std::panic::resume_unwind(Box::new(corrupt(msg)));
}

/// The text of libjpeg's current message, lower-cased at the start as our reasons are.
fn format_message(cinfo: &mut ffi::jpeg_common_struct) -> String {
    // SAFETY: libjpeg's `format_message` writes at most 80 bytes (JMSG_LENGTH_MAX) into the
    // buffer; the bindings declare the buffer `&[u8; 80]` where C takes a `char *`.
    let Some(fmt) = (unsafe { cinfo.err.as_ref() }).and_then(|e| e.format_message) else {
        return "unknown error".into();
    };
    let mut buffer = [0u8; 80];
    unsafe {
        let f: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, &mut [u8; 80]) =
            std::mem::transmute(fmt);
        f(cinfo, &mut buffer);
    }
    let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
    let text = String::from_utf8_lossy(text);
    let mut chars = text.chars();
    match chars.next() {
        // "Premature end..." -> "premature end...", but not "JPEG ..." or "DHT ...".
        Some(c) if chars.clone().next().is_some_and(char::is_lowercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => text.into_owned(),
    }
}

/// An error manager that unwinds on fatal errors and reports messages to [`emit_message`].
fn error_manager() -> ffi::jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills a zeroed struct with libjpeg's defaults.
    let mut err: ffi::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { ffi::jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(emit_message);
    err
}

/// Rows decoded between two looks at the cancel flag.
const ROWS_PER_CHECK: usize = 64;

fn decode_jpeg_unwinding<R: std::io::BufRead>(
    input: R,
    whole_image: bool,
    data_len: Option<u64>,
    admit: &mut Admit<'_, '_>,
) -> Result<SourceImage, String> {
    use mozjpeg::{ColorSpace, Decompress, Marker};

    let d = Decompress::with_markers(&[Marker::APP(1)])
        .with_err(error_manager())
        .from_reader(input)
        .map_err(corrupt)?;
    let (w, h) = d.size();
    let blocks: u64 = d
        .components()
        .iter()
        .map(|c| u64::from(c.width_in_blocks) * u64::from(c.height_in_blocks))
        .sum();
    if let Some(len) = data_len
        && len < blocks / 8
        && w > 0
        && h > 0
    {
        return Err(format!(
            "truncated or forged JPEG: its header says {w}x{h} pixels, which takes at least \
             {} bytes, but the file has {len} (refused rather than invent the rest)",
            blocks / 8
        ));
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
    let (w64, h64) = (w as u64, h as u64);
    admit.admit(Shape {
        width: w64,
        height: h64,
        decoded: w64 * h64 * channels,
        // A progressive file's coefficients (64 × 2 bytes per block of each component),
        // which libjpeg allocates when decoding starts.
        scratch: if whole_image { blocks * 128 } else { 0 },
        channels: channels.min(3),
        turned: orientation != Orientation::NoTransforms,
    })?;
    let mut started = d.to_colorspace(out).map_err(corrupt)?;
    let line = w * channels as usize;
    let mut pixels: Vec<u8> = Vec::new();
    pixels
        .try_reserve_exact(line * h)
        .map_err(|_| "out of memory".to_string())?;
    // Decoded straight into the reserved memory: zeroing it first cost a pass over the
    // image (2 % of a photo batch's profile) that the decoder then overwrites.
    for rows in pixels.spare_capacity_mut()[..line * h].chunks_mut(line * ROWS_PER_CHECK) {
        if admit.control().is_some_and(Control::is_cancelled) {
            return Err(CANCELLED.into());
        }
        started.read_scanlines_into_uninit(rows).map_err(corrupt)?;
    }
    // SAFETY: the loop above went through all `line * h` reserved bytes, and each
    // `read_scanlines_into_uninit` call either wrote every byte of its rows (it returns an
    // error unless libjpeg produced each scan line, whole) or returned early from this
    // function before the length is set.
    unsafe { pixels.set_len(line * h) };
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
pub(super) fn jpeg_buffers_whole_image(bytes: &[u8]) -> bool {
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
    let msg = panic_message(payload).unwrap_or("unknown error");
    match msg.strip_prefix("libjpeg fatal error: ") {
        Some(m) => corrupt(m),
        // Our own hooks' reasons are complete already.
        None => msg.to_string(),
    }
}

/// Baseline JPEG, quality [`JPEG_QUALITY`], by libjpeg-turbo's encoder with libjpeg-turbo's
/// own defaults (`mozjpeg`'s "fastest" profile: no trellis, no progressive), which are what
/// OpenCV's `imwrite` uses: the same gray image gives the same file, byte for byte. With its
/// SIMD it encodes about twice as fast as the pure-Rust `jpeg-encoder`; on a folder of small
/// images, encoding was a third of the batch's time.
pub(super) fn write_jpeg<W: Write>(img: &GrayImage, w: &mut W) -> Result<(), ImageError> {
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
