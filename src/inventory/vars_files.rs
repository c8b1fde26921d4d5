//! `group_vars/` and `host_vars/` beside an inventory source, found and read as Ansible's
//! `host_group_vars` plugin does: for a group or host NAME, the first of `NAME` (a file, or a
//! directory whose files are read in name order, recursively), `NAME.yml`, `NAME.yaml` and
//! `NAME.json`; hidden files and backups (`~`) are skipped; each file is a mapping of variables.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::document::{Node, Source, YamlPath, read_document};
use super::error::InventoryError;
use super::sources::sorted_names;
use super::vars::{VarLayer, VarScope};

/// The extensions tried after the bare name, in Ansible's order.
const EXTENSIONS: [&str; 3] = ["yml", "yaml", "json"];

/// The variables of one group or host from a `group_vars/` or `host_vars/` directory; empty
/// when it has no file for `name`.
pub(crate) fn read_entity_vars(
    dir: &Path,
    name: &str,
    scope: &VarScope,
    home: Option<&Path>,
) -> Result<VarLayer, InventoryError> {
    let mut layer = VarLayer::default();
    // Like Ansible, names that are absolute paths (chroot hosts) have no vars files.
    if name.starts_with('/') {
        return Ok(layer);
    }
    for file in find_vars_files(dir, name)? {
        layer.overlay(&read_vars_file(&file, scope, home)?);
    }
    Ok(layer)
}

/// The files holding `name`'s variables under `dir`, in the order they are applied.
fn find_vars_files(dir: &Path, name: &str) -> Result<Vec<PathBuf>, InventoryError> {
    let bare = dir.join(name);
    let candidates = std::iter::once(bare.clone()).chain(
        EXTENSIONS
            .iter()
            .map(|extension| PathBuf::from(format!("{}.{extension}", bare.display()))),
    );
    for candidate in candidates {
        let Ok(metadata) = std::fs::metadata(&candidate) else {
            continue;
        };
        if !metadata.is_dir() {
            return Ok(vec![candidate]);
        }
        let mut found = Vec::new();
        files_in(&candidate, &mut found)?;
        return Ok(found);
    }
    Ok(Vec::new())
}

/// Ansible's `_get_dir_vars_files`: in name order, skipping hidden files and backups, into
/// subdirectories without an extension, taking files with a YAML extension or none.
fn files_in(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    for name in sorted_names(dir)? {
        let text = name.to_string_lossy();
        if text.starts_with('.') || text.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let extension = path
            .extension()
            .map(|ext| ext.to_string_lossy().into_owned());
        if path.is_dir() {
            if extension.is_none() {
                files_in(&path, found)?;
            }
        } else if extension.is_none_or(|ext| EXTENSIONS.contains(&ext.as_str())) {
            found.push(path);
        }
    }
    Ok(())
}

/// One vars file: a mapping of variables, or nothing at all.
pub(crate) fn read_vars_file(
    path: &Path,
    scope: &VarScope,
    home: Option<&Path>,
) -> Result<VarLayer, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    read_vars_text(&text, path, scope, home)
}

/// A mapping of variables (or nothing) given as YAML or JSON text; `path` names it in messages.
pub(crate) fn read_vars_text(
    text: &str,
    path: &Path,
    scope: &VarScope,
    home: Option<&Path>,
) -> Result<VarLayer, InventoryError> {
    let root = read_document(text, path)?;
    let source = Source { file: path, home };
    match &root.value {
        Node::Null => Ok(VarLayer::default()),
        Node::Mapping(entries) => VarLayer::read(entries, &YamlPath::default(), &source, scope),
        other => Err(InventoryError::WrongShape {
            at: source.at(root.defined, &YamlPath::default()),
            what: "a variables file".to_owned(),
            expected: "a mapping of variable names to values",
            found: other.kind(),
            hint: None,
        }),
    }
}

