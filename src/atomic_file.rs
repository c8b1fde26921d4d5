//! Files written whole or not at all: a temporary file beside the target, then a rename, so a
//! reader (Prometheus' textfile collector, a rerun with `-l @FILE`) never sees half a file.
//! The temporary file is created new (`O_EXCL`, which never follows a symlink), so a name
//! planted in a shared directory cannot redirect the write.

use std::io::Write;
use std::path::Path;

/// Whether a file can later be written at `path` by [`write_atomically`]: its directory exists
/// and takes a new file, and `path` is not a directory. Checked before a run contacts any host,
/// so an output that cannot be written is bad input, not a surprise at the end.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("it is a directory".to_string());
    }
    let directory = directory_of(path);
    match std::fs::metadata(directory) {
        Err(error) => return Err(format!("directory {}: {error}", directory.display())),
        Ok(metadata) if !metadata.is_dir() => {
            return Err(format!("{} is not a directory", directory.display()));
        }
        Ok(_) => {}
    }
    let probe = directory.join(format!(
        ".{}.{}.check",
        file_name_of(path),
        std::process::id()
    ));
    match create_new(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(format!(
            "cannot create a file in {}: {error}",
            directory.display()
        )),
    }
}

/// Replaces `path` with `content`; when that fails, removes the file an earlier run left there,
/// so no reader takes an old file for this run's. `Err` says why, and what became of the old file.
pub fn replace_or_remove(path: &Path, content: &str) -> Result<(), String> {
    let Err(error) = write_atomically(path, content) else {
        return Ok(());
    };
    match std::fs::remove_file(path) {
        Ok(()) => Err(format!(
            "{error}; the file an earlier run left there was removed"
        )),
        Err(gone) if gone.kind() == std::io::ErrorKind::NotFound => Err(error.to_string()),
        Err(kept) => Err(format!(
            "{error}; the file an earlier run left there could not be removed either ({kept}): \
             it is not this run's"
        )),
    }
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| "fleetrmi".to_string())
}

/// Replaces `path` with `content` atomically.
pub fn write_atomically(path: &Path, content: &str) -> std::io::Result<()> {
    let temporary = directory_of(path).join(format!(
        ".{}.{}.tmp",
        file_name_of(path),
        std::process::id()
    ));
    let result = (|| {
        let mut file = create_new(&temporary)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Creates `path`, which must not exist; a leftover of an earlier run with the same pid (a
/// regular file, never followed if it is a symlink) is removed first.
fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    };
    match open() {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("out.prom");
        std::fs::write(&path, "old content that is longer").expect("write");
        write_atomically(&path, "new").expect("atomic write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let entries = std::fs::read_dir(directory.path()).expect("list").count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn a_missing_directory_or_a_directory_at_the_path_cannot_be_written() {
        let directory = tempfile::tempdir().expect("temp dir");
        let missing = directory.path().join("nowhere").join("retry");
        let cause = check_writable(&missing).expect_err("missing directory");
        assert!(cause.contains("nowhere"), "{cause}");
        assert!(cause.contains("No such file"), "{cause}");
        assert_eq!(
            check_writable(directory.path()),
            Err("it is a directory".to_string())
        );
        let file = directory.path().join("plain");
        std::fs::write(&file, "x").expect("write");
        let cause = check_writable(&file.join("retry")).expect_err("file as directory");
        assert!(cause.contains("is not a directory"), "{cause}");
        check_writable(&directory.path().join("retry")).expect("writable");
        assert_eq!(
            std::fs::read_dir(directory.path()).expect("list").count(),
            1
        );
    }

    #[test]
    fn a_failed_write_removes_the_older_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("retry");
        std::fs::write(&path, "old hosts").expect("write");
        // A directory where the temporary file must go makes the write fail.
        let blocker = directory
            .path()
            .join(format!(".retry.{}.tmp", std::process::id()));
        std::fs::create_dir(&blocker).expect("mkdir");
        std::fs::write(blocker.join("x"), "").expect("write");
        let cause = replace_or_remove(&path, "new hosts").expect_err("fails");
        assert!(cause.contains("was removed"), "{cause}");
        assert!(!path.exists());
    }

    #[test]
    fn a_symlink_planted_at_the_temporary_name_is_not_written_through() {
        let directory = tempfile::tempdir().expect("temp dir");
        let target = directory.path().join("precious");
        std::fs::write(&target, "keep me").expect("write");
        let planted = directory
            .path()
            .join(format!(".out.prom.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &planted).expect("symlink");
        let path = directory.path().join("out.prom");
        write_atomically(&path, "new").expect("atomic write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }
}
