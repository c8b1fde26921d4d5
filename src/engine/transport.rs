//! HTTP to the Docker socket over SSH: each HTTP connection is a `direct-streamlocal` channel
//! of the host's one SSH connection, pooled by hyper-util and handed to bollard.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use crate::ssh::{ChannelIo, SshError, SshSession};
use bollard::{BollardRequest, Docker};
use hyper::Uri;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// How each HTTP connection reaches the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// A `direct-streamlocal@openssh.com` channel to this socket path (the normal way).
    Socket(String),
    /// An exec channel running this command (`docker system dial-stdio`, maybe via sudo).
    Exec(String),
}

impl Route {
    /// API calls to keep in flight at once. Socket channels are cheap and not limited by sshd;
    /// exec channels count against sshd's `MaxSessions` (10 by default) and each starts a
    /// docker CLI process on the host, so they are kept few.
    pub(crate) fn calls_in_flight(&self) -> usize {
        match self {
            Route::Socket(_) => 8,
            Route::Exec(_) => 3,
        }
    }
}

/// Socket channels opened ahead of the calls that will use them, so that a wave of calls
/// waits for its answers only, not for channel opens first.
#[derive(Clone)]
pub(crate) struct OpenAhead {
    session: Arc<SshSession>,
    route: Arc<Route>,
    ready: Arc<Mutex<Vec<ChannelIo>>>,
    /// A replacement is being opened (at most one at a time).
    replacing: Arc<AtomicBool>,
}

impl OpenAhead {
    pub(crate) fn new(session: Arc<SshSession>, route: Route) -> OpenAhead {
        OpenAhead {
            session,
            route: Arc::new(route),
            ready: Arc::default(),
            replacing: Arc::default(),
        }
    }

    /// Opens `count` socket channels concurrently. Failures are left for the call that would
    /// have used the channel: it opens its own and reports why it could not.
    pub(crate) async fn open(&self, count: usize) {
        let Route::Socket(path) = self.route.as_ref() else {
            return;
        };
        let opened =
            futures::future::join_all((0..count).map(|_| self.session.open_socket(path))).await;
        self.keep(opened);
    }

    fn keep(&self, opened: Vec<Result<ChannelIo, SshError>>) {
        if let Ok(mut ready) = self.ready.lock() {
            ready.extend(opened.into_iter().flatten());
        }
    }

    /// A ready channel, or a new one. The pool hands a finished call's channel back only once
    /// its connection task has run, so a call that follows at once often asks for a channel
    /// although one is about to be free: when the last ready channel is taken, one is opened in
    /// its place, which keeps that call from waiting for a channel open. Only one: a channel
    /// opened for nothing costs both ends CPU and memory for the rest of the run.
    async fn take(&self) -> Result<ChannelIo, SshError> {
        let (taken, none_left) = match self.ready.lock() {
            Ok(mut ready) => (ready.pop(), ready.is_empty()),
            Err(_) => (None, true),
        };
        if let Some(channel) = taken {
            if let Route::Socket(path) = self.route.as_ref()
                && none_left
                && !self.replacing.swap(true, Ordering::AcqRel)
            {
                let (replace, path) = (self.clone(), path.clone());
                tokio::spawn(async move {
                    let opened = replace.session.open_socket_ahead(&path).await;
                    replace.keep(vec![opened]);
                    replace.replacing.store(false, Ordering::Release);
                });
            }
            return Ok(channel);
        }
        match self.route.as_ref() {
            Route::Socket(path) => self.session.open_socket(path).await,
            Route::Exec(command) => Ok(self.session.open_exec(command).await?.into_stream()),
        }
    }
}

/// Opens one channel per HTTP connection that the pool asks for (or takes one opened ahead).
#[derive(Clone)]
struct SocketConnector {
    channels: OpenAhead,
}

impl tower_service::Service<Uri> for SocketConnector {
    type Response = SocketIo;
    type Error = SshError;
    type Future = Pin<Box<dyn Future<Output = Result<SocketIo, SshError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let channels = self.channels.clone();
        Box::pin(async move { Ok(SocketIo(TokioIo::new(channels.take().await?))) })
    }
}

