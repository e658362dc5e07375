//! Median compute time of the local methods on one gray image, one JSON line per
//! (method, window, workers), for `scripts/local_speed.py`, which times OpenCV contrib and doxa
//! on the same image in the same run and prints the ratios.
//!
//! usage: cargo run --release --example localbench -- GRAY_IMAGE [--workers 1,2] [--repeats 7]
//!        [--cases niblack:opencv:25,bernsen:fiji:5,...]   (window: block size, or radius for fiji)

use std::time::Instant;

use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{Anchor, Op, OpKind, OpSettings};
use tessera_engine::tile::TileSize;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut path, mut workers, mut repeats, mut cases) = (None, vec![1usize], 7usize, None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--workers" => {
                i += 1;
                workers = args[i].split(',').map(|w| w.parse().unwrap()).collect();
            }
            "--repeats" => {
                i += 1;
                repeats = args[i].parse().unwrap();
            }
            "--cases" => {
                i += 1;
                cases = Some(args[i].clone());
            }
            p => path = Some(p.to_string()),
        }
        i += 1;
    }
    let path = path.expect("usage: localbench GRAY_IMAGE [--workers 1,2] [--cases ...]");
    let src = read_image(path.as_ref(), DecodeLimits::default()).expect("read image");
    let gray = job::run(
        &src,
        &Op::gray(),
        &JobConfig {
            workers: 1,
            tile: TileSize::Auto,
        },
        &Control::new(),
    )
    .unwrap()
    .image
    .into_gray8()
    .unwrap();
    let gray = tessera_engine::SourceImage::gray(gray);
    let cases = cases.unwrap_or_else(|| {
        "niblack:opencv:25,sauvola:opencv:25,wolf:opencv:25,nick:opencv:25".to_string()
    });
    for &w in &workers {
        let cfg = JobConfig {
            workers: w,
            tile: TileSize::Auto,
        };
        for case in cases.split(',') {
            let mut it = case.split(':');
            let op: OpKind = it.next().unwrap().parse().unwrap();
            let like = it.next().filter(|s| !s.is_empty() && *s != "-");
            let size: u32 = it.next().unwrap().parse().unwrap();
            let mut s = OpSettings {
                op,
                like: like.map(|l| l.parse::<Anchor>().unwrap()),
                block_size: size,
                ..OpSettings::default()
            };
            s.local.radius = size;
            let op = s.to_op().unwrap();
            job::run(&gray, &op, &cfg, &Control::new()).unwrap();
            let mut ts: Vec<f64> = (0..repeats)
                .map(|_| {
                    let t0 = Instant::now();
                    let out = job::run(&gray, &op, &cfg, &Control::new()).unwrap();
                    let dt = t0.elapsed().as_secs_f64();
                    drop(out);
                    dt
                })
                .collect();
            ts.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{{\"case\":\"{case}\",\"workers\":{w},\"median_ms\":{:.3},\"describe\":\"{}\"}}",
                ts[ts.len() / 2] * 1e3,
                op.describe()
            );
        }
    }
}
