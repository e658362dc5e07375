//! How far to trust a sweep, and what it predicts.
//!
//! * **Confidence intervals**: a percentile bootstrap (2000 resamples, a fixed seed, so the
//!   same runs always give the same interval) of each configuration's median time, and of each
//!   speedup **paired by round**: rounds are interleaved ([`SweepConfig::plan`]), so round
//!   `r`'s baseline run and round `r`'s run of the configuration shared the machine's state;
//!   the bootstrap resamples rounds and takes the median of the per-round ratios.
//! * **Outliers**: Tukey's fences (outside `[Q1 − 1.5·IQR, Q3 + 1.5·IQR]`), counted per
//!   configuration. **Coefficient of variation** (standard deviation over mean).
//! * **Noise verdict**: warnings when a configuration's CV passes 5 %, when the intervals of
//!   two adjacent worker counts overlap (their difference is not resolved), or when the load
//!   average before or after the sweep passes half the cores.
//! * **Models**, fitted by least squares on the medians of the worker counts within the
//!   cores: Amdahl (see [`stats`](super::stats)), Gustafson's scaled speedup `N − α(N − 1)`,
//!   the Universal Scalability Law `S(N) = N / (1 + σ(N − 1) + κN(N − 1))` (contention σ,
//!   coherency κ; linear in σ and κ once written as `N/S − 1 = σ(N − 1) + κN(N − 1)`), and the
//!   Karp–Flatt serial fraction `e(N) = (1/S − 1/N) / (1 − 1/N)` per worker count. The USL
//!   predicts the best worker count `√((1 − σ)/κ)` and the speedup at 2× and 4× the cores.
//! * **Comparing two sweeps** ([`compare`]): per configuration both have, the ratio of the
//!   medians (new / old) with a bootstrap interval and the share of resamples where the new
//!   one is faster; "faster"/"slower" when the interval excludes a ±2 % noise band, else "no
//!   change" (criterion's rule).
//!
//! [`SweepConfig::plan`]: super::SweepConfig::plan

use serde::Serialize;

use super::SweepResult;
use super::stats::{Summary, median, quantile};

/// Resamples of every bootstrap.
pub const RESAMPLES: usize = 2000;
/// Confidence level of the intervals.
pub const LEVEL: f64 = 0.95;
/// Coefficient of variation above which a configuration is called noisy.
pub const NOISY_CV: f64 = 0.05;
/// Relative change inside which a comparison says "no change".
pub const NOISE_BAND: f64 = 0.02;

/// A small deterministic generator (xorshift64*), so intervals are reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform index in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The percentile-bootstrap interval at [`LEVEL`] of `stat` over `samples` (resampled with
/// replacement [`RESAMPLES`] times); `(NaN, NaN)` for no samples, the value itself for one.
pub fn bootstrap_ci(samples: &[f64], stat: impl Fn(&[f64]) -> f64, seed: u64) -> (f64, f64) {
    match samples.len() {
        0 => return (f64::NAN, f64::NAN),
        1 => return (samples[0], samples[0]),
        _ => {}
    }
    let mut rng = Rng::new(seed);
    let mut buf = vec![0.0; samples.len()];
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for b in buf.iter_mut() {
                *b = samples[rng.below(samples.len())];
            }
            stat(&buf)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let a = (1.0 - LEVEL) / 2.0;
    (quantile(&stats, a), quantile(&stats, 1.0 - a))
}

/// The indices of Tukey's outliers: outside `[Q1 − 1.5·IQR, Q3 + 1.5·IQR]`.
pub fn tukey_outliers(samples: &[f64]) -> Vec<usize> {
    if samples.len() < 4 {
        return Vec::new();
    }
    let (q1, q3) = (quantile(samples, 0.25), quantile(samples, 0.75));
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    (0..samples.len())
        .filter(|&i| samples[i] < lo || samples[i] > hi)
        .collect()
}

