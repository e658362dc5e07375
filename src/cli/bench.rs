//! `tessera bench`: time an operation across worker counts and tile sizes (the scaling lab,
//! headless), print the derived table and write CSV, JSON and PNG charts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::{OpArgs, check_target, report_error};
use tessera_engine::batch::plan::{absolute, has_image_extension};
use tessera_engine::io::{DecodeLimits, ReadOptions, read_image_with};
use tessera_engine::pool::available_cores;
use tessera_engine::sweep::{
    self, ImageWorkload, Machine, Summary, SweepConfig, SweepResult, TABLE_COLUMNS, Workload,
    folder::FolderWorkload, report,
};
use tessera_engine::tile::TileSize;
use tessera_engine::{Control, EngineError};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The image to time (default: the embedded sample image).
    #[arg(conflicts_with = "dir")]
    pub input: Option<PathBuf>,
    /// Time a batch over the images of this folder instead of one image.
    #[arg(long, value_name = "FOLDER")]
    pub dir: Option<PathBuf>,
    /// Time any program instead, as whole processes: a shell command line where {workers}
    /// stands for the worker count of each configuration
    /// (`--cmd 'python batch.py --procs {workers}'`).
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["input", "dir"])]
    pub cmd: Option<String>,
    #[command(flatten)]
    pub op: OpArgs,
    /// Worker counts: a comma-separated list, ranges allowed (1,2,4 or 1-8)
    /// [default: 1 to twice the number of cores].
    #[arg(long, value_name = "LIST")]
    pub workers: Option<String>,
    /// Tile sizes: a comma-separated list of edges in pixels and/or "auto".
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "auto"
    )]
    pub tiles: Vec<TileSize>,
    /// Measured runs of each configuration.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Unmeasured warm-up runs of each configuration, before the measured ones.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Write the derived table (one row per configuration) as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write everything as JSON: machine, date, settings, the table and every raw run.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the charts as PNG files into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub png: Option<PathBuf>,
    /// Write the runs in hyperfine's JSON export format (one result per configuration).
    #[arg(long, value_name = "FILE")]
    pub hyperfine: Option<PathBuf>,
    /// Compare with a sweep saved before (--json FILE): per configuration, faster, slower or
    /// no change, with the probability.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Also measure the memory copy bandwidth (STREAM-like, 256 MiB) on each worker count and
    /// print the speedup a memory-bound op cannot pass (image workloads).
    #[arg(long)]
    pub bandwidth: bool,
    /// A processes x threads grid instead of a worker sweep: process counts (rows), e.g.
    /// 1-4. With --cmd, {procs} and {threads} are replaced in the command; with --dir,
    /// tessera splits the folder over that many `tessera batch --shard` processes.
    #[arg(long, value_name = "LIST", requires = "threads", conflicts_with_all = ["workers", "input", "hyperfine", "compare", "bandwidth"])]
    pub procs: Option<String>,
    /// Threads (workers) per process of the grid (columns), e.g. 1-4.
    #[arg(long, value_name = "LIST", requires = "procs")]
    pub threads: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl BenchArgs {
    /// The sweep configuration, validated.
    pub fn config(&self, cores: usize) -> Result<SweepConfig, EngineError> {
        let workers = match &self.workers {
            Some(s) => sweep::parse_worker_list(s)?,
            None => SweepConfig::default_workers(cores),
        };
        let cfg = SweepConfig {
            workers,
            tiles: self.tiles.clone(),
            repeats: self.repeats,
            warmup: self.warmup,
        };
        cfg.validate()?;
        Ok(cfg.normalized())
    }
}

