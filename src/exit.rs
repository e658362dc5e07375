//! Exit codes shared by the command line and the window: 0 success, 1 failure (some input or
//! output failed), 2 usage error.

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when the work failed (or, for a batch, some files failed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage error (bad arguments or parameters).
pub const EXIT_USAGE: u8 = 2;
