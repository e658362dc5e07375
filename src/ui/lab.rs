//! The Scaling lab tab of the window. Being written: see issue 5.

use std::sync::Arc;

use crate::engine::ops::OpSettings;
use crate::engine::source::SourceImage;

/// State of the Scaling lab tab.
#[derive(Default)]
pub struct LabPanel {}

impl LabPanel {
    /// Draws the tab. `settings` are the window's shared operation settings and `image` the
    /// image open in the workbench (if any), the default workload of a sweep.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &OpSettings,
        image: Option<Arc<SourceImage>>,
    ) {
        let _ = (settings, image);
        ui.label("The scaling lab is not available yet.");
    }
}
