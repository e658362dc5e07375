//! Errors of the engine: one enum, each variant a complete one-line message for the user.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A parameter is out of range (a usage error).
    #[error("{0}")]
    InvalidParam(String),
    /// The job was cancelled; nothing was written.
    #[error("cancelled")]
    Cancelled,
    /// The input could not be read or decoded.
    #[error("{}: {reason}", path.display())]
    Input { path: PathBuf, reason: String },
    /// The output could not be encoded or written.
    #[error("cannot write {}: {reason}", path.display())]
    Output { path: PathBuf, reason: String },
    /// The worker pool could not be started.
    #[error("cannot start {workers} worker threads: {reason}")]
    Pool { workers: usize, reason: String },
    /// A tile's computation panicked (a bug): reported, never propagated as a panic.
    #[error("internal error while processing: {0}")]
    Panic(String),
}

impl EngineError {
    /// Whether the error is the caller's usage (bad parameters) rather than a failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, EngineError::InvalidParam(_))
    }
}
