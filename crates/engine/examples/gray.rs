//! Converts an image to gray, as OpenCV's `cvtColor(src, dst, COLOR_RGB2GRAY)`.
//!
//! ```text
//! cargo run -p tessera-engine --example gray -- [INPUT] [OUTPUT]
//! ```
//!
//! Without an input, a synthetic colour image is used; the result goes to OUTPUT (default
//! `gray.png`).

use std::path::PathBuf;

use tessera_engine::image::{DynamicImage, Rgb, RgbImage};
use tessera_engine::{DecodeLimits, read_image, write_gray_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let img = match args.next() {
        Some(path) => read_image(&PathBuf::from(path), DecodeLimits::default())?.into_dynamic(),
        None => DynamicImage::ImageRgb8(RgbImage::from_fn(256, 256, |x, y| {
            Rgb([x as u8, y as u8, (x ^ y) as u8])
        })),
    };
    let output = args
        .next()
        .map_or_else(|| PathBuf::from("gray.png"), PathBuf::from);
    let gray = tessera_engine::gray(&img);
    write_gray_atomic(&gray, &output)?;
    println!("{}x{} -> {}", gray.width(), gray.height(), output.display());
    Ok(())
}
