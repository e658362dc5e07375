//! Command-line parsing (clap) into validated engine configs, and the headless subcommands.
//!
//! Exit codes: 0 success, 1 failure (some input or output failed), 2 usage error.

pub mod batch;
pub mod bench;
pub mod eval;
pub mod grid;
pub mod levels;
pub mod merge;
pub mod methods;
pub mod montage;
pub mod out;
pub mod plan;
pub mod plot;
pub mod run;
pub mod signals;
pub mod tune;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use tessera_engine::batch::FailOn;
use tessera_engine::io::DecodeLimits;
use tessera_engine::ops::{Anchor, LocalSettings, OpKind, OpSettings, ThresholdType};
use tessera_engine::pool::{MAX_WORKERS, available_cores};
use tessera_engine::tile::TileSize;
use tessera_engine::{Depth, EngineError, JobConfig};

pub use crate::exit::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Image-processing workbench: OpenCV-exact grayscale and thresholding on N workers",
    long_about = "Image-processing workbench: OpenCV-exact grayscale and thresholding, tiled \
                  across a chosen number of workers.\n\nWithout a subcommand it opens the \
                  window (with IMAGE if given). The subcommands run the same engine headless."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// An image to open in the window.
    pub image: Option<PathBuf>,
    /// Its ground truth: the window scores every result against it (see `tessera eval`).
    #[arg(long, value_name = "FILE", requires = "image")]
    pub ground_truth: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process one image and write the result.
    Run(run::RunArgs),
    /// Process every image of a folder into another folder.
    Batch(batch::BatchArgs),
    /// Time an operation across worker counts and tile sizes.
    Bench(bench::BenchArgs),
    /// Print the level every global method (ImageJ's AutoThresholder, Fiji's Auto
    /// Threshold) finds for an image, writing nothing.
    Levels(levels::LevelsArgs),
    /// List every method: what it computes, the implementation it is exact against, its
    /// options and where it can be used.
    Methods(methods::MethodsArgs),
    /// Run every threshold method on one image and write the results as one captioned
    /// contact sheet (PNG or any output format).
    Montage(montage::MontageArgs),
    /// Judge a binarization against its ground truth: precision, recall, F-measure, PSNR,
    /// NRM, MCC and DRD (the DIBCO metrics; doxa's with --like doxa).
    Eval(eval::EvalArgs),
    /// Find the best parameters for a folder: every combination of a grid, for one or more
    /// methods, scored against ground truth on N workers.
    Tune(tune::TuneArgs),
    /// Draw sweeps saved with `bench --json` (or the lab) on one chart: time and speedup
    /// with their 95 % intervals, e.g. your own program beside tessera.
    Plot(plot::PlotArgs),
    /// Merge the reports of a sharded batch (`batch --shard I/N`) into one, refusing unless
    /// every shard is there, complete and over the same listing.
    Merge(merge::MergeArgs),
    /// List a folder once and write one slice per shard, for `batch --shard I/N --plan DIR`
    /// on a job array (no task walks the folder).
    Plan(plan::PlanArgs),
}

