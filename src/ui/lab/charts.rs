//! The lab's table and charts (egui_plot): time, speedup and efficiency against workers
//! (overlaying every visible sweep), the tile size × workers heat map and the per-worker
//! timeline of one run.

use egui::Color32;
use egui_plot::{
    Bar, BarChart, BoxElem, BoxPlot, BoxSpread, GridMark, HLine, Heatmap, Legend, Line, LineStyle,
    Plot, Points, VLine,
};

use super::SweepEntry;
use tessera_engine::sweep::{SweepResult, TABLE_COLUMNS};

/// Series colours: one per (sweep, tile size), cycling.
pub const PALETTE: [Color32; 8] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(23, 190, 207),
];

/// Colours of the timeline, by item label (stage).
pub fn stage_color(label: &str) -> Color32 {
    match label {
        "gray" => Color32::from_rgb(120, 144, 156),
        "histogram" => Color32::from_rgb(255, 167, 38),
        "op" => Color32::from_rgb(66, 133, 244),
        _ => Color32::from_rgb(76, 175, 80),
    }
}

const PLOT_HEIGHT: f32 = 220.0;

/// The tile sizes of a sweep in order, as labelled.
pub fn tiles_of(result: &SweepResult) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for k in &result.configs {
        let t = k.tile.to_string();
        if !v.contains(&t) {
            v.push(t);
        }
    }
    v
}

/// A series' legend name: the sweep's label when several sweeps are shown, the tile size
/// when the sweep has several (the heading above the chart names a lone sweep).
fn series_name(e: &SweepEntry, tile: &str, sweeps: usize) -> String {
    let tiles = tiles_of(&e.result).len();
    match (sweeps > 1, tiles > 1) {
        (true, true) => format!("{} · tile {tile}", e.label),
        (true, false) => e.label.clone(),
        (false, true) => format!("tile {tile}"),
        (false, false) => "measured".into(),
    }
}

/// The derived table of one sweep.
pub fn table(ui: &mut egui::Ui, e: &SweepEntry) {
    let s = &e.summary;
    ui.strong(format!("Results: {}", e.label));
    egui::Grid::new(("lab_table", e.number))
        .striped(true)
        .num_columns(10)
        .show(ui, |ui| {
            for (h, meaning) in TABLE_COLUMNS {
                ui.strong(h).on_hover_text(meaning);
            }
            ui.end_row();
            for r in &s.rows {
                for (i, cell) in r.table_cells().into_iter().enumerate() {
                    let l = ui.label(cell);
                    match i {
                        0 if r.oversubscribed => l.on_hover_text("more workers than cores"),
                        1 => l.on_hover_text(format!("tiles of {}", r.tile_shape)),
                        _ => l,
                    };
                }
                ui.end_row();
            }
        });
    let mut notes = vec![format!(
        "{} cores; medians of {} runs; speedup against the {} median of the same tile size, \
         measured as ratios within this sweep.",
        s.cores,
        e.result.config.repeats,
        match s.baselines.iter().map(|b| b.workers).max() {
            Some(1) | None => "1-worker".to_string(),
            Some(b) => format!("{b}-worker (no 1-worker run)"),
        }
    )];
    if s.oversubscribed() {
        notes.push("* more workers than cores.".into());
    }
    for f in &s.amdahl {
        notes.push(format!(
            "Amdahl fit, tile {}: serial fraction {:.3} (max speedup {}).",
            f.tile,
            f.serial_fraction,
            if f.max_speedup.is_finite() {
                format!("{:.1}x", f.max_speedup)
            } else {
                "unbounded".into()
            }
        ));
    }
    let pools = e
        .result
        .pools
        .iter()
        .map(|p| format!("{}: {:.2} ms", p.workers, p.created_s * 1e3))
        .collect::<Vec<_>>()
        .join(", ");
    notes.push(format!("Pool start-up, measured apart: {pools}."));
    for n in notes {
        ui.weak(n);
    }
}

