//! The Batch tab of the window. Being written: see issue 4.

use crate::engine::ops::OpSettings;

/// State of the Batch tab.
#[derive(Default)]
pub struct BatchPanel {}

impl BatchPanel {
    /// Draws the tab. `settings` and `workers` are the window's shared operation settings.
    pub fn ui(&mut self, ui: &mut egui::Ui, settings: &OpSettings, workers: usize) {
        let _ = (settings, workers);
        ui.label("Batch processing is not available yet.");
    }
}
