//! Parameter search: every combination of a grid of parameters, for one or more methods, run
//! on every image of a set and scored against its ground truth; the best by the mean of a
//! chosen metric.
//!
//! Each (candidate, image) pair is one task for the pool's workers; an image is decoded once
//! and its ground truth read once. The figures do not depend on the worker count: each task
//! is computed alone and the means are summed in a fixed order. Progress is counted in runs
//! ([`Control::runs`]) and a cancel stops at the next task.
//!
//! ```
//! use tessera_engine::tune::{parse_grid, Axis};
//! let grid = parse_grid("block-size=11..31:10,k=0.1/0.3").unwrap();
//! assert_eq!(grid[0].values, vec![11.0, 21.0, 31.0]);
//! assert_eq!(grid[1].values, vec![0.1, 0.3]);
//! assert!(parse_grid("k=0.5..0.1:0.1").is_err());
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::control::{Control, Phase};
use crate::error::EngineError;
use crate::io::{DecodeLimits, ReadOptions, read_image_with};
use crate::job;
use crate::metrics::{EvalOptions, Metric, Metrics, PreparedTruth, json_number, read_gray};
use crate::ops::{Op, OpSettings, Param};
use crate::pool::WorkerPool;
use crate::source::{Depth, SourceImage};
use crate::tile::TileSize;

/// One axis of the grid: a parameter and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The parameter's command-line name without dashes (`block-size`, `k`, `radius`, `c`,
    /// `r`, `t`, `contrast`, `classes`, `thresh`).
    pub name: String,
    /// Its values, in the order given.
    pub values: Vec<f64>,
}

/// The names a grid may use.
pub const AXES: [&str; 9] = [
    "thresh",
    "block-size",
    "c",
    "radius",
    "k",
    "r",
    "t",
    "contrast",
    "classes",
];

/// The most combinations one search may have.
pub const MAX_CANDIDATES: usize = 100_000;

/// Parses `name=a..b:step` (a range, both ends included), `name=v1/v2/v3` (a list) or
/// `name=v`, comma-separated: `block-size=11..101:10,k=0.1..0.5:0.05`.
///
/// # Errors
///
/// A one-line reason for an unknown name, a repeated name, a bad number, an empty or
/// endless range.
pub fn parse_grid(s: &str) -> Result<Vec<Axis>, String> {
    let mut axes: Vec<Axis> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, spec) = part
            .split_once('=')
            .ok_or_else(|| format!("grid {part:?}: expected name=values"))?;
        let name = name.trim().trim_start_matches("--").replace('_', "-");
        if !AXES.contains(&name.as_str()) {
            return Err(format!(
                "grid: unknown parameter {name:?} (expected one of {})",
                AXES.join(", ")
            ));
        }
        if axes.iter().any(|a| a.name == name) {
            return Err(format!("grid: {name} is given twice"));
        }
        let num = |t: &str| -> Result<f64, String> {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("grid {name}: {t:?} is not a number"))
        };
        let values = if let Some((range, step)) = spec.split_once(':') {
            let (a, b) = range
                .split_once("..")
                .ok_or_else(|| format!("grid {name}: expected a..b:step, got {spec:?}"))?;
            let (a, b, step) = (num(a)?, num(b)?, num(step)?);
            if step <= 0.0 || b < a {
                return Err(format!(
                    "grid {name}: {spec:?} needs a <= b and a step above 0"
                ));
            }
            let n = ((b - a) / step + 1e-9).floor() as usize + 1;
            if n > MAX_CANDIDATES {
                return Err(format!("grid {name}: {spec:?} has {n} values"));
            }
            // From the start by whole steps (no accumulated rounding), rounded to 12 digits.
            (0..n)
                .map(|i| ((a + step * i as f64) * 1e12).round() / 1e12)
                .collect()
        } else {
            spec.split('/').map(num).collect::<Result<Vec<_>, _>>()?
        };
        axes.push(Axis { name, values });
    }
    if axes.is_empty() {
        return Err("the grid is empty: give name=values".into());
    }
    Ok(axes)
}

