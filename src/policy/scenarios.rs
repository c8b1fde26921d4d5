//! The planner's scenarios, one test each: every rule alone, their combinations (keep wins
//! over remove, keep-last per repository, thresholds, ties), and the engine's own prune.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::plan::test_support::{
    ImageSpec, SnapshotBuilder, chain_id, deleted, image_id, untagged,
};
use crate::snapshot::Snapshot;

use super::decision::{Action, Decision, Reason};
use super::filters::PruneFilters;
use super::plan::PolicyPlan;
use super::planner::plan_policy;
use super::rules::{PolicyRequest, PruneMode, Rules};
use super::units::Timestamp;

/// "Now" in every scenario; images are created at small unix times before it.
const NOW: Timestamp = Timestamp {
    seconds: 10_000,
    nanos: 0,
};

/// Builds the snapshot, then sets creation times (seconds) and labels by image key.
fn snapshot(
    builder: SnapshotBuilder,
    created: &[(&str, i64)],
    labels: &[(&str, &str, &str)],
) -> Snapshot {
    let mut snapshot = builder.build();
    for image in &mut snapshot.images {
        if let Some((_, at)) = created.iter().find(|(key, _)| image_id(key) == image.id) {
            image.created = *at;
        }
        for (key, label, value) in labels {
            if image_id(key) == image.id {
                image
                    .labels
                    .insert((*label).to_owned(), (*value).to_owned());
            }
        }
    }
    snapshot
}

fn request(all: bool, rules: Rules) -> PolicyRequest {
    PolicyRequest {
        all,
        filters: PruneFilters::default(),
        rules,
        force: false,
        now: NOW,
    }
}

fn filters(texts: &[&str]) -> PruneFilters {
    let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    PruneFilters::parse(&texts, NOW).expect("valid filters")
}

fn patterns(texts: &[&str]) -> Vec<super::pattern::ImagePattern> {
    texts.iter().map(|t| t.parse().expect("pattern")).collect()
}

fn by_key<'a>(plan: &'a PolicyPlan, key: &str) -> &'a Decision {
    plan.decisions
        .iter()
        .find(|decision| decision.image == image_id(key))
        .unwrap_or_else(|| panic!("no decision for {key}"))
}

fn outcome(plan: &PolicyPlan, key: &str) -> (Action, Reason) {
    let decision = by_key(plan, key);
    (decision.action, decision.reason)
}

fn removed(plan: &PolicyPlan) -> Vec<String> {
    plan.decisions
        .iter()
        .filter(|decision| decision.action == Action::Remove)
        .map(|decision| decision.image.clone())
        .collect()
}

fn ids(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|key| image_id(key)).collect()
}

/// A small build host: a tagged base with two tagged children, a dangling leaf, a digest-only
/// image, an image a stopped container uses, one a running container uses, and a legacy chain
/// whose intermediate `mid` sits between `base` and `leaf:1`.
fn build_host() -> SnapshotBuilder {
    SnapshotBuilder::new()
        .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
        .image(
            "app1",
            ImageSpec::new()
                .tags(["app:1"])
                .parent("base")
                .layers(["B", "A1"]),
        )
        .image(
            "app2",
            ImageSpec::new()
                .tags(["app:2"])
                .parent("base")
                .layers(["B", "A2"]),
        )
        .image(
            "dangling",
            ImageSpec::new().parent("base").layers(["B", "D"]),
        )
        .image(
            "digest",
            ImageSpec::new()
                .digests([format!(
                    "localhost:5055/dg@{}",
                    crate::plan::test_support::digest("dg")
                )])
                .layers(["G"]),
        )
        .image(
            "stopped",
            ImageSpec::new().tags(["stopped:1"]).layers(["S"]),
        )
        .image("running", ImageSpec::new().tags(["run:1"]).layers(["R"]))
        .image("mid", ImageSpec::new().parent("base").layers(["B", "M"]))
        .image(
            "leaf",
            ImageSpec::new()
                .tags(["leaf:1"])
                .parent("mid")
                .layers(["B", "M", "L"]),
        )
        .stopped("ctr-stopped", "stopped")
        .running("ctr-running", "running")
        .layer_size("B", 5000)
        .layer_size("A1", 100)
        .layer_size("A2", 200)
        .layer_size("D", 300)
        .layer_size("G", 400)
        .layer_size("S", 500)
        .layer_size("R", 600)
        .layer_size("M", 700)
        .layer_size("L", 800)
}

