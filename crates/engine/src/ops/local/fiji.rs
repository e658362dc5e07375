//! Fiji's Auto Local Threshold 1.11.0 (`fiji.threshold.Auto_Local_Threshold`, G. Landini), bit
//! for bit, on ImageJ 1.53t's neighbourhoods.
//!
//! `exec(imp, method, radius, par1, par2, doIwhite)` replaces an 8-bit image by a binary one.
//! With `white_objects` (`doIwhite`) objects are 255 and the background 0, otherwise objects
//! are 0 and the background 255. A parameter of `0` means "the default" (Fiji tests
//! `par != 0`), so for example Niblack's `k = 0` cannot be asked for. Integer parameters are
//! truncated as Java's `(int)` does (toward zero, saturating).
//!
//! # Neighbourhoods
//!
//! Every method but Otsu works on ImageJ's `RankFilters` circular kernel: with
//! `r2 = radius² + 1` and `kRadius = (int)sqrt(r2 + 1e-10)` (= `radius` for an integer radius),
//! kernel row `dy` spans `dx = (int)sqrt(r2 − dy² + 1e-10)` pixels either side. Pixels outside
//! the image take the value of the nearest edge pixel.
//!
//! Otsu uses the histogram inside ImageJ's `OvalRoi(x − r, y − r, 2r, 2r)`: an even-sized
//! `2r × 2r` ellipse mask (`(xx²/a² + yy²/b²) <= 1` with the centre at `r − 0.5`), which covers
//! `x − r ..= x + r − 1`, **clipped** at the image border (no padding).
//!
//! # Per-method rules (object where the condition holds; `p` the pixel)
//!
//! | method | rule |
//! | --- | --- |
//! | Bernsen | `contrast = max − min`, `mid = (min + max) / 2`; contrast `< p1` (default 15): `mid >= 128`, else `p >= mid` |
//! | Contrast | `abs(max − p) <= abs(p − min)` and `p != 0` |
//! | Mean | `p > (int)(mean − C)` in `f32`, `C = (int)p1` |
//! | Median | `p > median − C`, `C = (int)p1` |
//! | MidGrey | `p > (max + min) / 2 − C`, `C = (int)p1` |
//! | Niblack | `p > (int)(mean + k·sqrt(var) − C)` in `f64`; `k = p1` (default ±0.2), `C = (int)p2` |
//! | Otsu | Celebi's Otsu on the oval histogram (strict `<`, level 0 if no BCV is positive); `p > level` or `p == 255` |
//! | Phansalkar | on the stretched image scaled by `(float)(1/255)`: `x > mean·(1 + 2·exp(−10·mean) + k·(sd/r − 1))`; `k = p1` (0.25), `r = p2` (0.5) |
//! | Sauvola | `p > (int)(mean·(1 + k·(sqrt(var)/r − 1)))`; `k = p1` (0.5), `r = p2` (128) |
//!
//! `mean = (float)(sum / n)` and `var = (float)((sum2 − sum·sum/n) / n)` (negative → 0), with the
//! sums in `f64`. On 8-bit data the sums are exact integers, so any summation order gives
//! ImageJ's values; they are computed here from integer sums. Phansalkar's sums are of
//! float values, so there ImageJ's own order is replayed: for each image row, the whole kernel
//! at `x = 0`, then, when `kRadius >= 2`, the side sums (per kernel row: minus the value that
//! leaves, plus the value that enters) added for every step in `x`.
//!
//! # Cost per pixel
//!
//! * Bernsen, Contrast, MidGrey: each source row's sparse table of min / max (`log₂(2r + 1)`
//!   doubling levels, built once and kept in a ring for the `2r + 1` rows that read it); a
//!   kernel row's span is two overlapping power-of-two blocks, so `O(r)` per pixel in
//!   vectorised byte operations (radius 37 on the 8 MP photo: 59 ms, was 1.9 s with van Herk /
//!   Gil-Werman per kernel row, which radii above 128 still use).
//! * Mean, Niblack, Sauvola: span sums from each source row's prefix sums, built once and kept
//!   in a ring; `O(r)` vectorised additions per pixel (radii above 256 rebuild the prefixes per
//!   output row).
//! * Median: a 256-bin sliding histogram updated at each kernel row's ends, `O(r)` per pixel plus
//!   a median cursor that moves by the change (`O(1)` amortised on smooth images, at most 256).
//! * Otsu: the same sliding histogram on the oval mask, `O(r)` per pixel, plus Otsu over the
//!   occupied bins (at most 256).
//! * Phansalkar: `O(r)` per pixel; each tile row replays ImageJ's running sums from `x = 0`, so a
//!   tile that does not start at the left edge pays for the columns to its left too
//!   (full-width tiles, the engine's default, pay nothing extra).
//!
//! Each row of Median and Otsu, and of Phansalkar, starts with one full kernel (`O(r²)`).
//!
//! The result does not depend on the tiling: a tile computes exactly the whole-image pixels.
//!
//! ```
//! use tessera_engine::ops::local::fiji::{FijiLocal, FijiParams, fiji_local};
//! let gray: Vec<u8> = (0..64u32).map(|i| ((i * 37) % 256) as u8).collect();
//! let p = FijiParams { radius: 2, p1: 0.0, p2: 0.0, white_objects: true };
//! let mask = fiji_local(FijiLocal::Sauvola, &p, &gray, 8, 8);
//! assert_eq!(mask.len(), 64);
//! assert!(mask.iter().all(|&v| v == 0 || v == 255));
//! ```

use std::mem::MaybeUninit;

use multiversion::multiversion;

use serde::{Deserialize, Serialize};

use crate::ops::as_uninit;
use crate::tile::{GrayView, Rect};

/// The largest radius the engine accepts (callers validate; [`fiji_local`] handles any radius
/// from 1 to this on any image size, including 1×N and N×1). Fiji's own dialog takes any
/// integer, ImageJ's "Maximum" filter dialog stops at 1000.
pub const MAX_RADIUS: u32 = 1024;

/// The nine methods of Auto Local Threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FijiLocal {
    /// Bernsen (1986): local contrast and mid-grey.
    Bernsen,
    /// Landini's contrast toggle: nearer to the local max or min.
    Contrast,
    /// Local mean minus C.
    Mean,
    /// Local median minus C.
    Median,
    /// (local max + local min) / 2 minus C.
    MidGrey,
    /// Niblack (1986): mean + k·sd − C.
    Niblack,
    /// Otsu on each pixel's oval neighbourhood histogram.
    Otsu,
    /// Phansalkar et al. (2011), on the contrast-stretched image.
    Phansalkar,
    /// Sauvola and Pietikäinen (2000).
    Sauvola,
}

impl FijiLocal {
    /// All methods, in Fiji's menu order.
    pub const ALL: [FijiLocal; 9] = [
        FijiLocal::Bernsen,
        FijiLocal::Contrast,
        FijiLocal::Mean,
        FijiLocal::Median,
        FijiLocal::MidGrey,
        FijiLocal::Niblack,
        FijiLocal::Otsu,
        FijiLocal::Phansalkar,
        FijiLocal::Sauvola,
    ];

