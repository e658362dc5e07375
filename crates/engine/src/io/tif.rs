//! TIFF as OpenCV's `imread(IMREAD_COLOR)` reads it: OpenCV hands every 8-bit-output TIFF to
//! libtiff's RGBA reader (`TIFFReadRGBAStrip`/`Tile`), whose sample rules are reproduced here
//! on the samples the `tiff` crate decodes (see `source.rs` for the list). JPEG-compressed
//! strips and tiles go through libjpeg-turbo, as libtiff's JPEG codec does.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageBuffer, RgbImage};
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

use super::DecodeLimits;
use super::read::{Admit, Shape};
use crate::source::{Depth, SourceImage, float_to_u8, float_to_u16, tiff16_to_u8};

/// What an error in a TIFF file is called.
fn corrupt(detail: impl std::fmt::Display) -> String {
    format!(
        "corrupt TIFF: {}",
        super::formats::one_line(&detail.to_string())
    )
}

fn tiff_reason(e: tiff::TiffError, limits: DecodeLimits) -> String {
    match e {
        tiff::TiffError::LimitsExceeded => limits.too_large("TIFF decoder memory limit"),
        tiff::TiffError::UnsupportedError(u) => {
            format!(
                "unsupported TIFF: {}",
                super::formats::one_line(&u.to_string())
            )
        }
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "corrupt TIFF: truncated (file ends early)".into()
        }
        tiff::TiffError::FormatError(f) => corrupt(f),
        other => corrupt(other),
    }
}

