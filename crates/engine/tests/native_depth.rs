//! The native 16-bit pipeline end to end: reading at each depth, every 16-bit op as a job
//! (tiled, on workers) against its per-pixel definition or its oracle, and writing.
//!
//! Oracles: ImageJ's and Fiji's masks of 16-bit images from the golden-methods pack
//! (`tests/data/native/`, vendored by `scripts/vendor_native_golden.py` for the 12-bit camera
//! image; every 16-bit global mask of the pack when `../shared` is present), and OpenCV 5.1's
//! 16-bit kernels through `ops::wide` (checked against cv2 by `tests/wide_golden.rs`).

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, Luma, Rgb};
use serde_json::Value;
use tessera_engine::io::{DecodeLimits, ReadOptions, read_image_with, write_plane_atomic};
use tessera_engine::ops::auto::{self, AutoMethod, Like};
use tessera_engine::ops::local::{Local, NiblackMethod};
use tessera_engine::ops::wide::{Thresholder16, otsu_level_16, rgb16_row_to_gray};
use tessera_engine::ops::{Op, ThresholdType};
use tessera_engine::source::{Gray16Image, Pixels, Plane};
use tessera_engine::{Control, Depth, EngineError, JobConfig, SourceImage, TileSize, job};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A deterministic 12-bit-in-16 image with structure: blobs over a ramp, plus noise.
fn image12(w: u32, h: u32) -> Gray16Image {
    let mut s: u32 = 12345;
    ImageBuffer::from_fn(w, h, |x, y| {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let noise = (s >> 16) % 200;
        let blob = if ((x / 9) + (y / 7)) % 3 == 0 {
            2500
        } else {
            0
        };
        Luma([(300 + x * 3 + y + blob + noise).min(4095) as u16])
    })
}

fn run(src: &SourceImage, op: &Op, tile: TileSize, workers: usize) -> job::JobOutput {
    job::run(src, op, &JobConfig { workers, tile }, &Control::new()).unwrap()
}

/// A job on 2 workers with automatic tiles, checked against 7-pixel tiles on the calling thread.
fn run_checked(src: &SourceImage, op: &Op) -> job::JobOutput {
    let a = run(src, op, TileSize::Auto, 2);
    let b = job::run_here(src, op, TileSize::Square(7), &Control::new()).unwrap();
    assert_eq!(
        a.image,
        b.image,
        "{}: tiling changed the result",
        op.describe()
    );
    assert_eq!(a.level, b.level);
    assert_eq!(a.levels, b.levels);
    a
}

#[test]
fn a_16bit_png_is_read_16bit_natively_and_as_opencv_at_depth_8() {
    let dir = tempfile::tempdir().unwrap();
    let img = image12(40, 30);
    let p = dir.path().join("in.png");
    DynamicImage::ImageLuma16(img.clone()).save(&p).unwrap();
    let native = read_image_with(
        &p,
        &ReadOptions::new(DecodeLimits::default()).at(Depth::Native),
    )
    .unwrap()
    .image;
    assert_eq!(native.bit_depth(), 16);
    assert_eq!(native.raw16(), img.as_raw().as_slice());
    let eight = read_image_with(&p, &ReadOptions::new(DecodeLimits::default()))
        .unwrap()
        .image;
    assert_eq!(eight.bit_depth(), 8);
    let high: Vec<u8> = img.as_raw().iter().map(|&v| (v >> 8) as u8).collect();
    assert_eq!(eight.raw(), high.as_slice(), "libpng's strip-16, as OpenCV");
}

