//! OpenCV-exact grayscale and thresholding in pure Rust: the same pixels as OpenCV's
//! `cvtColor`, `threshold` (fixed, Otsu, triangle) and `adaptiveThreshold`, computed in tiles
//! with halos over exactly the number of workers you ask for, with progress, cancelling and
//! per-tile timings. Images are read and written with the codecs OpenCV uses for JPEG, so a
//! pipeline gives the same files as its OpenCV twin.
//!
//! # Quick start
//!
//! Open an image, threshold it, save it:
//!
//! ```
//! use tessera_engine::{DecodeLimits, ThresholdType, read_image, write_gray_atomic};
//! # let dir = tempfile::tempdir()?;
//! # let input = dir.path().join("scan.png");
//! # image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]))
//! #     .save(&input)?;
//! # let output = dir.path().join("scan-bw.png");
//! let src = read_image(&input, DecodeLimits::default())?; // any format, EXIF-turned
//! let gray = tessera_engine::gray(&src.into_dynamic());
//! let (level, bw) = tessera_engine::otsu(&gray, 255.0, ThresholdType::Binary)?;
//! write_gray_atomic(&bw, &output)?; // format from the extension
//! # assert!(level > 0);
//! # assert_eq!(read_image(&output, DecodeLimits::default())?.raw(), bw.as_raw());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same as a job, with a chosen number of workers and tile size, cancellable, with
//! progress and timings (what the `tessera` CLI and window run):
//!
//! ```
//! use tessera_engine::{JobConfig, Control, Op, SourceImage, ThresholdType, TileSize, job};
//! let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x * 4 + y) as u8]));
//! let op = Op::otsu(ThresholdType::Binary, 255.0)?;
//! let cfg = JobConfig { workers: 2, tile: TileSize::Square(16) };
//! let out = job::run(&SourceImage::gray(img), &op, &cfg, &Control::new())?;
//! assert_eq!(out.image.dimensions(), (64, 48));
//! assert!(out.level.is_some());
//! # Ok::<(), tessera_engine::EngineError>(())
//! ```
//!
//! # Modules
//!
//! * [`ops`]: the operations ([`Op`], built only through checked constructors), their
//!   settings ([`OpSettings`], [`ThresholdType`], [`AdaptiveMethod`]) and kernels.
//! * The one-call functions at the root: [`gray()`], [`threshold()`], [`otsu()`],
//!   [`triangle()`], [`adaptive_threshold()`].
//! * [`job`]: one op on one image, tiled over a worker pool ([`JobConfig`], [`Control`]).
//! * [`tile`]: tile sizes ([`TileSize`]) and how an image is cut into tiles.
//! * [`pool`]: the worker pools, one per worker count.
//! * [`source`]: decoded input pixels ([`SourceImage`]).
//! * [`io`]: reading images with clear errors and bounded memory, writing results atomically.
//! * [`batch`]: a whole folder of images, pipelined.
//! * [`montage`]: every threshold method on one image (a montage, a "try all" grid).
//! * [`sweep`]: scaling sweeps over worker counts and tile sizes, and their reports.
//! * [`error`]: [`EngineError`], one-line messages for the user, with sources.

#![deny(missing_docs)]

pub mod batch;
pub mod control;
pub mod error;
pub mod io;
pub mod job;
pub mod json_path;
pub mod metrics;
pub mod montage;
pub mod ops;
pub mod pool;
/// Naive single-threaded reference implementations, for tests (feature `reference`).
#[cfg(feature = "reference")]
#[doc(hidden)]
pub mod reference;
mod simple;
pub mod source;
pub mod stream;
pub mod sweep;
pub mod tile;
pub mod tune;

pub use control::{Control, FileEvent, Phase, Progress};
pub use error::EngineError;
pub use io::{DecodeLimits, decode_bytes, read_image, write_gray_atomic};
pub use job::{JobConfig, JobOutput, JobStats};
pub use ops::{AdaptiveMethod, Op, OpKind, OpSettings, ThresholdType};
pub use simple::{adaptive_threshold, gray, otsu, threshold, triangle};
pub use source::{Depth, SourceImage};
pub use tile::TileSize;

/// The `image` crate this engine builds on (its `GrayImage`, `DynamicImage`, ...), re-exported so
/// callers use the same version.
pub use image;
