//! The methods of ImageJ 1.53t's `ij.process.AutoThresholder`, ported line by line.
//!
//! Each function takes the histogram as Java `int` counts (`i64` here, the same values) and
//! returns what the package-private Java method returns (a level, or −1 when it finds none).
//! ImageJ requires 256 bins; these ports use `data.len()` wherever ImageJ writes 256/255, so on
//! 256 bins they are ImageJ's methods and on other lengths (Fiji's cropped histograms) they are
//! Fiji Auto_Threshold 1.18.0's copies of the same code. Floating-point operations are done in
//! the order the Java source does them; integer products that Java computes in `int` wrap as
//! they do in Java ([`jmul`]).
// The Java source's shapes are kept on purpose: negated comparisons (`!(x < e)`) differ from
// their "simplified" forms when x is NaN, and index loops mirror the Java loops line by line.
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::manual_range_contains,
    clippy::needless_range_loop,
    clippy::implicit_saturating_sub,
    clippy::neg_multiply
)]

pub(crate) use super::entropy::{huang, max_entropy, renyi_entropy, shanbhag, yen};

/// Java `int` multiplication (wrapping at 32 bits), widened back.
#[inline]
pub(crate) fn jmul(a: i64, b: i64) -> i64 {
    (a as i32).wrapping_mul(b as i32) as i64
}

/// Java `Math.round(double)` cast to `int`: `floor(x + 1/2)` exactly, NaN → 0, saturating.
#[inline]
pub(crate) fn jround(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    // Math.round returns a long; the callers cast it to int.
    (r as i64) as i32 as i64
}

/// Java `(int)` of a double: truncation toward zero, NaN → 0, saturating.
#[inline]
pub(crate) fn jint(x: f64) -> i64 {
    x as i32 as i64
}

/// The Java `Double.MIN_VALUE` (the smallest positive subnormal), used as a start value.
pub(crate) const DOUBLE_MIN_VALUE: f64 = 4.9e-324;
/// `DBL_EPSILON` as written in AutoThresholder.
pub(crate) const DBL_EPSILON: f64 = 2.220446049250313E-16;

/// The occupied bins. MaxEntropy, RenyiEntropy and Shanbhag only loop over these: a zero bin
/// adds exactly +0.0 to their sums (every other factor is finite inside [first_bin, last_bin]),
/// and an empty `it` repeats the total of the occupied bin before it, which their strict
/// comparisons never pick. Same results as the Java loops over all bins, O(m²) for m occupied.
pub(crate) fn occupied(data: &[i64]) -> Vec<usize> {
    (0..data.len()).filter(|&i| data[i] != 0).collect()
}

/// Normalised histogram and the cumulative sums P1, P2 (MaxEntropy, RenyiEntropy, Shanbhag).
pub(crate) fn norm_cumulative(data: &[i64]) -> (Vec<f64>, Vec<f64>, Vec<f64>, usize, usize) {
    let n = data.len();
    let total: i64 = data.iter().sum();
    let norm: Vec<f64> = data.iter().map(|&d| d as f64 / total as f64).collect();
    let mut p1 = vec![0.0; n];
    let mut p2 = vec![0.0; n];
    p1[0] = norm[0];
    p2[0] = 1.0 - p1[0];
    for ih in 1..n {
        p1[ih] = p1[ih - 1] + norm[ih];
        p2[ih] = 1.0 - p1[ih];
    }
    let mut first_bin = 0;
    for (ih, &p) in p1.iter().enumerate() {
        if !(p.abs() < DBL_EPSILON) {
            first_bin = ih;
            break;
        }
    }
    let mut last_bin = n - 1;
    let mut ih = n as i64 - 1;
    while ih >= first_bin as i64 {
        if !(p2[ih as usize].abs() < DBL_EPSILON) {
            last_bin = ih as usize;
            break;
        }
        ih -= 1;
    }
    (norm, p1, p2, first_bin, last_bin)
}

