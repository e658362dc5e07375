//! Multi-level Otsu thresholding exactly as scikit-image 0.26's
//! `skimage.filters.threshold_multiotsu` computes it (Liao, Chen & Chung, "A fast algorithm for
//! multilevel thresholding", J. Inf. Sci. Eng. 17(5) 2001; skimage's `_multiotsu.pyx`).
//!
//! # What skimage does, and what is reproduced
//!
//! * **Histogram.** Integer images get one bin per integer value from the image's minimum to its
//!   maximum (`nbins` is ignored), bin centres are the integers themselves
//!   ([`multi_otsu_u8`], [`multi_otsu_u16`], or [`multi_otsu`] on a histogram you built).
//!   Float images get `nbins` equal bins over `[min, max]` as `np.histogram` builds them, the
//!   thresholds are bin centres ([`multi_otsu_f64`], [`multi_otsu_u16_as_f64`] for
//!   `threshold_multiotsu(image.astype(np.float64))`).
//! * **Probabilities** are `(count / total)` in float64, then rounded to **float32**; every
//!   later step is float32 arithmetic in the order of the Cython code, including its quirk
//!   that the first moment starts at `prob[0]` (not `0 · prob[0]`) and that the lookup table's
//!   entry for the class `[0, 0]` is 0.
//! * **Fewer occupied bins than classes** is an error ([`MultiOtsuError::TooFewValues`]);
//!   exactly as many → the first `classes − 1` occupied bins; otherwise the exhaustive search
//!   over all `classes − 1` threshold indices, in skimage's loop order (lexicographic), keeping
//!   the **first** maximum of the between-class sum (strict `>`, started at 0).
//! * **Large histograms.** skimage builds an `nbins²/2` float32 lookup table, and only without
//!   the memory falls back to a search that recomputes the variances (and gives the class
//!   `[0, 0]` the value `prob[0]` instead of 0, so the two can differ). Here the result is always
//!   the lookup-table one — what skimage returns whenever its table fits in memory; the table is
//!   materialised only where it pays off (≥ 4 classes), otherwise its entries are computed on
//!   the fly with the same float32 operations, so the answer is identical. The search visits
//!   `C(nbins − 1, classes − 1)` threshold combinations; more than [`MAX_EVALUATIONS`] is
//!   refused with [`MultiOtsuError::TooManyCombinations`] (3 classes work up to 65 536 bins;
//!   4 classes up to about 5 900 bins, e.g. a 12-bit image; 5 classes up to about 1 000).
//!
//! [`digitize_u8`] turns the thresholds into a label image as `np.digitize(image, thresholds)`
//! does (a pixel equal to a threshold goes to the class above it).

use std::fmt;

/// The most threshold combinations the exhaustive search visits (2³⁵ ≈ 3.4 · 10¹⁰, tens of
/// seconds); beyond it [`multi_otsu`] and friends return
/// [`MultiOtsuError::TooManyCombinations`].
pub const MAX_EVALUATIONS: u128 = 1 << 35;

/// Why multi-Otsu gave no thresholds.
#[derive(Debug, Clone, PartialEq)]
pub enum MultiOtsuError {
    /// `classes` is below 2.
    InvalidClasses {
        /// The number of classes asked for.
        classes: usize,
    },
    /// No pixels (an empty image, or a histogram of zero counts).
    Empty,
    /// The image has fewer distinct values (occupied bins) than classes: skimage's
    /// `ValueError`.
    TooFewValues {
        /// The number of occupied bins.
        values: usize,
        /// The number of classes asked for.
        classes: usize,
    },
    /// The exhaustive search would visit more than [`MAX_EVALUATIONS`] combinations.
    TooManyCombinations {
        /// The number of histogram bins.
        bins: usize,
        /// The number of classes asked for.
        classes: usize,
        /// `C(bins − 1, classes − 1)`, saturated.
        evaluations: u128,
    },
    /// A float input holds NaN or ±∞ (`np.histogram` raises on them).
    NonFinite,
    /// `nbins` is 0.
    InvalidBins,
    /// Every combination has a between-class sum ≤ 0, so skimage would return uninitialised
    /// indices. Not reachable from a histogram with more occupied bins than classes.
    NoMaximum,
}

