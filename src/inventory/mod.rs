//! The inventory: which hosts fleetrmi works on and how to reach each, read from an Ansible-style
//! YAML inventory and checked once, so that everything after works on resolved `HostEntry`s.
//!
//! The file is read in three steps: `document` parses the YAML into a tree that remembers lines
//! and columns, `groups` flattens Ansible's group tree and checks its structure and variables,
//! and `host` applies variable precedence to each host. `limit` then picks hosts for `--limit`.

mod connection;
mod document;
mod error;
mod groups;
mod host;
mod limit;
mod names;
mod suggest;
#[cfg(test)]
mod testing;
mod vars;

use std::path::{Path, PathBuf};

pub use error::{InventoryError, SourceLocation};
pub use host::HostEntry;

/// A checked inventory: its hosts with every setting resolved, and its group names.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    origin: PathBuf,
    hosts: Vec<HostEntry>,
    groups: Vec<String>,
}

impl Inventory {
    /// Reads and checks the inventory file at `path`.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        Inventory::parse(&text, path)
    }

    /// Checks an inventory given as text; `origin` names it in error messages. A leading `~/` in
    /// identity files is expanded with `$HOME`.
    pub fn parse(text: &str, origin: &Path) -> Result<Inventory, InventoryError> {
        let home = std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from);
        Inventory::parse_with_home(text, origin, home.as_deref())
    }

    /// `parse`, with the home directory given rather than read from the environment.
    pub(crate) fn parse_with_home(
        text: &str,
        origin: &Path,
        home: Option<&Path>,
    ) -> Result<Inventory, InventoryError> {
        let root = document::read_document(text, origin)?;
        let source = document::Source { file: origin, home };
        let tree = groups::GroupTree::read(&root, &source)?;
        if tree.hosts.is_empty() {
            return Err(InventoryError::NoHosts {
                file: origin.to_path_buf(),
            });
        }
        Ok(Inventory {
            origin: origin.to_path_buf(),
            hosts: host::resolve_hosts(&tree),
            groups: tree.groups.into_iter().map(|group| group.name).collect(),
        })
    }

    /// Where the inventory came from, as given to `load` or `parse`.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Every host, in order of first appearance in the file.
    pub fn hosts(&self) -> &[HostEntry] {
        &self.hosts
    }

    /// The host with this inventory name.
    pub fn host(&self, name: &str) -> Option<&HostEntry> {
        self.hosts.iter().find(|host| host.name == name)
    }

    /// Every group name: `all` first, then in order of first appearance, and the implicit
    /// `ungrouped` (last, unless the file names it).
    pub fn group_names(&self) -> Vec<&str> {
        self.groups.iter().map(String::as_str).collect()
    }

    /// The hosts a `--limit` selects: a comma-separated list of host and group names, whose
    /// union is returned in inventory order without duplicates. `None` selects every host.
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&HostEntry>, InventoryError> {
        limit::select(&self.hosts, &self.groups, limit)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::testing::{TEST_HOME, host, parse};
    use super::*;

    const EXAMPLE: &str = include_str!("../../inventories/example.yaml");

    #[test]
    fn example_inventory_is_accepted() {
        let inventory = Inventory::parse_with_home(
            EXAMPLE,
            Path::new("inventories/example.yaml"),
            Some(Path::new(TEST_HOME)),
        )
        .expect("the example inventory is valid");
        let names: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "build-x86-01",
                "build-x86-02",
                "build-arm-01",
                "build-arm-02",
                "registry-01",
                "dev-box"
            ]
        );
        assert_eq!(
            inventory.group_names(),
            [
                "all",
                "builders",
                "x86",
                "arm",
                "services",
                "rootless",
                "ungrouped"
            ]
        );

        let x86 = host(&inventory, "build-x86-01");
        assert_eq!((x86.address.as_str(), x86.port), ("10.20.0.11", 22));
        assert_eq!(x86.user.as_deref(), Some("ci"));
        assert_eq!(
            x86.identity_file.as_deref(),
            Some(Path::new("/home/tester/.ssh/buildfarm_ed25519"))
        );
        assert_eq!(x86.docker_socket, "/var/run/docker.sock");
        assert_eq!(x86.groups, ["all", "builders", "x86"]);
        assert_eq!(x86.vars["retention_days"], serde_json::json!(14));

        let arm1 = host(&inventory, "build-arm-01");
        assert_eq!((arm1.address.as_str(), arm1.port), ("10.20.1.21", 2222));
        assert_eq!(arm1.vars["retention_days"], serde_json::json!(7));
        let arm2 = host(&inventory, "build-arm-02");
        assert_eq!(arm2.port, 22);

        let registry = host(&inventory, "registry-01");
        assert_eq!(
            registry.identity_file.as_deref(),
            Some(Path::new("/etc/fleetrmi/registry_ed25519"))
        );

        let dev = host(&inventory, "dev-box");
        assert_eq!(dev.address, "dev-box.lab.example");
        assert_eq!(dev.user.as_deref(), Some("alice"));
        assert_eq!(dev.docker_socket, "/run/user/1000/docker.sock");
        assert_eq!(dev.groups, ["all", "rootless"]);

        let selected: Vec<&str> = inventory
            .select(Some("arm,rootless"))
            .expect("valid limit")
            .into_iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(selected, ["build-arm-01", "build-arm-02", "dev-box"]);
    }

    #[test]
    fn load_reads_a_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"all:\n  hosts:\n    h1:\n").expect("write");
        let inventory = Inventory::load(file.path()).expect("valid inventory");
        assert_eq!(inventory.hosts().len(), 1);
        assert_eq!(inventory.origin(), file.path());
        assert_eq!(inventory.host("h1").map(|h| h.port), Some(22));
    }

    #[test]
    fn load_names_the_file_in_errors() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"all:\n  hosts:\n    h1:\n      ansible_port: abc\n")
            .expect("write");
        let err = Inventory::load(file.path()).expect_err("bad port");
        assert_eq!(
            err.to_string(),
            format!(
                "{}:4:21: ansible_port must be an integer from 1 to 65535, found \"abc\"",
                file.path().display()
            )
        );
    }

    #[test]
    fn missing_file_is_unreadable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("missing.yaml");
        let err = Inventory::load(&path).expect_err("missing file");
        assert!(matches!(err, InventoryError::Unreadable { .. }));
        assert!(
            err.to_string()
                .starts_with(&format!("{}: cannot read the inventory: ", path.display()))
        );
        assert!(err.location().is_none());
    }

    #[test]
    fn empty_file_has_no_hosts() {
        let err = parse("").expect_err("no hosts");
        assert_eq!(err.to_string(), "inv.yaml: the inventory defines no hosts");
        assert!(err.hint().is_some());
    }

    #[test]
    fn groups_without_hosts_have_no_hosts() {
        let err = parse("all:\n  children:\n    lab:\n      vars: {x: 1}\n").expect_err("no hosts");
        assert!(matches!(err, InventoryError::NoHosts { .. }));
    }

    #[test]
    fn invalid_variable_in_a_nested_host_is_reported_with_line_and_column() {
        let err = parse(
            "all:\n  children:\n    lab:\n      hosts:\n        h1:\n          ansible_port: 70000\n",
        )
        .expect_err("port out of range");
        assert_eq!(
            err.to_string(),
            "inv.yaml:6:25: ansible_port must be an integer from 1 to 65535, found 70000"
        );
        let at = err.location().expect("located");
        assert_eq!(
            at.yaml_path(),
            "all > children > lab > hosts > h1 > ansible_port"
        );
    }

    #[test]
    fn invalid_variable_in_a_group_that_every_host_overrides_is_still_an_error() {
        let err = parse("all:\n  vars:\n    docker_socket: docker.sock\n  hosts:\n    h1:\n      docker_socket: /d.sock\n")
            .expect_err("relative socket");
        assert_eq!(err.location().and_then(SourceLocation::line), Some(3));
    }

    #[test]
    fn group_names_list_all_first_and_ungrouped_last() {
        let inventory = parse("web:\n  hosts: {w1: }\ndb:\n  hosts: {d1: }\n").expect("valid");
        assert_eq!(inventory.group_names(), ["all", "web", "db", "ungrouped"]);
    }
}
