//! OpenCV contrib 5.1 `niBlackThreshold` (Niblack, Sauvola, Wolf, NICK) and scikit-image 0.26
//! `threshold_niblack` / `threshold_sauvola`, bit for bit outside the pack's `ambiguous` pixels,
//! on 8-bit inputs, and scikit-image's on 16-bit inputs.
//!
//! `tests/data/local/niblack/` is vendored from the golden-methods pack by
//! `scripts/vendor_niblack_golden.py` (the small 8-bit inputs, three 16-bit ones); two more tests
//! run every 8-bit case and every 16-bit scikit-image case of the pack
//! (`../../../shared/golden-methods` from this crate) when it is present. Each 8-bit case runs as
//! a job with 7-pixel tiles, so the halo logic is exercised on every image, and the result on 2
//! workers with automatic tiles is compared with it. 16-bit cases run as jobs on a 16-bit
//! source, in 7-pixel tiles, compared with one whole-image tile.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use tessera_engine::ops::local::{Local, NiblackMethod, SkimageLocal};
use tessera_engine::ops::{Op, ThresholdType};
use tessera_engine::source::Gray16Image;
use tessera_engine::tile::TileSize;
use tessera_engine::{Control, JobConfig, SourceImage, job};

fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/local/niblack")
}

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods")
}

/// The op a case calls, or `None` for a case this test does not cover.
fn op_of(case: &Value) -> Option<Op> {
    let p = &case["params"];
    let f = |k: &str| p[k].as_f64().unwrap();
    match case["part"].as_str().unwrap() {
        "opencv_niblack" => {
            let method = match p["binarizationMethod"].as_str().unwrap() {
                "BINARIZATION_NIBLACK" => NiblackMethod::Niblack,
                "BINARIZATION_SAUVOLA" => NiblackMethod::Sauvola,
                "BINARIZATION_WOLF" => NiblackMethod::Wolf,
                "BINARIZATION_NICK" => NiblackMethod::Nick,
                m => panic!("unknown method {m}"),
            };
            let kind = match p["type"].as_str().unwrap() {
                "THRESH_BINARY" => ThresholdType::Binary,
                "THRESH_BINARY_INV" => ThresholdType::BinaryInv,
                "THRESH_TRUNC" => ThresholdType::Trunc,
                "THRESH_TOZERO" => ThresholdType::ToZero,
                "THRESH_TOZERO_INV" => ThresholdType::ToZeroInv,
                t => panic!("unknown type {t}"),
            };
            let m = Local::OpenCv {
                method,
                block_size: f("blockSize") as u32,
                k: f("k"),
                r: f("r"),
            };
            Some(Op::local(m, kind, f("maxValue")).unwrap())
        }
        "skimage_local" => {
            let method = match case["method"].as_str().unwrap() {
                "threshold_niblack" => SkimageLocal::Niblack,
                "threshold_sauvola" => SkimageLocal::Sauvola,
                m => panic!("unknown method {m}"),
            };
            let m = Local::Skimage {
                method,
                window: f("window_size") as u32,
                k: f("k"),
                // As recorded; absent: scikit-image's default (half the dtype's range).
                r: p["r"].as_f64(),
            };
            Some(Op::local(m, ThresholdType::Binary, 255.0).unwrap())
        }
        _ => None,
    }
}

fn gray(path: &Path) -> image::GrayImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_luma8()
}

/// The stored samples of a 16-bit gray PNG, and its size.
fn gray16(path: &Path) -> (Vec<u16>, usize, usize) {
    match image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        image::DynamicImage::ImageLuma16(b) => {
            let (w, h) = (b.width() as usize, b.height() as usize);
            (b.into_raw(), w, h)
        }
        other => panic!("{}: not 16-bit gray: {:?}", path.display(), other.color()),
    }
}

/// The 8-bit mask of a local method on 16-bit samples, as a job in `tile`-pixel tiles.
fn mask16(op: &Op, data: &[u16], w: usize, h: usize, tile: usize) -> Result<Vec<u8>, String> {
    let img = Gray16Image::from_raw(w as u32, h as u32, data.to_vec()).unwrap();
    job::run_here(
        &SourceImage::gray16(img),
        op,
        TileSize::Square(tile as u32),
        &Control::new(),
    )
    .map(|o| o.image.into_gray8().expect("a mask is 8-bit").into_raw())
    .map_err(|e| e.to_string())
}

