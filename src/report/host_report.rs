//! The outcome of one host's run, as a value: what happened, never what a progress bar showed.

use std::time::Duration;

use serde::Serialize;

use super::backup_outcome::BackupOutcome;
use super::build_cache_outcome::BuildCacheOutcome;
use super::container_outcome::ContainerOutcome;
use super::restore_outcome::RestoredArchive;
use super::round_trips::RoundTripCount;
use crate::data::EngineInfo;
use crate::data::FilesystemSpace;
use crate::plan::DeleteRecord;
use crate::policy::{Decision, PruneMode};

/// How a host's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    /// Everything asked was done (with `-f`, images that were already absent count as done).
    Ok,
    /// Reached and worked on, but the engine refused some removal.
    Partial,
    /// Reached, but the run broke at a step.
    Failed,
    /// Not reached: TCP, host key, authentication, or the Docker socket.
    Unreachable,
    /// Stopped early by Ctrl-C or SIGTERM.
    Interrupted,
    /// Never started: the run stopped starting hosts (interrupt, canary, failure budget).
    Skipped,
}

/// The step a host's run was at when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Connect,
    HostKey,
    Auth,
    Docker,
    Snapshot,
    Remove,
    /// The host's whole run exceeded `--timeout`.
    Timeout,
    /// Ctrl-C or SIGTERM.
    Interrupt,
    /// Loading saved archives back (`fleetrmi restore`).
    Restore,
    /// Pruning the build cache (`fleetrmi builder prune`).
    BuildCache,
    /// Listing images (`fleetrmi images`).
    Images,
    /// Reading disk usage (`fleetrmi df`).
    DiskUsage,
    /// The engine's own prune (`fleetrmi prune` without rules).
    Prune,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::HostKey => "host-key",
            Step::Auth => "auth",
            Step::Docker => "docker",
            Step::Snapshot => "snapshot",
            Step::Remove => "remove",
            Step::Timeout => "timeout",
            Step::Interrupt => "interrupt",
            Step::Restore => "restore",
            Step::BuildCache => "build-cache",
            Step::Images => "images",
            Step::DiskUsage => "disk-usage",
            Step::Prune => "prune",
        }
    }

    /// Steps before the host is usable: failing one means the host is unreachable.
    pub fn is_reachability(self) -> bool {
        matches!(
            self,
            Step::Connect | Step::HostKey | Step::Auth | Step::Docker
        )
    }
}

/// Why a host's run stopped early.
#[derive(Debug, Clone, Serialize)]
pub struct HostFailure {
    pub step: Step,
    pub message: String,
}

impl HostFailure {
    /// `error: <host>: <step>: <cause>`, the line every command prints for a failed host.
    pub fn error_line(&self, host: &str) -> String {
        format!("error: {host}: {}: {}", self.step.as_str(), self.message)
    }
}

/// The engine's answer to one image argument.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageResult {
    /// The argument as the user gave it.
    pub image: String,
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
    /// How many of `deleted` are image records (the others are layers).
    pub deleted_images: usize,
    /// With `--ignore-missing`: the image was not there, so there was nothing to do.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_absent: bool,
    /// The engine's error message, as `docker rmi` would print it after "Error response from daemon: ".
    pub error: Option<String>,
    /// The engine's HTTP status for the error (404 no such image, 409 conflict, 400 bad name).
    pub error_status: Option<u16>,
    /// Σ DiffSize of the layers the engine reported deleted for this argument
    /// (in a dry run: of the layers the plan says it would delete).
    pub reclaimed_bytes: u64,
    /// `--backup`: the archive of the images this removal deletes, saved before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupOutcome>,
    /// `--stop-containers`: containers stopped (or removed) before this removal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerOutcome>,
    /// In a dry run on an engine whose rules fleetrmi does not model exactly: why this
    /// prediction may differ from what the engine will do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_exact: Option<String>,
}

impl ImageResult {
    /// The result with the records and error of an engine answer (real or planned).
    pub fn from_records(
        image: &str,
        records: &[DeleteRecord],
        error: Option<(u16, String)>,
        snapshot: &crate::snapshot::Snapshot,
    ) -> ImageResult {
        let mut result = ImageResult {
            image: image.to_string(),
            ..ImageResult::default()
        };
        for record in records {
            match record {
                DeleteRecord::Untagged(reference) => result.untagged.push(reference.clone()),
                DeleteRecord::Deleted(id) => {
                    // A layer the pre-run read has no size for (one the plan did not predict,
                    // which is warned about) claims no bytes and is no image either.
                    if let Some(size) = snapshot.layer_sizes.get(id) {
                        result.reclaimed_bytes += size;
                    } else if snapshot.images.iter().any(|image| &image.id == id) {
                        result.deleted_images += 1;
                    }
                    result.deleted.push(id.clone());
                }
            }
        }
        if let Some((status, message)) = error {
            result.error_status = Some(status);
            result.error = Some(message);
        }
        result
    }

    /// With `--ignore-missing`: "no such image" becomes "already absent", not an error.
    pub fn mark_absent_if_missing(&mut self) {
        if self.error_status == Some(404) {
            self.error = None;
            self.error_status = None;
            self.already_absent = true;
        }
    }

    /// The engine entries in `docker rmi`'s order: untags, then deletions.
    pub fn records(&self) -> Vec<DeleteRecord> {
        self.untagged
            .iter()
            .cloned()
            .map(DeleteRecord::Untagged)
            .chain(self.deleted.iter().cloned().map(DeleteRecord::Deleted))
            .collect()
    }
}