/// The operation options shared by `run`, `batch` and `bench`.
#[derive(Debug, Clone, Args)]
pub struct OpArgs {
    /// Operation (`tessera methods` lists them all): gray, threshold, otsu, triangle,
    /// adaptive-mean, adaptive-gaussian; global levels ij-default, huang, huang2, intermodes,
    /// isodata, ij-isodata, li, max-entropy, mean, min-error, minimum, moments, percentile,
    /// renyi-entropy, shanbhag, yen; local niblack, sauvola, wolf, nick, bradley, bernsen,
    /// contrast, local-mean, median, midgrey, local-otsu, phansalkar; multi-otsu.
    #[arg(long, default_value = "adaptive-gaussian", value_name = "NAME")]
    pub op: OpKind,
    /// Whose definition of the op: opencv, imagej, fiji or skimage (default: OpenCV where
    /// OpenCV has the method, else ImageJ for global levels, else Fiji).
    #[arg(long, value_name = "IMPL")]
    pub like: Option<Anchor>,
    /// Threshold type: binary, binary-inv, trunc, tozero, tozero-inv (adaptive and local
    /// ops: binary, binary-inv; OpenCV's niblack family: all five).
    #[arg(long = "type", default_value = "binary")]
    pub kind: ThresholdType,
    /// Fixed threshold level (threshold op): any finite number, compared as floor(thresh).
    #[arg(long, default_value_t = 127.0, allow_negative_numbers = true)]
    pub thresh: f64,
    /// Value given to pixels that pass: any finite number, rounded and saturated to 0..255.
    #[arg(long, default_value_t = 255.0, allow_negative_numbers = true)]
    pub max_value: f64,
    /// Window of the adaptive ops and of the square-window local methods (OpenCV's and
    /// scikit-image's niblack/sauvola, wolf, nick, bradley): odd, 3..=4095.
    #[arg(long, default_value_t = 11)]
    pub block_size: u32,
    /// Radius of Fiji's local methods (circular window), 1..=1024.
    #[arg(long, default_value_t = 15)]
    pub radius: u32,
    /// Constant subtracted from the local level: adaptive ops (default 2), Fiji's local-mean,
    /// median, midgrey and niblack (default 0).
    #[arg(long, allow_negative_numbers = true)]
    pub c: Option<f64>,
    /// k of niblack, sauvola, wolf, nick and phansalkar (default: the method's, see
    /// `tessera methods`).
    #[arg(long, allow_negative_numbers = true)]
    pub k: Option<f64>,
    /// r of sauvola and phansalkar (default: the implementation's).
    #[arg(long, allow_negative_numbers = true)]
    pub r: Option<f64>,
    /// Bradley's t: percent below the local mean, 0..=100 (default 15).
    #[arg(long, allow_negative_numbers = true)]
    pub t: Option<f64>,
    /// Bernsen's contrast threshold (default 15).
    #[arg(long, allow_negative_numbers = true)]
    pub contrast: Option<f64>,
    /// Multi-Otsu's number of classes, 2..=5.
    #[arg(long, default_value_t = 3)]
    pub classes: u32,
    /// Sample depth: `native` keeps 16-bit images 16-bit (gray, trunc and tozero results are
    /// 16-bit; masks 8-bit); `8` reads every image as OpenCV's imread(IMREAD_COLOR) does.
    #[arg(long, default_value = "native", value_name = "native|8")]
    pub depth: Depth,
    /// On 16-bit images: find the global level on N equal bins over the image's min..max
    /// instead of all 65536 values (OpenCV's otsu, Fiji's methods, multi-otsu as
    /// scikit-image's nbins), 2..=65536. ImageJ's methods always use their own 256.
    #[arg(long, value_name = "N")]
    pub bins: Option<u32>,
}

impl OpArgs {
    /// The settings, every value checked (also those the chosen op does not use).
    pub fn op(&self) -> Result<tessera_engine::ops::Op, EngineError> {
        self.settings().to_op_strict()
    }

    /// The flags that give these same settings to another `tessera` command (every value
    /// spelled out, so the child needs no defaults of its own).
    pub fn to_flags(&self) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--op".into(),
            self.op.to_string(),
            "--type".into(),
            self.kind.to_string(),
            "--thresh".into(),
            self.thresh.to_string(),
            "--max-value".into(),
            self.max_value.to_string(),
            "--block-size".into(),
            self.block_size.to_string(),
            "--radius".into(),
            self.radius.to_string(),
            "--classes".into(),
            self.classes.to_string(),
            "--depth".into(),
            self.depth.to_string(),
        ];
        if let Some(a) = self.like {
            v.extend(["--like".into(), a.to_string()]);
        }
        for (flag, val) in [
            ("--c", self.c),
            ("--k", self.k),
            ("--r", self.r),
            ("--t", self.t),
            ("--contrast", self.contrast),
        ] {
            if let Some(x) = val {
                v.extend([flag.to_string(), x.to_string()]);
            }
        }
        if let Some(b) = self.bins {
            v.extend(["--bins".into(), b.to_string()]);
        }
        v
    }

    pub fn settings(&self) -> OpSettings {
        let d = OpSettings::default();
        OpSettings {
            op: self.op,
            kind: self.kind,
            thresh: self.thresh,
            max_value: self.max_value,
            block_size: self.block_size,
            c: self.c.unwrap_or(d.c),
            like: self.like,
            local: LocalSettings {
                k: self.k,
                r: self.r,
                t: self.t,
                radius: self.radius,
                c: self.c,
                contrast: self.contrast,
                classes: self.classes,
            },
            depth: self.depth,
            bins: self.bins,
        }
    }
}

