//! SSH: one russh connection per host (directly or through shared jump host connections),
//! ssh_config, known_hosts and host-key policy, authentication, and the channels that carry
//! Docker API traffic.

mod args;
mod auth;
mod config;
mod connect;
mod error;
mod host_key;
mod jump;
mod known_hosts;
mod passphrase;
mod pattern;
mod round_trips;
mod session;
mod settings;
mod sftp;

pub use crate::data::FilesystemSpace;
pub use args::{JumpSpec, parse_jump_chain};
pub use auth::{AgentSocket, AuthSettings, IdentityCache};
pub use config::{
    ConfigOrigin, ConfigScope, ConfigValue, HostConfig, SYSTEM_CONFIG, SshConfig, SshConfigError,
    StrictHostKeyChecking,
};
pub use connect::SshOptions;
pub use error::SshError;
pub use host_key::{HostKeyPolicy, HostKeySettings};
pub use jump::JumpPool;
pub use known_hosts::KnownHostsCache;
pub use passphrase::{PASSPHRASE_ENV, set_prompt_suspender};
pub use round_trips::{RoundTrips, Sent};
pub use session::{ChannelIo, SessionCaches, SshSession, SshTarget, connections_opened};
pub use settings::{
    AnsibleSsh, CliSsh, DEFAULT_CONNECT_TIMEOUT, InventorySsh, LocalEnv, ResolvedSsh,
    SettingSource, Sourced, SshSettingsError, resolve_ssh_settings,
};
pub use sftp::{PathAccess, SftpChannel, SftpError};
