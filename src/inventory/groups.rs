//! The group tree of an Ansible YAML inventory, flattened: each group and each host once, with the
//! links between them and their own variables, in order of first appearance, over every file of
//! every inventory source.
//!
//! Ansible's YAML inventory plugin is followed: top-level keys are groups; a group written in
//! several places (or files) is one group whose hosts, children and vars add up (a later
//! definition of a variable wins), and so is a host written under several groups; a key under
//! `hosts:` may name many hosts (`web[01:20]`) and a port (`web1:2222`); a string where `hosts:`
//! or `children:` expects a mapping names one host or group. When every file is read, Ansible's
//! reconciliation runs: each group without a parent becomes a child of `all` (after `ungrouped`,
//! in order of first appearance), and `ungrouped` holds exactly the hosts in no other group.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_saphyr::Spanned;

use super::connection::Setting;
use super::document::{Node, Source, YamlPath};
use super::error::{InventoryError, SourceLocation};
use super::host_pattern::read_host_key;
use super::names::check_name;
use super::suggest::closest;
use super::vars::{Var, VarLayer, VarScope, VarSource};

/// The index of `all` in [`GroupTree::groups`].
pub(crate) const ALL: usize = 0;

/// The index of `ungrouped`, which Ansible creates right after `all`.
pub(crate) const UNGROUPED: usize = 1;

/// Ansible's default `ansible_group_priority`.
const DEFAULT_PRIORITY: i64 = 1;

#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) parents: Vec<usize>,
    /// In the order they were linked, as Ansible lists them.
    pub(crate) children: Vec<usize>,
    /// The hosts listed directly under the group, in order of first listing.
    pub(crate) hosts: Vec<usize>,
    /// The group's own variables from the inventory files (not its parents').
    pub(crate) vars: VarLayer,
    /// The group's variables from `group_vars/` files: one layer per inventory source, in the
    /// order of the sources (filled in after the tree is read).
    pub(crate) file_vars: Vec<VarLayer>,
    /// `ansible_group_priority`: among groups at the same depth, a higher one wins.
    pub(crate) priority: i64,
    /// The length of the longest chain of parents up to `all` (`all` is 0, a top-level group 1).
    pub(crate) depth: usize,
}

#[derive(Debug)]
pub(crate) struct HostDef {
    pub(crate) name: String,
    /// The host's own variables, from all the places it is written.
    pub(crate) vars: VarLayer,
    /// The host's variables from `host_vars/` files, one layer per inventory source.
    pub(crate) file_vars: Vec<VarLayer>,
    /// The groups the host is listed under directly.
    pub(crate) groups: Vec<usize>,
    /// The port of the key it was first listed under (`web1:2222`), which Ansible keeps.
    key_port: Option<u16>,
}

#[derive(Debug)]
pub(crate) struct GroupTree {
    /// `all`, `ungrouped`, then the others in order of first appearance.
    pub(crate) groups: Vec<Group>,
    /// In order of first appearance.
    pub(crate) hosts: Vec<HostDef>,
    /// Things Ansible accepts but that are probably mistakes, one line each.
    pub(crate) warnings: Vec<String>,
}

impl GroupTree {
    /// Reads one document into a tree of its own, for tests and single-file inventories.
    #[cfg(test)]
    pub(crate) fn read(
        root: &Spanned<Node>,
        source: &Source<'_>,
    ) -> Result<GroupTree, InventoryError> {
        let mut builder = TreeBuilder::new();
        builder.read(root, source)?;
        Ok(builder.finish())
    }

    /// The groups a host belongs to: those it is listed under, their ancestors, and `all`.
    pub(crate) fn memberships(&self, host: &HostDef) -> BTreeSet<usize> {
        let mut found = BTreeSet::from([ALL]);
        let mut pending = host.groups.clone();
        while let Some(group) = pending.pop() {
            if found.insert(group) {
                pending.extend(&self.groups[group].parents);
            }
        }
        found
    }
}

/// Reads documents one after the other into one tree.
pub(crate) struct TreeBuilder {
    groups: Vec<Group>,
    hosts: Vec<HostDef>,
    group_ids: HashMap<String, usize>,
    host_ids: HashMap<String, usize>,
    warnings: Vec<String>,
}

