//! `fleetrmi inventory --list | --graph [GROUP] | --host NAME`: what fleetrmi resolved from the
//! inventory (hosts, groups, connection settings and where each was set), without contacting
//! any host.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::cli::{GlobalArgs, InventoryArgs, OutputFormat};
use crate::inventory::{HostEntry, Inventory};
use crate::report::exit_code;
use crate::request::{InputError, load_inventory};

pub(crate) fn run(global: &GlobalArgs, args: &InventoryArgs) -> Result<i32, InputError> {
    let inventory = load_inventory(global)?;
    if let Some(name) = &args.host {
        let host = inventory.find_host(name)?;
        match global.output {
            OutputFormat::Table => println!("{}", render_host(host)),
            format => println!("{}", json(&inventory.ansible_host_vars(host), format)),
        }
        return Ok(exit_code::SUCCESS);
    }
    let selected = inventory.select_with(global.limit.as_deref(), global.allow_empty)?;
    if let Some(group) = &args.graph {
        println!("{}", inventory.graph(group, &selected)?);
    } else {
        match global.output {
            OutputFormat::Table => println!("{}", render_list(&inventory, &selected)),
            format => println!("{}", json(&inventory.ansible_list(&selected), format)),
        }
    }
    Ok(exit_code::SUCCESS)
}

/// The document, indented for `json`, on one line for `ndjson`.
fn json(value: &serde_json::Value, format: OutputFormat) -> String {
    match format {
        OutputFormat::Ndjson => value.to_string(),
        _ => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
    }
}

/// One row per selected host: where and how fleetrmi connects, and its groups.
fn render_list(inventory: &Inventory, selected: &[&HostEntry]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
        "host",
        "address",
        "port",
        "user",
        "identity file",
        "docker socket",
        "groups",
    ]);
    for host in selected {
        let groups: Vec<&str> = host
            .groups
            .iter()
            .map(String::as_str)
            .filter(|group| *group != "all")
            .collect();
        table.add_row(vec![
            Cell::new(&host.name),
            Cell::new(&host.address),
            Cell::new(host.port).set_alignment(CellAlignment::Right),
            Cell::new(host.user.as_deref().unwrap_or("-")),
            Cell::new(
                host.identity_file
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |path| path.display().to_string()),
            ),
            Cell::new(&host.docker_socket),
            Cell::new(groups.join(", ")),
        ]);
    }
    format!(
        "{table}\n{} of {} hosts, {} groups",
        selected.len(),
        inventory.hosts().len(),
        inventory.groups().len()
    )
}

/// Every connection setting and variable of one host, each with where it was set:
/// `ansible_port = 2222  (group lab, inventories/x.yaml:7:9)`.
fn render_host(host: &HostEntry) -> String {
    let mut lines = vec![
        format!("host: {}", host.name),
        format!("groups: {}", host.groups.join(", ")),
    ];
    let settings = host.connection_settings();
    for setting in &settings {
        lines.push(match (&setting.value, setting.source) {
            (Some(value), Some(source)) => format!("{} = {value}  ({source})", setting.name),
            (Some(value), None) => format!("{} = {value}  (default)", setting.name),
            (None, _) => format!("{}  (not set)", setting.name),
        });
    }
    let others: Vec<String> = host
        .vars
        .iter()
        .filter(|(name, _)| !settings.iter().any(|setting| setting.name == *name))
        .map(|(name, value)| {
            let shown = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            match host.var_sources.get(name) {
                Some(source) => format!("{name} = {shown}  ({source})"),
                None => format!("{name} = {shown}"),
            }
        })
        .collect();
    if !others.is_empty() {
        lines.push("other variables:".to_owned());
        lines.extend(others);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn inventory() -> Inventory {
        Inventory::parse(
            "all:\n  vars:\n    ansible_user: ci\n  children:\n    lab:\n      vars:\n        ansible_port: 2222\n        team: infra\n      hosts:\n        h1:\n          ansible_host: 10.0.0.1\n        h2:\n",
            Path::new("inv.yaml"),
        )
        .expect("valid")
    }

    #[test]
    fn host_view_shows_each_setting_with_its_source() {
        let inventory = inventory();
        let shown = render_host(inventory.host("h1").expect("h1"));
        assert_eq!(
            shown,
            "\
host: h1
groups: all, lab
ansible_host = 10.0.0.1  (host h1, inv.yaml:11:25)
ansible_port = 2222  (group lab, inv.yaml:7:23)
ansible_user = ci  (group all, inv.yaml:3:19)
ansible_ssh_private_key_file  (not set)
docker_socket = /var/run/docker.sock  (default)
other variables:
team = infra  (group lab, inv.yaml:8:15)"
        );
    }

    #[test]
    fn list_view_has_a_row_per_selected_host_and_a_count() {
        let inventory = inventory();
        let selected = inventory.select(Some("h2")).expect("valid");
        let shown = render_list(&inventory, &selected);
        assert!(shown.contains("h2"), "{shown}");
        assert!(!shown.contains("10.0.0.1"), "{shown}");
        assert!(shown.ends_with("1 of 2 hosts, 3 groups"), "{shown}");
    }
}
