use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, Weak};

use super::stats::{fit_amdahl, median, quantile};
use super::*;
use crate::pool::MAX_WORKERS;

/// A workload with known timings: `T(N) = t1 · (f + (1 − f) / min(N, cores))`, times
/// `1 + jitter · round-dependent factor`; it records the order of its calls. Its items split
/// the parallel part evenly over the workers (worker 0 also does the serial part).
struct Fake {
    t1: f64,
    f: f64,
    cores: usize,
    /// Per tile size: a multiplier of the time.
    tile_factor: fn(TileSize) -> f64,
    /// Relative jitter per call, cycling.
    jitter: Vec<f64>,
    calls: Mutex<Vec<(usize, TileSize)>>,
    /// Cancels the sweep (through the job control it is given) after this many calls.
    cancel_after: Option<usize>,
}

impl Fake {
    fn new(t1: f64, f: f64, cores: usize) -> Self {
        Fake {
            t1,
            f,
            cores,
            tile_factor: |_| 1.0,
            jitter: vec![0.0],
            calls: Mutex::new(Vec::new()),
            cancel_after: None,
        }
    }
    fn time(&self, workers: usize, tile: TileSize) -> f64 {
        let n = workers.min(self.cores) as f64;
        self.t1 * (self.f + (1.0 - self.f) / n) * (self.tile_factor)(tile)
    }
}

impl Workload for Fake {
    fn info(&self) -> WorkloadInfo {
        WorkloadInfo {
            kind: "image".into(),
            name: "fake".into(),
            width: Some(1000),
            height: Some(1000),
            images: 1,
            megapixels: 1.0,
            op: OpSettings::default(),
            op_description: "fake".into(),
            bytes_per_pixel: None,
        }
    }

    fn run_once(
        &self,
        pool: &WorkerPool,
        tile: TileSize,
        ctl: &Control,
    ) -> Result<RunSample, EngineError> {
        let mut calls = self.calls.lock().unwrap();
        let j = self.jitter[calls.len() % self.jitter.len()];
        calls.push((pool.workers(), tile));
        if self.cancel_after == Some(calls.len()) {
            ctl.cancel();
        }
        let w = pool.workers();
        let wall = self.time(w, tile) * (1.0 + j);
        let serial = self.t1 * self.f;
        let share = (wall - serial) / 1.0;
        let mut items = vec![ItemRecord {
            worker: 0,
            index: 0,
            label: "serial".into(),
            start_s: 0.0,
            end_s: serial,
        }];
        for k in 0..w {
            items.push(ItemRecord {
                worker: k,
                index: k + 1,
                label: "op".into(),
                start_s: serial,
                end_s: serial + share,
            });
        }
        Ok(RunSample {
            wall: Duration::from_secs_f64(wall),
            megapixels: 1.0,
            tile_shape: "fake".into(),
            items,
        })
    }
}

fn cfg(workers: &[usize], tiles: &[TileSize], repeats: usize, warmup: usize) -> SweepConfig {
    SweepConfig {
        workers: workers.to_vec(),
        tiles: tiles.to_vec(),
        repeats,
        warmup,
    }
}

const T64: TileSize = TileSize::Square(64);
const T256: TileSize = TileSize::Square(256);

#[test]
fn plan_interleaves_configurations_after_warm_up() {
    let c = cfg(&[1, 2, 4], &[TileSize::Auto], 3, 1);
    let order: Vec<(usize, bool)> = c.plan().iter().map(|p| (p.config, p.warmup)).collect();
    assert_eq!(
        order,
        vec![
            (0, true),
            (1, true),
            (2, true),
            (0, false),
            (1, false),
            (2, false),
            (1, false),
            (2, false),
            (0, false),
            (2, false),
            (0, false),
            (1, false),
        ]
    );
    assert_eq!(c.total_runs(), 12);
}

