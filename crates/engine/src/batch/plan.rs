//! Discovery and output naming: which files a batch processes and where each result goes.
//!
//! Discovery walks the input folder (one level, or every level with `recursive`) in sorted
//! order, keeps the files whose extension is an image extension (or that match the include
//! patterns instead), and plans one output path per file:
//! `OUTPUT/<same sub-folder>/<stem><suffix>.<format>`.
//!
//! **Collisions.** Two inputs can want the same output (`a.png` and `a.jpg` both become
//! `a.png`), and in a shared folder an output could be the name of an input. They are resolved
//! in discovery order (sorted by path): the first file takes the plain name; every later one
//! takes `<stem>-<n><suffix>.<format>` with the smallest `n >= 1` that no input and no other
//! output uses. The same folder always gives the same names, so a re-run with
//! `skip_existing` finds its earlier results. Every renamed file is reported.
//!
//! **Results are not inputs.** When the output folder lies inside the input folder (recursive
//! walk), the output folder is not walked. When it *is* the input folder (allowed only with a
//! suffix), files named like results (`*<suffix>.<format>`) are not taken as inputs, so a re-run
//! does not process its own results.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;
use walkdir::WalkDir;

use super::OutputFormat;
use crate::error::EngineError;
use crate::io::io_reason;

/// File extensions taken as images when no include pattern is given (case-insensitive).
pub const INPUT_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "jpe", "tif", "tiff", "bmp", "dib", "webp", "gif", "pgm", "ppm", "pbm",
    "pnm",
];

/// One file found by discovery, with its planned output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The input path, as found under the input folder given by the user.
    pub input: PathBuf,
    /// Where its result goes.
    pub output: PathBuf,
    /// Why it cannot be processed, when that is known from discovery alone (a folder named
    /// like an image, a broken link, an unreadable sub-folder).
    pub problem: Option<String>,
}

/// An input whose output name was taken, and the name it got instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collision {
    /// The input file.
    #[serde(flatten, serialize_with = "crate::json_path::path")]
    pub path: PathBuf,
    /// The output it would have had.
    #[serde(flatten, serialize_with = "crate::json_path::wanted")]
    pub wanted: PathBuf,
    /// The output it got.
    #[serde(flatten, serialize_with = "crate::json_path::output")]
    pub output: PathBuf,
    /// Who holds `wanted`: the earlier input with the same result name, or an input file.
    pub reason: String,
}

/// What discovery found.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every file to process, in processing order (sorted by path).
    pub items: Vec<Item>,
    /// Outputs whose plain name was taken, and the name each got instead.
    pub collisions: Vec<Collision>,
}

impl Plan {
    /// Only `shard`'s slice of the items, and the collisions of those items. Names were
    /// planned over the whole listing, so a shard's outputs are those of a whole batch.
    pub fn shard(mut self, shard: super::Shard) -> Plan {
        if shard == super::Shard::ALL {
            return self;
        }
        let r = shard.range(self.items.len());
        self.items.truncate(r.end);
        self.items.drain(..r.start);
        let outputs: HashSet<&Path> = self.items.iter().map(|i| i.output.as_path()).collect();
        self.collisions
            .retain(|c| outputs.contains(c.output.as_path()));
        self
    }
}

/// Compiles include patterns (glob syntax, matched against the path relative to the input
/// folder, `/` as separator; `*` also crosses folders, `{a,b}` alternatives are allowed).
pub fn compile_include(patterns: &[String]) -> Result<Option<GlobSet>, EngineError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p)
            .case_insensitive(false)
            .literal_separator(false)
            .build()
            .map_err(|e| EngineError::InvalidParam(format!("bad --include pattern {p:?}: {e}")))?;
        b.add(g);
    }
    b.build()
        .map(Some)
        .map_err(|e| EngineError::InvalidParam(format!("bad --include patterns: {e}")))
}

/// Whether the name has one of [`INPUT_EXTENSIONS`].
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| INPUT_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// A path made absolute and free of `.`/`..` and symbolic links, as far as it exists (the
/// part that does not exist yet is appended as written).
pub fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let comps: Vec<Component<'_>> = abs.components().collect();
    for k in (1..=comps.len()).rev() {
        let prefix: PathBuf = comps[..k].iter().collect();
        if let Ok(mut out) = prefix.canonicalize() {
            for c in &comps[k..] {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other),
                }
            }
            return out;
        }
    }
    abs
}

/// Everything discovery needs, resolved from the config.
pub(crate) struct Discovery<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub input_abs: PathBuf,
    pub output_abs: PathBuf,
    pub recursive: bool,
    pub include: Option<GlobSet>,
    pub suffix: &'a str,
    pub format: OutputFormat,
}

