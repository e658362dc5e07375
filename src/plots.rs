//! PNG files of the lab's charts, drawn with plotters into a bitmap (no window needed), so the
//! CLI (`tessera bench --png DIR`) and the lab's export button produce the same pictures.
//! Text uses the font egui ships (Ubuntu Light), registered with plotters once.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use tessera_engine::EngineError;
use tessera_engine::io::write_atomic;
use tessera_engine::sweep::{Summary, SweepResult};

/// Size of each chart in pixels.
pub const SIZE: (u32, u32) = (960, 560);

/// The charts, by file stem.
pub const CHARTS: [&str; 5] = ["time", "speedup", "efficiency", "tiles", "timeline"];

const FONT: &str = "sans-serif";

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn tiles_of(result: &SweepResult) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for k in &result.configs {
        let t = k.tile.to_string();
        if !v.contains(&t) {
            v.push(t);
        }
    }
    v
}

/// Draws one chart into an RGB image.
pub fn render(
    chart: &str,
    result: &SweepResult,
    summary: &Summary,
) -> Result<image::RgbImage, String> {
    ensure_font();
    if chart == "tiles" {
        return tiles_heatmap(result, summary);
    }
    let (w, h) = SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        match chart {
            "time" | "speedup" | "efficiency" => lines(&root, chart, result, summary)?,
            "timeline" => timeline(&root, result)?,
            other => return Err(format!("unknown chart {other:?}")),
        }
        root.present().map_err(err)?;
    }
    image::RgbImage::from_raw(w, h, buf).ok_or_else(|| "bitmap size".to_string())
}

type Area<'b> = DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>;

/// Draws the title and a line on the workload, and returns the area below them.
fn titled<'b>(root: &Area<'b>, result: &SweepResult, title: &str) -> Result<Area<'b>, String> {
    let sub = format!(
        "{}, {} ({} cores, {})",
        result.workload.name, result.workload.op_description, result.cores, result.date
    );
    root.titled(title, (FONT, 22))
        .map_err(err)?
        .titled(&sub, (FONT, 14))
        .map_err(err)
}

