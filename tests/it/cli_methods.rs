//! `tessera run --op NAME` for every method: each is reachable from the command line, its
//! output is the engine's, and the documented example calls equal their oracles' masks
//! (OpenCV contrib's niBlackThreshold, Fiji's Auto Local Threshold) from the vendored pack.

use std::path::{Path, PathBuf};

use crate::common::{s, tessera};
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::{Control, JobConfig, SourceImage, job};

fn local_data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/local")
        .join(p)
}

fn gray(p: &Path) -> image::GrayImage {
    image::open(p).unwrap().into_luma8()
}

/// Runs `tessera run INPUT -o OUT ARGS...` and returns the output image.
fn run(input: &Path, out: &Path, args: &[&str]) -> image::GrayImage {
    let mut a = vec!["run", s(input), "-o", s(out), "--workers", "2"];
    a.extend_from_slice(args);
    let o = tessera(&a);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    gray(out)
}

#[test]
fn every_method_runs_from_the_command_line_and_equals_the_engine() {
    let input = local_data("niblack/inputs/gray8/camera_small.png");
    let dir = tempfile::tempdir().unwrap();
    let src = SourceImage::gray(gray(&input));
    let o = tessera(&["methods", "--json"]);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.len(), OpKind::ALL.len());
    let mut ran = 0;
    for m in &list {
        let name = m["name"].as_str().unwrap();
        let anchors: Vec<Option<&str>> = match m["anchors"].as_array().unwrap().as_slice() {
            [] => vec![None],
            a => a.iter().map(|x| x.as_str()).collect(),
        };
        for like in anchors {
            let out = dir.path().join(format!("{name}-{like:?}.png"));
            let mut args = vec!["--op", name];
            args.extend(like.iter().flat_map(|l| ["--like", l]));
            let got = run(&input, &out, &args);
            let settings = OpSettings {
                op: name.parse().unwrap(),
                like: like.map(|l| l.parse().unwrap()),
                ..OpSettings::default()
            };
            let op = settings.to_op().unwrap();
            let cfg = JobConfig {
                workers: 1,
                tile: tessera_engine::TileSize::Auto,
            };
            let want = job::run(&src, &op, &cfg, &Control::new())
                .unwrap()
                .image
                .into_gray8()
                .unwrap();
            assert_eq!(got, want, "{name} like {like:?}");
            ran += 1;
        }
    }
    // 35 ops; otsu, triangle, niblack, sauvola: 3 implementations; 15 global methods: 2.
    assert_eq!(ran, 35 + 4 * 2 + 15, "ran {ran}");
}

/// The issue's example: `--op sauvola --like opencv --block-size 25 --k 0.2 --r 128` equals
/// `cv2.ximgproc.niBlackThreshold(gray, 255, THRESH_BINARY, 25, 0.2,
/// binarizationMethod=BINARIZATION_SAUVOLA, r=128)`, and likewise niblack, wolf and nick.
#[test]
fn opencv_contrib_calls_equal_their_masks() {
    let dir = tempfile::tempdir().unwrap();
    let input = local_data("niblack/inputs/gray8/camera_small.png");
    for (op, method, k, kname) in [
        ("sauvola", "SAUVOLA", "0.2", "k0p2"),
        ("niblack", "NIBLACK", "-0.2", "kneg0p2"),
        ("wolf", "WOLF", "0.5", "k0p5"),
        ("nick", "NICK", "-0.2", "kneg0p2"),
    ] {
        for (ty, cv) in [
            ("binary", "THRESH_BINARY"),
            ("binary-inv", "THRESH_BINARY_INV"),
        ] {
            let out = dir.path().join(format!("{op}-{ty}.png"));
            let got = run(
                &input,
                &out,
                &[
                    "--op",
                    op,
                    "--like",
                    "opencv",
                    "--block-size",
                    "25",
                    "--k",
                    k,
                    "--r",
                    "128",
                    "--type",
                    ty,
                ],
            );
            let stem = format!(
                "niblack/expected/opencv_niblack/gray8__camera_small/{method}_bs25_{kname}_{cv}"
            );
            let want = gray(&local_data(&format!("{stem}.png")));
            let amb = local_data(&format!("{stem}.ambiguous.png"));
            let amb = amb.exists().then(|| gray(&amb));
            let differ = got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .enumerate()
                .filter(|(i, (a, b))| a != b && amb.as_ref().is_none_or(|m| m.as_raw()[*i] == 0))
                .count();
            assert_eq!(differ, 0, "{op} {ty}");
        }
    }
}

