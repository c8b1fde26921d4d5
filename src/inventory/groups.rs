//! The group tree of an Ansible YAML inventory, flattened: each group and each host once, with the
//! links between them and their own variables, in order of first appearance.
//!
//! Ansible's rules are followed: top-level keys are groups, `all` is the parent of every other
//! top-level group, a group written in several places is one group whose hosts, children and
//! vars add up (a later definition of a variable wins), and a host written under several groups
//! is one host whose variables add up the same way. Hosts that belong to no group but `all` are
//! also in the implicit group `ungrouped`.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_saphyr::Spanned;

use super::connection::Setting;
use super::document::{Node, Source, YamlPath};
use super::error::{InventoryError, SourceLocation};
use super::names::{check_host_name, check_name};
use super::suggest::closest;
use super::vars::VarLayer;

/// The index of `all` in [`GroupTree::groups`].
pub(crate) const ALL: usize = 0;

/// The implicit group of hosts that belong to no group but `all`.
const UNGROUPED: &str = "ungrouped";

/// Ansible's default `ansible_group_priority`.
const DEFAULT_PRIORITY: i64 = 1;

#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) parents: Vec<usize>,
    pub(crate) children: Vec<usize>,
    /// The group's own variables (not its parents').
    pub(crate) vars: VarLayer,
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
    /// The groups the host is listed under directly.
    pub(crate) groups: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct GroupTree {
    /// `all` first, then the others in order of first appearance.
    pub(crate) groups: Vec<Group>,
    /// In order of first appearance.
    pub(crate) hosts: Vec<HostDef>,
}

