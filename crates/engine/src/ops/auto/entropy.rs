//! The entropy-based methods of ImageJ 1.53t's `AutoThresholder` (Huang, MaxEntropy,
//! RenyiEntropy, Shanbhag, Yen), ported line by line with the conventions of [`super::imagej`]:
//! Java `int` histograms as `i64`, floating-point operations in the Java order. Split from
//! that module only to keep files short; `imagej` re-exports them.
// The Java source's shapes are kept on purpose (see `imagej`).
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::manual_range_contains,
    clippy::needless_range_loop,
    clippy::implicit_saturating_sub,
    clippy::neg_multiply
)]

use super::imagej::*;

/// `Huang`: fuzzy thresholding, Shannon entropy (Huang & Wang 1995). `fiji`: the class sums
/// are Java `int`s (`sum_pix += ih * data[ih]`, wrapping) as in Fiji's copy, which matters on
/// 16-bit histograms; ImageJ sums in double.
pub(crate) fn huang(data: &[i64], fiji: bool) -> i64 {
    let n = data.len();
    let mut first_bin = 0usize;
    for (ih, &d) in data.iter().enumerate() {
        if d != 0 {
            first_bin = ih;
            break;
        }
    }
    let mut last_bin = n - 1;
    for ih in (first_bin..n).rev() {
        if data[ih] != 0 {
            last_bin = ih;
            break;
        }
    }
    let term = 1.0 / (last_bin as f64 - first_bin as f64);
    let mut mu_0 = vec![0.0f64; n];
    let (mut sum_pix, mut num_pix) = (0.0f64, 0.0f64);
    let (mut isum, mut inum) = (0i32, 0i32);
    for ih in first_bin..n {
        if fiji {
            isum = isum.wrapping_add(jmul(ih as i64, data[ih]) as i32);
            inum = inum.wrapping_add(data[ih] as i32);
            mu_0[ih] = isum as f64 / inum as f64;
        } else {
            sum_pix += ih as f64 * data[ih] as f64;
            num_pix += data[ih] as f64;
            mu_0[ih] = sum_pix / num_pix;
        }
    }
    let mut mu_1 = vec![0.0f64; n];
    let (mut sum_pix, mut num_pix) = (0.0f64, 0.0f64);
    let (mut isum, mut inum) = (0i32, 0i32);
    let mut ih = last_bin;
    while ih > 0 {
        if fiji {
            isum = isum.wrapping_add(jmul(ih as i64, data[ih]) as i32);
            inum = inum.wrapping_add(data[ih] as i32);
            mu_1[ih - 1] = isum as f64 / inum as f64;
        } else {
            sum_pix += ih as f64 * data[ih] as f64;
            num_pix += data[ih] as f64;
            mu_1[ih - 1] = sum_pix / num_pix;
        }
        ih -= 1;
    }
    // Zero bins add exactly +0.0 to `ent` (the memberships are finite unless the histogram
    // is constant), and an empty `it` repeats the entropy of the occupied bin before it, which
    // the strict `<` never picks: so only it = 0 and the occupied bins are evaluated, over the
    // occupied bins, in the Java order. Same result, O(m²) for m occupied bins.
    let sparse = last_bin != first_bin;
    let nz: Vec<usize> = if sparse {
        (0..n).filter(|&i| data[i] != 0).collect()
    } else {
        (0..n).collect()
    };
    let candidates: Vec<usize> = if sparse {
        std::iter::once(0)
            .chain(nz.iter().copied().filter(|&i| i != 0))
            .collect()
    } else {
        (0..n).collect()
    };
    let mut threshold = -1i64;
    let mut min_ent = f64::MAX;
    for it in candidates {
        let mut ent = 0.0f64;
        for &ih in nz.iter().take_while(|&&ih| ih <= it) {
            let mu_x = 1.0 / (1.0 + term * (ih as f64 - mu_0[it]).abs());
            if !((mu_x < 1e-06) || (mu_x > 0.999999)) {
                ent += data[ih] as f64 * (-mu_x * mu_x.ln() - (1.0 - mu_x) * (1.0 - mu_x).ln());
            }
        }
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            let mu_x = 1.0 / (1.0 + term * (ih as f64 - mu_1[it]).abs());
            if !((mu_x < 1e-06) || (mu_x > 0.999999)) {
                ent += data[ih] as f64 * (-mu_x * mu_x.ln() - (1.0 - mu_x) * (1.0 - mu_x).ln());
            }
        }
        if ent < min_ent {
            min_ent = ent;
            threshold = it as i64;
        }
    }
    threshold
}

