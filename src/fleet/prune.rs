//! `prune` and `apply` on one host: snapshot, policy plan, then (unless a dry run) either the
//! engine's own prune (no rules) or the plan's removals one by one, children first (rules); the
//! engine's answers are checked against the plan and every difference is a warning. With
//! `--backup DIR` the images are saved first (see `prune_backup`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::engine::{EngineKind, PruneAnswer};
use crate::plan::{DeleteRecord, Dispatch, FreedByImages, RemovalAnswer, deleted_images};
use crate::policy::{Action, PolicyPlan, PolicyRequest, PruneMode, plan_policy};
use crate::report::{BackupOutcome, HostFailure, HostReport, ImageResult, PruneSummary, Step};
use crate::snapshot::{Snapshot, short_id};

use super::HostTarget;
use super::backup::planned_outcome;
use super::connect::{ConnectOptions, ConnectedHost, on_connected_host};
use super::content_blobs::add_content_blobs;
use super::control::RunControl;
use super::difference::describe_set_difference;
use super::free_space::{FreeSpace, read_space, read_space_after};
use super::host_run::{
    Before, HostRun, LOST_ANSWER, Queue, count_planned_bytes, interrupted, not_attempted,
    prediction_missed, result_of,
};
use super::progress::HostProgress;
use super::prune_backup::{BackupStep, back_up, unit_for_records};
use super::send_removal::Removal;

/// The name of the one result an engine prune gives (its records are the engine's whole answer).
pub const PRUNE_RESULT: &str = "(prune)";

/// What to do on one host.
#[derive(Debug, Clone)]
pub struct PruneJob {
    pub policy: PolicyRequest,
    /// The policy file's policy this host takes (`apply`), for the report.
    pub policy_name: Option<String>,
    /// The engine kinds this job is for (`apply`'s `engines:`); empty for every kind.
    pub engines: Vec<EngineKind>,
    /// Plan only: connect, snapshot and predict, change nothing.
    pub dry_run: bool,
    /// `--backup DIR`: save the images before they are removed.
    pub backup_dir: Option<PathBuf>,
}

impl PruneJob {
    /// What removes the images, as the manifest records it.
    fn reason(&self, name: Option<&str>) -> String {
        let command = match &self.policy_name {
            Some(policy) => format!("apply {policy}"),
            None => "prune".to_owned(),
        };
        match name {
            Some(name) => format!("{command}: {name}"),
            None => command,
        }
    }
}

/// Runs a prune or policy (or its dry run) on one host: the first of `jobs` for the engine the
/// host runs; a host whose engine no job is for is left alone, with a warning saying so.
pub async fn prune_on_host(
    target: HostTarget,
    jobs: &[PruneJob],
    options: &ConnectOptions,
    progress: HostProgress,
    control: RunControl,
) -> HostReport {
    let report = HostReport::new(&target.name, &target.address);
    on_connected_host(&target, options, &progress, report, async |host, report| {
        let kind = host.engine.info.kind;
        let job = jobs
            .iter()
            .find(|job| job.engines.is_empty() || job.engines.contains(&kind));
        let Some(job) = job else {
            report.warnings.push(format!(
                "left alone: no policy for this host's groups is for its engine ({})",
                kind.name()
            ));
            return Ok(());
        };
        prune_connected(host, job, report, &progress, &control).await?;
        report.settle_status(job.policy.force);
        Ok(())
    })
    .await
}

/// How a host's removals ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removals {
    /// Every planned removal was sent.
    AllSent,
    /// The host stopped early with what it recorded (a failed backup, a difference on its last
    /// removal): its bytes are not held against the whole plan's.
    Stopped,
}