fn is16(case: &Value) -> bool {
    case["bitdepth"].as_u64() == Some(16)
}

/// A 16-bit case's mask in 7-pixel tiles, checked against one whole-image tile.
fn run16(root: &Path, case: &Value, op: &Op) -> Vec<u8> {
    let (data, w, h) = gray16(&root.join(case["input"].as_str().unwrap()));
    let a = mask16(op, &data, w, h, 7).unwrap();
    let b = mask16(op, &data, w, h, w.max(h)).unwrap();
    assert_eq!(a, b, "{}: the tiling changed the result", case["id"]);
    a
}

/// `(differing outside ambiguous, differing inside ambiguous)`. OpenCV contrib's Niblack,
/// Sauvola and NICK cases have no ambiguous pixels for tessera, which evaluates their float32
/// expressions exactly as OpenCV does: every differing pixel counts as outside. Wolf keeps the
/// pack's mask: when the float32 deviations contain NaN, OpenCV's `minMaxIdx` returns NaN or a
/// number for their maximum depending on its SIMD lane order (the pack's
/// `METHODS_SEMANTICS.md` §4; NaN on its horse image at block size 25), where tessera takes
/// the largest number.
///
/// 8-bit cases run on the calling thread with 7-pixel tiles (and are compared with the pooled
/// result in [`pooled_equals_tiled`]). (Cases run in parallel on rayon's global pool with this
/// form only: a job's pool installed from a global worker lets that worker steal more cases
/// while it waits, nesting them on its stack.)
fn check(root: &Path, case: &Value) -> Option<(usize, usize)> {
    let op = op_of(case)?;
    let want = gray(&root.join(case["expected"].as_str().unwrap()));
    let amb = case["ambiguous"]
        .as_str()
        .filter(|_| case["part"] != "opencv_niblack" || case["method"] == "WOLF")
        .map(|a| gray(&root.join(a)));
    let a = if is16(case) {
        run16(root, case, &op)
    } else {
        let src = SourceImage::gray(gray(&root.join(case["input"].as_str().unwrap())));
        job::run_here(&src, &op, TileSize::Square(7), &Control::new())
            .unwrap()
            .image
            .into_gray8()
            .unwrap()
            .into_raw()
    };
    assert_eq!(a.len(), want.as_raw().len(), "{}: size", case["id"]);
    let (mut out, mut inside) = (0, 0);
    for (i, (g, w)) in a.iter().zip(want.as_raw()).enumerate() {
        if g != w {
            if amb.as_ref().is_some_and(|m| m.as_raw()[i] != 0) {
                inside += 1;
            } else {
                out += 1;
            }
        }
    }
    Some((out, inside))
}

/// The pooled run (2 workers, automatic tiles) equals the 7-pixel tiling on every `step`-th case.
fn pooled_equals_tiled(root: &Path, cases: &[Value], step: usize) {
    let cfg = JobConfig {
        workers: 2,
        tile: TileSize::Auto,
    };
    for case in cases.iter().filter(|c| !is16(c)).step_by(step) {
        let Some(op) = op_of(case) else { continue };
        let src = SourceImage::gray(gray(&root.join(case["input"].as_str().unwrap())));
        let ctl = Control::new();
        let a = job::run(&src, &op, &cfg, &ctl).unwrap().image;
        let b = job::run_here(&src, &op, TileSize::Square(7), &ctl)
            .unwrap()
            .image;
        assert_eq!(a, b, "{}: the tiling changed the result", case["id"]);
    }
}

