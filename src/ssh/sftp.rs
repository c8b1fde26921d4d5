//! A minimal SFTP client on one session channel, for what fleetrmi asks a host's filesystem:
//! the free space around the Docker root (`statvfs@openssh.com`) and whether a socket path
//! exists and may be opened, and small files read whole (`read_files`). No shell and no remote
//! command, only OpenSSH's own sftp-server.
//!
//! sshd's answer to the subsystem request is read (want-reply), so a host without
//! `Subsystem sftp` is known at once instead of after a timeout. The SFTP init goes out with
//! the first request, so a session costs three round trips to its first answer (channel,
//! subsystem, request) and one for each later request.

mod read_files;

pub use read_files::FileRead;

use std::sync::Arc;

use russh::client::Msg;
use russh::{Channel, ChannelMsg};

use super::SshSession;
use super::round_trips::{RoundTrips, Sent};
use crate::data::FilesystemSpace;

const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_OPEN: u8 = 3;
const FXP_CLOSE: u8 = 4;
const FXP_STATUS: u8 = 101;
const FXP_HANDLE: u8 = 102;
const FXP_EXTENDED: u8 = 200;
const FXP_EXTENDED_REPLY: u8 = 201;
const FXF_READ: u32 = 1;
const FXF_WRITE: u32 = 2;
const FX_NO_SUCH_FILE: u32 = 2;
const FX_PERMISSION_DENIED: u32 = 3;
/// The generic failure, which OpenSSH's sftp-server gives for `ENXIO`.
const FX_FAILURE: u32 = 4;
const STATVFS: &str = "statvfs@openssh.com";
/// Larger replies than this are not answers to fleetrmi's requests; refusing them bounds memory.
const MAX_PACKET: usize = 64 * 1024;

/// Why an SFTP request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SftpError {
    #[error("sshd offers no sftp subsystem")]
    NoSubsystem,
    #[error("cannot open an SSH session channel for sftp: {0}")]
    Channel(String),
    #[error("the sftp server closed the channel")]
    Closed,
    #[error("the sftp server lacks the statvfs@openssh.com extension")]
    NoStatvfs,
    #[error("the sftp server refused: {message}")]
    Refused { code: u32, message: String },
    #[error("unexpected sftp answer: {0}")]
    Protocol(String),
}

/// What opening a socket path for reading and writing told about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathAccess {
    /// Nothing at that path (or a directory on the way is missing).
    Missing,
    /// The SSH user may not open it.
    Denied,
    /// It exists and the user may open it (a socket answers `ENXIO` to `open`, which is
    /// the sftp server's generic failure).
    Openable,
}

/// An SFTP session on its own channel; requests are answered in order.
pub struct SftpChannel {
    channel: Channel<Msg>,
    /// Bytes received and not yet taken as packets.
    received: Vec<u8>,
    /// `None` until the server's version is read.
    extensions: Option<Vec<u8>>,
    next_id: u32,
    /// The host's round-trip count: each request waits for its answer.
    round_trips: Arc<RoundTrips>,
}

impl SftpChannel {
    /// Opens a session channel, starts the `sftp` subsystem and sends the SFTP init, whose
    /// answer is read with the first request's. sshd's answer to the subsystem request is
    /// awaited: OpenSSH opens session channels with no window, and gives one only to a channel
    /// whose subsystem started, so nothing could be sent before it.
    /// The session opened ahead of need ([`SshSession::open_sftp_ahead`]) is taken if there
    /// is one: its channel and subsystem round trips were made while other work went on.
    pub async fn open(session: &SshSession) -> Result<SftpChannel, SftpError> {
        match session.take_sftp_ahead() {
            Some(ahead) => ahead.await.unwrap_or(Err(SftpError::Closed)),
            None => Self::open_new(session).await,
        }
    }

    /// A session of its own, never the one opened ahead.
    pub(crate) async fn open_new(session: &SshSession) -> Result<SftpChannel, SftpError> {
        let (channel, opened) = session
            .open_counted_session_channel()
            .await
            .map_err(|error| SftpError::Channel(error.to_string()))?;
        Self::start(channel, Arc::clone(session.round_trips()), opened).await
    }

