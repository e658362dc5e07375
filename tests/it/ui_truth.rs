//! The workbench with a ground truth: loaded through its controls, the metrics follow every
//! result (equal to `tessera_engine::metrics::evaluate` on the result the window holds), and
//! the Errors view colours false positives and negatives. Driven with egui_kittest; waits are
//! on events and frames.

use std::path::{Path, PathBuf};

use crate::common::wait_until;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use tessera::ui::view::ViewMode;
use tessera::ui::{Startup, Workbench};
use tessera_engine::metrics::{EvalOptions, FALSE_NEGATIVE_RGB, FALSE_POSITIVE_RGB, evaluate};
use tessera_engine::ops::OpKind;

fn doc(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/metrics/documents")
        .join(p)
}

fn harness() -> Harness<'static, Workbench> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(|cc| {
            Workbench::new(&cc.egui_ctx, None, Startup::Path(doc("images/doc02.png")))
        })
}

/// The window's metrics are those of the result it shows.
fn check_metrics(app: &Workbench) -> f64 {
    let m = *app.metrics().unwrap().unwrap();
    let (plane, _, _) = app.result().unwrap();
    let truth = image::open(doc("truth/doc02.png")).unwrap().into_luma8();
    let again = evaluate(plane.as_gray8().unwrap(), &truth, &app.eval_options()).unwrap();
    assert_eq!(m, again);
    m.f_measure
}

#[test]
fn metrics_follow_every_result_and_the_errors_view_shows_them() {
    let mut h = harness();
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    wait_until(&mut h, "the Otsu result", |a| a.is_up_to_date());
    assert!(h.query_by_label("Ground truth").is_some());
    // Through the controls: type the path, press Load.
    let gt = doc("truth/doc02.png");
    h.state_mut().load_ground_truth(gt.clone());
    wait_until(&mut h, "the metrics", |a| {
        matches!(a.metrics(), Some(Ok(_)))
    });
    assert_eq!(h.state().ground_truth(), Some(gt.as_path()));
    let f_otsu = check_metrics(h.state());
    assert!(h.query_by_label("F-measure").is_some());
    assert!(h.query_by_label_contains("of: otsu").is_some());

    // Another method: the metrics follow.
    h.state_mut().prefs.settings.op = OpKind::Sauvola;
    h.state_mut().prefs.settings.block_size = 25;
    wait_until(&mut h, "the Sauvola metrics", |a| {
        a.is_up_to_date() && matches!(a.metrics(), Some(Ok(_)))
    });
    let f_sauvola = check_metrics(h.state());
    assert_ne!(f_otsu, f_sauvola);
    assert!(h.query_by_label_contains("of: sauvola").is_some());

    // The Errors view: a wrong pixel has its colour, a right one neither.
    h.state_mut().prefs.view_mode = ViewMode::Errors;
    h.step();
    let (plane, _, _) = h.state().result().unwrap();
    let mask = plane.as_gray8().unwrap().clone();
    let truth = image::open(&gt).unwrap().into_luma8();
    let (mut fp, mut fn_, mut ok) = (None, None, None);
    for (x, y, p) in mask.enumerate_pixels() {
        let t = truth.get_pixel(x, y).0[0];
        match (p.0[0] < 128, t < 128) {
            (true, false) => fp = fp.or(Some((x, y))),
            (false, true) => fn_ = fn_.or(Some((x, y))),
            _ => ok = ok.or(Some((x, y))),
        }
    }
    let at = |p: (u32, u32)| h.state().error_pixel(p.0 as usize, p.1 as usize).unwrap();
    assert_eq!(at(fp.unwrap()), FALSE_POSITIVE_RGB);
    assert_eq!(at(fn_.unwrap()), FALSE_NEGATIVE_RGB);
    let c = at(ok.unwrap());
    assert!(c != FALSE_POSITIVE_RGB && c != FALSE_NEGATIVE_RGB && c[0] == c[1]);

    // doxa's definitions: same F-measure, DRD on doxa's blocks.
    h.state_mut().prefs.truth_doxa = true;
    wait_until(
        &mut h,
        "the doxa metrics",
        |a| matches!(a.metrics(), Some(Ok(m)) if m.like == tessera_engine::metrics::Like::Doxa),
    );
    let m = *h.state().metrics().unwrap().unwrap();
    assert_eq!(m.f_measure, f_sauvola);
    let dibco = evaluate(&mask, &truth, &EvalOptions::default()).unwrap();
    assert_ne!(m.drd, dibco.drd);
}

#[test]
fn a_ground_truth_of_another_size_says_so() {
    let mut h = harness();
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    let other = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/metrics/files/edge_crop37x29.groundtruth.png");
    h.state_mut().load_ground_truth(other);
    wait_until(&mut h, "the refusal", |a| {
        matches!(a.metrics(), Some(Err(_)))
    });
    let e = h.state().metrics().unwrap().unwrap_err().to_string();
    assert!(e.contains("400×300") && e.contains("29×37"), "{e}");
    // In the controls and on the line under the view.
    assert_eq!(h.query_all_by_label_contains("does not fit").count(), 2);
    // A missing file is an error line, and nothing else changes.
    h.state_mut()
        .load_ground_truth(PathBuf::from("/nonexistent/gt.png"));
    wait_until(&mut h, "the error", |a| !a.is_loading_truth());
    assert!(
        h.state()
            .error()
            .unwrap()
            .starts_with("Could not open the ground truth")
    );
}