/// `Default`: IJ_IsoData on a copy whose mode count is capped at 1.5 × the second-highest
/// count when it exceeds twice that (ImageJ's Threshold dialog "Default").
pub(crate) fn default(data: &[i64]) -> i64 {
    let mut data2 = data.to_vec();
    let (mut mode, mut max_count) = (0usize, 0i64);
    for (i, &d) in data2.iter().enumerate() {
        if d > max_count {
            max_count = d;
            mode = i;
        }
    }
    let mut max_count2 = 0i64;
    for (i, &d) in data2.iter().enumerate() {
        if d > max_count2 && i != mode {
            max_count2 = d;
        }
    }
    if max_count > max_count2 * 2 && max_count2 != 0 {
        data2[mode] = jint(max_count2 as f64 * 1.5);
    }
    ij_isodata(&data2)
}

/// `IJ_IsoData`: ImageJ's own iterative intermeans (`ImageProcessor.getAutoThreshold`).
pub(crate) fn ij_isodata(data: &[i64]) -> i64 {
    let mut data = data.to_vec();
    let max_value = data.len() - 1;
    data[0] = 0;
    data[max_value] = 0;
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
    ij_isodata_iterate(&data, min, max)
}

/// The movingIndex loop shared by IJ_IsoData and Fiji's IJDefault.
pub(crate) fn ij_isodata_iterate(data: &[i64], min: usize, max: usize) -> i64 {
    let mut moving = min;
    let mut result;
    loop {
        let (mut s1, mut s2, mut s3, mut s4) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (i, &d) in data.iter().enumerate().take(moving + 1).skip(min) {
            s1 += i as f64 * d as f64;
            s2 += d as f64;
        }
        for (i, &d) in data.iter().enumerate().take(max + 1).skip(moving + 1) {
            s3 += i as f64 * d as f64;
            s4 += d as f64;
        }
        result = (s1 / s2 + s3 / s4) / 2.0;
        moving += 1;
        if !(((moving + 1) as f64) <= result && moving < max - 1) {
            break;
        }
    }
    jround(result)
}

/// ImageJ's `bimodalTest`: exactly two strict local maxima.
pub(crate) fn bimodal_test(y: &[f64]) -> bool {
    let mut modes = 0;
    for k in 1..y.len().saturating_sub(1) {
        if y[k - 1] < y[k] && y[k + 1] < y[k] {
            modes += 1;
            if modes > 2 {
                return false;
            }
        }
    }
    modes == 2
}

/// The smoothing cap of Intermodes and Minimum.
pub(crate) const MAX_SMOOTHINGS: u32 = 10000;

/// `Intermodes` (Prewitt & Mendelsohn 1966).
pub(crate) fn intermodes(data: &[i64]) -> i64 {
    let (mut minbin, mut maxbin) = (-1i64, -1i64);
    for (i, &d) in data.iter().enumerate() {
        if d > 0 {
            maxbin = i as i64;
        }
    }
    for i in (0..data.len()).rev() {
        if data[i] > 0 {
            minbin = i as i64;
        }
    }
    if minbin < 0 {
        return -1; // Java: ArrayIndexOutOfBounds (callers reject empty histograms first)
    }
    let length = (maxbin - minbin + 1) as usize;
    let mut hist: Vec<f64> = data[minbin as usize..=maxbin as usize]
        .iter()
        .map(|&d| d as f64)
        .collect();
    let mut iter = 0u32;
    while !bimodal_test(&hist) {
        let (mut current, mut next) = (0.0f64, hist[0]);
        for i in 0..length - 1 {
            let previous = current;
            current = next;
            next = hist[i + 1];
            hist[i] = (previous + current + next) / 3.0;
        }
        hist[length - 1] = (current + next) / 3.0;
        iter += 1;
        if iter > MAX_SMOOTHINGS {
            return -1;
        }
    }
    let mut tt = 0i64;
    for i in 1..length - 1 {
        if hist[i - 1] < hist[i] && hist[i + 1] < hist[i] {
            tt += i as i64;
        }
    }
    (tt as f64 / 2.0).floor() as i64 + minbin
}