/// Validates, loads the workload, runs the sweep (with a progress bar unless `quiet`),
/// writes the requested files and returns the result.
pub fn run(args: &BenchArgs) -> Result<(SweepResult, Summary), EngineError> {
    let cores = available_cores();
    let settings = args.op.settings();
    args.op.op()?;
    let cfg = args.config(cores)?;
    check_targets(args)?;
    if args.cmd.is_some() && cfg.tiles != [TileSize::Auto] {
        return Err(EngineError::InvalidParam(
            "--tiles does not apply to --cmd: a command is timed as a whole".into(),
        ));
    }
    let old = match &args.compare {
        Some(p) => {
            let v = super::read_json(p)?;
            Some(
                sweep::inference::run_times(&v).map_err(|reason| EngineError::Input {
                    path: p.clone(),
                    reason,
                })?,
            )
        }
        None => None,
    };
    let work: Box<dyn Workload> = match (&args.cmd, &args.dir, &args.input) {
        (Some(c), _, _) => Box::new(sweep::command::CommandWorkload::new(c.clone())?),
        (None, dir, input) => match (dir, input) {
            (Some(dir), _) => {
                let w = FolderWorkload::new(dir, false, &settings)?;
                super::signals::remove_on_stop(w.scratch_dir().to_path_buf());
                Box::new(w)
            }
            (None, Some(p)) => Box::new(ImageWorkload::new(
                p.display().to_string(),
                Arc::new(
                    read_image_with(
                        p,
                        &ReadOptions::new(DecodeLimits::default()).at(settings.read_depth()),
                    )?
                    .image,
                ),
                &settings,
            )?),
            (None, None) => Box::new(ImageWorkload::new(
                crate::assets::SAMPLE_NAME,
                Arc::new(crate::assets::sample_image()?),
                &settings,
            )?),
        },
    };
    let info = work.info();
    match (info.width, info.height) {
        _ if info.kind == "command" => {
            crate::outln!(
                "workload: the command `{}`, timed as whole processes",
                info.name
            )
        }
        (Some(w), Some(h)) => crate::outln!(
            "workload: {} ({w}x{h}, {:.2} MP), {}",
            info.name,
            info.megapixels,
            info.op_description
        ),
        _ => crate::outln!(
            "workload: folder {} ({} images, each written as PNG to a temporary folder), {}",
            info.name,
            info.images,
            info.op_description
        ),
    }
    let m = Machine::detect(cores);
    crate::outln!(
        "machine: {} cores, {}, {} {}",
        cores,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.os,
        m.arch
    );
    crate::outln!(
        "sweep: workers {} x tiles {}; {} warm-up and {} measured runs each, configurations \
         interleaved",
        join(cfg.workers.iter()),
        join(cfg.tiles.iter().map(|&t| t.to_string())),
        cfg.warmup,
        cfg.repeats
    );
    let over: Vec<usize> = cfg.workers.iter().copied().filter(|&w| w > cores).collect();
    if !over.is_empty() {
        eprintln!(
            "tessera: warning: {} workers exceed the {cores} cores of this machine: those \
             workers share cores (marked * in the table)",
            join(over.iter())
        );
    }

    let ctl = Arc::new(Control::new());
    super::signals::install(&ctl, "stopping after the current run");
    let ctl = &*ctl;
    let mut result = super::with_runs_bar(args.quiet, cfg.total_runs(), ctl, "sweep", || {
        sweep::run(work.as_ref(), &cfg, ctl)
    })?;
    let summary = sweep::summarize(&result);

    crate::out!("{}", format_table(&result, &summary));
    crate::out!(
        "{}",
        format_inference(&sweep::inference::infer(&result, &summary))
    );
    if args.bandwidth {
        result.bandwidth = Some(sweep::bandwidth::measure(
            &result.config.workers,
            sweep::bandwidth::DEFAULT_BYTES,
            3,
        )?);
        crate::out!("{}", bandwidth_lines(&result, &summary));
    }
    if let Some(old) = &old {
        let new: Vec<(usize, String, f64)> = result
            .measured()
            .map(|r| (r.workers, r.tile.clone(), r.wall_s))
            .collect();
        crate::out!("{}", format_changes(&sweep::inference::compare(old, &new)));
    }

    let mut wrote = Vec::new();
    if let Some(p) = &args.hyperfine {
        report::write_atomic(p, report::hyperfine_json(&result)?.as_bytes())?;
        wrote.push(p.display().to_string());
    }
    if let Some(p) = &args.csv {
        report::save_csv(&summary, p)?;
        wrote.push(p.display().to_string());
    }
    if let Some(p) = &args.json {
        report::save_json(&result, p)?;
        wrote.push(p.display().to_string());
    }
    if let Some(dir) = &args.png {
        for p in crate::plots::save_all(&result, &summary, dir)? {
            wrote.push(p.display().to_string());
        }
    }
    if !wrote.is_empty() {
        crate::outln!("wrote {}", wrote.join(", "));
    }
    Ok((result, summary))
}

