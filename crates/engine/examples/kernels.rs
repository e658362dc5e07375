//! Micro-timings of the row kernels and of buffer allocation (a development aid).
use std::time::Instant;
use tessera_engine::ops::ThresholdType;
use tessera_engine::ops::gray::rgb_row_to_gray;
use tessera_engine::ops::threshold::Thresholder;

fn med(mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..60)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[0]
}

fn main() {
    let n = 3840 * 2160;
    let rgb: Vec<u8> = (0..3 * n).map(|i| (i * 7 % 251) as u8).collect();
    let gray: Vec<u8> = (0..n).map(|i| (i * 13 % 251) as u8).collect();
    let mut out = vec![0u8; n];
    println!(
        "gray kernel, reused out: {:.2} ms",
        med(|| rgb_row_to_gray(&rgb, 3, &mut out))
    );
    let t = Thresholder::new(ThresholdType::Binary, 127.0, 255.0);
    println!(
        "threshold kernel, reused out: {:.2} ms",
        med(|| t.apply_row(&gray, &mut out))
    );
    println!(
        "vec![0; n] + threshold: {:.2} ms",
        med(|| {
            let mut o = vec![0u8; n];
            t.apply_row(&gray, &mut o);
            std::hint::black_box(&o);
        })
    );
    println!(
        "vec![0; n] + fill: {:.2} ms",
        med(|| {
            let mut o = vec![0u8; n];
            o.fill(1);
            std::hint::black_box(&o);
        })
    );
    println!(
        "with_capacity + extend: {:.2} ms",
        med(|| {
            let mut o: Vec<u8> = Vec::with_capacity(n);
            o.extend(gray.iter().map(|&v| if v > 127 { 255 } else { 0 }));
            std::hint::black_box(&o);
        })
    );
}