/// `IsoData` (Ridler & Calvard 1978) as AutoThresholder 1.53t has it. `fiji`: the upper
/// mean is a Java `int` too (wrapping sums, integer division), as in Fiji's copy.
pub(crate) fn isodata(data: &[i64], fiji: bool) -> i64 {
    let n = data.len();
    let mut g = 0usize;
    for (i, &d) in data.iter().enumerate().skip(1) {
        if d > 0 {
            g = i + 1;
            break;
        }
    }
    loop {
        let (mut l, mut totl) = (0i32, 0i32);
        for (i, &d) in data.iter().enumerate().take(g.min(n)) {
            totl = totl.wrapping_add(d as i32);
            l = l.wrapping_add(jmul(d, i as i64) as i32);
        }
        let (mut h, mut toth) = (0.0f64, 0.0f64);
        let (mut ih, mut itoth) = (0i32, 0i32);
        for (i, &d) in data.iter().enumerate().skip(g + 1) {
            toth += d as f64;
            h += d as f64 * i as f64;
            itoth = itoth.wrapping_add(d as i32);
            ih = ih.wrapping_add(jmul(d, i as i64) as i32);
        }
        if fiji {
            toth = itoth as f64;
        }
        if totl > 0 && toth > 0.0 {
            l = l.wrapping_div(totl);
            h = if fiji {
                ih.wrapping_div(itoth) as f64
            } else {
                h / toth
            };
            let l = l as f64;
            if g as i64 == jround((l + h) / 2.0) {
                break;
            }
        }
        g += 1;
        if g > n - 2 {
            return -1;
        }
    }
    g as i64
}

/// `Li`: minimum cross entropy, iterative (Li & Tam 1998, Li & Lee 1993).
/// Returns `None` where the Java loop would never end (cycle), see [`MAX_ITERATIONS`].
/// `fiji`: the class sums are Java `int`s accumulating `int` products (wrapping), as in Fiji's
/// copy; ImageJ's cast `(double)ih * data[ih]` back to `int` (saturating).
pub(crate) fn li(data: &[i64], fiji: bool) -> Option<i64> {
    let n = data.len();
    let tolerance = 0.5;
    let num_pixels: i64 = data.iter().sum();
    let mut mean = 0.0f64;
    for (ih, &d) in data.iter().enumerate().skip(1) {
        mean += ih as f64 * d as f64;
    }
    mean /= num_pixels as f64;
    let mut new_thresh = mean;
    let mut threshold;
    let mut iterations = 0;
    loop {
        let old_thresh = new_thresh;
        threshold = jint(old_thresh + 0.5);
        let (mut sum_back, mut num_back) = (0i64, 0i64);
        let mut ih = 0i64;
        while ih <= threshold && (ih as usize) < n {
            sum_back = if fiji {
                (sum_back as i32).wrapping_add(jmul(ih, data[ih as usize]) as i32) as i64
            } else {
                jint(sum_back as f64 + ih as f64 * data[ih as usize] as f64)
            };
            num_back += data[ih as usize];
            ih += 1;
        }
        let mean_back = if num_back == 0 {
            0.0
        } else {
            sum_back as f64 / num_back as f64
        };
        let (mut sum_obj, mut num_obj) = (0i64, 0i64);
        let mut ih = (threshold + 1).max(0);
        while (ih as usize) < n {
            sum_obj = if fiji {
                (sum_obj as i32).wrapping_add(jmul(ih, data[ih as usize]) as i32) as i64
            } else {
                jint(sum_obj as f64 + ih as f64 * data[ih as usize] as f64)
            };
            num_obj += data[ih as usize];
            ih += 1;
        }
        let mean_obj = if num_obj == 0 {
            0.0
        } else {
            sum_obj as f64 / num_obj as f64
        };
        let temp = (mean_back - mean_obj) / (mean_back.ln() - mean_obj.ln());
        new_thresh = if temp < -DBL_EPSILON {
            jint(temp - 0.5) as f64
        } else {
            jint(temp + 0.5) as f64
        };
        if !((new_thresh - old_thresh).abs() > tolerance) {
            break;
        }
        iterations += 1;
        if iterations > MAX_ITERATIONS {
            return None;
        }
    }
    Some(threshold)
}

/// Cap on the iterations of Li and MinError, whose Java loops have none: past it the Java
/// method would cycle forever (the pack has no such case: every call returned in ms).
pub(crate) const MAX_ITERATIONS: u32 = 100_000;

/// `Mean` (Glasbey 1993): the floor of the mean grey level.
pub(crate) fn mean(data: &[i64]) -> i64 {
    let (mut tot, mut sum) = (0.0f64, 0.0f64);
    for (i, &d) in data.iter().enumerate() {
        tot += d as f64;
        sum += i as f64 * d as f64;
    }
    (sum / tot).floor() as i64
}

