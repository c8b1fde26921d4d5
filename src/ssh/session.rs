//! One authenticated SSH connection to one host, and the channels the run opens on it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use russh::{ChannelStream, Disconnect};

use super::SshError;
use super::auth::authenticate;
use super::known_hosts::{HostKeyVerdict, check_host_key, fingerprint, host_id};

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct SshTarget {
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Key files to try after the agent, in order.
    pub identity_files: Vec<PathBuf>,
}

/// Settings shared by every connection of a run.
#[derive(Debug, Clone)]
pub struct SshOptions {
    pub known_hosts: PathBuf,
    /// Covers TCP connect, key exchange and authentication.
    pub connect_timeout: Duration,
}

/// Checks the server's key against known_hosts and remembers the verdict, so that a refused
/// key can be explained after russh has ended the handshake.
struct HostKeyChecker {
    known_hosts: PathBuf,
    address: String,
    port: u16,
    rejection: Arc<Mutex<Option<SshError>>>,
}

impl client::Handler for HostKeyChecker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // A host certificate is checked by the key it certifies, as a plain known_hosts line would.
        let offered = &offered.public_key();
        let verdict = check_host_key(&self.known_hosts, &self.address, self.port, offered);
        let rejection = match verdict {
            Ok(HostKeyVerdict::Trusted) => return Ok(true),
            Ok(HostKeyVerdict::Unknown) => SshError::UnknownHostKey {
                host_id: host_id(&self.address, self.port),
                fingerprint: fingerprint(offered),
                known_hosts: self.known_hosts.clone(),
            },
            Ok(HostKeyVerdict::Changed { line }) => SshError::ChangedHostKey {
                host_id: host_id(&self.address, self.port),
                fingerprint: fingerprint(offered),
                known_hosts: self.known_hosts.clone(),
                line,
            },
            Err(error) => error,
        };
        if let Ok(mut slot) = self.rejection.lock() {
            *slot = Some(rejection);
        }
        Ok(false)
    }
}

/// An authenticated connection. Dropping it without [`SshSession::close`] also ends it.
pub struct SshSession {
    handle: Handle<HostKeyChecker>,
    /// How the user was authenticated, e.g. `publickey (agent)` or `publickey (/root/.ssh/id_ed25519)`.
    pub auth_method: String,
}

impl SshSession {
    /// Connects, checks the host key, and authenticates, all within `options.connect_timeout`.
    pub async fn connect(target: &SshTarget, options: &SshOptions) -> Result<SshSession, SshError> {
        let timeout = options.connect_timeout;
        match tokio::time::timeout(timeout, Self::connect_unbounded(target, options)).await {
            Ok(result) => result,
            Err(_) => Err(SshError::ConnectTimeout {
                address: target.address.clone(),
                port: target.port,
                seconds: timeout.as_secs().max(1),
            }),
        }
    }

    async fn connect_unbounded(
        target: &SshTarget,
        options: &SshOptions,
    ) -> Result<SshSession, SshError> {
        let socket = tokio::net::TcpStream::connect((target.address.as_str(), target.port))
            .await
            .map_err(|error| SshError::Connect {
                address: target.address.clone(),
                port: target.port,
                cause: error.to_string(),
            })?;
        // Small request/response exchanges dominate: Nagle's algorithm would add a delay to each.
        let _ = socket.set_nodelay(true);
        let config = Arc::new(client::Config {
            nodelay: true,
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            ..client::Config::default()
        });
        let rejection = Arc::new(Mutex::new(None));
        let checker = HostKeyChecker {
            known_hosts: options.known_hosts.clone(),
            address: target.address.clone(),
            port: target.port,
            rejection: Arc::clone(&rejection),
        };
        let mut handle = match client::connect_stream(config, socket, checker).await {
            Ok(handle) => handle,
            Err(error) => {
                let explained = rejection.lock().ok().and_then(|mut slot| slot.take());
                return Err(explained.unwrap_or_else(|| SshError::Handshake {
                    address: target.address.clone(),
                    port: target.port,
                    cause: error.to_string(),
                }));
            }
        };
        let auth_method = authenticate(&mut handle, target).await?;
        Ok(SshSession {
            handle,
            auth_method,
        })
    }

    /// Opens a `direct-streamlocal@openssh.com` channel to a unix socket on the host.
    pub async fn open_socket(&self, path: &str) -> Result<ChannelStream<client::Msg>, SshError> {
        let channel = self
            .handle
            .channel_open_direct_streamlocal(path)
            .await
            .map_err(|error| SshError::SocketForward {
                path: path.to_string(),
                cause: match error {
                    russh::Error::ChannelOpenFailure(reason) => describe_open_failure(&reason),
                    other => other.to_string(),
                },
            })?;
        Ok(channel.into_stream())
    }

    /// Opens a session channel and starts a subsystem on it (e.g. `sftp`).
    pub async fn open_subsystem(&self, name: &str) -> Result<ChannelStream<client::Msg>, SshError> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|error| SshError::Transport(error.to_string()))?;
        channel
            .request_subsystem(true, name)
            .await
            .map_err(|error| SshError::Transport(error.to_string()))?;
        Ok(channel.into_stream())
    }

    /// Opens a session channel and runs `command` on it (no terminal). The command goes to the
    /// user's login shell, so the caller quotes every argument it builds.
    pub async fn open_exec(&self, command: &str) -> Result<russh::Channel<client::Msg>, SshError> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|error| SshError::Transport(error.to_string()))?;
        channel
            .exec(true, command)
            .await
            .map_err(|error| SshError::Transport(error.to_string()))?;
        Ok(channel)
    }

    /// Ends the connection politely.
    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn describe_open_failure(reason: &russh::ChannelOpenFailure) -> String {
    match reason {
        russh::ChannelOpenFailure::AdministrativelyProhibited => {
            "administratively prohibited (sshd_config has AllowStreamLocalForwarding or AllowTcpForwarding set to no)"
                .to_string()
        }
        russh::ChannelOpenFailure::ConnectFailed => {
            "connect failed (no socket at that path, Docker is not running, the user may not open \
             it, or sshd does not allow forwarding: AllowStreamLocalForwarding/AllowTcpForwarding no)"
                .to_string()
        }
        other => format!("{other:?}"),
    }
}