impl fmt::Display for MultiOtsuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiOtsuError::InvalidClasses { classes } => {
                write!(f, "multi-Otsu needs at least 2 classes (got {classes})")
            }
            MultiOtsuError::Empty => f.write_str("the image has no pixels"),
            MultiOtsuError::TooFewValues { values, classes } => write!(
                f,
                "the image has fewer distinct values ({values}) than classes ({classes}): \
                 it cannot be thresholded in {classes} classes"
            ),
            MultiOtsuError::TooManyCombinations {
                bins,
                classes,
                evaluations,
            } => write!(
                f,
                "multi-Otsu with {classes} classes on {bins} histogram bins would evaluate \
                 {evaluations} threshold combinations (more than {MAX_EVALUATIONS})"
            ),
            MultiOtsuError::NonFinite => f.write_str("the image holds NaN or infinite values"),
            MultiOtsuError::InvalidBins => f.write_str("the number of bins must be at least 1"),
            MultiOtsuError::NoMaximum => {
                f.write_str("no threshold combination has a positive between-class variance")
            }
        }
    }
}

impl std::error::Error for MultiOtsuError {}

/// skimage's `threshold_multiotsu` on a histogram of integer values: `hist[k]` counts the value
/// `first_value + k`. Leading and trailing empty bins are dropped first (as skimage does with a
/// given `hist`, and as its own image histogram never has them). Returns the `classes − 1`
/// thresholds, ascending; the classes are `v < t₀`, `t₀ ≤ v < t₁`, … as [`digitize_u8`]
/// labels them.
pub fn multi_otsu(
    hist: &[u64],
    first_value: i64,
    classes: usize,
) -> Result<Vec<i64>, MultiOtsuError> {
    check_classes(classes)?;
    let Some(start) = hist.iter().position(|&c| c > 0) else {
        return Err(MultiOtsuError::Empty);
    };
    let end = hist.iter().rposition(|&c| c > 0).unwrap_or(start) + 1;
    let idx = threshold_indices(&hist[start..end], classes)?;
    Ok(idx
        .into_iter()
        .map(|i| first_value + (start + i) as i64)
        .collect())
}

/// [`multi_otsu`] of an 8-bit image (`threshold_multiotsu(image, classes)` on a `uint8` array).
pub fn multi_otsu_u8(pixels: &[u8], classes: usize) -> Result<Vec<i64>, MultiOtsuError> {
    let mut hist = [0u64; 256];
    for &p in pixels {
        hist[p as usize] += 1;
    }
    multi_otsu(&hist, 0, classes)
}

/// [`multi_otsu`] of a 16-bit image (`threshold_multiotsu(image, classes)` on a `uint16` array:
/// one bin per integer from min to max, up to 65 536 bins; see [`MAX_EVALUATIONS`]).
pub fn multi_otsu_u16(pixels: &[u16], classes: usize) -> Result<Vec<i64>, MultiOtsuError> {
    multi_otsu(&histogram_u16(pixels), 0, classes)
}

/// skimage's `threshold_multiotsu(image.astype(np.float64), classes, nbins)` for a 16-bit image:
/// `nbins` equal bins over `[min, max]` (skimage's default is 256), thresholds at bin centres.
pub fn multi_otsu_u16_as_f64(
    pixels: &[u16],
    classes: usize,
    nbins: usize,
) -> Result<Vec<f64>, MultiOtsuError> {
    multi_otsu_hist16_as_f64(&histogram_u16(pixels), classes, nbins)
}

/// [`multi_otsu_u16_as_f64`] of a 16-bit image given by its histogram (one bin per value).
pub fn multi_otsu_hist16_as_f64(
    hist: &[u64],
    classes: usize,
    nbins: usize,
) -> Result<Vec<f64>, MultiOtsuError> {
    check_classes(classes)?;
    let values = hist
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(v, &c)| (v as f64, c));
    multi_otsu_float_weighted(values, classes, nbins)
}

/// skimage's `threshold_multiotsu(image, classes, nbins)` for a float image: `nbins` equal
/// bins over `[min, max]` as `np.histogram(image, bins=nbins)` builds them, thresholds at the
/// bin centres. NaN or ±∞ is [`MultiOtsuError::NonFinite`].
pub fn multi_otsu_f64(
    pixels: &[f64],
    classes: usize,
    nbins: usize,
) -> Result<Vec<f64>, MultiOtsuError> {
    check_classes(classes)?;
    multi_otsu_float_weighted(pixels.iter().map(|&v| (v, 1)), classes, nbins)
}