/// The series of the visible sweeps: one per (sweep, tile size), with its colour.
fn series_of<'a>(visible: &[&'a SweepEntry]) -> Vec<(&'a SweepEntry, String, Color32, String)> {
    let n = visible.len();
    visible
        .iter()
        .flat_map(|e| {
            tiles_of(&e.result)
                .into_iter()
                .enumerate()
                .map(move |(j, t)| {
                    let name = series_name(e, &t, n);
                    (
                        *e,
                        t,
                        PALETTE[((e.number - 1) * 3 + j) % PALETTE.len()],
                        name,
                    )
                })
        })
        .collect()
}

fn max_workers(visible: &[&SweepEntry]) -> f64 {
    visible
        .iter()
        .flat_map(|e| e.result.config.workers.iter().copied())
        .max()
        .unwrap_or(1) as f64
}

/// Time, speedup and efficiency against workers, every visible sweep overlaid, with the
/// memory notes. Returns the y range each chart shows (what a stray wheel turn must not
/// change).
pub fn overlay_charts(ui: &mut egui::Ui, visible: &[&SweepEntry], cores: usize) -> Vec<(f64, f64)> {
    let t = time_chart(ui, visible, PLOT_HEIGHT);
    let s = speedup_chart(ui, visible, cores, PLOT_HEIGHT);
    memory_notes(ui, visible);
    let e = efficiency_chart(ui, visible, cores, PLOT_HEIGHT);
    vec![t, s, e]
}

/// A chart against worker counts, from 0 on the y axis, that the wheel never moves: the
/// wheel scrolls the page; zoom with a right-drag box, reset with a double-click.
fn workers_plot<'a>(id: &'a str, height: f32, y_label: &'a str) -> Plot<'a> {
    Plot::new(id)
        .height(height)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .x_axis_label("workers")
        .y_axis_label(y_label)
        .include_y(0.0)
        .include_x(0.5)
}

/// Median time against workers (box: quartiles, whiskers: min–max).
pub fn time_chart(ui: &mut egui::Ui, visible: &[&SweepEntry], height: f32) -> (f64, f64) {
    let series = series_of(visible);
    ui.strong("Time vs workers (median, box: quartiles, whiskers: min–max)");
    let shown = workers_plot("lab_time", height, "time (ms)")
        .legend(Legend::default())
        .show(ui, |p| {
            for (e, t, c, name) in &series {
                let name = name.clone();
                let rows: Vec<_> = e.summary.rows_for(t).filter(|r| r.runs > 0).collect();
                p.line(
                    Line::new(
                        name.clone(),
                        rows.iter()
                            .map(|r| [r.workers as f64, r.median_s * 1e3])
                            .collect::<Vec<_>>(),
                    )
                    .color(*c),
                );
                p.add(
                    BoxPlot::new(
                        name.clone(),
                        rows.iter()
                            .map(|r| {
                                BoxElem::new(
                                    r.workers as f64,
                                    BoxSpread::new(
                                        r.min_s * 1e3,
                                        r.q1_s * 1e3,
                                        r.median_s * 1e3,
                                        r.q3_s * 1e3,
                                        r.max_s * 1e3,
                                    ),
                                )
                                .box_width(0.25)
                                .whisker_width(0.2)
                            })
                            .collect(),
                    )
                    .color(*c),
                );
            }
        });
    let b = shown.transform.bounds();
    (b.min()[1], b.max()[1])
}