#[test]
fn sixteen_bit_tiff_and_pnm_keep_their_samples() {
    let dir = tempfile::tempdir().unwrap();
    let rgb: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_fn(9, 5, |x, y| Rgb([x as u16 * 7000, y as u16 * 9000, 65535]));
    let tif = dir.path().join("rgb16.tif");
    DynamicImage::ImageRgb16(rgb.clone()).save(&tif).unwrap();
    let opts = ReadOptions::new(DecodeLimits::default()).at(Depth::Native);
    let s = read_image_with(&tif, &opts).unwrap().image;
    assert!(matches!(s.pixels, Pixels::Rgb16(_)), "{}", s.color);
    assert_eq!(s.raw16(), rgb.as_raw().as_slice());

    // A binary PGM with maxval 4095: big-endian 16-bit samples, as stored (no scaling).
    let vals: Vec<u16> = (0..12).map(|i| i * 341).collect();
    let mut pgm = b"P5\n4 3\n4095\n".to_vec();
    pgm.extend(vals.iter().flat_map(|v| v.to_be_bytes()));
    let pgm_path = dir.path().join("in.pgm");
    std::fs::write(&pgm_path, &pgm).unwrap();
    let s = read_image_with(&pgm_path, &opts).unwrap().image;
    assert_eq!(s.raw16(), vals.as_slice());
    let s8 = read_image_with(&pgm_path, &ReadOptions::new(DecodeLimits::default()))
        .unwrap()
        .image;
    let high: Vec<u8> = vals.iter().map(|&v| (v >> 8) as u8).collect();
    assert_eq!(
        s8.raw(),
        high.as_slice(),
        "OpenCV keeps the high byte at 8 bits"
    );
}

#[test]
fn gray_of_16bit_rgb_is_opencvs_and_stays_16bit() {
    let rgb: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(33, 21, |x, y| {
        Rgb([x as u16 * 1985, y as u16 * 3100, (x * y) as u16 * 97])
    });
    let src = SourceImage::from_dynamic_at(DynamicImage::ImageRgb16(rgb.clone()), Depth::Native);
    let out = run_checked(&src, &Op::gray());
    let Plane::Gray16(g) = &out.image else {
        panic!("gray of a 16-bit image is 16-bit")
    };
    let mut want = vec![0u16; 33 * 21];
    rgb16_row_to_gray(rgb.as_raw(), 3, &mut want);
    assert_eq!(g.as_raw(), &want);
}

#[test]
fn thresholds_keep_16bit_values_or_write_8bit_masks() {
    let img = image12(61, 37);
    let src = SourceImage::gray16(img.clone());
    for kind in ThresholdType::ALL {
        for (thresh, max) in [
            (2047.5, 255.0),
            (-3.0, 200.0),
            (70000.0, 255.0),
            (300.0, 1.0),
        ] {
            let op = Op::threshold(kind, thresh, max).unwrap();
            let out = run_checked(&src, &op);
            let t = Thresholder16::new(kind, thresh, max);
            let want: Vec<u16> = img.as_raw().iter().map(|&v| t.apply(v)).collect();
            match &out.image {
                Plane::Gray16(g) => {
                    assert!(kind.keeps_values(), "{kind:?}");
                    assert_eq!(g.as_raw(), &want, "{}", op.describe());
                }
                Plane::Gray8(g) => {
                    assert!(!kind.keeps_values(), "{kind:?}");
                    let m: Vec<u8> = want
                        .iter()
                        .map(|&v| if v != 0 { t.mask_value() } else { 0 })
                        .collect();
                    assert_eq!(g.as_raw(), &m, "{}", op.describe());
                }
            }
        }
    }
}

/// The 65536-bin histogram, counted naively.
fn hist16(v: &[u16]) -> Vec<u64> {
    let mut h = vec![0u64; 65536];
    for &x in v {
        h[x as usize] += 1;
    }
    h
}

#[test]
fn opencv_otsu_on_a_12bit_image_finds_a_level_in_its_range() {
    let img = image12(80, 60);
    let src = SourceImage::gray16(img.clone());
    let out = run_checked(&src, &Op::otsu(ThresholdType::Binary, 255.0).unwrap());
    let level = out.level.unwrap();
    assert_eq!(level, otsu_level_16(&hist16(img.as_raw())));
    // Above the darkest background and below the blobs (>= 2800): a level in the image's
    // 12-bit range, not the high byte's 0..15.
    assert!((300..2800).contains(&level), "{level}");
    let mask = out.image.as_gray8().unwrap();
    for (m, &v) in mask.as_raw().iter().zip(img.as_raw()) {
        assert_eq!(*m, if v > level { 255 } else { 0 });
    }
    // The same image at depth 8 (its high byte) gives a level of 0..15: what native avoids.
    let high = image::GrayImage::from_raw(
        80,
        60,
        img.as_raw().iter().map(|&v| (v >> 8) as u8).collect(),
    )
    .unwrap();
    let eight = run(
        &SourceImage::gray(high),
        &Op::otsu(ThresholdType::Binary, 255.0).unwrap(),
        TileSize::Auto,
        1,
    );
    assert!(eight.level.unwrap() < 16);
}