/// Values of a tag, as unsigned numbers.
fn tag_vec(d: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Result<Option<Vec<u64>>, tiff::TiffError> {
    d.find_tag(tag)?.map(|v| v.into_u64_vec()).transpose()
}

/// Decodes a TIFF held in memory (the first image of the file).
pub(super) fn decode_tiff(bytes: &[u8], admit: &mut Admit<'_, '_>) -> Result<SourceImage, String> {
    // The `tiff` crate does not decode palette images: their indices are read as gray
    // samples (the photometric tag patched in a copy) and mapped here.
    if photometric_of(bytes) == Some(3) {
        let mut copy = bytes.to_vec();
        if set_photometric_min_is_black(&mut copy) {
            return decode_tiff_inner(&copy, admit, true);
        }
    }
    decode_tiff_inner(bytes, admit, false)
}

fn decode_tiff_inner(
    bytes: &[u8],
    admit: &mut Admit<'_, '_>,
    palette: bool,
) -> Result<SourceImage, String> {
    let limits = admit.limits();
    if let Some(msg) = oversized_tag(bytes) {
        return Err(corrupt(msg));
    }
    let reason = |e| tiff_reason(e, limits);
    let mut tl = Limits::default();
    tl.decoding_buffer_size = usize::try_from(limits.max_memory).unwrap_or(usize::MAX);
    tl.intermediate_buffer_size = tl.decoding_buffer_size;
    // No tag can hold more than the file does.
    tl.ifd_value_size = bytes.len();
    let mut d = Decoder::new(Cursor::new(bytes))
        .map_err(reason)?
        .with_limits(tl);
    let (w, h) = d.dimensions().map_err(reason)?;
    if w == 0 || h == 0 {
        return Err("image has no pixels".into());
    }
    if w.max(h) > limits.max_dimension {
        return Err(limits.too_large(format_args!("{w}x{h} pixels")));
    }
    check_chunk_tables(&mut d, bytes.len(), w, h)?;
    let color = d.colortype().map_err(reason)?;
    let samples = u64::from(color.num_samples());
    let bits = u64::from(color.bit_depth());
    let (w64, h64) = (u64::from(w), u64::from(h));
    let has_orientation = d
        .find_tag_unsigned::<u8>(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(image::metadata::Orientation::from_exif)
        .is_some_and(|o| o != image::metadata::Orientation::NoTransforms);
    // The decoded samples, then their 8-bit RGB (or gray) form.
    admit.admit(Shape {
        width: w64,
        height: h64,
        decoded: w64 * h64 * (samples * bits).div_ceil(8).max(1),
        scratch: w64 * h64 * 3,
        channels: 3,
        turned: has_orientation,
    })?;
    let photometric = d
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .map_err(reason)?
        .unwrap_or(1);
    let compression = d
        .find_tag_unsigned::<u16>(Tag::Compression)
        .map_err(reason)?
        .unwrap_or(1);
    let orientation = d
        .find_tag_unsigned::<u8>(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(image::metadata::Orientation::from_exif);
    let mut img = if compression == 7 {
        super::tif_jpeg::decode_jpeg_tiff(&mut d, bytes, w, h, photometric, color, limits)?
    } else {
        let planar = d
            .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
            .map_err(reason)?
            .unwrap_or(1);
        let mut data = DecodingResult::U8(Vec::new());
        let layout = d.read_image_to_buffer(&mut data).map_err(reason)?;
        if data.as_buffer(0).as_bytes().len() < layout.complete_len {
            return Err(limits.too_large("TIFF colour planes"));
        }
        if planar == 2 {
            data = interleave(data, w as usize * h as usize);
        }
        let color = if palette {
            ColorType::Palette(color.bit_depth())
        } else {
            color
        };
        if admit.depth() == Depth::Native
            && let Some(mut img) = native16(&data, w, h, color, photometric)
        {
            if let Some(o) = orientation {
                img.apply_orientation(o);
            }
            let mut s = SourceImage::from_dynamic_at(img, Depth::Native);
            s.color = format!("TIFF {} (native depth)", color_name(color));
            return Ok(s);
        }
        to_rgb_or_gray(&mut d, data, w, h, color, photometric).map_err(|e| match e {
            Conv::Tiff(t) => reason(t),
            Conv::Msg(m) => m,
        })?
    };
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img_source(img, color))
}

/// The strip or tile tables must list one entry per chunk and lie within the file; otherwise
/// the `tiff` crate would report a bogus count as a memory limit.
fn check_chunk_tables(
    d: &mut Decoder<Cursor<&[u8]>>,
    file_len: usize,
    w: u32,
    h: u32,
) -> Result<(), String> {
    let ifd = d.image_ifd();
    let tiled = ifd.find_entry(Tag::TileOffsets).is_some();
    let (offsets, counts) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    for tag in [offsets, counts] {
        let Some(e) = ifd.find_entry(tag) else {
            return Err(corrupt(format_args!("no {tag:?} tag")));
        };
        // At least 2 bytes a value (SHORT), and no table can be larger than the file.
        if e.count().saturating_mul(2) > file_len as u64 {
            return Err(corrupt(format_args!(
                "{tag:?} lists {} entries, more than the {file_len}-byte file can hold \
                 (a {w}x{h} image)",
                e.count()
            )));
        }
    }
    let n_off = ifd.find_entry(offsets).map_or(0, |e| e.count());
    let n_cnt = ifd.find_entry(counts).map_or(0, |e| e.count());
    if n_off != n_cnt {
        return Err(corrupt(format_args!(
            "{offsets:?} lists {n_off} entries but {counts:?} {n_cnt}"
        )));
    }
    let _ = h;
    Ok(())
}

enum Conv {
    Tiff(tiff::TiffError),
    Msg(String),
}

impl From<tiff::TiffError> for Conv {
    fn from(e: tiff::TiffError) -> Self {
        Conv::Tiff(e)
    }
}

/// 16-bit and floating-point samples kept at [`Depth::Native`]: 16-bit gray, gray + alpha
/// (alpha dropped), RGB and RGBA as stored (WhiteIsZero inverted), float samples through
/// [`float_to_u16`]. `None` for the other layouts, which are 8-bit at either depth.
fn native16(
    data: &DecodingResult,
    w: u32,
    h: u32,
    color: ColorType,
    photometric: u16,
) -> Option<DynamicImage> {
    let n = w as usize * h as usize;
    let gray = |v: Vec<u16>| ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma16);
    let rgb = |v: Vec<u16>| ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb16);
    let inv = if photometric == 0 { u16::MAX } else { 0 };
    match (color, data) {
        (ColorType::Gray(16), DecodingResult::U16(v)) if v.len() >= n => gray(v[..n].to_vec()),
        (ColorType::GrayA(16), DecodingResult::U16(v)) if v.len() >= 2 * n => {
            gray(v.chunks_exact(2).take(n).map(|p| p[0]).collect())
        }
        (
            ColorType::Multiband {
                bit_depth: 16,
                num_samples: 2,
            },
            DecodingResult::U16(v),
        ) if photometric <= 1 && v.len() >= 2 * n => {
            gray(v.chunks_exact(2).take(n).map(|p| p[0] ^ inv).collect())
        }
        (ColorType::Gray(_), DecodingResult::F32(v)) if v.len() >= n => {
            gray(v[..n].iter().map(|&s| float_to_u16(s)).collect())
        }
        (ColorType::Gray(_), DecodingResult::F64(v)) if v.len() >= n => {
            gray(v[..n].iter().map(|&s| float_to_u16(s as f32)).collect())
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) if v.len() >= 3 * n => {
            rgb(v[..3 * n].to_vec())
        }
        (ColorType::RGBA(16), DecodingResult::U16(v)) if v.len() >= 4 * n => rgb(v
            .chunks_exact(4)
            .take(n)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()),
        (ColorType::RGB(_), DecodingResult::F32(v)) if v.len() >= 3 * n => {
            rgb(v[..3 * n].iter().map(|&s| float_to_u16(s)).collect())
        }
        _ => None,
    }
}

