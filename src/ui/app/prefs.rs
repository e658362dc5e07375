//! What the window remembers between runs ([`Prefs`], kept in eframe's storage) and the
//! ranges its controls offer.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ui::view::{OverlayStyle, ViewMode};
use tessera_engine::TileSize;
use tessera_engine::ops::{MAX_BLOCK_SIZE, OpSettings, ThresholdType};
use tessera_engine::pool::available_cores;

/// Key of the persisted preferences in eframe's storage.
pub const STORAGE_KEY: &str = "tessera-workbench";
/// Recent files kept.
pub const RECENT_MAX: usize = 10;

/// The tabs of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    #[default]
    Workbench,
    Batch,
    Lab,
    Tune,
}

/// Everything that persists between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub settings: OpSettings,
    pub workers: usize,
    pub tile: TileSize,
    /// The folder of the last file opened or saved.
    pub last_folder: Option<PathBuf>,
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    /// The image open when the window closed (reopened when no image is given).
    pub last_image: Option<PathBuf>,
    pub view_mode: ViewMode,
    /// Position of the split divider, 0..1 of the view's width.
    pub split: f32,
    /// How the overlay view colours the original.
    pub overlay_style: OverlayStyle,
    /// The overlay's opacity, 0..1.
    pub overlay_opacity: f32,
    pub show_charts: bool,
    pub histogram_log: bool,
    /// Every global method's level drawn on the histogram.
    pub histogram_levels: bool,
    pub tab: Tab,
    /// Whether the window has run before (the first start opens the sample).
    pub started_before: bool,
    /// Ground truth: the foreground is white (else black, DIBCO's convention).
    pub truth_white: bool,
    /// Ground truth: doxa's definitions (else DIBCO's).
    pub truth_doxa: bool,
    /// The Scaling lab's fields.
    pub lab: crate::ui::lab::LabSettings,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            settings: window_default_settings(),
            workers: available_cores(),
            tile: TileSize::Auto,
            last_folder: None,
            recent: Vec::new(),
            last_image: None,
            view_mode: ViewMode::Split,
            split: 0.5,
            overlay_style: OverlayStyle::Red,
            overlay_opacity: 0.5,
            show_charts: true,
            histogram_log: false,
            histogram_levels: true,
            tab: Tab::Workbench,
            started_before: false,
            truth_white: false,
            truth_doxa: false,
            lab: Default::default(),
        }
    }
}

impl Prefs {
    /// Brings values from an older or edited storage back into range.
    pub(super) fn sanitize(&mut self) {
        self.workers = self.workers.clamp(1, max_workers());
        self.overlay_opacity = if self.overlay_opacity.is_finite() {
            self.overlay_opacity.clamp(0.0, 1.0)
        } else {
            0.5
        };
        if let TileSize::Square(e) = self.tile {
            self.tile = TileSize::Square(e.clamp(MIN_TILE, MAX_TILE));
        }
        let s = &mut self.settings;
        if s.block_size < 3 || s.block_size.is_multiple_of(2) || s.block_size > MAX_BLOCK_SIZE {
            s.block_size = 11;
        }
        if !s.thresh.is_finite() {
            s.thresh = 127.0;
        }
        if !s.max_value.is_finite() {
            s.max_value = 255.0;
        }
        if !s.c.is_finite() {
            s.c = 2.0;
        }
        if !s.op.allowed_types().is_empty() && !s.op.allowed_types().contains(&s.kind) {
            s.kind = ThresholdType::Binary;
        }
        if !self.split.is_finite() {
            self.split = 0.5;
        }
        self.split = self.split.clamp(0.0, 1.0);
        self.recent.truncate(RECENT_MAX);
    }

    pub(super) fn remember_file(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(RECENT_MAX);
        self.last_image = Some(path.to_path_buf());
        if let Some(dir) = path.parent() {
            self.last_folder = Some(dir.to_path_buf());
        }
    }
}

/// The parameters the window starts with: adaptive Gaussian with block 25 and C 10, which
/// suit photographed pages better than OpenCV's textbook 11 / 2 (that keeps paper grain).
pub fn window_default_settings() -> OpSettings {
    OpSettings {
        block_size: 25,
        c: 10.0,
        ..OpSettings::default()
    }
}

/// Smallest and largest tile edge offered.
pub const MIN_TILE: u32 = 16;
pub const MAX_TILE: u32 = 8192;

/// The most workers offered: twice the cores.
pub fn max_workers() -> usize {
    2 * available_cores()
}
