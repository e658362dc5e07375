//! The binarization metrics against doxa's `calculate_performance` (doxapy 0.9.2) on the golden
//! pack's 31 (ground truth, prediction) pairs, vendored in `tests/data/metrics` by
//! `scripts/vendor_metrics_golden.py` (and read from `../shared/golden-methods` when present),
//! and DIBCO's DRD against a naive definitional implementation.

use std::path::{Path, PathBuf};

use image::GrayImage;
use proptest::prelude::*;
use serde_json::Value;
use tessera_engine::io::DecodeLimits;
use tessera_engine::metrics::{EvalOptions, Foreground, Like, Metrics, evaluate, read_gray};
use tessera_engine::pool::WorkerPool;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/metrics")
}

fn read(path: &Path) -> GrayImage {
    read_gray(path, DecodeLimits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A manifest number: a JSON number, or the strings "NaN"/"Infinity".
fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        v => panic!("not a number: {v}"),
    }
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got.is_nan() && want.is_nan()) || got == want || (got - want).abs() <= tol
}

/// Compares every metric doxa reports; returns the failures.
fn check_doxa(id: &str, m: &Metrics, expected: &Value, tol: f64, drd_too: bool) -> Vec<String> {
    let pairs = [
        ("accuracy", m.accuracy),
        ("fm", m.f_measure),
        ("mcc", m.mcc),
        ("psnr", m.psnr),
        ("nrm", m.nrm),
        ("drdm", m.drd),
    ];
    pairs
        .iter()
        .filter(|(k, _)| drd_too || *k != "drdm")
        .filter_map(|&(k, got)| {
            let want = number(&expected[k]);
            (!close(got, want, tol)).then(|| format!("{id}: {k} {got} (doxa {want})"))
        })
        .collect()
}

/// (id, ground truth, prediction, expected, tolerance) of each vendored pair.
fn vendored() -> Vec<(String, PathBuf, PathBuf, Value, f64)> {
    let dir = data();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                dir.join(c["groundtruth"].as_str().unwrap()),
                dir.join(c["prediction"].as_str().unwrap()),
                c["expected"].clone(),
                c["tolerance"].as_f64().unwrap(),
            )
        })
        .collect()
}

const DOXA: EvalOptions = EvalOptions {
    foreground: Foreground::Black,
    like: Like::Doxa,
};