/// Reads and plans, then shows the plan (dry run) or prunes and reads the space after.
async fn prune_connected(
    host: &ConnectedHost,
    job: &PruneJob,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) -> Result<(), HostFailure> {
    progress.step("snapshot");
    let mut snapshot = host.engine.snapshot().await.map_err(|error| HostFailure {
        step: Step::Snapshot,
        message: error.to_string(),
    })?;
    let mut plan = plan_policy(&snapshot, &job.policy);
    // Bytes on containerd's image store count the content blobs too: read only when the plan
    // deletes an image, then planned again with them.
    let mut free_space = FreeSpace::new(&host.engine.info.docker_root_dir);
    let records = plan.records();
    if add_content_blobs(
        host,
        &mut free_space,
        &mut snapshot,
        records.iter(),
        &mut report.warnings,
    )
    .await
    {
        plan = plan_policy(&snapshot, &job.policy);
    }
    let caveat = match plan.mode {
        PruneMode::Engine => host.engine.info.kind.engine_prune_caveat(),
        PruneMode::Rules => None,
    };
    report.predicted_bytes = Some(plan.predicted_bytes);
    report.prune = Some(summary(&plan, job));
    report.decisions = plan.decisions.clone();
    if job.dry_run {
        report.results = planned_results(&plan, &snapshot, job, &report.host);
        count_planned_bytes(&snapshot, &mut report.results);
        for result in &mut report.results {
            result.not_exact = caveat.map(str::to_string);
            progress.result(result);
        }
        free_space.close().await;
        return Ok(());
    }
    if control.interrupted() {
        free_space.close().await;
        return Err(interrupted("interrupted before any removal", &[]));
    }

    let limit = host.engine.api_timeout();
    report.space_before = read_space(host, &mut free_space, limit, &mut report.warnings).await;
    progress.publish(report);
    let names: Vec<String> = plan.requests.iter().map(|r| r.name.clone()).collect();
    let queue = Queue {
        names: &names,
        numbered: true,
        ignore_missing: false,
    };
    let mut run = HostRun::new(host, &snapshot, report, progress, control, queue);
    let removed = match plan.mode {
        PruneMode::Engine => engine_prune(&mut run, job, &plan).await,
        PruneMode::Rules => rule_removals(&mut run, job, &plan).await,
    };
    if matches!(removed, Ok(Removals::AllSent))
        && caveat.is_none()
        && let Some(warning) = prediction_missed(plan.predicted_bytes, report.reclaimed_bytes)
    {
        report.warnings.push(warning);
    }
    progress.step("free space");
    read_space_after(host, free_space, report, control, removed.is_err()).await;
    removed.map(|_| ())
}

/// No rules: `POST /images/prune`, exactly `docker image prune`. With `--backup`, every image
/// the plan predicts deleted is saved first, in one archive; if that fails the engine is not
/// asked to prune.
async fn engine_prune(
    run: &mut HostRun<'_>,
    job: &PruneJob,
    plan: &PolicyPlan,
) -> Result<Removals, HostFailure> {
    let backup = match back_up_prune(run, job, plan).await {
        BackupStep::Interrupted => {
            return Err(interrupted(
                "interrupted while backing up; the engine prune was not called",
                &[],
            ));
        }
        BackupStep::Failed { outcome, refusal } => {
            let refusal = refusal.replacen(
                "not removed: its backup failed",
                "not pruned: the backup of the images it would remove failed",
                1,
            );
            let before = Before {
                backup: Some(outcome),
                ..Before::default()
            };
            run.record_unsent(PRUNE_RESULT, refusal, before);
            return Ok(Removals::Stopped);
        }
        step => step.outcome(),
    };
    if let Some(backup) = &backup {
        run.progress.pending(PRUNE_RESULT, Some(backup), &[]);
    }
    if run.control.interrupted() {
        return Err(interrupted("interrupted before the engine prune", &[]));
    }
    run.progress.changing_step("pruning");
    let filters = job.policy.filters.to_engine(job.policy.all);
    let answer = match run.host.engine.prune_images(&filters).await {
        Ok(answer) => answer,
        Err(error) => {
            run.progress.settle_pending(run.report, LOST_ANSWER);
            return Err(HostFailure {
                step: Step::Prune,
                message: format!(
                    "{error}; whether images were removed is unknown: rerun with --dry-run to see"
                ),
            });
        }
    };
    check_prune_answer(run, job, plan, &answer, backup);
    Ok(Removals::AllSent)
}

