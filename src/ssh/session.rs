//! One authenticated SSH connection to one host, made directly or through jump hosts, and the
//! channels the run opens on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::{ChannelStream, Disconnect};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;

use super::SshError;
use super::auth::{AuthSettings, IdentityCache, authenticate};
use super::host_key::{HostKeyChecker, HostKeySettings};
use super::known_hosts::KnownHostsCache;
use super::round_trips::{RoundTrips, Sent};
use super::sftp::{PathAccess, SftpChannel, SftpError};

/// A channel's byte stream.
pub type ChannelIo = ChannelStream<client::Msg>;

/// How long closing a connection may take.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);
/// How long a refused socket's path may be looked at over SFTP before the error is given
/// without saying why.
const SOCKET_PROBE_LIMIT: Duration = Duration::from_secs(5);

/// Where and as whom to connect, and how to check the host: everything resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The host name or address to connect to (for a host behind jump hosts, as the last jump
    /// host resolves it).
    pub address: String,
    pub port: u16,
    pub auth: AuthSettings,
    pub host_keys: HostKeySettings,
    /// Covers TCP connect (or the jump host's channel), key exchange and authentication.
    pub connect_timeout: Duration,
    /// Jump hosts in order, the first reached directly; empty for a direct connection.
    pub jumps: Vec<SshTarget>,
}

impl SshTarget {
    /// `user@address:port`, the name used in messages and to share jump host connections.
    pub fn label(&self) -> String {
        if self.address.contains(':') {
            format!("{}@[{}]:{}", self.auth.user, self.address, self.port)
        } else {
            format!("{}@{}:{}", self.auth.user, self.address, self.port)
        }
    }
}

/// What every connection of a run reads once and shares: known_hosts files and identity files.
#[derive(Debug, Clone, Default)]
pub struct SessionCaches {
    /// known_hosts files, read once per run and shared by every connection.
    pub known_hosts: Arc<KnownHostsCache>,
    /// Identity files, read once per run.
    pub identities: Arc<IdentityCache>,
}

/// Socket channels to ask for with the login: their opens go right behind the signed
/// authentication request (vendor/russh), so that the first API calls wait for no channel open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlySockets {
    pub path: String,
    pub count: usize,
}

/// A channel asked for with the login, being opened.
type EarlyOpening = JoinHandle<Result<russh::Channel<client::Msg>, russh::Error>>;

/// Channels asked for with the login, until taken: socket channels to `path`, and the SFTP
/// session's channel.
struct EarlyChannels {
    path: String,
    opening: Vec<EarlyOpening>,
    session: Option<EarlyOpening>,
    /// The depth their answers end at: the login's last, when their opens went behind it.
    answered_at: Sent,
}

/// An authenticated connection. Dropping it without [`SshSession::close`] also ends it.
pub struct SshSession {
    handle: Arc<Handle<HostKeyChecker>>,
    /// How the user was authenticated, e.g. `publickey (agent key …)` or `publickey (/root/.ssh/id_ed25519)`.
    pub auth_method: String,
    /// What the user should hear about this connection (e.g. a host key learnt by accept-new).
    notes: Mutex<Vec<String>>,
    /// `user@address:port`, for messages about hosts reached through this one.
    label: String,
    /// The host's round trips, from the TCP connect on.
    round_trips: Arc<RoundTrips>,
    /// The SFTP session being opened ahead of need, until it is taken.
    sftp_ahead: Mutex<Option<JoinHandle<Result<SftpChannel, SftpError>>>>,
    early: Mutex<Option<EarlyChannels>>,
}

/// TCP connections this process has opened to SSH servers.
static CONNECTIONS_OPENED: AtomicU64 = AtomicU64::new(0);

/// How many SSH connections this process has opened so far (`--verbose` reports it).
pub fn connections_opened() -> u64 {
    CONNECTIONS_OPENED.load(Ordering::Relaxed)
}