/// How PNG results are written (pixels never depend on it).
#[derive(Debug, Clone, Args)]
pub struct PngArgs {
    /// PNG deflate: auto (the default: a run-length deflate for masks, zlib level 1 for
    /// anything else; smaller than OpenCV's imwrite and faster), fast (fdeflate for anything
    /// but masks: about 3x faster, files about 10% larger) or a zlib level 0-9 (1 is OpenCV's
    /// default; 9 the smallest and slowest). The README has a size/time table.
    #[arg(long, default_value = "auto", value_name = "auto|fast|0-9")]
    pub compression: tessera_engine::io::PngCompression,
    /// Write masks (results whose every pixel is 0 or 255) as 1-bit PNG, as OpenCV's
    /// IMWRITE_PNG_BILEVEL: several times smaller; readers expand it back to 0 and 255.
    #[arg(long)]
    pub png_bilevel: bool,
}

impl PngArgs {
    pub fn options(&self) -> tessera_engine::io::PngOptions {
        tessera_engine::io::PngOptions {
            compression: self.compression,
            bilevel: self.png_bilevel,
        }
    }
}

/// Worker count and tile size options.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Number of worker threads, 1..=256 (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Tile edge in pixels, or "auto" (full-width strips chosen by the engine). An image may
    /// have at most 262144 tiles per stage; a smaller tile is a usage error that names the
    /// smallest edge that fits.
    #[arg(long, default_value = "auto")]
    pub tile: TileSize,
}

impl ExecArgs {
    pub fn config(&self) -> Result<JobConfig, EngineError> {
        let workers = self.workers.unwrap_or_else(available_cores);
        if workers == 0 || workers > MAX_WORKERS {
            return Err(EngineError::InvalidParam(format!(
                "--workers must be between 1 and {MAX_WORKERS}, got {workers}"
            )));
        }
        Ok(JobConfig {
            workers,
            tile: self.tile,
        })
    }
}

/// What an image may cost before it is refused, and whether a decoder warning fails it.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Images wider or taller than this many pixels fail instead of being opened
    /// (1..=1048576).
    #[arg(long, default_value_t = DecodeLimits::default().max_dimension, value_name = "PIXELS")]
    pub max_dimension: u32,
    /// Images with more pixels than this fail instead of being opened (default 2^30, as
    /// OpenCV's imread; at least 1).
    #[arg(long, default_value_t = DecodeLimits::default().max_pixels, value_name = "N")]
    pub max_pixels: u64,
    /// Memory all the images in flight may hold together, in MiB (at least 1). Each image's
    /// whole job counts (file, decoded pixels, gray, result): an image alone over it fails, and
    /// workers wait while the others hold too much, however many workers there are.
    #[arg(long, default_value_t = DecodeLimits::default().max_memory >> 20, value_name = "MIB")]
    pub max_memory: u64,
    /// error: only errors fail a file, and a file the decoder warns about (a truncated JPEG,
    /// decoded with its missing part grey as OpenCV does) is written and reported with its
    /// warning; warning: a warning fails the file too (nothing is written for it).
    #[arg(long, value_parser = parse_fail_on, default_value = "error", value_name = "LEVEL")]
    pub fail_on: FailOn,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    FailOn::from_name(s).ok_or_else(|| format!("expected error or warning, got {s:?}"))
}

/// The largest image side OpenCV accepts (`CV_IO_MAX_IMAGE_WIDTH`).
const MAX_DIMENSION: u32 = 1 << 20;

impl LimitArgs {
    /// The limits, every value checked.
    pub fn limits(&self) -> Result<DecodeLimits, EngineError> {
        let usage = |m: String| Err(EngineError::InvalidParam(m));
        if self.max_dimension == 0 || self.max_dimension > MAX_DIMENSION {
            return usage(format!(
                "--max-dimension must be between 1 and {MAX_DIMENSION}, got {}",
                self.max_dimension
            ));
        }
        if self.max_pixels == 0 {
            return usage("--max-pixels must be at least 1".into());
        }
        if self.max_memory == 0 || self.max_memory > (1 << 40) {
            return usage(format!(
                "--max-memory must be between 1 and {} MiB, got {}",
                1u64 << 40,
                self.max_memory
            ));
        }
        Ok(DecodeLimits {
            max_dimension: self.max_dimension,
            max_pixels: self.max_pixels,
            max_memory: self.max_memory << 20,
            ..DecodeLimits::default()
        })
    }
}

