//! The histogram of the gray image with the threshold marked, and the timing chart of recent
//! runs (compute time against worker count, one series per tile size).

use std::collections::BTreeMap;
use std::time::Duration;

use egui::{Color32, Ui};
use egui_plot::{Bar, BarChart, Line, MarkerShape, Plot, Points, VLine};

use crate::ui::jobs::HistScale;
use tessera_engine::ops::level::Histogram;
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::sweep::stats::median;
use tessera_engine::tile::TileShape;

/// The global level the current settings threshold at, for the histogram marker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    /// A fixed threshold: pixels above `floor(thresh)` pass.
    Fixed(f64),
    /// The level Otsu or triangle found (in the image's units).
    Found(OpKind, u16),
    /// Otsu or triangle, level not known yet (job running).
    Pending(OpKind),
    /// No single level (grayscale, adaptive ops).
    None,
}

impl Marker {
    pub fn for_settings(settings: &OpSettings, found: Option<u16>) -> Marker {
        match settings.op {
            OpKind::Threshold => Marker::Fixed(settings.thresh),
            k if k.finds_level() => match found {
                Some(l) => Marker::Found(settings.op, l),
                None => Marker::Pending(settings.op),
            },
            _ => Marker::None,
        }
    }

    fn caption(&self, max: f64) -> String {
        match *self {
            Marker::Fixed(t) => format!(
                "threshold {t} (pixels above {} pass)",
                t.floor().clamp(-1.0, max)
            ),
            Marker::Found(k, l) => format!("{} level {l}", k.label()),
            Marker::Pending(k) => format!("{}: computing the level…", k.label()),
            Marker::None => "local and grayscale ops have no single global level".into(),
        }
    }
}

/// Draws the histogram of the gray image.
/// The bars' fill: one light gray for every level, so dark levels stay as visible as
/// bright ones on the plot's dark background (the gray level is on the x axis).
pub const BAR_FILL: Color32 = Color32::from_gray(175);

/// The global methods' level ticks and their names.
const LEVEL_TICK: Color32 = Color32::from_rgba_premultiplied(90, 140, 200, 150);
const LEVEL_TEXT: Color32 = Color32::from_rgb(140, 180, 230);

/// A short name for a level tick.
fn short_name(k: OpKind) -> &'static str {
    match k {
        OpKind::IjDefault => "Default",
        OpKind::Otsu => "Otsu",
        OpKind::Triangle => "Triangle",
        OpKind::MaxEntropy => "MaxEnt",
        OpKind::RenyiEntropy => "Renyi",
        OpKind::Intermodes => "Intermod",
        OpKind::Percentile => "Pctl",
        k => k.label(),
    }
}

/// The level marker: thin and translucent, so the bar under it (a binary image's level-0 bar)
/// still shows.
pub const MARKER_COLOR: Color32 = Color32::from_rgba_premultiplied(200, 60, 45, 200);

/// What the histogram says under the pointer at `x`: the level and the pixels it holds,
/// read from the data (never from the pointer's height, which on a log scale is not a
/// count).
pub fn histogram_tooltip(counts: &[u64; 256], x: f64, scale: HistScale) -> String {
    let bin = scale.bin_of(x.round()).floor().clamp(0.0, 255.0) as usize;
    let total: u64 = counts.iter().sum();
    let c = counts[bin];
    let pct = if total == 0 {
        0.0
    } else {
        100.0 * c as f64 / total as f64
    };
    let a = scale.value_at(bin as f64).ceil();
    let b = scale.value_at(bin as f64 + 1.0).ceil() - 1.0;
    if b > a {
        format!("levels {a}..{b}: {c} pixels ({pct:.2} %)")
    } else {
        format!("level {a}: {c} pixels ({pct:.2} %)")
    }
}

/// What the user did on the histogram this frame.
#[derive(Debug, Clone, Default)]
pub struct HistogramInput {
    /// A level pressed or dragged to (0..=255): the new threshold.
    pub level: Option<f64>,
    /// Screen x of level `v` is `x0 + v * per_level` (for tests and the window's own use).
    pub x0: f32,
    pub per_level: f32,
    /// The plot area's vertical middle, in screen points.
    pub y_mid: f32,
}

/// Draws the histogram; pressing or dragging on it picks a threshold level there.
/// Every global method's level, whether to draw them, and whether they are Fiji's.
pub type Levels<'a> = (&'a [(OpKind, Option<u32>)], &'a mut bool, bool);

