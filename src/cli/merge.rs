//! `tessera merge OUT/reports --expect N [-o report.json]`: the reports of a sharded batch
//! (`tessera batch --shard I/N`) into one, refusing (exit 1, saying which) unless every shard
//! is there, complete, over the same listing, with every item once.
//!
//! Exit codes: 0 merged and every file written or skipped; 1 refused, or merged with failed
//! files (the merged report is written); 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_FAILURE, EXIT_OK, check_target, report_error};
use tessera_engine::EngineError;
use tessera_engine::batch::merge;

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The folder of shard reports (`OUTPUT_DIR/reports` of `tessera batch --shard`).
    pub reports: PathBuf,
    /// How many shards the batch was split into.
    #[arg(long, value_name = "N")]
    pub expect: usize,
    /// Write the merged report here (JSON, atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn execute(args: &MergeArgs) -> ExitCode {
    match run(args) {
        Ok(all_ok) => ExitCode::from(if all_ok { EXIT_OK } else { EXIT_FAILURE }),
        Err(e) => report_error(&e),
    }
}

/// Merges; `Ok(false)` when merged with failed files.
fn run(args: &MergeArgs) -> Result<bool, EngineError> {
    if args.expect == 0 || args.expect > tessera_engine::batch::shard::MAX_SHARDS {
        return Err(EngineError::InvalidParam(format!(
            "--expect must be 1..={}, got {}",
            tessera_engine::batch::shard::MAX_SHARDS,
            args.expect
        )));
    }
    // Reports in a bucket are downloaded to a private folder first.
    let fetched = fetch_reports(&args.reports)?;
    let folder = fetched
        .as_ref()
        .map_or(args.reports.as_path(), |d| d.path());
    if !folder.is_dir() {
        return Err(EngineError::InvalidParam(format!(
            "{}: not a folder of shard reports",
            args.reports.display()
        )));
    }
    let files = merge::report_files(folder).map_err(|e| EngineError::Input {
        path: args.reports.clone(),
        reason: tessera_engine::io::io_reason(&e),
    })?;
    if let Some(o) = &args.output {
        let inputs: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
        check_target("--output", o, &inputs, &[])?;
    }
    let mut reports = Vec::with_capacity(files.len());
    for p in &files {
        reports.push((p.clone(), super::read_json(p)?));
    }
    let merged = merge::merge(&reports, args.expect).map_err(|problems| EngineError::Input {
        path: args.reports.clone(),
        reason: format!("refusing to merge: {}", problems.join("; ")),
    })?;
    let count = |k: &str| merged[k].as_u64().unwrap_or(0);
    if !args.quiet {
        crate::outln!(
            "merged {} shards: {} found: {} written, {} skipped, {} failed",
            args.expect,
            count("found"),
            count("written"),
            count("skipped"),
            count("failed")
        );
    }
    if let Some(o) = &args.output {
        let json = serde_json::to_vec_pretty(&merged)
            .map_err(|e| EngineError::Internal(format!("JSON: {e}")))?;
        super::write_out(o, json)?;
        if !args.quiet {
            crate::outln!("wrote {}", o.display());
        }
    }
    Ok(count("failed") == 0 && count("not_processed") == 0)
}

/// An `s3://` folder of reports downloaded into a temporary folder; `None` for a local one.
fn fetch_reports(reports: &std::path::Path) -> Result<Option<tempfile::TempDir>, EngineError> {
    if !tessera_engine::batch::remote::is_url(reports) {
        return Ok(None);
    }
    #[cfg(feature = "s3")]
    {
        let dir = tempfile::tempdir().map_err(|e| EngineError::Output {
            path: std::env::temp_dir(),
            reason: tessera_engine::io::io_reason(&e),
        })?;
        tessera_engine::batch::remote::download_all(reports, ".json", dir.path())?;
        Ok(Some(dir))
    }
    #[cfg(not(feature = "s3"))]
    Err(EngineError::InvalidParam(format!(
        "{}: s3:// folders need tessera built with --features s3",
        reports.display()
    )))
}
