//! Local (adaptive) threshold methods: each pixel is compared with a threshold computed from
//! its neighbourhood, with the semantics of the implementation its users trust.
//!
//! | [`Local`] | oracle | border | per pixel |
//! |---|---|---|---|
//! | [`Local::OpenCv`] | OpenCV contrib 5.1 `ximgproc::niBlackThreshold` (Niblack, Sauvola, Wolf, NICK) | replicated | O(1) |
//! | [`Local::Skimage`] | scikit-image 0.26 `threshold_niblack`, `threshold_sauvola` | mirrored (numpy `reflect`) | O(1) |
//! | [`Local::Bradley`] | Bradley & Roth 2007 (integral image mean) | clipped | O(1) |
//! | Fiji ([`fiji`]) | Fiji Auto Local Threshold 1.11.0 | nearest edge / clipped oval | see [`fiji`] |
//!
//! Every method computes a tile from the whole gray image (the halo is read in place), from
//! exact integer window sums, so the result does not depend on the tiling or the worker count.
//! The details of each oracle's arithmetic are in [`niblack`].

pub mod fiji;
pub mod niblack;
pub(crate) mod window;

use std::mem::MaybeUninit;

pub use fiji::FijiLocal;
pub use niblack::{NiblackMethod, SkimageLocal};

use crate::tile::{GrayView, Rect};
use fiji::{FijiParams, FijiPrep};
use niblack::{Bradley, OpenCvNiblack, Skimage, WolfStats};

use super::{ThresholdType, saturate_round_u8};

/// A local method with its parameters (validated by [`super::Op::local`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Local {
    /// `niBlackThreshold(gray, maxValue, type, block_size, k, method, r)`.
    OpenCv {
        /// Which `BINARIZATION_*`.
        method: NiblackMethod,
        /// The window, odd, 3..=[`super::MAX_BLOCK_SIZE`].
        block_size: u32,
        /// `k`.
        k: f64,
        /// Sauvola's `r` (the others ignore it).
        r: f64,
    },
    /// `threshold_niblack(gray, window_size, k)` / `threshold_sauvola(gray, window_size, k, r)`,
    /// then `gray > T`.
    Skimage {
        /// Niblack or Sauvola.
        method: SkimageLocal,
        /// The window, odd, 3..=[`super::MAX_BLOCK_SIZE`].
        window: u32,
        /// `k`.
        k: f64,
        /// Sauvola's `r` (scikit-image's default for 8 bits: 127.5).
        r: f64,
    },
    /// Bradley–Roth: foreground when the pixel is more than `t` percent above the mean of
    /// its window (clipped at the border).
    Bradley {
        /// The window, odd, 3..=[`super::MAX_BLOCK_SIZE`].
        block_size: u32,
        /// Percent, 0..=100.
        t: f64,
    },
    /// Fiji's `Auto_Local_Threshold.exec(imp, method, radius, p1, p2, doIwhite)`; `doIwhite`
    /// is the threshold type: binary for white objects (Fiji's default), binary-inv for dark
    /// objects on a light background.
    Fiji {
        /// The method.
        method: FijiLocal,
        /// The radius, 1..=[`fiji::MAX_RADIUS`].
        radius: u32,
        /// Parameter 1 (0: Fiji's default).
        p1: f64,
        /// Parameter 2 (0: Fiji's default).
        p2: f64,
    },
}

impl Local {
    /// How far beyond a tile the method reads.
    pub fn halo(&self) -> usize {
        match *self {
            Local::OpenCv { block_size, .. } | Local::Bradley { block_size, .. } => {
                block_size as usize / 2
            }
            Local::Skimage { window, .. } => window as usize / 2,
            Local::Fiji { method, radius, .. } => fiji::fiji_halo(
                method,
                &FijiParams {
                    radius,
                    p1: 0.0,
                    p2: 0.0,
                    white_objects: true,
                },
            ),
        }
    }

    /// Whether the method needs whole-image statistics before its tiles run (Wolf).
    pub(crate) fn needs_stats(&self) -> bool {
        matches!(
            self,
            Local::OpenCv {
                method: NiblackMethod::Wolf,
                ..
            }
        )
    }

