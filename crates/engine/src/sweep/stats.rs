//! Figures derived from a sweep's measured runs.
//!
//! * **Median, min, max** of the wall time over the measured repeats of each configuration
//!   (and the quartiles, for the box plots). Megapixels per second are computed from the
//!   median.
//! * **Speedup** `S(N) = T(b) / T(N)` with medians, against the baseline `b` of the same tile
//!   size: 1 worker when the sweep has it, else the smallest worker count it has (then the
//!   speedup is relative to `b` workers and reports say so). **Efficiency** is
//!   `S(N) · b / N` (1 = perfect scaling).
//! * **Amdahl fit**: Amdahl's law says `T(N) = T₁ · (f + (1 − f) / N)`, a straight line in
//!   `1/N`: `T(N) = a + c · (1/N)` with serial time `a = f·T₁` and parallel work
//!   `c = (1 − f)·T₁`. We fit `a` and `c` by ordinary least squares on the median times of
//!   the worker counts **no larger than the core count** (past the core count workers share
//!   cores and the law does not apply), with `a, c ≥ 0`, and report `f = a / (a + c)`. This is
//!   equivalent to fitting `1/S` against `1/N` when the baseline is 1 worker, but also works
//!   when it is not. At least two distinct worker counts within the cores are needed.
//! * **Effective parallelism**: busy time (sum of tile times) over wall time, median over
//!   the repeats. **Load imbalance**: busiest worker's busy time over the mean of all the
//!   pool's workers, median over the repeats.
//! * Configurations with more workers than cores are marked `oversubscribed`.

use serde::Serialize;

use super::SweepResult;

/// The median (mean of the two middle values for an even count); `NaN` for none.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// Linear-interpolated quantile `q` in `0..=1` (`NaN` for no values).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// One row of the derived table: one configuration. The first eight fields are the
/// documented CSV columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigRow {
    /// Worker count.
    pub workers: usize,
    /// `auto` or the tile edge in pixels.
    pub tile: String,
    /// Median wall time of the measured runs, in seconds.
    pub median_s: f64,
    /// Fastest measured run, in seconds.
    pub min_s: f64,
    /// Slowest measured run, in seconds.
    pub max_s: f64,
    /// Baseline median over this configuration's median.
    pub speedup: f64,
    /// `speedup · baseline_workers / workers`.
    pub efficiency: f64,
    /// Megapixels per second at the median time.
    pub mp_per_s: f64,
    /// First quartile of the run times, in seconds.
    pub q1_s: f64,
    /// Third quartile of the run times, in seconds.
    pub q3_s: f64,
    /// Measured runs of this configuration.
    pub runs: usize,
    /// Worker count the speedup is relative to (1 unless the sweep has no 1-worker run).
    pub baseline_workers: usize,
    /// Median over runs of busy time / wall time.
    pub parallelism: f64,
    /// Median over runs of max worker busy / mean worker busy.
    pub imbalance: f64,
    /// Median busy time (sum over tiles).
    pub busy_s: f64,
    /// More workers than cores.
    pub oversubscribed: bool,
    /// Resolved tile shape of the last run (`WxH`).
    pub tile_shape: String,
}

/// The columns of the results table that `tessera bench` prints and the Scaling lab shows:
/// (short header, what it means). [`ConfigRow::table_cells`] gives a row's cells in this
/// order.
pub const TABLE_COLUMNS: [(&str, &str); 10] = [
    ("workers", "worker count (* more workers than cores)"),
    ("tile", "tile edge in pixels, or auto"),
    ("median ms", "median wall time of the measured runs"),
    ("min ms", "fastest run"),
    ("max ms", "slowest run"),
    ("speedup", "baseline median / this median"),
    ("efficiency", "speedup x baseline workers / workers"),
    ("MP/s", "megapixels per second at the median time"),
    ("par", "parallelism: busy time / wall time"),
    (
        "imbal",
        "load imbalance: busiest worker / mean worker busy time",
    ),
];

impl ConfigRow {
    /// This row's cells, formatted, in the order of [`TABLE_COLUMNS`].
    pub fn table_cells(&self) -> [String; 10] {
        [
            format!(
                "{}{}",
                self.workers,
                if self.oversubscribed { "*" } else { "" }
            ),
            self.tile.clone(),
            format!("{:.2}", self.median_s * 1e3),
            format!("{:.2}", self.min_s * 1e3),
            format!("{:.2}", self.max_s * 1e3),
            format!("{:.2}x", self.speedup),
            format!("{:.0}%", self.efficiency * 100.0),
            format!("{:.1}", self.mp_per_s),
            format!("{:.2}", self.parallelism),
            format!("{:.2}", self.imbalance),
        ]
    }
}

/// The baseline of one tile size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// The tile size this baseline is for (`auto` or an edge).
    pub tile: String,
    /// The worker count of the baseline (1 when swept, else the smallest).
    pub workers: usize,
    /// The baseline's median wall time, in seconds.
    pub median_s: f64,
}

/// Amdahl's law fitted to one tile size's medians: `T(N) = serial_s + parallel_s / N`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmdahlFit {
    /// The tile size fitted (`auto` or an edge).
    pub tile: String,
    /// `f = serial_s / (serial_s + parallel_s)`, in `0..=1`.
    pub serial_fraction: f64,
    /// Fitted serial time, in seconds.
    pub serial_s: f64,
    /// Fitted parallel time (divided by the workers), in seconds.
    pub parallel_s: f64,
    /// Worker counts used (those not above the core count).
    pub fitted_workers: Vec<usize>,
    /// `1 / f`: the speedup no worker count can pass (infinite when `f` is 0).
    pub max_speedup: f64,
}

impl AmdahlFit {
    /// Predicted time on `n` workers.
    pub fn time(&self, n: f64) -> f64 {
        self.serial_s + self.parallel_s / n
    }

