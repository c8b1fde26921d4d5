//! `prune --backup DIR` and `apply --backup DIR`: the archives a prune saves before it removes
//! images. With rules, one archive per planned `DELETE`, saved right before it. The engine's own
//! prune (`POST /images/prune`) deletes many images in one call and cannot spare one, so every
//! image the plan predicts it deletes is saved first, in one archive, and when that backup fails
//! the engine prune is not called on that host at all.

use std::collections::BTreeSet;
use std::path::Path;

use crate::backup::BackupUnit;
use crate::plan::{DeleteRecord, deleted_images};
use crate::report::BackupOutcome;
use crate::snapshot::Snapshot;

use super::backup::{BackupError, backup_image, planned_outcome};
use super::host_run::HostRun;

/// What a backup before a removal came to.
#[derive(Debug)]
pub(super) enum BackupStep {
    /// Nothing to save (the removal deletes no image), or no `--backup`.
    Nothing,
    /// The archive is complete, checked and recorded: the removal may go ahead.
    Saved(BackupOutcome),
    /// The backup failed: the removal must not be attempted; `refusal` is the result's error.
    Failed {
        outcome: BackupOutcome,
        refusal: String,
    },
    /// Ctrl-C stopped it: the host stops here.
    Interrupted,
}

impl BackupStep {
    /// The report's view of the archive, if any.
    pub fn outcome(&self) -> Option<BackupOutcome> {
        match self {
            BackupStep::Saved(outcome) | BackupStep::Failed { outcome, .. } => {
                Some(outcome.clone())
            }
            BackupStep::Nothing | BackupStep::Interrupted => None,
        }
    }
}

/// The archive for the images `records` delete (children first, as the engine deletes them),
/// then the images they only untag (kept, e.g. a parent other images still need: saved too, so
/// that `restore` sets the tag again), or `None` when they change no image. `gone_tags` were
/// removed earlier in the same run.
pub(super) fn unit_for_records(
    snapshot: &Snapshot,
    records: &[DeleteRecord],
    gone_tags: &BTreeSet<String>,
    reason: &str,
) -> Option<BackupUnit> {
    let images = deleted_images(snapshot, records.iter());
    let mut ids: Vec<String> = Vec::new();
    for record in records {
        if let DeleteRecord::Deleted(id) = record
            && images.contains(id)
            && !ids.contains(id)
        {
            ids.push(id.clone());
        }
    }
    for record in records {
        if let DeleteRecord::Untagged(reference) = record
            && let Some(image) = snapshot
                .images
                .iter()
                .find(|image| image.repo_tags.contains(reference))
            && !ids.contains(&image.id)
        {
            ids.push(image.id.clone());
        }
    }
    (!ids.is_empty()).then(|| BackupUnit::new(snapshot, &ids, gone_tags, reason))
}

/// Saves `unit` into `DIR/<host>/` and says whether its removal may go ahead.
pub(super) async fn back_up(run: &HostRun<'_>, unit: &BackupUnit, dir: &Path) -> BackupStep {
    let host_name = &run.host_name();
    let engine = &run.host.engine;
    match backup_image(engine, host_name, unit, dir, run.progress, run.control).await {
        Ok(record) => BackupStep::Saved(record.outcome()),
        Err(BackupError::Interrupted) => BackupStep::Interrupted,
        Err(error) => {
            let mut outcome = planned_outcome(dir, host_name, unit);
            outcome.error = Some(error.to_string());
            BackupStep::Failed {
                outcome,
                refusal: format!(
                    "not removed: its backup failed: {error}\nhint: check that {} is writable \
                     and has room for the images",
                    dir.display()
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{SnapshotBuilder, image_id};

    fn chain() -> Snapshot {
        SnapshotBuilder::base_and_app().build()
    }

    #[test]
    fn records_that_change_no_image_need_no_archive() {
        let snapshot = chain();
        let records = [DeleteRecord::Untagged("gone:1".into())];
        assert_eq!(
            unit_for_records(&snapshot, &records, &BTreeSet::new(), "prune app:1"),
            None
        );
    }

    #[test]
    fn deleted_images_are_saved_children_first_and_layers_are_left_out() {
        let snapshot = chain();
        let records = [
            DeleteRecord::Untagged("app:1".into()),
            DeleteRecord::Deleted(image_id("app")),
            DeleteRecord::Deleted("sha256:layer-a".into()),
            DeleteRecord::Untagged("base:1".into()),
            DeleteRecord::Deleted(image_id("base")),
        ];
        let unit =
            unit_for_records(&snapshot, &records, &BTreeSet::new(), "prune").expect("a unit");
        let ids: Vec<&str> = unit.images.iter().map(|image| image.id.as_str()).collect();
        assert_eq!(ids, [image_id("app").as_str(), image_id("base").as_str()]);
        assert!(unit.parents_kept.is_empty());
        assert_eq!(unit.names, ["app:1", "base:1"]);
    }

    #[test]
    fn an_image_only_untagged_is_saved_so_its_tag_comes_back() {
        let snapshot = chain();
        let records = [
            DeleteRecord::Untagged("app:1".into()),
            DeleteRecord::Deleted(image_id("app")),
            DeleteRecord::Untagged("base:1".into()),
        ];
        let unit =
            unit_for_records(&snapshot, &records, &BTreeSet::new(), "prune").expect("a unit");
        let ids: Vec<&str> = unit.images.iter().map(|image| image.id.as_str()).collect();
        assert_eq!(ids, [image_id("app").as_str(), image_id("base").as_str()]);
        assert_eq!(unit.images[1].tags, ["base:1"]);
    }

    #[test]
    fn a_child_saved_alone_keeps_its_parent_link() {
        let snapshot = chain();
        let records = [
            DeleteRecord::Untagged("app:1".into()),
            DeleteRecord::Deleted(image_id("app")),
        ];
        let unit =
            unit_for_records(&snapshot, &records, &BTreeSet::new(), "prune app:1").expect("a unit");
        assert_eq!(unit.parents_kept, [image_id("base")]);
    }
}