#[test]
fn the_tune_tab_searches_and_applies_the_best_to_the_workbench() {
    use tessera::ui::app::Tab;
    let mut h = harness();
    h.state_mut().prefs.settings.op = OpKind::Sauvola;
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.state_mut().load_ground_truth(doc("truth/doc02.png"));
    wait_until(&mut h, "the metrics", |a| {
        matches!(a.metrics(), Some(Ok(_)))
    });
    h.state_mut().prefs.tab = Tab::Tune;
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("doc02.png against doc02.png")
            .is_some()
    );
    h.state_mut().tune_mut().grid = "block-size=11..51:10,k=0.1..0.4:0.1".into();
    h.get_by_label("Search").click();
    wait_until(&mut h, "the search", |a| {
        a.tune().report().is_some() || a.tune().error().is_some()
    });
    assert_eq!(h.state().tune().error(), None);
    let r = h.state().tune().report().unwrap();
    assert_eq!(r.rows.len(), 5 * 4);
    let best = r.best().clone();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Best: sauvola").is_some());
    h.get_by_label("Apply the best to the Workbench").click();
    h.run_steps(2);
    let app = h.state();
    assert_eq!(app.prefs.tab, Tab::Workbench);
    assert_eq!(app.prefs.settings.to_op().unwrap().describe(), best.op);
    // The workbench computes it and its metrics equal the search's mean on this one image.
    wait_until(&mut h, "the best's metrics", |a| {
        a.is_up_to_date() && matches!(a.metrics(), Some(Ok(_)))
    });
    let f = check_metrics(h.state());
    assert!((f - best.mean(tessera_engine::metrics::Metric::FMeasure)).abs() < 1e-12);
}

#[test]
fn the_tune_tab_searches_a_folder_and_says_what_it_left_out() {
    use tessera::ui::app::Tab;
    use tessera::ui::tune_panel::TuneSource;
    let dir = tempfile::tempdir().unwrap();
    let gts = dir.path().join("gt");
    std::fs::create_dir(&gts).unwrap();
    for i in [1, 3, 5] {
        std::fs::copy(
            doc(&format!("truth/doc0{i}.png")),
            gts.join(format!("doc0{i}.png")),
        )
        .unwrap();
    }
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 700.0))
        .build_eframe(|cc| Workbench::new(&cc.egui_ctx, None, Startup::Nothing));
    h.state_mut().prefs.tab = Tab::Tune;
    {
        let t = h.state_mut().tune_mut();
        t.source = TuneSource::Folder;
        t.folder = doc("images").display().to_string();
        t.truth_folder = gts.display().to_string();
        t.methods = "otsu, niblack".into();
        t.grid = "k=-0.3/-0.2/-0.1".into();
    }
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_until(&mut h, "the search", |a| {
        a.tune().report().is_some() || a.tune().error().is_some()
    });
    let r = h.state().tune().report().unwrap();
    assert_eq!(r.images.len(), 3);
    assert_eq!(r.rows.len(), 1 + 3);
    h.run_steps(2);
    assert_eq!(
        h.query_all_by_label_contains("left out: ").count(),
        5,
        "doc02, 04, 06, 07, 08 have no ground truth"
    );
    // A bad grid is one clear line, nothing runs.
    h.state_mut().tune_mut().grid = "k=oops".into();
    h.get_by_label("Search").click();
    h.run_steps(2);
    assert!(h.state().tune().error().unwrap().contains("not a number"));
}

#[test]
fn try_all_is_sorted_by_f_measure_against_the_ground_truth() {
    let mut h = harness();
    h.state_mut().prefs.settings.op = OpKind::Otsu;
    wait_until(&mut h, "the result", |a| a.is_up_to_date());
    h.state_mut().load_ground_truth(doc("truth/doc02.png"));
    wait_until(&mut h, "the metrics", |a| {
        matches!(a.metrics(), Some(Ok(_)))
    });
    h.get_by_label("Try all methods…").click();
    let total = tessera_engine::montage::plan().len();
    wait_until(&mut h, "every method of Try all", |a| {
        a.try_all_cells() == Some((total, true))
    });
    let order = h.state().try_all_order();
    assert_eq!(order.len(), total);
    let f: Vec<f64> = order
        .iter()
        .map(|(_, f)| f.filter(|v| !v.is_nan()).unwrap_or(f64::NEG_INFINITY))
        .collect();
    assert!(f.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    // The image fits the preview (400x300 < 480): F is the full image's. Otsu's cell equals
    // the workbench's Otsu metrics.
    let otsu = order
        .iter()
        .find(|(l, _)| l == "Otsu (OpenCV)")
        .unwrap()
        .1
        .unwrap();
    assert_eq!(otsu, h.state().metrics().unwrap().unwrap().f_measure);
    assert!(h.query_by_label_contains("Sorted by F-measure").is_some());
}
