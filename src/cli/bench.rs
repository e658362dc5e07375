//! `tessera bench`. Being written: see the bench issue.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {}

pub fn execute(_args: &BenchArgs) -> ExitCode {
    eprintln!("tessera: error: `tessera bench` is not available yet");
    ExitCode::from(super::EXIT_USAGE)
}
