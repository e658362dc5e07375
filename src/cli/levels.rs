//! `tessera levels IMAGE`: the level every global method (ImageJ's AutoThresholder, or Fiji's
//! Auto Threshold) finds for an image, without writing anything.
//!
//! The levels are of the 8-bit gray image tessera thresholds: OpenCV's gray conversion of the
//! decoded pixels (a 16-bit file after OpenCV's 8-bit conversion, as `imread` reads it).
//! ImageJ's semantics by default (`--like imagej`: the 17 methods of ImageJ 1.53t's
//! `AutoThresholder.getThreshold`, as `setAutoThreshold("<Method> dark")` uses them), or
//! Fiji's Auto_Threshold plugin 1.18.0 (`--like fiji`, which adds Huang2).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_FAILURE, report_error};
use tessera_engine::io::{ReadOptions, read_image_with};
use tessera_engine::ops::auto::{AutoMethod, Like, level};
use tessera_engine::{EngineError, job};

#[derive(Debug, Clone, Args)]
pub struct LevelsArgs {
    /// The image.
    pub image: PathBuf,
    /// Whose semantics: imagej (ImageJ 1.53t's AutoThresholder, 17 methods) or fiji (Fiji's
    /// Auto Threshold 1.18.0, 18 methods with Huang2).
    #[arg(long, value_parser = parse_like, default_value = "imagej")]
    pub like: Like,
    /// Print one JSON object, `{"Default": 118, "Huang": 117, ...}` keyed by ImageJ's method
    /// names; a method that gives no level is `null`.
    #[arg(long)]
    pub json: bool,
}

fn parse_like(s: &str) -> Result<Like, String> {
    match s.to_ascii_lowercase().as_str() {
        "imagej" => Ok(Like::ImageJ),
        "fiji" => Ok(Like::Fiji),
        _ => Err(format!("expected imagej or fiji, got {s:?}")),
    }
}

/// The methods of `like`, in ImageJ's order: Huang2 is Fiji's alone.
pub fn methods(like: Like) -> Vec<AutoMethod> {
    AutoMethod::ALL
        .into_iter()
        .filter(|&m| like == Like::Fiji || m != AutoMethod::Huang2)
        .collect()
}

/// A method and its level, or why it has none.
pub type MethodLevel = (AutoMethod, Result<u32, String>);

/// Every method's level (or why it has none) for the gray image of `image`.
pub fn levels(image: &std::path::Path, like: Like) -> Result<Vec<MethodLevel>, EngineError> {
    let read = read_image_with(image, &ReadOptions::default())?;
    let hist = job::gray_histogram(&read.image)?;
    Ok(methods(like)
        .into_iter()
        .map(|m| (m, level(m, &hist.0, like).map_err(|e| e.to_string())))
        .collect())
}

pub fn execute(args: &LevelsArgs) -> ExitCode {
    let found = match levels(&args.image, args.like) {
        Ok(f) => f,
        Err(e) => return report_error(&e),
    };
    if args.json {
        let mut map = serde_json::Map::new();
        for (m, l) in &found {
            map.insert(
                m.to_string(),
                l.as_ref().map_or(serde_json::Value::Null, |&v| v.into()),
            );
        }
        match serde_json::to_string(&map) {
            Ok(s) => crate::outln!("{s}"),
            Err(e) => {
                eprintln!("tessera: error: cannot write the levels as JSON: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    } else {
        let who = match args.like {
            Like::ImageJ => "ImageJ 1.53t AutoThresholder",
            Like::Fiji => "Fiji Auto Threshold 1.18.0",
        };
        crate::outln!(
            "{}: levels of the 8-bit gray image ({who})",
            args.image.display()
        );
        for (m, l) in &found {
            match l {
                Ok(v) => crate::outln!("{:>14} {v:>3}", m.to_string()),
                Err(e) => crate::outln!("{:>14}   - ({e})", m.to_string()),
            }
        }
    }
    for (m, l) in &found {
        if let Err(e) = l {
            eprintln!("tessera: note: {m} gives no level: {e}");
        }
    }
    ExitCode::SUCCESS
}
