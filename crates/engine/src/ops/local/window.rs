//! Exact sums of values and of squares over square windows, one output row at a time, with the
//! image border handled as the method's oracle does.
//!
//! For a tile, column sums over the window's rows are kept for the tile's columns plus the
//! halo and slid down one row at a time (add the row entering, subtract the row leaving);
//! each row's window sums are differences of a prefix of those column sums. The cost per
//! pixel is a handful of additions whatever the window size, and the integer sums are exact,
//! so every tile computes what a whole-image pass would.

use crate::tile::{GrayView, Rect};

/// What a window reads beyond the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Border {
    /// The edge pixel repeated (`aaa|abcd|ddd`, OpenCV's `BORDER_REPLICATE`).
    Replicate,
    /// Mirrored without repeating the edge (`dcb|abcd|cba`, numpy's `mode='reflect'`), and
    /// reflected again for windows wider than the image (period `2(n − 1)`; a 1-pixel axis is
    /// constant).
    Reflect,
    /// Nothing: the window is clipped to the image (the caller counts the pixels inside).
    Clip,
}

impl Border {
    /// The image index that index `i` (maybe outside `0..n`) reads, `None` for nothing.
    #[inline]
    pub(crate) fn map(self, i: isize, n: usize) -> Option<usize> {
        if i >= 0 && (i as usize) < n {
            return Some(i as usize);
        }
        match self {
            Border::Replicate => Some(i.clamp(0, n as isize - 1) as usize),
            Border::Reflect => {
                if n == 1 {
                    return Some(0);
                }
                let p = 2 * (n as isize - 1);
                let j = i.rem_euclid(p);
                Some(if j >= n as isize { p - j } else { j } as usize)
            }
            Border::Clip => None,
        }
    }
}

/// The number of image pixels in the clipped window of radius `r` around `c` on an axis of `n`.
#[inline]
pub(crate) fn clipped_len(c: usize, r: usize, n: usize) -> usize {
    (c + r).min(n - 1) + 1 - c.saturating_sub(r)
}

/// Calls `f(i, s, q)` for every row `i` of `rect`, where `s[x]` and `q[x]` are the sums of the
/// values and of their squares over the `(2r + 1)²` window centred on pixel
/// `(rect.x + x, rect.y + i)`, the border handled as `border` says. `q` is empty unless
/// `squares`. Sums are exact for windows up to 4095 pixels wide.
pub(crate) fn for_each_row(
    src: &GrayView<'_>,
    rect: Rect,
    r: usize,
    border: Border,
    squares: bool,
    mut f: impl FnMut(usize, &[u64], &[u64]),
) {
    let (w, h) = (src.width, src.height);
    let pw = rect.w + 2 * r;
    let x0 = rect.x as isize - r as isize;
    // Padded columns that lie inside the image are copied as a run; the others are mapped.
    let jlo = (r.saturating_sub(rect.x)).min(pw);
    let jhi = (w + r - rect.x).min(pw).max(jlo);
    let edge: Vec<(usize, Option<usize>)> = (0..jlo)
        .chain(jhi..pw)
        .map(|j| (j, border.map(x0 + j as isize, w)))
        .collect();
    let gather = |y: usize, buf: &mut [u8]| {
        let row = src.row(y);
        let start = (x0 + jlo as isize) as usize;
        buf[jlo..jhi].copy_from_slice(&row[start..start + (jhi - jlo)]);
        for &(j, m) in &edge {
            buf[j] = m.map_or(0, |c| row[c]);
        }
    };
    let mut buf = vec![0u8; pw];
    let mut col_s = vec![0u32; pw];
    let mut col_q = vec![0u32; if squares { pw } else { 0 }];
    let mut add = |y: usize, sign: bool, col_s: &mut [u32], col_q: &mut [u32]| {
        gather(y, &mut buf);
        add_sub(col_s, col_q, &buf, sign);
    };
    for dy in -(r as isize)..=r as isize {
        if let Some(y) = border.map(rect.y as isize + dy, h) {
            add(y, true, &mut col_s, &mut col_q);
        }
    }
    let mut pre_s = vec![0u64; pw + 1];
    let mut pre_q = vec![0u64; if squares { pw + 1 } else { 0 }];
    let mut s = vec![0u64; rect.w];
    let mut q = vec![0u64; if squares { rect.w } else { 0 }];
    let win = 2 * r + 1;
    for i in 0..rect.h {
        if i > 0 {
            let y = (rect.y + i) as isize;
            if let Some(yy) = border.map(y + r as isize, h) {
                add(yy, true, &mut col_s, &mut col_q);
            }
            if let Some(yy) = border.map(y - r as isize - 1, h) {
                add(yy, false, &mut col_s, &mut col_q);
            }
        }
        prefix(&col_s, &mut pre_s);
        window(&pre_s, win, &mut s);
        if squares {
            prefix(&col_q, &mut pre_q);
            window(&pre_q, win, &mut q);
        }
        f(i, &s, &q);
    }
}

