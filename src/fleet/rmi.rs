//! `rmi` on one host: snapshot, plan, then (unless a dry run) the engine's own removal of each
//! image in order, checked against the plan, and the bytes those removals gave back.

use std::collections::{BTreeSet, HashMap};

use crate::plan::{
    ContainerPolicy, Dispatch, PlannedRemoval, PreparedRemoval, RemovalPlan, RemovalRequest,
};
use crate::report::{HostFailure, HostReport, ImageResult, Step};
use crate::snapshot::Snapshot;
use crate::ssh::FilesystemSpace;

use super::HostTarget;
use super::connect::{ConnectOptions, ConnectedHost, on_connected_host};
use super::content_blobs::add_content_blobs;
use super::control::RunControl;
use super::free_space::{FreeSpace, read_space, read_space_after};
use super::host_run::{
    HostRun, Queue, count_planned_bytes, interrupted, prediction_missed, result_of,
};
use super::progress::HostProgress;
use super::rmi_safety::{RmiSafety, SafetySteps, StepsDone, planned_steps, prepare, run_steps};
use super::send_removal::Removal;

/// What the user asked `rmi` to do on every host.
#[derive(Debug, Clone)]
pub struct RmiRequest {
    pub images: Vec<String>,
    pub force: bool,
    pub no_prune: bool,
    /// Plan only: connect, snapshot and predict, change nothing.
    pub dry_run: bool,
    /// "No such image" is reported as already absent, not as an error.
    pub ignore_missing: bool,
    /// Backups and container steps before each removal.
    pub safety: RmiSafety,
}

/// In an IMAGE argument, stands for the host's inventory name (`ci/cache:{host}`), so that each
/// host can be asked to remove its own tag.
pub const HOST_PLACEHOLDER: &str = "{host}";

impl RmiRequest {
    /// The request as one host gets it: [`HOST_PLACEHOLDER`] replaced by the host's name.
    pub fn for_host(&self, host: &str) -> RmiRequest {
        RmiRequest {
            images: self
                .images
                .iter()
                .map(|image| image.replace(HOST_PLACEHOLDER, host))
                .collect(),
            ..self.clone()
        }
    }

    /// Whether some argument names the host, so each host's arguments differ.
    pub fn is_per_host(&self) -> bool {
        self.images
            .iter()
            .any(|image| image.contains(HOST_PLACEHOLDER))
    }
}

/// Runs `rmi` (or its dry run) on one host and reports what the engine did there.
pub async fn rmi_on_host(
    target: HostTarget,
    request: &RmiRequest,
    options: &ConnectOptions,
    progress: HostProgress,
    control: RunControl,
) -> HostReport {
    let report = HostReport::new(&target.name, &target.address);
    let request = &request.for_host(&target.name);
    on_connected_host(&target, options, &progress, report, async |host, report| {
        rmi_connected(host, request, report, &progress, &control).await?;
        report.settle_status(request.force);
        Ok(())
    })
    .await
}

/// What `rmi` reads on a host before it plans.
struct HostRead {
    snapshot: Snapshot,
    /// The plan made while `snapshot` was read, when the read made one.
    plan: Option<RemovalPlan>,
    /// Container names, for reports that may list containers; empty otherwise.
    names: HashMap<String, String>,
    space_before: Option<FilesystemSpace>,
    space_warnings: Vec<String>,
}

