//! What an engine says about itself: product, store, versions, and how it is reached.

use serde::Serialize;

use super::engine_kind::{EngineKind, Product};

/// What the engine says about itself, read once at connect time.
#[derive(Debug, Clone, Serialize)]
pub struct EngineInfo {
    /// Docker or Podman.
    pub product: Product,
    /// The image store whose rules the host's removals follow.
    pub kind: EngineKind,
    pub api_version: String,
    pub server_version: String,
    pub docker_root_dir: String,
    pub storage_driver: String,
    /// True when images live in containerd's store, whose removal rules differ from the classic store.
    pub containerd_store: bool,
    /// How the API is reached: `socket` (stream-local forwarding) or `dial-stdio` / `sudo dial-stdio`.
    pub transport: String,
}

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