impl TreeBuilder {
    pub(crate) fn new() -> TreeBuilder {
        let mut builder = TreeBuilder {
            groups: Vec::new(),
            hosts: Vec::new(),
            group_ids: HashMap::new(),
            host_ids: HashMap::new(),
            warnings: Vec::new(),
        };
        let all = builder.group_id("all");
        let ungrouped = builder.group_id("ungrouped");
        debug_assert_eq!((all, ungrouped), (ALL, UNGROUPED));
        builder.groups[ALL].children.push(UNGROUPED);
        builder.groups[UNGROUPED].parents.push(ALL);
        builder
    }

    fn group_id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.group_ids.get(name) {
            return id;
        }
        let id = self.groups.len();
        self.groups.push(Group {
            name: name.to_owned(),
            parents: Vec::new(),
            children: Vec::new(),
            hosts: Vec::new(),
            vars: VarLayer::default(),
            file_vars: Vec::new(),
            priority: DEFAULT_PRIORITY,
            depth: 0,
        });
        self.group_ids.insert(name.to_owned(), id);
        id
    }

    /// The host's index, creating it if new. A new host listed with a port gets `ansible_port`
    /// as its first variable, as Ansible's `Host(name, port)` does.
    fn host_id(&mut self, name: &str, port: Option<(u16, &str, &SourceLocation)>) -> usize {
        if let Some(&id) = self.host_ids.get(name) {
            if let Some((port, key, at)) = port {
                let host = &self.hosts[id];
                if host.key_port != Some(port) {
                    let kept = match host.key_port {
                        Some(first) => format!("the port of its first listing ({first})"),
                        None => {
                            "no port from its key, as it was first listed without one".to_owned()
                        }
                    };
                    self.warnings.push(format!(
                        "{at}: host `{name}` is listed again as `{key}`, whose port Ansible ignores: it keeps {kept}; set `ansible_port` under the host instead"
                    ));
                }
            }
            return id;
        }
        let id = self.hosts.len();
        let mut vars = VarLayer::default();
        if let Some((port, key, at)) = port {
            vars.insert(
                Setting::Port.canonical(),
                Var {
                    value: serde_json::Value::from(port),
                    source: VarSource {
                        scope: VarScope::HostKey(key.to_owned()),
                        at: at.clone(),
                    },
                },
            );
        }
        self.hosts.push(HostDef {
            name: name.to_owned(),
            vars,
            file_vars: Vec::new(),
            groups: Vec::new(),
            key_port: port.map(|(port, _, _)| port),
        });
        self.host_ids.insert(name.to_owned(), id);
        id
    }

    /// Whether a group of this name has been read so far.
    pub(crate) fn has_group(&self, name: &str) -> bool {
        self.group_ids.contains_key(name)
    }

    /// Reads one inventory document into the tree.
    pub(crate) fn read(
        &mut self,
        root: &Spanned<Node>,
        source: &Source<'_>,
    ) -> Result<(), InventoryError> {
        let path = YamlPath::default();
        let entries = match &root.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: source.at(root.defined, &path),
                    what: "the inventory".to_owned(),
                    expected: "a mapping of group names, usually starting with `all:`",
                    found: other.kind(),
                    hint: None,
                });
            }
        };
        for (key, node) in entries {
            if let (Node::String(plugin), "plugin") = (&node.value, key.value.as_str()) {
                return Err(InventoryError::PluginConfiguration {
                    at: source.at(key.referenced, &path.child("plugin")),
                    plugin: plugin.clone(),
                });
            }
        }
        for (key, node) in entries {
            let name = key.value.as_str();
            if matches!(name, "hosts" | "children" | "vars") {
                return Err(InventoryError::MisplacedKey {
                    at: source.at(key.referenced, &path.child(name)),
                    key: name.to_owned(),
                });
            }
            // Top-level groups are linked to `all` at the end, and only if they have no parent.
            self.read_group(key, node, None, &path, source)?;
        }
        Ok(())
    }

    fn read_group(
        &mut self,
        key: &Spanned<String>,
        node: &Spanned<Node>,
        parent: Option<usize>,
        parent_path: &YamlPath,
        source: &Source<'_>,
    ) -> Result<(), InventoryError> {
        let name = key.value.as_str();
        let path = parent_path.child(name);
        let key_at = source.at(key.referenced, &path);
        check_name("group", name, &key_at)?;
        let id = self.group_id(name);
        if let Some(parent) = parent {
            self.link(parent, id, key_at)?;
        }
        let entries = match &node.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: source.at(node.defined, &path),
                    what: format!("group `{name}`"),
                    expected: "a mapping with `hosts`, `children` or `vars`",
                    found: other.kind(),
                    hint: matches!(other, Node::Sequence(_)).then(|| {
                        "put its hosts under `hosts:`, one per line, each name followed by `:`"
                            .to_owned()
                    }),
                });
            }
        };
        for (section, value) in entries {
            let section_path = path.child(&section.value);
            match section.value.as_str() {
                "hosts" => self.read_hosts(id, value, &section_path, source)?,
                "children" => self.read_children(id, value, &section_path, source)?,
                "vars" => self.read_group_vars(id, value, &section_path, source)?,
                unknown => {
                    return Err(InventoryError::UnknownGroupKey {
                        at: source.at(section.referenced, &section_path),
                        group: name.to_owned(),
                        key: unknown.to_owned(),
                        hint: Some(unknown_key_hint(unknown)),
                    });
                }
            }
        }
        Ok(())
    }

    fn read_hosts(
        &mut self,
        group: usize,
        node: &Spanned<Node>,
        path: &YamlPath,
        source: &Source<'_>,
    ) -> Result<(), InventoryError> {
        // Ansible reads `hosts: web1` as one host without variables.
        let entries = named_entries(
            node,
            || format!("`hosts` of group `{}`", self.groups[group].name),
            "a mapping from host name to variables",
            "host",
            path,
            source,
        )?;
        for (key, value) in entries.iter() {
            let written = key.value.as_str();
            let host_path = path.child(written);
            let key_at = source.at(key.referenced, &host_path);
            let host_key =
                read_host_key(written).map_err(|err| InventoryError::InvalidHostKey {
                    at: key_at.clone(),
                    key: written.to_owned(),
                    reason: err.reason,
                    hint: err.hint,
                })?;
            let scope = VarScope::Host(written.to_owned());
            let vars = match &value.value {
                Node::Null => VarLayer::default(),
                Node::Mapping(vars) => VarLayer::read(vars, &host_path, source, &scope)?,
                other => {
                    return Err(InventoryError::WrongShape {
                        at: source.at(value.defined, &host_path),
                        what: format!("host `{written}`"),
                        expected: "a mapping of variables, or nothing",
                        found: other.kind(),
                        hint: match other {
                            Node::String(address) => Some(format!(
                                "to give its address, write `ansible_host: {address}` on the next line, indented under `{written}:`"
                            )),
                            _ => None,
                        },
                    });
                }
            };
            for name in &host_key.names {
                check_name("host", name, &key_at)?;
                let port = host_key.port.map(|port| (port, written, &key_at));
                let id = self.host_id(name, port);
                self.hosts[id].vars.overlay(&vars);
                if !self.hosts[id].groups.contains(&group) {
                    self.hosts[id].groups.push(group);
                    self.groups[group].hosts.push(id);
                }
            }
        }
        Ok(())
    }

    fn read_children(
        &mut self,
        group: usize,
        node: &Spanned<Node>,
        path: &YamlPath,
        source: &Source<'_>,
    ) -> Result<(), InventoryError> {
        // Ansible reads `children: web` as one child group.
        let entries = named_entries(
            node,
            || format!("`children` of group `{}`", self.groups[group].name),
            "a mapping of group names",
            "child group",
            path,
            source,
        )?;
        for (key, child) in entries.iter() {
            self.read_group(key, child, Some(group), path, source)?;
        }
        Ok(())
    }

    fn read_group_vars(
        &mut self,
        group: usize,
        node: &Spanned<Node>,
        path: &YamlPath,
        source: &Source<'_>,
    ) -> Result<(), InventoryError> {
        let entries = match &node.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: source.at(node.defined, path),
                    what: format!("`vars` of group `{}`", self.groups[group].name),
                    expected: "a mapping of variable names to values",
                    found: other.kind(),
                    hint: Some("write each variable as `name: value` on its own line".to_owned()),
                });
            }
        };
        let scope = VarScope::Group(self.groups[group].name.clone());
        let mut vars = VarLayer::read(entries, path, source, &scope)?;
        // Like Ansible, the priority configures the group and is not a variable of its hosts.
        if let Some(priority) = vars.take("ansible_group_priority") {
            self.groups[group].priority =
                group_priority(&priority.value).ok_or_else(|| InventoryError::InvalidVariable {
                    at: priority.source.at.clone(),
                    name: "ansible_group_priority".to_owned(),
                    expected: "an integer",
                    found: super::connection::describe(&priority.value),
                    hint: None,
                })?;
        }
        self.groups[group].vars.overlay(&vars);
        Ok(())
    }

    /// Makes `child` a child of `parent`, unless that closes a loop.
    fn link(
        &mut self,
        parent: usize,
        child: usize,
        at: SourceLocation,
    ) -> Result<(), InventoryError> {
        if self.groups[parent].children.contains(&child) {
            return Ok(());
        }
        // A loop closes when the new parent already sits below the child.
        if let Some(chain) = self.chain_down(child, parent) {
            let mut cycle: Vec<String> = chain
                .iter()
                .map(|&group| self.groups[group].name.clone())
                .collect();
            cycle.push(self.groups[child].name.clone());
            return Err(InventoryError::GroupCycle {
                at,
                group: self.groups[child].name.clone(),
                cycle,
            });
        }
        self.groups[parent].children.push(child);
        self.groups[child].parents.push(parent);
        Ok(())
    }

    /// A chain of child links from `from` down to `to`, both included (breadth-first, so the
    /// shortest one).
    fn chain_down(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut came_from: HashMap<usize, usize> = HashMap::new();
        let mut pending = VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(group) = pending.pop_front() {
            if group == to {
                let mut chain = vec![to];
                let mut current = to;
                while let Some(&previous) = came_from.get(&current) {
                    chain.push(previous);
                    current = previous;
                }
                chain.reverse();
                return Some(chain);
            }
            for &child in &self.groups[group].children {
                if seen.insert(child) {
                    came_from.insert(child, group);
                    pending.push_back(child);
                }
            }
        }
        None
    }

    /// Ansible's reconciliation, once every document is read.
    pub(crate) fn finish(mut self) -> GroupTree {
        for group in 0..self.groups.len() {
            if group != ALL && self.groups[group].parents.is_empty() {
                self.groups[ALL].children.push(group);
                self.groups[group].parents.push(ALL);
            }
        }
        let mut leaving = vec![false; self.hosts.len()];
        for (index, host) in self.hosts.iter_mut().enumerate() {
            let elsewhere = host
                .groups
                .iter()
                .any(|&group| group != ALL && group != UNGROUPED);
            if elsewhere {
                leaving[index] = host.groups.contains(&UNGROUPED);
                host.groups.retain(|&group| group != UNGROUPED);
            } else if !host.groups.contains(&UNGROUPED) {
                host.groups.push(UNGROUPED);
                self.groups[UNGROUPED].hosts.push(index);
            }
        }
        self.groups[UNGROUPED].hosts.retain(|&host| !leaving[host]);
        let mut depths = vec![None; self.groups.len()];
        for group in 0..self.groups.len() {
            let depth = depth_of(&self.groups, group, &mut depths);
            self.groups[group].depth = depth;
        }
        for host in &self.hosts {
            if self.group_ids.contains_key(&host.name) {
                self.warnings.push(format!(
                    "`{}` is both a host and a group: `--limit {}` selects only the host, as in Ansible",
                    host.name, host.name
                ));
            }
        }
        GroupTree {
            groups: self.groups,
            hosts: self.hosts,
            warnings: self.warnings,
        }
    }
}

