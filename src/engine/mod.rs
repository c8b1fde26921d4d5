//! The Docker Engine API of one host, spoken over its SSH connection with bollard.

mod api_version;
mod error;
mod prune;
mod removal;
mod snapshot;
mod transport;

use std::sync::Arc;

use bollard::Docker;

pub use api_version::ApiVersion;
pub use error::EngineError;
pub use prune::PruneAnswer;

use crate::ssh::SshSession;
use transport::{CallCounter, VersionPrefix, docker_over_ssh};

/// The newest API version whose response shapes fleetrmi reads. Docker 29 accepts 1.44 and up,
/// dockerd 20.10 at most 1.41: the per-host version is the lower of this and the daemon's.
pub const NEWEST_SUPPORTED_API: ApiVersion = ApiVersion {
    major: 1,
    minor: 47,
};

/// What the engine says about itself, read once at connect time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EngineInfo {
    pub api_version: String,
    pub server_version: String,
    pub docker_root_dir: String,
    pub storage_driver: String,
    /// True when images live in containerd's store, whose removal rules differ from the classic store.
    pub containerd_store: bool,
}

/// A negotiated connection to one host's engine.
pub struct Engine {
    docker: Docker,
    calls: CallCounter,
    pub info: EngineInfo,
}

impl Engine {
    /// Reaches the daemon through `socket_path`, negotiates the API version and reads `/info`.
    pub async fn connect(
        session: Arc<SshSession>,
        socket_path: &str,
        request_timeout_secs: u64,
    ) -> Result<Engine, EngineError> {
        let version = VersionPrefix::default();
        let calls = CallCounter::default();
        let docker = docker_over_ssh(
            session,
            socket_path,
            version.clone(),
            calls.clone(),
            request_timeout_secs,
        )
        .map_err(|error| EngineError::from_bollard("open the Docker API", error))?;

        let server = docker
            .version()
            .await
            .map_err(|error| EngineError::from_bollard("reach the Docker daemon", error))?;
        let server_api = server
            .api_version
            .as_deref()
            .and_then(ApiVersion::parse)
            .ok_or_else(|| {
                EngineError::Protocol("the daemon did not report its API version".into())
            })?;
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
        let negotiated = server_api.min(NEWEST_SUPPORTED_API);
        version.set(&negotiated.to_string());

        let info = docker
            .info()
            .await
            .map_err(|error| EngineError::from_bollard("read /info", error))?;
        let containerd_store = info.driver_status.iter().flatten().any(|pair| {
            pair.iter()
                .any(|item| item == "io.containerd.snapshotter.v1")
        });
        Ok(Engine {
            docker,
            calls,
            info: EngineInfo {
                api_version: negotiated.to_string(),
                server_version: server.version.unwrap_or_default(),
                docker_root_dir: info.docker_root_dir.unwrap_or_default(),
                storage_driver: info.driver.unwrap_or_default(),
                containerd_store,
            },
        })
    }

    /// How many API calls this connection has made so far.
    pub fn api_calls(&self) -> u64 {
        self.calls.get()
    }
}
