//! The conformance cases of section 7 of `docs/rmi-semantics.md`, one test each, with exact
//! records, messages and `docker rmi` exit codes.
//!
//! "img" is an image with one unique layer `L`. Bare names such as `a` are tried as ID prefixes
//! too, so images here get IDs that start with digits where that could matter.
//!
//! Cases 33 and 34 are prune requests; their tests drive the store the way
//! `POST /images/prune` drives the engine (by reference, or by ID when untagged, without force,
//! conflicts skipped), leaving the candidate filters to the prune planner. Case 35 is about
//! concurrent calls to one engine and has no counterpart in a pure planner.

use crate::snapshot::{ContainerState, Snapshot};

use super::removal::{RemovalPlan, plan_removal};
use super::test_support::{
    ImageSpec, SnapshotBuilder, chain_id, container_id, deleted, digest, id_with_prefix, image_id,
    request, short, untagged,
};
use super::{ApiError, DeleteRecord, PlannedRemoval, SimulatedStore};

/// `img` (one layer `L`) with the given tags, under an ID no short name can be a prefix of.
fn img(tags: &[&str]) -> SnapshotBuilder {
    SnapshotBuilder::new().image(
        "img",
        ImageSpec::new()
            .id(&img_id())
            .tags(tags.to_vec())
            .layers(["L"]),
    )
}

fn img_id() -> String {
    id_with_prefix("7", "img")
}

fn layer_l() -> String {
    chain_id(&["L"])
}

fn rmi(snapshot: &Snapshot, images: &[&str], force: bool) -> RemovalPlan {
    plan_removal(snapshot, &request(images, force, false))
}

/// The one removal of a one-argument plan.
fn only(plan: &RemovalPlan) -> &PlannedRemoval {
    assert_eq!(plan.removals.len(), 1, "one argument, one removal");
    &plan.removals[0]
}

fn assert_records(plan: &RemovalPlan, expected: &[DeleteRecord]) {
    let removal = only(plan);
    assert_eq!(removal.error, None, "{} should succeed", removal.image);
    assert_eq!(removal.records, expected, "records of {}", removal.image);
}

fn assert_error(plan: &RemovalPlan, status: u16, message: &str) {
    let removal = only(plan);
    assert_eq!(
        removal.error,
        Some(ApiError {
            status,
            message: message.to_owned()
        }),
        "error of {}",
        removal.image
    );
    assert!(removal.records.is_empty());
}

fn multiple_repositories(id: &str) -> String {
    format!(
        "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
        short(id)
    )
}

fn running_container(id: &str, container: &str) -> String {
    format!(
        "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
        short(id),
        short(&container_id(container))
    )
}

fn stopped_container(id: &str, container: &str) -> String {
    format!(
        "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
        short(id),
        short(&container_id(container))
    )
}

fn must_force_reference(name: &str, container: &str, id: &str) -> String {
    format!(
        "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
        short(&container_id(container)),
        short(id)
    )
}

fn dependent_child(id: &str) -> String {
    format!(
        "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
        short(id)
    )
}