#[test]
fn every_vendored_pair_equals_doxa() {
    let cases = vendored();
    assert_eq!(cases.len(), 31, "the pack has 31 metrics pairs");
    let mut failures = Vec::new();
    for (id, gt, pred, expected, tol) in &cases {
        let m = evaluate(&read(pred), &read(gt), &DOXA).unwrap();
        failures.extend(check_doxa(id, &m, expected, *tol, true));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// All of the pack's metrics cases, read from `../shared` itself when it is there.
#[test]
fn every_shared_pair_equals_doxa() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods");
    let Ok(text) = std::fs::read_to_string(root.join("manifest.json")) else {
        eprintln!("../shared/golden-methods is absent: the vendored pairs are tested instead");
        return;
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut n = 0;
    let mut failures = Vec::new();
    for c in v["cases"].as_array().unwrap() {
        if c["kind"] != "metrics" {
            continue;
        }
        n += 1;
        let p = &c["params"];
        let gt = read(&root.join(p["groundtruth"].as_str().unwrap()));
        let pred = read(&root.join(p["prediction"].as_str().unwrap()));
        let m = evaluate(&pred, &gt, &DOXA).unwrap();
        let tol = c["tolerance"].as_f64().unwrap();
        failures.extend(check_doxa(
            c["id"].as_str().unwrap(),
            &m,
            &c["expected"],
            tol,
            true,
        ));
    }
    assert!(n >= 31, "only {n} metrics cases in the manifest");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The DIBCO definitions give doxa's values for every metric but DRD on binary pairs (doxa
/// compares stored values, which for 0/255 images is the same as binarizing at 128).
#[test]
fn dibco_matches_doxa_except_drd_on_binary_pairs() {
    let mut failures = Vec::new();
    for (id, gt, pred, expected, tol) in vendored() {
        if id.contains("nonbinary") {
            continue;
        }
        let m = evaluate(&read(&pred), &read(&gt), &EvalOptions::default()).unwrap();
        failures.extend(check_doxa(&id, &m, &expected, tol, false));
        let naive = naive_dibco_drd(&read(&pred), &read(&gt));
        // The naive sum adds millions of terms in f64: relative 1e-9.
        if !close(m.drd, naive, 1e-9 * naive.abs().max(1.0)) {
            failures.push(format!("{id}: DIBCO drd {} (naive {naive})", m.drd));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The nonbinary pair: doxa counts a grey result pixel as "not black" and as different from
/// white paper (a false negative); binarized at 128 it is paper, a true negative.
#[test]
fn grey_results_follow_the_chosen_definition() {
    let (_, gt, pred, expected, tol) = vendored()
        .into_iter()
        .find(|c| c.0.contains("nonbinary"))
        .unwrap();
    let (gt, pred) = (read(&gt), read(&pred));
    let doxa = evaluate(&pred, &gt, &DOXA).unwrap();
    assert!(check_doxa("nonbinary", &doxa, &expected, tol, true).is_empty());
    let dibco = evaluate(&pred, &gt, &EvalOptions::default()).unwrap();
    let mut binarized = pred.clone();
    binarized
        .pixels_mut()
        .for_each(|p| p.0[0] = if p.0[0] < 128 { 0 } else { 255 });
    let again = evaluate(&binarized, &gt, &DOXA).unwrap();
    assert_eq!(dibco.confusion, again.confusion);
    assert!(
        dibco.f_measure > doxa.f_measure + 1.0,
        "{dibco:?} vs {doxa:?}"
    );
}

/// White foreground is black foreground on the inverted images, in both definitions.
#[test]
fn white_foreground_is_the_inverse() {
    let (_, gt, pred, _, _) = vendored().into_iter().next().unwrap();
    let (gt, pred) = (read(&gt), read(&pred));
    let invert = |img: &GrayImage| {
        let mut i = img.clone();
        i.pixels_mut().for_each(|p| p.0[0] = 255 - p.0[0]);
        i
    };
    for like in [Like::Dibco, Like::Doxa] {
        let black = evaluate(
            &pred,
            &gt,
            &EvalOptions {
                foreground: Foreground::Black,
                like,
            },
        )
        .unwrap();
        let white = evaluate(
            &invert(&pred),
            &invert(&gt),
            &EvalOptions {
                foreground: Foreground::White,
                like,
            },
        )
        .unwrap();
        assert_eq!(black.confusion, white.confusion);
        assert_eq!(black.drd, white.drd);
        assert_eq!(black.f_measure, white.f_measure);
    }
}

#[test]
fn edge_cases() {
    let gt = GrayImage::from_fn(20, 12, |x, _| image::Luma([if x < 5 { 0 } else { 255 }]));
    // No foreground predicted: F-measure undefined (doxa's NaN), recall 0, MCC 0.
    let white = GrayImage::from_pixel(20, 12, image::Luma([255]));
    let m = evaluate(&white, &gt, &EvalOptions::default()).unwrap();
    assert!(m.f_measure.is_nan());
    assert_eq!(m.recall, 0.0);
    assert_eq!(m.mcc, 0.0);
    assert_eq!(m.confusion.fn_, 60);
    // Everything foreground: recall 100, precision = the foreground share.
    let black = GrayImage::from_pixel(20, 12, image::Luma([0]));
    let m = evaluate(&black, &gt, &EvalOptions::default()).unwrap();
    assert_eq!(m.recall, 100.0);
    assert_eq!(m.precision, 25.0);
    // A uniform ground truth has no non-uniform block: DRD divides by zero.
    let m = evaluate(&gt, &white, &EvalOptions::default()).unwrap();
    assert_eq!(m.nubn, 0);
    assert!(m.drd.is_infinite());
    let m = evaluate(&white, &white, &EvalOptions::default()).unwrap();
    assert!(m.drd.is_nan() && m.psnr.is_infinite());
    // Sizes must match: one clear line.
    let small = GrayImage::new(19, 12);
    let e = evaluate(&small, &gt, &EvalOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "the result is 19×12 but the ground truth is 20×12: they must be the same size"
    );
    assert!(
        evaluate(
            &GrayImage::new(0, 0),
            &GrayImage::new(0, 0),
            &EvalOptions::default()
        )
        .is_err()
    );
}

/// The figures do not depend on the worker count (integer counts, one final division).
#[test]
fn same_figures_on_any_worker_count() {
    let (_, gt, pred, _, _) = vendored().into_iter().last().unwrap();
    let (gt, pred) = (read(&gt), read(&pred));
    let mut seen = Vec::new();
    for workers in [1, 2, 3] {
        let pool = WorkerPool::build(workers).unwrap();
        for like in [Like::Dibco, Like::Doxa] {
            let opts = EvalOptions {
                like,
                ..Default::default()
            };
            seen.push((
                workers,
                like,
                pool.install(|| evaluate(&pred, &gt, &opts).unwrap()),
            ));
        }
    }
    for (w, like, m) in &seen {
        let first = seen.iter().find(|s| s.1 == *like).unwrap();
        assert_eq!(m, &first.2, "{w} workers, {like}");
    }
}

/// DIBCO's DRD straight from its definition: for each wrong pixel, Σ |GT(i,j) − B(x,y)| ·
/// W(i,j) over the 5×5 block with W = (1/d) / Σ(1/d); NUBN = the 8×8 blocks of the ground
/// truth (partial ones included) holding both values.
fn naive_dibco_drd(pred: &GrayImage, gt: &GrayImage) -> f64 {
    let (w, h) = gt.dimensions();
    let bin = |img: &GrayImage, x: u32, y: u32| u8::from(img.get_pixel(x, y).0[0] < 128);
    let mut wts = [[0.0f64; 5]; 5];
    let mut total = 0.0;
    for (i, row) in wts.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let d = (((i as f64) - 2.0).powi(2) + ((j as f64) - 2.0).powi(2)).sqrt();
            if d > 0.0 {
                *v = 1.0 / d;
                total += *v;
            }
        }
    }
    let mut sum = 0.0;
    for y in 0..h {
        for x in 0..w {
            let b = bin(pred, x, y);
            if b == bin(gt, x, y) {
                continue;
            }
            for (i, row) in wts.iter().enumerate() {
                for (j, wt) in row.iter().enumerate() {
                    let (gx, gy) = (x as i64 + j as i64 - 2, y as i64 + i as i64 - 2);
                    if gx < 0 || gy < 0 || gx >= w as i64 || gy >= h as i64 {
                        continue;
                    }
                    let g = bin(gt, gx as u32, gy as u32);
                    sum += (g as f64 - b as f64).abs() * wt / total;
                }
            }
        }
    }
    let mut nubn = 0;
    for by in (0..h).step_by(8) {
        for bx in (0..w).step_by(8) {
            let mut seen = [false; 2];
            for y in by..(by + 8).min(h) {
                for x in bx..(bx + 8).min(w) {
                    seen[bin(gt, x, y) as usize] = true;
                }
            }
            nubn += u32::from(seen[0] && seen[1]);
        }
    }
    sum / nubn as f64
}

fn binary_image(w: u32, h: u32, bits: &[bool]) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if bits[(y * w + x) as usize % bits.len()] {
            0
        } else {
            255
        }])
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// On random binary pairs of any size (partial blocks, images narrower than the 5×5
    /// block), DIBCO's DRD and the confusion counts equal the naive definitions.
    #[test]
    fn drd_equals_its_definition(
        w in 1u32..30, h in 1u32..30,
        gt_bits in prop::collection::vec(any::<bool>(), 1..200),
        flips in prop::collection::vec(any::<bool>(), 1..97),
    ) {
        let gt = binary_image(w, h, &gt_bits);
        let pred = GrayImage::from_fn(w, h, |x, y| {
            let v = gt.get_pixel(x, y).0[0];
            image::Luma([if flips[((y * w + x) as usize) % flips.len()] { 255 - v } else { v }])
        });
        let m = evaluate(&pred, &gt, &EvalOptions::default()).unwrap();
        let naive = naive_dibco_drd(&pred, &gt);
        prop_assert!(close(m.drd, naive, 1e-9), "drd {} naive {}", m.drd, naive);
        let wrong = pred.pixels().zip(gt.pixels()).filter(|(a, b)| a != b).count() as u64;
        prop_assert_eq!(m.confusion.fp + m.confusion.fn_, wrong);
        prop_assert_eq!(m.confusion.total(), u64::from(w * h));
    }
}

fn pseudo_dir() -> PathBuf {
    data().join("pseudo")
}

/// A 0/255 PNG as booleans (255 = true).
fn mask_of(path: &Path) -> Vec<bool> {
    read(path).pixels().map(|p| p.0[0] == 255).collect()
}

/// The skeleton the pseudo-recall counts is scikit-image's `thin` of the ground truth's
/// foreground, pixel for pixel, on every vendored ground truth and on random blobs; the
/// pseudo-F-measure equals the one computed from it (`scripts/make_pseudo_golden.py`).
#[test]
fn pseudo_f_uses_scikit_images_skeleton() {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(pseudo_dir().join("pseudo.json")).unwrap())
            .unwrap();
    let cases = vendored();
    let mut failures = Vec::new();
    for p in meta["pairs"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let (_, gt, pred, _, _) = cases.iter().find(|c| c.0 == id).unwrap();
        let truth = read(gt);
        let prepared = tessera_engine::metrics::PreparedTruth::new(&truth, &EvalOptions::default());
        let want = mask_of(&pseudo_dir().join(p["skeleton"].as_str().unwrap()));
        let got: Vec<bool> = prepared.skeleton().pixels().map(|p| p.0[0] == 1).collect();
        if got != want {
            let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            failures.push(format!("{id}: skeleton differs in {diff} pixels"));
            continue;
        }
        let m = prepared.evaluate(&read(pred)).unwrap();
        for (k, v) in [
            ("pseudo_recall", m.pseudo_recall.unwrap()),
            ("pseudo_f_measure", m.pseudo_f_measure.unwrap()),
        ] {
            let w = number(&p[k]);
            if !close(v, w, 1e-9) {
                failures.push(format!("{id}: {k} {v} (scikit-image {w})"));
            }
        }
        // evaluate() gives the same as the prepared truth.
        let again = evaluate(&read(pred), &truth, &EvalOptions::default()).unwrap();
        assert_eq!(format!("{again:?}"), format!("{m:?}"), "NaN-aware");
    }
    for b in meta["blobs"].as_array().unwrap() {
        let img = read(&pseudo_dir().join(b["image"].as_str().unwrap()));
        let prepared = tessera_engine::metrics::PreparedTruth::new(&img, &EvalOptions::default());
        let want = mask_of(&pseudo_dir().join(b["skeleton"].as_str().unwrap()));
        let got: Vec<bool> = prepared.skeleton().pixels().map(|p| p.0[0] == 1).collect();
        if got != want {
            failures.push(format!("{}: skeleton differs", b["image"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
