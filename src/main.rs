use std::process::ExitCode;

use clap::Parser;
use tessera::cli::{Cli, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(cmd) => execute(cmd),
        None => tessera::ui::run(cli.image),
    }
}