const CREATED: &[(&str, i64)] = &[
    ("base", 100),
    ("app1", 200),
    ("app2", 300),
    ("dangling", 400),
    ("digest", 500),
    ("stopped", 600),
    ("running", 700),
    ("mid", 800),
    ("leaf", 900),
];

// ---- The engine's own prune (no rules) ----

#[test]
fn plain_prune_removes_dangling_and_digest_only_images_only() {
    let plan = plan_policy(
        &snapshot(build_host(), CREATED, &[]),
        &request(false, Rules::default()),
    );
    assert_eq!(plan.mode, PruneMode::Engine);
    assert_eq!(removed(&plan), ids(&["dangling", "digest"]));
    assert_eq!(
        outcome(&plan, "dangling"),
        (Action::Remove, Reason::Dangling)
    );
    assert_eq!(outcome(&plan, "app1"), (Action::Keep, Reason::Tagged));
    assert_eq!(outcome(&plan, "mid"), (Action::Keep, Reason::Intermediate));
    assert_eq!(plan.predicted_bytes, 300 + 400);
    assert_eq!(plan.usage_after, plan.usage_before - 700);
    assert!(plan.records().contains(&untagged(&format!(
        "localhost:5055/dg@{}",
        crate::plan::test_support::digest("dg")
    ))));
}

#[test]
fn plain_prune_keeps_a_dangling_image_a_stopped_container_uses() {
    let builder = SnapshotBuilder::new()
        .image("d", ImageSpec::new().layers(["D"]))
        .stopped("ctr", "d");
    let plan = plan_policy(
        &snapshot(builder, &[], &[]),
        &request(false, Rules::default()),
    );
    assert_eq!(
        outcome(&plan, "d"),
        (Action::Keep, Reason::StoppedContainer)
    );
    assert!(plan.records().is_empty());
    // The engine tried and was refused: the request is in the plan, with its conflict.
    assert_eq!(plan.requests.len(), 1);
    assert!(plan.requests[0].error.is_some());
}

#[test]
fn prune_all_removes_every_unused_image_and_the_base_once_its_children_are_gone() {
    let plan = plan_policy(
        &snapshot(build_host(), CREATED, &[]),
        &request(true, Rules::default()),
    );
    assert_eq!(
        removed(&plan),
        ids(&["base", "app1", "app2", "dangling", "digest", "mid", "leaf"])
    );
    assert_eq!(outcome(&plan, "base"), (Action::Remove, Reason::Unused));
    assert_eq!(
        outcome(&plan, "mid"),
        (Action::Remove, Reason::ParentPruned)
    );
    assert_eq!(
        outcome(&plan, "stopped"),
        (Action::Keep, Reason::StoppedContainer)
    );
    assert_eq!(
        outcome(&plan, "running"),
        (Action::Keep, Reason::RunningContainer)
    );
}

#[test]
fn prune_all_untags_a_tagged_parent_whose_child_a_container_holds() {
    let builder = SnapshotBuilder::new()
        .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
        .image(
            "kid",
            ImageSpec::new()
                .tags(["kid:1"])
                .parent("base")
                .layers(["B", "K"]),
        )
        .running("ctr", "kid");
    let plan = plan_policy(
        &snapshot(builder, &[("base", 1), ("kid", 2)], &[]),
        &request(true, Rules::default()),
    );
    assert_eq!(outcome(&plan, "base"), (Action::Untag, Reason::HasChildren));
    assert_eq!(plan.records(), [untagged("base:1")]);
    assert_eq!(plan.predicted_bytes, 0);
}

#[test]
fn prune_until_keeps_images_created_after_it() {
    let mut prune = request(true, Rules::default());
    prune.filters = filters(&["until=450"]);
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &prune);
    assert_eq!(
        outcome(&plan, "digest"),
        (Action::Keep, Reason::FilteredUntil)
    );
    assert_eq!(
        outcome(&plan, "leaf"),
        (Action::Keep, Reason::FilteredUntil)
    );
    assert_eq!(outcome(&plan, "app1"), (Action::Remove, Reason::Unused));
    assert_eq!(outcome(&plan, "dangling"), (Action::Remove, Reason::Unused));
}

