//! Every SSH setting of a host resolved in one place, each with where its value came from.
//! Precedence: the command line, then the inventory (its variables, then the `ssh` options in
//! `ansible_ssh_common_args`/`ansible_ssh_extra_args`), then Ansible's configuration
//! (`ansible.cfg`, `ANSIBLE_*`: Ansible gives those to `ssh` on its command line, where they beat
//! ssh_config), then ssh_config, then OpenSSH's default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::args::{parse_jump_chain, proxy_command_as_jump, ssh_args_to_config};
use super::auth::{AgentSocket, AuthSettings};
use super::config::{ConfigOrigin, ConfigValue, HostConfig, SshConfig, StrictHostKeyChecking};
use super::host_key::{HostKeyPolicy, HostKeySettings};
use super::session::SshTarget;
use jumps::JumpResolver;
use tokens::Tokens;

mod jumps;
mod tokens;

/// fleetrmi's own default for `--connect-timeout` when nothing sets one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Jump chains longer than this are refused (a loop of `ProxyJump` lines, most likely).
const MAX_JUMP_DEPTH: usize = 8;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingSource {
    /// A command-line flag (or its environment variable).
    CommandLine(&'static str),
    /// An inventory variable.
    Inventory(String),
    /// Ansible's configuration: `FILE:LINE` of an `ansible.cfg`, or `environment variable
    /// ANSIBLE_…`.
    Ansible(String),
    /// A line of an ssh_config file.
    SshConfig(ConfigOrigin),
    /// OpenSSH's (or fleetrmi's) default.
    Default,
}

impl std::fmt::Display for SettingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingSource::CommandLine(flag) => write!(f, "command line ({flag})"),
            SettingSource::Inventory(var) => write!(f, "inventory ({var})"),
            SettingSource::Ansible(origin) => f.write_str(origin),
            SettingSource::SshConfig(origin) => write!(f, "ssh config ({origin})"),
            SettingSource::Default => f.write_str("default"),
        }
    }
}

impl Serialize for SettingSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: SettingSource,
}

fn sourced<T>(value: T, source: SettingSource) -> Sourced<T> {
    Sourced { value, source }
}

