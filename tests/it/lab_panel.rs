//! The Scaling lab tab, driven headless through egui_kittest: a real sweep of a small image
//! on a background thread, then the table, the charts, the history overlay and the exports.

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tessera::ui::lab::LabPanel;
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::source::SourceImage;

struct State {
    panel: LabPanel,
    settings: OpSettings,
    image: Option<Arc<SourceImage>>,
}

fn harness(image: Option<Arc<SourceImage>>) -> Harness<'static, State> {
    let state = State {
        panel: LabPanel::default(),
        settings: OpSettings::default(),
        image,
    };
    Harness::builder()
        .with_size([1100.0, 4000.0])
        .build_ui_state(
            |ui, s: &mut State| {
                let image = s.image.clone();
                s.panel.ui(ui, &s.settings, image);
            },
            state,
        )
}

fn small_image() -> Arc<SourceImage> {
    Arc::new(SourceImage::gray(image::GrayImage::from_fn(
        120,
        90,
        |x, y| image::Luma([((x * 7 + y * 13) % 251) as u8]),
    )))
}

/// Frames a wait may run before the test fails (the cap counts frames, never time).
const MAX_FRAMES: usize = 30_000;

/// Runs frames until `cond` holds, at most [`MAX_FRAMES`].
fn wait_until(h: &mut Harness<'_, State>, what: &str, cond: impl Fn(&State) -> bool) {
    for _ in 0..MAX_FRAMES {
        if cond(h.state()) {
            return;
        }
        h.step();
        // Only to give the sweep's threads the CPU.
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("gave up waiting for {what} after {MAX_FRAMES} frames");
}

/// Runs frames until the sweep is over, then two more to draw its result.
fn wait_done(h: &mut Harness<'_, State>) {
    h.step();
    wait_until(h, "the sweep to end", |s| !s.panel.is_running());
    h.step();
    h.step();
}

fn has(h: &Harness<'_, State>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn a_sweep_shows_table_charts_history_and_exports() {
    let mut h = harness(Some(small_image()));
    {
        let p = &mut h.state_mut().panel;
        p.workers_text = "1,2,3".into();
        p.tiles_text = "32, auto".into();
        p.repeats = 2;
        p.warmup = 1;
    }
    h.step();
    assert!(has(&h, "6 configurations x 3 runs = 18 runs"));
    assert!(has(&h, "No sweep yet"));
    h.get_by_label("Run sweep").click();
    wait_done(&mut h);

    let hist = h.state().panel.history();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].summary.rows.len(), 6);
    // The memory ceiling was measured on each worker count (on by default) and is reported.
    let bws = hist[0]
        .result
        .bandwidth
        .as_ref()
        .expect("bandwidth measured");
    assert_eq!(bws.len(), 3);
    assert!(has(&h, "memory copy bandwidth"));
    assert_eq!(hist[0].result.measured().count(), 12);
    // The lab opens on the summary: the verdict and the speedup chart, the rest one click
    // away.
    assert!(has(&h, "#1: "), "no verdict on the summary");
    assert!(has(&h, "Speedup vs workers"));
    for text in ["Timeline of a run", "Time vs workers", "median ms"] {
        assert!(!has(&h, text), "{text:?} on the summary");
    }
    h.get_by_label("Timeline").click();
    h.step();
    h.step();
    assert!(has(&h, "Timeline of a run") && !has(&h, "Speedup vs workers"));
    h.get_by_label("All on one page").click();
    h.step();
    h.step();
    // The table and every chart are on screen.
    for text in [
        "median ms",
        "efficiency",
        "Time vs workers",
        "Speedup vs workers",
        "Efficiency vs workers",
        "Throughput by tile size",
        "Timeline of a run",
        "Pool start-up",
        "#1 open image, adaptive-gaussian",
    ] {
        assert!(has(&h, text), "{text:?} not shown");
    }
    assert!(!has(&h, "No sweep yet"));

    // Exports through the path field (no file dialog needed).
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lab");
    h.state_mut().panel.export_base = base.display().to_string();
    h.step();
    for (button, file) in [
        ("Save CSV", "lab.csv"),
        ("Save JSON", "lab.json"),
        ("Save PNG charts", "lab-timeline.png"),
    ] {
        h.get_by_label(button).click();
        h.step();
        // The export is written on a background thread.
        wait_until(&mut h, button, |s| !s.panel.is_exporting());
        let shown: Vec<String> = h
            .query_all_by_label_contains("Wrote")
            .chain(h.query_all_by_label_contains("failed"))
            .map(|n| format!("{n:?}"))
            .collect();
        assert!(dir.path().join(file).exists(), "{button}: {shown:?}");
    }
    let csv = std::fs::read_to_string(base.with_extension("csv")).unwrap();
    assert!(csv.starts_with("workers,tile,median_s,min_s,max_s,speedup,efficiency,mp_per_s"));
    assert_eq!(csv.lines().count(), 7);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.with_extension("json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    for chart in ["time", "speedup", "efficiency", "tiles", "timeline"] {
        let p = dir.path().join(format!("lab-{chart}.png"));
        assert!(image::open(&p).is_ok(), "{} missing", p.display());
    }

    // A second sweep with another op joins the history; both are overlaid until unticked.
    h.state_mut().settings.op = OpKind::Otsu;
    h.step();
    h.get_by_label("Run sweep").click();
    wait_done(&mut h);
    assert_eq!(h.state().panel.history().len(), 2);
    assert!(has(&h, "#2 open image, otsu"));
    h.get_by_label("#1 open image, adaptive-gaussian").click();
    h.step();
    h.step();
    let hist = h.state().panel.history();
    assert!(!hist[0].visible && hist[1].visible);
}