/// `np.digitize(image, bins=thresholds)` for ascending `thresholds`: each pixel's class is the
/// number of thresholds `t` with `t <= v` (0 ..= `thresholds.len()`).
///
/// # Panics
/// If `thresholds` has more than 255 entries (the class would not fit a `u8`).
pub fn digitize_u8(pixels: &[u8], thresholds: &[i64]) -> Vec<u8> {
    assert!(thresholds.len() < 256, "at most 255 thresholds");
    debug_assert!(
        thresholds.windows(2).all(|w| w[0] <= w[1]),
        "thresholds must ascend"
    );
    let mut lut = [0u8; 256];
    for (v, class) in lut.iter_mut().enumerate() {
        *class = thresholds.iter().filter(|&&t| t <= v as i64).count() as u8;
    }
    pixels.iter().map(|&p| lut[p as usize]).collect()
}

/// The bin indices skimage's `threshold_multiotsu` picks on the counts `counts` (bins indexed
/// from 0, used as given: no trimming): the occupied-bin checks, then
/// `_get_multiotsu_thresh_indices_lut(prob, classes − 1)`.
pub fn threshold_indices(counts: &[u64], classes: usize) -> Result<Vec<usize>, MultiOtsuError> {
    check_classes(classes)?;
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(MultiOtsuError::Empty);
    }
    let values = counts.iter().filter(|&&c| c > 0).count();
    if values < classes {
        return Err(MultiOtsuError::TooFewValues { values, classes });
    }
    if values == classes {
        // np.flatnonzero(prob)[:-1]
        let mut idx: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        idx.pop();
        return Ok(idx);
    }
    let nbins = counts.len();
    let m = classes - 1;
    let evaluations = binomial(nbins as u128 - 1, m as u128);
    if evaluations > MAX_EVALUATIONS {
        return Err(MultiOtsuError::TooManyCombinations {
            bins: nbins,
            classes,
            evaluations,
        });
    }
    // prob = (hist / np.sum(hist)).astype(float32): a float64 division rounded to float32.
    let total = total as f64;
    let prob: Vec<f32> = counts.iter().map(|&c| (c as f64 / total) as f32).collect();
    let search = Search::new(&prob, m);
    search.run()
}

fn check_classes(classes: usize) -> Result<(), MultiOtsuError> {
    if classes < 2 {
        return Err(MultiOtsuError::InvalidClasses { classes });
    }
    Ok(())
}

fn histogram_u16(pixels: &[u16]) -> Vec<u64> {
    let mut hist = vec![0u64; 65536];
    for &p in pixels {
        hist[p as usize] += 1;
    }
    hist
}

/// `C(n, k)`, saturating at `u128::MAX`.
fn binomial(n: u128, k: u128) -> u128 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut r: u128 = 1;
    for i in 0..k {
        // r · (n − i) / (i + 1) stays an integer at every step.
        r = match r.checked_mul(n - i) {
            Some(v) => v / (i + 1),
            None => return u128::MAX,
        };
    }
    r
}

/// `np.histogram(values, bins=nbins)` (range from the data) on weighted values, then
/// skimage's multi-Otsu on it; thresholds are the bin centres.
fn multi_otsu_float_weighted<I>(
    values: I,
    classes: usize,
    nbins: usize,
) -> Result<Vec<f64>, MultiOtsuError>
where
    I: Iterator<Item = (f64, u64)> + Clone,
{
    if nbins == 0 {
        return Err(MultiOtsuError::InvalidBins);
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut any = false;
    for (v, _) in values.clone() {
        if !v.is_finite() {
            return Err(MultiOtsuError::NonFinite);
        }
        any = true;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !any {
        return Err(MultiOtsuError::Empty);
    }
    // np.histogram's _get_outer_edges: an empty range is widened by 0.5 each side.
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let edges = linspace(lo, hi, nbins + 1);
    let denom = hi - lo;
    let mut counts = vec![0u64; nbins];
    for (v, w) in values {
        // numpy's _histogram: f_indices = ((a − first) / norm_denom) · n, truncated, then
        // corrected against the edges.
        let mut i = (((v - lo) / denom) * nbins as f64) as usize;
        if i == nbins {
            i -= 1;
        }
        if v < edges[i] {
            i -= 1;
        }
        if v >= edges[i + 1] && i != nbins - 1 {
            i += 1;
        }
        counts[i] += w;
    }
    let idx = threshold_indices(&counts, classes)?;
    Ok(idx
        .into_iter()
        .map(|i| (edges[i] + edges[i + 1]) / 2.0)
        .collect())
}

/// `np.linspace(start, stop, num)` (num ≥ 2): `arange(num) · step + start`, the last value
/// set to `stop`.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut y: Vec<f64> = if step == 0.0 {
        (0..num).map(|i| i as f64 / div * delta + start).collect()
    } else {
        (0..num).map(|i| i as f64 * step + start).collect()
    };
    y[num - 1] = stop;
    y
}