    /// Fiji's name of the method (`"Bernsen"`, ..., `"MidGrey"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FijiLocal::Bernsen => "Bernsen",
            FijiLocal::Contrast => "Contrast",
            FijiLocal::Mean => "Mean",
            FijiLocal::Median => "Median",
            FijiLocal::MidGrey => "MidGrey",
            FijiLocal::Niblack => "Niblack",
            FijiLocal::Otsu => "Otsu",
            FijiLocal::Phansalkar => "Phansalkar",
            FijiLocal::Sauvola => "Sauvola",
        }
    }

    /// The method with Fiji's name, exactly as [`FijiLocal::name`] spells it.
    ///
    /// ```
    /// use tessera_engine::ops::local::fiji::FijiLocal;
    /// assert_eq!(FijiLocal::from_name("MidGrey"), Some(FijiLocal::MidGrey));
    /// assert_eq!(FijiLocal::from_name("midgrey"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        FijiLocal::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Parameters exactly as Fiji's `exec(imp, method, radius, par1, par2, doIwhite)` takes them:
/// `0` means the method's default, as in Fiji.
///
/// Valid range (checked by the caller): `1 <= radius <=` [`MAX_RADIUS`], `p1` and `p2` finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FijiParams {
    /// Neighbourhood radius in pixels.
    pub radius: u32,
    /// Parameter 1 (Bernsen's contrast threshold, C of Mean / Median / MidGrey, k of Niblack /
    /// Sauvola / Phansalkar); 0 = default.
    pub p1: f64,
    /// Parameter 2 (C of Niblack, r of Sauvola / Phansalkar); 0 = default.
    pub p2: f64,
    /// White objects on a black background (objects 255); otherwise objects are 0.
    pub white_objects: bool,
}

/// Whole-image statistics a method needs before its tiles run (Phansalkar's stretch).
#[derive(Debug, Clone)]
pub(crate) struct FijiPrep {
    /// Phansalkar: the stretched, scaled value of each gray level, `(float)lut[v] * (float)(1/255)`.
    phansalkar: Option<Box<[f32; 256]>>,
}

/// Computes what `method` needs from the whole image (once per image).
pub(crate) fn prepare(method: FijiLocal, src: &GrayView<'_>) -> FijiPrep {
    let phansalkar = (method == FijiLocal::Phansalkar).then(|| Box::new(phansalkar_lut(src.data)));
    FijiPrep { phansalkar }
}

/// `ContrastEnhancer.stretchHistogram(imp, 0.0)` with normalize, then `convertToGray32` and
/// `multiply(1.0/255)` (in float).
fn phansalkar_lut(data: &[u8]) -> [f32; 256] {
    let (mut mn, mut mx) = (255u8, 0u8);
    for &v in data {
        mn = mn.min(v);
        mx = mx.max(v);
    }
    let scale = (1.0f64 / 255.0) as f32;
    let mut lut = [0f32; 256];
    for (i, l) in lut.iter_mut().enumerate() {
        let v = if mx > mn {
            let (min, max) = (mn as f64, mx as f64);
            let fi = i as f64;
            if fi <= min {
                0
            } else if fi >= max {
                255
            } else {
                (((fi - min) / (max - min)) * 255.0) as i32
            }
        } else {
            i as i32
        };
        *l = v as f32 * scale;
    }
    lut
}

/// How far beyond a tile the kernel reads, in rows and columns: the radius. (Phansalkar also
/// reads each of its rows from the left edge of the image, to replay ImageJ's running sums.)
pub fn fiji_halo(method: FijiLocal, p: &FijiParams) -> usize {
    let _ = method;
    k_radius(p.radius)
}

/// Fiji's result for the whole image (object 255 / background 0 with `white_objects`, else the
/// reverse). `gray.len()` must be `width * height`; `p` must be valid (see [`FijiParams`]).
pub fn fiji_local(
    method: FijiLocal,
    p: &FijiParams,
    gray: &[u8],
    width: usize,
    height: usize,
) -> Vec<u8> {
    assert_eq!(gray.len(), width * height, "fiji_local: image size");
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let src = GrayView::new(gray, width, height);
    let prep = prepare(method, &src);
    let mut out = vec![0u8; width * height];
    let mut rows: Vec<&mut [MaybeUninit<u8>]> = out.chunks_mut(width).map(as_uninit).collect();
    let rect = Rect {
        x: 0,
        y: 0,
        w: width,
        h: height,
    };
    fiji_tile(method, p, &prep, &src, rect, &mut rows);
    out
}

/// ImageJ's `kRadius` for an integer radius (`makeLineRadii`).
fn k_radius(radius: u32) -> usize {
    line_radii(radius).len() / 2
}

/// `RankFilters.makeLineRadii(radius)`: the half-width `dx` of each kernel row, top to bottom.
fn line_radii(radius: u32) -> Vec<usize> {
    let mut radius = radius.max(1) as f64;
    if (1.5..1.75).contains(&radius) {
        radius = 1.75;
    } else if (2.5..2.85).contains(&radius) {
        radius = 2.85;
    }
    let r2 = (radius * radius) as i64 + 1;
    let kr = ((r2 as f64) + 1e-10).sqrt() as i64;
    (-kr..=kr)
        .map(|y| (((r2 - y * y) as f64) + 1e-10).sqrt() as usize)
        .collect()
}

/// `OvalRoi(0, 0, 2r, 2r).getMask()`: for each mask row, the first and last column inside.
fn oval_spans(radius: u32) -> Vec<(usize, usize)> {
    let n = 2 * radius.max(1) as usize;
    let a = n as f64 / 2.0;
    let a2 = a * a;
    let c = a - 0.5;
    (0..n)
        .map(|y| {
            let yy = y as f64 - c;
            let inside = |x: usize| {
                let xx = x as f64 - c;
                (xx * xx / a2 + yy * yy / a2) <= 1.0
            };
            // Symmetric about the centre, and never empty (column r - 1 is always inside).
            let l = (0..n / 2).find(|&x| inside(x)).unwrap_or(n / 2 - 1);
            (l, n - 1 - l)
        })
        .collect()
}