impl SshSession {
    /// Connects over TCP.
    pub(crate) async fn connect_direct(
        target: &SshTarget,
        caches: &SessionCaches,
        round_trips: Arc<RoundTrips>,
        early: Option<&EarlySockets>,
        sftp_early: bool,
    ) -> Result<SshSession, SshError> {
        let connect = async {
            let sent = round_trips.sent();
            let socket = tokio::net::TcpStream::connect((target.address.as_str(), target.port))
                .await
                .map_err(|error| SshError::Connect {
                    address: target.address.clone(),
                    port: target.port,
                    cause: error.to_string(),
                })?;
            round_trips.answered(sent);
            // Small request/response exchanges dominate: Nagle's algorithm would add a delay to each.
            let _ = socket.set_nodelay(true);
            Self::handshake(socket, target, caches, round_trips, early, sftp_early).await
        };
        Self::bounded(target, connect).await
    }

    /// Connects over a `direct-tcpip` channel of `jump`, as `ssh -J` does.
    pub(crate) async fn connect_via(
        jump: &SshSession,
        target: &SshTarget,
        caches: &SessionCaches,
        round_trips: Arc<RoundTrips>,
        early: Option<&EarlySockets>,
        sftp_early: bool,
    ) -> Result<SshSession, SshError> {
        let connect = async {
            let sent = round_trips.sent();
            let channel = jump
                .handle
                .channel_open_direct_tcpip(
                    target.address.as_str(),
                    u32::from(target.port),
                    "127.0.0.1",
                    0,
                )
                .await
                .map_err(|error| SshError::JumpForward {
                    jump: jump.label.clone(),
                    address: target.address.clone(),
                    port: target.port,
                    cause: match error {
                        russh::Error::ChannelOpenFailure(reason) => {
                            describe_tcp_open_failure(&reason)
                        }
                        other => other.to_string(),
                    },
                })?;
            round_trips.answered(sent);
            let stream = channel.into_stream();
            Self::handshake(stream, target, caches, round_trips, early, sftp_early).await
        };
        Self::bounded(target, connect).await
    }

    async fn bounded(
        target: &SshTarget,
        connect: impl Future<Output = Result<SshSession, SshError>>,
    ) -> Result<SshSession, SshError> {
        let timeout = target.connect_timeout;
        match tokio::time::timeout(timeout, connect).await {
            Ok(result) => result,
            Err(_) => Err(SshError::ConnectTimeout {
                address: target.address.clone(),
                port: target.port,
                seconds: timeout.as_secs().max(1),
            }),
        }
    }

