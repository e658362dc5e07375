//! `tessera methods`: every method tessera knows, with the implementation it is exact
//! against, what it computes, its parameters and where it can be used today.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::EXIT_FAILURE;
use tessera_engine::ops::OpKind;
use tessera_engine::ops::auto::AutoMethod;

#[derive(Debug, Clone, Args)]
pub struct MethodsArgs {
    /// Print one JSON array of `{name, family, anchor, summary, parameters, use}`.
    #[arg(long)]
    pub json: bool,
}

/// One method, as `tessera methods` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MethodInfo {
    /// The name to pass (`--op NAME` for operations; ImageJ's name for global methods).
    pub name: String,
    /// `opencv` (operations) or `global` (ImageJ/Fiji automatic levels).
    pub family: &'static str,
    /// The implementation its results are bit-identical with.
    pub anchor: &'static str,
    /// What it computes, in a line.
    pub summary: &'static str,
    /// Its options.
    pub parameters: &'static str,
    /// Where it can be used now.
    #[serde(rename = "use")]
    pub usable: &'static str,
}

fn op_summary(k: OpKind) -> (&'static str, &'static str) {
    match k {
        OpKind::Gray => (
            "Y = (9798 R + 19235 G + 3735 B + 16384) >> 15 (cvtColor RGB2GRAY)",
            "-",
        ),
        OpKind::Threshold => (
            "one fixed level: pixels > floor(thresh) pass",
            "--type, --thresh, --max-value",
        ),
        OpKind::Otsu => (
            "the level maximising the between-class variance (THRESH_OTSU)",
            "--type, --max-value",
        ),
        OpKind::Triangle => (
            "the level farthest from the line from the peak to the far end (THRESH_TRIANGLE)",
            "--type, --max-value",
        ),
        OpKind::AdaptiveMean => (
            "a level per pixel: the block's mean minus C (ADAPTIVE_THRESH_MEAN_C)",
            "--type binary|binary-inv, --block-size, --c, --max-value",
        ),
        OpKind::AdaptiveGaussian => (
            "a level per pixel: the block's Gaussian-weighted mean minus C \
             (ADAPTIVE_THRESH_GAUSSIAN_C)",
            "--type binary|binary-inv, --block-size, --c, --max-value",
        ),
        k => (k.summary(), k.parameters()),
    }
}

fn auto_summary(m: AutoMethod) -> &'static str {
    match m {
        AutoMethod::Default => "IJ_IsoData on a histogram with its mode capped (ImageJ's default)",
        AutoMethod::Huang => "minimum fuzziness (Shannon fuzzy entropy), Huang & Wang 1995",
        AutoMethod::Huang2 => "Huang's method with integer class means (Fiji's re-implementation)",
        AutoMethod::Intermodes => "mean of the two peaks of the smoothed histogram",
        AutoMethod::IsoData => "iterative intermeans, Ridler & Calvard 1978",
        AutoMethod::IjIsoData => "ImageJ's own iterative intermeans (end bins zeroed)",
        AutoMethod::Li => "minimum cross entropy, Li & Tam 1998",
        AutoMethod::MaxEntropy => "maximum entropy, Kapur, Sahoo & Wong 1985",
        AutoMethod::Mean => "the mean gray level, Glasbey 1993",
        AutoMethod::MinError => "minimum error, Kittler & Illingworth 1986 (iterative)",
        AutoMethod::Minimum => "the valley of the smoothed bimodal histogram",
        AutoMethod::Moments => "moment preserving, Tsai 1985",
        AutoMethod::Otsu => "Otsu 1979 (ImageJ: last maximum in 1..254; Fiji: first maximum)",
        AutoMethod::Percentile => "50 % of the pixels below, Doyle 1962",
        AutoMethod::RenyiEntropy => "Rényi entropies, Sahoo, Wilkins & Yeager 1997",
        AutoMethod::Shanbhag => "information measure, Shanbhag 1994",
        AutoMethod::Triangle => "the triangle method, Zack, Rogers & Latt 1977",
        AutoMethod::Yen => "maximum correlation, Yen, Chang & Chang 1995",
    }
}

/// Every method, OpenCV's operations first.
pub fn all() -> Vec<MethodInfo> {
    let mut v: Vec<MethodInfo> = OpKind::ALL
        .into_iter()
        .map(|k| {
            let (summary, parameters) = op_summary(k);
            MethodInfo {
                name: k.name().to_string(),
                family: "opencv",
                anchor: "OpenCV 5.1 (cvtColor, threshold, adaptiveThreshold)",
                summary,
                parameters,
                usable: "run, batch, bench, window",
            }
        })
        .collect();
    v.extend(AutoMethod::ALL.into_iter().map(|m| MethodInfo {
        name: m.to_string(),
        family: "global",
        anchor: if m == AutoMethod::Huang2 {
            "Fiji Auto_Threshold 1.18.0"
        } else {
            "ImageJ 1.53t AutoThresholder; Fiji Auto_Threshold 1.18.0 (--like fiji)"
        },
        summary: auto_summary(m),
        parameters: "--like imagej|fiji",
        usable: "levels",
    }));
    v
}

pub fn execute(args: &MethodsArgs) -> ExitCode {
    let methods = all();
    if args.json {
        match serde_json::to_string(&methods) {
            Ok(s) => crate::outln!("{s}"),
            Err(e) => {
                eprintln!("tessera: error: cannot write the methods as JSON: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
        return ExitCode::SUCCESS;
    }
    for family in ["opencv", "global"] {
        crate::outln!(
            "{}",
            if family == "opencv" {
                "OpenCV operations (tessera run --op NAME):"
            } else {
                "Global automatic levels (tessera levels IMAGE):"
            }
        );
        for m in methods.iter().filter(|m| m.family == family) {
            crate::outln!("  {:<18} {}", m.name, m.summary);
            crate::outln!(
                "  {:<18} anchor: {}; options: {}",
                "",
                m.anchor,
                m.parameters
            );
        }
    }
    ExitCode::SUCCESS
}