fn run_cases(root: &Path, cases: &[Value]) -> (usize, usize) {
    let results: Vec<(String, Option<(usize, usize)>)> = cases
        .par_iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), check(root, c)))
        .collect();
    let mut bad = Vec::new();
    let (mut ran, mut inside) = (0, 0);
    for (id, r) in &results {
        if let Some((out, ins)) = r {
            ran += 1;
            inside += ins;
            if *out > 0 {
                bad.push(format!("{id}: {out} pixels differ outside ambiguous"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {ran} cases differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    (ran, inside)
}

/// The niBlack-family cases of a manifest with the given bit depth.
fn cases_of(manifest: &Value, bits: u64) -> Vec<Value> {
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["part"].as_str(), Some("opencv_niblack" | "skimage_local")))
        .filter(|c| c["bitdepth"].as_u64() == Some(bits))
        .cloned()
        .collect()
}

fn pack_manifest() -> Option<Value> {
    let root = pack_dir();
    let Ok(bytes) = std::fs::read(root.join("manifest.json")) else {
        eprintln!(
            "golden-methods pack not found at {}: skipped",
            root.display()
        );
        return None;
    };
    Some(serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn vendored_niblack_family_cases_are_exact() {
    let root = vendored();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = cases_of(&manifest, 8);
    assert!(cases.len() >= 600, "only {} vendored cases", cases.len());
    let (ran, inside) = run_cases(&root, &cases);
    assert_eq!(ran, cases.len());
    pooled_equals_tiled(&root, &cases, 1);
    eprintln!("{ran} vendored cases exact outside ambiguous ({inside} ambiguous pixels differ)");
}

/// Cases with a pixel where the 8-bit threshold depends on how the float32 formula is evaluated
/// (`scripts/make_niblack_ties.py`: thresholds at or near a half integer, shown by trunc): a
/// threshold computed in f64 from the float32 statistics, without OpenCV's fused
/// multiply-adds, or with the last `width mod 4` columns' means scaled as the others (OpenCV's
/// box filters scale them in double), fails them.
#[test]
fn opencv_half_integer_thresholds_round_as_opencv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/local/niblack_ties");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = cases_of(&manifest, 8);
    assert_eq!(cases.len(), 110, "vendored tie cases");
    let methods: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods.len(), 4, "{methods:?}");
    let (ran, _) = run_cases(&root, &cases);
    assert_eq!(ran, cases.len());
    pooled_equals_tiled(&root, &cases, 1);
    eprintln!("{ran} half-integer threshold cases exact");
}

#[test]
fn vendored_16bit_skimage_cases_are_exact() {
    let root = vendored();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = cases_of(&manifest, 16);
    assert_eq!(cases.len(), 12, "vendored 16-bit cases");
    let (ran, inside) = run_cases(&root, &cases);
    assert_eq!((ran, inside), (cases.len(), 0));
    eprintln!("{ran} vendored 16-bit cases exact");
}

#[test]
fn every_8bit_niblack_family_case_of_the_pack_is_exact() {
    let Some(manifest) = pack_manifest() else {
        return;
    };
    let root = pack_dir();
    let cases = cases_of(&manifest, 8);
    let (ran, inside) = run_cases(&root, &cases);
    assert!(ran >= 1440 + 108, "ran only {ran} cases");
    pooled_equals_tiled(&root, &cases, 7);
    eprintln!(
        "{ran} of {} 8-bit pack cases exact outside ambiguous ({inside} ambiguous pixels differ)",
        cases.len()
    );
}

#[test]
fn every_16bit_skimage_case_of_the_pack_is_exact() {
    let Some(manifest) = pack_manifest() else {
        return;
    };
    let root = pack_dir();
    let cases = cases_of(&manifest, 16);
    assert!(
        cases.iter().all(|c| c["part"] == "skimage_local"),
        "a 16-bit case of another part"
    );
    let (ran, inside) = run_cases(&root, &cases);
    assert!(ran >= 52, "ran only {ran} cases");
    eprintln!(
        "{ran} of {} 16-bit pack cases exact outside ambiguous ({inside} ambiguous pixels differ)",
        cases.len()
    );
}

#[test]
fn parameters_are_checked() {
    let bad = [
        Local::OpenCv {
            method: NiblackMethod::Sauvola,
            block_size: 25,
            k: 0.2,
            r: 0.0,
        },
        Local::OpenCv {
            method: NiblackMethod::Niblack,
            block_size: 4,
            k: 0.2,
            r: 128.0,
        },
        Local::Skimage {
            method: SkimageLocal::Niblack,
            window: 15,
            k: f64::NAN,
            r: Some(127.5),
        },
        Local::Bradley {
            block_size: 15,
            t: 101.0,
        },
    ];
    for m in bad {
        let e = Op::local(m, ThresholdType::Binary, 255.0).unwrap_err();
        assert!(e.is_usage(), "{m:?}: {e}");
    }
    let m = Local::Bradley {
        block_size: 15,
        t: 15.0,
    };
    let e = Op::local(m, ThresholdType::Trunc, 255.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bradley supports only the types binary and binary-inv, not trunc"
    );
}

/// Binary-inv is the complement of binary (with `max_value` for "on") for the methods that
/// take only those two types.
#[test]
fn binary_inv_is_the_complement_of_binary() {
    let (w, h) = (41u32, 23u32);
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([((x * 37 + y * 11) % 97 + (x * y) % 13 * 9) as u8])
    });
    let src = SourceImage::gray(img);
    let methods = [
        Local::Skimage {
            method: SkimageLocal::Niblack,
            window: 7,
            k: 0.2,
            r: Some(127.5),
        },
        Local::Skimage {
            method: SkimageLocal::Sauvola,
            window: 15,
            k: 0.3,
            r: Some(127.5),
        },
        Local::Bradley {
            block_size: 9,
            t: 10.0,
        },
    ];
    for m in methods {
        let run = |kind| {
            let op = Op::local(m, kind, 200.0).unwrap();
            job::run_here(&src, &op, TileSize::Square(8), &Control::new())
                .unwrap()
                .image
                .into_gray8()
                .unwrap()
        };
        let (a, b) = (run(ThresholdType::Binary), run(ThresholdType::BinaryInv));
        let on = a.as_raw().iter().filter(|&&v| v == 200).count();
        assert!(on > 0 && on < a.as_raw().len(), "{m:?}: {on} on");
        for (&x, &y) in a.as_raw().iter().zip(b.as_raw()) {
            assert!(x == 0 || x == 200, "{m:?}: {x}");
            assert_eq!(y, 200 - x, "{m:?}");
        }
    }
}

