//! Streaming by bands: a PNG read, processed and written a band of rows at a time, as
//! libvips streams an image, so the peak memory is a few bands instead of whole planes.
//!
//! ```text
//! PNG rows ──► band of rows (+ halo above and below) ──► job on the pool ──► band's result rows ──► PNG rows
//! ```
//!
//! For an op with a bounded halo (gray, fixed threshold, adaptive, the local methods but
//! Wolf–Jolion and Fiji's Phansalkar, which also use whole-image terms: every op whose
//! [`Op::halo`] covers what it reads), output row `y` depends only on input rows
//! `y − halo ..= y + halo` (clamped at the image's edges, which a band touching an edge
//! reproduces). So a band of output rows `[y0, y1)` is computed from a small image holding
//! input rows `[y0 − halo, y1 + halo)` as a whole image, keeping only its own rows; the result
//! is bit-identical to the whole-image pass (tested for every streamable op and odd band
//! sizes). Global ops (Otsu and the other histogram methods) need the whole image's histogram
//! first and are not streamed.
//!
//! What streams: non-interlaced 8-bit gray, RGB or RGBA PNGs (alpha ignored, as everywhere)
//! without a `tRNS` chunk, into a gray 8-bit PNG. Anything else (palette, 16-bit, interlaced,
//! other formats, 1-bit masks, whose header needs the whole result) is left to the
//! whole-image path; [`why_not`] says why.
//!
//! Memory: one band of input rows (`band + 2·halo` rows), the band's gray plane and
//! result, and the PNG codecs' buffers. [`band_rows`] picks bands of about 8 MiB of input.

use std::io::{BufRead, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage, RgbaImage};

use crate::control::Control;
use crate::error::EngineError;
use crate::io::{DecodeLimits, PngOptions};
use crate::job;
use crate::ops::{Op, ThresholdType};
use crate::pool::WorkerPool;
use crate::source::{Pixels, Plane, SourceImage};
use crate::tile::TileSize;

/// What a streamed run did.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStats {
    /// The image's width.
    pub width: usize,
    /// The image's height.
    pub height: usize,
    /// What the file held ("RGB 8-bit"), as the whole-image decoder says it.
    pub color: String,
    /// Output rows per band (the last may be shorter).
    pub band_rows: usize,
    /// How many bands.
    pub bands: usize,
    /// Tiles run, over all bands.
    pub tiles: usize,
    /// Reading and decoding rows.
    pub decode: Duration,
    /// The jobs on the bands.
    pub compute: Duration,
    /// Encoding and writing result rows.
    pub encode: Duration,
}

/// Output rows per band for an image `width` pixels wide with `channels` samples per pixel:
/// about 8 MiB of input rows, at least 16 rows and at least 4 × the halo.
pub fn band_rows(width: usize, channels: usize, halo: usize) -> usize {
    let row = (width * channels).max(1);
    ((8 << 20) / row).max(16).max(4 * halo)
}

/// Whether `op` can stream at all: a bounded halo and nothing global (Wolf–Jolion's
/// threshold uses the whole image's minimum and largest local deviation, Fiji's Phansalkar
/// the whole image's contrast stretch).
fn op_streams(op: &Op) -> bool {
    use crate::ops::local::{FijiLocal, Local};
    match op {
        Op::Gray | Op::Threshold { .. } | Op::Adaptive { .. } => true,
        Op::Local { method, .. } => {
            !method.needs_stats()
                && !matches!(
                    method,
                    Local::Fiji {
                        method: FijiLocal::Phansalkar,
                        ..
                    }
                )
        }
        _ => false,
    }
}

/// Whether every pixel `op` writes is 0 or 255 (a binary threshold whose `maxval` becomes
/// 255 as the kernels round it): such results are written with the run-length deflate of
/// masks, as whole images are when checked.
fn writes_a_mask(op: &Op) -> bool {
    match *op {
        Op::Threshold {
            kind: ThresholdType::Binary | ThresholdType::BinaryInv,
            max_value,
            ..
        }
        | Op::Adaptive { max_value, .. }
        | Op::Local {
            kind: ThresholdType::Binary | ThresholdType::BinaryInv,
            max_value,
            ..
        } => crate::ops::saturate_round_u8(max_value) == 255,
        _ => false,
    }
}

