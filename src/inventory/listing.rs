//! The inventory shown as `ansible-inventory` shows it: `--list` (groups with their direct
//! `hosts` and `children`, empty groups left out, and every host's effective variables under
//! `_meta.hostvars`) and `--graph` (the group tree drawn with `|--`), so the two tools' views of
//! one inventory can be compared line by line.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::groups::ALL;
use super::{HostEntry, Inventory};

/// Variables `ansible-inventory` never shows (its `INTERNAL_STATIC_VARS`): a file that sets one
/// is overridden by Ansible's own value at run time.
const INTERNAL_VARS: [&str; 33] = [
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
];

/// `ansible-inventory --host NAME`: the host's effective variables.
pub(crate) fn ansible_host_vars(host: &HostEntry) -> Value {
    Value::Object(visible_vars(host))
}

fn visible_vars(host: &HostEntry) -> Map<String, Value> {
    host.vars
        .iter()
        .filter(|(name, _)| !INTERNAL_VARS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// `ansible-inventory --list`, for the `selected` hosts only.
pub(crate) fn ansible_list(inventory: &Inventory, selected: &[&HostEntry]) -> Value {
    let available = selected_flags(inventory, selected);
    let mut results = Map::new();
    let mut seen = vec![false; inventory.groups.len()];
    format_group(inventory, ALL, &available, &mut seen, &mut results);
    let mut hostvars = Map::new();
    for host in selected {
        let vars = visible_vars(host);
        if !vars.is_empty() {
            hostvars.insert(host.name.clone(), Value::Object(vars));
        }
    }
    let mut meta = Map::new();
    meta.insert("hostvars".to_owned(), Value::Object(hostvars));
    results.insert("_meta".to_owned(), Value::Object(meta));
    Value::Object(results)
}

fn selected_flags(inventory: &Inventory, selected: &[&HostEntry]) -> Vec<bool> {
    let names: HashSet<&str> = selected.iter().map(|host| host.name.as_str()).collect();
    inventory
        .hosts
        .iter()
        .map(|host| names.contains(host.name.as_str()))
        .collect()
}

fn format_group(
    inventory: &Inventory,
    group: usize,
    available: &[bool],
    seen: &mut [bool],
    results: &mut Map<String, Value>,
) {
    let entry = &inventory.groups[group];
    let mut formatted = Map::new();
    if group != ALL {
        let hosts: Vec<Value> = entry
            .hosts
            .iter()
            .filter(|&&host| available[host])
            .map(|&host| Value::String(inventory.hosts[host].name.clone()))
            .collect();
        if !hosts.is_empty() {
            formatted.insert("hosts".to_owned(), Value::Array(hosts));
        }
    }
    let children: Vec<Value> = entry
        .children
        .iter()
        .map(|&child| Value::String(inventory.groups[child].name.clone()))
        .collect();
    if !children.is_empty() {
        formatted.insert("children".to_owned(), Value::Array(children));
    }
    for &child in &entry.children {
        if !seen[child] {
            seen[child] = true;
            format_group(inventory, child, available, seen, results);
        }
    }
    if !formatted.is_empty() {
        results.insert(entry.name.clone(), Value::Object(formatted));
    }
}

/// `ansible-inventory --graph GROUP`, showing only the `selected` hosts.
pub(crate) fn graph(inventory: &Inventory, group: &str, selected: &[&HostEntry]) -> Option<String> {
    let start = inventory.groups.iter().position(|g| g.name == group)?;
    let available = selected_flags(inventory, selected);
    let mut lines = Vec::new();
    graph_group(inventory, start, 0, &available, &mut lines);
    Some(lines.join("\n"))
}

fn graph_group(
    inventory: &Inventory,
    group: usize,
    depth: usize,
    available: &[bool],
    lines: &mut Vec<String>,
) {
    let entry = &inventory.groups[group];
    lines.push(graph_line(&format!("@{}:", entry.name), depth));
    for &child in &entry.children {
        graph_group(inventory, child, depth + 1, available, lines);
    }
    if group != ALL {
        for &host in entry.hosts.iter().filter(|&&host| available[host]) {
            lines.push(graph_line(&inventory.hosts[host].name, depth + 1));
        }
    }
}

fn graph_line(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_owned()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::parse;

    const SHOP: &str = "\
all:
  hosts:
    bastion: {ansible_port: 2200}
  children:
    prod:
      children:
        web:
          hosts:
            web1: {ansible_host: 10.0.0.1}
            web2:
        db:
          hosts:
            db1:
    staging:
      children:
        web:
      hosts:
        stage1:
    empty:
";

    #[test]
    fn list_has_groups_hosts_children_and_hostvars() {
        let inventory = parse(SHOP).expect("valid");
        let all: Vec<_> = inventory.hosts().iter().collect();
        assert_eq!(
            inventory.ansible_list(&all),
            json!({
                "_meta": {"hostvars": {
                    "bastion": {"ansible_port": 2200},
                    "web1": {"ansible_host": "10.0.0.1"},
                }},
                "all": {"children": ["ungrouped", "prod", "staging", "empty"]},
                "ungrouped": {"hosts": ["bastion"]},
                "prod": {"children": ["web", "db"]},
                "web": {"hosts": ["web1", "web2"]},
                "db": {"hosts": ["db1"]},
                "staging": {"children": ["web"], "hosts": ["stage1"]},
            })
        );
    }

    #[test]
    fn list_of_a_selection_drops_other_hosts_and_empty_groups() {
        let inventory = parse(SHOP).expect("valid");
        let selected = inventory.select(Some("web:!web2")).expect("valid");
        let list = inventory.ansible_list(&selected);
        assert_eq!(list["web"], json!({"hosts": ["web1"]}));
        assert_eq!(list["prod"], json!({"children": ["web", "db"]}));
        assert!(list.get("db").is_none());
        assert_eq!(
            list["_meta"]["hostvars"],
            json!({"web1": {"ansible_host": "10.0.0.1"}})
        );
    }

    #[test]
    fn internal_variables_are_not_listed() {
        let inventory =
            parse("all:\n  hosts:\n    h1: {inventory_hostname: x, group_names: [a], team: t}\n")
                .expect("valid");
        let all: Vec<_> = inventory.hosts().iter().collect();
        assert_eq!(
            inventory.ansible_list(&all)["_meta"]["hostvars"],
            json!({"h1": {"team": "t"}})
        );
    }

    #[test]
    fn graph_draws_the_tree_like_ansible_inventory() {
        let inventory = parse(SHOP).expect("valid");
        let all: Vec<_> = inventory.hosts().iter().collect();
        assert_eq!(
            inventory.graph("all", &all).expect("all exists"),
            "\
@all:
  |--@ungrouped:
  |  |--bastion
  |--@prod:
  |  |--@web:
  |  |  |--web1
  |  |  |--web2
  |  |--@db:
  |  |  |--db1
  |--@staging:
  |  |--@web:
  |  |  |--web1
  |  |  |--web2
  |  |--stage1
  |--@empty:"
        );
        assert_eq!(
            inventory
                .graph("prod", &all)
                .expect("prod exists")
                .lines()
                .count(),
            6
        );
        let err = inventory.graph("prd", &all).expect_err("no such group");
        assert_eq!(err.to_string(), r#"the inventory has no group named "prd""#);
        assert_eq!(err.hint(), Some(r#"did you mean "prod"?"#));
    }
}
