//! `tessera tune`: the best parameters for a folder, by grid search against ground truth.
//!
//! ```text
//! tessera tune DIR --ground-truth GT_DIR --op sauvola \
//!     --grid block-size=11..101:10,k=0.1..0.5:0.05 [--metric f-measure] \
//!     [--table table.csv|table.json] [--heatmap heat.png] [--json]
//! ```
//!
//! Every combination runs on every image on N workers; the best by the mean of the metric is
//! printed with the command that reproduces it. Ctrl-C cancels (nothing is written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;

use super::{EXIT_FAILURE, check_target, report_error};
use tessera_engine::io::{DecodeLimits, write_atomic};
use tessera_engine::metrics::{EvalOptions, Like, Metric};
use tessera_engine::ops::{Anchor, OpKind, OpSettings, ThresholdType};
use tessera_engine::tune::{self, TuneConfig, TuneReport, parse_grid};
use tessera_engine::{Control, EngineError};

#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// The folder of images (an image file works too).
    pub input: PathBuf,
    /// The folder of ground truths: each image's is the file with the same relative path and
    /// stem, any image extension. Images without one are listed and left out.
    #[arg(long, value_name = "DIR")]
    pub ground_truth: PathBuf,
    /// The methods to search, comma-separated (sauvola,niblack,otsu); each varies the grid
    /// parameters it uses.
    #[arg(long, value_delimiter = ',', required = true, value_name = "NAMES")]
    pub op: Vec<OpKind>,
    /// Whose definition of the methods (as `tessera run --like`); default: each method's own.
    #[arg(long, value_name = "IMPL")]
    pub like: Option<Anchor>,
    /// Threshold type of the methods: binary (ink black, paper white: DIBCO's convention) or
    /// binary-inv.
    #[arg(long = "type", default_value = "binary")]
    pub kind: ThresholdType,
    /// The grid: name=a..b:step (both ends included), name=v1/v2/v3 or name=v, comma-separated;
    /// names: block-size, radius, k, r, c, t, contrast, classes, thresh.
    #[arg(long, value_name = "GRID", default_value = "")]
    pub grid: String,
    /// The metric to rank by: f-measure, precision, recall, accuracy, psnr, nrm, mcc, drd
    /// (lower is better for nrm and drd).
    #[arg(long, default_value = "f-measure")]
    pub metric: Metric,
    #[command(flatten)]
    pub fg: super::eval::MetricArgs,
    /// Whose metric definitions: dibco or doxa (see `tessera eval`).
    #[arg(long, default_value = "dibco", value_name = "dibco|doxa")]
    pub metrics_like: Like,
    /// Worker threads, 1..=256 (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Search sub-folders too.
    #[arg(short, long)]
    pub recursive: bool,
    /// Write every combination's means as CSV (.csv) or JSON (.json).
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// Write a heat map PNG of the best method's scores over its first two grid parameters.
    #[arg(long, value_name = "FILE")]
    pub heatmap: Option<PathBuf>,
    /// How many of the best rows to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print the whole report as one JSON object on stdout instead of the text.
    #[arg(long)]
    pub json: bool,
}

fn usage(m: String) -> EngineError {
    EngineError::InvalidParam(m)
}

/// The validated search.
pub fn config(args: &TuneArgs) -> Result<(TuneConfig, Vec<String>), EngineError> {
    let grid = if args.grid.trim().is_empty() {
        Vec::new()
    } else {
        parse_grid(&args.grid).map_err(usage)?
    };
    let workers = super::eval::workers(args.workers)?;
    let mut methods = Vec::new();
    for &op in &args.op {
        let s = OpSettings {
            op,
            kind: args.kind,
            like: args.like.filter(|a| op.anchors().contains(a)),
            ..OpSettings::default()
        };
        if op == OpKind::Gray
            || !matches!(args.kind, ThresholdType::Binary | ThresholdType::BinaryInv)
        {
            return Err(usage(format!(
                "{op} with --type {} makes no mask to judge; tune binarizations",
                args.kind
            )));
        }
        s.to_op_strict()?;
        methods.push(s);
    }
    if let Some(a) = args.like
        && !args.op.iter().any(|op| op.anchors().contains(&a))
    {
        return Err(usage(format!("no method searched is defined like {a}")));
    }
    for (flag, path) in [("--table", &args.table), ("--heatmap", &args.heatmap)] {
        if let Some(p) = path {
            check_target(flag, p, &[&args.input, &args.ground_truth], &[])?;
        }
    }
    if let (Some(t), Some(h)) = (&args.table, &args.heatmap) {
        check_target("--heatmap", h, &[], &[("--table", t)])?;
    }
    if let Some(t) = &args.table {
        let ext = t.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "csv" | "json") {
            return Err(usage(format!(
                "--table {}: give a .csv or .json file",
                t.display()
            )));
        }
    }
    if let Some(h) = &args.heatmap
        && h.extension().and_then(|e| e.to_str()) != Some("png")
    {
        return Err(usage(format!(
            "--heatmap {}: give a .png file",
            h.display()
        )));
    }
    let (pairs, missing) = tune::find_pairs(&args.input, &args.ground_truth, args.recursive)?;
    let cfg = TuneConfig {
        pairs,
        methods,
        grid,
        eval: EvalOptions {
            foreground: args.fg.foreground,
            like: args.metrics_like,
        },
        metric: args.metric,
        workers,
        limits: DecodeLimits::default(),
    };
    tune::candidates(&cfg)?;
    Ok((cfg, missing))
}

