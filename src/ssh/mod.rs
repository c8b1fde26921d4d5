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
pub use config::{SshConfig, SshConfigError};
pub use connect::SshOptions;
pub use error::SshError;
pub use host_key::HostKeyPolicy;
pub use passphrase::set_prompt_suspender;
pub use round_trips::RoundTrips;
pub use session::{ChannelIo, EarlySockets, SshSession, SshTarget, connections_opened};
pub use settings::{
    AnsibleSsh, CliSsh, InventorySsh, LocalEnv, ResolvedSsh, SettingSource, SshSettingsError,
    resolve_ssh_settings,
};
pub use sftp::{FileRead, SftpChannel, SftpError};