fn a_(y: &[i64], j: i64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..=j {
        x += y[i as usize] as f64;
    }
    x
}
fn b_(y: &[i64], j: i64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..=j {
        x += jmul(i, y[i as usize]) as f64;
    }
    x
}
fn c_(y: &[i64], j: i64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..=j {
        x += jmul(jmul(i, i), y[i as usize]) as f64;
    }
    x
}

/// Outcome of MinError(I) beyond a plain level.
pub(crate) enum MinErrorOutcome {
    /// The level (possibly negative or −1).
    Level(i64),
    /// Java throws ArrayIndexOutOfBoundsException (an estimate past the last bin).
    OutOfBounds(i64),
    /// Java would loop forever.
    Cycle,
}

/// `MinError(I)`: Kittler & Illingworth 1986, iterative version (Niemistö's code).
pub(crate) fn min_error(data: &[i64]) -> MinErrorOutcome {
    let last = data.len() as i64 - 1;
    let mut threshold = mean(data);
    let mut tprev = -2i64;
    let mut iterations = 0;
    while threshold != tprev {
        if threshold > last {
            return MinErrorOutcome::OutOfBounds(threshold);
        }
        let (at, bt, ct) = (
            a_(data, threshold),
            b_(data, threshold),
            c_(data, threshold),
        );
        let (al, bl, cl) = (a_(data, last), b_(data, last), c_(data, last));
        let mu = bt / at;
        let nu = (bl - bt) / (al - at);
        let p = at / al;
        let q = (al - at) / al;
        let sigma2 = ct / at - (mu * mu);
        let tau2 = (cl - ct) / (al - at) - (nu * nu);
        let w0 = 1.0 / sigma2 - 1.0 / tau2;
        let w1 = mu / sigma2 - nu / tau2;
        let w2 =
            (mu * mu) / sigma2 - (nu * nu) / tau2 + ((sigma2 * (q * q)) / (tau2 * (p * p))).log10();
        let sqterm = (w1 * w1) - w0 * w2;
        if sqterm < 0.0 {
            break;
        }
        tprev = threshold;
        let temp = (w1 + sqterm.sqrt()) / w0;
        if temp.is_nan() {
            threshold = tprev;
        } else {
            threshold = temp.floor() as i32 as i64;
        }
        iterations += 1;
        if iterations > MAX_ITERATIONS {
            return MinErrorOutcome::Cycle;
        }
    }
    MinErrorOutcome::Level(threshold)
}

/// `Minimum` (Prewitt & Mendelsohn 1966), over the whole histogram (not cropped): smoothed
/// until bimodal, then the first `i` with `h[i-1] > h[i] <= h[i+1]`, searched in `1..n-1`
/// (ImageJ 1.53t, `upto_max == false`) or in `1..max`, `max` = the last occupied bin (Fiji).
pub(crate) fn minimum(data: &[i64], upto_max: bool) -> i64 {
    let n = data.len();
    if n < 2 {
        return 0;
    }
    let mut max = -1i64;
    let mut ihisto: Vec<f64> = Vec::with_capacity(n);
    for (i, &d) in data.iter().enumerate() {
        ihisto.push(d as f64);
        if d > 0 {
            max = i as i64;
        }
    }
    let mut thisto = vec![0.0f64; n];
    let mut iter = 0u32;
    while !bimodal_test(&ihisto) {
        for i in 1..n - 1 {
            thisto[i] = (ihisto[i - 1] + ihisto[i] + ihisto[i + 1]) / 3.0;
        }
        thisto[0] = (ihisto[0] + ihisto[1]) / 3.0;
        thisto[n - 1] = (ihisto[n - 2] + ihisto[n - 1]) / 3.0;
        ihisto.copy_from_slice(&thisto);
        iter += 1;
        if iter > MAX_SMOOTHINGS {
            return -1;
        }
    }
    let end = if upto_max { max } else { n as i64 - 1 };
    let mut i = 1i64;
    while i < end {
        let u = i as usize;
        if ihisto[u - 1] > ihisto[u] && ihisto[u + 1] >= ihisto[u] {
            return i;
        }
        i += 1;
    }
    -1
}

