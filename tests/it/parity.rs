//! `fleetrmi rmi` on one lab host against `docker rmi` on another seeded the same way:
//! the same records, the same errors, the same exit code, and the same engine state after.

use crate::harness::{Hosts, Run, lab};

/// The lab's registry (`127.0.X.250:5000`), from seed.json.
fn registry() -> String {
    let text = std::fs::read_to_string(lab().dir.join("seed.json")).expect("lab wrote seed.json");
    let seed: serde_json::Value = serde_json::from_str(&text).expect("seed.json is JSON");
    seed["registry"].as_str().expect("registry").to_string()
}

/// The conformance steps each other engine kind runs once against its twin: tags, IDs and
/// prefixes, containers with and without force, a parent, missing images, `--no-prune`.
const KIND_STEPS: &[&[&str]] = &[
    &["multi:2"],
    &["@id:multi:1"],
    &["-f", "@id:multi:1"],
    &["run:1"],
    &["-f", "run:1"],
    &["stopped:1"],
    &["-f", "stopped:1"],
    &["@id:base:1"],
    &["nope:1"],
    &["-f", "nope:1", "app:2"],
    &["--no-prune", "chain:1"],
    &["@short:unique:1"],
    &["app:3", "app:1"],
];

/// What the containerd image store does differently from the classic one, in order on one pair
/// of hosts: a base's last tag answers `Deleted` but the base stays for its children, and is
/// then pruned with the next child whose label chain reaches it; a digest (even the made-up
/// `repo@<image ID>`) removes the tags of its repository; force on a stopped container's tag
/// only untags.
const CONTAINERD_STEPS: &[&[&str]] = &[
    &["base:1"],
    &["app:1"],
    &["chain:1"],
    &["@registry/dg@@id:@registry/dg:1"],
    &["-f", "stopped:1"],
    &["app@@id:app:3"],
    &["-f", "@id:other/multi:1", "run:2"],
    &["@short:unique:1", "nope"],
];

/// What `docker rmi` printed: records in order, and the daemon's error messages.
#[derive(Debug, PartialEq)]
struct Outcome {
    records: Vec<String>,
    errors: Vec<String>,
    code: i32,
}

fn docker_outcome(run: &Run) -> Outcome {
    Outcome {
        records: run.stdout.lines().map(str::to_string).collect(),
        errors: run
            .stderr
            .lines()
            .filter_map(|line| line.strip_prefix("Error response from daemon: "))
            .map(mask_container_ids)
            .collect(),
        code: run.code,
    }
}

/// Containers are created per host, so their IDs differ between two hosts seeded alike.
fn mask_container_ids(message: &str) -> String {
    let mut masked = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("container ") {
        let (before, after) = rest.split_at(at + "container ".len());
        masked.push_str(before);
        let id_length = after.chars().take_while(char::is_ascii_hexdigit).count();
        if id_length == 12 {
            masked.push_str("<container>");
            rest = &after[12..];
        } else {
            rest = after;
        }
    }
    masked.push_str(rest);
    masked
}

fn fleetrmi_outcome(run: &Run) -> Outcome {
    let json = run.json();
    let host = &json["hosts"][0];
    assert!(host["failure"].is_null(), "host failed: {host}");
    Outcome {
        code: run.code,
        ..host_outcome(host)
    }
}

/// The records and error messages of one host's results, in order (exit code 0).
fn host_outcome(host: &serde_json::Value) -> Outcome {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for result in host["results"].as_array().expect("results") {
        for reference in result["untagged"].as_array().expect("untagged") {
            records.push(format!("Untagged: {}", reference.as_str().expect("text")));
        }
        for id in result["deleted"].as_array().expect("deleted") {
            records.push(format!("Deleted: {}", id.as_str().expect("text")));
        }
        if let Some(message) = result["error"].as_str() {
            errors.push(mask_container_ids(message));
        }
    }
    Outcome {
        records,
        errors,
        code: 0,
    }
}

/// Runs each step with `docker rmi` on host 0 and `fleetrmi rmi` on host 1, comparing as it goes.
/// Returns fleetrmi's JSON for each step.
pub(crate) fn assert_steps_match_docker(
    hosts: &Hosts,
    steps: &[&[&str]],
) -> Vec<serde_json::Value> {
    compare_steps(hosts, steps, false)
}