/// One `name: value` entry of a YAML mapping, with where each was written.
type NamedEntry = (Spanned<String>, Spanned<Node>);

/// The entries of a `hosts:` or `children:` value: its mapping, a lone name given as a string
/// (as a mapping with that one name), or none for an empty value. Anything else is an error
/// naming `what` and, for a list, how to write each `item` instead.
fn named_entries<'a>(
    node: &'a Spanned<Node>,
    what: impl FnOnce() -> String,
    expected: &'static str,
    item: &str,
    path: &YamlPath,
    source: &Source<'_>,
) -> Result<Cow<'a, [NamedEntry]>, InventoryError> {
    match &node.value {
        Node::Null => Ok(Cow::Borrowed(&[])),
        Node::Mapping(entries) => Ok(Cow::Borrowed(entries.as_slice())),
        Node::String(name) => Ok(Cow::Owned(vec![one_entry(name, node)])),
        other => Err(InventoryError::WrongShape {
            at: source.at(node.defined, path),
            what: what(),
            expected,
            found: other.kind(),
            hint: matches!(other, Node::Sequence(_)).then(|| {
                format!(
                    "write each {item} as a key followed by `:` on its own line, not as a `- ` \
                     list item"
                )
            }),
        }),
    }
}

/// A string given where a mapping of names was expected, as a mapping with that one name.
fn one_entry(name: &str, node: &Spanned<Node>) -> NamedEntry {
    (
        Spanned::new(name.to_owned(), node.referenced, node.defined),
        Spanned::new(Node::Null, node.referenced, node.defined),
    )
}

