//! `prune` and `apply` on one host: snapshot, policy plan, then (unless a dry run) either the
//! engine's own prune (no rules) or the plan's removals one by one, children first (rules); the
//! engine's answers are checked against the plan and every difference is a warning. With
//! `--backup DIR` the images are saved first (see `prune_backup`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::engine::EngineError;
use crate::engine::EngineKind;
use crate::plan::{DeleteRecord, FreedByImages, deleted_images};
use crate::policy::{Action, PolicyPlan, PolicyRequest, PruneMode, plan_policy};
use crate::report::{HostReport, ImageResult, PruneSummary, Step};
use crate::snapshot::{Snapshot, short_id};

use super::HostTarget;
use super::backup::planned_outcome;
use super::connect::{ConnectOptions, ConnectedHost, connect_host};
use super::control::RunControl;
use super::free_space::{FreeSpace, read_space, read_space_after};
use super::progress::HostProgress;
use super::prune_backup::{BackupStep, back_up, unit_for_records};
use super::rmi::{LOST_ANSWER, describe_difference, not_attempted};

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
    let mut report = HostReport::new(&target.name, &target.address);
    let Some(host) = connect_host(&target, options, &mut report, &progress).await else {
        return report;
    };
    let kind = host.engine.info.kind;
    let job = jobs
        .iter()
        .find(|job| job.engines.is_empty() || job.engines.contains(&kind));
    let Some(job) = job else {
        report.warnings.push(format!(
            "left alone: no policy for this host's groups is for its engine ({})",
            kind.name()
        ));
        report.api_calls = host.engine.api_calls();
        host.close().await;
        return report;
    };
    run_connected(&host, job, &mut report, &progress, &control).await;
    report.settle_status(job.policy.force);
    report.api_calls = host.engine.api_calls();
    host.close().await;
    report
}

async fn run_connected(
    host: &ConnectedHost,
    job: &PruneJob,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) {
    progress.step("snapshot");
    let snapshot = match host.engine.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => return report.fail(Step::Snapshot, error.to_string()),
    };
    let plan = plan_policy(&snapshot, &job.policy);
    let caveat = match plan.mode {
        PruneMode::Engine => host.engine.info.kind.engine_prune_caveat(),
        PruneMode::Rules => host.engine.info.kind.plan_caveat(),
    };
    report.predicted_bytes = Some(plan.predicted_bytes);
    report.prune = Some(summary(&plan, job));
    report.decisions = plan.decisions.clone();
    if job.dry_run {
        report.results = planned_results(&plan, &snapshot, job, &report.host);
        for result in &mut report.results {
            result.not_exact = caveat.map(str::to_string);
        }
        for result in &report.results {
            progress.result(result);
        }
        return;
    }
    if control.interrupted() {
        return report.fail(Step::Interrupt, "interrupted before any removal".to_owned());
    }

    let mut free_space = FreeSpace::new(&host.engine.info.docker_root_dir);
    report.space_before = read_space(
        host,
        &mut free_space,
        host.engine.api_timeout(),
        &mut report.warnings,
    )
    .await;
    progress.publish(report);
    let complete = match plan.mode {
        PruneMode::Engine => {
            engine_prune(host, job, &plan, &snapshot, report, progress, control).await
        }
        PruneMode::Rules => {
            rule_removals(host, job, &plan, &snapshot, report, progress, control).await
        }
    };
    if caveat.is_none()
        && complete
        && report.failure.is_none()
        && report.reclaimed_bytes != plan.predicted_bytes
    {
        report.warnings.push(format!(
            "the plan predicted {} bytes freed, the engine's deletions add up to {}",
            plan.predicted_bytes, report.reclaimed_bytes
        ));
    }
    progress.step("free space");
    read_space_after(host, free_space, report, control).await;
}

