//! `tessera run` as a user runs it: the real binary on temporary folders.

use std::path::Path;
use std::process::Output;

use crate::common::{data, s, tessera};

fn gray(p: &Path) -> Vec<u8> {
    image::open(p).unwrap().into_luma8().into_raw()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn default_op_is_adaptive_gaussian_and_matches_opencv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let o = tessera(&["run", s(&data("camera/input.png")), "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = data("camera/adaptive-gaussian_binary_block_size11_c2_max_value255.png");
    assert_eq!(gray(&out), gray(&expected));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("compute"), "{text}");
    assert!(text.contains("decode") && text.contains("encode"), "{text}");
}

#[test]
fn json_report_has_the_documented_keys_and_the_otsu_level() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("otsu.png");
    let o = tessera(&[
        "run",
        s(&data("chelsea/input.png")),
        "-o",
        s(&out),
        "--op",
        "otsu",
        "--workers",
        "3",
        "--tile",
        "64",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for key in [
        "op",
        "width",
        "height",
        "workers",
        "tile",
        "level",
        "decode_ms",
        "compute_ms",
        "encode_ms",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["op"], "otsu");
    assert_eq!(v["workers"], 3);
    assert_eq!(v["tile"], "64x64");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(451), Some(300))
    );
    // The level OpenCV found for this case, from the manifest.
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(data("manifest.json")).unwrap()).unwrap();
    let case = manifest
        .iter()
        .find(|c| c["expected"] == "chelsea/otsu_binary_thresh0_max_value255.png")
        .unwrap();
    assert_eq!(v["level"].as_f64(), case["level"].as_f64());
    assert_eq!(
        gray(&out),
        gray(&data("chelsea/otsu_binary_thresh0_max_value255.png"))
    );
}

#[test]
fn threshold_null_level_and_other_output_formats() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["tif", "bmp", "pgm", "jpg", "webp"] {
        let out = dir.path().join(format!("t.{ext}"));
        let o = tessera(&[
            "run",
            s(&data("coins/input.png")),
            "-o",
            s(&out),
            "--op",
            "threshold",
            "--type",
            "tozero-inv",
            "--thresh",
            "-3",
            "--json",
        ]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["level"].is_null());
        let back = image::open(&out).unwrap().into_luma8();
        assert_eq!(back.dimensions(), (384, 303));
        if ext != "jpg" && ext != "webp" {
            assert_eq!(
                back.into_raw(),
                gray(&data(
                    "coins/threshold_tozero-inv_threshneg3_max_value255.png"
                ))
            );
        }
    }
}

/// Asserts a one-line error, the exit code, and that nothing was written in `dir`.
fn assert_fails(o: &Output, code: i32, needle: &str, dir: &Path, before: usize) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    let now = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(now, before, "files were left behind in {}", dir.display());
}

#[test]
fn bad_inputs_fail_with_one_clear_line_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.png"), b"").unwrap();
    std::fs::write(d.join("notes.png"), b"just some text, not an image").unwrap();
    let png = std::fs::read(data("camera/input.png")).unwrap();
    std::fs::write(d.join("truncated.png"), &png[..png.len() / 2]).unwrap();
    let mut corrupt = png.clone();
    for b in corrupt.iter_mut().skip(200).take(4000) {
        *b ^= 0x5A;
    }
    std::fs::write(d.join("corrupt.png"), &corrupt).unwrap();
    let before = std::fs::read_dir(d).unwrap().count();
    let out = d.join("out.png");
    let run = |input: &str| tessera(&["run", s(&d.join(input)), "-o", s(&out)]);
    assert_fails(&run("missing.png"), 1, "no such file", d, before);
    assert_fails(&run("empty.png"), 1, "empty file", d, before);
    assert_fails(&run("notes.png"), 1, "not an image", d, before);
    assert_fails(&run("truncated.png"), 1, "truncated", d, before);
    assert_fails(&run("corrupt.png"), 1, "corrupt", d, before);
}