/// The exhaustive search of `_set_thresh_indices_lut`, with the lookup table's values.
struct Search {
    nbins: usize,
    /// Number of thresholds (classes − 1).
    m: usize,
    /// zeroth_moment (P) and first_moment (S) first rows.
    zeroth: Vec<f32>,
    first: Vec<f32>,
    /// The compressed upper-triangular table `var_btwcls`, when materialised.
    lut: Option<Vec<f32>>,
}

impl Search {
    fn new(prob: &[f32], m: usize) -> Self {
        let nbins = prob.len();
        let mut zeroth = vec![0f32; nbins];
        let mut first = vec![0f32; nbins];
        // _set_var_btwcls_lut: note first_moment[0] = prob[0].
        zeroth[0] = prob[0];
        first[0] = prob[0];
        for i in 1..nbins {
            zeroth[i] = zeroth[i - 1] + prob[i];
            first[i] = first[i - 1] + i as f32 * prob[i];
        }
        let mut s = Search {
            nbins,
            m,
            zeroth,
            first,
            lut: None,
        };
        if m >= 3 {
            let mut lut = vec![0f32; nbins * (nbins + 1) / 2];
            for i in 0..nbins {
                let start = row_start(i, nbins);
                for j in i..nbins {
                    lut[start + j - i] = s.var(i, j);
                }
            }
            s.lut = Some(lut);
        }
        s
    }

    /// The table's entry `var_btwcls[i, j]` (0 ≤ i ≤ j < nbins), computed as
    /// `_set_var_btwcls_lut` fills it.
    #[inline]
    fn var(&self, i: usize, j: usize) -> f32 {
        if i == 0 {
            if j == 0 {
                return 0.0;
            }
            let z = self.zeroth[j];
            if z > 0.0 {
                let f = self.first[j];
                return (f * f) / z;
            }
            return 0.0;
        }
        let z = self.zeroth[j] - self.zeroth[i - 1];
        if z > 0.0 {
            let f = self.first[j] - self.first[i - 1];
            (f * f) / z
        } else {
            0.0
        }
    }

    /// `var_btwcls[i, j]` from the table when there is one.
    #[inline]
    fn get(&self, i: usize, j: usize) -> f32 {
        match &self.lut {
            Some(lut) => lut[row_start(i, self.nbins) + j - i],
            None => self.var(i, j),
        }
    }

    fn run(&self) -> Result<Vec<usize>, MultiOtsuError> {
        let n = self.nbins;
        let m = self.m;
        let mut st = State {
            best: 0.0,
            best_idx: None,
            cur: vec![0; m],
            row: vec![0.0; n],
            consts: vec![0.0; m.saturating_sub(2)],
        };
        if m == 1 {
            // sigma = var[0, t0] + var[t0 + 1, n − 1]
            for t0 in 0..n - 1 {
                let s = self.get(0, t0) + self.get(t0 + 1, n - 1);
                if s > st.best {
                    st.best = s;
                    st.best_idx = Some(vec![t0]);
                }
            }
        } else {
            // Last class's variance var[t + 1, n − 1] for every possible last threshold t.
            let last: Vec<f32> = (0..n - 1).map(|t| self.get(t + 1, n - 1)).collect();
            self.recurse(0, 0, &last, &mut st);
        }
        st.best_idx.ok_or(MultiOtsuError::NoMaximum)
    }

    /// Chooses threshold `k` (< m − 1) from `lo` on, in skimage's loop order, then scans the
    /// last one.
    fn recurse(&self, k: usize, lo: usize, last: &[f32], st: &mut State) {
        let n = self.nbins;
        let m = self.m;
        for t in lo..n - m + k {
            st.cur[k] = t;
            if k + 2 < m {
                self.recurse(k + 1, t + 1, last, st);
            } else {
                self.scan_last(last, st);
            }
        }
    }

