//! Rule-based removal: the candidates the rules select, removed oldest first, children before
//! parents, until they run out or the threshold (`--max-usage`, `--until-free`) is met.
//!
//! Each step removes the oldest candidate that no remaining image depends on, simulated on the
//! store the earlier steps left, so a parent becomes removable once its last child is gone and
//! a shared layer is counted once, with the removal that frees it. An image goes by
//! `DELETE /images/<id>` when it has at most one reference, or with `--force`; one with several
//! references goes reference by reference (`DELETE /images/<ref>`), the last one deleting it,
//! because deleting it by ID would need force. Untagged parents are pruned by the engine with
//! their last child, unless that would remove a protected image: then that step uses `noprune`
//! (on an engine that ignores it, the candidate stays). Podman's requests are its own
//! ([`podman_request_names`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::data::EngineKind;
use crate::plan::{FreedByImages, SimulatedStore, is_single_reference};
use crate::reference::Reference;
use crate::snapshot::{Snapshot, short_id};

use super::decision::{Action, Reason};
use super::engine_prune::{decision, oldest_first};
use super::plan::{
    PlannedRequest, PolicyPlan, bytes_by_image, freed, image_usage, layer_record_size,
};
use super::podman_prune::{podman_refusal, podman_request_names};
use super::rules::{PolicyRequest, PruneMode, Rules};
use super::selection::{Selection, Verdict, children_names, image_name};
use super::units::format_size as format_bytes;

pub(crate) fn plan_rules(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    let mut walk = RuleWalk::new(snapshot, request);
    while walk.step() {}
    walk.into_plan()
}

/// The walk through the candidates: the store as the removals so far left it, and what became
/// of each image on the way.
struct RuleWalk<'a> {
    snapshot: &'a Snapshot,
    request: &'a PolicyRequest,
    /// The store as read.
    initial: SimulatedStore,
    /// Every image, oldest first.
    ids: Vec<String>,
    verdicts: BTreeMap<String, Verdict>,
    /// Images no removal may prune as an untagged parent.
    protected: BTreeSet<String>,
    /// Candidates not removed yet, oldest first.
    pending: Vec<String>,
    usage_before: u64,
    /// The store as the planned removals leave it.
    store: SimulatedStore,
    /// Where the engine's answers name images only: the bytes the planned removals free,
    /// counted as the real run counts them, and the running total the thresholds see.
    counting: Option<(FreedByImages, u64)>,
    requests: Vec<PlannedRequest>,
    /// Removed candidates, with why.
    chosen: BTreeMap<String, (Reason, String)>,
    /// Candidates the engine would refuse to remove, with its message.
    refused: BTreeMap<String, String>,
    /// Untagged parents pruned with a child, with the child's name.
    pruned_with: BTreeMap<String, String>,
}