/// No rules: `POST /images/prune`, exactly `docker image prune`. The engine picks candidates in
/// random order, so its records are compared with the plan's as a set. With `--backup`, every
/// image the plan predicts deleted is saved first, in one archive; if that fails the engine is
/// not asked to prune (false: nothing was attempted).
async fn engine_prune(
    host: &ConnectedHost,
    job: &PruneJob,
    plan: &PolicyPlan,
    snapshot: &Snapshot,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) -> bool {
    let mut backup = None;
    if let Some(dir) = &job.backup_dir
        && let Some(unit) = unit_for_records(
            snapshot,
            &plan.records(),
            &BTreeSet::new(),
            &job.reason(None),
        )
    {
        let host_name = report.host.clone();
        match back_up(host, &host_name, &unit, dir, progress, control).await {
            BackupStep::Saved(outcome) => {
                progress.pending(PRUNE_RESULT, Some(&outcome), &[]);
                backup = Some(outcome);
            }
            BackupStep::Nothing => {}
            BackupStep::Interrupted => {
                report.fail(
                    Step::Interrupt,
                    "interrupted while backing up; the engine prune was not called".to_owned(),
                );
                return false;
            }
            BackupStep::Failed { outcome, refusal } => {
                let result = ImageResult {
                    image: PRUNE_RESULT.to_owned(),
                    error: Some(refusal.replacen(
                        "not removed: its backup failed",
                        "not pruned: the backup of the images it would remove failed",
                        1,
                    )),
                    backup: Some(outcome),
                    ..ImageResult::default()
                };
                progress.record(report, result);
                return false;
            }
        }
    }
    if control.interrupted() {
        report.fail(
            Step::Interrupt,
            "interrupted before the engine prune".to_owned(),
        );
        return false;
    }
    progress.changing_step("pruning");
    let filters = job.policy.filters.to_engine(job.policy.all);
    let answer = match host.engine.prune_images(&filters).await {
        Ok(answer) => answer,
        Err(error) => {
            progress.settle_pending(report, LOST_ANSWER);
            report.fail(
                Step::Prune,
                format!(
                    "{error}; whether images were removed is unknown: rerun with --dry-run to see"
                ),
            );
            return false;
        }
    };
    let kind = host.engine.info.kind;
    let exact = kind.engine_prune_caveat().is_none();
    let mut result = ImageResult::from_records(PRUNE_RESULT, &answer.records, None, snapshot);
    if !kind.deletes_answer_with_layers() {
        result.reclaimed_bytes = FreedByImages::new(snapshot).count(&answer.records);
    }
    result.backup = backup;
    let saved: BTreeSet<&str> = result
        .backup
        .iter()
        .flat_map(|backup| backup.images.iter().map(String::as_str))
        .collect();
    if job.backup_dir.is_some() {
        let deleted = deleted_images(snapshot, answer.records.iter());
        let unsaved: Vec<&str> = deleted
            .iter()
            .filter(|id| !saved.contains(id.as_str()))
            .map(|id| short_id(id))
            .collect();
        if !unsaved.is_empty() {
            report.warnings.push(format!(
                "the engine pruned images the plan did not predict, which were not backed up: {}",
                unsaved.join(", ")
            ));
        }
    }
    if exact && let Some(difference) = describe_set_difference(&plan.records(), &answer.records) {
        report.warnings.push(difference);
    }
    // Only the classic store's figure is checked against the layers: the containerd store's
    // counts content too, and Podman's was seen far above what the disk got back.
    if kind.deletes_answer_with_layers() && answer.space_reclaimed != result.reclaimed_bytes {
        report.warnings.push(format!(
            "the engine reports {} bytes reclaimed, the layers it deleted add up to {}",
            answer.space_reclaimed, result.reclaimed_bytes
        ));
    }
    progress.record(report, result);
    true
}