/// `MaxEntropy` (Kapur, Sahoo & Wong 1985).
pub(crate) fn max_entropy(data: &[i64]) -> i64 {
    let (norm, p1, p2, first_bin, last_bin) = norm_cumulative(data);
    let nz = occupied(data);
    let mut threshold = -1i64;
    let mut max_ent = DOUBLE_MIN_VALUE;
    for &it in nz.iter().filter(|&&i| i >= first_bin && i <= last_bin) {
        let mut ent_back = 0.0f64;
        for &ih in nz.iter().take_while(|&&ih| ih <= it) {
            if data[ih] != 0 {
                ent_back -= (norm[ih] / p1[it]) * (norm[ih] / p1[it]).ln();
            }
        }
        let mut ent_obj = 0.0f64;
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            if data[ih] != 0 {
                ent_obj -= (norm[ih] / p2[it]) * (norm[ih] / p2[it]).ln();
            }
        }
        let tot_ent = ent_back + ent_obj;
        if max_ent < tot_ent {
            max_ent = tot_ent;
            threshold = it as i64;
        }
    }
    threshold
}

/// `RenyiEntropy` (Kapur, Sahoo & Wong 1985 with Rényi's entropies; Sahoo et al. 1997).
pub(crate) fn renyi_entropy(data: &[i64]) -> i64 {
    let (norm, p1, p2, first_bin, last_bin) = norm_cumulative(data);
    let nz = occupied(data);
    // alpha = 1 (MaxEntropy with a 0.0 start)
    let mut threshold = 0usize;
    let mut max_ent = 0.0f64;
    for &it in nz.iter().filter(|&&i| i >= first_bin && i <= last_bin) {
        let mut ent_back = 0.0f64;
        for &ih in nz.iter().take_while(|&&ih| ih <= it) {
            if data[ih] != 0 {
                ent_back -= (norm[ih] / p1[it]) * (norm[ih] / p1[it]).ln();
            }
        }
        let mut ent_obj = 0.0f64;
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            if data[ih] != 0 {
                ent_obj -= (norm[ih] / p2[it]) * (norm[ih] / p2[it]).ln();
            }
        }
        let tot_ent = ent_back + ent_obj;
        if max_ent < tot_ent {
            max_ent = tot_ent;
            threshold = it;
        }
    }
    let mut t_star2 = threshold as i64;
    // alpha = 0.5
    threshold = 0;
    max_ent = 0.0;
    let term = 1.0 / (1.0 - 0.5);
    for &it in nz.iter().filter(|&&i| i >= first_bin && i <= last_bin) {
        let mut ent_back = 0.0f64;
        for &ih in nz.iter().take_while(|&&ih| ih <= it) {
            ent_back += (norm[ih] / p1[it]).sqrt();
        }
        let mut ent_obj = 0.0f64;
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            ent_obj += (norm[ih] / p2[it]).sqrt();
        }
        let prod = ent_back * ent_obj;
        let tot_ent = term * if prod > 0.0 { prod.ln() } else { 0.0 };
        if tot_ent > max_ent {
            max_ent = tot_ent;
            threshold = it;
        }
    }
    let mut t_star1 = threshold as i64;
    // alpha = 2
    threshold = 0;
    max_ent = 0.0;
    let term = 1.0 / (1.0 - 2.0);
    for &it in nz.iter().filter(|&&i| i >= first_bin && i <= last_bin) {
        let mut ent_back = 0.0f64;
        for &ih in nz.iter().take_while(|&&ih| ih <= it) {
            ent_back += (norm[ih] * norm[ih]) / (p1[it] * p1[it]);
        }
        let mut ent_obj = 0.0f64;
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            ent_obj += (norm[ih] * norm[ih]) / (p2[it] * p2[it]);
        }
        let prod = ent_back * ent_obj;
        let tot_ent = term * if prod > 0.0 { prod.ln() } else { 0.0 };
        if tot_ent > max_ent {
            max_ent = tot_ent;
            threshold = it;
        }
    }
    let mut t_star3 = threshold as i64;
    if t_star2 < t_star1 {
        std::mem::swap(&mut t_star1, &mut t_star2);
    }
    if t_star3 < t_star2 {
        std::mem::swap(&mut t_star2, &mut t_star3);
    }
    if t_star2 < t_star1 {
        std::mem::swap(&mut t_star1, &mut t_star2);
    }
    let (beta1, beta2, beta3) = if (t_star1 - t_star2).abs() <= 5 {
        if (t_star2 - t_star3).abs() <= 5 {
            (1.0, 2.0, 1.0)
        } else {
            (0.0, 1.0, 3.0)
        }
    } else if (t_star2 - t_star3).abs() <= 5 {
        (3.0, 1.0, 0.0)
    } else {
        (1.0, 2.0, 1.0)
    };
    let (t1, t3) = (t_star1 as usize, t_star3 as usize);
    let omega = p1[t3] - p1[t1];
    jint(
        t_star1 as f64 * (p1[t1] + 0.25 * omega * beta1)
            + 0.25 * t_star2 as f64 * omega * beta2
            + t_star3 as f64 * (p2[t3] + 0.25 * omega * beta3),
    )
}

