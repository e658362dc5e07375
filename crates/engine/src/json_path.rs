//! Paths in JSON reports, written losslessly.
//!
//! A path is written as a string under its key (`"path": "scans/a.png"`). File names on
//! Unix are bytes and need not be UTF-8; such a path is written with each invalid sequence
//! shown as U+FFFD (`"caf\u{FFFD}.png"`) **and** its exact bytes in hex under the key with
//! `_bytes` appended (`"path_bytes": "636166e92e706e67"`). The `_bytes` key is present only
//! for those paths, so a report never fails and a reader can always recover the exact name.
//!
//! Use with `#[serde(flatten, serialize_with = "tessera_engine::json_path::path")]` on a
//! `PathBuf` field; [`path`], [`input`], [`output`] and [`wanted`] write under those keys.
//!
//! ```
//! #[derive(serde::Serialize)]
//! struct Row {
//!     #[serde(flatten, serialize_with = "tessera_engine::json_path::path")]
//!     path: std::path::PathBuf,
//! }
//! let json = serde_json::to_string(&Row { path: "a.png".into() }).unwrap();
//! assert_eq!(json, r#"{"path":"a.png"}"#);
//! ```

use std::path::Path;

use serde::Serializer;
use serde::ser::SerializeMap;

/// The raw bytes of a path that is not valid UTF-8, in lowercase hex; `None` for a UTF-8
/// path.
pub fn non_utf8_hex(p: &Path) -> Option<String> {
    if p.to_str().is_some() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let bytes = p.as_os_str().as_bytes();
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        Some(hex)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The path back from its hex bytes (see [`non_utf8_hex`]).
pub fn from_hex(hex: &str) -> Option<std::path::PathBuf> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(std::ffi::OsString::from_vec(bytes?).into())
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes?).ok().map(Into::into)
    }
}

/// Writes `p` under `key` (and `<key>_bytes` when it is not UTF-8) into a flattened map.
pub fn write_flat<S: Serializer>(key: &str, p: &Path, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    m.serialize_entry(key, &p.to_string_lossy())?;
    if let Some(hex) = non_utf8_hex(p) {
        m.serialize_entry(&format!("{key}_bytes"), &hex)?;
    }
    m.end()
}

macro_rules! keyed {
    ($($name:ident),*) => {$(
        #[doc = concat!("Writes a path under `\"", stringify!($name), "\"` (see the module documentation).")]
        pub fn $name<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
            write_flat(stringify!($name), p, s)
        }
    )*};
}

keyed!(path, input, output, wanted, folder, ground_truth);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        #[serde(flatten, serialize_with = "path")]
        p: std::path::PathBuf,
        n: u8,
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_path_is_written_with_its_bytes_and_comes_back() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.png")).to_path_buf();
        let json = serde_json::to_string(&Row { p: p.clone(), n: 1 }).unwrap();
        assert_eq!(
            json,
            r#"{"path":"caf\ufffd.png","path_bytes":"636166e92e706e67","n":1}"#
                .replace("\\ufffd", "\u{FFFD}")
        );
        assert_eq!(from_hex("636166e92e706e67"), Some(p));
        assert_eq!(from_hex("6"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