    /// With t₀ … t_{m−2} fixed in `st.cur`, runs the last threshold j over
    /// `t_{m−2} + 1 .. n − 1`: sigma = ((var[0, t₀] + var[j + 1, n − 1]) + var[t₀ + 1, t₁] + …)
    /// + var[t_{m−2} + 1, j], summed in that order; the first maximum is kept.
    fn scan_last(&self, last: &[f32], st: &mut State) {
        let n = self.nbins;
        let m = self.m;
        let State {
            best,
            best_idx,
            cur,
            row,
            consts,
        } = st;
        let a = self.get(0, cur[0]);
        for (q, slot) in consts.iter_mut().enumerate() {
            *slot = self.get(cur[q] + 1, cur[q + 1]);
        }
        let r = cur[m - 2] + 1;
        let (lo, hi) = (r, n - 1);
        if lo >= hi {
            return;
        }
        // The row var[r, j] for j in lo..hi.
        let row_vals: &[f32] = match &self.lut {
            Some(lut) => {
                let s = row_start(r, n);
                &lut[s..s + (hi - r)]
            }
            None => {
                // self.var(r, j) for r ≥ 1, written so that it vectorises (the quotient of an
                // empty class is computed and discarded).
                let (z0, f0) = (self.zeroth[r - 1], self.first[r - 1]);
                let zs = &self.zeroth[lo..hi];
                let fs = &self.first[lo..hi];
                for ((slot, &zj), &fj) in row[..hi - lo].iter_mut().zip(zs).zip(fs) {
                    let z = zj - z0;
                    let f = fj - f0;
                    let q = (f * f) / z;
                    *slot = if z > 0.0 { q } else { 0.0 };
                }
                &row[..hi - lo]
            }
        };
        let last = &last[lo..hi];
        const CHUNK: usize = 16;
        let len = hi - lo;
        let mut off = 0;
        let mut sums = [0f32; CHUNK];
        while off < len {
            let w = CHUNK.min(len - off);
            let mx = if w == CHUNK {
                // Full chunk: fixed-size lanes, so that the compiler vectorises the sums and
                // the (lane-wise, then scalar) maximum. No NaN can occur (every term is finite).
                let e: &[f32; CHUNK] = last[off..off + CHUNK].try_into().expect("chunk");
                let v: &[f32; CHUNK] = row_vals[off..off + CHUNK].try_into().expect("chunk");
                for l in 0..CHUNK {
                    let mut s = a + e[l];
                    for &c in consts.iter() {
                        s += c;
                    }
                    sums[l] = s + v[l];
                }
                let mut lanes = [0f32; CHUNK / 2];
                for l in 0..CHUNK / 2 {
                    let (x, y) = (sums[l], sums[l + CHUNK / 2]);
                    lanes[l] = if y > x { y } else { x };
                }
                lanes
                    .iter()
                    .fold(lanes[0], |m, &x| if x > m { x } else { m })
            } else {
                let e = &last[off..off + w];
                let v = &row_vals[off..off + w];
                for l in 0..w {
                    let mut s = a + e[l];
                    for &c in consts.iter() {
                        s += c;
                    }
                    sums[l] = s + v[l];
                }
                sums[1..w]
                    .iter()
                    .fold(sums[0], |m, &x| if x > m { x } else { m })
            };
            if mx > *best {
                // The running maximum (strict >) ends at the first index reaching mx.
                let l = sums[..w].iter().position(|&s| s == mx).unwrap_or(0);
                *best = mx;
                cur[m - 1] = lo + off + l;
                *best_idx = Some(cur.clone());
            }
            off += w;
        }
    }
}

/// The search's running maximum and scratch buffers.
struct State {
    /// sigma_max, started at 0 as in skimage.
    best: f32,
    /// thresh_indices of the running maximum.
    best_idx: Option<Vec<usize>>,
    /// current_indices.
    cur: Vec<usize>,
    /// One row of the table, computed on the fly when it is not materialised.
    row: Vec<f32>,
    /// var[t_q + 1, t_{q+1}] for the fixed thresholds.
    consts: Vec<f32>,
}

