//! The workbench window driven through its controls (egui_kittest + AccessKit, no display):
//! open images, change the operation and the workers, wait for real jobs, cancel, save, and
//! see errors. Results are compared with the engine run directly.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::{MAX_FRAMES, MemStorage, PACE, wait_until};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use image::{GrayImage, RgbImage};
use tessera::ui::{Outcome, Startup, Workbench};
use tessera_engine::ops::{Anchor, OpKind, OpSettings};
use tessera_engine::source::SourceImage;
use tessera_engine::{Control, JobConfig, TileSize, job};

fn harness(startup: Startup) -> Harness<'static, Workbench> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| Workbench::new(&cc.egui_ctx, None, startup))
}

fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = ((x * 7 + y * 3) % 256) as u8;
        image::Rgb([v, (x * 255 / w.max(1)) as u8, ((x ^ y) % 256) as u8])
    })
}

fn write_photo(dir: &Path, name: &str, w: u32, h: u32) -> (PathBuf, RgbImage) {
    let p = dir.join(name);
    let img = photo(w, h);
    img.save(&p).unwrap();
    (p, img)
}

fn slider<'h>(h: &'h Harness<'_, Workbench>, name: &'h str) -> egui_kittest::Node<'h> {
    h.get_by_role_and_label(egui::accesskit::Role::Slider, name)
}

/// Types `path` into the "Path" field and clicks "Open".
fn open_via_field(h: &mut Harness<'_, Workbench>, path: &Path) {
    let field = h.get_by_label("Path");
    field.focus();
    field.set_text_value_accesskit(&path.display().to_string());
    h.step();
    h.get_by_label("Open").click();
    h.step();
}

fn expected(img: &RgbImage, settings: &OpSettings, workers: usize) -> (GrayImage, Option<u16>) {
    let out = job::run(
        &SourceImage::rgb(img.clone()),
        &settings.to_op().unwrap(),
        &JobConfig {
            workers,
            tile: TileSize::Auto,
        },
        &Control::new(),
    )
    .unwrap();
    (out.image.into_gray8().unwrap(), out.level)
}

#[test]
fn opens_an_image_from_the_path_field_and_shows_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let (path, img) = write_photo(dir.path(), "photo.png", 96, 64);
    let mut h = harness(Startup::Nothing);
    h.step();
    assert!(h.state().image_name().is_none());
    open_via_field(&mut h, &path);
    wait_until(&mut h, "the image and its result", |a| a.is_up_to_date());
    let app = h.state();
    assert_eq!(app.image_name().as_deref(), Some("photo.png"));
    assert_eq!(app.image_size(), Some((96, 64)));
    let (result, settings, workers) = app.result().unwrap();
    assert_eq!(settings, &tessera::ui::app::window_default_settings());
    let (want, _) = expected(&img, settings, workers);
    assert_eq!(result.as_gray8().unwrap().as_raw(), want.as_raw());
    assert_eq!(app.prefs.recent.first(), Some(&path));
    assert_eq!(app.outcome(), &Outcome::Done);
    // The job's timing reached the chart and the status line.
    assert_eq!(app.runs().len(), 1);
    assert!(h.query_by_label_contains("Last job:").is_some());
}

#[test]
fn changing_the_operation_runs_it_and_shows_the_found_level() {
    let dir = tempfile::tempdir().unwrap();
    let (path, img) = write_photo(dir.path(), "p.png", 120, 80);
    let mut h = harness(Startup::Path(path));
    wait_until(&mut h, "the first result", |a| a.is_up_to_date());
    h.get_by_label("Method").click();
    h.step();
    h.step();
    h.get_by_label("Otsu threshold").click();
    h.step();
    assert_eq!(h.state().prefs.settings.op, OpKind::Otsu);
    wait_until(&mut h, "the Otsu result", |a| {
        a.is_up_to_date() && a.result().unwrap().1.op == OpKind::Otsu
    });
    let settings = h.state().prefs.settings;
    let (want, level) = expected(&img, &settings, h.state().prefs.workers);
    assert_eq!(
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw(),
        want.as_raw()
    );
    assert_eq!(h.state().found_level(), level);
    let shown = format!("Level found: {}", level.unwrap());
    assert!(
        h.query_by_label(&shown).is_some(),
        "the panel does not show {shown:?}"
    );
}