impl GroupTree {
    /// Reads the document into groups and hosts, checking its structure and its variables.
    pub(crate) fn read(
        root: &Spanned<Node>,
        source: &Source<'_>,
    ) -> Result<GroupTree, InventoryError> {
        let mut builder = TreeBuilder::new(source);
        builder.read_root(root)?;
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

struct TreeBuilder<'s> {
    source: &'s Source<'s>,
    groups: Vec<Group>,
    hosts: Vec<HostDef>,
    group_ids: HashMap<String, usize>,
    host_ids: HashMap<String, usize>,
}

impl<'s> TreeBuilder<'s> {
    fn new(source: &'s Source<'s>) -> TreeBuilder<'s> {
        let mut builder = TreeBuilder {
            source,
            groups: Vec::new(),
            hosts: Vec::new(),
            group_ids: HashMap::new(),
            host_ids: HashMap::new(),
        };
        let all = builder.group_id("all");
        debug_assert_eq!(all, ALL);
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
            vars: VarLayer::default(),
            priority: DEFAULT_PRIORITY,
            depth: 0,
        });
        self.group_ids.insert(name.to_owned(), id);
        id
    }

    fn host_id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.host_ids.get(name) {
            return id;
        }
        let id = self.hosts.len();
        self.hosts.push(HostDef {
            name: name.to_owned(),
            vars: VarLayer::default(),
            groups: Vec::new(),
        });
        self.host_ids.insert(name.to_owned(), id);
        id
    }

    fn read_root(&mut self, root: &Spanned<Node>) -> Result<(), InventoryError> {
        let path = YamlPath::default();
        let entries = match &root.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: self.source.at(root.defined, &path),
                    what: "the inventory".to_owned(),
                    expected: "a mapping of group names, usually starting with `all:`",
                    found: other.kind(),
                    hint: None,
                });
            }
        };
        for (key, node) in entries {
            let name = key.value.as_str();
            if matches!(name, "hosts" | "children" | "vars") {
                return Err(InventoryError::MisplacedKey {
                    at: self.source.at(key.referenced, &path.child(name)),
                    key: name.to_owned(),
                });
            }
            let parent = (name != "all").then_some(ALL);
            self.read_group(key, node, parent, &path)?;
        }
        Ok(())
    }

    fn read_group(
        &mut self,
        key: &Spanned<String>,
        node: &Spanned<Node>,
        parent: Option<usize>,
        parent_path: &YamlPath,
    ) -> Result<(), InventoryError> {
        let name = key.value.as_str();
        let path = parent_path.child(name);
        let key_at = self.source.at(key.referenced, &path);
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
                    at: self.source.at(node.defined, &path),
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
                "hosts" => self.read_hosts(id, value, &section_path)?,
                "children" => self.read_children(id, value, &section_path)?,
                "vars" => self.read_group_vars(id, value, &section_path)?,
                unknown => {
                    return Err(InventoryError::UnknownGroupKey {
                        at: self.source.at(section.referenced, &section_path),
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
    ) -> Result<(), InventoryError> {
        let entries = match &node.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: self.source.at(node.defined, path),
                    what: format!("`hosts` of group `{}`", self.groups[group].name),
                    expected: "a mapping from host name to variables",
                    found: other.kind(),
                    hint: matches!(other, Node::Sequence(_)).then(|| {
                        "write each host as a key followed by `:` on its own line, not as a `- ` list item"
                            .to_owned()
                    }),
                });
            }
        };
        for (key, value) in entries {
            let name = key.value.as_str();
            let host_path = path.child(name);
            check_host_name(name, &self.source.at(key.referenced, &host_path))?;
            let vars = match &value.value {
                Node::Null => VarLayer::default(),
                Node::Mapping(vars) => VarLayer::read(vars, &host_path, self.source)?,
                other => {
                    return Err(InventoryError::WrongShape {
                        at: self.source.at(value.defined, &host_path),
                        what: format!("host `{name}`"),
                        expected: "a mapping of variables, or nothing",
                        found: other.kind(),
                        hint: match other {
                            Node::String(address) => Some(format!(
                                "to give its address, write `ansible_host: {address}` on the next line, indented under `{name}:`"
                            )),
                            _ => None,
                        },
                    });
                }
            };
            let id = self.host_id(name);
            let host = &mut self.hosts[id];
            host.vars.overlay(&vars);
            if !host.groups.contains(&group) {
                host.groups.push(group);
            }
        }
        Ok(())
    }

    fn read_children(
        &mut self,
        group: usize,
        node: &Spanned<Node>,
        path: &YamlPath,
    ) -> Result<(), InventoryError> {
        match &node.value {
            Node::Null => Ok(()),
            Node::Mapping(entries) => {
                for (key, child) in entries {
                    self.read_group(key, child, Some(group), path)?;
                }
                Ok(())
            }
            other => Err(InventoryError::WrongShape {
                at: self.source.at(node.defined, path),
                what: format!("`children` of group `{}`", self.groups[group].name),
                expected: "a mapping of group names",
                found: other.kind(),
                hint: matches!(other, Node::Sequence(_)).then(|| {
                    "write each child group as a key followed by `:` on its own line, not as a `- ` list item"
                        .to_owned()
                }),
            }),
        }
    }

    fn read_group_vars(
        &mut self,
        group: usize,
        node: &Spanned<Node>,
        path: &YamlPath,
    ) -> Result<(), InventoryError> {
        let entries = match &node.value {
            Node::Null => return Ok(()),
            Node::Mapping(entries) => entries,
            other => {
                return Err(InventoryError::WrongShape {
                    at: self.source.at(node.defined, path),
                    what: format!("`vars` of group `{}`", self.groups[group].name),
                    expected: "a mapping of variable names to values",
                    found: other.kind(),
                    hint: Some("write each variable as `name: value` on its own line".to_owned()),
                });
            }
        };
        let mut vars = VarLayer::read(entries, path, self.source)?;
        // Like Ansible, the priority configures the group and is not a variable of its hosts.
        if let Some(priority) = vars.take("ansible_group_priority") {
            self.groups[group].priority =
                group_priority(&priority.value).ok_or_else(|| InventoryError::InvalidVariable {
                    at: priority.at.clone(),
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

    fn finish(mut self) -> GroupTree {
        let ungrouped = self.group_id(UNGROUPED);
        if !self.groups[ALL].children.contains(&ungrouped) {
            self.groups[ALL].children.push(ungrouped);
            self.groups[ungrouped].parents.push(ALL);
        }
        // Ansible's reconciliation: `ungrouped` holds exactly the hosts in no other group.
        for host in &mut self.hosts {
            let elsewhere = host
                .groups
                .iter()
                .any(|&group| group != ALL && group != ungrouped);
            if elsewhere {
                host.groups.retain(|&group| group != ungrouped);
            } else if !host.groups.contains(&ungrouped) {
                host.groups.push(ungrouped);
            }
        }
        let mut depths = vec![None; self.groups.len()];
        for group in 0..self.groups.len() {
            let depth = depth_of(&self.groups, group, &mut depths);
            self.groups[group].depth = depth;
        }
        GroupTree {
            groups: self.groups,
            hosts: self.hosts,
        }
    }
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
        assert_eq!(groups, ["all", "web", "db", "ungrouped"]);
        let hosts: Vec<_> = tree.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(hosts, ["w2", "w1", "d1"]);
        assert_eq!(names(&tree, tree.hosts[0].groups.clone()), ["web", "db"]);
    }

    #[test]
    fn top_level_groups_are_children_of_all() {
        let tree = tree("web:\n  hosts:\n    w1:\n").expect("valid");
        assert_eq!(tree.groups[1].name, "web");
        assert_eq!(tree.groups[1].parents, [ALL]);
        assert_eq!(tree.groups[1].depth, 1);
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
        assert_eq!(tree.groups[1].priority, 10);
        assert!(
            !tree.groups[1]
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
    fn host_range_is_not_supported() {
        let err = tree("all:\n  hosts:\n    web[01:10]:\n").expect_err("range");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:5: host name "web[01:10]" is a host range, which fleetrmi does not expand yet"#
        );
    }

    #[test]
    fn host_with_port_suffix_is_rejected_with_a_hint() {
        let err = tree("all:\n  hosts:\n    web1:2222:\n").expect_err("host:port");
        assert_eq!(
            err.hint(),
            Some("write `web1:` and set `ansible_port: 2222` under it")
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
