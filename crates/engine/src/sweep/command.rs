//! Any program as a sweep workload: `tessera bench --cmd 'python my.py --procs {workers}'`.
//!
//! Each run starts the command through `sh -c` with `{workers}` replaced by the worker count
//! of the configuration, waits for it, and times it as a whole process (start to exit). Its
//! standard output is discarded; a non-zero exit fails the sweep with the last line of its
//! standard error. A cancel kills the running process. The sweep's own pools stay idle: the
//! command brings its own parallelism, so a program and tessera appear on one chart with the
//! same interleaving, warm-ups and statistics.

use std::ffi::OsString;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
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
        let wall = run_processes(&[Process::Shell(line)], ctl)?;
        Ok(RunSample {
            wall,
            megapixels: 0.0,
            tile_shape: "-".into(),
            items: Vec::new(),
        })
    }
}

/// A process to start: a shell command line (`sh -c`), or a program with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Process {
    /// Run through `sh -c`.
    Shell(String),
    /// The program, then its arguments (no shell: paths need no quoting).
    Argv(Vec<OsString>),
}

impl Process {
    /// How it reads in an error line.
    pub fn display(&self) -> String {
        match self {
            Process::Shell(s) => s.clone(),
            Process::Argv(v) => v
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    fn command(&self) -> Option<Command> {
        match self {
            Process::Shell(s) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(s);
                Some(c)
            }
            Process::Argv(v) => {
                let (prog, args) = v.split_first()?;
                let mut c = Command::new(prog);
                c.args(args);
                Some(c)
            }
        }
    }
}

/// Starts every process at once, waits for all of them and returns the wall time from the
/// first start to the last exit. Standard output is discarded; standard error is drained
/// on a thread (a chatty program never blocks) and its last line names a failure. A
/// non-zero exit kills the others and fails with that line; a cancel kills them all and
/// returns [`EngineError::Cancelled`].
pub fn run_processes(procs: &[Process], ctl: &Control) -> Result<Duration, EngineError> {
    let fail = |reason: String| EngineError::Input {
        path: "command".into(),
        reason,
    };
    struct Running {
        child: Child,
        drain: Option<JoinHandle<String>>,
        done: bool,
    }
    fn stop(all: &mut [Running]) {
        for r in all.iter_mut().filter(|r| !r.done) {
            let _ = r.child.kill();
            let _ = r.child.wait();
            r.done = true;
        }
    }
    let t0 = Instant::now();
    let mut running: Vec<Running> = Vec::with_capacity(procs.len());
    for p in procs {
        let started = p
            .command()
            .ok_or_else(|| fail("the command is empty".into()))
            .and_then(|mut c| {
                c.stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| fail(format!("cannot start `{}`: {e}", p.display())))
            });
        let mut child = match started {
            Ok(c) => c,
            Err(e) => {
                stop(&mut running);
                return Err(e);
            }
        };
        let mut err = child.stderr.take();
        let drain = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_string(&mut s);
            }
            s
        });
        running.push(Running {
            child,
            drain: Some(drain),
            done: false,
        });
    }
    loop {
        let mut left = 0;
        for i in 0..running.len() {
            if running[i].done {
                continue;
            }
            let status = match running[i].child.try_wait() {
                Ok(s) => s,
                Err(e) => {
                    stop(&mut running);
                    return Err(fail(e.to_string()));
                }
            };
            match status {
                None => left += 1,
                Some(st) => {
                    running[i].done = true;
                    if !st.success() {
                        stop(&mut running);
                        let stderr = running[i]
                            .drain
                            .take()
                            .and_then(|d| d.join().ok())
                            .unwrap_or_default();
                        let last = stderr
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("");
                        return Err(fail(format!(
                            "`{}` failed ({st}){}{last}",
                            procs[i].display(),
                            if last.is_empty() { "" } else { ": " }
                        )));
                    }
                }
            }
        }
        if left == 0 {
            break;
        }
        if ctl.is_cancelled() {
            stop(&mut running);
            return Err(EngineError::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let wall = t0.elapsed();
    for r in &mut running {
        if let Some(d) = r.drain.take() {
            let _ = d.join();
        }
    }
    Ok(wall)
}