/// [`assert_steps_match_docker`], and before each step fleetrmi's dry run on host 1 must name
/// the records, errors and exit code its real run then gets.
pub(crate) fn assert_steps_match_docker_and_plan(
    hosts: &Hosts,
    steps: &[&[&str]],
) -> Vec<serde_json::Value> {
    compare_steps(hosts, steps, true)
}

fn compare_steps(hosts: &Hosts, steps: &[&[&str]], dry_run_first: bool) -> Vec<serde_json::Value> {
    let mut reports = Vec::new();
    for step in steps {
        let step: Vec<String> = step.iter().map(|arg| resolve(hosts, arg)).collect();
        let step: Vec<&str> = step.iter().map(String::as_str).collect();
        let planned = dry_run_first.then(|| {
            let mut args = vec!["--output", "json", "rmi", "--dry-run"];
            args.extend(&step);
            fleetrmi_outcome(&hosts.fleetrmi_on(&[1], &args))
        });
        let mut docker_args = vec!["rmi"];
        docker_args.extend(&step);
        let docker = docker_outcome(&hosts.docker(0, &docker_args));
        let mut fleet_args = vec!["--output", "json", "rmi"];
        fleet_args.extend(&step);
        let run = hosts.fleetrmi_on(&[1], &fleet_args);
        let fleet = fleetrmi_outcome(&run);
        assert_eq!(
            fleet, docker,
            "step {step:?}: fleetrmi differs from docker rmi\n{}",
            run.stderr
        );
        assert_eq!(
            hosts.images(1),
            hosts.images(0),
            "step {step:?}: engine state differs after the step"
        );
        if let Some(planned) = planned {
            assert_eq!(
                planned, fleet,
                "step {step:?}: the dry run differs from the run"
            );
        }
        reports.push(run.json());
    }
    reports
}

/// `@id:REF` in a step stands for the full image ID of REF, `@short:REF` for its first 12 digits,
/// `@registry` for the lab's registry; `NAME@@id:REF` is NAME with the image ID of REF as digest.
fn resolve(hosts: &Hosts, arg: &str) -> String {
    if arg.contains("@registry") {
        return resolve(hosts, &arg.replace("@registry", &registry()));
    }
    if let Some((name, id)) = arg.split_once("@@") {
        return format!("{name}@{}", resolve(hosts, &format!("@{id}")));
    }
    if let Some(reference) = arg.strip_prefix("@id:") {
        hosts.image_id(0, reference)
    } else if let Some(reference) = arg.strip_prefix("@short:") {
        hosts.image_id(0, reference)["sha256:".len()..][..12].to_string()
    } else {
        arg.to_string()
    }
}

#[test]
fn multi_tag_image_by_tag_then_by_id_without_and_with_force() {
    let hosts = lab().take(2);

    let reports = assert_steps_match_docker(
        &hosts,
        &[&["multi:2"], &["@id:multi:1"], &["-f", "@id:multi:1"]],
    );
    assert_eq!(reports[1]["hosts"][0]["results"][0]["error_status"], 409);
    assert_eq!(reports[2]["hosts"][0]["status"], "ok");
}

#[test]
fn image_of_running_container_by_tag_and_id_with_and_without_force() {
    let hosts = lab().take(2);
    let id = hosts.image_id(0, "run:1");
    assert_steps_match_docker(
        &hosts,
        &[&["run:1"], &[&id], &["-f", &id], &["-f", "run:1"], &[&id]],
    );
}

#[test]
fn image_of_stopped_container_without_and_with_force() {
    let hosts = lab().take(2);
    let id = hosts.image_id(0, "stopped:1");
    let before = hosts.layers_size(1);
    let reports =
        assert_steps_match_docker(&hosts, &[&["stopped:1"], &[&id], &["-f", "stopped:1"]]);
    // The container still holds the layers: the disk frees nothing, LayersSize drops anyway.
    let forced = &reports[2]["hosts"][0];
    assert_eq!(forced["reclaimed_bytes"], 0);
    assert!(
        hosts.layers_size(1) < before,
        "LayersSize should drop for a forced removal"
    );
}

#[test]
fn parent_of_a_child_image_by_id_and_by_tag() {
    let hosts = lab().take(2);
    assert_steps_match_docker(
        &hosts,
        &[&["@id:base:1"], &["-f", "@id:base:1"], &["base:1"]],
    );
}

