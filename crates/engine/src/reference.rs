//! Slow, obvious implementations of every op, written straight from OpenCV's definitions,
//! single-threaded over the whole image. Tests compare the tiled parallel engine against them.

use super::ops::adaptive::gaussian_kernel;
use super::ops::gray::gray_of;
use super::ops::level::Histogram;
use super::ops::{AdaptiveMethod, Op, ThresholdType, saturate_round_u8};
use super::source::SourceImage;

/// The gray image of a source, pixel by pixel.
pub fn gray(src: &SourceImage) -> Vec<u8> {
    let cn = src.channels();
    src.raw()
        .chunks_exact(cn)
        .map(|p| {
            if cn == 1 {
                p[0]
            } else {
                gray_of(p[0], p[1], p[2])
            }
        })
        .collect()
}

/// `cv::threshold` on one value with integer level `t` (already floored).
fn threshold_value(v: u8, kind: ThresholdType, t: f64, maxval: u8) -> u8 {
    let above = (v as f64) > t;
    match kind {
        ThresholdType::Binary => {
            if above {
                maxval
            } else {
                0
            }
        }
        ThresholdType::BinaryInv => {
            if above {
                0
            } else {
                maxval
            }
        }
        ThresholdType::Trunc => {
            if above {
                t.clamp(0.0, 255.0) as u8
            } else {
                v
            }
        }
        ThresholdType::ToZero => {
            if above {
                v
            } else {
                0
            }
        }
        ThresholdType::ToZeroInv => {
            if above {
                0
            } else {
                v
            }
        }
    }
}

/// `cv::threshold` of every pixel at a found level.
fn threshold_all(g: &[u8], kind: ThresholdType, level: u8, max_value: f64) -> Vec<u8> {
    let m = saturate_round_u8(max_value);
    g.iter()
        .map(|&v| threshold_value(v, kind, level as f64, m))
        .collect()
}

/// Runs `op` naively; returns the output pixels and the level for Otsu/triangle.
pub fn run(src: &SourceImage, op: &Op) -> (Vec<u8>, Option<u8>) {
    let (w, h) = (src.width(), src.height());
    let g = gray(src);
    match *op {
        Op::Gray => (g, None),
        Op::Threshold {
            kind,
            thresh,
            max_value,
        } => {
            let m = saturate_round_u8(max_value);
            let t = thresh.floor();
            (
                g.iter().map(|&v| threshold_value(v, kind, t, m)).collect(),
                None,
            )
        }
        Op::Otsu {
            kind, max_value, ..
        }
        | Op::Triangle { kind, max_value } => {
            let hist = Histogram::from_pixels(&g);
            let level = if matches!(op, Op::Otsu { .. }) {
                hist.otsu_level()
            } else {
                hist.triangle_level()
            };
            (threshold_all(&g, kind, level, max_value), Some(level))
        }
        Op::Adaptive {
            method,
            kind,
            block_size,
            c,
            max_value,
        } => {
            if max_value < 0.0 {
                return (vec![0; w * h], None);
            }
            let b = block_size as usize;
            let mean = match method {
                AdaptiveMethod::Mean => box_mean(&g, w, h, b),
                AdaptiveMethod::Gaussian => gaussian_mean(&g, w, h, b),
            };
            let imaxval = saturate_round_u8(max_value);
            let idelta = if kind == ThresholdType::Binary {
                c.ceil()
            } else {
                c.floor()
            };
            let out = g
                .iter()
                .zip(&mean)
                .map(|(&v, &m)| {
                    let d = v as f64 - m as f64;
                    let on = if kind == ThresholdType::Binary {
                        d > -idelta
                    } else {
                        d <= -idelta
                    };
                    if on { imaxval } else { 0 }
                })
                .collect();
            (out, None)
        }
        Op::Auto {
            method,
            like,
            kind,
            max_value,
            ..
        } => {
            let hist = Histogram::from_pixels(&g);
            let Ok(level) = super::ops::auto::level(method, &hist.0, like) else {
                return (Vec::new(), None);
            };
            let level = level.min(255) as u8;
            (threshold_all(&g, kind, level, max_value), Some(level))
        }
        Op::MultiOtsu {
            classes, max_value, ..
        } => {
            let Ok(t) = super::ops::auto::multi_otsu::multi_otsu_u8(&g, classes as usize) else {
                return (Vec::new(), None);
            };
            let labels = super::ops::auto::multi_otsu::digitize_u8(&g, &t);
            let step = max_value / (classes - 1) as f64;
            let out = labels
                .iter()
                .map(|&c| saturate_round_u8(c as f64 * step))
                .collect();
            (out, None)
        }
        Op::Local {
            method,
            kind,
            max_value,
        } => {
            // The local kernels run once over the whole image, as one tile: the tests compare
            // tilings and worker counts against this; the window sums have their own naive
            // test (`ops::local::window`) and the formulas are checked against the oracles.
            let view = crate::tile::GrayView::new(&g, w, h);
            let whole = crate::tile::Rect { x: 0, y: 0, w, h };
            let mut l = super::ops::local::LocalRunner::new(method, kind, max_value, &view);
            if method.needs_stats() {
                let stats = l.tile_stats(&view, whole);
                l = l.with_stats(stats);
            }
            let mut out = vec![0u8; w * h];
            let mut rows: Vec<&mut [u8]> = out.chunks_mut(w.max(1)).collect();
            let mut rows: Vec<&mut [std::mem::MaybeUninit<u8>]> =
                rows.iter_mut().map(|r| super::ops::as_uninit(r)).collect();
            l.run_tile(&view, whole, &mut rows);
            drop(rows);
            (out, None)
        }
    }
}

fn clamp_idx(i: isize, n: usize) -> usize {
    i.clamp(0, n as isize - 1) as usize
}

/// The box mean with replicated border, rounded to nearest: `(2·sum + A) / (2·A)`.
pub fn box_mean(g: &[u8], w: usize, h: usize, b: usize) -> Vec<u8> {
    let r = (b / 2) as isize;
    let area = (b * b) as u64;
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0u64;
            for dy in -r..=r {
                let yy = clamp_idx(y as isize + dy, h);
                for dx in -r..=r {
                    s += g[yy * w + clamp_idx(x as isize + dx, w)] as u64;
                }
            }
            out[y * w + x] = ((2 * s + area) / (2 * area)) as u8;
        }
    }
    out
}

/// The f32 Gaussian mean: row pass then column pass over the whole image, replicated border,
/// rounded half to even.
pub fn gaussian_mean(g: &[u8], w: usize, h: usize, b: usize) -> Vec<u8> {
    let k = gaussian_kernel(b);
    let r = b / 2;
    let mut rows = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let px = |dx: isize| g[y * w + clamp_idx(x as isize + dx, w)] as f32;
            let mut s = k[r] * px(0);
            for j in 1..=r as isize {
                s += k[r + j as usize] * (px(-j) + px(j));
            }
            rows[y * w + x] = s;
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let px = |dy: isize| rows[clamp_idx(y as isize + dy, h) * w + x];
            let mut s = k[r] * px(0);
            for j in 1..=r as isize {
                s += k[r + j as usize] * (px(-j) + px(j));
            }
            out[y * w + x] = saturate_round_u8(s as f64);
        }
    }
    out
}
