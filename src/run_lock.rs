//! `--lock FILE`: at most one run at a time, for cron and timers. The lock is the kernel's
//! (flock), so it is released when the process ends, however it ends. The file is opened
//! without following a symlink: a lock in a shared directory such as `/tmp` must not let
//! another user point it at a file of ours to truncate.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Another run holds the lock, or the lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another fleetrmi run holds the lock {path}{holder}; not starting")]
    Held { path: PathBuf, holder: String },

    #[error("cannot use the lock file {path}: {cause}")]
    Unusable { path: PathBuf, cause: String },
}

/// Held for as long as the value lives.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let unusable = |cause: std::io::Error| LockError::Unusable {
            path: path.to_path_buf(),
            cause: cause.to_string(),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(unusable)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    path: path.to_path_buf(),
                    holder: if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    },
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(unusable(error)),
        }
        file.set_len(0).map_err(unusable)?;
        file.seek(SeekFrom::Start(0)).map_err(unusable)?;
        writeln!(file, "{}", std::process::id()).map_err(unusable)?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_pid() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("fleetrmi.lock");
        let first = RunLock::acquire(&path).expect("first lock");
        let error = RunLock::acquire(&path).err().expect("second is refused");
        assert!(
            error.to_string().contains(&std::process::id().to_string()),
            "{error}"
        );
        drop(first);
        RunLock::acquire(&path).expect("free again");
    }

    #[test]
    fn a_symlink_in_place_of_the_lock_is_refused_and_its_target_kept() {
        let directory = tempfile::tempdir().expect("temp dir");
        let target = directory.path().join("precious");
        std::fs::write(&target, "keep me").expect("write");
        let path = directory.path().join("fleetrmi.lock");
        std::os::unix::fs::symlink(&target, &path).expect("symlink");
        let error = RunLock::acquire(&path).err().expect("refused");
        assert!(matches!(error, LockError::Unusable { .. }), "{error}");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");
    }
}
