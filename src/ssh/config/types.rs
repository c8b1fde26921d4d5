//! What an ssh_config holds once read: its files, blocks and the directives fleetrmi acts on,
//! and the values a host gets from them, each with the line it came from.

use std::path::PathBuf;
use std::time::Duration;

/// The system-wide client configuration OpenSSH reads after the user's.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// A file that could not be read or holds a line OpenSSH would refuse.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("cannot read ssh config {path}: {cause}")]
    Read { path: PathBuf, cause: String },

    #[error("ssh config {path} line {line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Where a value came from: a file and a line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigOrigin {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A value with the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue<T> {
    pub value: T,
    pub origin: ConfigOrigin,
}

/// `StrictHostKeyChecking` as written; `ask` is kept apart because fleetrmi never asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    Ask,
    AcceptNew,
    No,
}

/// What the configuration says for one host. `None`/empty means no line set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName`, with `%h` already replaced by the name looked up.
    pub hostname: Option<ConfigValue<String>>,
    pub user: Option<ConfigValue<String>>,
    pub port: Option<ConfigValue<u16>>,
    /// `IdentityFile` lines in order, tokens (`~`, `%d`, `%h`, `%r`, …) not yet expanded.
    pub identity_files: Vec<ConfigValue<String>>,
    /// `CertificateFile` lines in order, tokens not yet expanded.
    pub certificate_files: Vec<ConfigValue<String>>,
    pub identities_only: Option<ConfigValue<bool>>,
    /// `ProxyJump` as written (`none` included).
    pub proxy_jump: Option<ConfigValue<String>>,
    /// `ProxyCommand` as written; fleetrmi cannot run one, but must know it was asked for.
    pub proxy_command: Option<ConfigValue<String>>,
    pub user_known_hosts_files: Option<ConfigValue<Vec<String>>>,
    pub global_known_hosts_files: Option<ConfigValue<Vec<String>>>,
    pub strict_host_key_checking: Option<ConfigValue<StrictHostKeyChecking>>,
    pub connect_timeout: Option<ConfigValue<Duration>>,
    pub hash_known_hosts: Option<ConfigValue<bool>>,
    /// `IdentityAgent`: a socket path, `SSH_AUTH_SOCK`, or `none`.
    pub identity_agent: Option<ConfigValue<String>>,
    /// `RevokedHostKeys`: a file of revoked public keys (or `none`), tokens not yet expanded.
    pub revoked_host_keys: Option<ConfigValue<String>>,
    /// Options that bear on host key checking but that fleetrmi does not implement
    /// (`HostKeyAlias`, `KnownHostsCommand`), as `Keyword value`: the caller says so.
    pub unsupported_options: Vec<ConfigValue<String>>,
    /// `Match` criteria fleetrmi cannot evaluate (`exec`, `localnetwork`, …): such blocks are
    /// treated as not matching, and the caller may say so.
    pub unsupported_match: Vec<ConfigValue<String>>,
}

/// One or more parsed configuration files, in the order OpenSSH reads them.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    pub(super) files: Vec<ConfigFile>,
}

#[derive(Debug, Clone)]
pub(super) struct ConfigFile {
    pub(super) path: PathBuf,
    pub(super) items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub(super) enum Item {
    Host {
        patterns: Vec<String>,
    },
    Match {
        criteria: Vec<Criterion>,
        line: usize,
    },
    Directive {
        directive: Directive,
        line: usize,
    },
    Include {
        files: Vec<ConfigFile>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Criterion {
    pub(super) negated: bool,
    pub(super) kind: CriterionKind,
}

#[derive(Debug, Clone)]
pub(super) enum CriterionKind {
    All,
    Canonical,
    Final,
    Host(Vec<String>),
    OriginalHost(Vec<String>),
    User(Vec<String>),
    LocalUser(Vec<String>),
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub(super) enum Directive {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    CertificateFile(String),
    IdentitiesOnly(bool),
    ProxyJump(String),
    ProxyCommand(String),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    ConnectTimeout(Duration),
    HashKnownHosts(bool),
    IdentityAgent(String),
    RevokedHostKeys(String),
    /// A keyword fleetrmi reads but does not implement, kept to say so: `Keyword value`.
    Unsupported(String),
}

/// Whose file is being read: relative `Include` paths are resolved against `~/.ssh` for the
/// user's configuration (and `-F FILE`), against `/etc/ssh` for the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigScope {
    User,
    System,
}