    /// Key exchange and authentication: the versions with both KEXINITs, the key exchange,
    /// then authentication (the service request goes with the first attempt, vendor/russh);
    /// the round trips of that fixed sequence are counted as each step completes. The `early`
    /// socket channels, and with `sftp_early` the SFTP session's channel, are asked for before
    /// authenticating.
    async fn handshake<S>(
        stream: S,
        target: &SshTarget,
        caches: &SessionCaches,
        round_trips: Arc<RoundTrips>,
        early: Option<&EarlySockets>,
        sftp_early: bool,
    ) -> Result<SshSession, SshError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        CONNECTIONS_OPENED.fetch_add(1, Ordering::Relaxed);
        let (checker, outcome) = HostKeyChecker::new(
            &target.address,
            target.port,
            &target.host_keys,
            &caches.known_hosts,
        )?;
        let config = Arc::new(client::Config {
            nodelay: true,
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            // Keepalive replies keep a healthy session active; this also ends one whose writes
            // are stuck (a peer that stopped reading), which keepalives alone would not.
            inactivity_timeout: Some(Duration::from_secs(90)),
            preferred: checker.preferred(&russh::Preferred::DEFAULT),
            ..client::Config::default()
        });
        let mut handle = match client::connect_stream(config, stream, checker).await {
            Ok(handle) => handle,
            Err(error) => {
                let explained = outcome
                    .lock()
                    .ok()
                    .and_then(|mut outcome| outcome.rejection.take());
                return Err(explained.unwrap_or_else(|| SshError::Handshake {
                    address: target.address.clone(),
                    port: target.port,
                    cause: error.to_string(),
                }));
            }
        };
        // The version exchange (with both KEXINITs), then the key exchange proper.
        round_trips.sequential(2);
        let opening: Vec<_> = early
            .into_iter()
            .flat_map(|early| (0..early.count).map(|_| early.path.clone()))
            .filter_map(|path| handle.channel_open_direct_streamlocal_early(path).ok())
            .map(tokio::spawn)
            .collect();
        let session = sftp_early
            .then(|| handle.channel_open_session_early().ok())
            .flatten()
            .map(tokio::spawn);
        let (depth, with_first_request) = (round_trips.total(), round_trips.sent());
        let auth_method =
            authenticate(&mut handle, &target.auth, &round_trips, &caches.identities).await?;
        let early = EarlyChannels {
            path: early.map(|early| early.path.clone()).unwrap_or_default(),
            opening,
            session,
            answered_at: early_answer_depth(
                &handle,
                round_trips.total() - depth,
                with_first_request,
                round_trips.sent(),
            ),
        };
        let notes = outcome
            .lock()
            .map(|mut outcome| std::mem::take(&mut outcome.notes))
            .unwrap_or_default();
        Ok(SshSession {
            handle: Arc::new(handle),
            auth_method,
            notes: Mutex::new(notes),
            label: target.label(),
            round_trips,
            sftp_ahead: Mutex::new(None),
            early: Mutex::new(Some(early)),
        })
    }

    /// The round trips counted on this connection so far.
    pub fn round_trips(&self) -> &Arc<RoundTrips> {
        &self.round_trips
    }

    /// Puts `earlier` (what the jump hosts had to say) before this connection's own notes.
    pub(crate) fn prepend_notes(&self, earlier: Vec<String>) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.splice(0..0, earlier);
        }
    }

    /// Takes what the user should hear about this connection; later calls get nothing.
    pub fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut notes| std::mem::take(&mut *notes))
            .unwrap_or_default()
    }

    /// Opens a `direct-streamlocal@openssh.com` channel to a unix socket on the host.
    /// When sshd refuses the channel, which it does alike for a missing socket, one the user may
    /// not open and forwarding forbidden by sshd_config, the path is looked at over SFTP to say which.
    pub async fn open_socket(&self, path: &str) -> Result<ChannelIo, SshError> {
        if let Some(channel) = self.take_early(path).await {
            return Ok(channel);
        }
        let sent = self.round_trips.sent();
        let channel = self.open_socket_uncounted(path).await?;
        self.round_trips.answered(sent);
        Ok(channel)
    }

    /// A socket channel asked for with the login, if one is left for `path` and it opened; one
    /// that did not is left for [`Self::open_socket`] to open again and say why.
    async fn take_early(&self, path: &str) -> Option<ChannelIo> {
        let (opening, answered_at) = {
            let mut early = self.early.lock().ok()?;
            let early = early.as_mut().filter(|early| early.path == path)?;
            (early.opening.pop()?, early.answered_at)
        };
        let channel = opened_early(opening, answered_at, &self.round_trips).await?;
        Some(channel.into_stream())
    }

    /// The same for a channel opened in the background, ahead of need: nothing waits for its
    /// open, so it is no round trip of the host's (the exchanges on it are).
    pub async fn open_socket_ahead(&self, path: &str) -> Result<ChannelIo, SshError> {
        self.open_socket_uncounted(path).await
    }

    async fn open_socket_uncounted(&self, path: &str) -> Result<ChannelIo, SshError> {
        match self.handle.channel_open_direct_streamlocal(path).await {
            Ok(channel) => Ok(channel.into_stream()),
            Err(russh::Error::ChannelOpenFailure(reason)) => Err(socket_refusal(
                path,
                &reason,
                self.socket_access(path).await,
            )),
            Err(other) => Err(SshError::SocketForward {
                path: path.to_string(),
                cause: other.to_string(),
            }),
        }
    }

    /// Whether the socket at `path` exists and the user may open it, if SFTP can tell in time.
    async fn socket_access(&self, path: &str) -> Option<PathAccess> {
        let look = async {
            let mut sftp = SftpChannel::open_new(self).await.ok()?;
            let access = sftp.path_access(path).await.ok();
            sftp.close().await;
            access
        };
        tokio::time::timeout(SOCKET_PROBE_LIMIT, look)
            .await
            .ok()
            .flatten()
    }

    /// Opens a session channel (for a subsystem or a command), one round trip of the host's.
    pub(crate) async fn open_session_channel(
        &self,
    ) -> Result<russh::Channel<client::Msg>, SshError> {
        let (channel, _) = self.open_counted_session_channel().await?;
        Ok(channel)
    }

    /// [`Self::open_session_channel`], with when its open was sent.
    pub(crate) async fn open_counted_session_channel(
        &self,
    ) -> Result<(russh::Channel<client::Msg>, Sent), SshError> {
        open_session_channel(&self.handle, &self.round_trips, self.round_trips.sent()).await
    }

    /// Starts opening the SFTP session in the background (its channel, the subsystem, the
    /// init), so that a command reading the free space finds it ready: its round trips overlap
    /// those of the Docker connection instead of following them. [`SftpChannel::open`] takes it.
    pub fn open_sftp_ahead(&self) {
        let (handle, round_trips) = (Arc::clone(&self.handle), Arc::clone(&self.round_trips));
        // Counted from now, when the open is asked for, not from when the task first runs.
        let sent = round_trips.sent();
        // The channel asked for with the login, if it was.
        let early = self.early.lock().ok().and_then(|mut early| {
            let early = early.as_mut()?;
            Some((early.session.take()?, early.answered_at))
        });
        let opening = tokio::spawn(async move {
            let early = match early {
                Some((opening, answered_at)) => opened_early(opening, answered_at, &round_trips)
                    .await
                    .map(|channel| (channel, answered_at)),
                None => None,
            };
            let (channel, opened) = match early {
                Some(opened) => opened,
                None => open_session_channel(&handle, &round_trips, sent)
                    .await
                    .map_err(|error| SftpError::Channel(error.to_string()))?,
            };
            SftpChannel::start(channel, round_trips, opened).await
        });
        if let Ok(mut ahead) = self.sftp_ahead.lock() {
            *ahead = Some(opening);
        }
    }

    /// The SFTP session opened ahead, if any and not taken yet.
    pub(crate) fn take_sftp_ahead(&self) -> Option<JoinHandle<Result<SftpChannel, SftpError>>> {
        self.sftp_ahead.lock().ok()?.take()
    }

    /// Opens a session channel and runs `command` on it (no terminal). The command goes to the
    /// user's login shell, so the caller quotes every argument it builds.
    pub async fn open_exec(&self, command: &str) -> Result<russh::Channel<client::Msg>, SshError> {
        let channel = self.open_session_channel().await?;
        channel
            .exec(true, command)
            .await
            .map_err(|error| SshError::Transport(error.to_string()))?;
        Ok(channel)
    }

    /// Ends the connection politely: says goodbye to the server, giving up after [`CLOSE_LIMIT`]: the run's result is known by
    /// then, and a peer that stopped reading must not hold it.
    pub async fn close(&self) {
        let goodbye = self.handle.disconnect(Disconnect::ByApplication, "", "en");
        let _ = tokio::time::timeout(CLOSE_LIMIT, goodbye).await;
    }
}

