//! What came back from each archive of a host's backup.

use std::path::PathBuf;

use serde::Serialize;

/// How one archive's restore ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreStatus {
    /// Loaded, and every image and tag checked on the host afterwards.
    Restored,
    /// Every image and tag was already there: nothing loaded.
    AlreadyPresent,
    /// A recorded tag now names another image on the host; not loaded (`--force` loads it).
    Conflict,
    /// The archive is missing or damaged, or the engine refused it.
    Failed,
}

/// One archive of a host's backup, and what came back from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredArchive {
    pub file: PathBuf,
    pub status: RestoreStatus,
    /// The images of the archive that the removal had deleted.
    pub images: Vec<String>,
    /// The tags they had, as they are on the host after the restore.
    pub tags: Vec<String>,
    /// Bytes sent to the engine (0 when nothing was loaded).
    pub loaded_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
