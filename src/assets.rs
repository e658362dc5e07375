//! Sample images embedded in the binary (from scikit-image's data folder; see the README's
//! credits): the window opens one on first start, and `tessera bench` can use one when no input
//! is given. Shared by the window and the CLI.

/// An embedded sample image.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// A short name shown in menus and titles.
    pub name: &'static str,
    /// What the image shows and where it comes from.
    pub description: &'static str,
    /// The encoded PNG file.
    pub bytes: &'static [u8],
}

/// The embedded samples; the first is the default.
pub const SAMPLES: &[Sample] = &[
    Sample {
        name: "handwriting.png",
        description: "Handwritten formulas under uneven light (448×172, gray; scikit-image \
                      `text`, from Wikipedia's File:Corner.png, public domain)",
        bytes: include_bytes!("../assets/sample-text.png"),
    },
    Sample {
        name: "coffee.png",
        description: "A cup of coffee (600×400, RGB; scikit-image `coffee`, CC0, photo by \
                      Rachel Michetti)",
        bytes: include_bytes!("../assets/sample-coffee.png"),
    },
];

/// The default sample image's PNG bytes.
pub fn sample_image_bytes() -> &'static [u8] {
    SAMPLES[0].bytes
}

/// Name of the image a sweep uses when none is given.
pub const SAMPLE_NAME: &str = "embedded sample (coffee, 600x400 RGB)";

/// The embedded sample image used when no input is given (`tessera bench` without INPUT, the
/// lab without an open image): the window's colour photo sample, so a sweep includes the
/// gray conversion.
pub fn sample_image() -> Result<tessera_engine::SourceImage, tessera_engine::EngineError> {
    let sample = SAMPLES
        .iter()
        .find(|s| s.name == "coffee.png")
        .unwrap_or(&SAMPLES[0]);
    tessera_engine::io::decode_bytes(
        sample.name,
        sample.bytes,
        tessera_engine::io::DecodeLimits::default(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_image_decodes() {
        let s = super::sample_image().unwrap();
        assert_eq!((s.width(), s.height()), (600, 400));
    }
}