#[test]
fn a_local_method_of_another_implementation_is_picked_tuned_and_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let (path, img) = write_photo(dir.path(), "l.png", 90, 70);
    let mut h = harness(Startup::Path(path));
    wait_until(&mut h, "the first result", |a| a.is_up_to_date());
    h.get_by_label("Method").click();
    h.step();
    h.step();
    // The picker is grouped; Sauvola is under the local methods.
    assert!(h.query_by_label("Local (per pixel)").is_some());
    h.get_by_label("Sauvola").click();
    h.step();
    assert_eq!(h.state().prefs.settings.op, OpKind::Sauvola);
    h.get_by_label("Like").click();
    h.step();
    h.step();
    h.get_by_label("Fiji").click();
    h.step();
    assert_eq!(h.state().prefs.settings.like, Some(Anchor::Fiji));
    // Fiji's Sauvola has a radius, k and r; its radius slider drives the result.
    slider(&h, "Radius").set_value_accesskit(7.0);
    h.step();
    assert_eq!(h.state().prefs.settings.local.radius, 7);
    wait_until(&mut h, "the Fiji Sauvola result", |a| {
        a.is_up_to_date() && a.result().unwrap().1.local.radius == 7
    });
    let settings = h.state().prefs.settings;
    // Showing k and r (at their defaults) did not set them.
    assert_eq!((settings.local.k, settings.local.r), (None, None));
    let (want, _) = expected(&img, &settings, h.state().prefs.workers);
    assert_eq!(
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw(),
        want.as_raw()
    );
    let label = h.state().result_label().unwrap();
    assert!(
        label.starts_with("sauvola like fiji radius 7"),
        "the result is labelled {label:?}"
    );
}

#[test]
fn try_all_shows_every_method_and_a_click_picks_one() {
    let dir = tempfile::tempdir().unwrap();
    let (path, img) = write_photo(dir.path(), "t.png", 160, 120);
    let mut h = harness(Startup::Path(path));
    wait_until(&mut h, "the first result", |a| a.is_up_to_date());
    h.get_by_label("Try all methods…").click();
    h.step();
    let n = tessera_engine::montage::plan().len();
    wait_until(&mut h, "every method of Try all", |a| {
        a.try_all_cells() == Some((n, true))
    });
    h.step();
    // A cell of the first row (the grid scrolls): Fiji's Otsu.
    h.get_by(|n| n.label().is_some_and(|l| l.starts_with("Otsu (Fiji)")))
        .click();
    h.step();
    assert_eq!(h.state().prefs.settings.op, OpKind::Otsu);
    assert_eq!(h.state().prefs.settings.like, Some(Anchor::Fiji));
    wait_until(&mut h, "Fiji's Otsu result", |a| {
        a.is_up_to_date() && a.result().unwrap().1.like == Some(Anchor::Fiji)
    });
    let settings = h.state().prefs.settings;
    let (want, _) = expected(&img, &settings, h.state().prefs.workers);
    assert_eq!(
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw(),
        want.as_raw()
    );
}

#[test]
fn changing_the_workers_reruns_on_that_many() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_photo(dir.path(), "w.png", 200, 150);
    let mut h = harness(Startup::Path(path));
    wait_until(&mut h, "the first result", |a| a.is_up_to_date());
    for workers in [1usize, 3] {
        slider(&h, "Workers").set_value_accesskit(workers as f64);
        h.step();
        assert_eq!(h.state().prefs.workers, workers);
        wait_until(&mut h, "the rerun", |a| a.is_up_to_date());
        assert_eq!(h.state().result().unwrap().2, workers);
        assert_eq!(h.state().runs().last().unwrap().workers, workers);
    }
    // Same settings as before: nothing reruns by itself, "Run again" adds a run.
    let n = h.state().runs().len();
    h.get_by_label("Run again").click();
    h.step();
    wait_until(&mut h, "the repeated run", |a| {
        a.runs().len() == n + 1 && a.is_up_to_date()
    });
}

