//! The window (eframe/egui): the workbench (open an image, tune the operation with a live
//! preview, compare, read the histogram and timings, save), and the Batch and Scaling lab tabs.
//!
//! UI state lives here; every decode, job, write, file dialog, batch and sweep runs as a
//! background [`task::Task`] (a named thread reporting over a bounded channel, waking the
//! window with `request_repaint`), drained every frame whatever tab is shown.

pub mod app;
pub mod batch_panel;
pub mod charts;
pub mod dialog;
pub mod frame_log;
pub mod jobs;
pub mod lab;
pub mod task;
pub mod tune_panel;
pub mod view;

use std::path::PathBuf;
use std::process::ExitCode;

pub use app::{Outcome, Prefs, QUICK_JOB, Startup, Workbench};

/// The window's initial size, in points.
pub const WINDOW_SIZE: [f32; 2] = [1280.0, 800.0];
/// The window's smallest size, in points.
pub const WINDOW_MIN_SIZE: [f32; 2] = [800.0, 500.0];

/// Opens the window, with `image` loaded if given (else the last image or the sample), and
/// `ground_truth` beside it.
pub fn run(image: Option<PathBuf>, ground_truth: Option<PathBuf>) -> ExitCode {
    let startup = match image {
        Some(p) => Startup::Path(p),
        None if std::env::var_os("TESSERA_SAMPLE").is_some() => Startup::Sample,
        None => Startup::Default,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("tessera")
            .with_app_id("tessera")
            .with_inner_size(WINDOW_SIZE)
            .with_min_inner_size(WINDOW_MIN_SIZE)
            .with_drag_and_drop(true),
        persist_window: true,
        ..Default::default()
    };
    let result = eframe::run_native(
        "tessera",
        options,
        Box::new(move |cc| {
            let mut app = Workbench::new(&cc.egui_ctx, cc.storage, startup);
            if let Some(gt) = ground_truth {
                app.load_ground_truth(gt);
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: error: cannot open the window: {e}");
            eprintln!("(the subcommands run without a display: tessera --help)");
            ExitCode::from(crate::exit::EXIT_FAILURE)
        }
    }
}
