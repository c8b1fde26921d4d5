//! `--stop-containers` (and `--remove-containers`): containers that use an image the removal
//! will delete are stopped (and removed) right before that removal, and the plan is computed on
//! the state those steps leave, so the dry run and the real run agree.
//!
//! Which containers? Exactly those whose image the plan deletes, with the plan computed as if
//! those containers were already stopped (or gone). That is a fixed point: start by acting on
//! every candidate, plan, keep only the candidates whose image the plan deletes, plan again,
//! until the set no longer shrinks. A container whose image stays (only untagged, refused, or
//! never named) is never touched; without `-f`, a container that is only stopped still holds its
//! image (a soft conflict), so `--stop-containers` alone stops nothing for such an image.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::snapshot::{ContainerState, Snapshot};

use super::record::DeleteRecord;
use super::removal::{RemovalPlan, plan_removal};
use super::request::RemovalRequest;

/// What to do with containers that use an image the removal deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContainerPolicy {
    /// Never touch a container (the default): the engine's conflicts decide.
    #[default]
    Leave,
    /// Stop running (paused, restarting) containers first.
    Stop,
    /// Stop them, then remove them, and remove stopped ones too.
    StopAndRemove,
}

/// One container step, done right before the removal that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStep {
    /// Full container ID.
    pub container_id: String,
    /// The image it uses, which the removal deletes.
    pub image_id: String,
    /// It runs now, so it is stopped first.
    pub stop: bool,
    /// `--remove-containers`: removed (after stopping).
    pub remove: bool,
}

/// A removal plan and, per request, the container steps that come first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreparedRemoval {
    pub plan: RemovalPlan,
    /// One list per request of the plan, in the same order.
    pub container_steps: Vec<Vec<ContainerStep>>,
}

impl PreparedRemoval {
    /// A plan made with [`ContainerPolicy::Leave`]: no container steps.
    pub fn leaving_containers(plan: RemovalPlan) -> PreparedRemoval {
        PreparedRemoval {
            container_steps: vec![Vec::new(); plan.removals.len()],
            plan,
        }
    }
}

/// Plans the removal with the containers `policy` allows to be stopped or removed.
pub fn plan_with_containers(
    snapshot: &Snapshot,
    request: &RemovalRequest,
    policy: ContainerPolicy,
) -> PreparedRemoval {
    let candidates: BTreeSet<&str> = snapshot
        .containers
        .iter()
        .filter(|container| match policy {
            ContainerPolicy::Leave => false,
            ContainerPolicy::Stop => container.state == ContainerState::Running,
            ContainerPolicy::StopAndRemove => true,
        })
        .map(|container| container.id.as_str())
        .collect();

    let mut acted = candidates;
    let plan = loop {
        let plan = plan_removal(&apply(snapshot, &acted, policy), request);
        let deleted = deleted_images(snapshot, plan.records());
        // Intersecting with the previous set makes the set only shrink, so this ends.
        let next: BTreeSet<&str> = snapshot
            .containers
            .iter()
            .filter(|container| {
                acted.contains(container.id.as_str()) && deleted.contains(&container.image_id)
            })
            .map(|container| container.id.as_str())
            .collect();
        if next == acted {
            break plan;
        }
        acted = next;
    };

    let container_steps = plan
        .removals
        .iter()
        .map(|removal| {
            let deleted = deleted_images(snapshot, removal.records.iter());
            snapshot
                .containers
                .iter()
                .filter(|container| {
                    acted.contains(container.id.as_str()) && deleted.contains(&container.image_id)
                })
                .map(|container| ContainerStep {
                    container_id: container.id.clone(),
                    image_id: container.image_id.clone(),
                    stop: container.state == ContainerState::Running,
                    remove: policy == ContainerPolicy::StopAndRemove,
                })
                .collect()
        })
        .collect();
    PreparedRemoval {
        plan,
        container_steps,
    }
}

/// The snapshot as it will be once the `acted` containers are stopped (or removed).
fn apply<'a>(
    snapshot: &'a Snapshot,
    acted: &BTreeSet<&str>,
    policy: ContainerPolicy,
) -> Cow<'a, Snapshot> {
    if acted.is_empty() {
        return Cow::Borrowed(snapshot);
    }
    let mut adjusted = snapshot.clone();
    match policy {
        ContainerPolicy::Leave => {}
        ContainerPolicy::Stop => {
            for container in &mut adjusted.containers {
                if acted.contains(container.id.as_str()) {
                    container.state = ContainerState::Stopped;
                }
            }
        }
        ContainerPolicy::StopAndRemove => adjusted
            .containers
            .retain(|container| !acted.contains(container.id.as_str())),
    }
    Cow::Owned(adjusted)
}