fn lines(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    chart: &str,
    result: &SweepResult,
    s: &Summary,
) -> Result<(), String> {
    let max_w = result.config.workers.iter().copied().max().unwrap_or(1) as f64;
    let y_of = |r: &tessera_engine::sweep::ConfigRow| match chart {
        "time" => r.max_s * 1e3,
        "speedup" => r.speedup,
        _ => r.efficiency * 100.0,
    };
    let mut y_max = s
        .rows
        .iter()
        .filter(|r| r.runs > 0)
        .map(y_of)
        .fold(0.0, f64::max);
    if chart == "speedup" {
        y_max = y_max.max(max_w.min(result.cores as f64 * 1.25));
    }
    if chart == "efficiency" {
        y_max = y_max.max(100.0);
    }
    let (title, ylabel) = match chart {
        "time" => ("Time vs workers (median, min-max bars)", "time (ms)"),
        "speedup" => (
            "Speedup vs workers (ideal dotted, Amdahl dashed)",
            "speedup",
        ),
        _ => ("Efficiency vs workers", "efficiency (%)"),
    };
    let area = titled(root, result, title)?;
    let mut c: Chart<'_, '_> = ChartBuilder::on(&area)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5..max_w + 0.5, 0.0..y_max * 1.1 + 1e-9)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc("workers")
        .y_desc(ylabel)
        .x_labels((max_w as usize).min(16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    let cores = result.cores as f64;
    if cores <= max_w {
        c.draw_series(LineSeries::new(
            vec![(cores, 0.0), (cores, y_max * 1.1)],
            RED.mix(0.5),
        ))
        .map_err(err)?
        .label(format!("{} cores", result.cores))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.mix(0.5)));
    }
    if chart == "speedup" {
        let mut bases: Vec<usize> = s.baselines.iter().map(|b| b.workers).collect();
        bases.dedup();
        for b in bases {
            let bw = b as f64;
            // Ends where it leaves the plot: plotters clamps points outside the range to its
            // edge rather than clipping the line, which would bend it.
            let x_end = max_w.min(y_max * 1.1 * bw);
            c.draw_series(DashedLineSeries::new(
                vec![(bw, 1.0), (x_end, x_end / bw)],
                2,
                4,
                BLACK.mix(0.5).into(),
            ))
            .map_err(err)?
            .label(if b == 1 {
                "ideal".to_string()
            } else {
                format!("ideal (vs {b} workers)")
            })
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
        }
    }
    for (j, t) in tiles_of(result).iter().enumerate() {
        let color = COLORS[j % COLORS.len()];
        let rows: Vec<_> = s.rows_for(t).filter(|r| r.runs > 0).collect();
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|r| {
                let y = match chart {
                    "time" => r.median_s * 1e3,
                    "speedup" => r.speedup,
                    _ => r.efficiency * 100.0,
                };
                (r.workers as f64, y)
            })
            .collect();
        c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(format!("tile {t}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(err)?;
        if chart == "time" {
            c.draw_series(rows.iter().map(|r| {
                ErrorBar::new_vertical(
                    r.workers as f64,
                    r.min_s * 1e3,
                    r.median_s * 1e3,
                    r.max_s * 1e3,
                    color.stroke_width(1),
                    10,
                )
            }))
            .map_err(err)?;
        }
        if chart == "speedup"
            && let (Some(f), Some(b)) = (s.fit(t), s.baselines.iter().find(|b| &b.tile == t))
        {
            let curve: Vec<(f64, f64)> = (0..=60)
                .map(|i| {
                    let n = 1.0 + (max_w - 1.0) * i as f64 / 60.0;
                    (n, f.speedup(n, b.workers))
                })
                .take_while(|&(_, y)| y <= y_max * 1.1)
                .collect();
            c.draw_series(DashedLineSeries::new(curve, 6, 4, color.into()))
                .map_err(err)?
                .label(format!("Amdahl, tile {t}: serial {:.3}", f.serial_fraction))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    legend(
        &mut c,
        if chart == "time" {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::UpperLeft
        },
    )
}

/// Draws the series legend of a chart at `position`, in the charts' common style.
fn legend<'a, 'b: 'a>(c: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> Result<(), String> {
    c.configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Throughput by tile size × workers on viridis, with its scale (highest outlined).
fn tiles_heatmap(result: &SweepResult, s: &Summary) -> Result<image::RgbImage, String> {
    let tiles = tiles_of(result);
    let workers = &result.config.workers;
    let vals: Vec<f64> = s.rows.iter().map(|r| r.mp_per_s).collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(0.0, f64::max);
    let norm = move |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
    let best = s
        .rows
        .iter()
        .filter(|r| r.runs > 0)
        .max_by(|a, b| a.mp_per_s.total_cmp(&b.mp_per_s))
        .map(|r| (r.tile.clone(), r.workers));
    heat_map(&Heat {
        title: "Throughput (MP/s, median) by tile size x workers".into(),
        sub: format!(
            "{}, {} ({} cores, {}); highest outlined",
            result.workload.name, result.workload.op_description, result.cores, result.date
        ),
        x_desc: "workers".into(),
        x_labels: workers.iter().map(|w| w.to_string()).collect(),
        y_desc: "tile".into(),
        y_labels: tiles.clone(),
        cells: tiles
            .iter()
            .map(|t| {
                workers
                    .iter()
                    .map(|&w| {
                        s.rows
                            .iter()
                            .find(|r| &r.tile == t && r.workers == w && r.runs > 0)
                            .map(|r| HeatCell {
                                t: norm(r.mp_per_s),
                                text: vec![format!("{:.1}", r.mp_per_s)],
                                outline: best.as_ref() == Some(&(t.clone(), w)),
                                hatch: false,
                            })
                    })
                    .collect()
            })
            .collect(),
        bar_desc: "MP/s".into(),
        bar_range: (lo.min(hi), hi),
        bar_t: Box::new(norm),
    })
}

fn timeline(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    result: &SweepResult,
) -> Result<(), String> {
    let Some(run) = result.timeline_run() else {
        return Err("the sweep has no measured run".into());
    };
    let workers = run.workers;
    let wall_ms = (run.wall_s * 1e3).max(1e-6);
    let title = format!(
        "Timeline of a median run ({} workers, tile {}): gaps are idle time",
        run.workers, run.tile
    );
    let area = titled(root, result, &title)?;
    let mut c: Chart<'_, '_> = ChartBuilder::on(&area)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..wall_ms * 1.02, -0.5..workers as f64 - 0.5)
        .map_err(err)?;
    let yf = |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 {
            format!("{i:.0}")
        } else {
            String::new()
        }
    };
    c.configure_mesh()
        .x_desc("time since the run started (ms)")
        .y_desc("worker")
        .y_labels(workers)
        .y_label_formatter(&yf)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    let mut labels: Vec<&str> = Vec::new();
    for i in &run.items {
        if !labels.contains(&i.label.as_str()) {
            labels.push(&i.label);
        }
    }
    for (k, l) in labels.iter().enumerate() {
        let color = COLORS[(k + 2) % COLORS.len()];
        c.draw_series(run.items.iter().filter(|i| i.label == *l).map(|i| {
            let y = i.worker as f64;
            Rectangle::new(
                [(i.start_s * 1e3, y - 0.35), (i.end_s * 1e3, y + 0.35)],
                color.filled(),
            )
        }))
        .map_err(err)?
        .label(l.to_string())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
        // Thin white borders make neighbouring tiles visible.
        c.draw_series(run.items.iter().filter(|i| i.label == *l).map(|i| {
            let y = i.worker as f64;
            Rectangle::new(
                [(i.start_s * 1e3, y - 0.35), (i.end_s * 1e3, y + 0.35)],
                WHITE.stroke_width(1),
            )
        }))
        .map_err(err)?;
    }
    legend(&mut c, SeriesLabelPosition::UpperRight)
}

