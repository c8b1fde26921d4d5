//! `--backup DIR` of `rmi`, `prune` and `apply`: the directory made before any host is reached, so a
//! directory fleetrmi cannot create stops the run before anything is removed.

use std::path::PathBuf;

use crate::request::InputError;

/// `dir`, created unless a dry run (which writes nothing).
pub(crate) fn backup_dir(
    dir: Option<&PathBuf>,
    dry_run: bool,
) -> Result<Option<PathBuf>, InputError> {
    if let Some(dir) = dir
        && !dry_run
        && let Err(error) = std::fs::create_dir_all(dir)
    {
        return Err(InputError::Invalid {
            message: format!(
                "cannot create the backup directory {}: {error}",
                dir.display()
            ),
            hint: Some("--backup needs a directory fleetrmi can write to".to_string()),
        });
    }
    Ok(dir.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_where_the_directory_should_be_is_an_input_error() {
        let temp = tempfile::tempdir().expect("temp dir");
        let file = temp.path().join("backups");
        std::fs::write(&file, b"not a directory").expect("write");
        assert!(backup_dir(Some(&file), false).is_err());
        assert_eq!(
            backup_dir(Some(&file), true).expect("a dry run writes nothing"),
            Some(file)
        );
    }

    #[test]
    fn a_missing_directory_is_created() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("a/b");
        assert_eq!(
            backup_dir(Some(&dir), false).expect("made"),
            Some(dir.clone())
        );
        assert!(dir.is_dir());
    }
}
