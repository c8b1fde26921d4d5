//! `fleetrmi images` against `docker images` and `/images/json` on each host's socket: the same
//! images with each filter, grouped across hosts, and a host that is down or cannot answer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// `docker images <args>` rows of a host, as `<full id> <repository>:<tag>`.
fn docker_rows(hosts: &Hosts, position: usize, args: &[&str]) -> BTreeSet<String> {
    let mut command = vec![
        "images",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Repository}}:{{.Tag}}",
    ];
    command.extend(args);
    let run = hosts.docker(position, &command);
    assert_eq!(run.code, 0, "docker {command:?}: {}", run.stderr);
    run.stdout.lines().map(str::to_string).collect()
}

/// The same rows from fleetrmi's `--per-host` JSON for one host, following the CLI's rules
/// (a row per tag, per repository known only by digest, or `<none>:<none>`).
fn fleet_rows(json: &Value, host: &str) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    for image in json["images"].as_array().expect("images") {
        if image["host"] != host {
            continue;
        }
        let id = image["id"].as_str().expect("id");
        let strings = |key: &str| -> Vec<String> {
            image[key]
                .as_array()
                .expect(key)
                .iter()
                .map(|v| v.as_str().expect("string").to_string())
                .collect()
        };
        let tags = strings("repo_tags");
        let digests = strings("repo_digests");
        for tag in &tags {
            rows.insert(format!("{id} {tag}"));
        }
        for digest in &digests {
            let repository = digest.split('@').next().expect("repository");
            if !tags
                .iter()
                .any(|tag| tag.starts_with(&format!("{repository}:")))
            {
                rows.insert(format!("{id} {repository}:<none>"));
            }
        }
        if tags.is_empty() && digests.is_empty() {
            rows.insert(format!("{id} <none>:<none>"));
        }
    }
    rows
}

#[test]
fn per_host_lists_equal_docker_images_with_every_filter() {
    let hosts = lab().take(2);
    // Make the two hosts differ: an extra tag on one, an image gone from the other.
    assert_eq!(hosts.docker(1, &["tag", "app:1", "extra:1"]).code, 0);
    assert_eq!(hosts.docker(0, &["rmi", "unique:1"]).code, 0);

    let cases: &[&[&str]] = &[
        &[],
        &["-a"],
        &["app"],
        &["--filter", "reference=*:1"],
        &["--filter", "reference=app", "--filter", "reference=multi"],
        &["--filter", "dangling=true"],
        &["-a", "--filter", "dangling=false"],
        &["--filter", "before=app:2"],
        &["--filter", "since=app:1"],
        &["--filter", "label=lab.role=chain"],
        &["-a", "--filter", "label=lab.role"],
        &["-f", "reference=*multi*", "-f", "dangling=false"],
    ];
    for case in cases {
        let mut args = vec!["--output", "json", "images", "--per-host"];
        args.extend(*case);
        let run = hosts.fleetrmi(&args);
        assert_eq!(run.code, 0, "{case:?}: stderr:\n{}", run.stderr);
        let json = run.json();
        assert_eq!(json["layout"], "host");
        for position in 0..2 {
            let name = &hosts.host(position).name;
            assert_eq!(
                fleet_rows(&json, name),
                docker_rows(&hosts, position, case),
                "{case:?} on {name}"
            );
        }
    }
}

#[test]
fn sizes_dates_parents_and_containers_equal_the_engines_own_answers() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["--output", "json", "images", "--per-host", "-a"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    for position in 0..2 {
        let name = &hosts.host(position).name;
        let engine = hosts.api_get(position, "/v1.41/images/json?all=1");
        let containers = hosts.api_get(position, "/v1.41/containers/json?all=1");
        let mut used: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for container in containers.as_array().expect("containers") {
            let entry = used
                .entry(container["ImageID"].as_str().expect("ImageID").to_string())
                .or_default();
            entry.0 += 1;
            entry.1 += u64::from(container["State"] == "running");
        }
        let listed: BTreeMap<&str, &Value> = json["images"]
            .as_array()
            .expect("images")
            .iter()
            .filter(|image| image["host"] == name.as_str())
            .map(|image| (image["id"].as_str().expect("id"), image))
            .collect();
        // Images created in the same second come in no fixed order: compare by ID.
        let engine_images = engine.as_array().expect("engine images");
        assert_eq!(listed.len(), engine_images.len(), "{name}");
        for theirs in engine_images {
            let id = theirs["Id"].as_str().expect("Id");
            let ours = listed
                .get(id)
                .unwrap_or_else(|| panic!("{name}: {id} missing"));
            assert_eq!(ours["size"], theirs["Size"], "{id}");
            assert_eq!(ours["created"], theirs["Created"], "{id}");
            let parent = theirs["ParentId"].as_str().expect("ParentId");
            if parent.is_empty() {
                assert!(ours.get("parent_id").is_none(), "{id}");
            } else {
                assert_eq!(ours["parent_id"], parent, "{id}");
            }
            let (count, running) = used.get(id).copied().unwrap_or_default();
            assert_eq!(ours["containers"], count, "{id}");
            assert_eq!(ours["running_containers"], running, "{id}");
        }
    }
}

