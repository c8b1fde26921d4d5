//! `POST /images/load`: a `docker save` archive streamed from a local file to the engine over
//! the host's SSH connection, and the engine's account of what it loaded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::io::AsyncReadExt;

use super::raw_get::error_message;
use super::transfer::{TransferError, TransferWatch};
use super::{Engine, EngineError};

/// What the engine said it loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadAnswer {
    /// `Loaded image: app:1`: the tags the archive carried.
    pub tags: Vec<String>,
    /// `Loaded image ID: sha256:…`: images the archive carried without a tag.
    pub ids: Vec<String>,
}

/// Bytes read from the file per body chunk.
const CHUNK: usize = 256 * 1024;

impl Engine {
    /// Loads the archive at `path`, as `docker load -i path` does.
    pub async fn load_archive(
        &self,
        path: &Path,
        watch: &dyn TransferWatch,
    ) -> Result<LoadAnswer, TransferError> {
        let action = "load images";
        let idle = self.raw.timeout();
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|source| TransferError::File {
                path: path.to_path_buf(),
                source,
            })?;
        let sent = Arc::new(AtomicU64::new(0));
        let body = StreamBody::new(file_chunks(file, Arc::clone(&sent)));
        let mut sender = tokio::time::timeout(idle, self.raw.connect::<StreamBody<_>>(action))
            .await
            .map_err(|_| TransferError::Stalled(idle))??;
        // quiet=0: the engine reports each layer as it loads it, so a long load is never silent.
        let request = hyper::Request::post(self.raw.versioned("/images/load?quiet=0"))
            .header(hyper::header::HOST, "docker")
            .header(hyper::header::CONTENT_TYPE, "application/x-tar")
            .body(body)
            .map_err(|error| EngineError::Protocol(format!("cannot {action}: {error}")))?;
        let lost = |cause: String| EngineError::Unreachable { action, cause };

        let answer = sender.send_request(request);
        tokio::pin!(answer);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let mut moved = (0u64, Instant::now());
        let response = loop {
            tokio::select! {
                answer = &mut answer => break answer.map_err(|error| lost(error.to_string()))?,
                _ = tick.tick() => {
                    let now = sent.load(Ordering::Relaxed);
                    watch.bytes(now);
                    if now != moved.0 {
                        moved = (now, Instant::now());
                    } else if moved.1.elapsed() > idle {
                        return Err(TransferError::Stalled(idle));
                    }
                    if watch.cancelled() {
                        return Err(TransferError::Interrupted);
                    }
                }
            }
        };
        watch.bytes(sent.load(Ordering::Relaxed));

        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut text: Vec<u8> = Vec::new();
        loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => return Err(TransferError::Stalled(idle)),
                Ok(None) => break,
                Ok(Some(Err(error))) => return Err(lost(error.to_string()).into()),
                Ok(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                text.extend_from_slice(&data);
            }
        }
        if !(200..300).contains(&status) {
            return Err(EngineError::Api {
                status,
                message: error_message(&text),
            }
            .into());
        }
        read_load_messages(&text).map_err(|message| {
            TransferError::Engine(EngineError::Api {
                status: 500,
                message,
            })
        })
    }
}

/// The file as body frames, counting the bytes handed to the connection.
fn file_chunks(
    file: tokio::fs::File,
    sent: Arc<AtomicU64>,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + 'static {
    futures::stream::unfold(Some(file), move |state| {
        let sent = Arc::clone(&sent);
        async move {
            let mut file = state?;
            let mut buffer = vec![0u8; CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(read) => {
                    buffer.truncate(read);
                    sent.fetch_add(read as u64, Ordering::Relaxed);
                    Some((Ok(Frame::data(Bytes::from(buffer))), Some(file)))
                }
                Err(error) => Some((Err(error), None)),
            }
        }
    })
}

/// The engine's JSON lines: `Loaded image: …` / `Loaded image ID: …`, or its error.
fn read_load_messages(text: &[u8]) -> Result<LoadAnswer, String> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(default)]
        stream: Option<String>,
        #[serde(default)]
        error: Option<String>,
        #[serde(default, rename = "errorDetail")]
        error_detail: Option<ErrorDetail>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorDetail {
        #[serde(default)]
        message: Option<String>,
    }
    let mut answer = LoadAnswer::default();
    let messages = serde_json::Deserializer::from_slice(text).into_iter::<Message>();
    for message in messages {
        let message = message.map_err(|error| format!("unexpected answer: {error}"))?;
        if let Some(error) = message
            .error_detail
            .and_then(|detail| detail.message)
            .or(message.error)
        {
            return Err(error);
        }
        let Some(stream) = message.stream else {
            continue;
        };
        for line in stream.lines() {
            if let Some(id) = line.strip_prefix("Loaded image ID: ") {
                answer.ids.push(id.trim().to_string());
            } else if let Some(tag) = line.strip_prefix("Loaded image: ") {
                answer.tags.push(tag.trim().to_string());
            }
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_tags_and_ids_are_read_from_the_stream() {
        let text = br#"{"status":"Loading layer","progressDetail":{"current":32768,"total":411136},"id":"1ecab84c48e5"}
{"stream":"Loaded image: app:3\n"}
{"stream":"Loaded image: app:latest\n"}
{"stream":"Loaded image ID: sha256:f160\n"}
"#;
        let answer = read_load_messages(text).expect("loaded");
        assert_eq!(answer.tags, ["app:3", "app:latest"]);
        assert_eq!(answer.ids, ["sha256:f160"]);
    }

    #[test]
    fn an_error_in_the_stream_is_the_engines_message() {
        let text = br#"{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}"#;
        assert_eq!(read_load_messages(text), Err("unexpected EOF".to_string()));
    }
}
