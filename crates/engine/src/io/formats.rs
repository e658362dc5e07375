//! Every format but JPEG, decoded as OpenCV's `imread(IMREAD_COLOR)` decodes it: TIFF by
//! libtiff's RGBA rules (`tif.rs`), PNM (P2, P3, P5, P6) and 16-bit BMP by OpenCV's own
//! readers' rules (here), and the rest (PNG, WebP, GIF, other BMP and PNM) by the `image`
//! crate, whose pixels already match OpenCV's for them (`tests/decode_golden.rs`).

use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};

use image::metadata::Orientation;
use image::{
    DynamicImage, GrayImage, ImageBuffer, ImageDecoder, ImageFormat, ImageReader, RgbImage,
};

use super::read::{Admit, Shape};
use super::{DecodeLimits, decode_reason, io_reason};
use crate::source::{Depth, SourceImage};

/// Decodes a file the `image` crate recognised as `format` (not JPEG).
pub(super) fn decode_other<R: BufRead + Seek>(
    reader: ImageReader<R>,
    format: ImageFormat,
    admit: &mut Admit<'_, '_>,
) -> Result<SourceImage, String> {
    match format {
        ImageFormat::Tiff | ImageFormat::Pnm | ImageFormat::Bmp => {
            let bytes = read_all(reader.into_inner(), admit.limits())?;
            let special = match format {
                ImageFormat::Tiff => Some(super::tif::decode_tiff(&bytes, admit)),
                ImageFormat::Pnm => decode_pnm(&bytes, admit),
                _ => decode_bmp16(&bytes, admit),
            };
            match special {
                Some(r) => r,
                None => {
                    decode_with_image(ImageReader::with_format(Cursor::new(&bytes), format), admit)
                }
            }
        }
        _ => decode_with_image(reader, admit),
    }
}

/// Admits an image whose decoder writes `decoded` bytes and whose 8-bit form has
/// `channels` channels (no scratch, no EXIF turn).
fn admit_plain(
    admit: &mut Admit<'_, '_>,
    w: u64,
    h: u64,
    decoded: u64,
    channels: u64,
) -> Result<(), String> {
    admit.admit(Shape {
        width: w,
        height: h,
        decoded,
        scratch: 0,
        channels,
        turned: false,
    })
}

/// The whole input, from its start; over the memory limit is "too large".
fn read_all<R: Read + Seek>(mut r: R, limits: DecodeLimits) -> Result<Vec<u8>, String> {
    r.seek(SeekFrom::Start(0)).map_err(|e| io_reason(&e))?;
    let mut bytes = Vec::new();
    r.take(limits.max_memory.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > limits.max_memory {
        return Err(limits.too_large("file larger than the memory limit"));
    }
    Ok(bytes)
}

/// Through the `image` crate, within the limits, the EXIF orientation applied.
fn decode_with_image<R: BufRead + Seek>(
    mut reader: ImageReader<R>,
    admit: &mut Admit<'_, '_>,
) -> Result<SourceImage, String> {
    let limits = admit.limits();
    reader.limits(limits.to_image_limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_reason(&e, limits))?;
    // As OpenCV's imread does by default: the pixels are turned as the file's EXIF says.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (w, h) = decoder.dimensions();
    let channels = match decoder.color_type().channel_count() {
        1 | 2 => 1,
        4 => 4,
        _ => 3,
    };
    admit.admit(Shape {
        width: u64::from(w),
        height: u64::from(h),
        decoded: decoder.total_bytes(),
        scratch: 0,
        channels,
        turned: orientation != Orientation::NoTransforms,
    })?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_reason(&e, limits))?;
    img.apply_orientation(orientation);
    if img.width() == 0 || img.height() == 0 {
        return Err("image has no pixels".into());
    }
    Ok(SourceImage::from_dynamic_at(img, admit.depth()))
}

/// A decoder's message as one readable line: no line breaks, no Rust debug dumps (the `png`
/// crate prints chunk types as `ChunkType { type: ..., critical: ... }`), at most 200
/// characters.
pub(crate) fn one_line(msg: &str) -> String {
    let mut s = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    while let Some(at) = s.find("ChunkType {") {
        let rest = &s[at..];
        // The dump ends with " }"; the type's own escapes (`\u{4}`) hold braces too.
        let Some(close) = rest.find(" }").map(|c| c + 1) else {
            break;
        };
        let name = rest[..close]
            .split_once("type: ")
            .map(|(_, v)| v.split(", critical").next().unwrap_or(v).trim())
            .unwrap_or("?");
        let name = readable_chunk_name(name);
        s = format!("{}chunk {name}{}", &s[..at], &rest[close + 1..]);
    }
    if s.chars().count() > 200 {
        s = s.chars().take(197).collect::<String>() + "...";
    }
    s
}

