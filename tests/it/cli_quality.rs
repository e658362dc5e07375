//! `tessera eval`, `run --ground-truth`, `batch --ground-truth` and `tune`, run as a user runs
//! them, on the golden pack's documents and doxa's metric pairs (vendored in
//! `crates/engine/tests/data/metrics`).

use std::path::{Path, PathBuf};

use crate::common::{s, tessera};

fn metrics_data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/metrics")
        .join(p)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn eval_prints_every_metric_as_doxa_does() {
    let gt = metrics_data("files/doc01_gt.png");
    let pred = metrics_data("files/documents__doc01_degraded__OTSU.png");
    let v = json(&tessera(&[
        "eval",
        s(&pred),
        s(&gt),
        "--json",
        "--like",
        "doxa",
    ]));
    for key in [
        "precision",
        "recall",
        "f_measure",
        "pseudo_f_measure",
        "psnr",
        "nrm",
        "mcc",
        "drd",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    // DIBCO 2010's pseudo-F (the skeleton's share found): a percentage.
    let pf = v["pseudo_f_measure"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&pf), "{pf}");
    assert!(v["pseudo_recall"].as_f64().unwrap() >= v["recall"].as_f64().unwrap() - 5.0);
    // doxapy 0.9.2 on this pair (the pack's manifest).
    let close = |k: &str, want: f64| {
        let got = v[k].as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{k}: {got} vs {want}");
    };
    close("f_measure", 99.20817193980736);
    close("psnr", 27.155692661554806);
    close("nrm", 0.0015115483599344281);
    close("mcc", 0.9910171869512888);
    close("drd", 0.11972935363457761);
    // A perfect result: PSNR is infinite, written as the string "Infinity".
    let v = json(&tessera(&["eval", s(&gt), s(&gt), "--json"]));
    assert_eq!(v["psnr"], "Infinity");
    assert_eq!(v["f_measure"], 100.0);
}

