//! The transcripts observed on the real engine (sections 3 and 4 of `docs/rmi-semantics.md`),
//! replayed on hand-made snapshots. Where the document gives an ID in full it is used as is;
//! where it gives only a prefix, the IDs here start with that prefix, so short IDs in messages
//! match the transcript byte for byte.

use crate::snapshot::{ContainerState, Snapshot};

use super::removal::plan_removal;
use super::test_support::{
    ImageSpec, SnapshotBuilder, chain_id, container_id, deleted, digest, id_with_prefix, image_id,
    layer_with_prefix, request, untagged,
};
use super::{ApiError, DeleteRecord, SimulatedStore};

type Answer = Result<Vec<DeleteRecord>, ApiError>;

fn error(status: u16, message: &str) -> Answer {
    Err(ApiError {
        status,
        message: message.to_owned(),
    })
}

fn store(snapshot: &Snapshot) -> SimulatedStore {
    SimulatedStore::from_snapshot(snapshot)
}

/// Adds a tag to an image of a snapshot, as `docker tag` does between two requests.
fn tag(mut snapshot: Snapshot, image_id: &str, reference: &str) -> Snapshot {
    if let Some(image) = snapshot
        .images
        .iter_mut()
        .find(|image| image.id == image_id)
    {
        image.repo_tags.push(reference.to_owned());
    }
    snapshot
}

// Scenario A: one image tagged x:1, x:2, other/x:1.
const XID: &str = "sha256:753d6f4e822d8ca5186b3b08a06819289a7672905b4734fa42005bca38147bc3";
const X_LAYER: &str = "sha256:95a3904719b1b7e8b4f4499647efeca6c26577c0dc49e1ab1aac47bf4adf000c";

fn scenario_a(tags: &[&str]) -> Snapshot {
    SnapshotBuilder::new()
        .image(
            "x",
            ImageSpec::new()
                .id(XID)
                .tags(tags.to_vec())
                .chain([X_LAYER]),
        )
        .build()
}

#[test]
fn a_untag_one_of_three_references() {
    let mut store = store(&scenario_a(&["x:1", "x:2", "other/x:1"]));
    assert_eq!(
        store.delete_image("x:2", false, true),
        Ok(vec![untagged("x:2")])
    );
    let multiple = "conflict: unable to delete 753d6f4e822d (must be forced) - image is referenced in multiple repositories";
    assert_eq!(store.delete_image(XID, false, true), error(409, multiple));
}

#[test]
fn a_two_tags_of_one_repository_still_say_multiple_repositories() {
    let mut store = store(&scenario_a(&["x:1", "x:3"]));
    assert_eq!(
        store.delete_image(XID, false, true),
        error(
            409,
            "conflict: unable to delete 753d6f4e822d (must be forced) - image is referenced in multiple repositories"
        )
    );
    assert_eq!(
        store.delete_image(XID, true, true),
        Ok(vec![
            untagged("x:1"),
            untagged("x:3"),
            deleted(XID),
            deleted(X_LAYER)
        ])
    );
    assert!(!store.contains_image(XID));
}

#[test]
fn b_last_tag_by_name_and_by_every_id_form() {
    let ids = [
        ("y", id_with_prefix("cd3943d2", "y")),
        ("y2", id_with_prefix("552b95b686c0", "y2")),
        ("y3", id_with_prefix("df9f7e2654", "y3")),
        ("y4", id_with_prefix("8731c138", "y4")),
    ];
    let snapshot = SnapshotBuilder::new()
        .image(
            "y",
            ImageSpec::new().id(&ids[0].1).tags(["y:1"]).layers(["Y"]),
        )
        .image(
            "y2",
            ImageSpec::new().id(&ids[1].1).tags(["y2:1"]).layers(["Y2"]),
        )
        .image(
            "y3",
            ImageSpec::new()
                .id(&ids[2].1)
                .tags(["y3:latest"])
                .layers(["Y3"]),
        )
        .image(
            "y4",
            ImageSpec::new().id(&ids[3].1).tags(["y4:1"]).layers(["Y4"]),
        )
        .build();
    let mut store = store(&snapshot);
    assert_eq!(
        store.delete_image("y", false, true),
        error(404, "No such image: y:latest")
    );
    assert_eq!(
        store.delete_image("y:1", false, true),
        Ok(vec![
            untagged("y:1"),
            deleted(&ids[0].1),
            deleted(&chain_id(&["Y"]))
        ])
    );
    assert_eq!(
        store.delete_image("552b95b686c0", false, true),
        Ok(vec![
            untagged("y2:1"),
            deleted(&ids[1].1),
            deleted(&chain_id(&["Y2"]))
        ])
    );
    assert_eq!(
        store.delete_image("sha256:df9f7e2654", false, true),
        Ok(vec![
            untagged("y3:latest"),
            deleted(&ids[2].1),
            deleted(&chain_id(&["Y3"]))
        ])
    );
    let y4_hex = ids[3].1.trim_start_matches("sha256:").to_owned();
    assert_eq!(
        store.delete_image(&y4_hex, false, true),
        Ok(vec![
            untagged("y4:1"),
            deleted(&ids[3].1),
            deleted(&chain_id(&["Y4"]))
        ])
    );
}