/// The [`Param`] an axis sets for these settings (`c` is the adaptive ops' C or Fiji's C, as
/// the op uses), or `None` when the op does not use it.
fn param_for(settings: &OpSettings, axis: &str) -> Option<Param> {
    settings
        .params()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.flag().trim_start_matches("--") == axis)
}

/// (image, ground truth) pairs.
pub type Pairs = Vec<(PathBuf, PathBuf)>;

/// The images of `input` (a folder, walked into sub-folders with `recursive`, or one image
/// file) that have a ground truth in `truth_dir` (the same relative path and stem, any image
/// extension: see [`GroundTruth::find`](crate::batch::GroundTruth::find)), sorted by path;
/// and, one line each, the images left out and why.
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when `truth_dir` is not a folder, `input` is neither a
/// folder nor a file, or no image has a ground truth.
pub fn find_pairs(
    input: &Path,
    truth_dir: &Path,
    recursive: bool,
) -> Result<(Pairs, Vec<String>), EngineError> {
    let usage = |m: String| Err(EngineError::InvalidParam(m));
    if !truth_dir.is_dir() {
        return usage(format!(
            "the ground-truth folder {} is not a folder",
            truth_dir.display()
        ));
    }
    let gt = crate::batch::GroundTruth {
        dir: truth_dir.to_path_buf(),
        eval: EvalOptions::default(),
    };
    let (root, files) = if input.is_file() {
        let root = input.parent().unwrap_or(Path::new("")).to_path_buf();
        (root, vec![input.to_path_buf()])
    } else if input.is_dir() {
        let mut files = Vec::new();
        walk(input, recursive, &mut files);
        files.sort();
        (input.to_path_buf(), files)
    } else {
        return usage(format!(
            "the input {} is neither an image nor a folder",
            input.display()
        ));
    };
    let mut pairs = Vec::new();
    let mut missing = Vec::new();
    for f in files {
        match gt.find(&root, &f) {
            Ok(g) if crate::io::same_file(&g, &f) => {
                missing.push(format!("{}: it is its own ground truth", f.display()))
            }
            Ok(g) => pairs.push((f, g)),
            Err(reason) => missing.push(format!("{}: {reason}", f.display())),
        }
    }
    if pairs.is_empty() {
        return usage(format!(
            "no image of {} has a ground truth in {}",
            input.display(),
            truth_dir.display()
        ));
    }
    Ok((pairs, missing))
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if recursive {
                walk(&p, recursive, out);
            }
        } else if crate::batch::plan::has_image_extension(&p) {
            out.push(p);
        }
    }
}

/// One combination to try.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The settings.
    pub settings: OpSettings,
    /// The op they make.
    pub op: Op,
    /// The grid values it takes, by axis (`None`: the op does not use that parameter).
    pub values: Vec<Option<f64>>,
}

/// What to search.
#[derive(Debug, Clone)]
pub struct TuneConfig {
    /// (image, ground truth) pairs ([`find_pairs`] finds them in folders).
    pub pairs: Pairs,
    /// The methods, each with its fixed settings; the grid varies the parameters each uses.
    pub methods: Vec<OpSettings>,
    /// The grid.
    pub grid: Vec<Axis>,
    /// Foreground and definitions.
    pub eval: EvalOptions,
    /// What "best" means.
    pub metric: Metric,
    /// Worker threads.
    pub workers: usize,
    /// Limits on each image.
    pub limits: DecodeLimits,
}

