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
use crate::snapshot::{Snapshot, short_id};

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

/// The requests a rule prune sends to remove one image on Podman, as `podman rmi` given every
/// name of it removes it: by ID when it has at most one name; otherwise name by name in Podman's
/// order (each but the last is only untagged, the last removes the image), because Podman
/// refuses an ID with several names (500; a pulled digest is a name) unless forced, and its
/// force would remove containers. Each name is spelled so that Podman finds exactly it.
pub(super) fn podman_request_names(store: &SimulatedStore, id: &str) -> Vec<String> {
    let names = store.podman_names(id);
    if names.len() <= 1 {
        return vec![id.to_owned()];
    }
    names
        .iter()
        .map(|name| store.podman_exact_name(id, name))
        .collect()
}

/// Why fleetrmi itself refuses to remove an image on Podman: a container uses it (with
/// `--force`, which on dockerd removes such an image and keeps the container), and Podman
/// removes that image only by removing the container; or a container uses a nameless parent
/// Podman would prune with it (Podman then answers an error after removing the image).
pub(super) fn podman_refusal(store: &SimulatedStore, id: &str, name: &str) -> Option<String> {
    if let Some(container) = store.first_container_using(id, None) {
        return Some(format!(
            "fleetrmi refused to remove {name}: container {} uses it, and Podman removes an \
             image a container uses only by removing the container, which fleetrmi never does; \
             remove the container first",
            short_id(&container.id)
        ));
    }
    let (parent, container) = pruned_parent_in_use(store, id)?;
    Some(format!(
        "fleetrmi refused to remove {name}: container {} uses its untagged parent {}, which \
         Podman would prune with it and then answer an error; remove the container first",
        short_id(&container),
        short_id(&parent)
    ))
}

