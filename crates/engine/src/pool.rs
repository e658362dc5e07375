//! Worker pools: one rayon pool per worker count, built on first use and reused, so a job runs
//! on exactly the number of threads asked for and pool start-up is measured apart from the
//! work.
//!
//! The shared pools ([`WorkerPool::shared`]) live in a small cache that keeps the
//! [`SHARED_POOLS`] most recently used worker counts: asking for many counts (a window whose
//! worker slider moves) does not keep a pool of threads alive for each. A pool is handed out
//! as an `Arc`: evicting it from the cache never tears it down under a job that still uses
//! it; its threads end when its last user drops it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::error::EngineError;

/// The most workers a job may ask for.
pub const MAX_WORKERS: usize = 256;

/// How many shared pools (worker counts) the cache of [`WorkerPool::shared`] keeps.
pub const SHARED_POOLS: usize = 4;

/// How long a pool thread that helped a [`WorkerPool::for_each`] keeps watching for the next
/// one before it goes back to rayon (and soon to sleep). Waking a sleeping thread takes tens
/// of microseconds on a VM, a large part of a job of a fraction of a millisecond, and a job
/// usually comes in stages back to back (gray, histogram, threshold). OpenCV's pool threads
/// wait actively between jobs in the same way.
pub const LINGER: Duration = Duration::from_micros(200);

/// A pool of exactly `workers` threads.
pub struct WorkerPool {
    workers: usize,
    pool: rayon::ThreadPool,
    created_in: Duration,
    current: Arc<Current>,
}

/// The pool's latest [`WorkerPool::for_each`], for helpers that linger after the previous one.
#[derive(Default)]
struct Current {
    /// Bumped each time `job` changes.
    epoch: AtomicU64,
    job: Mutex<Option<Arc<Fanout>>>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers)
            .field("created_in", &self.created_in)
            .finish()
    }
}

