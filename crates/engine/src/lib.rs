//! The processing engine: OpenCV-exact ops, tiling with halos, worker pools, jobs with
//! progress and cancel, and image I/O. It never touches the UI.
//!
//! ```
//! use tessera_engine::{Control, job, ops::OpSettings, source::SourceImage, tile::TileSize};
//! let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x * 4 + y) as u8]));
//! let op = OpSettings::default().to_op().unwrap(); // adaptive Gaussian, block 11, C 2
//! let cfg = job::JobConfig { workers: 2, tile: TileSize::Square(16) };
//! let out = job::run(&SourceImage::gray(img), &op, &cfg, &Control::new()).unwrap();
//! assert_eq!(out.image.dimensions(), (64, 48));
//! ```

pub mod batch;
pub mod control;
pub mod error;
pub mod io;
pub mod job;
pub mod ops;
pub mod pool;
/// Naive single-threaded reference implementations, for tests (feature `reference`).
#[cfg(feature = "reference")]
#[doc(hidden)]
pub mod reference;
pub mod source;
pub mod sweep;
pub mod tile;

pub use control::{Control, FileEvent, Phase, Progress};
pub use error::EngineError;
pub use job::{JobConfig, JobOutput, JobStats};
pub use ops::{Op, OpKind, OpSettings, ThresholdType};
pub use source::SourceImage;
pub use tile::TileSize;

/// The `image` crate this engine builds on (its `GrayImage`, `DynamicImage`, ...), re-exported so
/// callers use the same version.
pub use image;