fn add_sub(col_s: &mut [u32], col_q: &mut [u32], row: &[u8], add: bool) {
    if add {
        for (c, &v) in col_s.iter_mut().zip(row) {
            *c += v as u32;
        }
        for (c, &v) in col_q.iter_mut().zip(row) {
            *c += v as u32 * v as u32;
        }
    } else {
        for (c, &v) in col_s.iter_mut().zip(row) {
            *c -= v as u32;
        }
        for (c, &v) in col_q.iter_mut().zip(row) {
            *c -= v as u32 * v as u32;
        }
    }
}

fn prefix(cols: &[u32], pre: &mut [u64]) {
    let mut acc = 0u64;
    pre[0] = 0;
    for (p, &c) in pre[1..].iter_mut().zip(cols) {
        acc += c as u64;
        *p = acc;
    }
}

fn window(pre: &[u64], win: usize, out: &mut [u64]) {
    for ((o, &hi), &lo) in out.iter_mut().zip(&pre[win..]).zip(pre) {
        *o = hi - lo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(src: &GrayView<'_>, x: usize, y: usize, r: usize, b: Border) -> (u64, u64) {
        let (mut s, mut q) = (0u64, 0u64);
        for dy in -(r as isize)..=r as isize {
            for dx in -(r as isize)..=r as isize {
                let yy = b.map(y as isize + dy, src.height);
                let xx = b.map(x as isize + dx, src.width);
                if let (Some(yy), Some(xx)) = (yy, xx) {
                    let v = src.row(yy)[xx] as u64;
                    s += v;
                    q += v * v;
                }
            }
        }
        (s, q)
    }

    #[test]
    fn numpy_reflect_and_replicate_indices() {
        let m = |i, n| Border::Reflect.map(i, n).unwrap();
        // numpy.pad(np.arange(4), 6, mode='reflect')
        let want = [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3];
        let got: Vec<usize> = (-6..10).map(|i| m(i, 4)).collect();
        assert_eq!(got, want);
        assert_eq!(m(-5, 1), 0);
        assert_eq!(Border::Replicate.map(-3, 4), Some(0));
        assert_eq!(Border::Replicate.map(9, 4), Some(3));
        assert_eq!(Border::Clip.map(4, 4), None);
        assert_eq!(clipped_len(0, 2, 3), 3);
        assert_eq!(clipped_len(5, 2, 10), 5);
    }

    #[test]
    fn window_sums_equal_a_naive_sum_for_every_border_and_tile() {
        let mut seed = 12345u32;
        for (w, h) in [(1, 1), (1, 7), (9, 1), (13, 11), (30, 17)] {
            let data: Vec<u8> = (0..w * h)
                .map(|_| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    (seed >> 24) as u8
                })
                .collect();
            let src = GrayView::new(&data, w, h);
            for b in [Border::Replicate, Border::Reflect, Border::Clip] {
                for r in [1, 2, 5, 20] {
                    for rect in [
                        Rect { x: 0, y: 0, w, h },
                        Rect {
                            x: w / 3,
                            y: h / 2,
                            w: w - w / 3,
                            h: h - h / 2,
                        },
                    ] {
                        for_each_row(&src, rect, r, b, true, |i, s, q| {
                            for x in 0..rect.w {
                                let want = naive(&src, rect.x + x, rect.y + i, r, b);
                                assert_eq!((s[x], q[x]), want, "{w}x{h} {b:?} r{r} {rect:?}");
                            }
                        });
                    }
                }
            }
        }
    }
}