    /// Starts the subsystem on a session channel just opened (its open answered at `opened`).
    pub(crate) async fn start(
        mut channel: Channel<Msg>,
        round_trips: Arc<RoundTrips>,
        opened: Sent,
    ) -> Result<SftpChannel, SftpError> {
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|error| SftpError::Channel(error.to_string()))?;
        // It waited for the channel's open only, whatever else was answered meanwhile.
        let started = opened.next();
        let mut received = Vec::new();
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => {
                    round_trips.answered(started);
                    break;
                }
                Some(ChannelMsg::Failure) => {
                    let _ = channel.close().await;
                    return Err(SftpError::NoSubsystem);
                }
                Some(ChannelMsg::Data { data }) => received.extend_from_slice(&data),
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return Err(SftpError::Closed),
                Some(_) => {}
            }
        }
        let mut sftp = SftpChannel {
            channel,
            received,
            extensions: None,
            next_id: 1,
            round_trips,
        };
        let mut init = vec![FXP_INIT];
        init.extend_from_slice(&3u32.to_be_bytes());
        sftp.send(&init).await?;
        Ok(sftp)
    }

    /// Free and total space of the filesystem holding `path`.
    pub async fn statvfs(&mut self, path: &str) -> Result<FilesystemSpace, SftpError> {
        let (id, mut request) = self.new_request(FXP_EXTENDED);
        put_string(&mut request, STATVFS.as_bytes());
        put_string(&mut request, path.as_bytes());
        let sent = self.round_trips.sent();
        self.send(&request).await?;
        let advertised = self.ready().await?;
        let reply = self.reply(id).await?;
        self.round_trips.answered(sent);
        if !advertised {
            return Err(SftpError::NoStatvfs);
        }
        match reply.first() {
            Some(&FXP_EXTENDED_REPLY) => parse_statvfs(reply.get(5..).unwrap_or_default()),
            Some(&FXP_STATUS) => Err(status_error(&reply)),
            _ => Err(SftpError::Protocol("not a statvfs reply".to_string())),
        }
    }

    /// Whether `path` exists and the user may open it for reading and writing, as a client of
    /// a unix socket must.
    pub async fn path_access(&mut self, path: &str) -> Result<PathAccess, SftpError> {
        let (id, request) = self.open_request(path, FXF_READ | FXF_WRITE);
        let sent = self.round_trips.sent();
        self.send(&request).await?;
        self.ready().await?;
        let reply = self.reply(id).await?;
        self.round_trips.answered(sent);
        match reply.first() {
            Some(&FXP_HANDLE) => {
                let handle = reply.get(5..).unwrap_or_default().to_vec();
                let (close_id, close) = self.close_request(&handle);
                self.send(&close).await?;
                self.reply(close_id).await?;
                Ok(PathAccess::Openable)
            }
            Some(&FXP_STATUS) => match status_error(&reply) {
                SftpError::Refused {
                    code: FX_NO_SUCH_FILE,
                    ..
                } => Ok(PathAccess::Missing),
                SftpError::Refused {
                    code: FX_PERMISSION_DENIED,
                    ..
                } => Ok(PathAccess::Denied),
                SftpError::Refused {
                    code: FX_FAILURE, ..
                } => Ok(PathAccess::Openable),
                other => Err(other),
            },
            _ => Err(SftpError::Protocol("not an open reply".to_string())),
        }
    }

    /// Ends the session (no answer is awaited).
    pub async fn close(self) {
        let _ = self.channel.eof().await;
        let _ = self.channel.close().await;
    }

    fn next_request_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// A request of type `kind` under a new request ID: the ID, and the packet begun with both.
    fn new_request(&mut self, kind: u8) -> (u32, Vec<u8>) {
        let id = self.next_request_id();
        let mut request = vec![kind];
        request.extend_from_slice(&id.to_be_bytes());
        (id, request)
    }

    /// `SSH_FXP_OPEN` of `path` with `flags`, no attributes.
    fn open_request(&mut self, path: &str, flags: u32) -> (u32, Vec<u8>) {
        let (id, mut request) = self.new_request(FXP_OPEN);
        put_string(&mut request, path.as_bytes());
        request.extend_from_slice(&flags.to_be_bytes());
        request.extend_from_slice(&0u32.to_be_bytes());
        (id, request)
    }

    /// `SSH_FXP_CLOSE` of `handle` (as the server sent it, its length prefix included).
    fn close_request(&mut self, handle: &[u8]) -> (u32, Vec<u8>) {
        let (id, mut request) = self.new_request(FXP_CLOSE);
        request.extend_from_slice(handle);
        (id, request)
    }

    /// Reads the server's version, once; says whether it offers `statvfs@openssh.com`.
    async fn ready(&mut self) -> Result<bool, SftpError> {
        if self.extensions.is_none() {
            let version = self.packet().await?;
            if version.first() != Some(&FXP_VERSION) {
                return Err(SftpError::Protocol(
                    "the sftp server did not answer its init".to_string(),
                ));
            }
            self.extensions = Some(version);
        }
        Ok(self
            .extensions
            .as_deref()
            .is_some_and(|version| contains(version, STATVFS.as_bytes())))
    }

    /// The answer to request `id`; answers come in order, so earlier ones are skipped.
    async fn reply(&mut self, id: u32) -> Result<Vec<u8>, SftpError> {
        loop {
            let packet = self.packet().await?;
            if packet.get(1..5) == Some(&id.to_be_bytes()[..]) {
                return Ok(packet);
            }
        }
    }

    async fn send(&mut self, payload: &[u8]) -> Result<(), SftpError> {
        let mut packet = (payload.len() as u32).to_be_bytes().to_vec();
        packet.extend_from_slice(payload);
        self.channel
            .data_bytes(packet)
            .await
            .map_err(|_| SftpError::Closed)
    }

    /// The next whole packet's payload.
    async fn packet(&mut self) -> Result<Vec<u8>, SftpError> {
        loop {
            if let Some(packet) = take_packet(&mut self.received)? {
                return Ok(packet);
            }
            match self.channel.wait().await {
                Some(ChannelMsg::Data { data }) => self.received.extend_from_slice(&data),
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    return Err(SftpError::Closed);
                }
                Some(_) => {}
            }
        }
    }
}

