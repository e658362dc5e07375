use std::process::ExitCode;

use clap::Parser;
use tessera::cli::{Cli, clap_error, execute};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    match cli.command {
        Some(cmd) => execute(cmd),
        None => tessera::ui::run(cli.image, cli.ground_truth),
    }
}
