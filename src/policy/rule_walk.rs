//! Rule-based removal: the candidates the rules select, removed oldest first, children before
//! parents, until they run out or the threshold (`--max-usage`, `--until-free`) is met.
//!
//! Each step removes the oldest candidate that no remaining image depends on, simulated on the
//! store the earlier steps left, so a parent becomes removable once its last child is gone and
//! a shared layer is counted once, with the removal that frees it. An image goes by
//! `DELETE /images/<id>` when it has at most one reference, or with `--force`; one with several
//! references goes reference by reference (`DELETE /images/<ref>`), the last one deleting it,
//! because deleting it by ID would need force. Untagged parents are pruned by the engine with
//! their last child, unless that would remove a protected image: then that step uses `noprune`.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::{SimulatedStore, is_single_reference};
use crate::reference::Reference;
use crate::snapshot::Snapshot;

use super::decision::{Action, Reason};
use super::engine_prune::{decision, oldest_first};
use super::plan::{PlannedRequest, PolicyPlan, bytes_by_image, freed, usage};
use super::rules::{PolicyRequest, PruneMode, Rules};
use super::selection::{Selection, Verdict, children_names, image_name};
use super::units::format_size as format_bytes;

pub(crate) fn plan_rules(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    let initial = SimulatedStore::from_snapshot(snapshot);
    let selection = Selection::new(&initial, request);
    let ids = oldest_first(&initial);
    let verdicts: BTreeMap<String, Verdict> = ids
        .iter()
        .map(|id| (id.clone(), selection.judge(&initial, id)))
        .collect();
    let protected: BTreeSet<&String> = ids
        .iter()
        .filter(|id| selection.protection(&initial, id).is_some())
        .collect();
    let mut pending: Vec<&String> = ids
        .iter()
        .filter(|id| matches!(verdicts[*id], Verdict::Candidate(_)))
        .collect();

    let usage_before = usage(&initial);
    let rules = &request.rules;
    let mut store = initial.clone();
    let mut requests: Vec<PlannedRequest> = Vec::new();
    let mut chosen: BTreeMap<String, (Reason, String)> = BTreeMap::new();
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    let mut pruned_with: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let freed_so_far = freed(&store);
        let usage_now = usage_before.saturating_sub(freed_so_far);
        if goals_met(rules, usage_now, freed_so_far) {
            break;
        }
        let Some(position) = pending.iter().position(|id| !store.has_children(id)) else {
            break;
        };
        let id = pending.remove(position);
        let why = match &verdicts[id] {
            Verdict::Candidate(why) => why.clone(),
            Verdict::Keep(_, detail) => detail.clone(),
        };
        let names = request_names(&store, id, request.force);
        let mut step = store.clone();
        let mut attempt = remove(&mut step, id, &names, request.force, false);
        let pruned: Vec<String> = step.deleted_images()[store.deleted_images().len()..]
            .iter()
            .filter(|deleted| *deleted != id)
            .cloned()
            .collect();
        if pruned.iter().any(|deleted| protected.contains(deleted)) {
            step = store.clone();
            attempt = remove(&mut step, id, &names, request.force, true);
        }
        if let Some(error) = attempt.iter().find_map(|request| request.error.clone()) {
            refused.insert(id.clone(), error.message);
            continue;
        }
        for deleted in &step.deleted_images()[store.deleted_images().len()..] {
            if deleted != id {
                pruned_with.insert(deleted.clone(), image_name(&initial, id));
            }
        }
        let reason = if rules.has_threshold() {
            (
                Reason::OverThreshold,
                format!("{}; {why}", threshold_state(rules, usage_now, freed_so_far)),
            )
        } else {
            (Reason::Selected, why)
        };
        chosen.insert(id.clone(), reason);
        requests.extend(attempt);
        store = step;
    }

    let all_ids: BTreeSet<String> = ids.iter().cloned().collect();
    let records: Vec<_> = requests
        .iter()
        .flat_map(|request| request.records.iter().cloned())
        .collect();
    let bytes = bytes_by_image(&records, &all_ids, &store);
    let predicted_bytes = freed(&store);
    let usage_after = usage_before.saturating_sub(predicted_bytes);
    let decisions = ids
        .iter()
        .map(|id| {
            let (action, reason, detail) = if let Some((reason, detail)) = chosen.get(id) {
                if store.contains_image(id) {
                    (
                        Action::Untag,
                        Reason::Refused,
                        "the engine left it".to_owned(),
                    )
                } else {
                    (Action::Remove, *reason, detail.clone())
                }
            } else if !store.contains_image(id) {
                let child = pruned_with.get(id).cloned().unwrap_or_default();
                (
                    Action::Remove,
                    Reason::ParentPruned,
                    format!("untagged parent, pruned with {child}"),
                )
            } else if let Some(message) = refused.get(id) {
                (Action::Keep, Reason::Refused, message.clone())
            } else if pending.contains(&id) {
                if store.has_children(id) {
                    (
                        Action::Keep,
                        Reason::HasChildren,
                        format!("child images stay ({})", children_names(&store, id)),
                    )
                } else {
                    (
                        Action::Keep,
                        Reason::ThresholdMet,
                        threshold_state(rules, usage_after, predicted_bytes),
                    )
                }
            } else {
                match &verdicts[id] {
                    // Its last child went with `noprune` (to spare a protected ancestor), so it
                    // stays although no child is left.
                    Verdict::Keep(Reason::Intermediate, _) if !store.has_children(id) => (
                        Action::Keep,
                        Reason::Intermediate,
                        "untagged parent left in place: its last child was removed without \
                         pruning parents, to keep a protected image above it"
                            .to_owned(),
                    ),
                    Verdict::Keep(reason, detail) => (Action::Keep, *reason, detail.clone()),
                    Verdict::Candidate(why) => (Action::Keep, Reason::Refused, why.clone()),
                }
            };
            decision(&initial, id, action, reason, detail, bytes.get(id).copied())
        })
        .collect();

    PolicyPlan {
        mode: PruneMode::Rules,
        decisions,
        requests,
        predicted_bytes,
        usage_before,
        usage_after,
    }
}