#[test]
fn fiji_calls_equal_their_masks() {
    let dir = tempfile::tempdir().unwrap();
    let input = local_data("fiji/inputs/gray8/camera_small.png");
    for (op, fiji, extra) in [
        ("bernsen", "Bernsen", vec![]),
        ("local-otsu", "Otsu", vec![]),
        ("phansalkar", "Phansalkar", vec![]),
        ("median", "Median", vec![]),
        ("sauvola", "Sauvola", vec!["--like", "fiji"]),
    ] {
        let out = dir.path().join(format!("{op}.png"));
        let mut args = vec!["--op", op, "--radius", "15"];
        args.extend(extra);
        let got = run(&input, &out, &args);
        let want = gray(&local_data(&format!(
            "fiji/expected/fiji_alt/gray8__camera_small/{fiji}_r15_p1_0p0_p2_0p0_white.png"
        )));
        assert!(got == want, "{op} differs from Fiji");
    }
}

#[test]
fn bad_method_options_are_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = local_data("niblack/inputs/gray8/camera_small.png");
    let out = dir.path().join("o.png");
    for (args, needle) in [
        (vec!["--op", "bradley", "--t", "150"], "t is a percentage"),
        (
            vec!["--op", "huang", "--like", "opencv"],
            "use --like imagej or fiji",
        ),
        (
            vec!["--op", "local-otsu", "--radius", "0"],
            "radius must be between 1",
        ),
        (vec!["--op", "sauvola", "--r", "0"], "r must not be 0"),
        (
            vec!["--op", "sauvola", "--k", "nan"],
            "k must be a finite number",
        ),
        (
            vec!["--op", "median", "--type", "trunc"],
            "binary and binary-inv",
        ),
        (
            vec!["--op", "niblack", "--like", "matlab"],
            "unknown implementation",
        ),
    ] {
        let mut a = vec!["run", s(&input), "-o", s(&out)];
        a.extend(args.iter().copied());
        let o = tessera(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!out.exists());
    }
}

/// `--op multi-otsu`: the levels are scikit-image's (the vendored pack case of this image), the
/// output is each pixel's class spread over `--max-value`, and `tessera levels --json` has
/// `multi_otsu_3`.
#[test]
fn multi_otsu_gives_scikit_image_levels_and_a_label_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = local_data("niblack/inputs/gray8/camera_small.png");
    let cases: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("crates/engine/tests/data/multi_otsu/cases.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let want: Vec<i64> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "skimage/gray8/camera_small/native/threshold_multiotsu_classes3")
        .unwrap()["expected"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let out = dir.path().join("labels.png");
    let o = tessera(&[
        "run",
        s(&input),
        "-o",
        s(&out),
        "--op",
        "multi-otsu",
        "--classes",
        "3",
        "--max-value",
        "2",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let levels: Vec<i64> = report["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(levels, want);
    let src = gray(&input);
    let labels = gray(&out);
    for (&v, &l) in src.as_raw().iter().zip(labels.as_raw()) {
        let class = want.iter().filter(|&&t| t <= v as i64).count() as u8;
        assert_eq!(l, class, "value {v}");
    }
    let o = tessera(&["levels", s(&input), "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["multi_otsu_3"], serde_json::json!(want));
    let o = tessera(&[
        "run",
        s(&input),
        "-o",
        s(&out),
        "--op",
        "multi-otsu",
        "--classes",
        "6",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("classes must be between 2 and 5"));
}