/// `Moments` (Tsai 1985): moment-preserving thresholding.
pub(crate) fn moments(data: &[i64]) -> i64 {
    let mut total = 0.0f64;
    for &d in data {
        total += d as f64;
    }
    let histo: Vec<f64> = data.iter().map(|&d| d as f64 / total).collect();
    let (m0, mut m1, mut m2, mut m3) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (i, &h) in histo.iter().enumerate() {
        // Java: `i * i * histo[i]` with int i: the powers are int products (wrapping past
        // 46340² and 1290³, which Fiji's cropped 16-bit histograms reach).
        let i = i as i64;
        m1 += i as f64 * h;
        m2 += jmul(i, i) as f64 * h;
        m3 += jmul(jmul(i, i), i) as f64 * h;
    }
    let cd = m0 * m2 - m1 * m1;
    let c0 = (-m2 * m2 + m1 * m3) / cd;
    let c1 = (m0 * -m3 + m2 * m1) / cd;
    let z0 = 0.5 * (-c1 - (c1 * c1 - 4.0 * c0).sqrt());
    let z1 = 0.5 * (-c1 + (c1 * c1 - 4.0 * c0).sqrt());
    let p0 = (z1 - m1) / (z1 - z0);
    let mut sum = 0.0f64;
    for (i, &h) in histo.iter().enumerate() {
        sum += h;
        if sum > p0 {
            return i as i64;
        }
    }
    -1
}

/// `Otsu` as ImageJ 1.53t has it: `k` in 1..n−2, the last maximum (`>=`).
pub(crate) fn otsu(data: &[i64]) -> i64 {
    let l = data.len();
    let (mut s, mut n) = (0.0f64, 0.0f64);
    for (k, &d) in data.iter().enumerate() {
        s += k as f64 * d as f64;
        n += d as f64;
    }
    let mut sk = 0.0f64;
    let mut n1 = data[0] as f64;
    let mut bcv_max = 0.0f64;
    let mut kstar = 0i64;
    for k in 1..l.saturating_sub(1) {
        sk += k as f64 * data[k] as f64;
        n1 += data[k] as f64;
        let denom = n1 * (n - n1);
        let bcv = if denom != 0.0 {
            let num = (n1 / n) * s - sk;
            (num * num) / denom
        } else {
            0.0
        };
        if bcv >= bcv_max {
            bcv_max = bcv;
            kstar = k as i64;
        }
    }
    kstar
}

/// `Percentile` (Doyle 1962), 50 %: the first bin whose cumulative fraction is closest to 0.5.
pub(crate) fn percentile(data: &[i64]) -> i64 {
    let total: f64 = data.iter().map(|&d| d as f64).sum();
    let (mut threshold, mut temp, mut ps) = (-1i64, 1.0f64, 0.0f64);
    for (i, &d) in data.iter().enumerate() {
        ps += d as f64;
        let a = (ps / total - 0.5).abs();
        if a < temp {
            temp = a;
            threshold = i as i64;
        }
    }
    threshold
}

/// `Triangle` (Zack, Rogers & Latt 1977).
pub(crate) fn triangle(data: &[i64]) -> i64 {
    let n = data.len();
    let last = n - 1;
    let mut data = data.to_vec();
    let (mut min, mut dmax, mut max, mut min2) = (0usize, 0i64, 0usize, 0usize);
    for (i, &d) in data.iter().enumerate() {
        if d > 0 {
            min = i;
            break;
        }
    }
    if min > 0 {
        min -= 1;
    }
    for i in (1..n).rev() {
        if data[i] > 0 {
            min2 = i;
            break;
        }
    }
    if min2 < last {
        min2 += 1;
    }
    for (i, &d) in data.iter().enumerate() {
        if d > dmax {
            max = i;
            dmax = d;
        }
    }
    let mut inverted = false;
    if (max as i64 - min as i64) < (min2 as i64 - max as i64) {
        inverted = true;
        data.reverse();
        min = last - min2;
        max = last - max;
    }
    if min == max {
        return min as i64;
    }
    let mut nx = data[max] as f64;
    let mut ny = min as f64 - max as f64;
    let mut d = (nx * nx + ny * ny).sqrt();
    nx /= d;
    ny /= d;
    d = nx * min as f64 + ny * data[min] as f64;
    let mut split = min as i64;
    let mut split_distance = 0.0f64;
    for i in min + 1..=max {
        let new_distance = nx * i as f64 + ny * data[i] as f64 - d;
        if new_distance > split_distance {
            split = i as i64;
            split_distance = new_distance;
        }
    }
    split -= 1;
    if inverted { last as i64 - split } else { split }
}
