//! `tessera run`: one image in, one result out.
//!
//! `-` as the input reads the image from standard input; `-` as the output writes it to
//! standard output (PNG unless `--format` says otherwise; the report then goes to stderr).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::{EXIT_FAILURE, ExecArgs, LimitArgs, OpArgs, check_target, report_error};
use tessera_engine::batch::{FailOn, OutputFormat};
use tessera_engine::io::{
    Decoded, ReadOptions, check_plane_format, decode_bytes_with, encode_plane_with, holds_16bit,
    output_format, read_image_with, remove_stale_partials,
};
use tessera_engine::{Control, EngineError, job};

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The image to process (`-`: read it from standard input).
    pub input: PathBuf,
    /// Where to write the result; the format follows the extension (png, jpg, tif, bmp, webp,
    /// pgm). `-` writes to standard output, as PNG unless --format says otherwise.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The format of a result written to standard output (`-o -`): png, jpg, tif, bmp, webp,
    /// pgm.
    #[arg(long, value_parser = super::batch::parse_format, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    #[command(flatten)]
    pub op: OpArgs,
    #[command(flatten)]
    pub png: super::PngArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Judge the result against this ground truth (the same size) and add the metrics to the
    /// report (see `tessera eval`).
    #[arg(long, value_name = "FILE")]
    pub ground_truth: Option<PathBuf>,
    #[command(flatten)]
    pub metric: super::eval::MetricArgs,
    /// Whose metric definitions with --ground-truth: dibco or doxa (see `tessera eval`).
    #[arg(long, default_value = "dibco", value_name = "dibco|doxa")]
    pub metrics_like: tessera_engine::metrics::Like,
    /// Decode, process and encode the whole image at once instead of by bands of rows.
    /// (A PNG into a PNG with an op that has a bounded halo streams by bands unless this is
    /// given: same pixels, a fraction of the memory.)
    #[arg(long)]
    pub whole: bool,
    /// Output rows per band when streaming (default: about 8 MiB of input rows).
    #[arg(long, value_name = "ROWS", conflicts_with = "whole")]
    pub band_rows: Option<usize>,
}

/// What `tessera run` did, as printed (or as JSON with `--json`). Paths are written
/// losslessly (see `tessera_engine::json_path`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten, serialize_with = "tessera_engine::json_path::input")]
    pub input: PathBuf,
    #[serde(flatten, serialize_with = "tessera_engine::json_path::output")]
    pub output: PathBuf,
    pub op: String,
    pub params: String,
    pub width: usize,
    pub height: usize,
    pub color: String,
    pub workers: usize,
    /// Tile size as `WxH`.
    pub tile: String,
    pub tiles: usize,
    /// The level a global method found, in the image's units (0..=65535 on a 16-bit image).
    pub level: Option<u16>,
    /// The levels multi-Otsu found (empty for the other ops).
    pub levels: Vec<u16>,
    /// Bits per sample of the image as read (8 or 16; see --depth).
    pub bit_depth: u32,
    /// Bits per sample of the result written (8 or 16).
    pub output_depth: u32,
    /// What the decoder warned about (a truncated JPEG); the result was made from the pixels
    /// it gave, as OpenCV would.
    pub warnings: Vec<String>,
    pub decode_ms: f64,
    pub compute_ms: f64,
    /// Encoding into memory.
    pub encode_ms: f64,
    /// Writing the encoded bytes: to standard output, or atomically to the file (fsync
    /// included).
    pub write_ms: f64,
    pub mp_per_s: f64,
    /// The result against --ground-truth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<tessera_engine::metrics::Metrics>,
    /// Whether the image was streamed by bands of rows (`bands` of `band_rows`), and, when
    /// it was not, why (`--whole`, a global op, a palette PNG, ...).
    pub streamed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bands: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band_rows: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_streamed: Option<String>,
}

fn is_std(p: &Path) -> bool {
    p.as_os_str() == "-"
}

