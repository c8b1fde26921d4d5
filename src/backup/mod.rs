//! Backups before removal (`--backup DIR`): which images one archive holds, the checks a saved
//! archive must pass before anything is removed, and the per-host manifest `restore` reads.
//!
//! Layout: `DIR/<host>/<image hex>.tar` (a `docker save` archive, loadable with plain
//! `docker load -i`) and `DIR/<host>/manifest.json`.

mod archive;
mod manifest;
mod unit;

pub use archive::read_archive;
pub use manifest::{ArchiveEntry, BackupManifest, MANIFEST_FILE, ManifestError};
pub use unit::BackupUnit;