/// The first nameless parent Podman's pruning would reach after removing `id` that a container
/// uses (where its pruning stops with an error), with that container's ID.
fn pruned_parent_in_use(store: &SimulatedStore, id: &str) -> Option<(String, String)> {
    let mut current = id.to_owned();
    loop {
        let parent = store
            .images
            .get(&current)?
            .parent
            .clone()
            .filter(|parent| store.contains_image(parent))?;
        let other_child = store
            .images
            .values()
            .any(|image| image.parent.as_deref() == Some(parent.as_str()) && image.id != current);
        if !store.podman_names(&parent).is_empty() || other_child {
            return None;
        }
        if let Some(container) = store.first_container_using(&parent, None) {
            return Some((parent, container.id.clone()));
        }
        current = parent;
    }
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
    use crate::policy::plan_policy;
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

    fn rules(matches: &[&str], force: bool) -> PolicyRequest {
        PolicyRequest {
            all: true,
            rules: Rules {
                matches: matches
                    .iter()
                    .map(|m| m.parse().expect("pattern"))
                    .collect(),
                ..Rules::default()
            },
            force,
            ..prune(true)
        }
    }

    fn requests(plan: &PolicyPlan) -> Vec<(&str, Vec<DeleteRecord>)> {
        plan.requests
            .iter()
            .map(|request| {
                assert_eq!(request.error, None, "{request:?}");
                (request.name.as_str(), request.records.clone())
            })
            .collect()
    }

    fn decision_of<'a>(plan: &'a PolicyPlan, key: &str) -> &'a crate::policy::Decision {
        plan.decisions
            .iter()
            .find(|decision| decision.image == image_id(key))
            .expect("a decision")
    }

    /// A tag and the digest it was pulled by are two names to Podman: by ID it answers 500, so
    /// the image goes name by name, the last one deleting it.
    #[test]
    fn a_rule_removes_a_pulled_image_name_by_name() {
        let pulled = format!("127.0.1.250:5000/dg@{}", digest("dg"));
        let snapshot = podman(
            SnapshotBuilder::new()
                .image(
                    "dg",
                    ImageSpec::new()
                        .tags(["127.0.1.250:5000/dg:1".to_owned(), pulled.clone()])
                        .digests([pulled.clone()])
                        .layers(["D"]),
                )
                .image("u", ImageSpec::new().tags(["unique:1"]).layers(["U"]))
                .layer_size("D", 1_000)
                .layer_size("U", 24),
        );
        let plan = plan_policy(&snapshot, &rules(&["127.0.1.250:5000/dg", "unique"], false));
        assert_eq!(
            requests(&plan),
            [
                (
                    "127.0.1.250:5000/dg:1",
                    vec![DeleteRecord::Untagged("127.0.1.250:5000/dg:1".into())]
                ),
                (
                    pulled.as_str(),
                    vec![
                        DeleteRecord::Deleted(image_id("dg")),
                        DeleteRecord::Untagged(pulled.clone())
                    ]
                ),
                (
                    image_id("u").as_str(),
                    vec![
                        DeleteRecord::Deleted(image_id("u")),
                        DeleteRecord::Untagged("unique:1".into())
                    ]
                ),
            ]
        );
        assert_eq!(decision_of(&plan, "dg").action, Action::Remove);
        assert_eq!(plan.predicted_bytes, 1_024);
    }

    #[test]
    fn a_short_name_podman_would_find_elsewhere_is_sent_fully_qualified() {
        let snapshot = podman(
            SnapshotBuilder::new()
                .image("hub", ImageSpec::new().tags(["app:1", "app:2"]))
                .image("local", ImageSpec::new().tags(["localhost/app:1"])),
        );
        let plan = plan_policy(&snapshot, &rules(&["app"], false));
        let names: Vec<&str> = requests(&plan).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["docker.io/library/app:1", "app:2"]);
        assert_eq!(decision_of(&plan, "hub").action, Action::Remove);
        assert_eq!(decision_of(&plan, "local").action, Action::Keep);
    }

    /// dockerd's `--force` removes an image a stopped container uses and keeps the container;
    /// Podman cannot, so fleetrmi keeps the image and says why, sending nothing.
    #[test]
    fn forced_rules_refuse_an_image_a_stopped_container_uses() {
        let snapshot = podman(
            SnapshotBuilder::new()
                .image("s", ImageSpec::new().tags(["stopped:1", "stopped:2"]))
                .stopped("c", "s"),
        );
        let plan = plan_policy(&snapshot, &rules(&["stopped"], true));
        assert!(plan.requests.is_empty(), "{:?}", plan.requests);
        let decision = decision_of(&plan, "s");
        assert_eq!(decision.action, Action::Keep);
        assert!(
            decision
                .detail
                .starts_with("fleetrmi refused to remove stopped:1, stopped:2: container"),
            "{}",
            decision.detail
        );
    }

    /// `child:1` over a nameless parent, which Podman prunes with it.
    fn parent_and_child() -> SnapshotBuilder {
        SnapshotBuilder::new()
            .image("p", ImageSpec::new().layers(["P"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["child:1"])
                    .parent("p")
                    .layers(["P", "C"]),
            )
    }

    #[test]
    fn an_image_whose_pruned_parent_a_container_uses_is_refused() {
        let snapshot = podman(parent_and_child().stopped("ctr", "p"));
        let plan = plan_policy(&snapshot, &rules(&["child"], false));
        assert!(plan.requests.is_empty(), "{:?}", plan.requests);
        let detail = &decision_of(&plan, "c").detail;
        assert!(detail.contains("uses its untagged parent"), "{detail}");
    }

    /// Podman 4.3 ignores `noprune`, so a child whose removal would prune a protected nameless
    /// parent stays.
    #[test]
    fn a_protected_nameless_parent_keeps_its_last_child() {
        let mut snapshot = podman(parent_and_child());
        for image in &mut snapshot.images {
            if image.id == image_id("p") {
                image.labels.insert("keep".into(), "yes".into());
            }
        }
        let mut request = rules(&["child"], false);
        request.rules.keep_labels = vec!["keep=yes".parse().expect("label")];
        let plan = plan_policy(&snapshot, &request);
        assert!(plan.requests.is_empty(), "{:?}", plan.requests);
        let detail = &decision_of(&plan, "c").detail;
        assert!(detail.contains("protected untagged parent"), "{detail}");
        assert_eq!(decision_of(&plan, "p").action, Action::Keep);
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