    /// The parameters, as `describe` prints them (Fiji's as the values Fiji uses).
    pub(crate) fn describe_params(&self, kind: ThresholdType) -> String {
        match *self {
            Local::OpenCv {
                method,
                block_size,
                k,
                r,
            } => match method {
                NiblackMethod::Sauvola => format!("like opencv block {block_size} k {k} r {r}"),
                _ => format!("like opencv block {block_size} k {k}"),
            },
            Local::Skimage {
                method,
                window,
                k,
                r,
            } => match method {
                SkimageLocal::Sauvola => format!("like skimage block {window} k {k} r {r}"),
                SkimageLocal::Niblack => format!("like skimage block {window} k {k}"),
            },
            Local::Bradley { block_size, t } => format!("block {block_size} t {t}"),
            Local::Fiji {
                method,
                radius,
                p1,
                p2,
            } => {
                // The values Fiji uses (0 means its default), named.
                let or = |v: f64, d: f64| if v != 0.0 { v } else { d };
                let int = |v: f64| v.trunc();
                let params = match method {
                    FijiLocal::Bernsen => format!(" contrast {}", or(p1, 15.0)),
                    FijiLocal::Mean | FijiLocal::Median | FijiLocal::MidGrey => {
                        format!(" c {}", int(p1))
                    }
                    FijiLocal::Niblack => {
                        let k = if kind == ThresholdType::BinaryInv {
                            -0.2
                        } else {
                            0.2
                        };
                        format!(" k {} c {}", or(p1, k), int(p2))
                    }
                    FijiLocal::Sauvola => format!(" k {} r {}", or(p1, 0.5), or(p2, 128.0)),
                    FijiLocal::Phansalkar => format!(" k {} r {}", or(p1, 0.25), or(p2, 0.5)),
                    FijiLocal::Contrast | FijiLocal::Otsu => String::new(),
                };
                format!("like fiji radius {radius}{params}")
            }
        }
    }
}

/// A local method ready to run on tiles.
#[derive(Debug, Clone)]
pub(crate) struct LocalRunner {
    method: Local,
    kind: ThresholdType,
    max_value: f64,
    stats: WolfStats,
    fiji: Option<FijiPrep>,
}

impl LocalRunner {
    /// `src` is the whole image (Fiji's Phansalkar stretches by its range).
    pub(crate) fn new(
        method: Local,
        kind: ThresholdType,
        max_value: f64,
        src: &GrayView<'_>,
    ) -> Self {
        let fiji = match method {
            Local::Fiji { method, .. } => Some(fiji::prepare(method, src)),
            _ => None,
        };
        LocalRunner {
            method,
            kind,
            max_value,
            stats: WolfStats::EMPTY,
            fiji,
        }
    }

    fn opencv(&self) -> Option<OpenCvNiblack> {
        match self.method {
            Local::OpenCv {
                method,
                block_size,
                k,
                r,
            } => Some(OpenCvNiblack {
                method,
                block_size,
                k,
                r,
                kind: self.kind,
                max_value: self.max_value,
            }),
            _ => None,
        }
    }

    /// The whole-image statistics of one tile (see [`Local::needs_stats`]).
    pub(crate) fn tile_stats(&self, src: &GrayView<'_>, rect: Rect) -> WolfStats {
        self.opencv()
            .map_or(WolfStats::EMPTY, |o| o.wolf_stats(src, rect))
    }

    pub(crate) fn with_stats(self, stats: WolfStats) -> Self {
        LocalRunner { stats, ..self }
    }

    fn fiji_tile(&self, src: &GrayView<'_>, rect: Rect, out: &mut [&mut [MaybeUninit<u8>]]) {
        let (
            Local::Fiji {
                method,
                radius,
                p1,
                p2,
            },
            Some(prep),
        ) = (self.method, &self.fiji)
        else {
            return;
        };
        let p = FijiParams {
            radius,
            p1,
            p2,
            white_objects: self.kind != ThresholdType::BinaryInv,
        };
        fiji::fiji_tile(method, &p, prep, src, rect, out);
        let on = saturate_round_u8(self.max_value);
        if on != 255 {
            for row in out.iter_mut() {
                for v in row.iter_mut() {
                    // SAFETY: fiji_tile wrote every pixel of the tile.
                    let x = unsafe { v.assume_init() };
                    v.write(if x == 255 { on } else { 0 });
                }
            }
        }
    }

    /// Computes the output pixels of `rect`; every pixel of `out` is written.
    pub(crate) fn run_tile(
        &self,
        src: &GrayView<'_>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        assert_eq!(out.len(), rect.h, "local tile: row count");
        assert!(
            out.iter().all(|r| r.len() == rect.w),
            "local tile: row width"
        );
        assert!(rect.x + rect.w <= src.width && rect.y + rect.h <= src.height);
        let inverse = self.kind == ThresholdType::BinaryInv;
        match self.method {
            Local::OpenCv { .. } => {
                if let Some(o) = self.opencv() {
                    o.run_tile(src, rect, self.stats, out)
                }
            }
            Local::Skimage {
                method,
                window,
                k,
                r,
            } => Skimage {
                method,
                window,
                k,
                r,
                inverse,
                max_value: self.max_value,
            }
            .run_tile(src, rect, out),
            Local::Bradley { block_size, t } => Bradley {
                block_size,
                t,
                inverse,
                max_value: self.max_value,
            }
            .run_tile(src, rect, out),
            Local::Fiji { .. } => self.fiji_tile(src, rect, out),
        }
    }
}
