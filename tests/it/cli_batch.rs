//! `tessera batch` as a user runs it: the real binary on temporary folders holding good and
//! bad files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{data, s, tessera};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn gray(p: &Path) -> Vec<u8> {
    image::open(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .into_luma8()
        .into_raw()
}

/// Good images: three golden inputs (gray and RGB PNG) and three generated ones (RGB JPEG,
/// 16-bit gray PNG, BMP). Returns their file names.
fn good_files(dir: &Path) -> Vec<&'static str> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(data("coins/input.png"), dir.join("coins.png")).unwrap();
    std::fs::copy(data("chelsea/input.png"), dir.join("chelsea.png")).unwrap();
    std::fs::copy(data("page/input.png"), dir.join("page.png")).unwrap();
    let rgb = image::RgbImage::from_fn(97, 61, |x, y| {
        image::Rgb([
            (x * 3 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    rgb.save(dir.join("photo.jpg")).unwrap();
    let g16: image::ImageBuffer<image::Luma<u16>, Vec<u16>> =
        image::ImageBuffer::from_fn(45, 33, |x, y| image::Luma([(x * 1400 + y * 900) as u16]));
    g16.save(dir.join("deep.png")).unwrap();
    let bmp = image::GrayImage::from_fn(30, 20, |x, y| image::Luma([((x * y) % 256) as u8]));
    bmp.save(dir.join("small.bmp")).unwrap();
    vec![
        "chelsea.png",
        "coins.png",
        "deep.png",
        "page.png",
        "photo.jpg",
        "small.bmp",
    ]
}

/// Bad files, each with a word its reason must contain.
fn bad_files(dir: &Path) -> Vec<(&'static str, &'static str)> {
    std::fs::write(dir.join("empty.png"), b"").unwrap();
    std::fs::write(dir.join("notes.png"), b"just some text, not an image").unwrap();
    let png = std::fs::read(data("camera/input.png")).unwrap();
    std::fs::write(dir.join("truncated.png"), &png[..png.len() / 2]).unwrap();
    let mut corrupt = png.clone();
    for b in corrupt.iter_mut().skip(200).take(4000) {
        *b ^= 0x5A;
    }
    std::fs::write(dir.join("corrupt.png"), &corrupt).unwrap();
    std::fs::create_dir(dir.join("folder.png")).unwrap();
    let mut v = vec![
        ("corrupt.png", "corrupt"),
        ("empty.png", "empty file"),
        ("folder.png", "folder"),
        ("notes.png", "not an image"),
        ("truncated.png", "truncated"),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("gone.png"), dir.join("link.png")).unwrap();
        v.push(("link.png", "broken link"));
    }
    v
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("JSON report")
}

/// Every file in a folder (recursively), by path relative to it, with its bytes.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            // The output folder's manifest (what made each result) is not a result.
            if p.file_name() == Some(std::ffi::OsStr::new(tessera_engine::batch::MANIFEST_NAME)) {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap_or_default(),
                );
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

#[test]
fn good_files_match_tessera_run_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let good = good_files(&input);
    let bad = bad_files(&input);
    std::fs::write(input.join("readme.txt"), b"not taken: no image extension").unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("report.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&out),
        "--workers",
        "2",
        "--report",
        s(&rep),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "some files failed: {err}");
    assert!(!err.contains("panicked"), "{err}");

    let r = report(&rep);
    for key in [
        "found",
        "written",
        "skipped",
        "failed",
        "seconds",
        "failures",
        "not_processed",
        "cancelled",
        "collisions",
        "records",
        "mp_per_s",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in the report");
    }
    assert_eq!(r["found"], good.len() + bad.len());
    assert_eq!(r["written"], good.len());
    assert_eq!(r["skipped"], 0);
    assert_eq!(r["failed"], bad.len());
    assert_eq!(r["not_processed"], 0);
    assert_eq!(r["cancelled"], false);
    assert!(r["seconds"].as_f64().unwrap() > 0.0);

    // Every bad file is reported once, with its reason, on stderr and in the report.
    let failures = r["failures"].as_array().unwrap();
    assert_eq!(failures.len(), bad.len());
    for (name, word) in &bad {
        let f = failures
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in the failures: {failures:?}"));
        let reason = f["reason"].as_str().unwrap();
        assert!(reason.contains(word), "{name}: {reason:?} lacks {word:?}");
        let line = err.lines().find(|l| l.contains(name));
        assert!(
            line.is_some_and(|l| l.contains(word)),
            "{name} not on stderr: {err}"
        );
    }

    // Every good file is written, and is exactly what `tessera run` gives for it.
    let written = contents(&out);
    assert_eq!(written.len(), good.len(), "{:?}", written.keys());
    let refs = dir.path().join("refs");
    std::fs::create_dir(&refs).unwrap();
    for name in &good {
        let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
        let result = out.join(format!("{stem}.png"));
        assert!(result.exists(), "{} missing", result.display());
        let reference = refs.join(format!("{stem}.png"));
        let o = tessera(&["run", s(&input.join(name)), "-o", s(&reference)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            gray(&result),
            gray(&reference),
            "{name} differs from tessera run"
        );
    }
    // The golden case: OpenCV's own result.
    assert_eq!(
        gray(&out.join("coins.png")),
        gray(&data(
            "coins/adaptive-gaussian_binary_block_size11_c2_max_value255.png"
        ))
    );
    // Per-file records for the timeline: one per file, workers 0..2, ordered in time.
    let records = r["records"].as_array().unwrap();
    assert_eq!(records.len(), good.len() + bad.len());
    for rec in records {
        assert!(rec["worker"].as_u64().unwrap() < 2);
        assert!(rec["end_s"].as_f64().unwrap() >= rec["start_s"].as_f64().unwrap());
    }
}

#[test]
fn all_good_exits_0_and_one_or_many_workers_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let good = good_files(&input);
    let mut outs = Vec::new();
    for (workers, strategy, format) in [
        ("1", "worker-reads", "png"),
        ("3", "worker-reads", "png"),
        ("2", "preload", "png"),
        ("1", "worker-reads", "jpg"),
        ("3", "preload", "jpg"),
    ] {
        let out = dir
            .path()
            .join(format!("out-{workers}-{strategy}-{format}"));
        let o = tessera(&[
            "batch",
            s(&input),
            "-o",
            s(&out),
            "--workers",
            workers,
            "--strategy",
            strategy,
            "--format",
            format,
            "--op",
            "otsu",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("{} written", good.len())), "{text}");
        outs.push((format, contents(&out)));
    }
    assert_eq!(outs[0].1.len(), good.len());
    assert_eq!(outs[0].1, outs[1].1, "1 and 3 workers differ");
    assert_eq!(outs[0].1, outs[2].1, "preload differs");
    assert_eq!(outs[3].1, outs[4].1, "JPEG results differ");
    assert!(outs[3].1.keys().all(|k| k.extension().unwrap() == "jpg"));
}

#[test]
fn skip_existing_resumes_and_leaves_results_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let good = good_files(&input);
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    let run = |extra: &[&str]| {
        let mut a = vec!["batch", s(&input), "-o", s(&out), "--report", s(&rep)];
        a.extend_from_slice(extra);
        tessera(&a)
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    // Pretend an earlier run was cancelled: one result missing, one changed since.
    std::fs::remove_file(out.join("coins.png")).unwrap();
    std::fs::write(out.join("page.png"), b"not what tessera wrote").unwrap();
    let o = run(&["--skip-existing"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&rep);
    // The missing result is made, and so is the changed one: the manifest does not vouch
    // for it any more. The others are left alone.
    assert_eq!(r["written"], 2);
    assert_eq!(r["skipped"], good.len() - 2);
    assert_ne!(
        std::fs::read(out.join("page.png")).unwrap(),
        b"not what tessera wrote"
    );
    assert!(out.join("coins.png").exists());
    // Without it, results are replaced.
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(report(&rep)["written"], good.len());
}

#[test]
fn same_folder_needs_a_suffix_and_inputs_are_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let good = good_files(&input);
    let before = contents(&input);
    let o = tessera(&["batch", s(&input), "-o", s(&input)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("suffix"), "{}", stderr(&o));
    // The same folder spelled differently is still the same folder.
    let o = tessera(&["batch", s(&input), "-o", s(&input.join("."))]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(contents(&input), before, "a refused batch wrote something");

    let rep = dir.path().join("r.json");
    let run = || {
        tessera(&[
            "batch",
            s(&input),
            "-o",
            s(&input),
            "--suffix",
            "_bin",
            "--report",
            s(&rep),
        ])
    };
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = contents(&input);
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "input {name:?} changed");
    }
    assert_eq!(after.len(), before.len() + good.len());
    assert!(input.join("coins_bin.png").exists());
    // A second run does not take its own results as inputs.
    assert_eq!(run().status.code(), Some(0));
    assert_eq!(report(&rep)["found"], good.len());
    assert_eq!(contents(&input).len(), before.len() + good.len());
}

#[test]
fn name_collisions_are_resolved_predictably_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(data("coins/input.png"), input.join("a.png")).unwrap();
    image::open(data("page/input.png"))
        .unwrap()
        .to_rgb8()
        .save(input.join("a.jpg"))
        .unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    let o = tessera(&["batch", s(&input), "-o", s(&out), "--report", s(&rep)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Sorted order: a.jpg takes a.png, a.png gets a-1.png.
    let r = report(&rep);
    let c = r["collisions"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0]["path"].as_str().unwrap().ends_with("a.png"));
    assert!(c[0]["output"].as_str().unwrap().ends_with("a-1.png"));
    assert!(stderr(&o).contains("a-1.png"), "{}", stderr(&o));
    let (w, h) = image::image_dimensions(out.join("a-1.png")).unwrap();
    assert_eq!((w, h), (384, 303), "a-1.png is the result of a.png (coins)");
    let (w, h) = image::image_dimensions(out.join("a.png")).unwrap();
    assert_eq!((w, h), (384, 191), "a.png is the result of a.jpg (page)");
}

#[test]
fn recursive_include_and_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    good_files(&input.join("sub/deeper"));
    std::fs::copy(data("coins/input.png"), input.join("top.png")).unwrap();
    image::GrayImage::new(1500, 20)
        .save(input.join("wide.png"))
        .unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&out),
        "--recursive",
        "--include",
        "*.png",
        "--max-dimension",
        "1000",
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(&rep);
    // 4 PNGs below (chelsea, coins, deep, page), top.png, wide.png; the jpg and bmp are not
    // included.
    assert_eq!(r["found"], 6);
    assert_eq!(r["written"], 5);
    let f = &r["failures"][0];
    assert!(f["path"].as_str().unwrap().ends_with("wide.png"));
    assert!(f["reason"].as_str().unwrap().contains("too large"), "{f}");
    assert!(out.join("sub/deeper/coins.png").exists());
    assert!(out.join("top.png").exists());
    // Not recursive: only the top level.
    let out2 = dir.path().join("out2");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&out2),
        "--max-dimension",
        "2000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(contents(&out2).len(), 2);
}