/// Reads, plans, then shows the plan (dry run) or makes the removals and reads the space after.
async fn rmi_connected(
    host: &ConnectedHost,
    request: &RmiRequest,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) -> Result<(), HostFailure> {
    // After an interrupt no new call starts, reads included.
    if control.interrupted() {
        return Err(interrupted(
            "interrupted before the snapshot",
            &request.images,
        ));
    }
    progress.step("snapshot");
    let plan_request = RemovalRequest {
        images: request.images.clone(),
        force: request.force,
        no_prune: request.no_prune,
    };
    let mut free_space = FreeSpace::new(&host.engine.info.docker_root_dir);
    let mut read = read_host(host, request, &plan_request, &mut free_space).await?;
    let mut prepared = match read.plan.take() {
        // Only the plain read makes a plan: no container steps, the request as given.
        Some(plan) => PreparedRemoval::leaving_containers(plan),
        None => prepare(
            &read.snapshot,
            &plan_request,
            &request.images,
            &request.safety,
        ),
    };
    // Bytes on containerd's image store count the content blobs too: read only when the plan
    // deletes an image, then planned again with them (the store plans from the lists alone).
    let records = prepared.plan.records();
    if add_content_blobs(
        host,
        &mut free_space,
        &mut read.snapshot,
        records,
        &mut report.warnings,
    )
    .await
    {
        prepared = prepare(
            &read.snapshot,
            &plan_request,
            &request.images,
            &request.safety,
        );
    }
    report.predicted_bytes = Some(prepared.plan.predicted_bytes);
    let steps = SafetySteps {
        safety: &request.safety,
        names: &read.names,
    };
    if request.dry_run {
        report.results = planned_results(&report.host, &prepared, &read.snapshot, request, steps);
        count_planned_bytes(&read.snapshot, &mut report.results);
        for (result, planned) in report.results.iter_mut().zip(&prepared.plan.removals) {
            result.not_exact = planned.not_exact.clone();
            progress.result(result);
        }
        free_space.close().await;
        return Ok(());
    }

    report.space_before = read.space_before;
    report.warnings.extend(read.space_warnings);
    progress.publish(report);
    let queue = Queue {
        names: &request.images,
        numbered: false,
        ignore_missing: request.ignore_missing,
    };
    let mut run = HostRun::new(host, &read.snapshot, report, progress, control, queue);
    let removed = remove_each(&mut run, request, &plan_request, steps, prepared).await;
    if let Ok(Some(predicted)) = removed
        && let Some(warning) = prediction_missed(predicted, report.reclaimed_bytes)
    {
        report.warnings.push(warning);
    }
    progress.step("free space");
    read_space_after(host, free_space, report, control, removed.is_err()).await;
    removed.map(|_| ())
}

/// The snapshot (with the free space, read alongside on a real run) and, when containers may be
/// listed, the container names.
async fn read_host(
    host: &ConnectedHost,
    request: &RmiRequest,
    plan_request: &RemovalRequest,
    free_space: &mut FreeSpace,
) -> Result<HostRead, HostFailure> {
    // A dry run reads every image's chain (it is also what checks the lighter read in the
    // tests); a plain real run reads only the chains its removals can touch. Sizes and layers
    // in containerd's image store follow other rules, and backups and container steps can
    // change what a removal deletes (they are planned again), so those get the full read too.
    let plain =
        request.safety.backup_dir.is_none() && request.safety.containers == ContainerPolicy::Leave;
    let read_snapshot = async {
        if request.dry_run || !host.engine.info.kind.deletes_answer_with_layers() || !plain {
            host.engine
                .snapshot()
                .await
                .map(|snapshot| (snapshot, None))
        } else {
            let scoped = host.engine.snapshot_for_removal(plan_request).await;
            scoped.map(|(snapshot, plan)| (snapshot, Some(plan)))
        }
    };
    // A real run opens its SFTP session and reads the free space while the snapshot is read
    // (both only read), and keeps the session for the read after the removals.
    let limit = host.engine.api_timeout();
    let mut space_warnings = Vec::new();
    let read_space_before = async {
        if request.dry_run {
            None
        } else {
            read_space(host, free_space, limit, &mut space_warnings).await
        }
    };
    let (snapshot, space_before) = tokio::join!(read_snapshot, read_space_before);
    let snapshot_failed = |error: crate::engine::EngineError| HostFailure {
        step: Step::Snapshot,
        message: error.to_string(),
    };
    let (snapshot, plan) = snapshot.map_err(snapshot_failed)?;
    let names = if request.safety.containers == ContainerPolicy::Leave {
        HashMap::new()
    } else {
        host.engine
            .container_names()
            .await
            .map_err(snapshot_failed)?
    };
    Ok(HostRead {
        snapshot,
        plan,
        names,
        space_before,
        space_warnings,
    })
}

