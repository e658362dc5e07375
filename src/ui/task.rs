//! The one way the window runs work in the background: a [`Task`] is a named thread that
//! reports messages over a bounded channel, wakes the window (`request_repaint`) after each
//! one, and is drained by the UI thread without blocking.
//!
//! A task always ends with its activity knowing why: if the thread cannot be started, or its
//! work panics, the task delivers the message its `on_failure` makes from the reason, through
//! the same channel the activity already drains. Nothing is lost and no spinner waits forever.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

/// The sending side given to a task's work: each message wakes the window.
pub struct Reporter<T> {
    tx: SyncSender<T>,
    ctx: egui::Context,
}

impl<T> Reporter<T> {
    /// Sends `msg` to the UI (waiting while the channel is full) and wakes the window.
    /// Returns `false` when nobody listens any more (the task was dropped).
    pub fn send(&self, msg: T) -> bool {
        let sent = self.tx.send(msg).is_ok();
        self.ctx.request_repaint();
        sent
    }
}

/// A background thread and the messages it reports.
pub struct Task<T> {
    name: String,
    rx: Receiver<T>,
    /// Messages taken off the channel but not yet handed out (by [`Task::wait`], or the
    /// failure of a thread that never started).
    queued: VecDeque<T>,
    handle: Option<JoinHandle<()>>,
    /// The thread has ended and its channel is closed.
    ended: bool,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a new thread named `tessera-<name>`, with a channel of `bound` messages.
    ///
    /// If the thread cannot be started, or `work` panics, the task reports
    /// `on_failure(reason)` instead (after whatever `work` sent before panicking).
    pub fn spawn<W, F>(
        ctx: &egui::Context,
        name: &str,
        bound: usize,
        work: W,
        on_failure: F,
    ) -> Task<T>
    where
        W: FnOnce(&Reporter<T>) + Send + 'static,
        F: Fn(String) -> T + Clone + Send + 'static,
    {
        let name = format!("tessera-{name}");
        let (tx, rx) = sync_channel(bound.max(1));
        let reporter = Reporter {
            tx,
            ctx: ctx.clone(),
        };
        let thread_name = name.clone();
        let on_panic = on_failure.clone();
        let spawned = spawner(&name).spawn(move || {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| work(&reporter))) {
                let what = panic_message(panic.as_ref());
                reporter.send(on_panic(format!(
                    "the {thread_name} thread stopped: {what}"
                )));
            }
        });
        let mut task = Task {
            name,
            rx,
            queued: VecDeque::new(),
            handle: None,
            ended: false,
        };
        match spawned {
            Ok(handle) => task.handle = Some(handle),
            Err(e) => {
                let reason = format!("cannot start the {} thread: {e}", task.name);
                task.queued.push_back(on_failure(reason));
                task.ended = true;
                ctx.request_repaint();
            }
        }
        task
    }
}

