//! `rmi` on one host: snapshot, plan, then (unless a dry run) the engine's own removal of each
//! image in order, checked against the plan, and the bytes those removals gave back.

use std::collections::{BTreeSet, HashMap};

use crate::engine::EngineKind;
use crate::plan::{ContainerPolicy, FreedByImages, PreparedRemoval, RemovalRequest};
use crate::report::{HostReport, ImageResult, Step};
use crate::snapshot::Snapshot;

use super::HostTarget;
use super::connect::{ConnectOptions, ConnectedHost, connect_host};
use super::control::RunControl;
use super::free_space::{FreeSpace, read_space, read_space_after};
use super::progress::HostProgress;
use super::rmi_safety::{RmiSafety, StepsDone, planned_steps, prepare, run_steps};
use super::send_removal::send_removal;

/// The result of a removal whose safety steps ran but whose engine answer was lost.
pub(super) const LOST_ANSWER: &str =
    "the engine's answer to its removal was lost: whether it happened is unknown";

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
    let mut report = HostReport::new(&target.name, &target.address);
    let request = &request.for_host(&target.name);
    let Some(host) = connect_host(&target, options, &mut report, &progress).await else {
        return report;
    };
    run_connected(&host, request, &mut report, &progress, &control).await;
    report.settle_status(request.force);
    report.api_calls = host.engine.api_calls();
    progress.step("closing");
    host.close().await;
    report
}

async fn run_connected(
    host: &ConnectedHost,
    request: &RmiRequest,
    report: &mut HostReport,
    progress: &HostProgress,
    control: &RunControl,
) {
    // After an interrupt no new call starts, reads included.
    if control.interrupted() {
        return report.fail(
            Step::Interrupt,
            format!(
                "interrupted before the snapshot{}",
                not_attempted(&request.images)
            ),
        );
    }
    progress.step("snapshot");
    let removal = RemovalRequest {
        images: request.images.clone(),
        force: request.force,
        no_prune: request.no_prune,
        force_removes_containers: host.engine.info.kind == EngineKind::Podman,
    };
    // A dry run reads every image's chain (it is also what checks the lighter read in the
    // tests); a plain real run reads only the chains its removals can touch. Sizes and layers
    // in containerd's image store follow other rules, and backups and container steps can
    // change what a removal deletes (they are planned again), so those get the full read too.
    let plain =
        request.safety.backup_dir.is_none() && request.safety.containers == ContainerPolicy::Leave;
    let read_snapshot = async {
        if request.dry_run || !host.engine.info.kind.deletes_answer_with_layers() || !plain {
            host.engine.snapshot().await
        } else {
            host.engine.snapshot_for_removal(&removal).await
        }
    };
    // A real run opens its SFTP session and reads the free space while the snapshot is read
    // (both only read), and keeps the session for the read after the removals.
    let mut free_space = FreeSpace::new(&host.engine.info.docker_root_dir);
    let limit = host.engine.api_timeout();
    let mut space_warnings = Vec::new();
    let read_space_before = async {
        if request.dry_run {
            None
        } else {
            read_space(host, &mut free_space, limit, &mut space_warnings).await
        }
    };
    let (snapshot, space_before) = tokio::join!(read_snapshot, read_space_before);
    let snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(error) => return report.fail(Step::Snapshot, error.to_string()),
    };
    // Container names only matter to reports that may list containers.
    let names = if request.safety.containers == ContainerPolicy::Leave {
        HashMap::new()
    } else {
        match host.engine.container_names().await {
            Ok(names) => names,
            Err(error) => return report.fail(Step::Snapshot, error.to_string()),
        }
    };
    let host_name = report.host.clone();
    let replan = |images: &[String]| prepare(&snapshot, &removal, images, &request.safety);
    let mut prepared = replan(&request.images);
    report.predicted_bytes = Some(prepared.plan.predicted_bytes);
    let caveat = host.engine.info.kind.plan_caveat();
    if request.dry_run {
        report.results = planned_results(&host_name, &prepared, &snapshot, request, &names);
        for (result, planned) in report.results.iter_mut().zip(&prepared.plan.removals) {
            result.not_exact = planned.not_exact.clone().or(caveat.map(str::to_string));
        }
        for result in &report.results {
            progress.result(result);
        }
        return;
    }

    report.space_before = space_before;
    report.warnings.extend(space_warnings);
    progress.publish(report);
    // Arguments sent to the engine so far; after a removal is refused by its safety steps the
    // rest is planned again on what those left, so later comparisons stay true.
    let mut attempted: Vec<String> = Vec::new();
    // Engines that list only deleted images: bytes from the layers those images leave unheld.
    let mut freed_by_images = (!host.engine.info.kind.deletes_answer_with_layers())
        .then(|| FreedByImages::new(&snapshot));
    let mut gone_tags: BTreeSet<String> = BTreeSet::new();
    for (index, image) in request.images.iter().enumerate() {
        progress.still_to_come(&request.images[index..]);
        if control.interrupted() {
            report.fail(
                Step::Interrupt,
                format!("interrupted{}", not_attempted(&request.images[index..])),
            );
            break;
        }
        let position = attempted.len();
        let planned = prepared.plan.removals.get(position).cloned();
        let steps = prepared
            .container_steps
            .get(position)
            .cloned()
            .unwrap_or_default();
        let done = match &planned {
            Some(planned) => {
                run_steps(
                    host,
                    &host_name,
                    &snapshot,
                    planned,
                    &steps,
                    &gone_tags,
                    &request.safety,
                    &names,
                    progress,
                    control,
                )
                .await
            }
            None => StepsDone::default(),
        };
        if done.interrupted {
            report.fail(
                Step::Interrupt,
                format!(
                    "interrupted while backing up {image}{}",
                    not_attempted(&request.images[index..])
                ),
            );
            break;
        }
        if let Some(refusal) = done.refusal {
            let result = ImageResult {
                image: image.clone(),
                error: Some(refusal),
                backup: done.backup,
                containers: done.containers,
                ..ImageResult::default()
            };
            let mut rest = attempted.clone();
            rest.extend(request.images[index + 1..].iter().cloned());
            prepared = replan(&rest);
            report.predicted_bytes = Some(prepared.plan.predicted_bytes);
            progress.record(report, result);
            continue;
        }

        progress.pending(image, done.backup.as_ref(), &done.containers);
        progress.still_to_come(&request.images[index + 1..]);
        progress.changing_step(&format!("removing {image}"));
        let answer = send_removal(
            &host.engine,
            image,
            planned.as_ref(),
            request.force,
            request.no_prune,
        )
        .await;
        let mut result = match answer {
            Ok((records, error)) => {
                let mut result = ImageResult::from_records(image, &records, error, &snapshot);
                if let Some(freed) = &mut freed_by_images {
                    result.reclaimed_bytes = freed.count(&records);
                }
                result
            }
            Err(lost) => {
                progress.settle_pending(report, LOST_ANSWER);
                report.fail(
                    Step::Remove,
                    format!(
                        "{lost}; whether {image} was removed is unknown: rerun to see{}",
                        not_attempted(&request.images[index + 1..])
                    ),
                );
                break;
            }
        };
        attempted.push(image.clone());
        result.backup = done.backup;
        result.containers = done.containers;
        gone_tags.extend(result.untagged.iter().cloned());
        if let Some(planned) = planned
            .as_ref()
            .filter(|planned| caveat.is_none() && planned.not_exact.is_none())
        {
            let expected = ImageResult::from_records(
                image,
                &planned.records,
                planned.error.clone().map(|e| (e.status, e.message)),
                &snapshot,
            );
            if let Some(difference) = describe_difference(&expected, &result) {
                report.warnings.push(difference);
            }
        }
        if request.ignore_missing {
            result.mark_absent_if_missing();
        }
        progress.record(report, result);
    }
    let every_removal_exact = prepared
        .plan
        .removals
        .iter()
        .all(|planned| planned.not_exact.is_none());
    if caveat.is_none()
        && every_removal_exact
        && report.failure.is_none()
        && report.reclaimed_bytes != prepared.plan.predicted_bytes
    {
        report.warnings.push(format!(
            "the plan predicted {} bytes freed, the engine's deletions add up to {}",
            prepared.plan.predicted_bytes, report.reclaimed_bytes
        ));
    }
    progress.step("free space");
    read_space_after(host, free_space, report, control).await;
}

