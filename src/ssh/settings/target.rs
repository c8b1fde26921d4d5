//! The connection the `ssh` module makes from a host's resolved settings.

use super::types::{ResolvedSsh, SettingSource};
use crate::ssh::auth::AuthSettings;
use crate::ssh::host_key::HostKeySettings;
use crate::ssh::session::SshTarget;

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
}
