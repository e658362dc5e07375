//! `tessera bench` as a user runs it: the real binary, tiny sweeps, files in temporary folders.

use std::process::Output;

use crate::common::{data, s, tessera};

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bench_writes_csv_json_and_png_with_the_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, json, png) = (
        dir.path().join("sweep.csv"),
        dir.path().join("sweep.json"),
        dir.path().join("charts"),
    );
    let o = tessera(&[
        "bench",
        s(&data("coins/input.png")),
        "--op",
        "adaptive-mean",
        "--workers",
        "1,2,3",
        "--tiles",
        "64,auto",
        "--repeats",
        "2",
        "--warmup",
        "1",
        "--csv",
        s(&csv),
        "--json",
        s(&json),
        "--png",
        s(&png),
        "--quiet",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("median ms") && out.contains("speedup"),
        "{out}"
    );
    assert!(out.contains("cores"), "{out}");

    // CSV: header with the documented columns first, one row per configuration.
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..8],
        [
            "workers",
            "tile",
            "median_s",
            "min_s",
            "max_s",
            "speedup",
            "efficiency",
            "mp_per_s"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    let mut configs: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    configs.sort();
    assert_eq!(
        configs,
        [
            ("1", "64"),
            ("1", "auto"),
            ("2", "64"),
            ("2", "auto"),
            ("3", "64"),
            ("3", "auto")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    for r in &rows {
        let v: Vec<f64> = (2..8).map(|i| r[i].parse().unwrap()).collect();
        let (median, min, max) = (v[0], v[1], v[2]);
        assert!(min > 0.0 && min <= median && median <= max, "{r:?}");
        if &r[0] == "1" {
            assert_eq!((v[3], v[4]), (1.0, 1.0), "the 1-worker row is the baseline");
        }
        assert!(v[5] > 0.0);
    }

    // JSON: same rows and keys, every raw run, machine and settings.
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(j["tool"]["name"], "tessera");
    assert!(j["tool"]["version"].is_string());
    assert!(j["date"].as_str().unwrap().ends_with('Z'));
    assert!(j["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(j["machine"]["os"].is_string());
    assert_eq!(j["settings"]["repeats"], 2);
    assert_eq!(j["settings"]["warmup"], 1);
    assert_eq!(j["settings"]["workers"], serde_json::json!([1, 2, 3]));
    assert_eq!(j["settings"]["workload"]["op"]["op"], "adaptive-mean");
    let jrows = j["rows"].as_array().unwrap();
    assert_eq!(jrows.len(), 6);
    for key in &header {
        assert!(jrows[0].get(key).is_some(), "JSON row lacks {key}");
    }
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6 * 3);
    assert_eq!(runs.iter().filter(|r| r["warmup"] == true).count(), 6);
    let measured = runs.iter().find(|r| r["warmup"] == false).unwrap();
    assert!(!measured["items"].as_array().unwrap().is_empty());
    assert_eq!(j["pools"].as_array().unwrap().len(), 3);

    // PNG: every chart, decodable, not blank.
    for chart in ["time", "speedup", "efficiency", "tiles", "timeline"] {
        let p = png.join(format!("{chart}.png"));
        let img = image::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let rgb = img.to_rgb8();
        assert_eq!(rgb.dimensions(), (960, 560));
        let non_white = rgb.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(
            non_white > 5000,
            "{chart}.png looks blank ({non_white} pixels drawn)"
        );
    }
}

#[test]
fn bench_without_input_uses_the_sample_and_warns_past_the_cores() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let over = (cores + 1).to_string();
    let o = tessera(&[
        "bench",
        "--workers",
        &format!("1,{over}"),
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--op",
        "otsu",
        "--quiet",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("sample"), "{out}");
    assert!(
        err.contains("warning") && err.contains(&format!("{cores} cores")),
        "{err}"
    );
    assert!(out.contains(&format!("{over}*")), "{out}");
}

#[test]
fn bench_usage_errors_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    for args in [
        vec!["--workers", "0"],
        vec!["--workers", "4-2"],
        vec!["--workers", "two"],
        vec!["--tiles", "0"],
        vec!["--repeats", "0"],
        vec!["--block-size", "4"],
        vec!["--dir", "/no/such/folder"],
    ] {
        let mut a = vec!["bench", "--quiet", "--csv", s(&csv)];
        a.extend(args.iter().copied());
        let o = tessera(&a);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(!csv.exists());
    }
    // A missing input is a failure (1), with the path in the message.
    let o = tessera(&["bench", "/no/such/image.png", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("/no/such/image.png"));
}

#[test]
fn bench_times_a_folder_batch_per_image_and_leaves_the_folder_alone() {
    let input = tempfile::tempdir().unwrap();
    for name in ["coins", "camera", "text"] {
        std::fs::copy(
            data(&format!("{name}/input.png")),
            input.path().join(format!("{name}.png")),
        )
        .unwrap();
    }
    let before: Vec<_> = std::fs::read_dir(input.path()).unwrap().collect();
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("folder.json");
    let o = tessera(&[
        "bench",
        "--dir",
        s(input.path()),
        "--workers",
        "1,2",
        "--repeats",
        "2",
        "--warmup",
        "0",
        "--json",
        s(&json),
        "--quiet",
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{stdout}\n{err}");
    assert!(stdout.contains("3 images"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2, "{v}");
    let runs = v["runs"].as_array().unwrap();
    assert!(!runs.is_empty());
    for run in runs {
        let items = run["items"].as_array().unwrap();
        // One record per image, each naming its file and a worker of the run's pool.
        assert_eq!(items.len(), 3, "{run}");
        let workers = run["workers"].as_u64().unwrap();
        for it in items {
            assert!(it["label"].as_str().unwrap().ends_with(".png"), "{it}");
            assert!(it["worker"].as_u64().unwrap() < workers, "{it}");
        }
    }
    // Results went to a temporary folder, not into the input folder.
    let after: Vec<_> = std::fs::read_dir(input.path()).unwrap().collect();
    assert_eq!(before.len(), after.len());
}

/// Any program as a workload: a shell command timed as whole processes, `{workers}` replaced,
/// exported in hyperfine's format; a failing command is one error line.
#[test]
fn a_command_is_timed_with_the_same_statistics_and_exported_for_hyperfine() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.txt");
    let hf = dir.path().join("hf.json");
    let cmd = format!("echo {{workers}} >> {}", log.display());
    let out = crate::common::tessera(&[
        "bench",
        "--cmd",
        &cmd,
        "--workers",
        "1,2,3",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "-q",
        "--hyperfine",
        hf.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("workload: the command `echo {workers} >>"),
        "{text}"
    );
    assert!(text.contains("Verdict: 2 workers:"), "{text}");
    assert!(text.contains("95 % intervals"), "{text}");
    // Every configuration ran warm-up + repeats times, interleaved, with its own count.
    let calls = std::fs::read_to_string(&log).unwrap();
    let mut counts = [0; 4];
    for l in calls.lines() {
        counts[l.trim().parse::<usize>().unwrap()] += 1;
    }
    assert_eq!(&counts[1..], &[4, 4, 4]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&hf).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (r, w) in results.iter().zip(1..) {
        assert_eq!(r["command"], format!("echo {w} >> {}", log.display()));
        for k in ["mean", "stddev", "median", "min", "max", "user", "system"] {
            assert!(r[k].is_number(), "{k}");
        }
        assert_eq!(r["times"].as_array().unwrap().len(), 3);
        assert_eq!(r["parameters"]["workers"], w.to_string());
        let (min, med, max) = (
            r["min"].as_f64().unwrap(),
            r["median"].as_f64().unwrap(),
            r["max"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max);
    }
    let out = crate::common::tessera(&[
        "bench",
        "--cmd",
        "echo oops >&2; exit 3",
        "--workers",
        "1",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed (exit status: 3): oops"), "{err}");
    // --tiles does not apply to a command.
    let out = crate::common::tessera(&["bench", "--cmd", "true", "--tiles", "64"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A saved sweep compared with a new one: every configuration gets a verdict.
#[test]
fn a_sweep_is_compared_with_a_saved_one() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("old.json");
    let out = crate::common::tessera(&[
        "bench",
        "--workers",
        "1,2",
        "--repeats",
        "3",
        "-q",
        "--json",
        saved.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert!(
        v["inference"]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("2 workers: ")
    );
    assert_eq!(v["inference"]["rows"].as_array().unwrap().len(), 2);
    let out = crate::common::tessera(&[
        "bench",
        "--workers",
        "1,2",
        "--repeats",
        "3",
        "-q",
        "--compare",
        saved.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Against the saved sweep"), "{text}");
    let verdicts = text
        .lines()
        .filter(|l| l.contains("faster") || l.contains("slower") || l.contains("no change"))
        .count();
    assert_eq!(verdicts, 2, "{text}");
}

/// A processes × threads grid of a command taking both: every cell runs warm-up + repeats
/// times with its own values, the table marks oversubscribed cells, the JSON has every cell
/// with its interval, and the heat map is a PNG.
#[test]
fn a_processes_by_threads_grid_of_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.txt");
    let json = dir.path().join("grid.json");
    let png = dir.path().join("charts");
    let cmd = format!("echo {{procs}} {{threads}} >> {}", log.display());
    let out = crate::common::tessera(&[
        "bench",
        "--cmd",
        &cmd,
        "--procs",
        "1,2",
        "--threads",
        "1-3",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "-q",
        "--json",
        json.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("procs \\ thr"), "{text}");
    assert!(text.contains("best: "), "{text}");
    let calls = std::fs::read_to_string(&log).unwrap();
    for p in 1..=2 {
        for t in 1..=3 {
            let n = calls.lines().filter(|l| *l == format!("{p} {t}")).count();
            assert_eq!(n, 4, "{p}x{t}: {calls}");
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let cells = v["grid"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 6);
    let cores = v["grid"]["cores"].as_u64().unwrap();
    for c in cells {
        let (p, t) = (c["procs"].as_u64().unwrap(), c["threads"].as_u64().unwrap());
        assert_eq!(c["oversubscribed"], p * t > cores, "{c}");
        assert_eq!(c["times_s"].as_array().unwrap().len(), 3);
        let ci = c["speedup_ci"].as_array().unwrap();
        assert!(ci[0].as_f64().unwrap() <= ci[1].as_f64().unwrap());
    }
    assert_eq!(cells[0]["speedup"], 1.0);
    let img = image::open(png.join("grid.png")).unwrap();
    assert_eq!((img.width(), img.height()), (960, 560));
    // `tessera plot` draws the heat map again from the saved grid.
    let again = dir.path().join("again.png");
    let o = crate::common::tessera(&[
        "plot",
        json.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(image::image_dimensions(&again).unwrap(), (960, 560));

    // Usage errors, before anything runs: exit 2 and one line.
    for (args, word) in [
        (vec!["--procs", "1-2"], "--threads"),
        (vec!["--procs", "1-2", "--threads", "1"], "--cmd"),
        (
            vec!["--procs", "1-2", "--threads", "1", "--cmd", "true"],
            "{procs}",
        ),
        (
            vec!["--procs", "0", "--threads", "1", "--cmd", "echo {procs}"],
            "--procs",
        ),
    ] {
        let mut a = vec!["bench", "-q"];
        a.extend(&args);
        let o = crate::common::tessera(&a);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(word), "{args:?}: {e}");
    }
}

/// tessera itself on the grid: a folder split over P `tessera batch --shard` processes of T
/// workers; results go to a temporary folder, never into the input folder.
#[test]
fn a_grid_splits_a_folder_over_processes() {
    let input = tempfile::tempdir().unwrap();
    for (i, name) in ["coins", "page", "camera"].iter().enumerate() {
        std::fs::copy(
            crate::common::data(&format!("{name}/input.png")),
            input.path().join(format!("{i}.png")),
        )
        .unwrap();
    }
    let before = std::fs::read_dir(input.path()).unwrap().count();
    let out = crate::common::tessera(&[
        "bench",
        "--dir",
        input.path().to_str().unwrap(),
        "--op",
        "otsu",
        "--procs",
        "1-2",
        "--threads",
        "1-2",
        "--repeats",
        "2",
        "-q",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("tessera batch --shard over"), "{text}");
    assert!(text.contains("(3 images), otsu"), "{text}");
    assert_eq!(std::fs::read_dir(input.path()).unwrap().count(), before);
}

/// Saved sweeps drawn on one chart by `tessera plot`: two sweeps saved with `--json` make a
/// PNG of the comparison's size; a file that is not a sweep, or an output that is one of the
/// inputs, is a one-line error.
#[test]
fn plot_draws_saved_sweeps_on_one_chart() {
    let dir = tempfile::tempdir().unwrap();
    let mut saved = Vec::new();
    for name in ["a", "b"] {
        let p = dir.path().join(format!("{name}.json"));
        let o = crate::common::tessera(&[
            "bench",
            "--cmd",
            "test {workers} -ge 1",
            "--workers",
            "1-3",
            "--repeats",
            "3",
            "-q",
            "--json",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        saved.push(p);
    }
    let png = dir.path().join("cmp.png");
    let o = crate::common::tessera(&[
        "plot",
        saved[0].to_str().unwrap(),
        saved[1].to_str().unwrap(),
        "--label",
        "first",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let img = image::open(&png).unwrap();
    let (w, h) = tessera::plots::COMPARE_SIZE;
    assert_eq!((img.width(), img.height()), (w, h));
    // The two series are drawn in their own colours (blue, orange).
    let rgb = img.to_rgb8();
    for want in [[31u8, 119, 180], [255, 127, 14]] {
        assert!(rgb.pixels().any(|p| p.0 == want), "{want:?} not drawn");
    }

    let not_sweep = dir.path().join("x.json");
    std::fs::write(&not_sweep, "{\"rows\": []}").unwrap();
    let o = crate::common::tessera(&[
        "plot",
        not_sweep.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("inference.rows") && e.trim().lines().count() == 1,
        "{e}"
    );
    let o = crate::common::tessera(&[
        "plot",
        saved[0].to_str().unwrap(),
        "-o",
        saved[0].to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        std::fs::read_to_string(&saved[0])
            .unwrap()
            .contains("inference")
    );
}
