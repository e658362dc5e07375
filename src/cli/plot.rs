//! `tessera plot SWEEP.json... -o CHART.png`: saved sweeps on one chart, without running
//! anything again: the seed's Python program (`bench --cmd`) beside `tessera batch`
//! (`bench --dir`), or yesterday's sweep beside today's.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{check_target, report_error};
use crate::plots::{SavedSweep, compare_chart, save_png};
use tessera_engine::EngineError;

#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// Sweeps saved by `tessera bench --json` or the lab's Save JSON (one or more), or one
    /// processes x threads grid saved by `tessera bench --procs --threads --json` (its heat
    /// map).
    #[arg(required = true, value_name = "SWEEP.json")]
    pub sweeps: Vec<PathBuf>,
    /// The PNG to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Legend names, in the order of the sweeps (default: from each sweep's workload).
    #[arg(long, value_name = "NAME")]
    pub label: Vec<String>,
    /// The chart's title.
    #[arg(long, default_value = "Scaling compared")]
    pub title: String,
}

/// Reads the sweeps, draws them and writes the PNG.
pub fn run(args: &PlotArgs) -> Result<(), EngineError> {
    if args.label.len() > args.sweeps.len() {
        return Err(EngineError::InvalidParam(format!(
            "{} --label for {} sweeps",
            args.label.len(),
            args.sweeps.len()
        )));
    }
    let inputs: Vec<&std::path::Path> = args.sweeps.iter().map(PathBuf::as_path).collect();
    check_target("--output", &args.output, &inputs, &[])?;
    let docs = args
        .sweeps
        .iter()
        .map(|p| super::read_json(p))
        .collect::<Result<Vec<_>, _>>()?;
    // A processes x threads grid saved by `bench --procs --threads --json`: its heat map.
    if let [v] = &docs[..]
        && v.get("grid").is_some()
    {
        let p = &args.sweeps[0];
        let g: tessera_engine::sweep::grid::GridResult = serde_json::from_value(v["grid"].clone())
            .map_err(|e| EngineError::Input {
                path: p.clone(),
                reason: format!("not a saved grid: {e}"),
            })?;
        let img = crate::plots::grid_heatmap(&g).map_err(|reason| EngineError::Output {
            path: args.output.clone(),
            reason,
        })?;
        save_png(&img, &args.output)?;
        crate::outln!("wrote {}", args.output.display());
        return Ok(());
    }
    let mut sweeps = Vec::with_capacity(docs.len());
    for (i, (p, v)) in args.sweeps.iter().zip(&docs).enumerate() {
        let mut s = SavedSweep::from_json(v).map_err(|reason| EngineError::Input {
            path: p.clone(),
            reason,
        })?;
        if let Some(l) = args.label.get(i) {
            s.label = l.clone();
        }
        sweeps.push(s);
    }
    let img = compare_chart(&sweeps, &args.title).map_err(|reason| EngineError::Output {
        path: args.output.clone(),
        reason,
    })?;
    save_png(&img, &args.output)?;
    crate::outln!("wrote {}", args.output.display());
    Ok(())
}

pub fn execute(args: &PlotArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(&e),
    }
}
