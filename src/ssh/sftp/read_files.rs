//! Whole small files read over the SFTP session, many at once: every open goes out together,
//! each file's read as soon as its handle comes back, so a batch costs two round trips however
//! many files it has (fleetrmi reads containerd's image manifests this way).

use std::collections::HashMap;

use super::super::round_trips::Sent;
use super::{
    FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FXF_READ, FXP_HANDLE, FXP_STATUS, SftpChannel,
    SftpError, status_error, string_at, u32_at,
};

const FXP_READ: u8 = 5;
const FXP_DATA: u8 = 103;
const FX_EOF: u32 = 1;
/// Bytes asked for by one read; well under the largest packet the client takes.
const READ_CHUNK: u32 = 32 * 1024;
/// Files larger than this are not what fleetrmi reads this way; they are refused.
const MAX_FILE: usize = 1024 * 1024;
/// Files open at once: sftp-server keeps a descriptor per handle.
const FILES_OPEN_AT_ONCE: usize = 64;

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    Contents(Vec<u8>),
    /// Nothing at that path (or a directory on the way is missing).
    Missing,
    /// The SSH user may not open it (or a directory on the way).
    Denied,
    /// Any other refusal, with the server's message.
    Failed(String),
}

/// A request of the batch awaiting its answer.
struct Pending {
    file: usize,
    sent: Sent,
    /// `None` for the open; the handle and offset of a read.
    read: Option<(Vec<u8>, u64)>,
}

impl SftpChannel {
    /// Reads each of `paths` whole; one result per path, in order. `Err` only when the session
    /// itself fails. A file ends at the first short read (what OpenSSH's sftp-server gives for
    /// a regular file) or at end of file.
    pub async fn read_files(&mut self, paths: &[String]) -> Result<Vec<FileRead>, SftpError> {
        let mut results: Vec<Option<FileRead>> = vec![None; paths.len()];
        let mut contents: Vec<Vec<u8>> = vec![Vec::new(); paths.len()];
        let mut pending: HashMap<u32, Pending> = HashMap::new();
        let mut next_file = 0;
        let mut open_files = 0;
        while next_file < paths.len() && open_files < FILES_OPEN_AT_ONCE {
            self.open_for_read(&paths[next_file], next_file, &mut pending)
                .await?;
            next_file += 1;
            open_files += 1;
        }
        if !pending.is_empty() {
            self.ready().await?;
        }
        while !pending.is_empty() {
            let packet = self.packet().await?;
            let Some(id) = u32_at(&packet, 1) else {
                continue;
            };
            let Some(request) = pending.remove(&id) else {
                // The answer to a close, which nothing waits for.
                continue;
            };
            self.round_trips.answered(request.sent);
            let file = request.file;
            let finished = match (request.read, packet.first()) {
                (None, Some(&FXP_HANDLE)) => {
                    let handle = packet.get(5..).unwrap_or_default().to_vec();
                    self.read_chunk(handle, 0, file, &mut pending).await?;
                    None
                }
                (None, Some(&FXP_STATUS)) => Some((None, refusal(&packet))),
                (Some((handle, offset)), Some(&FXP_DATA)) => {
                    let data = data_of(&packet);
                    contents[file].extend_from_slice(data);
                    if contents[file].len() > MAX_FILE {
                        let limit = format!("larger than {MAX_FILE} bytes");
                        Some((Some(handle), FileRead::Failed(limit)))
                    } else if data.len() < READ_CHUNK as usize {
                        let whole = std::mem::take(&mut contents[file]);
                        Some((Some(handle), FileRead::Contents(whole)))
                    } else {
                        let offset = offset + data.len() as u64;
                        self.read_chunk(handle, offset, file, &mut pending).await?;
                        None
                    }
                }
                (Some((handle, _)), Some(&FXP_STATUS)) => {
                    let outcome = match status_error(&packet) {
                        SftpError::Refused { code: FX_EOF, .. } => {
                            FileRead::Contents(std::mem::take(&mut contents[file]))
                        }
                        _ => refusal(&packet),
                    };
                    Some((Some(handle), outcome))
                }
                _ => {
                    return Err(SftpError::Protocol(
                        "not an answer to an open or a read".to_string(),
                    ));
                }
            };
            let Some((handle, outcome)) = finished else {
                continue;
            };
            results[file] = Some(outcome);
            if let Some(handle) = handle {
                self.close_unanswered(&handle).await?;
            }
            if next_file < paths.len() {
                self.open_for_read(&paths[next_file], next_file, &mut pending)
                    .await?;
                next_file += 1;
            }
        }
        Ok(results
            .into_iter()
            .map(|result| result.unwrap_or(FileRead::Failed("no answer".to_string())))
            .collect())
    }