/// Speedup against workers: the ideal line, 95 % intervals, the memory ceiling, the USL and
/// Amdahl fits; returns the y range shown.
pub fn speedup_chart(
    ui: &mut egui::Ui,
    visible: &[&SweepEntry],
    cores: usize,
    height: f32,
) -> (f64, f64) {
    let series = series_of(visible);
    let max_w = max_workers(visible);
    ui.strong("Speedup vs workers (ideal line, 95 % intervals, Amdahl fit dashed, USL dotted)");
    let shown = workers_plot("lab_speedup", height, "speedup")
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .show(ui, |p| {
            let mut bases: Vec<usize> = visible
                .iter()
                .flat_map(|e| e.summary.baselines.iter().map(|b| b.workers))
                .collect();
            bases.sort_unstable();
            bases.dedup();
            for b in bases {
                let name = if b == 1 {
                    "ideal".to_string()
                } else {
                    format!("ideal (vs {b} workers)")
                };
                p.line(
                    Line::new(name, vec![[b as f64, 1.0], [max_w, max_w / b as f64]])
                        .color(Color32::GRAY)
                        .style(LineStyle::dotted_dense()),
                );
            }
            p.add(VLine::new(format!("{cores} cores"), cores as f64).color(Color32::DARK_RED));
            for (e, t, c, name) in &series {
                let name = name.clone();
                let pts: Vec<[f64; 2]> = e
                    .summary
                    .rows_for(t)
                    .filter(|r| r.runs > 0)
                    .map(|r| [r.workers as f64, r.speedup])
                    .collect();
                p.line(Line::new(name.clone(), pts.clone()).color(*c));
                p.add(Points::new(name.clone(), pts).color(*c).radius(3.0));
                // 95 % intervals of the speedups (bootstrap, paired by round).
                for r in e.inference.rows.iter().filter(|r| &r.tile == t) {
                    let (lo, hi) = r.speedup_ci;
                    if lo.is_finite() && hi.is_finite() && hi > lo {
                        let x = r.workers as f64;
                        for seg in [
                            vec![[x, lo], [x, hi]],
                            vec![[x - 0.08, lo], [x + 0.08, lo]],
                            vec![[x - 0.08, hi], [x + 0.08, hi]],
                        ] {
                            p.line(Line::new(name.clone(), seg).color(*c));
                        }
                    }
                }
                // The memory ceiling: copy bandwidth / bytes moved per pixel, over the
                // 1-worker throughput.
                if let (Some(bws), Some(bpp), Some(one)) = (
                    &e.result.bandwidth,
                    e.result.workload.bytes_per_pixel,
                    e.summary
                        .rows_for(t)
                        .find(|r| r.workers == 1 && r.runs > 0)
                        .map(|r| r.mp_per_s),
                ) {
                    let pts: Vec<[f64; 2]> = bws
                        .iter()
                        .map(|b| {
                            [
                                b.workers as f64,
                                tessera_engine::sweep::bandwidth::ceiling_speedup(b, bpp, one),
                            ]
                        })
                        .collect();
                    let measured = e
                        .summary
                        .rows_for(t)
                        .map(|r| r.speedup)
                        .filter(|v| v.is_finite())
                        .fold(1.0, f64::max);
                    let low = pts.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
                    // Drawn when it is near enough to matter; else it would flatten the chart
                    // (the note under the chart gives it).
                    if low <= 3.0 * measured {
                        p.line(
                            Line::new(format!("memory ceiling, {bpp:.0} B/px ({name})"), pts)
                                .color(Color32::from_rgb(200, 80, 80))
                                .style(LineStyle::dashed_dense()),
                        );
                    }
                }
                if let Some((sig, kap)) = e
                    .inference
                    .models
                    .iter()
                    .find(|m| &m.tile == t)
                    .and_then(|m| Some((m.usl_sigma?, m.usl_kappa?)))
                {
                    let curve: Vec<[f64; 2]> = (0..=60)
                        .map(|i| {
                            let n = 1.0 + (max_w - 1.0) * i as f64 / 60.0;
                            [
                                n,
                                tessera_engine::sweep::inference::usl_speedup(n, sig, kap),
                            ]
                        })
                        .collect();
                    p.line(
                        Line::new(format!("USL σ={sig:.3} κ={kap:.4} ({name})"), curve)
                            .color(*c)
                            .style(LineStyle::dotted_loose()),
                    );
                }
                if let (Some(f), Some(b)) = (
                    e.summary.fit(t),
                    e.summary.baselines.iter().find(|b| &b.tile == t),
                ) {
                    let curve: Vec<[f64; 2]> = (0..=60)
                        .map(|i| {
                            let n = 1.0 + (max_w - 1.0) * i as f64 / 60.0;
                            [n, f.speedup(n, b.workers)]
                        })
                        .collect();
                    p.line(
                        Line::new(format!("Amdahl f={:.3} ({name})", f.serial_fraction), curve)
                            .color(*c)
                            .style(LineStyle::dashed_loose()),
                    );
                }
            }
        });
    let b = shown.transform.bounds();
    (b.min()[1], b.max()[1])
}

