//! Preparing the output folder, and forcing results to the disk.

use std::path::Path;

use crate::error::EngineError;

/// Creates the output folder and checks that a file can be created in it.
pub(crate) fn prepare_output(out: &Path) -> Result<(), EngineError> {
    let err = |reason: String| EngineError::Output {
        path: out.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(out).map_err(|e| {
        err(format!(
            "cannot create the folder: {}",
            crate::io::io_reason(&e)
        ))
    })?;
    crate::io::remove_stale_partials(out);
    crate::io::partial::create_in(out).map_err(|e| {
        err(format!(
            "cannot create files in the folder: {}",
            crate::io::io_reason(&e)
        ))
    })?;
    Ok(())
}

/// Forces the written results to the disk (see
/// [`Durability::AtEnd`](super::Durability::AtEnd)). Failures are not fatal: the files are
/// complete either way.
pub(crate) fn sync_outputs(out: &Path, written: &[&Path]) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Ok(dir) = std::fs::File::open(out) {
            // SAFETY: syncfs takes any open descriptor and only flushes; `dir` outlives it.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
                return;
            }
        }
    }
    let _ = out;
    for p in written {
        if let Ok(f) = std::fs::File::open(p) {
            let _ = f.sync_all();
        }
    }
}
