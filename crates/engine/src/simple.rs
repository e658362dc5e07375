//! The one-call API: each op as a plain function on an image, OpenCV's call in Rust.
//!
//! Each function runs the same tiled kernels as a [`job`](crate::job) would, on the shared
//! worker pool with every available core ([`JobConfig::default`]), and gives the same pixels
//! as the OpenCV call named in its documentation. Use [`job::run`](crate::job::run) instead
//! for a chosen worker count or tile size, progress, cancelling or timings. These functions
//! take the input by reference and copy it once into the job's source.
//!
//! They are re-exported at the crate root: `tessera_engine::threshold(...)`.

use image::{DynamicImage, GrayImage};

use crate::Control;
use crate::error::EngineError;
use crate::job::{self, JobConfig, JobOutput};
use crate::ops::{AdaptiveMethod, Op, ThresholdType};
use crate::source::SourceImage;
use crate::tile::TileSize;

/// Runs `op` on every core; when the worker threads cannot be started, on the calling thread
/// instead (same pixels, only slower).
fn run_all_cores(src: &SourceImage, op: &Op) -> Result<JobOutput, EngineError> {
    match job::run(src, op, &JobConfig::default(), &Control::new()) {
        Err(EngineError::Pool { .. }) => job::run_here(src, op, TileSize::Auto, &Control::new()),
        r => r,
    }
}

/// The level an Otsu or triangle job chose (always set for those ops; 8-bit here).
fn level_of(out: &JobOutput) -> Result<u8, EngineError> {
    out.level
        .and_then(|l| u8::try_from(l).ok())
        .ok_or_else(|| EngineError::Internal("the job reported no 8-bit threshold level".into()))
}

/// The 8-bit result of a job on an 8-bit image.
fn gray8(out: JobOutput) -> Result<GrayImage, EngineError> {
    out.image
        .into_gray8()
        .ok_or_else(|| EngineError::Internal("an 8-bit job gave a 16-bit result".into()))
}

/// Converts any image to 8-bit gray, as OpenCV's `cvtColor(src, dst, COLOR_RGB2GRAY)` (on an
/// image read as RGB; `COLOR_BGR2GRAY` on OpenCV's BGR order):
/// `(9798 R + 19235 G + 3735 B + 16384) >> 15`. Alpha is ignored; 16-bit samples keep their
/// high byte and a gray image is copied as is (see [`SourceImage::from_dynamic`]).
///
/// ```
/// let rgb = image::RgbImage::from_pixel(4, 3, image::Rgb([255, 0, 0]));
/// let gray = tessera_engine::gray(&image::DynamicImage::ImageRgb8(rgb));
/// assert_eq!(gray.dimensions(), (4, 3));
/// assert!(gray.pixels().all(|p| p.0 == [76]));
/// ```
///
/// # Panics
///
/// Only on an internal error of the engine (a bug).
pub fn gray(img: &DynamicImage) -> GrayImage {
    let src = SourceImage::from_dynamic(img.clone());
    match run_all_cores(&src, &Op::gray()) {
        Ok(out) => gray8(out).unwrap_or_else(|e| panic!("{e}")),
        Err(e) => panic!("{e}"),
    }
}

/// A fixed threshold, as OpenCV's `threshold(src, dst, thresh, max_value, kind)` on an 8-bit
/// image: each pixel is compared with `thresh` and becomes `max_value` (rounded and clamped
/// to 0..=255), 0, `thresh` or itself, as [`ThresholdType`] says.
///
/// ```
/// use tessera_engine::ThresholdType;
/// let img = image::GrayImage::from_fn(4, 1, |x, _| image::Luma([x as u8 * 60]));
/// let bw = tessera_engine::threshold(&img, 100.0, 255.0, ThresholdType::Binary)?;
/// assert_eq!(bw.as_raw(), &[0, 0, 255, 255]);
/// let low = tessera_engine::threshold(&img, 100.0, 255.0, ThresholdType::Trunc)?;
/// assert_eq!(low.as_raw(), &[0, 60, 100, 100]);
/// # Ok::<(), tessera_engine::EngineError>(())
/// ```
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when `thresh` or `max_value` is not finite.
pub fn threshold(
    img: &GrayImage,
    thresh: f64,
    max_value: f64,
    kind: ThresholdType,
) -> Result<GrayImage, EngineError> {
    let op = Op::threshold(kind, thresh, max_value)?;
    gray8(run_all_cores(&SourceImage::gray(img.clone()), &op)?)
}

/// A threshold at the level Otsu's method picks from the histogram, as OpenCV's
/// `threshold(src, dst, 0, max_value, kind | THRESH_OTSU)`. Returns the level (what OpenCV
/// returns) and the image.
///
/// ```
/// use tessera_engine::ThresholdType;
/// let img = image::GrayImage::from_fn(8, 8, |x, _| image::Luma([if x < 4 { 20 } else { 200 }]));
/// let (level, bw) = tessera_engine::otsu(&img, 255.0, ThresholdType::Binary)?;
/// assert!((20..200).contains(&level));
/// assert_eq!(bw.get_pixel(0, 0).0, [0]);
/// assert_eq!(bw.get_pixel(7, 0).0, [255]);
/// # Ok::<(), tessera_engine::EngineError>(())
/// ```
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when `max_value` is not finite.
pub fn otsu(
    img: &GrayImage,
    max_value: f64,
    kind: ThresholdType,
) -> Result<(u8, GrayImage), EngineError> {
    let op = Op::otsu(kind, max_value)?;
    let out = run_all_cores(&SourceImage::gray(img.clone()), &op)?;
    Ok((level_of(&out)?, gray8(out)?))
}

