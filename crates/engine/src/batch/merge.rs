//! Merging the reports of a sharded batch (`tessera merge OUT/reports --expect N`).
//!
//! Each task of a job array (`tessera batch --shard I/N`) writes its report last, atomically,
//! as `reports/shard-I-of-N.json`; a task that failed fatally writes none. [`merge`] refuses,
//! saying which, unless there is exactly one report for every task 0..N-1, all made for N
//! tasks, over the same listing (its item count and hash), with the same operation, format and
//! input folder, none cancelled, and every item appears exactly once. The merged report has
//! the batch report's schema: the counts summed, the failures, warnings, collisions and
//! records of all shards (records sorted by path, each with its `shard`), `seconds` the
//! longest shard's (they run at once), `shards` = N and no `shard`. Its items equal those of
//! one batch over the same folder (tested end to end on Slurm by `scripts/cluster/slurm_test.sh`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The file name of task `index` of `count`'s report.
pub fn report_name(index: usize, count: usize) -> String {
    format!("shard-{index}-of-{count}.json")
}

/// The report files of a reports folder: every `shard-*-of-*.json`, sorted by name.
pub fn report_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

fn float(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// The sort key of a record or failure: its path (lossless form when the path is not UTF-8).
fn path_key(v: &Value) -> String {
    v["path"]
        .as_str()
        .map(str::to_string)
        .or_else(|| v["path_bytes"].as_str().map(|h| format!("\u{0}{h}")))
        .unwrap_or_default()
}

/// Merges the reports of one sharded batch (`(file, parsed JSON)` each), expecting `expect`
/// tasks. `Err` lists every reason to refuse, one per line.
pub fn merge(reports: &[(PathBuf, Value)], expect: usize) -> Result<Value, Vec<String>> {
    let mut problems = Vec::new();
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // One report per task.
    let mut by_index: BTreeMap<usize, &(PathBuf, Value)> = BTreeMap::new();
    for r in reports {
        let (p, v) = r;
        let (Some(i), Some(n)) = (v["shard"]["index"].as_u64(), v["shard"]["count"].as_u64())
        else {
            problems.push(format!(
                "{}: not the report of a shard (no \"shard\"; made without --shard?)",
                name(p)
            ));
            continue;
        };
        if n as usize != expect {
            problems.push(format!(
                "{}: made for {n} shards, not the {expect} expected",
                name(p)
            ));
            continue;
        }
        if let Some(other) = by_index.insert(i as usize, r) {
            problems.push(format!(
                "two reports for shard {i}: {} and {}",
                name(&other.0),
                name(p)
            ));
        }
    }
    let missing: Vec<String> = (0..expect)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "no report for shard{} {} of {expect}: that task failed or has not finished; rerun \
             it (tessera batch ... --shard I/{expect})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    // The same listing, operation, format and input everywhere.
    let shards: Vec<&Value> = by_index.values().map(|r| &r.1).collect();
    if let Some(first) = shards.first() {
        for key in ["listing", "op", "format", "input", "input_bytes"] {
            for (i, s) in by_index.iter() {
                if s.1[key] != first[key] {
                    problems.push(format!(
                        "shard {i}: its {key} differs from shard {}'s ({} vs {}): the shards did \
                         not run the same batch",
                        by_index.keys().next().copied().unwrap_or(0),
                        s.1[key],
                        first[key]
                    ));
                }
            }
        }
    }
    for (i, r) in &by_index {
        let v = &r.1;
        if v["cancelled"].as_bool() == Some(true) || num(v, "not_processed") > 0 {
            problems.push(format!(
                "shard {i} was cancelled ({} files not processed): rerun it",
                num(v, "not_processed")
            ));
        }
    }
    // Every item exactly once, and all of the listing.
    let mut seen: HashSet<String> = HashSet::new();
    let mut twice = Vec::new();
    for s in &shards {
        for rec in s["records"].as_array().into_iter().flatten() {
            let k = path_key(rec);
            if !seen.insert(k.clone()) {
                twice.push(k);
            }
        }
    }
    if !twice.is_empty() {
        problems.push(format!(
            "{} items appear in more than one shard (first: {})",
            twice.len(),
            twice[0]
        ));
    }
    if missing.is_empty()
        && let Some(first) = shards.first()
    {
        let listed = first["listing"]["items"].as_u64().unwrap_or(0);
        let found: u64 = shards.iter().map(|s| num(s, "found")).sum();
        if found != listed {
            problems.push(format!(
                "the shards found {found} items but the listing has {listed}"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let first = shards[0];
    let mut out: Map<String, Value> = first.as_object().cloned().unwrap_or_default();
    out.remove("shard");
    out.remove("quality");
    for key in [
        "found",
        "written",
        "skipped",
        "failed",
        "not_processed",
        "warned",
    ] {
        let total: u64 = shards.iter().map(|s| num(s, key)).sum();
        out.insert(key.into(), total.into());
    }
    let seconds = shards
        .iter()
        .map(|s| float(s, "seconds"))
        .fold(0.0, f64::max);
    for key in ["seconds", "discovery_seconds", "sync_seconds"] {
        let m = shards.iter().map(|s| float(s, key)).fold(0.0, f64::max);
        out.insert(key.into(), m.into());
    }
    let mp: f64 = shards.iter().map(|s| float(s, "megapixels")).sum();
    let done = ["written", "skipped", "failed"]
        .iter()
        .map(|k| num(&Value::Object(out.clone()), k))
        .sum::<u64>();
    let s = seconds.max(1e-9);
    out.insert("megapixels".into(), mp.into());
    out.insert("mp_per_s".into(), (mp / s).into());
    out.insert("images_per_s".into(), (done as f64 / s).into());
    out.insert("cancelled".into(), false.into());
    out.insert("shards".into(), expect.into());
    for key in ["failures", "warnings", "collisions", "records"] {
        let mut all: Vec<Value> = Vec::new();
        for (i, r) in &by_index {
            for item in r.1[key].as_array().into_iter().flatten() {
                let mut item = item.clone();
                if key == "records"
                    && let Some(o) = item.as_object_mut()
                {
                    o.insert("shard".into(), (*i).into());
                }
                all.push(item);
            }
        }
        all.sort_by_key(path_key);
        out.insert(key.into(), Value::Array(all));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shard(i: usize, n: usize, paths: &[&str]) -> (PathBuf, Value) {
        let records: Vec<Value> = paths
            .iter()
            .map(|p| json!({"path": p, "output": p, "worker": 0, "status": "written"}))
            .collect();
        (
            PathBuf::from(report_name(i, n)),
            json!({
                "input": "in", "output": "out", "op": "otsu", "format": "png",
                "found": paths.len(), "written": paths.len(), "skipped": 0, "failed": 0,
                "not_processed": 0, "warned": 0, "cancelled": false,
                "seconds": 1.0 + i as f64, "discovery_seconds": 0.1, "sync_seconds": 0.0,
                "megapixels": paths.len() as f64,
                "failures": [], "warnings": [], "collisions": [], "records": records,
                "shard": {"index": i, "count": n},
                "listing": {"items": 4, "hash": "h"},
            }),
        )
    }

    #[test]
    fn merges_complete_shards() {
        let r = [shard(1, 2, &["c", "d"]), shard(0, 2, &["a", "b"])];
        let m = merge(&r, 2).unwrap();
        assert_eq!(m["found"], 4);
        assert_eq!(m["written"], 4);
        assert_eq!(m["seconds"], 2.0);
        assert_eq!(m["shards"], 2);
        assert!(m.get("shard").is_none());
        let paths: Vec<&str> = m["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["a", "b", "c", "d"]);
        assert_eq!(m["records"][2]["shard"], 1);
    }

    #[test]
    fn refuses_and_says_why() {
        // A missing shard.
        let e = merge(&[shard(0, 2, &["a", "b"])], 2).unwrap_err();
        assert!(e[0].contains("no report for shard 1 of 2"), "{e:?}");
        // Made for another count.
        let e = merge(&[shard(0, 3, &["a"]), shard(1, 2, &["b"])], 2).unwrap_err();
        assert!(e.iter().any(|p| p.contains("made for 3 shards")), "{e:?}");
        // Another listing.
        let mut b = shard(1, 2, &["c", "d"]);
        b.1["listing"]["hash"] = json!("other");
        let e = merge(&[shard(0, 2, &["a", "b"]), b], 2).unwrap_err();
        assert!(e.iter().any(|p| p.contains("listing differs")), "{e:?}");
        // An item twice, and a count that does not add up.
        let e = merge(&[shard(0, 2, &["a", "b"]), shard(1, 2, &["b", "c"])], 2).unwrap_err();
        assert!(
            e.iter()
                .any(|p| p.contains("more than one shard (first: b)")),
            "{e:?}"
        );
        let e = merge(&[shard(0, 2, &["a"]), shard(1, 2, &["b", "c"])], 2).unwrap_err();
        assert!(
            e.iter()
                .any(|p| p.contains("found 3 items but the listing has 4")),
            "{e:?}"
        );
        // A cancelled shard.
        let mut c = shard(1, 2, &["c", "d"]);
        c.1["cancelled"] = json!(true);
        let e = merge(&[shard(0, 2, &["a", "b"]), c], 2).unwrap_err();
        assert!(
            e.iter().any(|p| p.contains("shard 1 was cancelled")),
            "{e:?}"
        );
        // Two reports for one task.
        let e = merge(&[shard(0, 2, &["a", "b"]), shard(0, 2, &["a", "b"])], 2).unwrap_err();
        assert!(
            e.iter().any(|p| p.contains("two reports for shard 0")),
            "{e:?}"
        );
    }
}
