//! `tessera run`: one image in, one result out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::{EXIT_FAILURE, ExecArgs, OpArgs, report_error};
use tessera_engine::io::{DecodeLimits, output_format, read_image, same_file, write_gray_atomic};
use tessera_engine::{Control, EngineError, job};

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The image to process.
    pub input: PathBuf,
    /// Where to write the result; the format follows the extension (png, jpg, tif, bmp, webp,
    /// pgm).
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub op: OpArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `tessera run` did, as printed (or as JSON with `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub input: PathBuf,
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
    pub level: Option<u8>,
    pub decode_ms: f64,
    pub compute_ms: f64,
    pub encode_ms: f64,
    pub mp_per_s: f64,
}

pub fn execute(args: &RunArgs) -> ExitCode {
    match run(args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string(&report) {
                    Ok(s) => crate::outln!("{s}"),
                    Err(e) => {
                        eprintln!("tessera: error: cannot write the report as JSON: {e}");
                        return ExitCode::from(EXIT_FAILURE);
                    }
                }
            } else {
                print_report(&report);
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_error(&e),
    }
}

/// Validates, decodes, computes and writes; nothing is written unless all of it succeeds.
pub fn run(args: &RunArgs) -> Result<RunReport, EngineError> {
    // Usage errors first, before any work.
    let op = args.op.settings().to_op()?;
    let cfg = args.exec.config()?;
    output_format(&args.output)?;
    if same_file(&args.input, &args.output) {
        return Err(EngineError::InvalidParam(format!(
            "the output {} is the input file; choose another output path",
            args.output.display()
        )));
    }

    let t0 = Instant::now();
    let src = read_image(&args.input, DecodeLimits::default())?;
    let decode = t0.elapsed();

    let (width, height, color, megapixels) = (
        src.width(),
        src.height(),
        src.color.clone(),
        src.megapixels(),
    );
    let out = job::run_owned(src, &op, &cfg, &Control::new())?;

    let t1 = Instant::now();
    write_gray_atomic(&out.image, &args.output)?;
    let encode = t1.elapsed();

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
        decode_ms: decode.as_secs_f64() * 1e3,
        compute_ms: compute_s * 1e3,
        encode_ms: encode.as_secs_f64() * 1e3,
        mp_per_s: if compute_s > 0.0 {
            megapixels / compute_s
        } else {
            0.0
        },
    })
}

fn print_report(r: &RunReport) {
    crate::outln!(
        "{} -> {}: {} ({}x{}, {})",
        r.input.display(),
        r.output.display(),
        r.params,
        r.width,
        r.height,
        r.color
    );
    if let Some(level) = r.level {
        crate::outln!("{} level: {level}", r.op);
    }
    if r.tiles == 0 {
        crate::outln!("input already 8-bit gray: passed through unchanged");
    } else {
        crate::outln!(
            "{} workers, tiles {} ({} per stage)",
            r.workers,
            r.tile,
            r.tiles
        );
    }
    crate::outln!(
        "decode {:.1} ms, compute {:.1} ms ({:.0} MP/s), encode {:.1} ms",
        r.decode_ms,
        r.compute_ms,
        r.mp_per_s,
        r.encode_ms
    );
}
