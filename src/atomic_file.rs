//! Files written whole or not at all: a temporary file beside the target, then a rename, so a
//! reader (Prometheus' textfile collector, a rerun with `-l @FILE`) never sees half a file.
//! The temporary file is created new (`O_EXCL`, which never follows a symlink), so a name
//! planted in a shared directory cannot redirect the write.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `content` atomically.
pub fn write_atomically(path: &Path, content: &str) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| "fleetrmi".to_string());
    let temporary = directory.join(format!(".{file_name}.{}.tmp", std::process::id()));
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