#[test]
fn eval_errors_are_one_line_with_the_right_exit_code() {
    let gt = metrics_data("files/doc01_gt.png");
    let small = metrics_data("files/edge_crop37x29.groundtruth.png");
    let out = tessera(&["eval", s(&small), s(&gt)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the result is 29×37 but the ground truth is 400×300"),
        "{err}"
    );
    let out = tessera(&["eval", "/nonexistent.png", s(&gt)]);
    assert_eq!(out.status.code(), Some(1));
    let out = tessera(&["eval", s(&gt), s(&gt), "--foreground", "grey"]);
    assert_eq!(out.status.code(), Some(2));
    // The overlay never replaces an input.
    let out = tessera(&["eval", s(&gt), s(&gt), "--overlay", s(&gt)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("it would be overwritten"));
}

#[test]
fn eval_draws_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gt = metrics_data("files/doc02_gt.png");
    let pred = metrics_data("files/documents__doc02_degraded__SAUVOLA.png");
    let overlay = dir.path().join("errors.png");
    let v = json(&tessera(&[
        "eval",
        s(&pred),
        s(&gt),
        "--json",
        "--overlay",
        s(&overlay),
    ]));
    let img = image::open(&overlay).unwrap().into_rgb8();
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count() as u64;
    use tessera_engine::metrics::{FALSE_NEGATIVE_RGB, FALSE_POSITIVE_RGB};
    assert_eq!(count(FALSE_POSITIVE_RGB), v["fp"].as_u64().unwrap());
    assert_eq!(count(FALSE_NEGATIVE_RGB), v["fn"].as_u64().unwrap());
}

#[test]
fn run_adds_the_metrics_eval_gives() {
    let dir = tempfile::tempdir().unwrap();
    let img = metrics_data("documents/images/doc03.png");
    let gt = metrics_data("documents/truth/doc03.png");
    let out = dir.path().join("r.png");
    let r = json(&tessera(&[
        "run",
        s(&img),
        "-o",
        s(&out),
        "--op",
        "sauvola",
        "--block-size",
        "25",
        "--ground-truth",
        s(&gt),
        "--json",
    ]));
    let e = json(&tessera(&["eval", s(&out), s(&gt), "--json"]));
    for k in [
        "f_measure",
        "psnr",
        "drd",
        "mcc",
        "nrm",
        "tp",
        "fp",
        "fn",
        "tn",
    ] {
        assert_eq!(r["metrics"][k], e[k], "{k}");
    }
    // The result may not go over the ground truth.
    let o = tessera(&[
        "run",
        s(&img),
        "-o",
        s(&gt),
        "--op",
        "otsu",
        "--ground-truth",
        s(&gt),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // A ground truth of another size fails and writes nothing.
    let other = dir.path().join("o.png");
    let small = metrics_data("files/edge_crop37x29.groundtruth.png");
    let o = tessera(&["run", s(&img), "-o", s(&other), "--ground-truth", s(&small)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!other.exists());
}

#[test]
fn batch_scores_each_file_and_lists_the_unscored() {
    let dir = tempfile::tempdir().unwrap();
    let gts = dir.path().join("gt");
    std::fs::create_dir(&gts).unwrap();
    for i in 1..=6 {
        std::fs::copy(
            metrics_data(&format!("documents/truth/doc0{i}.png")),
            gts.join(format!("doc0{i}.png")),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    let report = dir.path().join("report.json");
    let o = tessera(&[
        "batch",
        s(&metrics_data("documents/images")),
        "-o",
        s(&out),
        "--op",
        "otsu",
        "--ground-truth",
        s(&gts),
        "--report",
        s(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("6 scored, 2 not scored"), "{text}");
    assert!(
        text.contains("not scored: ") && text.contains("doc07.png"),
        "{text}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let q = &r["quality"];
    assert_eq!(q["scored"], 6);
    assert_eq!(q["unscored"], 2);
    assert_eq!(q["worst"].as_array().unwrap().len(), 5);
    let records = r["records"].as_array().unwrap();
    let scored: Vec<f64> = records
        .iter()
        .filter_map(|rec| rec["metrics"]["f_measure"].as_f64())
        .collect();
    assert_eq!(scored.len(), 6);
    let mean = scored.iter().sum::<f64>() / 6.0;
    assert!((q["stats"]["f_measure"]["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
    let unscored: Vec<&serde_json::Value> = records
        .iter()
        .filter(|rec| rec.get("ground_truth_error").is_some())
        .collect();
    assert_eq!(unscored.len(), 2);
    assert!(records.iter().all(|rec| rec["status"] == "written"));
    // The ground-truth folder cannot be the output folder.
    let o = tessera(&[
        "batch",
        s(&metrics_data("documents/images")),
        "-o",
        s(&gts),
        "--ground-truth",
        s(&gts),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is the ground-truth folder"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tune_finds_better_parameters_and_writes_its_table_and_heat_map() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.csv");
    let heat = dir.path().join("h.png");
    let v = json(&tessera(&[
        "tune",
        s(&metrics_data("documents/images")),
        "--ground-truth",
        s(&metrics_data("documents/truth")),
        "--op",
        "sauvola,otsu",
        "--grid",
        "block-size=11..41:10,k=0.1..0.3:0.1",
        "--table",
        s(&table),
        "--heatmap",
        s(&heat),
        "--json",
        "--workers",
        "2",
    ]));
    assert_eq!(v["rows"].as_array().unwrap().len(), 12 + 1);
    assert_eq!(v["best"]["method"], "sauvola");
    let best = v["best"]["mean"]["f_measure"].as_f64().unwrap();
    let otsu = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "otsu")
        .unwrap()["mean"]["f_measure"]
        .as_f64()
        .unwrap();
    assert!(best > otsu, "{best} vs otsu {otsu}");
    let csv = std::fs::read_to_string(&table).unwrap();
    assert_eq!(csv.lines().count(), 14);
    let png = image::open(&heat).unwrap();
    assert_eq!((png.width(), png.height()), (960, 560));
    // Usage errors before any work.
    let (images, truth) = (
        metrics_data("documents/images"),
        metrics_data("documents/truth"),
    );
    for (args, says) in [
        (vec!["--grid", "block-size=12"], "not a valid value"),
        (vec!["--grid", "q=1"], "unknown parameter"),
        (vec!["--heatmap", "x.jpg"], "give a .png file"),
    ] {
        let mut a = vec![
            "tune",
            s(&images),
            "--ground-truth",
            s(&truth),
            "--op",
            "sauvola",
        ];
        a.extend(args);
        let o = tessera(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}");
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
}