/// The longest chain of parents up to `all`; the tree has no loops (see `link`).
fn depth_of(groups: &[Group], group: usize, memo: &mut [Option<usize>]) -> usize {
    if let Some(depth) = memo[group] {
        return depth;
    }
    let depth = groups[group]
        .parents
        .iter()
        .map(|&parent| depth_of(groups, parent, memo) + 1)
        .max()
        .unwrap_or(0);
    memo[group] = Some(depth);
    depth
}

/// An integer, or a string of one, as Ansible's `int()` takes it.
fn group_priority(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Why a key is not `hosts`, `children` or `vars`, as far as we can guess.
fn unknown_key_hint(key: &str) -> String {
    if Setting::from_name(key).is_some() || key.starts_with("ansible_") {
        return format!("a group's variables go under `vars:`, e.g. `vars:` / `  {key}: …`");
    }
    let typo = match key {
        "host" | "hostnames" | "servers" | "machines" | "nodes" => Some("hosts"),
        "child" | "childs" | "childrens" | "groups" | "subgroups" => Some("children"),
        "var" | "variables" | "group_vars" => Some("vars"),
        _ => closest(key, ["hosts", "children", "vars"]),
    };
    match typo {
        Some(section) => format!("did you mean `{section}`?"),
        None => "hosts go under `hosts:` and child groups under `children:`".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::document::read_document;
    use super::*;

    fn tree(yaml: &str) -> Result<GroupTree, InventoryError> {
        let root = read_document(yaml, Path::new("inv.yaml")).expect("valid YAML");
        let source = Source {
            file: Path::new("inv.yaml"),
            home: None,
        };
        GroupTree::read(&root, &source)
    }

    fn position(err: &InventoryError) -> (Option<u64>, Option<u64>) {
        let at = err.location().expect("the error has a location");
        (at.line(), at.column())
    }

    fn names(tree: &GroupTree, ids: impl IntoIterator<Item = usize>) -> Vec<&str> {
        ids.into_iter()
            .map(|id| tree.groups[id].name.as_str())
            .collect()
    }

    #[test]
    fn groups_and_hosts_keep_order_of_first_appearance() {
        let tree = tree(
            "all:\n  children:\n    web:\n      hosts:\n        w2:\n        w1:\n    db:\n      hosts:\n        d1:\n        w2:\n",
        )
        .expect("valid");
        let groups: Vec<_> = tree.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(groups, ["all", "ungrouped", "web", "db"]);
        let hosts: Vec<_> = tree.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(hosts, ["w2", "w1", "d1"]);
        assert_eq!(names(&tree, tree.hosts[0].groups.clone()), ["web", "db"]);
    }

    #[test]
    fn top_level_groups_are_children_of_all() {
        let tree = tree("web:\n  hosts:\n    w1:\n").expect("valid");
        assert_eq!(tree.groups[2].name, "web");
        assert_eq!(tree.groups[2].parents, [ALL]);
        assert_eq!(tree.groups[2].depth, 1);
        assert_eq!(
            names(&tree, tree.groups[ALL].children.clone()),
            ["ungrouped", "web"]
        );
    }

    #[test]
    fn top_level_group_that_is_also_a_child_is_not_a_child_of_all() {
        // As in Ansible, only groups without a parent are linked to `all`, after the explicit
        // children of `all`.
        let tree = tree(
            "web:\n  hosts: {w1: }\nprod:\n  children:\n    web:\nall:\n  children:\n    db:\n      hosts: {d1: }\n",
        )
        .expect("valid");
        assert_eq!(
            names(&tree, tree.groups[ALL].children.clone()),
            ["ungrouped", "db", "prod"]
        );
        let web = tree.groups.iter().find(|g| g.name == "web").expect("web");
        assert_eq!(names(&tree, web.parents.clone()), ["prod"]);
        assert_eq!(web.depth, 2);
    }

    #[test]
    fn groups_list_their_direct_hosts_in_order() {
        let tree = tree(
            "all:\n  hosts: {lone: }\n  children:\n    web:\n      hosts: {w2: , w1: }\n      children:\n        canary:\n          hosts: {w3: , w1: }\n",
        )
        .expect("valid");
        let hosts_of = |name: &str| {
            let group = tree.groups.iter().find(|g| g.name == name).expect("group");
            group
                .hosts
                .iter()
                .map(|&h| tree.hosts[h].name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(hosts_of("web"), ["w2", "w1"]);
        assert_eq!(hosts_of("canary"), ["w3", "w1"]);
        assert_eq!(hosts_of("ungrouped"), ["lone"]);
        assert_eq!(hosts_of("all"), ["lone"]);
    }

    #[test]
    fn host_listed_under_ungrouped_and_another_group_leaves_ungrouped() {
        let tree = tree("ungrouped:\n  hosts: {a: , b: }\nweb:\n  hosts: {b: }\n").expect("valid");
        let ungrouped: Vec<_> = tree.groups[UNGROUPED]
            .hosts
            .iter()
            .map(|&h| tree.hosts[h].name.as_str())
            .collect();
        assert_eq!(ungrouped, ["a"]);
        assert_eq!(names(&tree, tree.hosts[1].groups.clone()), ["web"]);
    }

    #[test]
    fn hosts_and_children_given_as_a_string_name_one_entry() {
        let tree = tree("web:\n  hosts: w1\nprod:\n  children: web\n").expect("valid");
        assert_eq!(tree.hosts[0].name, "w1");
        let prod = tree.groups.iter().find(|g| g.name == "prod").expect("prod");
        assert_eq!(names(&tree, prod.children.clone()), ["web"]);
    }

    #[test]
    fn plugin_configuration_is_rejected_with_a_hint() {
        let err = tree("plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n").expect_err("plugin");
        assert_eq!(
            err.to_string(),
            "inv.yaml:1:1: this file configures Ansible's `amazon.aws.aws_ec2` inventory plugin; it is not a YAML inventory"
        );
        assert!(
            err.hint()
                .is_some_and(|hint| hint.contains("ansible-inventory"))
        );
    }

    #[test]
    fn name_that_is_a_host_and_a_group_is_warned_about() {
        let tree = tree("db:\n  hosts: {db: }\n").expect("valid");
        assert_eq!(tree.warnings.len(), 1);
        assert!(tree.warnings[0].starts_with("`db` is both a host and a group"));
    }

    #[test]
    fn group_under_two_parents_is_one_group_whose_content_merges() {
        let tree = tree(
            "all:\n  children:\n    x86:\n      children:\n        gpu:\n          hosts: {g1: }\n    lab:\n      children:\n        gpu:\n          hosts: {g2: }\n          vars: {cuda: 12}\n",
        )
        .expect("valid");
        let gpu = tree
            .groups
            .iter()
            .find(|g| g.name == "gpu")
            .expect("gpu group");
        assert_eq!(names(&tree, gpu.parents.clone()), ["x86", "lab"]);
        assert_eq!(gpu.vars.values()["cuda"], serde_json::json!(12));
        let hosts: Vec<_> = tree.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(hosts, ["g1", "g2"]);
    }

    #[test]
    fn depth_is_the_longest_chain_to_all() {
        let tree = tree(
            "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            c:\n    c:\n",
        )
        .expect("valid");
        let depth = |name: &str| tree.groups.iter().find(|g| g.name == name).map(|g| g.depth);
        assert_eq!(depth("all"), Some(0));
        assert_eq!(depth("a"), Some(1));
        assert_eq!(depth("c"), Some(3));
        assert_eq!(depth("ungrouped"), Some(1));
        assert_eq!(depth("b"), Some(2));
    }

    #[test]
    fn host_only_under_all_is_ungrouped() {
        let tree = tree("all:\n  hosts:\n    lone:\n    both:\n  children:\n    web:\n      hosts:\n        both:\n").expect("valid");
        assert_eq!(
            names(&tree, tree.hosts[0].groups.clone()),
            ["all", "ungrouped"]
        );
        assert_eq!(names(&tree, tree.hosts[1].groups.clone()), ["all", "web"]);
    }

    #[test]
    fn memberships_include_every_ancestor_and_all() {
        let tree =
            tree("a:\n  children:\n    b:\n      children:\n        c:\n          hosts: {h: }\n")
                .expect("valid");
        let membership = tree.memberships(&tree.hosts[0]);
        assert_eq!(names(&tree, membership), ["all", "a", "b", "c"]);
    }

    #[test]
    fn group_priority_is_taken_out_of_vars() {
        let tree = tree("a:\n  vars:\n    ansible_group_priority: 10\n    x: 1\n").expect("valid");
        assert_eq!(tree.groups[2].priority, 10);
        assert!(
            !tree.groups[2]
                .vars
                .values()
                .contains_key("ansible_group_priority")
        );
    }

    #[test]
    fn group_priority_must_be_an_integer() {
        let err =
            tree("a:\n  vars:\n    ansible_group_priority: high\n").expect_err("bad priority");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:29: ansible_group_priority must be an integer, found "high""#
        );
    }

    #[test]
    fn unknown_group_key_is_reported_with_a_suggestion() {
        let err =
            tree("all:\n  children:\n    lab:\n      host:\n        h1:\n").expect_err("typo");
        assert_eq!(
            err.to_string(),
            "inv.yaml:4:7: unknown key `host` in group `lab` (a group has `hosts`, `children` and `vars`)"
        );
        assert_eq!(err.hint(), Some("did you mean `hosts`?"));
        assert_eq!(
            err.location().map(|at| at.yaml_path()),
            Some("all > children > lab > host")
        );
    }

    #[test]
    fn variable_directly_in_a_group_hints_at_vars() {
        let err = tree("all:\n  ansible_user: ci\n").expect_err("var outside vars");
        assert_eq!(position(&err), (Some(2), Some(3)));
        assert!(
            err.hint()
                .is_some_and(|hint| hint.starts_with("a group's variables go under `vars:`"))
        );
    }

    #[test]
    fn host_written_directly_in_a_group_hints_at_hosts() {
        let err = tree("all:\n  web01:\n").expect_err("host outside hosts");
        assert_eq!(
            err.hint(),
            Some("hosts go under `hosts:` and child groups under `children:`")
        );
    }

    #[test]
    fn hosts_as_a_list_is_a_wrong_shape() {
        let err = tree("all:\n  hosts:\n    - h1\n    - h2\n").expect_err("list");
        assert_eq!(
            err.to_string(),
            "inv.yaml:3:5: `hosts` of group `all` must be a mapping from host name to variables, found a list"
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn children_as_a_list_is_a_wrong_shape() {
        let err = tree("all:\n  children: [a, b]\n").expect_err("list");
        assert_eq!(position(&err), (Some(2), Some(13)));
        assert!(matches!(err, InventoryError::WrongShape { .. }));
    }

    #[test]
    fn vars_as_a_string_is_a_wrong_shape() {
        let err = tree("all:\n  vars: port=22\n").expect_err("string vars");
        assert_eq!(
            err.to_string(),
            "inv.yaml:2:9: `vars` of group `all` must be a mapping of variable names to values, found a string"
        );
    }

    #[test]
    fn host_with_a_scalar_value_hints_at_ansible_host() {
        let err = tree("all:\n  hosts:\n    h1: 10.0.0.5\n").expect_err("scalar host");
        assert_eq!(position(&err), (Some(3), Some(9)));
        assert_eq!(
            err.hint(),
            Some(
                "to give its address, write `ansible_host: 10.0.0.5` on the next line, indented under `h1:`"
            )
        );
    }

    #[test]
    fn document_that_is_a_list_is_a_wrong_shape() {
        let err = tree("- h1\n- h2\n").expect_err("list document");
        assert!(
            err.to_string()
                .starts_with("inv.yaml:1:1: the inventory must be a mapping of group names")
        );
    }

    #[test]
    fn hosts_at_top_level_is_misplaced() {
        let err = tree("hosts:\n  h1:\n").expect_err("no all");
        assert_eq!(
            err.to_string(),
            "inv.yaml:1:1: `hosts` cannot be at the top level, where every key is a group name"
        );
    }

    #[test]
    fn group_that_contains_itself_is_a_cycle() {
        let err =
            tree("a:\n  children:\n    b:\n      children:\n        a:\n").expect_err("cycle");
        assert_eq!(
            err.to_string(),
            "inv.yaml:5:9: group `a` is its own ancestor: a > b > a"
        );
    }

    #[test]
    fn cycle_closed_by_a_later_definition_is_found() {
        let err = tree("a:\n  children:\n    b:\nb:\n  children:\n    a:\n").expect_err("cycle");
        assert_eq!(position(&err), (Some(6), Some(5)));
        assert!(
            matches!(err, InventoryError::GroupCycle { ref cycle, .. } if cycle == &["a", "b", "a"])
        );
    }

    #[test]
    fn all_as_a_child_is_a_cycle() {
        let err = tree("all:\n  children:\n    lab:\n      children:\n        all:\n")
            .expect_err("cycle");
        assert_eq!(
            err.to_string(),
            "inv.yaml:5:9: group `all` is its own ancestor: all > lab > all"
        );
    }

    #[test]
    fn host_range_names_every_host_with_the_same_vars() {
        let tree = tree("web:\n  hosts:\n    web[01:03].example.com:\n      tier: front\n")
            .expect("range");
        let hosts: Vec<_> = tree.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "web01.example.com",
                "web02.example.com",
                "web03.example.com"
            ]
        );
        assert!(
            tree.hosts
                .iter()
                .all(|h| h.vars.values()["tier"] == "front")
        );
    }

    #[test]
    fn invalid_range_is_reported_at_the_key() {
        let err = tree("all:\n  hosts:\n    web[01:100]:\n").expect_err("range");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:5: host key "web[01:100]" has a range [01:100] whose begin and end have different widths"#
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn port_in_the_key_sets_ansible_port_before_the_host_vars() {
        let tree = tree("all:\n  hosts:\n    web1:2222:\n    web2:2222:\n      ansible_port: 22\n")
            .expect("host:port");
        let vars: Vec<_> = tree.hosts.iter().map(|h| h.vars.values()).collect();
        assert_eq!(vars[0]["ansible_port"], 2222);
        assert_eq!(vars[1]["ansible_port"], 22);
        let source = &tree.hosts[0].vars.sources()["ansible_port"];
        assert_eq!(source.to_string(), "host key `web1:2222`, inv.yaml:3:5");
    }

    #[test]
    fn port_of_a_later_listing_is_ignored_with_a_warning() {
        let tree = tree("a:\n  hosts:\n    web1:2222:\nb:\n  hosts:\n    web1:2200:\n    web1:\n")
            .expect("valid");
        assert_eq!(tree.hosts.len(), 1);
        assert_eq!(tree.hosts[0].vars.values()["ansible_port"], 2222);
        assert_eq!(tree.warnings.len(), 1);
        assert!(
            tree.warnings[0]
                .starts_with("inv.yaml:6:5: host `web1` is listed again as `web1:2200`"),
            "{}",
            tree.warnings[0]
        );
    }

    #[test]
    fn ipv6_host_name_is_accepted() {
        let tree = tree("all:\n  hosts:\n    \"fd00::1\":\n").expect("valid");
        assert_eq!(tree.hosts[0].name, "fd00::1");
    }

    #[test]
    fn host_name_with_a_space_is_rejected() {
        let err = tree("all:\n  hosts:\n    web 1:\n").expect_err("space");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:5: host name "web 1" contains a space or a comma"#
        );
    }
}
