//! `tessera levels IMAGE`: the level every global method (ImageJ's AutoThresholder, or Fiji's
//! Auto Threshold) finds for an image, without writing anything.
//!
//! The levels are of the gray image tessera thresholds: OpenCV's gray conversion of the
//! decoded pixels. A 16-bit file keeps its 16-bit samples (`--depth native`, the default) and
//! its levels are in 16-bit units, where `tessera run` cuts it (`v > level`; ImageJ's methods
//! on its 256-bin reduction, Fiji's on the full histogram); `--depth 8` reads it as OpenCV's
//! `imread` does, 8-bit.
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
    /// Sample depth: `native` keeps a 16-bit image's samples (levels in 16-bit units); `8`
    /// reads it as OpenCV's imread(IMREAD_COLOR) does.
    #[arg(long, default_value = "native", value_name = "native|8")]
    pub depth: tessera_engine::Depth,
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

/// Every method's level (or why it has none) for the 8-bit gray image of `image` (read as
/// OpenCV's `imread` reads it).
pub fn levels(image: &std::path::Path, like: Like) -> Result<Vec<MethodLevel>, EngineError> {
    levels_and_histogram(image, like, tessera_engine::Depth::Eight).map(|(l, _, _)| l)
}

/// [`levels`] at `depth`, the histogram they came from (256 bins, or 65536 for a 16-bit
/// image) and the image's bits.
fn levels_and_histogram(
    image: &std::path::Path,
    like: Like,
    depth: tessera_engine::Depth,
) -> Result<(Vec<MethodLevel>, Vec<u64>, u32), EngineError> {
    let read = read_image_with(image, &ReadOptions::default().at(depth))?;
    if read.image.is_16bit() {
        let hist = job::gray_histogram16(&read.image)?;
        let found = methods(like)
            .into_iter()
            .map(|m| {
                let l = tessera_engine::ops::auto::cut_16bit(m, &hist, like)
                    .map(|t| t.clamp(0, 65535) as u32);
                (m, l.map_err(|e| e.to_string()))
            })
            .collect();
        return Ok((found, hist, 16));
    }
    let hist = job::gray_histogram(&read.image)?;
    let found = methods(like)
        .into_iter()
        .map(|m| (m, level(m, &hist.0, like).map_err(|e| e.to_string())))
        .collect();
    Ok((found, hist.0.to_vec(), 8))
}

/// scikit-image's `threshold_multiotsu` levels for 3 and 4 classes (or why there are none).
fn multi_otsu_levels(hist: &[u64]) -> Vec<(&'static str, Result<Vec<i64>, String>)> {
    [("multi_otsu_3", 3), ("multi_otsu_4", 4)]
        .into_iter()
        .map(|(name, classes)| {
            let r = tessera_engine::ops::auto::multi_otsu::multi_otsu(hist, 0, classes)
                .map_err(|e| e.to_string());
            (name, r)
        })
        .collect()
}

pub fn execute(args: &LevelsArgs) -> ExitCode {
    let (found, hist, bits) = match levels_and_histogram(&args.image, args.like, args.depth) {
        Ok(f) => f,
        Err(e) => return report_error(&e),
    };
    let multi = multi_otsu_levels(&hist);
    if args.json {
        let mut map = serde_json::Map::new();
        for (m, l) in &found {
            map.insert(
                m.to_string(),
                l.as_ref().map_or(serde_json::Value::Null, |&v| v.into()),
            );
        }
        for (name, l) in &multi {
            map.insert(
                name.to_string(),
                l.as_ref()
                    .map_or(serde_json::Value::Null, |v| serde_json::json!(v)),
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
            "{}: levels of the {bits}-bit gray image ({who})",
            args.image.display()
        );
        for (m, l) in &found {
            match l {
                Ok(v) => crate::outln!("{:>14} {v:>5}", m.to_string()),
                Err(e) => crate::outln!("{:>14}   - ({e})", m.to_string()),
            }
        }
        for (name, l) in &multi {
            match l {
                Ok(v) => crate::outln!(
                    "{name:>14} {} (scikit-image)",
                    v.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => crate::outln!("{name:>14}   - ({e})"),
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