/// Standard deviation (n − 1) over the mean; 0 for fewer than two samples.
pub fn coefficient_of_variation(samples: &[f64]) -> f64 {
    let n = samples.len();
    if n < 2 {
        return 0.0;
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    if mean > 0.0 { var.sqrt() / mean } else { 0.0 }
}

/// The median of per-round ratios `base[r] / this[r]` and its bootstrap interval, resampling
/// rounds (pairs present in both); `None` without a common round.
pub fn paired_ratio(
    base: &[(usize, f64)],
    this: &[(usize, f64)],
    seed: u64,
) -> Option<(f64, f64, f64)> {
    let ratios: Vec<f64> = this
        .iter()
        .filter_map(|&(r, t)| {
            base.iter()
                .find(|b| b.0 == r)
                .filter(|_| t > 0.0)
                .map(|b| b.1 / t)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let (lo, hi) = bootstrap_ci(&ratios, median, seed);
    Some((median(&ratios), lo, hi))
}

/// One configuration's statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigStats {
    /// Worker count.
    pub workers: usize,
    /// `auto` or the tile edge.
    pub tile: String,
    /// Median wall time, in seconds.
    pub median_s: f64,
    /// Its 95 % bootstrap interval.
    pub median_ci_s: (f64, f64),
    /// Speedup against the baseline, paired by round (median of per-round ratios).
    pub speedup: f64,
    /// Its 95 % bootstrap interval.
    pub speedup_ci: (f64, f64),
    /// Measured runs that are Tukey outliers.
    pub outliers: usize,
    /// Coefficient of variation of the run times.
    pub cv: f64,
}

/// The scaling models fitted to one tile size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Models {
    /// `auto` or the tile edge.
    pub tile: String,
    /// Amdahl's serial fraction (from [`Summary::amdahl`]), when fitted.
    pub amdahl_serial_fraction: Option<f64>,
    /// Gustafson's serial fraction α of `S(N) = N − α(N − 1)`.
    pub gustafson_alpha: Option<f64>,
    /// USL contention σ.
    pub usl_sigma: Option<f64>,
    /// USL coherency κ.
    pub usl_kappa: Option<f64>,
    /// Karp–Flatt's serial fraction per worker count (N > 1).
    pub karp_flatt: Vec<(usize, f64)>,
    /// The worker count the USL (else Amdahl) predicts fastest, when its curve peaks below
    /// 4× the cores (`None`: it only flattens there).
    pub best_workers: Option<usize>,
    /// The predicted speedup at 2× and at 4× the cores.
    pub speedup_2x_cores: Option<f64>,
    /// See [`Models::speedup_2x_cores`].
    pub speedup_4x_cores: Option<f64>,
}

/// The USL's speedup at `n` workers.
pub fn usl_speedup(n: f64, sigma: f64, kappa: f64) -> f64 {
    n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// Fits the USL `S(N) = N / (1 + σ(N − 1) + κN(N − 1))` to `(N, S)` points by least squares
/// on `N/S − 1 = σ(N − 1) + κN(N − 1)`, with `σ, κ ≥ 0`. `None` without two worker counts
/// above 1.
pub fn fit_usl(points: &[(usize, f64)]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64, f64)> = points
        .iter()
        .filter(|(n, s)| *n > 1 && s.is_finite() && *s > 0.0)
        .map(|&(n, s)| {
            let n = n as f64;
            (n - 1.0, n * (n - 1.0), n / s - 1.0)
        })
        .collect();
    let mut ns: Vec<usize> = points.iter().filter(|p| p.0 > 1).map(|p| p.0).collect();
    ns.sort_unstable();
    ns.dedup();
    if ns.is_empty() {
        return None;
    }
    let one = |pick: fn(&(f64, f64, f64)) -> f64| {
        let sxx: f64 = pts.iter().map(|p| pick(p) * pick(p)).sum();
        let sxy: f64 = pts.iter().map(|p| pick(p) * p.2).sum();
        (sxy / sxx).max(0.0)
    };
    if ns.len() < 2 {
        // One point: contention only.
        return Some((one(|p| p.0), 0.0));
    }
    let (s11, s12, s22) = pts.iter().fold((0.0, 0.0, 0.0), |a, p| {
        (a.0 + p.0 * p.0, a.1 + p.0 * p.1, a.2 + p.1 * p.1)
    });
    let (b1, b2) = pts
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 * p.2, a.1 + p.1 * p.2));
    let det = s11 * s22 - s12 * s12;
    let (sigma, kappa) = if det.abs() > 1e-300 {
        ((b1 * s22 - b2 * s12) / det, (s11 * b2 - s12 * b1) / det)
    } else {
        (f64::NAN, f64::NAN)
    };
    Some(match (sigma >= 0.0, kappa >= 0.0) {
        (true, true) => (sigma, kappa),
        (false, _) => (0.0, one(|p| p.1)),
        (true, false) => (one(|p| p.0), 0.0),
    })
}

