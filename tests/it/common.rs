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
