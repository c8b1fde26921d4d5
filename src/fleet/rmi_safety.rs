//! What `rmi` does before each removal when asked to: back up the images it deletes
//! (`--backup`), then stop (and remove) the containers that use them (`--stop-containers`).
//! A step that fails means that removal is not attempted.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use crate::backup::BackupUnit;
use crate::plan::{
    ContainerPolicy, ContainerStep, PlannedRemoval, PreparedRemoval, RemovalRequest,
    deleted_images, plan_with_containers,
};
use crate::report::{BackupOutcome, ContainerOutcome};
use crate::snapshot::{Snapshot, short_id};

use super::backup::{BackupError, backup_image, planned_outcome};
use super::connect::ConnectedHost;
use super::control::RunControl;
use super::progress::HostProgress;

/// The safety steps `rmi` takes before each removal.
#[derive(Debug, Clone, Default)]
pub struct RmiSafety {
    /// `--backup DIR`.
    pub backup_dir: Option<PathBuf>,
    /// `--stop-containers` / `--remove-containers`.
    pub containers: ContainerPolicy,
    /// `--stop-timeout`: how long a container has to stop before it is killed.
    pub stop_timeout: Duration,
}

/// What the steps before one removal did.
#[derive(Debug, Default)]
pub(super) struct StepsDone {
    pub backup: Option<BackupOutcome>,
    pub containers: Vec<ContainerOutcome>,
    /// Why the removal must not be attempted.
    pub refusal: Option<String>,
    /// Ctrl-C stopped a step: the host stops here.
    pub interrupted: bool,
}

/// The plan for `images` with the container steps `safety` allows.
pub(super) fn prepare(
    snapshot: &Snapshot,
    removal: &RemovalRequest,
    images: &[String],
    safety: &RmiSafety,
) -> PreparedRemoval {
    plan_with_containers(
        snapshot,
        &RemovalRequest {
            images: images.to_vec(),
            ..removal.clone()
        },
        safety.containers,
    )
}

/// The images a planned removal deletes, in the engine's order (children first).
pub(super) fn images_deleted_by(snapshot: &Snapshot, planned: &PlannedRemoval) -> Vec<String> {
    let images = deleted_images(snapshot, planned.records.iter());
    planned
        .records
        .iter()
        .filter_map(|record| match record {
            crate::plan::DeleteRecord::Deleted(id) if images.contains(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// What the backup before `planned` saves: the images it deletes; `None` when it deletes none
/// (a removal that only untags saves nothing).
fn backup_unit(
    snapshot: &Snapshot,
    planned: &PlannedRemoval,
    gone_tags: &BTreeSet<String>,
) -> Option<BackupUnit> {
    let ids = images_deleted_by(snapshot, planned);
    (!ids.is_empty())
        .then(|| BackupUnit::new(snapshot, &ids, gone_tags, &format!("rmi {}", planned.image)))
}

/// The dry run's view of the steps: the archive that would be written, the containers that
/// would be stopped or removed.
pub(super) fn planned_steps(
    host: &str,
    snapshot: &Snapshot,
    planned: &PlannedRemoval,
    steps: &[ContainerStep],
    gone_tags: &BTreeSet<String>,
    safety: &RmiSafety,
    names: &HashMap<String, String>,
) -> StepsDone {
    let backup = safety.backup_dir.as_ref().and_then(|dir| {
        backup_unit(snapshot, planned, gone_tags).map(|unit| planned_outcome(dir, host, &unit))
    });
    StepsDone {
        backup,
        containers: steps
            .iter()
            .map(|step| container_outcome(step, names, None))
            .collect(),
        refusal: None,
        interrupted: false,
    }
}

/// Runs the steps before one removal: the backup, then the container steps, stopping at the
/// first failure.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_steps(
    host: &ConnectedHost,
    host_name: &str,
    snapshot: &Snapshot,
    planned: &PlannedRemoval,
    steps: &[ContainerStep],
    gone_tags: &BTreeSet<String>,
    safety: &RmiSafety,
    names: &HashMap<String, String>,
    progress: &HostProgress,
    control: &RunControl,
) -> StepsDone {
    let mut done = StepsDone::default();
    if let Some(dir) = &safety.backup_dir
        && let Some(unit) = backup_unit(snapshot, planned, gone_tags)
    {
        match backup_image(&host.engine, host_name, &unit, dir, progress, control).await {
            Ok(record) => {
                done.backup = Some(record.outcome());
                progress.pending(&planned.image, done.backup.as_ref(), &[]);
            }
            Err(BackupError::Interrupted) => {
                done.interrupted = true;
                return done;
            }
            Err(error) => {
                let mut outcome = planned_outcome(dir, host_name, &unit);
                outcome.error = Some(error.to_string());
                done.backup = Some(outcome);
                done.refusal = Some(format!(
                    "not removed: its backup failed: {error}\nhint: check that {} is \
                     writable and has room for the images",
                    dir.display()
                ));
                return done;
            }
        }
    }
    for step in steps {
        let name = names.get(&step.container_id).cloned().unwrap_or_default();
        let label = if name.is_empty() {
            short_id(&step.container_id).to_string()
        } else {
            name
        };
        let mut failure = None;
        if step.stop {
            progress.changing_step(&format!("stopping container {label}"));
            if let Err(error) = host
                .engine
                .stop_container(&step.container_id, safety.stop_timeout)
                .await
            {
                failure = Some(format!("stopping container {label} failed: {error}"));
            }
        }
        if failure.is_none() && step.remove {
            progress.changing_step(&format!("removing container {label}"));
            if let Err(error) = host.engine.remove_container(&step.container_id).await {
                failure = Some(format!("removing container {label} failed: {error}"));
            }
        }
        done.containers
            .push(container_outcome(step, names, failure.clone()));
        progress.pending(&planned.image, done.backup.as_ref(), &done.containers);
        if let Some(failure) = failure {
            done.refusal = Some(format!("not removed: {failure}"));
            return done;
        }
    }
    done
}

fn container_outcome(
    step: &ContainerStep,
    names: &HashMap<String, String>,
    error: Option<String>,
) -> ContainerOutcome {
    ContainerOutcome {
        id: step.container_id.clone(),
        name: names.get(&step.container_id).cloned().unwrap_or_default(),
        image_id: step.image_id.clone(),
        action: ContainerOutcome::action_word(step.stop, step.remove).to_string(),
        error,
    }
}
