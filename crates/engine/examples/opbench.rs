//! Median compute time of each op on one image, printed in the same layout as
//! `../shared/peers/opencv_bench.py` so the two can be compared line by line in one run.
//!
//! usage: cargo run --release --example opbench -- IMAGE [--workers 1,2] [--repeats 9]
//! [--tile auto] [--ops gray,threshold] (names as printed; default all)

use std::time::Instant;

use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{Op, OpKind, OpSettings};
use tessera_engine::source::SourceImage;
use tessera_engine::tile::TileSize;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut path = None;
    let mut workers = vec![1usize, 2];
    let mut repeats = 9;
    let mut tile = TileSize::Auto;
    let mut only: Option<Vec<String>> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--workers" => {
                i += 1;
                workers = args[i]
                    .split(',')
                    .map(|w| w.parse().expect("worker count"))
                    .collect();
            }
            "--repeats" => {
                i += 1;
                repeats = args[i].parse().expect("repeats");
            }
            "--ops" => {
                i += 1;
                only = Some(args[i].split(',').map(str::to_string).collect());
            }
            "--tile" => {
                i += 1;
                tile = args[i].parse::<TileSize>().expect("tile");
            }
            p => path = Some(p.to_string()),
        }
        i += 1;
    }
    let path = path.expect("usage: opbench IMAGE [--workers 1,2] [--repeats 9] [--tile auto]");
    let rgb = read_image(path.as_ref(), DecodeLimits::default()).expect("read image");
    let cfg1 = JobConfig { workers: 1, tile };
    let gray = SourceImage::gray(
        job::run(&rgb, &Op::gray(), &cfg1, &Control::new())
            .unwrap()
            .image
            .into_gray8()
            .unwrap(),
    );
    let mp = rgb.megapixels();
    println!(
        "tessera, {path}: {}x{} ({mp:.1} MP)",
        rgb.width(),
        rgb.height()
    );
    let base = OpSettings::default();
    let ops: Vec<(&str, OpSettings)> = vec![
        (
            "gray",
            OpSettings {
                op: OpKind::Gray,
                ..base
            },
        ),
        (
            "threshold",
            OpSettings {
                op: OpKind::Threshold,
                ..base
            },
        ),
        (
            "otsu",
            OpSettings {
                op: OpKind::Otsu,
                ..base
            },
        ),
        (
            "triangle",
            OpSettings {
                op: OpKind::Triangle,
                ..base
            },
        ),
        (
            "adaptive-mean-11",
            OpSettings {
                op: OpKind::AdaptiveMean,
                block_size: 11,
                ..base
            },
        ),
        (
            "adaptive-mean-51",
            OpSettings {
                op: OpKind::AdaptiveMean,
                block_size: 51,
                ..base
            },
        ),
        (
            "adaptive-gaussian-11",
            OpSettings {
                op: OpKind::AdaptiveGaussian,
                block_size: 11,
                ..base
            },
        ),
        (
            "adaptive-gaussian-51",
            OpSettings {
                op: OpKind::AdaptiveGaussian,
                block_size: 51,
                ..base
            },
        ),
    ];
    for &w in &workers {
        let cfg = JobConfig { workers: w, tile };
        for (name, s) in &ops {
            if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
                continue;
            }
            let op = s.to_op().unwrap();
            let src = if s.op == OpKind::Gray { &rgb } else { &gray };
            job::run(src, &op, &cfg, &Control::new()).unwrap();
            let mut ts: Vec<f64> = (0..repeats)
                .map(|_| {
                    let t0 = Instant::now();
                    let out = job::run(src, &op, &cfg, &Control::new()).unwrap();
                    let dt = t0.elapsed().as_secs_f64();
                    drop(out);
                    dt
                })
                .collect();
            ts.sort_by(f64::total_cmp);
            let ms = ts[ts.len() / 2] * 1e3;
            let min = ts[0] * 1e3;
            println!(
                "workers={w:<2} {name:<22} {ms:9.2} ms {:9.1} MP/s   (min {min:.2} ms)",
                mp / (ms / 1e3)
            );
        }
    }
}
