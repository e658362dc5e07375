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