/// Rules: the plan's `DELETE /images/{name}` requests in order, each checked against the plan.
/// With `--backup`, each request's images are saved right before it; after a failed backup the
/// host stops (later requests were planned on that removal), false: not all were attempted.
async fn rule_removals(
    host: &ConnectedHost,
    job: &PruneJob,
    plan: &PolicyPlan,
    snapshot: &Snapshot,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) -> bool {
    let total = plan.requests.len();
    let host_name = report.host.clone();
    let kind = host.engine.info.kind;
    let exact = kind.is_modelled_exactly();
    let mut freed_by_images =
        (!kind.deletes_answer_with_layers()).then(|| FreedByImages::new(snapshot));
    let mut gone_tags: BTreeSet<String> = BTreeSet::new();
    let names: Vec<String> = plan
        .requests
        .iter()
        .map(|request| request.name.clone())
        .collect();
    for (index, planned) in plan.requests.iter().enumerate() {
        progress.still_to_come(&names[index..]);
        if control.interrupted() {
            report.fail(
                Step::Interrupt,
                format!("interrupted{}", not_attempted(&names[index..])),
            );
            break;
        }
        let later = || names[index + 1..].join(" ");
        let step = match (&job.backup_dir, planned.error.is_none()) {
            (Some(dir), true) => match unit_for_records(
                snapshot,
                &planned.records,
                &gone_tags,
                &job.reason(Some(&planned.name)),
            ) {
                Some(unit) => back_up(host, &host_name, &unit, dir, progress, control).await,
                None => BackupStep::Nothing,
            },
            _ => BackupStep::Nothing,
        };
        match step {
            BackupStep::Interrupted => {
                report.fail(
                    Step::Interrupt,
                    format!(
                        "interrupted while backing up {}; not attempted: {} {}",
                        planned.name,
                        planned.name,
                        later()
                    )
                    .trim_end()
                    .to_owned(),
                );
                return false;
            }
            BackupStep::Failed { outcome, refusal } => {
                let result = ImageResult {
                    image: planned.name.clone(),
                    error: Some(refusal),
                    backup: Some(outcome),
                    ..ImageResult::default()
                };
                progress.record(report, result);
                let rest = later();
                if !rest.is_empty() {
                    report.warnings.push(format!(
                        "removals stopped after a failed backup; not attempted: {rest}"
                    ));
                }
                return false;
            }
            BackupStep::Saved(_) | BackupStep::Nothing => {}
        }
        progress.pending(&planned.name, step.outcome().as_ref(), &[]);
        progress.still_to_come(&names[index + 1..]);
        progress.changing_step(&format!(
            "removing {} ({}/{total})",
            planned.name,
            index + 1
        ));
        let answer = host
            .engine
            .remove_image(&planned.name, planned.force, planned.no_prune)
            .await;
        let mut result = match answer {
            Ok(records) => {
                let mut result = ImageResult::from_records(&planned.name, &records, None, snapshot);
                if let Some(freed) = &mut freed_by_images {
                    result.reclaimed_bytes = freed.count(&records);
                }
                result
            }
            Err(EngineError::Api { status, message }) => {
                ImageResult::from_records(&planned.name, &[], Some((status, message)), snapshot)
            }
            Err(lost) => {
                progress.settle_pending(report, LOST_ANSWER);
                let rest = not_attempted(&names[index + 1..]);
                report.fail(
                    Step::Remove,
                    format!(
                        "{lost}; whether {} was removed is unknown: rerun with --dry-run to \
                         see{rest}",
                        planned.name
                    ),
                );
                return false;
            }
        };
        result.backup = step.outcome();
        gone_tags.extend(result.untagged.iter().cloned());
        let expected = ImageResult::from_records(
            &planned.name,
            &planned.records,
            planned.error.clone().map(|e| (e.status, e.message)),
            snapshot,
        );
        let difference = if exact {
            describe_difference(&expected, &result)
        } else {
            describe_outcome_difference(&expected, &result)
        };
        progress.record(report, result);
        if let Some(difference) = difference {
            // Later requests were planned on what this one should have done (a parent's
            // references after its child, say): sending them could untag an image that stays.
            stop_after_difference(report, &planned.name, difference, &later());
            progress.publish(report);
            return false;
        }
    }
    true
}

