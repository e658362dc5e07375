//! What the workbench shows is what it saves, and its layout holds still (issue 14's bugs),
//! driven through the window with egui_kittest. Waits are on events and frames, never on
//! wall-clock time.

use std::path::{Path, PathBuf};

use crate::common::{MemStorage, wait_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use image::{GenericImageView as _, RgbImage};
use tessera::ui::app::Tab;
use tessera::ui::{Outcome, Startup, Workbench};
use tessera_engine::TileSize;
use tessera_engine::ops::OpKind;

fn harness_sized(startup: Startup, w: f32, h: f32) -> Harness<'static, Workbench> {
    Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_eframe(move |cc| Workbench::new(&cc.egui_ctx, None, startup))
}

fn harness(startup: Startup) -> Harness<'static, Workbench> {
    harness_sized(startup, 1280.0, 800.0)
}

fn write_photo(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let p = dir.join(name);
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            ((x * 7 + y * 3) % 256) as u8,
            (x % 251) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
    .save(&p)
    .unwrap();
    p
}

#[test]
fn after_a_cancel_the_view_and_save_say_which_settings_made_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 1600, 1200);
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.settings.op = OpKind::AdaptiveGaussian;
    h.state_mut().prefs.settings.block_size = 255;
    h.state_mut().prefs.settings.c = 2.0;
    h.state_mut().prefs.workers = 1;
    wait_until(&mut h, "the C 2 result", |a| {
        a.is_up_to_date() && a.result().is_some_and(|r| r.1.c == 2.0)
    });
    assert!(
        h.query_by_label_contains("Result: adaptive-gaussian")
            .is_some()
    );
    // Change C and cancel the job it starts (a large block on 2 MP takes a while; should the
    // job still win the race, try again with another C).
    let mut cancelled = false;
    for attempt in 0..10 {
        h.state_mut().prefs.settings.c = 20.0 + f64::from(attempt);
        h.step();
        h.state_mut().cancel();
        if h.state().outcome() == &Outcome::Cancelled {
            cancelled = true;
            break;
        }
        wait_until(&mut h, "that job", |a| a.is_up_to_date());
    }
    assert!(cancelled, "every job finished before it could be cancelled");
    for _ in 0..5 {
        h.step();
    }
    let app = h.state();
    assert!(!app.result_matches_controls());
    let shown = app.result_label().unwrap();
    assert!(shown.ends_with("c 2 max 255"), "{shown}");
    assert!(
        h.query_by_label_contains(&format!("Showing the result of {shown} (not the current"))
            .is_some()
    );
    assert!(
        h.query_by_label_contains(&format!("Saves the shown result: {shown} (not the current"))
            .is_some()
    );
    // Saving writes exactly what is shown, as it says.
    let out = dir.path().join("saved.png");
    h.state_mut().request_save(out.clone());
    wait_until(&mut h, "the save", |a| !a.is_saving() && out.exists());
    let saved = image::open(&out).unwrap().to_luma8();
    assert_eq!(
        saved.as_raw(),
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw()
    );
    // Update computes the current settings; the label follows.
    h.get_by_label("Update").click();
    wait_until(&mut h, "the current result", |a| a.is_up_to_date());
    assert!(h.state().result_matches_controls());
    let now = h.state().result_label().unwrap();
    assert!(!now.ends_with("c 2 max 255"), "{now}");
    assert!(
        h.query_by_label_contains(&format!("Result: {now}"))
            .is_some()
    );
}

#[test]
fn typed_numbers_take_effect_on_enter_not_at_each_keystroke() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 300, 200);
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.tile = TileSize::Square(256);
    // The first job may have started with auto tiles: wait for the tile-256 one.
    wait_until(&mut h, "the tile 256 result", |a| {
        a.is_up_to_date() && a.runs().last().is_some_and(|r| r.tile_label == "256")
    });
    let runs = h.state().runs().len();
    let field = h.get_by_label("Tiles");
    field.focus();
    h.step();
    h.step();
    h.get_by_label("Tiles").type_text("64");
    for _ in 0..5 {
        h.step();
    }
    // Nothing typed has been taken yet: no job for tile 6 (or 64) ran.
    assert_eq!(h.state().prefs.tile, TileSize::Square(256));
    assert_eq!(h.state().runs().len(), runs);
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the tile 64 result", |a| {
        a.is_up_to_date() && a.runs().last().is_some_and(|r| r.tile_label == "64")
    });
    assert_eq!(h.state().prefs.tile, TileSize::Square(64));
    assert_eq!(h.state().runs().len(), runs + 1, "one job, for 64 only");
}