#[test]
fn a_found_level_keeps_values_with_trunc_and_tozero() {
    let img = image12(50, 40);
    let src = SourceImage::gray16(img.clone());
    for like in [Like::ImageJ, Like::Fiji] {
        let op = Op::auto(AutoMethod::Otsu, like, ThresholdType::ToZero, 255.0).unwrap();
        let out = run_checked(&src, &op);
        let t = auto::cut_16bit(AutoMethod::Otsu, &hist16(img.as_raw()), like).unwrap();
        assert_eq!(out.level, Some(t as u16));
        let Plane::Gray16(g) = &out.image else {
            panic!("tozero keeps 16-bit values")
        };
        for (&o, &v) in g.as_raw().iter().zip(img.as_raw()) {
            assert_eq!(o, if i64::from(v) > t { v } else { 0 });
        }
    }
}

#[test]
fn multi_otsu_labels_a_16bit_image_by_its_16bit_thresholds() {
    let img = image12(45, 33);
    let src = SourceImage::gray16(img.clone());
    let out = run_checked(&src, &Op::multi_otsu(3, 254.0).unwrap());
    let t = auto::multi_otsu::multi_otsu_u16(img.as_raw(), 3).unwrap();
    assert_eq!(out.levels, t.iter().map(|&v| v as u16).collect::<Vec<_>>());
    let g = out.image.as_gray8().expect("labels are 8-bit");
    for (&o, &v) in g.as_raw().iter().zip(img.as_raw()) {
        let class = t.iter().filter(|&&x| x <= i64::from(v)).count();
        assert_eq!(o, [0, 127, 254][class]);
    }
}

#[test]
fn ops_with_no_16bit_form_are_refused_before_any_work() {
    let src = SourceImage::gray16(image12(30, 20));
    let ops = [
        Op::adaptive(
            tessera_engine::AdaptiveMethod::Mean,
            ThresholdType::Binary,
            255.0,
            11,
            2.0,
        )
        .unwrap(),
        Op::triangle(ThresholdType::Binary, 255.0).unwrap(),
        Op::local(
            Local::OpenCv {
                method: NiblackMethod::Sauvola,
                block_size: 11,
                k: 0.2,
                r: 128.0,
            },
            ThresholdType::Binary,
            255.0,
        )
        .unwrap(),
    ];
    for op in ops {
        let ctl = Control::new();
        let e = job::run_here(&src, &op, TileSize::Auto, &ctl).unwrap_err();
        assert!(matches!(e, EngineError::EightBitOnly { .. }), "{e}");
        assert!(!e.is_usage(), "a failure of this image, not of the command");
        assert!(e.to_string().contains("--depth 8"), "{e}");
        assert_eq!(ctl.tiles(), (0, 0), "no tile ran");
    }
}

#[test]
fn a_16bit_result_is_written_as_16bit_png_tiff_pgm_and_refused_as_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let img = image12(17, 9);
    let p = Plane::Gray16(img.clone());
    for ext in ["png", "tif", "pgm"] {
        let path = dir.path().join(format!("out.{ext}"));
        write_plane_atomic(&p, &path, true).unwrap();
        let back = read_image_with(
            &path,
            &ReadOptions::new(DecodeLimits::default()).at(Depth::Native),
        )
        .unwrap()
        .image;
        assert_eq!(back.raw16(), img.as_raw().as_slice(), "{ext}");
    }
    let jpg = dir.path().join("out.jpg");
    let e = write_plane_atomic(&p, &jpg, true).unwrap_err();
    assert!(e.is_usage() && e.to_string().contains("16-bit"), "{e}");
    assert!(!jpg.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary file left"
    );
}

