//! Every threshold method on one image: the cells of a montage (`tessera montage`) or of a
//! "try all" grid.
//!
//! [`plan`] lists the methods: every [`OpKind`] but [`OpKind::Gray`] and
//! [`OpKind::Threshold`], each with its default implementation ([`OpKind::anchors`]), and the
//! other implementations of Otsu, triangle, Niblack and Sauvola as cells of their own
//! ("Sauvola (Fiji)"). [`run`] converts the image to gray once, then runs each method as a
//! [`job`] on the same pool, one after the other, and returns every cell: its
//! image, or why the method gave none (a global method that finds no level, a threshold type
//! the method does not take), without failing the others.
//!
//! The shared parameters (threshold type, `maxval`, block size, radius, `k`, ...) come from
//! one base [`OpSettings`]; its `op` and `like` are ignored.
//!
//! Progress: each job adds its tiles to the [`Control`] as it starts, so the control's tile
//! counters grow over the whole run. Cancel stops the current job before its next tile and
//! starts no further one; [`run`] then returns [`EngineError::Cancelled`].
//!
//! ```
//! use tessera_engine::{Control, JobConfig, OpSettings, SourceImage, TileSize, montage};
//! let img = image::GrayImage::from_fn(48, 32, |x, y| image::Luma([(x * 5 + y * 3) as u8]));
//! let cfg = JobConfig { workers: 2, tile: TileSize::Auto };
//! let all = montage::run(&SourceImage::gray(img), &OpSettings::default(), &cfg, &Control::new())?;
//! assert_eq!(all.cells.len(), montage::plan().len());
//! let huang = all.cells.iter().find(|c| c.label == "Huang (ImageJ)").unwrap();
//! assert!(huang.level.is_some() && huang.result.is_ok());
//! # Ok::<(), tessera_engine::EngineError>(())
//! ```

use std::time::{Duration, Instant};

#[cfg(test)]
use image::GrayImage;

use crate::source::Plane;

use crate::control::Control;
use crate::error::EngineError;
use crate::job::{self, JobConfig};
use crate::ops::local::Local;
use crate::ops::{Anchor, Op, OpKind, OpSettings};
use crate::pool::WorkerPool;
use crate::source::SourceImage;

/// One method of the montage: an op and the implementation it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// The op.
    pub kind: OpKind,
    /// The implementation; `None` for an op with one definition (Bradley).
    pub anchor: Option<Anchor>,
}

impl Method {
    /// The settings that run this method: `base` with this op and implementation.
    pub fn settings(&self, base: &OpSettings) -> OpSettings {
        OpSettings {
            op: self.kind,
            like: self.anchor,
            ..*base
        }
    }

    /// A label for people, unique over [`plan`]: "Huang (ImageJ)", "Sauvola (Fiji)",
    /// "Default (ImageJ)", "Bradley".
    pub fn label(&self) -> String {
        // "Otsu threshold" in a menu of OpenCV ops; "Otsu (ImageJ)" beside the others.
        let label = self.kind.label().trim_end_matches(" threshold");
        match self.anchor {
            // Labels such as "Default (ImageJ)" already name their implementation.
            Some(a) if !label.contains('(') => format!("{label} ({})", short_name(a)),
            _ => label.to_string(),
        }
    }
}

/// The implementation's name, short enough for a caption.
pub fn short_name(a: Anchor) -> &'static str {
    match a {
        Anchor::OpenCv => "OpenCV",
        Anchor::ImageJ => "ImageJ",
        Anchor::Fiji => "Fiji",
        Anchor::Skimage => "scikit-image",
    }
}

/// The methods of a montage, in menu order ([`OpKind::ALL`]): every op but gray and the
/// fixed threshold with its default implementation, each followed by the other
/// implementations of Otsu, triangle, Niblack and Sauvola (41 cells).
pub fn plan() -> Vec<Method> {
    let mut v = Vec::new();
    for kind in OpKind::ALL {
        if matches!(kind, OpKind::Gray | OpKind::Threshold) {
            continue;
        }
        let anchors = kind.anchors();
        match anchors.first() {
            None => v.push(Method { kind, anchor: None }),
            Some(&first) => {
                v.push(Method {
                    kind,
                    anchor: Some(first),
                });
                if matches!(
                    kind,
                    OpKind::Otsu | OpKind::Triangle | OpKind::Niblack | OpKind::Sauvola
                ) {
                    v.extend(anchors[1..].iter().map(|&a| Method {
                        kind,
                        anchor: Some(a),
                    }));
                }
            }
        }
    }
    v
}