impl<'a> RuleWalk<'a> {
    fn new(snapshot: &'a Snapshot, request: &'a PolicyRequest) -> RuleWalk<'a> {
        let initial = SimulatedStore::from_snapshot(snapshot);
        let selection = Selection::new(&initial, request);
        let ids = oldest_first(&initial);
        let verdicts: BTreeMap<String, Verdict> = ids
            .iter()
            .map(|id| (id.clone(), selection.judge(&initial, id)))
            .collect();
        let protected = ids
            .iter()
            .filter(|id| selection.protection(&initial, id).is_some())
            .cloned()
            .collect();
        let pending = ids
            .iter()
            .filter(|id| matches!(verdicts[*id], Verdict::Candidate(_)))
            .cloned()
            .collect();
        RuleWalk {
            snapshot,
            request,
            usage_before: image_usage(&initial, snapshot),
            counting: (!snapshot.engine.deletes_answer_with_layers())
                .then(|| (FreedByImages::from_store(initial.clone(), snapshot), 0)),
            store: initial.clone(),
            initial,
            ids,
            verdicts,
            protected,
            pending,
            requests: Vec::new(),
            chosen: BTreeMap::new(),
            refused: BTreeMap::new(),
            pruned_with: BTreeMap::new(),
        }
    }

    /// Plans the removal of the oldest candidate no remaining image depends on; false when the
    /// thresholds are met or no candidate is left that can go.
    fn step(&mut self) -> bool {
        let freed_so_far = match &self.counting {
            Some((_, counted)) => *counted,
            None => freed(&self.store),
        };
        let usage_now = self.usage_before.saturating_sub(freed_so_far);
        if goals_met(&self.request.rules, usage_now, freed_so_far) {
            return false;
        }
        let store = &self.store;
        let Some(position) = self.pending.iter().position(|id| !store.has_children(id)) else {
            return false;
        };
        let id = self.pending.remove(position);
        if let Some(refusal) = self.engine_refusal(&id) {
            self.refused.insert(id, refusal);
            return true;
        }
        let force = self.request.force;
        let names = request_names(&self.store, &id, force);
        let mut step = self.store.clone();
        let mut attempt = remove(&mut step, &id, &names, force, false);
        let before = self.store.deleted_images().len();
        if self.prunes_protected(&step, before, &id).is_some() {
            step = self.store.clone();
            attempt = remove(&mut step, &id, &names, force, true);
        }
        if let Some(error) = attempt.iter().find_map(|request| request.error.clone()) {
            self.refused.insert(id, error.message);
            return true;
        }
        // An engine that ignores `noprune` (Podman 4.3) would still take the protected parent.
        if let Some(parent) = self.prunes_protected(&step, before, &id) {
            let refusal = format!(
                "not removed: this engine would also remove its protected untagged parent {} \
                 (it prunes untagged parents even with noprune)",
                short_id(&parent)
            );
            self.refused.insert(id, refusal);
            return true;
        }
        for deleted in &step.deleted_images()[before..] {
            if *deleted != id {
                let child = image_name(&self.initial, &id);
                self.pruned_with.insert(deleted.clone(), child);
            }
        }
        let reason = self.reason(&id, usage_now, freed_so_far);
        self.chosen.insert(id, reason);
        if let Some((counting, counted)) = &mut self.counting {
            for request in &attempt {
                *counted += counting.count(&request.records);
            }
        }
        self.requests.extend(attempt);
        self.store = step;
        true
    }

    /// A protected image other than `id` that the removal simulated on `step` pruned.
    fn prunes_protected(&self, step: &SimulatedStore, before: usize, id: &str) -> Option<String> {
        step.deleted_images()[before..]
            .iter()
            .find(|deleted| *deleted != id && self.protected.contains(*deleted))
            .cloned()
    }

    /// A candidate fleetrmi itself refuses on this engine, with why.
    fn engine_refusal(&self, id: &str) -> Option<String> {
        match self.store.engine {
            EngineKind::Podman => podman_refusal(&self.store, id, &image_name(&self.initial, id)),
            EngineKind::DockerClassic | EngineKind::DockerContainerd => None,
        }
    }

    /// Why a candidate is removed: selected by the rules, or over a threshold as well.
    fn reason(&self, id: &str, usage_now: u64, freed_so_far: u64) -> (Reason, String) {
        let why = match &self.verdicts[id] {
            Verdict::Candidate(why) => why.clone(),
            Verdict::Keep(_, detail) => detail.clone(),
        };
        let rules = &self.request.rules;
        if rules.has_threshold() {
            (
                Reason::OverThreshold,
                format!("{}; {why}", threshold_state(rules, usage_now, freed_so_far)),
            )
        } else {
            (Reason::Selected, why)
        }
    }

    fn into_plan(self) -> PolicyPlan {
        let all_ids: BTreeSet<String> = self.ids.iter().cloned().collect();
        let records: Vec<_> = self
            .requests
            .iter()
            .flat_map(|request| request.records.iter().cloned())
            .collect();
        // Bytes as the real run counts them: from the layer records the engine lists, or
        // where it lists images only, from what those images leave unheld.
        let (bytes, predicted_bytes) = if self.snapshot.engine.deletes_answer_with_layers() {
            let bytes = bytes_by_image(&records, &all_ids, layer_record_size(&self.store));
            (bytes, freed(&self.store))
        } else {
            let mut counting = FreedByImages::from_store(self.initial.clone(), self.snapshot);
            let bytes = bytes_by_image(&records, &all_ids, |record| {
                counting.count(std::slice::from_ref(record))
            });
            let total = bytes.values().sum();
            (bytes, total)
        };
        let usage_after = self.usage_before.saturating_sub(predicted_bytes);
        let decisions = self
            .ids
            .iter()
            .map(|id| {
                let (action, reason, detail) = self.outcome(id, usage_after, predicted_bytes);
                let bytes = bytes.get(id).copied();
                decision(&self.initial, id, action, reason, detail, bytes)
            })
            .collect();
        PolicyPlan {
            mode: PruneMode::Rules,
            decisions,
            requests: self.requests,
            predicted_bytes,
            usage_before: self.usage_before,
            usage_after,
        }
    }

    /// What became of one image at the end of the walk, and why.
    fn outcome(&self, id: &String, usage_after: u64, predicted: u64) -> (Action, Reason, String) {
        let store = &self.store;
        if let Some((reason, detail)) = self.chosen.get(id) {
            return if store.contains_image(id) {
                (
                    Action::Untag,
                    Reason::Refused,
                    "the engine left it".to_owned(),
                )
            } else {
                (Action::Remove, *reason, detail.clone())
            };
        }
        if !store.contains_image(id) {
            let child = self.pruned_with.get(id).cloned().unwrap_or_default();
            return (
                Action::Remove,
                Reason::ParentPruned,
                format!("untagged parent, pruned with {child}"),
            );
        }
        if let Some(message) = self.refused.get(id) {
            return (Action::Keep, Reason::Refused, message.clone());
        }
        if self.pending.contains(id) {
            return if store.has_children(id) {
                (
                    Action::Keep,
                    Reason::HasChildren,
                    format!("child images stay ({})", children_names(store, id)),
                )
            } else {
                (
                    Action::Keep,
                    Reason::ThresholdMet,
                    threshold_state(&self.request.rules, usage_after, predicted),
                )
            };
        }
        match &self.verdicts[id] {
            // Its last child went with `noprune` (to spare a protected ancestor), so it stays
            // although no child is left.
            Verdict::Keep(Reason::Intermediate, _) if !store.has_children(id) => (
                Action::Keep,
                Reason::Intermediate,
                "untagged parent left in place: its last child was removed without pruning \
                 parents, to keep a protected image above it"
                    .to_owned(),
            ),
            Verdict::Keep(reason, detail) => (Action::Keep, *reason, detail.clone()),
            Verdict::Candidate(why) => (Action::Keep, Reason::Refused, why.clone()),
        }
    }
}

/// The requests that remove one image (Podman: [`podman_request_names`]): by ID when one request can do it without force (no
/// reference, or a single one: one tag with the digests of its repository), else reference by
/// reference. A repository's digests go with its last tag, so only the digests of repositories
/// without a tag are asked for: asking for one already gone would be a 404.
fn request_names(store: &SimulatedStore, id: &str, force: bool) -> Vec<String> {
    if store.engine == EngineKind::Podman {
        return podman_request_names(store, id);
    }
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
