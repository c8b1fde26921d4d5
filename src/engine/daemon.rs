//! What a daemon says about its build and API range (`GET /version`), and a `/_ping` round trip.

use std::time::{Duration, Instant};

use super::bounded::Within;
use super::{Engine, EngineError};
use crate::data::DaemonVersion;

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
