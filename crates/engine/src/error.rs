//! Errors of the engine: one enum, each variant a complete one-line message for the user.
//!
//! The message ([`Display`](std::fmt::Display)) is what the CLI prints and the window shows.
//! Where a failure has an underlying error (an I/O error from the system, a thread that could
//! not be spawned), it is kept as the [`source`](std::error::Error::source) instead of being
//! flattened into the text only, so callers can inspect it (`std::io::Error::kind`, ...).

use std::any::Any;
use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A parameter is out of range (a usage error): the message says which and why.
    #[error("{0}")]
    InvalidParam(String),
    /// The job was cancelled; nothing was written.
    #[error("cancelled")]
    Cancelled,
    /// The input could not be read or decoded.
    #[error("{}: {reason}", path.display())]
    Input {
        /// The file (or, for an image in memory, its name).
        path: PathBuf,
        /// Why, in a few words ("no such file or folder", "corrupt or truncated image (...)").
        reason: String,
    },
    /// The output could not be encoded or written (no underlying I/O error to report).
    #[error("cannot write {}: {reason}", path.display())]
    Output {
        /// The file or folder that was to be written.
        path: PathBuf,
        /// Why, in a few words.
        reason: String,
    },
    /// Writing the output failed with an I/O error, kept as the source. The message is the
    /// same as [`EngineError::Output`]'s.
    #[error("cannot write {}: {reason}", path.display())]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// Why, in a few words (see [`io_reason`](crate::io::io_reason)).
        reason: String,
        /// The I/O error behind it.
        #[source]
        source: std::io::Error,
    },
    /// The worker pool could not be started.
    #[error("cannot start {workers} worker threads: {reason}")]
    Pool {
        /// How many workers were asked for.
        workers: usize,
        /// Why, as the thread pool said.
        reason: String,
    },
    /// A helper thread (a sweep, a batch reader) could not be spawned.
    #[error("cannot start {what}: {source}")]
    Thread {
        /// The thread, such as "the sweep thread".
        what: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A global method gives no level on this image (it does not converge, or its oracle
    /// gives none): a failure of this image, not a usage error.
    #[error("{method} finds no level on this image: {reason}")]
    NoLevel {
        /// The op, as named on the command line.
        method: String,
        /// Why, as the method says.
        reason: String,
    },
    /// The op has no 16-bit form (its anchor takes 8-bit images only) and the image is
    /// 16-bit: a failure of this image; reading it at 8-bit depth runs the op.
    #[error(
        "{method} works on 8-bit images only ({reason}); this image is 16-bit: read it at depth 8 (--depth 8)"
    )]
    EightBitOnly {
        /// The op, as named on the command line.
        method: String,
        /// Why, naming the anchor.
        reason: String,
    },
    /// A bug: a tile's computation panicked, or an invariant of the engine did not hold. It
    /// is reported as an error, never propagated as a panic.
    #[error("internal error while processing: {0}")]
    Internal(String),
}

impl EngineError {
    /// Whether the error is the caller's usage (bad parameters) rather than a failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, EngineError::InvalidParam(_))
    }

    /// An [`EngineError::Internal`] from the payload of a caught panic (its message, or
    /// "panic" when it has none).
    pub fn from_panic(payload: &(dyn Any + Send)) -> Self {
        EngineError::Internal(panic_message(payload).unwrap_or("panic").to_string())
    }
}

/// The message of a caught panic: the payload of `panic!("...")` (a `&str` or a `String`),
/// or `None` for any other payload.
///
/// ```
/// let p = std::panic::catch_unwind(|| panic!("bad {}", 7)).unwrap_err();
/// assert_eq!(tessera_engine::error::panic_message(p.as_ref()), Some("bad 7"));
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn messages_are_one_line_and_sources_are_kept() {
        let e = EngineError::Write {
            path: "out.png".into(),
            reason: "permission denied".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(e.to_string(), "cannot write out.png: permission denied");
        let src = e.source().expect("a source");
        let io = src.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(!e.is_usage());
        assert!(EngineError::InvalidParam("x".into()).is_usage());
    }

    #[test]
    fn panics_become_internal_errors() {
        let p = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        let e = EngineError::from_panic(p.as_ref());
        assert_eq!(e.to_string(), "internal error while processing: boom");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(3u8)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), None);
        assert_eq!(
            EngineError::from_panic(p.as_ref()).to_string(),
            "internal error while processing: panic"
        );
    }
}
