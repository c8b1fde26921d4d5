//! `GET /images/get`: the engine's `docker save` archive, streamed over the host's SSH
//! connection into a local file that appears under its final name only once it is complete.
//!
//! The archive goes to a temporary file beside the destination, with its SHA-256 computed on
//! the way. Only when the stream ended cleanly, the file holds every byte received (flushed and
//! synced) and the caller's own check of the archive passed is it renamed into place; on any
//! failure the temporary file is removed, so a destination file is always a whole archive.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::raw_get::error_message;
use super::transfer::{TransferError, TransferWatch};
use super::{Engine, EngineError};

/// A complete archive written to its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedArchive {
    pub path: PathBuf,
    /// Bytes received from the engine, equal to the file's length.
    pub bytes: u64,
    /// SHA-256 of the archive, lowercase hex.
    pub sha256: String,
}

impl Engine {
    /// Saves the images `names` (tags or IDs, as `docker save` takes them) into `destination`.
    /// `check` inspects the finished temporary file (archive structure, expected images) before
    /// it is renamed into place; its error keeps the destination untouched.
    pub async fn save_images(
        &self,
        names: &[String],
        destination: &Path,
        watch: &dyn TransferWatch,
        check: impl FnOnce(&Path, u64) -> Result<(), String>,
    ) -> Result<SavedArchive, TransferError> {
        let temporary = temporary_path(destination);
        let result = self
            .stream_to(names, &temporary, watch)
            .await
            .and_then(|(bytes, sha256)| {
                verify_length(&temporary, bytes)?;
                check(&temporary, bytes).map_err(TransferError::Incomplete)?;
                std::fs::rename(&temporary, destination).map_err(|source| TransferError::File {
                    path: destination.to_path_buf(),
                    source,
                })?;
                Ok(SavedArchive {
                    path: destination.to_path_buf(),
                    bytes,
                    sha256,
                })
            });
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }

    async fn stream_to(
        &self,
        names: &[String],
        temporary: &Path,
        watch: &dyn TransferWatch,
    ) -> Result<(u64, String), TransferError> {
        let action = "save images";
        let idle = self.raw.timeout();
        let query: Vec<String> = names
            .iter()
            .map(|name| format!("names={}", query_value(name)))
            .collect();
        let mut sender = tokio::time::timeout(idle, self.raw.connect::<Empty<Bytes>>(action))
            .await
            .map_err(|_| TransferError::Stalled(idle))??;
        let request = hyper::Request::get(
            self.raw
                .versioned(&format!("/images/get?{}", query.join("&"))),
        )
        .header(hyper::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|error| EngineError::Protocol(format!("cannot {action}: {error}")))?;
        let lost = |cause: String| EngineError::Unreachable { action, cause };
        let response = match tokio::time::timeout(idle, sender.send_request(request)).await {
            Ok(answer) => answer.map_err(|error| lost(error.to_string()))?,
            Err(_) => return Err(TransferError::Stalled(idle)),
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if !(200..300).contains(&status) {
            let text = match tokio::time::timeout(idle, body.collect()).await {
                Ok(Ok(collected)) => error_message(&collected.to_bytes()),
                _ => String::new(),
            };
            return Err(EngineError::Api {
                status,
                message: text,
            }
            .into());
        }

        let write_error = |source| TransferError::File {
            path: temporary.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(temporary)
            .await
            .map_err(write_error)?;
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        loop {
            if watch.cancelled() {
                return Err(TransferError::Interrupted);
            }
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => return Err(TransferError::Stalled(idle)),
                Ok(None) => break,
                Ok(Some(Err(error))) => {
                    return Err(lost(format!("the archive stream broke: {error}")).into());
                }
                Ok(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                file.write_all(&data).await.map_err(write_error)?;
                total += data.len() as u64;
                watch.bytes(total);
            }
        }
        file.flush().await.map_err(write_error)?;
        file.sync_all().await.map_err(write_error)?;
        Ok((total, hex(&hasher.finalize())))
    }
}

/// `.NAME.PID.part` beside `destination`: never mistaken for an archive, unique per process.
fn temporary_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| "archive".to_string());
    destination.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

/// The file must hold exactly the bytes received: a short write would otherwise go unseen.
fn verify_length(path: &Path, expected: u64) -> Result<(), TransferError> {
    let length = std::fs::metadata(path)
        .map_err(|source| TransferError::File {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if length == expected {
        Ok(())
    } else {
        Err(TransferError::Incomplete(format!(
            "{} holds {length} bytes, the engine sent {expected}",
            path.display()
        )))
    }
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A query-string value: unreserved characters as they are, everything else percent-encoded.
pub(crate) fn query_value(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_encode_separators_and_digests() {
        assert_eq!(query_value("app:1"), "app%3A1");
        assert_eq!(
            query_value("localhost:5000/x@sha256:ab"),
            "localhost%3A5000%2Fx%40sha256%3Aab"
        );
        assert_eq!(query_value("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[test]
    fn temporary_file_sits_beside_the_destination_and_is_hidden() {
        let temporary = temporary_path(Path::new("/backups/h1/abc.tar"));
        assert_eq!(temporary.parent(), Some(Path::new("/backups/h1")));
        let name = temporary
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        assert!(
            name.starts_with(".abc.tar.") && name.ends_with(".part"),
            "{name}"
        );
    }

    #[test]
    fn a_short_file_is_incomplete() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("a.tar");
        std::fs::write(&path, [0u8; 10]).expect("write");
        assert!(verify_length(&path, 10).is_ok());
        assert!(matches!(
            verify_length(&path, 11),
            Err(TransferError::Incomplete(_))
        ));
    }
}