/// Why this PNG (its header) with `op` and `png` output options is not streamed, or `None`
/// when it is.
pub fn why_not(op: &Op, info: &png::Info<'_>, png: PngOptions) -> Option<String> {
    use png::{BitDepth, ColorType};
    if !op_streams(op) {
        return Some(format!(
            "{} needs statistics of the whole image first",
            op.kind().name()
        ));
    }
    if png.bilevel {
        return Some("a 1-bit PNG's writer needs the whole result first".into());
    }
    if info.interlaced {
        return Some("the PNG is interlaced".into());
    }
    if info.bit_depth != BitDepth::Eight {
        return Some(format!("the PNG has {}-bit samples", info.bit_depth as u8));
    }
    if !matches!(
        info.color_type,
        ColorType::Grayscale | ColorType::Rgb | ColorType::Rgba
    ) {
        return Some(format!("the PNG's colour type is {:?}", info.color_type));
    }
    if info.trns.is_some() {
        return Some("the PNG has a tRNS chunk".into());
    }
    None
}

fn channels(c: png::ColorType) -> usize {
    match c {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        _ => 1,
    }
}

fn color_name(c: png::ColorType) -> &'static str {
    match c {
        png::ColorType::Rgb => "RGB 8-bit",
        png::ColorType::Rgba => "RGBA 8-bit (alpha ignored)",
        _ => "gray 8-bit",
    }
}