#[test]
fn prune_label_filters_choose_the_candidates() {
    let mut prune = request(true, Rules::default());
    prune.filters = filters(&["label=tier=ci"]);
    let labels = [("app1", "tier", "ci"), ("app2", "tier", "prod")];
    let plan = plan_policy(&snapshot(build_host(), CREATED, &labels), &prune);
    assert_eq!(removed(&plan), ids(&["app1"]));
    assert_eq!(
        outcome(&plan, "app2"),
        (Action::Keep, Reason::FilteredLabel)
    );
}

// ---- Rules: each alone ----

#[test]
fn rules_without_all_consider_only_dangling_images() {
    let rules = Rules {
        older_than: Some(Duration::ZERO),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(build_host(), CREATED, &[]),
        &request(false, rules),
    );
    assert_eq!(plan.mode, PruneMode::Rules);
    assert_eq!(removed(&plan), ids(&["dangling", "digest"]));
    assert_eq!(outcome(&plan, "app1"), (Action::Keep, Reason::Tagged));
    assert_eq!(
        outcome(&plan, "dangling"),
        (Action::Remove, Reason::Selected)
    );
}

#[test]
fn match_restricts_the_candidates_to_matching_references() {
    let rules = Rules {
        matches: patterns(&["app:*"]),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["app1", "app2"]));
    assert_eq!(outcome(&plan, "leaf"), (Action::Keep, Reason::NotMatched));
    assert_eq!(
        outcome(&plan, "dangling"),
        (Action::Keep, Reason::NotMatched)
    );
}

#[test]
fn older_than_compares_the_creation_time_with_now() {
    let rules = Rules {
        older_than: Some(Duration::from_secs(10_000 - 250)),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    assert_eq!(outcome(&plan, "app1"), (Action::Remove, Reason::Selected));
    assert_eq!(outcome(&plan, "app2"), (Action::Keep, Reason::TooNew));
    // Exactly as old as the limit counts as older (the engine's `until` is inclusive too).
    let exact = Rules {
        older_than: Some(Duration::from_secs(10_000 - 300)),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, exact));
    assert_eq!(outcome(&plan, "app2"), (Action::Remove, Reason::Selected));
}

#[test]
fn keep_last_protects_the_newest_images_of_each_repository() {
    let builder = SnapshotBuilder::new()
        .image("a1", ImageSpec::new().tags(["a:1"]).layers(["A1"]))
        .image("a2", ImageSpec::new().tags(["a:2"]).layers(["A2"]))
        .image("a3", ImageSpec::new().tags(["a:3"]).layers(["A3"]))
        .image("b1", ImageSpec::new().tags(["team/b:1"]).layers(["B1"]))
        .image("b2", ImageSpec::new().tags(["team/b:2"]).layers(["B2"]));
    let created = [("a1", 1), ("a2", 3), ("a3", 2), ("b1", 5), ("b2", 4)];
    let rules = Rules {
        keep_last: Some(1),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(builder, &created, &[]), &request(true, rules));
    assert_eq!(outcome(&plan, "a2"), (Action::Keep, Reason::KeepLast));
    assert_eq!(outcome(&plan, "b1"), (Action::Keep, Reason::KeepLast));
    assert_eq!(removed(&plan), ids(&["a1", "a3", "b2"]));
    assert!(by_key(&plan, "a2").detail.contains("newest 1 of a"));
}