#[test]
fn an_unreadable_file_shows_an_error_and_keeps_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = write_photo(dir.path(), "good.png", 40, 30);
    let bad = dir.path().join("notes.png");
    std::fs::write(&bad, b"this is not an image").unwrap();
    let mut h = harness(Startup::Nothing);
    h.step();
    open_via_field(&mut h, &good);
    wait_until(&mut h, "the good image", |a| a.is_up_to_date());
    open_via_field(&mut h, &bad);
    wait_until(&mut h, "the error", |a| !a.is_loading());
    let err = h.state().error().expect("no error shown").to_owned();
    assert!(err.contains("notes.png"), "{err}");
    assert!(err.contains("not an image"), "{err}");
    assert!(
        h.query_by_label_contains("Could not open notes.png")
            .is_some()
    );
    assert_eq!(h.state().image_name().as_deref(), Some("good.png"));
    assert!(h.state().result().is_some());
    // A missing file too.
    open_via_field(&mut h, &dir.path().join("missing.jpg"));
    wait_until(&mut h, "the second error", |a| !a.is_loading());
    assert!(h.state().error().unwrap().contains("no such file"));
    assert_eq!(h.state().image_name().as_deref(), Some("good.png"));
}

#[test]
fn a_truncated_file_opens_with_its_decoder_warning_shown() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/data/jpeg/q90_444.jpg"),
    )
    .unwrap();
    let sos = jpeg.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &jpeg[..sos + (jpeg.len() - sos) / 2]).unwrap();
    let mut h = harness(Startup::Nothing);
    h.step();
    open_via_field(&mut h, &cut);
    wait_until(&mut h, "the cut image and its result", |a| {
        a.is_up_to_date()
    });
    assert_eq!(h.state().image_name().as_deref(), Some("cut.jpg"));
    assert!(
        h.query_by_label_contains("Decoder warning: premature end of JPEG file")
            .is_some()
    );
}

#[test]
fn dragging_a_slider_shows_results_while_it_moves() {
    // A job of some tens of milliseconds, and a "drag" that changes C every frame. Cancelling
    // the running job on every change (as before) shows nothing until the drag stops; letting
    // a quick job finish shows results along the way.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("page.png");
    GrayImage::from_fn(900, 600, |x, y| {
        image::Luma([((x * 3 + y * y) % 251) as u8])
    })
    .save(&p)
    .unwrap();
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.settings.block_size = 61;
    h.state_mut().prefs.workers = 1;
    wait_until(&mut h, "the first result", |a| {
        a.is_up_to_date() && a.result().is_some_and(|r| r.1.block_size == 61)
    });
    // How long one job takes here, measured like the window does it. The window's own policy
    // is in wall-clock time (a job over QUICK_JOB is cancelled on change), so this is a
    // precondition, not a budget: on a machine too slow for it the test says so.
    let t0 = Instant::now();
    h.state_mut().prefs.settings.c = 3.0;
    h.step();
    wait_until(&mut h, "the C=3 result", |a| {
        a.is_up_to_date() && a.result().is_some_and(|r| r.1.c == 3.0)
    });
    let job = t0.elapsed();
    assert!(
        job < tessera::ui::QUICK_JOB,
        "the job ({job:?}) is too slow for this test"
    );
    // Change C every frame, as a drag does, until two results have shown while it moves.
    // Cancelling the running job on every change would show none: the frame cap then fails.
    let before = h.state().runs().len();
    // Values the C slider can hold (-50..=50 in steps of 0.5), never 3 again.
    let mut c = 3.0;
    let mut frames = 0;
    while h.state().runs().len() - before < 2 {
        frames += 1;
        assert!(
            frames <= MAX_FRAMES,
            "only {} results shown while dragging over {MAX_FRAMES} frames (job {job:?})",
            h.state().runs().len() - before
        );
        c = 3.0 + 0.5 * f64::from(frames as u32 % 90 + 1);
        h.state_mut().prefs.settings.c = c;
        h.step();
        std::thread::sleep(PACE);
    }
    eprintln!("2 results shown over {frames} frames of dragging (one job {job:?})");
    // The newest settings win once the drag stops.
    wait_until(&mut h, "the final result", |a| {
        a.is_up_to_date() && a.result().is_some_and(|r| r.1.c == c)
    });
    let settings = h.state().prefs.settings;
    let src = h.state().source().unwrap();
    let want = job::run(
        &src,
        &settings.to_op().unwrap(),
        &JobConfig {
            workers: 1,
            tile: TileSize::Auto,
        },
        &Control::new(),
    )
    .unwrap();
    assert_eq!(
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw(),
        want.image.as_gray8().unwrap().as_raw()
    );
}