/// A threshold at the level the triangle method picks from the histogram, as OpenCV's
/// `threshold(src, dst, 0, max_value, kind | THRESH_TRIANGLE)`. Returns the level (what
/// OpenCV returns) and the image.
///
/// ```
/// use tessera_engine::ThresholdType;
/// // A large dark background and a few bright pixels: the level falls between them.
/// let img = image::GrayImage::from_fn(16, 16, |x, y| {
///     image::Luma([if x + y < 28 { 10 + ((x + y) % 5) as u8 } else { 220 }])
/// });
/// let (level, bw) = tessera_engine::triangle(&img, 255.0, ThresholdType::Binary)?;
/// assert!((10..220).contains(&level), "{level}");
/// assert_eq!(bw.get_pixel(15, 15).0, [255]);
/// # Ok::<(), tessera_engine::EngineError>(())
/// ```
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when `max_value` is not finite.
pub fn triangle(
    img: &GrayImage,
    max_value: f64,
    kind: ThresholdType,
) -> Result<(u8, GrayImage), EngineError> {
    let op = Op::triangle(kind, max_value)?;
    let out = run_all_cores(&SourceImage::gray(img.clone()), &op)?;
    Ok((level_of(&out)?, gray8(out)?))
}

/// An adaptive threshold, as OpenCV's `adaptiveThreshold(src, dst, max_value, method, kind,
/// block_size, c)`: each pixel is compared with the mean (box or Gaussian-weighted) of its
/// `block_size`×`block_size` neighbourhood less `c`, with OpenCV's border (reflect-101).
///
/// ```
/// use tessera_engine::{AdaptiveMethod, ThresholdType};
/// // A dark dot on a bright gradient: found whatever the local brightness.
/// let mut img = image::GrayImage::from_fn(32, 32, |x, _| image::Luma([100 + 4 * x as u8]));
/// img.put_pixel(24, 16, image::Luma([60]));
/// let bw = tessera_engine::adaptive_threshold(
///     &img, 255.0, AdaptiveMethod::Gaussian, ThresholdType::BinaryInv, 11, 2.0,
/// )?;
/// assert_eq!(bw.get_pixel(24, 16).0, [255]);
/// assert_eq!(bw.get_pixel(8, 16).0, [0]);
/// // The block size must be odd and at least 3.
/// assert!(tessera_engine::adaptive_threshold(
///     &img, 255.0, AdaptiveMethod::Mean, ThresholdType::Binary, 10, 2.0,
/// ).is_err());
/// # Ok::<(), tessera_engine::EngineError>(())
/// ```
///
/// # Errors
///
/// [`EngineError::InvalidParam`] when `kind` is not binary or binary-inv, `block_size` is not
/// odd in 3..=[`MAX_BLOCK_SIZE`](crate::ops::MAX_BLOCK_SIZE), or a number is not finite.
pub fn adaptive_threshold(
    img: &GrayImage,
    max_value: f64,
    method: AdaptiveMethod,
    kind: ThresholdType,
    block_size: u32,
    c: f64,
) -> Result<GrayImage, EngineError> {
    let op = Op::adaptive(method, kind, max_value, block_size, c)?;
    gray8(run_all_cores(&SourceImage::gray(img.clone()), &op)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_functions_equal_the_jobs() {
        let img = GrayImage::from_fn(67, 45, |x, y| image::Luma([((x * 7) ^ (y * 13)) as u8]));
        let job = |op: Op| {
            let cfg = JobConfig {
                workers: 2,
                tile: TileSize::Square(16),
            };
            job::run(&SourceImage::gray(img.clone()), &op, &cfg, &Control::new()).unwrap()
        };
        let t = threshold(&img, 99.5, 200.0, ThresholdType::ToZero).unwrap();
        assert_eq!(
            t,
            gray8(job(
                Op::threshold(ThresholdType::ToZero, 99.5, 200.0).unwrap()
            ))
            .unwrap()
        );
        let (level, o) = otsu(&img, 255.0, ThresholdType::BinaryInv).unwrap();
        let want = job(Op::otsu(ThresholdType::BinaryInv, 255.0).unwrap());
        assert_eq!(
            (Some(level), &o),
            (want.level.map(|l| l as u8), want.image.as_gray8().unwrap())
        );
        let (level, o) = triangle(&img, 255.0, ThresholdType::Binary).unwrap();
        let want = job(Op::triangle(ThresholdType::Binary, 255.0).unwrap());
        assert_eq!(
            (Some(level), &o),
            (want.level.map(|l| l as u8), want.image.as_gray8().unwrap())
        );
        let a = adaptive_threshold(
            &img,
            255.0,
            AdaptiveMethod::Mean,
            ThresholdType::Binary,
            7,
            -3.0,
        )
        .unwrap();
        let op = Op::adaptive(AdaptiveMethod::Mean, ThresholdType::Binary, 255.0, 7, -3.0);
        assert_eq!(a, gray8(job(op.unwrap())).unwrap());
        let g = gray(&DynamicImage::ImageLuma8(img.clone()));
        assert_eq!(g, img);
        assert!(threshold(&img, f64::NAN, 255.0, ThresholdType::Binary).is_err());
    }
}
