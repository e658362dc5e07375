//! The batch engine through its library API: cancel from another thread and from the
//! notify callback, the report's arithmetic, per-worker records.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak, mpsc};

use tessera_engine::batch::{self, BatchConfig, Outcome, Phase, Strategy};
use tessera_engine::io::{DecodeLimits, read_image};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::pool::WorkerPool;
use tessera_engine::{Control, Progress};

/// `n` generated PNGs of `w`×`h` (RGB, each different).
fn folder(dir: &Path, n: usize, w: u32, h: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let v = (x * 7 + y * 3 + i as u32 * 11) % 256;
            image::Rgb([v as u8, (v ^ y) as u8, ((x * y + i as u32) % 256) as u8])
        });
        img.save(dir.join(format!("img{i:03}.png"))).unwrap();
    }
}

/// Asserts that the output folder holds only complete results, each equal to the op run on
/// its input, and no temporary file.
fn assert_only_complete_results(cfg: &BatchConfig, report: &batch::BatchReport) {
    let op = cfg.op.to_op().unwrap();
    let mut seen = 0;
    for e in std::fs::read_dir(&cfg.output).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == batch::MANIFEST_NAME {
            continue;
        }
        assert!(
            !name.ends_with(".part") && !name.starts_with(".tessera-"),
            "temporary file left: {name}"
        );
        let input = cfg.input.join(&name);
        let got = read_image(&p, DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{name} is not a complete image: {e}"));
        let src = read_image(&input, DecodeLimits::default()).unwrap();
        let want = job::run(
            &src,
            &op,
            &JobConfig {
                workers: 1,
                ..JobConfig::default()
            },
            &Control::new(),
        )
        .unwrap();
        assert_eq!(
            got.raw(),
            want.image.as_gray8().unwrap().as_raw(),
            "{name} differs"
        );
        seen += 1;
    }
    assert_eq!(seen, report.written + report.skipped, "files on disk");
}

fn assert_consistent(r: &batch::BatchReport) {
    assert_eq!(
        r.found,
        r.written + r.skipped + r.failed + r.not_processed,
        "{r:?}"
    );
    assert_eq!(r.failures.len(), r.failed);
}

#[test]
fn cancel_from_another_thread_leaves_only_complete_files() {
    for strategy in Strategy::ALL {
        let dir = tempfile::tempdir().unwrap();
        folder(&dir.path().join("in"), 40, 160, 120);
        let cfg = BatchConfig {
            workers: 2,
            strategy,
            queue: 2,
            ..BatchConfig::new(dir.path().join("in"), dir.path().join("out"))
        };
        // The other thread waits for file events, not for time: it cancels once 5 files
        // are done (or the batch ended without them, when the channel closes).
        let (tx, rx) = mpsc::channel::<()>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let ctl = Arc::new(Control::new().with_observer({
            let tx = Arc::clone(&tx);
            move |_| {
                if let Some(tx) = &*tx.lock().unwrap() {
                    let _ = tx.send(());
                }
            }
        }));
        let watcher = {
            let ctl = Arc::clone(&ctl);
            std::thread::spawn(move || {
                for _ in rx.iter().take(5) {}
                ctl.cancel();
            })
        };
        let r = batch::run(&cfg, &ctl).unwrap();
        tx.lock().unwrap().take(); // the batch is over: the watcher ends even if it saw < 5
        watcher.join().unwrap();
        assert_consistent(&r);
        assert!(r.cancelled, "{strategy:?}: {r:?}");
        assert!(r.written >= 5 && r.not_processed > 0, "{strategy:?}: {r:?}");
        assert_eq!(ctl.phase(), Phase::Finished);
        assert_only_complete_results(&cfg, &r);

        // Re-run with skip_existing: the rest gets done, nothing is redone.
        let again = batch::run(
            &BatchConfig {
                skip_existing: true,
                ..cfg.clone()
            },
            &Control::new(),
        )
        .unwrap();
        assert_consistent(&again);
        assert!(!again.cancelled);
        assert_eq!(again.skipped, r.written);
        assert_eq!(again.written, 40 - r.written);
        assert_only_complete_results(&cfg, &again);
    }
}

#[test]
fn cancel_from_the_notify_callback_and_progress_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    folder(&dir.path().join("in"), 24, 64, 48);
    let cfg = BatchConfig {
        workers: 3,
        ..BatchConfig::new(dir.path().join("in"), dir.path().join("out"))
    };
    // The callback reaches its own control through a weak handle set after creation.
    let me: Arc<OnceLock<Weak<Control>>> = Arc::new(OnceLock::new());
    let saw_running = Arc::new(AtomicBool::new(false));
    let ctl = {
        let me = Arc::clone(&me);
        let saw = Arc::clone(&saw_running);
        Arc::new(Control::with_notify(move || {
            if let Some(c) = me.get().and_then(Weak::upgrade) {
                let p = c.progress();
                assert!(p.done <= p.found);
                assert_eq!(p.done, p.written + p.skipped + p.failed);
                if p.phase == Phase::Running && p.done >= 1 {
                    saw.store(true, Ordering::Relaxed);
                    assert!(p.eta.is_some());
                    c.cancel();
                }
            }
        }))
    };
    me.set(Arc::downgrade(&ctl)).unwrap();
    let r = batch::run(&cfg, &ctl).unwrap();
    assert!(saw_running.load(Ordering::Relaxed));
    assert_consistent(&r);
    assert!(r.cancelled && r.not_processed > 0, "{r:?}");
    // At most the files already in the workers' hands were finished after the cancel.
    assert!(r.written <= 1 + 3, "{r:?}");
    assert_only_complete_results(&cfg, &r);
    let p = ctl.progress();
    assert_eq!(p.phase, Phase::Finished);
    assert_eq!(p.written, r.written);
}

