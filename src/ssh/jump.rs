//! Jump hosts: one SSH connection per distinct jump host (per chain of them) for the whole run,
//! shared by every host behind it; each target is reached over a `direct-tcpip` channel of it.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::SshError;
use super::session::{SessionCaches, SshSession, SshTarget};

type Slot = Arc<OnceCell<Result<Arc<SshSession>, String>>>;

/// The run's jump host connections, keyed by the chain that reaches them (see [`hop_key`]).
#[derive(Default)]
pub struct JumpPool {
    slots: Mutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for JumpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JumpPool")
    }
}

impl JumpPool {
    /// The connection to the last hop of `chain`, made (hop by hop) on first use. A hop that
    /// failed is not tried again in this run: every host behind it gets the same error.
    /// Also returns what the hops had to say (e.g. a learnt host key), to the first caller only.
    pub(crate) async fn session(
        &self,
        chain: &[SshTarget],
        caches: &SessionCaches,
    ) -> Result<(Arc<SshSession>, Vec<String>), SshError> {
        let mut previous: Option<Arc<SshSession>> = None;
        let mut notes = Vec::new();
        let mut key = String::new();
        for hop in chain {
            key.push_str(&hop_key(hop));
            key.push('|');
            let slot = {
                let mut slots = self.slots.lock().await;
                Arc::clone(slots.entry(key.clone()).or_default())
            };
            let via = previous.clone();
            let made = slot
                .get_or_init(|| async move {
                    // A jump host's round trips are its own, not those of the hosts behind it.
                    let round_trips = Arc::default();
                    let session = match &via {
                        None => {
                            SshSession::connect_direct(hop, caches, round_trips, None, false).await
                        }
                        Some(jump) => {
                            SshSession::connect_via(jump, hop, caches, round_trips, None, false)
                                .await
                        }
                    };
                    session.map(Arc::new).map_err(|error| error.to_string())
                })
                .await;
            match made {
                Ok(session) => {
                    notes.extend(
                        session
                            .take_notes()
                            .into_iter()
                            .map(|note| format!("jump host {}: {note}", hop.label())),
                    );
                    previous = Some(Arc::clone(session));
                }
                Err(cause) => {
                    return Err(SshError::Jump {
                        jump: hop.label(),
                        cause: cause.clone(),
                    });
                }
            }
        }
        match previous {
            Some(session) => Ok((session, notes)),
            None => Err(SshError::Transport("empty jump host chain".to_string())),
        }
    }

    /// Ends every jump host connection, the deepest hops first.
    pub async fn close(&self) {
        let mut slots: Vec<(String, Slot)> = self.slots.lock().await.drain().collect();
        slots.sort_by_key(|(key, _)| std::cmp::Reverse(key.len()));
        for (_, slot) in slots {
            if let Some(Ok(session)) = slot.get() {
                session.close().await;
            }
        }
    }
}

/// What makes two hops one shared connection: the user, address and port, and every setting that
/// decides whether the server is trusted (host key policy, known_hosts files) or how the login is
/// made (keys, certificates, agent). Two ssh_config aliases of one bastion with different
/// settings (one `StrictHostKeyChecking no`, one strict) thus get a connection each, and no hop
/// is ever used under a laxer check than its own. Only compared, never shown.
fn hop_key(hop: &SshTarget) -> String {
    format!("{} {:?} {:?}", hop.label(), hop.host_keys, hop.auth)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::ssh::auth::{AgentSocket, AuthSettings};
    use crate::ssh::host_key::{HostKeyPolicy, HostKeySettings};

    fn bastion() -> SshTarget {
        SshTarget {
            address: "192.0.2.1".to_string(),
            port: 22,
            auth: AuthSettings {
                user: "ops".to_string(),
                identity_files: vec![PathBuf::from("/keys/ops")],
                default_identities: false,
                certificate_files: vec![],
                identities_only: false,
                agent: AgentSocket::Environment,
            },
            host_keys: HostKeySettings {
                policy: HostKeyPolicy::Strict,
                user_files: vec![PathBuf::from("/kh")],
                global_files: vec![],
                hash_new_entries: false,
                revoked_file: None,
            },
            connect_timeout: Duration::from_secs(10),
            jumps: vec![],
        }
    }

    #[test]
    fn same_bastion_with_the_same_settings_shares_one_connection() {
        let other_timeout = SshTarget {
            connect_timeout: Duration::from_secs(3),
            ..bastion()
        };
        assert_eq!(hop_key(&bastion()), hop_key(&other_timeout));
    }

    #[test]
    fn bastion_aliases_with_different_host_key_policies_do_not_share_a_connection() {
        let mut lax = bastion();
        lax.host_keys.policy = HostKeyPolicy::Off;
        assert_eq!(lax.label(), bastion().label());
        assert_ne!(hop_key(&lax), hop_key(&bastion()));

        let mut other_files = bastion();
        other_files.host_keys.user_files = vec![PathBuf::from("/dev/null")];
        assert_ne!(hop_key(&other_files), hop_key(&bastion()));
        let mut other_global = bastion();
        other_global.host_keys.global_files = vec![PathBuf::from("/etc/kh")];
        assert_ne!(hop_key(&other_global), hop_key(&bastion()));
    }

    #[test]
    fn bastion_aliases_with_different_identity_files_do_not_share_a_connection() {
        let mut other_key = bastion();
        other_key.auth.identity_files = vec![PathBuf::from("/keys/other")];
        assert_ne!(hop_key(&other_key), hop_key(&bastion()));
    }
}