#[test]
fn case_01_untag_one_of_two_tags_keeps_image_and_layer() {
    let plan = rmi(&img(&["a:1", "a:2"]).build(), &["a:2"], false);
    assert_records(&plan, &[untagged("a:2")]);
    assert!(plan.freed_layers.is_empty());
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_02_last_tag_deletes_image_and_layer() {
    let plan = rmi(&img(&["a:1"]).build(), &["a:1"], false);
    assert_records(
        &plan,
        &[untagged("a:1"), deleted(&img_id()), deleted(&layer_l())],
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_03_bare_name_means_latest_and_is_not_found() {
    let snapshot = img(&["a:1"]).build();
    let plan = rmi(&snapshot, &["a"], false);
    assert_error(&plan, 404, "No such image: a:latest");
    assert_eq!(plan.docker_exit_code(false), 1);
    assert_eq!(rmi(&snapshot, &["a"], true).docker_exit_code(true), 0);
}

#[test]
fn case_04_by_id_with_two_tags_needs_force() {
    let plan = rmi(&img(&["a:1", "a:2"]).build(), &[&img_id()], false);
    assert_error(&plan, 409, &multiple_repositories(&img_id()));
    assert_eq!(plan.docker_exit_code(false), 1);
}

#[test]
fn case_05_forced_by_id_untags_both_repositories_then_deletes() {
    // Section 7 lists `a:1` first, but the engine sorts references by their full names and
    // `docker.io/b/a:1` sorts before `docker.io/library/a:1` (section 2's rule, and
    // `lexicalRefs` in reference/store.go). The rule is followed here.
    let plan = rmi(&img(&["a:1", "b/a:1"]).build(), &[&img_id()], true);
    assert_records(
        &plan,
        &[
            untagged("b/a:1"),
            untagged("a:1"),
            deleted(&img_id()),
            deleted(&layer_l()),
        ],
    );
    assert_eq!(plan.docker_exit_code(true), 0);
}

#[test]
fn case_05_repositories_after_library_keep_the_documented_order() {
    // The same case with a repository that sorts after `library`, as observed in scenario A.
    let plan = rmi(&img(&["a:1", "other/a:1"]).build(), &[&img_id()], true);
    assert_records(
        &plan,
        &[
            untagged("a:1"),
            untagged("other/a:1"),
            deleted(&img_id()),
            deleted(&layer_l()),
        ],
    );
}

#[test]
fn case_06_twelve_digit_prefix_with_one_tag_deletes_without_force() {
    let plan = rmi(&img(&["a:1"]).build(), &[short(&img_id())], false);
    assert_records(
        &plan,
        &[untagged("a:1"), deleted(&img_id()), deleted(&layer_l())],
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_07_prefix_with_algorithm_and_full_hex_id_work_like_case_06() {
    let snapshot = img(&["a:1"]).build();
    let hex = img_id().trim_start_matches("sha256:").to_owned();
    for name in [format!("sha256:{}", &hex[..10]), hex.clone()] {
        let plan = rmi(&snapshot, &[&name], false);
        assert_records(
            &plan,
            &[untagged("a:1"), deleted(&img_id()), deleted(&layer_l())],
        );
        assert_eq!(plan.docker_exit_code(false), 0);
    }
}

#[test]
fn case_08_ambiguous_prefix_is_not_found() {
    let snapshot = SnapshotBuilder::new()
        .image(
            "one",
            ImageSpec::new()
                .id(&id_with_prefix("056a58cb8db8", "one"))
                .layers(["1"]),
        )
        .image(
            "two",
            ImageSpec::new()
                .id(&id_with_prefix("05b43b885bac", "two"))
                .layers(["2"]),
        )
        .build();
    let plan = rmi(&snapshot, &["0", "sha256:0"], false);
    assert_eq!(
        plan.removals[0]
            .error
            .as_ref()
            .map(|e| (e.status, e.message.as_str())),
        Some((404, "No such image: 0:latest"))
    );
    assert_eq!(
        plan.removals[1]
            .error
            .as_ref()
            .map(|e| (e.status, e.message.as_str())),
        Some((404, "No such image: sha256:0"))
    );
    assert_eq!(plan.docker_exit_code(false), 1);
}

#[test]
fn case_09_a_tag_beats_an_id_prefix() {
    let b_id = id_with_prefix("056a58cb8db8", "b");
    let snapshot = SnapshotBuilder::new()
        .image(
            "a",
            ImageSpec::new()
                .id(&id_with_prefix("05b43b885bac", "a"))
                .tags(["a:1", "056a:latest"])
                .layers(["A"]),
        )
        .image("b", ImageSpec::new().id(&b_id).tags(["b:1"]).layers(["B"]))
        .build();
    let plan = rmi(&snapshot, &["056a"], false);
    assert_records(&plan, &[untagged("056a:latest")]);
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    store
        .delete_image("056a", false, true)
        .expect("the tag is found");
    assert_eq!(store.references_of(&b_id).len(), 1, "B is untouched");
}

#[test]
fn case_10_only_tag_of_image_a_running_container_uses_needs_force() {
    let plan = rmi(&img(&["a:1"]).running("c", "img").build(), &["a:1"], false);
    assert_error(&plan, 409, &must_force_reference("a:1", "c", &img_id()));
    assert_eq!(plan.docker_exit_code(false), 1);
}

#[test]
fn case_11_running_container_by_id_cannot_be_forced() {
    let snapshot = img(&["a:1"]).running("c", "img").build();
    for force in [false, true] {
        let plan = rmi(&snapshot, &[&img_id()], force);
        assert_error(&plan, 409, &running_container(&img_id(), "c"));
        assert_eq!(plan.docker_exit_code(force), 1);
    }
}

#[test]
fn case_12_forced_untag_leaves_a_dangling_image_for_the_running_container() {
    let snapshot = img(&["a:1"]).running("c", "img").build();
    let plan = rmi(&snapshot, &["a:1"], true);
    assert_records(&plan, &[untagged("a:1")]);
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    store
        .delete_image("a:1", true, true)
        .expect("the untag succeeds");
    assert!(store.contains_image(&img_id()) && !store.has_references(&img_id()));
    assert_eq!(plan.docker_exit_code(true), 0);
}

#[test]
fn case_13_another_tag_goes_without_force_while_a_container_runs() {
    let plan = rmi(
        &img(&["a:1", "a:2"]).running("c", "img").build(),
        &["a:2"],
        false,
    );
    assert_records(&plan, &[untagged("a:2")]);
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_14_paused_container_counts_as_running() {
    let mut snapshot = img(&[]).running("c", "img").build();
    snapshot.containers[0].state = ContainerState::from_engine_state("paused");
    let plan = rmi(&snapshot, &[&img_id()], true);
    assert_error(&plan, 409, &running_container(&img_id(), "c"));
    assert_eq!(plan.docker_exit_code(true), 1);
}

#[test]
fn case_15_stopped_container_needs_force_by_tag_and_by_id() {
    let snapshot = img(&["a:1"]).stopped("c", "img").build();
    let by_tag = rmi(&snapshot, &["a:1"], false);
    assert_error(&by_tag, 409, &must_force_reference("a:1", "c", &img_id()));
    assert_eq!(by_tag.docker_exit_code(false), 1);
    let by_id = rmi(&snapshot, &[&img_id()], false);
    assert_error(&by_id, 409, &stopped_container(&img_id(), "c"));
    assert_eq!(by_id.docker_exit_code(false), 1);
}

#[test]
fn case_16_forced_delete_with_stopped_container_frees_nothing_on_disk() {
    let snapshot = img(&["a:1"])
        .stopped("c", "img")
        .layer_size("L", 5_054_305)
        .build();
    let plan = rmi(&snapshot, &["a:1"], true);
    assert_records(&plan, &[untagged("a:1"), deleted(&img_id())]);
    assert!(plan.freed_layers.is_empty());
    assert_eq!(plan.predicted_bytes, 0);
    assert_eq!(
        plan.predicted_layers_size_drop, 5_054_305,
        "LayersSize falls by Size"
    );
    assert_eq!(plan.held_by_containers_bytes, 5_054_305);
    assert_eq!(plan.docker_exit_code(true), 0);
}

#[test]
fn case_17_multiple_repositories_wins_over_the_stopped_container() {
    let snapshot = img(&["a:1", "a:2"]).stopped("c", "img").build();
    let plan = rmi(&snapshot, &[&img_id()], false);
    assert_error(&plan, 409, &multiple_repositories(&img_id()));
    assert_eq!(plan.docker_exit_code(false), 1);
    let forced = rmi(&snapshot, &[&img_id()], true);
    assert_records(
        &forced,
        &[untagged("a:1"), untagged("a:2"), deleted(&img_id())],
    );
    assert_eq!(forced.docker_exit_code(true), 0);
}

fn legacy_child() -> SnapshotBuilder {
    SnapshotBuilder::new()
        .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
        .image(
            "c",
            ImageSpec::new()
                .tags(["c:1"])
                .parent("p")
                .layers(["P", "C"]),
        )
}

#[test]
fn case_18_parent_with_a_legacy_child_cannot_be_deleted_by_id() {
    let snapshot = legacy_child().build();
    for force in [false, true] {
        let plan = rmi(&snapshot, &[&image_id("p")], force);
        assert_error(&plan, 409, &dependent_child(&image_id("p")));
        assert_eq!(plan.docker_exit_code(force), 1);
    }
}

#[test]
fn case_19_parent_tag_is_removed_and_the_parent_stays() {
    let snapshot = legacy_child().build();
    let plan = rmi(&snapshot, &["p:1"], false);
    assert_records(&plan, &[untagged("p:1")]);
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    store
        .delete_image("p:1", false, true)
        .expect("the untag succeeds");
    assert!(store.contains_image(&image_id("p")));
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_20_deleting_the_child_prunes_the_untagged_parent() {
    let plan = rmi(&legacy_child().build(), &["p:1", "c:1"], false);
    assert_eq!(plan.removals[0].records, [untagged("p:1")]);
    assert_eq!(
        plan.removals[1].records,
        [
            untagged("c:1"),
            deleted(&image_id("c")),
            deleted(&chain_id(&["P", "C"])),
            deleted(&image_id("p")),
            deleted(&chain_id(&["P"])),
        ]
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

fn legacy_chain() -> SnapshotBuilder {
    SnapshotBuilder::new()
        .image("b", ImageSpec::new().tags(["b:1"]).layers(["B"]))
        .image("i1", ImageSpec::new().parent("b").layers(["B", "1"]))
        .image("i2", ImageSpec::new().parent("i1").layers(["B", "1", "2"]))
        .image(
            "t",
            ImageSpec::new()
                .tags(["t:1"])
                .parent("i2")
                .layers(["B", "1", "2", "T"]),
        )
}

#[test]
fn case_21_no_prune_leaves_the_intermediates_and_the_next_one_dangles() {
    let snapshot = legacy_chain().build();
    let plan = plan_removal(&snapshot, &request(&["t:1"], false, true));
    assert_records(
        &plan,
        &[
            untagged("t:1"),
            deleted(&image_id("t")),
            deleted(&chain_id(&["B", "1", "2", "T"])),
        ],
    );
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    store
        .delete_image("t:1", false, false)
        .expect("the delete succeeds");
    assert!(store.contains_image(&image_id("i1")) && store.contains_image(&image_id("i2")));
    assert!(store.is_dangling(&image_id("i2")));
    assert!(!store.is_dangling(&image_id("i1")), "i1 still has a child");
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_22_prune_takes_the_intermediates_and_stops_at_the_tagged_base() {
    let plan = rmi(&legacy_chain().build(), &["t:1"], false);
    assert_records(
        &plan,
        &[
            untagged("t:1"),
            deleted(&image_id("t")),
            deleted(&chain_id(&["B", "1", "2", "T"])),
            deleted(&image_id("i2")),
            deleted(&chain_id(&["B", "1", "2"])),
            deleted(&image_id("i1")),
            deleted(&chain_id(&["B", "1"])),
        ],
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

fn tag_and_digest() -> SnapshotBuilder {
    SnapshotBuilder::new().image(
        "img",
        ImageSpec::new()
            .id(&img_id())
            .tags(["r:1"])
            .digests([format!("r@{}", digest("D"))])
            .layers(["L"]),
    )
}

#[test]
fn case_23_removing_the_digest_keeps_the_tag() {
    let by_digest = format!("r@{}", digest("D"));
    let plan = rmi(&tag_and_digest().build(), &[&by_digest], false);
    assert_records(&plan, &[untagged(&by_digest)]);
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_24_the_last_tag_takes_the_digest_of_its_repository() {
    let plan = rmi(&tag_and_digest().build(), &["r:1"], false);
    assert_records(
        &plan,
        &[
            untagged("r:1"),
            untagged(&format!("r@{}", digest("D"))),
            deleted(&img_id()),
            deleted(&layer_l()),
        ],
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_25_tag_and_digest_of_one_repository_are_a_single_reference() {
    let plan = rmi(&tag_and_digest().build(), &[&img_id()], false);
    assert_records(
        &plan,
        &[
            untagged("r:1"),
            untagged(&format!("r@{}", digest("D"))),
            deleted(&img_id()),
            deleted(&layer_l()),
        ],
    );
    assert_eq!(plan.docker_exit_code(false), 0);
}

#[test]
fn case_26_digest_and_a_tag_of_another_repository_need_force() {
    let snapshot = SnapshotBuilder::new()
        .image(
            "img",
            ImageSpec::new()
                .id(&img_id())
                .tags(["x:1"])
                .digests([format!("r@{}", digest("D"))])
                .layers(["L"]),
        )
        .build();
    let plan = rmi(&snapshot, &[&img_id()], false);
    assert_error(&plan, 409, &multiple_repositories(&img_id()));
    assert_eq!(plan.docker_exit_code(false), 1);
}

#[test]
fn case_27_a_tag_sent_with_a_digest_is_ignored_but_echoed() {
    let snapshot = SnapshotBuilder::new()
        .image(
            "img",
            ImageSpec::new()
                .id(&img_id())
                .digests([format!("r@{}", digest("D"))])
                .layers(["L"]),
        )
        .build();
    let name = format!("r:1@{}", digest("D"));
    let plan = rmi(&snapshot, &[&name], false);
    assert_records(
        &plan,
        &[untagged(&name), deleted(&img_id()), deleted(&layer_l())],
    );
}

#[test]
fn case_28_empty_store_answers_not_found() {
    let snapshot = Snapshot::default();
    let zeros = format!("sha256:{}", "0".repeat(64));
    let plan = rmi(&snapshot, &["nope:2", &zeros], false);
    assert_eq!(
        plan.removals[0].error.as_ref().map(|e| e.message.as_str()),
        Some("No such image: nope:2")
    );
    assert_eq!(
        plan.removals[1]
            .error
            .as_ref()
            .map(|e| (e.status, e.message.clone())),
        Some((404, format!("No such image: {zeros}")))
    );
    assert_eq!(plan.docker_exit_code(false), 1);
    assert_eq!(
        rmi(&snapshot, &["nope:2", &zeros], true).docker_exit_code(true),
        0
    );
}

#[test]
fn case_29_upper_case_and_blank_names_are_bad_requests_even_forced() {
    let snapshot = Snapshot::default();
    let plan = rmi(&snapshot, &["UPPER"], true);
    assert_error(
        &plan,
        400,
        "invalid reference format: repository name must be lowercase",
    );
    assert_eq!(plan.docker_exit_code(true), 1);
    assert_error(
        &rmi(&snapshot, &[" "], false),
        400,
        "image name cannot be blank",
    );
}

#[test]
fn case_30_hub_names_longer_than_237_characters_are_bad_requests() {
    let snapshot = Snapshot::default();
    let too_long = "a".repeat(238);
    assert_error(
        &rmi(&snapshot, &[&too_long], false),
        400,
        "repository name must not be more than 255 characters",
    );
    let longest = "a".repeat(237);
    assert_error(
        &rmi(&snapshot, &[&longest], false),
        404,
        &format!("No such image: {longest}:latest"),
    );
}

#[test]
fn case_31_errors_do_not_stop_later_arguments_and_set_the_exit_code() {
    let snapshot = SnapshotBuilder::new()
        .image("ok", ImageSpec::new().tags(["ok:1"]).layers(["O"]))
        .image("ok2", ImageSpec::new().tags(["ok2:1"]).layers(["O2"]))
        .image(
            "conflicted",
            ImageSpec::new().tags(["conflicted:1"]).layers(["X"]),
        )
        .stopped("c", "conflicted")
        .build();
    let plan = rmi(&snapshot, &["ok:1", "nope", "conflicted:1"], false);
    assert_eq!(
        plan.removals[0].records,
        [
            untagged("ok:1"),
            deleted(&image_id("ok")),
            deleted(&chain_id(&["O"]))
        ]
    );
    assert_eq!(
        plan.removals[1].error.as_ref().map(|e| e.message.as_str()),
        Some("No such image: nope:latest")
    );
    assert_eq!(
        plan.removals[2].error.as_ref().map(|e| e.message.clone()),
        Some(must_force_reference(
            "conflicted:1",
            "c",
            &image_id("conflicted")
        ))
    );
    assert_eq!(plan.docker_exit_code(false), 1);

    let forced = rmi(&snapshot, &["nope", "ok2:1"], true);
    assert_eq!(forced.removals[1].records.len(), 3);
    assert_eq!(forced.docker_exit_code(true), 0);
}

#[test]
fn case_32_a_shared_layer_stays_with_the_other_image() {
    let snapshot = SnapshotBuilder::new()
        .image("sb1", ImageSpec::new().tags(["sb:1"]).layers(["S"]))
        .image("sb2", ImageSpec::new().tags(["sb:2"]).layers(["S"]))
        .layer_size("S", 3_006_305)
        .build();
    let plan = rmi(&snapshot, &["sb:1"], false);
    assert_records(&plan, &[untagged("sb:1"), deleted(&image_id("sb1"))]);
    assert_eq!(
        (plan.predicted_bytes, plan.predicted_layers_size_drop),
        (0, 0)
    );
}

/// Deletes one prune candidate the way `ImageService.ImagesPrune` does: each reference by its
/// full name, or the hex ID when there is none; no force, parents pruned, conflicts skipped.
fn prune_candidate(store: &mut SimulatedStore, id: &str) -> Vec<DeleteRecord> {
    let references = store.references_of(id);
    let names: Vec<String> = if references.is_empty() {
        vec![id.trim_start_matches("sha256:").to_owned()]
    } else {
        references
            .iter()
            .map(|reference| reference.normalized())
            .collect()
    };
    names
        .iter()
        .filter_map(|name| store.delete_image(name, false, true).ok())
        .flatten()
        .collect()
}

#[test]
fn case_33_prune_deletes_dangling_and_digest_only_images_and_keeps_used_ones() {
    let pdig = format!("localhost:5055/pdig@{}", digest("f978"));
    let snapshot = SnapshotBuilder::new()
        .image("dangling", ImageSpec::new().layers(["D"]))
        .image(
            "digest-only",
            ImageSpec::new().digests([pdig.clone()]).layers(["P"]),
        )
        .image("used", ImageSpec::new().layers(["U"]))
        .stopped("c", "used")
        .layer_size("D", 2_000_000)
        .layer_size("P", 2_230_850)
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    let records: Vec<DeleteRecord> = ["dangling", "digest-only", "used"]
        .iter()
        .flat_map(|key| prune_candidate(&mut store, &image_id(key)))
        .collect();
    assert_eq!(
        records,
        [
            deleted(&image_id("dangling")),
            deleted(&chain_id(&["D"])),
            untagged(&pdig),
            deleted(&image_id("digest-only")),
            deleted(&chain_id(&["P"])),
        ]
    );
    assert!(store.contains_image(&image_id("used")));
    let space_reclaimed: u64 = store
        .freed_layers()
        .iter()
        .map(|layer| store.layer_size(layer))
        .sum();
    assert_eq!(space_reclaimed, 4_230_850);
}

#[test]
fn case_34_prune_of_unused_images_takes_tagged_ones_too() {
    let snapshot = SnapshotBuilder::new()
        .image(
            "old",
            ImageSpec::new().tags(["old:1", "old:2"]).layers(["O"]),
        )
        .image("busy", ImageSpec::new().tags(["busy:1"]).layers(["B"]))
        .stopped("c", "busy")
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        prune_candidate(&mut store, &image_id("old")),
        [
            untagged("old:1"),
            untagged("old:2"),
            deleted(&image_id("old")),
            deleted(&chain_id(&["O"]))
        ]
    );
    assert!(prune_candidate(&mut store, &image_id("busy")).is_empty());
    assert!(store.contains_image(&image_id("busy")));
}

#[test]
fn case_36_predicted_bytes_match_layers_size_except_where_containers_hold_layers() {
    // The measured table of section 4 (M1–M6): prediction = LayersSize change, except M4.
    let snapshot = super::transcripts::measured_fleet().build();
    let steps: [(&[&str], bool, u64, u64); 5] = [
        (&["sb:2"], false, 0, 0),
        (&["sc:1"], false, 512_000, 512_000),
        (&["sb:1", "sc:2"], false, 716_800, 716_800),
        (&["sd:1"], true, 0, 3_313_505),
        (&["se:1"], false, 2_187_105, 2_187_105),
    ];
    let mut state = snapshot;
    for (images, force, on_disk, layers_size_drop) in steps {
        let plan = rmi(&state, images, force);
        assert_eq!(plan.predicted_bytes, on_disk, "{images:?}");
        assert_eq!(
            plan.predicted_layers_size_drop, layers_size_drop,
            "{images:?}"
        );
        assert_eq!(
            plan.held_by_containers_bytes,
            layers_size_drop - on_disk,
            "{images:?}"
        );
        let freed: u64 = plan
            .freed_layers
            .iter()
            .map(|layer| state.layer_sizes[layer])
            .sum();
        assert_eq!(freed, on_disk, "Σ DiffSize of the Deleted chain IDs");
        let mut store = SimulatedStore::from_snapshot(&state);
        for image in images {
            let _ = store.delete_image(image, force, true);
        }
        state = store.to_snapshot();
    }
}