/// Every candidate of `cfg`: for each method, the product of the axes it uses.
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when a value is not valid for a method (an even block size,
/// a radius of 0), when no method uses some axis, or when there are too many combinations.
pub fn candidates(cfg: &TuneConfig) -> Result<Vec<Candidate>, EngineError> {
    let usage = |m: String| Err(EngineError::InvalidParam(m));
    for axis in &cfg.grid {
        if !cfg
            .methods
            .iter()
            .any(|m| param_for(m, &axis.name).is_some())
        {
            return usage(format!(
                "no method searched uses {} (see `tessera methods`)",
                axis.name
            ));
        }
    }
    let mut out = Vec::new();
    for base in &cfg.methods {
        base.to_op_strict()?;
        let used: Vec<Option<Param>> = cfg.grid.iter().map(|a| param_for(base, &a.name)).collect();
        let mut combos: Vec<Vec<Option<f64>>> = vec![Vec::new()];
        for (axis, p) in cfg.grid.iter().zip(&used) {
            let mut next = Vec::new();
            for c in &combos {
                match p {
                    Some(_) => {
                        for &v in &axis.values {
                            let mut c = c.clone();
                            c.push(Some(v));
                            next.push(c);
                        }
                    }
                    None => {
                        let mut c = c.clone();
                        c.push(None);
                        next.push(c);
                    }
                }
            }
            combos = next;
            if out.len() + combos.len() > MAX_CANDIDATES {
                return usage(format!(
                    "the grid has more than {MAX_CANDIDATES} combinations; narrow it"
                ));
            }
        }
        for values in combos {
            let mut settings = *base;
            for ((axis, p), v) in cfg.grid.iter().zip(&used).zip(&values) {
                if let (Some(p), Some(v)) = (p, v) {
                    settings.set_param(*p, *v);
                    if settings.param(*p) != *v {
                        return usage(format!(
                            "{} {v} is not a valid value for {} (it would become {})",
                            axis.name,
                            base.op,
                            settings.param(*p)
                        ));
                    }
                }
            }
            let op = settings.to_op_strict()?;
            out.push(Candidate {
                settings,
                op,
                values,
            });
        }
    }
    Ok(out)
}

/// One candidate's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The op with its parameters (`sauvola like opencv block 31 k 0.2 ...`).
    pub op: String,
    /// The method's name (`sauvola`).
    pub method: String,
    /// The grid values, by axis (`None` where the method does not use the axis).
    pub values: Vec<Option<f64>>,
    /// Its metrics on each image, in the order of [`TuneConfig::pairs`]; an error where the
    /// run or the scoring failed.
    pub per_image: Vec<Result<Metrics, String>>,
    /// Mean of each metric over the scored images (see [`Metric::ALL`] for the order); an
    /// undefined value (F-measure without any true positive) counts as the worst the metric
    /// can be: 0 for F-measure, precision and recall.
    pub means: Vec<f64>,
    /// Compute time summed over the images (thresholding only: no decoding, no scoring).
    pub compute: Duration,
}

impl Row {
    /// The mean of one metric.
    pub fn mean(&self, m: Metric) -> f64 {
        self.means[Metric::ALL
            .iter()
            .position(|x| *x == m)
            .expect("every metric")]
    }
}

/// The outcome of a search.
#[derive(Debug, Clone)]
pub struct TuneReport {
    /// The images searched (their ground truths in [`TuneReport::truths`]).
    pub images: Vec<PathBuf>,
    /// The ground truths.
    pub truths: Vec<PathBuf>,
    /// The grid.
    pub grid: Vec<Axis>,
    /// Every candidate, in grid order (method, then the axes, the last varying fastest).
    pub rows: Vec<Row>,
    /// The metric ranked by.
    pub metric: Metric,
    /// The index in `rows` of the best candidate.
    pub best: usize,
    /// Worker threads.
    pub workers: usize,
    /// Foreground and definitions.
    pub eval: EvalOptions,
    /// Wall time of the whole search, decoding included.
    pub total: Duration,
}