/// Gustafson's α of `S(N) = N − α(N − 1)` by least squares.
pub fn fit_gustafson(points: &[(usize, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(n, s)| *n > 1 && s.is_finite())
        .map(|&(n, s)| (n as f64 - 1.0, n as f64 - s))
        .collect();
    let sxx: f64 = pts.iter().map(|p| p.0 * p.0).sum();
    (sxx > 0.0).then(|| pts.iter().map(|p| p.0 * p.1).sum::<f64>() / sxx)
}

/// Karp–Flatt's experimentally determined serial fraction at `n` workers with speedup `s`.
pub fn karp_flatt(n: usize, s: f64) -> f64 {
    let n = n as f64;
    (1.0 / s - 1.0 / n) / (1.0 - 1.0 / n)
}

/// Reads the 1-minute load average (Linux `/proc/loadavg`); `None` elsewhere.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Everything [`infer`] derives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inference {
    /// One per configuration, in the summary's order.
    pub rows: Vec<ConfigStats>,
    /// One per tile size.
    pub models: Vec<Models>,
    /// Why not to trust some figures, one sentence each (empty: nothing found).
    pub warnings: Vec<String>,
    /// The 1-minute load average before and after the sweep, when known.
    pub load: (Option<f64>, Option<f64>),
    /// The result in one sentence: `2 workers: 1.83x [1.71, 1.92], 92 % efficient; best
    /// predicted: 6 workers`.
    pub verdict: String,
}

/// Derives the intervals, outliers, noise warnings and models of a sweep.
pub fn infer(result: &SweepResult, summary: &Summary) -> Inference {
    let cores = summary.cores.max(1);
    let samples = |config: usize| -> Vec<(usize, f64)> {
        result
            .measured()
            .filter(|r| r.config == config)
            .map(|r| (r.round, r.wall_s))
            .collect()
    };
    let mut rows = Vec::new();
    for (i, row) in summary.rows.iter().enumerate() {
        let mine = samples(i);
        let walls: Vec<f64> = mine.iter().map(|s| s.1).collect();
        let base_cfg = result
            .configs
            .iter()
            .position(|k| k.workers == row.baseline_workers && k.tile.to_string() == row.tile);
        let seed = 0x5eed ^ (i as u64) << 8;
        let (speedup, lo, hi) = base_cfg
            .and_then(|b| paired_ratio(&samples(b), &mine, seed))
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        rows.push(ConfigStats {
            workers: row.workers,
            tile: row.tile.clone(),
            median_s: row.median_s,
            median_ci_s: bootstrap_ci(&walls, median, seed ^ 1),
            speedup,
            speedup_ci: (lo, hi),
            outliers: tukey_outliers(&walls).len(),
            cv: coefficient_of_variation(&walls),
        });
    }
    let mut warnings = Vec::new();
    for r in &rows {
        if r.cv > NOISY_CV {
            warnings.push(format!(
                "{} workers (tile {}): run times vary by {:.0} % (coefficient of variation): \
                 more repeats or a quieter machine",
                r.workers,
                r.tile,
                r.cv * 100.0
            ));
        }
    }
    let mut tiles: Vec<&str> = Vec::new();
    for r in &rows {
        if !tiles.contains(&r.tile.as_str()) {
            tiles.push(&r.tile);
        }
    }
    for t in &tiles {
        let mine: Vec<&ConfigStats> = rows.iter().filter(|r| r.tile == *t).collect();
        for w in mine.windows(2) {
            let (a, b) = (w[0].median_ci_s, w[1].median_ci_s);
            if a.0 <= b.1 && b.0 <= a.1 {
                warnings.push(format!(
                    "{} and {} workers (tile {t}): their 95 % intervals overlap, so this sweep \
                     does not tell them apart",
                    w[0].workers, w[1].workers
                ));
            }
        }
    }
    let (before, after) = (result.load_before, result.load_after);
    for (when, l) in [("before", before), ("after", after)] {
        if let Some(l) = l.filter(|l| *l > cores as f64 / 2.0) {
            warnings.push(format!(
                "the machine was busy {when} the sweep (load average {l:.2} on {cores} cores)"
            ));
        }
    }
    let models: Vec<Models> = tiles
        .iter()
        .map(|t| models_for(t, summary, cores))
        .collect();
    let verdict = verdict(&rows, summary, &models, cores);
    Inference {
        rows,
        models,
        warnings,
        load: (before, after),
        verdict,
    }
}

