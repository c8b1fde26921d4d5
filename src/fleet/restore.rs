//! `restore` on one host: every archive of its backup directory checked against the manifest
//! (size, SHA-256), loaded (`POST /images/load`) unless everything in it is already there, its
//! tags set again, and the result checked on the host.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::backup::{ArchiveEntry, BackupManifest};
use crate::engine::{Engine, EngineError, TransferWatch};
use crate::report::{
    HostFailure, HostReport, HostStatus, RestoreStatus, RestoredArchive, Step, format_bytes,
};
use crate::snapshot::short_id;

use super::HostTarget;
use super::backup::host_backup_dir;
use super::connect::{ConnectOptions, on_connected_host};
use super::control::RunControl;
use super::progress::HostProgress;

/// What the user asked `restore` to do.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    /// The backup directory (`rmi --backup DIR`).
    pub dir: PathBuf,
    /// Load an archive even when one of its tags now names another image (the tag moves back).
    pub force: bool,
}

/// Restores the host's backups and reports each archive.
pub async fn restore_on_host(
    target: HostTarget,
    request: &RestoreRequest,
    options: &ConnectOptions,
    progress: HostProgress,
    control: RunControl,
) -> HostReport {
    let mut report = HostReport::new(&target.name, &target.address);
    let host_dir = host_backup_dir(&request.dir, &target.name);
    let manifest = match BackupManifest::read(&host_dir) {
        Ok(Some(manifest)) if manifest.host != target.name => {
            report.fail(
                Step::Restore,
                format!(
                    "{} holds the backup of host {:?}, not of {:?}: nothing was loaded\nhint: \
                     restore it onto its own host (-l {})",
                    host_dir.display(),
                    manifest.host,
                    target.name,
                    manifest.host
                ),
            );
            return report;
        }
        Ok(Some(manifest)) => manifest,
        Ok(None) => {
            report.fail(
                Step::Restore,
                format!("no backup of this host in {}", host_dir.display()),
            );
            return report;
        }
        Err(error) => {
            report.fail(Step::Restore, error.to_string());
            return report;
        }
    };
    on_connected_host(&target, options, &progress, report, async |host, report| {
        restore_all(
            &host.engine,
            request,
            &host_dir,
            &manifest,
            report,
            &progress,
            &control,
        )
        .await?;
        if report.status == HostStatus::Ok
            && report.restored.iter().any(|archive| {
                matches!(
                    archive.status,
                    RestoreStatus::Failed | RestoreStatus::Conflict
                )
            })
        {
            report.status = HostStatus::Partial;
        }
        Ok(())
    })
    .await
}

/// Every archive of the manifest in order, until an interrupt.
async fn restore_all(
    engine: &Engine,
    request: &RestoreRequest,
    host_dir: &Path,
    manifest: &BackupManifest,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) -> Result<(), HostFailure> {
    for (index, archive) in manifest.archives.iter().enumerate() {
        if control.interrupted() {
            let left: Vec<&str> = manifest.archives[index..]
                .iter()
                .map(|archive| archive.file.as_str())
                .collect();
            return Err(HostFailure {
                step: Step::Interrupt,
                message: format!("interrupted; not restored: {}", left.join(" ")),
            });
        }
        let restored =
            restore_archive(engine, host_dir, archive, request.force, progress, control).await;
        for image in &archive.images {
            if !image.digests.is_empty() && restored.status == RestoreStatus::Restored {
                report.warnings.push(format!(
                    "{}: digest references are not restored by a load ({}); pull by digest to \
                     get them back",
                    short_id(&image.id),
                    image.digests.join(", ")
                ));
            }
        }
        report.restored.push(restored);
        progress.publish(report);
    }
    Ok(())
}

/// One archive: check the file, look at the host, load, tag, check again.
async fn restore_archive(
    engine: &Engine,
    host_dir: &Path,
    archive: &ArchiveEntry,
    force: bool,
    progress: &HostProgress,
    control: &RunControl,
) -> RestoredArchive {
    let path = host_dir.join(&archive.file);
    let wanted_tags: Vec<(&str, &str)> = archive
        .images
        .iter()
        .flat_map(|image| {
            image
                .tags
                .iter()
                .map(move |tag| (tag.as_str(), image.id.as_str()))
        })
        .collect();
    let mut result = RestoredArchive {
        file: path.clone(),
        status: RestoreStatus::Failed,
        images: archive
            .images
            .iter()
            .map(|image| image.id.clone())
            .collect(),
        tags: Vec::new(),
        loaded_bytes: 0,
        error: None,
    };
    let job = ArchiveRestore {
        engine,
        archive,
        path: &path,
        wanted_tags: &wanted_tags,
        progress,
        control,
    };
    match job.run(force, &mut result.loaded_bytes).await {
        Ok(status) => {
            result.status = status;
            result.tags = wanted_tags.iter().map(|(tag, _)| tag.to_string()).collect();
        }
        Err((status, error)) => {
            result.status = status;
            result.error = Some(error);
        }
    }
    result
}

/// The restore of one archive on one host.
struct ArchiveRestore<'a> {
    engine: &'a Engine,
    archive: &'a ArchiveEntry,
    path: &'a Path,
    /// Every tag of the archive's images, with the image it must name.
    wanted_tags: &'a [(&'a str, &'a str)],
    progress: &'a HostProgress,
    control: &'a RunControl,
}