impl TuneReport {
    /// The rows from best to worst by [`TuneReport::metric`] (ties: grid order).
    pub fn ranked(&self) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        let m = self.metric;
        rows.sort_by(|a, b| m.rank_score(b.mean(m)).total_cmp(&m.rank_score(a.mean(m))));
        rows
    }

    /// The grid values of a row, as `block-size 31, k 0.3` (`none` when it uses no axis).
    pub fn values_text(&self, row: &Row, none: &str) -> String {
        let v: Vec<String> = self
            .grid
            .iter()
            .zip(&row.values)
            .filter_map(|(a, v)| v.map(|v| format!("{} {v}", a.name)))
            .collect();
        if v.is_empty() {
            none.to_string()
        } else {
            v.join(", ")
        }
    }

    /// The best row.
    pub fn best(&self) -> &Row {
        &self.rows[self.best]
    }
}

/// The best method's scores over two grid parameters, as the heat maps draw them.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    /// The method (`sauvola`).
    pub method: String,
    /// The column axis (the first grid parameter the method uses) and its values; `None`
    /// when it uses none (one column).
    pub x: Option<(String, Vec<f64>)>,
    /// The row axis (the second one), likewise.
    pub y: Option<(String, Vec<f64>)>,
    /// The further axes, held at the best row's values.
    pub held: Vec<(String, f64)>,
    /// `cells[yi][xi]`: the row index (into [`TuneReport::rows`]) of each cell.
    pub cells: Vec<Vec<Option<usize>>>,
    /// The best row's index.
    pub best: usize,
}

impl TuneReport {
    /// The heat map of the best method (see [`HeatMap`]).
    pub fn heat_map(&self) -> HeatMap {
        let best = self.best();
        let used: Vec<usize> = (0..self.grid.len())
            .filter(|&i| best.values[i].is_some())
            .collect();
        let axis = |k: usize| {
            used.get(k)
                .map(|&i| (self.grid[i].name.clone(), self.grid[i].values.clone()))
        };
        let (x, y) = (axis(0), axis(1));
        let held = used
            .iter()
            .skip(2)
            .map(|&i| {
                (
                    self.grid[i].name.clone(),
                    best.values[i].unwrap_or_default(),
                )
            })
            .collect();
        let xs = x
            .as_ref()
            .map_or(vec![None], |(_, v)| v.iter().map(|v| Some(*v)).collect());
        let ys = y
            .as_ref()
            .map_or(vec![None], |(_, v)| v.iter().map(|v| Some(*v)).collect());
        let cells = ys
            .iter()
            .map(|yv| {
                xs.iter()
                    .map(|xv| {
                        self.rows.iter().position(|row| {
                            row.method == best.method
                                && used.iter().enumerate().all(|(k, &i)| match k {
                                    0 => row.values[i] == *xv,
                                    1 => row.values[i] == *yv,
                                    _ => row.values[i] == best.values[i],
                                })
                        })
                    })
                    .collect()
            })
            .collect();
        HeatMap {
            method: best.method.clone(),
            x,
            y,
            held,
            cells,
            best: self.best,
        }
    }

    /// The rows on the quality/speed Pareto front: no other row is both at least as good by
    /// the metric and at most as slow, and strictly better in one. Indices into
    /// [`TuneReport::rows`], fastest first.
    pub fn pareto(&self) -> Vec<usize> {
        let m = self.metric;
        let score = |i: usize| m.rank_score(self.rows[i].mean(m));
        let time = |i: usize| self.rows[i].compute;
        let mut front: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                !(0..self.rows.len()).any(|j| {
                    j != i
                        && score(j) >= score(i)
                        && time(j) <= time(i)
                        && (score(j) > score(i) || time(j) < time(i))
                })
            })
            .collect();
        front.sort_by_key(|&i| (time(i), i));
        front
    }
}

/// A metric value as it counts in a mean: NaN (no true positive) is the worst value.
fn counted(m: Metric, v: f64) -> f64 {
    if v.is_nan() {
        match m {
            Metric::FMeasure | Metric::Precision | Metric::Recall => 0.0,
            _ => v,
        }
    } else {
        v
    }
}

