//! scikit-image 0.26 `threshold_multiotsu` (3 and 4 classes) against the golden-methods pack:
//! the vendored histograms (`tests/data/multi_otsu/cases.json`, made by
//! `scripts/vendor_multi_otsu.py`) always, and the pack's PNGs
//! (`../../../shared/golden-methods` from this crate) when it is present.
//!
//! Every `ok` case must give exactly the oracle's levels, every `exception` case an error;
//! `not_run` cases (16-bit inputs with more than 16 384 integer bins, which the pack did not
//! run) are reported: 3 classes must give levels, 4 classes must be refused as infeasible.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use tessera_engine::ops::auto::multi_otsu::{
    MultiOtsuError, digitize_u8, multi_otsu, multi_otsu_u8, multi_otsu_u16, multi_otsu_u16_as_f64,
};

fn vendored_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/multi_otsu/cases.json")
}

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods")
}

/// The 4-class search on the 4096-bin 12-bit image visits 1.1 · 10¹⁰ combinations (skimage:
/// 133 s), and the pack's `not_run` 3-class cases on up to 65 536 bins take seconds each (all
/// but one): they run only with `TESSERA_SLOW=1`.
fn slow_enabled() -> bool {
    std::env::var("TESSERA_SLOW").is_ok_and(|v| v == "1")
}

fn is_slow(id: &str) -> bool {
    id.contains("cam12_in16/native/threshold_multiotsu_classes4")
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Levels(Vec<f64>),
    Error(MultiOtsuError),
}

fn outcome_i(r: Result<Vec<i64>, MultiOtsuError>) -> Outcome {
    match r {
        Ok(v) => Outcome::Levels(v.into_iter().map(|x| x as f64).collect()),
        Err(e) => Outcome::Error(e),
    }
}

fn outcome_f(r: Result<Vec<f64>, MultiOtsuError>) -> Outcome {
    match r {
        Ok(v) => Outcome::Levels(v),
        Err(e) => Outcome::Error(e),
    }
}

#[derive(Default, Debug)]
struct Tally {
    /// (8-bit, 16-bit native, as_float64) passes.
    pass: [usize; 3],
    total: [usize; 3],
    not_run: Vec<String>,
    skipped_slow: Vec<String>,
    failures: Vec<String>,
}

fn group(case: &Value) -> usize {
    if case["dtype"] == "float64" || case["params"]["input_dtype"] == "float64" {
        2
    } else if case["bitdepth"] == 16 {
        1
    } else {
        0
    }
}

