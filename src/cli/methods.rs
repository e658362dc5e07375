//! `tessera methods`: every method tessera knows, with the implementation it is exact
//! against, what it computes, its parameters and where it can be used today.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::EXIT_FAILURE;
use tessera_engine::ops::auto::AutoMethod;
use tessera_engine::ops::{Anchor, OpGroup, OpKind, OpSettings};

#[derive(Debug, Clone, Args)]
pub struct MethodsArgs {
    /// Print one JSON array of `{name, family, anchor, summary, parameters, use}`.
    #[arg(long)]
    pub json: bool,
}

/// One method, as `tessera methods` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MethodInfo {
    /// The name to pass to `--op`.
    pub name: String,
    /// `opencv` (OpenCV's operations), `global` (automatic levels) or `local`.
    pub family: &'static str,
    /// The implementations its results are bit-identical with, the default first (`--like`).
    pub anchors: Vec<&'static str>,
    /// The implementation its results are bit-identical with, in words.
    pub anchor: String,
    /// ImageJ's name for a global method (`tessera levels` keys), if it is one.
    pub imagej_name: Option<String>,
    /// What it computes, in a line.
    pub summary: &'static str,
    /// Its options.
    pub parameters: &'static str,
    /// Where it can be used now.
    #[serde(rename = "use")]
    pub usable: &'static str,
    /// The implementations (`--like`) that run on a 16-bit image's own samples; the others
    /// read a 16-bit image at 8 bits, as OpenCV's imread does. `["native"]` for an op with
    /// one implementation that does.
    pub sixteen_bit: Vec<&'static str>,
}

/// The implementations of `k` with a 16-bit form (see [`MethodInfo::sixteen_bit`]).
fn sixteen_bit(k: OpKind) -> Vec<&'static str> {
    let native = |like: Option<Anchor>| {
        OpSettings {
            op: k,
            like,
            ..OpSettings::default()
        }
        .to_op()
        .is_ok_and(|op| op.supports_16bit())
    };
    let a = k.anchors();
    if a.is_empty() {
        return if native(None) {
            vec!["native"]
        } else {
            Vec::new()
        };
    }
    a.iter()
        .filter(|&&x| native(Some(x)))
        .map(|x| x.name())
        .collect()
}

fn family(k: OpKind) -> &'static str {
    match k.group() {
        OpGroup::OpenCv => "opencv",
        OpGroup::Global => "global",
        OpGroup::Local => "local",
        OpGroup::MultiLevel => "multi-level",
    }
}

fn anchor_text(k: OpKind) -> String {
    let versions = |a: Anchor| match (a, k.group()) {
        (Anchor::OpenCv, OpGroup::Local) => "OpenCV contrib 5.1 ximgproc::niBlackThreshold",
        (Anchor::OpenCv, _) => "OpenCV 5.1",
        (Anchor::ImageJ, _) => "ImageJ 1.53t AutoThresholder",
        (Anchor::Fiji, OpGroup::Local) => "Fiji Auto Local Threshold 1.11.0",
        (Anchor::Fiji, _) => "Fiji Auto_Threshold 1.18.0",
        (Anchor::Skimage, _) => "scikit-image 0.26",
    };
    let a = k.anchors();
    if a.is_empty() {
        return "Bradley & Roth 2007 (the paper's integer arithmetic)".into();
    }
    let mut parts: Vec<String> = Vec::new();
    for (i, &x) in a.iter().enumerate() {
        if i == 0 {
            parts.push(versions(x).to_string());
        } else {
            parts.push(format!("{} (--like {x})", versions(x)));
        }
    }
    parts.join("; ")
}

/// Every method, in menu order (OpenCV's operations, global levels, local methods).
pub fn all() -> Vec<MethodInfo> {
    OpKind::ALL
        .into_iter()
        .map(|k| MethodInfo {
            name: k.name().to_string(),
            family: family(k),
            anchors: k.anchors().iter().map(|a| a.name()).collect(),
            anchor: anchor_text(k),
            imagej_name: k
                .auto_method()
                .filter(|_| k.group() == OpGroup::Global || k.anchors().len() > 1)
                .map(|m: AutoMethod| m.to_string()),
            summary: k.summary(),
            parameters: k.parameters(),
            usable: match k.group() {
                OpGroup::Global => "run, batch, bench, window, montage, levels",
                _ if matches!(k, OpKind::Gray | OpKind::Threshold) => "run, batch, bench, window",
                _ => "run, batch, bench, window, montage",
            },
            sixteen_bit: sixteen_bit(k),
        })
        .collect()
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
    for (family, title) in [
        ("opencv", "OpenCV operations (tessera run --op NAME):"),
        (
            "global",
            "Global automatic levels (tessera run --op NAME; all at once: tessera levels IMAGE):",
        ),
        ("local", "Local methods (tessera run --op NAME):"),
        (
            "multi-level",
            "Several levels, a label image (tessera run --op NAME):",
        ),
    ] {
        crate::outln!("{title}");
        for m in methods.iter().filter(|m| m.family == family) {
            crate::outln!("  {:<18} {}", m.name, m.summary);
            crate::outln!(
                "  {:<18} anchor: {}; options: {}",
                "",
                m.anchor,
                m.parameters
            );
            let deep = match m.sixteen_bit.as_slice() {
                [] => "16-bit images are read at 8 bits (its anchor is 8-bit only)".to_string(),
                ["native"] => "runs on 16-bit samples".to_string(),
                a if a.len() == m.anchors.len() => "runs on 16-bit samples".to_string(),
                a => format!(
                    "runs on 16-bit samples like {}; the others read 16-bit images at 8 bits",
                    a.join(", ")
                ),
            };
            crate::outln!("  {:<18} {deep}", "");
        }
    }
    ExitCode::SUCCESS
}