struct Loaded {
    eight: Option<SourceImage>,
    native: Option<SourceImage>,
    truth: PreparedTruth,
}

/// Runs the search on a pool of `cfg.workers`.
///
/// # Errors
///
/// Usage errors from [`candidates`]; [`EngineError::Input`] when an image or a ground truth
/// cannot be read (a search needs every pair); [`EngineError::Cancelled`].
pub fn run(cfg: &TuneConfig, ctl: &Control) -> Result<TuneReport, EngineError> {
    let t0 = Instant::now();
    if cfg.pairs.is_empty() {
        return Err(EngineError::InvalidParam(
            "no (image, ground truth) pair to search on".into(),
        ));
    }
    let cands = candidates(cfg)?;
    let pool = WorkerPool::shared(cfg.workers)?;
    ctl.begin(t0);
    ctl.set_runs_total(cands.len() * cfg.pairs.len());
    ctl.set_phase(Phase::Running);
    let result = pool.install(|| search(cfg, &cands, ctl));
    ctl.finish(t0.elapsed());
    let rows = result?;
    let metric = cfg.metric;
    let best = (0..rows.len())
        .max_by(|&a, &b| {
            metric
                .rank_score(rows[a].mean(metric))
                .total_cmp(&metric.rank_score(rows[b].mean(metric)))
                // The first of equals in grid order.
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    Ok(TuneReport {
        images: cfg.pairs.iter().map(|p| p.0.clone()).collect(),
        truths: cfg.pairs.iter().map(|p| p.1.clone()).collect(),
        grid: cfg.grid.clone(),
        rows,
        metric,
        best,
        workers: pool.workers(),
        eval: cfg.eval,
        total: t0.elapsed(),
    })
}

fn search(cfg: &TuneConfig, cands: &[Candidate], ctl: &Control) -> Result<Vec<Row>, EngineError> {
    let need8 = cands
        .iter()
        .any(|c| c.settings.read_depth() == Depth::Eight);
    let need_native = cands
        .iter()
        .any(|c| c.settings.read_depth() == Depth::Native);
    let loaded: Vec<Loaded> = cfg
        .pairs
        .par_iter()
        .map(|(img, gt)| {
            if ctl.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let read = |depth: Depth| {
                read_image_with(img, &ReadOptions::new(cfg.limits).at(depth)).map(|d| d.image)
            };
            Ok(Loaded {
                eight: if need8 {
                    Some(read(Depth::Eight)?)
                } else {
                    None
                },
                native: if need_native {
                    Some(read(Depth::Native)?)
                } else {
                    None
                },
                truth: PreparedTruth::new_here(&read_gray(gt, cfg.limits)?, &cfg.eval),
            })
        })
        .collect::<Result<_, _>>()?;
    let n = cfg.pairs.len();
    let stop = AtomicBool::new(false);
    let tasks: Vec<(Result<Metrics, String>, Duration)> = (0..cands.len() * n)
        .into_par_iter()
        .map(|t| {
            if stop.load(Ordering::Relaxed) || ctl.is_cancelled() {
                stop.store(true, Ordering::Relaxed);
                return (Err("cancelled".into()), Duration::ZERO);
            }
            let (c, i) = (&cands[t / n], t % n);
            let l = &loaded[i];
            let src = match c.settings.read_depth() {
                Depth::Eight => l.eight.as_ref(),
                Depth::Native => l.native.as_ref(),
            }
            .expect("read at every depth a candidate needs");
            let t0 = Instant::now();
            let out = job::run_here(src, &c.op, TileSize::Auto, &ctl.child());
            let compute = t0.elapsed();
            let scored = out.map_err(|e| e.to_string()).and_then(|out| {
                let mask = out
                    .image
                    .as_gray8()
                    .ok_or("the result is 16-bit; metrics judge an 8-bit mask")?;
                l.truth.evaluate_here(mask).map_err(|e| e.to_string())
            });
            ctl.run_done();
            (scored, compute)
        })
        .collect();
    if stop.load(Ordering::Relaxed) || ctl.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    let mut tasks = tasks.into_iter();
    Ok(cands
        .iter()
        .map(|c| {
            let mine: Vec<_> = tasks.by_ref().take(n).collect();
            let compute = mine.iter().map(|t| t.1).sum();
            let per_image: Vec<Result<Metrics, String>> = mine.into_iter().map(|t| t.0).collect();
            let scored: Vec<&Metrics> = per_image.iter().filter_map(|r| r.as_ref().ok()).collect();
            let means = Metric::ALL
                .iter()
                .map(|&m| {
                    scored.iter().map(|s| counted(m, s.get(m))).sum::<f64>() / scored.len() as f64
                })
                .collect();
            Row {
                op: c.op.describe(),
                method: c.settings.op.name().to_string(),
                values: c.values.clone(),
                per_image,
                means,
                compute,
            }
        })
        .collect())
}

/// One row of the table as JSON: op, method, the grid values by name, the mean of each metric
/// (non-finite as strings), compute seconds, images scored.
#[derive(Serialize)]
struct RowJson<'a> {
    op: &'a str,
    method: &'a str,
    params: serde_json::Map<String, serde_json::Value>,
    mean: serde_json::Map<String, serde_json::Value>,
    compute_s: f64,
    scored: usize,
    errors: Vec<String>,
}

impl TuneReport {
    /// The full table as CSV: `method,op,<axes...>,<metrics...>,compute_s,scored`, one row per
    /// candidate in grid order; an axis a method does not use is empty.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("method,op");
        for a in &self.grid {
            s += &format!(",{}", a.name);
        }
        for m in Metric::ALL {
            s += &format!(",mean_{}", m.key());
        }
        s += ",compute_s,scored\n";
        for r in &self.rows {
            s += &format!("{},\"{}\"", r.method, r.op.replace('"', "\"\""));
            for v in &r.values {
                s += &match v {
                    Some(v) => format!(",{v}"),
                    None => ",".into(),
                };
            }
            for v in &r.means {
                s += &format!(",{v}");
            }
            let scored = r.per_image.iter().filter(|p| p.is_ok()).count();
            s += &format!(",{},{}\n", r.compute.as_secs_f64(), scored);
        }
        s
    }

    /// The report as JSON: the settings, the best row and every row.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| serde_json::to_value(self.row_json(r)).unwrap_or_default())
            .collect();
        serde_json::json!({
            "metric": self.metric.key(),
            "like": self.eval.like.name(),
            "foreground": self.eval.foreground.name(),
            "workers": self.workers,
            "images": self.images.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            "ground_truths": self.truths.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            "grid": self.grid.iter().map(|a| serde_json::json!({"name": a.name, "values": a.values})).collect::<Vec<_>>(),
            "seconds": self.total.as_secs_f64(),
            "best": serde_json::to_value(self.row_json(self.best())).unwrap_or_default(),
            "rows": rows,
        })
    }

    fn row_json<'a>(&'a self, r: &'a Row) -> RowJson<'a> {
        let mut params = serde_json::Map::new();
        for (a, v) in self.grid.iter().zip(&r.values) {
            if let Some(v) = v {
                params.insert(a.name.clone(), (*v).into());
            }
        }
        let mut mean = serde_json::Map::new();
        for (m, v) in Metric::ALL.iter().zip(&r.means) {
            mean.insert(m.key().to_string(), json_number(*v));
        }
        RowJson {
            op: &r.op,
            method: &r.method,
            params,
            mean,
            compute_s: r.compute.as_secs_f64(),
            scored: r.per_image.iter().filter(|p| p.is_ok()).count(),
            errors: r
                .per_image
                .iter()
                .zip(&self.images)
                .filter_map(|(p, img)| p.as_ref().err().map(|e| format!("{}: {e}", img.display())))
                .collect(),
        }
    }
}
