//! Free and total space of a filesystem on the host, read with the SFTP `statvfs@openssh.com`
//! extension: no shell and no remote command, only OpenSSH's own sftp-server.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{SshError, SshSession};

const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_STATUS: u8 = 101;
const FXP_EXTENDED: u8 = 200;
const FXP_EXTENDED_REPLY: u8 = 201;
const STATVFS: &str = "statvfs@openssh.com";
/// Larger replies than this are not statvfs answers; refusing them bounds memory.
const MAX_PACKET: usize = 64 * 1024;

/// Space on one filesystem, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FilesystemSpace {
    /// Available to unprivileged users (`f_bavail × f_frsize`), as `df` shows it.
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// Reads the space of the filesystem holding `path` on the host, within `limit` (a hung
/// sftp-server, or a Docker root on a hung mount, must not hold the host's run).
pub async fn filesystem_space(
    session: &SshSession,
    path: &str,
    limit: Duration,
) -> Result<FilesystemSpace, SshError> {
    let read = async {
        let mut stream = session.open_subsystem("sftp").await?;
        let result = query_statvfs(&mut stream, path).await;
        let _ = stream.shutdown().await;
        result.map_err(|cause| SshError::Transport(format!("statvfs of {path} over sftp: {cause}")))
    };
    tokio::time::timeout(limit, read).await.unwrap_or_else(|_| {
        Err(SshError::Transport(format!(
            "statvfs of {path} over sftp: no answer within {}",
            humantime::format_duration(limit)
        )))
    })
}

async fn query_statvfs<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    path: &str,
) -> Result<FilesystemSpace, String> {
    let mut init = Vec::new();
    init.push(FXP_INIT);
    init.extend_from_slice(&3u32.to_be_bytes());
    write_packet(stream, &init).await?;
    let version = read_packet(stream).await?;
    if version.first() != Some(&FXP_VERSION) {
        return Err("the sftp server did not answer its init".to_string());
    }
    if !contains(&version, STATVFS.as_bytes()) {
        return Err("the sftp server lacks the statvfs@openssh.com extension".to_string());
    }

    let request_id = 1u32;
    let mut request = vec![FXP_EXTENDED];
    request.extend_from_slice(&request_id.to_be_bytes());
    put_string(&mut request, STATVFS.as_bytes());
    put_string(&mut request, path.as_bytes());
    write_packet(stream, &request).await?;

    let reply = read_packet(stream).await?;
    match reply.first() {
        Some(&FXP_EXTENDED_REPLY) => parse_statvfs(&reply[5..]),
        Some(&FXP_STATUS) => Err(format!(
            "the sftp server refused: {}",
            status_message(&reply)
        )),
        _ => Err("unexpected sftp reply".to_string()),
    }
}

fn parse_statvfs(body: &[u8]) -> Result<FilesystemSpace, String> {
    let field = |index: usize| -> Result<u64, String> {
        body.get(index * 8..index * 8 + 8)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| "short statvfs reply".to_string())
    };
    let fragment_size = field(1)?;
    Ok(FilesystemSpace {
        total_bytes: field(2)?.saturating_mul(fragment_size),
        free_bytes: field(4)?.saturating_mul(fragment_size),
    })
}

fn status_message(reply: &[u8]) -> String {
    reply
        .get(13..)
        .map(|text| {
            String::from_utf8_lossy(text)
                .trim_matches(char::from(0))
                .to_string()
        })
        .unwrap_or_else(|| "no message".to_string())
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

async fn write_packet<S: AsyncWrite + Unpin>(stream: &mut S, payload: &[u8]) -> Result<(), String> {
    let mut packet = (payload.len() as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(payload);
    stream
        .write_all(&packet)
        .await
        .map_err(|error| error.to_string())?;
    stream.flush().await.map_err(|error| error.to_string())
}

async fn read_packet<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, String> {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.map_err(|error| {
        format!("sftp server closed the channel ({error}); is the sftp subsystem enabled?")
    })?;
    let length = u32::from_be_bytes(length) as usize;
    if length == 0 || length > MAX_PACKET {
        return Err(format!("bad sftp packet length {length}"));
    }
    let mut payload = vec![0u8; length];
    stream
        .read_exact(&mut payload)
        .await
        .map_err(|error| error.to_string())?;
    Ok(payload)
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
}