#[test]
fn cancel_stops_the_running_job() {
    let dir = tempfile::tempdir().unwrap();
    // Big enough, with a wide Gaussian block on one worker, to take seconds.
    let p = dir.path().join("big.png");
    GrayImage::from_fn(2000, 2000, |x, y| image::Luma([((x * y) % 251) as u8]))
        .save(&p)
        .unwrap();
    let mut h = harness(Startup::Nothing);
    h.state_mut().prefs.settings.block_size = 255;
    h.state_mut().prefs.workers = 1;
    h.state_mut().prefs.tile = TileSize::Square(128);
    h.step();
    open_via_field(&mut h, &p);
    wait_until(&mut h, "the job to start", |a| {
        a.outcome() == &Outcome::Running && a.image_name().is_some()
    });
    h.get_by_label("Cancel").click();
    h.step();
    assert_eq!(h.state().outcome(), &Outcome::Cancelled);
    assert!(!h.state().is_busy());
    // The cancelled job's thread ends and its report is dropped: it never delivers a result.
    wait_until(&mut h, "the cancelled job's thread to end", |a| {
        a.background_tasks() == 0
    });
    assert!(h.state().result().is_none());
    assert_eq!(h.state().outcome(), &Outcome::Cancelled);
    assert!(h.query_by_label("Cancelled").is_some());
}

#[test]
fn saving_refuses_the_input_confirms_overwrites_and_writes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = write_photo(dir.path(), "in.png", 50, 40);
    let before = std::fs::read(&input).unwrap();
    let mut h = harness(Startup::Path(input.clone()));
    wait_until(&mut h, "the result", |a| a.is_up_to_date());

    let save_to = |h: &mut Harness<'_, Workbench>, p: &Path| {
        let field = h.get_by_label("To");
        field.focus();
        field.set_text_value_accesskit(&p.display().to_string());
        h.step();
        h.get_by_label("Save").click();
        h.step();
    };
    save_to(&mut h, &input);
    assert!(
        h.state()
            .error()
            .unwrap()
            .contains("Refusing to overwrite the input")
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);

    let out = dir.path().join("out");
    save_to(&mut h, &out);
    wait_until(&mut h, "the save", |a| !a.is_saving());
    let written = dir.path().join("out.png");
    let back = image::open(&written).unwrap().to_luma8();
    assert_eq!(
        back.as_raw(),
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw()
    );
    assert!(h.state().notice().unwrap().contains("Saved"));

    // Saving again asks first; "Keep it" writes nothing, "Replace" writes.
    std::fs::write(&written, b"placeholder").unwrap();
    save_to(&mut h, &written);
    assert_eq!(h.state().confirming_overwrite(), Some(written.as_path()));
    h.step();
    h.step();
    h.get_by_label("Keep it").click();
    h.step();
    assert!(h.state().confirming_overwrite().is_none());
    assert_eq!(std::fs::read(&written).unwrap(), b"placeholder");
    save_to(&mut h, &written);
    h.step();
    h.step();
    h.get_by_label("Replace").click();
    h.step();
    wait_until(&mut h, "the overwrite", |a| !a.is_saving());
    let back = image::open(&written).unwrap().to_luma8();
    assert_eq!(
        back.as_raw(),
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw()
    );
}