#[test]
fn a_long_error_wraps_and_a_later_success_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_photo(dir.path(), "good.png", 40, 30);
    let long = dir
        .path()
        .join(format!("{}.jpg", "a-very-long-file-name-".repeat(8)));
    std::fs::write(&long, b"these are notes, not an image").unwrap();
    for (w, ht) in [(1280.0, 800.0), (1024.0, 700.0)] {
        let mut h = harness_sized(Startup::Path(good.clone()), w, ht);
        wait_until(&mut h, "the good image", |a| a.is_up_to_date());
        h.state_mut().open_file(long.clone());
        wait_until(&mut h, "the error", |a| !a.is_loading());
        assert!(
            h.state()
                .error()
                .is_some_and(|e| e.contains("not an image"))
        );
        h.step();
        let dismiss = h.get_by_label("Dismiss").rect();
        assert!(
            dismiss.max.x <= w,
            "Dismiss is off the window: {dismiss:?} in {w}"
        );
        // The path field shows the open file, not the one that failed.
        assert_eq!(h.state().open_field_text(), good.display().to_string());
        // A later successful save clears the old error.
        let out = dir.path().join(format!("saved-{w}.png"));
        h.state_mut().request_save(out.clone());
        wait_until(&mut h, "the save", |a| !a.is_saving() && out.exists());
        assert!(h.state().error().is_none(), "{:?}", h.state().error());
    }
}

#[test]
fn the_controls_do_not_move_when_the_level_line_appears() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 60, 40);
    let mut h = harness(Startup::Path(p));
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    let y = |h: &Harness<'_, Workbench>| h.get_by_label("Reset parameters").rect().min.y;
    let before = y(&h);
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    wait_until(&mut h, "the Otsu result", |a| a.is_up_to_date());
    assert!(h.query_by_label_contains("Level found: ").is_some());
    assert_eq!(y(&h), before, "the controls moved");
}

#[test]
fn an_image_given_to_open_shows_the_workbench_whatever_tab_was_last() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 60, 40);
    let mut first = harness(Startup::Nothing);
    first.state_mut().prefs.tab = Tab::Batch;
    let mut storage = MemStorage::default();
    eframe::App::save(first.state_mut(), &mut storage);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| Workbench::new(&cc.egui_ctx, Some(&storage), Startup::Path(p)));
    wait_until(&mut h, "the image", |a| a.is_up_to_date());
    assert_eq!(h.state().prefs.tab, Tab::Workbench);
}

#[test]
fn a_quick_drag_from_the_split_divider_moves_it_instead_of_panning() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 400, 300);
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.view_mode = tessera::ui::view::ViewMode::Split;
    h.state_mut().prefs.split = 0.5;
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.step();
    let (rect, split) = h.state().viewer_geometry();
    assert!(rect.width() > 100.0, "{rect:?}");
    let start = egui::pos2(rect.left() + split * rect.width() + 4.0, rect.center().y);
    // Press beside the divider, then a drag whose first recognised position is already well
    // past the grab zone (a quick flick), in a few moves.
    h.hover_at(start);
    h.step();
    h.drag_at(start);
    h.step();
    for dx in [30.0, 60.0, 90.0] {
        h.hover_at(start + egui::vec2(dx, 0.0));
        h.step();
    }
    h.drop_at(start + egui::vec2(90.0, 0.0));
    h.step();
    let (_, moved) = h.state().viewer_geometry();
    let want = split + 86.0 / rect.width();
    assert!(
        (moved - want).abs() < 0.02,
        "divider at {moved}, wanted about {want}"
    );
}

#[test]
fn the_overlay_colours_the_result_over_the_original_in_the_chosen_style() {
    use tessera::ui::view::{OverlayStyle, ViewMode};
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 120, 80);
    let original = image::open(&p).unwrap().to_rgb8();
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.settings.op = OpKind::Threshold;
    h.state_mut().prefs.settings.thresh = 127.0;
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.get_by_label("Overlay").click();
    h.step();
    assert_eq!(h.state().prefs.view_mode, ViewMode::Overlay);
    h.get_by_label("Over/under").click();
    h.step();
    assert_eq!(h.state().prefs.overlay_style, OverlayStyle::OverUnder);
    h.state_mut().prefs.overlay_opacity = 0.5;
    h.step();
    let result = h.state().result().unwrap().0.as_gray8().unwrap().clone();
    let (mut fg, mut bg) = (0, 0);
    for (x, y, px) in original.enumerate_pixels() {
        let o = px.0;
        let r = result.get_pixel(x, y).0[0];
        // Half the original, half green over the foreground and blue over the background.
        let want = if r > 0 {
            fg += 1;
            [
                o[0] as f32 * 0.5,
                o[1] as f32 * 0.5 + 110.0,
                o[2] as f32 * 0.5,
            ]
        } else {
            bg += 1;
            [
                o[0] as f32 * 0.5,
                o[1] as f32 * 0.5 + 35.0,
                o[2] as f32 * 0.5 + 127.5,
            ]
        };
        let got = h.state().overlay_pixel(x as usize, y as usize).unwrap();
        for (g, w) in [got.r(), got.g(), got.b()].into_iter().zip(want) {
            assert!(
                (f32::from(g) - w).abs() <= 0.5,
                "({x}, {y}): {got:?} vs {want:?}"
            );
        }
    }
    assert!(fg > 0 && bg > 0, "{fg} {bg}");
    // Red: the background shows as it is.
    h.get_by_label("Red").click();
    h.step();
    let (x, y) = (0..120u32)
        .flat_map(|x| (0..80u32).map(move |y| (x, y)))
        .find(|&(x, y)| result.get_pixel(x, y).0[0] == 0)
        .unwrap();
    let o = original.get_pixel(x, y).0;
    let got = h.state().overlay_pixel(x as usize, y as usize).unwrap();
    assert_eq!([got.r(), got.g(), got.b()], o);
}