#[test]
fn usage_errors_exit_2_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = data("camera/input.png");
    let out = d.join("out.png");
    let run = |extra: &[&str]| {
        let mut a = vec!["run", s(&input), "-o", s(&out)];
        a.extend_from_slice(extra);
        tessera(&a)
    };
    assert_fails(&run(&["--block-size", "10"]), 2, "odd", d, 0);
    assert_fails(&run(&["--block-size", "1"]), 2, "at least 3", d, 0);
    assert_fails(
        &run(&["--op", "adaptive-mean", "--type", "trunc"]),
        2,
        "binary-inv",
        d,
        0,
    );
    assert_fails(&run(&["--workers", "0"]), 2, "workers", d, 0);
    // Parse errors are clap's: the error line, then a hint to try --help.
    let o = run(&["--tile", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("positive number of pixels"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--op", "sharpen"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown op"), "{}", stderr(&o));
    let o = run(&["--type", "median"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown type"), "{}", stderr(&o));
    let o = tessera(&["run", s(&input), "-o", s(&d.join("out.xyz"))]);
    assert_fails(&o, 2, "output format", d, 0);
}

#[test]
fn unwritable_output_fails_and_the_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = tessera(&[
        "run",
        s(&data("camera/input.png")),
        "-o",
        s(&d.join("no/such/folder/out.png")),
    ]);
    assert_fails(&o, 1, "cannot write", d, 0);

    let input = d.join("in.png");
    std::fs::copy(data("camera/input.png"), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let o = tessera(&["run", s(&input), "-o", s(&input)]);
    assert_fails(&o, 2, "that is an input of this command", d, 1);
    assert_eq!(std::fs::read(&input).unwrap(), original);
}

#[test]
fn help_lists_the_subcommands() {
    let o = tessera(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for sub in ["run", "batch", "bench"] {
        assert!(text.contains(sub), "{text}");
    }
}

/// Runs tessera with its standard output on a pipe whose reading end is already closed, as
/// `tessera ... | head -0` does: every write fails with EPIPE.
fn tessera_into_closed_pipe(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_pipe_ends_printing_quietly_and_the_work_still_completes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let json = dir.path().join("sweep.json");
    // Text report, JSON report and the bench table: none may panic or complain.
    for args in [
        vec!["run", s(&data("camera/input.png")), "-o", s(&out)],
        vec!["run", s(&data("camera/input.png")), "-o", s(&out), "--json"],
        vec![
            "bench",
            s(&data("noise_13x17/input.png")),
            "--workers",
            "1,2",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "-q",
            "--json",
            s(&json),
        ],
    ] {
        let o = tessera_into_closed_pipe(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{args:?}: {}", stderr(&o));
    }
    // The work itself was done: the result and the bench's JSON file are there.
    assert_eq!(
        gray(&out),
        gray(&data(
            "camera/adaptive-gaussian_binary_block_size11_c2_max_value255.png"
        ))
    );
    assert!(json.exists());
}

/// `--png-bilevel` writes a mask as a smaller 1-bit PNG and `--compression 9` changes only
/// the bytes: all decode to the default result's pixels; both are refused for other formats.
#[test]
fn png_settings_change_bytes_never_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("page/input.png");
    let mut outs = Vec::new();
    for (name, extra) in [
        ("default.png", vec![]),
        ("bilevel.png", vec!["--png-bilevel"]),
        ("z9.png", vec!["--compression", "9"]),
        (
            "z1-bilevel.png",
            vec!["--compression", "1", "--png-bilevel"],
        ),
    ] {
        let p = dir.path().join(name);
        let mut a = vec!["run", s(&input), "-o", s(&p), "--op", "sauvola"];
        a.extend(extra);
        let o = tessera(&a);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        outs.push(p);
    }
    let pixels = |p: &std::path::Path| image::open(p).unwrap().into_luma8().into_raw();
    let want = pixels(&outs[0]);
    for p in &outs[1..] {
        assert_eq!(pixels(p), want, "{}", p.display());
    }
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&outs[1]) < size(&outs[0]), "1-bit not smaller");
    assert_eq!(std::fs::read(&outs[1]).unwrap()[24], 1, "IHDR bit depth 1");
    for args in [vec!["--png-bilevel"], vec!["--compression", "3"]] {
        let p = dir.path().join("x.jpg");
        let mut a = vec!["run", s(&input), "-o", s(&p)];
        a.extend(args.iter().copied());
        let o = tessera(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("apply to PNG"));
        assert!(!p.exists());
    }
    let o = tessera(&[
        "run",
        s(&input),
        "-o",
        s(&dir.path().join("y.png")),
        "--compression",
        "12",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A PNG into a PNG streams by bands (any band height gives the golden OpenCV pixels, as
/// `--whole` does); what cannot stream says why in the JSON report and takes the whole path.
#[test]
fn png_runs_stream_by_bands_with_the_same_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("chelsea/input.png");
    let golden = gray(&data(
        "chelsea/adaptive-gaussian_binary_block_size9_c2_max_value255.png",
    ));
    let (_, h) = image::image_dimensions(&input).unwrap();
    let json = |o: &Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", stderr(o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let op = ["--block-size", "9"];
    for (k, extra) in [
        vec![],
        vec!["--band-rows", "7"],
        vec!["--band-rows", "1"],
        vec!["--whole"],
    ]
    .into_iter()
    .enumerate()
    {
        let out = dir.path().join(format!("out{k}.png"));
        let o = tessera(
            &[
                &["run", s(&input), "-o", s(&out), "--json"],
                &op[..],
                &extra[..],
            ]
            .concat(),
        );
        let r = json(&o);
        assert!(gray(&out) == golden, "{extra:?}: not OpenCV's pixels");
        if extra == ["--whole"] {
            assert_eq!(r["streamed"], false);
            assert_eq!(r["not_streamed"], "--whole");
        } else {
            assert_eq!(r["streamed"], true, "{r}");
            if let [_, rows] = extra[..] {
                let rows: u64 = rows.parse().unwrap();
                assert_eq!(r["bands"], (h as u64).div_ceil(rows), "{r}");
            }
        }
    }
    // Local methods' masks stream too (written with the masks' run-length deflate) and keep
    // the pixels of the whole path.
    for method in ["sauvola", "bradley"] {
        let run = |name: &str, extra: &[&str]| {
            let out = dir.path().join(format!("{method}_{name}.png"));
            let args = ["run", s(&input), "-o", s(&out), "--json", "--op", method];
            let r = json(&tessera(&[&args[..], extra].concat()));
            assert_eq!(r["streamed"], extra != ["--whole"], "{method}: {r}");
            gray(&out)
        };
        let whole = run("whole", &["--whole"]);
        assert!(whole.contains(&0) && whole.contains(&255));
        assert!(run("bands", &["--band-rows", "5"]) == whole, "{method}");
    }
    // A global op and a JPEG result do not stream, and say why.
    let out = dir.path().join("otsu.png");
    let r = json(&tessera(&[
        "run",
        s(&input),
        "-o",
        s(&out),
        "--op",
        "otsu",
        "--json",
    ]));
    assert_eq!(r["streamed"], false);
    assert!(
        r["not_streamed"].as_str().unwrap().contains("whole image"),
        "{r}"
    );
    let out = dir.path().join("a.jpg");
    let r = json(&tessera(&["run", s(&input), "-o", s(&out), "--json"]));
    assert!(
        r["not_streamed"].as_str().unwrap().contains("not a PNG"),
        "{r}"
    );
    let o = tessera(&["run", s(&input), "-o", s(&out), "--band-rows", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