/// The removals one by one, each after its safety steps. A removal those steps refuse is
/// recorded unsent, and the rest is planned again on what they left, so later comparisons stay
/// true. `Ok`: every argument was sent, with the bytes the last plan predicted when it predicted
/// every removal exactly.
async fn remove_each(
    run: &mut HostRun<'_>,
    request: &RmiRequest,
    plan_request: &RemovalRequest,
    steps: SafetySteps<'_>,
    mut prepared: PreparedRemoval,
) -> Result<Option<u64>, HostFailure> {
    // Arguments sent to the engine so far.
    let mut attempted: Vec<String> = Vec::new();
    for (index, image) in request.images.iter().enumerate() {
        run.next(index)?;
        let position = attempted.len();
        let planned = prepared.plan.removals.get(position);
        let containers = prepared
            .container_steps
            .get(position)
            .map_or(&[][..], Vec::as_slice);
        let done = match planned {
            Some(planned) => run_steps(run, steps, planned, containers).await,
            None => StepsDone::default(),
        };
        if done.interrupted {
            let what = format!("interrupted while backing up {image}");
            return Err(interrupted(&what, run.left(index)));
        }
        if let Some(refusal) = done.refusal {
            let mut rest = attempted.clone();
            rest.extend(run.later(index).iter().cloned());
            prepared = prepare(run.snapshot, plan_request, &rest, steps.safety);
            run.report.predicted_bytes = Some(prepared.plan.predicted_bytes);
            run.record_unsent(image, refusal, done.before);
            continue;
        }
        let removal = Removal {
            image,
            dispatch: planned.map_or(&Dispatch::AsGiven, |planned| &planned.dispatch),
            force: request.force,
            no_prune: request.no_prune,
            expected: planned
                .filter(|planned| planned.not_exact.is_none())
                .map(PlannedRemoval::expected_answer),
        };
        run.remove_checked(index, removal, done.before).await?;
        attempted.push(image.clone());
    }
    let every_removal_exact = prepared
        .plan
        .removals
        .iter()
        .all(|planned| planned.not_exact.is_none());
    Ok(every_removal_exact.then_some(prepared.plan.predicted_bytes))
}

/// The dry run's results: what the engine would answer for each argument, with the archives
/// that would be written and the containers that would be stopped first.
fn planned_results(
    host: &str,
    prepared: &PreparedRemoval,
    snapshot: &Snapshot,
    request: &RmiRequest,
    steps: SafetySteps<'_>,
) -> Vec<ImageResult> {
    let mut gone_tags: BTreeSet<String> = BTreeSet::new();
    prepared
        .plan
        .removals
        .iter()
        .zip(&prepared.container_steps)
        .map(|(planned, containers)| {
            let answer = planned.expected_answer();
            let mut result = result_of(&planned.image, &answer, snapshot);
            let before = planned_steps(host, snapshot, steps, planned, containers, &gone_tags);
            result.backup = before.backup;
            result.containers = before.containers;
            gone_tags.extend(result.untagged.iter().cloned());
            if request.ignore_missing {
                result.mark_absent_if_missing();
            }
            result
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_placeholder_becomes_each_hosts_name() {
        let request = RmiRequest {
            images: vec!["cache:{host}".into(), "app:1".into()],
            force: false,
            no_prune: false,
            dry_run: false,
            ignore_missing: false,
            safety: RmiSafety::default(),
        };
        assert!(request.is_per_host());
        assert_eq!(request.for_host("web01").images, ["cache:web01", "app:1"]);
        assert!(!request.for_host("web01").is_per_host());
    }
}
