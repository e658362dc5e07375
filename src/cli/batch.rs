//! `tessera batch`: every image of a folder into another folder.
//!
//! Progress goes to stderr (a progress bar on a terminal, a plain line every two seconds
//! otherwise), each failure as one line `tessera: PATH: reason` as it happens, the summary to
//! stdout, and the full report as JSON with `--report FILE`. Ctrl-C cancels cleanly (only
//! complete results are left); a second Ctrl-C quits at once, deleting its temporary files.
//! SIGTERM and SIGHUP are handled as Ctrl-C.
//!
//! Exit codes: 0 every file written or skipped, 1 some file failed or the batch was cancelled
//! (or the output folder cannot be written), 2 usage error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{EXIT_FAILURE, EXIT_OK, ExecArgs, LimitArgs, OpArgs, report_error};
use tessera_engine::EngineError;
use tessera_engine::batch::{
    self, BatchConfig, BatchReport, Control, Durability, MAX_QUEUE, Outcome, OutputFormat, Phase,
    Progress, Strategy,
};

#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// The folder of images to process.
    pub input: PathBuf,
    /// The folder results go to (created if missing). It may be INPUT_DIR only with --suffix.
    #[arg(short, long, value_name = "OUTPUT_DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub op: OpArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Process sub-folders too; results keep the same layout.
    #[arg(short, long)]
    pub recursive: bool,
    /// Only files whose path (relative to INPUT_DIR) matches this glob, instead of every file
    /// with an image extension; may be repeated (e.g. --include '*.png' --include 'scan*.tif').
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Format of the results: png, jpg (quality 95), tif, bmp, webp (lossless), pgm.
    #[arg(long, value_parser = parse_format, default_value = "png")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub png: super::PngArgs,
    /// Leave results that already exist alone (to resume a cancelled batch).
    #[arg(long)]
    pub skip_existing: bool,
    /// Text appended to each result's name (`a.jpg` -> `a<SUFFIX>.png`).
    #[arg(long, default_value = "", value_name = "S")]
    pub suffix: String,
    /// Write the full report (counts, time, failures and warnings with reasons, per-file
    /// records) as JSON, atomically: complete or absent. It may not be an input or a result
    /// of the batch.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// worker-reads: each worker reads its own files (fast); preload: one reader decodes
    /// everything and hands the pixels to the workers (for comparison).
    #[arg(long, value_parser = parse_strategy, default_value = "worker-reads")]
    pub strategy: Strategy,
    /// Decoded images waiting for a worker with --strategy preload, 0..=1024 (0, the default:
    /// 2 x workers). They count against --max-memory too.
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub queue: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// When results are forced to the disk: never (left to the OS, like cp), end (one flush
    /// of the file system when the batch ends), each (every file before its rename; slow).
    /// Results are never half-written, whichever you choose: this only matters for a power cut.
    #[arg(long, value_parser = parse_durability, default_value = "never")]
    pub sync: Durability,
    /// No progress and no summary (failures are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Judge each result against its ground truth in this folder (same relative path and
    /// stem, any image extension): per-file metrics and a summary (mean, median, worst files)
    /// in the report. A file without one is listed, not failed.
    #[arg(long, value_name = "DIR")]
    pub ground_truth: Option<PathBuf>,
    #[command(flatten)]
    pub metric: super::eval::MetricArgs,
    /// Whose metric definitions with --ground-truth: dibco or doxa (see `tessera eval`).
    #[arg(long, default_value = "dibco", value_name = "dibco|doxa")]
    pub metrics_like: tessera_engine::metrics::Like,
    /// Process only task I of N of a job array (I from 0, as `sbatch --array=0-3` numbers
    /// them): the files are sorted by path and each task takes a contiguous slice, so N
    /// tasks together write exactly what one batch writes. `auto` reads the task from
    /// Slurm's SLURM_ARRAY_TASK_ID/COUNT; `auto/N` also from Kubernetes'
    /// JOB_COMPLETION_INDEX, AWS Batch's AWS_BATCH_JOB_ARRAY_INDEX or GNU parallel's
    /// PARALLEL_SEQ. The report then goes to OUTPUT_DIR/reports/shard-I-of-N.json (unless
    /// --report says where), written last, for `tessera merge`.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<batch::ShardSpec>,
    /// Take this shard's files from a plan made by `tessera plan` (its slice file only: the
    /// folder is not listed). Needs --shard; `--shard auto` takes the count from the plan.
    /// The plan must have been made with this batch's operation and naming options.
    #[arg(long, value_name = "PLAN_DIR", requires = "shard")]
    pub plan: Option<PathBuf>,
}

