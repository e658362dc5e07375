//! OpenCV contrib 5.1 `niBlackThreshold` (Niblack, Sauvola, Wolf, NICK) and scikit-image 0.26
//! `threshold_niblack` / `threshold_sauvola`, bit for bit outside the pack's `ambiguous` pixels.
//!
//! `tests/data/local/niblack/` is vendored from the golden-methods pack by
//! `scripts/vendor_niblack_golden.py` (the small 8-bit inputs); a second test runs every 8-bit
//! case of the pack (`../../../shared/golden-methods` from this crate) when it is present.
//! Each case runs with 7-pixel tiles, so the halo logic is exercised on every image, and the
//! result on 2 workers with automatic tiles is compared with it.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use tessera_engine::ops::local::{Local, NiblackMethod, SkimageLocal};
use tessera_engine::ops::{Op, ThresholdType};
use tessera_engine::tile::TileSize;
use tessera_engine::{Control, JobConfig, SourceImage, job};

fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/local/niblack")
}

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods")
}

/// The op a case calls, or `None` for a case this test does not cover (16-bit).
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
            if case["bitdepth"].as_u64() != Some(8) {
                return None;
            }
            let method = match case["method"].as_str().unwrap() {
                "threshold_niblack" => SkimageLocal::Niblack,
                "threshold_sauvola" => SkimageLocal::Sauvola,
                m => panic!("unknown method {m}"),
            };
            let m = Local::Skimage {
                method,
                window: f("window_size") as u32,
                k: f("k"),
                r: p["r"].as_f64().unwrap_or(127.5),
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

/// `(differing outside ambiguous, differing inside ambiguous)`.
///
/// `pooled`: on 2 workers with automatic tiles; otherwise on the calling thread with 7-pixel
/// tiles and compared with the pooled result. (Cases run in parallel on rayon's global pool
/// with the second form only: a job's pool installed from a global worker lets that worker
/// steal more cases while it waits, nesting them on its stack.)
fn check(root: &Path, case: &Value) -> Option<(usize, usize)> {
    let op = op_of(case)?;
    let input = gray(&root.join(case["input"].as_str().unwrap()));
    let want = gray(&root.join(case["expected"].as_str().unwrap()));
    let amb = case["ambiguous"].as_str().map(|a| gray(&root.join(a)));
    let src = SourceImage::gray(input);
    let ctl = Control::new();
    let a = job::run_here(&src, &op, TileSize::Square(7), &ctl)
        .unwrap()
        .image;
    let (mut out, mut inside) = (0, 0);
    for (i, (g, w)) in a.as_raw().iter().zip(want.as_raw()).enumerate() {
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
    for case in cases.iter().step_by(step) {
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

fn cases_of(manifest: &Value) -> Vec<Value> {
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["part"].as_str(), Some("opencv_niblack" | "skimage_local")))
        .cloned()
        .collect()
}

#[test]
fn vendored_niblack_family_cases_are_exact() {
    let root = vendored();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = cases_of(&manifest);
    assert!(cases.len() >= 600, "only {} vendored cases", cases.len());
    let (ran, inside) = run_cases(&root, &cases);
    assert_eq!(ran, cases.len());
    pooled_equals_tiled(&root, &cases, 1);
    eprintln!("{ran} vendored cases exact outside ambiguous ({inside} ambiguous pixels differ)");
}

#[test]
fn every_8bit_niblack_family_case_of_the_pack_is_exact() {
    let root = pack_dir();
    let Ok(bytes) = std::fs::read(root.join("manifest.json")) else {
        eprintln!(
            "golden-methods pack not found at {}: skipped",
            root.display()
        );
        return;
    };
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    let cases = cases_of(&manifest);
    let (ran, inside) = run_cases(&root, &cases);
    assert!(ran >= 1440 + 100, "ran only {ran} cases");
    pooled_equals_tiled(&root, &cases, 7);
    eprintln!(
        "{ran} of {} pack cases exact outside ambiguous ({inside} ambiguous pixels differ; \
         16-bit scikit-image cases wait for the native 16-bit pipeline)",
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
            r: 127.5,
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

/// Bradley–Roth from its definition, pixel by pixel.
#[test]
fn bradley_equals_its_definition() {
    let (w, h) = (23usize, 17usize);
    let mut seed = 7u32;
    let data: Vec<u8> = (0..w * h)
        .map(|_| {
            seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
            (seed >> 23) as u8
        })
        .collect();
    let src =
        SourceImage::gray(image::GrayImage::from_raw(w as u32, h as u32, data.clone()).unwrap());
    for (bs, t) in [(3u32, 15.0), (7, 0.0), (31, 40.0)] {
        let op = Op::local(
            Local::Bradley { block_size: bs, t },
            ThresholdType::Binary,
            255.0,
        )
        .unwrap();
        let got = job::run_here(&src, &op, TileSize::Square(5), &Control::new())
            .unwrap()
            .image;
        let r = bs as i64 / 2;
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let (mut s, mut n) = (0i64, 0i64);
                for yy in (y - r).max(0)..=(y + r).min(h as i64 - 1) {
                    for xx in (x - r).max(0)..=(x + r).min(w as i64 - 1) {
                        s += data[(yy * w as i64 + xx) as usize] as i64;
                        n += 1;
                    }
                }
                let v = data[(y * w as i64 + x) as usize] as i64;
                let bg = ((v * n) as f64) <= (s as f64 * (100.0 - t) / 100.0).floor();
                let want = if bg { 0 } else { 255 };
                assert_eq!(
                    got.get_pixel(x as u32, y as u32).0[0],
                    want,
                    "({x},{y}) bs {bs}"
                );
            }
        }
    }
}