impl WorkerPool {
    /// Builds a new pool (not cached). Threads are named `tessera-worker-N`.
    pub fn build(workers: usize) -> Result<WorkerPool, EngineError> {
        check_workers(workers)?;
        let t0 = Instant::now();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("tessera-worker-{i}"))
            .build()
            .map_err(|e| EngineError::Pool {
                workers,
                reason: e.to_string(),
            })?;
        // Make sure every thread has started before measuring the pool as built.
        pool.broadcast(|_| ());
        Ok(WorkerPool {
            workers,
            pool,
            created_in: t0.elapsed(),
            current: Arc::default(),
        })
    }

    /// The shared pool for this worker count: from the cache of the [`SHARED_POOLS`] most
    /// recently used counts, or built (and cached, evicting the least recently used).
    pub fn shared(workers: usize) -> Result<Arc<WorkerPool>, EngineError> {
        static POOLS: OnceLock<PoolCache> = OnceLock::new();
        POOLS
            .get_or_init(|| PoolCache::new(SHARED_POOLS))
            .get(workers)
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// How long building the pool took (thread start-up included).
    pub fn created_in(&self) -> Duration {
        self.created_in
    }

    /// Runs `f` inside the pool: rayon parallel iterators in `f` use exactly these workers.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Runs `f(worker, i)` for every item `i` in `0..n` on at most [`workers`](Self::workers)
    /// workers, and returns once every item that started has finished.
    ///
    /// The calling thread is worker 0 and starts on the items at once; up to `workers - 1`
    /// threads of the pool join it as they wake (`worker` numbers them `1..workers`), and a
    /// thread that helped stays awake for [`LINGER`] to join the next call at once. Items are
    /// handed out in order, one at a time, from a shared counter. This is the fork-join of
    /// OpenCV's `parallel_for_` rather than rayon's `install`: the caller never sleeps while the
    /// pool works, so a job of a fraction of a millisecond does not pay two thread hand-offs
    /// (on the 2-core VM the 8 MP fixed threshold took 0.76 ms through `install` and 0.68 ms on
    /// the calling thread alone), and a pool thread that wakes after the work is done does not
    /// hold the caller up.
    ///
    /// The first `Err` stops the handing out of items and is returned; a panic in `f` is
    /// re-raised on the calling thread once every worker is out of `f`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use tessera_engine::pool::WorkerPool;
    /// let pool = WorkerPool::build(3).unwrap();
    /// let sum = AtomicUsize::new(0);
    /// pool.for_each(100, |worker, i| {
    ///     assert!(worker < 3);
    ///     sum.fetch_add(i, Ordering::Relaxed);
    ///     Ok::<(), ()>(())
    /// })
    /// .unwrap();
    /// assert_eq!(sum.into_inner(), 4950);
    /// ```
    pub fn for_each<E: Send>(
        &self,
        n: usize,
        f: impl Fn(usize, usize) -> Result<(), E> + Sync,
    ) -> Result<(), E> {
        let first_err: Mutex<Option<E>> = Mutex::new(None);
        let stop = AtomicBool::new(false);
        let task = |worker: usize, i: usize| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = f(worker, i) {
                stop.store(true, Ordering::Relaxed);
                first_err
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
            }
        };
        let helpers = self.workers.min(n).saturating_sub(1);
        if helpers == 0 {
            (0..n).for_each(|i| task(0, i));
        } else {
            fan_out(&self.pool, &self.current, n, helpers, &task);
        }
        match first_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The closure of one [`WorkerPool::for_each`], its lifetime erased: it is called only by a
/// helper registered in [`Fanout::state`] while the job is open, and the caller closes the job
/// and waits for every registered helper to leave before the closure goes away.
struct TaskPtr(*const (dyn Fn(usize, usize) + Sync));

// SAFETY: the pointee is `Sync`, and it is only dereferenced under the protocol above.
unsafe impl Send for TaskPtr {}
// SAFETY: as above.
unsafe impl Sync for TaskPtr {}

/// Set in [`Fanout::state`] once the caller has seen every item handed out.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// The state one [`WorkerPool::for_each`] shares with the pool threads that help it. Helpers
/// hold it by `Arc`, so one that wakes after the job has returned only reads `state` and
/// leaves.
struct Fanout {
    /// The next item to hand out.
    next: AtomicUsize,
    n: usize,
    /// `CLOSED`, plus the number of helpers inside the task.
    state: AtomicUsize,
    /// Tickets drawn by would-be helpers: the first `helpers` take part, as workers 1, 2, ...
    tickets: AtomicUsize,
    helpers: usize,
    task: TaskPtr,
    /// The calling thread, woken by the last helper to leave a closed job.
    caller: Thread,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Fanout {
    fn work(&self, worker: usize, task: &(dyn Fn(usize, usize) + Sync)) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                break;
            }
            task(worker, i);
        }
    }

    fn has_items(&self) -> bool {
        self.next.load(Ordering::Relaxed) < self.n
    }

    /// Runs on a pool thread: recruits `count - 1` more helpers (a binary fan-out, so the
    /// caller pays for one wake-up), takes part, then lingers for the pool's next job.
    fn help(self: Arc<Self>, mut count: usize, current: Arc<Current>) {
        while count > 1 && self.has_items() {
            let half = count / 2;
            let (me, cur) = (Arc::clone(&self), Arc::clone(&current));
            rayon::spawn(move || me.help(half, cur));
            count -= half;
        }
        let took_part = self.join();
        drop(self);
        if took_part {
            linger(&current);
        }
    }

    /// Takes part in this job if a ticket is left and the job is still open; works until no
    /// item is left. Whether it took part.
    fn join(&self) -> bool {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        if ticket >= self.helpers {
            return false;
        }
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & CLOSED != 0 {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // SAFETY: registered while the job was open: the caller waits for this helper to
        // leave (`state` back to `CLOSED`) before the closure is dropped.
        let task = unsafe { &*self.task.0 };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.work(ticket + 1, task))) {
            self.next.store(self.n, Ordering::Relaxed);
            self.panic
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(p);
        }
        if self.state.fetch_sub(1, Ordering::Release) == CLOSED | 1 {
            self.caller.unpark();
        }
        true
    }
}

/// Watches the pool's latest job for [`LINGER`] after taking part in one, and joins each new
/// one it sees (the watch restarts after each).
fn linger(current: &Current) {
    let mut seen = current.epoch.load(Ordering::Acquire);
    let mut t0 = Instant::now();
    while t0.elapsed() < LINGER {
        std::hint::spin_loop();
        let epoch = current.epoch.load(Ordering::Acquire);
        if epoch == seen {
            continue;
        }
        seen = epoch;
        let job = current
            .job
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if job.is_some_and(|job| job.join()) {
            t0 = Instant::now();
        }
    }
}