#[test]
fn missing_image_with_and_without_force_and_mixed_arguments() {
    let hosts = lab().take(2);
    let reports = assert_steps_match_docker(
        &hosts,
        &[
            &["nope:1"],
            &["-f", "nope:1"],
            &["app:1", "nope", "run:1"],
            &["-f", "nope", "app:2"],
        ],
    );
    assert_eq!(reports[0]["hosts"][0]["status"], "partial");
    assert_eq!(reports[1]["hosts"][0]["status"], "ok");
}

#[test]
fn no_prune_leaves_untagged_parents_then_prune_takes_them() {
    let hosts = lab().take(2);
    assert_steps_match_docker(&hosts, &[&["--no-prune", "chain:1"]]);
    let dangling = hosts.docker(1, &["images", "-q", "--no-trunc", "-f", "dangling=true"]);
    assert!(
        !dangling.stdout.trim().is_empty(),
        "intermediate parents should be left dangling"
    );
}

#[test]
fn short_id_and_last_tag_delete_the_image_and_its_layers() {
    let hosts = lab().take(2);
    let before = hosts.layers_size(1);
    let reports = assert_steps_match_docker(&hosts, &[&["@short:unique:1"], &["app:3", "chain:1"]]);
    let freed: u64 = reports
        .iter()
        .map(|r| r["hosts"][0]["reclaimed_bytes"].as_u64().expect("bytes"))
        .sum();
    assert!(freed > 0);
    assert_eq!(
        before - hosts.layers_size(1),
        freed,
        "bytes freed must equal the LayersSize drop"
    );
}

#[test]
fn forced_removal_by_id_untags_every_repository_in_the_engines_order() {
    // Semantics case 5: the engine untags by full name, so `docker.io/b/…` comes before
    // `docker.io/library/…` and `docker.io/zz/…` after it.
    let hosts = lab().take(2);
    for position in 0..2 {
        for tag in ["b/unique:1", "zz/unique:1"] {
            let tagged = hosts.docker(position, &["tag", "unique:1", tag]);
            assert_eq!(tagged.code, 0, "{}", tagged.stderr);
        }
    }
    let reports = assert_steps_match_docker(&hosts, &[&["@id:unique:1"], &["-f", "@id:unique:1"]]);
    assert_eq!(reports[0]["hosts"][0]["results"][0]["error_status"], 409);
    let untagged: Vec<&str> = reports[1]["hosts"][0]["results"][0]["untagged"]
        .as_array()
        .expect("untagged")
        .iter()
        .filter_map(|reference| reference.as_str())
        .collect();
    assert_eq!(
        untagged,
        ["b/unique:1", "unique:1", "zz/unique:1"],
        "{}",
        reports[1]
    );
}

#[test]
fn dockerd_26_classic_store_answers_like_the_docker_cli_and_its_dry_run() {
    let hosts = lab().take_kind("classic26", 2);
    assert_steps_match_docker_and_plan(&hosts, KIND_STEPS);
}

#[test]
fn dockerd_26_containerd_store_answers_like_the_docker_cli_and_its_dry_run() {
    let hosts = lab().take_kind("containerd26", 2);
    assert_steps_match_docker_and_plan(&hosts, KIND_STEPS);
}

#[test]
fn containerd_store_rules_the_classic_store_lacks_are_planned_exactly() {
    let hosts = lab().take_kind("containerd26", 2);
    let reports = assert_steps_match_docker_and_plan(&hosts, CONTAINERD_STEPS);
    for (step, report) in CONTAINERD_STEPS.iter().zip(&reports) {
        let host = &report["hosts"][0];
        assert_eq!(host["warnings"], serde_json::json!([]), "step {step:?}");
        assert_eq!(
            host["predicted_bytes"], host["reclaimed_bytes"],
            "step {step:?}: {host}"
        );
    }
}

/// `untagged: X` / `deleted: Y` lines of `docker image prune`, or the records of fleetrmi's
/// results, as sorted `Untagged: X` / `Deleted: Y` lines.
fn prune_records(docker: Option<&Run>, fleet: Option<&serde_json::Value>) -> Vec<String> {
    let mut records = Vec::new();
    if let Some(run) = docker {
        for line in run.stdout.lines() {
            if let Some(name) = line.strip_prefix("untagged: ") {
                records.push(format!("Untagged: {name}"));
            } else if let Some(id) = line.strip_prefix("deleted: ") {
                records.push(format!("Deleted: {id}"));
            }
        }
    }
    if let Some(host) = fleet {
        records.extend(host_outcome(host).records);
    }
    records.sort();
    records
}