pub fn execute(args: &RunArgs) -> ExitCode {
    super::signals::install_immediate();
    match run(args, &Control::new()) {
        Ok(report) => {
            for w in &report.warnings {
                eprintln!("tessera: warning: {}: {w}", args.input.display());
            }
            if args.json {
                match serde_json::to_string(&report) {
                    Ok(s) => crate::outln!("{s}"),
                    Err(e) => {
                        eprintln!("tessera: error: cannot write the report as JSON: {e}");
                        return ExitCode::from(EXIT_FAILURE);
                    }
                }
            } else {
                print_report(&report, is_std(&args.output));
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_error(&e),
    }
}

fn usage(m: String) -> EngineError {
    EngineError::InvalidParam(m)
}

/// Validates, decodes, computes and writes; nothing is written unless all of it succeeds.
/// `ctl` cancels the job.
pub fn run(args: &RunArgs, ctl: &Control) -> Result<RunReport, EngineError> {
    // Usage errors first, before any work.
    let op = args.op.op()?;
    let cfg = args.exec.config()?;
    let limits = args.limits.limits()?;
    let to_stdout = is_std(&args.output);
    let format = match (to_stdout, args.format) {
        (true, f) => f.unwrap_or_default().image_format(),
        (false, None) => output_format(&args.output)?,
        (false, Some(_)) => {
            return Err(usage(
                "--format is for a result written to standard output (-o -); otherwise the \
                 output's extension says the format"
                    .into(),
            ));
        }
    };
    let png = args.png.options();
    if format != image::ImageFormat::Png && !png.is_default() {
        return Err(usage(format!(
            "--compression and --png-bilevel apply to PNG results, not {}",
            format.extensions_str().first().unwrap_or(&"this format")
        )));
    }
    if to_stdout && args.json {
        return Err(usage(
            "--json prints the report on standard output, where -o - writes the image; use one"
                .into(),
        ));
    }
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(usage(
            "-o - writes the image to standard output, which is a terminal: redirect it to a \
             file or a pipe"
                .into(),
        ));
    }
    if !to_stdout && !is_std(&args.input) {
        let mut inputs = vec![args.input.as_path()];
        inputs.extend(args.ground_truth.as_deref());
        check_target("the output", &args.output, &inputs, &[])?;
    }
    // The ground truth is read before any work: a missing one fails fast.
    let truth = match &args.ground_truth {
        Some(p) => Some(tessera_engine::metrics::read_gray(p, limits)?),
        None => None,
    };
    let opts = ReadOptions {
        limits,
        control: Some(ctl),
        budget: None,
        depth: args.op.settings().read_depth(),
    };
    if args.band_rows == Some(0) {
        return Err(usage("--band-rows must be at least 1".into()));
    }
    let not_streamed = match why_not_stream(args, format, to_stdout) {
        Some(why) => why,
        None => match stream(args, &op, &cfg, limits, ctl)? {
            Ok(report) => return Ok(report),
            Err(why) => why,
        },
    };

    let t0 = Instant::now();
    let Decoded {
        image: src,
        warnings,
        ..
    } = if is_std(&args.input) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limits.max_memory + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| input_error(&args.input, tessera_engine::io::io_reason(&e)))?;
        if bytes.len() as u64 > limits.max_memory {
            return Err(input_error(
                &args.input,
                format!(
                    "standard input holds more than the memory limit ({} MiB)",
                    limits.max_memory >> 20
                ),
            ));
        }
        decode_bytes_with("standard input", &bytes, &opts)?
    } else {
        read_image_with(&args.input, &opts).map_err(|e| with_pipe_hint(e, &args.input))?
    };
    let decode = t0.elapsed();
    if !warnings.is_empty() && args.limits.fail_on == FailOn::Warning {
        return Err(input_error(
            &args.input,
            format!("{} (failing on warnings)", warnings.join("; ")),
        ));
    }

    let (width, height, color, megapixels) = (
        src.width(),
        src.height(),
        src.color.clone(),
        src.megapixels(),
    );
    let bit_depth = src.bit_depth();
    if bit_depth == 16 && op.keeps_values() && !holds_16bit(format) {
        // Refused before any work: the result would be 16-bit.
        check_plane_format(
            &tessera_engine::source::Plane::Gray16(Default::default()),
            if to_stdout {
                Path::new("standard output")
            } else {
                &args.output
            },
        )?;
    }
    let out = job::run_owned(src, &op, &cfg, ctl)?;
    if ctl.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    let metrics = match (&truth, &args.ground_truth) {
        (Some(truth), Some(gt_path)) => Some(score(&out.image, truth, gt_path, args, cfg.workers)?),
        _ => None,
    };

    // Encoded into memory (timed alone: encode_ms), then written (write_ms: to standard
    // output, or atomically to the file with its fsync).
    let t1 = Instant::now();
    let mut bytes = std::io::Cursor::new(Vec::new());
    encode_plane_with(&out.image, format, png, &mut bytes).map_err(|e| EngineError::Output {
        path: args.output.clone(),
        reason: e.to_string(),
    })?;
    let encode = t1.elapsed();
    let t2 = Instant::now();
    if to_stdout {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(bytes.get_ref())
            .and_then(|()| stdout.flush())
            .map_err(|e| EngineError::Output {
                path: "standard output".into(),
                reason: tessera_engine::io::io_reason(&e),
            })?;
    } else {
        if let Some(dir) = args.output.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            remove_stale_partials(dir);
        }
        tessera_engine::io::write_atomic(&args.output, bytes.get_ref())?;
    }
    let write = t2.elapsed();

    let compute_s = out.stats.compute.as_secs_f64();
    Ok(RunReport {
        input: args.input.clone(),
        output: args.output.clone(),
        op: op.kind().name().to_string(),
        params: op.describe(),
        width,
        height,
        color,
        workers: out.stats.workers,
        tile: out.stats.tile.to_string(),
        tiles: out.stats.tiles,
        level: out.level,
        levels: out.levels.clone(),
        bit_depth,
        output_depth: out.image.bit_depth(),
        warnings,
        decode_ms: decode.as_secs_f64() * 1e3,
        compute_ms: compute_s * 1e3,
        encode_ms: encode.as_secs_f64() * 1e3,
        write_ms: write.as_secs_f64() * 1e3,
        mp_per_s: if compute_s > 0.0 {
            megapixels / compute_s
        } else {
            0.0
        },
        metrics,
        streamed: false,
        bands: None,
        band_rows: None,
        not_streamed: Some(not_streamed),
    })
}

