//! `--backup DIR` of `rmi`, `prune` and `apply`: the directory made before any host is reached, so a
//! directory fleetrmi cannot create stops the run before anything is removed.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::fleet::host_backup_dir;
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

/// Refuses a fleet in which two hosts would share one backup directory (`a/1` and `a_1` both
/// become `DIR/a_1`): their archives and manifests would mix.
pub(crate) fn check_distinct_backup_dirs<'a>(
    dir: Option<&PathBuf>,
    hosts: impl IntoIterator<Item = &'a str>,
) -> Result<(), InputError> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let mut seen: HashMap<PathBuf, &str> = HashMap::new();
    for host in hosts {
        let host_dir = host_backup_dir(dir, host);
        if let Some(other) = seen.insert(host_dir.clone(), host) {
            return Err(InputError::Invalid {
                message: format!(
                    "hosts {other:?} and {host:?} would share the backup directory {}",
                    host_dir.display()
                ),
                hint: Some("back them up in separate runs (-l), each with its own DIR".to_string()),
            });
        }
    }
    Ok(())
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
    fn two_hosts_whose_names_map_to_one_directory_are_refused() {
        let dir = PathBuf::from("/backups");
        assert!(check_distinct_backup_dirs(Some(&dir), ["a/1", "b", "a_1"]).is_err());
        assert!(check_distinct_backup_dirs(Some(&dir), ["a1", "a_1"]).is_ok());
        assert!(check_distinct_backup_dirs(None, ["a/1", "a_1"]).is_ok());
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
