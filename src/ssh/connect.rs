//! Reaching a host: directly, or through the run's shared jump host connections.

use std::sync::Arc;

use super::SshError;
use super::jump::JumpPool;
use super::round_trips::RoundTrips;
use super::session::{EarlySockets, SessionCaches, SshSession, SshTarget};

/// Settings shared by every connection of a run.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// Jump host connections, shared by all the hosts behind them.
    pub jump_pool: Arc<JumpPool>,
    /// known_hosts and identity files, read once per run.
    pub caches: SessionCaches,
    /// Each target's SFTP session is opened as soon as it is logged in
    /// ([`SshSession::open_sftp_ahead`]): for commands that read the free space.
    pub open_sftp_ahead: bool,
}

impl SshSession {
    /// Connects (through the target's jump hosts, if any), checks the host key, and
    /// authenticates; each hop within its own connect timeout. `early`: socket channels asked
    /// for with the login ([`EarlySockets`]).
    /// Round trips are counted in `round_trips`.
    pub async fn connect(
        target: &SshTarget,
        options: &SshOptions,
        round_trips: Arc<RoundTrips>,
        early: Option<&EarlySockets>,
    ) -> Result<SshSession, SshError> {
        // The SFTP session's channel, when it is to be opened ahead, goes with the login too.
        let sftp_early = options.open_sftp_ahead;
        let session = if target.jumps.is_empty() {
            Self::connect_direct(target, &options.caches, round_trips, early, sftp_early).await?
        } else {
            let (jump, jump_notes) = options
                .jump_pool
                .session(&target.jumps, &options.caches)
                .await?;
            let session = Self::connect_via(
                &jump,
                target,
                &options.caches,
                round_trips,
                early,
                sftp_early,
            )
            .await?;
            session.prepend_notes(jump_notes);
            session
        };
        if options.open_sftp_ahead {
            session.open_sftp_ahead();
        }
        Ok(session)
    }
}