#[test]
fn containerd_store_prune_removes_what_docker_image_prune_does_and_its_dry_run_says() {
    let hosts = lab().take_kind("containerd26", 2);
    let steps: &[&[&str]] = &[&[], &["-a", "--filter", "label=lab.role=chain"], &["-a"]];
    for step in steps {
        let images_before: Vec<String> = hosts.images(1).into_keys().collect();
        let mut dry_args = vec!["--output", "json", "prune", "--dry-run"];
        dry_args.extend(*step);
        let dry = hosts.fleetrmi_on(&[1], &dry_args).json();
        let mut docker_args = vec!["image", "prune", "-f"];
        docker_args.extend(*step);
        let docker = hosts.docker(0, &docker_args);
        assert_eq!(docker.code, 0, "docker {step:?}: {}", docker.stderr);
        let mut fleet_args = vec!["--output", "json", "prune", "-f"];
        fleet_args.extend(*step);
        let run = hosts.fleetrmi_on(&[1], &fleet_args);
        assert_eq!(run.code, 0, "fleetrmi {step:?}: {}", run.stderr);
        let real = run.json();
        let (planned, host) = (&dry["hosts"][0], &real["hosts"][0]);

        // Real run = docker CLI: the same records (blobs included) and the same images after.
        assert_eq!(
            prune_records(None, Some(host)),
            prune_records(Some(&docker), None),
            "step {step:?}"
        );
        assert_eq!(hosts.images(1), hosts.images(0), "step {step:?}");
        assert_eq!(host["warnings"], serde_json::json!([]), "step {step:?}");

        // Dry run = real run on what can be named beforehand: the names untagged and the images
        // deleted. The engine also untags a dangling record an image with a name may keep
        // (its ID, the image stays) and deletes content blobs: neither is predicted.
        let after = hosts.images(1);
        let predictable = |records: Vec<String>| -> Vec<String> {
            records
                .into_iter()
                .filter(|record| match record.split_once(": ") {
                    Some(("Deleted", id)) => images_before.iter().any(|known| known == id),
                    Some(("Untagged", name)) => !after.contains_key(name),
                    _ => true,
                })
                .collect()
        };
        let predicted = predictable(prune_records(None, Some(planned)));
        assert!(
            predicted
                .iter()
                .any(|record| record.starts_with("Deleted: ")),
            "step {step:?}: every step deletes images: {planned}"
        );
        assert_eq!(
            predicted,
            predictable(prune_records(None, Some(host))),
            "step {step:?}: the dry run differs from the run"
        );
        assert!(
            planned["results"][0]["not_exact"].is_string(),
            "step {step:?}: {planned}"
        );
        assert_eq!(
            planned["predicted_bytes"], host["reclaimed_bytes"],
            "step {step:?}"
        );
    }
}

