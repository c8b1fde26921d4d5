//! Plain `GET`s decoded into fleetrmi's own types, for answers whose shape at the negotiated
//! version bollard's models do not have.
//!
//! bollard 0.21's models follow API 1.53, where `/system/df` lost `LayersSize`, `Images`,
//! `Containers`, `Volumes` and `BuildCache`; at 1.41–1.47 those are the only fields there are.
//! Each call opens its own socket channel on the host's SSH connection, speaks one HTTP/1.1
//! request on it, and closes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use super::EngineError;
use super::kind::parse_server_header;
use super::transport::Route;
use crate::data::Product;
use crate::ssh::SshSession;

/// `GET` on one host's Docker socket at its negotiated API version.
pub(crate) struct RawApi {
    session: Arc<SshSession>,
    route: Route,
    api_version: String,
    timeout: Duration,
    calls: AtomicU64,
}

impl RawApi {
    pub(crate) fn new(
        session: Arc<SshSession>,
        route: Route,
        api_version: &str,
        timeout: Duration,
    ) -> RawApi {
        RawApi {
            session,
            route,
            api_version: api_version.to_string(),
            timeout,
            calls: AtomicU64::new(0),
        }
    }

    /// Calls made so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// `GET /v<version><path>` and its JSON body as `T`. `action` names the call in errors.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        action: &'static str,
        path: &str,
    ) -> Result<T, EngineError> {
        self.call_json(action, hyper::Method::GET, path).await
    }

    /// A body-less request to `/v<version><path>`, within the call timeout, and its JSON answer
    /// as `T`; an error status becomes the engine's own message.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        action: &'static str,
        method: hyper::Method,
        path: &str,
    ) -> Result<T, EngineError> {
        let body = self.call(action, method, path).await?;
        json_answer(action, &body)
    }

    /// A body-less request whose success carries no answer worth reading (`201`, `204`).
    pub(crate) async fn call_for_status(
        &self,
        action: &'static str,
        method: hyper::Method,
        path: &str,
    ) -> Result<(), EngineError> {
        self.call(action, method, path).await.map(drop)
    }

    async fn call(
        &self,
        action: &'static str,
        method: hyper::Method,
        path: &str,
    ) -> Result<Bytes, EngineError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let versioned = self.versioned(path);
        let (_, body) = request(
            &self.session,
            &self.route,
            method,
            &versioned,
            action,
            self.timeout,
        )
        .await?;
        Ok(body)
    }

    /// `/v<version><path>`: a path at the negotiated API version.
    pub(crate) fn versioned(&self, path: &str) -> String {
        format!("/v{}{path}", self.api_version)
    }

    /// The limit for one call, and for a pause in a streamed one.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One HTTP/1.1 connection on a fresh channel of the host's SSH connection, for one request
    /// with a body of type `B` (counted as one API call).
    pub(crate) async fn connect<B>(
        &self,
        action: &'static str,
    ) -> Result<hyper::client::conn::http1::SendRequest<B>, EngineError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        open_http(&self.session, &self.route, action).await
    }
}

/// What an unversioned `GET /_ping` tells in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PingAnswer {
    /// `Api-Version`: the newest API version the daemon speaks.
    pub(crate) api_version: String,
    /// From `Server: Docker/<version> (<os>)` or `Server: Libpod/<version> (<os>)`, when the
    /// daemon sends it.
    pub(crate) server: Option<(Product, String)>,
}

/// `GET /_ping`, unversioned, as the Docker CLI negotiates: the daemon answers with its API
/// version in a header, at almost no cost (`/version` makes dockerd 20.10 ask containerd and
/// run `runc --version`).
pub(crate) async fn ping(
    session: &SshSession,
    route: &Route,
    timeout: Duration,
) -> Result<PingAnswer, EngineError> {
    let action = "reach the Docker daemon";
    let (headers, _) = request(
        session,
        route,
        hyper::Method::GET,
        "/_ping",
        action,
        timeout,
    )
    .await?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let api_version = header("api-version")
        .ok_or_else(|| EngineError::Protocol("the daemon did not report its API version".into()))?;
    Ok(PingAnswer {
        api_version,
        server: header("server").as_deref().and_then(parse_server_header),
    })
}

