//! `tessera montage IMAGE -o montage.png`: every threshold method on one image, as one
//! contact sheet.
//!
//! The sheet is the input's 8-bit gray image, then one cell per method of
//! [`tessera_engine::montage::plan`] (each op with its default implementation, and the other
//! implementations of Otsu, triangle, Niblack and Sauvola), each result scaled to `--cell`
//! pixels on its long side by area average (nearest-neighbour when enlarging, see
//! [`crate::sheet::fit`]) with its label under it: the level of a global method
//! ("Huang (ImageJ) 118"), the window of a local one ("Sauvola (OpenCV) b11 k0.2 r128"). A
//! method that gives nothing on this image (no level, a threshold type it does not take)
//! shows why in its cell; the montage still succeeds. The title names the file and the
//! shared settings. The sheet is written atomically, in the format of the output's
//! extension, and never over the input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::{ExecArgs, LimitArgs, check_target, report_error};
use crate::sheet::{self, Layout, Sheet, SheetCell};
use tessera_engine::batch::FailOn;
use tessera_engine::io::{
    Decoded, ReadOptions, output_format, read_image_with, remove_stale_partials, write_gray_atomic,
};
use tessera_engine::montage::{self, Cell};
use tessera_engine::ops::{OpGroup, OpKind, OpSettings, ThresholdType};
use tessera_engine::{Control, EngineError};

