//! The manifest of an output folder: what produced each result, so that `skip_existing`
//! keeps only a result that came from this same input with these same settings.
//!
//! `OUTPUT/.tessera-manifest.jsonl` gets one JSON line per result written: the result's path
//! (relative to the output folder), size and modification time; the input's absolute path,
//! size and modification time; the settings (operation and format); the tessera version.
//! Lines are appended as results are renamed into place (one `write` each, in append mode,
//! so batches writing into one folder at once do not mix their lines), which also keeps
//! the manifest right after a crash: a result without its line is simply made again.
//!
//! A result is skipped only when its latest line matches all of that: a 0-byte or truncated
//! result (its size changed), a result of another input that now has the same output name,
//! a changed input, other settings or another version are all processed again. Paths are
//! written losslessly ([`json_path`](crate::json_path)).

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::plan::Item;
use crate::json_path::{from_hex, non_utf8_hex};

/// The manifest's file name in the output folder.
pub const MANIFEST_NAME: &str = ".tessera-manifest.jsonl";

/// Manifests with more lines than this and over twice as many lines as results are
/// rewritten with one line per result when a batch reads them.
const COMPACT_MIN_LINES: usize = 10_000;

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_bytes: Option<String>,
    output_size: u64,
    output_mtime_ns: u64,
    input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_bytes: Option<String>,
    input_size: u64,
    input_mtime_ns: u64,
    settings: String,
    version: String,
}

fn path_of(text: &str, bytes: &Option<String>) -> Option<PathBuf> {
    match bytes {
        Some(hex) => from_hex(hex),
        None => Some(PathBuf::from(text)),
    }
}

fn mtime_ns(m: &Metadata) -> u64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The manifest of one batch's output folder.
pub(crate) struct Manifest {
    file: PathBuf,
    output_root: PathBuf,
    input_root: PathBuf,
    input_abs: PathBuf,
    settings: String,
    /// The latest line per result (read only for `skip_existing`).
    known: HashMap<PathBuf, Entry>,
    appender: Mutex<Option<File>>,
}

impl Manifest {
    /// The manifest of `output_root` for results made with `settings`; its lines are read
    /// (and compacted when long) only when `read` (for `skip_existing`).
    pub(crate) fn open(
        output_root: &Path,
        input_root: &Path,
        input_abs: PathBuf,
        settings: String,
        read: bool,
    ) -> Self {
        let file = output_root.join(MANIFEST_NAME);
        let mut known = HashMap::new();
        if read {
            let mut lines = 0usize;
            if let Ok(f) = File::open(&file) {
                for line in BufReader::new(f).lines() {
                    let Ok(line) = line else { break };
                    lines += 1;
                    // A torn last line (the process was killed mid-write) is skipped.
                    if let Ok(e) = serde_json::from_str::<Entry>(&line)
                        && let Some(p) = path_of(&e.output, &e.output_bytes)
                    {
                        known.insert(p, e);
                    }
                }
            }
            if lines > COMPACT_MIN_LINES && lines > 2 * known.len() {
                compact(&file, &known);
            }
        }
        Manifest {
            file,
            output_root: output_root.to_path_buf(),
            input_root: input_root.to_path_buf(),
            input_abs,
            settings,
            known,
            appender: Mutex::new(None),
        }
    }

