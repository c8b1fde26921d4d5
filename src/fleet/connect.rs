//! Reaching one host: SSH connection, then its Docker engine over that connection.

use std::sync::Arc;

use crate::engine::{Engine, EngineAccess};
use crate::report::{HostReport, Step};
use crate::ssh::{SshError, SshOptions, SshSession};

use super::HostTarget;
use super::progress::HostProgress;

/// Settings shared by every host of a run.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub ssh: SshOptions,
    /// Limit for one Docker API call, in seconds.
    pub api_timeout_secs: u64,
    /// Reach every host's daemon through `sudo -n docker system dial-stdio` (`--become`).
    pub become_root: bool,
}

/// A reached host: its SSH session and negotiated engine.
pub struct ConnectedHost {
    pub session: Arc<SshSession>,
    pub engine: Engine,
}

impl ConnectedHost {
    /// Closes the API connections, then the SSH connection.
    pub async fn close(self) {
        drop(self.engine);
        self.session.close().await;
    }
}

/// Connects to `target`, recording the failing step in `report` when it cannot.
pub async fn connect_host(
    target: &HostTarget,
    options: &ConnectOptions,
    report: &mut HostReport,
    progress: &HostProgress,
) -> Option<ConnectedHost> {
    progress.step("connecting");
    let session = match SshSession::connect(&target.ssh, &options.ssh).await {
        Ok(session) => {
            report.warnings.extend(session.take_notes());
            Arc::new(session)
        }
        Err(error) => {
            report.fail(ssh_step(&error), error.to_string());
            return None;
        }
    };
    progress.step("docker");
    let access = EngineAccess {
        socket_path: target.docker_socket.clone(),
        become_root: options.become_root || target.become_root,
        request_timeout_secs: options.api_timeout_secs,
    };
    match Engine::connect(Arc::clone(&session), &access, &mut report.warnings).await {
        Ok(engine) => {
            report.engine = Some(engine.info.clone());
            Some(ConnectedHost { session, engine })
        }
        Err(error) => {
            report.fail(
                Step::Docker,
                format!(
                    "{error}\nhint: check that dockerd runs on the host, that docker_socket ({}) \
                     is its API socket, and that the SSH user may open it",
                    target.docker_socket
                ),
            );
            session.close().await;
            None
        }
    }
}

fn ssh_step(error: &SshError) -> Step {
    match error {
        SshError::UnknownHostKey { .. }
        | SshError::ChangedHostKey { .. }
        | SshError::RevokedHostKey { .. }
        | SshError::KnownHosts { .. } => Step::HostKey,
        SshError::AuthRefused { .. } => Step::Auth,
        _ => Step::Connect,
    }
}
