//! The Batch tab driven as a user would (egui_kittest, no display): type the folders, press
//! Start, watch it finish, read the report, open a failure's reason.

use std::path::Path;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tessera::ui::batch_panel::BatchPanel;
use tessera_engine::ops::{OpKind, OpSettings};

fn folder(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..5u32 {
        image::GrayImage::from_fn(40 + i, 30, |x, y| {
            image::Luma([((x * 9 + y * 4 + i) % 256) as u8])
        })
        .save(dir.join(format!("g{i}.png")))
        .unwrap();
    }
    std::fs::write(dir.join("broken.png"), b"\x89PNG\r\n\x1a\n truncated").unwrap();
}

/// Runs frames until the batch has finished (the background thread wakes the UI), at most
/// this many: the cap counts frames, never wall-clock time.
const MAX_FRAMES: usize = 30_000;

fn run_until_done(h: &mut Harness<'_, BatchPanel>) {
    for _ in 0..MAX_FRAMES {
        h.step();
        if h.state().report().is_some() || h.state().error().is_some() {
            h.run();
            return;
        }
        // Only to give the batch's threads the CPU.
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the batch did not finish in {MAX_FRAMES} frames");
}

#[test]
fn start_shows_the_report_and_a_failures_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let output = dir.path().join("out");
    folder(&input);
    let settings = OpSettings {
        op: OpKind::Otsu,
        ..OpSettings::default()
    };
    let mut h = Harness::new_ui_state(
        move |ui, panel: &mut BatchPanel| panel.ui(ui, &settings, 2),
        BatchPanel::default(),
    );
    h.run();
    // Start is disabled until both folders are given.
    assert!(h.get_by_label("Start").accesskit_node().is_disabled());

    h.get_by_label("Input folder").focus();
    h.get_by_label("Input folder")
        .type_text(input.to_str().unwrap());
    h.get_by_label("Output folder").focus();
    h.get_by_label("Output folder")
        .type_text(output.to_str().unwrap());
    h.run();
    assert_eq!(h.state().input, input.to_str().unwrap());
    h.get_by_label("Start").click();
    h.step();
    run_until_done(&mut h);

    let r = h.state().report().expect("a report");
    assert_eq!((r.found, r.written, r.failed, r.skipped), (6, 5, 1, 0));
    let results = std::fs::read_dir(&output)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != tessera_engine::batch::MANIFEST_NAME)
        .count();
    assert_eq!(results, 5);
    h.get_by_label_contains("6 found: 5 written, 0 skipped, 1 failed");
    // The failure is listed; its reason shows once clicked.
    assert!(h.query_by_label_contains("Reason:").is_none());
    h.get_by_label(input.join("broken.png").to_str().unwrap())
        .click();
    h.run();
    h.get_by_label_contains("Reason:");
    let want = &r_failure_reason(&h);
    assert!(want.contains("truncated"), "{want}");
    h.get_by_label_contains(want);
    // Clicking it again hides the reason.
    h.get_by_label(input.join("broken.png").to_str().unwrap())
        .click();
    h.run();
    assert!(h.query_by_label_contains("Reason:").is_none());
}

fn r_failure_reason(h: &Harness<'_, BatchPanel>) -> String {
    h.state().report().unwrap().failures[0].reason.clone()
}

#[test]
fn same_folder_without_suffix_is_refused_in_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    let mut panel = BatchPanel::default();
    panel.input = dir.path().display().to_string();
    panel.output = dir.path().display().to_string();
    let mut h = Harness::new_ui_state(
        |ui, panel: &mut BatchPanel| panel.ui(ui, &OpSettings::default(), 1),
        panel,
    );
    h.run();
    h.get_by_label("Start").click();
    h.run();
    let e = h.state().error().expect("refused").to_string();
    assert!(e.contains("suffix"), "{e}");
    assert!(!h.state().is_running());
    h.get_by_label_contains("Error:");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 6);
}

/// A folder of ground truths: each result is scored, the report says the means and which
/// files had none.
#[test]
fn ground_truths_score_the_batch() {
    let docs =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/data/metrics/documents");
    let dir = tempfile::tempdir().unwrap();
    let gts = dir.path().join("gt");
    std::fs::create_dir(&gts).unwrap();
    for i in [2, 4, 6] {
        std::fs::copy(
            docs.join(format!("truth/doc0{i}.png")),
            gts.join(format!("doc0{i}.png")),
        )
        .unwrap();
    }
    let output = dir.path().join("out");
    let settings = OpSettings {
        op: OpKind::Otsu,
        ..OpSettings::default()
    };
    let mut h = Harness::new_ui_state(
        move |ui, panel: &mut BatchPanel| panel.ui(ui, &settings, 2),
        BatchPanel::default(),
    );
    h.run();
    for (label, value) in [
        ("Input folder", docs.join("images")),
        ("Output folder", output.clone()),
        ("Ground truths", gts.clone()),
    ] {
        h.get_by_label(label).focus();
        h.get_by_label(label).type_text(value.to_str().unwrap());
    }
    h.run();
    h.get_by_label("Start").click();
    h.step();
    run_until_done(&mut h);
    let r = h.state().report().expect("a report");
    let q = r.quality.as_ref().expect("scored");
    assert_eq!((q.scored, q.unscored), (3, 5));
    h.get_by_label_contains("3 scored, 5 not scored");
    h.get_by_label_contains("F-measure mean");
    h.get_by_label_contains("Not scored: 5");
    assert_eq!(r.written, 8);
}

/// "1-bit PNG for masks" writes Otsu's masks as 1-bit PNG with the same pixels as the default.
#[test]
fn one_bit_png_for_masks_in_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    folder(&input);
    std::fs::remove_file(input.join("broken.png")).unwrap();
    let settings = OpSettings {
        op: OpKind::Otsu,
        ..OpSettings::default()
    };
    let mut outs = Vec::new();
    for bilevel in [false, true] {
        let output = dir.path().join(format!("out-{bilevel}"));
        let mut h = Harness::new_ui_state(
            move |ui, panel: &mut BatchPanel| panel.ui(ui, &settings, 2),
            BatchPanel::default(),
        );
        h.state_mut().input = input.display().to_string();
        h.state_mut().output = output.display().to_string();
        h.run();
        if bilevel {
            h.get_by_label("1-bit PNG for masks").click();
            h.run();
        }
        assert_eq!(h.state().png_bilevel, bilevel);
        h.get_by_label("Start").click();
        h.step();
        run_until_done(&mut h);
        assert_eq!(h.state().report().expect("a report").written, 5);
        outs.push(output);
    }
    for i in 0..5 {
        let name = format!("g{i}.png");
        let (a, b) = (outs[0].join(&name), outs[1].join(&name));
        assert_eq!(
            image::open(&a).unwrap().into_luma8(),
            image::open(&b).unwrap().into_luma8()
        );
        // IHDR's bit depth byte: 8 by default, 1 with the box ticked.
        assert_eq!(std::fs::read(&a).unwrap()[24], 8);
        assert_eq!(std::fs::read(&b).unwrap()[24], 1);
    }
}
