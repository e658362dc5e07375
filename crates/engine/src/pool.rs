//! Worker pools: one rayon pool per worker count, built on first use and reused, so a job runs
//! on exactly the number of threads asked for and pool start-up is measured apart from the
//! work.
//!
//! The shared pools ([`WorkerPool::shared`]) live in a small cache that keeps the
//! [`SHARED_POOLS`] most recently used worker counts: asking for many counts (a window whose
//! worker slider moves) does not keep a pool of threads alive for each. A pool is handed out
//! as an `Arc`: evicting it from the cache never tears it down under a job that still uses
//! it; its threads end when its last user drops it.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::error::EngineError;

/// The most workers a job may ask for.
pub const MAX_WORKERS: usize = 256;

/// How many shared pools (worker counts) the cache of [`WorkerPool::shared`] keeps.
pub const SHARED_POOLS: usize = 4;

/// A pool of exactly `workers` threads.
pub struct WorkerPool {
    workers: usize,
    pool: rayon::ThreadPool,
    created_in: Duration,
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
