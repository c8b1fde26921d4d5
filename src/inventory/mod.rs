//! The inventory: which hosts fleetrmi works on and how to reach each, read from Ansible
//! inventories (YAML, INI, host lists) as Ansible reads them and checked once, so that
//! everything after works on resolved `HostEntry`s.
//!
//! Reading goes in steps: `sources` turns each `-i` into files (a directory is read file by file)
//! or a host list, `format` reads each file as YAML (`document`) or INI (`ini`) into a tree that
//! remembers lines and columns, `groups` builds one
//! group tree from every file (expanding host ranges with `host_pattern`), `vars_files` adds the
//! `group_vars/` and `host_vars/` beside each source, `extra_vars` reads `-e`, and `host` applies
//! Ansible's variable precedence to each host and renders templated connection variables
//! (`template`). `limit` then picks hosts with Ansible's host
//! patterns (`pattern`, `glob`), and `listing` shows the result as `ansible-inventory` would.

mod ansible_config;
mod connection;
mod document;
mod error;
mod extra_vars;
mod format;
mod glob;
mod groups;
mod host;
mod host_pattern;
mod ini;
mod limit;
mod listing;
mod names;
mod pattern;
mod python_literal;
mod sources;
mod suggest;
mod template;
#[cfg(test)]
mod testing;
mod vars;
mod vars_files;

use std::path::{Path, PathBuf};

pub use ansible_config::{AnsibleConfig, Found};
pub use error::InventoryError;
pub use format::Format;
pub use host::HostEntry;
pub use vars::VarScope;

use groups::{GroupTree, TreeBuilder};
use vars::VarLayer;

/// A checked inventory: its hosts with every setting resolved, and its groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    sources: Vec<PathBuf>,
    /// How each file (or host list) was read.
    formats: Vec<(PathBuf, Format)>,
    hosts: Vec<HostEntry>,
    groups: Vec<GroupEntry>,
    warnings: Vec<String>,
}

/// A group as the inventory resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    name: String,
    /// Indexes into `Inventory::hosts` of the hosts listed directly under the group, in order.
    hosts: Vec<usize>,
    /// Indexes into `Inventory::groups` of the child groups, in the order they were linked.
    children: Vec<usize>,
}

impl GroupEntry {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Inventory {
    /// Reads and checks one inventory file or directory.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        Inventory::load_all(&[path.to_path_buf()], &[])
    }

    /// Reads every source (a YAML or INI file, a directory of them, or a host list), in order,
    /// into one inventory, with the `group_vars/` and `host_vars/` beside each; `extra_vars` are
    /// `-e` arguments (`k=v k2=v2`, `{...}`, `@FILE`), which win over every variable of every host. A leading `~/` in identity files is expanded
    /// with `$HOME`.
    pub fn load_all(
        sources: &[PathBuf],
        extra_vars: &[String],
    ) -> Result<Inventory, InventoryError> {
        let home = home_dir();
        let mut warnings = Vec::new();
        let mut builder = TreeBuilder::new();
        let mut resolved = Vec::with_capacity(sources.len());
        let mut formats = Vec::new();
        for path in sources {
            let source = sources::discover(path)?;
            if let Some(list) = &source.host_list {
                let origin = document::Source {
                    file: path,
                    home: home.as_deref(),
                };
                builder.read(&ini::host_list(list)?, &origin)?;
                formats.push((path.clone(), Format::HostList));
            }
            for file in &source.files {
                let format = format::read_file(file, &mut builder, home.as_deref())?;
                formats.push((file.clone(), format));
            }
            resolved.push(source);
        }
        let mut tree = builder.finish();
        for vars_dir in resolved
            .iter()
            .filter_map(|source| source.vars_dir.as_ref())
        {
            add_vars_files(&mut tree, vars_dir, home.as_deref(), &mut warnings)?;
        }
        let extra = extra_vars::read_extra_vars(extra_vars, home.as_deref())?;
        let resolution = host::Resolution {
            extra: &extra,
            home: home.as_deref(),
        };
        let mut inventory = Inventory::resolve(sources.to_vec(), tree, &resolution, warnings)?;
        inventory.formats = formats;
        Ok(inventory)
    }

    /// `parse_with_home` for INI text.
    #[cfg(test)]
    pub(crate) fn parse_ini_with_home(
        text: &str,
        origin: &Path,
        home: Option<&Path>,
    ) -> Result<Inventory, InventoryError> {
        let root = ini::read_ini(text, origin, &|_| false)?;
        let mut builder = TreeBuilder::new();
        builder.read(&root, &document::Source { file: origin, home })?;
        let resolution = host::Resolution {
            extra: &VarLayer::default(),
            home,
        };
        Inventory::resolve(
            vec![origin.to_path_buf()],
            builder.finish(),
            &resolution,
            Vec::new(),
        )
    }