impl ImageResult {
    /// An error that makes `docker rmi` exit non-zero: with `-f`, "no such image" does not.
    /// A removal not attempted because its backup or its containers failed is an error too.
    pub fn is_fatal_error(&self, force: bool) -> bool {
        match self.error_status {
            None => self.error.is_some(),
            Some(404) if force => false,
            Some(_) => true,
        }
    }
}

/// How a host was pruned: by the engine or by rules, under which policy, and the bytes of image
/// layers on disk before and (as planned) after.
#[derive(Debug, Clone, Serialize)]
pub struct PruneSummary {
    pub mode: PruneMode,
    /// The policy of the policy file the host took (`apply` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub usage_before_bytes: u64,
    pub predicted_usage_after_bytes: u64,
    /// Images the plan removes (pruned parents included) and keeps.
    pub remove: usize,
    pub keep: usize,
}

/// Everything the run did and learnt on one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    pub address: String,
    pub status: HostStatus,
    /// Set when the run stopped at a step (status failed or unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<HostFailure>,
    /// Why the host was never started (status skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineInfo>,
    pub results: Vec<ImageResult>,
    /// Σ DiffSize of every layer the engine reported deleted: what the disk got back
    /// (0 in a dry run, where nothing is done).
    pub reclaimed_bytes: u64,
    /// Σ DiffSize of the layers the plan says will be freed on disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_bytes: Option<u64>,
    /// Free space of the filesystem holding the Docker root, before and after the removals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_before: Option<FilesystemSpace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_after: Option<FilesystemSpace>,
    pub warnings: Vec<String>,
    /// `prune` and `apply`: how the host was pruned and the image usage around it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneSummary>,
    /// `prune` and `apply`: the plan's decision on every image, with its reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
    #[serde(serialize_with = "as_millis", rename = "duration_ms")]
    pub duration: Duration,
    /// Docker API calls made on this host (ping and negotiation included).
    pub api_calls: u64,
    /// Sequential network round trips from the TCP connect on, by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_trips: Option<RoundTripCount>,
    /// `restore`: every archive of the host's backup, and what came back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<RestoredArchive>,
    /// `builder prune`: what the engine pruned, or why it has no build cache API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_cache: Option<BuildCacheOutcome>,
}

impl HostReport {
    pub fn new(host: &str, address: &str) -> HostReport {
        HostReport {
            host: host.to_string(),
            address: address.to_string(),
            status: HostStatus::Ok,
            failure: None,
            not_started: None,
            engine: None,
            results: Vec::new(),
            reclaimed_bytes: 0,
            predicted_bytes: None,
            space_before: None,
            space_after: None,
            warnings: Vec::new(),
            prune: None,
            decisions: Vec::new(),
            duration: Duration::ZERO,
            api_calls: 0,
            round_trips: None,
            restored: Vec::new(),
            build_cache: None,
        }
    }

    /// Records that the run stopped at `step`, and sets the status that follows from it.
    pub fn fail(&mut self, step: Step, message: String) {
        self.status = if step.is_reachability() {
            HostStatus::Unreachable
        } else if step == Step::Interrupt {
            HostStatus::Interrupted
        } else {
            HostStatus::Failed
        };
        self.failure = Some(HostFailure { step, message });
    }

    /// Sets `Partial` when some result carries an error `docker rmi` would exit non-zero for.
    pub fn settle_status(&mut self, force: bool) {
        if self.status == HostStatus::Ok && self.results.iter().any(|r| r.is_fatal_error(force)) {
            self.status = HostStatus::Partial;
        }
    }

    /// A host the run never started, and why.
    pub fn skipped(host: &str, address: &str, reason: String) -> HostReport {
        let mut report = HostReport::new(host, address);
        report.status = HostStatus::Skipped;
        report.not_started = Some(reason);
        report
    }

    pub fn untagged_count(&self) -> usize {
        self.results
            .iter()
            .map(|result| result.untagged.len())
            .sum()
    }

    pub fn deleted_count(&self) -> usize {
        self.results.iter().map(|result| result.deleted.len()).sum()
    }

    pub fn error_count(&self) -> usize {
        self.results
            .iter()
            .filter(|result| result.error.is_some())
            .count()
            + usize::from(self.failure.is_some())
    }
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{ImageRecord, Snapshot};

    #[test]
    fn only_known_layers_claim_bytes_and_only_known_images_count_as_images() {
        let image = format!("sha256:{}", "a".repeat(64));
        let layer = format!("sha256:{}", "b".repeat(64));
        let unknown = format!("sha256:{}", "c".repeat(64));
        let mut snapshot = Snapshot::default();
        snapshot.images.push(ImageRecord {
            id: image.clone(),
            ..ImageRecord::default()
        });
        snapshot.layer_sizes.insert(layer.clone(), 700);
        let records = [
            DeleteRecord::Untagged("x:1".into()),
            DeleteRecord::Deleted(image),
            DeleteRecord::Deleted(layer),
            DeleteRecord::Deleted(unknown),
        ];
        let result = ImageResult::from_records("x:1", &records, None, &snapshot);
        assert_eq!(result.reclaimed_bytes, 700);
        assert_eq!(result.deleted_images, 1);
        assert_eq!(result.deleted.len(), 3);
        assert_eq!(result.untagged, ["x:1"]);
    }
}
