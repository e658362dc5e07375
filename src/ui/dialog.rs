//! Native file dialogs (rfd) on a background thread, so the window keeps drawing while one is
//! open. Where no dialog can be shown (no desktop portal), the answer is `None` at once and
//! the path fields still work.

use std::path::PathBuf;

use super::task::Task;

/// A dialog to show: blocks until closed, answers the path picked.
pub type ShowDialog = Box<dyn FnOnce() -> Option<PathBuf> + Send + 'static>;

/// A dialog being shown for `target` (which field it fills).
pub struct PendingDialog<T> {
    pub target: T,
    task: Task<Option<PathBuf>>,
}

impl<T> PendingDialog<T> {
    /// Shows `dialog` on a background [`Task`]; the window is woken when it closes. A dialog
    /// whose thread cannot start, or that panics, reads as dismissed.
    pub fn spawn(
        ctx: &egui::Context,
        target: T,
        dialog: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) -> Self {
        let task = Task::spawn(
            ctx,
            "dialog",
            1,
            move |r| {
                r.send(dialog());
            },
            |_| None,
        );
        PendingDialog { target, task }
    }

    /// `Some(answer)` once the dialog has closed (`None` inside: dismissed or unavailable).
    pub fn poll(&mut self) -> Option<Option<PathBuf>> {
        match self.task.poll() {
            Some(answer) => Some(answer),
            None if self.task.is_finished() => Some(None),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    /// Waits for the dialog's thread to end, then takes its answer.
    fn wait<T>(mut d: PendingDialog<T>) -> Option<PathBuf> {
        d.task.wait();
        d.poll().expect("an ended dialog has an answer")
    }

    #[test]
    fn the_answer_arrives_without_blocking_the_caller() {
        let ctx = egui::Context::default();
        let (go, gate) = sync_channel::<()>(0);
        let mut d = PendingDialog::spawn(&ctx, 7, move || {
            // The "dialog" stays open until the test lets it close.
            gate.recv().ok()?;
            Some(PathBuf::from("/picked/folder"))
        });
        assert_eq!(d.target, 7);
        assert!(d.poll().is_none(), "answered while still open");
        go.send(()).unwrap();
        assert_eq!(wait(d), Some(PathBuf::from("/picked/folder")));
    }

    #[test]
    fn a_dismissed_or_broken_dialog_answers_none() {
        let ctx = egui::Context::default();
        assert_eq!(wait(PendingDialog::spawn(&ctx, (), || None)), None);
        let broken = PendingDialog::spawn(&ctx, (), || panic!("no portal"));
        assert_eq!(wait(broken), None);
    }

    #[test]
    fn a_dialog_whose_thread_cannot_start_answers_none_at_once() {
        let ctx = egui::Context::default();
        crate::ui::task::fail_spawns(true);
        let mut d = PendingDialog::spawn(&ctx, (), || Some(PathBuf::from("/never")));
        crate::ui::task::fail_spawns(false);
        assert_eq!(d.poll(), Some(None));
    }
}
