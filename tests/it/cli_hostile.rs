//! Hostile input and faults (issue 13), each reproduced with the real binary on temporary
//! folders: FIFOs, decompression bombs, truncated files, options out of range, non-UTF-8
//! names, untrustworthy results, signals, a full disk and bad option values.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{data, s, tessera};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A small real JPEG (OpenCV-written, from the golden data).
fn jpeg() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/data/jpeg/q90_444.jpg"),
    )
    .unwrap()
}

/// The offset of a JPEG's start-of-frame segment.
fn sof(jpeg: &[u8]) -> usize {
    (2..jpeg.len() - 1)
        .find(|&i| jpeg[i] == 0xFF && matches!(jpeg[i + 1], 0xC0..=0xC2))
        .unwrap()
}

/// Runs tessera and waits for it with `wait4`, returning its output and its own peak
/// resident memory in KiB.
#[cfg(unix)]
// Reaped by `wait4` below, which also gives its resource usage.
#[allow(clippy::zombie_processes)]
fn tessera_rss(args: &[&str]) -> (Output, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut e = Vec::new();
        err.read_to_end(&mut e).unwrap();
        e
    });
    let mut o = Vec::new();
    out.read_to_end(&mut o).unwrap();
    let e = reader.join().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    use std::os::unix::process::ExitStatusExt;
    (
        Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: o,
            stderr: e,
        },
        usage.ru_maxrss as u64,
    )
}

