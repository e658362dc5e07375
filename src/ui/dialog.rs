//! Native file dialogs (rfd) on a background thread, so the window keeps drawing while one is
//! open. Where no dialog can be shown (no desktop portal), the answer is `None` at once and
//! the path fields still work.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

/// A dialog to show: blocks until closed, answers the path picked.
pub type ShowDialog = Box<dyn FnOnce() -> Option<PathBuf> + Send + 'static>;

/// A dialog being shown for `target` (which field it fills).
pub struct PendingDialog<T> {
    pub target: T,
    rx: Receiver<Option<PathBuf>>,
}

impl<T> PendingDialog<T> {
    /// Shows `dialog` on a new thread; the window is woken when it closes.
    pub fn spawn(
        ctx: &egui::Context,
        target: T,
        dialog: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) -> Self {
        let (tx, rx) = sync_channel(1);
        let ctx = ctx.clone();
        // Without a thread the sender is dropped with the closure: the dialog then reads as
        // dismissed.
        let _ = std::thread::Builder::new()
            .name("tessera-dialog".into())
            .spawn(move || {
                let _ = tx.send(dialog());
                ctx.request_repaint();
            });
        PendingDialog { target, rx }
    }

    /// `Some(answer)` once the dialog has closed (`None` inside: dismissed or unavailable).
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.rx.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<T>(d: &PendingDialog<T>) -> Option<PathBuf> {
        let t0 = Instant::now();
        loop {
            if let Some(answer) = d.poll() {
                return answer;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "no answer");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn the_answer_arrives_without_blocking_the_caller() {
        let ctx = egui::Context::default();
        let (go, gate) = sync_channel::<()>(0);
        let d = PendingDialog::spawn(&ctx, 7, move || {
            // The "dialog" stays open until the test lets it close.
            gate.recv().ok()?;
            Some(PathBuf::from("/picked/folder"))
        });
        assert_eq!(d.target, 7);
        assert!(d.poll().is_none(), "answered while still open");
        go.send(()).unwrap();
        assert_eq!(wait(&d), Some(PathBuf::from("/picked/folder")));
    }

    #[test]
    fn a_dismissed_or_broken_dialog_answers_none() {
        let ctx = egui::Context::default();
        assert_eq!(wait(&PendingDialog::spawn(&ctx, (), || None)), None);
        let broken = PendingDialog::spawn(&ctx, (), || panic!("no portal"));
        assert_eq!(wait(&broken), None);
    }
}
