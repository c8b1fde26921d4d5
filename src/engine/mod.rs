//! The Docker Engine API of one host, spoken over its SSH connection with bollard.

mod api_version;
mod bounded;
mod build_cache;
mod containers;
mod daemon;
mod dial_stdio;
mod disk_usage;
mod error;
mod export;
mod image_refs;
mod images;
mod kind;
mod load;
mod podman_names;
mod prune;
mod raw_get;
mod removal;
mod removal_snapshot;
mod snapshot;
mod transfer;
mod transport;

use std::sync::Arc;

use bollard::Docker;

pub use crate::data::{EngineInfo, EngineKind, Product};
pub use api_version::ApiVersion;
pub use error::EngineError;
pub use prune::PruneAnswer;

pub use build_cache::{
    BuildCacheSupport, BuildPruneOptions, build_cache_support, unsupported_answer,
};
pub use transfer::{TransferError, TransferWatch};

use crate::ssh::SshSession;
use bounded::Within;
use raw_get::RawApi;
use transport::{CallCounter, OpenAhead, Route, VersionPrefix, docker_over_ssh};

/// The newest API version whose response shapes fleetrmi reads. Docker 29 accepts 1.44 and up,
/// dockerd 20.10 at most 1.41: the per-host version is the lower of this and the daemon's.
pub const NEWEST_SUPPORTED_API: ApiVersion = ApiVersion {
    major: 1,
    minor: 47,
};

/// How to reach a host's daemon.
#[derive(Debug, Clone)]
pub struct EngineAccess {
    pub socket_path: String,
    /// Go through `sudo -n docker system dial-stdio` (inventory `become`, or `--become`).
    pub become_root: bool,
    pub request_timeout_secs: u64,
}

/// Channels opened ahead, while the daemon is reached, for the snapshot's two list calls.
const LIST_CHANNELS: usize = 2;

/// A negotiated connection to one host's engine.
pub struct Engine {
    docker: Docker,
    calls: CallCounter,
    /// Per-image calls (inspect, history) to keep in flight at once on this host.
    calls_in_flight: usize,
    /// For answers bollard's models cannot hold (`/system/df` at 1.41).
    raw: RawApi,
    /// Channels opened ahead for the API client's next wave of calls.
    channels: OpenAhead,
    pub info: EngineInfo,
}

impl Engine {
    /// Socket channels the first wave of calls takes: `/_ping`, `/info` and the snapshot's two
    /// lists.
    pub const SOCKET_CHANNELS_AT_CONNECT: usize = 2 + LIST_CHANNELS;

    /// Reaches the daemon, negotiates the API version and reads `/info`. Stream-local
    /// forwarding first; if sshd refuses it, `docker system dial-stdio` over an exec channel
    /// (said in `warnings`). With `become_root`, `sudo -n docker system dial-stdio` only.
    pub async fn connect(
        session: Arc<SshSession>,
        access: &EngineAccess,
        warnings: &mut Vec<String>,
    ) -> Result<Engine, EngineError> {
        let dial = |become_root| {
            Route::Exec(dial_stdio::dial_stdio_command(
                &access.socket_path,
                become_root,
            ))
        };
        if access.become_root {
            let route = dial(true);
            if let Route::Exec(command) = &route {
                dial_stdio::probe(&session, command)
                    .await
                    .map_err(|cause| EngineError::Unreachable {
                        action: "reach the Docker daemon through sudo",
                        cause,
                    })?;
            }
            return Self::connect_by(session, route, "sudo dial-stdio", access).await;
        }
        let by_socket = Self::connect_by(
            Arc::clone(&session),
            Route::Socket(access.socket_path.clone()),
            "socket",
            access,
        )
        .await;
        let socket_error = match by_socket {
            Ok(engine) => return Ok(engine),
            Err(error @ EngineError::Unreachable { .. }) if is_forward_refusal(&error) => error,
            Err(other) => return Err(other),
        };
        let Route::Exec(command) = dial(false) else {
            return Err(socket_error);
        };
        match dial_stdio::probe(&session, &command).await {
            Ok(()) => {
                warnings.push(format!(
                    "socket forwarding failed ({socket_error}); using `docker system dial-stdio` \
                     over an exec channel instead"
                ));
                Self::connect_by(session, Route::Exec(command), "dial-stdio", access).await
            }
            Err(fallback) => Err(EngineError::Unreachable {
                action: "reach the Docker daemon",
                cause: match socket_error {
                    EngineError::Unreachable { cause, .. } => {
                        format!("{cause}; the dial-stdio fallback failed too: {fallback}")
                    }
                    other => format!("{other}; the dial-stdio fallback failed too: {fallback}"),
                },
            }),
        }
    }