/// One line per visible sweep with a measured memory bandwidth: the copy bandwidth per
/// worker count and the speedup it allows.
pub fn memory_notes(ui: &mut egui::Ui, visible: &[&SweepEntry]) {
    for e in visible {
        if let (Some(bws), Some(bpp)) = (&e.result.bandwidth, e.result.workload.bytes_per_pixel) {
            let text: Vec<String> = bws
                .iter()
                .map(|b| format!("{}: {:.1} GB/s", b.workers, b.gb_per_s))
                .collect();
            let one = e
                .summary
                .rows
                .iter()
                .find(|r| r.workers == 1 && r.runs > 0)
                .map(|r| r.mp_per_s);
            let last = bws.last();
            let ceiling = last
                .zip(one)
                .map(|(b, one)| tessera_engine::sweep::bandwidth::ceiling_speedup(b, bpp, one));
            ui.label(
                egui::RichText::new(format!(
                    "#{}: memory copy bandwidth {} (STREAM-like); moving {bpp:.0} bytes per pixel, \
                     the op could not pass {} its 1-worker speed on {} workers{}",
                    e.number,
                    text.join(", "),
                    ceiling.map_or("–".into(), |c| format!("{c:.1}x")),
                    last.map_or(0, |b| b.workers),
                    if ceiling.is_some_and(|c| c > 3.0) {
                        ": far above the measured curve, so what limits it is not memory bandwidth"
                    } else {
                        ""
                    }
                ))
                .small(),
            );
        }
    }
}

/// Efficiency (speedup / workers) against workers; returns the y range shown.
pub fn efficiency_chart(
    ui: &mut egui::Ui,
    visible: &[&SweepEntry],
    cores: usize,
    height: f32,
) -> (f64, f64) {
    let series = series_of(visible);
    ui.strong("Efficiency vs workers (speedup / workers)");
    let shown = workers_plot("lab_efficiency", height, "efficiency (%)")
        .legend(Legend::default())
        .include_y(100.0)
        .show(ui, |p| {
            p.add(HLine::new("100%", 100.0).color(Color32::GRAY));
            p.add(VLine::new(format!("{cores} cores"), cores as f64).color(Color32::DARK_RED));
            for (e, t, c, name) in &series {
                let name = name.clone();
                let pts: Vec<[f64; 2]> = e
                    .summary
                    .rows_for(t)
                    .filter(|r| r.runs > 0)
                    .map(|r| [r.workers as f64, r.efficiency * 100.0])
                    .collect();
                p.line(Line::new(name.clone(), pts.clone()).color(*c));
                p.add(Points::new(name, pts).color(*c).radius(3.0));
            }
        });
    let b = shown.transform.bounds();
    (b.min()[1], b.max()[1])
}