/// A socket channel seen as an HTTP connection.
struct SocketIo(TokioIo<ChannelIo>);

impl Connection for SocketIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for SocketIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SocketIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The negotiated API version, e.g. `1.41`, shared with the transport that prefixes every path.
#[derive(Clone, Default)]
pub(crate) struct VersionPrefix(Arc<OnceLock<String>>);

impl VersionPrefix {
    pub(crate) fn set(&self, version: &str) {
        let _ = self.0.set(version.to_string());
    }

    /// bollard 0.21 drops its version prefix when it joins the path, so the daemon would answer
    /// at its own newest version; putting the negotiated one back keeps response shapes stable.
    fn apply(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let Some(version) = self.0.get() else {
            return Ok(uri.clone());
        };
        let path_and_query = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        if path_and_query.starts_with("/v1.") {
            return Ok(uri.clone());
        }
        Uri::builder()
            .scheme(uri.scheme_str().unwrap_or("http"))
            .authority(uri.authority().map(|a| a.as_str()).unwrap_or("docker"))
            .path_and_query(format!("/v{version}{path_and_query}"))
            .build()
    }
}

/// Counts the API calls made to one host, for the run's statistics.
#[derive(Clone, Default)]
pub(crate) struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts calls made outside the bollard client (the raw `/_ping`).
    pub(crate) fn add(&self, calls: u64) {
        self.0.fetch_add(calls, Ordering::Relaxed);
    }
}

/// Builds a bollard client whose every request travels over `session` to `socket_path`.
pub(crate) fn docker_over_ssh(
    channels: OpenAhead,
    version: VersionPrefix,
    calls: CallCounter,
    request_timeout_secs: u64,
) -> Result<Docker, bollard::errors::Error> {
    let idle_connections = channels.route.calls_in_flight();
    let connector = SocketConnector {
        channels: channels.clone(),
    };
    let client = Arc::new(
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(idle_connections)
            .build(connector),
    );
    let transport = move |request: BollardRequest| {
        let client = Arc::clone(&client);
        let version = version.clone();
        calls.0.fetch_add(1, Ordering::Relaxed);
        // Taken when the call is made, not when its bytes leave: calls made together (one
        // wave) are one round trip even when an early answer is read before a later call of
        // the wave is written.
        let round_trips = Arc::clone(channels.session.round_trips());
        let sent = round_trips.sent();
        async move {
            let (mut parts, body) = request.into_parts();
            parts.uri =
                version
                    .apply(&parts.uri)
                    .map_err(|error| bollard::errors::Error::IOError {
                        err: std::io::Error::other(error),
                    })?;
            let request = BollardRequest::from_parts(parts, body);
            let response: Result<hyper::Response<Incoming>, _> = client.request(request).await;
            round_trips.answered(sent);
            response.map_err(|error| bollard::errors::Error::IOError {
                err: std::io::Error::other(explain_client_error(&error)),
            })
        }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some("http://docker"),
        request_timeout_secs,
        bollard::API_DEFAULT_VERSION,
    )
}

/// The innermost useful cause of a pooled-client failure: usually the SSH channel refusal.
fn explain_client_error(error: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(ssh) = cause.downcast_ref::<SshError>() {
            return ssh.to_string();
        }
        source = cause.source();
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix_is_added_to_unversioned_paths() {
        let prefix = VersionPrefix::default();
        prefix.set("1.41");
        let uri: Uri = "http://docker/images/x:1?force=false&noprune=false"
            .parse()
            .expect("uri");
        assert_eq!(
            prefix.apply(&uri).expect("apply").to_string(),
            "http://docker/v1.41/images/x:1?force=false&noprune=false"
        );
    }

    #[test]
    fn paths_stay_unversioned_until_negotiated() {
        let uri: Uri = "http://docker/_ping".parse().expect("uri");
        assert_eq!(VersionPrefix::default().apply(&uri).expect("apply"), uri);
    }
}
