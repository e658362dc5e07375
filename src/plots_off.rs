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

/// Refuses: this build has no PNG charts.
pub fn grid_heatmap(
    _: &tessera_engine::sweep::grid::GridResult,
) -> Result<image::RgbImage, String> {
    Err(off().to_string())
}

/// Refuses: this build has no PNG charts (only called with a chart, which it cannot make).
pub fn save_png(_: &image::RgbImage, _: &Path) -> Result<(), EngineError> {
    Err(off())
}

/// Size of the comparison chart a `png-charts` build draws.
pub const COMPARE_SIZE: (u32, u32) = (1400, 600);

/// A saved sweep; this build cannot draw one.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSweep {
    pub label: String,
}

impl SavedSweep {
    /// Refuses: this build has no PNG charts.
    pub fn from_json(_: &serde_json::Value) -> Result<SavedSweep, String> {
        Err(off().to_string())
    }
}

/// Refuses: this build has no PNG charts.
pub fn compare_chart(_: &[SavedSweep], _: &str) -> Result<image::RgbImage, String> {
    Err(off().to_string())
}