#[test]
fn keep_last_ties_go_to_the_greater_tag_then_the_smaller_id() {
    let builder = SnapshotBuilder::new()
        .image("t9", ImageSpec::new().tags(["ci:pr-9"]).layers(["T9"]))
        .image("t10", ImageSpec::new().tags(["ci:pr-10"]).layers(["T10"]))
        .image(
            "x",
            ImageSpec::new()
                .digests([format!("ci@{}", crate::plan::test_support::digest("x"))])
                .layers(["X"]),
        )
        .image(
            "y",
            ImageSpec::new()
                .digests([format!("ci@{}", crate::plan::test_support::digest("y"))])
                .layers(["Y"]),
        );
    let same_time = [("t9", 7), ("t10", 7), ("x", 7), ("y", 7)];
    let keep = |count| {
        let rules = Rules {
            keep_last: Some(count),
            ..Rules::default()
        };
        plan_policy(
            &snapshot(builder.clone(), &same_time, &[]),
            &request(true, rules),
        )
    };
    let one = keep(1);
    assert_eq!(outcome(&one, "t10"), (Action::Keep, Reason::KeepLast));
    assert_eq!(outcome(&one, "t9"), (Action::Remove, Reason::Selected));
    let three = keep(3);
    assert_eq!(outcome(&three, "t9"), (Action::Keep, Reason::KeepLast));
    // x and y tie on everything but the ID: the smaller ID is kept.
    let (smaller, larger) = if image_id("x") < image_id("y") {
        ("x", "y")
    } else {
        ("y", "x")
    };
    assert_eq!(outcome(&three, smaller), (Action::Keep, Reason::KeepLast));
    assert_eq!(outcome(&three, larger).0, Action::Remove);
}

#[test]
fn keep_pattern_and_keep_label_protect_even_with_force() {
    let rules = Rules {
        keep: patterns(&["stopped"]),
        keep_labels: vec!["pin".parse().expect("label")],
        ..Rules::default()
    };
    let mut forced = request(true, rules);
    forced.force = true;
    let plan = plan_policy(
        &snapshot(build_host(), CREATED, &[("app2", "pin", "yes")]),
        &forced,
    );
    assert_eq!(
        outcome(&plan, "stopped"),
        (Action::Keep, Reason::KeepPattern)
    );
    assert_eq!(outcome(&plan, "app2"), (Action::Keep, Reason::KeepLabel));
    assert_eq!(
        outcome(&plan, "running"),
        (Action::Keep, Reason::RunningContainer)
    );
    assert_eq!(outcome(&plan, "app1"), (Action::Remove, Reason::Selected));
}

#[test]
fn stopped_containers_keep_their_image_unless_forced_and_running_ones_always() {
    let rules = Rules {
        older_than: Some(Duration::ZERO),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(build_host(), CREATED, &[]),
        &request(true, rules.clone()),
    );
    assert_eq!(
        outcome(&plan, "stopped"),
        (Action::Keep, Reason::StoppedContainer)
    );
    let mut forced = request(true, rules);
    forced.force = true;
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &forced);
    assert_eq!(
        outcome(&plan, "stopped"),
        (Action::Remove, Reason::Selected)
    );
    assert_eq!(
        outcome(&plan, "running"),
        (Action::Keep, Reason::RunningContainer)
    );
    let stopped = plan
        .requests
        .iter()
        .find(|request| request.image_id == image_id("stopped"))
        .expect("a request for stopped:1");
    assert!(stopped.force);
    // The container holds the layer: the image goes, the disk gets nothing back.
    assert_eq!(
        stopped.records,
        [untagged("stopped:1"), deleted(&image_id("stopped"))]
    );
    assert_eq!(by_key(&plan, "stopped").bytes, 0);
}

// ---- Combinations ----

#[test]
fn keep_wins_over_match_and_age() {
    let rules = Rules {
        matches: patterns(&["app"]),
        older_than: Some(Duration::ZERO),
        keep: patterns(&["app:2"]),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["app1"]));
    assert_eq!(outcome(&plan, "app2"), (Action::Keep, Reason::KeepPattern));
}