/// [`WorkerPool::for_each`] with `helpers >= 1` pool threads.
fn fan_out(
    pool: &rayon::ThreadPool,
    current: &Arc<Current>,
    n: usize,
    helpers: usize,
    task: &(dyn Fn(usize, usize) + Sync),
) {
    // SAFETY: only the lifetime changes; see `TaskPtr`.
    let erased: &'static (dyn Fn(usize, usize) + Sync) = unsafe { std::mem::transmute(task) };
    let shared = Arc::new(Fanout {
        next: AtomicUsize::new(0),
        n,
        state: AtomicUsize::new(0),
        tickets: AtomicUsize::new(0),
        helpers,
        task: TaskPtr(erased),
        caller: std::thread::current(),
        panic: Mutex::new(None),
    });
    // Helpers still lingering after the previous job join from here; sleeping ones are woken.
    *current.job.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&shared));
    current.epoch.fetch_add(1, Ordering::Release);
    let (first, cur) = (Arc::clone(&shared), Arc::clone(current));
    pool.spawn(move || first.help(helpers, cur));
    let mine = catch_unwind(AssertUnwindSafe(|| shared.work(0, task)));
    if mine.is_err() {
        shared.next.store(n, Ordering::Relaxed);
    }
    // Close the job, then wait for the helpers still inside it: each is on its last item.
    shared.state.fetch_or(CLOSED, Ordering::AcqRel);
    let t0 = Instant::now();
    while shared.state.load(Ordering::Acquire) != CLOSED {
        if t0.elapsed() < Duration::from_micros(50) {
            std::hint::spin_loop();
        } else {
            std::thread::park_timeout(Duration::from_millis(1));
        }
    }
    {
        let mut job = current.job.lock().unwrap_or_else(|p| p.into_inner());
        if job.as_ref().is_some_and(|j| Arc::ptr_eq(j, &shared)) {
            *job = None;
        }
    }
    if let Err(p) = mine {
        resume_unwind(p);
    }
    let helper_panic = shared
        .panic
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(p) = helper_panic {
        resume_unwind(p);
    }
}

/// A cache of pools by worker count, bounded to `capacity` entries, least recently used
/// evicted first.
pub(crate) struct PoolCache {
    capacity: usize,
    /// Most recently used last.
    pools: Mutex<Vec<Arc<WorkerPool>>>,
}

impl PoolCache {
    pub(crate) fn new(capacity: usize) -> Self {
        PoolCache {
            capacity: capacity.max(1),
            pools: Mutex::new(Vec::with_capacity(capacity)),
        }
    }

    /// The pool for `workers`, marked as the most recently used. Two callers asking for the
    /// same count get the same pool.
    ///
    /// A new pool is built with the lock released: building waits for the new threads, and a
    /// caller on a rayon worker thread runs other jobs of its own pool while it waits — one of
    /// which may ask this cache for a pool (a test running jobs from a `par_iter` did, and
    /// deadlocked on this lock). When two callers build the same count at once, the first to
    /// come back is kept and the other's pool is dropped.
    pub(crate) fn get(&self, workers: usize) -> Result<Arc<WorkerPool>, EngineError> {
        check_workers(workers)?;
        if let Some(pool) = self.take_cached(workers) {
            return Ok(pool);
        }
        let built = Arc::new(WorkerPool::build(workers)?);
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        let pool = match pools.iter().position(|p| p.workers == workers) {
            Some(i) => pools.remove(i),
            None => built,
        };
        Ok(self.push(&mut pools, pool))
    }

    /// The cached pool for `workers`, marked as the most recently used.
    fn take_cached(&self, workers: usize) -> Option<Arc<WorkerPool>> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        let i = pools.iter().position(|p| p.workers == workers)?;
        let pool = pools.remove(i);
        Some(self.push(&mut pools, pool))
    }

    fn push(&self, pools: &mut Vec<Arc<WorkerPool>>, pool: Arc<WorkerPool>) -> Arc<WorkerPool> {
        pools.push(Arc::clone(&pool));
        if pools.len() > self.capacity {
            // Only the cache's reference goes: a user still holding it keeps the pool.
            pools.remove(0);
        }
        pool
    }

    /// The worker counts cached, least recently used first.
    #[cfg(test)]
    fn cached(&self) -> Vec<usize> {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.iter().map(|p| p.workers).collect()
    }
}

fn check_workers(workers: usize) -> Result<(), EngineError> {
    if workers == 0 || workers > MAX_WORKERS {
        return Err(EngineError::InvalidParam(format!(
            "workers must be between 1 and {MAX_WORKERS}, got {workers}"
        )));
    }
    Ok(())
}