/// Tile size × workers heat map of the throughput (MP/s) of one sweep.
pub fn tile_heatmap(ui: &mut egui::Ui, e: &SweepEntry) {
    let tiles = tiles_of(&e.result);
    let workers = e.result.config.workers.clone();
    let mut values = Vec::with_capacity(tiles.len() * workers.len());
    for t in &tiles {
        for &w in &workers {
            let v = e
                .summary
                .rows
                .iter()
                .find(|r| &r.tile == t && r.workers == w)
                .map_or(0.0, |r| r.mp_per_s);
            values.push(v);
        }
    }
    ui.strong("Throughput by tile size × workers (MP/s, median)");
    let cols = workers.len();
    let rows = tiles.len();
    let (w2, t2) = (workers.clone(), tiles.clone());
    Plot::new(("lab_tiles", e.number))
        .height((60.0 + 40.0 * rows as f32).min(PLOT_HEIGHT * 1.5))
        .x_axis_label("workers")
        .y_axis_label("tile")
        .show_grid(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_grid_spacer(move |_| {
            (0..cols)
                .map(|c| GridMark {
                    value: c as f64 + 0.5,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_grid_spacer(move |_| {
            (0..rows)
                .map(|r| GridMark {
                    value: r as f64 + 0.5,
                    step_size: 1.0,
                })
                .collect()
        })
        .x_axis_formatter(move |m, _| {
            w2.get(m.value.floor() as usize)
                .map(|w| w.to_string())
                .unwrap_or_default()
        })
        .y_axis_formatter(move |m, _| {
            t2.get(m.value.floor() as usize)
                .cloned()
                .unwrap_or_default()
        })
        .show(ui, |p| {
            p.add(
                Heatmap::new(values.clone(), cols)
                    .name("MP/s")
                    .palette(&viridis_stops())
                    .show_labels(true)
                    .formatter(Box::new(|v| format!("{v:.1}"))),
            );
        });
    // The colour scale: viridis from the lowest to the highest throughput shown.
    let (lo, hi) = values
        .iter()
        .filter(|v| **v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() {
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(format!("{lo:.1} MP/s")).small());
            let (rect, _) = ui.allocate_exact_size(egui::vec2(200.0, 12.0), egui::Sense::hover());
            let stops = viridis_stops();
            let n = stops.len() - 1;
            for (i, c) in stops.iter().enumerate() {
                let x0 = rect.left() + rect.width() * i as f32 / (n + 1) as f32;
                let x1 = rect.left() + rect.width() * (i + 1) as f32 / (n + 1) as f32;
                ui.painter().rect_filled(
                    egui::Rect::from_min_max(
                        egui::pos2(x0, rect.top()),
                        egui::pos2(x1, rect.bottom()),
                    ),
                    0.0,
                    *c,
                );
            }
            ui.label(
                egui::RichText::new(format!("{hi:.1} MP/s (viridis: dark slow, yellow fast)"))
                    .small(),
            );
        });
    }
}

/// Viridis's stops ([`crate::colormap`]) as egui colours.
fn viridis_stops() -> Vec<Color32> {
    crate::colormap::VIRIDIS
        .iter()
        .map(|&[r, g, b]| Color32::from_rgb(r, g, b))
        .collect()
}

/// The per-worker timeline of one measured run: which worker ran which tile, and when.
/// `config` picks the configuration (`None`: the last measured run of the sweep).
pub fn gantt(ui: &mut egui::Ui, e: &SweepEntry, config: &mut Option<usize>) {
    let r = &e.result;
    let run = match *config {
        Some(c) => r.last_run(c),
        None => r.measured().last(),
    };
    let Some(run) = run else { return };
    ui.horizontal(|ui| {
        ui.strong("Timeline of a run");
        egui::ComboBox::from_label("configuration")
            .selected_text(format!("{} workers, tile {}", run.workers, run.tile))
            .show_ui(ui, |ui| {
                for (i, k) in r.configs.iter().enumerate() {
                    let text = format!("{} workers, tile {}", k.workers, k.tile);
                    ui.selectable_value(config, Some(i), text);
                }
            });
    });
    let idle = if run.wall_s > 0.0 {
        (1.0 - run.busy_s / (run.wall_s * run.workers as f64)).max(0.0)
    } else {
        0.0
    };
    ui.weak(format!(
        "Last measured run of this configuration (round {}): {} tiles, wall {:.2} ms, busy \
         {:.2} ms, workers idle {:.0}% of the time (gaps), imbalance {:.2}.",
        run.round + 1,
        run.items.len(),
        run.wall_s * 1e3,
        run.busy_s * 1e3,
        idle * 100.0,
        run.imbalance()
    ));
    let mut labels: Vec<&str> = Vec::new();
    for i in &run.items {
        if !labels.contains(&i.label.as_str()) {
            labels.push(&i.label);
        }
    }
    let workers = run.workers;
    let idle_workers: Vec<String> = (0..workers)
        .filter(|w| !run.items.iter().any(|i| i.worker == *w))
        .map(|w| w.to_string())
        .collect();
    if !idle_workers.is_empty() {
        ui.label(format!(
            "Idle workers (no tile in this run): {} of {workers}: worker {}",
            idle_workers.len(),
            idle_workers.join(", ")
        ));
    }
    Plot::new(("lab_gantt", e.number))
        .height((40.0 + 28.0 * workers as f32).clamp(120.0, 420.0))
        .legend(Legend::default())
        .x_axis_label("time since the run started (ms)")
        .y_axis_label("worker")
        // Every worker has its row, idle ones included; the chart stays put under the wheel.
        .include_x(0.0)
        .include_x(run.wall_s * 1e3)
        .include_y(-0.6)
        .include_y(workers as f64 - 0.4)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .y_axis_formatter(move |m, _| {
            let v = m.value.round();
            if (m.value - v).abs() < 1e-6 && v >= 0.0 && (v as usize) < workers {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .y_grid_spacer(move |_| {
            (0..workers)
                .map(|w| GridMark {
                    value: w as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .show(ui, |p| {
            for l in labels {
                let bars: Vec<Bar> = run
                    .items
                    .iter()
                    .filter(|i| i.label == l)
                    .map(|i| {
                        Bar::new(i.worker as f64, i.duration_s() * 1e3)
                            .base_offset(i.start_s * 1e3)
                            .width(0.7)
                            .name(format!("{l} {}", i.index))
                            .fill(stage_color(l))
                    })
                    .collect();
                p.add(BarChart::new(l, bars).horizontal().color(stage_color(l)));
            }
            p.add(VLine::new("end of run", run.wall_s * 1e3).color(Color32::DARK_RED));
        });
}

/// The sweep in one sentence, and why not to trust parts of it.
pub fn verdict(ui: &mut egui::Ui, e: &SweepEntry) {
    let inf = &e.inference;
    if !inf.verdict.is_empty() {
        ui.label(
            egui::RichText::new(format!("#{}: {}", e.number, inf.verdict))
                .strong()
                .size(16.0),
        )
        .on_hover_text(
            "Speedup of the most workers within the cores, with its 95 % bootstrap interval \
             (paired by round), its efficiency, and the worker count the fitted model \
             (Universal Scalability Law, else Amdahl) predicts fastest",
        );
    }
    if let (Some(a), Some(b)) = inf.load {
        ui.label(
            egui::RichText::new(format!(
                "Load average {a:.2} before, {b:.2} after the sweep ({} cores)",
                e.summary.cores
            ))
            .small()
            .weak(),
        );
    }
    // One line, the details folded: a noisy sweep can have a warning per configuration.
    if !inf.warnings.is_empty() {
        let noisy = inf
            .warnings
            .iter()
            .filter(|w| w.contains("vary by"))
            .count();
        let overlaps = inf
            .warnings
            .iter()
            .filter(|w| w.contains("overlap"))
            .count();
        let busy = inf.warnings.len() - noisy - overlaps;
        let mut parts = Vec::new();
        if noisy > 0 {
            parts.push(format!("{noisy} configurations vary by more than 5 %"));
        }
        if overlaps > 0 {
            parts.push(format!(
                "{overlaps} pairs of worker counts are not told apart"
            ));
        }
        if busy > 0 {
            parts.push("the machine was busy".to_string());
        }
        egui::CollapsingHeader::new(
            egui::RichText::new(format!("Noise: {}", parts.join("; ")))
                .color(ui.visuals().warn_fg_color),
        )
        .id_salt(("lab-noise", e.number))
        .show(ui, |ui| {
            for w in &inf.warnings {
                ui.label(egui::RichText::new(w).small());
            }
        });
    }
}
