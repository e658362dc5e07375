//! Worker pools: one rayon pool per worker count, built once and reused, so a job runs on
//! exactly the number of threads asked for and pool start-up is measured apart from the work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::error::EngineError;

/// The most workers a job may ask for.
pub const MAX_WORKERS: usize = 256;

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

    /// The shared pool for this worker count, built on first use.
    pub fn shared(workers: usize) -> Result<Arc<WorkerPool>, EngineError> {
        static POOLS: OnceLock<Mutex<HashMap<usize, Arc<WorkerPool>>>> = OnceLock::new();
        check_workers(workers)?;
        let map = POOLS.get_or_init(Default::default);
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = map.get(&workers) {
            return Ok(p.clone());
        }
        let p = Arc::new(WorkerPool::build(workers)?);
        map.insert(workers, p.clone());
        Ok(p)
    }

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
    fn shared_pools_are_reused() {
        let a = WorkerPool::shared(2).unwrap();
        let b = WorkerPool::shared(2).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
