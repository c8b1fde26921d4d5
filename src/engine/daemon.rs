//! What a daemon says about its build and API range (`GET /version`), and a `/_ping` round trip.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::bounded::Within;
use super::{Engine, EngineError};

/// The daemon's own version answer, beyond what the run negotiated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DaemonVersion {
    /// The newest API version the daemon speaks.
    pub max_api_version: String,
    /// The oldest API version the daemon accepts.
    pub min_api_version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: String,
}

impl Engine {
    /// `GET /version`.
    pub async fn daemon_version(&self) -> Result<DaemonVersion, EngineError> {
        let version = self
            .docker
            .version()
            .within(self.api_timeout(), "read /version")
            .await?;
        Ok(DaemonVersion {
            max_api_version: version.api_version.unwrap_or_default(),
            min_api_version: version.min_api_version.unwrap_or_default(),
            os: version.os.unwrap_or_default(),
            arch: version.arch.unwrap_or_default(),
            kernel_version: version.kernel_version.unwrap_or_default(),
        })
    }

    /// How long one `GET /_ping` takes on the established connection: SSH channel, socket and
    /// daemon, without the connection set-up.
    pub async fn ping_round_trip(&self) -> Result<Duration, EngineError> {
        let started = Instant::now();
        self.docker
            .ping()
            .within(self.api_timeout(), "ping the daemon")
            .await?;
        Ok(started.elapsed())
    }
}