/// Why this run is not even tried by bands (before the file is opened), or `None`.
fn why_not_stream(args: &RunArgs, format: image::ImageFormat, to_stdout: bool) -> Option<String> {
    if args.whole {
        return Some("--whole".into());
    }
    if is_std(&args.input) || to_stdout {
        return Some("standard input or output".into());
    }
    if format != image::ImageFormat::Png {
        return Some("the result is not a PNG".into());
    }
    if args.ground_truth.is_some() {
        return Some("--ground-truth scores the whole result".into());
    }
    // Only a regular file is opened here: opening a FIFO would wait for a writer (the whole
    // path reads those with its non-blocking open and refuses them).
    if !std::fs::metadata(&args.input).is_ok_and(|m| m.is_file()) {
        return Some("the input is not a regular file".into());
    }
    let mut magic = [0u8; 8];
    let is_png = std::fs::File::open(&args.input)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x89PNG\r\n\x1a\n";
    (!is_png).then(|| "the input is not a PNG".into())
}

/// Streams the PNG by bands; `Ok(Err(why))`, having written nothing, when it cannot.
fn stream(
    args: &RunArgs,
    op: &tessera_engine::ops::Op,
    cfg: &job::JobConfig,
    limits: tessera_engine::io::DecodeLimits,
    ctl: &Control,
) -> Result<Result<RunReport, String>, EngineError> {
    let pool = tessera_engine::pool::WorkerPool::shared(cfg.workers)?;
    if let Some(dir) = args.output.parent() {
        remove_stale_partials(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        });
    }
    let stats = match tessera_engine::stream::run_png_file(
        &args.input,
        &args.output,
        op,
        &pool,
        cfg.tile,
        args.png.options(),
        limits,
        args.band_rows,
        ctl,
    )? {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let megapixels = (stats.width * stats.height) as f64 / 1e6;
    let compute_s = stats.compute.as_secs_f64();
    Ok(Ok(RunReport {
        input: args.input.clone(),
        output: args.output.clone(),
        op: op.kind().name().to_string(),
        params: op.describe(),
        width: stats.width,
        height: stats.height,
        color: stats.color.clone(),
        workers: cfg.workers,
        tile: cfg.tile.to_string(),
        tiles: stats.tiles,
        level: None,
        levels: Vec::new(),
        bit_depth: 8,
        output_depth: 8,
        warnings: Vec::new(),
        decode_ms: stats.decode.as_secs_f64() * 1e3,
        compute_ms: compute_s * 1e3,
        // Encoding and writing interleave band by band: all of it is encode_ms.
        encode_ms: stats.encode.as_secs_f64() * 1e3,
        write_ms: 0.0,
        mp_per_s: if compute_s > 0.0 {
            megapixels / compute_s
        } else {
            0.0
        },
        metrics: None,
        streamed: true,
        bands: Some(stats.bands),
        band_rows: Some(stats.band_rows),
        not_streamed: None,
    }))
}

