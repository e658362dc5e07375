//! Any program as a sweep workload: `tessera bench --cmd 'python my.py --procs {workers}'`.
//!
//! Each run starts the command through `sh -c` with `{workers}` replaced by the worker count
//! of the configuration, waits for it, and times it as a whole process (start to exit). Its
//! standard output is discarded; a non-zero exit fails the sweep with the last line of its
//! standard error. A cancel kills the running process. The sweep's own pools stay idle: the
//! command brings its own parallelism, so a program and tessera appear on one chart with the
//! same interleaving, warm-ups and statistics.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{RunSample, Workload, WorkloadInfo};
use crate::control::Control;
use crate::error::EngineError;
use crate::ops::OpSettings;
use crate::pool::WorkerPool;
use crate::tile::TileSize;

/// An external command timed as a whole.
#[derive(Debug, Clone)]
pub struct CommandWorkload {
    template: String,
}

impl CommandWorkload {
    /// A workload running `template` (with `{workers}` in it, usually). An empty command is a
    /// usage error.
    pub fn new(template: impl Into<String>) -> Result<CommandWorkload, EngineError> {
        let template = template.into();
        if template.trim().is_empty() {
            return Err(EngineError::InvalidParam(
                "--cmd: the command is empty".into(),
            ));
        }
        Ok(CommandWorkload { template })
    }

    /// The command line for `workers`.
    pub fn command_for(&self, workers: usize) -> String {
        self.template.replace("{workers}", &workers.to_string())
    }
}

impl Workload for CommandWorkload {
    fn info(&self) -> WorkloadInfo {
        WorkloadInfo {
            kind: "command".into(),
            name: self.template.clone(),
            width: None,
            height: None,
            images: 0,
            megapixels: 0.0,
            op: OpSettings::default(),
            op_description: "an external command, timed as a whole process".into(),
            bytes_per_pixel: None,
        }
    }

    fn run_once(
        &self,
        pool: &WorkerPool,
        _tile: TileSize,
        ctl: &Control,
    ) -> Result<RunSample, EngineError> {
        let line = self.command_for(pool.workers());
        let fail = |reason: String| EngineError::Input {
            path: "command".into(),
            reason,
        };
        let t0 = Instant::now();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot start `{line}`: {e}")))?;
        // Drain stderr on a thread so a chatty command never blocks on a full pipe.
        let mut err = child.stderr.take();
        let drain = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_string(&mut s);
            }
            s
        });
        let status = loop {
            if let Some(st) = child.try_wait().map_err(|e| fail(e.to_string()))? {
                break st;
            }
            if ctl.is_cancelled() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(EngineError::Cancelled);
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let wall = t0.elapsed();
        let stderr = drain.join().unwrap_or_default();
        if !status.success() {
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(fail(format!(
                "`{line}` failed ({status}){}{last}",
                if last.is_empty() { "" } else { ": " }
            )));
        }
        Ok(RunSample {
            wall,
            megapixels: 0.0,
            tile_shape: "-".into(),
            items: Vec::new(),
        })
    }
}
