//! A threshold at Otsu's level, as OpenCV's
//! `threshold(gray, dst, 0, 255, THRESH_BINARY | THRESH_OTSU)`, which returns the level.
//!
//! ```text
//! cargo run -p tessera-engine --example otsu -- [INPUT] [OUTPUT]
//! ```
//!
//! Without an input, a synthetic two-tone image with noise is used; OUTPUT defaults to
//! `otsu.png`.

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
            let noise = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 40;
            let (cx, cy) = (x as i32 - 128, y as i32 - 128);
            Luma([if cx * cx + cy * cy < 80 * 80 { 170 } else { 60 } + noise as u8])
        }),
    };
    let output = args
        .next()
        .map_or_else(|| PathBuf::from("otsu.png"), PathBuf::from);
    let (level, bw) = tessera_engine::otsu(&gray, 255.0, ThresholdType::Binary)?;
    write_gray_atomic(&bw, &output)?;
    println!("Otsu level {level} -> {}", output.display());
    Ok(())
}