#[test]
fn dragging_on_the_histogram_sets_a_fixed_threshold_from_the_found_level() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 160, 120);
    let mut h = harness(Startup::Path(p.clone()));
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    wait_until(&mut h, "the Otsu result", |a| a.is_up_to_date());
    let found = f64::from(h.state().found_level().unwrap());
    h.step();
    // Press on the marker (Otsu's level) and drag 20 levels to the right.
    let at = h
        .state()
        .histogram_point(found)
        .expect("the histogram is drawn");
    let to = h.state().histogram_point(found + 20.0).unwrap();
    h.hover_at(at);
    h.step();
    h.drag_at(at);
    h.step();
    for k in 1..=4 {
        h.hover_at(at + (to - at) * (k as f32 / 4.0));
        h.step();
    }
    h.drop_at(to);
    h.step();
    let s = h.state().prefs.settings;
    assert_eq!(s.op, OpKind::Threshold);
    assert_eq!(s.thresh, found + 20.0);
    wait_until(&mut h, "the fixed-threshold result", |a| a.is_up_to_date());
    // The window's result equals `tessera run --op threshold --thresh <level>`.
    let out = dir.path().join("cli.png");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["run", p.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--op", "threshold", "--thresh", &(found + 20.0).to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cli = image::open(&out).unwrap().to_luma8();
    assert_eq!(
        cli.as_raw(),
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw()
    );
}

#[test]
fn undo_redo_history_and_the_copied_command_reproduce_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 160, 120);
    let mut h = harness(Startup::Path(p));
    h.state_mut().prefs.settings.op = OpKind::AdaptiveMean;
    h.state_mut().prefs.settings.c = 2.0;
    wait_until(&mut h, "the first result", |a| a.is_up_to_date());
    for c in [5.0, 9.0] {
        h.state_mut().prefs.settings.c = c;
        wait_until(&mut h, "the result", |a| a.is_up_to_date());
    }
    let cmd = egui::Modifiers::COMMAND;
    h.key_press_modifiers(cmd, egui::Key::Z);
    h.step();
    assert_eq!(h.state().prefs.settings.c, 5.0);
    h.key_press_modifiers(cmd, egui::Key::Z);
    h.step();
    assert_eq!(h.state().prefs.settings.c, 2.0);
    h.key_press_modifiers(cmd | egui::Modifiers::SHIFT, egui::Key::Z);
    h.step();
    assert_eq!(h.state().prefs.settings.c, 5.0);
    // (The label above the image names the shown result's settings: wait until it is the
    // c 5 one, so that "c 9" below is only in the history list.)
    wait_until(&mut h, "the c 5 result", |a| a.is_up_to_date());
    // Every setting tried is listed; clicking one restores it.
    let (entries, _) = h.state().history();
    assert!(entries.len() >= 3, "{entries:?}");
    h.get_by_label_contains("Settings tried").click();
    h.step();
    h.get_by_label_contains("c 9 max").click();
    h.step();
    assert_eq!(h.state().prefs.settings.c, 9.0);
    wait_until(&mut h, "the c 9 result", |a| a.is_up_to_date());
    // The copied command makes the same pixels.
    h.get_by_label("Copy command").click();
    h.step();
    let notice = h.state().notice().unwrap().to_owned();
    let line = notice.strip_prefix("Copied: ").expect(&notice);
    assert!(line.contains("--c 9"), "{line}");
    let shell = line.replacen("tessera", env!("CARGO_BIN_EXE_tessera"), 1);
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(&shell)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = dir.path().join(
        h.state()
            .result_command()
            .unwrap()
            .split(" -o ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap(),
    );
    let cli = image::open(&out).unwrap().to_luma8();
    assert_eq!(
        cli.as_raw(),
        h.state().result().unwrap().0.as_gray8().unwrap().as_raw()
    );
}

