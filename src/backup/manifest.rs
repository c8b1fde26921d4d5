//! `DIR/<host>/manifest.json`: what a host's backup directory holds — each archive, its size
//! and SHA-256, and the images in it with the tags they had — so `restore` knows what to load
//! and can check each file before it does.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;
use crate::reference::{Reference, is_hex64};

/// The manifest's name in a host's backup directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The current manifest format.
pub const MANIFEST_FORMAT: u32 = 1;

/// One host's backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    pub format: u32,
    /// The inventory name of the host the images came from.
    pub host: String,
    /// Oldest first; a later backup of the same file replaces the earlier entry.
    pub archives: Vec<ArchiveEntry>,
}

/// One archive: a `docker save` of the images one removal deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveEntry {
    /// File name in the host's backup directory: `<image hex>.tar`.
    pub file: String,
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// RFC 3339 UTC.
    pub saved_at: String,
    /// What removed the images (`rmi app:1`).
    pub reason: String,
    /// The engine's version on the host.
    pub engine_version: String,
    /// The images the removal deletes, children before parents.
    pub images: Vec<SavedImage>,
    /// Images kept on the host that are in the archive only so `docker load` restores the
    /// `Parent` link of a saved image (by ID, without tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents_kept: Vec<String>,
}

/// One saved image, with the references it had before the removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedImage {
    /// `sha256:<hex>`.
    pub id: String,
    /// Every tag it had; `restore` sets each again.
    pub tags: Vec<String>,
    /// Digest references it had; `docker load` cannot restore these (a pull by digest can).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// Why a manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a fleetrmi backup manifest: {cause}", path.display())]
    Invalid { path: PathBuf, cause: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BackupManifest {
    pub fn new(host: &str) -> BackupManifest {
        BackupManifest {
            format: MANIFEST_FORMAT,
            host: host.to_string(),
            archives: Vec::new(),
        }
    }

    /// Reads `dir/manifest.json`; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<BackupManifest>, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        let manifest: BackupManifest =
            serde_json::from_str(&text).map_err(|error| ManifestError::Invalid {
                path: path.clone(),
                cause: error.to_string(),
            })?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(ManifestError::Invalid {
                path,
                cause: format!(
                    "format {} (this fleetrmi reads format {MANIFEST_FORMAT})",
                    manifest.format
                ),
            });
        }
        manifest
            .check()
            .map_err(|cause| ManifestError::Invalid { path, cause })?;
        Ok(Some(manifest))
    }

    /// Everything `restore` takes from the manifest is checked before it is used: a file name
    /// that stays in the host's directory, image IDs, tags and digests as fleetrmi writes them.
    /// A hand-edited manifest can name no other file and no other engine endpoint.
    fn check(&self) -> Result<(), String> {
        for (index, archive) in self.archives.iter().enumerate() {
            let at = |what: String| format!("archive {} ({}): {what}", index + 1, archive.file);
            let stem = archive.file.strip_suffix(".tar").unwrap_or_default();
            if !is_hex64(stem) {
                return Err(at("the file name is not <64 hex digits>.tar".to_string()));
            }
            if !is_hex64(&archive.sha256) {
                return Err(at("sha256 is not 64 hex digits".to_string()));
            }
            let ids = archive
                .images
                .iter()
                .flat_map(|image| std::iter::once(&image.id).chain(&image.parent))
                .chain(&archive.parents_kept);
            for id in ids {
                if !id.strip_prefix("sha256:").is_some_and(is_hex64) {
                    return Err(at(format!("{id:?} is not an image ID (sha256:<64 hex>)")));
                }
            }
            for image in &archive.images {
                for tag in &image.tags {
                    match Reference::parse(tag) {
                        Ok(parsed) if parsed.tag().is_some() && parsed.digest().is_none() => {}
                        _ => return Err(at(format!("{tag:?} is not a repository:tag"))),
                    }
                }
                for digest in &image.digests {
                    match Reference::parse(digest) {
                        Ok(parsed) if parsed.digest().is_some() => {}
                        _ => return Err(at(format!("{digest:?} is not a digest reference"))),
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds `entry`, replacing an earlier entry for the same file.
    pub fn record(&mut self, entry: ArchiveEntry) {
        self.archives.retain(|existing| existing.file != entry.file);
        self.archives.push(entry);
    }

    /// Writes `dir/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let mut text =
            serde_json::to_string_pretty(self).map_err(|error| ManifestError::Write {
                path: path.clone(),
                source: std::io::Error::other(error),
            })?;
        text.push('\n');
        write_atomically(&path, &text).map_err(|source| ManifestError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str, bytes: u64) -> ArchiveEntry {
        ArchiveEntry {
            file: file.to_string(),
            bytes,
            sha256: "00".repeat(32),
            saved_at: "2026-01-01T00:00:00Z".to_string(),
            reason: "rmi app:1".to_string(),
            engine_version: "20.10.24".to_string(),
            images: vec![SavedImage {
                id: format!("sha256:{}", "ab".repeat(32)),
                tags: vec!["app:1".to_string()],
                digests: Vec::new(),
                parent: None,
            }],
            parents_kept: Vec::new(),
        }
    }

    #[test]
    fn a_later_backup_of_the_same_file_replaces_the_entry() {
        let mut manifest = BackupManifest::new("h1");
        manifest.record(entry("a.tar", 1));
        manifest.record(entry("b.tar", 2));
        manifest.record(entry("a.tar", 3));
        let files: Vec<(&str, u64)> = manifest
            .archives
            .iter()
            .map(|archive| (archive.file.as_str(), archive.bytes))
            .collect();
        assert_eq!(files, [("b.tar", 2), ("a.tar", 3)]);
    }

    #[test]
    fn written_manifest_reads_back_the_same() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut manifest = BackupManifest::new("h1");
        manifest.record(entry(&format!("{}.tar", "a".repeat(64)), 1));
        manifest.write(directory.path()).expect("write");
        assert_eq!(
            BackupManifest::read(directory.path()).expect("read"),
            Some(manifest)
        );
    }

    #[test]
    fn no_manifest_is_none_and_a_foreign_file_is_an_error() {
        let directory = tempfile::tempdir().expect("temp dir");
        assert_eq!(BackupManifest::read(directory.path()).expect("read"), None);
        std::fs::write(directory.path().join(MANIFEST_FILE), "{\"x\": 1}").expect("write");
        assert!(matches!(
            BackupManifest::read(directory.path()),
            Err(ManifestError::Invalid { .. })
        ));
    }

    fn refused(edit: impl Fn(&mut ArchiveEntry)) -> String {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut archive = entry(&format!("{}.tar", "a".repeat(64)), 1);
        edit(&mut archive);
        let mut manifest = BackupManifest::new("h1");
        manifest.record(archive);
        manifest.write(directory.path()).expect("write");
        match BackupManifest::read(directory.path()) {
            Err(ManifestError::Invalid { cause, .. }) => cause,
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn a_hand_edited_manifest_can_name_no_other_file_or_endpoint() {
        assert!(refused(|a| a.file = "/etc/shadow".into()).contains("file name"));
        assert!(refused(|a| a.file = "../x.tar".into()).contains("file name"));
        assert!(refused(|a| a.images[0].id = "../containers/c1/stop?".into()).contains("image ID"));
        assert!(refused(|a| a.parents_kept = vec!["sha256:zz".into()]).contains("image ID"));
        assert!(
            refused(|a| a.images[0].tags = vec!["app:1?force=1".into()]).contains("repository:tag")
        );
        assert!(refused(|a| a.images[0].tags = vec!["app".into()]).contains("repository:tag"));
        assert!(refused(|a| a.sha256 = "x".into()).contains("sha256"));
    }
}
