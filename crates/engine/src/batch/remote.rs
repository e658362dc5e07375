//! Object storage: batches whose input or output folder is an `s3://bucket/prefix` URL
//! (S3 or any S3-compatible server), with the `s3` feature.
//!
//! * **Credentials and endpoint** come only from the standard environment variables that
//!   `object_store`'s `AmazonS3Builder::from_env` reads: `AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT` (another
//!   server than AWS) and `AWS_ALLOW_HTTP=true` (a plain-HTTP endpoint).
//! * **Listing.** The objects under the prefix are listed once and sorted as the local walk
//!   sorts a folder (component by component), keys ending in `/` (folder markers) and keys
//!   in sub-"folders" (unless recursive) left out; output names are then planned exactly as
//!   for a local folder, so the same files give the same results, names, shards and
//!   [`Listing`](super::Listing) hash whether they sit on a disk or in a bucket.
//! * **Transfers.** Items are processed in chunks (16 per worker, at least 32): the chunk's
//!   inputs are downloaded (at most [`TRANSFERS`] at once, streamed to a private scratch
//!   folder under the system's temporary folder), processed by the normal batch workers,
//!   then the results uploaded (at most [`TRANSFERS`] at once) and the chunk's scratch files
//!   deleted. Scratch space is about one chunk of inputs and results.
//! * **Complete or absent.** Each result is one PUT, which S3 makes visible only once
//!   complete; a batch stopped mid-way leaves only complete objects.
//! * **Failures per object.** An object that cannot be downloaded, decoded or uploaded is a
//!   failed item with its reason, as a local file is; only an unreadable input listing, an
//!   output bucket that cannot be listed, or no scratch folder stop the batch.
//! * **Not yet.** `skip_existing` and ground truth from a bucket are refused (usage errors).
//!   The live progress counts a result when it is written to scratch; a later upload
//!   failure shows in the report, not in the counters.

use std::path::Path;

use super::BatchConfig;
use crate::error::EngineError;

/// The scheme of object-storage URLs.
pub const SCHEME: &str = "s3://";

/// The most downloads (or uploads) in flight at once.
pub const TRANSFERS: usize = 16;

/// Whether `p` is an `s3://` URL.
///
/// ```
/// use tessera_engine::batch::remote::is_url;
/// assert!(is_url("s3://images/scans".as_ref()));
/// assert!(!is_url("scans".as_ref()));
/// ```
pub fn is_url(p: &Path) -> bool {
    p.as_os_str()
        .as_encoded_bytes()
        .starts_with(SCHEME.as_bytes())
}

/// Whether the batch reads or writes object storage.
pub fn involved(cfg: &BatchConfig) -> bool {
    is_url(&cfg.input) || is_url(&cfg.output)
}

/// The bucket and the prefix (without leading or trailing `/`) of an `s3://` URL.
///
/// ```
/// use tessera_engine::batch::remote::parse_url;
/// assert_eq!(
///     parse_url("s3://images/scans/2026/".as_ref()).unwrap(),
///     ("images".to_string(), "scans/2026".to_string())
/// );
/// assert!(parse_url("s3:///x".as_ref()).is_err());
/// ```
pub fn parse_url(p: &Path) -> Result<(String, String), EngineError> {
    let bad = |why: &str| EngineError::InvalidParam(format!("{}: {why}", p.display()));
    let s = p.to_str().ok_or_else(|| bad("not UTF-8"))?;
    let rest = s
        .strip_prefix(SCHEME)
        .ok_or_else(|| bad("not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket (expected s3://BUCKET/PREFIX)"));
    }
    Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// Checks a config's URLs (from [`BatchConfig::validate`]); `Ok(true)` when the batch
/// involves object storage.
pub(crate) fn check(cfg: &BatchConfig) -> Result<bool, EngineError> {
    if !involved(cfg) {
        return Ok(false);
    }
    let usage = |m: &str| Err(EngineError::InvalidParam(m.to_string()));
    if !cfg!(feature = "s3") {
        return usage(
            "s3:// folders need tessera built with the s3 feature \
             (cargo build --release --features s3)",
        );
    }
    for p in [&cfg.input, &cfg.output] {
        if is_url(p) {
            parse_url(p)?;
        }
    }
    if cfg.skip_existing {
        return usage("--skip-existing is not available with s3:// folders yet");
    }
    if cfg.ground_truth.is_some() && is_url(&cfg.input) {
        return usage("--ground-truth is not available with an s3:// input yet");
    }
    Ok(true)
}

#[cfg(feature = "s3")]
mod imp;
#[cfg(feature = "s3")]
pub(crate) use imp::{discover, run};
#[cfg(feature = "s3")]
pub use imp::{download_all, write_object};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_configs_are_checked() {
        assert_eq!(
            parse_url("s3://b".as_ref()).unwrap(),
            ("b".to_string(), String::new())
        );
        assert!(parse_url("s3://".as_ref()).is_err());
        let mut cfg = BatchConfig::new("s3://in/scans", "out");
        assert!(involved(&cfg));
        let checked = check(&cfg);
        if cfg!(feature = "s3") {
            assert!(checked.unwrap());
            cfg.skip_existing = true;
            assert!(
                check(&cfg)
                    .unwrap_err()
                    .to_string()
                    .contains("skip-existing")
            );
        } else {
            let e = checked.unwrap_err();
            assert!(
                e.is_usage() && e.to_string().contains("--features s3"),
                "{e}"
            );
        }
        assert!(!check(&BatchConfig::new("in", "out")).unwrap());
    }
}
