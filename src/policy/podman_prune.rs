//! Podman 4.3's compat `POST /images/prune`, simulated (libpod's image prune: libimage removes
//! every matching image, again and again until a round removes nothing).
//!
//! Dangling there means no name at all (a digest-only image is named) and no child image;
//! images a container uses are left out. Each is removed by ID with parent pruning (a parent
//! left without names or children goes too, whatever the filters say); the answer lists
//! `Deleted: <id>` only. `--all` (`dangling=false`) is answered 500, so nothing is pruned.
//! Freed bytes are those of the layers the deleted images leave unheld
//! ([`crate::plan::FreedByImages`]), as a real run counts them; Podman's own `SpaceReclaimed`
//! (the pruned images' whole sizes) is not used.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::{FreedByImages, SimulatedStore};
use crate::snapshot::Snapshot;

use super::decision::{Action, Reason};
use super::engine_prune::{decision, kept_by_filters_containers_or_children, oldest_first};
use super::plan::{PlannedRequest, PolicyPlan, usage};
use super::rules::{PolicyRequest, PruneMode};

pub(crate) fn plan_podman_prune(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    let initial = SimulatedStore::from_snapshot(snapshot);
    let ids = oldest_first(&initial);
    let usage_before = usage(&initial);
    if request.all {
        let decisions = ids
            .iter()
            .map(|id| {
                let detail = "Podman 4.3 refuses prune --all (500), so nothing is pruned; a \
                              rule (--match '**') removes unused images one by one"
                    .to_owned();
                decision(&initial, id, Action::Keep, Reason::Refused, detail, None)
            })
            .collect();
        return PolicyPlan {
            mode: PruneMode::Engine,
            decisions,
            requests: Vec::new(),
            predicted_bytes: 0,
            usage_before,
            usage_after: usage_before,
        };
    }

    let mut store = initial.clone();
    let mut freed = FreedByImages::new(snapshot);
    let mut requests = Vec::new();
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let round: Vec<String> = oldest_first(&store)
            .into_iter()
            .filter(|id| is_prunable(&store, id, request))
            .collect();
        if round.is_empty() {
            break;
        }
        for id in round {
            if !store.contains_image(&id) {
                continue;
            }
            let name = id.trim_start_matches("sha256:").to_owned();
            let answer = store
                .remove_podman(&name, false)
                .map(|(records, _)| records);
            let records = answer.clone().unwrap_or_default();
            bytes.insert(id.clone(), freed.count(&records));
            candidates.insert(id.clone());
            requests.push(PlannedRequest {
                name,
                image_id: id,
                force: false,
                no_prune: false,
                records,
                error: answer.err(),
            });
        }
    }

    let decisions = ids
        .iter()
        .map(|id| {
            let (action, reason, detail) = if store.contains_image(id) {
                let (reason, detail) = kept_because(&initial, &store, id, request);
                (Action::Keep, reason, detail)
            } else if candidates.contains(id) {
                (
                    Action::Remove,
                    Reason::Dangling,
                    "dangling: no name".to_owned(),
                )
            } else {
                (
                    Action::Remove,
                    Reason::ParentPruned,
                    "parent without names, pruned with its last child".to_owned(),
                )
            };
            decision(&initial, id, action, reason, detail, bytes.get(id).copied())
        })
        .collect();
    let predicted_bytes = bytes.values().sum();
    PolicyPlan::engine_prune(decisions, requests, predicted_bytes, usage_before)
}

/// What libpod's prune filters select: no name, no child, no container, and the user's filters.
fn is_prunable(store: &SimulatedStore, id: &str, request: &PolicyRequest) -> bool {
    store.podman_names(id).is_empty()
        && !store.has_children(id)
        && store.first_container_using(id, None).is_none()
        && store
            .images
            .get(id)
            .is_some_and(|image| request.filters.excludes(image).is_none())
}

/// Why Podman's prune leaves an image alone.
fn kept_because(
    initial: &SimulatedStore,
    store: &SimulatedStore,
    id: &str,
    request: &PolicyRequest,
) -> (Reason, String) {
    if !initial.podman_names(id).is_empty() {
        return (
            Reason::Tagged,
            "named: Podman's prune removes only images without any name (a digest counts)"
                .to_owned(),
        );
    }
    kept_by_filters_containers_or_children(initial, store, id, request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EngineKind;
    use crate::plan::DeleteRecord;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, digest, image_id};
    use crate::policy::decision::Action;
    use crate::policy::filters::PruneFilters;
    use crate::policy::rules::Rules;

    fn removed_count(plan: &PolicyPlan) -> usize {
        plan.decisions
            .iter()
            .filter(|decision| decision.action == Action::Remove)
            .count()
    }

    fn podman(builder: SnapshotBuilder) -> Snapshot {
        let mut snapshot = builder.build();
        snapshot.engine = EngineKind::Podman;
        snapshot
    }

    fn prune(all: bool) -> PolicyRequest {
        PolicyRequest {
            all,
            filters: PruneFilters::default(),
            rules: Rules::default(),
            force: false,
            now: Default::default(),
        }
    }

    /// Case 33: `base:1`, a build its tag moved away from, `chain:1` over two intermediates, a
    /// digest-only image, and a nameless image a container uses.
    fn seeded() -> Snapshot {
        podman(
            SnapshotBuilder::new()
                .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
                .image("old", ImageSpec::new().parent("base").layers(["B", "O"]))
                .image("i1", ImageSpec::new().parent("base").layers(["B", "1"]))
                .image(
                    "chain",
                    ImageSpec::new()
                        .tags(["chain:1"])
                        .parent("i1")
                        .layers(["B", "1", "C"]),
                )
                .image(
                    "dgonly",
                    ImageSpec::new()
                        .tags([format!("127.0.1.250:5000/dgonly@{}", digest("d"))])
                        .layers(["D"]),
                )
                .image("used", ImageSpec::new().layers(["U"]))
                .stopped("c", "used")
                .layer_size("O", 148_456),
        )
    }

    #[test]
    fn case_33_only_the_nameless_childless_unused_image_goes() {
        let plan = plan_podman_prune(&seeded(), &prune(false));
        assert_eq!(plan.records(), [DeleteRecord::Deleted(image_id("old"))]);
        assert_eq!(plan.predicted_bytes, 148_456);
        assert_eq!(removed_count(&plan), 1);
    }

    #[test]
    fn pruning_an_image_takes_its_nameless_parent_and_goes_round_again() {
        let snapshot = podman(
            SnapshotBuilder::new()
                .image("p", ImageSpec::new().layers(["P"]))
                .image("c", ImageSpec::new().parent("p").layers(["P", "C"])),
        );
        let plan = plan_podman_prune(&snapshot, &prune(false));
        assert_eq!(
            plan.records(),
            [
                DeleteRecord::Deleted(image_id("c")),
                DeleteRecord::Deleted(image_id("p"))
            ]
        );
        assert_eq!(removed_count(&plan), 2);
    }

    #[test]
    fn all_is_refused_by_the_engine_so_nothing_is_planned() {
        let plan = plan_podman_prune(&seeded(), &prune(true));
        assert!(plan.requests.is_empty());
        assert_eq!(plan.predicted_bytes, 0);
        assert!(
            plan.decisions
                .iter()
                .all(|decision| decision.action == Action::Keep)
        );
    }
}
