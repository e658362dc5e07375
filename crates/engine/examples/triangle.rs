//! A threshold at the triangle method's level, as OpenCV's
//! `threshold(gray, dst, 0, 255, THRESH_BINARY | THRESH_TRIANGLE)`, which returns the level.
//! It suits a histogram with one dominant peak (a page of text, a sparse scene).
//!
//! ```text
//! cargo run -p tessera-engine --example triangle -- [INPUT] [OUTPUT]
//! ```
//!
//! Without an input, a synthetic bright page with a few dark strokes is used; OUTPUT
//! defaults to `triangle.png`.

use std::path::PathBuf;

use tessera_engine::image::{GrayImage, Luma};
use tessera_engine::{DecodeLimits, ThresholdType, read_image, write_gray_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let gray = match args.next() {
        Some(path) => tessera_engine::gray(
            &read_image(&PathBuf::from(path), DecodeLimits::default())?.into_dynamic(),
        ),
        None => GrayImage::from_fn(256, 256, |x, y| {
            let stroke = y % 32 < 3 && x % 64 < 48;
            Luma([if stroke {
                30
            } else {
                220 + ((x ^ y) % 16) as u8
            }])
        }),
    };
    let output = args
        .next()
        .map_or_else(|| PathBuf::from("triangle.png"), PathBuf::from);
    let (level, bw) = tessera_engine::triangle(&gray, 255.0, ThresholdType::Binary)?;
    write_gray_atomic(&bw, &output)?;
    println!("triangle level {level} -> {}", output.display());
    Ok(())
}