#[test]
fn b_names_that_do_not_exist() {
    let mut store = store(
        &SnapshotBuilder::new()
            .image(
                "y",
                ImageSpec::new()
                    .id(&id_with_prefix("cd39", "y"))
                    .tags(["y:1"]),
            )
            .build(),
    );
    let zeros = "0".repeat(64);
    let cases = [
        ("nope", "No such image: nope:latest".to_owned()),
        ("nope:2", "No such image: nope:2".to_owned()),
        (
            "docker.io/library/nope:3",
            "No such image: nope:3".to_owned(),
        ),
        (
            &*format!("sha256:{zeros}"),
            format!("No such image: sha256:{zeros}"),
        ),
        (&*zeros, format!("No such image: sha256:{zeros}")),
        ("00000f", "No such image: 00000f:latest".to_owned()),
        ("sha256:00000f", "No such image: sha256:00000f".to_owned()),
        (
            &*format!("nope@sha256:{zeros}"),
            format!("No such image: nope@sha256:{zeros}"),
        ),
    ];
    for (name, message) in cases {
        assert_eq!(
            store.delete_image(name, false, true),
            error(404, &message),
            "{name}"
        );
    }
}

#[test]
fn b_invalid_names() {
    let mut store = SimulatedStore::default();
    assert_eq!(
        store.delete_image("UPPER", false, true),
        error(
            400,
            "invalid reference format: repository name must be lowercase"
        )
    );
    let long_tag = format!("x:{}", "t".repeat(129));
    for name in ["a:b:c", "-bad", "x@sha256:123", "a b", " la:1", &long_tag] {
        assert_eq!(
            store.delete_image(name, false, true),
            error(400, "invalid reference format"),
            "{name}"
        );
    }
    for name in [" ", ""] {
        assert_eq!(
            store.delete_image(name, false, true),
            error(400, "image name cannot be blank")
        );
    }
    assert_eq!(
        store.delete_image(&"a".repeat(256), false, true),
        error(400, "repository name must not be more than 255 characters")
    );
}

#[test]
fn h_short_id_prefixes() {
    let amb4 = id_with_prefix("056a58cb8db8", "amb4");
    let amb11 = id_with_prefix("3d977ecc", "amb11");
    let amb12 = id_with_prefix("05b43b885bac", "amb12");
    let amb11_layer = layer_with_prefix("0d5e5644", "amb11");
    let snapshot = SnapshotBuilder::new()
        .image(
            "amb4",
            ImageSpec::new().id(&amb4).tags(["amb4:1"]).layers(["4"]),
        )
        .image(
            "amb11",
            ImageSpec::new()
                .id(&amb11)
                .tags(["amb11:1"])
                .chain([amb11_layer.as_str()]),
        )
        .image(
            "amb12",
            ImageSpec::new().id(&amb12).tags(["amb12:1"]).layers(["12"]),
        )
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("0", false, true),
        error(404, "No such image: 0:latest")
    );
    assert_eq!(
        store.delete_image("sha256:0", false, true),
        error(404, "No such image: sha256:0")
    );
    assert_eq!(
        store.delete_image("3", false, true),
        Ok(vec![
            untagged("amb11:1"),
            deleted(&amb11),
            deleted(&amb11_layer)
        ])
    );

    let snapshot = tag(store.to_snapshot(), &amb12, "056a:latest");
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("056a", false, true),
        Ok(vec![untagged("056a:latest")])
    );

    let snapshot = tag(store.to_snapshot(), &amb4, "056a5:latest");
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("056a5", false, true),
        error(
            409,
            "conflict: unable to delete 056a58cb8db8 (must be forced) - image is referenced in multiple repositories"
        )
    );
    assert_eq!(
        store.delete_image("056a5:latest", false, true),
        Ok(vec![untagged("056a5:latest")])
    );
}