#[test]
fn cancelled_before_start_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    folder(&dir.path().join("in"), 6, 20, 20);
    let cfg = BatchConfig::new(dir.path().join("in"), dir.path().join("out"));
    let ctl = Control::new();
    ctl.cancel();
    let r = batch::run(&cfg, &ctl).unwrap();
    assert_eq!((r.found, r.written, r.not_processed), (6, 0, 6));
    assert!(r.cancelled && !r.all_ok());
    assert_eq!(std::fs::read_dir(&cfg.output).unwrap().count(), 0);
}

#[test]
fn records_name_each_worker_and_run_on_reuses_a_pool() {
    let dir = tempfile::tempdir().unwrap();
    folder(&dir.path().join("in"), 12, 50, 40);
    std::fs::write(dir.path().join("in/bad.png"), b"nope").unwrap();
    let pool = WorkerPool::build(2).unwrap();
    let cfg = BatchConfig {
        workers: 7, // the pool's count wins
        ..BatchConfig::new(dir.path().join("in"), dir.path().join("out"))
    };
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ev = Arc::clone(&events);
    let ctl = Control::new().with_observer(move |e| {
        ev.lock()
            .unwrap()
            .push((e.input.to_path_buf(), e.outcome.clone()));
    });
    for _ in 0..2 {
        events.lock().unwrap().clear();
        let r = batch::run_on(&pool, &cfg, &ctl).unwrap();
        assert_eq!(r.workers, 2);
        assert_eq!((r.found, r.written, r.failed), (13, 12, 1));
        assert!(!r.all_ok() && !r.cancelled);
        assert_eq!(r.records.len(), 13);
        assert!(r.records.iter().all(|x| x.worker < 2 && x.end >= x.start));
        assert!(r.records.windows(2).all(|w| w[0].start <= w[1].start));
        let mp: f64 = r.records.iter().map(|x| x.megapixels).sum();
        assert!((mp - r.megapixels).abs() < 1e-9 && (r.megapixels - 12.0 * 0.002).abs() < 1e-9);
        assert!(r.busy() <= r.total * 2);
        let ev = events.lock().unwrap();
        assert_eq!(ev.len(), 13);
        assert!(
            ev.iter()
                .any(|(p, o)| p.ends_with("bad.png") && matches!(o, Outcome::Failed(_)))
        );
    }
}

#[test]
fn progress_never_goes_backwards_during_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    folder(&dir.path().join("in"), 6, 64, 48);
    let cfg = BatchConfig {
        workers: 2,
        tile: tessera_engine::TileSize::Square(16),
        ..BatchConfig::new(dir.path().join("in"), dir.path().join("out"))
    };
    // Every notify (each tile, file and phase change) compares a snapshot with the last one;
    // the lock orders the snapshots.
    let me: Arc<OnceLock<Weak<Control>>> = Arc::new(OnceLock::new());
    let last: Arc<Mutex<Option<Progress>>> = Arc::new(Mutex::new(None));
    let snapshots = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ctl = {
        let (me, last, snapshots) = (Arc::clone(&me), Arc::clone(&last), Arc::clone(&snapshots));
        Arc::new(Control::with_notify(move || {
            let Some(c) = me.get().and_then(Weak::upgrade) else {
                return;
            };
            let mut last = last.lock().unwrap();
            let p = c.progress();
            if let Some(q) = *last {
                for (name, now, before) in [
                    ("tiles done", p.tiles_done, q.tiles_done),
                    ("tiles in all", p.tiles_total, q.tiles_total),
                    ("found", p.found, q.found),
                    ("done", p.done, q.done),
                    ("written", p.written, q.written),
                ] {
                    assert!(now >= before, "{name} went back: {q:?} then {p:?}");
                }
                assert!(p.megapixels >= q.megapixels && p.elapsed >= q.elapsed);
            }
            assert!(p.tiles_done <= p.tiles_total, "{p:?}");
            *last = Some(p);
            snapshots.fetch_add(1, Ordering::Relaxed);
        }))
    };
    me.set(Arc::downgrade(&ctl)).unwrap();
    let r = batch::run(&cfg, &ctl).unwrap();
    assert!(r.all_ok(), "{r:?}");
    // RGB in, adaptive threshold: a gray stage and the op, 4 × 3 tiles each, per image; the
    // counters add up over the images instead of restarting with each.
    let p = ctl.progress();
    assert_eq!((p.tiles_done, p.tiles_total), (6 * 2 * 12, 6 * 2 * 12));
    assert_eq!((p.found, p.written, p.phase), (6, 6, Phase::Finished));
    assert!(snapshots.load(Ordering::Relaxed) >= 6 * 2 * 12 + 6);
}