pub fn histogram(
    ui: &mut Ui,
    hist: &Histogram,
    scale: HistScale,
    marker: Marker,
    log: &mut bool,
    levels: Option<Levels<'_>>,
) -> HistogramInput {
    let mut show_levels = None;
    let max_value = if scale.bits == 16 { 65535.0 } else { 255.0 };
    ui.horizontal(|ui| {
        ui.strong(if scale.bits == 16 {
            "Histogram of the gray image (16-bit values)"
        } else {
            "Histogram of the gray image"
        });
        ui.checkbox(log, "log scale")
            .on_hover_text("Show counts on a logarithmic scale, so sparse levels stay visible");
        if let Some((list, show, fiji)) = levels {
            ui.checkbox(show, "all levels").on_hover_text(format!(
                "Every global method's level on this image ({}), as labelled ticks; \
                 hover the histogram to read which methods chose a level",
                if fiji {
                    "Fiji's Auto Threshold"
                } else {
                    "ImageJ's AutoThresholder"
                }
            ));
            show_levels = show.then_some(list);
        }
    });
    ui.label(
        egui::RichText::new(format!(
            "{} · press or drag on it to set a fixed threshold",
            marker.caption(max_value)
        ))
        .small(),
    );
    let bars: Vec<Bar> = hist
        .0
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let v = if *log {
                (c as f64 + 1.0).log10()
            } else {
                c as f64
            };
            Bar::new(scale.value_at(i as f64 + 0.5) - 0.5, v)
                .width(scale.step)
                .fill(BAR_FILL)
                .stroke(egui::Stroke::NONE)
        })
        .collect();
    let log_y = *log;
    let counts = hist.0;
    let mut tick_list: Vec<(OpKind, u32)> = show_levels
        .unwrap_or_default()
        .iter()
        .filter_map(|&(k, l)| Some((k, l?)))
        .collect();
    tick_list.sort_by_key(|&(k, l)| (l, k.name()));
    // Labels in rows, each in the lowest row where it does not overlap the one before it
    // (widths estimated from the text, in levels at this plot's width).
    let per_level = (ui.available_width() - 60.0).max(100.0) / (262.0 * scale.step) as f32;
    let mut row_end: Vec<f64> = Vec::new();
    let rows: Vec<usize> = tick_list
        .iter()
        .map(|&(k, l)| {
            let half = (short_name(k).len() as f64 * 6.0 + 4.0) / 2.0 / per_level as f64;
            let (a, b) = (l as f64 - half, l as f64 + half);
            let row = row_end.iter().position(|&e| e < a).unwrap_or(row_end.len());
            if row == row_end.len() {
                row_end.push(b);
            } else {
                row_end[row] = b;
            }
            row
        })
        .collect();
    let n_rows = row_end.len().max(1) as f64;
    let tip_levels = tick_list.clone();
    let top = hist
        .0
        .iter()
        .map(|&c| {
            if log_y {
                (c as f64 + 1.0).log10()
            } else {
                c as f64
            }
        })
        .fold(0.0, f64::max);
    let shown = Plot::new("histogram")
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_grid([false, true])
        .include_x(scale.value_at(0.0) - scale.step)
        .include_x(scale.value_at(256.0))
        .include_y(0.0)
        .include_y(if tick_list.is_empty() {
            0.0
        } else {
            top * (1.1 + 0.09 * n_rows)
        })
        .x_axis_label(if scale.bits == 16 {
            "gray level (16-bit)"
        } else {
            "gray level"
        })
        .y_axis_label(if log_y { "log10(pixels)" } else { "pixels" })
        .label_formatter(move |hover| {
            let point = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let mut tip = histogram_tooltip(&counts, point.x, scale);
            let at = scale.bin_of(point.x.round()).floor();
            let here: Vec<&str> = tip_levels
                .iter()
                .filter(|(_, l)| scale.bin_of(*l as f64).floor() == at)
                .map(|(k, _)| k.label())
                .collect();
            if !here.is_empty() {
                tip += &format!("\nlevel of: {}", here.join(", "));
            }
            Some(tip)
        })
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("pixels", bars)
                    .color(Color32::from_gray(160))
                    .allow_hover(false),
            );
            let level = match marker {
                Marker::Fixed(t) => Some(t.floor()),
                Marker::Found(_, l) => Some(f64::from(l)),
                _ => None,
            };
            // Every global method's level: a tick up to its name, the names in rows so that
            // neighbouring levels stay readable.
            for (&(k, l), &row) in tick_list.iter().zip(&rows) {
                let y0 = top * (1.02 + 0.09 * row as f64);
                plot.line(
                    Line::new(
                        format!("{} {l}", k.label()),
                        vec![[l as f64 + 0.5, 0.0], [l as f64 + 0.5, y0]],
                    )
                    .color(LEVEL_TICK)
                    .width(0.5)
                    .allow_hover(false),
                );
                plot.text(
                    egui_plot::Text::new(
                        k.label(),
                        [l as f64 + 0.5, y0].into(),
                        egui::RichText::new(short_name(k))
                            .size(9.0)
                            .color(LEVEL_TEXT),
                    )
                    .anchor(egui::Align2::CENTER_BOTTOM)
                    .allow_hover(false),
                );
            }
            if let Some(l) = level {
                plot.vline(
                    VLine::new(marker.caption(max_value), l + 0.5)
                        .color(MARKER_COLOR)
                        .width(1.0),
                );
            }
        });
    let t = &shown.transform;
    let x0 = t.position_from_point_x(0.0);
    let mut input = HistogramInput {
        level: None,
        x0,
        per_level: t.position_from_point_x(1.0) - x0,
        y_mid: shown.response.rect.center().y,
    };
    let r = &shown.response;
    if (r.clicked() || r.dragged() || r.drag_started())
        && let Some(pos) = r.interact_pointer_pos()
    {
        input.level = Some(t.value_from_position(pos).x.round().clamp(0.0, max_value));
    }
    input
}

