//! What one engine's build cache prune did.

use serde::Serialize;

/// One engine's build cache prune.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildCacheOutcome {
    /// False when the engine has no build cache API; `message` says why.
    pub supported: bool,
    /// Cache records the engine deleted.
    pub caches_deleted: usize,
    /// The engine's `SpaceReclaimed`.
    pub reclaimed_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
