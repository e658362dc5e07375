//! Compute time of each op on the real 8 MP photo (`../shared/peers/photo_8mp.jpg`, or a
//! synthetic 3840×2160 image when it is absent), at 1 and 2 workers, with imageproc — what
//! Rust users reach for today — as a baseline beside us.
//!
//! `cargo bench --bench ops`; compare with OpenCV using `scripts/compare_opencv.sh`.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::source::SourceImage;
use tessera_engine::tile::TileSize;

fn photo() -> SourceImage {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/photo_8mp.jpg");
    read_image(&p, DecodeLimits::default()).unwrap_or_else(|_| {
        SourceImage::rgb(image::RgbImage::from_fn(3840, 2160, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 253) as u8])
        }))
    })
}

fn cases() -> Vec<(String, OpSettings)> {
    let base = OpSettings::default();
    let mut v = vec![
        (
            "gray".to_string(),
            OpSettings {
                op: OpKind::Gray,
                ..base
            },
        ),
        (
            "threshold".into(),
            OpSettings {
                op: OpKind::Threshold,
                ..base
            },
        ),
        (
            "otsu".into(),
            OpSettings {
                op: OpKind::Otsu,
                ..base
            },
        ),
        (
            "triangle".into(),
            OpSettings {
                op: OpKind::Triangle,
                ..base
            },
        ),
    ];
    for b in [11, 51] {
        v.push((
            format!("adaptive-mean-{b}"),
            OpSettings {
                op: OpKind::AdaptiveMean,
                block_size: b,
                ..base
            },
        ));
        v.push((
            format!("adaptive-gaussian-{b}"),
            OpSettings {
                op: OpKind::AdaptiveGaussian,
                block_size: b,
                ..base
            },
        ));
    }
    v
}

fn bench_ops(c: &mut Criterion) {
    let rgb = photo();
    let gray_img = {
        let op = OpSettings {
            op: OpKind::Gray,
            ..OpSettings::default()
        }
        .to_op()
        .unwrap();
        job::run(
            &rgb,
            &op,
            &JobConfig {
                workers: 1,
                tile: TileSize::Auto,
            },
            &Control::new(),
        )
        .unwrap()
        .image
        .into_gray8()
        .unwrap()
    };
    let gray = SourceImage::gray(gray_img.clone());
    let mut g = c.benchmark_group("ops");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for (name, s) in cases() {
        let op = s.to_op().unwrap();
        // As OpenCV is timed: gray from the RGB image, every other op from the gray image.
        let src = if s.op == OpKind::Gray { &rgb } else { &gray };
        for workers in [1, 2] {
            let cfg = JobConfig {
                workers,
                tile: TileSize::Auto,
            };
            g.bench_with_input(BenchmarkId::new(&name, workers), &cfg, |b, cfg| {
                b.iter(|| job::run(src, &op, cfg, &Control::new()).unwrap())
            });
        }
    }
    // imageproc 0.27 (1 thread for these calls), as a baseline. Its adaptive threshold has
    // different semantics (clipped window, floored mean) and no Gaussian.
    g.bench_function("imageproc/adaptive-mean-11(radius 5)", |b| {
        b.iter(|| imageproc::contrast::adaptive_threshold(&gray_img, 5, 2))
    });
    g.bench_function("imageproc/otsu", |b| {
        b.iter(|| {
            let level = imageproc::contrast::otsu_level(&gray_img);
            imageproc::contrast::threshold(
                &gray_img,
                level,
                imageproc::contrast::ThresholdType::Binary,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_ops);
criterion_main!(benches);
