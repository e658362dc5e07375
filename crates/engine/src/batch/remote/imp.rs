//! The `s3` feature's transfers (see the parent module).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, stream};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

use super::{TRANSFERS, is_url, parse_url};
use crate::batch::plan::{self, Discovery, Item, Plan};
use crate::batch::{BatchConfig, ImageRecord, Outcome, Shard};
use crate::control::Control;
use crate::error::EngineError;
use crate::ops::Op;
use crate::pool::WorkerPool;

/// A bucket and a prefix in it.
struct Folder {
    store: Arc<dyn ObjectStore>,
    url: PathBuf,
    prefix: String,
}

impl Folder {
    fn open(url: &Path) -> Result<Folder, EngineError> {
        let (bucket, prefix) = parse_url(url)?;
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .build()
            .map_err(|e| EngineError::InvalidParam(format!("{}: {e}", url.display())))?;
        Ok(Folder {
            store: Arc::new(store),
            url: url.to_path_buf(),
            prefix,
        })
    }

    /// The key of `rel` (`/`-separated) under the prefix.
    fn key(&self, rel: &str) -> Key {
        let full = if self.prefix.is_empty() {
            rel.to_string()
        } else if rel.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{rel}", self.prefix)
        };
        Key::parse(&full).unwrap_or_else(|_| Key::from(full.as_str()))
    }

    /// Every key under the prefix, relative to it.
    async fn list(&self) -> Result<Vec<String>, object_store::Error> {
        let prefix = (!self.prefix.is_empty()).then(|| self.key(""));
        let mut listing = self.store.list(prefix.as_ref());
        let mut rels = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let key: &str = meta.location.as_ref();
            let rel = if self.prefix.is_empty() {
                key
            } else {
                match key
                    .strip_prefix(self.prefix.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(r) => r,
                    None => continue,
                }
            };
            if !rel.is_empty() && !rel.ends_with('/') {
                rels.push(rel.to_string());
            }
        }
        Ok(rels)
    }

    /// Streams one object into a local file.
    async fn fetch(&self, rel: &str, dest: &Path) -> Result<(), String> {
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| format!("cannot make scratch space: {e}"))?;
        }
        let got = self
            .store
            .get(&self.key(rel))
            .await
            .map_err(|e| format!("cannot download: {}", short(&e)))?;
        let mut bytes = got.into_stream();
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| format!("cannot make scratch space: {e}"))?;
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(|e| format!("cannot download: {}", short(&e)))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| format!("cannot write scratch space: {e}"))?;
        }
        file.flush()
            .await
            .map_err(|e| format!("cannot write scratch space: {e}"))
    }

    /// Uploads one local file as one PUT (visible only once complete).
    async fn put_file(&self, rel: &str, src: &Path) -> Result<(), String> {
        let bytes = tokio::fs::read(src)
            .await
            .map_err(|e| format!("cannot read its result: {e}"))?;
        self.store
            .put(&self.key(rel), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot upload to {}: {}", self.url_of(rel), short(&e)))
    }

    fn url_of(&self, rel: &str) -> String {
        format!(
            "{}/{rel}",
            self.url.display().to_string().trim_end_matches('/')
        )
    }
}

/// An object_store error in a few words: the server's code and message when it sent an
/// S3 error document, else the error's first line, cut at 200 characters.
fn short(e: &object_store::Error) -> String {
    let text = e.to_string().replace('\n', " ");
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find(&format!("</{name}>"))?;
        Some(text[start..start + len].to_string())
    };
    let status = text
        .find("status code: ")
        .map(|i| &text[i + "status code: ".len()..])
        .and_then(|t| t.split(':').next())
        .map(str::trim);
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(msg)) => match status {
            Some(st) => format!("{code}: {msg} ({st})"),
            None => format!("{code}: {msg}"),
        },
        _ => text.chars().take(200).collect(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, EngineError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tessera-s3")
        .enable_all()
        .build()
        .map_err(|source| EngineError::Thread {
            what: "the transfer threads".into(),
            source,
        })
}