fn models_for(tile: &str, summary: &Summary, cores: usize) -> Models {
    let pts: Vec<(usize, f64)> = summary
        .rows_for(tile)
        .filter(|r| r.runs > 0 && !r.oversubscribed && r.baseline_workers == 1)
        .map(|r| (r.workers, r.speedup))
        .collect();
    let usl = fit_usl(&pts);
    let amdahl = summary.fit(tile);
    let predict = |n: f64| match (usl, amdahl) {
        (Some((s, k)), _) => Some(usl_speedup(n, s, k)),
        (None, Some(f)) => Some(f.speedup(n, 1)),
        _ => None,
    };
    // The fastest predicted count, when the curve peaks before 4x the cores (with no
    // coherency cost the USL, like Amdahl, only flattens: no peak to name).
    let cap = 4 * cores;
    let best = (1..=cap)
        .filter_map(|n| predict(n as f64).map(|s| (n, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|b| b.0)
        .filter(|&b| b < cap);
    Models {
        tile: tile.to_string(),
        amdahl_serial_fraction: amdahl.map(|f| f.serial_fraction),
        gustafson_alpha: fit_gustafson(&pts),
        usl_sigma: usl.map(|u| u.0),
        usl_kappa: usl.map(|u| u.1),
        karp_flatt: pts
            .iter()
            .filter(|p| p.0 > 1)
            .map(|&(n, s)| (n, karp_flatt(n, s)))
            .collect(),
        best_workers: best,
        speedup_2x_cores: predict(2.0 * cores as f64),
        speedup_4x_cores: predict(4.0 * cores as f64),
    }
}

fn verdict(rows: &[ConfigStats], summary: &Summary, models: &[Models], cores: usize) -> String {
    // The largest worker count within the cores, on the first tile size.
    let Some(tile) = rows.first().map(|r| r.tile.clone()) else {
        return String::new();
    };
    let Some(r) = rows
        .iter()
        .filter(|r| r.tile == tile && r.workers <= cores && r.speedup.is_finite())
        .max_by_key(|r| r.workers)
    else {
        return String::new();
    };
    let base = summary
        .rows
        .iter()
        .find(|x| x.tile == tile)
        .map_or(1, |x| x.baseline_workers.max(1));
    let eff = r.speedup * base as f64 / r.workers as f64;
    let mut s = format!(
        "{} workers: {:.2}x [{:.2}, {:.2}], {:.0} % efficient",
        r.workers,
        r.speedup,
        r.speedup_ci.0,
        r.speedup_ci.1,
        eff * 100.0
    );
    if let Some(m) = models.iter().find(|m| m.tile == tile) {
        match (m.best_workers, m.speedup_4x_cores) {
            (Some(b), _) => {
                s += &format!(
                    "; best predicted: {b} worker{}",
                    if b == 1 { "" } else { "s" }
                )
            }
            (None, Some(x)) => s += &format!("; no peak predicted (at 4x the cores: {x:.2}x)"),
            (None, None) => {}
        }
    }
    s
}

/// One configuration of two sweeps compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Worker count.
    pub workers: usize,
    /// Tile size.
    pub tile: String,
    /// Median time of the old and the new sweep, in seconds.
    pub old_s: f64,
    /// See [`Change::old_s`].
    pub new_s: f64,
    /// new / old, with its 95 % bootstrap interval.
    pub ratio: f64,
    /// See [`Change::ratio`].
    pub ratio_ci: (f64, f64),
    /// Share of the resamples where the new median is below the old.
    pub p_faster: f64,
    /// `faster`, `slower` or `no change`.
    pub verdict: &'static str,
}

/// Compares two sweeps' run times, configuration by configuration (`(workers, tile,
/// seconds)` of each measured run, as [`run_times`] reads them from a saved report).
pub fn compare(old: &[(usize, String, f64)], new: &[(usize, String, f64)]) -> Vec<Change> {
    let mut keys: Vec<(usize, String)> = Vec::new();
    for (w, t, _) in new {
        if !keys.contains(&(*w, t.clone())) && old.iter().any(|o| o.0 == *w && &o.1 == t) {
            keys.push((*w, t.clone()));
        }
    }
    keys.iter()
        .enumerate()
        .map(|(i, (w, t))| {
            let pick = |v: &[(usize, String, f64)]| -> Vec<f64> {
                v.iter()
                    .filter(|x| x.0 == *w && &x.1 == t)
                    .map(|x| x.2)
                    .collect()
            };
            let (a, b) = (pick(old), pick(new));
            let mut rng = Rng::new(0xc0ffee + i as u64);
            let mut ratios: Vec<f64> = (0..RESAMPLES)
                .map(|_| {
                    let ra: Vec<f64> = (0..a.len()).map(|_| a[rng.below(a.len())]).collect();
                    let rb: Vec<f64> = (0..b.len()).map(|_| b[rng.below(b.len())]).collect();
                    median(&rb) / median(&ra)
                })
                .collect();
            ratios.sort_by(f64::total_cmp);
            let p_faster = ratios.iter().filter(|r| **r < 1.0).count() as f64 / RESAMPLES as f64;
            let ci = (quantile(&ratios, 0.025), quantile(&ratios, 0.975));
            let verdict = if ci.1 < 1.0 - NOISE_BAND {
                "faster"
            } else if ci.0 > 1.0 + NOISE_BAND {
                "slower"
            } else {
                "no change"
            };
            Change {
                workers: *w,
                tile: t.clone(),
                old_s: median(&a),
                new_s: median(&b),
                ratio: median(&b) / median(&a),
                ratio_ci: ci,
                p_faster,
                verdict,
            }
        })
        .collect()
}

/// The measured runs of a saved sweep report (`tessera bench --json` or the lab's JSON
/// export): `(workers, tile, wall seconds)` of each run that is not a warm-up.
pub fn run_times(report: &serde_json::Value) -> Result<Vec<(usize, String, f64)>, String> {
    let runs = report
        .get("runs")
        .or_else(|| report.get("result").and_then(|r| r.get("runs")))
        .and_then(|r| r.as_array())
        .ok_or("not a tessera sweep report (no \"runs\")")?;
    Ok(runs
        .iter()
        .filter(|r| r["warmup"] != true)
        .filter_map(|r| {
            Some((
                r["workers"].as_u64()? as usize,
                r["tile"].as_str()?.to_string(),
                r["wall_s"].as_f64()?,
            ))
        })
        .collect())
}
