//! Command-line parsing (clap) into validated engine configs, and the headless subcommands.
//!
//! Exit codes: 0 success, 1 failure (some input or output failed), 2 usage error.

pub mod batch;
pub mod bench;
pub mod out;
pub mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use tessera_engine::ops::{OpKind, OpSettings, ThresholdType};
use tessera_engine::pool::available_cores;
use tessera_engine::tile::TileSize;
use tessera_engine::{EngineError, JobConfig};

pub use crate::exit::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Image-processing workbench: OpenCV-exact grayscale and thresholding on N workers",
    long_about = "Image-processing workbench: OpenCV-exact grayscale and thresholding, tiled \
                  across a chosen number of workers.\n\nWithout a subcommand it opens the \
                  window (with IMAGE if given). The subcommands run the same engine headless."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// An image to open in the window.
    pub image: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process one image and write the result.
    Run(run::RunArgs),
    /// Process every image of a folder into another folder.
    Batch(batch::BatchArgs),
    /// Time an operation across worker counts and tile sizes.
    Bench(bench::BenchArgs),
}

/// The operation options shared by `run`, `batch` and `bench`.
#[derive(Debug, Clone, Args)]
pub struct OpArgs {
    /// Operation: gray, threshold, otsu, triangle, adaptive-mean, adaptive-gaussian.
    #[arg(long, default_value = "adaptive-gaussian")]
    pub op: OpKind,
    /// Threshold type: binary, binary-inv, trunc, tozero, tozero-inv (adaptive ops: binary,
    /// binary-inv).
    #[arg(long = "type", default_value = "binary")]
    pub kind: ThresholdType,
    /// Fixed threshold level (threshold op); compared as floor(thresh).
    #[arg(long, default_value_t = 127.0, allow_negative_numbers = true)]
    pub thresh: f64,
    /// Value given to pixels that pass (rounded, saturated to 0..255).
    #[arg(long, default_value_t = 255.0, allow_negative_numbers = true)]
    pub max_value: f64,
    /// Neighbourhood size of the adaptive ops (odd, at least 3).
    #[arg(long, default_value_t = 11)]
    pub block_size: u32,
    /// Constant subtracted from the local mean (adaptive ops).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub c: f64,
}

impl OpArgs {
    pub fn settings(&self) -> OpSettings {
        OpSettings {
            op: self.op,
            kind: self.kind,
            thresh: self.thresh,
            max_value: self.max_value,
            block_size: self.block_size,
            c: self.c,
        }
    }
}

/// Worker count and tile size options.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Number of worker threads (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Tile edge in pixels, or "auto" (full-width strips chosen by the engine).
    #[arg(long, default_value = "auto")]
    pub tile: TileSize,
}

impl ExecArgs {
    pub fn config(&self) -> Result<JobConfig, EngineError> {
        let workers = self.workers.unwrap_or_else(available_cores);
        if workers == 0 || workers > tessera_engine::pool::MAX_WORKERS {
            return Err(EngineError::InvalidParam(format!(
                "--workers must be between 1 and {}, got {workers}",
                tessera_engine::pool::MAX_WORKERS
            )));
        }
        Ok(JobConfig {
            workers,
            tile: self.tile,
        })
    }
}

/// Prints an error as one line on stderr and gives the exit code for it.
pub fn report_error(e: &EngineError) -> ExitCode {
    eprintln!("tessera: error: {e}");
    ExitCode::from(if e.is_usage() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    })
}

/// Runs a parsed headless subcommand.
pub fn execute(cmd: Command) -> ExitCode {
    let code = match cmd {
        Command::Run(args) => run::execute(&args),
        Command::Batch(args) => batch::execute(&args),
        Command::Bench(args) => bench::execute(&args),
    };
    if out::failed() && code == ExitCode::SUCCESS {
        return ExitCode::from(EXIT_FAILURE);
    }
    code
}
