//! `tessera montage`: the sheet's size, its cells against `tessera run`, and its refusals.

use std::path::{Path, PathBuf};

use tessera::sheet::{self, Layout, NO_IMAGE};
use tessera_engine::image::{self, GrayImage};
use tessera_engine::montage::plan;
use tessera_engine::ops::OpKind;

use crate::common::{s, tessera};

/// A 128x128 8-bit gray photograph vendored with the engine's local-method goldens.
fn camera() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/local/niblack/inputs/gray8/camera_small.png")
}

fn open(p: &Path) -> GrayImage {
    match image::open(p).unwrap() {
        image::DynamicImage::ImageLuma8(g) => g,
        other => panic!("{}: not 8-bit gray: {:?}", p.display(), other.color()),
    }
}

/// The `(w, h)` region of `img` at `(x, y)`.
fn crop(img: &GrayImage, (x, y): (u32, u32), (w, h): (u32, u32)) -> GrayImage {
    image::imageops::crop_imm(img, x, y, w, h).to_image()
}

/// Index on the sheet of the first cell of `kind` (the gray input is cell 0).
fn cell_of(kind: OpKind) -> u32 {
    1 + plan().iter().position(|m| m.kind == kind).unwrap() as u32
}

fn montage(out: &Path, extra: &[&str]) -> std::process::Output {
    let cam = camera();
    let mut args = vec!["montage", s(&cam), "-o", s(out), "--workers", "2"];
    args.extend_from_slice(extra);
    tessera(&args)
}

#[test]
fn the_sheet_has_the_size_of_its_columns_and_cells_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sheet.png");
    let o = montage(&out, &["--columns", "5", "--cell", "64"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let img = open(&out);
    let layout = Layout::new(128, 128, 64, 5, plan().len() as u32 + 1);
    assert_eq!(img.dimensions(), layout.size());
    // 5 slots of 64 with 12-pixel margins; 9 rows of 64 + a 40-pixel caption, a 48-pixel
    // title.
    assert_eq!(img.dimensions(), (392, 1104));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tessera: montage: 42 cells (41 methods)"),
        "{err}"
    );
    // The input, shrunk by area average, is the first cell.
    let cam = open(&camera());
    assert_eq!(
        crop(&img, layout.image_at(0), layout.image),
        sheet::fit(&cam, 64, 64)
    );
    // A global method's cell is its `tessera run` result, shrunk the same way.
    let huang = dir.path().join("huang.png");
    let o = tessera(&["run", s(&camera()), "-o", s(&huang), "--op", "huang"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        crop(&img, layout.image_at(cell_of(OpKind::Huang)), layout.image),
        sheet::fit(&open(&huang), 64, 64)
    );
}

#[test]
fn unscaled_cells_are_exactly_the_run_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sheet.png");
    let o = montage(&out, &["--cell", "128", "--block-size", "25"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let img = open(&out);
    let layout = Layout::new(128, 128, 128, 7, plan().len() as u32 + 1);
    assert_eq!(img.dimensions(), layout.size());
    assert_eq!(
        crop(&img, layout.image_at(0), layout.image),
        open(&camera())
    );
    for (kind, args) in [
        (OpKind::Otsu, &["--op", "otsu"][..]),
        (OpKind::Li, &["--op", "li"]),
        (OpKind::Sauvola, &["--op", "sauvola", "--block-size", "25"]),
        (
            OpKind::AdaptiveGaussian,
            &["--op", "adaptive-gaussian", "--block-size", "25"],
        ),
        (OpKind::Bradley, &["--op", "bradley", "--block-size", "25"]),
        (OpKind::Bernsen, &["--op", "bernsen"]),
    ] {
        let want = dir.path().join(format!("{kind}.png"));
        let cam = camera();
        let mut a = vec!["run", s(&cam), "-o", s(&want)];
        a.extend_from_slice(args);
        let o = tessera(&a);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{kind}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            crop(&img, layout.image_at(cell_of(kind)), layout.image),
            open(&want),
            "{kind}"
        );
    }
}

#[test]
fn a_method_that_gives_no_image_shows_its_box_and_the_montage_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sheet.png");
    // Bernsen takes only binary and binary-inv: its cell says so; the others run.
    let o = montage(&out, &["--cell", "64", "--type", "trunc"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("without an image"), "{err}");
    let img = open(&out);
    let layout = Layout::new(128, 128, 64, 7, plan().len() as u32 + 1);
    let (x, y) = layout.image_at(cell_of(OpKind::Bernsen));
    let (w, h) = layout.image;
    assert_eq!(img.get_pixel(x + w - 1, y + h - 1).0[0], NO_IMAGE);
    let (x, y) = layout.image_at(cell_of(OpKind::Li));
    assert_ne!(img.get_pixel(x + w - 1, y + h - 1).0[0], NO_IMAGE);
}

#[test]
fn the_input_is_never_the_output_and_bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    std::fs::copy(camera(), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let o = tessera(&["montage", s(&input), "-o", s(&input)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("input of this command"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);

    let out = dir.path().join("sheet.png");
    for bad in [
        &["--columns", "0"][..],
        &["--cell", "8"],
        &["--block-size", "8"],
        &["--radius", "0"],
        &["--workers", "0"],
        &["--type", "bold"],
        &["--no-such-flag"],
    ] {
        let mut a = vec!["montage", s(&input), "-o", s(&out)];
        a.extend_from_slice(bad);
        let o = tessera(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(!out.exists(), "{bad:?}");
    }
    let o = tessera(&["montage", s(&input), "-o", s(&dir.path().join("x.xyz"))]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_missing_or_unreadable_input_fails_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sheet.png");
    let missing = dir.path().join("missing.png");
    let o = tessera(&["montage", s(&missing), "-o", s(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tessera: error: "), "{err}");
    assert!(err.contains("missing.png"), "{err}");
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not a png").unwrap();
    let o = tessera(&["montage", s(&junk), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    // Larger than --max-dimension: refused as `run` refuses it.
    let o = tessera(&[
        "montage",
        s(&camera()),
        "-o",
        s(&out),
        "--max-dimension",
        "100",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}
