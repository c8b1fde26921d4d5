//! What `rmi` does before each removal when asked to: back up the images it deletes
//! (`--backup`), then stop (and remove) the containers that use them (`--stop-containers`).
//! A step that fails means that removal is not attempted.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use crate::backup::BackupUnit;
use crate::plan::{
    ContainerPolicy, ContainerStep, PlannedRemoval, PreparedRemoval, RemovalAnswer, RemovalRequest,
    deleted_images, plan_with_containers,
};
use crate::report::ContainerOutcome;
use crate::snapshot::{Snapshot, short_id};

use super::backup::planned_outcome;
use super::host_run::{Before, HostRun};
use super::prune_backup::{BackupStep, back_up};

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
    /// The archive written and the containers stopped or removed, for the removal's result.
    pub before: Before,
    /// Why the removal must not be attempted.
    pub refusal: Option<String>,
    /// Ctrl-C stopped a step: the host stops here.
    pub interrupted: bool,
}

/// The host's safety settings and the names of its containers (for reports).
#[derive(Debug, Clone, Copy)]
pub(super) struct SafetySteps<'a> {
    pub safety: &'a RmiSafety,
    pub names: &'a HashMap<String, String>,
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

/// The images an answer deletes, in the engine's order (children first).
fn images_deleted_by(snapshot: &Snapshot, answer: &RemovalAnswer) -> Vec<String> {
    let images = deleted_images(snapshot, answer.records.iter());
    answer
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
    let ids = images_deleted_by(snapshot, &planned.expected_answer());
    (!ids.is_empty())
        .then(|| BackupUnit::new(snapshot, &ids, gone_tags, &format!("rmi {}", planned.image)))
}

/// The dry run's view of the steps: the archive that would be written, the containers that
/// would be stopped or removed.
pub(super) fn planned_steps(
    host: &str,
    snapshot: &Snapshot,
    steps: SafetySteps<'_>,
    planned: &PlannedRemoval,
    containers: &[ContainerStep],
    gone_tags: &BTreeSet<String>,
) -> Before {
    let backup = steps.safety.backup_dir.as_ref().and_then(|dir| {
        backup_unit(snapshot, planned, gone_tags).map(|unit| planned_outcome(dir, host, &unit))
    });
    Before {
        backup,
        containers: containers
            .iter()
            .map(|step| container_outcome(step, steps.names, None))
            .collect(),
    }
}

/// Runs the steps before one removal on `run`'s host: the backup, then the container steps,
/// stopping at the first failure.
pub(super) async fn run_steps(
    run: &HostRun<'_>,
    steps: SafetySteps<'_>,
    planned: &PlannedRemoval,
    containers: &[ContainerStep],
) -> StepsDone {
    let mut done = StepsDone::default();
    let (host, progress) = (run.host, run.progress);
    if let Some(dir) = &steps.safety.backup_dir
        && let Some(unit) = backup_unit(run.snapshot, planned, &run.gone_tags)
    {
        match back_up(run, &unit, dir).await {
            BackupStep::Saved(outcome) => {
                progress.pending(&planned.image, Some(&outcome), &[]);
                done.before.backup = Some(outcome);
            }
            BackupStep::Nothing => {}
            BackupStep::Interrupted => {
                done.interrupted = true;
                return done;
            }
            BackupStep::Failed { outcome, refusal } => {
                done.before.backup = Some(outcome);
                done.refusal = Some(refusal);
                return done;
            }
        }
    }
    for step in containers {
        let name = steps
            .names
            .get(&step.container_id)
            .cloned()
            .unwrap_or_default();
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
                .stop_container(&step.container_id, steps.safety.stop_timeout)
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
        let outcome = container_outcome(step, steps.names, failure.clone());
        done.before.containers.push(outcome);
        let before = &done.before;
        progress.pending(&planned.image, before.backup.as_ref(), &before.containers);
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