/// One finished run, for the timing chart.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Which image (a counter bumped on every load).
    pub image_id: u64,
    pub image_name: String,
    /// The op and its parameters, as [`tessera_engine::Op::describe`] writes them.
    pub op: String,
    pub workers: usize,
    /// "auto" or the edge length.
    pub tile_label: String,
    pub tile: TileShape,
    pub tiles: usize,
    pub compute: Duration,
    pub megapixels: f64,
}

impl RunRecord {
    pub fn mp_per_s(&self) -> f64 {
        self.megapixels / self.compute.as_secs_f64().max(1e-9)
    }
}

const SERIES_COLORS: [Color32; 6] = [
    Color32::from_rgb(80, 160, 255),
    Color32::from_rgb(255, 160, 60),
    Color32::from_rgb(110, 210, 110),
    Color32::from_rgb(230, 100, 200),
    Color32::from_rgb(240, 220, 80),
    Color32::from_rgb(150, 150, 255),
];

/// Draws compute time against worker count for the runs of the current image and op, one
/// series per tile size (points: each run; line: the median per worker count).
pub fn timing(ui: &mut Ui, runs: &[RunRecord], image_id: u64, op: &str, max_workers: usize) {
    let mine: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.image_id == image_id && r.op == op)
        .collect();
    ui.horizontal(|ui| {
        ui.strong("Compute time by workers and tile size");
        ui.label(
            egui::RichText::new(format!(
                "{} run{}",
                mine.len(),
                if mine.len() == 1 { "" } else { "s" }
            ))
            .small(),
        )
        .on_hover_text(format!(
            "Every finished preview job of this image and these parameters is a point; \
                 the line joins the medians per worker count. Change the worker count or \
                 tile size in the side panel to add points.\n\nOp: {op}"
        ));
    });
    if let Some(last) = mine.last() {
        ui.label(
            egui::RichText::new(format!(
                "last: {:.1} ms on {} worker{}, tiles {} ({}), {:.0} MP/s",
                last.compute.as_secs_f64() * 1e3,
                last.workers,
                if last.workers == 1 { "" } else { "s" },
                last.tile_label,
                last.tile,
                last.mp_per_s()
            ))
            .small(),
        );
    } else {
        ui.label(egui::RichText::new("no finished runs yet").small());
    }
    let mut series: BTreeMap<String, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in &mine {
        series
            .entry(r.tile_label.clone())
            .or_default()
            .entry(r.workers)
            .or_default()
            .push(r.compute.as_secs_f64() * 1e3);
    }
    let top = timing_top(mine.iter().map(|r| r.compute.as_secs_f64() * 1e3));
    // The legend as a line above the chart, where it cannot cover a point.
    ui.horizontal_wrapped(|ui| {
        for (i, tile) in series.keys().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            ui.label(
                egui::RichText::new(format!("tile {tile}"))
                    .color(color)
                    .small(),
            );
        }
    });
    Plot::new("timing")
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_x(0.5)
        .include_x(max_workers as f64 + 0.5)
        .include_y(0.0)
        .include_y(top)
        .x_axis_label("workers")
        .y_axis_label("compute ms")
        .y_axis_formatter(|mark, range| ms_tick(mark.value, *range.end()))
        .x_axis_formatter(|mark, _| {
            if mark.value >= 1.0 && mark.value.fract() == 0.0 {
                format!("{}", mark.value)
            } else {
                String::new()
            }
        })
        .show(ui, |plot| {
            for (i, (tile, by_workers)) in series.iter().enumerate() {
                let color = SERIES_COLORS[i % SERIES_COLORS.len()];
                let name = format!("tile {tile}");
                let pts: Vec<[f64; 2]> = by_workers
                    .iter()
                    .flat_map(|(&w, ts)| ts.iter().map(move |&t| [w as f64, t]))
                    .collect();
                let medians: Vec<[f64; 2]> = by_workers
                    .iter()
                    .map(|(&w, ts)| [w as f64, median(ts)])
                    .collect();
                plot.line(Line::new(name.clone(), medians).color(color).width(1.5));
                plot.points(
                    Points::new(name, pts)
                        .color(color)
                        .radius(3.5)
                        .shape(MarkerShape::Circle),
                );
            }
        });
}

