//! The sources of ssh_config-style values in precedence order (the inventory's `ssh` options,
//! Ansible's, ssh_config), and the settings resolved alike for targets and jump hosts.

use std::path::PathBuf;
use std::time::Duration;

use super::tokens::Tokens;
use super::types::{
    AnsibleSsh, CliSsh, DEFAULT_CONNECT_TIMEOUT, LocalEnv, ResolvedSsh, SettingSource, Sourced,
    sourced,
};
use crate::ssh::auth::AgentSocket;
use crate::ssh::config::{ConfigOrigin, ConfigValue, HostConfig, StrictHostKeyChecking};
use crate::ssh::host_key::HostKeyPolicy;

/// Jump chains longer than this are refused (a loop of `ProxyJump` lines, most likely).
pub(super) const MAX_JUMP_DEPTH: usize = 8;

/// ProxyCommand would run a local command; fleetrmi reaches bastions only as jump hosts.
pub(super) const PROXY_COMMAND_HINT: &str =
    "use ProxyJump (or ssh's -J, or the inventory variable jump) with the jump host";

pub(super) fn inventory_var(var: &str) -> SettingSource {
    SettingSource::Inventory(var.to_string())
}

pub(super) fn unsupported_notes(found: &HostConfig) -> Vec<String> {
    let matches = found.unsupported_match.iter().map(|criterion| {
        format!(
            "{} at {} was treated as not matching (fleetrmi does not evaluate it)",
            criterion.value, criterion.origin
        )
    });
    let options = found.unsupported_options.iter().map(|option| {
        format!(
            "{} at {} is not supported and was ignored (host keys are looked up in the \
             known_hosts files under the host's own name and port)",
            option.value, option.origin
        )
    });
    matches.chain(options).collect()
}

/// One source of ssh_config-style values, in precedence order.
pub(super) struct Layer<'a> {
    pub(super) found: &'a HostConfig,
    pub(super) source: LayerSource<'a>,
}

pub(super) enum LayerSource<'a> {
    /// Options from an inventory variable (`ansible_ssh_common_args`).
    InventoryArgs(&'a str),
    /// Options from Ansible's configuration (`ssh_args`), with where they were set.
    AnsibleArgs(&'a str),
    SshConfig,
}

impl Layer<'_> {
    pub(super) fn source(&self, origin: &ConfigOrigin) -> SettingSource {
        match self.source {
            LayerSource::InventoryArgs(var) => SettingSource::Inventory(var.to_string()),
            LayerSource::AnsibleArgs(origin) => SettingSource::Ansible(origin.to_string()),
            LayerSource::SshConfig => SettingSource::SshConfig(origin.clone()),
        }
    }
}

/// The first layer that sets a value.
pub(super) fn pick<T: Clone>(
    layers: &[Layer],
    get: impl Fn(&HostConfig) -> Option<&ConfigValue<T>>,
) -> Option<Sourced<T>> {
    layers.iter().find_map(|layer| {
        get(layer.found).map(|found| sourced(found.value.clone(), layer.source(&found.origin)))
    })
}

/// Settings resolved alike for targets and jump hosts.
pub(super) struct Common {
    pub(super) identities_only: Sourced<bool>,
    pub(super) identity_agent: Sourced<AgentSocket>,
    pub(super) known_hosts_files: Sourced<Vec<PathBuf>>,
    pub(super) global_known_hosts_files: Sourced<Vec<PathBuf>>,
    pub(super) host_key_checking: Sourced<HostKeyPolicy>,
    pub(super) hash_known_hosts: Sourced<bool>,
    pub(super) revoked_host_keys: Option<Sourced<PathBuf>>,
    pub(super) connect_timeout: Sourced<Duration>,
    /// Things the user should know about these settings.
    pub(super) notes: Vec<String>,
}

/// What differs between a target and a jump host: where it is and how its user logs in.
pub(super) struct Endpoint {
    pub(super) name: String,
    pub(super) lookup: String,
    pub(super) hostname: Sourced<String>,
    pub(super) port: Sourced<u16>,
    pub(super) user: Sourced<String>,
    pub(super) identity_files: Vec<Sourced<PathBuf>>,
    pub(super) certificate_files: Vec<Sourced<PathBuf>>,
}

impl Common {
    /// The settings of `endpoint`, with no jump hosts and no notes yet.
    pub(super) fn into_resolved(self, endpoint: Endpoint) -> ResolvedSsh {
        ResolvedSsh {
            name: endpoint.name,
            lookup: endpoint.lookup,
            hostname: endpoint.hostname,
            port: endpoint.port,
            user: endpoint.user,
            identity_files: endpoint.identity_files,
            certificate_files: endpoint.certificate_files,
            identities_only: self.identities_only,
            identity_agent: self.identity_agent,
            known_hosts_files: self.known_hosts_files,
            global_known_hosts_files: self.global_known_hosts_files,
            host_key_checking: self.host_key_checking,
            hash_known_hosts: self.hash_known_hosts,
            revoked_host_keys: self.revoked_host_keys,
            connect_timeout: self.connect_timeout,
            jumps: Vec::new(),
            jump_source: None,
            notes: Vec::new(),
        }
    }
}

