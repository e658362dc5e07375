//! `tessera eval`: how good a binarization is against its ground truth (the DIBCO metrics).
//!
//! ```text
//! tessera eval result.png truth.png [--json] [--foreground black|white] [--like dibco|doxa]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::{EXIT_FAILURE, check_target, report_error};
use tessera_engine::EngineError;
use tessera_engine::io::{DecodeLimits, write_atomic};
use tessera_engine::metrics::{
    EvalOptions, Foreground, Like, Metrics, error_overlay, evaluate, read_gray,
};
use tessera_engine::pool::{MAX_WORKERS, WorkerPool, available_cores};

/// The metrics options shared by `eval`, `run`, `batch` and `tune`.
#[derive(Debug, Clone, Args)]
pub struct MetricArgs {
    /// Which value is the foreground (text, objects): black (below 128; DIBCO's and doxa's
    /// convention) or white (128 and above).
    #[arg(long, default_value = "black", value_name = "black|white")]
    pub foreground: Foreground,
}

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The binarization to judge (8-bit gray; a colour image is converted to gray).
    pub result: PathBuf,
    /// Its ground truth, the same size.
    pub ground_truth: PathBuf,
    #[command(flatten)]
    pub metric: MetricArgs,
    /// Whose definitions: dibco (DRD as DIBCO defines it, images binarized at 128) or doxa
    /// (doxapy 0.9.2's calculate_performance exactly, its DRD quirks included).
    #[arg(long, default_value = "dibco", value_name = "dibco|doxa")]
    pub like: Like,
    /// Also write the errors as a colour PNG: false positives red, false negatives blue, over
    /// --original (or the ground truth) dimmed.
    #[arg(long, value_name = "FILE")]
    pub overlay: Option<PathBuf>,
    /// The original image the overlay is drawn over.
    #[arg(long, value_name = "IMAGE", requires = "overlay")]
    pub original: Option<PathBuf>,
    /// Worker threads, 1..=256 (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `tessera eval --json` prints: the two paths and every metric.
#[derive(Debug, Serialize)]
struct EvalReport<'a> {
    result: &'a std::path::Path,
    ground_truth: &'a std::path::Path,
    width: u32,
    height: u32,
    #[serde(flatten)]
    metrics: &'a Metrics,
}

pub fn execute(args: &EvalArgs) -> ExitCode {
    match eval(args) {
        Ok((m, (width, height))) => {
            if args.json {
                let report = EvalReport {
                    result: &args.result,
                    ground_truth: &args.ground_truth,
                    width,
                    height,
                    metrics: &m,
                };
                match serde_json::to_string(&report) {
                    Ok(s) => crate::outln!("{s}"),
                    Err(e) => {
                        eprintln!("tessera: error: cannot write the report as JSON: {e}");
                        return ExitCode::from(EXIT_FAILURE);
                    }
                }
            } else {
                print_metrics(&args.result, &m);
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_error(&e),
    }
}

/// The text report of one evaluation.
pub fn print_metrics(result: &std::path::Path, m: &Metrics) {
    crate::outln!(
        "{} against the ground truth ({} foreground, {} definitions):",
        result.display(),
        m.foreground,
        m.like
    );
    crate::outln!("  {}", m.summary_line());
    let c = m.confusion;
    crate::outln!(
        "  TP {}, FP {}, FN {}, TN {}; accuracy {:.2} %; {} non-uniform 8x8 blocks",
        c.tp,
        c.fp,
        c.fn_,
        c.tn,
        m.accuracy,
        m.nubn
    );
    crate::outln!(
        "  pseudo-recall {:.2} % (of the ground truth's skeleton; DIBCO 2010's pseudo-F)",
        m.pseudo_recall.unwrap_or(f64::NAN)
    );
}

/// A checked worker count (default: every core).
pub fn workers(w: Option<usize>) -> Result<usize, EngineError> {
    let w = w.unwrap_or_else(available_cores);
    if w == 0 || w > MAX_WORKERS {
        return Err(EngineError::InvalidParam(format!(
            "--workers must be between 1 and {MAX_WORKERS}, got {w}"
        )));
    }
    Ok(w)
}

fn eval(args: &EvalArgs) -> Result<(Metrics, (u32, u32)), EngineError> {
    let workers = workers(args.workers)?;
    if let Some(o) = &args.overlay {
        let mut inputs = vec![args.result.as_path(), args.ground_truth.as_path()];
        inputs.extend(args.original.as_deref());
        check_target("--overlay", o, &inputs, &[])?;
        tessera_engine::io::output_format(o)?;
    }
    let limits = DecodeLimits::default();
    let result = read_gray(&args.result, limits)?;
    let truth = read_gray(&args.ground_truth, limits)?;
    let opts = EvalOptions {
        foreground: args.metric.foreground,
        like: args.like,
    };
    let pool = WorkerPool::shared(workers)?;
    // A size mismatch is bad input (exit 1), not a usage error.
    let m = pool
        .install(|| evaluate(&result, &truth, &opts))
        .map_err(|e| EngineError::Input {
            path: args.result.clone(),
            reason: e.to_string(),
        })?;
    if let Some(o) = &args.overlay {
        let back = match &args.original {
            Some(p) => read_gray(p, limits)?,
            None => truth.clone(),
        };
        let rgb = pool.install(|| error_overlay(&result, &truth, &back, &opts))?;
        let format = tessera_engine::io::output_format(o)?;
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(rgb)
            .write_to(&mut bytes, format)
            .map_err(|e| EngineError::Output {
                path: o.clone(),
                reason: e.to_string(),
            })?;
        write_atomic(o, bytes.get_ref())?;
    }
    Ok((m, truth.dimensions()))
}