#[test]
fn keep_last_counts_every_image_of_the_repository_not_only_candidates() {
    // app:2 is the newest of `app` but too young to be a candidate; keep-last 1 still counts
    // it, so app:1 is not protected.
    let rules = Rules {
        older_than: Some(Duration::from_secs(10_000 - 250)),
        keep_last: Some(1),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    assert_eq!(outcome(&plan, "app2"), (Action::Keep, Reason::KeepLast));
    assert_eq!(outcome(&plan, "app1"), (Action::Remove, Reason::Selected));
}

#[test]
fn children_go_before_their_parents() {
    let rules = Rules {
        older_than: Some(Duration::ZERO),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    let order: Vec<&str> = plan.requests.iter().map(|r| r.image_id.as_str()).collect();
    let position = |key: &str| {
        order
            .iter()
            .position(|id| *id == image_id(key))
            .expect("requested")
    };
    assert!(position("app1") < position("base"));
    assert!(position("dangling") < position("base"));
    assert!(position("leaf") < position("base"));
    assert_eq!(outcome(&plan, "base"), (Action::Remove, Reason::Selected));
    assert_eq!(
        outcome(&plan, "mid"),
        (Action::Remove, Reason::ParentPruned)
    );
    assert!(by_key(&plan, "mid").detail.contains("leaf:1"));
}

#[test]
fn a_parent_whose_children_stay_is_kept() {
    let rules = Rules {
        matches: patterns(&["base", "app"]),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["app1", "app2"]));
    assert_eq!(outcome(&plan, "base"), (Action::Keep, Reason::HasChildren));
    let detail = &by_key(&plan, "base").detail;
    assert!(
        detail.contains(crate::snapshot::short_id(&image_id("dangling"))),
        "{detail}"
    );
    assert!(!plan.requests.iter().any(|r| r.image_id == image_id("base")));
}

#[test]
fn a_parent_goes_once_its_last_child_is_gone() {
    let builder = SnapshotBuilder::new()
        .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
        .image(
            "c",
            ImageSpec::new()
                .tags(["c:1"])
                .parent("p")
                .layers(["P", "C"]),
        )
        .layer_size("P", 1000)
        .layer_size("C", 10);
    let rules = Rules {
        older_than: Some(Duration::ZERO),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(builder, &[("p", 1), ("c", 2)], &[]),
        &request(true, rules),
    );
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [image_id("c"), image_id("p")]);
    assert_eq!(by_key(&plan, "c").bytes, 10);
    assert_eq!(by_key(&plan, "p").bytes, 1000);
    assert_eq!(plan.predicted_bytes, 1010);
}

#[test]
fn a_shared_layer_is_counted_once_with_the_removal_that_frees_it() {
    let builder = SnapshotBuilder::new()
        .image("s1", ImageSpec::new().tags(["shared:1"]).layers(["S"]))
        .image("s2", ImageSpec::new().tags(["shared:2"]).layers(["S"]))
        .layer_size("S", 512_000);
    let rules = Rules {
        matches: patterns(&["shared"]),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(builder, &[("s1", 1), ("s2", 2)], &[]),
        &request(true, rules),
    );
    assert_eq!(plan.predicted_bytes, 512_000);
    assert_eq!(by_key(&plan, "s1").bytes, 0);
    assert_eq!(by_key(&plan, "s2").bytes, 512_000);
    assert_eq!(plan.usage_before, 512_000);
    assert_eq!(plan.usage_after, 0);
}

#[test]
fn several_references_go_one_by_one_without_force_and_by_id_with_it() {
    let builder = SnapshotBuilder::new().image(
        "m",
        ImageSpec::new()
            .tags(["multi:1", "multi:2", "other/multi:1"])
            .layers(["M"]),
    );
    let rules = Rules {
        matches: patterns(&["multi"]),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(builder.clone(), &[], &[]),
        &request(true, rules.clone()),
    );
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["multi:1", "multi:2", "other/multi:1"]);
    assert_eq!(
        plan.requests[2].records,
        [
            untagged("other/multi:1"),
            deleted(&image_id("m")),
            deleted(&chain_id(&["M"]))
        ]
    );
    let mut forced = request(true, rules);
    forced.force = true;
    let plan = plan_policy(&snapshot(builder, &[], &[]), &forced);
    assert_eq!(plan.requests.len(), 1);
    assert_eq!(plan.requests[0].name, image_id("m"));
    assert!(plan.requests[0].force);
}

#[test]
fn a_protected_untagged_parent_is_not_pruned_with_its_child() {
    let builder = SnapshotBuilder::new()
        .image("mid", ImageSpec::new().layers(["M"]))
        .image(
            "leaf",
            ImageSpec::new()
                .tags(["leaf:1"])
                .parent("mid")
                .layers(["M", "L"]),
        );
    let rules = Rules {
        matches: patterns(&["leaf"]),
        keep_labels: vec!["pin=mid".parse().expect("label")],
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(
            builder,
            &[("mid", 1), ("leaf", 2)],
            &[("mid", "pin", "mid")],
        ),
        &request(true, rules),
    );
    assert_eq!(outcome(&plan, "leaf"), (Action::Remove, Reason::Selected));
    assert_eq!(outcome(&plan, "mid"), (Action::Keep, Reason::KeepLabel));
    assert!(plan.requests[0].no_prune);
}

