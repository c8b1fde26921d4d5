//! Reaching one host: SSH connection, then its Docker engine over that connection.

use std::sync::Arc;

use crate::engine::{Engine, EngineAccess};
use crate::report::{HostFailure, HostReport, Step};
use crate::ssh::{EarlySockets, SshError, SshOptions, SshSession, SshTarget};

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
    /// How many times to try a connection again after a transient failure.
    pub connect_retries: u32,
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

/// The frame of every mutating command's host job: connects to `target` (a failure to is the
/// report's), runs `work` on the reached host (which settles the report's status when it
/// completes), records the failure it stopped with, if any, then the API calls, and closes the
/// host.
pub(super) async fn on_connected_host(
    target: &HostTarget,
    options: &ConnectOptions,
    progress: &HostProgress,
    mut report: HostReport,
    work: impl AsyncFnOnce(&ConnectedHost, &mut HostReport) -> Result<(), HostFailure>,
) -> HostReport {
    let Some(host) = connect_host(target, options, &mut report, progress).await else {
        return report;
    };
    if let Err(failure) = work(&host, &mut report).await {
        report.fail(failure.step, failure.message);
    }
    report.api_calls = host.engine.api_calls();
    progress.step("closing");
    host.close().await;
    report
}

/// Connects to `target`, recording the failing step in `report` when it cannot.
pub async fn connect_host(
    target: &HostTarget,
    options: &ConnectOptions,
    report: &mut HostReport,
    progress: &HostProgress,
) -> Option<ConnectedHost> {
    progress.step("connecting");
    let become_root = options.become_root || target.become_root;
    // The first wave of API calls takes socket channels asked for with the login (sudo's
    // route has no socket channels).
    let early = (!become_root).then(|| EarlySockets {
        path: target.docker_socket.clone(),
        count: Engine::SOCKET_CHANNELS_AT_CONNECT,
    });
    let session =
        match connect_with_retries(&target.ssh, options, early.as_ref(), report, progress).await {
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
        become_root,
        request_timeout_secs: options.api_timeout_secs,
    };
    match Engine::connect(Arc::clone(&session), &access, &mut report.warnings).await {
        Ok(engine) => {
            report.engine = Some(engine.info.clone());
            progress.publish(report);
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

/// Connects, trying again after transient failures (refused, reset, closed during the
/// handshake) with a doubling pause; never after host-key or authentication failures, and
/// never after a timeout (the host was given its whole `--connect-timeout` already).
async fn connect_with_retries(
    target: &SshTarget,
    options: &ConnectOptions,
    early: Option<&EarlySockets>,
    report: &mut HostReport,
    progress: &HostProgress,
) -> Result<SshSession, SshError> {
    let mut pause = CONNECT_RETRY_PAUSE;
    let mut attempt = 0;
    loop {
        match SshSession::connect(target, &options.ssh, progress.round_trips(), early).await {
            Ok(session) => {
                if attempt > 0 {
                    report.warnings.push(format!(
                        "connected at attempt {} of {}",
                        attempt + 1,
                        options.connect_retries + 1
                    ));
                }
                return Ok(session);
            }
            Err(error) if attempt < options.connect_retries && is_transient(&error) => {
                attempt += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(error) => return Err(with_attempts(error, attempt + 1)),
        }
    }
}

/// The first pause before a connection is tried again; it doubles each time.
const CONNECT_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Says in the cause how many attempts were made, when there were several.
fn with_attempts(error: SshError, attempts: u32) -> SshError {
    if attempts < 2 {
        return error;
    }
    match error {
        SshError::Connect {
            address,
            port,
            cause,
        } => SshError::Connect {
            address,
            port,
            cause: format!("{cause} ({attempts} attempts)"),
        },
        SshError::Handshake {
            address,
            port,
            cause,
        } => SshError::Handshake {
            address,
            port,
            cause: format!("{cause} ({attempts} attempts)"),
        },
        other => other,
    }
}

fn is_transient(error: &SshError) -> bool {
    match error {
        SshError::Connect { cause, .. } | SshError::Handshake { cause, .. } => {
            let cause = cause.to_lowercase();
            ["refused", "reset", "closed", "broken pipe", "disconnected"]
                .iter()
                .any(|word| cause.contains(word))
        }
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_error(cause: &str) -> SshError {
        SshError::Connect {
            address: "10.0.0.1".into(),
            port: 22,
            cause: cause.into(),
        }
    }

    #[test]
    fn refused_and_reset_connections_are_tried_again() {
        assert!(is_transient(&connect_error(
            "Connection refused (os error 111)"
        )));
        assert!(is_transient(&connect_error(
            "Connection reset by peer (os error 104)"
        )));
    }

    #[test]
    fn auth_host_key_and_unreachable_networks_are_not_retried() {
        assert!(!is_transient(&connect_error(
            "No route to host (os error 113)"
        )));
        assert!(!is_transient(&SshError::AuthRefused {
            user: "root".into(),
            tried: "key".into(),
            hint: String::new(),
        }));
        assert!(!is_transient(&SshError::ConnectTimeout {
            address: "a".into(),
            port: 22,
            seconds: 10,
        }));
    }

    #[test]
    fn the_final_error_counts_the_attempts() {
        let error = with_attempts(connect_error("Connection refused"), 3);
        assert!(
            error
                .to_string()
                .contains("Connection refused (3 attempts)"),
            "{error}"
        );
    }
}
