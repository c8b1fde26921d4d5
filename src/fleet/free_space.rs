//! The free space around a host's Docker root, read over one SFTP session kept for the whole
//! host run, so the read after the removals costs one round trip. Never a failure: a host where
//! it cannot be read gets a warning, once, and is not asked again. Other reads of the host's
//! files (containerd's content store) share the session ([`FreeSpace::sftp`]).

use std::time::Duration;

use crate::report::HostReport;
use crate::ssh::{FilesystemSpace, SftpChannel, SftpError, SshSession};

use super::connect::ConnectedHost;
use super::control::RunControl;

/// After a host failed (a removal's answer lost, the connection broken) the connection may be
/// gone: the read after the changes gets this long at most, not another whole API timeout.
const AFTER_A_FAILURE: Duration = Duration::from_secs(5);

/// Reads of one host's free space.
pub(super) struct FreeSpace {
    root: String,
    sftp: Option<SftpChannel>,
    /// Why the space cannot be read; set by the first failure, then every read says it at once.
    unreadable: Option<String>,
    /// sshd refused the sftp subsystem: no session is asked for again.
    no_subsystem: bool,
}

impl FreeSpace {
    /// Reads of the filesystem holding `docker_root` (the engine's `DockerRootDir`).
    pub(super) fn new(docker_root: &str) -> FreeSpace {
        FreeSpace {
            root: docker_root.to_string(),
            sftp: None,
            unreadable: docker_root
                .is_empty()
                .then(|| "the engine did not say where its root is".to_string()),
            no_subsystem: false,
        }
    }

    /// The host's SFTP session, opened on first use (the one opened ahead when there is one).
    pub(super) async fn sftp(
        &mut self,
        session: &SshSession,
    ) -> Result<&mut SftpChannel, SftpError> {
        if self.no_subsystem {
            return Err(SftpError::NoSubsystem);
        }
        if self.sftp.is_none() {
            match SftpChannel::open(session).await {
                Ok(channel) => self.sftp = Some(channel),
                Err(error) => {
                    self.no_subsystem = error == SftpError::NoSubsystem;
                    return Err(error);
                }
            }
        }
        self.sftp.as_mut().ok_or(SftpError::Closed)
    }

    /// The space now, within `limit`; the first read opens the SFTP session. `Err` is the
    /// warning's text after `free space not measured: `.
    pub(super) async fn read(
        &mut self,
        session: &SshSession,
        limit: Duration,
    ) -> Result<FilesystemSpace, String> {
        if let Some(reason) = &self.unreadable {
            return Err(reason.clone());
        }
        let root = self.root.clone();
        let attempt = async { self.sftp(session).await?.statvfs(&root).await };
        let outcome = match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(space)) => return Ok(space),
            Ok(Err(SftpError::NoSubsystem)) => SftpError::NoSubsystem.to_string(),
            Ok(Err(error)) => format!("statvfs of {root} over sftp: {error}"),
            Err(_) => format!(
                "statvfs of {root} over sftp: no answer within {}",
                humantime::format_duration(limit)
            ),
        };
        self.unreadable = Some(outcome.clone());
        if let Some(channel) = self.sftp.take() {
            channel.close().await;
        }
        Err(outcome)
    }

    /// Ends the SFTP session, if one is open.
    pub(super) async fn close(self) {
        if let Some(channel) = self.sftp {
            channel.close().await;
        }
    }
}

/// The warning for a free space that could not be read.
pub(super) fn not_measured(reason: &str) -> String {
    format!("free space not measured: {reason}")
}

/// Free space around the Docker root within `limit`; a failure is a warning (given once),
/// never a failed run.
pub(super) async fn read_space(
    host: &ConnectedHost,
    free_space: &mut FreeSpace,
    limit: Duration,
    warnings: &mut Vec<String>,
) -> Option<FilesystemSpace> {
    match free_space.read(&host.session, limit).await {
        Ok(space) => Some(space),
        Err(reason) => {
            if !warnings.iter().any(|w| w.starts_with("free space")) {
                warnings.push(not_measured(&reason));
            }
            None
        }
    }
}

/// The read after a run's changes, into `report.space_after`, then the session's end. After an
/// interrupt no new call starts; after a failure (`failed`, or one already in `report`) the
/// read gets [`AFTER_A_FAILURE`] at most.
pub(super) async fn read_space_after(
    host: &ConnectedHost,
    mut free_space: FreeSpace,
    report: &mut HostReport,
    control: &RunControl,
    failed: bool,
) {
    if !control.interrupted() {
        let limit = if failed || report.failure.is_some() {
            host.engine.api_timeout().min(AFTER_A_FAILURE)
        } else {
            host.engine.api_timeout()
        };
        report.space_after = read_space(host, &mut free_space, limit, &mut report.warnings).await;
    }
    free_space.close().await;
}
