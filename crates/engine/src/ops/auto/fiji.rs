//! What Fiji's Auto_Threshold plugin 1.18.0 (`fiji.threshold.Auto_Threshold`) does differently
//! from ImageJ 1.53t's `AutoThresholder`: its own Default (IJDefault), Otsu (Celebi), Huang2.
//! The other methods are the same code as ImageJ's ([`super::imagej`]) run on the cropped
//! histogram.
// The Java source's shapes are kept on purpose: negated comparisons (`!(x < e)`) differ from
// their "simplified" forms when x is NaN, and index loops mirror the Java loops line by line.
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::manual_range_contains,
    clippy::needless_range_loop,
    clippy::implicit_saturating_sub
)]

use super::imagej::{ij_isodata_iterate, jmul, jround};

/// `IJDefault` (Auto_Threshold.java 459-496): IJ_IsoData without the mode capping of ImageJ's
/// Default and without zeroing the end bins.
pub(crate) fn ij_default(data: &[i64]) -> i64 {
    let max_value = data.len() - 1;
    let mut min = 0usize;
    while data[min] == 0 && min < max_value {
        min += 1;
    }
    let mut max = max_value;
    while data[max] == 0 && max > 0 {
        max -= 1;
    }
    if min >= max {
        return (data.len() / 2) as i64;
    }
    ij_isodata_iterate(data, min, max)
}

/// `Otsu` (Auto_Threshold.java 1119-1173, M. E. Celebi's formulation): all bins,
/// `bcv = (μT·ω − μ)·((μT·ω − μ) / (ω(1−ω)))`, the first maximum (strict `<`).
pub(crate) fn otsu(data: &[i64]) -> i64 {
    let n = data.len();
    let num_pixels: i64 = data.iter().sum();
    let term = 1.0 / num_pixels as f64;
    let histo: Vec<f64> = data.iter().map(|&d| term * d as f64).collect();
    let mut cnh = vec![0.0f64; n];
    let mut mean = vec![0.0f64; n];
    cnh[0] = histo[0];
    for ih in 1..n {
        cnh[ih] = cnh[ih - 1] + histo[ih];
    }
    mean[0] = 0.0;
    for ih in 1..n {
        mean[ih] = mean[ih - 1] + ih as f64 * histo[ih];
    }
    let total_mean = mean[n - 1];
    let mut threshold = i32::MIN as i64;
    let mut max_bcv = 0.0f64;
    for ih in 0..n {
        let mut bcv = total_mean * cnh[ih] - mean[ih];
        bcv *= bcv / (cnh[ih] * (1.0 - cnh[ih]));
        if max_bcv < bcv {
            max_bcv = bcv;
            threshold = ih as i64;
        }
    }
    threshold
}

/// `Huang2` (Auto_Threshold.java 583-634, J. Schindelin 2011): Huang's fuzzy entropy with the
/// class means rounded (`Math.round(W/S)`) and a table of the entropy terms indexed by
/// `|i − μ|`; the first minimum.
pub(crate) fn huang2(data: &[i64]) -> i64 {
    let n = data.len();
    let mut first = 0usize;
    while first < n && data[first] == 0 {
        first += 1;
    }
    if first == n {
        return 0;
    }
    let mut last = n - 1;
    while last > first && data[last] == 0 {
        last -= 1;
    }
    if first == last {
        return 0;
    }
    let mut s = vec![0.0f64; last + 1];
    let mut w = vec![0.0f64; last + 1];
    s[0] = data[0] as f64;
    for i in first.max(1)..=last {
        s[i] = s[i - 1] + data[i] as f64;
        w[i] = w[i - 1] + jmul(i as i64, data[i]) as f64;
    }
    let c = (last - first) as f64;
    let mut smu = vec![0.0f64; last + 1 - first];
    for (i, v) in smu.iter_mut().enumerate().skip(1) {
        let mu = 1.0 / (1.0 + i as f64 / c);
        *v = -mu * mu.ln() - (1.0 - mu) * (1.0 - mu).ln();
    }
    // Only occupied bins: a zero bin adds exactly +0.0 (Smu is finite), and an empty
    // threshold repeats the entropy of the occupied one before it (same rounded means), which
    // the strict `>` never picks. Same result as the Java loops, O(m²) for m occupied bins.
    let nz: Vec<usize> = (first..=last).filter(|&i| data[i] != 0).collect();
    let mut best_threshold = 0i64;
    let mut best_entropy = f64::MAX;
    for &threshold in &nz {
        let mut entropy = 0.0f64;
        let mu = jround(w[threshold] / s[threshold]);
        for &i in nz.iter().take_while(|&&i| i <= threshold) {
            entropy += smu[(i as i64 - mu).unsigned_abs() as usize] * data[i] as f64;
        }
        let mu = jround((w[last] - w[threshold]) / (s[last] - s[threshold]));
        for &i in nz.iter().skip_while(|&&i| i <= threshold) {
            entropy += smu[(i as i64 - mu).unsigned_abs() as usize] * data[i] as f64;
        }
        if best_entropy > entropy {
            best_entropy = entropy;
            best_threshold = threshold as i64;
        }
    }
    best_threshold
}