/// `; not attempted: A B` for the arguments a stopped host never sent, or nothing.
pub(super) fn not_attempted(images: &[String]) -> String {
    if images.is_empty() {
        String::new()
    } else {
        format!("; not attempted: {}", images.join(" "))
    }
}

/// The dry run's results: what the engine would answer for each argument, with the archives
/// that would be written and the containers that would be stopped first.
fn planned_results(
    host: &str,
    prepared: &PreparedRemoval,
    snapshot: &Snapshot,
    request: &RmiRequest,
    names: &HashMap<String, String>,
) -> Vec<ImageResult> {
    let mut gone_tags: BTreeSet<String> = BTreeSet::new();
    prepared
        .plan
        .removals
        .iter()
        .zip(&prepared.container_steps)
        .map(|(planned, steps)| {
            let mut result = ImageResult::from_records(
                &planned.image,
                &planned.records,
                planned.error.clone().map(|e| (e.status, e.message)),
                snapshot,
            );
            let done = planned_steps(
                host,
                snapshot,
                planned,
                steps,
                &gone_tags,
                &request.safety,
                names,
            );
            result.backup = done.backup;
            result.containers = done.containers;
            gone_tags.extend(result.untagged.iter().cloned());
            if request.ignore_missing {
                result.mark_absent_if_missing();
            }
            result
        })
        .collect()
}

/// A warning when the engine did something other than the plan said, `None` when they agree.
/// How many records a plan-vs-engine warning lists on each side before it says how many more.
const DIFFERENCE_ITEMS: usize = 8;

pub(super) fn describe_difference(planned: &ImageResult, actual: &ImageResult) -> Option<String> {
    if planned.records() == actual.records() && planned.error == actual.error {
        return None;
    }
    let show = |result: &ImageResult| {
        let mut parts: Vec<String> = result.records().iter().map(ToString::to_string).collect();
        if let Some(error) = &result.error {
            parts.push(format!("error: {error}"));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            crate::report::bounded_list(&parts, DIFFERENCE_ITEMS)
        }
    };
    Some(format!(
        "{}: the engine did not do what the plan predicted: planned [{}], engine [{}]",
        actual.image,
        show(planned),
        show(actual)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(untagged: &[&str], error: Option<&str>) -> ImageResult {
        ImageResult {
            image: "x:1".into(),
            untagged: untagged.iter().map(|s| s.to_string()).collect(),
            error: error.map(str::to_string),
            ..ImageResult::default()
        }
    }

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

    #[test]
    fn same_records_and_error_is_no_difference() {
        assert_eq!(
            describe_difference(&result(&["x:1"], None), &result(&["x:1"], None)),
            None
        );
    }

    #[test]
    fn different_outcome_is_described_with_both_sides() {
        let warning = describe_difference(&result(&["x:1"], None), &result(&[], Some("conflict")))
            .expect("a difference");
        assert!(warning.contains("planned [Untagged: x:1]"), "{warning}");
        assert!(warning.contains("engine [error: conflict]"), "{warning}");
    }
}