/// Writes an image as a PNG file, atomically (complete or absent).
pub fn save_png(img: &image::RgbImage, path: &Path) -> Result<(), EngineError> {
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| EngineError::Output {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write_atomic(path, bytes.get_ref())
}

/// Writes every chart as `<dir>/<prefix><chart>.png` (the folder is created if missing) and
/// returns the paths.
pub fn save_all_prefixed(
    result: &SweepResult,
    summary: &Summary,
    dir: &Path,
    prefix: &str,
) -> Result<Vec<PathBuf>, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::Output {
        path: dir.to_path_buf(),
        reason: tessera_engine::io::io_reason(&e),
    })?;
    let mut out = Vec::new();
    for chart in CHARTS {
        let path = dir.join(format!("{prefix}{chart}.png"));
        let img = render(chart, result, summary).map_err(|reason| EngineError::Output {
            path: path.clone(),
            reason,
        })?;
        save_png(&img, &path)?;
        out.push(path);
    }
    Ok(out)
}

/// Writes every chart as `<dir>/<chart>.png`.
pub fn save_all(
    result: &SweepResult,
    summary: &Summary,
    dir: &Path,
) -> Result<Vec<PathBuf>, EngineError> {
    save_all_prefixed(result, summary, dir, "")
}

/// The viridis colour of `t` in 0..=1 ([`crate::colormap`]).
pub fn viridis(t: f64) -> RGBColor {
    let [r, g, b] = crate::colormap::viridis(t);
    RGBColor(r, g, b)
}

/// One cell of a [`Heat`] map.
pub struct HeatCell {
    /// Colour position, 0 (worst) to 1 (best).
    pub t: f64,
    /// Lines of text, centred (the first larger).
    pub text: Vec<String>,
    /// Outlined in red (the best cell).
    pub outline: bool,
    /// Hatched (cells to warn about).
    pub hatch: bool,
}

/// A heat map: a grid of cells on viridis with labelled axes and a colour bar.
pub struct Heat {
    pub title: String,
    pub sub: String,
    pub x_desc: String,
    pub x_labels: Vec<String>,
    pub y_desc: String,
    pub y_labels: Vec<String>,
    /// `cells[y][x]`; `None` draws nothing.
    pub cells: Vec<Vec<Option<HeatCell>>>,
    /// The colour bar: its axis name, value range and the colour position of a value.
    pub bar_desc: String,
    pub bar_range: (f64, f64),
    pub bar_t: Box<dyn Fn(f64) -> f64>,
}