#[test]
fn a_long_sweep_shows_progress_and_cancels() {
    let big = Arc::new(SourceImage::gray(image::GrayImage::from_fn(
        600,
        400,
        |x, y| image::Luma([((x ^ y) & 255) as u8]),
    )));
    let mut h = harness(Some(big));
    {
        let p = &mut h.state_mut().panel;
        p.workers_text = "1-2".into();
        p.repeats = 1000;
    }
    h.step();
    h.get_by_label("Run sweep").click();
    h.step();
    assert!(h.state().panel.is_running());
    wait_until(&mut h, "three runs done", |s| {
        s.panel.progress().is_none_or(|(done, _)| done >= 3)
    });
    assert!(h.state().panel.is_running(), "the sweep ended by itself");
    h.step();
    assert!(has(&h, " of 2002"), "progress not shown");
    assert!(has(&h, "Cancel"));
    h.get_by_label("Cancel").click();
    wait_done(&mut h);
    assert!(h.state().panel.history().is_empty());
    assert!(has(&h, "Sweep cancelled"));
    assert!(has(&h, "Run sweep"));
}

#[test]
fn bad_lists_disable_the_run_and_say_why() {
    let mut h = harness(None);
    h.state_mut().panel.workers_text = "0,2".into();
    h.step();
    assert!(has(&h, "worker counts between 1 and"));
    h.state_mut().panel.workers_text = "1,2".into();
    h.state_mut().panel.tiles_text = "auto, big".into();
    h.step();
    assert!(has(&h, "tile must be"));
    // Without an open image the sample is the workload.
    assert!(has(&h, "sample"));
}