pub fn execute(args: &TuneArgs) -> ExitCode {
    let (cfg, missing) = match config(args) {
        Ok(c) => c,
        Err(e) => return report_error(&e),
    };
    for m in &missing {
        eprintln!("tessera: not searched: {m}");
    }
    let ctl = Arc::new(Control::new());
    super::signals::install(&ctl, "stopping the search");
    let report = std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let ctl2 = &ctl;
        let watcher = (!args.json).then(|| s.spawn(move || watch(ctl2, done_rx)));
        let r = tune::run(&cfg, &ctl);
        drop(done_tx);
        if let Some(w) = watcher {
            let _ = w.join();
        }
        r
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => return report_error(&e),
    };
    if let Err(e) = write_outputs(args, &report) {
        return report_error(&e);
    }
    if args.json {
        match serde_json::to_string(&report.to_json()) {
            Ok(s) => crate::outln!("{s}"),
            Err(e) => {
                eprintln!("tessera: error: cannot write the report as JSON: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    } else {
        print_report(args, &report);
    }
    let failed = report
        .rows
        .iter()
        .any(|r| r.per_image.iter().any(|p| p.is_err()));
    if failed {
        eprintln!("tessera: some runs failed; see the table's errors");
        return ExitCode::from(EXIT_FAILURE);
    }
    ExitCode::SUCCESS
}

/// A progress line every 2 s on stderr.
fn watch(ctl: &Control, done: mpsc::Receiver<()>) {
    let mut since = Duration::ZERO;
    let tick = Duration::from_millis(100);
    while let Err(mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(tick) {
        since += tick;
        if since >= Duration::from_secs(2) {
            since = Duration::ZERO;
            let (d, t) = ctl.runs();
            eprintln!("tessera: tune: {d}/{t} runs");
        }
    }
}

fn write_outputs(args: &TuneArgs, r: &TuneReport) -> Result<(), EngineError> {
    if let Some(t) = &args.table {
        let bytes = if t.extension().and_then(|e| e.to_str()) == Some("json") {
            serde_json::to_vec_pretty(&r.to_json()).map_err(|e| EngineError::Output {
                path: t.clone(),
                reason: e.to_string(),
            })?
        } else {
            r.to_csv().into_bytes()
        };
        write_atomic(t, &bytes)?;
    }
    if let Some(h) = &args.heatmap {
        let img = crate::plots::tune_heatmap(r).map_err(|reason| EngineError::Output {
            path: h.clone(),
            reason,
        })?;
        crate::plots::save_png(&img, h)?;
    }
    Ok(())
}

fn print_report(args: &TuneArgs, r: &TuneReport) {
    let m = r.metric;
    crate::outln!(
        "{} combinations x {} images on {} workers in {:.2} s; ranked by mean {} ({} foreground, {} definitions)",
        r.rows.len(),
        r.images.len(),
        r.workers,
        r.total.as_secs_f64(),
        m,
        r.eval.foreground,
        r.eval.like
    );
    crate::outln!(
        "{:>4}  {:<18} {:<34} {:>9} {:>8} {:>8} {:>11}",
        "rank",
        "method",
        "parameters",
        "F-meas %",
        "PSNR",
        "DRD",
        "compute ms"
    );
    for (i, row) in r.ranked().iter().take(args.top.max(1)).enumerate() {
        crate::outln!(
            "{:>4}  {:<18} {:<34} {:>9.2} {:>8.2} {:>8.3} {:>11.1}",
            i + 1,
            row.method,
            r.values_text(row, "(no grid parameter)"),
            row.mean(Metric::FMeasure),
            row.mean(Metric::Psnr),
            row.mean(Metric::Drd),
            row.compute.as_secs_f64() * 1e3
        );
    }
    let best = r.best();
    crate::outln!("best: {} (mean {} {:.4})", best.op, m, best.mean(m));
    crate::outln!(
        "run it: tessera batch IN_DIR -o OUT_DIR {}",
        best_flags(args, r)
    );
}

/// The flags that reproduce the best row with `tessera run` or `batch`.
pub fn best_flags(args: &TuneArgs, r: &TuneReport) -> String {
    let best = r.best();
    let mut s = format!("--op {}", best.method);
    if let Some(a) = args.like {
        s += &format!(" --like {a}");
    }
    if args.kind != ThresholdType::Binary {
        s += &format!(" --type {}", args.kind);
    }
    for (a, v) in r.grid.iter().zip(&best.values) {
        if let Some(v) = v {
            s += &format!(" --{} {v}", a.name);
        }
    }
    s
}
