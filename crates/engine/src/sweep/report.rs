//! Exports of a sweep: the derived table as CSV, and everything (machine, date, tool version,
//! settings, derived table, every raw run) as JSON, so a result can be reproduced and compared
//! across machines. Files are written atomically (temporary file, then rename).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::stats::{AmdahlFit, Baseline, ConfigRow, Summary, summarize};
use super::{PoolInfo, RunRecord, SweepConfig, SweepResult, WorkloadInfo};
use crate::error::EngineError;

/// The machine a sweep ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// Cores available to the process.
    pub cores: usize,
    /// CPU model from `/proc/cpuinfo` where available.
    pub cpu_model: Option<String>,
    /// Operating system (`/etc/os-release` name where available, else the target OS).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
}

impl Machine {
    /// Describes this machine, with `cores` as the sweep saw it.
    pub fn detect(cores: usize) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| parse_cpu_model(&s));
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_string())
            })
            .map(|n| format!("{} ({n})", std::env::consts::OS))
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        Machine {
            cores,
            cpu_model,
            os,
            arch: std::env::consts::ARCH.into(),
        }
    }
}

/// The `model name` (x86) or `Model`/`CPU part` line of a `/proc/cpuinfo` text.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "Hardware", "cpu model"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

/// The tool that made a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    /// Program name (`tessera`).
    pub name: &'static str,
    /// Program version.
    pub version: &'static str,
}

/// The settings a sweep ran with: enough to run it again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings<'a> {
    /// What was timed.
    pub workload: &'a WorkloadInfo,
    /// Worker counts swept.
    pub workers: &'a [usize],
    /// Tile sizes swept (`auto` or edges).
    pub tiles: Vec<String>,
    /// Measured runs per configuration.
    pub repeats: usize,
    /// Unmeasured warm-up runs per configuration.
    pub warmup: usize,
    /// How runs were ordered (interleaved rounds).
    pub order: &'static str,
    /// How the speedup baseline was chosen.
    pub baseline: &'static str,
    /// How the Amdahl fit was made.
    pub amdahl: &'static str,
}

/// The JSON document of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport<'a> {
    /// The program and version that ran the sweep.
    pub tool: Tool,
    /// When the sweep started (RFC 3339, UTC).
    pub date: &'a str,
    /// The machine the sweep ran on.
    pub machine: Machine,
    /// The settings, enough to run the sweep again.
    pub settings: Settings<'a>,
    /// Pool creation times, measured apart from the runs.
    pub pools: &'a [PoolInfo],
    /// Wall time of the whole sweep, in seconds.
    pub total_s: f64,
    /// Same keys as the CSV.
    pub rows: &'a [ConfigRow],
    /// The speedup baseline of each tile size.
    pub baselines: &'a [Baseline],
    /// Amdahl fits, one per tile size.
    pub amdahl: &'a [AmdahlFit],
    /// Every run in the order made, warm-ups included (flagged), with per-tile records.
    pub runs: &'a [RunRecord],
    /// Intervals, outliers, noise warnings, models and the verdict
    /// ([`inference`](super::inference)).
    pub inference: super::inference::Inference,
    /// The 1-minute load average before and after the sweep.
    pub load_before: Option<f64>,
    /// See [`SweepReport::load_before`].
    pub load_after: Option<f64>,
}

impl<'a> SweepReport<'a> {
    /// The report of a sweep and its derived table.
    pub fn new(result: &'a SweepResult, summary: &'a Summary) -> Self {
        let SweepConfig {
            workers,
            tiles,
            repeats,
            warmup,
        } = &result.config;
        SweepReport {
            tool: Tool {
                name: "tessera",
                version: env!("CARGO_PKG_VERSION"),
            },
            date: &result.date,
            machine: Machine::detect(result.cores),
            settings: Settings {
                workload: &result.workload,
                workers,
                tiles: tiles.iter().map(|&t| t.to_string()).collect(),
                repeats: *repeats,
                warmup: *warmup,
                order: "warm-up rounds, then measured rounds; each round runs every \
                        configuration once, round r starting at configuration r mod n",
                baseline: "speedup = median time of the baseline (1 worker, or the smallest \
                           worker count swept) / median time; efficiency = speedup * \
                           baseline_workers / workers",
                amdahl: "least squares T(N) = serial_s + parallel_s / N on the medians of \
                         worker counts <= cores; serial_fraction = serial_s / (serial_s + \
                         parallel_s)",
            },
            pools: &result.pools,
            total_s: result.total_s,
            rows: &summary.rows,
            baselines: &summary.baselines,
            amdahl: &summary.amdahl,
            runs: &result.runs,
            inference: super::inference::infer(result, summary),
            load_before: result.load_before,
            load_after: result.load_after,
        }
    }
}

/// The sweep in hyperfine's JSON export format (`{"results": [{"command", "mean", "stddev",
/// "median", "user", "system", "min", "max", "times", "parameters"}]}`), one result per
/// configuration, so scripts written for hyperfine plot it as they are. `user` and `system`
/// are not measured (0). Times in seconds, measured runs only.
pub fn hyperfine_json(result: &SweepResult) -> Result<String, EngineError> {
    let name = &result.workload.name;
    let results: Vec<serde_json::Value> = result
        .configs
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let times: Vec<f64> = result
                .measured()
                .filter(|r| r.config == i)
                .map(|r| r.wall_s)
                .collect();
            let n = times.len().max(1) as f64;
            let mean = times.iter().sum::<f64>() / n;
            let var = if times.len() > 1 {
                times.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / (n - 1.0)
            } else {
                0.0
            };
            serde_json::json!({
                "command": if result.workload.kind == "command" {
                    name.replace("{workers}", &k.workers.to_string())
                } else {
                    format!("{name} (workers={}, tile={})", k.workers, k.tile)
                },
                "mean": mean,
                "stddev": var.sqrt(),
                "median": super::stats::median(&times),
                "user": 0.0,
                "system": 0.0,
                "min": times.iter().cloned().fold(f64::INFINITY, f64::min),
                "max": times.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                "times": times,
                "parameters": {"workers": k.workers.to_string(), "tile": k.tile.to_string()},
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "results": results }))
        .map_err(|e| EngineError::Internal(format!("JSON: {e}")))
}

/// Writes the derived table as CSV (header + one row per configuration).
pub fn write_csv(summary: &Summary, out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    for row in &summary.rows {
        w.serialize(row)?;
    }
    w.flush()?;
    Ok(())
}

/// The derived table as CSV text.
pub fn csv_string(summary: &Summary) -> Result<String, EngineError> {
    let mut buf = Vec::new();
    write_csv(summary, &mut buf).map_err(|e| EngineError::Internal(format!("CSV: {e}")))?;
    String::from_utf8(buf).map_err(|e| EngineError::Internal(format!("CSV: {e}")))
}

/// The full report as pretty JSON text.
pub fn json_string(result: &SweepResult, summary: &Summary) -> Result<String, EngineError> {
    serde_json::to_string_pretty(&SweepReport::new(result, summary))
        .map_err(|e| EngineError::Internal(format!("JSON: {e}")))
}

pub use crate::io::write_atomic;

/// Saves the derived table as CSV.
pub fn save_csv(summary: &Summary, path: &Path) -> Result<(), EngineError> {
    write_atomic(path, csv_string(summary)?.as_bytes())
}

/// Saves the full report as JSON.
pub fn save_json(result: &SweepResult, path: &Path) -> Result<(), EngineError> {
    let summary = summarize(result);
    write_atomic(path, json_string(result, &summary)?.as_bytes())
}