/// Checks every file `bench` will write before any run: not an input (the image, or an image
/// of the folder), not a folder, in a folder that exists, and no two the same.
pub(super) fn check_targets(args: &BenchArgs) -> Result<(), EngineError> {
    for p in [&args.csv, &args.json, &args.hyperfine]
        .into_iter()
        .flatten()
    {
        if p.is_dir() {
            return Err(EngineError::InvalidParam(format!(
                "{} is a folder; give a file path",
                p.display()
            )));
        }
        if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty())
            && !d.is_dir()
        {
            return Err(EngineError::InvalidParam(format!(
                "cannot write {}: the folder {} does not exist",
                p.display(),
                d.display()
            )));
        }
    }
    if let Some(d) = &args.png
        && d.exists()
        && !d.is_dir()
    {
        return Err(EngineError::InvalidParam(format!(
            "--png {}: exists and is not a folder",
            d.display()
        )));
    }
    let charts: Vec<PathBuf> = args
        .png
        .iter()
        .flat_map(|d| {
            crate::plots::CHARTS
                .iter()
                .map(|c| d.join(format!("{c}.png")))
        })
        .collect();
    let mut targets: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Some(p) = &args.csv {
        targets.push(("--csv", p));
    }
    if let Some(p) = &args.json {
        targets.push(("--json", p));
    }
    if let Some(p) = &args.hyperfine {
        targets.push(("--hyperfine", p));
    }
    for c in &charts {
        targets.push(("--png", c));
    }
    let mut inputs: Vec<&std::path::Path> = args.input.iter().map(PathBuf::as_path).collect();
    inputs.extend(args.compare.as_deref());
    let folder = args.dir.as_deref().map(absolute);
    for (i, (flag, path)) in targets.iter().enumerate() {
        check_target(flag, path, &inputs, &targets[..i])?;
        let abs = absolute(path);
        if let Some(f) = &folder
            && abs.parent() == Some(f.as_path())
            && has_image_extension(&abs)
        {
            return Err(EngineError::InvalidParam(format!(
                "{flag} {}: that is an image of the folder being timed; it would be overwritten",
                path.display()
            )));
        }
    }
    Ok(())
}

pub(super) fn join<T: ToString>(it: impl Iterator<Item = T>) -> String {
    it.map(|t| t.to_string()).collect::<Vec<_>>().join(",")
}

