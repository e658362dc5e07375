use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tessera::cli::{Cli, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(cmd) => execute(cmd),
        None => {
            // The window arrives with the workbench issue; until then, show the usage.
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
    }
}