#[test]
fn c_image_used_by_a_running_container() {
    let id = id_with_prefix("650c441cc655", "r");
    let snapshot = SnapshotBuilder::new()
        .image("r", ImageSpec::new().id(&id).tags(["r:1"]).layers(["R"]))
        .running("bd7221a48001", "r")
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    let running = "conflict: unable to delete 650c441cc655 (cannot be forced) - image is being used by running container bd7221a48001";
    assert_eq!(
        store.delete_image("r:1", false, true),
        error(
            409,
            "conflict: unable to remove repository reference \"r:1\" (must force) - container bd7221a48001 is using its referenced image 650c441cc655"
        )
    );
    assert_eq!(store.delete_image(&id, false, true), error(409, running));
    assert_eq!(store.delete_image(&id, true, true), error(409, running));

    let mut store = SimulatedStore::from_snapshot(&tag(store.to_snapshot(), &id, "r:2"));
    assert_eq!(
        store.delete_image("r:2", false, true),
        Ok(vec![untagged("r:2")])
    );
    assert_eq!(
        store.delete_image("r:1", true, true),
        Ok(vec![untagged("r:1")])
    );
    assert!(store.contains_image(&id) && store.is_dangling(&id));
    for force in [false, true] {
        assert_eq!(store.delete_image(&id, force, true), error(409, running));
    }
}

#[test]
fn c_paused_container_cannot_be_forced() {
    let id = id_with_prefix("650c441cc655", "r");
    let mut snapshot = SnapshotBuilder::new()
        .image("r", ImageSpec::new().id(&id).layers(["R"]))
        .running("7dfdc0b97dce", "r")
        .build();
    snapshot.containers[0].state = ContainerState::from_engine_state("paused");
    assert_eq!(
        store(&snapshot).delete_image(&id, true, true),
        error(
            409,
            "conflict: unable to delete 650c441cc655 (cannot be forced) - image is being used by running container 7dfdc0b97dce"
        )
    );
}

#[test]
fn d_image_used_by_a_created_container() {
    let id = "sha256:ca6245f2b014874312a40afc45d779454e91b451363bbcd66629fe52451c4fd3";
    let snapshot = SnapshotBuilder::new()
        .image("s", ImageSpec::new().id(id).tags(["s:1"]).layers(["S"]))
        .layer_size("S", 5_054_305)
        .stopped("18ffb952cbb7", "s")
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("s:1", false, true),
        error(
            409,
            "conflict: unable to remove repository reference \"s:1\" (must force) - container 18ffb952cbb7 is using its referenced image ca6245f2b014"
        )
    );
    assert_eq!(
        store.delete_image(id, false, true),
        error(
            409,
            "conflict: unable to delete ca6245f2b014 (must be forced) - image is being used by stopped container 18ffb952cbb7"
        )
    );
    assert_eq!(
        store.delete_image("s:1", true, true),
        Ok(vec![untagged("s:1"), deleted(id)])
    );

    let plan = plan_removal(&snapshot, &request(&["s:1"], true, false));
    assert_eq!(
        (plan.predicted_bytes, plan.predicted_layers_size_drop),
        (0, 5_054_305)
    );
}

/// Scenario E: `e:1`, and `f:1` built from it by the legacy builder (RUN, RUN, LABEL).
struct ScenarioE {
    snapshot: Snapshot,
    e: String,
    i1: String,
    i2: String,
    f: String,
    e_layer: String,
    r1_layer: String,
    r2_layer: String,
}