// ---- Thresholds ----

fn five_images() -> SnapshotBuilder {
    let mut builder = SnapshotBuilder::new();
    for n in 1..=5 {
        let key = format!("i{n}");
        let layer = format!("L{n}");
        builder = builder
            .image(
                &key,
                ImageSpec::new()
                    .tags([format!("img:{n}")])
                    .layers([layer.clone()]),
            )
            .layer_size(&layer, 1000);
    }
    builder
}

const FIVE: &[(&str, i64)] = &[("i1", 1), ("i2", 2), ("i3", 3), ("i4", 4), ("i5", 5)];

#[test]
fn max_usage_removes_the_least_recently_created_until_usage_fits() {
    let rules = Rules {
        max_usage: Some(2500),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(five_images(), FIVE, &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["i1", "i2", "i3"]));
    assert_eq!(
        outcome(&plan, "i1"),
        (Action::Remove, Reason::OverThreshold)
    );
    assert_eq!(outcome(&plan, "i4"), (Action::Keep, Reason::ThresholdMet));
    assert!(
        by_key(&plan, "i1")
            .detail
            .contains("above --max-usage 2.5 kB"),
        "{}",
        by_key(&plan, "i1").detail
    );
    assert_eq!(plan.usage_before, 5000);
    assert_eq!(plan.usage_after, 2000);
}

#[test]
fn until_free_stops_once_enough_is_freed() {
    let rules = Rules {
        until_free: Some(1500),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(five_images(), FIVE, &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["i1", "i2"]));
    assert_eq!(plan.predicted_bytes, 2000);
}

#[test]
fn a_threshold_already_met_removes_nothing() {
    let rules = Rules {
        max_usage: Some(5000),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(five_images(), FIVE, &[]), &request(true, rules));
    assert!(removed(&plan).is_empty());
    assert!(plan.requests.is_empty());
    assert_eq!(outcome(&plan, "i1"), (Action::Keep, Reason::ThresholdMet));
}

#[test]
fn threshold_ties_on_creation_time_go_by_id() {
    let rules = Rules {
        max_usage: Some(4000),
        ..Rules::default()
    };
    let same: Vec<(&str, i64)> = FIVE.iter().map(|(key, _)| (*key, 1)).collect();
    let plan = plan_policy(&snapshot(five_images(), &same, &[]), &request(true, rules));
    let first = FIVE
        .iter()
        .map(|(key, _)| image_id(key))
        .min()
        .expect("five images");
    assert_eq!(removed(&plan), [first]);
}

#[test]
fn protected_and_young_images_do_not_count_as_candidates_for_the_threshold() {
    let rules = Rules {
        max_usage: Some(3500),
        keep: patterns(&["img:1"]),
        older_than: Some(Duration::from_secs(10_000 - 4)),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(five_images(), FIVE, &[]), &request(true, rules));
    // img:1 is protected, img:5 too young: img:2 goes, then img:3 brings usage to 3000.
    assert_eq!(removed(&plan), ids(&["i2", "i3"]));
    assert_eq!(outcome(&plan, "i1"), (Action::Keep, Reason::KeepPattern));
    assert_eq!(outcome(&plan, "i5"), (Action::Keep, Reason::TooNew));
    assert_eq!(outcome(&plan, "i4"), (Action::Keep, Reason::ThresholdMet));
}

#[test]
fn the_threshold_walk_takes_a_child_before_its_older_parent() {
    let builder = SnapshotBuilder::new()
        .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
        .image(
            "c",
            ImageSpec::new()
                .tags(["c:1"])
                .parent("p")
                .layers(["P", "C"]),
        )
        .image("o", ImageSpec::new().tags(["o:1"]).layers(["O"]))
        .layer_size("P", 1000)
        .layer_size("C", 1000)
        .layer_size("O", 1000);
    let rules = Rules {
        max_usage: Some(1000),
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(builder, &[("p", 1), ("c", 3), ("o", 2)], &[]),
        &request(true, rules),
    );
    let order: Vec<String> = plan.requests.iter().map(|r| r.image_id.clone()).collect();
    assert_eq!(order, ids(&["o", "c"]));
    assert_eq!(plan.usage_after, 1000);
    assert_eq!(outcome(&plan, "p"), (Action::Keep, Reason::ThresholdMet));
}