/// A restore that did not complete: `Failed` or `Conflict`, and why.
type NotRestored = (RestoreStatus, String);

fn failed(error: String) -> NotRestored {
    (RestoreStatus::Failed, error)
}

impl ArchiveRestore<'_> {
    /// `Restored` or `AlreadyPresent`; `loaded_bytes` is set once the engine loaded the archive.
    async fn run(&self, force: bool, loaded_bytes: &mut u64) -> Result<RestoreStatus, NotRestored> {
        let (engine, archive) = (self.engine, self.archive);
        self.progress.step(&format!("checking {}", archive.file));
        verify_file(self.path, archive).await.map_err(failed)?;
        let state = host_state(engine, archive, self.wanted_tags)
            .await
            .map_err(|error| failed(error.to_string()))?;
        if !state.conflicts.is_empty() && !force {
            return Err((
                RestoreStatus::Conflict,
                format!(
                    "{}; nothing loaded (--force loads it and moves the tags back)",
                    state.conflicts.join("; ")
                ),
            ));
        }
        if state.missing_images == 0 && state.wrong_tags.is_empty() {
            return Ok(RestoreStatus::AlreadyPresent);
        }

        self.progress
            .changing_step(&format!("restoring {}", archive.file));
        if state.missing_images > 0 {
            let watch = LoadWatch {
                progress: self.progress,
                control: self.control,
                file: &archive.file,
                shown: Mutex::new(Instant::now()),
            };
            if let Err(error) = engine.load_archive(self.path, &watch).await {
                return Err(failed(format!("the engine did not load it: {error}")));
            }
            *loaded_bytes = archive.bytes;
        }
        self.set_tags().await.map_err(failed)?;
        let after = host_state(engine, archive, self.wanted_tags)
            .await
            .map_err(|error| failed(error.to_string()))?;
        if after.missing_images > 0 || !after.wrong_tags.is_empty() {
            return Err(failed(format!(
                "after loading, {} image(s) are missing and these tags are wrong: {}",
                after.missing_images,
                after.wrong_tags.join(", ")
            )));
        }
        Ok(RestoreStatus::Restored)
    }

    /// Sets every tag that does not name its image yet.
    async fn set_tags(&self) -> Result<(), String> {
        for (tag, id) in self.wanted_tags {
            match self.engine.image_id_of(tag).await {
                Ok(Some(current)) if current == *id => {}
                Ok(_) => {
                    if let Err(error) = self.engine.tag_image(id, tag).await {
                        return Err(format!("cannot tag {} as {tag}: {error}", short_id(id)));
                    }
                }
                Err(error) => return Err(error.to_string()),
            }
        }
        Ok(())
    }
}

/// How the host stands against an archive's images and tags.
struct HostState {
    missing_images: usize,
    /// Tags absent or naming another image.
    wrong_tags: Vec<String>,
    /// Tags naming another image, described.
    conflicts: Vec<String>,
}

async fn host_state(
    engine: &Engine,
    archive: &ArchiveEntry,
    wanted_tags: &[(&str, &str)],
) -> Result<HostState, EngineError> {
    let mut state = HostState {
        missing_images: 0,
        wrong_tags: Vec::new(),
        conflicts: Vec::new(),
    };
    for image in &archive.images {
        if engine.image_id_of(&image.id).await?.is_none() {
            state.missing_images += 1;
        }
    }
    for (tag, id) in wanted_tags {
        match engine.image_id_of(tag).await? {
            Some(current) if current == *id => {}
            Some(other) => {
                state.wrong_tags.push(tag.to_string());
                state.conflicts.push(format!(
                    "{tag} now names image {} on the host, not {}",
                    short_id(&other),
                    short_id(id)
                ));
            }
            None => state.wrong_tags.push(tag.to_string()),
        }
    }
    Ok(state)
}

/// The file must be exactly what was saved: same length, same SHA-256.
async fn verify_file(path: &Path, archive: &ArchiveEntry) -> Result<(), String> {
    let owned = path.to_path_buf();
    let digest = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, String)> {
        use std::io::Read;
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut length = 0u64;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            length += read as u64;
            hasher.update(&buffer[..read]);
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Ok((length, hex))
    })
    .await
    .map_err(|error| format!("cannot check {}: {error}", path.display()))?;
    let (length, sha256) =
        digest.map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if length != archive.bytes {
        return Err(format!(
            "{} holds {length} bytes; the manifest recorded {}",
            path.display(),
            archive.bytes
        ));
    }
    if sha256 != archive.sha256 {
        return Err(format!(
            "{} changed since it was saved (SHA-256 {sha256}, recorded {})",
            path.display(),
            archive.sha256
        ));
    }
    Ok(())
}

/// Shows the bytes sent on the host's progress line; cancels on Ctrl-C.
struct LoadWatch<'a> {
    progress: &'a HostProgress,
    control: &'a RunControl,
    file: &'a str,
    shown: Mutex<Instant>,
}

impl TransferWatch for LoadWatch<'_> {
    fn bytes(&self, total: u64) {
        if let Ok(mut shown) = self.shown.lock()
            && shown.elapsed() >= Duration::from_millis(150)
        {
            *shown = Instant::now();
            self.progress.changing_step(&format!(
                "restoring {}: {} sent",
                self.file,
                format_bytes(total)
            ));
        }
    }

    fn cancelled(&self) -> bool {
        self.control.interrupted()
    }
}