fn scenario_e() -> ScenarioE {
    let e = id_with_prefix("c59e87aa8a4d", "e");
    let i1 = id_with_prefix("0532452fca97", "i1");
    let i2 = id_with_prefix("0f509f1f0448", "i2");
    let f = id_with_prefix("55b3c832d022", "f");
    let e_layer = layer_with_prefix("1400f976", "e");
    let r1_layer = layer_with_prefix("21b7351a", "r1");
    let r2_layer = layer_with_prefix("53167b92", "r2");
    let snapshot = SnapshotBuilder::new()
        .image(
            "e",
            ImageSpec::new()
                .id(&e)
                .tags(["e:1"])
                .chain([e_layer.clone()]),
        )
        .image(
            "i1",
            ImageSpec::new()
                .id(&i1)
                .parent("e")
                .chain([e_layer.clone(), r1_layer.clone()]),
        )
        .image(
            "i2",
            ImageSpec::new().id(&i2).parent("i1").chain([
                e_layer.clone(),
                r1_layer.clone(),
                r2_layer.clone(),
            ]),
        )
        // The LABEL step adds no layer: f's top layer is i2's.
        .image(
            "f",
            ImageSpec::new().id(&f).tags(["f:1"]).parent("i2").chain([
                e_layer.clone(),
                r1_layer.clone(),
                r2_layer.clone(),
            ]),
        )
        .build();
    ScenarioE {
        snapshot,
        e,
        i1,
        i2,
        f,
        e_layer,
        r1_layer,
        r2_layer,
    }
}

#[test]
fn e_legacy_chain_with_a_label_step() {
    let s = scenario_e();
    let mut store = SimulatedStore::from_snapshot(&s.snapshot);
    let child = "conflict: unable to delete c59e87aa8a4d (cannot be forced) - image has dependent child images";
    assert_eq!(store.delete_image(&s.e, false, true), error(409, child));
    assert_eq!(store.delete_image(&s.e, true, true), error(409, child));
    assert_eq!(
        store.delete_image(&s.i2, false, true),
        error(
            409,
            "conflict: unable to delete 0f509f1f0448 (cannot be forced) - image has dependent child images"
        )
    );
    assert_eq!(
        store.delete_image("e:1", false, true),
        Ok(vec![untagged("e:1")])
    );
    assert_eq!(
        store.delete_image("f:1", false, true),
        Ok(vec![
            untagged("f:1"),
            deleted(&s.f),
            deleted(&s.i2),
            deleted(&s.r2_layer),
            deleted(&s.i1),
            deleted(&s.r1_layer),
            deleted(&s.e),
            deleted(&s.e_layer),
        ])
    );
    assert_eq!(store.image_ids().count(), 0);
}

#[test]
fn i_no_prune_then_deleting_the_dangling_intermediate() {
    let g = id_with_prefix("e3ed87d8ae23", "g");
    let a1 = id_with_prefix("a929847ea76b", "a1");
    let a2 = id_with_prefix("a40635bc9a41", "a2");
    let h = "sha256:22774d5b16a5955fc657b35ebd153d922845975bcd5f2352310d2849a66c938a";
    let g_layer = layer_with_prefix("5a5a5a5a", "g");
    let a1_layer = layer_with_prefix("7138a04e", "a1");
    let a2_layer = layer_with_prefix("97459721", "a2");
    let snapshot = SnapshotBuilder::new()
        .image(
            "g",
            ImageSpec::new()
                .id(&g)
                .tags(["g:1"])
                .chain([g_layer.clone()]),
        )
        .image(
            "a1",
            ImageSpec::new()
                .id(&a1)
                .parent("g")
                .chain([g_layer.clone(), a1_layer.clone()]),
        )
        .image(
            "a2",
            ImageSpec::new().id(&a2).parent("a1").chain([
                g_layer.clone(),
                a1_layer.clone(),
                a2_layer.clone(),
            ]),
        )
        .image(
            "h",
            ImageSpec::new().id(h).tags(["h:1"]).parent("a2").chain([
                g_layer.clone(),
                a1_layer.clone(),
                a2_layer.clone(),
            ]),
        )
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("h:1", false, false),
        Ok(vec![untagged("h:1"), deleted(h)])
    );
    assert!(
        store.is_dangling(&a2),
        "a40635bc9a41 is listed by dangling=true"
    );
    assert!(!store.is_dangling(&a1));
    assert_eq!(
        store.delete_image(&a2, false, true),
        Ok(vec![
            deleted(&a2),
            deleted(&a2_layer),
            deleted(&a1),
            deleted(&a1_layer)
        ])
    );
    assert!(store.contains_image(&g));
}