/// The table `tessera bench` prints: one line per configuration, then the baselines, the
/// Amdahl fits and the pool creation times.
pub fn format_table(result: &SweepResult, s: &Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    // Column widths of the printed table, in the order of TABLE_COLUMNS.
    const WIDTHS: [usize; 10] = [8, 6, 10, 10, 10, 8, 10, 8, 6, 6];
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .zip(WIDTHS)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(out, "\n{}", line(&mut TABLE_COLUMNS.iter().map(|c| c.0)));
    for r in &s.rows {
        let cells = r.table_cells();
        let _ = writeln!(out, "{}", line(&mut cells.iter().map(String::as_str)));
    }
    let _ = writeln!(
        out,
        "\n{} cores. Medians of {} runs per configuration; speedup = baseline median / median, \
         measured as ratios within this one run. par = busy/wall, imbal = busiest worker / mean.",
        s.cores, result.config.repeats
    );
    if s.oversubscribed() {
        let _ = writeln!(out, "* more workers than cores.");
    }
    for b in &s.baselines {
        if b.workers != 1 {
            let _ = writeln!(
                out,
                "tile {}: no 1-worker run, so speedup is relative to {} workers",
                b.tile, b.workers
            );
        }
    }
    for f in &s.amdahl {
        let _ = writeln!(
            out,
            "Amdahl fit, tile {} (workers {}): serial fraction {:.3}, so at most {} speedup",
            f.tile,
            join(f.fitted_workers.iter()),
            f.serial_fraction,
            if f.max_speedup.is_finite() {
                format!("{:.1}x", f.max_speedup)
            } else {
                "unbounded".into()
            }
        );
    }
    if s.amdahl.is_empty() {
        let _ = writeln!(
            out,
            "Amdahl fit: needs two worker counts within the {} cores",
            s.cores
        );
    }
    let _ = writeln!(
        out,
        "pools built (apart from the runs): {}",
        result
            .pools
            .iter()
            .map(|p| format!("{} in {:.2} ms", p.workers, p.created_s * 1e3))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// The memory copy bandwidth per worker count and the speedup ceiling it sets.
fn bandwidth_lines(result: &SweepResult, summary: &Summary) -> String {
    use std::fmt::Write;
    let bytes_per_pixel = result.workload.bytes_per_pixel;
    let bws = result.bandwidth.clone().unwrap_or_default();
    let mut out =
        String::from("\nMemory copy bandwidth (STREAM-like copy of 256 MiB, best of 3):\n");
    let one = summary
        .rows
        .iter()
        .find(|r| r.workers == 1 && r.runs > 0)
        .map(|r| r.mp_per_s);
    for b in &bws {
        let _ = write!(out, "  {:>3} workers: {:.1} GB/s", b.workers, b.gb_per_s);
        if let (Some(bpp), Some(mp1)) = (bytes_per_pixel, one) {
            let _ = write!(
                out,
                "; an op moving {bpp:.0} bytes/pixel cannot pass {:.1}x here",
                sweep::bandwidth::ceiling_speedup(b, bpp, mp1)
            );
        }
        out.push('\n');
    }
    out
}

/// The intervals, models and warnings `tessera bench` prints after the table.
pub fn format_inference(inf: &sweep::inference::Inference) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "\nVerdict: {}", inf.verdict);
    let _ = writeln!(out, "95 % intervals (bootstrap; speedups paired by round):");
    for r in &inf.rows {
        let _ = writeln!(
            out,
            "  {:>3} workers, tile {:<5} median {:>9.2} ms [{:.2}, {:.2}]  speedup {:.2}x [{:.2}, {:.2}]  CV {:.1} %{}",
            r.workers,
            r.tile,
            r.median_s * 1e3,
            r.median_ci_s.0 * 1e3,
            r.median_ci_s.1 * 1e3,
            r.speedup,
            r.speedup_ci.0,
            r.speedup_ci.1,
            r.cv * 100.0,
            if r.outliers > 0 {
                format!(", {} outlier run(s)", r.outliers)
            } else {
                String::new()
            }
        );
    }
    for m in &inf.models {
        let f = |v: Option<f64>, d: usize| v.map_or("–".into(), |v| format!("{v:.d$}"));
        let kf: Vec<String> = m
            .karp_flatt
            .iter()
            .map(|(n, e)| format!("{n}: {e:.3}"))
            .collect();
        let _ = writeln!(
            out,
            "Models, tile {}: USL contention {} coherency {}; Gustafson alpha {}; Karp-Flatt {}; \
             {}; predicted speedup {} at 2x and {} at 4x the cores",
            m.tile,
            f(m.usl_sigma, 4),
            f(m.usl_kappa, 5),
            f(m.gustafson_alpha, 3),
            if kf.is_empty() {
                "–".into()
            } else {
                kf.join(", ")
            },
            m.best_workers
                .map_or("no peak predicted".into(), |b| format!(
                    "best predicted {b} workers"
                )),
            f(m.speedup_2x_cores, 2),
            f(m.speedup_4x_cores, 2),
        );
    }
    if let (Some(a), Some(b)) = inf.load {
        let _ = writeln!(out, "load average: {a:.2} before, {b:.2} after");
    }
    for w in &inf.warnings {
        let _ = writeln!(out, "noise: {w}");
    }
    out
}

/// The comparison with a saved sweep.
pub fn format_changes(changes: &[sweep::inference::Change]) -> String {
    use std::fmt::Write;
    let mut out = String::from("\nAgainst the saved sweep (new / old median, 95 % interval):\n");
    if changes.is_empty() {
        out += "  no configuration in common\n";
    }
    for c in changes {
        let _ = writeln!(
            out,
            "  {:>3} workers, tile {:<5} {:>9.2} -> {:>9.2} ms  x{:.3} [{:.3}, {:.3}]  {} (p faster {:.2})",
            c.workers,
            c.tile,
            c.old_s * 1e3,
            c.new_s * 1e3,
            c.ratio,
            c.ratio_ci.0,
            c.ratio_ci.1,
            c.verdict,
            c.p_faster
        );
    }
    out
}

pub fn execute(args: &BenchArgs) -> ExitCode {
    if args.procs.is_some() {
        return match super::grid::run(args) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => report_error(&e),
        };
    }
    match run(args) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => report_error(&e),
    }
}
