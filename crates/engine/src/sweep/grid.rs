//! Processes × threads: where oversubscription begins.
//!
//! A program that starts P processes, each with T threads of its own (Python's
//! `multiprocessing.Pool` calling OpenCV, which starts its own threads), asks the CPU for
//! P·T threads. The grid times every (P, T) pair as whole processes and derives each cell's
//! median with a bootstrap 95 % interval and its speedup over the smallest cell, paired by
//! round (rounds are interleaved, and each round starts at another cell). Cells with
//! P·T above the cores are flagged: that is where oversubscription begins.
//!
//! Two launches ([`Launch`]):
//! * one shell command per cell, with `{procs}` and `{threads}` (and `{workers}`, their
//!   product) replaced: `python batch.py --procs {procs} --threads {threads}`;
//! * P processes at once, each a program with `{proc}` (0..P), `{procs}` and `{threads}`
//!   replaced in its arguments: tessera splits a folder over P processes of T workers with
//!   `tessera batch DIR -o OUT --shard {proc}/{procs} --workers {threads}`.

use std::ffi::OsString;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::command::{Process, run_processes};
use super::config::{MAX_REPEATS, parse_worker_list};
use super::inference::{self, NOISY_CV, bootstrap_ci, coefficient_of_variation, paired_ratio};
use super::stats::median;
use crate::control::{Control, Phase};
use crate::error::EngineError;

/// What each cell starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// One `sh -c` command line per cell: `{procs}`, `{threads}` and `{workers}` (P·T)
    /// replaced.
    Shell(String),
    /// P processes per cell, each this program and arguments, with `{proc}` (0..P),
    /// `{procs}` and `{threads}` replaced in every argument.
    Split(Vec<OsString>),
}