#[test]
fn f_digest_references() {
    let dg2 = format!("localhost:5055/dg2@{}", digest("cc9f"));
    let id = id_with_prefix("f9239553", "dg2");
    let layer = layer_with_prefix("63c04c05", "dg2");
    let snapshot = SnapshotBuilder::new()
        .image(
            "dg2",
            ImageSpec::new()
                .id(&id)
                .tags(["localhost:5055/dg2:1"])
                .digests([dg2.clone()])
                .chain([layer.clone()]),
        )
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image(&dg2, false, true),
        Ok(vec![untagged(&dg2)])
    );
    assert_eq!(
        store.references_of(&id)[0].familiar(),
        "localhost:5055/dg2:1",
        "the tag stays"
    );

    // Pulled by digest again.
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("localhost:5055/dg2:1", false, true),
        Ok(vec![
            untagged("localhost:5055/dg2:1"),
            untagged(&dg2),
            deleted(&id),
            deleted(&layer)
        ])
    );

    // A digest and another tag of the same repository form a single reference.
    let again = SnapshotBuilder::new()
        .image(
            "dg2",
            ImageSpec::new()
                .id(&id)
                .tags(["localhost:5055/dg2:again"])
                .digests([dg2.clone()])
                .chain([layer.clone()]),
        )
        .build();
    assert_eq!(
        SimulatedStore::from_snapshot(&again).delete_image(&id, false, true),
        Ok(vec![
            untagged("localhost:5055/dg2:again"),
            untagged(&dg2),
            deleted(&id),
            deleted(&layer)
        ])
    );
}

#[test]
fn f_digest_and_a_tag_elsewhere() {
    let dg2 = format!("localhost:5055/dg2@{}", digest("cc9f"));
    let id = id_with_prefix("f9239553", "dg2");
    let layer = layer_with_prefix("63c04c05", "dg2");
    let snapshot = SnapshotBuilder::new()
        .image(
            "dg2",
            ImageSpec::new()
                .id(&id)
                .tags(["elsewhere:1"])
                .digests([dg2.clone()])
                .chain([layer.clone()]),
        )
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image(&id, false, true),
        error(
            409,
            &format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                crate::snapshot::short_id(&id)
            )
        )
    );
    assert_eq!(
        store.delete_image("elsewhere:1", false, true),
        Ok(vec![untagged("elsewhere:1")])
    );
    assert_eq!(
        store.delete_image(&dg2, false, true),
        Ok(vec![untagged(&dg2), deleted(&id), deleted(&layer)])
    );
}

#[test]
fn f_digest_under_another_repository_and_tag_with_digest() {
    let known = digest("d936");
    let snapshot = SnapshotBuilder::new()
        .image(
            "dg",
            ImageSpec::new()
                .digests([format!("localhost:5055/dg@{known}")])
                .layers(["DG"]),
        )
        .image(
            "ld",
            ImageSpec::new()
                .digests([format!("localhost:5055/ld@{}", digest("7440"))])
                .layers(["LD"]),
        )
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image(&format!("other@{known}"), false, true),
        error(404, &format!("No such image: other@{known}"))
    );
    let with_tag = format!("localhost:5055/ld:whatever@{}", digest("7440"));
    assert_eq!(
        store.delete_image(&with_tag, false, true),
        Ok(vec![
            untagged(&with_tag),
            deleted(&image_id("ld")),
            deleted(&chain_id(&["LD"]))
        ])
    );
}