/// What fleetrmi reads of `/info`: fields with the same name and shape at every API version,
/// so that it can be asked unversioned, before the version is negotiated.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InfoFields {
    pub(crate) docker_root_dir: Option<String>,
    pub(crate) driver: Option<String>,
    pub(crate) driver_status: Option<Vec<Vec<String>>>,
}

impl InfoFields {
    /// True when images live in containerd's store (its snapshotter is the driver).
    pub(crate) fn containerd_store(&self) -> bool {
        self.driver_status.iter().flatten().any(|pair| {
            pair.iter()
                .any(|item| item == "io.containerd.snapshotter.v1")
        })
    }
}

impl From<bollard::models::SystemInfo> for InfoFields {
    fn from(info: bollard::models::SystemInfo) -> InfoFields {
        InfoFields {
            docker_root_dir: info.docker_root_dir,
            driver: info.driver,
            driver_status: info.driver_status,
        }
    }
}

/// `GET /info`, unversioned, on a channel of its own.
pub(crate) async fn info(
    session: &SshSession,
    route: &Route,
    timeout: Duration,
) -> Result<InfoFields, EngineError> {
    let action = "read /info";
    let (_, body) = request(session, route, hyper::Method::GET, "/info", action, timeout).await?;
    json_answer(action, &body)
}

/// A body-less request to `path` on a channel of its own, within `timeout`: the answer's
/// headers and body, or the engine's error.
async fn request(
    session: &SshSession,
    route: &Route,
    method: hyper::Method,
    path: &str,
    action: &'static str,
    timeout: Duration,
) -> Result<(hyper::HeaderMap, Bytes), EngineError> {
    let (status, headers, body) = tokio::time::timeout(timeout, async {
        let mut sender = open_http::<Empty<Bytes>>(session, route, action).await?;
        exchange(session, &mut sender, method, path, action).await
    })
    .await
    .map_err(|_| timed_out(action))??;
    if !(200..300).contains(&status) {
        return Err(EngineError::Api {
            status,
            message: error_message(&body),
        });
    }
    Ok((headers, body))
}

/// The JSON body of a successful answer as `T`.
fn json_answer<T: DeserializeOwned>(action: &'static str, body: &[u8]) -> Result<T, EngineError> {
    serde_json::from_slice(body).map_err(|error| {
        EngineError::Protocol(format!("cannot {action}: unexpected answer: {error}"))
    })
}

/// One HTTP/1.1 connection on a fresh channel of the host's SSH connection, by `route`.
async fn open_http<B>(
    session: &SshSession,
    route: &Route,
    action: &'static str,
) -> Result<hyper::client::conn::http1::SendRequest<B>, EngineError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let unreachable = |cause: String| EngineError::Unreachable { action, cause };
    let stream = match route {
        Route::Socket(path) => session.open_socket(path).await,
        Route::Exec(command) => session
            .open_exec(command)
            .await
            .map(russh::Channel::into_stream),
    }
    .map_err(|error| unreachable(error.to_string()))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    // The connection task ends when the sender is dropped after the one request.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one body-less request and reads the whole answer: status, headers and body.
async fn exchange(
    session: &SshSession,
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    method: hyper::Method,
    path: &str,
    action: &'static str,
) -> Result<(u16, hyper::HeaderMap, Bytes), EngineError> {
    let unreachable = |cause: String| EngineError::Unreachable { action, cause };
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        // dockerd answers 400 to a request without a Host header.
        .header(hyper::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|error| EngineError::Protocol(format!("cannot {action}: {error}")))?;
    let sent = session.round_trips().sent();
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    session.round_trips().answered(sent);
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| unreachable(error.to_string()))?
        .to_bytes();
    Ok((status, headers, body))
}

fn timed_out(action: &'static str) -> EngineError {
    EngineError::Unreachable {
        action,
        cause: "no answer before the API call timeout".to_string(),
    }
}

/// The engine's `{"message": "…"}`, or the body itself when it is something else.
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) => error.message,
        Err(_) => String::from_utf8_lossy(body).trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn engine_error_body_gives_its_message() {
        assert_eq!(
            error_message(br#"{"message":"a disk usage operation is already running"}"#),
            "a disk usage operation is already running"
        );
    }

    #[test]
    fn other_error_body_is_kept_as_text() {
        assert_eq!(error_message(b"404 page not found\n"), "404 page not found");
    }
}