/// The tile kernel: writes Fiji's result for every pixel of `rect` (rows of `out` are the tile's
/// rows, each `rect.w` long), reading whatever it needs from the whole image `src`.
pub(crate) fn fiji_tile(
    method: FijiLocal,
    p: &FijiParams,
    prep: &FijiPrep,
    src: &GrayView<'_>,
    rect: Rect,
    out: &mut [&mut [MaybeUninit<u8>]],
) {
    assert_eq!(out.len(), rect.h, "fiji tile: row count");
    assert!(
        out.iter().all(|r| r.len() == rect.w),
        "fiji tile: row width"
    );
    assert!(rect.x + rect.w <= src.width && rect.y + rect.h <= src.height);
    if rect.w == 0 || rect.h == 0 {
        return;
    }
    let (obj, bg) = if p.white_objects {
        (255u8, 0u8)
    } else {
        (0, 255)
    };
    let dxs = line_radii(p.radius);
    let int_par = |v: f64, default: i32| if v != 0.0 { v as i32 } else { default };
    let par = |v: f64, default: f64| if v != 0.0 { v } else { default };
    match method {
        FijiLocal::Bernsen => {
            let ct = int_par(p.p1, 15);
            minmax_tile(src, rect, &dxs, out, |v, mn, mx| {
                let (v, mn, mx) = (v as i32, mn as i32, mx as i32);
                let mid = (mn + mx) / 2;
                let on = if mx - mn < ct { mid >= 128 } else { v >= mid };
                if on { obj } else { bg }
            });
        }
        FijiLocal::Contrast => minmax_tile(src, rect, &dxs, out, |v, mn, mx| {
            let (v, mn, mx) = (v as i32, mn as i32, mx as i32);
            let on = (mx - v).abs() <= (v - mn).abs() && v != 0;
            if on { obj } else { bg }
        }),
        FijiLocal::MidGrey => {
            let c = int_par(p.p1, 0);
            minmax_tile(src, rect, &dxs, out, |v, mn, mx| {
                let on = (v as i32) > ((mx as i32 + mn as i32) / 2).wrapping_sub(c);
                if on { obj } else { bg }
            });
        }
        FijiLocal::Median => {
            let c = int_par(p.p1, 0);
            median_tile(src, rect, &dxs, out, |v, med| {
                let on = (v as i32) > (med as i32).wrapping_sub(c);
                if on { obj } else { bg }
            });
        }
        FijiLocal::Mean => {
            let c = int_par(p.p1, 0) as f32;
            sums_tile(src, rect, &dxs, out, |v, mean, _var| {
                let on = (v as i32) > (mean - c) as i32;
                if on { obj } else { bg }
            });
        }
        FijiLocal::Niblack => {
            let k = par(p.p1, if p.white_objects { 0.2 } else { -0.2 });
            let c = int_par(p.p2, 0) as f64;
            sums_tile(src, rect, &dxs, out, |v, mean, var| {
                let t = mean as f64 + k * (var as f64).sqrt() - c;
                let on = (v as i32) > t as i32;
                if on { obj } else { bg }
            });
        }
        FijiLocal::Sauvola => {
            let k = par(p.p1, 0.5);
            let r = par(p.p2, 128.0);
            sums_tile(src, rect, &dxs, out, |v, mean, var| {
                let t = mean as f64 * (1.0 + k * (((var as f64).sqrt() / r) - 1.0));
                let on = (v as i32) > t as i32;
                if on { obj } else { bg }
            });
        }
        FijiLocal::Phansalkar => {
            let k = par(p.p1, 0.25);
            let r = par(p.p2, 0.5);
            let own;
            let lut: &[f32; 256] = match &prep.phansalkar {
                Some(l) => l,
                None => {
                    own = phansalkar_lut(src.data);
                    &own
                }
            };
            phansalkar_tile(src, rect, &dxs, lut, out, |ori, mean, sd| {
                let m = mean as f64;
                let t = m * (1.0 + 2.0 * (-10.0 * m).exp() + k * ((sd as f64 / r) - 1.0));
                if (ori as f64) > t { obj } else { bg }
            });
        }
        FijiLocal::Otsu => {
            let spans = oval_spans(p.radius);
            otsu_tile(
                src,
                rect,
                p.radius.max(1) as usize,
                &spans,
                out,
                |v, level| {
                    let on = (v as i32) > level || v == 255;
                    if on { obj } else { bg }
                },
            );
        }
    }
}

#[inline(always)]
fn clampi(v: isize, n: usize) -> usize {
    v.clamp(0, n as isize - 1) as usize
}

/// Copies `row[clamp(x)]` for `x` in `start .. start + seg.len()` (nearest-edge padding).
fn padded_segment(row: &[u8], start: isize, seg: &mut [u8]) {
    let (n, len) = (row.len() as isize, seg.len() as isize);
    // seg[j] is left padding for j < left, a copy for left <= j < right, right padding after.
    let left = (-start).clamp(0, len) as usize;
    let right = (n - start).clamp(0, len) as usize;
    seg[..left].fill(row[0]);
    if right > left {
        let a = (start + left as isize) as usize;
        seg[left..right].copy_from_slice(&row[a..a + (right - left)]);
    }
    seg[right.max(left)..].fill(row[row.len() - 1]);
}

/// The largest kernel radius [`minmax_tile`] serves from a ring of sparse tables (about
/// `(2r + 1) × log₂(2r + 1) × (CHUNK + 2r)` × 2 bytes: 0.9 MB at radius 50, 3.5 MB at 128);
/// beyond it [`minmax_tile_rowwise`] takes over.
const MINMAX_RING_MAX_RADIUS: usize = 128;

/// Min and max over the circular kernel (edge padding) for each pixel of the tile; `decide(p,
/// min, max)` gives the output value.
///
/// Each source row gets, once, a sparse table of running extremes (`level j` holds the max and
/// min of `2ʲ` consecutive columns, built by doubling), kept in a ring for the `2r + 1` output
/// rows that read it. A kernel row of span `2dx + 1` is then two overlapping power-of-two
/// blocks: per pixel and kernel row, two loads and one max (and min), a loop that vectorises
/// over 8-bit lanes. Chunks of [`CHUNK`] columns keep the ring in cache.
fn minmax_tile(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, u8, u8) -> u8,
) {
    let kr = dxs.len() / 2;
    if kr > MINMAX_RING_MAX_RADIUS {
        return minmax_tile_rowwise(src, rect, dxs, out, decide);
    }
    let rows = 2 * kr + 1;
    // Levels 0..=top: 2^top ≤ 2kr + 1.
    let top = (usize::BITS - 1 - rows.leading_zeros()) as usize;
    let levels = top + 1;
    let slot = |t: isize| t.rem_euclid(rows as isize) as usize;
    for cx in (0..rect.w).step_by(CHUNK) {
        let cw = CHUNK.min(rect.w - cx);
        let len = cw + 2 * kr;
        let per_row = levels * len;
        let mut tmax = vec![0u8; rows * per_row];
        let mut tmin = vec![0u8; rows * per_row];
        let x0 = (rect.x + cx) as isize - kr as isize;
        let fill = |t: isize, tmax: &mut [u8], tmin: &mut [u8]| {
            let at = slot(t) * per_row;
            let (mx, mn) = (&mut tmax[at..at + per_row], &mut tmin[at..at + per_row]);
            padded_segment(src.row(clampi(t, src.height)), x0, &mut mx[..len]);
            mn[..len].copy_from_slice(&mx[..len]);
            for j in 0..top {
                let step = 1 << j;
                // Level j + 1 over the columns where its block fits; the rest is never read.
                let valid = len.saturating_sub(2 * step - 1);
                let (prev, next) = mx[j * len..(j + 2) * len].split_at_mut(len);
                double_level(
                    &mut next[..valid],
                    &prev[..valid],
                    &prev[step..step + valid],
                    true,
                );
                let (prev, next) = mn[j * len..(j + 2) * len].split_at_mut(len);
                double_level(
                    &mut next[..valid],
                    &prev[..valid],
                    &prev[step..step + valid],
                    false,
                );
            }
        };
        let y0 = rect.y as isize;
        for t in y0 - kr as isize..=y0 + kr as isize {
            fill(t, &mut tmax, &mut tmin);
        }
        let mut mx = vec![0u8; cw];
        let mut mn = vec![0u8; cw];
        for (i, out_row) in out.iter_mut().enumerate() {
            let y = y0 + i as isize;
            if i > 0 {
                fill(y + kr as isize, &mut tmax, &mut tmin);
            }
            mx.fill(0);
            mn.fill(255);
            for (k, &dx) in dxs.iter().enumerate() {
                let at = slot(y + k as isize - kr as isize) * per_row;
                let span = 2 * dx + 1;
                let j = (usize::BITS - 1 - span.leading_zeros()) as usize;
                // Output column x: blocks starting at x + kr − dx and x + kr + dx + 1 − 2^j.
                let (a, b) = (kr - dx, kr + dx + 1 - (1 << j));
                let lv = at + j * len;
                extreme_spans(
                    &mut mx,
                    &mut mn,
                    &tmax[lv + a..lv + a + cw],
                    &tmax[lv + b..lv + b + cw],
                    &tmin[lv + a..lv + a + cw],
                    &tmin[lv + b..lv + b + cw],
                );
            }
            let row = &src.row(y as usize)[rect.x + cx..rect.x + cx + cw];
            let outs = &mut out_row[cx..cx + cw];
            for (((o, &v), &lo), &hi) in outs.iter_mut().zip(row).zip(&mn).zip(&mx) {
                o.write(decide(v, lo, hi));
            }
        }
    }
}