#[test]
fn k_cli_exit_codes() {
    let snapshot = SnapshotBuilder::new()
        .image("k1", ImageSpec::new().tags(["k1:1", "k1:2"]).layers(["K1"]))
        .image("k2", ImageSpec::new().tags(["k2:1"]).layers(["K2"]))
        .image("k3", ImageSpec::new().tags(["k3:1"]).layers(["K3"]))
        .image("k4", ImageSpec::new().tags(["k4:1"]).layers(["K4"]))
        .running("964d92cf9195", "k3")
        .build();
    let rmi =
        |images: &[&str], force: bool| plan_removal(&snapshot, &request(images, force, false));

    let plan = rmi(&["k1:2", "k1:1"], false);
    let lines: Vec<String> = plan.records().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Untagged: k1:2".to_owned(),
            "Untagged: k1:1".to_owned(),
            format!("Deleted: {}", image_id("k1")),
            format!("Deleted: {}", chain_id(&["K1"])),
        ]
    );
    assert_eq!(plan.docker_exit_code(false), 0);
    assert_eq!(rmi(&["nope"], false).docker_exit_code(false), 1);
    assert_eq!(rmi(&["nope"], true).docker_exit_code(true), 0);
    assert_eq!(rmi(&["nope1", "nope2"], true).docker_exit_code(true), 0);

    let plan = rmi(&["k2:1", "nope", "k3:1"], false);
    assert_eq!(plan.removals[0].records.len(), 3);
    let errors: Vec<&str> = plan
        .removals
        .iter()
        .filter_map(|r| r.error.as_ref())
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0], "No such image: nope:latest");
    assert!(errors[1].starts_with("conflict: unable to remove repository reference \"k3:1\" (must force) - container 964d92cf9195 "));
    assert_eq!(plan.docker_exit_code(false), 1);

    assert_eq!(rmi(&["nope", "k4:1"], true).docker_exit_code(true), 0);
    assert_eq!(
        rmi(&["nope", &image_id("k3")], true).docker_exit_code(true),
        1
    );
    assert_eq!(rmi(&["UPPER"], false).docker_exit_code(false), 1);
    assert_eq!(rmi(&["UPPER"], true).docker_exit_code(true), 1);
}

#[test]
fn v_simulator_batch_against_the_engine() {
    let v2 = id_with_prefix("7534", "v2");
    let snapshot = SnapshotBuilder::new()
        .image("v1", ImageSpec::new().tags(["v1:1", "v1:2"]).layers(["V1"]))
        .image(
            "v1child",
            ImageSpec::new()
                .tags(["v1child:1"])
                .parent("v1")
                .layers(["V1", "C"]),
        )
        .image("v2base", ImageSpec::new().layers(["V2"]))
        .image(
            "v2",
            ImageSpec::new()
                .id(&v2)
                .tags(["v2:1", "v2:alias"])
                .parent("v2base")
                .layers(["V2"]),
        )
        .image("v3", ImageSpec::new().tags(["v3:1"]).layers(["V3"]))
        .image("v4", ImageSpec::new().tags(["v4:1", "v4:2"]).layers(["V4"]))
        .image("v5", ImageSpec::new().tags(["v5:1"]).layers(["V5"]))
        .running("c3", "v3")
        .stopped("c4", "v4")
        .stopped("c5", "v5")
        .build();
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    let short = |key: &str| crate::snapshot::short_id(&image_id(key)).to_owned();
    let v1_child = format!(
        "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
        short("v1")
    );
    assert_eq!(
        store.delete_image(&image_id("v1"), false, true),
        error(409, &v1_child)
    );
    assert_eq!(
        store.delete_image(&image_id("v1"), true, true),
        error(409, &v1_child)
    );
    assert_eq!(
        store.delete_image("v1:2", false, true),
        Ok(vec![untagged("v1:2")])
    );
    assert_eq!(
        store.delete_image(&v2, false, true),
        error(
            409,
            &format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                crate::snapshot::short_id(&v2)
            )
        )
    );
    assert_eq!(
        store.delete_image("v2:1", false, true),
        Ok(vec![untagged("v2:1")])
    );
    assert_eq!(
        store.delete_image(&v2, false, false),
        Ok(vec![untagged("v2:alias"), deleted(&v2)])
    );
    assert_eq!(
        store.delete_image(&image_id("v3"), true, true),
        error(
            409,
            &format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short("v3"),
                crate::snapshot::short_id(&container_id("c3"))
            )
        )
    );
    assert_eq!(
        store.delete_image(&image_id("v4"), false, true),
        error(
            409,
            &format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short("v4")
            )
        )
    );
    assert_eq!(
        store.delete_image(&image_id("v4"), true, true),
        Ok(vec![
            untagged("v4:1"),
            untagged("v4:2"),
            deleted(&image_id("v4"))
        ])
    );
    assert_eq!(
        store.delete_image("v5:1", false, true),
        error(
            409,
            &format!(
                "conflict: unable to remove repository reference \"v5:1\" (must force) - container {} is using its referenced image {}",
                crate::snapshot::short_id(&container_id("c5")),
                short("v5")
            )
        )
    );
    assert_eq!(
        store.delete_image("v5:1", true, true),
        Ok(vec![untagged("v5:1"), deleted(&image_id("v5"))])
    );
}