/// A chunk type as Rust's debug escapes print it (`IHDR`, `\u{4}\u{5}...`): a name of four
/// letters in quotes, anything else as hex bytes.
fn readable_chunk_name(escaped: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = escaped;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("\\u{") {
            let end = r.find('}').unwrap_or(r.len());
            bytes.push(u32::from_str_radix(&r[..end], 16).unwrap_or(63) as u8);
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let c = rest.chars().next().unwrap_or('?');
            bytes.push(if c.is_ascii() { c as u8 } else { b'?' });
            rest = &rest[c.len_utf8()..];
        }
    }
    if bytes.len() == 4 && bytes.iter().all(u8::is_ascii_alphabetic) {
        format!("\"{}\"", String::from_utf8_lossy(&bytes))
    } else {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
        format!("of type {}", hex.join(" "))
    }
}

fn corrupt(format: &str, detail: impl std::fmt::Display) -> String {
    format!("corrupt {format}: {detail}")
}

/// PNM P2, P3, P5 and P6 by OpenCV's rules (`grfmt_pxm.cpp`), which differ from the usual
/// scaling by maxval:
/// * binary (P5, P6), maxval < 256: the samples as stored, whatever maxval says;
/// * binary, maxval >= 256: 16-bit big-endian samples, the high byte kept (`v >> 8`);
/// * ASCII (P2, P3), maxval < 256: `min(v, maxval) * 255 / maxval` (rounded down);
/// * ASCII, maxval >= 256: `min(v, maxval) >> 8`.
///
/// `None` for the other PNM kinds (P1, P4, P7), left to the `image` crate.
fn decode_pnm(bytes: &[u8], admit: &mut Admit<'_, '_>) -> Option<Result<SourceImage, String>> {
    let kind = match bytes.get(..2)? {
        b"P2" => (1, false),
        b"P3" => (3, false),
        b"P5" => (1, true),
        b"P6" => (3, true),
        _ => return None,
    };
    Some(pnm(bytes, kind, admit))
}

/// Reads a decimal number as OpenCV does: whitespace and `#` comments before it skipped, and
/// the one character after it consumed.
fn pnm_number(bytes: &[u8], at: &mut usize) -> Option<u64> {
    loop {
        match bytes.get(*at)? {
            b'#' => {
                while *bytes.get(*at)? != b'\n' && bytes[*at] != b'\r' {
                    *at += 1;
                }
            }
            c if c.is_ascii_whitespace() => *at += 1,
            _ => break,
        }
    }
    let start = *at;
    let mut v: u64 = 0;
    while let Some(&c) = bytes.get(*at).filter(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        *at += 1;
    }
    if *at == start {
        return None;
    }
    *at += 1; // the separator after the number
    Some(v)
}

fn pnm(
    bytes: &[u8],
    (channels, binary): (usize, bool),
    admit: &mut Admit<'_, '_>,
) -> Result<SourceImage, String> {
    let limits = admit.limits();
    let mut at = 2;
    let bad = |what: &str| corrupt("PNM", what);
    let w = pnm_number(bytes, &mut at).ok_or_else(|| bad("no width"))?;
    let h = pnm_number(bytes, &mut at).ok_or_else(|| bad("no height"))?;
    let maxval = pnm_number(bytes, &mut at).ok_or_else(|| bad("no maxval"))?;
    if w == 0 || h == 0 {
        return Err("image has no pixels".into());
    }
    if !(1..65536).contains(&maxval) {
        return Err(bad(&format!("maxval {maxval} (must be 1 to 65535)")));
    }
    if w.max(h) > u64::from(limits.max_dimension) {
        return Err(limits.too_large(format_args!("{w}x{h} pixels")));
    }
    admit_plain(admit, w, h, w * h * channels as u64, channels as u64)?;
    let n = (w * h) as usize * channels;
    let wide = maxval > 255;
    if wide && admit.depth() == Depth::Native {
        return pnm16(
            bytes,
            at,
            (w as u32, h as u32),
            n,
            (channels, binary),
            maxval,
        );
    }
    let samples: Vec<u8> = if binary {
        let data = bytes.get(at.min(bytes.len())..).unwrap_or(&[]);
        let need = if wide { 2 * n } else { n };
        if data.len() < need {
            return Err("corrupt PNM: truncated (file ends early)".into());
        }
        if wide {
            data[..need].chunks_exact(2).map(|p| p[0]).collect()
        } else {
            data[..n].to_vec()
        }
    } else {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let v = pnm_number(bytes, &mut at)
                .ok_or_else(|| bad("fewer samples than the image size"))?
                .min(maxval);
            out.push(if wide {
                (v >> 8) as u8
            } else {
                (v * 255 / maxval) as u8
            });
        }
        out
    };
    let (w, h) = (w as u32, h as u32);
    let img = if channels == 1 {
        DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, samples).expect("gray buffer size"))
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, samples).expect("RGB buffer size"))
    };
    let mut s = SourceImage::from_dynamic(img);
    s.color = format!(
        "PNM {} maxval {maxval} (OpenCV's rules)",
        if channels == 1 { "gray" } else { "RGB" }
    );
    Ok(s)
}

