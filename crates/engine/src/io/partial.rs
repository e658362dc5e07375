//! Temporary `.part` files: every result is written into one beside its destination and
//! renamed into place when complete. None may survive tessera, however it is stopped:
//!
//! * a failure or a cancel drops the file (it is deleted);
//! * a signal handler about to exit calls [`remove_partial_files`], which deletes every one
//!   this process has open and refuses new ones;
//! * after a `SIGKILL` or a power cut nothing runs, so each name says which host and process
//!   owns it (`.tessera-<pid>@<host>.<random>.part`), and a later run into the same folder
//!   removes those whose process is gone ([`remove_stale_partials`]). Files of other hosts
//!   (a folder shared by a cluster) are left to their own host.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use tempfile::NamedTempFile;

/// The temporary files this process has open, and whether it is stopping.
#[derive(Default)]
struct Registry {
    stopping: bool,
    live: HashSet<PathBuf>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static LIVE: OnceLock<Mutex<Registry>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// This machine's name, as it goes into temporary file names (`[A-Za-z0-9.-]` only).
fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most `len` bytes into the buffer.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let name: String = if ok {
            buf.split(|&b| b == 0)
                .next()
                .unwrap_or_default()
                .iter()
                .map(|&b| b as char)
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                .take(64)
                .collect()
        } else {
            String::new()
        };
        if name.is_empty() {
            "localhost".into()
        } else {
            name
        }
    })
}

const PREFIX: &str = ".tessera-";

/// `.tessera-<pid>@<host>.`, made once (no `getpid` per file).
fn owner_prefix() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| format!("{PREFIX}{}@{}.", std::process::id(), host()))
}
const SUFFIX: &str = ".part";

/// A temporary file being written; deleted when dropped unless [`Partial::persist`]ed.
#[derive(Debug)]
pub struct Partial {
    file: Option<NamedTempFile>,
}

/// Creates a temporary file in `dir`, named for this host and process, readable like any
/// new file (0666 less the umask). Fails once [`remove_partial_files`] has run.
pub(crate) fn create_in(dir: &Path) -> std::io::Result<Partial> {
    // Held across the creation, so a signal handler cannot miss a file being created.
    let mut reg = registry();
    if reg.stopping {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "tessera is stopping",
        ));
    }
    let prefix = owner_prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir)?;
    reg.live.insert(file.path().to_path_buf());
    Ok(Partial { file: Some(file) })
}

fn forget(path: &Path) {
    registry().live.remove(path);
}

impl Partial {
    fn inner(&mut self) -> &mut NamedTempFile {
        self.file
            .as_mut()
            .expect("a partial file is present until persisted")
    }

    /// The open file.
    pub(crate) fn as_file(&self) -> &File {
        self.file
            .as_ref()
            .expect("a partial file is present until persisted")
            .as_file()
    }

    /// Renames the file to `path`. On failure the temporary file is deleted.
    pub(crate) fn persist(mut self, path: &Path) -> std::io::Result<()> {
        let file = self.file.take().expect("persisted once");
        let temp = file.path().to_path_buf();
        let result = file.persist(path).map(drop).map_err(|e| e.error);
        forget(&temp);
        result
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let temp = file.path().to_path_buf();
            drop(file);
            forget(&temp);
        }
    }
}

impl Write for Partial {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner().write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner().flush()
    }
}

impl Seek for Partial {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner().seek(pos)
    }
}

/// Deletes every temporary file this process has open and makes later attempts to create
/// one fail: for a signal handler that is about to exit the process. Returns how many were
/// deleted.
pub fn remove_partial_files() -> usize {
    let mut reg = registry();
    reg.stopping = true;
    let live = std::mem::take(&mut reg.live);
    live.iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// Temporary files of the old naming (no owner in the name) older than this are removed.
const UNOWNED_AGE: Duration = Duration::from_secs(3600);

/// Removes the temporary files in `dir` (not its sub-folders) that no live process owns:
/// those of this host whose process is gone, and unowned ones (older versions) older than
/// an hour. Returns how many were removed. Errors are ignored: this is housekeeping.
pub fn remove_stale_partials(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name
            .strip_prefix(PREFIX)
            .and_then(|n| n.strip_suffix(SUFFIX))
        else {
            continue;
        };
        let stale = match owner(middle) {
            Some((pid, h)) => h == host() && pid != me && !process_alive(pid),
            None => entry
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|m| m.modified().ok())
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > UNOWNED_AGE),
        };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// `<pid>@<host>.<random>` → (pid, host).
fn owner(middle: &str) -> Option<(u32, &str)> {
    let (pid, rest) = middle.split_once('@')?;
    let (host, _random) = rest.rsplit_once('.')?;
    Some((pid.parse().ok()?, host))
}

fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_who_owns_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = create_in(dir.path()).unwrap();
        let name = p.file.as_ref().unwrap().path().file_name().unwrap();
        let name = name.to_str().unwrap().to_string();
        let middle = &name[PREFIX.len()..name.len() - SUFFIX.len()];
        assert_eq!(owner(middle), Some((std::process::id(), host())));
        // Ours and alive: not stale.
        assert_eq!(remove_stale_partials(dir.path()), 0);
        assert!(dir.path().join(&name).exists());
        drop(p);
        assert!(!dir.path().join(&name).exists());
    }

    #[test]
    fn leftovers_of_dead_processes_of_this_host_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has exited: its pid is free (until reused, which this test
        // cannot rule out but which would only keep the file).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let names = [
            format!(".tessera-{dead}@{}.abc123.part", host()),
            format!(".tessera-{dead}@another-host.example.abc123.part"),
            format!(".tessera-{}@{}.abc123.part", std::process::id(), host()),
            ".tessera-OLD123.part".to_string(),
            "photo.part".to_string(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        assert_eq!(remove_stale_partials(dir.path()), 1);
        assert!(!dir.path().join(&names[0]).exists());
        for n in &names[1..] {
            assert!(dir.path().join(n).exists(), "{n} was removed");
        }
    }
}
