//! `docker image prune` on the containerd image store: which images and names the engine's
//! prune takes ([`SimulatedStore::prune_containerd`]), and why it leaves the others.
//!
//! Bytes are counted as the real run counts them ([`FreedByImages`] over the images the answer
//! names `Deleted`). The `until` filter is applied to the images' creation time; the engine
//! reads when each name was recorded on the host instead, so with `until` the selection is an
//! approximation (the engine kind's prune caveat says so).

use std::collections::BTreeMap;

use crate::plan::{FreedByImages, SimulatedStore};
use crate::snapshot::Snapshot;

use super::decision::{Action, Reason};
use super::engine_prune::{decision, oldest_first, pruned_candidate};
use super::plan::{PlannedRequest, PolicyPlan, image_usage};
use super::rules::PolicyRequest;
use super::selection::{container_keep, filter_detail, filter_reason};

pub(crate) fn plan_containerd_prune(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    let initial = SimulatedStore::from_snapshot(snapshot);
    let dangling_only = !request.all;
    let ids = oldest_first(&initial);
    let mut store = initial.clone();
    let pruned = store.prune_containerd(dangling_only, &ids, |image| {
        request.filters.excludes(image).is_none()
    });

    let mut freed = FreedByImages::from_store(initial.clone(), snapshot);
    let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
    let requests: Vec<PlannedRequest> = pruned
        .into_iter()
        .map(|name| {
            *bytes.entry(name.image_id.clone()).or_default() += freed.count(&name.records);
            PlannedRequest {
                name: name.name,
                image_id: name.image_id,
                force: false,
                no_prune: false,
                records: name.records,
                error: None,
            }
        })
        .collect();

    let decisions = ids
        .iter()
        .map(|id| {
            let (action, reason, detail) = if !store.contains_image(id) {
                pruned_candidate(dangling_only)
            } else if store.references_of(id).len() < initial.references_of(id).len() {
                let (reason, why) = container_keep(&initial, id, false, false).unwrap_or((
                    Reason::Refused,
                    "a container was created from it".to_owned(),
                ));
                (Action::Untag, reason, format!("untagged only: {why}"))
            } else {
                let (reason, detail) = kept_because(&initial, id, request);
                (Action::Keep, reason, detail)
            };
            decision(&initial, id, action, reason, detail, bytes.get(id).copied())
        })
        .collect();

    let usage_before = image_usage(&initial, snapshot);
    let predicted_bytes = bytes.values().sum();
    PolicyPlan::engine_prune(decisions, requests, predicted_bytes, usage_before)
}

/// Why the containerd store's prune leaves an image alone.
fn kept_because(initial: &SimulatedStore, id: &str, request: &PolicyRequest) -> (Reason, String) {
    if let Some(image) = initial.images.get(id)
        && let Some(out) = request.filters.excludes(image)
    {
        return (filter_reason(&out), filter_detail(&out, request, image));
    }
    if !request.all && initial.has_references(id) {
        return (
            Reason::Tagged,
            "named: prune removes only images without a name unless --all".to_owned(),
        );
    }
    if let Some(kept) = container_keep(initial, id, false, false) {
        return kept;
    }
    (
        Reason::Refused,
        "a container was created from it".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EngineKind;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, image_id};
    use crate::policy::{PruneFilters, Rules, Timestamp};

    fn request(all: bool) -> PolicyRequest {
        PolicyRequest {
            all,
            filters: PruneFilters::default(),
            rules: Rules::default(),
            force: false,
            now: Timestamp::new(0, 0),
        }
    }

    #[test]
    fn an_unnamed_parent_goes_and_its_bytes_are_those_it_alone_held() {
        let mut snapshot = SnapshotBuilder::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image("i", ImageSpec::new().parent("base").layers(["B", "I"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["c:1"])
                    .parent("i")
                    .layers(["B", "I", "C"]),
            )
            .image("d", ImageSpec::new().layers(["D"]))
            .layer_size("D", 70)
            .build();
        snapshot.engine = EngineKind::DockerContainerd;
        let plan = plan_containerd_prune(&snapshot, &request(false));
        let removed: Vec<&str> = plan
            .decisions
            .iter()
            .filter(|decision| decision.action == Action::Remove)
            .map(|decision| decision.image.as_str())
            .collect();
        let mut expected = vec![image_id("i"), image_id("d")];
        expected.sort();
        let mut removed: Vec<String> = removed.into_iter().map(str::to_owned).collect();
        removed.sort();
        assert_eq!(removed, expected);
        // `i`'s layers stay for `c`: only `d` frees bytes.
        assert_eq!(plan.predicted_bytes, 70);
    }
}