/// On an engine the plan does not model exactly, only what later removals were planned on is
/// compared: whether the request succeeded.
fn describe_outcome_difference(planned: &ImageResult, actual: &ImageResult) -> Option<String> {
    match (&planned.error, &actual.error) {
        (None, Some(error)) => Some(format!(
            "{}: the plan expected the engine to accept this removal; it answered: {error}",
            actual.image
        )),
        (Some(_), None) => Some(format!(
            "{}: the plan expected the engine to refuse this removal; it accepted it",
            actual.image
        )),
        _ => None,
    }
}

/// The engine did other than planned for `name`: the host stops there. With removals left, the
/// host fails at the remove step naming them, so a scheduled run sees the images left behind.
fn stop_after_difference(report: &mut HostReport, name: &str, difference: String, rest: &str) {
    report.warnings.push(difference);
    if rest.is_empty() {
        return;
    }
    report.fail(
        Step::Remove,
        format!(
            "the engine did not do what the plan predicted for {name}, and the later removals \
             were planned on it; not attempted: {rest} (rerun with --dry-run to plan again)"
        ),
    );
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
                    let mut result = ImageResult::from_records(
                        &planned.name,
                        &planned.records,
                        planned.error.clone().map(|e| (e.status, e.message)),
                        snapshot,
                    );
                    if planned.error.is_none() {
                        result.backup =
                            planned_backup(&planned.records, &gone_tags, Some(&planned.name));
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

/// A warning when two record lists differ as multisets, naming what only one side has.
fn describe_set_difference(planned: &[DeleteRecord], actual: &[DeleteRecord]) -> Option<String> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for record in planned {
        *counts.entry(record.to_string()).or_default() += 1;
    }
    for record in actual {
        *counts.entry(record.to_string()).or_default() -= 1;
    }
    let only_planned: Vec<&str> = counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(record, _)| record.as_str())
        .collect();
    let only_engine: Vec<&str> = counts
        .iter()
        .filter(|(_, count)| **count < 0)
        .map(|(record, _)| record.as_str())
        .collect();
    if only_planned.is_empty() && only_engine.is_empty() {
        return None;
    }
    Some(format!(
        "the engine's prune did not do what the plan predicted: only planned [{}], only done [{}]",
        crate::report::bounded_list(&only_planned, 8),
        crate::report::bounded_list(&only_engine, 8)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(id: &str) -> DeleteRecord {
        DeleteRecord::Deleted(id.to_owned())
    }

    #[test]
    fn a_difference_with_removals_left_fails_the_host_naming_them() {
        let mut report = HostReport::new("h1", "127.0.0.1");
        stop_after_difference(
            &mut report,
            "old:1",
            "the engine differs".into(),
            "old:2 old:3",
        );
        assert_eq!(report.status, crate::report::HostStatus::Failed);
        let failure = report.failure.expect("a failure");
        assert_eq!(failure.step, Step::Remove);
        assert!(
            failure.message.contains("not attempted: old:2 old:3"),
            "{}",
            failure.message
        );
        assert_eq!(report.warnings, vec!["the engine differs".to_string()]);
    }

    #[test]
    fn a_difference_on_the_last_removal_is_a_warning_only() {
        let mut report = HostReport::new("h1", "127.0.0.1");
        stop_after_difference(&mut report, "old:1", "the engine differs".into(), "");
        assert_eq!(report.status, crate::report::HostStatus::Ok);
        assert_eq!(report.warnings.len(), 1);
    }

    #[test]
    fn the_same_records_in_another_order_are_no_difference() {
        let planned = [
            deleted("a"),
            deleted("b"),
            DeleteRecord::Untagged("x:1".into()),
        ];
        let actual = [
            DeleteRecord::Untagged("x:1".into()),
            deleted("b"),
            deleted("a"),
        ];
        assert_eq!(describe_set_difference(&planned, &actual), None);
    }

    #[test]
    fn missing_and_extra_records_are_named() {
        let warning =
            describe_set_difference(&[deleted("a"), deleted("b")], &[deleted("a"), deleted("c")])
                .expect("a difference");
        assert!(warning.contains("only planned [Deleted: b]"), "{warning}");
        assert!(warning.contains("only done [Deleted: c]"), "{warning}");
    }
}
