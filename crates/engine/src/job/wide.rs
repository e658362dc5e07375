//! The 16-bit path of a job: the same stages over 16-bit samples.
//!
//! * `gray`: `cvtColor(BGR2GRAY)` on `CV_16U` ([`wide::rgb16_row_to_gray`]);
//! * `histogram`: per-tile 65536-bin histograms, summed;
//! * the op: a fixed or found level through [`Thresholder16`] (gray, trunc, tozero and
//!   tozero-inv keep 16-bit values; binary and binary-inv write 8-bit masks), multi-Otsu's
//!   8-bit label image, or a local method's 8-bit mask.
//!
//! Levels are in 16-bit units: OpenCV's Otsu on the full histogram; ImageJ's methods on its
//! 256-bin reduction of `min..=max`, the level mapped back as ImageJ maps it (objects brighter
//! than the level: `setAutoThreshold(method, dark)`'s range); Fiji's methods on the full
//! histogram; multi-Otsu as scikit-image on a `uint16` array (one bin per integer).
//!
//! With [`Op::with_bins`] (`--bins N`) OpenCV's Otsu and Fiji's methods find their level on
//! `N` equal bins over `min..=max` ([`auto::rebin`]) and cut at the first value of the bins
//! above it; multi-Otsu becomes scikit-image's `threshold_multiotsu` of the image as float64
//! with `nbins = N` (thresholds at bin centres).

use std::mem::MaybeUninit;

use super::{EngineError, JobOutput, Runner, Stage, multi_otsu_classes};
use crate::ops::auto;
use crate::ops::local::LocalRunner;
use crate::ops::wide::{self, Thresholder16, otsu_level_16};
use crate::ops::{Op, ThresholdType};
use crate::source::{Gray16Image, Plane, SourceImage};
use crate::tile::GrayView;

/// Bins of a 16-bit histogram.
const BINS: usize = 1 << 16;

/// The histogram in `bins` equal bins over its range ([`auto::rebin`]), with that range and
/// the bin count; `None` for the full histogram.
fn binned(hist: &[u64], bins: Option<u32>) -> Option<(Vec<u64>, u16, u16, usize)> {
    let n = bins? as usize;
    let (b, lo, hi) = auto::rebin(hist, n)?;
    Some((b, lo, hi, n))
}

/// Where a level `t` found on binned values cuts the 16-bit ones: objects are the bins above
/// `t`, so the values from [`auto::bin_start`]`(t + 1)` up.
fn cut_of_bin(t: i64, lo: u16, hi: u16, bins: usize) -> i64 {
    auto::bin_start(t + 1, lo, hi, bins) - 1
}