/// One doubling step of a sparse table: `next[x] = max(prev[x], prev_shifted[x])` (or min).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn double_level(next: &mut [u8], prev: &[u8], shifted: &[u8], max: bool) {
    if max {
        for ((n, &a), &b) in next.iter_mut().zip(prev).zip(shifted) {
            *n = a.max(b);
        }
    } else {
        for ((n, &a), &b) in next.iter_mut().zip(prev).zip(shifted) {
            *n = a.min(b);
        }
    }
}

/// `mx = max(mx, max_a, max_b)` and `mn = min(mn, min_a, min_b)`, element by element.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn extreme_spans(
    mx: &mut [u8],
    mn: &mut [u8],
    max_a: &[u8],
    max_b: &[u8],
    min_a: &[u8],
    min_b: &[u8],
) {
    for ((m, &a), &b) in mx.iter_mut().zip(max_a).zip(max_b) {
        *m = (*m).max(a.max(b));
    }
    for ((m, &a), &b) in mn.iter_mut().zip(min_a).zip(min_b) {
        *m = (*m).min(a.min(b));
    }
}

/// [`minmax_tile`] for radii past [`MINMAX_RING_MAX_RADIUS`]: van Herk / Gil-Werman on each
/// kernel row of each output row.
fn minmax_tile_rowwise(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, u8, u8) -> u8,
) {
    let kr = dxs.len() / 2;
    let w = rect.w;
    let max_len = w + 2 * kr;
    let mut seg = vec![0u8; max_len];
    let mut gmax = vec![0u8; max_len];
    let mut hmax = vec![0u8; max_len];
    let mut gmin = vec![0u8; max_len];
    let mut hmin = vec![0u8; max_len];
    let mut mx = vec![0u8; w];
    let mut mn = vec![0u8; w];
    for (i, out_row) in out.iter_mut().enumerate() {
        let y = rect.y + i;
        mx.fill(0);
        mn.fill(255);
        for (k, &dx) in dxs.iter().enumerate() {
            let yy = clampi(y as isize + k as isize - kr as isize, src.height);
            let len = w + 2 * dx;
            let seg = &mut seg[..len];
            padded_segment(src.row(yy), rect.x as isize - dx as isize, seg);
            let win = 2 * dx + 1;
            if win == 1 {
                for t in 0..w {
                    mx[t] = mx[t].max(seg[t]);
                    mn[t] = mn[t].min(seg[t]);
                }
                continue;
            }
            // van Herk / Gil-Werman: prefix extremes within blocks of `win` from the left,
            // suffix extremes from the right; a window is one suffix and one prefix.
            let blocks = seg[..len]
                .chunks(win)
                .zip(gmax[..len].chunks_mut(win))
                .zip(gmin[..len].chunks_mut(win))
                .zip(hmax[..len].chunks_mut(win))
                .zip(hmin[..len].chunks_mut(win));
            for ((((s, gx), gn), hx), hn) in blocks {
                let (mut a, mut b) = (s[0], s[0]);
                for q in 0..s.len() {
                    a = a.max(s[q]);
                    b = b.min(s[q]);
                    gx[q] = a;
                    gn[q] = b;
                }
                let last = s.len() - 1;
                let (mut a, mut b) = (s[last], s[last]);
                for q in (0..s.len()).rev() {
                    a = a.max(s[q]);
                    b = b.min(s[q]);
                    hx[q] = a;
                    hn[q] = b;
                }
            }
            for t in 0..w {
                let a = hmax[t].max(gmax[t + win - 1]);
                let b = hmin[t].min(gmin[t + win - 1]);
                mx[t] = mx[t].max(a);
                mn[t] = mn[t].min(b);
            }
        }
        let row = src.row(y);
        for (t, o) in out_row.iter_mut().enumerate() {
            *o = MaybeUninit::new(decide(row[rect.x + t], mn[t], mx[t]));
        }
    }
}

/// The largest kernel radius [`sums_tile`] serves from a ring of prefix rows; beyond it the ring
/// (`(2r + 1) × (CHUNK + 2r + 1)` × 8 bytes) grows past a few MB and [`sums_tile_rowwise`]
/// takes over.
const RING_MAX_RADIUS: usize = 256;

/// Output columns per chunk of [`sums_tile`]: the ring for radius 50 is about 0.5 MB, inside
/// L2.
const CHUNK: usize = 512;

/// RankFilters MEAN and VARIANCE (as `f32`) of the 8-bit image for each pixel of the tile, from
/// exact integer sums; `decide(p, mean, var)` gives the output value.
///
/// Each source row's prefix sums (of values and of squares, `u32` modulo 2³²) are taken once
/// and kept in a ring for the `2r + 1` output rows that read them; an output row adds, for
/// each kernel row, one difference of two prefixes per pixel, a loop that vectorises. The
/// tile is cut into chunks of [`CHUNK`] columns so that the ring stays in cache.
fn sums_tile(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, f32, f32) -> u8,
) {
    let kr = dxs.len() / 2;
    if kr > RING_MAX_RADIUS {
        return sums_tile_rowwise(src, rect, dxs, out, decide);
    }
    let n: u64 = dxs.iter().map(|&d| 2 * d as u64 + 1).sum();
    // The disk's sum of values is below 255·n < 2³² for these radii; its sum of squares may
    // not be.
    if 255 * 255 * n < 1 << 32 {
        sums_tile_ring::<u32>(src, rect, dxs, out, decide)
    } else {
        sums_tile_ring::<u64>(src, rect, dxs, out, decide)
    }
}

/// An accumulator of the disk's sum of squares: `u32` where it cannot reach 2³², else `u64`.
trait SqAcc: Copy + Default + Send {
    fn add(&mut self, d: u32);
    fn to_f64(self) -> f64;
}