/// A pack case's op and the mask it expects, or `None` for a case this test does not take
/// (ImageJ's light-background masks: the range `[0, lo]` is not the complement of the dark one).
fn case_op(case: &Value) -> Option<Op> {
    let method: AutoMethod = case["method"].as_str()?.parse().ok()?;
    match case["part"].as_str()? {
        "imagej_global" if case["params"]["dark_background"] == true => {
            Op::auto(method, Like::ImageJ, ThresholdType::Binary, 255.0).ok()
        }
        "fiji_auto_threshold16" => Op::auto(method, Like::Fiji, ThresholdType::Binary, 255.0).ok(),
        _ => None,
    }
}

/// Runs every 16-bit global mask case in `cases` (paths relative to `root`) as a job in
/// 64-pixel tiles, the cases in parallel; returns how many ran.
fn check_masks(root: &Path, cases: &[Value]) -> usize {
    use rayon::prelude::*;
    cases
        .par_iter()
        .filter(|c| c["kind"] == "mask" && c["bitdepth"] == 16)
        .filter_map(|c| Some((c, case_op(c)?)))
        .map(|(case, op)| check_mask(root, case, &op))
        .count()
}

fn check_mask(root: &Path, case: &Value, op: &Op) {
    {
        let input = root.join(case["input"].as_str().unwrap());
        let img = image::open(&input).unwrap().into_luma16();
        let want = image::open(root.join(case["expected"].as_str().unwrap()))
            .unwrap()
            .into_luma8();
        let src = SourceImage::gray16(img);
        let out = job::run_here(&src, op, TileSize::Square(64), &Control::new()).unwrap();
        let got = out.image.as_gray8().unwrap();
        let differ = got
            .as_raw()
            .iter()
            .zip(want.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differ, 0,
            "{}: {differ} pixels differ (level {:?})",
            case["id"], out.level
        );
        if let Some(l) = case["level"].as_i64() {
            assert_eq!(out.level.map(i64::from), Some(l), "{}", case["id"]);
        }
    }
}

#[test]
fn imagej_and_fiji_masks_of_a_12bit_image_are_exact() {
    let dir = data().join("native");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    let ran = check_masks(&dir, cases);
    assert_eq!(ran, cases.len(), "every vendored case ran");
    assert!(ran >= 34, "{ran}");
}

#[test]
fn every_16bit_global_mask_of_the_pack_is_exact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods");
    let Ok(text) = std::fs::read_to_string(root.join("manifest.json")) else {
        eprintln!("skipped: the golden-methods pack is not here");
        return;
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    let ran = check_masks(&root, v["cases"].as_array().unwrap());
    eprintln!("{ran} 16-bit global masks exact");
    assert!(ran >= 100, "{ran}");
}

/// The bin of `v` among `n` equal bins over `lo..=hi`, in floating point (the definition).
fn bin_of(v: u16, lo: u16, hi: u16, n: u32) -> u32 {
    let b = (f64::from(v - lo) * f64::from(n) / f64::from((hi - lo).max(1))).floor() as u32;
    b.min(n - 1)
}

