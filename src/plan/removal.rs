//! The removal plan: what `docker rmi` will do on one host, request by request, and the bytes it
//! will free.

use crate::data::EngineKind;
use crate::snapshot::Snapshot;

use super::dispatch::Dispatch;
use super::freed_by_images::FreedByImages;
use super::planned_removal::PlannedRemoval;
use super::podman_replay::replay_podman;
use super::record::DeleteRecord;
use super::request::RemovalRequest;
use super::space::SpaceReclaim;
use super::store::SimulatedStore;

/// What one `docker rmi` invocation will do on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalPlan {
    /// One entry per argument, in order; each saw the state the earlier ones left.
    pub removals: Vec<PlannedRemoval>,
    /// Chain IDs freed on disk, each once, in the order the engine frees them.
    pub freed_layers: Vec<String>,
    /// Bytes freed on disk: Σ `DiffSize` of [`RemovalPlan::freed_layers`].
    pub predicted_bytes: u64,
    /// How far `/system/df` `LayersSize` will fall (containers do not hold layers there).
    pub predicted_layers_size_drop: u64,
    /// Bytes of layers whose images are deleted but which containers still hold.
    pub held_by_containers_bytes: u64,
}

impl RemovalPlan {
    /// The plan of removals that delete no image: they only untag (or fail), so no layer is
    /// freed and no byte counted.
    pub(crate) fn deleting_nothing(removals: Vec<PlannedRemoval>) -> RemovalPlan {
        RemovalPlan {
            removals,
            ..RemovalPlan::default()
        }
    }

    /// The exit code `docker rmi` would end with: 0 without errors, or with `-f` when every
    /// error is "No such image"; 1 otherwise. The conformance tests compare it with the CLI's.
    #[cfg(test)]
    pub fn docker_exit_code(&self, force: bool) -> u8 {
        let mut errors = self
            .removals
            .iter()
            .filter_map(|removal| removal.error.as_ref())
            .peekable();
        if errors.peek().is_none()
            || (force && errors.all(super::api_error::ApiError::is_not_found))
        {
            0
        } else {
            1
        }
    }

    /// The records of every successful request, in order.
    pub fn records(&self) -> impl Iterator<Item = &DeleteRecord> {
        self.removals.iter().flat_map(|removal| &removal.records)
    }
}

/// Simulates `docker rmi` on a snapshot: one `DELETE /images/{name}` per argument, in order, each
/// on the state the earlier ones left, a failure not stopping the next.
pub fn plan_removal(snapshot: &Snapshot, request: &RemovalRequest) -> RemovalPlan {
    plan_removal_on(SimulatedStore::from_snapshot(snapshot), snapshot, request)
}

/// [`plan_removal`] on a store already loaded from the snapshot (the one
/// [`SimulatedStore::from_snapshot`] loads), so a caller that has it does not load it again.
pub fn plan_removal_on(
    mut store: SimulatedStore,
    snapshot: &Snapshot,
    request: &RemovalRequest,
) -> RemovalPlan {
    let used_by_images_before = store.layers_used_by_images();
    // Where the engine names only the images it deleted, the real run counts the layers (and
    // content blobs) those images leave unheld: the plan counts the same way over the records
    // it predicts, on the store as loaded.
    let counting = (!snapshot.engine.deletes_answer_with_layers())
        .then(|| FreedByImages::from_store(store.clone(), snapshot));
    let removals = replay(&mut store, request);
    let reclaim = SpaceReclaim::measure(&store, &used_by_images_before);
    let predicted_bytes = match counting {
        None => reclaim.freed_on_disk,
        Some(mut counting) => {
            let records: Vec<DeleteRecord> = removals
                .iter()
                .flat_map(|removal| removal.records.iter().cloned())
                .collect();
            counting.count(&records)
        }
    };
    RemovalPlan {
        removals,
        freed_layers: store.freed_layers().to_vec(),
        predicted_bytes,
        predicted_layers_size_drop: reclaim.layers_size_drop,
        held_by_containers_bytes: reclaim.held_by_containers(),
    }
}

/// Runs the request's deletes on the store in order, each on the state the earlier ones left.
pub(crate) fn replay(store: &mut SimulatedStore, request: &RemovalRequest) -> Vec<PlannedRemoval> {
    request
        .images
        .iter()
        .map(|image| replay_one(store, request, image))
        .collect()
}

fn replay_one(store: &mut SimulatedStore, request: &RemovalRequest, image: &str) -> PlannedRemoval {
    match store.engine {
        EngineKind::DockerClassic => replay_as_dockerd(store, request, image),
        EngineKind::DockerContainerd => replay_as_dockerd(store, request, image),
        EngineKind::Podman => replay_podman(store, request, image),
    }
}

/// dockerd (either store) gets the argument as given: its force never removes a container.
fn replay_as_dockerd(
    store: &mut SimulatedStore,
    request: &RemovalRequest,
    image: &str,
) -> PlannedRemoval {
    let (records, error) = match store.delete_image(image, request.force, !request.no_prune) {
        Ok(records) => (records, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    PlannedRemoval {
        image: image.to_string(),
        records,
        error,
        dispatch: Dispatch::AsGiven,
        not_exact: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{
        ImageSpec, SnapshotBuilder, chain_id, deleted, image_id, request, untagged,
    };

    #[test]
    fn each_request_sees_the_state_the_earlier_ones_left() {
        let snapshot = SnapshotBuilder::new()
            .image("k1", ImageSpec::new().tags(["k1:1", "k1:2"]).layers(["K"]))
            .build();
        let plan = plan_removal(&snapshot, &request(&["k1:2", "k1:1"], false, false));
        assert_eq!(plan.removals[0].records, [untagged("k1:2")]);
        assert_eq!(
            plan.removals[1].records,
            [
                untagged("k1:1"),
                deleted(&image_id("k1")),
                deleted(&chain_id(&["K"]))
            ]
        );
        assert_eq!(plan.freed_layers, [chain_id(&["K"])]);
        assert_eq!(plan.docker_exit_code(false), 0);
    }

    #[test]
    fn a_failed_request_does_not_stop_the_next() {
        let snapshot = SnapshotBuilder::new()
            .image("ok", ImageSpec::new().tags(["ok:1"]).layers(["O"]))
            .image("x", ImageSpec::new().tags(["x:1"]).layers(["X"]))
            .build();
        let plan = plan_removal(&snapshot, &request(&["nope", "x:1"], false, false));
        assert!(plan.removals[0].error.is_some());
        assert_eq!(plan.removals[1].records.len(), 3);
    }

    #[test]
    fn exit_code_is_zero_with_force_when_every_error_is_not_found() {
        let snapshot = SnapshotBuilder::new().build();
        let plan = plan_removal(&snapshot, &request(&["nope1", "nope2"], true, false));
        assert_eq!(plan.docker_exit_code(true), 0);
        assert_eq!(plan.docker_exit_code(false), 1);
        let invalid = plan_removal(&snapshot, &request(&["UPPER"], true, false));
        assert_eq!(invalid.docker_exit_code(true), 1);
    }

    #[test]
    fn an_empty_request_plans_nothing() {
        let snapshot = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1"]))
            .build();
        assert_eq!(
            plan_removal(&snapshot, &RemovalRequest::default()),
            RemovalPlan::default()
        );
    }
}
