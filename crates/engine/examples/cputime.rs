//! CPU time (not wall time) of ops at one worker: robust when the machine is shared, since a
//! time-sliced run is not charged for the slices it waited. A development aid.
//!
//! usage: cargo run --release --example cputime -- IMAGE gray,threshold,otsu,mean-11,gauss-11
//! (Linux: reads each thread's `/proc/self/task/*/schedstat`).
use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::source::SourceImage;
use tessera_engine::tile::TileSize;

/// Nanoseconds this process's threads have run on a CPU.
fn cpu_ns() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(list)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: cputime IMAGE gray,threshold,otsu,mean-11,gauss-11");
        std::process::exit(2);
    };
    let rgb = read_image(path.as_ref(), DecodeLimits::default()).expect("read image");
    let cfg = JobConfig {
        workers: 1,
        tile: TileSize::Auto,
    };
    let gray_op = OpSettings {
        op: OpKind::Gray,
        ..Default::default()
    };
    let gray = job::run(&rgb, &gray_op.to_op().unwrap(), &cfg, &Control::new()).unwrap();
    let gray = SourceImage::gray(gray.image.into_gray8().unwrap());
    for name in list.split(',') {
        let (op, block) = match name.split_once('-') {
            Some((o, b)) => (o, b.parse().expect("block size")),
            None => (name, 11),
        };
        let kind = match op {
            "gray" => OpKind::Gray,
            "threshold" => OpKind::Threshold,
            "otsu" => OpKind::Otsu,
            "triangle" => OpKind::Triangle,
            "mean" => OpKind::AdaptiveMean,
            "gauss" => OpKind::AdaptiveGaussian,
            _ => panic!("unknown op {op}"),
        };
        let s = OpSettings {
            op: kind,
            block_size: block,
            ..Default::default()
        };
        let op = s.to_op().expect("valid op");
        let src = if kind == OpKind::Gray { &rgb } else { &gray };
        job::run(src, &op, &cfg, &Control::new()).unwrap();
        let mut ms: Vec<f64> = (0..15)
            .map(|_| {
                let c0 = cpu_ns();
                let out = job::run(src, &op, &cfg, &Control::new()).unwrap();
                let dt = cpu_ns() - c0;
                drop(out);
                dt as f64 / 1e6
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!("{name:12} CPU ms: median {:.2}, min {:.2}", ms[7], ms[0]);
    }
}
