//! Standard output for the subcommands. A closed pipe (`tessera bench ... | head -1`) is not an
//! error to report: like ripgrep, tessera stops printing quietly, still finishes the work it
//! was asked for (files named by `--csv`, `--report`, ... are written) and exits with the
//! work's own status. Any other write error is said once, on one line, and makes the command
//! exit 1.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicU8, Ordering};

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OPEN);

/// Writes `args` to stdout (use the [`outln!`](crate::outln) and [`out!`](crate::out) macros).
pub fn write(args: fmt::Arguments<'_>) {
    if STATE.load(Ordering::Relaxed) != OPEN {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let r = stdout.write_fmt(args).and_then(|()| stdout.flush());
    if let Err(e) = r {
        if e.kind() == ErrorKind::BrokenPipe {
            STATE.store(CLOSED, Ordering::Relaxed);
        } else {
            STATE.store(FAILED, Ordering::Relaxed);
            eprintln!("tessera: error: cannot write to standard output: {e}");
        }
    }
}

/// Whether writing to stdout failed for another reason than a closed pipe.
pub fn failed() -> bool {
    STATE.load(Ordering::Relaxed) == FAILED
}

/// `println!` for the subcommands: a closed pipe ends printing quietly (see [`write()`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::out::write(format_args!("\n")) };
    ($($t:tt)*) => { $crate::cli::out::write(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` for the subcommands: a closed pipe ends printing quietly (see [`write()`]).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::out::write(format_args!($($t)*)) };
}