#[test]
fn tag_grouping_shows_each_image_a_tag_names_and_the_host_that_is_down() {
    let hosts = lab().take(4);
    // purge:1 names another image on host 0, the seeded one on host 1, nothing on host 2;
    // host 3 cannot be reached.
    assert_eq!(hosts.docker(0, &["tag", "app:2", "purge:1"]).code, 0);
    assert_eq!(hosts.docker(2, &["rmi", "purge:1"]).code, 0);
    hosts.stop("sshd", 3);

    let run = hosts.fleetrmi(&["--output", "json", "images", "purge:1"]);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let json = run.json();
    assert_eq!(json["layout"], "tag");
    let entries = json["images"].as_array().expect("images");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["reference"], "purge:1");
    let variants: BTreeSet<(String, Vec<String>)> = entries[0]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|variant| {
            let hosts: Vec<String> = variant["hosts"]
                .as_array()
                .expect("hosts")
                .iter()
                .map(|h| h["host"].as_str().expect("host").to_string())
                .collect();
            (variant["id"].as_str().expect("id").to_string(), hosts)
        })
        .collect();
    let expected: BTreeSet<(String, Vec<String>)> = [
        (
            hosts.image_id(0, "purge:1"),
            vec![hosts.host(0).name.clone()],
        ),
        (
            hosts.image_id(1, "purge:1"),
            vec![hosts.host(1).name.clone()],
        ),
    ]
    .into();
    assert_eq!(variants, expected);
    assert_ne!(hosts.image_id(0, "purge:1"), hosts.image_id(1, "purge:1"));

    let down = &json["hosts"][3];
    assert_eq!(down["host"], hosts.host(3).name);
    assert_eq!(down["status"], "unreachable");
    assert_eq!(down["failure"]["step"], "connect");
    assert!(
        run.stderr
            .contains(&format!("error: {}: connect: ", hosts.host(3).name)),
        "{}",
        run.stderr
    );
    assert_eq!(json["totals"]["ok"], 3);
    assert_eq!(json["totals"]["unreachable"], 1);

    // By ID: each image with the hosts that have it and the union of its tags there.
    let run = hosts.fleetrmi(&["--output", "json", "images", "--group-by", "id"]);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let mut expected: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for position in 0..3 {
        for row in docker_rows(&hosts, position, &[]) {
            let (id, reference) = row.split_once(' ').expect("id and reference");
            let entry = expected.entry(id.to_string()).or_default();
            entry.0.insert(hosts.host(position).name.clone());
            // A digest-only image lists as `repo:<none>`: it has no tag.
            if !reference.ends_with(":<none>") {
                entry.1.insert(reference.to_string());
            }
        }
    }
    let mut listed: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for entry in run.json()["images"].as_array().expect("images") {
        let names: BTreeSet<String> = entry["hosts"]
            .as_array()
            .expect("hosts")
            .iter()
            .map(|h| h["host"].as_str().expect("host").to_string())
            .collect();
        let tags: BTreeSet<String> = entry["repo_tags"]
            .as_array()
            .expect("repo_tags")
            .iter()
            .map(|t| t.as_str().expect("tag").to_string())
            .collect();
        listed.insert(entry["id"].as_str().expect("id").to_string(), (names, tags));
    }
    assert_eq!(listed, expected);
}

#[test]
fn before_image_missing_on_one_host_fails_that_host_with_the_engines_message() {
    let hosts = lab().take(2);
    assert_eq!(hosts.docker(1, &["rmi", "app:1"]).code, 0);
    let filter = ["--filter", "before=app:1"];
    let docker = hosts.docker(1, &["images", filter[0], filter[1]]);
    assert_ne!(
        docker.code, 0,
        "docker images succeeded on the host without app:1"
    );
    let docker_message = docker
        .stderr
        .trim()
        .strip_prefix("Error response from daemon: ")
        .expect("a daemon error")
        .to_string();

    let run = hosts.fleetrmi(&[
        "--output",
        "json",
        "images",
        "--per-host",
        filter[0],
        filter[1],
    ]);
    assert_eq!(run.code, 3, "stderr:\n{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert_eq!(
        fleet_rows(&json, &hosts.host(0).name),
        docker_rows(&hosts, 0, &filter)
    );
    let failed = &json["hosts"][1];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure"]["step"], "images");
    assert_eq!(failed["failure"]["message"], docker_message.as_str());
    assert!(
        run.stderr.contains(&format!(
            "error: {}: images: {docker_message}",
            hosts.host(1).name
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_filters_are_bad_input_and_contact_no_host() {
    let hosts = lab().take(1);
    // A contacted host would make the exit code 4: 2 shows that none was.
    hosts.stop("sshd", 0);
    let cases: &[(&[&str], &str)] = &[
        (&["--filter", "dangling=yes"], "dangling=yes"),
        (&["--filter", "until=24h"], "until"),
        (&["--filter", "reference=app:[0-9"], "reference=app:[0-9"),
        (&["--filter", "colour=red"], "colour"),
        (&["--filter", "before=UPPER"], "before=UPPER"),
        (&["--filter", "dangling"], "KEY=VALUE"),
        (&["app:[1"], "reference=app:[1"),
    ];
    for (args, mentioned) in cases {
        let mut command = vec!["images"];
        command.extend(*args);
        let run = hosts.fleetrmi(&command);
        assert_eq!(run.code, 2, "{args:?}: stderr:\n{}", run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid filter") && run.stderr.contains(mentioned),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn table_lists_tags_with_their_hosts() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["images", "app"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for tag in ["1", "2", "3", "latest"] {
        assert!(
            run.stdout
                .lines()
                .any(|line| line.contains(" app ") && line.contains(&format!(" {tag} "))),
            "no row for app:{tag}:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("all 2"), "{}", run.stdout);
    assert!(!run.stdout.contains("multi"), "{}", run.stdout);
}