/// Start of row `i` in the compressed upper-triangular table (`_get_var_btwclas_lut`).
#[inline]
fn row_start(i: usize, nbins: usize) -> usize {
    (i * (2 * nbins - i + 1)) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// skimage's `_set_thresh_indices_lut` transcribed literally (recursion, table, strict >).
    fn reference(counts: &[u64], classes: usize) -> Vec<usize> {
        let total: u64 = counts.iter().sum();
        let prob: Vec<f32> = counts
            .iter()
            .map(|&c| (c as f64 / total as f64) as f32)
            .collect();
        let n = prob.len();
        let mut lut = vec![0f32; n * (n + 1) / 2];
        let mut z = vec![0f32; n];
        let mut f = vec![0f32; n];
        z[0] = prob[0];
        f[0] = prob[0];
        for i in 1..n {
            z[i] = z[i - 1] + prob[i];
            f[i] = f[i - 1] + i as f32 * prob[i];
            if z[i] > 0.0 {
                lut[i] = (f[i] * f[i]) / z[i];
            }
        }
        let mut idx = n;
        for i in 1..n {
            for j in i..n {
                let zij = z[j] - z[i - 1];
                if zij > 0.0 {
                    let fij = f[j] - f[i - 1];
                    lut[idx] = (fij * fij) / zij;
                }
                idx += 1;
            }
        }
        let get = |i: usize, j: usize| lut[(i * (2 * n - i + 1)) / 2 + j - i];
        #[allow(clippy::too_many_arguments)]
        fn rec(
            get: &dyn Fn(usize, usize) -> f32,
            hist_idx: usize,
            k: usize,
            n: usize,
            m: usize,
            mut sigma_max: f32,
            cur: &mut Vec<usize>,
            out: &mut Vec<usize>,
        ) -> f32 {
            if k < m {
                for idx in hist_idx..n - m + k {
                    cur[k] = idx;
                    sigma_max = rec(get, idx + 1, k + 1, n, m, sigma_max, cur, out);
                }
            } else {
                let mut sigma = get(0, cur[0]) + get(cur[m - 1] + 1, n - 1);
                for q in 0..m - 1 {
                    sigma += get(cur[q] + 1, cur[q + 1]);
                }
                if sigma > sigma_max {
                    sigma_max = sigma;
                    out.clone_from(cur);
                }
            }
            sigma_max
        }
        let m = classes - 1;
        let mut cur = vec![0; m];
        let mut out = vec![usize::MAX; m];
        rec(&get, 0, 0, n, m, 0.0, &mut cur, &mut out);
        out
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn matches_literal_transcription() {
        let mut seed = 7u64;
        for trial in 0..200 {
            let n = 5 + (lcg(&mut seed) % 60) as usize;
            let mut counts: Vec<u64> = (0..n)
                .map(|_| {
                    if lcg(&mut seed).is_multiple_of(4) {
                        0
                    } else {
                        lcg(&mut seed) % 1000
                    }
                })
                .collect();
            counts[0] += 1;
            counts[n - 1] += 1;
            // Some exact ties.
            if trial % 5 == 0 {
                for c in counts.iter_mut() {
                    if *c > 0 {
                        *c = 10;
                    }
                }
            }
            let values = counts.iter().filter(|&&c| c > 0).count();
            for classes in 2..=5 {
                if values <= classes {
                    continue;
                }
                let got = threshold_indices(&counts, classes).unwrap();
                assert_eq!(
                    got,
                    reference(&counts, classes),
                    "{counts:?} classes {classes}"
                );
            }
        }
    }

    #[test]
    fn too_few_and_equal_values() {
        let h = [5u64, 0, 3, 0, 0, 2];
        assert_eq!(
            threshold_indices(&h, 4),
            Err(MultiOtsuError::TooFewValues {
                values: 3,
                classes: 4
            })
        );
        assert_eq!(threshold_indices(&h, 3), Ok(vec![0, 2]));
        assert_eq!(
            multi_otsu(&[0, 0, 5, 0, 3, 0, 0, 2, 0], 10, 3),
            Ok(vec![12, 14])
        );
        assert_eq!(multi_otsu(&[0, 0], 0, 3), Err(MultiOtsuError::Empty));
        assert_eq!(
            multi_otsu(&[1, 2, 3], 0, 1),
            Err(MultiOtsuError::InvalidClasses { classes: 1 })
        );
        let e = threshold_indices(&h, 4).unwrap_err().to_string();
        assert!(
            e.contains("fewer distinct values (3) than classes (4)"),
            "{e}"
        );
    }

    #[test]
    fn refuses_infeasible_search() {
        let h = vec![1u64; 65536];
        assert!(matches!(
            threshold_indices(&h, 4),
            Err(MultiOtsuError::TooManyCombinations {
                bins: 65536,
                classes: 4,
                ..
            })
        ));
        assert_eq!(binomial(65535, 2), 65535 * 65534 / 2);
        assert_eq!(binomial(10, 3), 120);
    }

    #[test]
    fn digitize_matches_definition() {
        let pixels: Vec<u8> = (0..=255).collect();
        for th in [
            vec![],
            vec![0],
            vec![100],
            vec![10, 10, 200],
            vec![-5, 50, 255, 300],
        ] {
            let got = digitize_u8(&pixels, &th);
            for (&p, &g) in pixels.iter().zip(&got) {
                // np.digitize, right=False, ascending bins: i with bins[i-1] <= x < bins[i].
                let mut i = 0;
                while i < th.len() && th[i] <= p as i64 {
                    i += 1;
                }
                assert_eq!(g as usize, i, "{p} {th:?}");
            }
        }
    }

    /// Two classes give skimage's threshold_otsu level (first argmax of
    /// w1·w2·(μ1 − μ2)², float64) on a bimodal histogram.
    #[test]
    fn two_classes_is_otsu() {
        let mut counts = vec![0u64; 256];
        for (v, c) in counts.iter_mut().enumerate() {
            let a = (-((v as f64 - 60.0) / 15.0).powi(2)).exp() * 1000.0;
            let b = (-((v as f64 - 180.0) / 25.0).powi(2)).exp() * 600.0;
            *c = (a + b).round() as u64;
        }
        let start = counts.iter().position(|&c| c > 0).unwrap();
        let end = counts.iter().rposition(|&c| c > 0).unwrap() + 1;
        let h: Vec<f64> = counts[start..end].iter().map(|&c| c as f64).collect();
        let centers: Vec<f64> = (start..end).map(|v| v as f64).collect();
        let n = h.len();
        let mut w1 = vec![0.0; n];
        let mut m1 = vec![0.0; n];
        let (mut cw, mut cm) = (0.0, 0.0);
        for i in 0..n {
            cw += h[i];
            cm += h[i] * centers[i];
            w1[i] = cw;
            m1[i] = cm / cw;
        }
        let mut w2 = vec![0.0; n];
        let mut m2 = vec![0.0; n];
        let (mut cw, mut cm) = (0.0, 0.0);
        for i in (0..n).rev() {
            cw += h[i];
            cm += h[i] * centers[i];
            w2[i] = cw;
            m2[i] = cm / cw;
        }
        let mut best = 0;
        let mut bv = f64::NEG_INFINITY;
        for i in 0..n - 1 {
            let v = w1[i] * w2[i + 1] * (m1[i] - m2[i + 1]).powi(2);
            if v > bv {
                bv = v;
                best = i;
            }
        }
        let otsu = centers[best] as i64;
        assert_eq!(multi_otsu(&counts, 0, 2), Ok(vec![otsu]));
        let pixels: Vec<u8> = counts
            .iter()
            .enumerate()
            .flat_map(|(v, &c)| std::iter::repeat_n(v as u8, c as usize))
            .collect();
        assert_eq!(multi_otsu_u8(&pixels, 2), Ok(vec![otsu]));
    }

    #[test]
    fn float_histogram_like_numpy() {
        // np.histogram([0., 1., 2., 10.], bins=4): edges 0, 2.5, 5, 7.5, 10.
        let e = linspace(0.0, 10.0, 5);
        assert_eq!(e, vec![0.0, 2.5, 5.0, 7.5, 10.0]);
        // Constant image: range widened by 0.5, 3 values → too few.
        assert_eq!(
            multi_otsu_f64(&[3.0; 10], 3, 256),
            Err(MultiOtsuError::TooFewValues {
                values: 1,
                classes: 3
            })
        );
        assert_eq!(
            multi_otsu_f64(&[1.0, f64::NAN], 3, 256),
            Err(MultiOtsuError::NonFinite)
        );
        // Four values in four of 4 bins → the first three occupied bins' centres.
        assert_eq!(
            multi_otsu_f64(&[0.0, 3.0, 6.0, 10.0], 4, 4),
            Ok(vec![1.25, 3.75, 6.25])
        );
    }
}