/// Takes one length-prefixed packet off the front of `buffer`, if it is all there.
fn take_packet(buffer: &mut Vec<u8>) -> Result<Option<Vec<u8>>, SftpError> {
    let Some(length) = buffer.get(..4) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    if length == 0 || length > MAX_PACKET {
        return Err(SftpError::Protocol(format!("bad packet length {length}")));
    }
    if buffer.len() < 4 + length {
        return Ok(None);
    }
    let packet = buffer[4..4 + length].to_vec();
    buffer.drain(..4 + length);
    Ok(Some(packet))
}

fn parse_statvfs(body: &[u8]) -> Result<FilesystemSpace, SftpError> {
    let field = |index: usize| -> Result<u64, SftpError> {
        body.get(index * 8..index * 8 + 8)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| SftpError::Protocol("short statvfs reply".to_string()))
    };
    let fragment_size = field(1)?;
    Ok(FilesystemSpace {
        total_bytes: field(2)?.saturating_mul(fragment_size),
        free_bytes: field(4)?.saturating_mul(fragment_size),
    })
}

/// An `SSH_FXP_STATUS` reply as an error: its code and message.
fn status_error(reply: &[u8]) -> SftpError {
    let code = u32_at(reply, 5).unwrap_or(0);
    let message = string_at(reply, 9)
        .map(|text| String::from_utf8_lossy(text).to_string())
        .unwrap_or_else(|| "no message".to_string());
    SftpError::Refused { code, message }
}

/// The big-endian `uint32` at `at`, if the packet is that long.
fn u32_at(packet: &[u8], at: usize) -> Option<u32> {
    packet
        .get(at..at + 4)
        .and_then(|bytes| bytes.try_into().ok())
        .map(u32::from_be_bytes)
}

/// The length-prefixed `string` at `at`, if the packet holds it whole.
fn string_at(packet: &[u8], at: usize) -> Option<&[u8]> {
    let length = u32_at(packet, at)? as usize;
    packet.get(at + 4..at + 4 + length)
}

fn put_string(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statvfs_reply_gives_free_and_total_bytes() {
        let fields: [u64; 11] = [4096, 1024, 1000, 600, 500, 0, 0, 0, 0, 0, 255];
        let body: Vec<u8> = fields
            .iter()
            .flat_map(|value| value.to_be_bytes())
            .collect();
        let space = parse_statvfs(&body).expect("parses");
        assert_eq!(
            space,
            FilesystemSpace {
                free_bytes: 512_000,
                total_bytes: 1_024_000
            }
        );
    }

    #[test]
    fn short_statvfs_reply_is_an_error() {
        assert!(parse_statvfs(&[0u8; 20]).is_err());
    }

    #[test]
    fn packets_are_taken_whole_and_in_order() {
        let mut buffer = vec![0, 0, 0, 2, 7, 8, 0, 0, 0, 3, 1];
        assert_eq!(take_packet(&mut buffer), Ok(Some(vec![7, 8])));
        assert_eq!(take_packet(&mut buffer), Ok(None));
        buffer.extend_from_slice(&[2, 3]);
        assert_eq!(take_packet(&mut buffer), Ok(Some(vec![1, 2, 3])));
        assert!(buffer.is_empty());
        assert!(take_packet(&mut vec![0, 0, 0, 0]).is_err());
    }

    #[test]
    fn status_replies_keep_their_code_and_message() {
        let mut reply = vec![FXP_STATUS, 0, 0, 0, 1];
        reply.extend_from_slice(&FX_NO_SUCH_FILE.to_be_bytes());
        put_string(&mut reply, b"No such file");
        put_string(&mut reply, b"en");
        assert_eq!(
            status_error(&reply),
            SftpError::Refused {
                code: FX_NO_SUCH_FILE,
                message: "No such file".to_string()
            }
        );
    }
}