impl SqAcc for u32 {
    #[inline(always)]
    fn add(&mut self, d: u32) {
        *self = self.wrapping_add(d);
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl SqAcc for u64 {
    #[inline(always)]
    fn add(&mut self, d: u32) {
        *self += d as u64;
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

fn sums_tile_ring<Q: SqAcc>(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, f32, f32) -> u8,
) {
    let kr = dxs.len() / 2;
    let rows = 2 * kr + 1;
    let n: u64 = dxs.iter().map(|&d| 2 * d as u64 + 1).sum();
    let nf = n as f64;
    let slot = |t: isize| t.rem_euclid(rows as isize) as usize;
    for cx in (0..rect.w).step_by(CHUNK) {
        let cw = CHUNK.min(rect.w - cx);
        let len = cw + 2 * kr;
        let stride = len + 1;
        let mut pre_s = vec![0u32; rows * stride];
        let mut pre_q = vec![0u32; rows * stride];
        let mut seg = vec![0u8; len];
        let x0 = (rect.x + cx) as isize - kr as isize;
        // The prefix sums of source row `t` (clamped into the image) into its slot.
        let mut fill = |t: isize, pre_s: &mut [u32], pre_q: &mut [u32]| {
            padded_segment(src.row(clampi(t, src.height)), x0, &mut seg);
            let at = slot(t) * stride;
            let (ps, pq) = (&mut pre_s[at..at + stride], &mut pre_q[at..at + stride]);
            let (mut a, mut b) = (0u32, 0u32);
            ps[0] = 0;
            pq[0] = 0;
            for (j, &v) in seg.iter().enumerate() {
                let v = v as u32;
                a = a.wrapping_add(v);
                b = b.wrapping_add(v * v);
                ps[j + 1] = a;
                pq[j + 1] = b;
            }
        };
        let y0 = rect.y as isize;
        for t in y0 - kr as isize..=y0 + kr as isize {
            fill(t, &mut pre_s, &mut pre_q);
        }
        let mut acc_s = vec![0u32; cw];
        let mut acc_q = vec![Q::default(); cw];
        for (i, out_row) in out.iter_mut().enumerate() {
            let y = y0 + i as isize;
            if i > 0 {
                fill(y + kr as isize, &mut pre_s, &mut pre_q);
            }
            acc_s.fill(0);
            acc_q.fill(Q::default());
            for (k, &dx) in dxs.iter().enumerate() {
                let at = slot(y + k as isize - kr as isize) * stride;
                let (ps, pq) = (&pre_s[at..at + stride], &pre_q[at..at + stride]);
                // Output column x reads segment columns x + kr − dx ..= x + kr + dx.
                let (lo, hi) = (kr - dx, kr + dx + 1);
                add_spans(
                    &mut acc_s,
                    &mut acc_q,
                    &ps[lo..lo + cw],
                    &ps[hi..hi + cw],
                    &pq[lo..lo + cw],
                    &pq[hi..hi + cw],
                );
            }
            let row = &src.row(y as usize)[rect.x + cx..rect.x + cx + cw];
            let outs = &mut out_row[cx..cx + cw];
            for (((o, &v), &s), &q) in outs.iter_mut().zip(row).zip(&acc_s).zip(&acc_q) {
                // Exact in f64: sums of 8-bit values and squares.
                let sum = s as f64;
                let sum2 = q.to_f64();
                let (mean, var) = rank_mean_var(sum, sum2, nf);
                o.write(decide(v, mean, var));
            }
        }
    }
}

/// `acc += hi − lo` (modulo 2³², the exact span sums) for values and for squares.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn add_spans<Q: SqAcc>(
    acc_s: &mut [u32],
    acc_q: &mut [Q],
    lo_s: &[u32],
    hi_s: &[u32],
    lo_q: &[u32],
    hi_q: &[u32],
) {
    for ((a, &l), &h) in acc_s.iter_mut().zip(lo_s).zip(hi_s) {
        *a = a.wrapping_add(h.wrapping_sub(l));
    }
    for ((a, &l), &h) in acc_q.iter_mut().zip(lo_q).zip(hi_q) {
        a.add(h.wrapping_sub(l));
    }
}

/// [`sums_tile`] for radii past [`RING_MAX_RADIUS`]: each output row takes the prefix sums of
/// its kernel rows anew.
fn sums_tile_rowwise(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, f32, f32) -> u8,
) {
    let kr = dxs.len() / 2;
    let n: u64 = dxs.iter().map(|&d| 2 * d as u64 + 1).sum();
    let nf = n as f64;
    let w = rect.w;
    let max_len = w + 2 * kr;
    let mut seg = vec![0u8; max_len];
    let mut pre_s = vec![0u64; max_len + 1];
    let mut pre_q = vec![0u64; max_len + 1];
    let mut acc_s = vec![0u64; w];
    let mut acc_q = vec![0u64; w];
    for (i, out_row) in out.iter_mut().enumerate() {
        let y = rect.y + i;
        acc_s.fill(0);
        acc_q.fill(0);
        for (k, &dx) in dxs.iter().enumerate() {
            let yy = clampi(y as isize + k as isize - kr as isize, src.height);
            let len = w + 2 * dx;
            padded_segment(src.row(yy), rect.x as isize - dx as isize, &mut seg[..len]);
            let (mut s, mut q) = (0u64, 0u64);
            for j in 0..len {
                let v = seg[j] as u64;
                s += v;
                q += v * v;
                pre_s[j + 1] = s;
                pre_q[j + 1] = q;
            }
            let win = 2 * dx + 1;
            for t in 0..w {
                acc_s[t] += pre_s[t + win] - pre_s[t];
                acc_q[t] += pre_q[t + win] - pre_q[t];
            }
        }
        let row = src.row(y);
        for (t, o) in out_row.iter_mut().enumerate() {
            // Exact in f64: sums of 8-bit values and squares over at most ~3.3 M points.
            let sum = acc_s[t] as f64;
            let sum2 = acc_q[t] as f64;
            let (mean, var) = rank_mean_var(sum, sum2, nf);
            *o = MaybeUninit::new(decide(row[rect.x + t], mean, var));
        }
    }
}

/// RankFilters' MEAN and VARIANCE from the window's sums: `(float)(sum / n)` and
/// `(float)((sum2 − sum·sum/n) / n)`, a negative variance taken as 0.
#[inline(always)]
fn rank_mean_var(sum: f64, sum2: f64, nf: f64) -> (f32, f32) {
    let mean = (sum / nf) as f32;
    let var = ((sum2 - sum * sum / nf) / nf) as f32;
    (mean, if var < 0.0 { 0.0 } else { var })
}

/// A 256-bin histogram with a bitset of the occupied bins.
struct Hist {
    count: [u32; 256],
    occupied: [u64; 4],
    total: u64,
}

impl Hist {
    fn new() -> Self {
        Hist {
            count: [0; 256],
            occupied: [0; 4],
            total: 0,
        }
    }

    fn clear(&mut self) {
        self.count = [0; 256];
        self.occupied = [0; 4];
        self.total = 0;
    }

    #[inline(always)]
    fn add(&mut self, v: u8) {
        let c = &mut self.count[v as usize];
        if *c == 0 {
            self.occupied[(v >> 6) as usize] |= 1 << (v & 63);
        }
        *c += 1;
        self.total += 1;
    }

    #[inline(always)]
    fn remove(&mut self, v: u8) {
        let c = &mut self.count[v as usize];
        *c -= 1;
        self.total -= 1;
        if *c == 0 {
            self.occupied[(v >> 6) as usize] &= !(1 << (v & 63));
        }
    }

    /// Calls `f(value, count)` for each occupied bin in increasing order.
    #[inline(always)]
    fn for_each(&self, mut f: impl FnMut(usize, u32)) {
        for (wi, &word) in self.occupied.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let v = wi * 64 + b;
                f(v, self.count[v]);
            }
        }
    }
}