#[test]
fn binned_levels_cut_between_whole_bins() {
    let img = image12(70, 50);
    let v = img.as_raw();
    let (lo, hi) = (*v.iter().min().unwrap(), *v.iter().max().unwrap());
    let src = SourceImage::gray16(img.clone());
    for n in [2u32, 16, 256, 4096] {
        // OpenCV's Otsu on the binned histogram.
        let op = Op::otsu(ThresholdType::Binary, 255.0)
            .unwrap()
            .with_bins(Some(n))
            .unwrap();
        assert!(op.describe().ends_with(&format!("bins {n}")));
        let out = run_checked(&src, &op);
        let mut h = vec![0u64; n as usize];
        for &x in v {
            h[bin_of(x, lo, hi, n) as usize] += 1;
        }
        let tb = u32::from(otsu_level_16(&h));
        let mask = out.image.as_gray8().unwrap();
        for (&m, &x) in mask.as_raw().iter().zip(v) {
            assert_eq!(
                m,
                if bin_of(x, lo, hi, n) > tb { 255 } else { 0 },
                "bins {n}"
            );
        }
        // The level reported is the last value of bin tb: everything above it passes.
        let level = out.level.unwrap();
        assert!(
            v.iter()
                .all(|&x| (x > level) == (bin_of(x, lo, hi, n) > tb))
        );

        // Fiji's methods likewise; ImageJ's refuse (they reduce to their own 256 bins).
        let fiji = Op::auto(AutoMethod::Huang, Like::Fiji, ThresholdType::Binary, 255.0)
            .unwrap()
            .with_bins(Some(n))
            .unwrap();
        let out = run_checked(&src, &fiji);
        let tb = auto::level(AutoMethod::Huang, &h, Like::Fiji).unwrap();
        for (&m, &x) in out.image.as_gray8().unwrap().as_raw().iter().zip(v) {
            assert_eq!(m == 255, bin_of(x, lo, hi, n) > tb, "fiji bins {n}");
        }
    }
    let ij = Op::auto(
        AutoMethod::Huang,
        Like::ImageJ,
        ThresholdType::Binary,
        255.0,
    )
    .unwrap();
    assert!(ij.with_bins(Some(256)).unwrap_err().is_usage());
}

#[test]
fn binned_multi_otsu_is_scikit_images_on_the_float_image() {
    let img = image12(64, 48);
    let src = SourceImage::gray16(img.clone());
    let op = Op::multi_otsu(4, 255.0)
        .unwrap()
        .with_bins(Some(256))
        .unwrap();
    let out = run_checked(&src, &op);
    let t = auto::multi_otsu::multi_otsu_u16_as_f64(img.as_raw(), 4, 256).unwrap();
    let g = out.image.as_gray8().unwrap();
    for (&o, &v) in g.as_raw().iter().zip(img.as_raw()) {
        // np.digitize(image, bins=thresholds): the number of thresholds at or below v.
        let class = t.iter().filter(|&&x| x <= f64::from(v)).count();
        assert_eq!(o, [0, 85, 170, 255][class]);
    }
}

#[test]
fn a_montage_of_a_16bit_image_runs_8bit_only_methods_on_its_8bit_reading() {
    use tessera_engine::montage;
    use tessera_engine::ops::OpSettings;
    let img = image12(40, 30);
    let src16 = SourceImage::gray16(img.clone());
    let high: Vec<u8> = img.as_raw().iter().map(|&v| (v >> 8) as u8).collect();
    let src8 = SourceImage::gray(image::GrayImage::from_raw(40, 30, high).unwrap());
    let cfg = JobConfig {
        workers: 1,
        tile: TileSize::Auto,
    };
    let base = OpSettings::default();
    let (mut with, mut without) = (Vec::new(), Vec::new());
    montage::run_each(&src16, Some(&src8), &base, &cfg, &Control::new(), |c| {
        with.push(c)
    })
    .unwrap();
    montage::run_each(&src16, None, &base, &cfg, &Control::new(), |c| {
        without.push(c)
    })
    .unwrap();
    let mut eight_only = 0;
    for (a, b) in with.iter().zip(&without) {
        let Ok(op) = a.method.settings(&base).to_op() else {
            continue;
        };
        if op.supports_16bit() {
            assert_eq!(a.result, b.result, "{}", a.label);
            continue;
        }
        eight_only += 1;
        let e = b.result.as_ref().unwrap_err();
        assert!(e.contains("8-bit images only"), "{}: {e}", a.label);
        let want = run(&src8, &op, TileSize::Auto, 1).image;
        assert_eq!(a.result.as_ref().unwrap(), &want, "{}", a.label);
    }
    assert!(eight_only >= 10, "{eight_only}");
}