impl Launch {
    /// The processes of one cell.
    pub fn processes(&self, procs: usize, threads: usize) -> Vec<Process> {
        let fill = |s: &str, i: Option<usize>| {
            let mut s = s
                .replace("{procs}", &procs.to_string())
                .replace("{threads}", &threads.to_string())
                .replace("{workers}", &(procs * threads).to_string());
            if let Some(i) = i {
                s = s.replace("{proc}", &i.to_string());
            }
            s
        };
        match self {
            Launch::Shell(line) => vec![Process::Shell(fill(line, None))],
            Launch::Split(argv) => (0..procs)
                .map(|i| {
                    Process::Argv(
                        argv.iter()
                            .map(|a| match a.to_str() {
                                Some(t) => OsString::from(fill(t, Some(i))),
                                None => a.clone(),
                            })
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

/// The cells to time and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridConfig {
    /// Process counts (rows).
    pub procs: Vec<usize>,
    /// Threads per process (columns).
    pub threads: Vec<usize>,
    /// Measured rounds.
    pub repeats: usize,
    /// Unmeasured rounds first.
    pub warmup: usize,
}

impl GridConfig {
    /// From the `--procs` and `--threads` lists (`1-4`, `1,2,4`), sorted and deduplicated.
    pub fn parse(
        procs: &str,
        threads: &str,
        repeats: usize,
        warmup: usize,
    ) -> Result<GridConfig, EngineError> {
        let list = |s: &str, flag: &str| {
            parse_worker_list(s)
                .map(|mut v| {
                    v.sort_unstable();
                    v.dedup();
                    v
                })
                .map_err(|_| {
                    EngineError::InvalidParam(format!(
                        "--{flag} must be a list of counts such as 1-4 or 1,2,4, got {s:?}"
                    ))
                })
        };
        let cfg = GridConfig {
            procs: list(procs, "procs")?,
            threads: list(threads, "threads")?,
            repeats,
            warmup,
        };
        if repeats == 0 || repeats > MAX_REPEATS || warmup > MAX_REPEATS {
            return Err(EngineError::InvalidParam(format!(
                "--repeats must be 1..={MAX_REPEATS} and --warmup 0..={MAX_REPEATS}"
            )));
        }
        Ok(cfg)
    }

    /// The cells, row by row.
    pub fn cells(&self) -> Vec<(usize, usize)> {
        self.procs
            .iter()
            .flat_map(|&p| self.threads.iter().map(move |&t| (p, t)))
            .collect()
    }
}

/// One cell's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridCell {
    /// Processes.
    pub procs: usize,
    /// Threads per process.
    pub threads: usize,
    /// Every measured wall time, in seconds, by round.
    pub times_s: Vec<f64>,
    /// Median wall time.
    pub median_s: f64,
    /// Its bootstrap 95 % interval.
    pub median_ci_s: (f64, f64),
    /// The baseline cell's time over this one's, median of the per-round ratios.
    pub speedup: f64,
    /// Its bootstrap 95 % interval, paired by round.
    pub speedup_ci: (f64, f64),
    /// Coefficient of variation of the times.
    pub cv: f64,
    /// P·T above the cores.
    pub oversubscribed: bool,
}

/// Everything a grid measured (read back from `tessera bench --procs ... --json` with serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridResult {
    /// What ran, in words (the command, or the folder and op).
    pub workload: String,
    /// The configuration.
    pub config: GridConfig,
    /// Cores available.
    pub cores: usize,
    /// Row by row, as [`GridConfig::cells`].
    pub cells: Vec<GridCell>,
    /// The cell speedups are relative to: the fewest processes, then the fewest threads.
    pub baseline: (usize, usize),
    /// The fastest cell: the highest speedup.
    pub best: (usize, usize),
    /// Noise warnings (high CV, load average).
    pub warnings: Vec<String>,
    /// Start of the grid (RFC 3339, UTC).
    pub date: String,
    /// Wall time of the whole grid.
    pub total_s: f64,
    /// 1-minute load average before and after.
    pub load_before: Option<f64>,
    /// The same just after.
    pub load_after: Option<f64>,
}

impl GridResult {
    /// A cell by its processes and threads.
    pub fn cell(&self, procs: usize, threads: usize) -> Option<&GridCell> {
        self.cells
            .iter()
            .find(|c| c.procs == procs && c.threads == threads)
    }

    /// One sentence: the best cell, its speedup and where oversubscription costs.
    pub fn verdict(&self) -> String {
        let Some(b) = self.cell(self.best.0, self.best.1) else {
            return "nothing measured".into();
        };
        let mut s = format!(
            "best: {} process{} × {} thread{} ({} on {} cores): {:.2}x [{:.2}, {:.2}] over {}×{}",
            b.procs,
            if b.procs == 1 { "" } else { "es" },
            b.threads,
            if b.threads == 1 { "" } else { "s" },
            b.procs * b.threads,
            self.cores,
            b.speedup,
            b.speedup_ci.0,
            b.speedup_ci.1,
            self.baseline.0,
            self.baseline.1
        );
        // Cells the best is not told apart from: their intervals overlap its interval.
        let close = self
            .cells
            .iter()
            .filter(|c| (c.procs, c.threads) != self.best)
            .filter(|c| c.speedup_ci.1 >= b.speedup_ci.0 && c.speedup_ci.0 <= b.speedup_ci.1)
            .count();
        if close > 0 {
            s += &format!(
                "; {close} other cell{} within its interval (not told apart)",
                if close == 1 { " is" } else { "s are" }
            );
        }
        // The worst oversubscribed cell against the best cell.
        if let Some(w) = self
            .cells
            .iter()
            .filter(|c| c.oversubscribed)
            .max_by(|a, b| a.median_s.total_cmp(&b.median_s))
        {
            s += &format!(
                "; oversubscribed cells reach {:.2}x slower than the best ({}×{})",
                w.median_s / b.median_s.max(1e-12),
                w.procs,
                w.threads
            );
        }
        s
    }

    /// The table as CSV: one row per cell.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "procs,threads,procs_x_threads,median_s,median_ci_lo_s,median_ci_hi_s,speedup,speedup_ci_lo,speedup_ci_hi,cv,oversubscribed,runs\n",
        );
        for c in &self.cells {
            s += &format!(
                "{},{},{},{:.6},{:.6},{:.6},{:.4},{:.4},{:.4},{:.4},{},{}\n",
                c.procs,
                c.threads,
                c.procs * c.threads,
                c.median_s,
                c.median_ci_s.0,
                c.median_ci_s.1,
                c.speedup,
                c.speedup_ci.0,
                c.speedup_ci.1,
                c.cv,
                c.oversubscribed,
                c.times_s.len()
            );
        }
        s
    }
}

/// Times every cell `cfg.warmup + cfg.repeats` times, round by round (each round starts one
/// cell further on, so no cell always runs first), and derives the figures. `ctl` counts
/// runs; a cancel kills the running processes.
pub fn run(
    launch: &Launch,
    workload: &str,
    cfg: &GridConfig,
    cores: usize,
    ctl: &Control,
) -> Result<GridResult, EngineError> {
    let cells = cfg.cells();
    let rounds = cfg.warmup + cfg.repeats;
    let t0 = Instant::now();
    ctl.begin(t0);
    ctl.set_runs_total(cells.len() * rounds);
    ctl.set_phase(Phase::Running);
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let load_before = inference::load_average();
    // times[cell] = (round, seconds) of the measured rounds.
    let mut times: Vec<Vec<(usize, f64)>> = vec![Vec::new(); cells.len()];
    let result = (|| {
        for round in 0..rounds {
            for k in 0..cells.len() {
                let i = (k + round) % cells.len();
                if ctl.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
                let (p, t) = cells[i];
                let wall = run_processes(&launch.processes(p, t), ctl)?;
                if round >= cfg.warmup {
                    times[i].push((round - cfg.warmup, wall.as_secs_f64()));
                }
                ctl.run_done();
            }
        }
        Ok(())
    })();
    ctl.finish(t0.elapsed());
    result?;
    Ok(derive(
        workload,
        cfg,
        cores,
        &times,
        date,
        t0.elapsed().as_secs_f64(),
        (load_before, inference::load_average()),
    ))
}

/// The figures of measured times (`times[cell]` = (round, seconds), cells as
/// [`GridConfig::cells`]).
pub fn derive(
    workload: &str,
    cfg: &GridConfig,
    cores: usize,
    times: &[Vec<(usize, f64)>],
    date: String,
    total_s: f64,
    load: (Option<f64>, Option<f64>),
) -> GridResult {
    let cells = cfg.cells();
    let base = 0; // the first cell: fewest processes, fewest threads
    let mut out = Vec::with_capacity(cells.len());
    let mut warnings = Vec::new();
    let mut noisy = Vec::new();
    for (i, &(p, t)) in cells.iter().enumerate() {
        let v: Vec<f64> = times[i].iter().map(|x| x.1).collect();
        let med = median(&v);
        let seed = 0x9e37_79b9 ^ ((p as u64) << 20) ^ t as u64;
        let ci = bootstrap_ci(&v, median, seed);
        let (speedup, lo, hi) = paired_ratio(&times[base], &times[i], seed ^ 1).unwrap_or((
            f64::NAN,
            f64::NAN,
            f64::NAN,
        ));
        let cv = coefficient_of_variation(&v);
        if cv > NOISY_CV {
            noisy.push(format!("{p}×{t} {:.0} %", cv * 100.0));
        }
        out.push(GridCell {
            procs: p,
            threads: t,
            times_s: v,
            median_s: med,
            median_ci_s: ci,
            speedup,
            speedup_ci: (lo, hi),
            cv,
            oversubscribed: p * t > cores,
        });
    }
    // One line for them all: a noisy machine can make every cell vary.
    if !noisy.is_empty() {
        warnings.push(format!(
            "times vary by more than {:.0} % (coefficient of variation) in {} of {} cells: {}",
            NOISY_CV * 100.0,
            noisy.len(),
            cells.len(),
            noisy.join(", ")
        ));
    }
    if let Some(l) = load.0.filter(|&l| l > cores as f64 / 2.0) {
        warnings.push(format!(
            "load average {l:.2} before the grid on {cores} cores: other programs were running"
        ));
    }
    if let Some(l) = load.1.filter(|&l| l > cores as f64 / 2.0) {
        warnings.push(format!(
            "load average {l:.2} after the grid on {cores} cores (the grid's own processes count \
             in it)"
        ));
    }
    let best = out
        .iter()
        .filter(|c| c.speedup.is_finite())
        .max_by(|a, b| a.speedup.total_cmp(&b.speedup))
        .map(|c| (c.procs, c.threads))
        .unwrap_or(cells[base]);
    GridResult {
        workload: workload.to_string(),
        config: cfg.clone(),
        cores,
        baseline: cells[base],
        best,
        cells: out,
        warnings,
        date,
        total_s,
        load_before: load.0,
        load_after: load.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_cells() {
        let g = GridConfig::parse("2,1", "1-3", 3, 1).unwrap();
        assert_eq!(g.procs, [1, 2]);
        assert_eq!(g.cells(), [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]);
        assert!(GridConfig::parse("0", "1", 3, 1).is_err());
        assert!(GridConfig::parse("1", "x", 3, 1).is_err());
        assert!(GridConfig::parse("1", "1", 0, 1).is_err());
    }

    #[test]
    fn launches_fill_their_placeholders() {
        let l = Launch::Shell("run --procs {procs} -t {threads} -n {workers}".into());
        assert_eq!(
            l.processes(3, 2),
            [Process::Shell("run --procs 3 -t 2 -n 6".into())]
        );
        let l = Launch::Split(
            [
                "prog",
                "--shard",
                "{proc}/{procs}",
                "--workers",
                "{threads}",
            ]
            .iter()
            .map(OsString::from)
            .collect(),
        );
        let ps = l.processes(2, 4);
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[1].display(), "prog --shard 1/2 --workers 4");
    }

    /// Known times: a cell twice as fast in every round has speedup 2 with a tight interval,
    /// the oversubscribed cells are flagged, the best is the fastest, a noisy cell warns.
    #[test]
    fn derives_known_figures() {
        let cfg = GridConfig::parse("1,2", "1,2", 5, 0).unwrap();
        let per_round = |base: f64, jitter: f64| -> Vec<(usize, f64)> {
            (0..5)
                .map(|r| (r, base * (1.0 + jitter * (r as f64 - 2.0))))
                .collect()
        };
        let times = vec![
            per_round(1.0, 0.01),  // 1×1
            per_round(0.5, 0.01),  // 1×2: 2x in every round
            per_round(0.52, 0.01), // 2×1
            per_round(0.8, 0.2),   // 2×2: oversubscribed and noisy
        ];
        let g = derive("test", &cfg, 2, &times, "now".into(), 1.0, (None, None));
        let c = g.cell(1, 2).unwrap();
        assert!((c.speedup - 2.0).abs() < 1e-9, "{}", c.speedup);
        assert!((c.speedup_ci.0 - 2.0).abs() < 1e-9 && (c.speedup_ci.1 - 2.0).abs() < 1e-9);
        assert!(g.cell(2, 2).unwrap().oversubscribed);
        assert!(!g.cell(2, 1).unwrap().oversubscribed);
        assert_eq!(g.best, (1, 2));
        assert_eq!(g.baseline, (1, 1));
        // One line names the noisy cell, and only it.
        assert_eq!(g.warnings.len(), 1, "{:?}", g.warnings);
        assert!(
            g.warnings[0].contains("in 1 of 4 cells: 2×2 "),
            "{:?}",
            g.warnings
        );
        assert!(g.verdict().contains("2.00x"), "{}", g.verdict());
        assert!(g.verdict().contains("oversubscribed"), "{}", g.verdict());
        assert_eq!(g.to_csv().lines().count(), 5);
    }

    /// A real run: `sh -c true`-like commands through both launches count their runs and
    /// give finite figures; a failing command names itself.
    #[test]
    fn runs_processes() {
        let cfg = GridConfig::parse("1,2", "1", 2, 1).unwrap();
        let ctl = Control::new();
        let g = run(
            &Launch::Shell("test {procs} -ge 1".into()),
            "true",
            &cfg,
            2,
            &ctl,
        )
        .unwrap();
        assert_eq!(ctl.progress().runs_done, 6);
        assert!(
            g.cells
                .iter()
                .all(|c| c.times_s.len() == 2 && c.median_s > 0.0)
        );
        let split = Launch::Split(vec!["sh".into(), "-c".into(), "exit {proc}".into()]);
        let e = run(
            &split,
            "x",
            &GridConfig::parse("2", "1", 1, 0).unwrap(),
            2,
            &ctl,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exit 1"), "{e}");
    }
}
