//! Ctrl-C, SIGTERM and SIGHUP, handled alike for every command.
//!
//! For `batch` and `bench` the first signal cancels the command's [`Control`]: a batch starts
//! no new file and finishes the files being written, a sweep makes no further run; the
//! command then ends normally, writing its report, and leaves only complete files. A second
//! signal (or the first, for `run`, which has one file and nothing to report) stops at once:
//! every temporary file this process has open is deleted first ([`remove_partial_files`]),
//! then the process exits with 130.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tessera_engine::Control;
use tessera_engine::io::remove_partial_files;

static CONTROL: OnceLock<Arc<Control>> = OnceLock::new();

/// Temporary folders of this process, removed when a signal stops it at once.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes `dir` (a temporary folder of this process) if a signal stops the process at once.
pub fn remove_on_stop(dir: PathBuf) {
    SCRATCH.lock().unwrap_or_else(|p| p.into_inner()).push(dir);
}

fn stop_now() -> ! {
    remove_partial_files();
    for d in SCRATCH.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = std::fs::remove_dir_all(d);
    }
    std::process::exit(130);
}

/// Stops at once on the first signal, deleting this process's temporary files.
pub fn install_immediate() {
    let _ = ctrlc::set_handler(|| stop_now());
}

/// Routes the signals to `ctl` (once per process; later calls are ignored). `what` ends the
/// message printed on the first signal ("finishing the files being written").
pub fn install(ctl: &Arc<Control>, what: &'static str) {
    if CONTROL.set(Arc::clone(ctl)).is_err() {
        return;
    }
    let _ = ctrlc::set_handler(move || {
        let Some(ctl) = CONTROL.get() else { return };
        if ctl.is_cancelled() {
            stop_now();
        }
        eprintln!("\ntessera: cancelling ({what}; press Ctrl-C again to stop at once)");
        ctl.cancel();
    });
}