#[test]
fn configs_are_normalized_tile_major() {
    let c = cfg(&[4, 1, 2, 2], &[T256, T64, TileSize::Auto, T64], 1, 0).normalized();
    assert_eq!(c.workers, vec![1, 2, 4]);
    assert_eq!(c.tiles, vec![TileSize::Auto, T64, T256]);
    let keys = c.configs();
    assert_eq!(keys.len(), 9);
    assert_eq!(
        keys[3],
        ConfigKey {
            workers: 1,
            tile: T64
        }
    );
}

#[test]
fn bad_configs_are_usage_errors() {
    for c in [
        cfg(&[], &[T64], 1, 0),
        cfg(&[0, 1], &[T64], 1, 0),
        cfg(&[MAX_WORKERS + 1], &[T64], 1, 0),
        cfg(&[1], &[], 1, 0),
        cfg(&[1], &[TileSize::Square(0)], 1, 0),
        cfg(&[1], &[T64], 0, 0),
        cfg(&[1], &[T64], 1, MAX_REPEATS + 1),
    ] {
        let e = run(&Fake::new(1.0, 0.0, 2), &c, &Control::new()).unwrap_err();
        assert!(e.is_usage(), "{c:?}: {e}");
    }
}

#[test]
fn sweep_runs_every_configuration_in_plan_order_on_its_pool() {
    let fake = Fake::new(1.0, 0.1, 2);
    let notified = Arc::new(AtomicUsize::new(0));
    let n2 = notified.clone();
    let ctl = Control::with_notify(move || {
        n2.fetch_add(1, Ordering::Relaxed);
    });
    let c = cfg(&[1, 2, 3], &[T64, T256], 2, 1);
    let r = run_with_cores(&fake, &c, &ctl, 2).unwrap();
    let plan = c.normalized().plan();
    assert_eq!(r.runs.len(), plan.len());
    assert_eq!(ctl.runs(), (18, 18));
    // One notify as the sweep starts running, one per run, one as it finishes.
    assert_eq!(notified.load(Ordering::Relaxed), 1 + 18 + 1);
    assert_eq!(ctl.phase(), Phase::Finished);
    let calls = fake.calls.lock().unwrap().clone();
    for ((run, p), call) in r.runs.iter().zip(&plan).zip(&calls) {
        let key = r.configs[p.config];
        assert_eq!(
            (run.config, run.warmup, run.round),
            (p.config, p.warmup, p.round)
        );
        assert_eq!(
            (run.workers, key.tile.to_string()),
            (key.workers, run.tile.clone())
        );
        assert_eq!(
            *call,
            (key.workers, key.tile),
            "ran on the pool of its config"
        );
        assert_eq!(
            run.items.is_empty(),
            run.warmup,
            "items kept for measured runs"
        );
    }
    assert_eq!(r.measured().count(), 12);
    assert_eq!(
        r.pools.iter().map(|p| p.workers).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(r.pools.iter().all(|p| p.created_s > 0.0));
    assert!(r.date.ends_with('Z') && r.date.len() == 20, "{}", r.date);
    let last = r.last_run(0).unwrap();
    assert_eq!((last.round, last.config), (1, 0));
}

#[test]
fn derived_figures_from_known_timings() {
    // T1 = 2 s, f = 0.25, 2 cores; tile 256 is 10% slower. Jitter per call cycles so each
    // configuration sees +0%, +10%, -10% over its three rounds in some order.
    let mut fake = Fake::new(2.0, 0.25, 2);
    fake.tile_factor = |t| if t == T256 { 1.1 } else { 1.0 };
    // 6 configs per round, 3 rounds, 1 warm-up round: 24 calls. Jitter by round.
    fake.jitter = [vec![0.0; 6], vec![0.0; 6], vec![0.1; 6], vec![-0.1; 6]].concat();
    let r = run_with_cores(
        &fake,
        &cfg(&[1, 2, 4], &[T64, T256], 3, 1),
        &Control::new(),
        2,
    )
    .unwrap();
    let s = summarize(&r);
    assert_eq!(s.rows.len(), 6);
    let row = |w: usize, t: &str| {
        s.rows
            .iter()
            .find(|r| r.workers == w && r.tile == t)
            .unwrap()
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;

    // 1 worker, tile 64: times 2.0, 2.2, 1.8.
    let r1 = row(1, "64");
    assert!(close(r1.median_s, 2.0) && close(r1.min_s, 1.8) && close(r1.max_s, 2.2));
    assert!(close(r1.q1_s, 1.9) && close(r1.q3_s, 2.1));
    assert_eq!(r1.runs, 3);
    assert!(close(r1.speedup, 1.0) && close(r1.efficiency, 1.0));
    assert!(close(r1.mp_per_s, 0.5));
    // 2 workers: 2 * (0.25 + 0.375) = 1.25 → speedup 1.6, efficiency 0.8.
    let r2 = row(2, "64");
    assert!(close(r2.median_s, 1.25) && close(r2.speedup, 1.6) && close(r2.efficiency, 0.8));
    assert!(!r2.oversubscribed);
    // 4 workers on 2 cores: same time as 2, efficiency halves, marked.
    let r4 = row(4, "64");
    assert!(close(r4.speedup, 1.6) && close(r4.efficiency, 0.4));
    assert!(r4.oversubscribed && s.oversubscribed());
    // The table's cells, as `tessera bench` prints them and the lab shows them.
    let cells = r2.table_cells();
    assert_eq!(cells.len(), TABLE_COLUMNS.len());
    assert_eq!(
        [&cells[0], &cells[2], &cells[5], &cells[6]],
        ["2", "1250.00", "1.60x", "80%"]
    );
    assert_eq!(r4.table_cells()[0], "4*");
    // Tile 256 is 10% slower everywhere: same speedups, its own baseline.
    assert!(close(row(1, "256").median_s, 2.2) && close(row(2, "256").speedup, 1.6));
    assert_eq!(s.baselines.len(), 2);
    assert!(s.baselines.iter().all(|b| b.workers == 1));
    // The Amdahl fit uses 1 and 2 workers only (4 > cores) and recovers f exactly.
    let fit = s.fit("64").unwrap();
    assert_eq!(fit.fitted_workers, vec![1, 2]);
    assert!(close(fit.serial_fraction, 0.25), "{fit:?}");
    assert!(close(fit.max_speedup, 4.0));
    assert!(close(fit.speedup(2.0, 1), 1.6));
}

#[test]
fn the_summary_timeline_is_a_median_run_of_the_most_workers_that_fit() {
    // Same fake as above: 2 cores, workers 1, 2, 4; jitter +0, +10%, -10% by round.
    let mut fake = Fake::new(2.0, 0.25, 2);
    fake.jitter = [vec![0.0; 3], vec![0.0; 3], vec![0.1; 3], vec![-0.1; 3]].concat();
    let r = run_with_cores(&fake, &cfg(&[1, 2, 4], &[T64], 3, 1), &Control::new(), 2).unwrap();
    let t = r.timeline_run().unwrap();
    // 4 workers exceed the 2 cores: the 2-worker configuration, its middle run (1.25 s).
    assert_eq!(t.workers, 2);
    assert!(!t.warmup);
    assert!((t.wall_s - 1.25).abs() < 1e-9, "{}", t.wall_s);
    // With every count over the cores, the most workers.
    let r = run_with_cores(&fake, &cfg(&[4, 8], &[T64], 1, 0), &Control::new(), 2).unwrap();
    assert_eq!(r.timeline_run().unwrap().workers, 8);
}

#[test]
fn parallelism_and_imbalance_from_items() {
    let run = RunRecord {
        seq: 0,
        config: 0,
        workers: 3,
        tile: "64".into(),
        tile_shape: "64x64".into(),
        round: 0,
        warmup: false,
        wall_s: 3.0,
        busy_s: 4.0,
        megapixels: 1.0,
        mp_per_s: 1.0 / 3.0,
        items: vec![
            ItemRecord {
                worker: 0,
                index: 0,
                label: "op".into(),
                start_s: 0.0,
                end_s: 3.0,
            },
            ItemRecord {
                worker: 1,
                index: 1,
                label: "op".into(),
                start_s: 0.5,
                end_s: 1.5,
            },
        ],
    };
    // Worker 2 never ran anything: busy [3, 1, 0], mean 4/3, max 3.
    assert_eq!(run.worker_busy(), vec![3.0, 1.0, 0.0]);
    assert!((run.imbalance() - 9.0 / 4.0).abs() < 1e-12);
    assert!((run.parallelism() - 4.0 / 3.0).abs() < 1e-12);
}

#[test]
fn baseline_is_the_smallest_worker_count_without_one_worker() {
    let fake = Fake::new(1.0, 0.0, 8);
    let r = run_with_cores(&fake, &cfg(&[2, 4], &[T64], 1, 0), &Control::new(), 8).unwrap();
    let s = summarize(&r);
    assert_eq!(s.baselines[0].workers, 2);
    let r4 = &s.rows[1];
    assert_eq!((r4.workers, r4.baseline_workers), (4, 2));
    assert!((r4.speedup - 2.0).abs() < 1e-9);
    assert!((r4.efficiency - 1.0).abs() < 1e-9);
    assert!(s.fit("64").unwrap().serial_fraction.abs() < 1e-9);
}

#[test]
fn amdahl_fit_recovers_known_serial_fractions() {
    for f in [0.0, 0.05, 0.3, 0.9] {
        let pts: Vec<(usize, f64)> = (1..=16)
            .map(|n| (n, 3.0 * (f + (1.0 - f) / n as f64)))
            .collect();
        let (a, c) = fit_amdahl(&pts).unwrap();
        assert!((a / (a + c) - f).abs() < 1e-9, "f {f}: a {a} c {c}");
        assert!((a + c - 3.0).abs() < 1e-9);
    }
    // With ±3% deterministic noise the fraction is still close.
    let noise = [0.03, -0.02, 0.01, -0.03, 0.02, 0.0, -0.01, 0.03];
    let pts: Vec<(usize, f64)> = (1..=8)
        .map(|n| (n, 10.0 * (0.2 + 0.8 / n as f64) * (1.0 + noise[n - 1])))
        .collect();
    let (a, c) = fit_amdahl(&pts).unwrap();
    assert!((a / (a + c) - 0.2).abs() < 0.03, "{}", a / (a + c));
    // No gain at all: fully serial. Superlinear: no serial part.
    let (a, c) = fit_amdahl(&[(1, 2.0), (2, 2.0), (4, 2.1)]).unwrap();
    assert_eq!((a / (a + c), c), (1.0, 0.0));
    let (a, _) = fit_amdahl(&[(1, 2.0), (2, 0.9)]).unwrap();
    assert_eq!(a, 0.0);
    // One worker count only: no fit.
    assert!(fit_amdahl(&[(1, 2.0), (1, 2.1)]).is_none());
    assert!(fit_amdahl(&[]).is_none());
}

#[test]
fn medians_and_quantiles() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    assert!(median(&[]).is_nan());
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
    assert_eq!(quantile(&[7.0], 0.75), 7.0);
}

#[test]
fn cancel_stops_the_sweep_between_runs() {
    let mut fake = Fake::new(0.001, 0.0, 2);
    fake.cancel_after = Some(3);
    let ctl = Control::new();
    let r = run_with_cores(&fake, &cfg(&[1, 2], &[T64], 1000, 0), &ctl, 2);
    assert!(matches!(r, Err(EngineError::Cancelled)), "{r:?}");
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        3,
        "no run after the cancel"
    );
    assert_eq!(ctl.runs(), (3, 2000));
    assert!(ctl.is_cancelled());

    // A real job stops within its tiles too.
    let img = image::GrayImage::from_fn(300, 200, |x, y| image::Luma([(x ^ y) as u8]));
    let work = ImageWorkload::new(
        "x",
        Arc::new(SourceImage::gray(img)),
        &OpSettings::default(),
    )
    .unwrap();
    let ctl = Control::new();
    ctl.cancel();
    let r = run(&work, &cfg(&[1], &[T64], 1, 0), &ctl);
    assert!(matches!(r, Err(EngineError::Cancelled)));
}

