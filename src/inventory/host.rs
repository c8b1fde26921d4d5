//! A host as the rest of fleetrmi sees it: where to connect and how, after the variables of all its
//! groups and its own are applied in order of precedence.
//!
//! Precedence follows Ansible's (its `VariableManager`), from lowest to highest:
//! 1. the inventory files' group variables: `all`, then the host's other groups ordered by depth
//!    (a longer chain of parents up to `all` wins, so a child beats its parent), then by
//!    `ansible_group_priority` (default 1, higher wins), then by name (the one that sorts last
//!    wins);
//! 2. `group_vars/all` beside each inventory source, in the order of the sources;
//! 3. `group_vars/<group>` beside each source: source by source, and within a source the groups
//!    in the order of step 1;
//! 4. the host's own variables in the inventory files (a port in its key first);
//! 5. `host_vars/<host>` beside each source, in the order of the sources;
//! 6. `-e/--extra-vars`.
//!
//! Connection settings are then taken from the merged variables under Ansible's names (the older
//! `ansible_ssh_*` name first, whichever level set each), with templates rendered for the host.
//!
//! Note what this means: a `group_vars/` file beats the inventory file's variables of any group,
//! even a deeper one, exactly as in Ansible.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::connection::{Setting, SettingValue, check_setting};
use super::error::InventoryError;
use super::groups::{ALL, Group, GroupTree, HostDef};
use super::template::{self, is_template};
use super::vars::{VarLayer, VarSource};

/// The default SSH port.
pub(crate) const DEFAULT_PORT: u16 = 22;

