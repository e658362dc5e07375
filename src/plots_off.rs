//! Built without the `png-charts` feature: PNG chart exports are refused with a clear reason
//! (CSV and JSON exports still work).

use std::path::{Path, PathBuf};

use tessera_engine::EngineError;
use tessera_engine::sweep::{Summary, SweepResult};

/// The charts a build with `png-charts` writes (none are written here).
pub const CHARTS: [&str; 5] = ["time", "speedup", "efficiency", "tiles", "timeline"];

fn off() -> EngineError {
    EngineError::InvalidParam(
        "PNG charts need tessera built with the `png-charts` feature (on by default)".into(),
    )
}

/// Refuses: this build has no PNG charts.
pub fn save_all_prefixed(
    _: &SweepResult,
    _: &Summary,
    _: &Path,
    _: &str,
) -> Result<Vec<PathBuf>, EngineError> {
    Err(off())
}

/// Refuses: this build has no PNG charts.
pub fn save_all(_: &SweepResult, _: &Summary, _: &Path) -> Result<Vec<PathBuf>, EngineError> {
    Err(off())
}

/// Refuses: this build has no PNG charts.
pub fn tune_heatmap(_: &tessera_engine::tune::TuneReport) -> Result<image::RgbImage, String> {
    Err(off().to_string())
}