impl Discovery<'_> {
    fn same_folder(&self) -> bool {
        self.input_abs == self.output_abs
    }

    fn result_name(&self, stem: &std::ffi::OsStr, n: usize) -> OsString {
        let mut name = stem.to_os_string();
        if n > 0 {
            name.push(format!("-{n}"));
        }
        name.push(self.suffix);
        name.push(".");
        name.push(self.format.extension());
        name
    }

    /// A file named like one of our results, in a batch writing into its own input folder.
    pub(crate) fn looks_like_result(&self, name: &std::ffi::OsStr) -> bool {
        if !self.same_folder() {
            return false;
        }
        let end = format!("{}.{}", self.suffix, self.format.extension());
        name.to_str().is_some_and(|n| n.ends_with(&end))
    }

    pub(crate) fn wanted(&self, rel: &Path) -> bool {
        match &self.include {
            Some(set) => set.is_match(rel),
            None => has_image_extension(rel),
        }
    }

    /// Walks the input folder and plans every output. `on_found` is called with the running
    /// count, for progress.
    pub fn run(&self, mut on_found: impl FnMut(usize)) -> Plan {
        let depth = if self.recursive { usize::MAX } else { 1 };
        // The output folder is skipped when it lies strictly inside the input folder.
        let skip_dir = (self.output_abs != self.input_abs
            && self.output_abs.starts_with(&self.input_abs))
        .then(|| self.output_abs.clone());
        let walker = WalkDir::new(self.input)
            .min_depth(1)
            .max_depth(depth)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| match &skip_dir {
                Some(d) if e.file_type().is_dir() => absolute(e.path()) != *d,
                _ => true,
            });

        // (input, relative path, problem)
        let mut found: Vec<(PathBuf, PathBuf, Option<String>)> = Vec::new();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().unwrap_or(self.input).to_path_buf();
                    let reason = match e.io_error() {
                        Some(io) => format!("cannot read: {}", io_reason(io)),
                        None => e.to_string(),
                    };
                    let rel = path.strip_prefix(self.input).unwrap_or(&path).to_path_buf();
                    found.push((path, rel, Some(reason)));
                    on_found(found.len());
                    continue;
                }
            };
            let path = entry.path();
            let rel = path.strip_prefix(self.input).unwrap_or(path).to_path_buf();
            let ft = entry.file_type();
            // tessera's own files (temporary results, the manifest) are never inputs.
            let ours = entry
                .file_name()
                .as_encoded_bytes()
                .starts_with(b".tessera-");
            if ours || !self.wanted(&rel) || self.looks_like_result(entry.file_name()) {
                continue;
            }
            let problem = if ft.is_dir() {
                if self.recursive {
                    continue; // walked into, not an input
                }
                Some("is a folder, not an image file".to_string())
            } else if ft.is_symlink() {
                match std::fs::metadata(path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let target = std::fs::read_link(path)
                            .map(|t| format!(" (to {})", t.display()))
                            .unwrap_or_default();
                        Some(format!("broken link: its target does not exist{target}"))
                    }
                    Err(e) => Some(format!("cannot follow the link: {}", io_reason(&e))),
                    Ok(m) if m.is_dir() => Some("links to a folder, not an image file".into()),
                    Ok(_) => None,
                }
            } else if !ft.is_file() {
                Some(match entry.metadata() {
                    Ok(m) => crate::io::not_regular(&m),
                    Err(_) => "not a regular file; only regular files are read".to_string(),
                })
            } else {
                None
            };
            found.push((path.to_path_buf(), rel, problem));
            on_found(found.len());
        }
        self.name_outputs(found)
    }

    /// Plans the output names, resolving collisions as the module documentation says.
    pub(crate) fn name_outputs(&self, found: Vec<(PathBuf, PathBuf, Option<String>)>) -> Plan {
        let inputs: HashSet<PathBuf> = found
            .iter()
            .map(|(_, rel, _)| self.input_abs.join(rel))
            .collect();
        let out_rel = |rel: &Path, n: usize| -> Option<PathBuf> {
            let stem = rel.file_stem()?;
            let name = self.result_name(stem, n);
            Some(match rel.parent() {
                Some(p) => p.join(name),
                None => PathBuf::from(name),
            })
        };
        let mut claimed: std::collections::HashMap<PathBuf, usize> = Default::default();
        let mut items: Vec<Item> = Vec::with_capacity(found.len());
        let mut losers: Vec<(usize, PathBuf, String)> = Vec::new();
        for (input, rel, problem) in found {
            let i = items.len();
            let Some(orel) = out_rel(&rel, 0) else {
                items.push(Item {
                    output: self.output.join(&rel),
                    input,
                    problem: Some(problem.unwrap_or_else(|| "no file name".into())),
                });
                continue;
            };
            let abs = self.output_abs.join(&orel);
            if problem.is_none() {
                if inputs.contains(&abs) {
                    losers.push((i, orel.clone(), "that name is an input file".into()));
                } else if let Some(&first) = claimed.get(&abs) {
                    let holder: &Item = &items[first];
                    losers.push((
                        i,
                        orel.clone(),
                        format!("{} has the same result name", holder.input.display()),
                    ));
                } else {
                    claimed.insert(abs, i);
                }
            }
            items.push(Item {
                input,
                output: self.output.join(&orel),
                problem,
            });
        }
        let mut collisions = Vec::with_capacity(losers.len());
        for (i, wanted_rel, reason) in losers {
            let rel = items[i]
                .input
                .strip_prefix(self.input)
                .unwrap_or(&items[i].input)
                .to_path_buf();
            let mut n = 1;
            let chosen = loop {
                let Some(orel) = out_rel(&rel, n) else {
                    break wanted_rel.clone();
                };
                let abs = self.output_abs.join(&orel);
                if !inputs.contains(&abs) && !claimed.contains_key(&abs) {
                    claimed.insert(abs, i);
                    break orel;
                }
                n += 1;
            };
            let output = self.output.join(&chosen);
            collisions.push(Collision {
                path: items[i].input.clone(),
                wanted: self.output.join(&wanted_rel),
                output: output.clone(),
                reason,
            });
            items[i].output = output;
        }
        Plan { items, collisions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, b"x").unwrap();
    }

    fn plan(input: &Path, output: &Path, recursive: bool, suffix: &str) -> Plan {
        let d = Discovery {
            input,
            output,
            input_abs: absolute(input),
            output_abs: absolute(output),
            recursive,
            include: None,
            suffix,
            format: OutputFormat::Png,
        };
        d.run(|_| {})
    }

    fn names(p: &Plan, root: &Path) -> Vec<(String, String)> {
        p.items
            .iter()
            .map(|i| {
                (
                    i.input.strip_prefix(root).unwrap().display().to_string(),
                    i.output.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn collisions_are_resolved_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        for n in ["b.png", "a.png", "a.jpg", "a-1.tif", "notes.txt", "A.PNG"] {
            touch(&input.join(n));
        }
        let p = plan(&input, &dir.path().join("out"), false, "");
        assert_eq!(
            names(&p, &input),
            [
                ("A.PNG", "A.png"),
                ("a-1.tif", "a-1.png"),
                ("a.jpg", "a.png"),
                ("a.png", "a-2.png"),
                ("b.png", "b.png"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(p.collisions.len(), 1);
        assert!(p.collisions[0].path.ends_with("a.png"));
        assert!(p.collisions[0].reason.contains("a.jpg"));
    }

    #[test]
    fn same_folder_with_suffix_skips_results_and_never_names_an_input() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a.png", "a_bin.jpg", "x_bin.png"] {
            touch(&dir.path().join(n));
        }
        let p = plan(dir.path(), dir.path(), false, "_bin");
        // x_bin.png looks like a result and is not an input; a_bin.jpg is one, and its
        // result a_bin_bin.png is free.
        assert_eq!(
            names(&p, dir.path()),
            [("a.png", "a_bin.png"), ("a_bin.jpg", "a_bin_bin.png")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn recursive_walk_skips_the_output_folder_inside_the_input() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a.png"));
        touch(&dir.path().join("sub/b.png"));
        touch(&dir.path().join("out/old.png"));
        let p = plan(dir.path(), &dir.path().join("out"), true, "");
        let got: Vec<_> = names(&p, dir.path()).into_iter().map(|x| x.0).collect();
        assert_eq!(got, ["a.png", "sub/b.png"]);
        assert_eq!(p.items[1].output, dir.path().join("out/sub/b.png"));
    }

    #[test]
    fn include_patterns_replace_the_extension_filter() {
        let set = compile_include(&["scan*.dat".into(), "*.{png,PNG}".into()])
            .unwrap()
            .unwrap();
        assert!(set.is_match("scan1.dat"));
        assert!(set.is_match("sub/x.png"));
        assert!(!set.is_match("a.jpg"));
        assert!(compile_include(&["a[".into()]).unwrap_err().is_usage());
    }

    #[test]
    fn absolute_resolves_missing_tails() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        assert_eq!(absolute(&dir.path().join("x/../y")), base.join("y"));
        assert_eq!(absolute(&dir.path().join(".")), base);
    }
}