pub(crate) fn parse_format(s: &str) -> Result<OutputFormat, String> {
    OutputFormat::from_name(s).ok_or_else(|| {
        let all: Vec<_> = OutputFormat::ALL.iter().map(|f| f.extension()).collect();
        format!("unknown format {s:?} (expected one of: {})", all.join(", "))
    })
}

fn parse_strategy(s: &str) -> Result<Strategy, String> {
    Strategy::from_name(s)
        .ok_or_else(|| format!("unknown strategy {s:?} (expected worker-reads or preload)"))
}

fn parse_durability(s: &str) -> Result<Durability, String> {
    Durability::from_name(s)
        .ok_or_else(|| format!("unknown sync mode {s:?} (expected never, end or each)"))
}

impl BatchArgs {
    /// The engine config these arguments describe (validated by the engine).
    pub fn config(&self) -> Result<BatchConfig, EngineError> {
        self.op.op()?;
        let job = self.exec.config()?;
        let limits = self.limits.limits()?;
        if self.queue > MAX_QUEUE {
            return Err(EngineError::InvalidParam(format!(
                "--queue must be between 0 (automatic) and {MAX_QUEUE}, got {}",
                self.queue
            )));
        }
        let cfg = BatchConfig {
            recursive: self.recursive,
            include: self.include.clone(),
            format: self.format,
            suffix: self.suffix.clone(),
            skip_existing: self.skip_existing,
            strategy: self.strategy,
            workers: job.workers,
            op: self.op.settings(),
            tile: job.tile,
            limits,
            queue: self.queue,
            fail_on: self.limits.fail_on,
            durability: self.sync,
            png: self.png.options(),
            ground_truth: self.ground_truth.as_ref().map(|dir| batch::GroundTruth {
                dir: dir.clone(),
                eval: tessera_engine::metrics::EvalOptions {
                    foreground: self.metric.foreground,
                    like: self.metrics_like,
                },
            }),
            shard: match (&self.shard, &self.plan) {
                (Some(batch::ShardSpec::Auto(None)), Some(dir)) => {
                    let count = batch::saved::read_header(dir)?.shards;
                    batch::ShardSpec::Auto(Some(count)).resolve()?
                }
                (Some(spec), _) => spec.resolve()?,
                (None, _) => batch::Shard::ALL,
            },
            plan: self.plan.clone(),
            ..BatchConfig::new(&self.input, &self.output)
        };
        cfg.validate()?;
        if let Some(r) = self.report.as_ref().filter(|r| !batch::remote::is_url(r)) {
            let parent = r.parent().filter(|p| !p.as_os_str().is_empty());
            if parent.is_some_and(|p| !p.is_dir()) || r.is_dir() {
                return Err(EngineError::InvalidParam(format!(
                    "--report {}: its folder does not exist or it is a folder",
                    r.display()
                )));
            }
            if let Some(what) = cfg.claims(r) {
                return Err(EngineError::InvalidParam(format!(
                    "--report {}: that is {what}; give the report its own path",
                    r.display()
                )));
            }
        }
        Ok(cfg)
    }
}

