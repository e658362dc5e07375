//! The app's integration tests, in one binary (one link of egui instead of one per file):
//! the CLI run as a user runs it (the real `tessera` binary on temporary folders) and the
//! window driven through its controls with egui_kittest (AccessKit, no display). UI tests
//! wait on events and progress (frames run until a condition holds), never on wall-clock
//! budgets. The engine's own tests live in `crates/engine/tests`.

mod common;

mod cli_batch;
mod cli_bench;
mod cli_depth;
mod cli_hostile;
mod cli_levels;
mod cli_methods;
mod cli_montage;
mod cli_quality;
mod cli_run;
mod lab_panel;
mod ui_batch_panel;
mod ui_truth;
mod ui_workbench;
mod ui_wysiwyg;
