//! Backing up images before they are removed: stream their `docker save` archive over the
//! host's SSH connection into `DIR/<host>/<image hex>.tar`, check it, and record it in
//! `DIR/<host>/manifest.json`. Any command that removes images calls [`backup_image`] before
//! the removal and removes nothing when it fails (`rmi --backup` does; `prune` can).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::backup::{ArchiveEntry, BackupManifest, BackupUnit, ManifestError, read_archive};
use crate::engine::{Engine, TransferError, TransferWatch};
use crate::report::{BackupOutcome, format_bytes, timestamp};

use super::control::RunControl;
use super::progress::HostProgress;

/// A complete, checked archive and its manifest entry.
#[derive(Debug, Clone)]
pub struct BackupRecord {
    pub path: PathBuf,
    pub entry: ArchiveEntry,
}

impl BackupRecord {
    /// The report's view of this backup.
    pub fn outcome(&self) -> BackupOutcome {
        BackupOutcome {
            file: self.path.clone(),
            images: self
                .entry
                .images
                .iter()
                .map(|image| image.id.clone())
                .collect(),
            tags: self
                .entry
                .images
                .iter()
                .flat_map(|image| image.tags.iter().cloned())
                .collect(),
            bytes: Some(self.entry.bytes),
            sha256: Some(self.entry.sha256.clone()),
            error: None,
        }
    }
}

/// Why a backup failed. Whatever the cause, no partial archive is left under its final name.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot create the backup directory {}: {source}", path.display())]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot save the archive: {0}")]
    Transfer(TransferError),

    #[error("the archive was saved but not recorded: {0}")]
    Manifest(#[from] ManifestError),

    #[error("interrupted while saving the archive")]
    Interrupted,
}

impl From<TransferError> for BackupError {
    fn from(error: TransferError) -> Self {
        match error {
            TransferError::Interrupted => BackupError::Interrupted,
            other => BackupError::Transfer(other),
        }
    }
}

/// `DIR/<host>`: the host's inventory name, with anything that is not a plain file-name
/// character replaced, so a name can never point outside `DIR`.
pub fn host_backup_dir(dir: &Path, host: &str) -> PathBuf {
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.is_empty() || safe.chars().all(|c| c == '.') {
        safe.replace('.', "_") + "_"
    } else {
        safe
    };
    dir.join(safe)
}

/// The report's view of a backup that `unit` would write (a dry run) or failed to write.
pub fn planned_outcome(dir: &Path, host: &str, unit: &BackupUnit) -> BackupOutcome {
    BackupOutcome {
        file: host_backup_dir(dir, host).join(unit.file_name()),
        images: unit.images.iter().map(|image| image.id.clone()).collect(),
        tags: unit
            .images
            .iter()
            .flat_map(|image| image.tags.iter().cloned())
            .collect(),
        ..BackupOutcome::default()
    }
}

/// Saves `unit`'s images from `engine` into `DIR/<host>/`, checks the archive (whole tar, the
/// expected images and tags, no fewer bytes than their layers), renames it into place, and
/// records it in the host's manifest. Progress shows the bytes streamed; Ctrl-C stops it.
pub async fn backup_image(
    engine: &Engine,
    host: &str,
    unit: &BackupUnit,
    dir: &Path,
    progress: &HostProgress,
    control: &RunControl,
) -> Result<BackupRecord, BackupError> {
    let host_dir = host_backup_dir(dir, host);
    // Archives are whole images, secrets baked into them included: only their owner reads them.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&host_dir)
        .map_err(|source| BackupError::Directory {
            path: host_dir.clone(),
            source,
        })?;
    let destination = host_dir.join(unit.file_name());
    let watch = ProgressWatch::new(progress, control, &unit.reason);
    progress.changing_step(&format!("backing up ({})", unit.reason));
    let saved = engine
        .save_images(&unit.names, &destination, &watch, |path, bytes| {
            let contents = read_archive(path)?;
            if contents.tar_bytes > bytes {
                return Err(format!(
                    "the tar ends at byte {} past the file's {bytes}",
                    contents.tar_bytes
                ));
            }
            unit.check(&contents, bytes)
        })
        .await?;

    let entry = ArchiveEntry {
        file: unit.file_name(),
        bytes: saved.bytes,
        sha256: saved.sha256,
        saved_at: timestamp(),
        reason: unit.reason.clone(),
        engine_version: engine.info.server_version.clone(),
        images: unit.images.clone(),
        parents_kept: unit.parents_kept.clone(),
    };
    let mut manifest =
        BackupManifest::read(&host_dir)?.unwrap_or_else(|| BackupManifest::new(host));
    manifest.record(entry.clone());
    manifest.write(&host_dir)?;
    Ok(BackupRecord {
        path: saved.path,
        entry,
    })
}

/// Shows the bytes streamed on the host's progress line (a few times a second at most) and
/// cancels on Ctrl-C.
struct ProgressWatch<'a> {
    progress: &'a HostProgress,
    control: &'a RunControl,
    label: &'a str,
    shown: Mutex<Instant>,
}

impl<'a> ProgressWatch<'a> {
    fn new(progress: &'a HostProgress, control: &'a RunControl, label: &'a str) -> Self {
        ProgressWatch {
            progress,
            control,
            label,
            shown: Mutex::new(Instant::now()),
        }
    }
}

impl TransferWatch for ProgressWatch<'_> {
    fn bytes(&self, total: u64) {
        if let Ok(mut shown) = self.shown.lock()
            && shown.elapsed() >= Duration::from_millis(150)
        {
            *shown = Instant::now();
            self.progress.changing_step(&format!(
                "backing up ({}): {} streamed",
                self.label,
                format_bytes(total)
            ));
        }
    }

    fn cancelled(&self) -> bool {
        self.control.interrupted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_stay_inside_the_backup_directory() {
        let dir = Path::new("/b");
        assert_eq!(
            host_backup_dir(dir, "web-01.example"),
            Path::new("/b/web-01.example")
        );
        assert_eq!(host_backup_dir(dir, "../etc"), Path::new("/b/.._etc"));
        assert_eq!(host_backup_dir(dir, ".."), Path::new("/b/___"));
        assert_eq!(host_backup_dir(dir, "a/b"), Path::new("/b/a_b"));
    }
}