/// Samples to 8-bit RGB or gray by libtiff's RGBA reader's rules.
fn to_rgb_or_gray(
    d: &mut Decoder<Cursor<&[u8]>>,
    data: DecodingResult,
    w: u32,
    h: u32,
    color: ColorType,
    photometric: u16,
) -> Result<DynamicImage, Conv> {
    let n = w as usize * h as usize;
    let unsupported = |what: &str| Conv::Msg(format!("unsupported TIFF: {what}"));
    let short = || Conv::Msg(corrupt("fewer samples than the image size"));
    let gray = |v: Vec<u8>| -> Result<DynamicImage, Conv> {
        GrayImage::from_raw(w, h, v)
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(short)
    };
    let rgb = |v: Vec<u8>| -> Result<DynamicImage, Conv> {
        RgbImage::from_raw(w, h, v)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(short)
    };
    // Unassociated alpha is premultiplied; associated or unspecified alpha left as is.
    let unassociated = tag_vec(d, Tag::ExtraSamples)?
        .and_then(|v| v.first().copied())
        .is_some_and(|s| s == 2);
    let premultiply = |c: u8, a: u8| ((u32::from(c) * u32::from(a) + 127) / 255) as u8;
    match (color, data) {
        (ColorType::Gray(8), DecodingResult::U8(v)) => gray(v),
        (ColorType::Gray(b @ (1 | 2 | 4)), DecodingResult::U8(v)) => gray(
            unpack(&v, w, h, b)
                .ok_or_else(short)?
                .iter()
                .map(|&s| scale_bits(s, b))
                .collect(),
        ),
        (ColorType::Gray(16), DecodingResult::U16(v)) => {
            gray(v.iter().map(|&s| (s >> 8) as u8).collect())
        }
        (ColorType::Gray(_), DecodingResult::F32(v)) => {
            gray(v.iter().map(|&s| float_to_u8(s)).collect())
        }
        (ColorType::Gray(_), DecodingResult::F64(v)) => {
            gray(v.iter().map(|&s| float_to_u8(s as f32)).collect())
        }
        (ColorType::GrayA(8), DecodingResult::U8(v)) => {
            gray(v.chunks_exact(2).map(|p| p[0]).collect())
        }
        (ColorType::GrayA(16), DecodingResult::U16(v)) => {
            gray(v.chunks_exact(2).map(|p| (p[0] >> 8) as u8).collect())
        }
        (
            ColorType::Multiband {
                bit_depth: 8,
                num_samples: 2,
            },
            DecodingResult::U8(v),
        ) if photometric <= 1 => {
            let inv = if photometric == 0 { 255 } else { 0 };
            gray(v.chunks_exact(2).map(|p| p[0] ^ inv).collect())
        }
        (
            ColorType::Multiband {
                bit_depth: 16,
                num_samples: 2,
            },
            DecodingResult::U16(v),
        ) if photometric <= 1 => {
            let inv = if photometric == 0 { 255 } else { 0 };
            gray(v.chunks_exact(2).map(|p| (p[0] >> 8) as u8 ^ inv).collect())
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) => rgb(v),
        (ColorType::RGB(16), DecodingResult::U16(v)) => {
            rgb(v.iter().map(|&s| tiff16_to_u8(s)).collect())
        }
        (ColorType::RGB(_), DecodingResult::F32(v)) => {
            rgb(v.iter().map(|&s| float_to_u8(s)).collect())
        }
        (ColorType::RGBA(8), DecodingResult::U8(v)) => rgb(v
            .chunks_exact(4)
            .flat_map(|p| {
                if unassociated {
                    [
                        premultiply(p[0], p[3]),
                        premultiply(p[1], p[3]),
                        premultiply(p[2], p[3]),
                    ]
                } else {
                    [p[0], p[1], p[2]]
                }
            })
            .collect()),
        (ColorType::RGBA(16), DecodingResult::U16(v)) => rgb(v
            .chunks_exact(4)
            .flat_map(|p| {
                let [r, g, b, a] = [p[0], p[1], p[2], p[3]].map(tiff16_to_u8);
                if unassociated {
                    [premultiply(r, a), premultiply(g, a), premultiply(b, a)]
                } else {
                    [r, g, b]
                }
            })
            .collect()),
        (ColorType::Palette(b @ (1 | 2 | 4 | 8)), DecodingResult::U8(v)) => {
            let map = tag_vec(d, Tag::ColorMap)?
                .ok_or_else(|| Conv::Msg(corrupt("palette image without a colour map")))?;
            let entries = 1usize << b;
            if map.len() < 3 * entries {
                return Err(Conv::Msg(corrupt("colour map too short")));
            }
            // libtiff: a map whose entries all fit in 8 bits is taken as 8-bit, else each
            // 16-bit entry keeps its high byte.
            let eight = map.iter().all(|&m| m < 256);
            let c = |m: u64| if eight { m as u8 } else { (m >> 8) as u8 };
            let idx = if b == 8 {
                v
            } else {
                unpack(&v, w, h, b).ok_or_else(short)?
            };
            if idx.len() < n {
                return Err(short());
            }
            rgb(idx[..n]
                .iter()
                .flat_map(|&i| {
                    let i = i as usize;
                    [c(map[i]), c(map[entries + i]), c(map[2 * entries + i])]
                })
                .collect())
        }
        (ColorType::CMYK(8), DecodingResult::U8(v)) if photometric == 5 => rgb(v
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u32::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((k * (255 - u32::from(c))) / 255) as u8)
            })
            .collect()),
        (
            ColorType::RGB(_) | ColorType::RGBA(_) | ColorType::Gray(_),
            DecodingResult::I8(_) | DecodingResult::I16(_) | DecodingResult::I32(_),
        ) => Err(unsupported("signed integer samples")),
        (c, _) => Err(unsupported(&format!("{} samples", color_name(c)))),
    }
}

