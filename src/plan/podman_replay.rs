//! One `rmi` argument on Podman, planned as fleetrmi sends it: never with Podman's force (it
//! removes containers). Without `-f` the argument goes as given; with `-f` Docker's forced
//! outcome (the classic rules) decides the [`Dispatch`], and the requests that dispatch sends
//! are replayed with Podman's own rules, so the plan's records are the engine's answers.

use super::api_error::ApiError;
use super::dispatch::{Dispatch, unforced_dispatch};
use super::planned_removal::PlannedRemoval;
use super::record::DeleteRecord;
use super::request::RemovalRequest;
use super::store::SimulatedStore;

/// What a plan says before an image it cannot predict exactly on Podman.
const NOT_EXACT: &str = "not predicted exactly on this engine (podman)";

pub(crate) fn replay_podman(
    store: &mut SimulatedStore,
    request: &RemovalRequest,
    image: &str,
) -> PlannedRemoval {
    let mut caveat = store.podman_lookup_caveat(image);
    let dispatch = if request.force {
        docker_forced_dispatch(store, image, !request.no_prune)
    } else {
        Ok(Dispatch::AsGiven)
    };
    let dispatch = match dispatch {
        Ok(dispatch) => dispatch,
        Err(refusal) => {
            let not_exact = caveat.map(|why| format!("{NOT_EXACT}: {why}"));
            return PlannedRemoval::refused(image, refusal, not_exact);
        }
    };
    let names: Vec<String> = match &dispatch {
        Dispatch::AsGiven => vec![image.to_string()],
        Dispatch::Unforced(names) | Dispatch::Untag(names) => names.clone(),
        Dispatch::Refused => Vec::new(),
    };
    let untag = matches!(dispatch, Dispatch::Untag(_));
    let mut records = Vec::new();
    let mut error = None;
    for name in &names {
        if untag {
            if store.untag_podman(name) {
                records.push(DeleteRecord::Untagged(name.clone()));
            }
            continue;
        }
        let target = store.podman_find(name).ok();
        match store.remove_podman(name, false) {
            Ok((mut more, outcome)) => {
                records.append(&mut more);
                if outcome.parent_in_use {
                    caveat = caveat.or(Some(
                        "Podman answers an error when the parents it prunes reach one a \
                         container uses, after removing the image",
                    ));
                }
            }
            Err(refusal) => {
                let users = target.map_or(0, |target| {
                    store
                        .containers
                        .iter()
                        .filter(|container| container.image_id == target.image_id)
                        .count()
                });
                if refusal.status == ApiError::CONFLICT && users > 1 {
                    caveat = caveat.or(Some(
                        "several containers use the image; Podman's message names one of them",
                    ));
                }
                error = Some(refusal);
                break;
            }
        }
    }
    PlannedRemoval {
        image: image.to_string(),
        records,
        error,
        dispatch,
        not_exact: caveat.map(|why| format!("{NOT_EXACT}: {why}")),
    }
}

/// How `-f` is sent: Docker's forced outcome by the classic rules, reached without force. Names
/// sent one by one are the image's Podman names (a pulled digest is one of them).
fn docker_forced_dispatch(
    store: &SimulatedStore,
    image: &str,
    prune: bool,
) -> Result<Dispatch, ApiError> {
    let mut docker = store.clone();
    let records = match docker.delete_image_classic(image, true, prune) {
        Ok(records) => records,
        Err(_) => return Ok(Dispatch::Unforced(vec![image.to_string()])),
    };
    match unforced_dispatch(store, image, &records)? {
        Dispatch::Unforced(names) if names.len() > 1 => {
            let names = store
                .podman_find(image)
                .map(|target| store.podman_names(&target.image_id))
                .unwrap_or(names);
            Ok(Dispatch::Unforced(names))
        }
        dispatch => Ok(dispatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EngineKind;
    use crate::plan::removal::plan_removal;
    use crate::plan::test_support::{
        ImageSpec, SnapshotBuilder, deleted, image_id, request, untagged,
    };
    use crate::snapshot::Snapshot;

    fn podman(builder: SnapshotBuilder) -> Snapshot {
        let mut snapshot = builder.build();
        snapshot.engine = EngineKind::Podman;
        snapshot
    }

    fn seeded() -> Snapshot {
        podman(
            SnapshotBuilder::new()
                .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
                .image(
                    "m",
                    ImageSpec::new()
                        .tags(["other/multi:1", "multi:2", "multi:1"])
                        .parent("base")
                        .layers(["B", "M"]),
                )
                .image("r", ImageSpec::new().tags(["run:1"]).layers(["R"]))
                .image("s", ImageSpec::new().tags(["stopped:1"]).layers(["S"]))
                .running("running-1", "r")
                .stopped("stopped-1", "s")
                .layer_size("M", 300),
        )
    }

    #[test]
    fn forced_by_id_goes_name_by_name_in_podmans_order() {
        let plan = plan_removal(&seeded(), &request(&[&image_id("m")], true, false));
        let removal = &plan.removals[0];
        assert_eq!(
            removal.dispatch,
            Dispatch::Unforced(vec![
                "other/multi:1".into(),
                "multi:2".into(),
                "multi:1".into()
            ])
        );
        assert_eq!(
            removal.records,
            [
                untagged("other/multi:1"),
                untagged("multi:2"),
                deleted(&image_id("m")),
                untagged("multi:1")
            ]
        );
        assert_eq!(removal.error, None);
        assert_eq!(plan.predicted_bytes, 300);
    }

    #[test]
    fn forced_last_name_of_a_running_containers_image_is_untagged() {
        let plan = plan_removal(&seeded(), &request(&["run:1"], true, false));
        let removal = &plan.removals[0];
        assert_eq!(removal.dispatch, Dispatch::Untag(vec!["run:1".into()]));
        assert_eq!(removal.records, [untagged("run:1")]);
        assert_eq!(plan.predicted_bytes, 0);
    }

    #[test]
    fn forced_last_name_of_a_stopped_containers_image_is_refused() {
        let plan = plan_removal(&seeded(), &request(&["stopped:1", "multi:2"], true, false));
        assert_eq!(plan.removals[0].dispatch, Dispatch::Refused);
        assert!(plan.removals[0].records.is_empty());
        assert_eq!(plan.removals[1].records, [untagged("multi:2")]);
    }

    #[test]
    fn unforced_arguments_go_as_given_and_each_sees_the_state_the_last_left() {
        let plan = plan_removal(&seeded(), &request(&["multi:2", "base:1"], false, false));
        assert_eq!(plan.removals[0].dispatch, Dispatch::AsGiven);
        assert_eq!(plan.removals[1].records, [untagged("base:1")]);
        assert_eq!(
            plan.predicted_bytes, 0,
            "an image kept for its child frees nothing"
        );
        assert!(
            plan.removals
                .iter()
                .all(|removal| removal.not_exact.is_none())
        );
    }

    #[test]
    fn a_container_named_among_several_is_not_exact() {
        let snapshot = podman(
            SnapshotBuilder::new()
                .image("r", ImageSpec::new().tags(["run:1"]))
                .running("c1", "r")
                .running("c2", "r"),
        );
        let plan = plan_removal(&snapshot, &request(&["run:1"], false, false));
        let why = plan.removals[0].not_exact.as_deref().expect("marked");
        assert!(why.starts_with(NOT_EXACT), "{why}");
    }
}
