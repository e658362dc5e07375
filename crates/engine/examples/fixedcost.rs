//! Where the fixed cost of a cheap job goes: the fixed threshold on one image, timed as a
//! pool job, on the calling thread, and as the bare row kernel into a reused or a fresh zeroed
//! buffer (the engine writes a fresh uninitialised one).
//!
//! usage: cargo run --release --example fixedcost -- IMAGE [--repeats 201]

use std::time::Instant;

use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::threshold::Thresholder;
use tessera_engine::ops::{Op, OpKind, OpSettings};
use tessera_engine::source::SourceImage;
use tessera_engine::tile::TileSize;

fn median(mut f: impl FnMut(), repeats: usize) -> f64 {
    f();
    let mut ts: Vec<f64> = (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    ts[ts.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: fixedcost IMAGE [--repeats N]");
    let repeats = args
        .iter()
        .position(|a| a == "--repeats")
        .map_or(201, |i| args[i + 1].parse().expect("repeats"));
    let rgb = read_image(path.as_ref(), DecodeLimits::default()).expect("read image");
    let cfg1 = JobConfig {
        workers: 1,
        tile: TileSize::Auto,
    };
    let g = job::run(&rgb, &Op::gray(), &cfg1, &Control::new())
        .unwrap()
        .image
        .into_gray8()
        .unwrap();
    let (w, h) = (g.width() as usize, g.height() as usize);
    let gray = SourceImage::gray(g.clone());
    let op = OpSettings {
        op: OpKind::Threshold,
        ..OpSettings::default()
    }
    .to_op()
    .unwrap();
    // The bare kernel does what the job does: the same settings.
    let Op::Threshold {
        kind,
        thresh,
        max_value,
        ..
    } = op
    else {
        unreachable!("a threshold op")
    };
    let t = Thresholder::new(kind, thresh, max_value);
    let raw = g.as_raw();
    println!("{w}x{h}, medians of {repeats}");
    let ms = median(
        || drop(job::run(&gray, &op, &cfg1, &Control::new()).unwrap()),
        repeats,
    );
    println!("job::run, 1-worker pool      {ms:8.3} ms");
    let ms = median(
        || drop(job::run_here(&gray, &op, TileSize::Auto, &Control::new()).unwrap()),
        repeats,
    );
    println!("job::run_here (caller)       {ms:8.3} ms");
    let mut out = vec![0u8; w * h];
    let ms = median(
        || {
            for (s, d) in raw.chunks_exact(w).zip(out.chunks_exact_mut(w)) {
                t.apply_row(s, d);
            }
        },
        repeats,
    );
    println!("kernel, reused buffer        {ms:8.3} ms");
    let ms = median(|| t.apply_row(raw, &mut out), repeats);
    println!("kernel, one call, reused     {ms:8.3} ms");
    let ms = median(
        || {
            let mut out = vec![0u8; w * h];
            for (s, d) in raw.chunks_exact(w).zip(out.chunks_exact_mut(w)) {
                t.apply_row(s, d);
            }
            std::hint::black_box(&out);
        },
        repeats,
    );
    println!("kernel, fresh zeroed buffer  {ms:8.3} ms");
}