/// Draws a [`Heat`] map into an RGB image of [`SIZE`].
pub fn heat_map(hm: &Heat) -> Result<image::RgbImage, String> {
    ensure_font();
    let (w, h) = SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut area = root.titled(&hm.title, (FONT, 22)).map_err(err)?;
        for line in hm.sub.lines() {
            area = area.titled(line, (FONT, 13)).map_err(err)?;
        }
        let (plot, bar) = area.split_horizontally(w - 130);
        let (cols, nrows) = (hm.x_labels.len().max(1), hm.y_labels.len().max(1));
        let mut c: Chart<'_, '_> = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..cols as f64 - 0.5, -0.5..nrows as f64 - 0.5)
            .map_err(err)?;
        let fmt_axis = |vals: &[String]| {
            let vals = vals.to_vec();
            move |v: &f64| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    vals.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        };
        let (xf, yf) = (fmt_axis(&hm.x_labels), fmt_axis(&hm.y_labels));
        c.configure_mesh()
            .disable_mesh()
            .x_desc(hm.x_desc.clone())
            .y_desc(hm.y_desc.clone())
            .x_labels(cols.min(24))
            .y_labels(nrows.min(24))
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        let label = cols * nrows <= 240;
        let font_px = if cols > 12 { 11 } else { 14 };
        let centre = plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        );
        for (yi, line) in hm.cells.iter().enumerate() {
            for (xi, cell) in line.iter().enumerate() {
                let Some(cell) = cell else { continue };
                let (cx, cy) = (xi as f64, yi as f64);
                c.draw_series(std::iter::once(Rectangle::new(
                    [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                    viridis(cell.t).filled(),
                )))
                .map_err(err)?;
                let ink = if cell.t > 0.6 { BLACK } else { WHITE };
                if cell.hatch {
                    // Lines x + y = cx + cy + d across the cell.
                    let style = ShapeStyle::from(&ink.mix(0.3)).stroke_width(2);
                    for k in 1..10 {
                        let d = -1.0 + k as f64 * 0.2;
                        let seg = if d <= 0.0 {
                            vec![(cx - 0.5, cy + d + 0.5), (cx + d + 0.5, cy - 0.5)]
                        } else {
                            vec![(cx + d - 0.5, cy + 0.5), (cx + 0.5, cy + d - 0.5)]
                        };
                        c.draw_series(std::iter::once(PathElement::new(seg, style)))
                            .map_err(err)?;
                    }
                }
                if cell.outline {
                    c.draw_series(std::iter::once(Rectangle::new(
                        [(cx - 0.46, cy - 0.46), (cx + 0.46, cy + 0.46)],
                        ShapeStyle::from(&RED).stroke_width(3),
                    )))
                    .map_err(err)?;
                }
                if label {
                    let n = cell.text.len();
                    for (k, t) in cell.text.iter().enumerate() {
                        let px = if k == 0 { font_px + 2 } else { font_px - 1 };
                        let dy = (n as f64 - 1.0) / 2.0 - k as f64;
                        let style = (FONT, px).into_font().color(&ink).pos(centre);
                        c.draw_series(std::iter::once(Text::new(
                            t.clone(),
                            (cx, cy + dy * 0.16 * (4.0 / nrows.max(4) as f64)),
                            style,
                        )))
                        .map_err(err)?;
                    }
                }
            }
        }
        // The colour bar: worst at the bottom, best at the top, with the values.
        let (lo, hi) = hm.bar_range;
        let (vlo, vhi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        let mut b: Chart<'_, '_> = ChartBuilder::on(&bar)
            .margin_top(14)
            .margin_bottom(62)
            .margin_right(30)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..1.0, vlo..vhi)
            .map_err(err)?;
        let steps = 64;
        for i in 0..steps {
            let a = vlo + (vhi - vlo) * i as f64 / steps as f64;
            let z = vlo + (vhi - vlo) * (i + 1) as f64 / steps as f64;
            b.draw_series(std::iter::once(Rectangle::new(
                [(0.0, a), (1.0, z)],
                viridis((hm.bar_t)((a + z) / 2.0)).filled(),
            )))
            .map_err(err)?;
        }
        b.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(hm.bar_desc.clone())
            .y_labels(6)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    image::RgbImage::from_raw(w, h, buf).ok_or_else(|| "bitmap size".to_string())
}