/// Compares `got` with the case's `expected`, recording the result.
fn check(t: &mut Tally, id: &str, g: usize, expected: &Value, got: &Outcome) {
    t.total[g] += 1;
    let ok = match expected["status"].as_str() {
        Some("ok") => {
            let want: Vec<f64> = expected["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect();
            *got == Outcome::Levels(want)
        }
        Some("exception") => matches!(got, Outcome::Error(MultiOtsuError::TooFewValues { .. })),
        s => panic!("{id}: unexpected status {s:?}"),
    };
    if ok {
        t.pass[g] += 1;
    } else {
        t.failures
            .push(format!("{id}: expected {expected}, got {got:?}"));
    }
}

fn report(what: &str, t: &Tally) {
    println!(
        "{what}: 8-bit {}/{}, 16-bit native {}/{}, as_float64 {}/{}; not_run {}; slow skipped {}",
        t.pass[0],
        t.total[0],
        t.pass[1],
        t.total[1],
        t.pass[2],
        t.total[2],
        t.not_run.len(),
        t.skipped_slow.len()
    );
    for n in &t.not_run {
        println!("  not_run: {n}");
    }
    for n in &t.skipped_slow {
        println!("  skipped (set TESSERA_SLOW=1): {n}");
    }
    assert!(
        t.failures.is_empty(),
        "{} failures:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

/// A case the oracle did not run: 3 classes must give ascending levels within the image's
/// range, 4 classes must be refused as an infeasible search.
fn not_run_outcome(id: &str, classes: usize, got: &Outcome) -> String {
    match (classes, got) {
        (3, Outcome::Levels(v)) => {
            assert!(v.len() == 2 && v[0] < v[1], "{id}: {v:?}");
            format!("{id}: {v:?} (no oracle)")
        }
        (4, Outcome::Error(e @ MultiOtsuError::TooManyCombinations { .. })) => {
            format!("{id}: refused: {e}")
        }
        _ => panic!("{id}: unexpected {got:?}"),
    }
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("u64"))
        .collect()
}

#[test]
fn vendored_cases() {
    let text = std::fs::read_to_string(vendored_path()).expect("cases.json");
    let json: Value = serde_json::from_str(&text).expect("json");
    let cases = json["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 138);
    let mut t = Tally::default();
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let classes = case["classes"].as_u64().expect("classes") as usize;
        let g = group(case);
        let expected = &case["expected"];
        if expected["status"] == "not_run" {
            t.not_run.push(format!("{id} ({} bins)", case["bins"]));
            continue;
        }
        if is_slow(id) && !slow_enabled() {
            t.skipped_slow.push(id.to_string());
            continue;
        }
        let got = if g == 2 {
            // Rebuild an image with the same range and 256-bin histogram.
            let mut pixels = Vec::new();
            for pair in case["values"].as_array().expect("values") {
                let v = pair[0].as_u64().expect("v") as u16;
                let c = pair[1].as_u64().expect("c") as usize;
                pixels.extend(std::iter::repeat_n(v, c));
            }
            outcome_f(multi_otsu_u16_as_f64(&pixels, classes, 256))
        } else {
            let first = case["first"].as_i64().expect("first");
            let counts = u64s(&case["counts"]);
            let got = outcome_i(multi_otsu(&counts, first, classes));
            if g == 0 {
                // The same through the 8-bit image path.
                let pixels: Vec<u8> = counts
                    .iter()
                    .enumerate()
                    .flat_map(|(k, &c)| std::iter::repeat_n((first + k as i64) as u8, c as usize))
                    .collect();
                let via_image = outcome_i(multi_otsu_u8(&pixels, classes));
                assert_eq!(via_image, got, "{id}: u8 path");
                if let Outcome::Levels(l) = &got {
                    let th: Vec<i64> = l.iter().map(|&x| x as i64).collect();
                    let labels = digitize_u8(&pixels, &th);
                    assert!(labels.iter().all(|&c| (c as usize) < classes), "{id}");
                }
            }
            got
        };
        check(&mut t, id, g, expected, &got);
    }
    report("vendored", &t);
    assert_eq!(
        t.pass[0] + t.pass[1] + t.pass[2] + t.not_run.len() + t.skipped_slow.len(),
        138
    );
}

/// Samples of a gray PNG of the pack (8- or 16-bit, stored values as they are).
fn load_gray(path: &Path) -> (u32, Vec<u16>) {
    let img =
        tessera_engine::image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match img {
        tessera_engine::image::DynamicImage::ImageLuma8(b) => {
            (8, b.into_raw().into_iter().map(u16::from).collect())
        }
        tessera_engine::image::DynamicImage::ImageLuma16(b) => (16, b.into_raw()),
        other => panic!("{}: unexpected {:?}", path.display(), other.color()),
    }
}

#[test]
fn whole_pack_when_present() {
    let pack = pack_dir();
    let manifest = pack.join("manifest.json");
    if !manifest.exists() {
        println!(
            "golden-methods pack not found at {}: skipped",
            pack.display()
        );
        return;
    }
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let json: Value = serde_json::from_str(&text).expect("manifest json");
    let mut t = Tally::default();
    let mut n = 0;
    for case in json["cases"].as_array().expect("cases") {
        let method = case["method"].as_str().unwrap_or("");
        let Some(classes) = method.strip_prefix("threshold_multiotsu_classes") else {
            continue;
        };
        n += 1;
        let classes: usize = classes.parse().expect("classes");
        let id = case["id"].as_str().expect("id");
        let expected = &case["expected"];
        let dtype = case["params"]["input_dtype"].as_str().expect("input_dtype");
        let (depth, pixels) = load_gray(&pack.join(case["input"].as_str().expect("input")));
        assert_eq!(Some(depth as u64), case["bitdepth"].as_u64(), "{id}");
        let g = group(case);
        if is_slow(id) && !slow_enabled() {
            t.skipped_slow.push(id.to_string());
            continue;
        }
        let run = || match (dtype, depth) {
            ("float64", _) => outcome_f(multi_otsu_u16_as_f64(&pixels, classes, 256)),
            ("uint8", 8) => {
                let p: Vec<u8> = pixels.iter().map(|&v| v as u8).collect();
                outcome_i(multi_otsu_u8(&p, classes))
            }
            ("uint16", 16) => outcome_i(multi_otsu_u16(&pixels, classes)),
            other => panic!("{id}: unexpected {other:?}"),
        };
        if expected["status"] == "not_run" {
            // A 3-class search on ~65 536 bins takes seconds: by default only the smallest.
            if classes == 3 && !slow_enabled() && !id.contains("fluo16_small") {
                t.skipped_slow.push(id.to_string());
                continue;
            }
            let start = Instant::now();
            let got = run();
            let line = not_run_outcome(id, classes, &got);
            t.not_run
                .push(format!("{line} [{:.2} s]", start.elapsed().as_secs_f64()));
            continue;
        }
        let got = run();
        check(&mut t, id, g, expected, &got);
    }
    assert_eq!(n, 138);
    report("pack", &t);
}