/// A channel asked for with the login, once open, counted as answered with the login's answers
/// (`answered_at`); `None` when it did not open, for the caller to open one again.
async fn opened_early(
    opening: EarlyOpening,
    answered_at: Sent,
    round_trips: &RoundTrips,
) -> Option<russh::Channel<client::Msg>> {
    let channel = opening.await.ok()?.ok()?;
    round_trips.answered(answered_at);
    Some(channel)
}

/// Opens a session channel (for a subsystem or a command), one round trip of the host's, asked
/// for at `sent`; with the depth of its answer, for the request that waits for it alone.
async fn open_session_channel(
    handle: &Handle<HostKeyChecker>,
    round_trips: &RoundTrips,
    sent: Sent,
) -> Result<(russh::Channel<client::Msg>, Sent), SshError> {
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|error| SshError::Transport(error.to_string()))?;
    round_trips.answered(sent);
    Ok((channel, sent))
}

/// The depth at which the answers to socket opens asked for before authenticating end. vendor/russh
/// writes them right behind the first request when it is signed at once and the server is OpenSSH:
/// when that request was the one accepted (authentication took one round trip), they were
/// answered with it. Otherwise they went out at the latest with the success, one round trip on.
fn early_answer_depth<H: client::Handler>(
    handle: &Handle<H>,
    auth_round_trips: u32,
    with_first_request: Sent,
    after_login: Sent,
) -> Sent {
    if auth_round_trips == 1 && handle.remote_sshid().starts_with(b"SSH-2.0-OpenSSH") {
        with_first_request
    } else {
        after_login
    }
}