/// RankFilters MEDIAN of the 8-bit image (the exact middle value of the odd-sized kernel) for
/// each pixel of the tile, from a sliding histogram; `decide(p, median)` gives the output.
fn median_tile(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, u8) -> u8,
) {
    let kr = dxs.len() / 2;
    let n: u64 = dxs.iter().map(|&d| 2 * d as u64 + 1).sum();
    let half = n / 2;
    let width = src.width;
    let mut h = [0u64; 256];
    let mut rows: Vec<&[u8]> = Vec::with_capacity(dxs.len());
    for (i, out_row) in out.iter_mut().enumerate() {
        let y = rect.y + i;
        rows.clear();
        rows.extend(
            (0..dxs.len())
                .map(|k| src.row(clampi(y as isize + k as isize - kr as isize, src.height))),
        );
        h.fill(0);
        let x0 = rect.x as isize;
        for (row, &dx) in rows.iter().zip(dxs) {
            for x in x0 - dx as isize..=x0 + dx as isize {
                h[row[clampi(x, width)] as usize] += 1;
            }
        }
        // The median cursor: `m` and `below` = the number of values < m.
        let mut m = 0usize;
        let mut below = 0u64;
        let cur = src.row(y);
        for t in 0..rect.w {
            let x = x0 + t as isize;
            if t > 0 {
                for (row, &dx) in rows.iter().zip(dxs) {
                    let old = row[clampi(x - 1 - dx as isize, width)] as usize;
                    let new = row[clampi(x + dx as isize, width)] as usize;
                    if old != new {
                        h[old] -= 1;
                        h[new] += 1;
                        below = below + (new < m) as u64 - (old < m) as u64;
                    }
                }
            }
            while below > half {
                m -= 1;
                below -= h[m];
            }
            while below + h[m] <= half {
                below += h[m];
                m += 1;
            }
            out_row[t] = MaybeUninit::new(decide(cur[x as usize], m as u8));
        }
    }
}

/// Celebi's Otsu (Auto_Local_Threshold 537-630) on one histogram, in the same double arithmetic.
/// Bins with no pixels leave the cumulative sums unchanged, so they repeat the previous bin's
/// BCV and, with the strict `<`, never change the level: only occupied bins are visited.
fn otsu_level(h: &Hist) -> i32 {
    // Java's int num_pixels: a 2r x 2r mask (r <= MAX_RADIUS) holds far fewer than 2^31.
    let term = 1.0 / h.total as f64;
    let mut total_mean = 0.0f64;
    h.for_each(|v, c| {
        if v > 0 {
            total_mean += v as f64 * (term * c as f64);
        }
    });
    let mut cnh = 0.0f64;
    let mut mean = 0.0f64;
    let mut threshold = 0i32;
    let mut max_bcv = 0.0f64;
    h.for_each(|v, c| {
        let histo = term * c as f64;
        cnh += histo;
        if v > 0 {
            mean += v as f64 * histo;
        }
        let mut bcv = total_mean * cnh - mean;
        bcv *= bcv / (cnh * (1.0 - cnh));
        if max_bcv < bcv {
            max_bcv = bcv;
            threshold = v as i32;
        }
    });
    threshold
}

/// Otsu on the clipped oval histogram of each pixel of the tile; `decide(p, level)`.
fn otsu_tile(
    src: &GrayView<'_>,
    rect: Rect,
    r: usize,
    spans: &[(usize, usize)],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(u8, i32) -> u8,
) {
    let (width, height) = (src.width as isize, src.height as isize);
    let mut hist = Hist::new();
    // Mask rows inside the image for the current y: (row, l, r) with columns relative to x - r.
    let mut rows: Vec<(&[u8], isize, isize)> = Vec::with_capacity(spans.len());
    for (i, out_row) in out.iter_mut().enumerate() {
        let y = (rect.y + i) as isize;
        rows.clear();
        for (j, &(l, rr)) in spans.iter().enumerate() {
            let yy = y - r as isize + j as isize;
            if (0..height).contains(&yy) {
                rows.push((
                    src.row(yy as usize),
                    l as isize - r as isize,
                    rr as isize - r as isize,
                ));
            }
        }
        hist.clear();
        let x0 = rect.x as isize;
        for &(row, l, rr) in &rows {
            let a = (x0 + l).max(0);
            let b = (x0 + rr).min(width - 1);
            for x in a..=b {
                hist.add(row[x as usize]);
            }
        }
        let cur = src.row(y as usize);
        for t in 0..rect.w {
            let x = x0 + t as isize;
            if t > 0 {
                for &(row, l, rr) in &rows {
                    let old = x - 1 + l;
                    if old >= 0 {
                        hist.remove(row[old as usize]);
                    }
                    let new = x + rr;
                    if new < width {
                        hist.add(row[new as usize]);
                    }
                }
            }
            let level = otsu_level(&hist);
            out_row[t] = MaybeUninit::new(decide(cur[x as usize], level));
        }
    }
}