    fn rel_output<'p>(&self, output: &'p Path) -> &'p Path {
        output.strip_prefix(&self.output_root).unwrap_or(output)
    }

    fn abs_input(&self, input: &Path) -> PathBuf {
        self.input_abs
            .join(input.strip_prefix(&self.input_root).unwrap_or(input))
    }

    /// Whether `item`'s existing result is known to come from this same input, unchanged,
    /// with these settings and this version. `false` when its result does not exist.
    pub(crate) fn trusts(&self, item: &Item) -> bool {
        let Some(e) = self.known.get(self.rel_output(&item.output)) else {
            return false;
        };
        let (Ok(out), Ok(inp)) = (
            std::fs::metadata(&item.output),
            std::fs::metadata(&item.input),
        ) else {
            return false;
        };
        out.is_file()
            && e.output_size == out.len()
            && e.output_mtime_ns == mtime_ns(&out)
            && path_of(&e.input, &e.input_bytes) == Some(self.abs_input(&item.input))
            && e.input_size == inp.len()
            && e.input_mtime_ns == mtime_ns(&inp)
            && e.settings == self.settings
            && e.version == env!("CARGO_PKG_VERSION")
    }

    /// Appends the line of a result just written; `input` is the input's metadata as its
    /// read took it from the open file (stat'ed here if not given). Failures are ignored: a
    /// result without its line is made again by the next `skip_existing` batch.
    pub(crate) fn record(&self, item: &Item, input: Option<&Metadata>) {
        let Ok(out) = std::fs::metadata(&item.output) else {
            return;
        };
        let inp = match input {
            Some(m) => m.clone(),
            None => match std::fs::metadata(&item.input) {
                Ok(m) => m,
                Err(_) => return,
            },
        };
        let rel = self.rel_output(&item.output);
        let input = self.abs_input(&item.input);
        let entry = Entry {
            output: rel.to_string_lossy().into_owned(),
            output_bytes: non_utf8_hex(rel),
            output_size: out.len(),
            output_mtime_ns: mtime_ns(&out),
            input: input.to_string_lossy().into_owned(),
            input_bytes: non_utf8_hex(&input),
            input_size: inp.len(),
            input_mtime_ns: mtime_ns(&inp),
            settings: self.settings.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        let Ok(mut line) = serde_json::to_vec(&entry) else {
            return;
        };
        line.push(b'\n');
        let mut appender = self.appender.lock().unwrap_or_else(|p| p.into_inner());
        if appender.is_none() {
            *appender = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.file)
                .ok();
        }
        if let Some(f) = appender.as_mut() {
            // One write per line: appends from other processes land between lines.
            let _ = f.write_all(&line);
        }
    }
}

/// Rewrites the manifest with one line per result, atomically. Lines another batch appends
/// meanwhile may be lost; their results are then made again, never wrongly skipped.
fn compact(file: &Path, known: &HashMap<PathBuf, Entry>) {
    let mut entries: Vec<&Entry> = known.values().collect();
    entries.sort_by(|a, b| a.output.cmp(&b.output));
    let mut text = Vec::new();
    for e in entries {
        if let Ok(line) = serde_json::to_vec(e) {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
    }
    let _ = crate::io::write_atomic(file, &text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(dir: &Path, name: &str) -> Item {
        Item {
            input: dir.join("in").join(format!("{name}.pgm")),
            output: dir.join("out").join(format!("{name}.png")),
            problem: None,
        }
    }

    #[test]
    fn a_result_is_trusted_only_while_everything_that_made_it_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("in")).unwrap();
        std::fs::create_dir_all(d.join("out")).unwrap();
        let a = item(d, "a");
        std::fs::write(&a.input, b"input a").unwrap();
        std::fs::write(&a.output, b"result of a").unwrap();
        let open = |settings: &str| {
            Manifest::open(
                &d.join("out"),
                &d.join("in"),
                d.join("in"),
                settings.into(),
                true,
            )
        };
        open("otsu; png").record(&a, None);
        assert!(open("otsu; png").trusts(&a));
        assert!(!open("triangle; png").trusts(&a), "other settings");
        // A result cut short.
        std::fs::write(&a.output, b"").unwrap();
        assert!(!open("otsu; png").trusts(&a));
        open("otsu; png").record(&a, None);
        assert!(open("otsu; png").trusts(&a));
        // Another input wanting the same output name (b.jpg beside b.pgm, say).
        let other = Item {
            input: d.join("in").join("a.jpg"),
            ..a.clone()
        };
        std::fs::write(&other.input, b"another input").unwrap();
        assert!(!open("otsu; png").trusts(&other));
        // The input changed.
        std::fs::write(&a.input, b"input a, edited").unwrap();
        assert!(!open("otsu; png").trusts(&a));
        // A torn last line is ignored, the lines before it still count.
        open("otsu; png").record(&a, None);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(d.join("out").join(MANIFEST_NAME))
            .unwrap();
        f.write_all(b"{\"output\":\"a.png\",\"outp").unwrap();
        assert!(open("otsu; png").trusts(&a));
    }
}
