//! The engine's own `POST /images/prune` (dockerd 20.10, `ImagesPrune`), simulated: which
//! images it deletes, with which records, and why it keeps the others. The containerd image
//! store and Podman prune by other rules ([`super::containerd_prune`], [`super::podman_prune`]).
//!
//! The engine's candidates: every image without children when only dangling images are pruned,
//! otherwise every image; minus intermediate parents (no reference, some child); minus images
//! created after `until` or left out by the label filters. Each candidate is then deleted
//! without force and with parent pruning: an image with references through each of them by
//! name (only if none is a tag, unless `dangling=false`), an image without by its ID. Conflicts
//! are skipped quietly. The engine walks its candidates in Go map order, which is random; the
//! simulation walks them oldest first. The set of records and the final state do not depend on
//! the order; the order of the records does.

use std::collections::BTreeSet;

use crate::plan::SimulatedStore;
use crate::snapshot::Snapshot;

use super::decision::{Action, Decision, Reason};
use super::filters::created_at;
use super::plan::{PlannedRequest, PolicyPlan, bytes_by_image, freed, layer_record_size, usage};
use super::rules::PolicyRequest;
use super::selection::{
    children_names, container_keep, filter_detail, filter_reason, intermediate_detail,
    is_intermediate,
};

/// dockerd's prune (the classic store's rules).
pub(crate) fn plan_dockerd_prune(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    let initial = SimulatedStore::from_snapshot(snapshot);
    let dangling_only = !request.all;
    let ids = oldest_first(&initial);
    let candidates: Vec<String> = ids
        .iter()
        .filter(|id| !(dangling_only && initial.has_children(id)))
        .filter(|id| !is_intermediate(&initial, id))
        .filter(|id| {
            initial
                .images
                .get(id.as_str())
                .is_some_and(|image| request.filters.excludes(image).is_none())
        })
        .cloned()
        .collect();

    let mut store = initial.clone();
    let mut requests = Vec::new();
    for id in &candidates {
        let references = store.references_of(id);
        let names: Vec<String> = if references.is_empty() {
            vec![id.trim_start_matches("sha256:").to_owned()]
        } else if !dangling_only || references.iter().all(|r| r.tag().is_none()) {
            references.iter().map(|r| r.normalized()).collect()
        } else {
            Vec::new()
        };
        for name in names {
            let answer = store.delete_image(&name, false, true);
            requests.push(PlannedRequest {
                name,
                image_id: id.clone(),
                force: false,
                no_prune: false,
                records: answer.clone().unwrap_or_default(),
                error: answer.err(),
            });
        }
    }

    let candidate_set: BTreeSet<&String> = candidates.iter().collect();
    let all_ids: BTreeSet<String> = ids.iter().cloned().collect();
    let records: Vec<_> = requests
        .iter()
        .flat_map(|request| request.records.iter().cloned())
        .collect();
    let bytes = bytes_by_image(&records, &all_ids, layer_record_size(&store));
    let decisions = ids
        .iter()
        .map(|id| {
            let (action, reason, detail) = if !store.contains_image(id) {
                if candidate_set.contains(id) {
                    pruned_candidate(dangling_only)
                } else {
                    (
                        Action::Remove,
                        Reason::ParentPruned,
                        "untagged parent, pruned with its last child".to_owned(),
                    )
                }
            } else if store.references_of(id).len() < initial.references_of(id).len() {
                // The engine's prune deletes each reference without force: all but the last go
                // even when a container or a child then keeps the image.
                let (reason, why) = match container_keep(&initial, id, false, false) {
                    Some(kept) => kept,
                    None => (
                        Reason::HasChildren,
                        format!("child images stay ({})", children_names(&store, id)),
                    ),
                };
                (Action::Untag, reason, format!("untagged only: {why}"))
            } else {
                let (reason, detail) = kept_because(&initial, &store, id, request);
                (Action::Keep, reason, detail)
            };
            decision(&initial, id, action, reason, detail, bytes.get(id).copied())
        })
        .collect();

    let usage_before = usage(&initial);
    let predicted_bytes = freed(&store);
    PolicyPlan::engine_prune(decisions, requests, predicted_bytes, usage_before)
}

/// A candidate the engine's prune removes: dangling, or with `--all` unused.
pub(crate) fn pruned_candidate(dangling_only: bool) -> (Action, Reason, String) {
    if dangling_only {
        (
            Action::Remove,
            Reason::Dangling,
            "dangling: no tag".to_owned(),
        )
    } else {
        (
            Action::Remove,
            Reason::Unused,
            "unused: no container uses it".to_owned(),
        )
    }
}

/// Why the engine's prune leaves an image alone, in the order the engine decides it.
fn kept_because(
    initial: &SimulatedStore,
    store: &SimulatedStore,
    id: &str,
    request: &PolicyRequest,
) -> (Reason, String) {
    if is_intermediate(initial, id) {
        return (Reason::Intermediate, intermediate_detail());
    }
    let tagged = initial
        .references_of(id)
        .iter()
        .any(|reference| reference.tag().is_some());
    if !request.all && tagged {
        return (
            Reason::Tagged,
            "tagged: prune removes only dangling images without --all".to_owned(),
        );
    }
    kept_by_filters_containers_or_children(initial, store, id, request)
}

/// Why a prune that could take an image leaves it: a filter, a container, a child that stays,
/// or else a conflict.
pub(crate) fn kept_by_filters_containers_or_children(
    initial: &SimulatedStore,
    store: &SimulatedStore,
    id: &str,
    request: &PolicyRequest,
) -> (Reason, String) {
    if let Some(image) = initial.images.get(id)
        && let Some(out) = request.filters.excludes(image)
    {
        return (filter_reason(&out), filter_detail(&out, request, image));
    }
    if let Some(reason) = container_keep(initial, id, false, false) {
        return reason;
    }
    if store.has_children(id) {
        return (
            Reason::HasChildren,
            format!("child images stay ({})", children_names(store, id)),
        );
    }
    (
        Reason::Refused,
        "the engine's prune leaves it (a conflict)".to_owned(),
    )
}

/// Image IDs, oldest first (creation time, then ID).
pub(crate) fn oldest_first(store: &SimulatedStore) -> Vec<String> {
    let mut images: Vec<_> = store.images.values().collect();
    images.sort_by(|a, b| {
        created_at(a)
            .cmp(&created_at(b))
            .then_with(|| a.id.cmp(&b.id))
    });
    images.into_iter().map(|image| image.id.clone()).collect()
}

/// A decision for an image of the snapshot.
pub(crate) fn decision(
    initial: &SimulatedStore,
    id: &str,
    action: Action,
    reason: Reason,
    detail: String,
    bytes: Option<u64>,
) -> Decision {
    let created = initial
        .images
        .get(id)
        .map(|image| created_at(image).to_string())
        .unwrap_or_default();
    Decision {
        image: id.to_owned(),
        references: initial
            .references_of(id)
            .iter()
            .map(|reference| reference.familiar())
            .collect(),
        created,
        action,
        reason,
        detail,
        bytes: if action == Action::Keep {
            0
        } else {
            bytes.unwrap_or(0)
        },
    }
}
