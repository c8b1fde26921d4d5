//! What can go wrong while reading an inventory or selecting hosts from it, and where in the file.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in an inventory file: line and column when the YAML reader knows them, and always the
/// path of keys that leads there (`all > children > lab > hosts > h1 > ansible_port`), so that a
/// message can still point somewhere when the reader gives no position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation(Box<Place>);

// Boxed, so that errors carrying a location stay small enough to return cheaply.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    file: PathBuf,
    /// 1-based; 0 when unknown.
    line: u64,
    /// 1-based; 0 when unknown.
    column: u64,
    yaml_path: String,
}

impl SourceLocation {
    pub(crate) fn new(file: &Path, line: u64, column: u64, yaml_path: String) -> SourceLocation {
        SourceLocation(Box::new(Place {
            file: file.to_path_buf(),
            line,
            column,
            yaml_path,
        }))
    }

    /// A place on the command line rather than in a file, e.g. `-e ansible_port=22`.
    pub(crate) fn argument(text: &str) -> SourceLocation {
        SourceLocation::new(Path::new(text), 0, 0, String::new())
    }

    /// The inventory file, as it was named to `Inventory::load` or `Inventory::parse` (or the
    /// command-line argument, for a place on the command line).
    pub fn file(&self) -> &Path {
        &self.0.file
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<u64> {
        (self.0.line > 0).then_some(self.0.line)
    }

    /// The 1-based column, when known.
    pub fn column(&self) -> Option<u64> {
        (self.0.line > 0 && self.0.column > 0).then_some(self.0.column)
    }

    /// The keys leading to this place, joined by ` > `; empty when unknown.
    pub fn yaml_path(&self) -> &str {
        &self.0.yaml_path
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file().display();
        match (self.line(), self.column()) {
            (Some(line), Some(column)) => write!(f, "{file}:{line}:{column}"),
            (Some(line), None) => write!(f, "{file}:{line}"),
            _ if self.yaml_path().is_empty() => write!(f, "{file}"),
            _ => write!(f, "{file}: {}", self.yaml_path()),
        }
    }
}

/// Every failure of the inventory module. The `Display` text is one line that starts with the
/// place (`file:line:column`); [`InventoryError::hint`] gives a suggested fix when there is an
/// obvious one, for the caller to print on a `hint:` line of its own.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The inventory file could not be read.
    #[error("{}: cannot read the inventory: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is not well-formed YAML (or not a single YAML document).
    #[error("{at}: {message}")]
    MalformedYaml {
        at: SourceLocation,
        message: String,
        hint: Option<String>,
    },

    /// A key appears twice in one YAML mapping.
    #[error("{at}: duplicate key `{key}`")]
    DuplicateKey { at: SourceLocation, key: String },

    /// A part of the inventory has the wrong YAML type, e.g. `hosts:` given as a list.
    #[error("{at}: {what} must be {expected}, found {found}")]
    WrongShape {
        at: SourceLocation,
        what: String,
        expected: &'static str,
        found: &'static str,
        hint: Option<String>,
    },

