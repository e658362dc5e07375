//! The workbench window (eframe/egui). Being written: see issue 3.

pub mod batch_panel;
pub mod lab;

use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the window, with `image` loaded if given.
pub fn run(_image: Option<PathBuf>) -> ExitCode {
    use clap::CommandFactory;
    let _ = crate::cli::Cli::command().print_help();
    ExitCode::SUCCESS
}
