//! A fixed threshold, as OpenCV's `threshold(gray, dst, THRESH, 255, THRESH_BINARY)`.
//!
//! ```text
//! cargo run -p tessera-engine --example threshold -- [INPUT] [THRESH] [OUTPUT]
//! ```
//!
//! Without an input, a synthetic gradient is used; THRESH defaults to 127 and OUTPUT to
//! `threshold.png`.

use std::path::PathBuf;

use tessera_engine::image::{GrayImage, Luma};
use tessera_engine::{DecodeLimits, ThresholdType, read_image, write_gray_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let gray = match args.next() {
        Some(path) => tessera_engine::gray(
            &read_image(&PathBuf::from(path), DecodeLimits::default())?.into_dynamic(),
        ),
        None => GrayImage::from_fn(256, 256, |x, y| Luma([((x + y) / 2) as u8])),
    };
    let thresh: f64 = args.next().map_or(Ok(127.0), |t| t.parse())?;
    let output = args
        .next()
        .map_or_else(|| PathBuf::from("threshold.png"), PathBuf::from);
    let bw = tessera_engine::threshold(&gray, thresh, 255.0, ThresholdType::Binary)?;
    write_gray_atomic(&bw, &output)?;
    let white = bw.pixels().filter(|p| p.0[0] == 255).count();
    println!(
        "threshold {thresh}: {white} of {} pixels white -> {}",
        bw.len(),
        output.display()
    );
    Ok(())
}