/// `path` relative to `root`, `/`-separated.
fn rel_of(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The listing of an `s3://` input, named as a local folder's would be.
pub(crate) fn discover(cfg: &BatchConfig) -> Result<Plan, EngineError> {
    let folder = Folder::open(&cfg.input)?;
    let rels = runtime()?
        .block_on(folder.list())
        .map_err(|e| EngineError::Input {
            path: cfg.input.clone(),
            reason: format!("cannot list: {}", short(&e)),
        })?;
    let output_abs = if is_url(&cfg.output) {
        PathBuf::from(cfg.output.to_string_lossy().trim_end_matches('/'))
    } else {
        plan::absolute(&cfg.output)
    };
    let input_abs = PathBuf::from(cfg.input.to_string_lossy().trim_end_matches('/'));
    // Results written under the input prefix are not inputs.
    let skip = output_abs
        .strip_prefix(&input_abs)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .map(Path::to_path_buf);
    let disc = Discovery {
        input: &cfg.input,
        output: &cfg.output,
        input_abs,
        output_abs,
        recursive: cfg.recursive,
        include: plan::compile_include(&cfg.include)?,
        suffix: &cfg.suffix,
        format: cfg.format,
    };
    let mut found: Vec<(PathBuf, PathBuf, Option<String>)> = rels
        .into_iter()
        .map(PathBuf::from)
        .filter(|rel| {
            let name = rel.file_name().unwrap_or_default();
            (cfg.recursive || rel.components().count() == 1)
                && !name.as_encoded_bytes().starts_with(b".tessera-")
                && !skip.as_ref().is_some_and(|s| rel.starts_with(s))
                && disc.wanted(rel)
                && !disc.looks_like_result(name)
        })
        .map(|rel| (cfg.input.join(&rel), rel, None))
        .collect();
    // Component by component, as the local walk sorts a folder.
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(disc.name_outputs(found))
}

/// Processes `items` (named over an `s3://` input or output) chunk by chunk: download,
/// process, upload. Returns a record per item processed, with the URLs as paths.
pub(crate) fn run(
    pool: &WorkerPool,
    cfg: &BatchConfig,
    op: &Op,
    ctl: &Control,
    t0: Instant,
    items: &[Item],
) -> Result<Vec<ImageRecord>, EngineError> {
    let rt = runtime()?;
    let src = is_url(&cfg.input)
        .then(|| Folder::open(&cfg.input))
        .transpose()?;
    let dst = is_url(&cfg.output)
        .then(|| Folder::open(&cfg.output))
        .transpose()?;
    match &dst {
        Some(d) => {
            let prefix = (!d.prefix.is_empty()).then(|| d.key(""));
            rt.block_on(d.store.list_with_delimiter(prefix.as_ref()))
                .map_err(|e| EngineError::Output {
                    path: cfg.output.clone(),
                    reason: format!("cannot list the output: {}", short(&e)),
                })?;
        }
        None => crate::batch::output::prepare_output(&cfg.output)?,
    }
    let scratch = tempfile::Builder::new()
        .prefix("tessera-s3-")
        .tempdir()
        .map_err(|e| EngineError::Output {
            path: std::env::temp_dir(),
            reason: format!("cannot make a scratch folder: {}", crate::io::io_reason(&e)),
        })?;
    let chunk = (cfg.workers * 16).clamp(32, 1024);
    let mut all = Vec::with_capacity(items.len());
    for (n, part) in items.chunks(chunk).enumerate() {
        if ctl.is_cancelled() {
            break;
        }
        let dir = scratch.path().join(n.to_string());
        let (in_dir, out_dir) = (dir.join("in"), dir.join("out"));
        let mut local: Vec<Item> = part
            .iter()
            .map(|it| Item {
                input: match src {
                    Some(_) => in_dir.join(rel_of(&it.input, &cfg.input)),
                    None => it.input.clone(),
                },
                output: match dst {
                    Some(_) => out_dir.join(rel_of(&it.output, &cfg.output)),
                    None => it.output.clone(),
                },
                problem: it.problem.clone(),
            })
            .collect();
        if let Some(s) = &src {
            let jobs: Vec<(usize, String, PathBuf)> = part
                .iter()
                .enumerate()
                .filter(|(_, it)| it.problem.is_none())
                .map(|(i, it)| (i, rel_of(&it.input, &cfg.input), local[i].input.clone()))
                .collect();
            let done: Vec<(usize, Result<(), String>)> = rt.block_on(
                stream::iter(jobs)
                    .map(|(i, rel, dest)| async move { (i, s.fetch(&rel, &dest).await) })
                    .buffer_unordered(TRANSFERS)
                    .collect(),
            );
            for (i, r) in done {
                if let Err(reason) = r {
                    local[i].problem = Some(reason);
                }
            }
        }
        if dst.is_some() {
            std::fs::create_dir_all(&out_dir).map_err(|e| EngineError::Output {
                path: out_dir.clone(),
                reason: format!("cannot make scratch space: {}", crate::io::io_reason(&e)),
            })?;
        }
        let lcfg = BatchConfig {
            input: if src.is_some() {
                in_dir.clone()
            } else {
                cfg.input.clone()
            },
            output: if dst.is_some() {
                out_dir.clone()
            } else {
                cfg.output.clone()
            },
            skip_existing: false,
            shard: Shard::ALL,
            plan: None,
            ..cfg.clone()
        };
        let mut records = crate::batch::process(pool, &lcfg, op, ctl, t0, &local, Some(part));
        if let Some(d) = &dst {
            let by_output: HashMap<&Path, &Path> = part
                .iter()
                .zip(&local)
                .map(|(p, l)| (p.output.as_path(), l.output.as_path()))
                .collect();
            let jobs: Vec<(usize, String, PathBuf)> = records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.outcome == Outcome::Written)
                .filter_map(|(k, r)| {
                    let file = by_output.get(r.output.as_path())?;
                    Some((k, rel_of(&r.output, &cfg.output), file.to_path_buf()))
                })
                .collect();
            let done: Vec<(usize, Result<(), String>)> = rt.block_on(
                stream::iter(jobs)
                    .map(|(k, rel, file)| async move { (k, d.put_file(&rel, &file).await) })
                    .buffer_unordered(TRANSFERS)
                    .collect(),
            );
            for (k, r) in done {
                if let Err(reason) = r {
                    records[k].outcome = Outcome::Failed(reason);
                }
            }
        }
        all.extend(records);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(all)
}

/// Writes `bytes` to the object at `url` (`s3://bucket/key`) in one PUT: complete or absent.
pub fn write_object(url: &Path, bytes: Vec<u8>) -> Result<(), EngineError> {
    let folder = Folder::open(url)?;
    runtime()?
        .block_on(folder.store.put(&folder.key(""), PutPayload::from(bytes)))
        .map(|_| ())
        .map_err(|e| EngineError::Output {
            path: url.to_path_buf(),
            reason: short(&e),
        })
}

/// Downloads every object directly under `url` whose name ends with `suffix` into the local
/// folder `dir` (same names); returns how many.
pub fn download_all(url: &Path, suffix: &str, dir: &Path) -> Result<usize, EngineError> {
    let folder = Folder::open(url)?;
    let rt = runtime()?;
    let err = |reason: String| EngineError::Input {
        path: url.to_path_buf(),
        reason,
    };
    let rels: Vec<String> = rt
        .block_on(folder.list())
        .map_err(|e| err(format!("cannot list: {}", short(&e))))?
        .into_iter()
        .filter(|r| !r.contains('/') && r.ends_with(suffix))
        .collect();
    let n = rels.len();
    let done: Vec<Result<(), String>> = rt.block_on(
        stream::iter(rels)
            .map(|rel| {
                let folder = &folder;
                async move { folder.fetch(&rel, &dir.join(&rel)).await }
            })
            .buffer_unordered(TRANSFERS)
            .collect(),
    );
    done.into_iter()
        .collect::<Result<(), String>>()
        .map_err(err)?;
    Ok(n)
}
