//! 16-bit images end to end: `tessera run` and `tessera levels` at native depth and at depth 8,
//! and the window showing, reading out and saving a 16-bit image, on the 12-bit camera image
//! in 16 bits vendored from the golden-methods pack.

use std::path::{Path, PathBuf};

use crate::common::{s, tessera, wait_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use tessera::ui::{Startup, Workbench};
use tessera_engine::ops::auto::{AutoMethod, Like, cut_16bit};
use tessera_engine::ops::wide::otsu_level_16;

/// The 12-bit camera image (357..=4095 in 16-bit samples).
fn cam12() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/local/niblack/inputs/gray16/cam12_in16.png")
}

fn samples() -> (Vec<u16>, u32, u32) {
    let g = image::open(cam12()).unwrap().into_luma16();
    let (w, h) = g.dimensions();
    (g.into_raw(), w, h)
}

fn hist(v: &[u16]) -> Vec<u64> {
    let mut h = vec![0u64; 65536];
    for &x in v {
        h[x as usize] += 1;
    }
    h
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn gray_and_value_keeping_thresholds_stay_16bit_masks_are_8bit() {
    let dir = tempfile::tempdir().unwrap();
    let (v, _, _) = samples();
    let gray = dir.path().join("gray.png");
    let r = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&gray),
        "--op",
        "gray",
        "--json",
    ]));
    assert_eq!(
        (r["bit_depth"].as_u64(), r["output_depth"].as_u64()),
        (Some(16), Some(16))
    );
    assert_eq!(image::open(&gray).unwrap().into_luma16().into_raw(), v);

    let trunc = dir.path().join("trunc.tif");
    let args = ["--op", "threshold", "--type", "trunc", "--thresh", "2000.7"];
    let r = json(&tessera(
        &[
            &["run", s(&cam12()), "-o", s(&trunc), "--json"][..],
            &args[..],
        ]
        .concat(),
    ));
    assert_eq!(r["output_depth"], 16);
    let got = image::open(&trunc).unwrap().into_luma16().into_raw();
    let want: Vec<u16> = v.iter().map(|&x| x.min(2000)).collect();
    assert_eq!(got, want, "trunc at floor(2000.7) keeps the 16-bit values");

    let otsu = dir.path().join("otsu.png");
    let r = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&otsu),
        "--op",
        "otsu",
        "--json",
    ]));
    let level = otsu_level_16(&hist(&v));
    assert_eq!(r["level"], level, "OpenCV's Otsu on the 16-bit histogram");
    assert!(
        (357..4095).contains(&level),
        "a level in the 12-bit range: {level}"
    );
    assert_eq!(r["output_depth"], 8);
    let mask = image::open(&otsu).unwrap();
    assert_eq!(mask.color(), image::ColorType::L8);
    let want: Vec<u8> = v.iter().map(|&x| if x > level { 255 } else { 0 }).collect();
    assert_eq!(mask.into_luma8().into_raw(), want);
}

#[test]
fn depth_8_reads_as_opencvs_imread_does() {
    let dir = tempfile::tempdir().unwrap();
    let (v, _, _) = samples();
    let out = dir.path().join("gray8.png");
    let r = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&out),
        "--op",
        "gray",
        "--depth",
        "8",
        "--json",
    ]));
    assert_eq!(r["bit_depth"], 8);
    let got = image::open(&out).unwrap();
    assert_eq!(got.color(), image::ColorType::L8);
    let high: Vec<u8> = v.iter().map(|&x| (x >> 8) as u8).collect();
    assert_eq!(got.into_luma8().into_raw(), high);
    let e = tessera(&["run", s(&cam12()), "-o", s(&out), "--depth", "12"]);
    assert_eq!(e.status.code(), Some(2));
}