pub fn execute(args: &BatchArgs) -> ExitCode {
    let cfg = match args.config() {
        Ok(c) => c,
        Err(e) => return report_error(&e),
    };
    let tty = std::io::stderr().is_terminal() && !args.quiet;
    let bar = if tty {
        let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(10));
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let print_bar = bar.clone();
    let ctl = Arc::new(Control::new().with_observer(move |ev| {
        let print = |line: String| match &print_bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        };
        if let Outcome::Failed(reason) = ev.outcome {
            print(format!("tessera: {}: {reason}", ev.input.display()));
        } else if !ev.warnings.is_empty() {
            print(format!(
                "tessera: warning: {}: {}",
                ev.input.display(),
                ev.warnings.join("; ")
            ));
        }
    }));
    super::signals::install(&ctl, "finishing the files being written");

    let result = std::thread::scope(|s| {
        // Dropped when the batch ends, which wakes the watcher at once.
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let watcher = (!args.quiet).then(|| s.spawn(|| watch(&ctl, bar.as_ref(), done_rx)));
        let r = batch::run(&cfg, &ctl);
        drop(done_tx);
        if let Some(w) = watcher {
            let _ = w.join();
        }
        r
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => return report_error(&e),
    };
    for c in &report.collisions {
        eprintln!(
            "tessera: note: {} -> {} ({} was taken: {})",
            c.path.display(),
            c.output.display(),
            c.wanted.display(),
            c.reason
        );
    }
    if !args.quiet {
        print_summary(&report);
    }
    // A shard's report goes, by default, to OUT/reports/shard-I-of-N.json for `tessera merge`.
    let report_path = args.report.clone().or_else(|| {
        report.shard.map(|s| {
            cfg.output
                .join("reports")
                .join(batch::merge::report_name(s.index, s.count))
        })
    });
    if let Some(path) = &report_path {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !batch::remote::is_url(path)
        {
            let _ = std::fs::create_dir_all(dir);
        }
        // Atomically, and last: a full disk leaves the old report (or none), never a cut one
        // (in a bucket: one PUT, complete or absent).
        let write = serde_json::to_vec_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|json| super::write_out(path, json).map_err(|e| e.to_string()));
        if let Err(e) = write {
            eprintln!("tessera: error: cannot write the report: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    ExitCode::from(if report.all_ok() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// Shows progress until the batch ends (`done` disconnects): the bar on a terminal, else a
/// line every 2 s.
fn watch(ctl: &Control, bar: Option<&ProgressBar>, done: mpsc::Receiver<()>) {
    let tick = Duration::from_millis(100);
    let mut since_line = Duration::ZERO;
    while let Err(mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(tick) {
        let p = ctl.progress();
        match bar {
            Some(b) => {
                b.set_length(p.found as u64);
                b.set_position(p.done as u64);
                b.set_message(status(&p));
            }
            None => {
                since_line += tick;
                if since_line >= Duration::from_secs(2) && p.phase != Phase::Finished {
                    since_line = Duration::ZERO;
                    eprintln!("tessera: {}/{} {}", p.done, p.found, status(&p));
                }
            }
        }
    }
}

fn status(p: &Progress) -> String {
    let mut s = match p.phase {
        Phase::Discovering => format!("finding files ({} so far)", p.found),
        Phase::Syncing => "flushing to disk".into(),
        _ => format!("{:.1} MP/s, {:.0} images/s", p.mp_per_s, p.images_per_s),
    };
    if p.failed > 0 {
        s += &format!(", {} failed", p.failed);
    }
    if p.skipped > 0 {
        s += &format!(", {} skipped", p.skipped);
    }
    if let Some(eta) = p.eta {
        s += &format!(", ETA {}", fmt_duration(eta));
    }
    if p.cancelled {
        s += ", cancelling";
    }
    s
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn print_summary(r: &BatchReport) {
    match r.shard {
        Some(sh) => crate::outln!("{} (shard {sh}): {}", r.input.display(), r.counts_line()),
        None => crate::outln!("{}: {}", r.input.display(), r.counts_line()),
    }
    crate::outln!(
        "{} on {} workers ({}), {} -> {}",
        r.op,
        r.workers,
        r.strategy.name(),
        r.format.extension(),
        r.output.display()
    );
    crate::outln!(
        "{:.3} s ({:.1} images/s, {:.1} MP/s; {:.1} MP written)",
        r.total.as_secs_f64(),
        r.images_per_s,
        r.mp_per_s,
        r.megapixels
    );
    if !r.collisions.is_empty() {
        crate::outln!(
            "{} name collisions resolved (see the notes above)",
            r.collisions.len()
        );
    }
    if !r.failures.is_empty() {
        crate::outln!("failed:");
        for f in &r.failures {
            crate::outln!("  {}: {}", f.path.display(), f.reason);
        }
    }
    if !r.warnings.is_empty() && r.fail_on == tessera_engine::batch::FailOn::Error {
        crate::outln!("written with warnings (--fail-on warning to fail them):");
        for w in &r.warnings {
            crate::outln!("  {}: {}", w.path.display(), w.reason);
        }
    }
    if let Some(q) = &r.quality {
        print_quality(r, q);
    }
}

fn print_quality(r: &BatchReport, q: &batch::QualitySummary) {
    use tessera_engine::metrics::Metric;
    crate::outln!(
        "against {} ({} foreground, {} definitions): {} scored, {} not scored",
        q.ground_truth.display(),
        q.foreground,
        q.like,
        q.scored,
        q.unscored
    );
    if q.scored > 0 {
        let f = q.stat(Metric::FMeasure);
        let p = q.stat(Metric::Psnr);
        let d = q.stat(Metric::Drd);
        let mut line = format!(
            "  F-measure mean {:.2} %, median {:.2} %; PSNR mean {:.2} dB; DRD mean {:.3}",
            f.mean, f.median, p.mean, d.mean
        );
        if f.not_finite > 0 {
            line += &format!(" ({} without any true positive left out)", f.not_finite);
        }
        crate::outln!("{line}");
        let worst: Vec<String> = q
            .worst
            .iter()
            .map(|w| format!("{} {:.2} %", w.path.display(), w.f_measure))
            .collect();
        crate::outln!("  lowest F-measure: {}", worst.join(", "));
    }
    for rec in &r.records {
        if let Some(batch::Quality::Unscored { ground_truth_error }) = &rec.quality {
            crate::outln!("  not scored: {}: {ground_truth_error}", rec.path.display());
        }
    }
}