/// One cell: a method and what it gave.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The method.
    pub method: Method,
    /// [`Method::label`].
    pub label: String,
    /// The method's own parameters in a few characters, for a caption: `b25 k0.2` (block size
    /// and `k` of OpenCV's Sauvola), `r15` (a Fiji radius); empty for the global methods
    /// (their level says more).
    pub params: String,
    /// [`Op::describe`] of the op that ran; empty when the settings were refused.
    pub describe: String,
    /// The result, or why there is none (one line): a mask or label image (8-bit), or a
    /// 16-bit image where a method keeps a 16-bit image's values.
    pub result: Result<Plane, String>,
    /// The level of a global method (Otsu, triangle, the ImageJ/Fiji methods), in the
    /// image's units.
    pub level: Option<u16>,
    /// Wall time of the job.
    pub compute: Duration,
}

/// The gray image and every cell of [`plan`], in its order.
#[derive(Debug, Clone)]
pub struct Montage {
    /// The gray image the methods ran on (`cvtColor(RGB2GRAY)` of a colour input), 8- or
    /// 16-bit as the source.
    pub gray: Plane,
    /// One cell per method of [`plan`].
    pub cells: Vec<Cell>,
}

/// Runs every method of [`plan`] on `src` with the shared parameters of `base`, each as a
/// job on `cfg`'s workers and tiles, and keeps every cell.
///
/// A method that fails on this image (no level, a threshold type it does not take, an
/// internal error) gives a cell with the reason; the run fails only when it is cancelled
/// ([`EngineError::Cancelled`]) or the worker pool cannot be started.
pub fn run(
    src: &SourceImage,
    base: &OpSettings,
    cfg: &JobConfig,
    ctl: &Control,
) -> Result<Montage, EngineError> {
    let mut cells = Vec::new();
    let gray = run_each(src, None, base, cfg, ctl, |c| cells.push(c))?;
    Ok(Montage { gray, cells })
}

/// Like [`run`], but hands each cell to `each` as soon as it is computed, in [`plan`]'s
/// order, instead of keeping them all: a caller that shrinks each result (a montage, a grid
/// of thumbnails) holds one full-size result at a time. Returns the gray image.
///
/// `eight` is the same image read at 8 bits ([`crate::Depth::Eight`]): when `src` is
/// 16-bit, the methods with no 16-bit form ([`Op::supports_16bit`]) run on it, as
/// [`OpSettings::read_depth`] has a single op read it; without it their cells say why they
/// have no image.
pub fn run_each(
    src: &SourceImage,
    eight: Option<&SourceImage>,
    base: &OpSettings,
    cfg: &JobConfig,
    ctl: &Control,
    mut each: impl FnMut(Cell),
) -> Result<Plane, EngineError> {
    let pool = WorkerPool::shared(cfg.workers)?;
    let gray = job::run_on(&pool, src, &Op::gray(), cfg.tile, ctl)?.image;
    let gray_src = match gray {
        Plane::Gray8(g) => SourceImage::gray(g),
        Plane::Gray16(g) => SourceImage::gray16(g),
    };
    // The 8-bit reading's gray image, made when a method first needs it.
    let mut gray8: Option<SourceImage> = None;
    for method in plan() {
        if ctl.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let t0 = Instant::now();
        let op = method.settings(base).to_op();
        let (describe, params) = match &op {
            Ok(op) => (op.describe(), short_params(op)),
            Err(_) => (String::new(), String::new()),
        };
        let out = op.and_then(|op| {
            let on = match eight {
                Some(e) if gray_src.is_16bit() && !op.supports_16bit() => {
                    if gray8.is_none() {
                        let g = job::run_on(&pool, e, &Op::gray(), cfg.tile, ctl)?.image;
                        gray8 = Some(match g {
                            Plane::Gray8(g) => SourceImage::gray(g),
                            Plane::Gray16(g) => SourceImage::gray16(g),
                        });
                    }
                    gray8.as_ref().unwrap_or(&gray_src)
                }
                _ => &gray_src,
            };
            job::run_on(&pool, on, &op, cfg.tile, ctl)
        });
        let (result, level) = match out {
            Ok(out) => (Ok(out.image), out.level),
            Err(EngineError::Cancelled) => return Err(EngineError::Cancelled),
            Err(e @ EngineError::Pool { .. }) => return Err(e),
            Err(e) => (Err(e.to_string()), None),
        };
        each(Cell {
            method,
            label: method.label(),
            params,
            describe,
            result,
            level,
            compute: t0.elapsed(),
        });
    }
    if ctl.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    match gray_src.pixels {
        crate::source::Pixels::Gray(gray) => Ok(Plane::Gray8(gray)),
        crate::source::Pixels::Gray16(gray) => Ok(Plane::Gray16(gray)),
        _ => Err(EngineError::Internal("the gray image is not gray".into())),
    }
}