#[test]
fn usage_and_setup_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in");
    good_files(&input);
    let out = d.join("out");
    let code = |args: &[&str]| {
        let o = tessera(args);
        (o.status.code(), stderr(&o))
    };
    let (c, e) = code(&["batch", s(&input), "-o", s(&out), "--block-size", "4"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("odd"), "{e}");
    let (c, e) = code(&["batch", s(&d.join("missing")), "-o", s(&out)]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("no such file"), "{e}");
    let (c, e) = code(&["batch", s(&input), "-o", s(&out), "--workers", "0"]);
    assert_eq!(c, Some(2), "{e}");
    let (c, e) = code(&["batch", s(&input), "-o", s(&out), "--format", "gif"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("unknown format"), "{e}");
    let (c, e) = code(&["batch", s(&input), "-o", s(&out), "--include", "a[b"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("include"), "{e}");
    let (c, e) = code(&["batch", s(&input), "-o", s(&input.join("coins.png"))]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("not a folder"), "{e}");
    assert!(!out.exists(), "a usage error created the output folder");
    // An output folder that cannot be created is a clear failure, not a usage error.
    let blocked = input.join("coins.png").join("sub");
    let (c, e) = code(&["batch", s(&input), "-o", s(&blocked)]);
    assert_eq!(c, Some(1), "{e}");
    assert!(e.contains("cannot create"), "{e}");
}

#[test]
fn empty_folder_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = tessera(&["batch", s(dir.path()), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 found"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_cleanly_and_a_rerun_finishes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let n = 150;
    for i in 0..n {
        image::GrayImage::from_fn(160, 120, |x, y| {
            image::Luma([((x * 3 + y * 7 + i) % 256) as u8])
        })
        .save(input.join(format!("f{i:03}.png")))
        .unwrap();
    }
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    // One worker and a disk flush per file, so that it is still running when interrupted.
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "batch",
            s(&input),
            "-o",
            s(&out),
            "--workers",
            "1",
            "--sync",
            "each",
        ])
        .args(["--report", s(&rep)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let results = || {
        std::fs::read_dir(&out).map_or(0, |d| {
            d.filter(|e| e.as_ref().unwrap().path().extension() == Some("png".as_ref()))
                .count()
        })
    };
    while results() < 3 {
        assert!(t0.elapsed().as_secs() < 60, "no output appeared");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cancelling"), "{}", stderr(&o));
    let r = report(&rep);
    assert_eq!(r["cancelled"], true);
    let (written, rest) = (
        r["written"].as_u64().unwrap(),
        r["not_processed"].as_u64().unwrap(),
    );
    assert!(
        written >= 3 && rest > 0 && written + rest == n as u64,
        "{r}"
    );
    let files = contents(&out);
    assert_eq!(files.len() as u64, written, "{:?}", files.keys());
    for name in files.keys() {
        let name = name.to_str().unwrap();
        assert!(!name.contains(".part") && !name.starts_with('.'), "{name}");
        gray(&out.join(name)); // decodes completely
    }
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&out),
        "--skip-existing",
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&rep);
    assert_eq!(
        (r["skipped"].as_u64(), r["written"].as_u64()),
        (Some(written), Some(rest))
    );
    assert_eq!(contents(&out).len(), n as usize);
}

/// N shards (`--shard I/N`, run at once as separate processes into one folder) write exactly
/// what one batch writes, collisions included; `--shard auto` reads Slurm's variables; a
/// task that does not exist is a usage error.
#[test]
fn shards_together_write_what_one_batch_writes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    good_files(&input);
    // Two inputs wanting one output name: the second gets another name, in every shard.
    std::fs::copy(input.join("coins.png"), input.join("photo.png")).unwrap();
    for i in 0..7 {
        std::fs::copy(input.join("small.bmp"), input.join(format!("s{i}.bmp"))).unwrap();
    }
    let whole = dir.path().join("whole");
    let o = tessera(&["batch", s(&input), "-o", s(&whole), "-q", "--workers", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let sharded = dir.path().join("sharded");
    let n = 3;
    let children: Vec<_> = (0..n)
        .map(|i| {
            let report = dir.path().join(format!("shard-{i}.json"));
            Command::new(env!("CARGO_BIN_EXE_tessera"))
                .args([
                    "batch",
                    s(&input),
                    "-o",
                    s(&sharded),
                    "-q",
                    "--workers",
                    "1",
                ])
                .args(["--shard", &format!("{i}/{n}"), "--report", s(&report)])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut found = 0;
    for (i, o) in children.iter().enumerate() {
        assert!(o.status.success(), "shard {i}: {}", stderr(o));
        let text = std::fs::read_to_string(dir.path().join(format!("shard-{i}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["shard"]["index"], i);
        assert_eq!(v["shard"]["count"], n);
        found += v["found"].as_u64().unwrap();
    }
    let strip = |m: BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        m.into_iter()
            .filter(|(p, _)| !p.to_string_lossy().contains(".tessera-"))
            .collect()
    };
    let (a, b) = (strip(contents(&whole)), strip(contents(&sharded)));
    assert_eq!(found as usize, a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a == b, "the shards' results differ from the whole batch's");

    // --shard auto under a Slurm array task: task 1 of 2 takes the second half.
    let auto = dir.path().join("auto");
    let o = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["batch", s(&input), "-o", s(&auto), "-q", "--shard", "auto"])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // The shard's report went to OUTPUT/reports for `tessera merge`.
    assert!(auto.join("reports/shard-1-of-2.json").is_file());
    std::fs::remove_dir_all(auto.join("reports")).unwrap();
    let got = strip(contents(&auto));
    let names: Vec<_> = a.keys().cloned().collect();
    let second: Vec<_> = names[names.len() / 2..].to_vec();
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), second);

    // Usage errors: exit 2, one line, nothing written.
    let none = dir.path().join("none");
    for (args, word) in [
        (vec!["--shard", "3/3"], "does not exist"),
        (vec!["--shard", "x"], "I/N"),
        (vec!["--shard", "auto"], "no task index"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["batch", s(&input), "-o", s(&none)])
            .args(&args)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .env_remove("PARALLEL_SEQ")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(word) && e.trim().lines().count() == 1,
            "{args:?}: {e}"
        );
        assert!(!none.exists());
    }
}

/// `tessera merge` over shard reports written to OUTPUT/reports by default: refused (exit 1,
/// naming the shard) while one is missing, then merged into a report with the single batch's
/// items once the shard is rerun.
#[test]
fn merge_refuses_until_every_shard_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    good_files(&input);
    let whole = dir.path().join("whole");
    let single = dir.path().join("single.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&whole),
        "-q",
        "--report",
        s(&single),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let shard = |i: usize| {
        let o = tessera(&[
            "batch",
            s(&input),
            "-o",
            s(&out),
            "-q",
            "--shard",
            &format!("{i}/3"),
        ]);
        assert!(o.status.success(), "shard {i}: {}", stderr(&o));
    };
    shard(0);
    shard(2);
    let reports = out.join("reports");
    assert!(reports.join("shard-0-of-3.json").exists());
    let merged = dir.path().join("merged.json");
    let o = tessera(&["merge", s(&reports), "--expect", "3", "-o", s(&merged)]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("no report for shard 1 of 3") && e.trim().lines().count() == 1,
        "{e}"
    );
    assert!(!merged.exists());
    // Made for another count: refused too.
    let o = tessera(&["merge", s(&reports), "--expect", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("made for 3 shards"), "{}", stderr(&o));

    shard(1);
    let o = tessera(&["merge", s(&reports), "--expect", "3", "-o", s(&merged)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    let w: serde_json::Value = serde_json::from_slice(&std::fs::read(&single).unwrap()).unwrap();
    for k in ["found", "written", "failed"] {
        assert_eq!(m[k], w[k], "{k}");
    }
    let items = |v: &serde_json::Value, root: &Path| {
        let mut x: Vec<(String, PathBuf)> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let out = PathBuf::from(r["output"].as_str().unwrap());
                (
                    r["path"].as_str().unwrap().to_string(),
                    out.strip_prefix(root).unwrap().to_path_buf(),
                )
            })
            .collect();
        x.sort();
        x
    };
    assert_eq!(items(&m, &out), items(&w, &whole));
    assert_eq!(m["shards"], 3);
    assert!(
        m["listing"]["hash"]
            .as_str()
            .unwrap()
            .starts_with("fnv1a64:")
    );
}

/// `tessera plan` lists the folder once; shards run with `--plan` (even after the folder
/// gained a file) write exactly what one batch wrote when the plan was made, and merge;
/// a shard whose settings differ from the plan's is refused before writing anything.
#[test]
fn shards_from_a_plan_write_what_one_batch_writes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    good_files(&input);
    std::fs::copy(input.join("coins.png"), input.join("photo.png")).unwrap();
    let whole = dir.path().join("whole");
    let o = tessera(&["batch", s(&input), "-o", s(&whole), "-q", "--op", "otsu"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let plan = dir.path().join("plan");
    let o = tessera(&[
        "plan",
        s(&input),
        "--shards",
        "3",
        "-o",
        s(&plan),
        "--op",
        "otsu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plan.join("plan.json")).unwrap()).unwrap();
    let n = header["listing"]["items"].as_u64().unwrap();
    assert!(out.contains(&format!("{n} items")), "{out}");
    assert_eq!(header["shards"], 3);
    // The folder changes after planning: the plan, not the folder, says what each shard does.
    std::fs::copy(input.join("coins.png"), input.join("late.png")).unwrap();

    let sharded = dir.path().join("sharded");
    for i in 0..3 {
        let o = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["batch", s(&input), "-o", s(&sharded), "-q", "--op", "otsu"])
            .args(["--shard", "auto", "--plan", s(&plan)])
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .output()
            .unwrap();
        assert!(o.status.success(), "shard {i}: {}", stderr(&o));
    }
    let reports = sharded.join("reports");
    let merged = dir.path().join("merged.json");
    let o = tessera(&["merge", s(&reports), "--expect", "3", "-o", s(&merged)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(m["listing"], header["listing"]);
    std::fs::remove_dir_all(&reports).unwrap();
    let (a, b) = (contents(&whole), contents(&sharded));
    assert_eq!(a.len() as u64, n);
    assert!(
        a == b,
        "the planned shards' results differ from the whole batch's"
    );

    // Another op, another shard count: usage errors naming the difference, nothing written.
    let none = dir.path().join("none");
    for (args, word) in [
        (vec!["--op", "triangle", "--shard", "0/3"], "operation"),
        (vec!["--op", "otsu", "--shard", "0/4"], "3 shards"),
        (
            vec!["--op", "otsu", "--suffix", "_b", "--shard", "0/3"],
            "--suffix",
        ),
    ] {
        let o = tessera(
            &[
                &["batch", s(&input), "-o", s(&none), "--plan", s(&plan)],
                &args[..],
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(word) && e.trim().lines().count() == 1,
            "{args:?}: {e}"
        );
        assert!(!none.exists(), "{args:?}");
    }
    // A plan folder that is the input folder is refused.
    let o = tessera(&["plan", s(&input), "--shards", "2", "-o", s(&input)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// In a build without the `s3` feature, an `s3://` folder is a usage error naming the
/// feature, before anything is written.
#[cfg(not(feature = "s3"))]
#[test]
fn s3_urls_need_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for args in [
        vec!["batch", "s3://images/in", "-o", s(&out)],
        vec!["plan", "s3://images/in", "--shards", "2", "-o", s(&out)],
        vec!["merge", "s3://images/out/reports", "--expect", "2"],
    ] {
        let o = tessera(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(
            e.contains("--features s3") && e.trim().lines().count() == 1,
            "{args:?}: {e}"
        );
        assert!(!out.exists(), "{args:?}");
    }
}