#[test]
fn image_workload_records_every_tile_on_its_workers() {
    let img = image::RgbImage::from_fn(70, 50, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let work = ImageWorkload::new(
        "rgb",
        Arc::new(SourceImage::rgb(img)),
        &OpSettings::default(),
    )
    .unwrap();
    let r = run(
        &work,
        &cfg(&[1, 2], &[TileSize::Square(32), TileSize::Auto], 2, 1),
        &Control::new(),
    )
    .unwrap();
    assert_eq!(r.runs.len(), 12);
    assert_eq!(r.workload.width, Some(70));
    for run in r.measured() {
        assert!(run.wall_s > 0.0 && run.busy_s > 0.0 && run.mp_per_s > 0.0);
        assert!(
            run.items
                .iter()
                .all(|i| i.worker < run.workers && i.end_s >= i.start_s)
        );
        assert!(run.items.iter().all(|i| i.end_s <= run.wall_s + 1e-9));
        if run.tile == "32" {
            // 3 x 2 tiles, gray stage and op stage.
            assert_eq!(run.tile_shape, "32x32");
            assert_eq!(run.items.len(), 12);
            assert_eq!(run.items.iter().filter(|i| i.label == "gray").count(), 6);
        }
    }
    let s = summarize(&r);
    assert!(s.rows.iter().all(|r| r.runs == 2 && r.speedup > 0.0));
    // A bad op parameter is a usage error up front.
    let bad = OpSettings {
        block_size: 4,
        ..OpSettings::default()
    };
    let src = Arc::new(SourceImage::gray(image::GrayImage::new(4, 4)));
    assert!(ImageWorkload::new("x", src, &bad).is_err_and(|e| e.is_usage()));
}

#[test]
fn csv_and_json_carry_the_documented_columns() {
    let fake = Fake::new(1.0, 0.1, 2);
    let r = run_with_cores(&fake, &cfg(&[1, 2], &[T64], 2, 0), &Control::new(), 2).unwrap();
    let s = summarize(&r);
    let csv = report::csv_string(&s).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("workers,tile,median_s,min_s,max_s,speedup,efficiency,mp_per_s,"),
        "{header}"
    );
    assert_eq!(lines.count(), 2);
    let json: serde_json::Value =
        serde_json::from_str(&report::json_string(&r, &s).unwrap()).unwrap();
    assert_eq!(json["tool"]["name"], "tessera");
    assert_eq!(json["machine"]["cores"], 2);
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
    assert_eq!(json["runs"].as_array().unwrap().len(), 4);
    assert_eq!(json["settings"]["repeats"], 2);
    assert_eq!(
        json["settings"]["workload"]["op"]["op"],
        "adaptive-gaussian"
    );
    assert!(json["runs"][0]["items"][0]["worker"].is_number());
}

