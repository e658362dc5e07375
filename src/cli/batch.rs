//! `tessera batch`. Being written: see the batch issue.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct BatchArgs {}

pub fn execute(_args: &BatchArgs) -> ExitCode {
    eprintln!("tessera: error: `tessera batch` is not available yet");
    ExitCode::from(super::EXIT_USAGE)
}
