//! `tessera plan INPUT_DIR --shards N -o PLAN_DIR`: list a folder once and write one slice
//! per shard, for `tessera batch --shard I/N --plan PLAN_DIR` on a job array (see
//! [`tessera_engine::batch::saved`]).
//!
//! Exit codes: 0 planned, 1 the plan folder cannot be written, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_OK, OpArgs, report_error};
use tessera_engine::EngineError;
use tessera_engine::batch::{BatchConfig, OutputFormat, saved};

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The folder of images the batch will process.
    pub input: PathBuf,
    /// The plan folder (created if missing): plan.json and slice-I-of-N.jsonl.
    #[arg(short, long, value_name = "PLAN_DIR")]
    pub output: PathBuf,
    /// How many shards (tasks of the job array).
    #[arg(long, value_name = "N")]
    pub shards: usize,
    /// The folder the batch will write its results to; needed only when it is INPUT_DIR
    /// itself (with --suffix) or lies inside it (names are planned as the batch would).
    #[arg(long, value_name = "OUTPUT_DIR")]
    pub results: Option<PathBuf>,
    /// The batch's operation: each shard checks that it runs the plan's.
    #[command(flatten)]
    pub op: OpArgs,
    /// Walk sub-folders too.
    #[arg(short, long)]
    pub recursive: bool,
    /// Only files matching this glob (as `batch --include`); may be repeated.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// The results' format, as `batch --format`.
    #[arg(long, value_parser = super::batch::parse_format, default_value = "png")]
    pub format: OutputFormat,
    /// The results' suffix, as `batch --suffix`.
    #[arg(long, default_value = "", value_name = "S")]
    pub suffix: String,
    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn execute(args: &PlanArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => report_error(&e),
    }
}

fn run(args: &PlanArgs) -> Result<(), EngineError> {
    args.op.op()?;
    if !args.input.is_dir() && !tessera_engine::batch::remote::is_url(&args.input) {
        return Err(EngineError::InvalidParam(format!(
            "{}: not a folder",
            args.input.display()
        )));
    }
    // Without --results, a folder of its own that no listing can contain.
    let results = args
        .results
        .clone()
        .unwrap_or_else(|| args.output.join("results-folder-not-given"));
    let cfg = BatchConfig {
        recursive: args.recursive,
        include: args.include.clone(),
        format: args.format,
        suffix: args.suffix.clone(),
        op: args.op.settings(),
        ..BatchConfig::new(&args.input, results)
    };
    let h = saved::write(&cfg, args.shards, &args.output)?;
    if !args.quiet {
        let sizes = h.slices.iter().map(|s| s.items);
        let (lo, hi) = (sizes.clone().min().unwrap_or(0), sizes.max().unwrap_or(0));
        crate::outln!(
            "{}: {} items ({}) in {} slices of {}{} items: {}",
            args.input.display(),
            h.listing.items,
            h.listing.hash,
            h.shards,
            lo,
            if hi > lo {
                format!("-{hi}")
            } else {
                String::new()
            },
            args.output.join(saved::PLAN_FILE).display()
        );
        crate::outln!("{}", h.settings.op);
    }
    Ok(())
}