/// What the inventory says about a host's connection (filled by `request` from a `HostEntry`;
/// `None` where the inventory does not set the variable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventorySsh {
    pub name: String,
    /// `ansible_host`.
    pub address: Option<String>,
    /// `ansible_port`.
    pub port: Option<u16>,
    /// `ansible_user`.
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file`.
    pub identity_file: Option<PathBuf>,
    /// `jump`: `[user@]host[:port]`, comma-separated for a chain, or `none`.
    pub jump: Option<String>,
    /// `ssh` options and the variable that holds them, e.g. (`ansible_ssh_common_args`, `-J b`).
    pub ssh_args: Vec<(String, String)>,
    /// `ansible_ssh_timeout`, in seconds.
    pub connect_timeout: Option<Duration>,
    /// What Ansible's configuration says, below the inventory's variables.
    pub ansible: AnsibleSsh,
}

/// The SSH settings of Ansible's configuration (`ansible.cfg`, `ANSIBLE_*`), each with where it
/// was set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnsibleSsh {
    /// `remote_user`.
    pub user: Option<(String, String)>,
    /// `private_key_file`.
    pub identity_file: Option<(PathBuf, String)>,
    /// `timeout`.
    pub connect_timeout: Option<(Duration, String)>,
    /// `host_key_checking`: `false` turns checking off, as Ansible's
    /// `-o StrictHostKeyChecking=no`; `true` leaves it to ssh_config.
    pub host_key_checking: Option<(bool, String)>,
    /// `ssh_args`, `ssh_common_args`: where each was set, and the options.
    pub ssh_args: Vec<(String, String)>,
}

/// The command-line flags that override everything else (`None` when not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliSsh {
    pub known_hosts: Option<PathBuf>,
    pub host_key_checking: Option<HostKeyPolicy>,
    pub connect_timeout: Option<Duration>,
}

/// The local side: home directory (from `$HOME`) and user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEnv {
    pub home: Option<PathBuf>,
    pub user: String,
}

impl LocalEnv {
    /// `$HOME` and `$USER` (or `$LOGNAME`, else `root`).
    pub fn from_process() -> LocalEnv {
        LocalEnv {
            home: std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(PathBuf::from),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "root".to_string()),
        }
    }
}

/// A setting that cannot be used; the run stops before any host is contacted.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {message}")]
pub struct SshSettingsError {
    pub host: String,
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub hint: Option<String>,
}

/// ProxyCommand would run a local command; fleetrmi reaches bastions only as jump hosts.
const PROXY_COMMAND_HINT: &str =
    "use ProxyJump (or ssh's -J, or the inventory variable jump) with the jump host";

/// Every SSH setting of one host (or jump host), with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedSsh {
    /// The inventory name, or the jump host as written.
    pub name: String,
    /// The name ssh_config `Host` lines were matched against: `ansible_host`, else the name.
    pub lookup: String,
    pub hostname: Sourced<String>,
    pub port: Sourced<u16>,
    pub user: Sourced<String>,
    pub identity_files: Vec<Sourced<PathBuf>>,
    pub certificate_files: Vec<Sourced<PathBuf>>,
    pub identities_only: Sourced<bool>,
    pub identity_agent: Sourced<AgentSocket>,
    pub known_hosts_files: Sourced<Vec<PathBuf>>,
    pub global_known_hosts_files: Sourced<Vec<PathBuf>>,
    pub host_key_checking: Sourced<HostKeyPolicy>,
    pub hash_known_hosts: Sourced<bool>,
    /// `RevokedHostKeys`, when set (and not `none`).
    pub revoked_host_keys: Option<Sourced<PathBuf>>,
    #[serde(serialize_with = "serialize_timeout")]
    pub connect_timeout: Sourced<Duration>,
    /// Jump hosts in order, the first reached directly; empty for a direct connection.
    pub jumps: Vec<ResolvedSsh>,
    /// Where the jump chain came from, when there is one (or `ProxyJump none` said so).
    pub jump_source: Option<SettingSource>,
    /// Things the user should know, e.g. `Match exec` blocks that were not evaluated.
    pub notes: Vec<String>,
}

fn serialize_timeout<S: Serializer>(
    timeout: &Sourced<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    sourced(
        humantime::format_duration(timeout.value).to_string(),
        timeout.source.clone(),
    )
    .serialize(serializer)
}

impl ResolvedSsh {
    /// Whether the key files are OpenSSH's defaults rather than configured ones.
    fn default_identities(&self) -> bool {
        self.identity_files
            .iter()
            .all(|file| file.source == SettingSource::Default)
    }

    /// The connection the `ssh` module makes from these settings.
    pub fn to_target(&self) -> SshTarget {
        SshTarget {
            address: self.hostname.value.clone(),
            port: self.port.value,
            auth: AuthSettings {
                user: self.user.value.clone(),
                identity_files: self
                    .identity_files
                    .iter()
                    .map(|file| file.value.clone())
                    .collect(),
                default_identities: self.default_identities(),
                certificate_files: self
                    .certificate_files
                    .iter()
                    .map(|file| file.value.clone())
                    .collect(),
                identities_only: self.identities_only.value,
                agent: self.identity_agent.value.clone(),
            },
            host_keys: HostKeySettings {
                policy: self.host_key_checking.value,
                user_files: self.known_hosts_files.value.clone(),
                global_files: self.global_known_hosts_files.value.clone(),
                hash_new_entries: self.hash_known_hosts.value,
                revoked_file: self
                    .revoked_host_keys
                    .as_ref()
                    .map(|file| file.value.clone()),
            },
            connect_timeout: self.connect_timeout.value,
            jumps: self.jumps.iter().map(ResolvedSsh::to_target).collect(),
        }
    }

    /// One line per setting, `setting: value (source)`, for people.
    pub fn describe(&self) -> Vec<String> {
        let paths = |files: &[PathBuf]| {
            if files.is_empty() {
                return "none".to_string();
            }
            files
                .iter()
                .map(|file| file.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut lines = vec![
            format!(
                "hostname: {} ({})",
                self.hostname.value, self.hostname.source
            ),
            format!("port: {} ({})", self.port.value, self.port.source),
            format!("user: {} ({})", self.user.value, self.user.source),
        ];
        for file in &self.identity_files {
            lines.push(format!(
                "identity file: {} ({})",
                file.value.display(),
                file.source
            ));
        }
        for file in &self.certificate_files {
            lines.push(format!(
                "certificate file: {} ({})",
                file.value.display(),
                file.source
            ));
        }
        lines.extend([
            format!(
                "identities only: {} ({})",
                yes_no(self.identities_only.value),
                self.identities_only.source
            ),
            format!(
                "identity agent: {} ({})",
                self.identity_agent.value, self.identity_agent.source
            ),
            format!(
                "known hosts: {} ({})",
                paths(&self.known_hosts_files.value),
                self.known_hosts_files.source
            ),
            format!(
                "global known hosts: {} ({})",
                paths(&self.global_known_hosts_files.value),
                self.global_known_hosts_files.source
            ),
            format!(
                "host key checking: {} ({})",
                self.host_key_checking.value, self.host_key_checking.source
            ),
            format!(
                "hash known hosts: {} ({})",
                yes_no(self.hash_known_hosts.value),
                self.hash_known_hosts.source
            ),
        ]);
        if let Some(file) = &self.revoked_host_keys {
            lines.push(format!(
                "revoked host keys: {} ({})",
                file.value.display(),
                file.source
            ));
        }
        lines.extend([format!(
            "connect timeout: {} ({})",
            humantime::format_duration(self.connect_timeout.value),
            self.connect_timeout.source
        )]);
        match &self.jump_source {
            Some(source) if !self.jumps.is_empty() => {
                let chain: Vec<String> = self
                    .jumps
                    .iter()
                    .map(|hop| {
                        format!(
                            "{}@{}:{}",
                            hop.user.value, hop.hostname.value, hop.port.value
                        )
                    })
                    .collect();
                lines.push(format!("jump hosts: {} ({source})", chain.join(" -> ")));
            }
            Some(source) => lines.push(format!("jump hosts: none ({source})")),
            None => lines.push("jump hosts: none (default)".to_string()),
        }
        lines.extend(self.notes.iter().map(|note| format!("note: {note}")));
        lines
    }
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// Resolves a host's SSH settings from the inventory, ssh_config and the command line.
pub fn resolve_ssh_settings(
    inventory: &InventorySsh,
    config: &SshConfig,
    cli: &CliSsh,
    local: &LocalEnv,
) -> Result<ResolvedSsh, SshSettingsError> {
    let failed = |message: String| SshSettingsError {
        host: inventory.name.clone(),
        message,
        hint: None,
    };
    let lookup = inventory
        .address
        .clone()
        .unwrap_or_else(|| inventory.name.clone());
    // The inventory's ssh options, read as ssh_config lines that apply to this host only.
    let mut args_layers = Vec::new();
    for (var, text) in &inventory.ssh_args {
        let lines = ssh_args_to_config(text).map_err(|why| failed(format!("{var}: {why}")))?;
        let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
        let parsed = SshConfig::from_text(Path::new(var), &lines, &home)
            .map_err(|error| failed(format!("{var}: {error}")))?;
        args_layers.push((var.clone(), parsed.query(&lookup, &local.user)));
    }
    let mut ansible_layers = Vec::new();
    for (origin, text) in &inventory.ansible.ssh_args {
        let lines = ssh_args_to_config(text).map_err(|why| failed(format!("{origin}: {why}")))?;
        let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
        let parsed = SshConfig::from_text(Path::new(origin), &lines, &home)
            .map_err(|error| failed(format!("{origin}: {error}")))?;
        ansible_layers.push((origin.clone(), parsed.query(&lookup, &local.user)));
    }
    let from_config = config.query(&lookup, &local.user);

    let mut layers: Vec<Layer> = args_layers
        .iter()
        .map(|(var, found)| Layer {
            found,
            source: LayerSource::InventoryArgs(var),
        })
        .collect();
    layers.extend(ansible_layers.iter().map(|(origin, found)| Layer {
        found,
        source: LayerSource::AnsibleArgs(origin),
    }));
    layers.push(Layer {
        found: &from_config,
        source: LayerSource::SshConfig,
    });

    let hostname = match &inventory.address {
        Some(address) => sourced(address.clone(), inventory_var("ansible_host")),
        None => pick(&layers, |found| found.hostname.as_ref())
            .unwrap_or_else(|| sourced(inventory.name.clone(), inventory_var("host name"))),
    };
    let port = match inventory.port {
        Some(port) => sourced(port, inventory_var("ansible_port")),
        None => pick(&layers, |found| found.port.as_ref())
            .unwrap_or_else(|| sourced(22, SettingSource::Default)),
    };
    let user = match (&inventory.user, &inventory.ansible.user) {
        (Some(user), _) => sourced(user.clone(), inventory_var("ansible_user")),
        (None, Some((user, origin))) => {
            sourced(user.clone(), SettingSource::Ansible(origin.clone()))
        }
        (None, None) => pick(&layers, |found| found.user.as_ref())
            .unwrap_or_else(|| sourced(local.user.clone(), SettingSource::Default)),
    };
    let tokens = Tokens {
        local,
        hostname: &hostname.value,
        original: &lookup,
        port: port.value,
        remote_user: &user.value,
    };

    let mut identity_files: Vec<Sourced<PathBuf>> = Vec::new();
    if let Some(path) = &inventory.identity_file {
        identity_files.push(sourced(
            path.clone(),
            inventory_var("ansible_ssh_private_key_file"),
        ));
    } else if let Some((path, origin)) = &inventory.ansible.identity_file {
        identity_files.push(sourced(
            path.clone(),
            SettingSource::Ansible(origin.clone()),
        ));
    }
    for layer in &layers {
        for file in &layer.found.identity_files {
            let path = tokens.expand_path(&file.value).map_err(&failed)?;
            if !identity_files.iter().any(|seen| seen.value == path) {
                identity_files.push(sourced(path, layer.source(&file.origin)));
            }
        }
    }
    let explicit_identities = identity_files.clone();
    if identity_files.is_empty() {
        identity_files = default_identities(local);
    }
    let mut certificate_files: Vec<Sourced<PathBuf>> = Vec::new();
    for layer in &layers {
        for file in &layer.found.certificate_files {
            let path = tokens.expand_path(&file.value).map_err(&failed)?;
            certificate_files.push(sourced(path, layer.source(&file.origin)));
        }
    }

    let mut common = resolve_common(
        &layers,
        cli,
        &tokens,
        inventory.connect_timeout,
        &inventory.ansible,
    )
    .map_err(&failed)?;

    let mut notes = unsupported_notes(&from_config);
    notes.append(&mut common.notes);
    // The jump chain: the inventory's `jump`, else a ProxyJump from the options or ssh_config.
    let (jump_text, jump_source) = match &inventory.jump {
        Some(text) => (Some(text.clone()), Some(inventory_var("jump"))),
        None => {
            let mut chosen = (None, None);
            for layer in &layers {
                if let Some(command) = &layer.found.proxy_command {
                    let source = layer.source(&command.origin);
                    let Some(jump) = proxy_command_as_jump(&command.value) else {
                        return Err(SshSettingsError {
                            hint: Some(PROXY_COMMAND_HINT.to_string()),
                            ..failed(format!(
                                "ProxyCommand ({source}) is not supported: fleetrmi runs no \
                                 local commands"
                            ))
                        });
                    };
                    chosen = (Some(jump.to_string()), Some(source));
                    break;
                }
                if let Some(jump) = &layer.found.proxy_jump {
                    chosen = (Some(jump.value.clone()), Some(layer.source(&jump.origin)));
                    break;
                }
            }
            chosen
        }
    };
    let jumps = match (&jump_text, &jump_source) {
        (Some(text), Some(source)) if !text.eq_ignore_ascii_case("none") => {
            let chain = parse_jump_chain(text).map_err(&failed)?;
            let fallback: Vec<Sourced<PathBuf>> = explicit_identities
                .iter()
                .filter(|file| matches!(file.source, SettingSource::Inventory(_)))
                .cloned()
                .collect();
            let mut resolver = JumpResolver {
                config,
                cli,
                local,
                source,
                fallback_identities: &fallback,
                notes: &mut notes,
            };
            resolver.chain(&chain, 0).map_err(&failed)?
        }
        _ => Vec::new(),
    };

    let mut resolved = common.into_resolved(Endpoint {
        name: inventory.name.clone(),
        lookup,
        hostname,
        port,
        user,
        identity_files,
        certificate_files,
    });
    resolved.jumps = jumps;
    resolved.jump_source = jump_source;
    resolved.notes = notes;
    Ok(resolved)
}

fn inventory_var(var: &str) -> SettingSource {
    SettingSource::Inventory(var.to_string())
}

fn unsupported_notes(found: &HostConfig) -> Vec<String> {
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
struct Layer<'a> {
    found: &'a HostConfig,
    source: LayerSource<'a>,
}

enum LayerSource<'a> {
    /// Options from an inventory variable (`ansible_ssh_common_args`).
    InventoryArgs(&'a str),
    /// Options from Ansible's configuration (`ssh_args`), with where they were set.
    AnsibleArgs(&'a str),
    SshConfig,
}

impl Layer<'_> {
    fn source(&self, origin: &ConfigOrigin) -> SettingSource {
        match self.source {
            LayerSource::InventoryArgs(var) => SettingSource::Inventory(var.to_string()),
            LayerSource::AnsibleArgs(origin) => SettingSource::Ansible(origin.to_string()),
            LayerSource::SshConfig => SettingSource::SshConfig(origin.clone()),
        }
    }
}

/// The first layer that sets a value.
fn pick<T: Clone>(
    layers: &[Layer],
    get: impl Fn(&HostConfig) -> Option<&ConfigValue<T>>,
) -> Option<Sourced<T>> {
    layers.iter().find_map(|layer| {
        get(layer.found).map(|found| sourced(found.value.clone(), layer.source(&found.origin)))
    })
}

/// Settings resolved alike for targets and jump hosts.
struct Common {
    identities_only: Sourced<bool>,
    identity_agent: Sourced<AgentSocket>,
    known_hosts_files: Sourced<Vec<PathBuf>>,
    global_known_hosts_files: Sourced<Vec<PathBuf>>,
    host_key_checking: Sourced<HostKeyPolicy>,
    hash_known_hosts: Sourced<bool>,
    revoked_host_keys: Option<Sourced<PathBuf>>,
    connect_timeout: Sourced<Duration>,
    /// Things the user should know about these settings.
    notes: Vec<String>,
}

/// What differs between a target and a jump host: where it is and how its user logs in.
struct Endpoint {
    name: String,
    lookup: String,
    hostname: Sourced<String>,
    port: Sourced<u16>,
    user: Sourced<String>,
    identity_files: Vec<Sourced<PathBuf>>,
    certificate_files: Vec<Sourced<PathBuf>>,
}

impl Common {
    /// The settings of `endpoint`, with no jump hosts and no notes yet.
    fn into_resolved(self, endpoint: Endpoint) -> ResolvedSsh {
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

fn resolve_common(
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

fn default_identities(local: &LocalEnv) -> Vec<Sourced<PathBuf>> {
    let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
    // OpenSSH's order, less the key types russh cannot use (security keys, DSA).
    ["id_rsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .map(|name| sourced(home.join(".ssh").join(name), SettingSource::Default))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> LocalEnv {
        LocalEnv {
            home: Some(PathBuf::from("/home/me")),
            user: "me".to_string(),
        }
    }

    fn config(text: &str) -> SshConfig {
        SshConfig::from_text(Path::new("/cfg"), text, Path::new("/home/me")).expect("parses")
    }

    fn inventory(name: &str) -> InventorySsh {
        InventorySsh {
            name: name.to_string(),
            ..InventorySsh::default()
        }
    }

    fn at(line: usize) -> SettingSource {
        SettingSource::SshConfig(ConfigOrigin {
            file: PathBuf::from("/cfg"),
            line,
        })
    }

    #[test]
    fn ansible_configuration_sits_between_the_inventory_and_ssh_config() {
        let cfg = config(
            "Host *\n  User fromsshconfig\n  ConnectTimeout 3\n  StrictHostKeyChecking yes\n",
        );
        let ansible = AnsibleSsh {
            user: Some(("deploy".to_string(), "/p/ansible.cfg:3".to_string())),
            identity_file: Some((PathBuf::from("/keys/cfg"), "/p/ansible.cfg:4".to_string())),
            connect_timeout: Some((Duration::from_secs(17), "/p/ansible.cfg:5".to_string())),
            host_key_checking: Some((false, "/p/ansible.cfg:6".to_string())),
            ssh_args: vec![(
                "environment variable ANSIBLE_SSH_ARGS".to_string(),
                "-o Port=2202".to_string(),
            )],
        };
        let host = InventorySsh {
            ansible: ansible.clone(),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        let ansible_at = |origin: &str| SettingSource::Ansible(origin.to_string());
        assert_eq!(
            resolved.user,
            sourced("deploy".to_string(), ansible_at("/p/ansible.cfg:3"))
        );
        assert_eq!(resolved.identity_files[0].value, PathBuf::from("/keys/cfg"));
        assert_eq!(resolved.connect_timeout.value, Duration::from_secs(17));
        assert_eq!(
            resolved.host_key_checking,
            sourced(HostKeyPolicy::Off, ansible_at("/p/ansible.cfg:6"))
        );
        assert_eq!(
            resolved.port,
            sourced(2202, ansible_at("environment variable ANSIBLE_SSH_ARGS"))
        );
        assert_eq!(resolved.user.source.to_string(), "/p/ansible.cfg:3");

        // The inventory's own variables and the command line still win.
        let host = InventorySsh {
            user: Some("ci".to_string()),
            connect_timeout: Some(Duration::from_secs(5)),
            ansible,
            ..inventory("web")
        };
        let cli = CliSsh {
            host_key_checking: Some(HostKeyPolicy::Strict),
            ..CliSsh::default()
        };
        let resolved = resolve_ssh_settings(&host, &cfg, &cli, &local()).expect("resolves");
        assert_eq!(resolved.user.value, "ci");
        assert_eq!(resolved.connect_timeout.value, Duration::from_secs(5));
        assert_eq!(resolved.host_key_checking.value, HostKeyPolicy::Strict);
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let resolved = resolve_ssh_settings(
            &inventory("web"),
            &SshConfig::empty(),
            &CliSsh::default(),
            &local(),
        )
        .expect("resolves");
        assert_eq!(
            resolved.hostname,
            sourced("web".to_string(), inventory_var("host name"))
        );
        assert_eq!(resolved.port, sourced(22, SettingSource::Default));
        assert_eq!(
            resolved.user,
            sourced("me".to_string(), SettingSource::Default)
        );
        assert_eq!(
            resolved.identity_files[2].value,
            PathBuf::from("/home/me/.ssh/id_ed25519")
        );
        assert_eq!(
            resolved.known_hosts_files.value[0],
            PathBuf::from("/home/me/.ssh/known_hosts")
        );
        assert_eq!(resolved.host_key_checking.value, HostKeyPolicy::Strict);
        assert_eq!(resolved.connect_timeout.value, DEFAULT_CONNECT_TIMEOUT);
        assert!(resolved.jumps.is_empty());
        assert!(resolved.to_target().auth.default_identities);
    }

    #[test]
    fn ssh_config_fills_what_the_inventory_leaves_unset() {
        let cfg = config(
            "Host web\n  HostName 10.0.0.5\n  Port 2222\n  User deploy\n  IdentityFile ~/.ssh/%r_%h\n  IdentitiesOnly yes\n  UserKnownHostsFile ~/kh /etc/kh\n  StrictHostKeyChecking accept-new\n  ConnectTimeout 3\n",
        );
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        assert_eq!(resolved.hostname, sourced("10.0.0.5".to_string(), at(2)));
        assert_eq!(resolved.port, sourced(2222, at(3)));
        assert_eq!(resolved.user, sourced("deploy".to_string(), at(4)));
        assert_eq!(
            resolved.identity_files,
            [sourced(
                PathBuf::from("/home/me/.ssh/deploy_10.0.0.5"),
                at(5)
            )]
        );
        assert_eq!(resolved.identities_only, sourced(true, at(6)));
        assert_eq!(
            resolved.known_hosts_files.value,
            [PathBuf::from("/home/me/kh"), PathBuf::from("/etc/kh")]
        );
        assert_eq!(
            resolved.host_key_checking,
            sourced(HostKeyPolicy::AcceptNew, at(8))
        );
        assert_eq!(resolved.connect_timeout.value, Duration::from_secs(3));
        assert!(!resolved.to_target().auth.default_identities);
    }

    #[test]
    fn inventory_wins_over_ssh_config_and_the_command_line_over_both() {
        let cfg = config(
            "Host 10.0.0.5\n  HostName elsewhere\n  Port 2222\n  User deploy\n  IdentityFile ~/.ssh/cfg\n  StrictHostKeyChecking no\n  ConnectTimeout 3\n",
        );
        let host = InventorySsh {
            address: Some("10.0.0.5".to_string()),
            port: Some(2200),
            user: Some("ci".to_string()),
            identity_file: Some(PathBuf::from("/keys/inv")),
            ssh_args: vec![(
                "ansible_ssh_common_args".to_string(),
                "-o StrictHostKeyChecking=yes".to_string(),
            )],
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert_eq!(resolved.lookup, "10.0.0.5");
        assert_eq!(resolved.hostname.value, "10.0.0.5");
        assert_eq!(resolved.hostname.source, inventory_var("ansible_host"));
        assert_eq!(resolved.port, sourced(2200, inventory_var("ansible_port")));
        assert_eq!(resolved.user.value, "ci");
        let files: Vec<&Path> = resolved
            .identity_files
            .iter()
            .map(|f| f.value.as_path())
            .collect();
        assert_eq!(
            files,
            [Path::new("/keys/inv"), Path::new("/home/me/.ssh/cfg")]
        );
        assert_eq!(
            resolved.host_key_checking,
            sourced(
                HostKeyPolicy::Strict,
                inventory_var("ansible_ssh_common_args")
            )
        );

        let cli = CliSsh {
            known_hosts: Some(PathBuf::from("/tmp/kh")),
            host_key_checking: Some(HostKeyPolicy::AcceptNew),
            connect_timeout: Some(Duration::from_secs(1)),
        };
        let resolved = resolve_ssh_settings(&host, &cfg, &cli, &local()).expect("resolves");
        assert_eq!(
            resolved.host_key_checking.source,
            SettingSource::CommandLine("--host-key-checking")
        );
        assert_eq!(resolved.known_hosts_files.value, [PathBuf::from("/tmp/kh")]);
        assert_eq!(resolved.connect_timeout.value, Duration::from_secs(1));
    }

    #[test]
    fn jump_variable_gives_a_chain_resolved_through_ssh_config() {
        let cfg = config(
            "Host bastion\n  HostName 192.0.2.1\n  User ops\n  IdentityFile ~/.ssh/ops\nHost inner\n  Port 2022\n",
        );
        let host = InventorySsh {
            jump: Some("bastion,root@inner".to_string()),
            identity_file: Some(PathBuf::from("/keys/inv")),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert_eq!(resolved.jump_source, Some(inventory_var("jump")));
        let bastion = &resolved.jumps[0];
        assert_eq!(bastion.hostname.value, "192.0.2.1");
        assert_eq!(bastion.user.value, "ops");
        assert_eq!(bastion.port.value, 22);
        assert_eq!(
            bastion.identity_files[0].value,
            PathBuf::from("/home/me/.ssh/ops")
        );
        let inner = &resolved.jumps[1];
        assert_eq!(inner.hostname.value, "inner");
        assert_eq!(
            inner.user,
            sourced("root".to_string(), inventory_var("jump"))
        );
        assert_eq!(inner.port, sourced(2022, at(6)));
        // No IdentityFile of its own: the target's inventory key is tried.
        assert_eq!(inner.identity_files[0].value, PathBuf::from("/keys/inv"));
        let target = resolved.to_target();
        assert_eq!(target.jumps.len(), 2);
        assert_eq!(target.jumps[1].address, "inner");
    }

    #[test]
    fn proxy_jump_of_the_first_hop_is_followed_and_loops_are_refused() {
        let cfg = config(
            "Host web\n  ProxyJump inner\nHost inner\n  ProxyJump bastion\nHost loop1\n  ProxyJump loop2\nHost loop2\n  ProxyJump loop1\n",
        );
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        let names: Vec<&str> = resolved.jumps.iter().map(|hop| hop.name.as_str()).collect();
        assert_eq!(names, ["bastion", "inner"]);
        assert_eq!(resolved.jump_source, Some(at(2)));

        let host = InventorySsh {
            jump: Some("loop1".to_string()),
            ..inventory("web")
        };
        let error =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect_err("loop");
        assert!(error.to_string().contains("loop"), "{error}");
    }

    #[test]
    fn common_args_jump_and_proxy_jump_none() {
        let cfg = config("Host *\n  ProxyJump bastion\n");
        let host = InventorySsh {
            ssh_args: vec![(
                "ansible_ssh_common_args".to_string(),
                "-J ops@gw:2200".to_string(),
            )],
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        // gw matches `Host *` too, so it is reached through bastion, whose own ProxyJump
        // (itself) is ignored.
        let names: Vec<&str> = resolved.jumps.iter().map(|hop| hop.name.as_str()).collect();
        assert_eq!(names, ["bastion", "ops@gw:2200"]);
        assert_eq!(resolved.jumps[1].port.value, 2200);
        assert_eq!(
            resolved.jump_source,
            Some(inventory_var("ansible_ssh_common_args"))
        );

        let host = InventorySsh {
            jump: Some("none".to_string()),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert!(resolved.jumps.is_empty());
    }

    #[test]
    fn bastion_proxy_command_in_common_args_becomes_a_jump_host() {
        let host = InventorySsh {
            ssh_args: vec![(
                "ansible_ssh_common_args".to_string(),
                r#"-o ProxyCommand="ssh -W %h:%p -q ops@gw""#.to_string(),
            )],
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
                .expect("resolves");
        assert_eq!(resolved.jumps.len(), 1);
        assert_eq!(resolved.jumps[0].user.value, "ops");
        assert_eq!(resolved.jumps[0].hostname.value, "gw");
    }

    #[test]
    fn proxy_command_is_refused_with_a_hint() {
        let cfg = config("Host web\n  ProxyCommand nc %h %p\n");
        let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect_err("refused");
        let text = error.to_string();
        assert!(
            text.starts_with("web: ProxyCommand (ssh config (/cfg:2))"),
            "{text}"
        );
        assert!(error.hint.expect("a hint").starts_with("use ProxyJump"));
    }

    #[test]
    fn unsupported_tokens_and_bad_common_args_are_errors() {
        let cfg = config("Host web\n  IdentityFile ~/.ssh/%C\n");
        assert!(
            resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local()).is_err()
        );
        let host = InventorySsh {
            ssh_args: vec![("ansible_ssh_extra_args".to_string(), "-p".to_string())],
            ..inventory("web")
        };
        let error = resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
            .expect_err("bad args");
        assert!(error.to_string().contains("ansible_ssh_extra_args"));
    }

    #[test]
    fn known_hosts_none_means_no_file_in_any_case() {
        let cfg = config("Host web\n  UserKnownHostsFile none\n  GlobalKnownHostsFile NONE\n");
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        assert!(resolved.known_hosts_files.value.is_empty());
        assert!(resolved.global_known_hosts_files.value.is_empty());
        assert!(
            resolved
                .describe()
                .contains(&"known hosts: none (ssh config (/cfg:2))".to_string())
        );
        let target = resolved.to_target();
        assert!(target.host_keys.user_files.is_empty());
        assert!(target.host_keys.global_files.is_empty());

        let host = InventorySsh {
            ssh_args: vec![(
                "ansible_ssh_common_args".to_string(),
                "-o UserKnownHostsFile=None".to_string(),
            )],
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
                .expect("resolves");
        assert!(resolved.known_hosts_files.value.is_empty());
    }

    #[test]
    fn known_hosts_none_among_other_files_is_an_error() {
        let cfg = config("Host web\n  UserKnownHostsFile none ~/.ssh/known_hosts\n");
        let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect_err("refused");
        assert!(
            error.to_string().contains("appears with other entries"),
            "{error}"
        );
    }

    #[test]
    fn relative_known_hosts_file_is_an_input_error() {
        let cfg = config("Host web\n  UserKnownHostsFile known_hosts\n");
        let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect_err("refused");
        let text = error.to_string();
        assert!(
            text.starts_with("web: UserKnownHostsFile \"known_hosts\" is a relative path"),
            "{text}"
        );
        assert!(text.contains("(ssh config (/cfg:2))"), "{text}");

        let cfg = config("Host web\n  GlobalKnownHostsFile /etc/ssh/kh %h_keys\n");
        let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("GlobalKnownHostsFile \"%h_keys\""),
            "{error}"
        );

        // A jump host's known_hosts files are checked alike.
        let cfg = config("Host bastion\n  UserKnownHostsFile kh\n");
        let host = InventorySsh {
            jump: Some("bastion".to_string()),
            ..inventory("web")
        };
        let error =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect_err("refused");
        assert!(error.to_string().contains("relative path"), "{error}");

        // `~`, `%d` and absolute names are fine.
        let cfg = config("Host web\n  UserKnownHostsFile ~/kh %d/kh2 /etc/kh3\n");
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        assert_eq!(
            resolved.known_hosts_files.value,
            [
                PathBuf::from("/home/me/kh"),
                PathBuf::from("/home/me/kh2"),
                PathBuf::from("/etc/kh3")
            ]
        );
    }

    #[test]
    fn zero_connect_timeout_from_ssh_config_or_inventory_means_the_default() {
        let cfg = config("Host web bastion\n  ConnectTimeout 0\n");
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        assert_eq!(
            resolved.connect_timeout,
            sourced(DEFAULT_CONNECT_TIMEOUT, SettingSource::Default)
        );
        assert!(
            resolved
                .notes
                .iter()
                .any(|note| note
                    .starts_with("connect timeout 0 (ssh config (/cfg:2)) means no timeout")),
            "{:?}",
            resolved.notes
        );

        let host = InventorySsh {
            connect_timeout: Some(Duration::ZERO),
            jump: Some("bastion".to_string()),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert_eq!(resolved.connect_timeout.value, DEFAULT_CONNECT_TIMEOUT);
        assert!(resolved.notes[0].contains("inventory (ansible_ssh_timeout)"));
        // The jump host's own ConnectTimeout 0 is replaced too, and said so.
        assert_eq!(
            resolved.jumps[0].connect_timeout.value,
            DEFAULT_CONNECT_TIMEOUT
        );
        assert_eq!(resolved.notes.len(), 2, "{:?}", resolved.notes);
    }

    #[test]
    fn revoked_host_keys_is_resolved_for_targets_and_jump_hosts() {
        let cfg = config("Host *\n  RevokedHostKeys ~/.ssh/revoked_%h\n");
        let host = InventorySsh {
            jump: Some("bastion".to_string()),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert_eq!(
            resolved.revoked_host_keys,
            Some(sourced(PathBuf::from("/home/me/.ssh/revoked_web"), at(2)))
        );
        let target = resolved.to_target();
        assert_eq!(
            target.host_keys.revoked_file,
            Some(PathBuf::from("/home/me/.ssh/revoked_web"))
        );
        assert_eq!(
            target.jumps[0].host_keys.revoked_file,
            Some(PathBuf::from("/home/me/.ssh/revoked_bastion"))
        );
        assert!(resolved.describe().contains(
            &"revoked host keys: /home/me/.ssh/revoked_web (ssh config (/cfg:2))".to_string()
        ));

        let cfg = config("Host *\n  RevokedHostKeys none\n");
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        assert_eq!(resolved.revoked_host_keys, None);

        let cfg = config("Host *\n  RevokedHostKeys revoked\n");
        let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect_err("relative");
        assert!(
            error
                .to_string()
                .contains("RevokedHostKeys \"revoked\" is a relative path")
        );
    }

    #[test]
    fn host_key_alias_and_known_hosts_command_give_a_note_not_silence() {
        let cfg =
            config("Host web bastion\n  HostKeyAlias alias\n  KnownHostsCommand /bin/keys %H\n");
        let host = InventorySsh {
            jump: Some("bastion".to_string()),
            ..inventory("web")
        };
        let resolved =
            resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
        assert_eq!(resolved.notes.len(), 4, "{:?}", resolved.notes);
        assert!(resolved.notes[0].starts_with("HostKeyAlias alias at /cfg:2 is not supported"));
        assert!(
            resolved.notes[1]
                .starts_with("KnownHostsCommand /bin/keys %H at /cfg:3 is not supported")
        );
    }

    #[test]
    fn describe_names_every_source() {
        let cfg = config("Host web\n  Port 2222\n");
        let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
            .expect("resolves");
        let lines = resolved.describe();
        assert!(lines.contains(&"port: 2222 (ssh config (/cfg:2))".to_string()));
        assert!(lines.contains(&"user: me (default)".to_string()));
        let json = serde_json::to_value(&resolved).expect("serializes");
        assert_eq!(json["port"]["source"], "ssh config (/cfg:2)");
        assert_eq!(json["connect_timeout"]["value"], "10s");
    }
}