    async fn connect_by(
        session: Arc<SshSession>,
        route: Route,
        transport: &str,
        access: &EngineAccess,
    ) -> Result<Engine, EngineError> {
        let version = VersionPrefix::default();
        let calls = CallCounter::default();
        let calls_in_flight = route.calls_in_flight();
        let timeout = std::time::Duration::from_secs(access.request_timeout_secs);
        let channels = OpenAhead::new(Arc::clone(&session), route.clone());
        let docker = docker_over_ssh(
            channels.clone(),
            version.clone(),
            calls.clone(),
            access.request_timeout_secs,
        )
        .map_err(|error| EngineError::from_bollard("open the Docker API", error))?;

        let (server_api, product, server_version, info) = if let Route::Socket(_) = route {
            // One wave: `/_ping` and `/info` on channels of their own, and the channels for the
            // snapshot's two list calls opened meanwhile. `/info` goes unversioned (the
            // version is not known yet) and only fields every version has are read from it.
            let (pinged, info, ()) = futures::join!(
                raw_get::ping(&session, &route, timeout),
                raw_get::info(&session, &route, timeout),
                channels.open(LIST_CHANNELS),
            );
            calls.add(2);
            let (api, product, server_version) = negotiated_by_ping(pinged?)?;
            (api, product, server_version, info?)
        } else {
            let (api, product, server_version) = negotiate(&docker, timeout).await?;
            version.set(&negotiated_version(api).to_string());
            let info = docker.info().within(timeout, "read /info").await?;
            (
                api,
                product,
                server_version,
                raw_get::InfoFields::from(info),
            )
        };
        let negotiated = negotiated_version(server_api);
        version.set(&negotiated.to_string());
        let raw = RawApi::new(session, route, &negotiated.to_string(), timeout);
        Ok(Engine {
            docker,
            calls,
            calls_in_flight,
            raw,
            channels,
            info: EngineInfo {
                product,
                kind: EngineKind::detect(product, info.containerd_store()),
                api_version: negotiated.to_string(),
                server_version,
                containerd_store: info.containerd_store(),
                docker_root_dir: info.docker_root_dir.unwrap_or_default(),
                storage_driver: info.driver.unwrap_or_default(),
                transport: transport.to_string(),
            },
        })
    }

    /// Opens `channels` more channels ahead, for the API client's next wave of calls.
    pub(crate) async fn open_ahead(&self, channels: usize) {
        self.channels.open(channels).await;
    }

    /// The limit for one API call (`--api-timeout`), also used for other reads on the host.
    pub fn api_timeout(&self) -> std::time::Duration {
        self.raw.timeout()
    }

    /// How many API calls this connection has made so far.
    pub fn api_calls(&self) -> u64 {
        self.calls.get() + self.raw.calls()
    }
}

/// The version a host is spoken to at: the daemon's newest, or fleetrmi's newest when the daemon
/// offers more (Docker 29 serves up to 1.52 and accepts 1.44 and up; 1.47 then).
fn negotiated_version(daemon: ApiVersion) -> ApiVersion {
    daemon.min(NEWEST_SUPPORTED_API)
}

/// The daemon's newest API version and its engine version, from the `Api-Version` and
/// `Server` headers of an unversioned `/_ping`, as the Docker CLI negotiates over a socket: it
/// costs the daemon nothing (`/version` makes dockerd 20.10 ask containerd and run
/// `runc --version`). A daemon whose oldest API is newer than ours then refuses the next call
/// with its own "client version … is too old" message.
fn negotiated_by_ping(
    pinged: raw_get::PingAnswer,
) -> Result<(ApiVersion, Product, String), EngineError> {
    let api = ApiVersion::parse(&pinged.api_version).ok_or_else(|| {
        EngineError::Protocol(format!(
            "the daemon reported an API version fleetrmi cannot read: {}",
            pinged.api_version
        ))
    })?;
    let (product, version) = pinged.server.unwrap_or((Product::Docker, String::new()));
    Ok((api, product, version))
}

/// The same over dial-stdio, where each channel starts a docker CLI on the host: `/version`
/// goes on the pooled channel that `/info` then reuses, and an API range fleetrmi cannot
/// speak is said before any other call.
async fn negotiate(
    docker: &Docker,
    timeout: std::time::Duration,
) -> Result<(ApiVersion, Product, String), EngineError> {
    let server = docker
        .version()
        .within(timeout, "reach the Docker daemon")
        .await?;
    let api = server
        .api_version
        .as_deref()
        .and_then(ApiVersion::parse)
        .ok_or_else(|| EngineError::Protocol("the daemon did not report its API version".into()))?;
    if let Some(minimum) = server
        .min_api_version
        .as_deref()
        .and_then(ApiVersion::parse)
        && minimum > NEWEST_SUPPORTED_API
    {
        return Err(EngineError::Protocol(format!(
            "the daemon needs API {minimum} or newer; fleetrmi speaks up to {NEWEST_SUPPORTED_API}"
        )));
    }
    let podman = server
        .components
        .iter()
        .flatten()
        .any(|component| kind::is_podman_component(&component.name));
    let product = if podman {
        Product::Podman
    } else {
        Product::Docker
    };
    Ok((api, product, server.version.unwrap_or_default()))
}

/// Whether the daemon could not be reached because sshd would not open the socket channel.
fn is_forward_refusal(error: &EngineError) -> bool {
    matches!(error, EngineError::Unreachable { cause, .. } if cause.contains("refused to forward to the socket"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_lower_of_the_daemons_and_1_47() {
        let version = |text: &str| ApiVersion::parse(text).expect("a version");
        for (daemon, spoken) in [
            ("1.41", "1.41"),
            ("1.45", "1.45"),
            ("1.47", "1.47"),
            ("1.52", "1.47"),
        ] {
            assert_eq!(
                negotiated_version(version(daemon)),
                version(spoken),
                "{daemon}"
            );
        }
    }
}