fn describe_tcp_open_failure(reason: &russh::ChannelOpenFailure) -> String {
    match reason {
        russh::ChannelOpenFailure::AdministrativelyProhibited => {
            "administratively prohibited (the jump host's sshd_config forbids TCP forwarding)"
                .to_string()
        }
        russh::ChannelOpenFailure::ConnectFailed => {
            "connect failed (nothing listens there, or the jump host cannot reach it)".to_string()
        }
        other => format!("{other:?}"),
    }
}

/// The error for a refused socket channel, from what SFTP found at `path` (if anything).
fn socket_refusal(
    path: &str,
    reason: &russh::ChannelOpenFailure,
    access: Option<PathAccess>,
) -> SshError {
    let path = path.to_string();
    match access {
        Some(PathAccess::Missing) => SshError::SocketMissing { path },
        Some(PathAccess::Denied) => SshError::SocketDenied { path },
        Some(PathAccess::Openable) => SshError::SocketForward {
            path,
            cause: "the socket is there and the user may open it, so sshd_config forbids \
                    forwarding (AllowStreamLocalForwarding or AllowTcpForwarding no, or \
                    DisableForwarding yes)"
                .to_string(),
        },
        None => SshError::SocketForward {
            path,
            cause: describe_open_failure(reason),
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use russh::ChannelOpenFailure;

    #[test]
    fn russh_messages_stay_small() {
        // Every channel of messages allocates room for 32 when it is made: three of `Msg`s per
        // connection and one of `ChannelMsg`s per SSH channel (vendor/russh boxes the large
        // variants; see vendor/README.md).
        let size = std::mem::size_of::<client::Msg>();
        assert!(size <= 160, "russh::client::Msg is {size} bytes");
        let size = std::mem::size_of::<russh::ChannelMsg>();
        assert!(size <= 40, "russh::ChannelMsg is {size} bytes");
    }

    #[test]
    fn a_refused_socket_says_whether_it_is_missing_denied_or_forbidden() {
        let refusal = |access| {
            socket_refusal("/run/d.sock", &ChannelOpenFailure::ConnectFailed, access).to_string()
        };
        let missing = refusal(Some(PathAccess::Missing));
        assert!(
            missing.starts_with("there is no socket at /run/d.sock"),
            "{missing}"
        );
        let denied = refusal(Some(PathAccess::Denied));
        assert!(
            denied.contains("may not open the socket /run/d.sock"),
            "{denied}"
        );
        let forbidden = refusal(Some(PathAccess::Openable));
        assert!(forbidden.contains("refused to forward"), "{forbidden}");
        assert!(
            forbidden.contains("AllowStreamLocalForwarding"),
            "{forbidden}"
        );
        for text in [&missing, &denied] {
            assert!(!text.contains("refused to forward"), "{text}");
        }
        assert!(refusal(None).contains("no socket at that path"));
    }
}