#[test]
fn f1_shows_every_shortcut() {
    let mut h = harness(Startup::Nothing);
    h.step();
    h.key_press(egui::Key::F1);
    h.step();
    h.step();
    for (k, what) in tessera::ui::app::history::SHORTCUTS {
        assert!(h.query_all_by_label(k).next().is_some(), "{k}");
        assert!(h.query_all_by_label(what).next().is_some(), "{what}");
    }
}

#[test]
fn otsu_in_a_region_drawn_with_shift_drag_ignores_a_white_border() {
    use tessera::ui::jobs::RoiScope;
    let dir = tempfile::tempdir().unwrap();
    // A page with a wide white scanner margin: Otsu on the whole image splits margin from
    // page; in the page region it splits ink from paper.
    let p = dir.path().join("scan.png");
    image::GrayImage::from_fn(240, 180, |x, y| {
        let inside = (60..180).contains(&x) && (45..135).contains(&y);
        let v = if !inside {
            255
        } else if (x / 6 + y / 9) % 3 == 0 {
            40
        } else {
            150 + ((x * 7 + y * 3) % 40) as u8
        };
        image::Luma([v])
    })
    .save(&p)
    .unwrap();
    let mut h = harness(Startup::Path(p.clone()));
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    h.state_mut().prefs.view_mode = tessera::ui::view::ViewMode::Result;
    wait_until(&mut h, "the whole-image Otsu", |a| a.is_up_to_date());
    let whole_level = h.state().found_level().unwrap();
    h.step();
    // Shift+drag from image pixel (70, 55) to (170, 125), through the viewer.
    let (rect, _) = h.state().viewer_geometry();
    let zoom = ((rect.width() - 8.0) / 240.0).min((rect.height() - 8.0) / 180.0);
    let at = |x: f32, y: f32| rect.center() + (egui::vec2(x, y) - egui::vec2(120.0, 90.0)) * zoom;
    let shift = egui::Modifiers::SHIFT;
    h.event(egui::Event::ModifiersChanged(shift));
    h.hover_at(at(70.0, 55.0));
    h.step();
    h.drag_at(at(70.0, 55.0));
    h.step();
    for k in 1..=4 {
        let f = k as f32 / 4.0;
        h.hover_at(at(70.0 + 100.0 * f, 55.0 + 70.0 * f));
        h.step();
    }
    h.drop_at(at(170.0, 125.0));
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.step();
    let (roi, _) = h.state().roi();
    let roi = roi.expect("a region was drawn");
    assert!(
        roi.x.abs_diff(70) <= 1 && roi.y.abs_diff(55) <= 1,
        "{roi:?}"
    );
    assert!(
        roi.w.abs_diff(100) <= 2 && roi.h.abs_diff(70) <= 2,
        "{roi:?}"
    );
    wait_until(&mut h, "the region's Otsu", |a| a.is_up_to_date());
    let level = h.state().found_level().unwrap();
    assert_ne!(
        level, whole_level,
        "the margin should have moved the whole-image level"
    );
    // The level is `tessera run --op otsu` on the region cut out of the image.
    let crop = image::open(&p)
        .unwrap()
        .to_luma8()
        .view(roi.x as u32, roi.y as u32, roi.w as u32, roi.h as u32)
        .to_image();
    let crop_path = dir.path().join("crop.png");
    crop.save(&crop_path).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["run", crop_path.to_str().unwrap(), "-o"])
        .arg(dir.path().join("crop-otsu.png"))
        .args(["--op", "otsu", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["level"].as_u64(), Some(u64::from(level)));
    let label = h.state().result_label().unwrap();
    assert!(
        label.contains(&format!("level {level} from the region")),
        "{label}"
    );
    // Applied inside the region only: everything outside is 0.
    h.get_by_label("inside only").click();
    wait_until(&mut h, "the inside-only result", |a| {
        a.is_up_to_date() && a.roi().1 == RoiScope::Inside
    });
    let res = h.state().result().unwrap().0.as_gray8().unwrap().clone();
    for (x, y, v) in res.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        let inside = x >= roi.x && x < roi.x + roi.w && y >= roi.y && y < roi.y + roi.h;
        if !inside {
            assert_eq!(v.0[0], 0, "({x}, {y})");
        }
    }
}

#[test]
fn at_1024_pixels_the_overlay_controls_stay_inside_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_photo(dir.path(), "photo.png", 400, 300);
    let mut h = harness_sized(Startup::Path(p), 1024.0, 700.0);
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.get_by_label("Overlay").click();
    h.step();
    h.step();
    let slider = h
        .get_by_role_and_label(egui::accesskit::Role::Slider, "opacity")
        .rect();
    assert!(
        slider.max.x <= 1024.0,
        "the opacity slider is off the window: {slider:?}"
    );
}