/// The method's own parameters in a few characters (see [`Cell::params`]).
pub fn short_params(op: &Op) -> String {
    match *op {
        Op::Adaptive { block_size, c, .. } => format!("b{block_size} c{c}"),
        Op::Local { method, .. } => match method {
            Local::OpenCv {
                method: m,
                block_size,
                k,
                r,
            } => match m {
                crate::ops::local::NiblackMethod::Sauvola => {
                    format!("b{block_size} k{k} r{r}")
                }
                _ => format!("b{block_size} k{k}"),
            },
            Local::Skimage {
                method: m,
                window,
                k,
                r,
            } => match m {
                crate::ops::local::SkimageLocal::Sauvola => match r {
                    Some(r) => format!("b{window} k{k} r{r}"),
                    None => format!("b{window} k{k}"),
                },
                crate::ops::local::SkimageLocal::Niblack => format!("b{window} k{k}"),
            },
            Local::Bradley { block_size, t } => format!("b{block_size} t{t}"),
            // Fiji's parameters of 0 are its defaults: only the radius is worth a word.
            Local::Fiji { radius, p1, p2, .. } => {
                let mut s = format!("r{radius}");
                if p1 != 0.0 {
                    s.push_str(&format!(" p1={p1}"));
                }
                if p2 != 0.0 {
                    s.push_str(&format!(" p2={p2}"));
                }
                s
            }
        },
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ThresholdType;
    use crate::tile::TileSize;
    use std::collections::HashSet;
    use std::sync::{Arc, OnceLock};

    fn image() -> GrayImage {
        // Dark strokes on an uneven background, so every method finds something.
        GrayImage::from_fn(61, 47, |x, y| {
            let bg = 150 + (x + 2 * y) % 60;
            let stroke = (x % 13 < 3 && y % 11 > 2) || (y % 17 == 5);
            image::Luma([if stroke { (bg / 4) as u8 } else { bg as u8 }])
        })
    }

    fn cfg() -> JobConfig {
        JobConfig {
            workers: 3,
            tile: TileSize::Square(16),
        }
    }

    #[test]
    fn the_plan_has_every_method_once_with_unique_labels() {
        let p = plan();
        assert_eq!(p.len(), 41);
        let labels: HashSet<String> = p.iter().map(Method::label).collect();
        assert_eq!(labels.len(), p.len(), "{labels:?}");
        for kind in OpKind::ALL {
            let n = p.iter().filter(|m| m.kind == kind).count();
            let want = match kind {
                OpKind::Gray | OpKind::Threshold => 0,
                OpKind::Otsu | OpKind::Triangle | OpKind::Niblack | OpKind::Sauvola => 3,
                _ => 1,
            };
            assert_eq!(n, want, "{kind}");
        }
        assert!(labels.contains("Sauvola (Fiji)"));
        assert!(labels.contains("Default (ImageJ)"));
        assert!(labels.contains("Bradley"));
    }

    #[test]
    fn every_cell_is_the_job_of_its_op() {
        let src = SourceImage::gray(image());
        let base = OpSettings {
            block_size: 15,
            ..OpSettings::default()
        };
        let ctl = Control::new();
        let m = run(&src, &base, &cfg(), &ctl).unwrap();
        assert_eq!(m.gray, Plane::Gray8(image()));
        assert_eq!(m.cells.len(), plan().len());
        let (done, total) = ctl.tiles();
        assert_eq!(done, total);
        for (cell, method) in m.cells.iter().zip(plan()) {
            assert_eq!(cell.method, method);
            let op = method.settings(&base).to_op().unwrap();
            assert_eq!(cell.describe, op.describe());
            let want = job::run(&src, &op, &cfg(), &Control::new());
            match (&cell.result, want) {
                (Ok(img), Ok(out)) => {
                    assert_eq!(img, &out.image, "{}", cell.label);
                    assert_eq!(cell.level, out.level, "{}", cell.label);
                }
                (Err(e), Err(w)) => assert_eq!(e, &w.to_string()),
                (got, want) => panic!("{}: {got:?} vs {want:?}", cell.label),
            }
            if method.kind.group() == crate::ops::OpGroup::Global
                || matches!(method.kind, OpKind::Otsu | OpKind::Triangle)
            {
                assert!(
                    cell.level.is_some() || cell.result.is_err(),
                    "{}",
                    cell.label
                );
            } else {
                assert_eq!(cell.level, None, "{}", cell.label);
            }
        }
        let sauvola = m.cells.iter().find(|c| c.label == "Sauvola (OpenCV)");
        assert_eq!(sauvola.unwrap().params, "b15 k0.2 r128");
    }

    #[test]
    fn a_colour_image_runs_on_its_gray() {
        let rgb = image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x * y) % 256) as u8])
        });
        let src = SourceImage::rgb(rgb);
        let m = run(&src, &OpSettings::default(), &cfg(), &Control::new()).unwrap();
        let gray = job::run(&src, &Op::gray(), &cfg(), &Control::new()).unwrap();
        assert_eq!(m.gray, gray.image);
        let li = m
            .cells
            .iter()
            .find(|c| c.method.kind == OpKind::Li)
            .unwrap();
        let op = li.method.settings(&OpSettings::default()).to_op().unwrap();
        let want = job::run(&src, &op, &cfg(), &Control::new()).unwrap();
        assert_eq!(li.result.as_ref().unwrap(), &want.image);
    }

    #[test]
    fn failing_methods_give_a_reason_and_the_others_run() {
        // Trunc: the ImageJ/Fiji levels and OpenCV's niblack family take it, the other local
        // methods do not.
        let base = OpSettings {
            kind: ThresholdType::Trunc,
            ..OpSettings::default()
        };
        let src = SourceImage::gray(image());
        let m = run(&src, &base, &cfg(), &Control::new()).unwrap();
        let bernsen = m.cells.iter().find(|c| c.method.kind == OpKind::Bernsen);
        let e = bernsen.unwrap().result.as_ref().unwrap_err();
        assert!(e.contains("binary"), "{e}");
        let wolf = m.cells.iter().find(|c| c.method.kind == OpKind::Wolf);
        assert!(wolf.unwrap().result.is_ok());
        // A flat image: some global methods find no level.
        let flat = SourceImage::gray(GrayImage::from_pixel(20, 20, image::Luma([77])));
        let m = run(&flat, &OpSettings::default(), &cfg(), &Control::new()).unwrap();
        assert_eq!(m.cells.len(), plan().len());
    }

    #[test]
    fn cancel_stops_the_run() {
        let src = SourceImage::gray(image());
        let ctl = Control::new();
        ctl.cancel();
        let e = run(&src, &OpSettings::default(), &cfg(), &ctl).unwrap_err();
        assert!(matches!(e, EngineError::Cancelled), "{e}");

        // Cancelled from the progress callback, after a few tiles: inside the run.
        let me: Arc<OnceLock<Arc<Control>>> = Arc::new(OnceLock::new());
        let me2 = Arc::clone(&me);
        let ctl = Arc::new(Control::with_notify(move || {
            if let Some(c) = me2.get()
                && c.tiles().0 >= 30
            {
                c.cancel();
            }
        }));
        let _ = me.set(Arc::clone(&ctl));
        let e = run(&src, &OpSettings::default(), &cfg(), &ctl).unwrap_err();
        assert!(matches!(e, EngineError::Cancelled), "{e}");
        let (done, _) = ctl.tiles();
        let full = Control::new();
        run(&src, &OpSettings::default(), &cfg(), &full).unwrap();
        assert!(done < full.tiles().0, "{done} of {:?}", full.tiles());
    }
}