/// Bradley–Roth from its definition: 255 unless `v·count ≤ ⌊S·(100 − t)/100⌋` over the window
/// clipped to the image.
fn bradley_definition(data: &[u32], w: usize, h: usize, bs: u32, t: f64) -> Vec<u8> {
    let r = bs as i64 / 2;
    let (wi, hi) = (w as i64, h as i64);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..hi {
        for x in 0..wi {
            let (mut s, mut n) = (0i64, 0i64);
            for yy in (y - r).max(0)..=(y + r).min(hi - 1) {
                for xx in (x - r).max(0)..=(x + r).min(wi - 1) {
                    s += data[(yy * wi + xx) as usize] as i64;
                    n += 1;
                }
            }
            let v = data[(y * wi + x) as usize] as i64;
            let bg = ((v * n) as f64) <= (s as f64 * (100.0 - t) / 100.0).floor();
            out.push(if bg { 0 } else { 255 });
        }
    }
    out
}

/// Bradley–Roth from its definition, pixel by pixel, on 8-bit (a job) and 16-bit samples.
#[test]
fn bradley_equals_its_definition() {
    let (w, h) = (23usize, 17usize);
    let mut seed = 7u32;
    let mut next = move || {
        seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        seed
    };
    let data: Vec<u8> = (0..w * h).map(|_| (next() >> 23) as u8).collect();
    // Full-scale 16-bit samples, half of them near 65535.
    let data16: Vec<u16> = (0..w * h)
        .map(|i| {
            let v = (next() >> 15) as u16;
            if i % 2 == 0 { v | 0xF000 } else { v }
        })
        .collect();
    let src =
        SourceImage::gray(image::GrayImage::from_raw(w as u32, h as u32, data.clone()).unwrap());
    for (bs, t) in [(3u32, 15.0), (7, 0.0), (31, 40.0), (4095, 5.0)] {
        let op = Op::local(
            Local::Bradley { block_size: bs, t },
            ThresholdType::Binary,
            255.0,
        )
        .unwrap();
        let got = job::run_here(&src, &op, TileSize::Square(5), &Control::new())
            .unwrap()
            .image
            .into_gray8()
            .unwrap()
            .into_raw();
        let want = bradley_definition(
            &data.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            w,
            h,
            bs,
            t,
        );
        assert_eq!(got, want, "8-bit bs {bs} t {t}");
        let got16 = mask16(&op, &data16, w, h, 5).unwrap();
        let want16 = bradley_definition(
            &data16.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            w,
            h,
            bs,
            t,
        );
        assert_eq!(got16, want16, "16-bit bs {bs} t {t}");
        let on = want16.iter().filter(|&&v| v != 0).count();
        assert!(on > 0 && on < want16.len(), "16-bit bs {bs}: {on} on");
    }
}