#[test]
fn settings_persist_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_photo(dir.path(), "keep.png", 30, 20);
    let mut h = harness(Startup::Path(path.clone()));
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    slider(&h, "Workers").set_value_accesskit(1.0);
    slider(&h, "Block size").set_value_accesskit(31.0);
    h.step();
    h.get_by_label("Side by side").click();
    h.step();
    // The Scaling lab's fields are remembered too.
    h.state_mut().lab_mut().workers_text = "1,3".into();
    h.state_mut().lab_mut().repeats = 7;
    let mut storage = MemStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved = h.state().prefs.clone();
    assert_eq!(saved.workers, 1);
    assert_eq!(saved.settings.block_size, 31);

    // The next run starts from the storage: the same preferences, the last image reopened
    // and processed with the kept settings, shown in the kept view mode.
    let mut again = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| Workbench::new(&cc.egui_ctx, Some(&storage), Startup::Default));
    wait_until(&mut again, "the reopened image's result", |a| {
        a.is_up_to_date()
    });
    let app = again.state();
    assert_eq!(app.prefs, saved);
    assert_eq!(app.prefs.last_folder.as_deref(), Some(dir.path()));
    assert_eq!(app.image_name().as_deref(), Some("keep.png"));
    let (_, settings, workers) = app.result().unwrap();
    assert_eq!((settings.block_size, workers), (31, 1));
    assert_eq!(app.prefs.view_mode, tessera::ui::view::ViewMode::SideBySide);
    assert_eq!(
        (app.lab().workers_text.as_str(), app.lab().repeats),
        ("1,3", 7)
    );
    assert_eq!(
        again
            .get_by_label("Side by side")
            .accesskit_node()
            .toggled(),
        Some(egui::accesskit::Toggled::True)
    );
}

#[test]
fn a_large_image_shows_in_tiles_and_reads_pixels_under_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    // Wider than the harness's maximum texture side (2048): preview plus tiles.
    let p = dir.path().join("wide.png");
    let img = GrayImage::from_fn(5000, 400, |x, y| image::Luma([((x / 10 + y) % 256) as u8]));
    img.save(&p).unwrap();
    let mut h = harness(Startup::Path(p));
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.get_by_label("Result").click();
    h.step();
    h.get_by_label("1:1").click();
    for _ in 0..6 {
        h.step();
    }
    let (orig_tiles, result_tiles) = h.state().tile_textures();
    assert!(result_tiles > 0, "no full-resolution tiles at 1:1");
    assert_eq!(
        orig_tiles, 0,
        "the original is not on screen in the Result view"
    );
    // Point at the middle of the view: the readout names the pixel and both values.
    let view = h.get_by_label("1:1").rect();
    h.hover_at(egui::pos2(700.0, view.bottom() + 150.0));
    h.step();
    h.step();
    let (x, y) = h
        .state()
        .hovered_pixel()
        .expect("no pixel under the cursor");
    let readout = format!(
        "x {x} y {y}   original {}",
        img.get_pixel(x as u32, y as u32).0[0]
    );
    assert!(
        h.query_by_label_contains(&readout).is_some(),
        "no readout {readout:?}"
    );
}