/// The top of the timing chart's y axis: a fifth above the slowest run, and at least 1 ms,
/// so that an empty chart reads 0..1 ms (not -2..2) and one fast run still has ticks.
pub fn timing_top(ms: impl Iterator<Item = f64>) -> f64 {
    (ms.fold(0.0, f64::max) * 1.2).max(1.0)
}

/// A y-axis tick in ms, with as many decimals as the axis range needs (0.25, not "0").
pub fn ms_tick(value: f64, range_end: f64) -> String {
    if value < 0.0 {
        return String::new();
    }
    let decimals = if range_end >= 20.0 {
        0
    } else if range_end >= 2.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_tooltip_reads_the_count_from_the_data() {
        let mut counts = [0u64; 256];
        counts[180] = 40_000;
        counts[0] = 10_000;
        // Wherever the pointer is vertically, level 180 holds 40,000 of 50,000 pixels.
        assert_eq!(
            histogram_tooltip(&counts, 179.6, HistScale::EIGHT),
            "level 180: 40000 pixels (80.00 %)"
        );
        assert_eq!(
            histogram_tooltip(&counts, -3.0, HistScale::EIGHT),
            "level 0: 10000 pixels (20.00 %)"
        );
        assert_eq!(
            histogram_tooltip(&[0; 256], 5.0, HistScale::EIGHT),
            "level 5: 0 pixels (0.00 %)"
        );
        // 16-bit values 1000..=5095 in 256 bins of 16: the bin under 1100 holds 1096..1111.
        let scale = HistScale::over(1000, 5095);
        assert_eq!(
            histogram_tooltip(&counts, 1100.0, scale),
            "levels 1096..1111: 0 pixels (0.00 %)"
        );
        assert_eq!(
            histogram_tooltip(&counts, 1000.0 + 180.0 * 16.0 + 3.0, scale),
            "levels 3880..3895: 40000 pixels (80.00 %)"
        );
    }

    #[test]
    fn bars_stand_out_at_every_level_and_the_marker_lets_the_bar_show() {
        // The plot's background is dark: every bar is light, whatever its level.
        assert!(BAR_FILL.r() >= 150);
        assert!(MARKER_COLOR.a() < 255);
    }

    #[test]
    fn the_timing_axis_has_room_and_decimals() {
        assert_eq!(timing_top(std::iter::empty()), 1.0);
        assert_eq!(timing_top([0.3].into_iter()), 1.0);
        assert!((timing_top([10.0, 50.0].into_iter()) - 60.0).abs() < 1e-9);
        assert_eq!(ms_tick(0.25, 1.0), "0.25");
        assert_eq!(ms_tick(2.5, 6.0), "2.5");
        assert_eq!(ms_tick(40.0, 60.0), "40");
        assert_eq!(ms_tick(-1.0, 60.0), "");
    }

    #[test]
    fn median_of_even_and_odd() {
        // The engine's median (the sweep tables use the same); groups are never empty here.
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn marker_follows_the_op() {
        let mut s = OpSettings {
            op: OpKind::Threshold,
            thresh: 100.5,
            ..OpSettings::default()
        };
        assert_eq!(Marker::for_settings(&s, None), Marker::Fixed(100.5));
        s.op = OpKind::Otsu;
        assert_eq!(
            Marker::for_settings(&s, Some(90)),
            Marker::Found(OpKind::Otsu, 90)
        );
        assert_eq!(
            Marker::for_settings(&s, None),
            Marker::Pending(OpKind::Otsu)
        );
        s.op = OpKind::AdaptiveMean;
        assert_eq!(Marker::for_settings(&s, Some(1)), Marker::None);
    }
}
