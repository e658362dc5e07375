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
//!
//! 16-bit gray: scikit-image's methods and Bradley–Roth also run on 16-bit samples
//! ([`Local::supports_16bit`]), writing the same 8-bit mask. OpenCV contrib's
//! `niBlackThreshold` is not supported there (it asserts 8 bits for Sauvola and gives a
//! 16-bit image for the others), nor is Fiji's Auto Local Threshold, which takes 8-bit
//! images only.

pub mod fiji;
pub mod niblack;
pub(crate) mod window;

use std::mem::MaybeUninit;

pub use fiji::FijiLocal;
pub use niblack::{NiblackMethod, SkimageLocal};

use crate::error::EngineError;
use crate::tile::{GrayView, Rect};
use fiji::{FijiParams, FijiPrep};
use niblack::{Bradley, OpenCvNiblack, Skimage, WolfStats};
use window::Sample;

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
        /// Sauvola's `r`; `None`: scikit-image's default, half the dtype's range (127.5 on an
        /// 8-bit image, 32767.5 on a 16-bit one).
        r: Option<f64>,
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

    /// Whether the method runs on 16-bit gray samples (scikit-image's and Bradley–Roth);
    /// OpenCV contrib's and Fiji's take 8-bit images only.
    pub fn supports_16bit(&self) -> bool {
        matches!(self, Local::Skimage { .. } | Local::Bradley { .. })
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
                SkimageLocal::Sauvola => match r {
                    Some(r) => format!("like skimage block {window} k {k} r {r}"),
                    None => format!("like skimage block {window} k {k} r half-range"),
                },
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

    /// A runner for a 16-bit source (no 8-bit view needed): only for the methods of
    /// [`Local::supports_16bit`]; the others are refused with a one-line usage error.
    pub(crate) fn new16(
        method: Local,
        kind: ThresholdType,
        max_value: f64,
    ) -> Result<Self, EngineError> {
        if !method.supports_16bit() {
            let like = if matches!(method, Local::Fiji { .. }) {
                "fiji"
            } else {
                "opencv"
            };
            return Err(EngineError::InvalidParam(format!(
                "{} like {like} takes 8-bit images only (on 16-bit: niblack or sauvola like \
                 skimage, or bradley)",
                super::Op::local_kind(&method)
            )));
        }
        Ok(LocalRunner {
            method,
            kind,
            max_value,
            stats: WolfStats::EMPTY,
            fiji: None,
        })
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
        check_tile(src, rect, out);
        match self.method {
            Local::OpenCv { .. } => {
                if let Some(o) = self.opencv() {
                    o.run_tile(src, rect, self.stats, out)
                }
            }
            Local::Fiji { .. } => self.fiji_tile(src, rect, out),
            Local::Skimage { .. } | Local::Bradley { .. } => self.generic_tile(src, rect, out),
        }
    }

    /// [`run_tile`](Self::run_tile) on 16-bit samples, for the methods of
    /// [`Local::supports_16bit`] (the same 8-bit output: `max_value` or 0).
    ///
    /// # Panics
    /// For the other methods ([`LocalRunner::new16`] refuses them).
    pub(crate) fn run_tile16(
        &self,
        src: &GrayView<'_, u16>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        check_tile(src, rect, out);
        assert!(
            self.method.supports_16bit(),
            "{:?} has no 16-bit kernel",
            self.method
        );
        self.generic_tile(src, rect, out);
    }

    /// The kernels generic over the sample type (scikit-image's, Bradley–Roth).
    fn generic_tile<T: Sample>(
        &self,
        src: &GrayView<'_, T>,
        rect: Rect,
        out: &mut [&mut [MaybeUninit<u8>]],
    ) {
        let inverse = self.kind == ThresholdType::BinaryInv;
        match self.method {
            Local::Skimage {
                method,
                window,
                k,
                r,
            } => Skimage {
                method,
                window,
                k,
                r: r.unwrap_or(0.5 * T::MAX),
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
            Local::OpenCv { .. } | Local::Fiji { .. } => {
                unreachable!("8-bit only methods have their own kernels")
            }
        }
    }
}

fn check_tile<T>(src: &GrayView<'_, T>, rect: Rect, out: &[&mut [MaybeUninit<u8>]]) {
    assert_eq!(out.len(), rect.h, "local tile: row count");
    assert!(
        out.iter().all(|r| r.len() == rect.w),
        "local tile: row width"
    );
    assert!(rect.x + rect.w <= src.width && rect.y + rect.h <= src.height);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run8(m: Local, kind: ThresholdType, max: f64, data: &[u8], w: usize, h: usize) -> Vec<u8> {
        let src = GrayView::new(data, w, h);
        let l = LocalRunner::new(m, kind, max, &src);
        let mut out = vec![MaybeUninit::new(1u8); w * h];
        let mut rows: Vec<&mut [MaybeUninit<u8>]> = out.chunks_mut(w).collect();
        l.run_tile(&src, Rect { x: 0, y: 0, w, h }, &mut rows);
        // SAFETY: initialised above (and overwritten by the tile).
        out.iter().map(|v| unsafe { v.assume_init() }).collect()
    }

    fn run16(m: Local, kind: ThresholdType, max: f64, data: &[u16], w: usize, h: usize) -> Vec<u8> {
        let src = GrayView::new(data, w, h);
        let l = LocalRunner::new16(m, kind, max).unwrap();
        let mut out = vec![MaybeUninit::new(1u8); w * h];
        let mut rows: Vec<&mut [MaybeUninit<u8>]> = out.chunks_mut(w).collect();
        l.run_tile16(&src, Rect { x: 0, y: 0, w, h }, &mut rows);
        // SAFETY: initialised above (and overwritten by the tile).
        out.iter().map(|v| unsafe { v.assume_init() }).collect()
    }

    /// The 16-bit kernels on an image holding the 8-bit values give the 8-bit masks.
    #[test]
    fn sixteen_bit_kernels_on_8bit_values_equal_the_8bit_kernels() {
        let (w, h) = (37, 29);
        let mut seed = 4321u32;
        let data: Vec<u8> = (0..w * h)
            .map(|i| {
                seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                // Noise over a ramp, and a flat patch (zero variance).
                if (i % w) < 6 && i / w < 6 {
                    200
                } else {
                    ((seed >> 26) as usize + (i % w) * 6) as u8
                }
            })
            .collect();
        let wide: Vec<u16> = data.iter().map(|&v| v as u16).collect();
        let mut methods = Vec::new();
        for method in [SkimageLocal::Niblack, SkimageLocal::Sauvola] {
            for (window, k, r) in [(3, 0.2, 127.5), (15, -0.3, 64.0), (61, 0.5, 127.5)] {
                methods.push(Local::Skimage {
                    method,
                    window,
                    k,
                    r: Some(r),
                });
            }
        }
        for (block_size, t) in [(3, 15.0), (11, 0.0), (45, 60.0)] {
            methods.push(Local::Bradley { block_size, t });
        }
        for m in methods {
            assert!(m.supports_16bit());
            for (kind, max) in [
                (ThresholdType::Binary, 255.0),
                (ThresholdType::BinaryInv, 90.0),
            ] {
                let a = run8(m, kind, max, &data, w, h);
                let b = run16(m, kind, max, &wide, w, h);
                assert_eq!(a, b, "{m:?} {kind}");
                let on = a.iter().filter(|&&v| v != 0).count();
                assert!(
                    on > 0 && on < a.len(),
                    "{m:?} {kind}: {on} of {} on",
                    a.len()
                );
            }
        }
    }

    #[test]
    fn eight_bit_only_methods_are_refused_on_16bit() {
        let opencv = Local::OpenCv {
            method: NiblackMethod::Wolf,
            block_size: 15,
            k: 0.2,
            r: 128.0,
        };
        let fiji = Local::Fiji {
            method: FijiLocal::Bernsen,
            radius: 15,
            p1: 0.0,
            p2: 0.0,
        };
        for (m, want) in [
            (
                opencv,
                "wolf like opencv takes 8-bit images only (on 16-bit: niblack or sauvola like \
                 skimage, or bradley)",
            ),
            (
                fiji,
                "bernsen like fiji takes 8-bit images only (on 16-bit: niblack or sauvola like \
                 skimage, or bradley)",
            ),
        ] {
            assert!(!m.supports_16bit());
            let e = LocalRunner::new16(m, ThresholdType::Binary, 255.0).unwrap_err();
            assert!(e.is_usage());
            assert_eq!(e.to_string(), want);
        }
    }
}