/// With `--backup`, the one archive of every image the plan predicts the prune deletes.
async fn back_up_prune(run: &HostRun<'_>, job: &PruneJob, plan: &PolicyPlan) -> BackupStep {
    let Some(dir) = &job.backup_dir else {
        return BackupStep::Nothing;
    };
    let no_tags_gone = BTreeSet::new();
    match unit_for_records(
        run.snapshot,
        &plan.records(),
        &no_tags_gone,
        &job.reason(None),
    ) {
        Some(unit) => back_up(run, &unit, dir).await,
        None => BackupStep::Nothing,
    }
}

/// Records the engine prune's answer with its bytes. The engine picks candidates in random
/// order, so its records are compared with the plan's as a set; images it deleted unsaved (with
/// `--backup`) and a `SpaceReclaimed` other than the layers' sizes are warnings.
fn check_prune_answer(
    run: &mut HostRun<'_>,
    job: &PruneJob,
    plan: &PolicyPlan,
    answer: &PruneAnswer,
    backup: Option<BackupOutcome>,
) {
    let kind = run.host.engine.info.kind;
    let snapshot = run.snapshot;
    let mut result = ImageResult::from_records(PRUNE_RESULT, &answer.records, None, snapshot);
    if !kind.deletes_answer_with_layers() {
        result.reclaimed_bytes = FreedByImages::new(snapshot).count(&answer.records);
    }
    let saved: BTreeSet<&str> = backup
        .iter()
        .flat_map(|backup| backup.images.iter().map(String::as_str))
        .collect();
    let warnings = &mut run.report.warnings;
    if job.backup_dir.is_some() {
        let deleted = deleted_images(snapshot, answer.records.iter());
        let unsaved: Vec<&str> = deleted
            .iter()
            .filter(|id| !saved.contains(id.as_str()))
            .map(|id| short_id(id))
            .collect();
        if !unsaved.is_empty() {
            warnings.push(format!(
                "the engine pruned images the plan did not predict, which were not backed up: {}",
                unsaved.join(", ")
            ));
        }
    }
    if kind.engine_prune_caveat().is_none()
        && let Some(difference) = describe_set_difference(&plan.records(), &answer.records)
    {
        warnings.push(difference);
    }
    // Only the classic store's figure is checked against the layers: the containerd store's
    // counts content too, and Podman's was seen far above what the disk got back.
    if kind.deletes_answer_with_layers() && answer.space_reclaimed != result.reclaimed_bytes {
        warnings.push(format!(
            "the engine reports {} bytes reclaimed, the layers it deleted add up to {}",
            answer.space_reclaimed, result.reclaimed_bytes
        ));
    }
    result.backup = backup;
    run.progress.record(run.report, result);
}

/// Rules: the plan's `DELETE /images/{name}` requests in order, each checked against the plan.
/// With `--backup`, each request's images are saved right before it; after a failed backup the
/// host stops (later requests were planned on that removal).
async fn rule_removals(
    run: &mut HostRun<'_>,
    job: &PruneJob,
    plan: &PolicyPlan,
) -> Result<Removals, HostFailure> {
    for (index, planned) in plan.requests.iter().enumerate() {
        run.next(index)?;
        let expected = planned.expected_answer();
        let backup = match back_up_request(run, job, &planned.name, &expected).await {
            BackupStep::Interrupted => {
                let what = format!("interrupted while backing up {}", planned.name);
                return Err(interrupted(&what, run.left(index)));
            }
            BackupStep::Failed { outcome, refusal } => {
                let before = Before {
                    backup: Some(outcome),
                    ..Before::default()
                };
                run.record_unsent(&planned.name, refusal, before);
                let later = run.later(index);
                if !later.is_empty() {
                    run.report.warnings.push(format!(
                        "removals stopped after a failed backup{}",
                        not_attempted(later)
                    ));
                }
                return Ok(Removals::Stopped);
            }
            step => step.outcome(),
        };
        let removal = Removal {
            image: &planned.name,
            dispatch: &Dispatch::AsGiven,
            force: planned.force,
            no_prune: planned.no_prune,
            expected: Some(expected),
        };
        let before = Before {
            backup,
            ..Before::default()
        };
        if run.remove_checked(index, removal, before).await?.is_some() {
            return stop_after_difference(&planned.name, run.later(index));
        }
    }
    Ok(Removals::AllSent)
}

