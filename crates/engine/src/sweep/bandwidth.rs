//! A STREAM-like memory bandwidth measurement, for the ceiling memory-bound operations cannot
//! pass: each worker count copies its share of a large buffer (as STREAM's "copy" kernel) on a
//! pool of exactly that many threads, best of a few repeats, counting bytes read plus bytes
//! written.
//!
//! An operation that reads `r` and writes `w` bytes per pixel can at most process
//! `bandwidth / (r + w)` pixels per second on that many workers; [`ceiling_speedup`] turns that
//! into the speedup no measured curve can pass, so a chart shows *why* a curve flattens.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::EngineError;
use crate::pool::WorkerPool;

/// The copy bandwidth on one worker count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bandwidth {
    /// Worker threads.
    pub workers: usize,
    /// Bytes read plus bytes written per second, in GB/s (10⁹), best of the repeats.
    pub gb_per_s: f64,
}

/// The default buffer: 256 MiB copied (large enough to leave the caches on most machines).
pub const DEFAULT_BYTES: usize = 256 << 20;

/// Measures the copy bandwidth of a `bytes`-sized buffer on each worker count, best of
/// `repeats` (at least 1).
///
/// # Errors
///
/// [`EngineError::Pool`] when a pool cannot be started.
pub fn measure(
    workers: &[usize],
    bytes: usize,
    repeats: usize,
) -> Result<Vec<Bandwidth>, EngineError> {
    let src = vec![1u8; bytes.max(1 << 16)];
    let mut dst = vec![0u8; src.len()];
    let mut out = Vec::new();
    for &w in workers {
        let pool = WorkerPool::build(w)?;
        let chunk = src.len().div_ceil(w * 8).max(1 << 16);
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let t0 = Instant::now();
            pool.install(|| {
                dst.par_chunks_mut(chunk)
                    .zip(src.par_chunks(chunk))
                    .for_each(|(d, s)| d.copy_from_slice(s));
            });
            best = best.min(t0.elapsed().as_secs_f64());
        }
        std::hint::black_box(&dst);
        out.push(Bandwidth {
            workers: w,
            gb_per_s: 2.0 * src.len() as f64 / best.max(1e-9) / 1e9,
        });
    }
    Ok(out)
}

/// The speedup over the 1-worker throughput `mp_per_s_1` that a memory-bound operation moving
/// `bytes_per_pixel` (read + written) cannot pass on `bw`'s workers.
pub fn ceiling_speedup(bw: &Bandwidth, bytes_per_pixel: f64, mp_per_s_1: f64) -> f64 {
    let max_mp_per_s = bw.gb_per_s * 1e9 / bytes_per_pixel.max(1e-9) / 1e6;
    max_mp_per_s / mp_per_s_1.max(1e-12)
}
