//! Helpers shared by the CLI integration tests: run the real binary, find the shipped test
//! data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the real `tessera` binary with `args` and waits for it.
pub fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .output()
        .expect("run tessera")
}

/// A path under the engine's vendored golden data, `crates/engine/tests/data/golden`.
pub fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/tests/data/golden")
        .join(p)
}

/// A path as an argument string.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// eframe's storage in memory, to start the window again from what it saved.
#[derive(Default)]
pub struct MemStorage(pub std::collections::HashMap<String, String>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// Frames a wait may run before the test fails: generous, as the background threads share
/// the machine with whatever else runs. The cap counts frames, never wall-clock time.
pub const MAX_FRAMES: usize = 30_000;

/// Pause between frames, only to give the background threads the CPU.
pub const PACE: std::time::Duration = std::time::Duration::from_millis(2);

/// Runs frames until `cond` holds (background jobs finish on their own threads and wake the
/// window), at most [`MAX_FRAMES`]; then one more frame.
pub fn wait_until(
    h: &mut egui_kittest::Harness<'_, tessera::ui::Workbench>,
    what: &str,
    cond: impl Fn(&tessera::ui::Workbench) -> bool,
) {
    for _ in 0..MAX_FRAMES {
        if cond(h.state()) {
            h.step();
            return;
        }
        h.step();
        std::thread::sleep(PACE);
    }
    panic!(
        "gave up waiting for {what} after {MAX_FRAMES} frames; error: {:?}, outcome: {:?}",
        h.state().error(),
        h.state().outcome()
    );
}