/// With `--backup`, the archive of what one planned request changes (none for a request the
/// plan expects refused).
async fn back_up_request(
    run: &HostRun<'_>,
    job: &PruneJob,
    name: &str,
    expected: &RemovalAnswer,
) -> BackupStep {
    let Some(dir) = job.backup_dir.as_ref().filter(|_| expected.error.is_none()) else {
        return BackupStep::Nothing;
    };
    let reason = job.reason(Some(name));
    match unit_for_records(run.snapshot, &expected.records, &run.gone_tags, &reason) {
        Some(unit) => back_up(run, &unit, dir).await,
        None => BackupStep::Nothing,
    }
}

/// The engine did other than planned for `name` (the warning is in the report): the host stops
/// there. With removals left, the host fails at the remove step naming them, so a scheduled run
/// sees the images left behind.
fn stop_after_difference(name: &str, later: &[String]) -> Result<Removals, HostFailure> {
    if later.is_empty() {
        return Ok(Removals::Stopped);
    }
    Err(HostFailure {
        step: Step::Remove,
        message: format!(
            "the engine did not do what the plan predicted for {name}, and the later removals \
             were planned on it{} (rerun with --dry-run to plan again)",
            not_attempted(later)
        ),
    })
}

/// The dry run's results: the engine prune as one result with every record, or one result per
/// planned request; with `--backup`, the archives that would be written.
fn planned_results(
    plan: &PolicyPlan,
    snapshot: &Snapshot,
    job: &PruneJob,
    host: &str,
) -> Vec<ImageResult> {
    let planned_backup = |records: &[DeleteRecord], gone: &BTreeSet<String>, name| {
        let dir = job.backup_dir.as_ref()?;
        let unit = unit_for_records(snapshot, records, gone, &job.reason(name))?;
        Some(planned_outcome(dir, host, &unit))
    };
    match plan.mode {
        PruneMode::Engine => {
            let records = plan.records();
            let mut result = ImageResult::from_records(PRUNE_RESULT, &records, None, snapshot);
            result.backup = planned_backup(&records, &BTreeSet::new(), None);
            vec![result]
        }
        PruneMode::Rules => {
            let mut gone_tags: BTreeSet<String> = BTreeSet::new();
            plan.requests
                .iter()
                .map(|planned| {
                    let answer = planned.expected_answer();
                    let mut result = result_of(&planned.name, &answer, snapshot);
                    if answer.error.is_none() {
                        result.backup =
                            planned_backup(&answer.records, &gone_tags, Some(&planned.name));
                    }
                    gone_tags.extend(result.untagged.iter().cloned());
                    result
                })
                .collect()
        }
    }
}

fn summary(plan: &PolicyPlan, job: &PruneJob) -> PruneSummary {
    let remove = plan
        .decisions
        .iter()
        .filter(|decision| decision.action == Action::Remove)
        .count();
    PruneSummary {
        mode: plan.mode,
        policy: job.policy_name.clone(),
        usage_before_bytes: plan.usage_before,
        predicted_usage_after_bytes: plan.usage_after,
        remove,
        keep: plan.decisions.len() - remove,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_with_removals_left_fails_the_host_naming_them() {
        let later = ["old:2".to_string(), "old:3".to_string()];
        let failure = stop_after_difference("old:1", &later).expect_err("a failure");
        assert_eq!(failure.step, Step::Remove);
        assert!(
            failure.message.contains("not attempted: old:2 old:3"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn a_difference_on_the_last_removal_stops_without_a_failure() {
        assert!(matches!(
            stop_after_difference("old:1", &[]),
            Ok(Removals::Stopped)
        ));
    }
}