impl Runner<'_> {
    /// Runs `op` on a 16-bit `src` ([`super::check_16bit`] has accepted it).
    pub(super) fn wide(
        &mut self,
        src: &SourceImage,
        op: &Op,
        needs_gray_stage: bool,
        n_tiles: usize,
    ) -> Result<JobOutput, EngineError> {
        let gray_buf: Option<Vec<u16>> = if needs_gray_stage {
            Some(self.gray16_stage(src)?)
        } else {
            None
        };
        let gray = GrayView::new(
            gray_buf.as_deref().unwrap_or_else(|| src.raw16()),
            self.width,
            self.height,
        );
        let no_level = |reason: String| EngineError::NoLevel {
            method: op.kind().to_string(),
            reason,
        };
        let mut level = None;
        let mut levels = Vec::new();
        let image = match *op {
            Op::Gray => Plane::Gray16(self.image16(gray_buf.unwrap_or_default())?),
            Op::Threshold {
                kind,
                thresh,
                max_value,
            } => self.threshold16(&gray, kind, thresh, max_value)?,
            Op::Otsu {
                kind,
                max_value,
                bins,
            } => {
                let hist = self.histogram16(&gray)?;
                let l = match binned(&hist, bins) {
                    Some((b, lo, hi, n)) => {
                        cut_of_bin(i64::from(otsu_level_16(&b)), lo, hi, n).clamp(0, 65535) as u16
                    }
                    None => otsu_level_16(&hist),
                };
                level = Some(l);
                self.threshold16(&gray, kind, f64::from(l), max_value)?
            }
            Op::Auto {
                method,
                like,
                kind,
                max_value,
                bins,
            } => {
                let hist = self.histogram16(&gray)?;
                let t = match binned(&hist, bins) {
                    Some((b, lo, hi, n)) => {
                        let t =
                            auto::level(method, &b, like).map_err(|e| no_level(e.to_string()))?;
                        cut_of_bin(i64::from(t), lo, hi, n)
                    }
                    None => {
                        auto::cut_16bit(method, &hist, like).map_err(|e| no_level(e.to_string()))?
                    }
                };
                level = Some(t.clamp(0, 65535) as u16);
                self.threshold16(&gray, kind, t as f64, max_value)?
            }
            Op::MultiOtsu {
                classes,
                max_value,
                bins,
            } => {
                let hist = self.histogram16(&gray)?;
                // Binned: scikit-image's `threshold_multiotsu(image.astype(float64), classes,
                // nbins)`, thresholds at bin centres; `v` is in the upper class from `⌈t⌉`.
                let t = match bins {
                    Some(n) => auto::multi_otsu::multi_otsu_hist16_as_f64(
                        &hist,
                        classes as usize,
                        n as usize,
                    )
                    .map(|t| t.iter().map(|&x| x.ceil() as i64).collect()),
                    None => auto::multi_otsu::multi_otsu(&hist, 0, classes as usize),
                }
                .map_err(|e| no_level(e.to_string()))?;
                let lut = multi_otsu_classes(&t, classes, max_value, BINS);
                levels = t.iter().map(|&v| v.clamp(0, 65535) as u16).collect();
                let out = self.plane(Stage::Op, |rect, rows| {
                    for (i, row) in rows.iter_mut().enumerate() {
                        let s = &gray.row(rect.y + i)[rect.x..rect.x + rect.w];
                        for (o, &v) in row.iter_mut().zip(s) {
                            o.write(lut[v as usize]);
                        }
                    }
                })?;
                self.image8(out)?
            }
            Op::Local {
                method,
                kind,
                max_value,
            } => {
                let l = LocalRunner::new16(method, kind, max_value)?;
                let out = self.plane(Stage::Op, |rect, rows| l.run_tile16(&gray, rect, rows))?;
                self.image8(out)?
            }
            Op::Triangle { .. } | Op::Adaptive { .. } => {
                return Err(EngineError::Internal(
                    "an 8-bit-only op reached the 16-bit path".into(),
                ));
            }
        };
        Ok(JobOutput {
            image,
            level,
            levels,
            stats: self.stats(n_tiles),
        })
    }

    fn image16(&self, data: Vec<u16>) -> Result<Gray16Image, EngineError> {
        Gray16Image::from_raw(self.width as u32, self.height as u32, data)
            .ok_or_else(|| EngineError::Internal("output buffer has the wrong size".into()))
    }

    pub(super) fn image8(&self, data: Vec<u8>) -> Result<Plane, EngineError> {
        image::GrayImage::from_raw(self.width as u32, self.height as u32, data)
            .map(Plane::Gray8)
            .ok_or_else(|| EngineError::Internal("output buffer has the wrong size".into()))
    }

    fn gray16_stage(&self, src: &SourceImage) -> Result<Vec<u16>, EngineError> {
        self.gray_plane(src.raw16(), src.channels(), wide::rgb16_row_to_gray_uninit)
    }

    /// A threshold at `thresh`: a 16-bit plane for the types that keep values, an 8-bit mask
    /// for binary and binary-inv.
    fn threshold16(
        &self,
        gray: &GrayView<'_, u16>,
        kind: ThresholdType,
        thresh: f64,
        max_value: f64,
    ) -> Result<Plane, EngineError> {
        let t = Thresholder16::new(kind, thresh, max_value);
        if kind.keeps_values() {
            let out = self.plane(Stage::Op, |rect, rows: &mut [&mut [MaybeUninit<u16>]]| {
                for (i, row) in rows.iter_mut().enumerate() {
                    t.apply_row_uninit(&gray.row(rect.y + i)[rect.x..rect.x + rect.w], row);
                }
            })?;
            Ok(Plane::Gray16(self.image16(out)?))
        } else {
            let out = self.plane(Stage::Op, |rect, rows: &mut [&mut [MaybeUninit<u8>]]| {
                for (i, row) in rows.iter_mut().enumerate() {
                    t.mask_row_uninit(&gray.row(rect.y + i)[rect.x..rect.x + rect.w], row);
                }
            })?;
            self.image8(out)
        }
    }

    /// The 65536-bin histogram, per tile then summed.
    fn histogram16(&self, gray: &GrayView<'_, u16>) -> Result<Vec<u64>, EngineError> {
        self.reduce_stage(
            Stage::Histogram,
            |rect| {
                let mut h = vec![0u64; BINS];
                for y in rect.y..rect.y + rect.h {
                    for &v in &gray.row(y)[rect.x..rect.x + rect.w] {
                        h[v as usize] += 1;
                    }
                }
                h
            },
            Vec::new(),
            |a, b| {
                if a.is_empty() {
                    return b;
                }
                let (mut a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        )
        .map(|h| if h.is_empty() { vec![0; BINS] } else { h })
    }
}