#[test]
fn every_image_gets_exactly_one_decision_with_a_reason() {
    let rules = Rules {
        matches: patterns(&["**"]),
        keep_last: Some(1),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(build_host(), CREATED, &[]), &request(true, rules));
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for decision in &plan.decisions {
        *seen.entry(decision.image.as_str()).or_default() += 1;
        assert!(!decision.detail.is_empty(), "{decision:?}");
    }
    assert_eq!(seen.len(), 9);
    assert!(seen.values().all(|count| *count == 1));
}

#[test]
fn a_pulled_image_with_its_tag_and_digest_goes_by_id_without_force() {
    // Semantics case 25: a tag with the digests of its own repository is a single reference,
    // so one DELETE by ID removes it (by tag then digest, the digest would already be gone).
    let builder = SnapshotBuilder::new().image(
        "pulled",
        ImageSpec::new()
            .tags(["ci/app:pr-7"])
            .digests([format!("ci/app@{}", crate::plan::test_support::digest("p"))])
            .layers(["P"]),
    );
    let rules = Rules {
        matches: patterns(&["ci/*:pr-*"]),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(builder, &[], &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["pulled"]));
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [image_id("pulled")]);
    assert!(plan.requests.iter().all(|r| r.error.is_none() && !r.force));
}

#[test]
fn an_image_in_two_repositories_goes_tag_by_tag_and_skips_digests_that_go_with_a_tag() {
    let builder = SnapshotBuilder::new().image(
        "two",
        ImageSpec::new()
            .tags(["ci/app:pr-7", "ci/web:pr-7"])
            .digests([
                format!("ci/app@{}", crate::plan::test_support::digest("a")),
                format!("ci/other@{}", crate::plan::test_support::digest("o")),
            ])
            .layers(["T"]),
    );
    let rules = Rules {
        matches: patterns(&["ci/*:pr-*"]),
        ..Rules::default()
    };
    let plan = plan_policy(&snapshot(builder, &[], &[]), &request(true, rules));
    assert_eq!(removed(&plan), ids(&["two"]));
    assert!(plan.requests.iter().all(|r| r.error.is_none()), "{plan:?}");
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert!(
        !names.iter().any(|name| name.starts_with("ci/app@")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|name| name.starts_with("ci/other@")),
        "{names:?}"
    );
}

#[test]
fn prune_all_untags_all_but_one_tag_of_an_image_a_container_uses_and_says_why() {
    // The engine's prune deletes each reference without force: the first tag goes (the image
    // has another), the last is refused because a container uses the image.
    let builder = SnapshotBuilder::new()
        .image(
            "used",
            ImageSpec::new().tags(["app:1", "app:latest"]).layers(["U"]),
        )
        .running("ctr", "used");
    let plan = plan_policy(
        &snapshot(builder, &[], &[]),
        &request(true, Rules::default()),
    );
    assert_eq!(
        outcome(&plan, "used"),
        (Action::Untag, Reason::RunningContainer)
    );
    assert_eq!(plan.records(), [untagged("app:1")]);
    assert_eq!(plan.predicted_bytes, 0);
}

#[test]
fn an_intermediate_left_by_a_noprune_removal_says_why_it_stays() {
    // leaf:1 → mid2 (untagged) → mid (untagged, pinned): leaf goes with noprune to spare mid,
    // so mid2 stays without a child.
    let builder = SnapshotBuilder::new()
        .image("mid", ImageSpec::new().layers(["M"]))
        .image("mid2", ImageSpec::new().parent("mid").layers(["M", "N"]))
        .image(
            "leaf",
            ImageSpec::new()
                .tags(["leaf:1"])
                .parent("mid2")
                .layers(["M", "N", "L"]),
        );
    let rules = Rules {
        matches: patterns(&["leaf"]),
        keep_labels: vec!["pin=mid".parse().expect("label")],
        ..Rules::default()
    };
    let plan = plan_policy(
        &snapshot(
            builder,
            &[("mid", 1), ("mid2", 2), ("leaf", 3)],
            &[("mid", "pin", "mid")],
        ),
        &request(true, rules),
    );
    assert_eq!(outcome(&plan, "leaf"), (Action::Remove, Reason::Selected));
    assert_eq!(outcome(&plan, "mid"), (Action::Keep, Reason::KeepLabel));
    let mid2 = by_key(&plan, "mid2");
    assert_eq!(
        (mid2.action, mid2.reason),
        (Action::Keep, Reason::Intermediate)
    );
    assert!(
        mid2.detail.contains("without pruning parents"),
        "{}",
        mid2.detail
    );
}