/// Planes one after another to interleaved samples.
fn interleave(data: DecodingResult, plane: usize) -> DecodingResult {
    fn inter<T: Copy>(v: Vec<T>, plane: usize) -> Vec<T> {
        if plane == 0 || !v.len().is_multiple_of(plane) {
            return v;
        }
        let planes = v.len() / plane;
        (0..v.len())
            .map(|i| v[(i % planes) * plane + i / planes])
            .collect()
    }
    match data {
        DecodingResult::U8(v) => DecodingResult::U8(inter(v, plane)),
        DecodingResult::U16(v) => DecodingResult::U16(inter(v, plane)),
        DecodingResult::F32(v) => DecodingResult::F32(inter(v, plane)),
        DecodingResult::F64(v) => DecodingResult::F64(inter(v, plane)),
        other => other,
    }
}

/// (offset of the entry in the file, tag, type)
type IfdEntry = (usize, u16, u16);

/// The first IFD's entries: (offset of the entry, tag, type, count), and the byte order.
fn first_ifd_entries(bytes: &[u8]) -> Option<(bool, Vec<IfdEntry>)> {
    let le = match bytes.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let u16_at = |i: usize| {
        let b: [u8; 2] = bytes.get(i..i + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let b: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let ifd = if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    } as usize;
    let n = u16_at(ifd)? as usize;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let at = ifd + 2 + 12 * k;
        out.push((at, u16_at(at)?, u16_at(at + 2)?));
    }
    Some((le, out))
}

