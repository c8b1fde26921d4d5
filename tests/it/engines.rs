//! The lab itself, per engine kind: every kind's hosts answer, fleetrmi reaches them, and twins
//! of one kind are seeded with the same images and containers (what parity tests rely on).

use crate::harness::{CLASSIC20, Hosts, lab};
use serde_json::Value;

/// Every engine kind of the lab, with what its daemon says its version is.
const KINDS: [(&str, &str); 4] = [
    (CLASSIC20, "20.10."),
    ("classic26", "26.1."),
    ("containerd26", "26.1."),
    ("podman4", "4.3."),
];

/// What `ping` should say each lab kind is: product, engine kind, containerd image store.
fn expected_engine(kind: &str) -> (&'static str, &'static str, bool) {
    match kind {
        "podman4" => ("podman", "podman", false),
        "containerd26" => ("docker", "docker-containerd", true),
        _ => ("docker", "docker-classic", false),
    }
}

/// The lab's seed.json.
fn seed() -> Value {
    let text = std::fs::read_to_string(lab().dir.join("seed.json")).expect("lab wrote seed.json");
    serde_json::from_str(&text).expect("seed.json is JSON")
}

/// The image set a kind is seeded with (dockerd 20.10 and 26.1 classic share one).
fn image_set(kind: &str) -> Value {
    let set = if kind.starts_with("classic") {
        "classic"
    } else {
        kind
    };
    seed()["image_sets"][set].clone()
}

/// One `docker` answer from a lent host, trimmed.
fn docker_says(hosts: &Hosts, position: usize, args: &[&str]) -> String {
    let run = hosts.docker(position, args);
    assert_eq!(run.code, 0, "docker {args:?}: {}", run.stderr);
    run.stdout.trim().to_string()
}

/// Every image ID on a host with its Parent (empty where the store keeps none), sorted.
fn parents(hosts: &Hosts, position: usize) -> Vec<String> {
    let ids = docker_says(hosts, position, &["images", "-aq", "--no-trunc"]);
    let mut ids: Vec<&str> = ids.lines().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut args = vec!["image", "inspect", "--format", "{{.Id}} {{.Parent}}"];
    args.extend(ids);
    let mut lines: Vec<String> = docker_says(hosts, position, &args)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_kind_runs_its_engine_and_twins_are_seeded_alike() {
    for (kind, version) in KINDS {
        let hosts = lab().take_kind(kind, 2);
        let set = image_set(kind);
        for position in 0..2 {
            assert_eq!(hosts.host(position).kind, kind);
            let server = docker_says(
                &hosts,
                position,
                &["version", "--format", "{{.Server.Version}}"],
            );
            assert!(
                server.starts_with(version),
                "{kind}: server version {server}"
            );
            let containers = docker_says(
                &hosts,
                position,
                &["ps", "-a", "--format", "{{.Names}} {{.State}}"],
            );
            let mut containers: Vec<&str> = containers.lines().collect();
            containers.sort_unstable();
            assert_eq!(
                containers,
                ["running-1 running", "stopped-1 created"],
                "{kind}"
            );
        }
        let images = hosts.images(0);
        assert_eq!(images, hosts.images(1), "{kind}: twins differ");
        let seeded = set["images"].as_array().expect("images of the set");
        assert_eq!(images.len(), seeded.len(), "{kind}: {images:?}");
        for image in seeded {
            let id = image["id"].as_str().expect("id");
            assert!(images.contains_key(id), "{kind}: {id} missing");
        }
        assert_eq!(parents(&hosts, 0), parents(&hosts, 1), "{kind}");
        let chain = hosts.image_id(0, "chain:1");
        let chain_parent = docker_says(
            &hosts,
            0,
            &["image", "inspect", "--format", "{{.Parent}}", &chain],
        );
        // Every kind keeps the builder's Parent links (lab.sh labels the containerd store's).
        assert!(!chain_parent.is_empty(), "{kind}: chain:1 has no parent");
    }
}

#[test]
fn fleetrmi_ping_reaches_every_kind() {
    for (kind, version) in KINDS {
        let hosts = lab().take_kind(kind, 1);
        let run = hosts.fleetrmi(&["--output", "json", "ping"]);
        assert_eq!(run.code, 0, "{kind}: stderr:\n{}", run.stderr);
        let report = &run.json()["hosts"][0];
        assert_eq!(report["status"], "ok", "{kind}: {report}");
        assert_eq!(
            report["engine"]["api_version"],
            docker_says(
                &hosts,
                0,
                &["version", "--format", "{{.Server.APIVersion}}"]
            )
            .as_str(),
            "{kind}: {report}"
        );
        let engine = &report["engine"];
        let (product, engine_kind, containerd_store) = expected_engine(kind);
        assert_eq!(engine["product"], product, "{kind}: {report}");
        assert_eq!(engine["kind"], engine_kind, "{kind}: {report}");
        assert_eq!(
            engine["containerd_store"], containerd_store,
            "{kind}: {report}"
        );
        assert!(
            engine["server_version"]
                .as_str()
                .is_some_and(|server| server.starts_with(version)),
            "{kind}: {report}"
        );
        let table = hosts.fleetrmi(&["ping"]);
        let shown = if kind == "podman4" {
            "Podman 4.3."
        } else {
            "Docker "
        };
        assert!(table.stdout.contains(shown), "{kind}: {}", table.stdout);
        assert_eq!(
            table.stdout.contains("(containerd store)"),
            containerd_store,
            "{kind}: {}",
            table.stdout
        );
    }
}

#[test]
fn the_inventory_names_each_host_kind_by_a_variable_and_a_group() {
    let lab = lab();
    let inventory = lab.inventory().display().to_string();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
    command.args(["-i", &inventory, "inventory", "--list", "--output", "json"]);
    crate::harness::clear_settings_from_environment(&mut command);
    let run = crate::harness::Run::from(command.output().expect("fleetrmi runs"));
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let list = run.json();
    for host in &lab.hosts {
        assert_eq!(
            list["_meta"]["hostvars"][&host.name]["lab_engine"],
            host.kind.as_str()
        );
        let group = list[&host.kind]["hosts"]
            .as_array()
            .unwrap_or_else(|| panic!("no group {} in {list}", host.kind));
        assert!(group.contains(&Value::from(host.name.as_str())), "{list}");
    }
}