/// `base:1` (layer B, 100 bytes, created first) and `app:1` on it (B and A, 10 bytes), on an
/// engine of `kind`; `blobs` (image key, digest, size) are their content blobs, if any.
fn base_and_app_on(
    kind: crate::data::EngineKind,
    others: &[(&str, &str)],
    blobs: &[(&str, &str, u64)],
) -> Snapshot {
    let mut builder = SnapshotBuilder::base_and_app()
        .layer_size("B", 100)
        .layer_size("A", 10);
    for (key, tag) in others {
        builder = builder.image(key, ImageSpec::new().tags([*tag]).layers([*key]));
    }
    let mut host = snapshot(builder, &[("base", 1), ("app", 2)], &[]);
    host.engine = kind;
    if !blobs.is_empty() {
        let mut content = crate::snapshot::ContentBlobs::default();
        for (key, digest, size) in blobs {
            content
                .by_image
                .entry(image_id(key))
                .or_default()
                .push((*digest).to_owned());
            content.sizes.insert((*digest).to_owned(), *size);
        }
        host.content = Some(content);
    }
    host
}

#[test]
fn on_engines_that_list_images_only_each_decisions_bytes_add_up_to_the_hosts() {
    use crate::data::EngineKind;
    // Both matched: app goes first, then base. On the containerd store each also holds its
    // manifest, and both the compressed blob of B.
    let blobs = [
        ("base", "sha256:mb", 5),
        ("base", "sha256:lb", 1000),
        ("app", "sha256:ma", 7),
        ("app", "sha256:lb", 1000),
    ];
    let rules = Rules {
        matches: patterns(&["base", "app"]),
        ..Rules::default()
    };
    for kind in [EngineKind::DockerContainerd, EngineKind::Podman] {
        let content: &[_] = if kind == EngineKind::DockerContainerd {
            &blobs
        } else {
            &[]
        };
        let host = base_and_app_on(kind, &[("other", "other:1")], content);
        let plan = plan_policy(&host, &request(true, rules.clone()));
        let counted = u64::from(kind == EngineKind::DockerContainerd);
        assert_eq!(by_key(&plan, "app").bytes, 10 + 7 * counted, "{kind:?}");
        assert_eq!(
            by_key(&plan, "base").bytes,
            100 + 1005 * counted,
            "{kind:?}"
        );
        assert_eq!(by_key(&plan, "other").bytes, 0, "{kind:?}");
        let sum: u64 = plan.decisions.iter().map(|decision| decision.bytes).sum();
        assert_eq!(plan.predicted_bytes, sum, "{kind:?}");
    }
}

#[test]
fn on_the_containerd_store_thresholds_count_the_content_blobs_too() {
    // app:1 frees its 10-byte layer and its 600-byte manifest: enough for --until-free 500,
    // so base:1, older but app's parent, stays.
    let host = base_and_app_on(
        crate::data::EngineKind::DockerContainerd,
        &[],
        &[("base", "sha256:mb", 5), ("app", "sha256:ma", 600)],
    );
    let rules = Rules {
        matches: patterns(&["base", "app"]),
        until_free: Some(500),
        ..Rules::default()
    };
    let plan = plan_policy(&host, &request(true, rules));
    assert_eq!(
        outcome(&plan, "app"),
        (Action::Remove, Reason::OverThreshold)
    );
    assert_eq!(outcome(&plan, "base").0, Action::Keep);
    assert_eq!(plan.predicted_bytes, 610);
    assert_eq!(plan.usage_before, 110 + 605);
    assert_eq!(plan.usage_after, 110 + 605 - 610);
}