pub(super) fn resolve_common(
    layers: &[Layer],
    cli: &CliSsh,
    tokens: &Tokens,
    inventory_timeout: Option<Duration>,
    ansible: &AnsibleSsh,
) -> Result<Common, String> {
    let identities_only = pick(layers, |found| found.identities_only.as_ref())
        .unwrap_or_else(|| sourced(false, SettingSource::Default));
    let identity_agent = match pick(layers, |found| found.identity_agent.as_ref()) {
        Some(agent) => {
            let socket = match agent.value.as_str() {
                "none" => AgentSocket::Disabled,
                "SSH_AUTH_SOCK" => AgentSocket::Environment,
                path => AgentSocket::Path(tokens.expand_path(path)?),
            };
            sourced(socket, agent.source)
        }
        None => sourced(AgentSocket::Environment, SettingSource::Default),
    };
    let known_hosts_files = match &cli.known_hosts {
        Some(path) => sourced(
            vec![path.clone()],
            SettingSource::CommandLine("--known-hosts"),
        ),
        None => match pick(layers, |found| found.user_known_hosts_files.as_ref()) {
            Some(files) => sourced(
                tokens
                    .expand_known_hosts("UserKnownHostsFile", &files.value)
                    .map_err(|why| format!("{why} ({})", files.source))?,
                files.source,
            ),
            None => sourced(
                ["known_hosts", "known_hosts2"]
                    .iter()
                    .map(|name| tokens.home().join(".ssh").join(name))
                    .collect(),
                SettingSource::Default,
            ),
        },
    };
    let global_known_hosts_files =
        match pick(layers, |found| found.global_known_hosts_files.as_ref()) {
            Some(files) => sourced(
                tokens
                    .expand_known_hosts("GlobalKnownHostsFile", &files.value)
                    .map_err(|why| format!("{why} ({})", files.source))?,
                files.source,
            ),
            None => sourced(
                vec![
                    PathBuf::from("/etc/ssh/ssh_known_hosts"),
                    PathBuf::from("/etc/ssh/ssh_known_hosts2"),
                ],
                SettingSource::Default,
            ),
        };
    let host_key_checking = match (cli.host_key_checking, &ansible.host_key_checking) {
        (Some(policy), _) => sourced(policy, SettingSource::CommandLine("--host-key-checking")),
        (None, Some((false, origin))) => {
            sourced(HostKeyPolicy::Off, SettingSource::Ansible(origin.clone()))
        }
        (None, _) => match pick(layers, |found| found.strict_host_key_checking.as_ref()) {
            Some(mode) => sourced(
                match mode.value {
                    // fleetrmi never asks: `ask` refuses unknown hosts, as `ssh` in batch mode.
                    StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => {
                        HostKeyPolicy::Strict
                    }
                    StrictHostKeyChecking::AcceptNew => HostKeyPolicy::AcceptNew,
                    StrictHostKeyChecking::No => HostKeyPolicy::Off,
                },
                mode.source,
            ),
            None => sourced(HostKeyPolicy::Strict, SettingSource::Default),
        },
    };
    let hash_known_hosts = pick(layers, |found| found.hash_known_hosts.as_ref())
        .unwrap_or_else(|| sourced(false, SettingSource::Default));
    // `none` unsets it, as OpenSSH's CLEAR_ON_NONE does.
    let revoked_host_keys = match pick(layers, |found| found.revoked_host_keys.as_ref()) {
        Some(file) if file.value == "none" => None,
        Some(file) => Some(sourced(
            tokens
                .expand_absolute("RevokedHostKeys", &file.value)
                .map_err(|why| format!("{why} ({})", file.source))?,
            file.source,
        )),
        None => None,
    };
    let mut notes = Vec::new();
    let connect_timeout = match (
        cli.connect_timeout,
        inventory_timeout,
        &ansible.connect_timeout,
    ) {
        (Some(timeout), _, _) => sourced(timeout, SettingSource::CommandLine("--connect-timeout")),
        (None, Some(timeout), _) => sourced(timeout, inventory_var("ansible_ssh_timeout")),
        (None, None, Some((timeout, origin))) => {
            sourced(*timeout, SettingSource::Ansible(origin.clone()))
        }
        (None, None, None) => pick(layers, |found| found.connect_timeout.as_ref())
            .unwrap_or_else(|| sourced(DEFAULT_CONNECT_TIMEOUT, SettingSource::Default)),
    };
    // OpenSSH reads `ConnectTimeout 0` as "no timeout" (the system's TCP timeout). A fleet run
    // must not hang on one host forever, so a zero from ssh_config or the inventory means
    // fleetrmi's default instead. (`--connect-timeout 0s` is refused by the argument parser.)
    let connect_timeout = if connect_timeout.value.is_zero() {
        notes.push(format!(
            "connect timeout 0 ({}) means no timeout to OpenSSH; fleetrmi uses its default of {} \
             instead",
            connect_timeout.source,
            humantime::format_duration(DEFAULT_CONNECT_TIMEOUT)
        ));
        sourced(DEFAULT_CONNECT_TIMEOUT, SettingSource::Default)
    } else {
        connect_timeout
    };
    Ok(Common {
        identities_only,
        identity_agent,
        known_hosts_files,
        global_known_hosts_files,
        host_key_checking,
        hash_known_hosts,
        revoked_host_keys,
        connect_timeout,
        notes,
    })
}

pub(super) fn default_identities(local: &LocalEnv) -> Vec<Sourced<PathBuf>> {
    let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
    // OpenSSH's order, less the key types russh cannot use (security keys, DSA).
    ["id_rsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .map(|name| sourced(home.join(".ssh").join(name), SettingSource::Default))
        .collect()
}