/// A usage error unless `target` (written for `flag`) is neither one of `inputs` nor
/// another target already given: no command writes over one of its own inputs, and no two
/// of its outputs share a path.
pub fn check_target(
    flag: &str,
    target: &std::path::Path,
    inputs: &[&std::path::Path],
    others: &[(&str, &std::path::Path)],
) -> Result<(), EngineError> {
    use tessera_engine::batch::plan::absolute;
    use tessera_engine::io::same_file;
    let abs = absolute(target);
    for input in inputs {
        if same_file(input, target) || absolute(input) == abs {
            return Err(EngineError::InvalidParam(format!(
                "{flag} {}: that is an input of this command; it would be overwritten",
                target.display()
            )));
        }
    }
    for (other, path) in others {
        if absolute(path) == abs {
            return Err(EngineError::InvalidParam(format!(
                "{flag} and {other} are the same file ({}); give each its own path",
                target.display()
            )));
        }
    }
    Ok(())
}

/// Writes a file given on the command line atomically (complete or absent): a local path,
/// or an `s3://` object (one PUT) in a build with the `s3` feature.
pub fn write_out(path: &std::path::Path, bytes: Vec<u8>) -> Result<(), EngineError> {
    use tessera_engine::batch::remote;
    if remote::is_url(path) {
        #[cfg(feature = "s3")]
        return remote::write_object(path, bytes);
        #[cfg(not(feature = "s3"))]
        return Err(EngineError::InvalidParam(format!(
            "{}: s3:// paths need tessera built with --features s3",
            path.display()
        )));
    }
    tessera_engine::io::write_atomic(path, &bytes)
}

/// Reads a JSON file given on the command line; a file that cannot be read or is not JSON is
/// an input error naming it.
pub fn read_json(p: &std::path::Path) -> Result<serde_json::Value, EngineError> {
    let bad = |reason: String| EngineError::Input {
        path: p.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(p).map_err(|e| bad(tessera_engine::io::io_reason(&e)))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))
}

/// Runs `work` on a scoped thread while a bar (hidden when `quiet`) follows `ctl`'s run
/// counter out of `total`; `what` names the work if its thread panics.
pub fn with_runs_bar<T: Send>(
    quiet: bool,
    total: usize,
    ctl: &tessera_engine::Control,
    what: &str,
    work: impl FnOnce() -> Result<T, EngineError> + Send,
) -> Result<T, EngineError> {
    std::thread::scope(|s| {
        let h = s.spawn(work);
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new(total as u64)
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        while !h.is_finished() {
            bar.set_position(ctl.runs().0 as u64);
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bar.finish_and_clear();
        h.join()
            .unwrap_or_else(|_| Err(EngineError::Internal(format!("the {what} thread panicked"))))
    })
}

/// Turns a clap error into one line on stderr, `tessera: error: ...`, and its exit code
/// (help and version are printed as clap prints them).
pub fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind::*;
    if matches!(
        e.kind(),
        DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
    }
    eprintln!("tessera: error: {}", one_line(&e.render().to_string()));
    ExitCode::from(EXIT_USAGE)
}

/// clap's message on one line: the error and its tip, without the usage block.
pub fn one_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let line = line.strip_prefix("error:").unwrap_or(line).trim();
        parts.push(line.to_string());
    }
    let mut text = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // "...not provided:" + "--output <FILE>" reads as one sentence.
            text.push_str(if text.ends_with(':') { " " } else { "; " });
        }
        text.push_str(p);
    }
    text + " (see --help)"
}

/// Prints an error as one line on stderr and gives the exit code for it.
pub fn report_error(e: &EngineError) -> ExitCode {
    eprintln!("tessera: error: {e}");
    ExitCode::from(if e.is_usage() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    })
}

/// Runs a parsed headless subcommand.
pub fn execute(cmd: Command) -> ExitCode {
    let code = match cmd {
        Command::Run(args) => run::execute(&args),
        Command::Batch(args) => batch::execute(&args),
        Command::Bench(args) => bench::execute(&args),
        Command::Plot(args) => plot::execute(&args),
        Command::Merge(args) => merge::execute(&args),
        Command::Plan(args) => plan::execute(&args),
        Command::Levels(args) => levels::execute(&args),
        Command::Methods(args) => methods::execute(&args),
        Command::Montage(args) => montage::execute(&args),
        Command::Eval(args) => eval::execute(&args),
        Command::Tune(args) => tune::execute(&args),
    };
    if out::failed() && code == ExitCode::SUCCESS {
        return ExitCode::from(EXIT_FAILURE);
    }
    code
}