#[test]
fn a_16bit_result_into_an_8bit_format_fails_in_one_line_and_8bit_only_ops_read_8bit() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("gray.jpg");
    let e = tessera(&["run", s(&cam12()), "-o", s(&jpg), "--op", "gray"]);
    assert_eq!(e.status.code(), Some(2), "a usage error");
    let msg = String::from_utf8_lossy(&e.stderr);
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(
        msg.contains("16-bit result cannot be saved as JPG"),
        "{msg}"
    );
    assert!(!jpg.exists());

    // An op with no 16-bit form (OpenCV's adaptiveThreshold) reads the image as its anchor
    // does, at 8 bits, even at native depth: the same result as --depth 8, and it says so.
    let native = dir.path().join("adaptive.png");
    let r = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&native),
        "--op",
        "adaptive-mean",
        "--json",
    ]));
    assert_eq!(r["bit_depth"], 8);
    let eight = dir.path().join("adaptive8.png");
    json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&eight),
        "--op",
        "adaptive-mean",
        "--depth",
        "8",
        "--json",
    ]));
    assert_eq!(
        std::fs::read(&native).unwrap(),
        std::fs::read(&eight).unwrap()
    );
}

#[test]
fn bins_find_the_level_on_a_binned_histogram_and_imagej_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("otsu.png");
    let (v, _, _) = samples();
    let full = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&out),
        "--op",
        "otsu",
        "--json",
    ]));
    let r = json(&tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&out),
        "--op",
        "otsu",
        "--bins",
        "16",
        "--json",
    ]));
    assert!(
        r["params"].as_str().unwrap().ends_with("bins 16"),
        "{}",
        r["params"]
    );
    assert_ne!(
        r["level"], full["level"],
        "16 bins cut elsewhere than 3739 values"
    );
    // The cut falls between whole bins: no bin of 16 over min..max straddles it.
    let (lo, hi) = (*v.iter().min().unwrap(), *v.iter().max().unwrap());
    let level = r["level"].as_u64().unwrap() as u16;
    let bin = |x: u16| ((u64::from(x - lo) * 16) / u64::from(hi - lo)).min(15);
    assert_ne!(bin(level), bin(level + 1), "{level}");
    let e = tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&out),
        "--op",
        "huang",
        "--bins",
        "256",
    ]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("ImageJ reduces"));
    let e = tessera(&[
        "run",
        s(&cam12()),
        "-o",
        s(&out),
        "--op",
        "gray",
        "--bins",
        "1",
    ]);
    assert_eq!(e.status.code(), Some(2), "checked even where unused");
}

#[test]
fn levels_of_a_16bit_image_are_in_16bit_units() {
    let (v, _, _) = samples();
    let h = hist(&v);
    for (like, name) in [(Like::ImageJ, "imagej"), (Like::Fiji, "fiji")] {
        let r = json(&tessera(&["levels", s(&cam12()), "--json", "--like", name]));
        for m in [
            AutoMethod::Otsu,
            AutoMethod::Huang,
            AutoMethod::Li,
            AutoMethod::Triangle,
        ] {
            let want = cut_16bit(m, &h, like).unwrap();
            assert_eq!(r[m.to_string()], want, "{m} like {name}");
        }
        assert!(r["Otsu"].as_u64().unwrap() > 255, "16-bit units");
    }
    let r = json(&tessera(&["levels", s(&cam12()), "--json", "--depth", "8"]));
    assert!(
        r["Otsu"].as_u64().unwrap() <= 15,
        "the high byte of a 12-bit image"
    );
}

