//! Jump hosts: one SSH connection per distinct jump host (per chain of them) for the whole run,
//! shared by every host behind it; each target is reached over a `direct-tcpip` channel of it.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::SshError;
use super::session::{SshSession, SshTarget};

type Slot = Arc<OnceCell<Result<Arc<SshSession>, String>>>;

/// The run's jump host connections, keyed by the chain that reaches them.
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
    ) -> Result<(Arc<SshSession>, Vec<String>), SshError> {
        let mut previous: Option<Arc<SshSession>> = None;
        let mut notes = Vec::new();
        let mut key = String::new();
        for hop in chain {
            key.push_str(&hop.label());
            key.push('|');
            let slot = {
                let mut slots = self.slots.lock().await;
                Arc::clone(slots.entry(key.clone()).or_default())
            };
            let via = previous.clone();
            let made = slot
                .get_or_init(|| async move {
                    let session = match &via {
                        None => SshSession::connect_direct(hop).await,
                        Some(jump) => SshSession::connect_via(jump, hop).await,
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

    /// How many jump host connections were made (or attempted) in this run.
    pub async fn connections(&self) -> usize {
        self.slots.lock().await.len()
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
