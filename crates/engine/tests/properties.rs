//! Property tests: the tiled, parallel engine equals the naive single-threaded reference for
//! every op, image shape (1×1 and odd sizes included), tile size (smaller than the block
//! too), block size (larger than the image too) and worker count.

use image::{GrayImage, RgbImage};
use proptest::prelude::*;
use tessera_engine::Control;
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{LocalSettings, OpKind, OpSettings, ThresholdType};
use tessera_engine::reference;
use tessera_engine::source::SourceImage;
use tessera_engine::tile::TileSize;

fn source() -> impl Strategy<Value = SourceImage> {
    (1u32..40, 1u32..40, any::<bool>(), any::<u64>()).prop_map(|(w, h, rgb, seed)| {
        // A mix of smooth structure and noise, so thresholds land on both sides.
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        if rgb {
            let img = RgbImage::from_fn(w, h, |x, y| {
                let n = next();
                image::Rgb([
                    ((x * 13 + y * 7) as u64 + (n & 63)) as u8,
                    (n >> 8) as u8,
                    ((x * y) as u64 ^ (n >> 16)) as u8,
                ])
            });
            SourceImage::rgb(img)
        } else {
            let img = GrayImage::from_fn(w, h, |x, y| {
                let n = next();
                image::Luma([((x * 9 + y * 5) as u64 + (n & 31)) as u8])
            });
            SourceImage::gray(img)
        }
    })
}

fn settings() -> impl Strategy<Value = OpSettings> {
    (
        prop::sample::select(OpKind::ALL.to_vec()),
        prop::sample::select(ThresholdType::ALL.to_vec()),
        -20.0f64..280.0,
        prop::sample::select(vec![255.0, 200.0, 127.5, 0.0, -1.0, 300.0]),
        (1u32..45).prop_map(|b| 2 * b + 1),
        -20.0f64..20.0,
        (
            any::<prop::sample::Index>(),
            1u32..20,
            -1.0f64..1.0,
            0.0f64..100.0,
        ),
    )
        .prop_map(
            |(op, kind, thresh, max_value, block_size, c, (anchor, radius, k, t))| {
                let anchors = op.anchors();
                let like = (!anchors.is_empty()).then(|| *anchor.get(anchors));
                let mut s = OpSettings {
                    op,
                    kind,
                    thresh,
                    max_value,
                    block_size,
                    c,
                    like,
                    local: LocalSettings {
                        k: Some(k),
                        r: None,
                        t: Some(t),
                        radius,
                        c: Some(c.trunc()),
                        contrast: None,
                        classes: 2 + radius % 4,
                    },
                    ..OpSettings::default()
                };
                // A type the op and implementation take (only OpenCV's local methods and
                // the global ones take all five).
                let allowed = s.allowed_types();
                if !allowed.is_empty() && !allowed.contains(&s.kind) {
                    s.kind = ThresholdType::BinaryInv;
                }
                s
            },
        )
}