impl<T> Task<T> {
    /// The thread's name (`tessera-<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next message, if one is waiting (never blocks). Once the thread has ended and
    /// every message has been taken, this answers `None` and [`Task::is_finished`] is true.
    pub fn poll(&mut self) -> Option<T> {
        if let Some(m) = self.queued.pop_front() {
            return Some(m);
        }
        if self.ended {
            return None;
        }
        match self.rx.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.ended = true;
                // The work has returned (it dropped the sender): this join is immediate.
                if let Some(h) = self.handle.take() {
                    let _ = h.join();
                }
                None
            }
        }
    }

    /// Whether the thread has ended and all its messages have been taken.
    pub fn is_finished(&self) -> bool {
        self.ended && self.queued.is_empty()
    }

    /// Blocks until the thread has ended (its messages are kept for [`Task::poll`]). Only for
    /// work that ends by itself or has been told to stop: never for an open file dialog.
    pub fn wait(&mut self) {
        if !self.ended {
            // `recv` answers until the sender is dropped with the work, so a thread blocked
            // on a full channel is never left waiting.
            while let Ok(m) = self.rx.recv() {
                self.queued.push_back(m);
            }
            self.ended = true;
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

fn spawner(name: &str) -> Spawner {
    Spawner(std::thread::Builder::new().name(name.to_owned()))
}

/// `std::thread::Builder`, which unit tests can make fail (see [`fail_spawns`]).
struct Spawner(std::thread::Builder);

impl Spawner {
    fn spawn<F: FnOnce() + Send + 'static>(self, f: F) -> std::io::Result<JoinHandle<()>> {
        #[cfg(test)]
        if FAIL_SPAWNS.with(std::cell::Cell::get) {
            return Err(std::io::Error::other("thread start refused by the test"));
        }
        self.0.spawn(f)
    }
}

#[cfg(test)]
thread_local! {
    static FAIL_SPAWNS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes every task started on this (test) thread fail to start its thread, or not.
#[cfg(test)]
pub fn fail_spawns(fail: bool) {
    FAIL_SPAWNS.with(|f| f.set(fail));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `task` until it has ended (each message waits for the thread, so no sleep).
    fn drain<T>(task: &mut Task<T>) -> Vec<T> {
        task.wait();
        let mut out = Vec::new();
        while let Some(m) = task.poll() {
            out.push(m);
        }
        assert!(task.is_finished());
        out
    }

    #[test]
    fn messages_arrive_in_order_through_a_small_channel() {
        let ctx = egui::Context::default();
        let mut t = Task::spawn(
            &ctx,
            "count",
            1,
            |r: &Reporter<Result<u32, String>>| {
                for i in 0..10 {
                    r.send(Ok(i));
                }
            },
            Err,
        );
        assert_eq!(t.name(), "tessera-count");
        let got: Vec<_> = drain(&mut t).into_iter().map(Result::unwrap).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_is_reported_as_the_tasks_failure() {
        let ctx = egui::Context::default();
        let mut t = Task::spawn(
            &ctx,
            "boom",
            1,
            |r: &Reporter<Result<u32, String>>| {
                r.send(Ok(1));
                panic!("out of cheese");
            },
            Err,
        );
        let got = drain(&mut t);
        assert_eq!(got[0], Ok(1));
        let e = got[1].clone().unwrap_err();
        assert!(
            e.contains("tessera-boom") && e.contains("out of cheese"),
            "{e}"
        );
    }

    #[test]
    fn a_thread_that_cannot_start_reports_through_the_same_channel() {
        let ctx = egui::Context::default();
        fail_spawns(true);
        let mut t = Task::spawn(
            &ctx,
            "never",
            1,
            |r: &Reporter<Result<u32, String>>| {
                r.send(Ok(1));
            },
            Err,
        );
        fail_spawns(false);
        assert!(!t.is_finished(), "the failure is still to be taken");
        let e = t.poll().unwrap().unwrap_err();
        assert!(e.contains("cannot start the tessera-never thread"), "{e}");
        assert!(t.poll().is_none());
        assert!(t.is_finished());
    }

    #[test]
    fn wait_returns_once_the_work_has_ended() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        /// Marks the work as over when dropped, a little late.
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                std::thread::sleep(std::time::Duration::from_millis(30));
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let over = Arc::new(AtomicBool::new(false));
        let guard = Guard(over.clone());
        let ctx = egui::Context::default();
        let mut t = Task::spawn(
            &ctx,
            "guarded",
            1,
            move |r: &Reporter<u32>| {
                let _guard = guard;
                r.send(1);
                r.send(2);
            },
            |_| 0,
        );
        t.wait();
        assert!(
            over.load(Ordering::SeqCst),
            "wait returned before the work ended"
        );
        assert_eq!(t.poll(), Some(1));
        assert_eq!(t.poll(), Some(2));
        assert_eq!(t.poll(), None);
        assert!(t.is_finished());
    }

    #[test]
    fn poll_never_blocks() {
        let ctx = egui::Context::default();
        let (go, gate) = sync_channel::<()>(0);
        let mut t = Task::spawn(
            &ctx,
            "gated",
            1,
            move |r: &Reporter<u32>| {
                let _ = gate.recv();
                r.send(7);
            },
            |_| 0,
        );
        assert!(t.poll().is_none());
        assert!(!t.is_finished());
        go.send(()).unwrap();
        assert_eq!(drain(&mut t), vec![7]);
    }
}
