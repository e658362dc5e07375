//! JPEG-compressed TIFF (compression 7) through libjpeg-turbo, as libtiff's JPEG codec decodes
//! it for OpenCV: each strip or tile is a JPEG stream, abbreviated when the file has shared
//! `JPEGTables` (then the tables are put in front of it). As libtiff does for the RGBA reader:
//! YCbCr data is converted to RGB by libjpeg (accurate integer IDCT, fancy upsampling, the
//! defaults OpenCV's JPEG reader uses too); RGB and gray data are taken without conversion.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress};
use tiff::ColorType;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::DecodeLimits;
use crate::error::panic_message;

fn corrupt(detail: impl std::fmt::Display) -> String {
    format!(
        "corrupt TIFF: {}",
        super::formats::one_line(&detail.to_string())
    )
}

pub(super) fn decode_jpeg_tiff(
    d: &mut Decoder<Cursor<&[u8]>>,
    bytes: &[u8],
    w: u32,
    h: u32,
    photometric: u16,
    color: ColorType,
    limits: DecodeLimits,
) -> Result<DynamicImage, String> {
    let reason = |e: tiff::TiffError| corrupt(e);
    let channels: usize = match (photometric, color) {
        (0 | 1, ColorType::Gray(8)) => 1,
        (2 | 6, ColorType::RGB(8) | ColorType::YCbCr(8)) => 3,
        _ => {
            return Err(format!(
                "unsupported TIFF: JPEG compression with photometric {photometric} ({})",
                super::tif::color_name(color)
            ));
        }
    };
    let planar = d
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(reason)?
        .unwrap_or(1);
    if planar != 1 && channels > 1 {
        return Err("unsupported TIFF: JPEG compression with separate colour planes".into());
    }
    let tiled = d.image_ifd().find_entry(Tag::TileOffsets).is_some();
    let (cw, ch, offsets, counts) = if tiled {
        let tw = d.get_tag_u32(Tag::TileWidth).map_err(reason)?;
        let th = d.get_tag_u32(Tag::TileLength).map_err(reason)?;
        (
            tw,
            th,
            d.get_tag_u64_vec(Tag::TileOffsets).map_err(reason)?,
            d.get_tag_u64_vec(Tag::TileByteCounts).map_err(reason)?,
        )
    } else {
        let rps = d
            .find_tag_unsigned::<u32>(Tag::RowsPerStrip)
            .map_err(reason)?
            .unwrap_or(u32::MAX)
            .min(h);
        (
            w,
            rps,
            d.get_tag_u64_vec(Tag::StripOffsets).map_err(reason)?,
            d.get_tag_u64_vec(Tag::StripByteCounts).map_err(reason)?,
        )
    };
    if cw == 0 || ch == 0 {
        return Err(corrupt("tile or strip size 0"));
    }
    let across = w.div_ceil(cw) as usize;
    let down = h.div_ceil(ch) as usize;
    if offsets.len() < across * down || counts.len() < across * down {
        return Err(corrupt(format_args!(
            "{} JPEG chunks listed, {} needed",
            offsets.len().min(counts.len()),
            across * down
        )));
    }
    let tables = d
        .find_tag(Tag::JPEGTables)
        .map_err(reason)?
        .map(|v| v.into_u8_vec())
        .transpose()
        .map_err(reason)?;
    let mut out = vec![0u8; w as usize * h as usize * channels];
    let row_len = w as usize * channels;
    for cy in 0..down {
        for cx in 0..across {
            let i = cy * across + cx;
            let (off, len) = (offsets[i], counts[i]);
            let end = off.checked_add(len).filter(|&e| e <= bytes.len() as u64);
            let Some(end) = end else {
                return Err(corrupt(format_args!(
                    "JPEG chunk {i} runs past the end of the file"
                )));
            };
            let chunk = &bytes[off as usize..end as usize];
            let stream = splice(tables.as_deref(), chunk);
            let (jw, jh, px) = decode_chunk(&stream, photometric, channels, limits)?;
            let x0 = cx * cw as usize;
            let y0 = cy * ch as usize;
            let cols = (cw as usize).min(w as usize - x0);
            let rows = (ch as usize).min(h as usize - y0);
            if jw < cols || jh < rows {
                return Err(corrupt(format_args!(
                    "JPEG chunk {i} is {jw}x{jh}, smaller than its {cols}x{rows} place"
                )));
            }
            for r in 0..rows {
                let src = &px[r * jw * channels..][..cols * channels];
                out[(y0 + r) * row_len + x0 * channels..][..cols * channels].copy_from_slice(src);
            }
        }
    }
    Ok(if channels == 1 {
        DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, out).expect("gray buffer size"))
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, out).expect("RGB buffer size"))
    })
}

/// The shared tables (SOI, tables, EOI) put in front of an abbreviated stream (SOI, ...).
fn splice(tables: Option<&[u8]>, chunk: &[u8]) -> Vec<u8> {
    match tables {
        Some(t)
            if t.len() >= 4 && t.ends_with(&[0xFF, 0xD9]) && chunk.starts_with(&[0xFF, 0xD8]) =>
        {
            let mut s = Vec::with_capacity(t.len() + chunk.len());
            s.extend_from_slice(&t[..t.len() - 2]);
            s.extend_from_slice(&chunk[2..]);
            s
        }
        _ => chunk.to_vec(),
    }
}

/// One strip or tile: (width, height, interleaved 8-bit samples). libjpeg's fatal errors
/// unwind and are caught here.
fn decode_chunk(
    stream: &[u8],
    photometric: u16,
    channels: usize,
    limits: DecodeLimits,
) -> Result<(usize, usize, Vec<u8>), String> {
    std::panic::catch_unwind(|| {
        let dec = Decompress::new_mem(stream).map_err(corrupt)?;
        let (jw, jh) = dec.size();
        let comps = dec.components().len();
        if comps != channels {
            return Err(corrupt(format_args!(
                "JPEG data with {comps} components in a {channels}-channel image"
            )));
        }
        if (jw * jh * channels) as u64 > limits.max_memory {
            return Err(limits.too_large(format_args!("a {jw}x{jh} JPEG strip")));
        }
        let space = dec.color_space();
        let out = match (photometric, space) {
            // libtiff: YCbCr converted to RGB by libjpeg.
            (6, ColorSpace::JCS_YCbCr) => ColorSpace::JCS_RGB,
            (6, _) => {
                return Err("unsupported TIFF: YCbCr photometric with non-YCbCr JPEG data".into());
            }
            // RGB and gray: no colour conversion.
            _ => space,
        };
        let mut started = dec.to_colorspace(out).map_err(corrupt)?;
        let px: Vec<u8> = started.read_scanlines().map_err(corrupt)?;
        drop(started);
        if px.len() < jw * jh * channels {
            return Err(corrupt("JPEG strip shorter than its header says"));
        }
        Ok((jw, jh, px))
    })
    .unwrap_or_else(|p| {
        let msg = panic_message(p.as_ref()).unwrap_or("libjpeg error");
        Err(corrupt(
            msg.strip_prefix("libjpeg fatal error: ").unwrap_or(msg),
        ))
    })
}