#[test]
fn the_other_tabs_get_the_shared_settings() {
    let mut h = harness(Startup::Nothing);
    h.step();
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    h.state_mut().prefs.workers = 3;
    h.step();
    let op = h.state().prefs.settings.to_op().unwrap().describe();
    h.get_by_label("Batch").click();
    h.step();
    assert!(
        h.query_by_label("Method").is_none(),
        "workbench controls still shown"
    );
    // The Batch tab runs the workbench's operation on its worker count...
    h.get_by_label(&format!("{op} on 3 workers"));
    let cfg = h
        .state()
        .batch()
        .config(&h.state().prefs.settings, h.state().prefs.workers);
    assert_eq!((cfg.op, cfg.workers), (h.state().prefs.settings, 3));
    // ...and the Scaling lab times it.
    h.get_by_label("Scaling lab").click();
    h.step();
    h.get_by_label_contains(&format!(", {op}. This machine has"));
    h.get_by_label("Workbench").click();
    h.step();
    assert!(h.query_by_label("Method").is_some());
}

/// A folder of `n` gray images of `side`×`side` pixels.
fn image_folder(dir: &Path, n: u32, side: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        GrayImage::from_fn(side, side, |x, y| {
            image::Luma([((x * 5 + y * 3 + i) % 256) as u8])
        })
        .save(dir.join(format!("img{i:03}.png")))
        .unwrap();
    }
}

#[test]
fn batch_and_sweep_results_arrive_while_their_tabs_are_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    image_folder(&input, 3, 40);
    let mut h = harness(Startup::Nothing);
    h.state_mut().prefs.workers = 1;
    {
        let batch = h.state_mut().batch_mut();
        batch.input = input.display().to_string();
        batch.output = output.display().to_string();
        let lab = h.state_mut().lab_mut();
        lab.workers_text = "1".into();
        lab.repeats = 1;
        lab.warmup = 0;
    }
    h.step();
    h.get_by_label("Batch").click();
    h.step();
    h.get_by_label("Start").click();
    h.step();
    h.get_by_label("Scaling lab").click();
    h.step();
    h.get_by_label("Run sweep").click();
    h.step();
    h.get_by_label("Workbench").click();
    h.step();
    assert!(h.state().batch().is_running() || h.state().batch().report().is_some());
    assert!(h.state().lab().is_running() || !h.state().lab().history().is_empty());
    // Only the workbench is drawn from here on: the results are still taken.
    wait_until(&mut h, "the batch and the sweep", |a| {
        assert_eq!(a.prefs.tab, tessera::ui::app::Tab::Workbench);
        !a.batch().is_running() && !a.lab().is_running()
    });
    let report = h.state().batch().report().expect("the batch's report");
    assert_eq!((report.found, report.written, report.failed), (3, 3, 0));
    assert_eq!(h.state().lab().history().len(), 1);
    assert_eq!(h.state().background_tasks(), 0);
}

#[test]
fn closing_the_window_cancels_the_batch_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    // Enough work on one worker to be still running when the window closes.
    image_folder(&input, 100, 400);
    let mut h = harness(Startup::Nothing);
    h.state_mut().prefs.workers = 1;
    {
        let batch = h.state_mut().batch_mut();
        batch.input = input.display().to_string();
        batch.output = output.display().to_string();
    }
    h.step();
    h.get_by_label("Batch").click();
    h.step();
    h.get_by_label("Start").click();
    h.step();
    wait_until(&mut h, "the first file written", |a| {
        a.batch().progress().is_some_and(|p| p.written >= 1)
    });
    // What eframe calls when the window closes: it returns once the batch has stopped.
    eframe::App::on_exit(h.state_mut(), None);
    let app = h.state();
    assert!(!app.batch().is_running(), "the batch still runs");
    assert_eq!(app.background_tasks(), 0, "a background thread is left");
    let report = app.batch().report().expect("the cancelled batch's report");
    assert!(report.cancelled, "{}", report.counts_line());
    assert!(report.written < 100);
    let left: Vec<String> = std::fs::read_dir(&output)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tessera-") && n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
