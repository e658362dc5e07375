//! One memory budget shared by every image in flight: a batch of N workers holds at most
//! `total` bytes of pixels at once, not N times a per-image limit.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::control::Control;

/// A memory budget in bytes, shared by the images in flight (a batch's workers, its reader).
///
/// Each image asks for the memory its whole job will hold (decode buffer, any EXIF rotation
/// copy, gray plane, result; see [`job_bytes`](super::job_bytes)) once its header is known
/// and before its pixels are decoded. It waits while the images already admitted hold too
/// much, and is refused outright if it alone needs more than the total. The memory is given
/// back when the [`Permit`] is dropped, after the result is written.
///
/// ```
/// use tessera_engine::io::MemoryBudget;
/// let budget = MemoryBudget::new(100);
/// let a = budget.acquire(60, None).unwrap();
/// assert_eq!(budget.in_use(), 60);
/// assert!(budget.acquire(101, None).is_err()); // more than the whole budget
/// drop(a);
/// assert_eq!(budget.in_use(), 0);
/// ```
#[derive(Debug)]
pub struct MemoryBudget {
    total: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Memory held from a [`MemoryBudget`]; given back when dropped.
#[derive(Debug)]
#[must_use = "the memory is given back as soon as the permit is dropped"]
pub struct Permit<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl Permit<'_> {
    /// The bytes this permit holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.lock();
        *used = used.saturating_sub(self.bytes);
        drop(used);
        self.budget.freed.notify_all();
    }
}

/// How often a waiting image looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

impl MemoryBudget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Self {
        MemoryBudget {
            total,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// The whole budget in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes held by the permits alive now.
    pub fn in_use(&self) -> u64 {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.used.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes `bytes` from the budget, waiting until enough is given back. Fails at once when
    /// `bytes` exceeds the whole budget, and when `cancel` is cancelled while waiting.
    /// An image is always admitted when nothing else is in flight, so waiting never
    /// deadlocks.
    pub fn acquire(&self, bytes: u64, cancel: Option<&Control>) -> Result<Permit<'_>, String> {
        if bytes > self.total {
            return Err(format!(
                "needs {} MiB, more than the memory limit of {} MiB",
                mib_up(bytes),
                self.total >> 20
            ));
        }
        let mut used = self.lock();
        while *used > 0 && *used + bytes > self.total {
            if cancel.is_some_and(Control::is_cancelled) {
                return Err("cancelled".into());
            }
            used = self
                .freed
                .wait_timeout(used, CANCEL_POLL)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *used += bytes;
        Ok(Permit {
            budget: self,
            bytes,
        })
    }
}

/// Bytes in MiB, rounded up (so a 1-byte excess does not read as "0 MiB").
pub(crate) fn mib_up(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn waiters_are_admitted_as_memory_comes_back_and_the_total_is_never_exceeded() {
        let budget = MemoryBudget::new(100);
        let peak = AtomicU64::new(0);
        std::thread::scope(|s| {
            for i in 0..8u64 {
                let (budget, peak) = (&budget, &peak);
                s.spawn(move || {
                    for _ in 0..50 {
                        let p = budget.acquire(30 + i * 5, None).unwrap();
                        peak.fetch_max(budget.in_use(), Ordering::Relaxed);
                        std::thread::yield_now();
                        drop(p);
                    }
                });
            }
        });
        assert!(peak.load(Ordering::Relaxed) <= 100);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn a_cancel_stops_a_waiter() {
        let budget = MemoryBudget::new(10);
        let held = budget.acquire(8, None).unwrap();
        let ctl = Control::new();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| budget.acquire(5, Some(&ctl)).map(|p| p.bytes()));
            ctl.cancel();
            assert_eq!(waiter.join().unwrap(), Err("cancelled".to_string()));
        });
        assert_eq!(held.bytes(), 8);
    }

    #[test]
    fn too_much_for_the_whole_budget_is_refused_with_sizes() {
        let budget = MemoryBudget::new(64 << 20);
        let e = budget.acquire((64 << 20) + 1, None).unwrap_err();
        assert_eq!(e, "needs 65 MiB, more than the memory limit of 64 MiB");
    }
}