    /// Checks an inventory given as text; `origin` names it in error messages. A leading `~/` in
    /// identity files is expanded with `$HOME`. No `group_vars/` or `host_vars/` are read.
    pub fn parse(text: &str, origin: &Path) -> Result<Inventory, InventoryError> {
        Inventory::parse_with_home(text, origin, home_dir().as_deref())
    }

    /// `parse`, with the home directory given rather than read from the environment.
    pub(crate) fn parse_with_home(
        text: &str,
        origin: &Path,
        home: Option<&Path>,
    ) -> Result<Inventory, InventoryError> {
        let root = document::read_document(text, origin)?;
        let mut builder = TreeBuilder::new();
        builder.read(&root, &document::Source { file: origin, home })?;
        let tree = builder.finish();
        let resolution = host::Resolution {
            extra: &VarLayer::default(),
            home,
        };
        Inventory::resolve(vec![origin.to_path_buf()], tree, &resolution, Vec::new())
    }

    fn resolve(
        sources: Vec<PathBuf>,
        tree: GroupTree,
        resolution: &host::Resolution<'_>,
        mut warnings: Vec<String>,
    ) -> Result<Inventory, InventoryError> {
        if tree.hosts.is_empty() {
            return Err(InventoryError::NoHosts { sources });
        }
        let hosts = host::resolve_hosts(&tree, resolution, &mut warnings)?;
        warnings.extend(password_warning(&hosts));
        warnings.extend(tree.warnings);
        let groups = tree
            .groups
            .into_iter()
            .map(|group| GroupEntry {
                name: group.name,
                hosts: group.hosts,
                children: group.children,
            })
            .collect();
        Ok(Inventory {
            sources,
            formats: Vec::new(),
            hosts,
            groups,
            warnings,
        })
    }

    /// The sources the inventory was read from, as given.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// Each inventory file (or host list) and the format it was read as, in reading order.
    pub fn formats(&self) -> &[(PathBuf, Format)] {
        &self.formats
    }

    /// Every host, in order of first appearance.
    pub fn hosts(&self) -> &[HostEntry] {
        &self.hosts
    }

    /// The host with this inventory name.
    pub fn host(&self, name: &str) -> Option<&HostEntry> {
        self.hosts.iter().find(|host| host.name == name)
    }

    /// Every group: `all`, `ungrouped`, then the others in order of first appearance.
    pub fn groups(&self) -> &[GroupEntry] {
        &self.groups
    }

    /// Every group name, in the order of [`Inventory::groups`].
    pub fn group_names(&self) -> Vec<&str> {
        self.groups
            .iter()
            .map(|group| group.name.as_str())
            .collect()
    }

    /// Things Ansible accepts but that are probably mistakes (a port that Ansible ignores, a
    /// name that is both a host and a group, a skipped file), one line each, for stderr.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The hosts a `--limit` selects (Ansible's host patterns), in inventory order. `None`
    /// selects every host. A sub-pattern that matches nothing, or a limit that selects no host,
    /// is an error.
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&HostEntry>, InventoryError> {
        self.select_with(limit, false)
    }

    /// `select`; with `allow_empty`, patterns that match nothing and an empty selection are
    /// accepted (`--allow-empty`).
    pub fn select_with(
        &self,
        limit: Option<&str>,
        allow_empty: bool,
    ) -> Result<Vec<&HostEntry>, InventoryError> {
        let universe = limit::Universe {
            hosts: &self.hosts,
            groups: &self.groups,
        };
        let chosen = limit::select(&universe, limit, allow_empty)?;
        Ok(chosen.into_iter().map(|host| &self.hosts[host]).collect())
    }

    /// Warnings about a `--limit` that Ansible accepts but has deprecated (`group[0-1]`).
    pub fn limit_warnings(limit: Option<&str>) -> Vec<String> {
        limit.map(pattern::subscript_warnings).unwrap_or_default()
    }

    /// The host named `name`, or an error that suggests a close name.
    pub fn find_host(&self, name: &str) -> Result<&HostEntry, InventoryError> {
        self.host(name).ok_or_else(|| {
            unknown_name(
                "host",
                name,
                self.hosts.iter().map(|host| host.name.as_str()),
            )
        })
    }

    /// The inventory as `ansible-inventory --list` prints it (groups with `hosts` and
    /// `children`, and `_meta.hostvars`), restricted to `selected` hosts.
    pub fn ansible_list(&self, selected: &[&HostEntry]) -> serde_json::Value {
        listing::ansible_list(self, selected)
    }

    /// One host's variables as `ansible-inventory --host NAME` prints them.
    pub fn ansible_host_vars(&self, host: &HostEntry) -> serde_json::Value {
        listing::ansible_host_vars(host)
    }