#[test]
fn the_window_shows_reads_out_and_saves_a_16bit_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cam12.png");
    std::fs::copy(cam12(), &input).unwrap();
    let (v, w, _) = samples();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(|cc| Workbench::new(&cc.egui_ctx, None, Startup::Path(input.clone())));
    h.state_mut().prefs.settings.op = tessera_engine::ops::OpKind::Gray;
    wait_until(&mut h, "the 16-bit image and its gray result", |a| {
        a.is_up_to_date()
    });
    let lo = *v.iter().min().unwrap();
    let hi = *v.iter().max().unwrap();
    assert_eq!(h.state().display_range(), Some((lo, hi)), "auto: min..max");
    let (scale, counts) = h.state().histogram().unwrap();
    assert_eq!(scale.bits, 16);
    assert_eq!(counts.0.iter().sum::<u64>(), v.len() as u64);
    assert!(scale.lo >= f64::from(lo) - 0.5 && scale.value_at(256.0) > f64::from(hi));
    // The readout gives the real 16-bit values of the original and of the 16-bit result.
    let (x, y) = (37, 21);
    let (orig, res) = h.state().values_at(x, y).unwrap();
    assert_eq!(orig, (vec![v[y * w as usize + x]], 16));
    assert_eq!(res, Some((vec![v[y * w as usize + x]], 16)));
    assert!(
        h.query_by_label("Display").is_some(),
        "the display range control"
    );

    // Another display range is made in the background and shown.
    h.state_mut().set_display_range((1000, 2000));
    wait_until(&mut h, "the new display range", |a| {
        a.display_range() == Some((1000, 2000))
    });
    // The values read out do not change with the display.
    assert_eq!(h.state().values_at(x, y).unwrap().0, orig);

    // Saving writes the 16-bit result; a JPEG is refused with the reason.
    let field = h.get_by_label("To");
    field.focus();
    field.set_text_value_accesskit(&dir.path().join("out.jpg").display().to_string());
    h.step();
    h.get_by_label("Save").click();
    h.step();
    assert!(
        h.state().error().unwrap_or_default().contains("16-bit"),
        "{:?}",
        h.state().error()
    );
    let out = dir.path().join("out.png");
    let field = h.get_by_label("To");
    field.focus();
    field.set_text_value_accesskit(&out.display().to_string());
    h.step();
    h.get_by_label("Save").click();
    h.step();
    wait_until(&mut h, "the save", |a| !a.is_saving() && out.exists());
    assert_eq!(image::open(&out).unwrap().into_luma16().into_raw(), v);

    // An op with no 16-bit form runs on the image read at 8 bits (as OpenCV reads it), while
    // the window keeps showing the 16-bit image.
    h.state_mut().prefs.settings.op = tessera_engine::ops::OpKind::AdaptiveMean;
    wait_until(&mut h, "the adaptive result", |a| a.is_up_to_date());
    assert!(h.query_by_label_contains("has no 16-bit form").is_some());
    let label = h.state().result_label().unwrap();
    assert!(
        label.ends_with("on the 16-bit image read at 8 bits"),
        "{label}"
    );
    let src8 = tessera_engine::io::read_image(&input, Default::default()).unwrap();
    let op = h.state().prefs.settings.to_op().unwrap();
    let want = tessera_engine::job::run(&src8, &op, &Default::default(), &Default::default())
        .unwrap()
        .image;
    assert_eq!(h.state().result().unwrap().0, &want);
    assert_eq!(
        h.state().display_range(),
        Some((1000, 2000)),
        "still 16-bit on screen"
    );
}

#[test]
fn methods_say_which_implementations_run_on_16bit_samples() {
    let o = tessera(&["methods", "--json"]);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let of = |name: &str| -> Vec<String> {
        let m = list.iter().find(|m| m["name"] == name).unwrap();
        m["sixteen_bit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(of("otsu"), ["opencv", "imagej", "fiji"]);
    assert_eq!(
        of("triangle"),
        ["imagej", "fiji"],
        "OpenCV's THRESH_TRIANGLE is 8-bit only"
    );
    assert_eq!(of("sauvola"), ["skimage"]);
    assert_eq!(of("bradley"), ["native"]);
    assert!(of("adaptive-mean").is_empty());
    assert!(of("bernsen").is_empty());
    // Each listed implementation does run natively: its level on the 12-bit image is above 255.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.png");
    for like in of("triangle") {
        let r = json(&tessera(&[
            "run",
            s(&cam12()),
            "-o",
            s(&out),
            "--op",
            "triangle",
            "--like",
            &like,
            "--json",
        ]));
        assert!(r["level"].as_u64().unwrap() > 255, "{like}: {}", r["level"]);
    }
}