#[test]
fn containerd_store_rule_prunes_do_what_their_dry_run_says() {
    let hosts = lab().take_kind("containerd26", 1);
    let cases: &[&[&str]] = &[
        &["-a", "--match", "app:*"],
        &["--older-than", "0s"],
        &["-a", "--older-than", "0s", "--keep-last", "1"],
        &["-a", "--match", "base", "--match", "chain"],
        &[
            "-a", "-f", "--match", "stopped", "--match", "multi", "--match", "run",
        ],
    ];
    for args in cases {
        hosts.reseed();
        let mut dry_args = vec!["--output", "json", "prune", "--dry-run"];
        dry_args.extend(*args);
        let dry = hosts.fleetrmi_on(&[0], &dry_args);
        let mut real_args = vec!["--output", "json", "prune", "--yes"];
        real_args.extend(*args);
        let real = hosts.fleetrmi_on(&[0], &real_args);
        assert_eq!(real.code, 0, "{args:?}: {}", real.stderr);
        assert_eq!(dry.code, real.code, "{args:?}");
        let (dry, real) = (dry.json(), real.json());
        let (planned, done) = (&dry["hosts"][0], &real["hosts"][0]);
        assert_eq!(done["prune"]["mode"], "rules", "{args:?}");
        assert_eq!(
            host_outcome(planned).records,
            host_outcome(done).records,
            "{args:?}: plan and engine differ"
        );
        assert!(planned["results"][0]["not_exact"].is_null(), "{planned}");
        assert_eq!(done["warnings"], serde_json::json!([]), "{args:?}");
        assert_eq!(
            planned["predicted_bytes"], done["reclaimed_bytes"],
            "{args:?}"
        );
        // Each decision's bytes come from the same count as the host's, so they add up to it.
        let decided: u64 = done["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .filter_map(|decision| decision["bytes"].as_u64())
            .sum();
        assert_eq!(Some(decided), done["reclaimed_bytes"].as_u64(), "{args:?}");
        let after = hosts.images(0);
        for decision in done["decisions"].as_array().expect("decisions") {
            let id = decision["image"].as_str().expect("id");
            match decision["action"].as_str().expect("action") {
                "remove" => assert!(!after.contains_key(id), "{args:?}: {decision} is there"),
                _ => assert!(after.contains_key(id), "{args:?}: {decision} is gone"),
            }
        }
    }
}

/// The unforced steps Podman's twin is compared with the docker CLI on; its `-f` steps follow
/// in [`PODMAN_FORCED_STEPS`].
const PODMAN_STEPS: &[&[&str]] = &[
    &["multi:2"],
    &["@id:multi:1"],
    &["run:1"],
    &["stopped:1"],
    &["@id:stopped:1"],
    &["@id:base:1"],
    &["nope:1"],
    &["nope", "app:2"],
    &["--no-prune", "chain:1"],
    &["@short:unique:1"],
    &["app:3", "app:latest", "app:1"],
];

/// `-f` on Podman: the docker CLI would send Podman's force, which removes containers; fleetrmi
/// never does, so these are compared with fleetrmi's own dry run only.
const PODMAN_FORCED_STEPS: &[&[&str]] = &[
    &["-f", "@id:multi:1"],
    &["-f", "run:1"],
    &["-f", "stopped:1"],
    &["-f", "nope:1", "purge:1"],
];

/// Podman's spelling respelled as Docker's: `docker.io/library/x:1` → `x:1`, a bare 64-hex ID →
/// `sha256:<hex>`, a 64-hex container ID in a message → `<container>`.
fn docker_spelling(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            let (word, tail) = match word.strip_suffix(':') {
                Some(stripped) => (stripped, ":"),
                None => (word, ""),
            };
            let respelled = if word.len() == 64 && word.bytes().all(|b| b.is_ascii_hexdigit()) {
                if line.contains("image used by") {
                    "<container>".to_string()
                } else {
                    format!("sha256:{word}")
                }
            } else if let Some(rest) = word.strip_prefix("docker.io/library/") {
                rest.to_string()
            } else if let Some(rest) = word.strip_prefix("docker.io/") {
                rest.to_string()
            } else {
                word.to_string()
            };
            format!("{respelled}{tail}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An outcome with its records sorted (Podman answers `Deleted` before `Untagged`, fleetrmi's
/// JSON lists a result's untagged names first) and respelled.
fn podman_outcome(outcome: Outcome) -> Outcome {
    let mut records: Vec<String> = outcome.records.iter().map(|r| docker_spelling(r)).collect();
    records.sort();
    Outcome {
        records,
        errors: outcome.errors.iter().map(|e| docker_spelling(e)).collect(),
        code: outcome.code,
    }
}

/// The dry run of `step` on host 1, then its real run: same outcome, the predicted bytes are the
/// reclaimed bytes, and the real run warns of no difference. Returns the real run's outcome.
fn podman_dry_then_real(hosts: &Hosts, step: &[&str]) -> Outcome {
    let mut dry_args = vec!["--output", "json", "rmi", "--dry-run"];
    dry_args.extend(step);
    let dry = hosts.fleetrmi_on(&[1], &dry_args);
    let mut args = vec!["--output", "json", "rmi"];
    args.extend(step);
    let run = hosts.fleetrmi_on(&[1], &args);
    let (planned, real) = (fleetrmi_outcome(&dry), fleetrmi_outcome(&run));
    assert_eq!(
        planned, real,
        "step {step:?}: the dry run differs from the run"
    );
    let (dry, json) = (dry.json(), run.json());
    let host = &json["hosts"][0];
    assert_eq!(host["engine"]["kind"], "podman", "{host}");
    for result in dry["hosts"][0]["results"].as_array().expect("results") {
        assert!(result["not_exact"].is_null(), "step {step:?}: {result}");
    }
    assert_eq!(
        dry["hosts"][0]["predicted_bytes"], host["reclaimed_bytes"],
        "step {step:?}: predicted and reclaimed bytes"
    );
    assert_eq!(host["warnings"], serde_json::json!([]), "step {step:?}");
    real
}

/// `docker rmi STEP` on host 0 and fleetrmi's dry and real runs on host 1 answer alike (in
/// Docker's spelling) and leave the same images.
fn assert_podman_step_matches_docker(hosts: &Hosts, step: &[String]) {
    let step: Vec<&str> = step.iter().map(String::as_str).collect();
    let mut docker_args = vec!["rmi"];
    docker_args.extend(&step);
    let docker = podman_outcome(docker_outcome(&hosts.docker(0, &docker_args)));
    let fleet = podman_outcome(podman_dry_then_real(hosts, &step));
    assert_eq!(
        fleet, docker,
        "step {step:?}: fleetrmi differs from docker rmi"
    );
    assert_eq!(
        hosts.images(1),
        hosts.images(0),
        "step {step:?}: engine state differs after the step"
    );
}

/// The names (`RepoTags`) of the image on host 0 one of whose names contains `part`.
fn podman_names_with(hosts: &Hosts, part: &str) -> Vec<String> {
    let images = hosts.api_get(0, "/v1.41/images/json");
    images
        .as_array()
        .expect("a list")
        .iter()
        .map(|image| {
            image["RepoTags"]
                .as_array()
                .map(|tags| {
                    tags.iter()
                        .filter_map(|tag| tag.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|names| names.iter().any(|name| name.contains(part)))
        .unwrap_or_else(|| panic!("no image named like {part}: {images}"))
}

#[test]
fn podman_answers_like_the_docker_cli_and_its_dry_run() {
    let hosts = lab().take_kind("podman4", 2);
    let containers = |position: usize| {
        let run = hosts.docker(position, &["ps", "-a", "-q", "--no-trunc"]);
        let mut ids: Vec<String> = run.stdout.lines().map(str::to_string).collect();
        ids.sort();
        ids
    };
    for step in PODMAN_STEPS {
        let step: Vec<String> = step.iter().map(|arg| resolve(&hosts, arg)).collect();
        assert_podman_step_matches_docker(&hosts, &step);
    }
    // Digest names (a pulled digest is one of the image's names on Podman), then the tag left.
    let dg = podman_names_with(&hosts, "/dg:1");
    let dgonly = podman_names_with(&hosts, "/dgonly@");
    let digest_name = dg
        .iter()
        .find(|name| name.contains('@'))
        .expect("dg's digest name");
    let tag = dg
        .iter()
        .find(|name| !name.contains('@'))
        .expect("dg's tag");
    let only = &dgonly[0];
    let tagged_only = only.replacen('@', ":ignored@", 1);
    for name in [digest_name, tag, &tagged_only] {
        assert_podman_step_matches_docker(&hosts, std::slice::from_ref(name));
    }

    let before = containers(1);
    for step in PODMAN_FORCED_STEPS {
        let step: Vec<String> = step.iter().map(|arg| resolve(&hosts, arg)).collect();
        let step: Vec<&str> = step.iter().map(String::as_str).collect();
        podman_dry_then_real(&hosts, &step);
    }
    assert_eq!(containers(1), before, "a forced rmi removed a container");
}

#[test]
fn podman_prune_answers_like_the_docker_cli_and_its_dry_run() {
    let hosts = lab().take_kind("podman4", 2);
    let docker = hosts.docker(0, &["image", "prune", "-f"]);
    assert_eq!(docker.code, 0, "{}", docker.stderr);
    let mut expected: Vec<String> = docker
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix("deleted: "))
        .map(|id| docker_spelling(&format!("Deleted: {id}")))
        .collect();
    expected.sort();
    assert!(!expected.is_empty(), "{}", docker.stdout);

    let dry = hosts.fleetrmi_on(&[1], &["--output", "json", "prune", "--dry-run"]);
    let run = hosts.fleetrmi_on(&[1], &["--output", "json", "prune", "-f"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (dry, real) = (fleetrmi_outcome(&dry), fleetrmi_outcome(&run));
    let mut records = real.records.clone();
    records.sort();
    assert_eq!(records, expected, "fleetrmi's prune differs from docker's");
    let mut planned = dry.records.clone();
    planned.sort();
    assert_eq!(planned, records, "the dry run differs from the run");
    assert_eq!(
        hosts.images(1),
        hosts.images(0),
        "the engines' states differ"
    );
    let json = run.json();
    let host = &json["hosts"][0];
    assert_eq!(host["warnings"], serde_json::json!([]), "{host}");
    assert_eq!(host["predicted_bytes"], host["reclaimed_bytes"], "{host}");
}