fn tile() -> impl Strategy<Value = TileSize> {
    prop_oneof![Just(TileSize::Auto), (1u32..50).prop_map(TileSize::Square)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn tiled_parallel_engine_equals_the_naive_reference(
        src in source(),
        s in settings(),
        tile in tile(),
        workers in 1usize..5,
    ) {
        let op = s.to_op().expect("generated settings are valid");
        let (expected, level) = reference::run(&src, &op);
        let cfg = JobConfig { workers, tile };
        let out = job::run(&src, &op, &cfg, &Control::new());
        if let Err(tessera_engine::EngineError::NoLevel { .. }) = out {
            // A global method with no level on this histogram: the reference has none either.
            prop_assert!(expected.is_empty());
            return Ok(());
        }
        let out = out.expect("job");
        prop_assert_eq!(out.level, level.map(u16::from));
        prop_assert_eq!(out.image.as_gray8().unwrap().as_raw(), &expected);
        // The same on the calling thread alone.
        let here = job::run_here(&src, &op, tile, &Control::new()).expect("job");
        prop_assert_eq!(here.image.as_gray8().unwrap().as_raw(), &expected);
    }
}

#[test]
fn every_worker_count_and_tile_size_gives_the_same_bytes_on_a_larger_image() {
    let img = GrayImage::from_fn(301, 203, |x, y| {
        image::Luma([((x * x + 3 * y * y + x * y) % 251) as u8])
    });
    let src = SourceImage::gray(img);
    for opk in OpKind::ALL {
        let s = OpSettings {
            op: opk,
            block_size: 31,
            ..OpSettings::default()
        };
        let op = s.to_op().unwrap();
        let (expected, _) = reference::run(&src, &op);
        for workers in [1, 2, 3, 8] {
            for tile in [
                TileSize::Auto,
                TileSize::Square(1),
                TileSize::Square(16),
                TileSize::Square(1000),
            ] {
                let out =
                    job::run(&src, &op, &JobConfig { workers, tile }, &Control::new()).unwrap();
                assert_eq!(
                    out.image.as_gray8().unwrap().as_raw(),
                    &expected,
                    "{opk} workers {workers} tile {tile:?}"
                );
            }
        }
    }
}

#[test]
fn progress_counts_every_tile_and_records_every_worker() {
    let src = SourceImage::gray(GrayImage::from_fn(200, 100, |x, y| {
        image::Luma([(x ^ y) as u8])
    }));
    let op = OpSettings {
        op: OpKind::Otsu,
        ..OpSettings::default()
    }
    .to_op()
    .unwrap();
    let ctl = Control::new();
    let out = job::run(
        &src,
        &op,
        &JobConfig {
            workers: 2,
            tile: TileSize::Square(20),
        },
        &ctl,
    )
    .unwrap();
    let (done, total) = ctl.tiles();
    // Otsu on gray: a histogram stage and a threshold stage over 10×5 tiles.
    assert_eq!(out.stats.tiles, 50);
    assert_eq!((done, total), (100, 100));
    assert_eq!(out.stats.records.len(), 100);
    assert!(
        out.stats
            .records
            .iter()
            .all(|r| r.worker < 2 && r.end >= r.start)
    );
    assert!(out.stats.busy() <= out.stats.compute * 2);
}

#[test]
fn a_cancelled_job_stops_and_returns_no_image() {
    let src = SourceImage::gray(GrayImage::from_fn(512, 512, |x, y| {
        image::Luma([(x + y) as u8])
    }));
    let op = OpSettings {
        block_size: 51,
        ..OpSettings::default()
    }
    .to_op()
    .unwrap();
    // Cancel from inside the job, after the first tile finishes.
    let ctl = std::sync::Arc::new(std::sync::OnceLock::<std::sync::Weak<Control>>::new());
    let ctl2 = ctl.clone();
    let control = std::sync::Arc::new(Control::with_notify(move || {
        if let Some(c) = ctl2.get().and_then(|w| w.upgrade()) {
            c.cancel();
        }
    }));
    ctl.set(std::sync::Arc::downgrade(&control)).unwrap();
    let r = job::run(
        &src,
        &op,
        &JobConfig {
            workers: 1,
            tile: TileSize::Square(16),
        },
        &control,
    );
    assert!(
        matches!(r, Err(tessera_engine::EngineError::Cancelled)),
        "{r:?}"
    );
    let (done, total) = control.tiles();
    assert_eq!(total, 32 * 32);
    assert!(done < 4, "{done} tiles ran after cancel");
}

#[test]
fn wide_gaussian_tiles_split_into_column_chunks_give_the_same_bytes() {
    // Block 101 makes the column pass work in chunks of ~486 columns: cover several.
    let img = GrayImage::from_fn(1100, 120, |x, y| {
        image::Luma([((x * 7 + y * 3 + x * y) % 253) as u8])
    });
    let src = SourceImage::gray(img);
    let op = OpSettings {
        block_size: 101,
        ..OpSettings::default()
    }
    .to_op()
    .unwrap();
    let (expected, _) = reference::run(&src, &op);
    for tile in [TileSize::Auto, TileSize::Square(700)] {
        let out = job::run(&src, &op, &JobConfig { workers: 2, tile }, &Control::new()).unwrap();
        assert_eq!(
            out.image.as_gray8().unwrap().as_raw(),
            &expected,
            "tile {tile:?}"
        );
    }
}
