//! The inventory sources given with `-i`: a file, a directory whose inventory files are read
//! in name order, as Ansible reads an inventory directory, or a host list (`web1,web2,`); each
//! with the directory where its `group_vars/` and `host_vars/` are looked for.

use std::path::{Path, PathBuf};

use super::error::InventoryError;

/// File name endings Ansible skips in an inventory directory (its `INVENTORY_IGNORE_EXTS`).
const IGNORED_ENDINGS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// Directory entries Ansible never reads as inventory.
const IGNORED_NAMES: [&str; 3] = ["group_vars", "host_vars", "vars_plugins"];

/// Extensions of the files Ansible's YAML plugin tries (a file without an extension too); every
/// other file is read as INI.
const YAML_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One `-i` argument, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InventorySource {
    /// As given.
    pub(crate) path: PathBuf,
    /// Where `group_vars/` and `host_vars/` are: the directory itself, or the file's directory.
    /// A host list has none (as in Ansible).
    pub(crate) vars_dir: Option<PathBuf>,
    /// The inventory files, in the order they are read.
    pub(crate) files: Vec<PathBuf>,
    /// The hosts of a host list (`-i 'web1,web2:2222,'`), as given.
    pub(crate) host_list: Option<String>,
}

/// Resolves one `-i` argument: a path that does not exist but holds a comma is a host list, as
/// Ansible's `host_list` plugin reads it.
pub(crate) fn discover(path: &Path) -> Result<InventorySource, InventoryError> {
    let unreadable = |source| InventoryError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Err(_) if path.to_string_lossy().contains(',') => {
            return Ok(InventorySource {
                path: path.to_path_buf(),
                vars_dir: None,
                files: Vec::new(),
                host_list: Some(path.to_string_lossy().into_owned()),
            });
        }
        other => other.map_err(unreadable)?,
    };
    if !metadata.is_dir() {
        let vars_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        return Ok(InventorySource {
            path: path.to_path_buf(),
            vars_dir: Some(vars_dir),
            files: vec![path.to_path_buf()],
            host_list: None,
        });
    }
    let mut files = Vec::new();
    walk(path, &mut files)?;
    if files.is_empty() {
        return Err(InventoryError::EmptyDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(InventorySource {
        path: path.to_path_buf(),
        vars_dir: Some(path.to_path_buf()),
        files,
        host_list: None,
    })
}

/// The names of the entries of `dir`, sorted, as Ansible reads directories.
pub(super) fn sorted_names(dir: &Path) -> Result<Vec<std::ffi::OsString>, InventoryError> {
    let unreadable = |source| InventoryError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        names.push(entry.map_err(unreadable)?.file_name());
    }
    names.sort();
    Ok(names)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    for name in sorted_names(dir)? {
        let text = name.to_string_lossy();
        if text.starts_with('.')
            || IGNORED_NAMES.contains(&text.as_ref())
            || IGNORED_ENDINGS.iter().any(|ending| text.ends_with(ending))
        {
            continue;
        }
        let path = dir.join(&name);
        let metadata = std::fs::metadata(&path).map_err(|source| InventoryError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Whether a file name has one of the YAML extensions, or none.
pub(crate) fn is_yaml_name(path: &Path) -> bool {
    match path.extension() {
        None => true,
        Some(extension) => YAML_EXTENSIONS
            .iter()
            .any(|yaml| extension.to_str() == Some(*yaml)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, "all: {}\n").expect("write");
    }

    #[test]
    fn file_source_reads_the_file_with_vars_beside_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        touch(dir.path(), "prod.yaml");
        let source = discover(&dir.path().join("prod.yaml")).expect("file");
        assert_eq!(source.files, [dir.path().join("prod.yaml")]);
        assert_eq!(source.vars_dir.as_deref(), Some(dir.path()));
    }

    #[test]
    fn bare_file_name_has_its_vars_in_the_current_directory() {
        let source = discover(Path::new("Cargo.toml")).expect("file");
        assert_eq!(source.vars_dir.as_deref(), Some(Path::new(".")));
    }

    #[test]
    fn directory_source_reads_inventory_files_in_name_order_recursively() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "20-web.yml",
            "10-base.yaml",
            "hosts",
            "extra.json",
            "sub/05-db.yaml",
            "group_vars/all.yml",
            "host_vars/h1.yml",
            ".hidden.yaml",
            "README.md",
            "old.yaml.bak",
            "legacy.ini",
        ] {
            touch(dir.path(), name);
        }
        let source = discover(dir.path()).expect("directory");
        let files: Vec<_> = source
            .files
            .iter()
            .map(|file| file.strip_prefix(dir.path()).expect("inside").to_owned())
            .collect();
        assert_eq!(
            files,
            [
                PathBuf::from("10-base.yaml"),
                PathBuf::from("20-web.yml"),
                PathBuf::from("extra.json"),
                PathBuf::from("hosts"),
                PathBuf::from("legacy.ini"),
                PathBuf::from("sub/05-db.yaml"),
            ]
        );
        assert_eq!(source.vars_dir.as_deref(), Some(dir.path()));
    }

    #[test]
    fn directory_without_inventory_files_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        touch(dir.path(), "group_vars/all.yml");
        let err = discover(dir.path()).expect_err("empty");
        assert!(matches!(err, InventoryError::EmptyDirectory { .. }));
        assert!(err.hint().is_some());
    }

    #[test]
    fn missing_source_is_unreadable() {
        let err = discover(Path::new("/nonexistent/inv.yaml")).expect_err("missing");
        assert!(matches!(err, InventoryError::Unreadable { .. }));
    }

    #[test]
    fn missing_path_with_a_comma_is_a_host_list() {
        let source = discover(Path::new("web1,web2:2222,")).expect("host list");
        assert_eq!(source.host_list.as_deref(), Some("web1,web2:2222,"));
        assert_eq!(source.vars_dir, None);
    }
}
