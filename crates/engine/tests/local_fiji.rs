//! Fiji Auto Local Threshold 1.11.0 (`ops::local::fiji`) against the golden-methods pack.
//!
//! * Vendored cases: `tests/data/local/fiji/` holds the pack's small inputs (camera_small, the
//!   noise images, the adversarial images) and all their `fiji_alt` masks, listed in
//!   `cases.json` (made by `scripts/vendor_local_golden.py`); every one must match exactly.
//! * The whole pack: when `../../../shared/golden-methods` (from this crate) exists, all its
//!   `fiji_alt` cases (1230) are checked too; otherwise that part says it was skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use tessera_engine::ops::local::fiji::{FijiLocal, FijiParams, fiji_local};

struct Case {
    id: String,
    method: FijiLocal,
    params: FijiParams,
    input: PathBuf,
    expected: PathBuf,
}

fn parse_cases(root: &Path, cases: &[Value], part_filter: bool) -> Vec<Case> {
    cases
        .iter()
        .filter(|c| !part_filter || c["part"] == "fiji_alt")
        .map(|c| {
            let p = &c["params"];
            let method = c["method"].as_str().unwrap();
            Case {
                id: c["id"].as_str().unwrap().to_string(),
                method: FijiLocal::from_name(method).unwrap_or_else(|| panic!("method {method}")),
                params: FijiParams {
                    radius: p["radius"].as_u64().unwrap() as u32,
                    p1: p["parameter_1"].as_f64().unwrap(),
                    p2: p["parameter_2"].as_f64().unwrap(),
                    white_objects: p["white_objects_on_black_background"].as_bool().unwrap(),
                },
                input: root.join(c["input"].as_str().unwrap()),
                expected: root.join(c["expected"].as_str().unwrap()),
            }
        })
        .collect()
}

/// Per method name: (cases passed, cases).
type PerMethod = BTreeMap<&'static str, (usize, usize)>;

/// Runs every case; returns the counts per method and the failures (id, pixels differing).
fn run(cases: &[Case]) -> (PerMethod, Vec<(String, usize)>) {
    let results: Vec<(FijiLocal, String, usize)> = cases
        .par_iter()
        .map(|c| {
            let img = image::open(&c.input)
                .unwrap_or_else(|e| panic!("{}: {e}", c.input.display()))
                .into_luma8();
            let exp = image::open(&c.expected)
                .unwrap_or_else(|e| panic!("{}: {e}", c.expected.display()))
                .into_luma8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            assert_eq!(
                (exp.width() as usize, exp.height() as usize),
                (w, h),
                "{}",
                c.id
            );
            let got = fiji_local(c.method, &c.params, img.as_raw(), w, h);
            let diff = got.iter().zip(exp.as_raw()).filter(|(a, b)| a != b).count();
            (c.method, c.id.clone(), diff)
        })
        .collect();
    let mut per = BTreeMap::new();
    let mut failures = Vec::new();
    for (m, id, diff) in results {
        let e = per.entry(m.name()).or_insert((0, 0));
        e.1 += 1;
        if diff == 0 {
            e.0 += 1;
        } else {
            failures.push((id, diff));
        }
    }
    (per, failures)
}

fn report(what: &str, per: &PerMethod, failures: &[(String, usize)]) {
    let (pass, total) = per.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{what}: {pass}/{total} cases exact");
    for (m, (p, t)) in per {
        println!("  {m:<10} {p}/{t}");
    }
    if !failures.is_empty() {
        let first: Vec<String> = failures
            .iter()
            .take(20)
            .map(|(id, d)| format!("{id}: {d} pixels differ"))
            .collect();
        panic!(
            "{what}: {} of {total} cases differ; first:\n{}",
            failures.len(),
            first.join("\n")
        );
    }
}

#[test]
fn vendored_fiji_alt_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/local/fiji");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases.json")).unwrap()).unwrap();
    let cases = parse_cases(&root, doc["cases"].as_array().unwrap(), false);
    assert!(cases.len() >= 400, "vendored cases: {}", cases.len());
    let (per, failures) = run(&cases);
    assert_eq!(per.len(), 9, "every method is vendored");
    report("vendored fiji_alt", &per, &failures);
}

#[test]
fn golden_methods_pack_fiji_alt() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods");
    let manifest = root.join("manifest.json");
    if !manifest.exists() {
        println!(
            "golden-methods pack not at {}: skipped (only the vendored cases were checked)",
            root.display()
        );
        return;
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let cases = parse_cases(&root, doc["cases"].as_array().unwrap(), true);
    assert_eq!(cases.len(), 1230, "fiji_alt cases in the pack");
    let (per, failures) = run(&cases);
    report("golden-methods fiji_alt", &per, &failures);
}

/// Timings of `fiji_local` on a 2000×2000 random image at radius 5 and 50 (run with
/// `cargo test -p tessera-engine --test local_fiji -- --ignored --nocapture`; the engine is
/// built with opt-level 3 in the test profile).
#[test]
#[ignore]
fn timing_2000x2000() {
    let (w, h) = (2000usize, 2000usize);
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let img: Vec<u8> = (0..w * h)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    for radius in [5, 50] {
        for method in FijiLocal::ALL {
            let p = FijiParams {
                radius,
                p1: 0.0,
                p2: 0.0,
                white_objects: true,
            };
            let t = std::time::Instant::now();
            let out = fiji_local(method, &p, &img, w, h);
            let dt = t.elapsed();
            assert_eq!(out.len(), w * h);
            println!(
                "r{radius:<3} {:<10} {:>8.3} s",
                method.name(),
                dt.as_secs_f64()
            );
        }
    }
}
