//! The backup of the images one removal deletes, as the report shows it.

use std::path::PathBuf;

use serde::Serialize;

/// What `--backup` did (or, in a dry run, would do) before one removal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupOutcome {
    /// The archive: `DIR/<host>/<image hex>.tar`.
    pub file: PathBuf,
    /// The images saved in it (those the removal deletes), children first.
    pub images: Vec<String>,
    /// Their tags before the run, which `restore` sets again.
    pub tags: Vec<String>,
    /// Size of the complete archive; absent in a dry run or when the backup failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// SHA-256 of the archive, as the manifest records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why the backup failed; the removal was then not attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
