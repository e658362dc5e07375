//! The batch pipeline against a tight loop, in one process: for each worker count, N threads
//! each decode + process + encode + write the next file, one after another, with nothing
//! else (no temporary file and rename, no records, no progress, no panic guard), against
//! `engine::batch::run_on` on the same files. Runs are interleaved; medians are printed.
//!
//! ```sh
//! cargo run --release --example batch_speed -- FOLDER [--workers 1,2] [--repeats 5] [--format jpg] [--json]
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tessera_engine::Control;
use tessera_engine::batch::{self, BatchConfig, OutputFormat, plan};
use tessera_engine::io::{DecodeLimits, encode_plane, read_image};
use tessera_engine::job;
use tessera_engine::ops::OpSettings;
use tessera_engine::pool::WorkerPool;
use tessera_engine::tile::TileSize;

#[derive(Serialize)]
struct Row {
    workers: usize,
    images: usize,
    megapixels: f64,
    /// Median wall time of `batch::run_on`, the final sync included.
    batch_s: f64,
    /// Median time of the final sync within it.
    sync_s: f64,
    loop_s: f64,
    batch_mp_per_s: f64,
    loop_mp_per_s: f64,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// N threads, each taking the next file: decode, process, encode straight into the output
/// file.
fn tight_loop(files: &[PathBuf], out: &Path, workers: usize, format: OutputFormat) -> f64 {
    let op = OpSettings::default().to_op().unwrap();
    let next = AtomicUsize::new(0);
    let pixels = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let ctl = Control::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let src = read_image(f, DecodeLimits::default()).unwrap();
                    pixels.fetch_add(src.width() * src.height(), Ordering::Relaxed);
                    let res = job::run_here(&src, &op, TileSize::Auto, &ctl).unwrap();
                    let name = f.file_stem().unwrap().to_string_lossy().into_owned();
                    let path = out.join(format!("{name}.{}", format.extension()));
                    // Straight into the final file (no temporary file, no rename).
                    let file = std::fs::File::create(&path).unwrap();
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                    encode_plane(&res.image, format.image_format(), &mut w).unwrap();
                    w.flush().unwrap();
                }
            });
        }
    });
    pixels.load(Ordering::Relaxed) as f64 / 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut workers = vec![1, 2];
    let mut repeats = 5;
    let mut format = OutputFormat::Jpg;
    let mut json = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--workers" => {
                workers = args
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|s| s.parse().unwrap())
                    .collect()
            }
            "--repeats" => repeats = args.next().unwrap().parse().unwrap(),
            "--format" => format = OutputFormat::from_name(&args.next().unwrap()).unwrap(),
            "--json" => json = true,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.expect("usage: batch_speed FOLDER [--workers 1,2] [--repeats 5]");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && plan::has_image_extension(p))
        .collect();
    files.sort();
    let work = tempfile::tempdir().unwrap();
    let pools: Vec<WorkerPool> = workers
        .iter()
        .map(|&n| WorkerPool::build(n).unwrap())
        .collect();
    let mut t_batch = vec![Vec::new(); workers.len()];
    let mut t_sync = vec![Vec::new(); workers.len()];
    let mut t_loop = vec![Vec::new(); workers.len()];
    let mut mp = 0.0;
    for _ in 0..repeats {
        for (k, &n) in workers.iter().enumerate() {
            let out = work.path().join(format!("loop{n}"));
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir_all(&out).unwrap();
            let t0 = Instant::now();
            mp = tight_loop(&files, &out, n, format);
            t_loop[k].push(t0.elapsed());

            let out = work.path().join(format!("batch{n}"));
            let _ = std::fs::remove_dir_all(&out);
            let cfg = BatchConfig {
                format,
                workers: n,
                ..BatchConfig::new(&dir, &out)
            };
            let t0 = Instant::now();
            let r = batch::run_on(&pools[k], &cfg, &Control::new()).unwrap();
            t_batch[k].push(t0.elapsed());
            t_sync[k].push(r.sync);
            assert_eq!(r.written, files.len(), "{:?}", r.failures);
        }
    }
    let rows: Vec<Row> = workers
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let b = median(t_batch[k].clone()).as_secs_f64();
            let l = median(t_loop[k].clone()).as_secs_f64();
            Row {
                workers: n,
                images: files.len(),
                megapixels: mp,
                batch_s: b,
                sync_s: median(t_sync[k].clone()).as_secs_f64(),
                loop_s: l,
                batch_mp_per_s: mp / b,
                loop_mp_per_s: mp / l,
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap());
    } else {
        println!(
            "{} files, {mp:.1} MP, {repeats} interleaved repeats, medians",
            files.len()
        );
        for r in &rows {
            println!(
                "{} workers: batch {:.3} s (sync {:.3} s), tight loop {:.3} s: batch at {:.0}% of the loop's throughput",
                r.workers,
                r.batch_s,
                r.sync_s,
                r.loop_s,
                r.loop_s / r.batch_s * 100.0
            );
        }
    }
}
