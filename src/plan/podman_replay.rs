//! One `rmi` argument on Podman, planned as fleetrmi sends it: never with Podman's force (it
//! removes containers). Without `-f` the argument goes as given; with `-f` Docker's forced
//! outcome (the classic rules) decides the [`Dispatch`], and the requests that dispatch sends
//! are replayed with Podman's own rules, so the plan's records are the engine's answers.

use super::dispatch::{Dispatch, unforced_dispatch};
use super::engine_error::EngineError;
use super::record::DeleteRecord;
use super::removal::PlannedRemoval;
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
            return PlannedRemoval {
                image: image.to_string(),
                records: Vec::new(),
                error: Some(refusal),
                dispatch: Dispatch::Refused,
                not_exact: caveat.map(|why| format!("{NOT_EXACT}: {why}")),
            };
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
                if refusal.status == EngineError::CONFLICT && users > 1 {
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
) -> Result<Dispatch, EngineError> {
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