/// The heat map of a parameter search: the best method's mean score over its first two grid
/// parameters (the others held at the best row's values), viridis from the worst to the best
/// score shown, a colour bar, and the best cell outlined.
pub fn tune_heatmap(r: &tessera_engine::tune::TuneReport) -> Result<image::RgbImage, String> {
    let best = r.best();
    let metric = r.metric;
    let hm = r.heat_map();
    let xs: Vec<f64> = hm.x.as_ref().map_or(vec![0.0], |a| a.1.clone());
    let ys: Vec<f64> = hm.y.as_ref().map_or(vec![0.0], |a| a.1.clone());
    let scores: Vec<f64> = hm
        .cells
        .iter()
        .flatten()
        .flatten()
        .map(|&i| r.rows[i].mean(metric))
        .filter(|v| v.is_finite())
        .collect();
    let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let higher = metric.higher_is_better();
    // 0 = worst, 1 = best, whichever way the metric goes.
    let norm = move |v: f64| {
        if !v.is_finite() || hi <= lo {
            1.0
        } else if higher {
            (v - lo) / (hi - lo)
        } else {
            (hi - v) / (hi - lo)
        }
    };
    let mut sub = format!(
        "against ground truth ({} definitions, {} foreground)",
        r.eval.like, r.eval.foreground
    );
    let held: Vec<String> = hm.held.iter().map(|(n, v)| format!("{n} {v}")).collect();
    if !held.is_empty() {
        sub += &format!("; held at {}", held.join(", "));
    }
    sub += &format!("; best outlined: {}", best.op);
    heat_map(&Heat {
        title: format!(
            "Mean {} of {} over {} images",
            metric,
            best.method,
            r.images.len()
        ),
        sub,
        x_desc: hm.x.as_ref().map_or(String::new(), |a| a.0.clone()),
        x_labels: xs.iter().map(|x| format!("{x}")).collect(),
        y_desc: hm.y.as_ref().map_or(String::new(), |a| a.0.clone()),
        y_labels: ys.iter().map(|y| format!("{y}")).collect(),
        cells: hm
            .cells
            .iter()
            .map(|line| {
                line.iter()
                    .map(|idx| {
                        idx.map(|i| {
                            let v = r.rows[i].mean(metric);
                            HeatCell {
                                t: norm(v),
                                text: vec![format!("{v:.1}")],
                                outline: i == hm.best,
                                hatch: false,
                            }
                        })
                    })
                    .collect()
            })
            .collect(),
        bar_desc: format!("mean {metric}"),
        bar_range: (lo, hi),
        bar_t: Box::new(norm),
    })
}

/// The heat map of a processes × threads grid: speedup over the smallest cell on viridis,
/// each cell with its interval, oversubscribed cells (P·T above the cores) hatched and the
/// fastest outlined.
pub fn grid_heatmap(
    g: &tessera_engine::sweep::grid::GridResult,
) -> Result<image::RgbImage, String> {
    let speedups: Vec<f64> = g
        .cells
        .iter()
        .map(|c| c.speedup)
        .filter(|v| v.is_finite())
        .collect();
    // The scale runs from 1x (or below) to the ideal on this machine (the cores), so a grid
    // within noise of 1x does not look like a range from worst to best.
    let lo = speedups.iter().copied().fold(1.0, f64::min);
    let hi = speedups.iter().copied().fold(g.cores as f64, f64::max);
    let norm = move |v: f64| {
        if !v.is_finite() || hi <= lo {
            0.5
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let cells = g
        .config
        .procs
        .iter()
        .map(|&p| {
            g.config
                .threads
                .iter()
                .map(|&t| {
                    g.cell(p, t).map(|c| HeatCell {
                        t: norm(c.speedup),
                        text: vec![
                            format!("{:.2}x", c.speedup),
                            format!("[{:.2}, {:.2}]", c.speedup_ci.0, c.speedup_ci.1),
                            format!("{:.0} ms", c.median_s * 1e3),
                        ],
                        outline: (p, t) == g.best,
                        hatch: c.oversubscribed,
                    })
                })
                .collect()
        })
        .collect();
    heat_map(&Heat {
        title: format!(
            "Speedup over {}×{}: processes × threads per process",
            g.baseline.0, g.baseline.1
        ),
        sub: format!(
            "{}\n{} cores, {} · median of {} runs [95 % CI] · hatched: processes × threads > {} cores · fastest outlined",
            shorten(&g.workload, 120),
            g.cores,
            g.date,
            g.config.repeats,
            g.cores
        ),
        x_desc: "threads per process".into(),
        x_labels: g.config.threads.iter().map(|t| t.to_string()).collect(),
        y_desc: "processes".into(),
        y_labels: g.config.procs.iter().map(|p| p.to_string()).collect(),
        cells,
        bar_desc: format!("speedup (x), up to {} cores", g.cores),
        bar_range: (lo, hi),
        bar_t: Box::new(norm),
    })
}

/// A sweep read back from its saved JSON (`tessera bench --json`, the lab's Save JSON), for
/// [`compare_chart`]: the first tile size's medians and speedups with their intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSweep {
    /// The legend's name for it.
    pub label: String,
    /// Cores of the machine it ran on.
    pub cores: usize,
    /// When it ran.
    pub date: String,
    /// One per worker count.
    pub rows: Vec<SavedRow>,
    /// The fitted USL (σ, κ), if any.
    pub usl: Option<(f64, f64)>,
}

/// One worker count of a [`SavedSweep`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SavedRow {
    pub workers: usize,
    pub median_s: f64,
    /// 95 % interval of the median.
    pub median_ci_s: (f64, f64),
    pub speedup: f64,
    /// 95 % interval of the speedup, paired by round.
    pub speedup_ci: (f64, f64),
}