    async fn open_for_read(
        &mut self,
        path: &str,
        file: usize,
        pending: &mut HashMap<u32, Pending>,
    ) -> Result<(), SftpError> {
        let (id, request) = self.open_request(path, FXF_READ);
        self.send_awaited(id, &request, file, None, pending).await
    }

    async fn read_chunk(
        &mut self,
        handle: Vec<u8>,
        offset: u64,
        file: usize,
        pending: &mut HashMap<u32, Pending>,
    ) -> Result<(), SftpError> {
        let (id, mut request) = self.new_request(FXP_READ);
        // The handle as the server sent it: its own length prefix included.
        request.extend_from_slice(&handle);
        request.extend_from_slice(&offset.to_be_bytes());
        request.extend_from_slice(&READ_CHUNK.to_be_bytes());
        self.send_awaited(id, &request, file, Some((handle, offset)), pending)
            .await
    }

    /// Sends request `id` of the batch, whose answer is awaited, counted from now.
    async fn send_awaited(
        &mut self,
        id: u32,
        request: &[u8],
        file: usize,
        read: Option<(Vec<u8>, u64)>,
        pending: &mut HashMap<u32, Pending>,
    ) -> Result<(), SftpError> {
        let sent = self.round_trips.sent();
        self.send(request).await?;
        pending.insert(id, Pending { file, sent, read });
        Ok(())
    }

    /// Closes a handle; its answer is skipped when it comes (the server handles requests in
    /// order, so a later open already finds the descriptor free).
    async fn close_unanswered(&mut self, handle: &[u8]) -> Result<(), SftpError> {
        let (_, close) = self.close_request(handle);
        self.send(&close).await
    }
}

/// The bytes of an `SSH_FXP_DATA` reply.
fn data_of(packet: &[u8]) -> &[u8] {
    string_at(packet, 5).unwrap_or_default()
}

/// A refused open or read as the file's result.
fn refusal(packet: &[u8]) -> FileRead {
    match status_error(packet) {
        SftpError::Refused {
            code: FX_NO_SUCH_FILE,
            ..
        } => FileRead::Missing,
        SftpError::Refused {
            code: FX_PERMISSION_DENIED,
            ..
        } => FileRead::Denied,
        SftpError::Refused { message, .. } => FileRead::Failed(message),
        other => FileRead::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::sftp::put_string;

    #[test]
    fn data_replies_give_their_bytes() {
        let mut reply = vec![FXP_DATA, 0, 0, 0, 7];
        put_string(&mut reply, b"{\"a\":1}");
        assert_eq!(data_of(&reply), b"{\"a\":1}");
        assert_eq!(data_of(&[FXP_DATA, 0, 0]), b"");
    }

    #[test]
    fn refusals_say_missing_denied_or_why() {
        let status = |code: u32, message: &[u8]| {
            let mut reply = vec![FXP_STATUS, 0, 0, 0, 1];
            reply.extend_from_slice(&code.to_be_bytes());
            put_string(&mut reply, message);
            reply
        };
        assert_eq!(
            refusal(&status(FX_NO_SUCH_FILE, b"No such file")),
            FileRead::Missing
        );
        assert_eq!(
            refusal(&status(FX_PERMISSION_DENIED, b"Permission denied")),
            FileRead::Denied
        );
        assert_eq!(
            refusal(&status(4, b"Failure")),
            FileRead::Failed("Failure".to_string())
        );
    }
}