/// A tag of the first IFD that claims more values than the whole file holds (a bogus strip
/// count, say), which the `tiff` crate would report as a memory limit.
fn oversized_tag(bytes: &[u8]) -> Option<String> {
    let (le, entries) = first_ifd_entries(bytes)?;
    for (at, tag, ty) in entries {
        let b: [u8; 4] = bytes.get(at + 4..at + 8)?.try_into().ok()?;
        let count = u64::from(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        });
        let size: u64 = match ty {
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 | 16..=18 => 8,
            _ => 1,
        };
        if count * size > bytes.len() as u64 {
            let name =
                Tag::from_u16(tag).map_or_else(|| format!("tag {tag}"), |t| format!("{t:?}"));
            return Some(format!(
                "{name} lists {count} values, more than the {}-byte file holds",
                bytes.len()
            ));
        }
    }
    None
}

/// The photometric interpretation of a classic TIFF's first image.
fn photometric_of(bytes: &[u8]) -> Option<u16> {
    let (le, entries) = first_ifd_entries(bytes)?;
    let &(at, _, ty) = entries.iter().find(|e| e.1 == 262)?;
    let b: [u8; 2] = bytes.get(at + 8..at + 10)?.try_into().ok()?;
    (ty == 3).then(|| {
        if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    })
}

fn set_photometric_min_is_black(bytes: &mut [u8]) -> bool {
    let Some((le, entries)) = first_ifd_entries(bytes) else {
        return false;
    };
    let Some(&(at, _, 3)) = entries.iter().find(|e| e.1 == 262) else {
        return false;
    };
    let v = if le {
        1u16.to_le_bytes()
    } else {
        1u16.to_be_bytes()
    };
    bytes[at + 8..at + 10].copy_from_slice(&v);
    true
}

/// Sub-byte samples (rows padded to whole bytes) to one byte each.
fn unpack(packed: &[u8], w: u32, h: u32, bits: u8) -> Option<Vec<u8>> {
    let (w, h, bits) = (w as usize, h as usize, bits as usize);
    let row_bytes = (w * bits).div_ceil(8);
    if packed.len() < row_bytes * h {
        return None;
    }
    let mask = (1u8 << bits) - 1;
    let mut out = Vec::with_capacity(w * h);
    for row in packed.chunks_exact(row_bytes).take(h) {
        for x in 0..w {
            let bit = x * bits;
            out.push((row[bit / 8] >> (8 - bits - bit % 8)) & mask);
        }
    }
    Some(out)
}

/// libtiff's gray map for 1, 2 and 4-bit samples: `v * 255 / (2^bits - 1)`.
fn scale_bits(v: u8, bits: u8) -> u8 {
    (u32::from(v) * 255 / ((1u32 << bits) - 1)) as u8
}

/// A TIFF sample layout in words ("RGB 16-bit", "2 samples of 8 bits").
pub(super) fn color_name(c: ColorType) -> String {
    match c {
        ColorType::Gray(b) => format!("gray {b}-bit"),
        ColorType::GrayA(b) => format!("gray+alpha {b}-bit"),
        ColorType::RGB(b) => format!("RGB {b}-bit"),
        ColorType::RGBA(b) => format!("RGBA {b}-bit"),
        ColorType::Palette(b) => format!("palette {b}-bit"),
        ColorType::CMYK(b) => format!("CMYK {b}-bit"),
        ColorType::CMYKA(b) => format!("CMYK+alpha {b}-bit"),
        ColorType::YCbCr(b) => format!("YCbCr {b}-bit"),
        ColorType::Multiband {
            bit_depth,
            num_samples,
        } => format!("{num_samples} samples of {bit_depth} bits"),
        _ => "an unknown layout".into(),
    }
}

fn img_source(img: DynamicImage, color: ColorType) -> SourceImage {
    let mut s = SourceImage::from_dynamic(img);
    s.color = format!("TIFF {}", color_name(color));
    s
}