/// `Shanbhag` (Shanbhag 1994): fuzzy-set entropy balance.
pub(crate) fn shanbhag(data: &[i64]) -> i64 {
    let (norm, p1, p2, first_bin, last_bin) = norm_cumulative(data);
    let nz = occupied(data);
    let mut threshold = -1i64;
    let mut min_ent = f64::MAX;
    for &it in nz.iter().filter(|&&i| i >= first_bin && i <= last_bin) {
        let mut ent_back = 0.0f64;
        let term = 0.5 / p1[it];
        for &ih in nz.iter().take_while(|&&ih| ih <= it).filter(|&&ih| ih >= 1) {
            ent_back -= norm[ih] * (1.0 - term * p1[ih - 1]).ln();
        }
        ent_back *= term;
        let mut ent_obj = 0.0f64;
        let term = 0.5 / p2[it];
        for &ih in nz.iter().skip_while(|&&ih| ih <= it) {
            ent_obj -= norm[ih] * (1.0 - term * p2[ih]).ln();
        }
        ent_obj *= term;
        let tot_ent = (ent_back - ent_obj).abs();
        if tot_ent < min_ent {
            min_ent = tot_ent;
            threshold = it as i64;
        }
    }
    threshold
}

/// `Yen` (Yen, Chang & Chang 1995).
pub(crate) fn yen(data: &[i64]) -> i64 {
    let n = data.len();
    let total: i64 = data.iter().sum();
    let norm: Vec<f64> = data.iter().map(|&d| d as f64 / total as f64).collect();
    let mut p1 = vec![0.0f64; n];
    let mut p1_sq = vec![0.0f64; n];
    let mut p2_sq = vec![0.0f64; n];
    p1[0] = norm[0];
    for ih in 1..n {
        p1[ih] = p1[ih - 1] + norm[ih];
    }
    p1_sq[0] = norm[0] * norm[0];
    for ih in 1..n {
        p1_sq[ih] = p1_sq[ih - 1] + norm[ih] * norm[ih];
    }
    p2_sq[n - 1] = 0.0;
    for ih in (0..n - 1).rev() {
        p2_sq[ih] = p2_sq[ih + 1] + norm[ih + 1] * norm[ih + 1];
    }
    let mut threshold = -1i64;
    let mut max_crit = DOUBLE_MIN_VALUE;
    for it in 0..n {
        let a = p1_sq[it] * p2_sq[it];
        let b = p1[it] * (1.0 - p1[it]);
        let crit =
            -1.0 * if a > 0.0 { a.ln() } else { 0.0 } + 2.0 * if b > 0.0 { b.ln() } else { 0.0 };
        if crit > max_crit {
            max_crit = crit;
            threshold = it as i64;
        }
    }
    threshold
}