impl SavedSweep {
    /// Reads the parts of a saved sweep the chart needs; a file that is not one says why.
    pub fn from_json(v: &serde_json::Value) -> Result<SavedSweep, String> {
        let inf = &v["inference"];
        let rows_v = inf["rows"]
            .as_array()
            .ok_or("no \"inference.rows\": not a sweep saved by tessera bench --json or the lab")?;
        let tile = rows_v
            .first()
            .and_then(|r| r["tile"].as_str())
            .unwrap_or("auto")
            .to_string();
        let pair = |x: &serde_json::Value| -> Option<(f64, f64)> {
            Some((x[0].as_f64()?, x[1].as_f64()?))
        };
        let mut rows = Vec::new();
        for r in rows_v.iter().filter(|r| r["tile"].as_str() == Some(&tile)) {
            let row = (|| {
                Some(SavedRow {
                    workers: r["workers"].as_u64()? as usize,
                    median_s: r["median_s"].as_f64()?,
                    median_ci_s: pair(&r["median_ci_s"])?,
                    speedup: r["speedup"].as_f64()?,
                    speedup_ci: pair(&r["speedup_ci"])?,
                })
            })()
            .ok_or_else(|| format!("a row of \"inference.rows\" lacks a field: {r}"))?;
            rows.push(row);
        }
        if rows.is_empty() {
            return Err("the sweep has no measured configuration".into());
        }
        let usl = inf["models"].as_array().and_then(|ms| {
            let m = ms.iter().find(|m| m["tile"].as_str() == Some(&tile))?;
            Some((m["usl_sigma"].as_f64()?, m["usl_kappa"].as_f64()?))
        });
        let w = &v["settings"]["workload"];
        let name = w["name"].as_str().unwrap_or("sweep");
        let label = match w["kind"].as_str() {
            Some("command") => format!("command: {}", shorten(name, 70)),
            Some("folder") => format!(
                "tessera batch {} ({})",
                shorten(name, 40),
                w["op_description"].as_str().unwrap_or("")
            ),
            _ => format!(
                "tessera {} ({})",
                shorten(name, 40),
                w["op_description"].as_str().unwrap_or("")
            ),
        };
        Ok(SavedSweep {
            label,
            cores: v["machine"]["cores"].as_u64().unwrap_or(0) as usize,
            date: v["date"].as_str().unwrap_or("").to_string(),
            rows,
            usl,
        })
    }
}

/// `s` cut to at most `n` characters, with an ellipsis in the middle.
fn shorten(s: &str, n: usize) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= n {
        return s.to_string();
    }
    let half = (n - 1) / 2;
    let head: String = c[..half].iter().collect();
    let tail: String = c[c.len() - (n - 1 - half)..].iter().collect();
    format!("{head}…{tail}")
}

/// Size of the comparison chart (two panels).
pub const COMPARE_SIZE: (u32, u32) = (1400, 600);