    /// A group has a key other than `hosts`, `children` and `vars`.
    #[error(
        "{at}: unknown key `{key}` in group `{group}` (a group has `hosts`, `children` and `vars`)"
    )]
    UnknownGroupKey {
        at: SourceLocation,
        group: String,
        key: String,
        hint: Option<String>,
    },

    /// `hosts`, `children` or `vars` sits at the top level, where only group names belong.
    #[error("{at}: `{key}` cannot be at the top level, where every key is a group name")]
    MisplacedKey { at: SourceLocation, key: String },

    /// A key under `hosts:` whose range or port cannot be read.
    #[error("{at}: host key {key:?} {reason}")]
    InvalidHostKey {
        at: SourceLocation,
        key: String,
        reason: String,
        hint: Option<String>,
    },

    /// The file configures one of Ansible's inventory plugins (`plugin: aws_ec2`) rather than
    /// listing hosts.
    #[error(
        "{at}: this file configures Ansible's `{plugin}` inventory plugin; it is not a YAML inventory"
    )]
    PluginConfiguration { at: SourceLocation, plugin: String },

    /// An inventory directory holds no file fleetrmi can read.
    #[error("{}: the directory holds no inventory file", path.display())]
    EmptyDirectory { path: PathBuf },

    /// An executable inventory file starting with `#!`: an inventory script, which fleetrmi
    /// does not run.
    #[error("{}: an inventory script (executable, starts with #!): fleetrmi does not run inventory scripts", path.display())]
    InventoryScript { path: PathBuf },

    /// A host or group name that fleetrmi cannot use.
    #[error("{at}: {kind} name {name:?} {reason}")]
    InvalidName {
        at: SourceLocation,
        kind: &'static str,
        name: String,
        reason: &'static str,
        hint: Option<String>,
    },

    /// A variable fleetrmi reads (the connection variables, `ansible_group_priority`) has a
    /// value of the wrong type or out of range.
    #[error("{at}: {name} must be {expected}, found {found}")]
    InvalidVariable {
        at: SourceLocation,
        /// The variable as it is written in the file (an alias stays an alias).
        name: String,
        expected: &'static str,
        found: String,
        hint: Option<String>,
    },

    /// A variable's Jinja template cannot be rendered for a host (a syntax error, an undefined
    /// variable, or something only Ansible's Python can do: lookups, vault, Python methods).
    #[error("{at}: {name} (for host {host}): {reason}")]
    Template {
        at: SourceLocation,
        name: String,
        host: String,
        reason: String,
        hint: Option<String>,
    },

    /// A line of an INI inventory that Ansible's `ini` plugin would refuse.
    #[error("{at}: {reason}")]
    MalformedIni {
        at: SourceLocation,
        reason: String,
        hint: Option<String>,
    },

    /// A group is among its own ancestors.
    #[error("{at}: group `{group}` is its own ancestor: {}", cycle.join(" > "))]
    GroupCycle {
        at: SourceLocation,
        group: String,
        /// The chain of groups, from `group` down its children back to `group`.
        cycle: Vec<String>,
    },

    /// The inventory defines no host at all.
    #[error("{}: the inventory defines no hosts", display_paths(sources))]
    NoHosts { sources: Vec<PathBuf> },

    /// An `-e/--extra-vars` argument that is not `KEY=VALUE`.
    #[error("-e {argument:?}: {reason}")]
    InvalidExtraVar {
        argument: String,
        reason: String,
        hint: Option<String>,
    },

    /// A host or group asked for by name (`inventory --host NAME`, `--graph GROUP`) that the
    /// inventory does not have.
    #[error("the inventory has no {kind} named {name:?}")]
    UnknownName {
        kind: &'static str,
        name: String,
        hint: Option<String>,
    },

    /// A `--limit` name matches neither a host nor a group.
    #[error(
        "{origin}: no host or group is named {name:?} (known: {}{})",
        known.join(", "),
        if *more > 0 { format!(" and {more} more") } else { String::new() }
    )]
    UnknownLimitName {
        /// `--limit`, or `--limit @FILE:LINE` for a pattern read from a file.
        origin: String,
        name: String,
        /// A few known names, the closest to `name` first.
        known: Vec<String>,
        /// How many more names exist than `known` lists.
        more: usize,
        hint: Option<String>,
    },

    /// A `--limit` pattern (a glob, a regex, a slice) that selects no host.
    #[error("{origin}: {pattern:?} {reason}")]
    PatternMatchesNothing {
        origin: String,
        /// The sub-pattern as written, with its `&` or `!`.
        pattern: String,
        reason: String,
    },

    /// A `--limit` pattern that cannot be read: a bad regex, a malformed slice.
    #[error("{origin}: {pattern:?} {reason}")]
    InvalidPattern {
        origin: String,
        pattern: String,
        reason: String,
        hint: Option<String>,
    },

    /// A `--limit @FILE` that cannot be read.
    #[error("--limit @{}: cannot read the file: {source}", path.display())]
    LimitFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A `--limit` whose patterns together select no host, or that has no pattern at all.
    #[error("--limit {limit:?} selects no hosts")]
    NothingSelected { limit: String, hint: Option<String> },
}

/// The hint for every "selects nothing" error.
pub(crate) const ALLOW_EMPTY_HINT: &str =
    "check the names, or pass --allow-empty to accept patterns that select no host";

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    shown.join(", ")
}

