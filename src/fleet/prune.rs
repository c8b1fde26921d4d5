//! `prune` and `apply` on one host: snapshot, policy plan, then (unless a dry run) either the
//! engine's own prune (no rules) or the plan's removals one by one, children first (rules); the
//! engine's answers are checked against the plan and every difference is a warning.

use std::collections::BTreeMap;

use crate::engine::EngineError;
use crate::plan::DeleteRecord;
use crate::policy::{Action, PolicyPlan, PolicyRequest, PruneMode, plan_policy};
use crate::report::{HostReport, ImageResult, PruneSummary, Step};
use crate::snapshot::Snapshot;

use super::HostTarget;
use super::connect::{ConnectOptions, ConnectedHost, connect_host};
use super::control::RunControl;
use super::progress::HostProgress;
use super::rmi::{describe_difference, read_space};

/// The name of the one result an engine prune gives (its records are the engine's whole answer).
pub const PRUNE_RESULT: &str = "(prune)";

/// What to do on one host.
#[derive(Debug, Clone)]
pub struct PruneJob {
    pub policy: PolicyRequest,
    /// The policy file's policy this host takes (`apply`), for the report.
    pub policy_name: Option<String>,
    /// Plan only: connect, snapshot and predict, change nothing.
    pub dry_run: bool,
}

/// Runs a prune or policy (or its dry run) on one host.
pub async fn prune_on_host(
    target: HostTarget,
    job: &PruneJob,
    options: &ConnectOptions,
    progress: HostProgress,
    control: RunControl,
) -> HostReport {
    let mut report = HostReport::new(&target.name, &target.address);
    let Some(host) = connect_host(&target, options, &mut report, &progress).await else {
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
    if host.engine.info.containerd_store {
        report.warnings.push(
            "this engine keeps images in containerd's store, whose removal rules the plan does \
             not model (it models the classic store): the engine may do other than planned"
                .to_owned(),
        );
    }
    let plan = plan_policy(&snapshot, &job.policy);
    report.predicted_bytes = Some(plan.predicted_bytes);
    report.prune = Some(summary(&plan, job));
    report.decisions = plan.decisions.clone();
    if job.dry_run {
        report.results = planned_results(&plan, &snapshot);
        for result in &report.results {
            progress.result(result);
        }
        return;
    }
    if control.interrupted() {
        return report.fail(Step::Interrupt, "interrupted before any removal".to_owned());
    }

    let docker_root = host.engine.info.docker_root_dir.clone();
    report.space_before = read_space(host, &docker_root, &mut report.warnings).await;
    match plan.mode {
        PruneMode::Engine => engine_prune(host, job, &plan, &snapshot, report, progress).await,
        PruneMode::Rules => {
            rule_removals(host, &plan, &snapshot, report, progress, control).await;
        }
    }
    if report.failure.is_none() && report.reclaimed_bytes != plan.predicted_bytes {
        report.warnings.push(format!(
            "the plan predicted {} bytes freed, the engine's deletions add up to {}",
            plan.predicted_bytes, report.reclaimed_bytes
        ));
    }
    report.space_after = read_space(host, &docker_root, &mut report.warnings).await;
}

/// No rules: `POST /images/prune`, exactly `docker image prune`. The engine picks candidates in
/// random order, so its records are compared with the plan's as a set.
async fn engine_prune(
    host: &ConnectedHost,
    job: &PruneJob,
    plan: &PolicyPlan,
    snapshot: &Snapshot,
    report: &mut HostReport,
    progress: &HostProgress,
) {
    progress.step("pruning");
    let filters = job.policy.filters.to_engine(job.policy.all);
    let answer = match host.engine.prune_images(&filters).await {
        Ok(answer) => answer,
        Err(error) => {
            return report.fail(
                Step::Prune,
                format!(
                    "{error}; whether images were removed is unknown: rerun with --dry-run to see"
                ),
            );
        }
    };
    let result =
        ImageResult::from_records(PRUNE_RESULT, &answer.records, None, &snapshot.layer_sizes);
    if let Some(difference) = describe_set_difference(&plan.records(), &answer.records) {
        report.warnings.push(difference);
    }
    if answer.space_reclaimed != result.reclaimed_bytes {
        report.warnings.push(format!(
            "the engine reports {} bytes reclaimed, the layers it deleted add up to {}",
            answer.space_reclaimed, result.reclaimed_bytes
        ));
    }
    progress.result(&result);
    report.reclaimed_bytes = result.reclaimed_bytes;
    report.results.push(result);
}

/// Rules: the plan's `DELETE /images/{name}` requests in order, each checked against the plan.
async fn rule_removals(
    host: &ConnectedHost,
    plan: &PolicyPlan,
    snapshot: &Snapshot,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) {
    let total = plan.requests.len();
    for (index, planned) in plan.requests.iter().enumerate() {
        if control.interrupted() {
            let left: Vec<&str> = plan.requests[index..]
                .iter()
                .map(|request| request.name.as_str())
                .collect();
            report.fail(
                Step::Interrupt,
                format!("interrupted; not attempted: {}", left.join(" ")),
            );
            break;
        }
        progress.step(&format!(
            "removing {} ({}/{total})",
            planned.name,
            index + 1
        ));
        let answer = host
            .engine
            .remove_image(&planned.name, planned.force, planned.no_prune)
            .await;
        let result = match answer {
            Ok(records) => {
                ImageResult::from_records(&planned.name, &records, None, &snapshot.layer_sizes)
            }
            Err(EngineError::Api { status, message }) => ImageResult::from_records(
                &planned.name,
                &[],
                Some((status, message)),
                &snapshot.layer_sizes,
            ),
            Err(lost) => {
                report.fail(
                    Step::Remove,
                    format!(
                        "{lost}; whether {} was removed is unknown: rerun with --dry-run to see",
                        planned.name
                    ),
                );
                break;
            }
        };
        let expected = ImageResult::from_records(
            &planned.name,
            &planned.records,
            planned.error.clone().map(|e| (e.status, e.message)),
            &snapshot.layer_sizes,
        );
        if let Some(difference) = describe_difference(&expected, &result) {
            report.warnings.push(difference);
        }
        progress.result(&result);
        report.reclaimed_bytes += result.reclaimed_bytes;
        report.results.push(result);
    }
}

/// The dry run's results: the engine prune as one result with every record, or one result per
/// planned request.
fn planned_results(plan: &PolicyPlan, snapshot: &Snapshot) -> Vec<ImageResult> {
    match plan.mode {
        PruneMode::Engine => vec![ImageResult::from_records(
            PRUNE_RESULT,
            &plan.records(),
            None,
            &snapshot.layer_sizes,
        )],
        PruneMode::Rules => plan
            .requests
            .iter()
            .map(|planned| {
                ImageResult::from_records(
                    &planned.name,
                    &planned.records,
                    planned.error.clone().map(|e| (e.status, e.message)),
                    &snapshot.layer_sizes,
                )
            })
            .collect(),
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
        only_planned.join(", "),
        only_engine.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(id: &str) -> DeleteRecord {
        DeleteRecord::Deleted(id.to_owned())
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
