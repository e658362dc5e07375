//! An adaptive threshold, as OpenCV's
//! `adaptiveThreshold(gray, dst, 255, ADAPTIVE_THRESH_GAUSSIAN_C, THRESH_BINARY, BLOCK, C)`:
//! each pixel against the Gaussian-weighted mean of its neighbourhood, so uneven lighting
//! does not matter.
//!
//! ```text
//! cargo run -p tessera-engine --example adaptive -- [INPUT] [BLOCK] [C] [OUTPUT]
//! ```
//!
//! Without an input, a synthetic page lit from one side is used; BLOCK defaults to 11, C to
//! 2 and OUTPUT to `adaptive.png`.

use std::path::PathBuf;

use tessera_engine::image::{GrayImage, Luma};
use tessera_engine::{AdaptiveMethod, DecodeLimits, ThresholdType, read_image, write_gray_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let gray = match args.next().filter(|a| a != "-") {
        Some(path) => tessera_engine::gray(
            &read_image(&PathBuf::from(path), DecodeLimits::default())?.into_dynamic(),
        ),
        None => GrayImage::from_fn(256, 256, |x, y| {
            let light = 40 + (x * 200 / 256) as u8;
            let ink = (x / 8 + y / 8) % 5 == 0;
            Luma([if ink { light / 2 } else { light }])
        }),
    };
    let block: u32 = args.next().map_or(Ok(11), |b| b.parse())?;
    let c: f64 = args.next().map_or(Ok(2.0), |c| c.parse())?;
    let output = args
        .next()
        .map_or_else(|| PathBuf::from("adaptive.png"), PathBuf::from);
    let bw = tessera_engine::adaptive_threshold(
        &gray,
        255.0,
        AdaptiveMethod::Gaussian,
        ThresholdType::Binary,
        block,
        c,
    )?;
    write_gray_atomic(&bw, &output)?;
    println!("block {block}, C {c} -> {}", output.display());
    Ok(())
}