/// The image IDs among `records`' `Deleted` entries (the others are layers).
pub fn deleted_images<'a>(
    snapshot: &Snapshot,
    records: impl Iterator<Item = &'a DeleteRecord>,
) -> BTreeSet<String> {
    let images: BTreeSet<&str> = snapshot
        .images
        .iter()
        .map(|image| image.id.as_str())
        .collect();
    records
        .filter_map(|record| match record {
            DeleteRecord::Deleted(id) if images.contains(id.as_str()) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, container_id, image_id, request};

    fn lab_like() -> Snapshot {
        SnapshotBuilder::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image(
                "run",
                ImageSpec::new()
                    .tags(["run:1"])
                    .parent("base")
                    .layers(["B", "R"]),
            )
            .image(
                "stopped",
                ImageSpec::new()
                    .tags(["stopped:1"])
                    .parent("base")
                    .layers(["B", "S"]),
            )
            .image(
                "other",
                ImageSpec::new()
                    .tags(["other:1"])
                    .parent("base")
                    .layers(["B", "O"]),
            )
            .running("running-1", "run")
            .stopped("stopped-1", "stopped")
            .running("bystander", "other")
            .build()
    }

    #[test]
    fn leaving_containers_is_the_plain_plan() {
        let snapshot = lab_like();
        let request = request(&["run:1"], true, false);
        let prepared = plan_with_containers(&snapshot, &request, ContainerPolicy::Leave);
        assert_eq!(prepared.plan, plan_removal(&snapshot, &request));
        assert_eq!(prepared.container_steps, vec![Vec::new()]);
        let planned = PreparedRemoval::leaving_containers(plan_removal(&snapshot, &request));
        assert_eq!(planned, prepared);
    }

    #[test]
    fn stop_and_remove_frees_a_running_containers_image_without_force() {
        let snapshot = lab_like();
        let prepared = plan_with_containers(
            &snapshot,
            &request(&["run:1"], false, false),
            ContainerPolicy::StopAndRemove,
        );
        assert!(prepared.plan.removals[0].error.is_none());
        assert!(deleted_images(&snapshot, prepared.plan.records()).contains(&image_id("run")));
        assert_eq!(
            prepared.container_steps[0],
            vec![ContainerStep {
                container_id: container_id("running-1"),
                image_id: image_id("run"),
                stop: true,
                remove: true,
            }]
        );
    }

    #[test]
    fn stopping_alone_needs_force_for_the_stopped_container_left_behind() {
        let snapshot = lab_like();
        let unforced = plan_with_containers(
            &snapshot,
            &request(&["run:1"], false, false),
            ContainerPolicy::Stop,
        );
        assert!(unforced.plan.removals[0].error.is_some());
        assert_eq!(unforced.container_steps, vec![Vec::new()]);
        assert_eq!(
            unforced.plan,
            plan_removal(&snapshot, &request(&["run:1"], false, false)),
            "nothing stopped, so the plan is the plain one with its running-container conflict"
        );

        let forced = plan_with_containers(
            &snapshot,
            &request(&["run:1"], true, false),
            ContainerPolicy::Stop,
        );
        assert!(forced.plan.removals[0].error.is_none());
        assert_eq!(forced.container_steps[0].len(), 1);
        assert!(forced.container_steps[0][0].stop);
        assert!(!forced.container_steps[0][0].remove);
    }

    #[test]
    fn containers_of_images_that_stay_are_never_touched() {
        let snapshot = lab_like();
        let prepared = plan_with_containers(
            &snapshot,
            &request(&["run:1", "base:1"], false, false),
            ContainerPolicy::StopAndRemove,
        );
        let touched: Vec<&str> = prepared
            .container_steps
            .iter()
            .flatten()
            .map(|step| step.container_id.as_str())
            .collect();
        assert_eq!(touched, [container_id("running-1")]);
        // base:1 is only untagged (children use it), so nothing of its own is stopped.
        assert!(prepared.container_steps[1].is_empty());
    }

    #[test]
    fn remove_also_takes_stopped_containers_of_deleted_images() {
        let snapshot = lab_like();
        let prepared = plan_with_containers(
            &snapshot,
            &request(&["stopped:1"], false, false),
            ContainerPolicy::StopAndRemove,
        );
        assert!(prepared.plan.removals[0].error.is_none());
        assert_eq!(
            prepared.container_steps[0],
            vec![ContainerStep {
                container_id: container_id("stopped-1"),
                image_id: image_id("stopped"),
                stop: false,
                remove: true,
            }]
        );
    }

    #[test]
    fn an_image_that_only_loses_a_tag_keeps_its_running_container() {
        let snapshot = SnapshotBuilder::new()
            .image("x", ImageSpec::new().tags(["x:1", "x:2"]).layers(["X"]))
            .running("c", "x")
            .build();
        let prepared = plan_with_containers(
            &snapshot,
            &request(&["x:1"], true, false),
            ContainerPolicy::StopAndRemove,
        );
        assert_eq!(prepared.container_steps, vec![Vec::new()]);
        assert_eq!(prepared.plan.removals[0].records.len(), 1);
    }

    #[test]
    fn a_step_belongs_to_the_request_that_deletes_the_image() {
        let snapshot = lab_like();
        let prepared = plan_with_containers(
            &snapshot,
            &request(&["other:1", "run:1"], false, false),
            ContainerPolicy::StopAndRemove,
        );
        assert_eq!(
            prepared.container_steps[0][0].container_id,
            container_id("bystander")
        );
        assert_eq!(
            prepared.container_steps[1][0].container_id,
            container_id("running-1")
        );
    }
}
