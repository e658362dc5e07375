//! `tessera levels`: every global method's level, against ImageJ's and Fiji's own levels for
//! the 8-bit histograms vendored from the golden-methods pack.

use std::path::Path;

use crate::common::{s, tessera};

/// An 8-bit PGM whose histogram is `hist` (pixels in level order), as close to square as the
/// pixel count allows within 65535 pixels per side.
fn image_with_histogram(path: &Path, hist: &[u64]) {
    let n: u64 = hist.iter().sum();
    let w = (1..=n.min(65_535))
        .rev()
        .find(|w| n.is_multiple_of(*w) && n / w <= 65_535 && *w * *w <= n.max(1) * 4)
        .expect("a width");
    let mut bytes = format!("P5 {w} {} 255\n", n / w).into_bytes();
    for (v, &c) in hist.iter().enumerate() {
        bytes.extend(std::iter::repeat_n(v as u8, c as usize));
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn levels_json_equals_imagej_and_fiji_on_every_vendored_8_bit_histogram() {
    let vendored =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/data/methods/levels.json");
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vendored).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, e) in root["inputs"].as_object().unwrap() {
        if e["bitdepth"] != 8 {
            continue;
        }
        let hist: Vec<u64> = e["hist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let img = dir.path().join(format!("{}.pgm", name.replace('/', "_")));
        image_with_histogram(&img, &hist);
        for (like, key) in [("imagej", "imagej"), ("fiji", "fiji")] {
            let o = tessera(&["levels", s(&img), "--json", "--like", like]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let want = e[key].as_object().unwrap();
            for (method, w) in want {
                // ImageJ's entry: [level, raw, light range, dark range]; Fiji's: the level
                // (negative: none).
                let want_level = if key == "imagej" { &w[0] } else { w };
                let want_level = want_level.as_i64().unwrap();
                // Keyed by ImageJ's names (Fiji's "MinError(I)" is ImageJ's "MinError").
                let m: tessera_engine::ops::auto::AutoMethod = method.parse().unwrap();
                let g = &got[m.to_string().as_str()];
                if want_level < 0 {
                    assert!(
                        g.is_null(),
                        "{name} {like} {method}: {g} (oracle {want_level})"
                    );
                } else {
                    assert_eq!(g.as_i64(), Some(want_level), "{name} {like} {method}");
                }
                checked += 1;
            }
            let n_methods = got.as_object().unwrap().len();
            assert_eq!(
                n_methods,
                // + multi_otsu_3 and multi_otsu_4 (scikit-image's).
                if like == "imagej" { 17 + 2 } else { 18 + 2 },
                "{name} {like}"
            );
        }
    }
    assert!(checked >= 43 * 17, "{checked} levels checked");
}

#[test]
fn levels_prints_a_table_and_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("a.pgm");
    image_with_histogram(&img, &{
        let mut h = vec![0u64; 256];
        h[30] = 500;
        h[200] = 700;
        h
    });
    let o = tessera(&["levels", s(&img)]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("ImageJ 1.53t AutoThresholder"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("Otsu")),
        "{text}"
    );
    let o = tessera(&["levels", s(&img), "--like", "matlab"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
    let o = tessera(&["levels", s(&dir.path().join("missing.png"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such file"));
}

#[test]
fn methods_lists_every_operation_and_every_global_method_with_its_anchor() {
    let o = tessera(&["methods", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|m| m["name"].as_str().unwrap()).collect();
    for op in tessera_engine::ops::OpKind::ALL {
        assert!(names.contains(&op.name()), "{op:?} missing: {names:?}");
    }
    let ij_names: Vec<&str> = list
        .iter()
        .filter_map(|m| m["imagej_name"].as_str())
        .collect();
    for m in tessera_engine::ops::auto::AutoMethod::ALL {
        let n = m.to_string();
        // Every global method `tessera levels` prints is an op, under ImageJ's name.
        assert!(ij_names.contains(&n.as_str()), "{n} missing: {ij_names:?}");
    }
    assert_eq!(list.len(), tessera_engine::ops::OpKind::ALL.len());
    for m in &list {
        for key in ["family", "anchor", "summary", "parameters", "use"] {
            assert!(!m[key].as_str().unwrap().is_empty(), "{m}: {key}");
        }
    }
    let text = tessera(&["methods"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("OpenCV operations") && text.contains("Global automatic levels"));
    assert!(text.contains("Local methods"));
}