/// The requests that remove one image: by ID when one request can do it without force (no
/// reference, or a single one: one tag with the digests of its repository), else reference by
/// reference. A repository's digests go with its last tag, so only the digests of repositories
/// without a tag are asked for: asking for one already gone would be a 404.
fn request_names(store: &SimulatedStore, id: &str, force: bool) -> Vec<String> {
    let references = store.references_of(id);
    if force || references.is_empty() || is_single_reference(&references) {
        return vec![id.to_owned()];
    }
    let tagged: BTreeSet<String> = references
        .iter()
        .filter(|reference| reference.digest().is_none())
        .map(Reference::name)
        .collect();
    references
        .iter()
        .filter(|reference| reference.digest().is_none() || !tagged.contains(&reference.name()))
        .map(Reference::familiar)
        .collect()
}

/// Runs the requests for one image on `store`, as the engine will.
fn remove(
    store: &mut SimulatedStore,
    id: &str,
    names: &[String],
    force: bool,
    no_prune: bool,
) -> Vec<PlannedRequest> {
    let mut requests = Vec::with_capacity(names.len());
    for name in names {
        // Only the request by ID is forced; removing a reference needs no force.
        let force = force && name == id;
        let answer = store.delete_image(name, force, !no_prune);
        let failed = answer.is_err();
        requests.push(PlannedRequest {
            name: name.clone(),
            image_id: id.to_owned(),
            force,
            no_prune,
            records: answer.clone().unwrap_or_default(),
            error: answer.err(),
        });
        if failed {
            break;
        }
    }
    requests
}

/// Whether the thresholds are met. Without any, never: every candidate goes.
fn goals_met(rules: &Rules, usage: u64, freed: u64) -> bool {
    rules.has_threshold()
        && rules.max_usage.is_none_or(|max| usage <= max)
        && rules.until_free.is_none_or(|goal| freed >= goal)
}

/// Where usage and freed bytes stand against the thresholds, in words.
fn threshold_state(rules: &Rules, usage: u64, freed: u64) -> String {
    let mut parts = Vec::new();
    if let Some(max) = rules.max_usage {
        let relation = if usage > max { "above" } else { "within" };
        parts.push(format!(
            "images use {}, {relation} --max-usage {}",
            format_bytes(usage),
            format_bytes(max)
        ));
    }
    if let Some(goal) = rules.until_free {
        let relation = if freed < goal { "short of" } else { "reaching" };
        parts.push(format!(
            "{} freed, {relation} --until-free {}",
            format_bytes(freed),
            format_bytes(goal)
        ));
    }
    parts.join(", ")
}