#[derive(Debug, Clone, Args)]
pub struct MontageArgs {
    /// The image.
    pub image: PathBuf,
    /// Where to write the montage; the format follows the extension (png, jpg, tif, bmp,
    /// webp, pgm).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Threshold type for every method: binary, binary-inv, trunc, tozero, tozero-inv (the
    /// methods that take only binary and binary-inv show so in their cell).
    #[arg(long = "type", default_value = "binary")]
    pub kind: ThresholdType,
    /// Window of the adaptive ops and of the square-window local methods (OpenCV's and
    /// scikit-image's niblack/sauvola, wolf, nick, bradley): odd, 3..=4095.
    #[arg(long, default_value_t = 11)]
    pub block_size: u32,
    /// Radius of Fiji's local methods (circular window), 1..=1024.
    #[arg(long, default_value_t = 15)]
    pub radius: u32,
    /// Sample depth: `native` runs the methods on a 16-bit image's own samples (those with
    /// no 16-bit form show why in their cell); `8` reads it as OpenCV's imread does.
    #[arg(long, default_value = "native", value_name = "native|8")]
    pub depth: tessera_engine::Depth,
    /// Cells per row, 1..=64.
    #[arg(long, default_value_t = 7)]
    pub columns: u32,
    /// The long side of each cell's image in pixels, 16..=4096.
    #[arg(long, default_value_t = 256, value_name = "PIXELS")]
    pub cell: u32,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What a montage run made.
#[derive(Debug, Clone)]
pub struct MontageReport {
    /// Cells on the sheet (the gray image included).
    pub cells: usize,
    /// Methods that gave no image.
    pub failed: usize,
    /// The sheet's size.
    pub size: (u32, u32),
    /// Seconds, from reading the image to the written sheet.
    pub seconds: f64,
}

fn usage(m: String) -> EngineError {
    EngineError::InvalidParam(m)
}

impl MontageArgs {
    /// The shared settings, checked.
    pub fn settings(&self) -> Result<OpSettings, EngineError> {
        let mut s = OpSettings {
            kind: self.kind,
            block_size: self.block_size,
            depth: self.depth,
            ..OpSettings::default()
        };
        s.local.radius = self.radius;
        // The block size (through an adaptive op) and the radius (through a Fiji one).
        OpSettings {
            op: OpKind::AdaptiveMean,
            kind: ThresholdType::Binary,
            ..s
        }
        .to_op_strict()?;
        OpSettings {
            op: OpKind::LocalMean,
            kind: ThresholdType::Binary,
            ..s
        }
        .to_op()?;
        Ok(s)
    }
}

pub fn execute(args: &MontageArgs) -> ExitCode {
    super::signals::install_immediate();
    match montage_file(args, &Control::new()) {
        Ok(r) => {
            let failed = match r.failed {
                0 => String::new(),
                n => format!(", {n} without an image"),
            };
            eprintln!(
                "tessera: montage: {} cells ({} methods{failed}), {}x{} px, in {:.1} s -> {}",
                r.cells,
                r.cells - 1,
                r.size.0,
                r.size.1,
                r.seconds,
                args.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => report_error(&e),
    }
}

/// Validates, reads, runs every method, draws and writes the sheet; nothing is written
/// unless all of it succeeds.
pub fn montage_file(args: &MontageArgs, ctl: &Control) -> Result<MontageReport, EngineError> {
    // Usage errors first, before any work.
    let base = args.settings()?;
    let cfg = args.exec.config()?;
    let limits = args.limits.limits()?;
    if !(1..=64).contains(&args.columns) {
        return Err(usage(format!(
            "--columns must be between 1 and 64, got {}",
            args.columns
        )));
    }
    if !(16..=4096).contains(&args.cell) {
        return Err(usage(format!(
            "--cell must be between 16 and 4096 pixels, got {}",
            args.cell
        )));
    }
    output_format(&args.output)?;
    check_target("the output", &args.output, &[&args.image], &[])?;
    sheet::available()?;

    let t0 = Instant::now();
    let opts = ReadOptions {
        limits,
        control: Some(ctl),
        budget: None,
        depth: base.depth,
    };
    let Decoded {
        image: src,
        warnings,
        ..
    } = read_image_with(&args.image, &opts)?;
    if !warnings.is_empty() && args.limits.fail_on == FailOn::Warning {
        return Err(EngineError::Input {
            path: args.image.clone(),
            reason: format!("{} (failing on warnings)", warnings.join("; ")),
        });
    }
    for w in &warnings {
        eprintln!("tessera: warning: {}: {w}", args.image.display());
    }
    let (width, height, color) = (src.width() as u32, src.height() as u32, src.color.clone());
    let n_cells = montage::plan().len() as u32 + 1;
    let layout = Layout::new(width, height, args.cell, args.columns, n_cells);
    let (iw, ih) = layout.image;

    let mut cells = Vec::with_capacity(n_cells as usize);
    // The methods with no 16-bit form read a 16-bit image at 8 bits, as OpenCV's imread does.
    let eight = if src.is_16bit() {
        Some(
            read_image_with(
                &args.image,
                &ReadOptions {
                    depth: tessera_engine::Depth::Eight,
                    ..opts
                },
            )?
            .image,
        )
    } else {
        None
    };
    let gray = montage::run_each(&src, eight.as_ref(), &base, &cfg, ctl, |c| {
        cells.push(SheetCell {
            caption: caption(&c),
            image: c.result.map(|img| sheet::fit(&sheet::shown(&img), iw, ih)),
        })
    })?;
    drop((src, eight));
    let failed = cells.iter().filter(|c| c.image.is_err()).count();
    cells.insert(
        0,
        SheetCell {
            image: Ok(sheet::fit(&sheet::shown(&gray), iw, ih)),
            caption: match gray.bit_depth() {
                16 => {
                    let (lo, hi) = gray.min_max();
                    format!("Input (16-bit gray, shown {lo}..{hi})")
                }
                _ => "Input (8-bit gray)".into(),
            },
        },
    );
    let name = args.image.file_name().map_or_else(
        || args.image.display().to_string(),
        |n| n.display().to_string(),
    );
    let title = [
        format!("{name}  ·  {width}×{height}, {color}"),
        format!(
            "type {}  ·  block size {}  ·  radius {}  ·  max 255  ·  {} methods, each implementation's \
             default parameters  ·  cells scaled to {iw}×{ih} ({})",
            base.kind,
            base.block_size,
            base.local.radius,
            n_cells - 1,
            match iw.cmp(&width) {
                std::cmp::Ordering::Less => "area average",
                std::cmp::Ordering::Equal => "unscaled",
                std::cmp::Ordering::Greater => "nearest neighbour",
            }
        ),
    ];
    let sheet = Sheet {
        layout,
        title,
        cells,
    };
    let img = sheet::render(&sheet)?;
    if ctl.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    if let Some(dir) = args.output.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        remove_stale_partials(dir);
    }
    write_gray_atomic(&img, &args.output)?;
    Ok(MontageReport {
        cells: sheet.cells.len(),
        failed,
        size: img.dimensions(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The caption of a method's cell: its label, then its level (global methods) or its own
/// parameters (local ones), or a word on why it has no image.
pub fn caption(c: &Cell) -> String {
    let global = c.method.kind.group() == OpGroup::Global
        || matches!(c.method.kind, OpKind::Otsu | OpKind::Triangle);
    match (&c.result, c.level) {
        (Err(e), _) if e.contains("finds no level") => format!("{}: no level", c.label),
        (Err(_), _) => format!("{}: failed", c.label),
        (Ok(_), Some(level)) => format!("{} {level}", c.label),
        (Ok(_), None) if global => c.label.clone(),
        (Ok(_), None) => format!("{} {}", c.label, c.params).trim_end().to_string(),
    }
}