/// The number of CPU cores available to this process (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn a_pool_runs_on_exactly_its_workers() {
        for n in [1, 2, 3] {
            let pool = WorkerPool::build(n).unwrap();
            let names: HashSet<String> = pool.install(|| {
                (0..2000)
                    .into_par_iter()
                    .map(|_| {
                        std::thread::sleep(Duration::from_micros(50));
                        std::thread::current().name().unwrap_or("").to_string()
                    })
                    .collect()
            });
            assert!(names.len() <= n, "{n} workers ran on {names:?}");
            assert!(names.iter().all(|s| s.starts_with("tessera-worker-")));
        }
    }

    /// Waits (at most 20 s, then fails) until `cond` holds.
    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let t0 = Instant::now();
        while !cond() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "timed out waiting: {what}"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn for_each_runs_every_item_once_on_at_most_its_workers_and_the_caller_is_worker_0() {
        use std::sync::atomic::AtomicU32;
        for (workers, n) in [(1, 0), (1, 57), (2, 1), (2, 300), (3, 1000), (5, 7)] {
            let pool = WorkerPool::build(workers).unwrap();
            let counts: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
            let caller = std::thread::current().id();
            let seen = Mutex::new(HashSet::new());
            pool.for_each(n, |worker, i| {
                assert!(worker < workers, "worker {worker} of {workers}");
                assert_eq!(worker == 0, std::thread::current().id() == caller);
                seen.lock().unwrap().insert(std::thread::current().id());
                counts[i].fetch_add(1, Ordering::Relaxed);
                Ok::<(), ()>(())
            })
            .unwrap();
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            assert!(seen.into_inner().unwrap().len() <= workers);
        }
    }

    #[test]
    fn for_each_helpers_join_the_caller() {
        // Item 0 waits until another item has run, which only another worker can do while
        // the first is stuck in item 0: the job finishes only if workers really join. (Which
        // worker gets item 0 is not fixed: a woken helper may preempt the caller.)
        let pool = WorkerPool::build(3).unwrap();
        let others = AtomicUsize::new(0);
        let workers = Mutex::new(HashSet::new());
        pool.for_each(64, |worker, i| {
            workers.lock().unwrap().insert(worker);
            if i == 0 {
                wait_until("a second worker", || others.load(Ordering::Relaxed) > 0);
            } else {
                others.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        let workers = workers.into_inner().unwrap();
        assert!(workers.len() >= 2, "{workers:?}");
    }

    #[test]
    fn for_each_stops_at_the_first_error_and_returns_it() {
        let pool = WorkerPool::build(1).unwrap();
        let ran = AtomicUsize::new(0);
        let r = pool.for_each(100, |_, i| {
            ran.fetch_add(1, Ordering::Relaxed);
            if i == 9 {
                Err(format!("item {i}"))
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err("item 9".to_string()));
        assert_eq!(ran.into_inner(), 10);
        // With helpers, the items after the error are not all run either.
        let pool = WorkerPool::build(3).unwrap();
        let ran = AtomicUsize::new(0);
        let r = pool.for_each(10_000, |_, i| {
            ran.fetch_add(1, Ordering::Relaxed);
            if i == 0 { Err("first") } else { Ok(()) }
        });
        assert_eq!(r, Err("first"));
        assert!(ran.into_inner() < 10_000);
    }

    #[test]
    fn a_panic_in_for_each_reaches_the_caller_and_the_pool_still_works() {
        let pool = WorkerPool::build(2).unwrap();
        for (panicking_worker, ran_items) in [(0, true), (1, true), (0, false), (1, false)] {
            // The item a worker panics in: its first, or one after other workers had items.
            let ran = AtomicUsize::new(0);
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                pool.for_each(1000, |worker, _| {
                    let before = ran.fetch_add(1, Ordering::Relaxed);
                    if worker == panicking_worker && (ran_items || before == 0) {
                        panic!("boom in worker {worker}");
                    }
                    std::thread::yield_now();
                    Ok::<(), ()>(())
                })
            }));
            match r {
                Err(p) => {
                    let msg = p.downcast_ref::<String>().cloned().unwrap_or_default();
                    assert_eq!(msg, format!("boom in worker {panicking_worker}"));
                }
                // Possible only if that worker ran no item: the caller may be preempted by
                // the helper it woke, or the helper may wake after the last item.
                Ok(r) => {
                    r.unwrap();
                    assert!(ran.load(Ordering::Relaxed) == 1000 || !ran_items);
                }
            }
        }
        let sum = AtomicUsize::new(0);
        pool.for_each(100, |_, i| {
            sum.fetch_add(i, Ordering::Relaxed);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(sum.into_inner(), 4950);
    }

    /// Many short jobs borrowing the caller's stack, back to back: helpers that wake after a
    /// job has returned must not touch it (a use after free here crashes or corrupts sums),
    /// and helpers lingering from one job join the next without ever making more than 4
    /// workers.
    #[test]
    fn for_each_survives_many_short_jobs_and_late_helpers() {
        let pool = WorkerPool::build(4).unwrap();
        let mut helped = 0;
        for round in 0..3000usize {
            let data: Vec<usize> = (0..8).map(|i| i + round).collect();
            let sum = AtomicUsize::new(0);
            let workers = Mutex::new(HashSet::new());
            pool.for_each(data.len(), |worker, i| {
                assert!(worker < 4, "worker {worker}");
                workers.lock().unwrap().insert(worker);
                sum.fetch_add(data[i], Ordering::Relaxed);
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(sum.into_inner(), 28 + 8 * round);
            helped += usize::from(workers.into_inner().unwrap().len() > 1);
        }
        // Not asserted (a loaded machine may run every job on the caller alone), but shown.
        println!("{helped} of 3000 jobs had a helper");
    }

    #[test]
    fn for_each_from_inside_its_own_pool_does_not_deadlock() {
        let pool = WorkerPool::build(2).unwrap();
        let total: usize = pool.install(|| {
            (0..8usize)
                .into_par_iter()
                .map(|_| {
                    let sum = AtomicUsize::new(0);
                    pool.for_each(50, |_, i| {
                        sum.fetch_add(i, Ordering::Relaxed);
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                    sum.into_inner()
                })
                .sum()
        });
        assert_eq!(total, 8 * 1225);
    }

    #[test]
    fn zero_or_too_many_workers_is_a_usage_error() {
        assert!(WorkerPool::build(0).unwrap_err().is_usage());
        assert!(WorkerPool::shared(MAX_WORKERS + 1).unwrap_err().is_usage());
    }

    #[test]
    fn the_cache_keeps_at_most_its_bound_and_never_tears_down_a_pool_in_use() {
        let cache = PoolCache::new(3);
        let first = cache.get(1).unwrap();
        for w in 2..=9 {
            cache.get(w).unwrap();
            assert!(cache.cached().len() <= 3, "{:?}", cache.cached());
        }
        assert_eq!(cache.cached(), vec![7, 8, 9]);
        // Evicted from the cache, the pool still works for the one who holds it.
        let sum: usize = first.install(|| (0..100usize).into_par_iter().sum());
        assert_eq!(sum, 4950);
        assert_eq!(Arc::strong_count(&first), 1);
        // Using a pool makes it the most recent: 7 stays, 8 goes.
        let seven = cache.get(7).unwrap();
        cache.get(10).unwrap();
        assert_eq!(cache.cached(), vec![9, 7, 10]);
        assert!(Arc::ptr_eq(&seven, &cache.get(7).unwrap()));
        assert!(cache.get(0).unwrap_err().is_usage());
    }

    #[test]
    fn shared_pools_are_reused() {
        let a = WorkerPool::shared(2).unwrap();
        let b = WorkerPool::shared(2).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    /// Jobs started from the tasks of another rayon pool, each asking the cache for pools it
    /// has not built yet: building waits for the new threads, during which a rayon worker runs
    /// other tasks that ask the cache again. This deadlocked while the cache held its lock
    /// across the build.
    #[test]
    fn pools_asked_for_from_inside_another_pool_do_not_deadlock() {
        use rayon::prelude::*;
        let cache = PoolCache::new(3);
        let outer = WorkerPool::build(3).unwrap();
        let counts: Vec<usize> = outer.install(|| {
            (0..48usize)
                .into_par_iter()
                .map(|i| {
                    let pool = cache.get(1 + i % 6).unwrap();
                    pool.install(|| (0..4).into_par_iter().map(|_| 1usize).sum::<usize>())
                })
                .collect()
        });
        assert_eq!(counts, vec![4; 48]);
        assert!(cache.cached().len() <= 3);
    }
}