impl InventoryError {
    /// A suggested fix, when there is an obvious one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            InventoryError::MalformedYaml { hint, .. }
            | InventoryError::InvalidHostKey { hint, .. }
            | InventoryError::InvalidExtraVar { hint, .. }
            | InventoryError::InvalidPattern { hint, .. }
            | InventoryError::UnknownName { hint, .. }
            | InventoryError::WrongShape { hint, .. }
            | InventoryError::UnknownGroupKey { hint, .. }
            | InventoryError::InvalidName { hint, .. }
            | InventoryError::InvalidVariable { hint, .. }
            | InventoryError::Template { hint, .. }
            | InventoryError::MalformedIni { hint, .. }
            | InventoryError::UnknownLimitName { hint, .. }
            | InventoryError::NothingSelected { hint, .. } => hint.as_deref(),
            InventoryError::DuplicateKey { .. } => {
                Some("a key may appear once per mapping: remove one entry or merge the two")
            }
            InventoryError::MisplacedKey { .. } => Some(
                "put it under a group: start the file with `all:` and indent the rest under it",
            ),
            InventoryError::GroupCycle { .. } => {
                Some("remove one of the `children` entries that close the loop")
            }
            InventoryError::NoHosts { .. } => {
                Some("list hosts under a group's `hosts:`, e.g. `all:` / `  hosts:` / `    h1:`")
            }
            InventoryError::PluginConfiguration { .. } => Some(
                "fleetrmi reads static inventories: save what the plugin finds with \
                 `ansible-inventory -i FILE --list --yaml > static.yaml` and pass that file",
            ),
            InventoryError::EmptyDirectory { .. } => {
                Some("put the inventory in YAML (.yaml, .yml, .json) or INI files")
            }
            InventoryError::InventoryScript { .. } => Some(
                "save what the script finds with `ansible-inventory -i SCRIPT --list --yaml > \
                 static.yaml` and pass that file",
            ),
            InventoryError::PatternMatchesNothing { .. } => Some(ALLOW_EMPTY_HINT),
            InventoryError::Unreadable { .. } | InventoryError::LimitFile { .. } => None,
        }
    }

    /// Where in the inventory file the problem is, for errors that come from the file's content.
    pub fn location(&self) -> Option<&SourceLocation> {
        match self {
            InventoryError::MalformedYaml { at, .. }
            | InventoryError::DuplicateKey { at, .. }
            | InventoryError::WrongShape { at, .. }
            | InventoryError::UnknownGroupKey { at, .. }
            | InventoryError::MisplacedKey { at, .. }
            | InventoryError::InvalidName { at, .. }
            | InventoryError::InvalidHostKey { at, .. }
            | InventoryError::PluginConfiguration { at, .. }
            | InventoryError::InvalidVariable { at, .. }
            | InventoryError::Template { at, .. }
            | InventoryError::MalformedIni { at, .. }
            | InventoryError::GroupCycle { at, .. } => Some(at),
            InventoryError::Unreadable { .. }
            | InventoryError::EmptyDirectory { .. }
            | InventoryError::InventoryScript { .. }
            | InventoryError::NoHosts { .. }
            | InventoryError::InvalidExtraVar { .. }
            | InventoryError::UnknownName { .. }
            | InventoryError::UnknownLimitName { .. }
            | InventoryError::PatternMatchesNothing { .. }
            | InventoryError::InvalidPattern { .. }
            | InventoryError::LimitFile { .. }
            | InventoryError::NothingSelected { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_with_line_and_column_displays_as_file_line_column() {
        let at = SourceLocation::new(Path::new("inventories/x.yaml"), 12, 7, "all".into());
        assert_eq!(at.to_string(), "inventories/x.yaml:12:7");
    }

    #[test]
    fn location_without_position_falls_back_to_yaml_path() {
        let at = SourceLocation::new(
            Path::new("x.yaml"),
            0,
            0,
            "all > children > lab > hosts > h1 > ansible_port".into(),
        );
        assert_eq!(
            at.to_string(),
            "x.yaml: all > children > lab > hosts > h1 > ansible_port"
        );
        assert_eq!(at.line(), None);
        assert_eq!(at.column(), None);
    }

    #[test]
    fn unknown_limit_name_says_how_many_names_it_left_out() {
        let err = InventoryError::UnknownLimitName {
            origin: "--limit".into(),
            name: "web9".into(),
            known: vec!["web1".into(), "web2".into()],
            more: 3,
            hint: None,
        };
        assert_eq!(
            err.to_string(),
            r#"--limit: no host or group is named "web9" (known: web1, web2 and 3 more)"#
        );
    }
}
