//! What a host's SSH settings are: each value with where it came from, and the inputs they are
//! resolved from (inventory, Ansible's configuration, the command line, the local user).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::ssh::auth::AgentSocket;
use crate::ssh::config::ConfigOrigin;
use crate::ssh::host_key::HostKeyPolicy;

/// fleetrmi's own default for `--connect-timeout` when nothing sets one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

pub(super) fn sourced<T>(value: T, source: SettingSource) -> Sourced<T> {
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