/// After a sweep the lab says its result in one sentence (speedup with its interval,
/// efficiency, the predicted best worker count), and the mouse wheel over a chart scrolls the
/// page instead of zooming the chart.
#[test]
fn the_verdict_appears_and_the_wheel_scrolls_the_page_over_a_chart() {
    let state = State {
        panel: LabPanel::default(),
        settings: OpSettings::default(),
        image: Some(small_image()),
    };
    let mut h = Harness::builder()
        .with_size([1100.0, 700.0])
        .build_ui_state(
            |ui, s: &mut State| {
                let image = s.image.clone();
                s.panel.ui(ui, &s.settings, image);
            },
            state,
        );
    {
        let p = &mut h.state_mut().panel;
        p.workers_text = "1,2".into();
        p.repeats = 3;
        p.warmup = 1;
    }
    h.step();
    h.get_by_label("Run sweep").click();
    wait_done(&mut h);
    let verdict = h.state().panel.history()[0].inference.verdict.clone();
    assert!(
        verdict.contains("x [") && verdict.contains("% efficient"),
        "{verdict}"
    );
    assert!(has(&h, &format!("#1: {verdict}")), "the sentence is shown");
    assert_eq!(h.state().panel.view, tessera::ui::lab::LabView::Summary);
    h.get_by_label("All on one page").click();
    h.step();
    h.step();
    // Scroll so a chart is in view, then turn the wheel over it: the page moves.
    let title = h.get_by_label_contains("Time vs workers");
    title.scroll_to_me();
    h.step();
    h.step();
    let before = h.get_by_label_contains("Time vs workers").rect();
    let ranges = h.state().panel.chart_ranges().to_vec();
    assert_eq!(ranges.len(), 3);
    let over_chart = before.center_bottom() + egui::vec2(0.0, 80.0);
    h.hover_at(over_chart);
    h.step();
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -120.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    });
    for _ in 0..10 {
        h.step();
    }
    let after = h.get_by_label_contains("Time vs workers").rect();
    assert!(
        after.top() < before.top() - 20.0,
        "the page did not scroll: {before:?} -> {after:?}"
    );
    // ... and the chart under the pointer kept its range.
    assert_eq!(h.state().panel.chart_ranges(), &ranges[..]);
}

/// The timeline gives every worker a row and names the ones that got no tile (a 1-row image
/// on 4 workers leaves some idle).
#[test]
fn the_timeline_lists_idle_workers() {
    let tiny = Arc::new(SourceImage::gray(image::GrayImage::from_fn(
        64,
        2,
        |x, _| image::Luma([(x * 3) as u8]),
    )));
    let mut h = harness(Some(tiny));
    {
        let p = &mut h.state_mut().panel;
        p.workers_text = "1,4".into();
        p.repeats = 1;
        p.warmup = 0;
    }
    h.step();
    h.get_by_label("Run sweep").click();
    wait_done(&mut h);
    let hist = h.state().panel.history();
    let run = hist[0].result.measured().last().unwrap().clone();
    assert_eq!(run.workers, 4);
    let busy: std::collections::HashSet<usize> = run.items.iter().map(|i| i.worker).collect();
    let idle = 4 - busy.len();
    assert!(idle > 0, "every worker got a tile: {busy:?}");
    h.get_by_label("Timeline").click();
    h.step();
    h.step();
    assert!(has(
        &h,
        &format!("Idle workers (no tile in this run): {idle} of 4")
    ));
}

/// Any program as the lab's workload: the command's runs join the history with the same
/// statistics, `{workers}` replaced.
#[test]
fn a_command_is_swept_in_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.txt");
    let mut h = harness(None);
    {
        let p = &mut h.state_mut().panel;
        p.workers_text = "1,2".into();
        p.repeats = 2;
        p.warmup = 0;
        p.command_text = format!("echo {{workers}} >> {}", log.display());
    }
    h.step();
    assert!(has(&h, "Workload: the command `echo {workers}"));
    h.get_by_label("Run sweep").click();
    wait_done(&mut h);
    let hist = h.state().panel.history();
    assert_eq!(hist[0].result.workload.kind, "command");
    assert_eq!(hist[0].result.measured().count(), 4);
    let calls = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = calls.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["1", "1", "2", "2"]);
    assert!(has(&h, "#1 command `echo {workers}"));
    assert!(!hist[0].inference.verdict.is_empty());
}