/// Phansalkar's MEAN and the square root of its VARIANCE on the stretched float image, with
/// ImageJ's summation order replayed from the left edge of each row; `decide(ori, mean, sd)`.
fn phansalkar_tile(
    src: &GrayView<'_>,
    rect: Rect,
    dxs: &[usize],
    lut: &[f32; 256],
    out: &mut [&mut [MaybeUninit<u8>]],
    decide: impl Fn(f32, f32, f32) -> u8,
) {
    let kr = dxs.len() / 2;
    let n: u64 = dxs.iter().map(|&d| 2 * d as u64 + 1).sum();
    let nf = n as f64;
    let width = src.width;
    let small_kernel = kr < 2;
    let mut rows: Vec<&[u8]> = Vec::with_capacity(dxs.len());
    let fv = |row: &[u8], x: isize| lut[row[clampi(x, width)] as usize] as f64;
    for (i, out_row) in out.iter_mut().enumerate() {
        let y = rect.y + i;
        rows.clear();
        rows.extend(
            (0..dxs.len())
                .map(|k| src.row(clampi(y as isize + k as isize - kr as isize, src.height))),
        );
        let full = |x: isize| {
            let (mut sum, mut sum2) = (0.0f64, 0.0f64);
            for (row, &dx) in rows.iter().zip(dxs) {
                for xx in x - dx as isize..=x + dx as isize {
                    let v = fv(row, xx);
                    sum += v;
                    sum2 += v * v;
                }
            }
            (sum, sum2)
        };
        let cur = src.row(y);
        let (mut sum, mut sum2) = (0.0f64, 0.0f64);
        // ImageJ's filterLine starts every line at x = 0 with the full kernel, then (kRadius >= 2)
        // adds side sums for each step; replay that from x = 0 so the sums match bit for bit.
        let start = if small_kernel { rect.x } else { 0 };
        for x in start..rect.x + rect.w {
            let xi = x as isize;
            if small_kernel || x == 0 {
                (sum, sum2) = full(xi);
            } else {
                let (mut s, mut s2) = (0.0f64, 0.0f64);
                for (row, &dx) in rows.iter().zip(dxs) {
                    let v = fv(row, xi - 1 - dx as isize);
                    s -= v;
                    s2 -= v * v;
                    let v = fv(row, xi + dx as isize);
                    s += v;
                    s2 += v * v;
                }
                sum += s;
                sum2 += s2;
            }
            if x >= rect.x {
                let (mean, var) = rank_mean_var(sum, sum2, nf);
                let sd = if var <= 0.0 {
                    0.0
                } else {
                    (var as f64).sqrt() as f32
                };
                out_row[x - rect.x] = MaybeUninit::new(decide(lut[cur[x] as usize], mean, sd));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Random images of a few kinds: uniform noise, few levels, smooth ramps with noise.
    fn random_image(rng: &mut Rng, w: usize, h: usize) -> Vec<u8> {
        let kind = rng.below(3);
        (0..w * h)
            .map(|i| match kind {
                0 => rng.below(256) as u8,
                1 => [0u8, 50, 200, 255][rng.below(4)],
                _ => ((i % w) * 7 + (i / w) * 3 + rng.below(20)).min(255) as u8,
            })
            .collect()
    }

    /// The values inside the RankFilters kernel around (x, y), edge padded, in kernel order.
    fn kernel_values(img: &[u8], w: usize, h: usize, radius: u32, x: usize, y: usize) -> Vec<u8> {
        let dxs = line_radii(radius);
        let kr = (dxs.len() / 2) as isize;
        let mut v = Vec::new();
        for (k, &dx) in dxs.iter().enumerate() {
            let yy = (y as isize + k as isize - kr).clamp(0, h as isize - 1) as usize;
            for xx in x as isize - dx as isize..=x as isize + dx as isize {
                let xx = xx.clamp(0, w as isize - 1) as usize;
                v.push(img[yy * w + xx]);
            }
        }
        v
    }

    /// Straight from the semantics, O(r²) per pixel.
    fn naive(method: FijiLocal, p: &FijiParams, img: &[u8], w: usize, h: usize) -> Vec<u8> {
        let (obj, bg) = if p.white_objects {
            (255u8, 0u8)
        } else {
            (0, 255)
        };
        let ip = |v: f64, d: i32| if v != 0.0 { v as i32 } else { d };
        let fp = |v: f64, d: f64| if v != 0.0 { v } else { d };
        if method == FijiLocal::Otsu {
            return naive_otsu(p, img, w, h);
        }
        let lut = phansalkar_lut(img);
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let pv = img[y * w + x] as i32;
                let vals = kernel_values(img, w, h, p.radius, x, y);
                let n = vals.len() as f64;
                let mn = *vals.iter().min().unwrap() as i32;
                let mx = *vals.iter().max().unwrap() as i32;
                let (sum, sum2) = vals.iter().fold((0.0f64, 0.0f64), |(s, q), &v| {
                    (s + v as f64, q + (v as f64) * (v as f64))
                });
                let mean = (sum / n) as f32;
                let var = (((sum2 - sum * sum / n) / n) as f32).max(0.0);
                let on = match method {
                    FijiLocal::Bernsen => {
                        let mid = (mn + mx) / 2;
                        if mx - mn < ip(p.p1, 15) {
                            mid >= 128
                        } else {
                            pv >= mid
                        }
                    }
                    FijiLocal::Contrast => (mx - pv).abs() <= (pv - mn).abs() && pv != 0,
                    FijiLocal::MidGrey => pv > (mx + mn) / 2 - ip(p.p1, 0),
                    FijiLocal::Median => {
                        let mut s = vals.clone();
                        s.sort_unstable();
                        pv > s[s.len() / 2] as i32 - ip(p.p1, 0)
                    }
                    FijiLocal::Mean => pv > (mean - ip(p.p1, 0) as f32) as i32,
                    FijiLocal::Niblack => {
                        let k = fp(p.p1, if p.white_objects { 0.2 } else { -0.2 });
                        pv > (mean as f64 + k * (var as f64).sqrt() - ip(p.p2, 0) as f64) as i32
                    }
                    FijiLocal::Sauvola => {
                        let (k, r) = (fp(p.p1, 0.5), fp(p.p2, 128.0));
                        pv > (mean as f64 * (1.0 + k * (((var as f64).sqrt() / r) - 1.0))) as i32
                    }
                    FijiLocal::Phansalkar => {
                        let (k, r) = (fp(p.p1, 0.25), fp(p.p2, 0.5));
                        let (s, q) = vals.iter().fold((0.0f64, 0.0f64), |(s, q), &v| {
                            let f = lut[v as usize] as f64;
                            (s + f, q + f * f)
                        });
                        let m = (s / n) as f32;
                        let var = (((q - s * s / n) / n) as f32).max(0.0);
                        let sd = if var > 0.0 {
                            (var as f64).sqrt() as f32
                        } else {
                            0.0
                        };
                        let m = m as f64;
                        let t = m * (1.0 + 2.0 * (-10.0 * m).exp() + k * ((sd as f64 / r) - 1.0));
                        lut[pv as usize] as f64 > t
                    }
                    FijiLocal::Otsu => unreachable!(),
                };
                out[y * w + x] = if on { obj } else { bg };
            }
        }
        out
    }

    /// Otsu from the semantics: OvalRoi mask by its formula, clipped, and Celebi's loop over
    /// all 256 bins.
    fn naive_otsu(p: &FijiParams, img: &[u8], w: usize, h: usize) -> Vec<u8> {
        let (obj, bg) = if p.white_objects {
            (255u8, 0u8)
        } else {
            (0, 255)
        };
        let r = p.radius as isize;
        let n = 2 * r;
        let a = n as f64 / 2.0;
        let a2 = a * a;
        let c = a - 0.5;
        let mut out = vec![0u8; w * h];
        for y in 0..h as isize {
            for x in 0..w as isize {
                let mut data = [0i32; 256];
                for my in 0..n {
                    for mx in 0..n {
                        let (xx, yy) = (mx as f64 - c, my as f64 - c);
                        if (xx * xx / a2 + yy * yy / a2) <= 1.0 {
                            let (ix, iy) = (x - r + mx, y - r + my);
                            if ix >= 0 && iy >= 0 && ix < w as isize && iy < h as isize {
                                data[img[iy as usize * w + ix as usize] as usize] += 1;
                            }
                        }
                    }
                }
                let num: i32 = data.iter().sum();
                let term = 1.0 / num as f64;
                let histo: Vec<f64> = data.iter().map(|&d| term * d as f64).collect();
                let mut cnh = [0.0f64; 256];
                let mut mean = [0.0f64; 256];
                cnh[0] = histo[0];
                for i in 1..256 {
                    cnh[i] = cnh[i - 1] + histo[i];
                    mean[i] = mean[i - 1] + i as f64 * histo[i];
                }
                let total = mean[255];
                let (mut thr, mut max_bcv) = (0i32, 0.0f64);
                for i in 0..256 {
                    let mut bcv = total * cnh[i] - mean[i];
                    bcv *= bcv / (cnh[i] * (1.0 - cnh[i]));
                    if max_bcv < bcv {
                        max_bcv = bcv;
                        thr = i as i32;
                    }
                }
                let pv = img[y as usize * w + x as usize] as i32;
                out[y as usize * w + x as usize] = if pv > thr || pv == 255 { obj } else { bg };
            }
        }
        out
    }

    fn params(rng: &mut Rng, radius: u32) -> FijiParams {
        let choices = [
            (0.0, 0.0),
            (30.0, 0.0),
            (7.9, 0.0),
            (-4.5, 0.0),
            (0.5, -3.0),
            (0.15, 0.4),
            (0.2, 100.0),
        ];
        let (p1, p2) = choices[rng.below(choices.len())];
        FijiParams {
            radius,
            p1,
            p2,
            white_objects: rng.below(2) == 0,
        }
    }

    #[test]
    fn kernels_match_imagej() {
        // expected/imagej_kernels.json of the golden-methods pack.
        assert_eq!(line_radii(1), vec![1, 1, 1]);
        assert_eq!(line_radii(3), vec![1, 2, 3, 3, 3, 2, 1]);
        let n5: usize = line_radii(5).iter().map(|d| 2 * d + 1).sum();
        let n15: usize = line_radii(15).iter().map(|d| 2 * d + 1).sum();
        assert_eq!(
            (line_radii(5).len(), n5, line_radii(15).len(), n15),
            (11, 89, 31, 717)
        );
        assert_eq!(oval_spans(1), vec![(0, 1), (0, 1)]);
        assert_eq!(oval_spans(2), vec![(1, 2), (0, 3), (0, 3), (1, 2)]);
        assert_eq!(oval_spans(5)[..3], [(3, 6), (1, 8), (1, 8)]);
        assert_eq!(k_radius(MAX_RADIUS), MAX_RADIUS as usize);
    }

    #[test]
    fn names_round_trip() {
        for m in FijiLocal::ALL {
            assert_eq!(FijiLocal::from_name(m.name()), Some(m));
        }
        assert_eq!(FijiLocal::from_name("Try all"), None);
    }

    #[test]
    fn matches_the_naive_reference() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..40 {
            let (w, h) = (1 + rng.below(19), 1 + rng.below(17));
            let img = random_image(&mut rng, w, h);
            for method in FijiLocal::ALL {
                let radius = [1, 2, 3, 5, 8][(round + rng.below(5)) % 5];
                let p = params(&mut rng, radius);
                let got = fiji_local(method, &p, &img, w, h);
                let want = naive(method, &p, &img, w, h);
                assert_eq!(got, want, "{method:?} {p:?} {w}x{h} round {round}");
            }
        }
    }

    #[test]
    fn larger_images_and_radii_match_the_naive_reference() {
        let mut rng = Rng(0x0bad_f00d_1234_5678);
        for round in 0..3 {
            let (w, h) = (50 + rng.below(30), 30 + rng.below(30));
            let img = random_image(&mut rng, w, h);
            for method in FijiLocal::ALL {
                for radius in [12, 25] {
                    let p = params(&mut rng, radius);
                    let got = fiji_local(method, &p, &img, w, h);
                    let want = naive(method, &p, &img, w, h);
                    assert_eq!(got, want, "{method:?} {p:?} {w}x{h} round {round}");
                }
            }
        }
    }

    #[test]
    fn tiling_does_not_change_the_result() {
        let mut rng = Rng(0xdead_beef_cafe_f00d);
        for round in 0..12 {
            let (w, h) = (1 + rng.below(40), 1 + rng.below(30));
            let img = random_image(&mut rng, w, h);
            let src = GrayView::new(&img, w, h);
            for method in FijiLocal::ALL {
                let radius = 1 + rng.below(7) as u32;
                let p = params(&mut rng, radius);
                let whole = fiji_local(method, &p, &img, w, h);
                let prep = prepare(method, &src);
                // A random grid of tiles.
                let (tw, th) = (1 + rng.below(w), 1 + rng.below(h));
                let mut tiled = vec![0u8; w * h];
                for ty in (0..h).step_by(th) {
                    for tx in (0..w).step_by(tw) {
                        let rect = Rect {
                            x: tx,
                            y: ty,
                            w: tw.min(w - tx),
                            h: th.min(h - ty),
                        };
                        // 7 is neither 0 nor 255: a pixel left unwritten would show.
                        let mut buf = vec![7u8; rect.w * rect.h];
                        let mut rows: Vec<&mut [MaybeUninit<u8>]> =
                            buf.chunks_mut(rect.w).map(as_uninit).collect();
                        fiji_tile(method, &p, &prep, &src, rect, &mut rows);
                        for (i, row) in buf.chunks(rect.w).enumerate() {
                            let at = (rect.y + i) * w + rect.x;
                            tiled[at..at + rect.w].copy_from_slice(row);
                        }
                    }
                }
                assert_eq!(
                    tiled, whole,
                    "{method:?} {p:?} {w}x{h} tiles {tw}x{th} round {round}"
                );
            }
        }
    }

    /// The ring paths (chunks of [`CHUNK`] columns, sparse tables, `u32` or `u64` squares) give
    /// what the row-by-row paths give, on an image wider than two chunks, on an inner tile,
    /// up to the largest radius each serves.
    #[test]
    fn ring_paths_equal_the_rowwise_ones() {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let (w, h) = (1100, 23);
        let mut img = random_image(&mut rng, w, h);
        // Flat bright and dark runs, where the extremes and the variance are degenerate.
        img[3 * w..3 * w + 700].fill(255);
        img[9 * w + 200..10 * w].fill(0);
        let src = GrayView::new(&img, w, h);
        type Rows<'a, 'b> = &'a mut [&'b mut [MaybeUninit<u8>]];
        let run = |rect: Rect, f: &dyn Fn(Rows)| {
            let mut buf = vec![7u8; rect.w * rect.h];
            let mut rows: Vec<&mut [MaybeUninit<u8>]> =
                buf.chunks_mut(rect.w).map(as_uninit).collect();
            f(&mut rows);
            buf
        };
        let rects = [
            Rect { x: 0, y: 0, w, h },
            Rect {
                x: 3,
                y: 5,
                w: w - 10,
                h: 11,
            },
        ];
        for radius in [
            1u32,
            5,
            37,
            90,
            MINMAX_RING_MAX_RADIUS as u32,
            RING_MAX_RADIUS as u32,
        ] {
            let dxs = line_radii(radius);
            for rect in rects {
                if radius as usize <= MINMAX_RING_MAX_RADIUS {
                    for pick in [0, 1] {
                        let d = |_: u8, lo: u8, hi: u8| if pick == 0 { lo } else { hi };
                        let a = run(rect, &|o| minmax_tile(&src, rect, &dxs, o, d));
                        let b = run(rect, &|o| minmax_tile_rowwise(&src, rect, &dxs, o, d));
                        assert_eq!(a, b, "min/max r{radius} {rect:?} pick {pick}");
                    }
                }
                // Every byte of the mean's and the variance's bits.
                for byte in 0..8 {
                    let d = |_: u8, m: f32, v: f32| {
                        let bits = (m.to_bits() as u64) | (v.to_bits() as u64) << 32;
                        (bits >> (8 * byte)) as u8
                    };
                    let a = run(rect, &|o| sums_tile(&src, rect, &dxs, o, d));
                    let b = run(rect, &|o| sums_tile_rowwise(&src, rect, &dxs, o, d));
                    assert_eq!(a, b, "sums r{radius} {rect:?} byte {byte}");
                }
            }
        }
    }

    #[test]
    fn big_radius_on_thin_images() {
        for (w, h) in [(1, 9), (9, 1), (1, 1), (3, 2)] {
            let img: Vec<u8> = (0..w * h).map(|i| (i * 53 % 256) as u8).collect();
            for method in FijiLocal::ALL {
                for radius in [1, 2, 40, MAX_RADIUS] {
                    let p = FijiParams {
                        radius,
                        p1: 0.0,
                        p2: 0.0,
                        white_objects: true,
                    };
                    let got = fiji_local(method, &p, &img, w, h);
                    assert_eq!(got.len(), w * h);
                    if radius <= 40 {
                        assert_eq!(
                            got,
                            naive(method, &p, &img, w, h),
                            "{method:?} r{radius} {w}x{h}"
                        );
                    }
                }
            }
        }
    }
}