#[test]
fn cpu_model_is_read_from_cpuinfo() {
    let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) CPU\n";
    assert_eq!(
        report::parse_cpu_model(x86).as_deref(),
        Some("Intel(R) Xeon(R) CPU")
    );
    assert_eq!(
        report::parse_cpu_model("Model\t: Raspberry Pi 4\n").as_deref(),
        Some("Raspberry Pi 4")
    );
    assert_eq!(report::parse_cpu_model("processor : 0\n"), None);
}

#[test]
fn cancel_reaches_a_folder_sweep_inside_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12u32 {
        let img = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 5 + y + i) as u8]));
        img.save(dir.path().join(format!("f{i:02}.png"))).unwrap();
    }
    let work = folder::FolderWorkload::new(dir.path(), false, &OpSettings::default()).unwrap();
    // The sweep's control cancels itself when the first file of the first batch is done: the
    // observer is shared with the child control each batch runs on.
    let me: Arc<OnceLock<Weak<Control>>> = Arc::new(OnceLock::new());
    let files = Arc::new(AtomicUsize::new(0));
    let ctl = {
        let (me, files) = (Arc::clone(&me), Arc::clone(&files));
        Arc::new(Control::new().with_observer(move |_| {
            files.fetch_add(1, Ordering::Relaxed);
            if let Some(c) = me.get().and_then(Weak::upgrade) {
                c.cancel();
            }
        }))
    };
    me.set(Arc::downgrade(&ctl)).unwrap();
    let r = run(&work, &cfg(&[1], &[T64], 3, 1), &ctl);
    assert!(matches!(r, Err(EngineError::Cancelled)), "{r:?}");
    // Stopped inside the first run, not after it: no run done, the other files untouched.
    assert_eq!(ctl.runs(), (0, 4));
    assert_eq!(files.load(Ordering::Relaxed), 1);
    assert_eq!(ctl.phase(), Phase::Finished);
}

