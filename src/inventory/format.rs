//! Which format an inventory file is in, decided as Ansible decides it: by trying its plugins in
//! order. A file named like YAML (`.yaml`, `.yml`, `.json`, or no extension) is tried as YAML
//! first, every file as INI after; an executable `#!` file is a script, which is refused.

use std::fmt;
use std::path::Path;

use super::document::{self, Node, Source};
use super::error::InventoryError;
use super::groups::TreeBuilder;
use super::ini;
use super::sources::is_yaml_name;

/// How an inventory source was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Ansible's `yaml` plugin.
    Yaml,
    /// Ansible's `ini` plugin.
    Ini,
    /// Ansible's `host_list` plugin (`-i 'web1,web2,'`).
    HostList,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML (as Ansible's yaml plugin)",
            Format::Ini => "INI (as Ansible's ini plugin)",
            Format::HostList => "host list (as Ansible's host_list plugin)",
        })
    }
}

/// Reads one inventory file into the tree and says which format it was.
pub(crate) fn read_file(
    file: &Path,
    builder: &mut TreeBuilder,
    home: Option<&Path>,
) -> Result<Format, InventoryError> {
    let text = std::fs::read_to_string(file).map_err(|err| InventoryError::Unreadable {
        path: file.to_path_buf(),
        source: err,
    })?;
    if is_script(file, &text) {
        return Err(InventoryError::InventoryScript {
            path: file.to_path_buf(),
        });
    }
    let source = Source { file, home };
    let yaml_error = if is_yaml_name(file) {
        match document::read_document(&text, file) {
            // Ansible's YAML plugin takes a mapping (or an empty file); anything else goes on to
            // the INI plugin, as do files that are not YAML at all.
            Ok(root) if matches!(root.value, Node::Mapping(_) | Node::Null) => {
                builder.read(&root, &source)?;
                return Ok(Format::Yaml);
            }
            Ok(_) => None,
            Err(err) => Some(err),
        }
    } else {
        None
    };
    match ini::read_ini(&text, file, &|name| builder.has_group(name)) {
        Ok(root) => {
            builder.read(&root, &source)?;
            Ok(Format::Ini)
        }
        // Neither reads it: the error of the format the file looks like.
        Err(ini_error) => match yaml_error {
            Some(yaml_error) if !looks_like_ini(&text) => Err(yaml_error),
            _ => Err(ini_error),
        },
    }
}

/// An INI inventory starts (after comments) with a `[section]` or a host line without `:`.
fn looks_like_ini(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with(';'))
        .is_some_and(|line| line.starts_with('[') || !line.contains(':'))
}

fn is_script(file: &Path, text: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let executable = std::fs::metadata(file)
        .map(|metadata| metadata.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    executable && text.starts_with("#!")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<Format, InventoryError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join(name);
        std::fs::write(&file, text).expect("write");
        read_file(&file, &mut TreeBuilder::new(), None)
    }

    #[test]
    fn format_is_found_by_trying_yaml_then_ini() {
        assert_eq!(
            read("hosts", "all:\n  hosts:\n    h1:\n").ok(),
            Some(Format::Yaml)
        );
        assert_eq!(read("hosts", "[web]\nweb1\n").ok(), Some(Format::Ini));
        assert_eq!(read("hosts", "web1\nweb2\n").ok(), Some(Format::Ini));
        assert_eq!(read("prod.ini", "[web]\nweb1\n").ok(), Some(Format::Ini));
        assert_eq!(read("prod.yml", "[web]\nweb1\n").ok(), Some(Format::Ini));
    }

    #[test]
    fn broken_file_gets_the_error_of_the_format_it_looks_like() {
        let err = read("prod.yml", "all:\n  hosts: [\n").expect_err("broken YAML");
        assert!(matches!(err, InventoryError::MalformedYaml { .. }), "{err}");
        let err = read("hosts", "[web]\nweb1 nope\n").expect_err("broken INI");
        assert!(matches!(err, InventoryError::MalformedIni { .. }), "{err}");
    }

    #[test]
    fn executable_script_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("inventory.py");
        std::fs::write(&file, "#!/usr/bin/env python3\nprint('{}')\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let err = read_file(&file, &mut TreeBuilder::new(), None).expect_err("script");
        assert!(matches!(err, InventoryError::InventoryScript { .. }));
    }
}