    /// Predicted speedup on `n` workers against `baseline` workers.
    pub fn speedup(&self, n: f64, baseline: usize) -> f64 {
        self.time(baseline as f64) / self.time(n)
    }
}

/// Fits `T = a + c / N` (`a, c ≥ 0`) by least squares to `(N, T)` points. `None` with fewer
/// than two distinct `N` or a non-positive total.
pub fn fit_amdahl(points: &[(usize, f64)]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(n, t)| *n > 0 && t.is_finite())
        .map(|&(n, t)| (1.0 / n as f64, t))
        .collect();
    let mut ns: Vec<usize> = points.iter().map(|p| p.0).collect();
    ns.sort_unstable();
    ns.dedup();
    if ns.len() < 2 {
        return None;
    }
    let m = pts.len() as f64;
    let xm = pts.iter().map(|p| p.0).sum::<f64>() / m;
    let ym = pts.iter().map(|p| p.1).sum::<f64>() / m;
    let sxx: f64 = pts.iter().map(|p| (p.0 - xm) * (p.0 - xm)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - xm) * (p.1 - ym)).sum();
    let mut c = sxy / sxx;
    let mut a = ym - c * xm;
    if c <= 0.0 {
        // No gain from workers at all: everything is serial.
        c = 0.0;
        a = ym;
    } else if a < 0.0 {
        // Better than linear (noise, caches): no serial part; refit through the origin.
        a = 0.0;
        c = pts.iter().map(|p| p.0 * p.1).sum::<f64>() / pts.iter().map(|p| p.0 * p.0).sum::<f64>();
    }
    (a + c > 0.0).then_some((a, c))
}

/// The derived table of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Cores available to the process during the sweep.
    pub cores: usize,
    /// One row per configuration, in [`SweepResult::configs`] order (tile-major).
    pub rows: Vec<ConfigRow>,
    /// One per tile size.
    pub baselines: Vec<Baseline>,
    /// One per tile size with enough worker counts within the cores.
    pub amdahl: Vec<AmdahlFit>,
}

impl Summary {
    /// Whether any configuration has more workers than cores.
    pub fn oversubscribed(&self) -> bool {
        self.rows.iter().any(|r| r.oversubscribed)
    }

    /// The Amdahl fit of a tile size.
    pub fn fit(&self, tile: &str) -> Option<&AmdahlFit> {
        self.amdahl.iter().find(|f| f.tile == tile)
    }

    /// The rows of one tile size, workers ascending.
    pub fn rows_for<'a>(&'a self, tile: &'a str) -> impl Iterator<Item = &'a ConfigRow> + 'a {
        self.rows.iter().filter(move |r| r.tile == tile)
    }
}

/// Derives the table from the measured runs (warm-ups are ignored).
pub fn summarize(result: &SweepResult) -> Summary {
    let cores = result.cores.max(1);
    let mut rows: Vec<ConfigRow> = result
        .configs
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let runs: Vec<_> = result.measured().filter(|r| r.config == i).collect();
            let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
            let med = median(&walls);
            let mp = runs.first().map_or(0.0, |r| r.megapixels);
            let par: Vec<f64> = runs.iter().map(|r| r.parallelism()).collect();
            let imb: Vec<f64> = runs.iter().map(|r| r.imbalance()).collect();
            let busy: Vec<f64> = runs.iter().map(|r| r.busy_s).collect();
            ConfigRow {
                workers: key.workers,
                tile: key.tile.to_string(),
                median_s: med,
                min_s: walls.iter().cloned().fold(f64::INFINITY, f64::min),
                max_s: walls.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                speedup: f64::NAN,
                efficiency: f64::NAN,
                mp_per_s: if med > 0.0 { mp / med } else { 0.0 },
                q1_s: quantile(&walls, 0.25),
                q3_s: quantile(&walls, 0.75),
                runs: runs.len(),
                baseline_workers: 0,
                parallelism: median(&par),
                imbalance: median(&imb),
                busy_s: median(&busy),
                oversubscribed: key.workers > cores,
                tile_shape: runs
                    .last()
                    .map(|r| r.tile_shape.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();

    let mut tiles: Vec<String> = Vec::new();
    for r in &rows {
        if !tiles.contains(&r.tile) {
            tiles.push(r.tile.clone());
        }
    }
    let mut baselines = Vec::new();
    let mut amdahl = Vec::new();
    for tile in tiles {
        let Some(base) = rows
            .iter()
            .filter(|r| r.tile == tile && r.runs > 0)
            .min_by_key(|r| r.workers)
            .map(|r| (r.workers, r.median_s))
        else {
            continue;
        };
        for r in rows.iter_mut().filter(|r| r.tile == tile && r.runs > 0) {
            r.baseline_workers = base.0;
            r.speedup = base.1 / r.median_s;
            r.efficiency = r.speedup * base.0 as f64 / r.workers as f64;
        }
        baselines.push(Baseline {
            tile: tile.clone(),
            workers: base.0,
            median_s: base.1,
        });
        let pts: Vec<(usize, f64)> = rows
            .iter()
            .filter(|r| r.tile == tile && r.runs > 0 && !r.oversubscribed)
            .map(|r| (r.workers, r.median_s))
            .collect();
        if let Some((a, c)) = fit_amdahl(&pts) {
            let f = a / (a + c);
            amdahl.push(AmdahlFit {
                tile,
                serial_fraction: f,
                serial_s: a,
                parallel_s: c,
                fitted_workers: pts.iter().map(|p| p.0).collect(),
                max_speedup: if f > 0.0 { 1.0 / f } else { f64::INFINITY },
            });
        }
    }
    Summary {
        cores,
        rows,
        baselines,
        amdahl,
    }
}