/// Warnings for entries of a `group_vars/` or `host_vars/` directory that name no group or host
/// of the inventory: Ansible ignores them silently, which hides typos.
pub(crate) fn unused_entries<'a>(
    dir: &Path,
    kind: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let known: BTreeSet<&str> = known.into_iter().collect();
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && !name.ends_with('~'))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter(|name| {
            let stem = EXTENSIONS
                .iter()
                .find_map(|extension| name.strip_suffix(&format!(".{extension}")))
                .unwrap_or(name);
            !known.contains(stem) && !known.contains(name.as_str())
        })
        .map(|name| {
            format!(
                "{}: names no {kind} of the inventory, so it is not used",
                dir.join(name).display()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    fn vars(dir: &Path, name: &str) -> Result<VarLayer, InventoryError> {
        read_entity_vars(dir, name, &VarScope::Group(name.to_owned()), None)
    }

    #[test]
    fn yml_file_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "ansible_user: deploy\nrole: web\n");
        let layer = vars(dir.path(), "web").expect("valid");
        assert_eq!(layer.values()["role"], json!("web"));
        let source = &layer.sources()["ansible_user"];
        assert_eq!(
            source.to_string(),
            format!("group web, {}:1:15", dir.path().join("web.yml").display())
        );
    }

    #[test]
    fn only_the_first_candidate_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "from: yml\n");
        write(dir.path(), "web.yaml", "from: yaml\nonly_yaml: 1\n");
        let layer = vars(dir.path(), "web").expect("valid");
        assert_eq!(layer.values()["from"], json!("yml"));
        assert!(!layer.values().contains_key("only_yaml"));
    }

    #[test]
    fn directory_files_are_read_in_name_order_later_wins() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web/main.yml", "a: main\nb: main\n");
        write(dir.path(), "web/10-early.yaml", "a: early\nc: early\n");
        write(dir.path(), "web/sub/z.json", "{\"b\": \"json\"}\n");
        write(dir.path(), "web/notes.txt", "a: ignored\n");
        write(dir.path(), "web/.hidden.yml", "a: hidden\n");
        write(dir.path(), "web/main.yml~", "a: backup\n");
        let layer = vars(dir.path(), "web").expect("valid");
        assert_eq!(
            layer.values(),
            [
                ("a".to_owned(), json!("main")),
                ("b".to_owned(), json!("json")),
                ("c".to_owned(), json!("early")),
            ]
            .into()
        );
    }

    #[test]
    fn missing_files_give_no_vars() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(vars(dir.path(), "web").expect("valid").is_empty());
        assert!(
            vars(&dir.path().join("nope"), "web")
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn empty_file_gives_no_vars() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "# nothing yet\n");
        assert!(vars(dir.path(), "web").expect("valid").is_empty());
    }

    #[test]
    fn file_that_is_not_a_mapping_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "- a\n- b\n");
        let err = vars(dir.path(), "web").expect_err("list");
        assert_eq!(
            err.to_string(),
            format!(
                "{}:1:1: a variables file must be a mapping of variable names to values, found a list",
                dir.path().join("web.yml").display()
            )
        );
    }

    #[test]
    fn bad_connection_variable_is_reported_in_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "ansible_port: ssh\n");
        let err = vars(dir.path(), "web").expect_err("bad port");
        let at = err.location().expect("located");
        assert_eq!(at.file(), dir.path().join("web.yml"));
        assert_eq!((at.line(), at.column()), (Some(1), Some(15)));
    }

    #[test]
    fn duplicate_keys_in_a_vars_file_are_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "a: 1\na: 2\n");
        let err = vars(dir.path(), "web").expect_err("duplicate");
        assert!(matches!(err, InventoryError::DuplicateKey { .. }));
    }

    #[test]
    fn entries_for_unknown_groups_are_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "web.yml", "a: 1\n");
        write(dir.path(), "all.yaml", "a: 1\n");
        write(dir.path(), "wbe.yml", "a: 1\n");
        write(dir.path(), "db/main.yml", "a: 1\n");
        let warnings = unused_entries(dir.path(), "group", ["all", "web", "db"]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].ends_with("wbe.yml: names no group of the inventory, so it is not used")
        );
    }
}