/// Saved sweeps side by side: median time (95 % interval bars) and speedup over each one's
/// own 1-worker time (95 % interval bars, paired by round; ideal line; USL dotted), one
/// colour per sweep.
pub fn compare_chart(sweeps: &[SavedSweep], title: &str) -> Result<image::RgbImage, String> {
    ensure_font();
    let (w, h) = COMPARE_SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let cores: Vec<String> = sweeps.iter().map(|s| s.cores.to_string()).collect();
        let mut cores_u = cores.clone();
        cores_u.dedup();
        let dates: Vec<&str> = sweeps.iter().map(|s| s.date.as_str()).collect();
        let sub = format!(
            "{} cores · {} · medians with 95 % bootstrap intervals; speedup paired by round",
            cores_u.join("/"),
            dates.join(", ")
        );
        let area = root
            .titled(title, (FONT, 22))
            .map_err(err)?
            .titled(&sub, (FONT, 13))
            .map_err(err)?;
        let (left, right) = area.split_horizontally(w / 2);
        let max_w = sweeps
            .iter()
            .flat_map(|s| s.rows.iter().map(|r| r.workers))
            .max()
            .unwrap_or(1) as f64;
        let n_cores = sweeps.iter().map(|s| s.cores).max().unwrap_or(0) as f64;
        for (panel, which) in [(&left, "time"), (&right, "speedup")] {
            let y_max = sweeps
                .iter()
                .flat_map(|s| s.rows.iter())
                .map(|r| {
                    if which == "time" {
                        r.median_ci_s.1 * 1e3
                    } else {
                        r.speedup_ci.1.max(r.speedup)
                    }
                })
                .filter(|v| v.is_finite())
                .fold(
                    if which == "time" {
                        0.0
                    } else {
                        // The ideal line up to a little past the cores, not to the most workers
                        // (which would flatten every curve on a small machine).
                        max_w.min((n_cores * 1.25).max(2.0))
                    },
                    f64::max,
                );
            let top = y_max * 1.12 + 1e-9;
            let mut c: Chart<'_, '_> = ChartBuilder::on(panel)
                .margin(16)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .caption(
                    if which == "time" {
                        "Median time vs workers"
                    } else {
                        "Speedup vs workers (each over its own 1-worker time)"
                    },
                    (FONT, 16),
                )
                .build_cartesian_2d(0.5..max_w + 0.5, 0.0..top)
                .map_err(err)?;
            c.configure_mesh()
                .x_desc("workers (processes for a command)")
                .y_desc(if which == "time" {
                    "time (ms)"
                } else {
                    "speedup"
                })
                .x_labels((max_w as usize).min(16))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(err)?;
            if n_cores >= 1.0 && n_cores <= max_w {
                c.draw_series(LineSeries::new(
                    vec![(n_cores, 0.0), (n_cores, top)],
                    RED.mix(0.5),
                ))
                .map_err(err)?
                .label(format!("{n_cores:.0} cores"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.mix(0.5)));
            }
            if which == "speedup" {
                let x_end = max_w.min(top);
                c.draw_series(DashedLineSeries::new(
                    vec![(1.0, 1.0), (x_end, x_end)],
                    2,
                    4,
                    BLACK.mix(0.5).into(),
                ))
                .map_err(err)?
                .label("ideal")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
            }
            for (k, sw) in sweeps.iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                let pts: Vec<(f64, f64)> = sw
                    .rows
                    .iter()
                    .map(|r| {
                        (
                            r.workers as f64,
                            if which == "time" {
                                r.median_s * 1e3
                            } else {
                                r.speedup
                            },
                        )
                    })
                    .collect();
                c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(sw.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
                c.draw_series(sw.rows.iter().filter_map(|r| {
                    let (mid, (lo, hi)) = if which == "time" {
                        (
                            r.median_s * 1e3,
                            (r.median_ci_s.0 * 1e3, r.median_ci_s.1 * 1e3),
                        )
                    } else {
                        (r.speedup, r.speedup_ci)
                    };
                    (lo.is_finite() && hi.is_finite()).then(|| {
                        ErrorBar::new_vertical(
                            r.workers as f64,
                            lo,
                            mid,
                            hi,
                            color.stroke_width(2),
                            12,
                        )
                    })
                }))
                .map_err(err)?;
                if which == "speedup"
                    && let Some((sig, kap)) = sw.usl
                {
                    let curve: Vec<(f64, f64)> = (0..=60)
                        .map(|i| {
                            let n = 1.0 + (max_w - 1.0) * i as f64 / 60.0;
                            (
                                n,
                                tessera_engine::sweep::inference::usl_speedup(n, sig, kap),
                            )
                        })
                        .filter(|&(_, y)| y <= top)
                        .collect();
                    c.draw_series(DashedLineSeries::new(curve, 2, 6, color.into()))
                        .map_err(err)?;
                }
            }
            legend(
                &mut c,
                if which == "time" {
                    SeriesLabelPosition::UpperRight
                } else {
                    SeriesLabelPosition::UpperLeft
                },
            )?;
        }
        root.present().map_err(err)?;
    }
    image::RgbImage::from_raw(w, h, buf).ok_or_else(|| "bitmap size".to_string())
}