/// The PNG in `input` (named `name` in errors) processed with `op` band by band into a gray
/// 8-bit PNG written to `output`, on `pool`. Returns `Ok(None)`, having written nothing,
/// when the image does not stream ([`why_not`]); `band` overrides [`band_rows`].
#[allow(clippy::too_many_arguments)]
pub fn run_png<R: BufRead + Seek + Send, W: Write + Send>(
    input: R,
    name: &Path,
    output: W,
    op: &Op,
    pool: &WorkerPool,
    tile: TileSize,
    png: PngOptions,
    limits: DecodeLimits,
    band: Option<usize>,
    ctl: &Control,
) -> Result<Result<StreamStats, String>, EngineError> {
    let bad = |reason: String| EngineError::Input {
        path: name.to_path_buf(),
        reason,
    };
    let t_start = Instant::now();
    let mut decoder = png::Decoder::new(input);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder
        .read_info()
        .map_err(|e| bad(format!("corrupt or truncated image ({e})")))?;
    let info = reader.info();
    if let Some(why) = why_not(op, info, png) {
        return Ok(Err(why));
    }
    let (w, h) = (info.width as usize, info.height as usize);
    let color_type = info.color_type;
    if info.width > limits.max_dimension || info.height > limits.max_dimension {
        return Err(bad(format!(
            "{w}x{h} is larger than the limit of {} pixels per side",
            limits.max_dimension
        )));
    }
    if (w as u64) * (h as u64) > limits.max_pixels {
        return Err(bad(format!(
            "{w}x{h} has more pixels than the limit of {}",
            limits.max_pixels
        )));
    }
    let ch = channels(color_type);
    let halo = op.halo();
    let rows_per_band = band.unwrap_or_else(|| band_rows(w, ch, halo)).max(1);
    let decode0 = t_start.elapsed();
    let enc_err = |e: png::EncodingError| EngineError::Output {
        path: name.to_path_buf(),
        reason: e.to_string(),
    };
    let rle = png.compression.rle_masks() && writes_a_mask(op);
    let te = Instant::now();
    let mut writer =
        crate::io::write::png_gray_header(output, (w as u32, h as u32), png.compression)
            .map_err(enc_err)?;
    let header = te.elapsed();

    // Three stages overlap: a reader thread decodes the next band while the pool computes
    // this one and a writer thread encodes the previous one (one band waits between stages).
    let (band_tx, band_rx) =
        std::sync::mpsc::sync_channel::<Result<(usize, usize, Vec<u8>), EngineError>>(1);
    let (row_tx, row_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize, usize)>(1);
    let stride = w * ch;
    let bands_total = h.div_ceil(rows_per_band);
    std::thread::scope(
        |scope| -> Result<Result<StreamStats, String>, EngineError> {
            let reader_thread = std::thread::Builder::new()
                .name("tessera-decode".into())
                .spawn_scoped(scope, move || -> Duration {
                    // Input rows [buf_start, buf_start + buf.len() / stride) are held.
                    let mut buf: Vec<u8> = Vec::new();
                    let (mut buf_start, mut read) = (0usize, 0usize);
                    let mut spent = Duration::ZERO;
                    for k in 0..bands_total {
                        let y0 = k * rows_per_band;
                        let y1 = (y0 + rows_per_band).min(h);
                        let (lo, hi) = (y0.saturating_sub(halo), (y1 + halo).min(h));
                        if lo > buf_start {
                            buf.drain(..(lo - buf_start) * stride);
                            buf_start = lo;
                        }
                        let t = Instant::now();
                        while read < hi {
                            match reader.next_row() {
                                Ok(Some(row)) => buf.extend_from_slice(row.data()),
                                Ok(None) => {
                                    let _ = band_tx.send(Err(bad(
                                        "corrupt or truncated image (rows missing)".into(),
                                    )));
                                    return spent;
                                }
                                Err(e) => {
                                    let _ = band_tx.send(Err(bad(format!(
                                        "corrupt or truncated image ({e})"
                                    ))));
                                    return spent;
                                }
                            }
                            read += 1;
                        }
                        let band = buf[..(hi - lo) * stride].to_vec();
                        spent += t.elapsed();
                        if band_tx.send(Ok((y0, lo, band))).is_err() {
                            break; // the computing stage stopped
                        }
                    }
                    spent
                })
                .map_err(|source| EngineError::Thread {
                    what: "the decoding thread".into(),
                    source,
                })?;
            let writer_thread = std::thread::Builder::new()
                .name("tessera-encode".into())
                .spawn_scoped(scope, move || -> Result<Duration, EngineError> {
                    let t = Instant::now();
                    if rle {
                        // A mask: unfiltered rows, run-length deflate (as whole images are
                        // written), IDAT chunks of about 1 MiB as blocks complete.
                        let mut idat = crate::io::write::MaskIdat::new(&mut writer, w);
                        for (rows, from, len) in row_rx {
                            idat.write_rows(&rows[from..from + len]).map_err(enc_err)?;
                        }
                        idat.finish().map_err(enc_err)?;
                    } else {
                        let mut stream =
                            writer.stream_writer_with_size(1 << 16).map_err(enc_err)?;
                        for (rows, from, len) in row_rx {
                            stream.write_all(&rows[from..from + len]).map_err(|e| {
                                EngineError::Output {
                                    path: name.to_path_buf(),
                                    reason: crate::io::io_reason(&e),
                                }
                            })?;
                        }
                        stream.finish().map_err(enc_err)?;
                    }
                    writer.finish().map_err(enc_err)?;
                    Ok(t.elapsed())
                })
                .map_err(|source| EngineError::Thread {
                    what: "the encoding thread".into(),
                    source,
                })?;

            let mut compute = Duration::ZERO;
            let (mut bands, mut tiles) = (0usize, 0usize);
            let mut failure = None;
            for msg in band_rx.iter() {
                let (y0, lo, data) = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                if ctl.is_cancelled() {
                    failure = Some(EngineError::Cancelled);
                    break;
                }
                let y1 = (y0 + rows_per_band).min(h);
                let rows = (data.len() / stride) as u32;
                let bw = w as u32;
                let pixels = match color_type {
                    png::ColorType::Rgb => {
                        Pixels::Rgb(RgbImage::from_raw(bw, rows, data).expect("band"))
                    }
                    png::ColorType::Rgba => {
                        Pixels::Rgba(RgbaImage::from_raw(bw, rows, data).expect("band"))
                    }
                    _ => Pixels::Gray(GrayImage::from_raw(bw, rows, data).expect("band")),
                };
                let src = SourceImage {
                    pixels,
                    color: color_name(color_type).into(),
                };
                let tc = Instant::now();
                let out = match job::run_on(pool, &src, op, tile, ctl) {
                    Ok(o) => o,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                compute += tc.elapsed();
                tiles += out.stats.tiles;
                let Plane::Gray8(result) = out.image else {
                    failure = Some(EngineError::Internal(
                        "a streamed band gave a 16-bit result".into(),
                    ));
                    break;
                };
                bands += 1;
                if row_tx
                    .send((result.into_raw(), (y0 - lo) * w, (y1 - y0) * w))
                    .is_err()
                {
                    break; // the writer failed: its error is below
                }
            }
            drop(band_rx);
            drop(row_tx);
            let decode = decode0 + reader_thread.join().unwrap_or_default();
            let written = writer_thread.join().unwrap_or_else(|_| {
                Err(EngineError::Internal("the encoding thread panicked".into()))
            });
            if let Some(e) = failure {
                return Err(e);
            }
            let encode = header + written?;
            if bands != bands_total {
                return Err(EngineError::Internal(format!(
                    "streamed {bands} of {bands_total} bands"
                )));
            }
            Ok(Ok(StreamStats {
                width: w,
                height: h,
                color: color_name(color_type).into(),
                band_rows: rows_per_band,
                bands,
                tiles,
                decode,
                compute,
                encode,
            }))
        },
    )
}

/// [`run_png`] from the file `input` into the file `output`, atomically (a temporary file
/// beside it, renamed when complete; nothing is left on failure).
#[allow(clippy::too_many_arguments)]
pub fn run_png_file(
    input: &Path,
    output: &Path,
    op: &Op,
    pool: &WorkerPool,
    tile: TileSize,
    png: PngOptions,
    limits: DecodeLimits,
    band: Option<usize>,
    ctl: &Control,
) -> Result<Result<StreamStats, String>, EngineError> {
    let file = std::fs::File::open(input).map_err(|e| EngineError::Input {
        path: input.to_path_buf(),
        reason: crate::io::io_reason(&e),
    })?;
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let write_err = |e: std::io::Error| EngineError::Output {
        path: output.to_path_buf(),
        reason: crate::io::io_reason(&e),
    };
    let mut part = crate::io::partial::create_in(dir).map_err(write_err)?;
    let stats = {
        let out = std::io::BufWriter::with_capacity(1 << 16, &mut part);
        run_png(
            std::io::BufReader::with_capacity(1 << 16, file),
            input,
            out,
            op,
            pool,
            tile,
            png,
            limits,
            band,
            ctl,
        )?
    };
    if stats.is_ok() {
        part.persist(output).map_err(write_err)?;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::PngCompression;
    use crate::ops::OpSettings;

    fn png_bytes(img: &image::DynamicImage) -> Vec<u8> {
        let mut v = std::io::Cursor::new(Vec::new());
        img.write_to(&mut v, image::ImageFormat::Png).unwrap();
        v.into_inner()
    }

    fn decode_gray(bytes: &[u8]) -> GrayImage {
        image::load_from_memory(bytes).unwrap().to_luma8()
    }

    /// A binary threshold streams with the run-length deflate of masks: its file is within a
    /// few percent of the whole-image writer's (runs break at band edges) and smaller than
    /// zlib level 1's (`--compression 1`, which keeps zlib) on a page of text; fdeflate's
    /// fixed codes (what streamed masks used before) are 1.3 times larger here.
    #[test]
    fn streamed_masks_are_run_length_coded() {
        let bytes = include_bytes!("../tests/data/golden/page/input.png").to_vec();
        let img = image::load_from_memory(&bytes).unwrap();
        let op = OpSettings {
            op: crate::ops::OpKind::Threshold,
            ..OpSettings::default()
        }
        .to_op()
        .unwrap();
        assert!(writes_a_mask(&op));
        // maxval rounds as the kernels round it (half to even): 254.5 gives 254, 255.4 255.
        let with_max = |max_value| {
            OpSettings {
                op: crate::ops::OpKind::Threshold,
                max_value,
                ..OpSettings::default()
            }
            .to_op()
            .unwrap()
        };
        assert!(!writes_a_mask(&with_max(254.5)));
        assert!(writes_a_mask(&with_max(255.4)));
        // The local methods' binary results are masks too; OpenCV's niBlack with TRUNC is not.
        let local = |name: &str, kind| {
            OpSettings {
                op: name.parse().unwrap(),
                kind,
                ..OpSettings::default()
            }
            .to_op()
            .unwrap()
        };
        assert!(writes_a_mask(&local("sauvola", ThresholdType::Binary)));
        assert!(writes_a_mask(&local(
            "phansalkar",
            ThresholdType::BinaryInv
        )));
        assert!(!writes_a_mask(&local("niblack", ThresholdType::Trunc)));
        let pool = WorkerPool::build(2).unwrap();
        let stream = |compression| {
            let mut out = Vec::new();
            let png = PngOptions {
                compression,
                bilevel: false,
            };
            run_png(
                std::io::Cursor::new(&bytes),
                Path::new("t.png"),
                &mut out,
                &op,
                &pool,
                TileSize::Auto,
                png,
                DecodeLimits::default(),
                Some(64),
                &Control::new(),
            )
            .unwrap()
            .unwrap();
            out
        };
        let streamed = stream(PngCompression::Fast);
        let whole = job::run_on(
            &pool,
            &SourceImage::from_dynamic(img),
            &op,
            TileSize::Auto,
            &Control::new(),
        )
        .unwrap();
        let Plane::Gray8(whole) = whole.image else {
            panic!()
        };
        assert!(decode_gray(&streamed) == whole);
        let mut at_once = std::io::Cursor::new(Vec::new());
        crate::io::encode_gray(&whole, image::ImageFormat::Png, &mut at_once).unwrap();
        let at_once = at_once.into_inner();
        let level1 = stream(PngCompression::Level(1));
        assert!(decode_gray(&level1) == whole);
        // The default codes masks the same way.
        assert_eq!(stream(PngCompression::Auto), streamed);
        assert!(
            streamed.len() * 100 <= at_once.len() * 105 && streamed.len() < level1.len(),
            "streamed {}, whole {}, zlib 1 {}",
            streamed.len(),
            at_once.len(),
            level1.len()
        );
    }

    /// Every streamable op, on gray, RGB and RGBA PNGs, in bands of odd sizes (smaller than
    /// the halo, one row, the whole image): the same pixels as the whole-image job.
    #[test]
    fn bands_give_the_whole_image_pixels() {
        let (w, h) = (37u32, 53u32);
        let px = |x: u32, y: u32, k: u32| ((x * 7 + y * 13 + k * 29 + (x * y) % 17) % 256) as u8;
        let rgb = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([px(x, y, 0), px(x, y, 1), px(x, y, 2)])
        });
        let images = [
            image::DynamicImage::ImageRgb8(rgb.clone()),
            image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(rgb.clone()).to_luma8()),
            image::DynamicImage::ImageRgba8(image::DynamicImage::ImageRgb8(rgb).to_rgba8()),
        ];
        let pool = WorkerPool::build(2).unwrap();
        let ctl = Control::new();
        let mut ops: Vec<Op> = Vec::new();
        for k in crate::ops::OpKind::ALL {
            for like in crate::ops::Anchor::ALL {
                let s = OpSettings {
                    op: k,
                    like: Some(like),
                    block_size: 7,
                    ..OpSettings::default()
                };
                if let Ok(op) = s.to_op()
                    && op_streams(&op)
                    && !ops.contains(&op)
                {
                    ops.push(op);
                }
            }
        }
        assert!(ops.len() >= 10, "{}", ops.len());
        for img in &images {
            let bytes = png_bytes(img);
            let src = SourceImage::from_dynamic(img.clone());
            for op in &ops {
                let whole = job::run_on(&pool, &src, op, TileSize::Auto, &ctl).unwrap();
                let Plane::Gray8(whole) = whole.image else {
                    panic!()
                };

                for band in [1, 2, 5, 16, 100] {
                    let mut out = Vec::new();
                    let stats = run_png(
                        std::io::Cursor::new(&bytes),
                        Path::new("t.png"),
                        &mut out,
                        op,
                        &pool,
                        TileSize::Square(8),
                        PngOptions::default(),
                        DecodeLimits::default(),
                        Some(band),
                        &ctl,
                    )
                    .unwrap()
                    .unwrap();
                    assert_eq!(stats.bands, (h as usize).div_ceil(band));
                    assert!(
                        decode_gray(&out) == whole,
                        "{} on {:?}, bands of {band}",
                        op.describe(),
                        img.color()
                    );
                }
            }
        }
    }

    #[test]
    fn what_does_not_stream_says_why_and_writes_nothing() {
        let pool = WorkerPool::build(1).unwrap();
        let ctl = Control::new();
        let gray = image::DynamicImage::ImageLuma8(GrayImage::from_fn(9, 9, |x, _| {
            image::Luma([x as u8 * 20])
        }));
        let sixteen =
            image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(9, 9, |x, _| {
                image::Luma([x as u16 * 999])
            }));
        let otsu = OpSettings {
            op: crate::ops::OpKind::Otsu,
            ..OpSettings::default()
        }
        .to_op()
        .unwrap();
        let gauss = OpSettings::default().to_op().unwrap();
        for (img, op, want) in [(&gray, &otsu, "whole image"), (&sixteen, &gauss, "16-bit")] {
            let mut out = Vec::new();
            let why = run_png(
                std::io::Cursor::new(png_bytes(img)),
                Path::new("t.png"),
                &mut out,
                op,
                &pool,
                TileSize::Auto,
                PngOptions::default(),
                DecodeLimits::default(),
                None,
                &ctl,
            )
            .unwrap()
            .unwrap_err();
            assert!(why.contains(want), "{why}");
            assert!(out.is_empty());
        }
        // A truncated PNG fails; a bilevel output does not stream.
        let bytes = png_bytes(&gray);
        let cut = &bytes[..bytes.len() / 2];
        let r = run_png(
            std::io::Cursor::new(cut),
            Path::new("t.png"),
            Vec::new(),
            &gauss,
            &pool,
            TileSize::Auto,
            PngOptions::default(),
            DecodeLimits::default(),
            Some(2),
            &ctl,
        );
        assert!(r.is_err());
        assert!(band_rows(10_000, 1, 5) >= 16);
        assert_eq!(band_rows(1 << 30, 3, 0), 16);
    }
}