/// A PNM with a maxval over 255 at [`Depth::Native`]: its 16-bit samples as stored (ASCII
/// ones clipped to maxval), as OpenCV's `imread(IMREAD_ANYDEPTH)` reads them.
fn pnm16(
    bytes: &[u8],
    mut at: usize,
    (w, h): (u32, u32),
    n: usize,
    (channels, binary): (usize, bool),
    maxval: u64,
) -> Result<SourceImage, String> {
    let samples: Vec<u16> = if binary {
        let data = bytes.get(at.min(bytes.len())..).unwrap_or(&[]);
        if data.len() < 2 * n {
            return Err("corrupt PNM: truncated (file ends early)".into());
        }
        data[..2 * n]
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect()
    } else {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let v = pnm_number(bytes, &mut at)
                .ok_or_else(|| corrupt("PNM", "fewer samples than the image size"))?;
            out.push(v.min(maxval) as u16);
        }
        out
    };
    let img = if channels == 1 {
        DynamicImage::ImageLuma16(ImageBuffer::from_raw(w, h, samples).expect("gray buffer size"))
    } else {
        DynamicImage::ImageRgb16(ImageBuffer::from_raw(w, h, samples).expect("RGB buffer size"))
    };
    let mut s = SourceImage::from_dynamic_at(img, Depth::Native);
    s.color = format!(
        "PNM {} 16-bit maxval {maxval}",
        if channels == 1 { "gray" } else { "RGB" }
    );
    Ok(s)
}

/// 16-bit BMP by OpenCV's rules (`grfmt_bmp.cpp`): BI_RGB is 5-5-5, BI_BITFIELDS must be
/// 5-5-5 or 5-6-5, and each channel is its bits shifted up with zeros below (`v << 3`, no bit
/// replication: 5-bit white is 248). `None` for any other BMP (left to the `image` crate).
fn decode_bmp16(bytes: &[u8], admit: &mut Admit<'_, '_>) -> Option<Result<SourceImage, String>> {
    let limits = admit.limits();
    let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let u16_at = |i: usize| Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?));
    if u32_at(14)? != 40 || u16_at(28)? != 16 {
        return None;
    }
    let five_six_five = match u32_at(30)? {
        0 => false,
        3 => match (u32_at(54)?, u32_at(58)?, u32_at(62)?) {
            (0x7C00, 0x3E0, 0x1F) => false,
            (0xF800, 0x7E0, 0x1F) => true,
            _ => return None,
        },
        _ => return None,
    };
    let offset = u32_at(10)? as usize;
    let w = u32_at(18)? as i32;
    let h = u32_at(22)? as i32;
    Some((|| {
        if w <= 0 || h == 0 {
            return Err(corrupt("BMP", format_args!("size {w}x{h}")));
        }
        let (w, top_down, h) = (w as u32, h < 0, h.unsigned_abs());
        if w.max(h) > limits.max_dimension {
            return Err(limits.too_large(format_args!("{w}x{h} pixels")));
        }
        let need = u64::from(w) * u64::from(h) * 3;
        admit_plain(admit, u64::from(w), u64::from(h), need, 3)?;
        let pitch = (w as usize * 2 + 3) & !3;
        let data = bytes.get(offset..).unwrap_or(&[]);
        if (data.len() as u64) < pitch as u64 * u64::from(h) {
            return Err("corrupt BMP: truncated (file ends early)".into());
        }
        let mut rgb = Vec::with_capacity(need as usize);
        for y in 0..h as usize {
            let row = if top_down { y } else { h as usize - 1 - y };
            for p in data[row * pitch..][..w as usize * 2].chunks_exact(2) {
                let v = u16::from_le_bytes([p[0], p[1]]);
                let b = ((v << 3) & 0xF8) as u8;
                let (g, r) = if five_six_five {
                    (((v >> 3) & 0xFC) as u8, ((v >> 8) & 0xF8) as u8)
                } else {
                    (((v >> 2) & 0xF8) as u8, ((v >> 7) & 0xF8) as u8)
                };
                rgb.extend_from_slice(&[r, g, b]);
            }
        }
        let mut s = SourceImage::from_dynamic(DynamicImage::ImageRgb8(
            RgbImage::from_raw(w, h, rgb).expect("RGB buffer size"),
        ));
        s.color = format!(
            "BMP 16-bit {}",
            if five_six_five { "5-6-5" } else { "5-5-5" }
        );
        Ok(s)
    })())
}