/// The Docker socket of a rootful daemon.
pub(crate) const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// One host of the inventory, with every setting resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostEntry {
    /// The inventory name (`inventory_hostname` in Ansible).
    pub name: String,
    /// Where to connect: `ansible_host`, or the name.
    pub address: String,
    /// `ansible_port`, or 22.
    pub port: u16,
    /// `ansible_user`; when unset, the SSH layer decides (e.g. from `~/.ssh/config`).
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file`, with a leading `~/` expanded.
    pub identity_file: Option<PathBuf>,
    /// `docker_socket`, or `/var/run/docker.sock`.
    pub docker_socket: String,
    /// Every group the host belongs to, `all` included, sorted by name.
    pub groups: Vec<String>,
    /// The effective variables, all levels merged, under the names they were written with and
    /// as written (templates unrendered, as `ansible-inventory` shows them).
    pub vars: BTreeMap<String, Value>,
    /// Where each effective variable comes from (same keys as `vars`). A connection setting
    /// missing here is at its default (`ansible_port` 22, `ansible_host` the name, …), so the
    /// SSH layer may still take it from elsewhere (e.g. `~/.ssh/config`).
    #[serde(skip)]
    pub var_sources: BTreeMap<String, VarSource>,
}

/// One connection setting of a host, as `fleetrmi inventory --host` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveSetting<'a> {
    /// The variable that set it (`ansible_ssh_port` or `ansible_port`), or the usual name when
    /// none did.
    pub name: &'static str,
    /// The value fleetrmi uses; `None` when unset and without a default (the SSH layer decides).
    pub value: Option<String>,
    /// Where it was set; `None` for a default or an unset value.
    pub source: Option<&'a VarSource>,
}

impl HostEntry {
    /// The connection settings, in a fixed order, with their values and where they were set.
    pub fn connection_settings(&self) -> Vec<EffectiveSetting<'_>> {
        let setting = |setting: Setting, value: Option<String>| {
            let name = chosen_name(setting, &self.vars).unwrap_or(setting.canonical());
            EffectiveSetting {
                name,
                value,
                source: self.var_sources.get(name),
            }
        };
        vec![
            setting(Setting::Address, Some(self.address.clone())),
            setting(Setting::Port, Some(self.port.to_string())),
            setting(Setting::User, self.user.clone()),
            setting(
                Setting::IdentityFile,
                self.identity_file
                    .as_ref()
                    .map(|path| path.display().to_string()),
            ),
            setting(Setting::DockerSocket, Some(self.docker_socket.clone())),
        ]
    }
}

impl HostEntry {
    /// Variables named like the short connection names earlier fleetrmi versions read (`port`,
    /// `user`, `address`, `identity_file`), each with the Ansible variable that now sets the
    /// connection: these are ordinary variables, as in Ansible.
    pub fn short_names_not_read(&self) -> Vec<(&str, &'static str)> {
        self.vars
            .keys()
            .filter_map(|name| {
                Setting::replacing_short_name(name)
                    .map(|setting| (name.as_str(), setting.canonical()))
            })
            .collect()
    }

    /// Whether the inventory (or `-e`) sets the host's address, port or user, under any of the
    /// names Ansible reads; `setting` is the usual name (`ansible_host`, `ansible_port`, ...).
    pub fn sets(&self, setting: &str) -> bool {
        Setting::ALL
            .into_iter()
            .filter(|candidate| candidate.canonical() == setting)
            .any(|candidate| chosen_name(candidate, &self.vars).is_some())
    }
}

/// The variable that sets `setting` for a host with these variables: the first of its names
/// that is set.
fn chosen_name(setting: Setting, vars: &BTreeMap<String, Value>) -> Option<&'static str> {
    setting
        .names()
        .iter()
        .copied()
        .find(|name| vars.contains_key(*name))
}

/// What one host's resolution needs besides the tree.
pub(crate) struct Resolution<'a> {
    /// `-e`, which wins over everything.
    pub(crate) extra: &'a VarLayer,
    /// Expands a leading `~/` in identity files.
    pub(crate) home: Option<&'a Path>,
}

/// Resolves every host of the tree, in the tree's order. Settings written under two of their
/// names with different values get a warning saying which one wins.
pub(crate) fn resolve_hosts(
    tree: &GroupTree,
    resolution: &Resolution<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<HostEntry>, InventoryError> {
    tree.hosts
        .iter()
        .map(|host| resolve_host(tree, host, resolution, warnings))
        .collect()
}

fn resolve_host(
    tree: &GroupTree,
    host: &HostDef,
    resolution: &Resolution<'_>,
    warnings: &mut Vec<String>,
) -> Result<HostEntry, InventoryError> {
    let mut groups: Vec<&Group> = tree
        .memberships(host)
        .into_iter()
        .map(|id| &tree.groups[id])
        .collect();
    groups.sort_by(|a, b| precedence_key(a).cmp(&precedence_key(b)));
    let mut effective = VarLayer::default();
    for group in &groups {
        effective.overlay(&group.vars);
    }
    for layer in &tree.groups[ALL].file_vars {
        effective.overlay(layer);
    }
    let sources = tree.groups[ALL].file_vars.len();
    for source in 0..sources {
        for group in groups.iter().filter(|group| group.name != "all") {
            if let Some(layer) = group.file_vars.get(source) {
                effective.overlay(layer);
            }
        }
    }
    effective.overlay(&host.vars);
    for layer in &host.file_vars {
        effective.overlay(layer);
    }
    effective.overlay(resolution.extra);

    let mut group_names: Vec<String> = groups.iter().map(|group| group.name.clone()).collect();
    group_names.sort();
    let vars = effective.values();
    let context = template_context(&host.name, &group_names, &vars);
    let mut settings = BTreeMap::new();
    for setting in Setting::ALL {
        let Some(name) = chosen_name(setting, &vars) else {
            continue;
        };
        let Some(var) = effective.get(name) else {
            continue;
        };
        warn_about_shadowed_names(&host.name, setting, name, &effective, warnings);
        let value = match &var.value {
            Value::String(text) if is_template(&var.value) => {
                let rendered =
                    template::render(text, &context).map_err(|err| InventoryError::Template {
                        at: var.source.at.clone(),
                        name: name.to_owned(),
                        host: host.name.clone(),
                        reason: err.reason,
                        hint: err.hint,
                    })?;
                Value::String(rendered)
            }
            other => other.clone(),
        };
        let checked = check_setting(
            setting,
            name,
            &value,
            var.source.at.clone(),
            resolution.home,
        )?;
        settings.insert(setting.canonical(), checked);
    }
    let setting = |setting: Setting| settings.get(setting.canonical());
    Ok(HostEntry {
        name: host.name.clone(),
        address: match setting(Setting::Address) {
            Some(SettingValue::Address(address)) => address.clone(),
            _ => host.name.clone(),
        },
        port: match setting(Setting::Port) {
            Some(SettingValue::Port(port)) => *port,
            _ => DEFAULT_PORT,
        },
        user: match setting(Setting::User) {
            Some(SettingValue::User(user)) => Some(user.clone()),
            _ => None,
        },
        identity_file: match setting(Setting::IdentityFile) {
            Some(SettingValue::IdentityFile(path)) => Some(path.clone()),
            _ => None,
        },
        docker_socket: match setting(Setting::DockerSocket) {
            Some(SettingValue::DockerSocket(path)) => path.clone(),
            _ => DEFAULT_DOCKER_SOCKET.to_owned(),
        },
        groups: group_names,
        vars,
        var_sources: effective.sources(),
    })
}

/// The variables a template sees: the host's, and Ansible's magic variables for it.
fn template_context(
    name: &str,
    groups: &[String],
    vars: &BTreeMap<String, Value>,
) -> serde_json::Map<String, Value> {
    let mut context: serde_json::Map<String, Value> = vars
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let short = name.split('.').next().unwrap_or(name);
    let group_names: Vec<&String> = groups.iter().filter(|group| *group != "all").collect();
    context.insert("inventory_hostname".to_owned(), Value::from(name));
    context.insert("inventory_hostname_short".to_owned(), Value::from(short));
    context.insert("group_names".to_owned(), serde_json::json!(group_names));
    context
}

/// A warning when a setting is written under more than one of its names with different values,
/// naming the one that wins (Ansible's order, not the levels' precedence).
fn warn_about_shadowed_names(
    host: &str,
    setting: Setting,
    winner: &str,
    effective: &VarLayer,
    warnings: &mut Vec<String>,
) {
    let Some(won) = effective.get(winner) else {
        return;
    };
    for name in setting.names().iter().filter(|name| **name != winner) {
        if let Some(lost) = effective.get(name)
            && lost.value != won.value
        {
            warnings.push(format!(
                "host {host}: {winner} ({}) wins over {name} ({}), as in Ansible: remove one of them",
                won.source, lost.source
            ));
        }
    }
}

/// Groups are applied in ascending order of this key, so the last one applied wins (Ansible's
/// `sort_groups`).
fn precedence_key(group: &Group) -> (usize, i64, &str) {
    (group.depth, group.priority, &group.name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{host, parse};

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let inventory = parse("all:\n  hosts:\n    web1:\n").expect("valid");
        let web1 = host(&inventory, "web1");
        assert_eq!(web1.address, "web1");
        assert_eq!(web1.port, 22);
        assert_eq!(web1.user, None);
        assert_eq!(web1.identity_file, None);
        assert_eq!(web1.docker_socket, "/var/run/docker.sock");
        assert_eq!(web1.groups, ["all", "ungrouped"]);
        assert!(web1.vars.is_empty());
    }

    #[test]
    fn host_inherits_vars_across_nested_groups() {
        let inventory = parse(
            "all:\n  vars:\n    ansible_user: ci\n  children:\n    farm:\n      vars:\n        ansible_port: 2222\n      children:\n        arm:\n          vars:\n            docker_socket: /run/docker.sock\n          hosts:\n            arm1:\n",
        )
        .expect("valid");
        let arm1 = host(&inventory, "arm1");
        assert_eq!(arm1.user.as_deref(), Some("ci"));
        assert_eq!(arm1.port, 2222);
        assert_eq!(arm1.docker_socket, "/run/docker.sock");
        assert_eq!(arm1.groups, ["all", "arm", "farm"]);
    }

    #[test]
    fn host_vars_beat_child_group_beats_parent_group_beats_all() {
        let inventory = parse(
            "all:\n  vars: {level: all, a: all, b: all, c: all}\n  children:\n    parent:\n      vars: {level: parent, a: parent, b: parent}\n      children:\n        child:\n          vars: {level: child, a: child}\n          hosts:\n            h1: {level: host}\n",
        )
        .expect("valid");
        let vars = &host(&inventory, "h1").vars;
        assert_eq!(vars["level"], json!("host"));
        assert_eq!(vars["a"], json!("child"));
        assert_eq!(vars["b"], json!("parent"));
        assert_eq!(vars["c"], json!("all"));
    }

    #[test]
    fn host_in_two_groups_gets_vars_of_both() {
        let inventory = parse(
            "all:\n  children:\n    web:\n      vars: {role: web}\n      hosts: {h1: }\n    monitored:\n      vars: {scrape: true}\n      hosts: {h1: }\n",
        )
        .expect("valid");
        let h1 = host(&inventory, "h1");
        assert_eq!(h1.vars["role"], json!("web"));
        assert_eq!(h1.vars["scrape"], json!(true));
        assert_eq!(h1.groups, ["all", "monitored", "web"]);
        assert_eq!(inventory.hosts().len(), 1);
    }

    #[test]
    fn sibling_groups_at_the_same_depth_tie_break_by_name_last_wins() {
        // `zeta` is written first but sorts last, so it wins over `alpha`.
        let inventory = parse(
            "all:\n  children:\n    zeta:\n      vars: {ansible_port: 2002}\n      hosts: {h1: }\n    alpha:\n      vars: {ansible_port: 2001}\n      hosts: {h1: }\n",
        )
        .expect("valid");
        assert_eq!(host(&inventory, "h1").port, 2002);
    }

    #[test]
    fn deeper_group_beats_a_shallower_group_whatever_the_names() {
        let inventory = parse(
            "all:\n  children:\n    zz_top:\n      vars: {x: shallow}\n      hosts: {h1: }\n    aa:\n      children:\n        aa_child:\n          vars: {x: deep}\n          hosts: {h1: }\n",
        )
        .expect("valid");
        assert_eq!(host(&inventory, "h1").vars["x"], json!("deep"));
    }

    #[test]
    fn group_priority_beats_name_at_the_same_depth() {
        let inventory = parse(
            "all:\n  children:\n    zeta:\n      vars: {x: zeta}\n      hosts: {h1: }\n    alpha:\n      vars: {x: alpha, ansible_group_priority: 5}\n      hosts: {h1: }\n",
        )
        .expect("valid");
        assert_eq!(host(&inventory, "h1").vars["x"], json!("alpha"));
    }

    #[test]
    fn older_ssh_name_wins_whatever_level_sets_it() {
        let inventory = parse(
            "all:\n  vars:\n    ansible_ssh_port: 22\n    ansible_ssh_user: ubuntu\n  hosts:\n    h1:\n      ansible_port: 2222\n      ansible_user: dbadmin\n",
        )
        .expect("valid");
        let h1 = host(&inventory, "h1");
        assert_eq!((h1.port, h1.user.as_deref()), (22, Some("ubuntu")));
        assert_eq!(h1.vars["ansible_port"], json!(2222));
        assert!(
            inventory.warnings().iter().any(|w| w.starts_with(
                "host h1: ansible_ssh_user (group all, inv.yaml:4:23) wins over ansible_user"
            )),
            "{:?}",
            inventory.warnings()
        );
        let names: Vec<&str> = h1.connection_settings().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "ansible_host",
                "ansible_ssh_port",
                "ansible_ssh_user",
                "ansible_ssh_private_key_file",
                "docker_socket"
            ]
        );
    }

    #[test]
    fn short_names_are_ordinary_variables() {
        let inventory = parse(
            "all:\n  hosts:\n    h1:\n      address: 10.0.0.1\n      port: 5432\n      user: postgres\n      identity_file: /k\n",
        )
        .expect("valid");
        let h1 = host(&inventory, "h1");
        assert_eq!((h1.address.as_str(), h1.port), ("h1", 22));
        assert_eq!(
            (h1.user.as_deref(), h1.identity_file.as_deref()),
            (None, None)
        );
        assert_eq!(h1.vars["port"], json!(5432));
        assert_eq!(h1.short_names_not_read().len(), 4);
        assert!(!h1.sets("ansible_port"));
    }

    #[test]
    fn templated_connection_variables_are_rendered_for_each_host() {
        let inventory = parse(
            "all:\n  vars:\n    domain: mgmt.example.net\n    ansible_host: \"{{ inventory_hostname }}.{{ domain }}\"\n  hosts:\n    db1:\n    db2:\n      ansible_port: \"{{ 2000 + 22 }}\"\n",
        )
        .expect("valid");
        assert_eq!(host(&inventory, "db1").address, "db1.mgmt.example.net");
        let db2 = host(&inventory, "db2");
        assert_eq!(
            (db2.address.as_str(), db2.port),
            ("db2.mgmt.example.net", 2022)
        );
        assert_eq!(
            db2.vars["ansible_host"],
            json!("{{ inventory_hostname }}.{{ domain }}")
        );
        assert!(db2.sets("ansible_host"));
    }

    #[test]
    fn template_errors_name_the_variable_the_host_and_the_place() {
        let err = parse("all:\n  hosts:\n    db1:\n      ansible_host: \"{{ inventory_hostname }}.{{ domain }}\"\n")
            .expect_err("undefined");
        assert_eq!(
            err.to_string(),
            "inv.yaml:4:21: ansible_host (for host db1): `domain` is not defined for this host"
        );
        let err = parse(
            "all:\n  hosts:\n    db1:\n      ansible_user: \"{{ lookup('env', 'USER') }}\"\n",
        )
        .expect_err("lookup");
        assert!(
            err.to_string()
                .contains("lookups run Ansible's Python plugins"),
            "{err}"
        );
        let err = parse("all:\n  hosts:\n    db1:\n      ansible_port: \"{{ 'x' }}\"\n")
            .expect_err("rendered value is checked");
        assert!(err.to_string().ends_with(r#"found "x""#), "{err}");
    }

    #[test]
    fn yaml_merge_keys_share_vars_between_hosts() {
        let inventory = parse(
            "all:\n  hosts:\n    h1: &common\n      ansible_user: ci\n      ansible_port: 2200\n    h2:\n      <<: *common\n      ansible_port: 2201\n",
        )
        .expect("valid");
        let h2 = host(&inventory, "h2");
        assert_eq!(h2.user.as_deref(), Some("ci"));
        assert_eq!(h2.port, 2201);
    }

    #[test]
    fn every_effective_variable_has_its_source() {
        let inventory = parse(
            "all:\n  vars:\n    ansible_user: ci\n  children:\n    lab:\n      vars:\n        ansible_port: 2200\n      hosts:\n        h1:\n          ansible_port: 2222\n",
        )
        .expect("valid");
        let h1 = host(&inventory, "h1");
        let shown = |name: &str| h1.var_sources[name].to_string();
        assert_eq!(shown("ansible_user"), "group all, inv.yaml:3:19");
        assert_eq!(shown("ansible_port"), "host h1, inv.yaml:10:25");
        assert_eq!(
            h1.var_sources.keys().collect::<Vec<_>>(),
            h1.vars.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn connection_settings_show_values_and_sources() {
        let inventory =
            parse("all:\n  hosts:\n    h1:\n      ansible_port: 2222\n").expect("valid");
        let settings = host(&inventory, "h1").connection_settings();
        let shown: Vec<(&str, Option<&str>, Option<String>)> = settings
            .iter()
            .map(|s| {
                (
                    s.name,
                    s.value.as_deref(),
                    s.source.map(|at| at.to_string()),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("ansible_host", Some("h1"), None),
                (
                    "ansible_port",
                    Some("2222"),
                    Some("host h1, inv.yaml:4:21".to_owned())
                ),
                ("ansible_user", None, None),
                ("ansible_ssh_private_key_file", None, None),
                ("docker_socket", Some("/var/run/docker.sock"), None),
            ]
        );
    }

    #[test]
    fn host_entry_serializes_with_its_field_names() {
        let inventory =
            parse("all:\n  hosts:\n    h1: {ansible_port: 2222, team: infra}\n").expect("valid");
        let json = serde_json::to_value(host(&inventory, "h1")).expect("serializable");
        assert_eq!(
            json,
            json!({
                "name": "h1",
                "address": "h1",
                "port": 2222,
                "user": null,
                "identity_file": null,
                "docker_socket": "/var/run/docker.sock",
                "groups": ["all", "ungrouped"],
                "vars": {"ansible_port": 2222, "team": "infra"},
            })
        );
    }
}