/// A PNG whose header says `w`×`h` 8-bit gray, with the first rows of zeros as data.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut small = {
        let mut v = Vec::new();
        let mut enc = png::Encoder::new(&mut v, 16, 16);
        enc.set_color(png::ColorType::Grayscale);
        enc.write_header()
            .unwrap()
            .write_image_data(&[0; 256])
            .unwrap();
        v
    };
    // IHDR's width and height (after the 8-byte signature, length, "IHDR"), and its CRC.
    small[16..20].copy_from_slice(&w.to_be_bytes());
    small[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&small[12..29]);
    small[29..33].copy_from_slice(&crc.to_be_bytes());
    small
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_link_to_one_fails_at_once_and_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("a.jpg"), jpeg()).unwrap();
    let fifo = input.join("pipe.png");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink(&fifo, input.join("link.png")).unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    // Without the fix this batch never ends (a worker blocks in open()).
    let o = tessera(&["batch", s(&input), "-o", s(&out), "--report", s(&rep)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&rep);
    assert_eq!(
        (r["written"].as_u64(), r["failed"].as_u64()),
        (Some(1), Some(2))
    );
    for f in r["failures"].as_array().unwrap() {
        let reason = f["reason"].as_str().unwrap();
        assert!(
            reason.contains("named pipe (FIFO), not a regular file"),
            "{f}"
        );
    }
    let o = tessera(&[
        "run",
        s(&input.join("link.png")),
        "-o",
        s(&dir.path().join("x.png")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("named pipe"), "{}", stderr(&o));
}

#[test]
fn no_command_writes_over_its_own_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let photo = input.join("photo.jpg");
    std::fs::write(&photo, jpeg()).unwrap();
    let out = dir.path().join("out");
    let cases: Vec<Vec<String>> = vec![
        vec!["batch", s(&input), "-o", s(&out), "--report", s(&photo)],
        vec![
            "batch",
            s(&input),
            "-o",
            s(&out),
            "--report",
            &format!("{}/./photo.jpg", s(&input)),
        ],
        vec![
            "batch",
            s(&input),
            "-o",
            s(&out),
            "--report",
            s(&out.join("photo.png")),
        ],
        vec!["bench", s(&photo), "--json", s(&photo), "--repeats", "1"],
        vec!["bench", s(&photo), "--csv", s(&photo), "--repeats", "1"],
        vec![
            "bench",
            "--dir",
            s(&input),
            "--png",
            s(&input),
            "--repeats",
            "1",
        ],
        vec![
            "bench",
            s(&photo),
            "--json",
            s(&dir.path().join("a")),
            "--csv",
            s(&dir.path().join("a")),
        ],
        vec!["run", s(&photo), "-o", s(&photo)],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    for args in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = tessera(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{a:?}: {}", stderr(&o));
        assert_eq!(
            std::fs::read(&photo).unwrap(),
            jpeg(),
            "{a:?} changed the input"
        );
    }
    assert!(!out.exists(), "a refused batch created its output folder");
}

#[cfg(unix)]
#[test]
fn decompression_bombs_are_refused_in_a_few_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // A 2 KB JPEG whose header claims 37000×37000, and a PNG header of 65535×65535.
    let mut bomb = jpeg();
    let at = sof(&bomb);
    bomb[at + 5..at + 9].copy_from_slice(&[0x90, 0x88, 0x90, 0x88]);
    bomb.truncate(2044);
    std::fs::write(input.join("bomb.jpg"), &bomb).unwrap();
    std::fs::write(input.join("bomb2.jpg"), &bomb).unwrap();
    std::fs::write(input.join("zeros.png"), png_header_only(65535, 65535)).unwrap();
    for name in ["bomb.jpg", "zeros.png"] {
        let res = dir.path().join(format!("{name}.png"));
        let (o, rss_kib) = tessera_rss(&["run", s(&input.join(name)), "-o", s(&res)]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("37000x37000") || e.contains("65535x65535"),
            "{name}: {e}"
        );
        assert!(rss_kib < 200 * 1024, "{name}: peak {rss_kib} KiB");
        assert!(!res.exists());
    }
    let rep = dir.path().join("r.json");
    let (o, rss_kib) = tessera_rss(&[
        "batch",
        s(&input),
        "-o",
        s(&dir.path().join("out")),
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(json(&rep)["failed"], 3);
    assert!(rss_kib < 200 * 1024, "batch: peak {rss_kib} KiB");
}

#[test]
fn a_truncated_jpeg_is_decoded_as_opencv_does_and_the_warning_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let whole = jpeg();
    let sos = whole.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
    std::fs::write(
        input.join("cut.jpg"),
        &whole[..sos + (whole.len() - sos) / 2],
    )
    .unwrap();
    std::fs::write(input.join("whole.jpg"), &whole).unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    let o = tessera(&["batch", s(&input), "-o", s(&out), "--report", s(&rep)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: ") && stderr(&o).contains("premature end of JPEG file"),
        "{}",
        stderr(&o)
    );
    let r = json(&rep);
    assert_eq!(r["written"], 2);
    assert_eq!(r["warned"], 1);
    let w = &r["warnings"][0];
    assert!(w["path"].as_str().unwrap().ends_with("cut.jpg"), "{w}");
    assert!(out.join("cut.png").exists());
    // Failing on warnings: the file fails and nothing is written for it.
    let out2 = dir.path().join("out2");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&out2),
        "--report",
        s(&rep),
        "--fail-on",
        "warning",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(json(&rep)["failed"], 1);
    assert!(!out2.join("cut.png").exists());
    assert!(out2.join("whole.png").exists());
    let o = tessera(&[
        "run",
        s(&input.join("cut.jpg")),
        "-o",
        s(&dir.path().join("c.png")),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("premature end of JPEG file"));
}

#[test]
fn a_progressive_jpeg_with_thousands_of_scans_is_refused() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/jpeg/q75_progressive.jpg");
    let jpeg = std::fs::read(p).unwrap();
    // Repeat the last scan (its SOS segment and data, up to EOI) 5000 times.
    let last = jpeg.windows(2).rposition(|m| m == [0xFF, 0xDA]).unwrap();
    let scan = &jpeg[last..jpeg.len() - 2];
    let mut hostile = jpeg[..jpeg.len() - 2].to_vec();
    for _ in 0..5000 {
        hostile.extend_from_slice(scan);
    }
    hostile.extend_from_slice(&[0xFF, 0xD9]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("scans.jpg");
    std::fs::write(&f, &hostile).unwrap();
    let o = tessera(&["run", s(&f), "-o", s(&dir.path().join("x.png"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("more than 100 scans"), "{}", stderr(&o));
}

#[test]
fn options_out_of_range_are_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("big.png");
    image::GrayImage::new(1024, 1024).save(&img).unwrap();
    let out = dir.path().join("o.png");
    let cases: &[(&[&str], &str)] = &[
        (
            &["batch", s(dir.path()), "-o", "x", "--queue", "1000000000"],
            "--queue must be between",
        ),
        (
            &[
                "batch",
                s(dir.path()),
                "-o",
                "x",
                "--queue",
                "18446744073709551615",
            ],
            "--queue",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--tile", "1"],
            "use --tile 2 or larger",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--thresh", "nan"],
            "thresh must be a finite",
        ),
        (
            &[
                "run",
                s(&img),
                "-o",
                s(&out),
                "--op",
                "otsu",
                "--block-size",
                "4",
            ],
            "block-size",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--c", "inf"],
            "c must be a finite",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--workers", "0"],
            "--workers must be between 1",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--workers", "x"],
            "invalid value 'x'",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--max-memory", "0"],
            "--max-memory",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--max-dimension", "0"],
            "--max-dimension",
        ),
        (
            &["run", s(&img), "-o", s(&out), "--fail-on", "sometimes"],
            "--fail-on",
        ),
        (&["run", s(&img)], "--output"),
        (&["run", s(&img), "-o", s(&out), "--nope"], "--nope"),
        (
            &["batch", s(dir.path()), "-o", "x", "--format", "gif"],
            "unknown format",
        ),
        (&["bench", "--repeats", "x"], "--repeats"),
    ];
    for (args, says) in cases {
        let o = tessera(args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(
            e.starts_with("tessera: error: ") && e.contains(says),
            "{args:?}: {e}"
        );
    }
    assert!(!out.exists());
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_reported_losslessly() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::write(input.join(name), jpeg()).unwrap();
    let rep = dir.path().join("r.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&dir.path().join("out")),
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&rep);
    let rec = &r["records"][0];
    let hex = rec["path_bytes"].as_str().unwrap();
    assert!(hex.ends_with("636166e92e6a7067"), "{rec}");
    assert_eq!(
        tessera_engine::json_path::from_hex(hex).unwrap(),
        input.join(name)
    );
    assert!(
        rec["output_bytes"]
            .as_str()
            .unwrap()
            .ends_with("636166e92e706e67")
    );
    // run --json on such a path prints its report.
    let f = input.join(name);
    let res = dir.path().join(std::ffi::OsStr::from_bytes(b"r\xe9s.png"));
    let o = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("run")
        .arg(&f)
        .arg("-o")
        .arg(&res)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        j["input_bytes"]
            .as_str()
            .unwrap()
            .ends_with("636166e92e6a7067"),
        "{j}"
    );
    assert!(res.exists());
}

#[test]
fn skip_existing_keeps_only_results_the_manifest_vouches_for() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(data("coins/input.png"), input.join("a.png")).unwrap();
    std::fs::copy(data("chelsea/input.png"), input.join("b.png")).unwrap();
    let out = dir.path().join("out");
    let rep = dir.path().join("r.json");
    let run = |extra: &[&str]| {
        let mut a = vec!["batch", s(&input), "-o", s(&out), "--report", s(&rep)];
        a.extend_from_slice(extra);
        let o = tessera(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        json(&rep)
    };
    run(&[]);
    let good_b = std::fs::read(out.join("b.png")).unwrap();
    let r = run(&["--skip-existing"]);
    assert_eq!(
        (r["written"].as_u64(), r["skipped"].as_u64()),
        (Some(0), Some(2))
    );
    // A 0-byte result, and a result cut short: made again.
    std::fs::write(out.join("a.png"), b"").unwrap();
    std::fs::write(out.join("b.png"), &good_b[..good_b.len() / 2]).unwrap();
    let r = run(&["--skip-existing"]);
    assert_eq!(r["written"], 2);
    assert_eq!(std::fs::read(out.join("b.png")).unwrap(), good_b);
    // Other settings: made again.
    let r = run(&["--skip-existing", "--op", "otsu"]);
    assert_eq!(r["written"], 2);
    // a.jpg beside a.png: a.jpg (first in order) now wants out/a.png, which holds a.png's
    // result; it is made, not skipped, and a.png's result moves to a-1.png.
    std::fs::write(input.join("a.jpg"), jpeg()).unwrap();
    let r = run(&["--skip-existing", "--op", "otsu"]);
    let rec = |name: &str| {
        r["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(rec("a.jpg")["status"], "written", "{r}");
    assert_eq!(rec("b.png")["status"], "skipped", "{r}");
}

#[cfg(unix)]
#[test]
fn no_temporary_file_survives_any_way_of_stopping() {
    let dir = tempfile::tempdir().unwrap();
    // Noise compresses badly: encoding takes long enough to be caught in the middle.
    let big = dir.path().join("noise.pgm");
    let mut state = 1u32;
    image::GrayImage::from_fn(6000, 6000, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Luma([state as u8])
    })
    .save(&big)
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let parts = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| s(p).ends_with(".part"))
            .collect()
    };
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGKILL] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args([
                "run",
                s(&big),
                "-o",
                s(&out.join("noise.png")),
                "--op",
                "otsu",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the event: the temporary file appears when encoding starts.
        let started = loop {
            if !parts(&out).is_empty() {
                break true;
            }
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            std::thread::yield_now();
        };
        if !started {
            continue; // finished before we looked: nothing to stop
        }
        // SAFETY: our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let status = child.wait().unwrap();
        if signal == libc::SIGKILL {
            assert_eq!(parts(&out).len(), 1, "SIGKILL cannot clean up");
            // A later run into the same folder removes what the killed one left.
            let o = tessera(&["batch", s(dir.path()), "-o", s(&out), "--include", "none"]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        } else {
            assert_eq!(status.code(), Some(130), "signal {signal}");
        }
        assert!(parts(&out).is_empty(), "signal {signal}: {:?}", parts(&out));
        let _ = std::fs::remove_file(out.join("noise.png"));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_leaves_no_report_rather_than_a_cut_one() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", s(&mnt)])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root); CI runs it");
        return;
    }
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 0..80 {
        std::fs::write(input.join(format!("p{i:02}.jpg")), jpeg()).unwrap();
    }
    let rep = mnt.join("r.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&mnt.join("out")),
        "--report",
        s(&rep),
    ]);
    let listing: Vec<_> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let _ = Command::new("umount").arg(&mnt).status();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot write the report"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("disk full"), "{}", stderr(&o));
    assert!(!listing.iter().any(|n| n == "r.json"), "{listing:?}");
    assert!(
        !listing
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".part")),
        "{listing:?}"
    );
}

#[test]
fn small_things() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // A batch that writes nothing says 0.0, never -0.0.
    std::fs::write(
        input.join("junk.png"),
        b"\x89PNG\r\n\x1a\ngarbage garbage garbage",
    )
    .unwrap();
    let rep = dir.path().join("r.json");
    let o = tessera(&[
        "batch",
        s(&input),
        "-o",
        s(&dir.path().join("out")),
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("-0.0"), "{text}");
    assert!(!std::fs::read_to_string(&rep).unwrap().contains("-0.0"));
    // A garbage PNG's reason is a readable line, not a debug dump.
    let r = json(&rep);
    let reason = r["failures"][0]["reason"].as_str().unwrap();
    assert!(
        !reason.contains('{') && !reason.contains("ChunkType"),
        "{reason}"
    );
    // `-` reads standard input and writes standard output.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["run", "-", "-o", "-", "--op", "otsu"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&jpeg()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let png = image::load_from_memory(&o.stdout).unwrap().to_luma8();
    let via_file = dir.path().join("f.png");
    std::fs::write(dir.path().join("f.jpg"), jpeg()).unwrap();
    let o = tessera(&[
        "run",
        s(&dir.path().join("f.jpg")),
        "-o",
        s(&via_file),
        "--op",
        "otsu",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        png.as_raw(),
        image::open(&via_file).unwrap().to_luma8().as_raw()
    );
}