/// The measured fleet of section 4: `sb:1`/`sb:2` (two imports sharing layer S), `sc:1` and
/// `sc:2` built from `sb:1`, `sd:1` from `sb:2` with a stopped container, and `se:1`.
pub(crate) fn measured_fleet() -> SnapshotBuilder {
    SnapshotBuilder::new()
        .image("sb1", ImageSpec::new().tags(["sb:1"]).layers(["S"]))
        .image("sb2", ImageSpec::new().tags(["sb:2"]).layers(["S"]))
        .image(
            "sc1",
            ImageSpec::new()
                .tags(["sc:1"])
                .parent("sb1")
                .layers(["S", "C1"]),
        )
        .image(
            "sc2",
            ImageSpec::new()
                .tags(["sc:2"])
                .parent("sb1")
                .layers(["S", "C2"]),
        )
        .image(
            "sd1",
            ImageSpec::new()
                .tags(["sd:1"])
                .parent("sb2")
                .layers(["S", "D"]),
        )
        .image("se1", ImageSpec::new().tags(["se:1"]).layers(["E"]))
        .stopped("sdc", "sd1")
        .layer_size("S", 3_006_305)
        .layer_size("C1", 512_000)
        .layer_size("C2", 716_800)
        .layer_size("D", 307_200)
        .layer_size("E", 2_187_105)
}

#[test]
fn m_measured_steps_records_and_bytes() {
    let snapshot = measured_fleet().build();
    let total: u64 = snapshot.layer_sizes.values().sum();
    assert_eq!(total, 6_729_410, "starting LayersSize");
    let mut store = SimulatedStore::from_snapshot(&snapshot);
    assert_eq!(
        store.delete_image("sb:2", false, true),
        Ok(vec![untagged("sb:2")])
    );
    assert_eq!(
        store.delete_image("sc:1", false, true),
        Ok(vec![
            untagged("sc:1"),
            deleted(&image_id("sc1")),
            deleted(&chain_id(&["S", "C1"]))
        ])
    );
    assert_eq!(
        store.delete_image("sb:1", false, true),
        Ok(vec![untagged("sb:1")])
    );
    assert_eq!(
        store.delete_image("sc:2", false, true),
        Ok(vec![
            untagged("sc:2"),
            deleted(&image_id("sc2")),
            deleted(&chain_id(&["S", "C2"])),
            deleted(&image_id("sb1"))
        ])
    );
    assert_eq!(
        store.delete_image("sd:1", true, true),
        Ok(vec![
            untagged("sd:1"),
            deleted(&image_id("sd1")),
            deleted(&image_id("sb2"))
        ])
    );
    assert_eq!(
        store.delete_image("se:1", false, true),
        Ok(vec![
            untagged("se:1"),
            deleted(&image_id("se1")),
            deleted(&chain_id(&["E"]))
        ])
    );
    assert!(
        store.layers.contains(&chain_id(&["S"])) && store.layers.contains(&chain_id(&["S", "D"])),
        "held by the container"
    );
}

#[test]
fn m_whole_run_in_one_plan() {
    let snapshot = measured_fleet().build();
    let plan = plan_removal(
        &snapshot,
        &request(&["sb:2", "sc:1", "sb:1", "sc:2", "se:1"], false, false),
    );
    assert_eq!(plan.predicted_bytes, 512_000 + 716_800 + 2_187_105);
    assert_eq!(plan.predicted_layers_size_drop, plan.predicted_bytes);
    assert_eq!(plan.held_by_containers_bytes, 0);
}

#[test]
fn n_loaded_image_sharing_a_layer_is_no_child() {
    let snapshot = SnapshotBuilder::new()
        .image("nb", ImageSpec::new().tags(["nb:1"]).layers(["N"]))
        .image("nc", ImageSpec::new().tags(["nc:1"]).layers(["N", "C"]))
        .build();
    let plan = plan_removal(&snapshot, &request(&["nb:1"], false, false));
    assert_eq!(
        plan.removals[0].records,
        [untagged("nb:1"), deleted(&image_id("nb"))]
    );
    assert_eq!(
        (plan.predicted_bytes, plan.predicted_layers_size_drop),
        (0, 0)
    );
}