mod inference_tests {
    use super::super::inference::*;
    use super::*;

    /// A normal sample (Box–Muller) from the deterministic generator.
    fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (rng.unit().max(1e-300), rng.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// On simulated samples with a known median, the 95 % bootstrap interval of the median
    /// covers it in about 95 % of the trials (percentile intervals run a little narrow with 15
    /// samples: between 88 and 99 % is accepted).
    #[test]
    fn median_intervals_cover_the_true_median() {
        let mut rng = Rng::new(42);
        let trials = 300;
        let mut covered = 0;
        for t in 0..trials {
            let v: Vec<f64> = (0..15).map(|_| normal(&mut rng, 1.0, 0.1)).collect();
            let (lo, hi) = bootstrap_ci(&v, median, 1000 + t);
            assert!(lo <= median(&v) && median(&v) <= hi);
            covered += usize::from(lo <= 1.0 && 1.0 <= hi);
        }
        let coverage = covered as f64 / trials as f64;
        assert!((0.88..=0.99).contains(&coverage), "coverage {coverage}");
        // Reproducible: the same samples and seed give the same interval.
        let v = [1.0, 1.2, 0.9, 1.1, 1.05];
        assert_eq!(bootstrap_ci(&v, median, 7), bootstrap_ci(&v, median, 7));
    }

    #[test]
    fn usl_recovers_known_contention_and_coherency() {
        let (sigma, kappa) = (0.05, 0.002);
        let pts: Vec<(usize, f64)> = (1..=16)
            .map(|n| (n, usl_speedup(n as f64, sigma, kappa)))
            .collect();
        let (s, k) = fit_usl(&pts).unwrap();
        assert!(
            (s - sigma).abs() < 1e-9 && (k - kappa).abs() < 1e-9,
            "{s} {k}"
        );
        // Amdahl is the USL with κ = 0.
        let amdahl: Vec<(usize, f64)> =
            (1..=8).map(|n| (n, 1.0 / (0.2 + 0.8 / n as f64))).collect();
        let (s, k) = fit_usl(&amdahl).unwrap();
        assert!((s - 0.2).abs() < 1e-9 && k.abs() < 1e-12);
    }

    #[test]
    fn karp_flatt_is_the_serial_fraction_on_an_exact_amdahl_curve() {
        for f in [0.0, 0.05, 0.3] {
            for n in 2..=32 {
                let s = 1.0 / (f + (1.0 - f) / n as f64);
                assert!((karp_flatt(n, s) - f).abs() < 1e-12, "f {f} n {n}");
            }
        }
        let pts: Vec<(usize, f64)> = (1..=8)
            .map(|n| (n, n as f64 - 0.3 * (n as f64 - 1.0)))
            .collect();
        assert!((fit_gustafson(&pts).unwrap() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn outliers_ratios_and_comparisons() {
        assert_eq!(tukey_outliers(&[1.0, 1.1, 0.9, 1.05, 0.95, 3.0]), vec![5]);
        assert!(tukey_outliers(&[1.0, 1.1, 0.9]).is_empty());
        assert!(coefficient_of_variation(&[2.0, 2.0, 2.0]) == 0.0);
        // Paired by round: round r's baseline over round r's time.
        let base = [(0, 2.0), (1, 2.2), (2, 1.8)];
        let this = [(0, 1.0), (1, 1.1), (2, 0.9)];
        let (r, lo, hi) = paired_ratio(&base, &this, 3).unwrap();
        assert!((r - 2.0).abs() < 1e-12 && (lo - 2.0).abs() < 1e-12 && (hi - 2.0).abs() < 1e-12);
        // Two sweeps: the same times are "no change"; 20 % less is "faster" for sure.
        let mut rng = Rng::new(9);
        let old: Vec<(usize, String, f64)> = (0..10)
            .map(|_| (2, "auto".into(), normal(&mut rng, 1.0, 0.02)))
            .collect();
        let same = compare(&old, &old);
        assert_eq!(same[0].verdict, "no change");
        let new: Vec<(usize, String, f64)> = old
            .iter()
            .map(|(w, t, s)| (*w, t.clone(), s * 0.8))
            .collect();
        let c = compare(&old, &new);
        assert_eq!(c[0].verdict, "faster");
        assert!(c[0].p_faster > 0.99 && (c[0].ratio - 0.8).abs() < 1e-9);
        let c = compare(&new, &old);
        assert_eq!(c[0].verdict, "slower");
    }

    /// A sweep of known timings: the verdict names the largest worker count within the
    /// cores, its paired interval, its efficiency and the predicted best; noise is flagged.
    #[test]
    fn infer_a_sweep_of_known_timings() {
        let fake = Fake::new(2.0, 0.25, 2);
        let r = run_with_cores(&fake, &cfg(&[1, 2], &[T64], 5, 0), &Control::new(), 2).unwrap();
        let s = summarize(&r);
        let inf = infer(&r, &s);
        assert_eq!(inf.rows.len(), 2);
        let two = &inf.rows[1];
        assert!((two.speedup - 1.6).abs() < 1e-9, "{two:?}");
        assert!((two.speedup_ci.0 - 1.6).abs() < 1e-9 && (two.speedup_ci.1 - 1.6).abs() < 1e-9);
        assert!(
            inf.verdict
                .starts_with("2 workers: 1.60x [1.60, 1.60], 80 % efficient"),
            "{}",
            inf.verdict
        );
        let m = &inf.models[0];
        assert!((m.amdahl_serial_fraction.unwrap() - 0.25).abs() < 1e-9);
        assert_eq!(m.karp_flatt.len(), 1);
        assert!((m.karp_flatt[0].1 - 0.25).abs() < 1e-9);
        // Noisy timings are called noisy.
        let mut noisy = Fake::new(2.0, 0.25, 2);
        noisy.jitter = vec![0.0, 0.3, -0.2, 0.25, -0.3, 0.1, 0.2];
        let r = run_with_cores(&noisy, &cfg(&[1, 2], &[T64], 6, 0), &Control::new(), 2).unwrap();
        let inf = infer(&r, &summarize(&r));
        assert!(
            inf.warnings
                .iter()
                .any(|w| w.contains("coefficient of variation")),
            "{:?}",
            inf.warnings
        );
    }
}

#[test]
fn bandwidth_is_measured_per_worker_count_and_sets_a_ceiling() {
    use super::bandwidth::{Bandwidth, ceiling_speedup, measure};
    let bws = measure(&[1, 2], 4 << 20, 1).unwrap();
    assert_eq!(
        bws.iter().map(|b| b.workers).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(
        bws.iter()
            .all(|b| b.gb_per_s > 0.0 && b.gb_per_s.is_finite())
    );
    // 10 GB/s moving 4 bytes per pixel: 2500 MP/s at most; at 100 MP/s on 1 worker, 25x.
    let b = Bandwidth {
        workers: 4,
        gb_per_s: 10.0,
    };
    assert!((ceiling_speedup(&b, 4.0, 100.0) - 25.0).abs() < 1e-9);
}