/// The result's metrics against its ground truth (before anything is written: a mismatch
/// fails the command and writes nothing).
fn score(
    image: &tessera_engine::source::Plane,
    truth: &image::GrayImage,
    gt_path: &Path,
    args: &RunArgs,
    workers: usize,
) -> Result<tessera_engine::metrics::Metrics, EngineError> {
    use tessera_engine::metrics::{EvalOptions, evaluate};
    let Some(result) = image.as_gray8() else {
        return Err(input_error(
            gt_path,
            "the result is 16-bit; metrics judge a binarization (an 8-bit mask)".into(),
        ));
    };
    let opts = EvalOptions {
        foreground: args.metric.foreground,
        like: args.metrics_like,
    };
    let pool = tessera_engine::pool::WorkerPool::shared(workers)?;
    pool.install(|| evaluate(result, truth, &opts))
        .map_err(|e| input_error(gt_path, e.to_string()))
}

fn input_error(path: &Path, reason: String) -> EngineError {
    EngineError::Input {
        path: path.to_path_buf(),
        reason,
    }
}

/// `/dev/stdin` on a pipe is a FIFO, which is never read as a file: say how to read it.
fn with_pipe_hint(e: EngineError, path: &Path) -> EngineError {
    match e {
        EngineError::Input { reason, .. } if reason.contains("named pipe") => input_error(
            path,
            format!("{reason} (to read standard input, give `-` as the input)"),
        ),
        other => other,
    }
}

fn print_report(r: &RunReport, to_stderr: bool) {
    let mut lines = vec![format!(
        "{} -> {}: {} ({}x{}, {}) -> {}-bit result",
        r.input.display(),
        r.output.display(),
        r.params,
        r.width,
        r.height,
        r.color,
        r.output_depth
    )];
    if let Some(level) = r.level {
        lines.push(format!("{} level: {level}", r.op));
    }
    if !r.levels.is_empty() {
        let l: Vec<String> = r.levels.iter().map(|v| v.to_string()).collect();
        lines.push(format!("{} levels: {}", r.op, l.join(", ")));
    }
    if r.tiles == 0 {
        lines.push(format!(
            "input already {}-bit gray: passed through unchanged",
            r.bit_depth
        ));
    } else {
        lines.push(format!(
            "{} workers, tiles {} ({} per stage)",
            r.workers, r.tile, r.tiles
        ));
    }
    if let (Some(bands), Some(rows)) = (r.bands, r.band_rows) {
        lines.push(format!(
            "streamed by bands: {bands} bands of {rows} rows; decode {:.1} ms, compute {:.1} ms \
             ({:.0} MP/s), encode + write {:.1} ms",
            r.decode_ms, r.compute_ms, r.mp_per_s, r.encode_ms
        ));
    } else {
        lines.push(format!(
            "decode {:.1} ms, compute {:.1} ms ({:.0} MP/s), encode {:.1} ms, write {:.1} ms",
            r.decode_ms, r.compute_ms, r.mp_per_s, r.encode_ms, r.write_ms
        ));
    }
    if let Some(m) = &r.metrics {
        lines.push(format!("against the ground truth: {}", m.summary_line()));
    }
    for line in lines {
        if to_stderr {
            eprintln!("{line}");
        } else {
            crate::outln!("{line}");
        }
    }
}