    /// The group tree from `group` as `ansible-inventory --graph GROUP` draws it, restricted to
    /// `selected` hosts.
    pub fn graph(&self, group: &str, selected: &[&HostEntry]) -> Result<String, InventoryError> {
        listing::graph(self, group, selected).ok_or_else(|| {
            unknown_name("group", group, self.groups.iter().map(|g| g.name.as_str()))
        })
    }
}

fn unknown_name<'a>(
    kind: &'static str,
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> InventoryError {
    let hint = match suggest::closest(name, known) {
        Some(near) => format!("did you mean {near:?}?"),
        None if kind == "host" => "`fleetrmi inventory --list` shows every host".to_owned(),
        None => "`fleetrmi inventory --graph` shows every group".to_owned(),
    };
    InventoryError::UnknownName {
        kind,
        name: name.to_owned(),
        hint: Some(hint),
    }
}

/// One warning for the hosts with an SSH password (`ansible_password`, `ansible_ssh_pass`):
/// fleetrmi logs in with keys only, so those hosts would fail to log in.
fn password_warning(hosts: &[HostEntry]) -> Option<String> {
    let with_password: Vec<&str> = hosts
        .iter()
        .filter(|host| {
            [
                "ansible_password",
                "ansible_ssh_pass",
                "ansible_ssh_password",
            ]
            .iter()
            .any(|name| host.vars.contains_key(*name))
        })
        .map(|host| host.name.as_str())
        .collect();
    let first = with_password.first()?;
    Some(format!(
        "{first}{}: an SSH password is set (ansible_password/ansible_ssh_pass), which fleetrmi \
         does not use: it logs in with keys (agent or key files) only",
        match with_password.len() {
            1 => String::new(),
            more => format!(" and {} more hosts", more - 1),
        }
    ))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

/// Reads the `group_vars/` and `host_vars/` of one source into the tree: one more layer for every
/// group and host (empty where the source has no file for it).
fn add_vars_files(
    tree: &mut GroupTree,
    vars_dir: &Path,
    home: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<(), InventoryError> {
    let group_dir = vars_dir.join("group_vars");
    let host_dir = vars_dir.join("host_vars");
    let (has_group_dir, has_host_dir) = (group_dir.is_dir(), host_dir.is_dir());
    for group in &mut tree.groups {
        let layer = if has_group_dir {
            let scope = VarScope::Group(group.name.clone());
            vars_files::read_entity_vars(&group_dir, &group.name, &scope, home)?
        } else {
            VarLayer::default()
        };
        group.file_vars.push(layer);
    }
    for host in &mut tree.hosts {
        let layer = if has_host_dir {
            let scope = VarScope::Host(host.name.clone());
            vars_files::read_entity_vars(&host_dir, &host.name, &scope, home)?
        } else {
            VarLayer::default()
        };
        host.file_vars.push(layer);
    }
    let group_names = tree.groups.iter().map(|group| group.name.as_str());
    warnings.extend(vars_files::unused_entries(&group_dir, "group", group_names));
    let host_names = tree.hosts.iter().map(|host| host.name.as_str());
    warnings.extend(vars_files::unused_entries(&host_dir, "host", host_names));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::error::SourceLocation;
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
                "ungrouped",
                "builders",
                "x86",
                "arm",
                "services",
                "rootless"
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

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    /// Each variable is set at every level up to one, so its value names the highest level.
    #[test]
    fn precedence_runs_from_all_to_extra_vars() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inventory = write(
            dir.path(),
            "inv.yaml",
            "\
all:
  vars: {a: all, b: all, c: all, d: all, e: all, f: all, g: all, h: all, i: all}
  children:
    parent:
      vars: {b: parent, c: parent, d: parent, e: parent, f: parent, g: parent, h: parent, i: parent}
      children:
        child:
          vars: {c: child, d: child, e: child, f: child, g: child, h: child, i: child}
          hosts:
            h1: {g: host, h: host, i: host}
",
        );
        write(
            dir.path(),
            "group_vars/all.yml",
            "{d: gv_all, e: gv_all, f: gv_all, g: gv_all, h: gv_all, i: gv_all}\n",
        );
        write(
            dir.path(),
            "group_vars/parent.yml",
            "{e: gv_parent, f: gv_parent, g: gv_parent, h: gv_parent, i: gv_parent}\n",
        );
        write(
            dir.path(),
            "group_vars/child/main.yml",
            "{f: gv_child, g: gv_child, h: gv_child, i: gv_child}\n",
        );
        write(dir.path(), "host_vars/h1.yaml", "{h: hv, i: hv}\n");
        let loaded = Inventory::load_all(&[inventory], &["i=extra".to_owned()]).expect("valid");
        let vars = &loaded.host("h1").expect("h1").vars;
        let levels: Vec<&str> = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .map(|name| vars[*name].as_str().expect("string"))
            .collect();
        assert_eq!(
            levels,
            [
                "all",
                "parent",
                "child",
                "gv_all",
                "gv_parent",
                "gv_child",
                "host",
                "hv",
                "extra"
            ]
        );
    }

    #[test]
    fn extra_vars_override_connection_settings_of_every_host() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inventory = write(
            dir.path(),
            "inv.yaml",
            "all:\n  hosts:\n    h1: {ansible_port: 2200, ansible_user: a}\n    h2:\n",
        );
        let extra = ["ansible_port=2222 ansible_user=deploy".to_owned()];
        let loaded = Inventory::load_all(&[inventory], &extra).expect("valid");
        for host in loaded.hosts() {
            assert_eq!((host.port, host.user.as_deref()), (2222, Some("deploy")));
            assert_eq!(host.var_sources["ansible_port"].scope, VarScope::ExtraVars);
        }
    }

    #[test]
    fn several_sources_merge_into_one_inventory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = write(
            dir.path(),
            "a/base.yaml",
            "web:\n  hosts:\n    w1:\n    w2: {x: base}\n  vars: {tier: web}\n",
        );
        let second = write(
            dir.path(),
            "b/more.yaml",
            "web:\n  hosts:\n    w3:\n    w2: {x: more}\ndb:\n  hosts:\n    d1:\n",
        );
        write(dir.path(), "a/group_vars/web.yml", "from: a\n");
        write(dir.path(), "b/group_vars/web.yml", "from: b\n");
        let loaded = Inventory::load_all(&[first.clone(), second.clone()], &[]).expect("valid");
        let names: Vec<&str> = loaded.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["w1", "w2", "w3", "d1"]);
        assert_eq!(loaded.group_names(), ["all", "ungrouped", "web", "db"]);
        let w2 = host(&loaded, "w2");
        assert_eq!(w2.vars["x"], serde_json::json!("more"));
        assert_eq!(w2.vars["from"], serde_json::json!("b"));
        assert_eq!(w2.vars["tier"], serde_json::json!("web"));
        assert_eq!(loaded.sources(), [first, second]);
    }

    #[test]
    fn directory_source_reads_its_files_and_vars() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            dir.path(),
            "inventory/01-web.yml",
            "web:\n  hosts: {w1: }\n",
        );
        write(dir.path(), "inventory/02-db.yaml", "db:\n  hosts: {d1: }\n");
        write(
            dir.path(),
            "inventory/group_vars/db.yml",
            "ansible_port: 2222\n",
        );
        write(dir.path(), "inventory/group_vars/dbs.yml", "typo: true\n");
        write(
            dir.path(),
            "inventory/hosts.ini",
            "[web]\nw1\nw2 ansible_port=2200\n",
        );
        let loaded = Inventory::load(&dir.path().join("inventory")).expect("valid");
        assert_eq!(loaded.hosts().len(), 3);
        assert_eq!(host(&loaded, "d1").port, 2222);
        assert_eq!(host(&loaded, "w2").port, 2200);
        let formats: Vec<Format> = loaded.formats().iter().map(|(_, format)| *format).collect();
        assert_eq!(formats, [Format::Yaml, Format::Yaml, Format::Ini]);
        let warnings = loaded.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with("dbs.yml: names no group of the inventory, so it is not used")
        );
    }

    #[test]
    fn error_in_a_second_source_names_that_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = write(dir.path(), "a.yaml", "all:\n  hosts: {h1: }\n");
        let second = write(
            dir.path(),
            "b.yaml",
            "all:\n  hosts:\n    h2: {ansible_port: x}\n",
        );
        let err = Inventory::load_all(&[first, second.clone()], &[]).expect_err("bad port");
        assert_eq!(
            err.location().map(SourceLocation::file),
            Some(second.as_path())
        );
    }

    #[test]
    fn load_reads_a_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"all:\n  hosts:\n    h1:\n").expect("write");
        let inventory = Inventory::load(file.path()).expect("valid inventory");
        assert_eq!(inventory.hosts().len(), 1);
        assert_eq!(inventory.sources(), [file.path()]);
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
    fn ssh_passwords_are_warned_about_once() {
        let inventory =
            parse("all:\n  vars: {ansible_ssh_pass: secret}\n  hosts: {h1: , h2: , h3: }\n")
                .expect("valid");
        let warnings: Vec<&String> = inventory
            .warnings()
            .iter()
            .filter(|warning| warning.contains("password"))
            .collect();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("h1 and 2 more hosts: "),
            "{warnings:?}"
        );
    }

    #[test]
    fn group_names_list_all_and_ungrouped_first_as_ansible_does() {
        let inventory = parse("web:\n  hosts: {w1: }\ndb:\n  hosts: {d1: }\n").expect("valid");
        assert_eq!(inventory.group_names(), ["all", "ungrouped", "web", "db"]);
    }
}
