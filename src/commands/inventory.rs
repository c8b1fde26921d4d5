//! `fleetrmi inventory --list | --graph [GROUP] | --host NAME`: what fleetrmi resolved from the
//! inventory (hosts, groups, connection settings and where each was set), without contacting
//! any host. Connection settings the inventory leaves unset are shown as the SSH layer resolves
//! them (ssh_config, then defaults), so what is shown is what a run uses.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::cli::{GlobalArgs, InventoryArgs, OutputFormat};
use crate::inventory::{HostEntry, Inventory};
use crate::report::exit_code;
use crate::request::{InputError, load_inventory, load_ssh_config, resolve_host_ssh, select_limit};
use crate::ssh::{ResolvedSsh, SettingSource, SshConfig};

pub(crate) fn run(global: &GlobalArgs, args: &InventoryArgs) -> Result<i32, InputError> {
    let inventory = load_inventory(global)?;
    if global.verbose {
        for (source, format) in inventory.formats() {
            eprintln!("{}: read as {format}", source.display());
        }
    }
    if let Some(name) = &args.host {
        let host = inventory.find_host(name)?;
        match global.output {
            OutputFormat::Table => {
                let ssh = resolve_ssh(global, &[host]).pop().flatten();
                println!("{}", render_host(host, ssh.as_ref()));
            }
            format => println!("{}", json(&inventory.ansible_host_vars(host), format)),
        }
        return Ok(exit_code::SUCCESS);
    }
    let selected = select_limit(&inventory, global)?;
    if let Some(group) = &args.graph {
        println!("{}", inventory.graph(group, &selected)?);
    } else {
        match global.output {
            OutputFormat::Table => {
                let ssh = resolve_ssh(global, &selected);
                println!("{}", render_list(&inventory, &selected, &ssh));
            }
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

/// Each host's SSH settings as a run would resolve them; `None` (with a warning) where they
/// cannot be, e.g. an unreadable ssh_config: the inventory's own view is shown then.
fn resolve_ssh(global: &GlobalArgs, hosts: &[&HostEntry]) -> Vec<Option<ResolvedSsh>> {
    let config: SshConfig = match load_ssh_config(global) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("warning: ssh_config not applied: {error}");
            return vec![None; hosts.len()];
        }
    };
    hosts
        .iter()
        .map(|host| match resolve_host_ssh(host, &config, global) {
            Ok(resolved) => Some(resolved),
            Err(error) => {
                eprintln!("warning: {}: SSH settings not resolved: {error}", host.name);
                None
            }
        })
        .collect()
}

/// One row per selected host: where and how fleetrmi connects, and its groups.
fn render_list(
    inventory: &Inventory,
    selected: &[&HostEntry],
    ssh: &[Option<ResolvedSsh>],
) -> String {
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
    for (position, host) in selected.iter().enumerate() {
        let groups: Vec<&str> = host
            .groups
            .iter()
            .map(String::as_str)
            .filter(|group| *group != "all")
            .collect();
        let (address, port, user, keys) = match ssh.get(position).and_then(Option::as_ref) {
            Some(resolved) => (
                resolved.hostname.value.clone(),
                resolved.port.value,
                resolved.user.value.clone(),
                configured_keys(resolved).unwrap_or_else(|| "-".to_owned()),
            ),
            None => (
                host.address.clone(),
                host.port,
                host.user.clone().unwrap_or_else(|| "-".to_owned()),
                host.identity_file
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |path| path.display().to_string()),
            ),
        };
        table.add_row(vec![
            Cell::new(&host.name),
            Cell::new(address),
            Cell::new(port).set_alignment(CellAlignment::Right),
            Cell::new(user),
            Cell::new(keys),
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

/// The key files ssh_config or the command line configure, or `None` for OpenSSH's defaults.
fn configured_keys(ssh: &ResolvedSsh) -> Option<String> {
    let configured: Vec<String> = ssh
        .identity_files
        .iter()
        .filter(|file| file.source != SettingSource::Default)
        .map(|file| file.value.display().to_string())
        .collect();
    (!configured.is_empty()).then(|| configured.join(", "))
}

/// A connection setting the inventory leaves unset, as the SSH layer resolved it.
fn resolved_setting(name: &str, ssh: &ResolvedSsh) -> Option<String> {
    let (value, source) = match name {
        "ansible_host" => (ssh.hostname.value.clone(), &ssh.hostname.source),
        "ansible_port" => (ssh.port.value.to_string(), &ssh.port.source),
        "ansible_user" => (ssh.user.value.clone(), &ssh.user.source),
        "ansible_ssh_private_key_file" => {
            let first = ssh.identity_files.first()?;
            let files: Vec<String> = ssh
                .identity_files
                .iter()
                .map(|file| file.value.display().to_string())
                .collect();
            (files.join(", "), &first.source)
        }
        _ => return None,
    };
    Some(format!("{name} = {value}  ({source})"))
}

/// Every connection setting and variable of one host, each with where it was set:
/// `ansible_port = 2222  (group lab, inventories/x.yaml:7:9)`; settings the inventory leaves
/// unset come from `ssh` (ssh_config or defaults) when given.
fn render_host(host: &HostEntry, ssh: Option<&ResolvedSsh>) -> String {
    let mut lines = vec![
        format!("host: {}", host.name),
        format!("groups: {}", host.groups.join(", ")),
    ];
    let settings = host.connection_settings();
    for setting in &settings {
        let resolved = ssh.and_then(|ssh| resolved_setting(setting.name, ssh));
        lines.push(match (&setting.value, setting.source, resolved) {
            (Some(value), Some(source), _) => format!("{} = {value}  ({source})", setting.name),
            (_, _, Some(line)) => line,
            (Some(value), _, None) => format!("{} = {value}  (default)", setting.name),
            (None, _, None) => format!("{}  (not set)", setting.name),
        });
    }
    if let Some(ssh) = ssh {
        if !ssh.jumps.is_empty() {
            let hops: Vec<&str> = ssh.jumps.iter().map(|hop| hop.name.as_str()).collect();
            let source = ssh
                .jump_source
                .as_ref()
                .map_or_else(|| "default".to_owned(), ToString::to_string);
            lines.push(format!("jump hosts = {}  ({source})", hops.join(", ")));
        }
        lines.push(format!(
            "connect timeout = {}  ({})",
            humantime::format_duration(ssh.connect_timeout.value),
            ssh.connect_timeout.source
        ));
        lines.push(format!(
            "host key checking = {}  ({})",
            ssh.host_key_checking.value, ssh.host_key_checking.source
        ));
        let known: Vec<String> = ssh
            .known_hosts_files
            .value
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        lines.push(format!(
            "known_hosts = {}  ({})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
            ssh.known_hosts_files.source
        ));
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
    for (short, ansible) in host.short_names_not_read() {
        lines.push(format!(
            "note: `{short}` is an ordinary variable, not a connection setting (as in Ansible; \
             fleetrmi no longer reads short names): set `{ansible}` to connect with it"
        ));
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
        let shown = render_host(inventory.host("h1").expect("h1"), None);
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
    fn host_view_takes_unset_settings_from_ssh_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("ssh_config");
        std::fs::write(
            &config_path,
            "Host h2\n  HostName 10.0.0.2\n  Port 2200\n  IdentityFile /keys/lab\n",
        )
        .expect("write");
        let config = SshConfig::load_file(&config_path, None).expect("valid ssh_config");
        let inventory = inventory();
        let h2 = inventory.host("h2").expect("h2");
        let inventory_ssh = crate::request::inventory_ssh(h2).expect("valid");
        let local = crate::ssh::LocalEnv {
            home: Some("/home/tester".into()),
            user: "tester".to_owned(),
        };
        let resolved = crate::ssh::resolve_ssh_settings(
            &inventory_ssh,
            &config,
            &crate::ssh::CliSsh::default(),
            &local,
        )
        .expect("resolved");
        let shown = render_host(h2, Some(&resolved));
        let config = config_path.display();
        for line in [
            format!("ansible_host = 10.0.0.2  (ssh config ({config}:2))"),
            // The inventory's group `lab` sets the port: ssh_config's Port does not apply.
            "ansible_port = 2222  (group lab, inv.yaml:7:23)".to_owned(),
            "ansible_user = ci  (group all, inv.yaml:3:19)".to_owned(),
            format!("ansible_ssh_private_key_file = /keys/lab  (ssh config ({config}:4))"),
            "docker_socket = /var/run/docker.sock  (default)".to_owned(),
            "host key checking = strict  (default)".to_owned(),
        ] {
            assert!(shown.lines().any(|l| l == line), "no {line:?} in\n{shown}");
        }
        let list = render_list(&inventory, &[h2], &[Some(resolved)]);
        assert!(
            list.contains("10.0.0.2") && list.contains("/keys/lab"),
            "{list}"
        );
    }

    #[test]
    fn list_view_has_a_row_per_selected_host_and_a_count() {
        let inventory = inventory();
        let selected = inventory.select(Some("h2")).expect("valid");
        let shown = render_list(&inventory, &selected, &[]);
        assert!(shown.contains("h2"), "{shown}");
        assert!(!shown.contains("10.0.0.1"), "{shown}");
        assert!(shown.ends_with("1 of 2 hosts, 3 groups"), "{shown}");
    }
}
