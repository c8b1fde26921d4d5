//! What fleetrmi does on each engine kind: Docker's safety promises on Podman, honest bytes on
//! engines that list no layers, and one run over a fleet of every kind.

use std::path::Path;
use std::process::Command;

use crate::harness::{CLASSIC20, Hosts, lab};
use serde_json::Value;

/// Bytes under a directory, as `du --apparent-size` counts them.
fn apparent_bytes(dir: &Path) -> u64 {
    let output = Command::new("du")
        .args(["-sb"])
        .arg(dir)
        .output()
        .expect("du runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|bytes| bytes.parse().ok())
        .expect("du prints a size")
}

/// The names of the containers on a lent host, with their state, sorted.
fn containers(hosts: &Hosts, position: usize) -> Vec<String> {
    let run = hosts.docker(position, &["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert_eq!(run.code, 0, "docker ps: {}", run.stderr);
    let mut lines: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn rmi_json(hosts: &Hosts, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--output", "json", "rmi"];
    all.extend(args);
    let run = hosts.fleetrmi(&all);
    let json = run.json();
    (run.code, json, run.stderr)
}

#[test]
fn podman_forced_rmi_never_removes_a_container_and_the_dry_run_shows_it() {
    let hosts = lab().take_kind("podman4", 1);
    let before = containers(&hosts, 0);
    let running_image = hosts.image_id(0, "run:1");
    let stopped_image = hosts.image_id(0, "stopped:1");

    // Docker untags an image a running container uses and keeps it: so does fleetrmi here.
    let (dry_code, dry, _) = rmi_json(&hosts, &["-f", "--dry-run", "run:1"]);
    let (code, real, stderr) = rmi_json(&hosts, &["-f", "run:1"]);
    assert_eq!((code, dry_code), (0, 0), "{stderr}");
    let done = &real["hosts"][0]["results"][0];
    assert_eq!(done["untagged"], serde_json::json!(["run:1"]), "{done}");
    assert_eq!(done["deleted"], serde_json::json!([]), "{done}");
    assert_eq!(dry["hosts"][0]["results"][0]["untagged"], done["untagged"]);
    assert!(
        dry["hosts"][0]["results"][0]["not_exact"].is_null(),
        "Podman's removals are predicted exactly: {dry}"
    );
    assert!(hosts.images(0).contains_key(&running_image));

    // Docker would delete an image a stopped container uses and keep the container; Podman
    // cannot without removing the container, so fleetrmi refuses, in the plan as in the run.
    let (dry_code, dry, _) = rmi_json(&hosts, &["-f", "--dry-run", "stopped:1"]);
    let (code, real, stderr) = rmi_json(&hosts, &["-f", "stopped:1"]);
    assert_eq!((code, dry_code), (1, 1), "{stderr}");
    let done = &real["hosts"][0]["results"][0];
    let error = done["error"].as_str().expect("an error");
    assert!(
        error.starts_with("fleetrmi refused to remove stopped:1"),
        "{error}"
    );
    assert_eq!(dry["hosts"][0]["results"][0]["error"], done["error"]);
    assert!(hosts.images(0).contains_key(&stopped_image));

    assert_eq!(containers(&hosts, 0), before, "a container went");
}

#[test]
fn podman_forced_rmi_by_id_of_an_image_with_several_tags_goes_tag_by_tag() {
    let hosts = lab().take_kind("podman4", 1);
    let id = hosts.image_id(0, "multi:1");
    let storage = hosts.host_dir(0);
    let (dry_code, dry, _) = rmi_json(&hosts, &["-f", "--dry-run", &id]);
    let before = apparent_bytes(&storage);
    let (code, real, stderr) = rmi_json(&hosts, &["-f", &id]);
    let after = apparent_bytes(&storage);
    assert_eq!((code, dry_code), (0, 0), "{stderr}");
    let host = &real["hosts"][0];
    assert_eq!(host["engine"]["kind"], "podman", "{host}");
    assert_eq!(host["status"], "ok", "{host}");
    let mut untagged: Vec<&str> = host["results"][0]["untagged"]
        .as_array()
        .expect("untagged")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    untagged.sort_unstable();
    for tag in ["multi:1", "multi:2", "other/multi:1"] {
        assert!(untagged.contains(&tag), "{tag}: {host}");
    }
    assert!(
        !hosts.images(0).contains_key(&id),
        "the image is still there"
    );
    let planned = &dry["hosts"][0]["results"][0];
    assert_eq!(planned["untagged"], host["results"][0]["untagged"], "{dry}");
    assert_eq!(planned["deleted"], host["results"][0]["deleted"], "{dry}");
    assert_eq!(dry["hosts"][0]["predicted_bytes"], host["reclaimed_bytes"]);
    // Podman's layers are counted with their uncompressed sizes; the store also drops a few
    // KB of metadata per image, so the disk falls a little more than the layers' bytes.
    let reclaimed = host["reclaimed_bytes"].as_u64().expect("bytes");
    let dropped = before.saturating_sub(after);
    assert!(reclaimed > 0, "{host}");
    assert!(
        reclaimed <= dropped + 64 * 1024 && dropped <= reclaimed + reclaimed / 5 + 64 * 1024,
        "reclaimed {reclaimed}, disk fell by {dropped}"
    );
}

/// The predicted bytes of a dry run, then the real run's report, with how far `du` of the data
/// root (which holds containerd's root) and `LayersSize` fell across the real run.
fn containerd_removal(hosts: &Hosts, args: &[&str]) -> (u64, Value, u64, u64) {
    let mut dry_args = vec!["--dry-run"];
    dry_args.extend(args);
    let (dry_code, dry, dry_stderr) = rmi_json(hosts, &dry_args);
    assert_eq!(dry_code, 0, "{dry_stderr}");
    let predicted = dry["hosts"][0]["predicted_bytes"]
        .as_u64()
        .expect("predicted bytes");
    let data_root = hosts.host_dir(0).join("data");
    let (disk_before, layers_before) = (apparent_bytes(&data_root), hosts.layers_size(0));
    let (code, real, stderr) = rmi_json(hosts, args);
    assert_eq!(code, 0, "{stderr}");
    let disk_drop = disk_before - apparent_bytes(&data_root);
    let layers_drop = layers_before - hosts.layers_size(0);
    let about_content = |report: &Value| -> Vec<String> {
        report["hosts"][0]["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|warning| warning.starts_with("content blobs"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        about_content(&dry),
        about_content(&real),
        "the dry run and the run say the same about the bytes"
    );
    (predicted, real["hosts"][0].clone(), disk_drop, layers_drop)
}

#[test]
fn containerd_store_bytes_are_the_snapshots_and_content_the_engine_dropped() {
    let hosts = lab().take_kind("containerd26", 1);
    let (predicted, host, disk_drop, _) =
        containerd_removal(&hosts, &["unique:1", "chain:1", "shared:1", "shared:2"]);
    assert_eq!(host["engine"]["kind"], "docker-containerd", "{host}");
    let reported = host["reclaimed_bytes"].as_u64().expect("bytes");
    assert_eq!(predicted, reported, "{host}");
    assert!(
        host["warnings"].as_array().is_none_or(Vec::is_empty),
        "{host}"
    );
    // What the disk loses beyond the count: the snapshots' directories (a few 4 KiB blocks
    // each) and containerd's metadata. The lab's layers are random bytes, so without the
    // content blobs the count would be about half the drop.
    let tolerance = 32 * 1024 + disk_drop / 50;
    assert!(
        reported.abs_diff(disk_drop) <= tolerance,
        "reported {reported}, the data root fell by {disk_drop} (tolerance {tolerance})"
    );
}

#[test]
fn containerd_store_bytes_without_sftp_are_the_snapshots_and_say_so() {
    let hosts = lab().take_kind("containerd26", 1);
    hosts.stop("sftp", 0);
    let (predicted, host, _, layers_drop) = containerd_removal(&hosts, &["unique:1"]);
    let reported = host["reclaimed_bytes"].as_u64().expect("bytes");
    assert_eq!(predicted, reported, "{host}");
    // LayersSize counts snapshot usage in 4 KiB blocks; the layer's own size is exact.
    assert!(reported > 0, "{host}");
    assert!(
        reported <= layers_drop && layers_drop - reported < 8 * 1024,
        "reported {reported}, LayersSize fell by {layers_drop}"
    );
    let warnings = host["warnings"].to_string();
    assert!(
        warnings.contains("content blobs not counted: sshd offers no sftp subsystem"),
        "{host}"
    );
}

#[test]
fn one_run_over_a_fleet_of_every_kind_reports_each_hosts_engine() {
    let hosts = lab().take_mix(&[
        (CLASSIC20, 1),
        ("classic26", 1),
        ("containerd26", 1),
        ("podman4", 1),
    ]);
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let mut kinds: Vec<String> = Vec::new();
    for host in report["hosts"].as_array().expect("hosts") {
        assert_eq!(host["status"], "ok", "{host}");
        assert!(host["reclaimed_bytes"].as_u64() > Some(0), "{host}");
        kinds.push(host["engine"]["kind"].as_str().expect("kind").to_string());
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "docker-classic",
            "docker-classic",
            "docker-containerd",
            "podman"
        ]
    );
    for position in 0..4 {
        assert!(
            hosts
                .images(position)
                .values()
                .all(|tags| !tags.contains(&"purge:1".to_string())),
            "purge:1 still on {}",
            hosts.host(position).name
        );
    }
    let table = hosts.fleetrmi(&["rmi", "--dry-run", "purge:keep"]);
    assert!(
        table.stdout.contains("docker-containerd"),
        "{}",
        table.stdout
    );
    // Every kind is modelled: the dry run claims exactness on all four hosts.
    assert!(!table.stderr.contains("note: "), "{}", table.stderr);

    // The read-only commands say each host's kind too.
    for command in ["df", "images", "ping"] {
        let run = hosts.fleetrmi(&["--output", "json", command]);
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        let mut seen: Vec<String> = run.json()["hosts"]
            .as_array()
            .expect("hosts")
            .iter()
            .map(|host| {
                host["engine_kind"]
                    .as_str()
                    .expect("engine_kind")
                    .to_string()
            })
            .collect();
        seen.sort();
        assert_eq!(seen, kinds, "{command}");
    }
    let df = hosts.fleetrmi(&["df"]);
    assert!(df.stdout.contains("docker-containerd"), "{}", df.stdout);

    // `images` shows each host's rows as `docker images` does there (Podman's names familiar,
    // a pulled digest no row of its own, a digest-only image as `repo <none>`).
    for position in 0..4 {
        let docker = hosts.docker(
            position,
            &["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"],
        );
        let mut expected: Vec<String> = docker.stdout.lines().map(str::to_string).collect();
        expected.sort();
        let table = hosts.fleetrmi_on(&[position], &["images", "--per-host"]);
        let mut rows: Vec<String> = table
            .stdout
            .lines()
            .filter(|line| line.starts_with('│') && line.contains('┆'))
            .map(|line| {
                let cells: Vec<&str> = line.split('┆').map(str::trim).collect();
                cells[1..4].join(" ")
            })
            .filter(|row| !row.starts_with("repository "))
            .collect();
        rows.sort();
        assert!(
            rows.iter().any(|row| row.contains("dgonly <none>")),
            "{rows:?}"
        );
        assert_eq!(rows, expected, "{}", hosts.host(position).kind);
    }
}

#[test]
fn a_policy_file_can_give_each_engine_kind_its_own_policy() {
    let hosts = lab().take_mix(&[(CLASSIC20, 1), ("podman4", 1)]);
    let mut policy = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(
        &mut policy,
        b"policies:\n  - {name: docker-hosts, groups: [all], engines: [docker-classic], all: true, match: ['purge:1']}\n  - {name: podman-hosts, groups: [all], engines: [podman], all: true, match: ['unique:*']}\n",
    )
    .expect("write");
    let path = policy.path().to_string_lossy().to_string();
    let run = hosts.fleetrmi(&["--output", "json", "apply", &path, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    for host in report["hosts"].as_array().expect("hosts") {
        let untagged: Vec<&str> = host["results"]
            .as_array()
            .expect("results")
            .iter()
            .flat_map(|result| result["untagged"].as_array().expect("untagged"))
            .filter_map(Value::as_str)
            .collect();
        let (policy, removed, kept) = match host["engine"]["kind"].as_str() {
            Some("podman") => ("podman-hosts", "unique:1", "purge:1"),
            _ => ("docker-hosts", "purge:1", "unique:1"),
        };
        assert_eq!(host["prune"]["policy"], policy, "{host}");
        assert!(untagged.contains(&removed), "{host}");
        assert!(!untagged.contains(&kept), "{host}");
    }
}

/// The names (`RepoTags`) of every image on a lent host, as Podman lists them.
fn podman_names(hosts: &Hosts, position: usize) -> Vec<Vec<String>> {
    hosts
        .api_get(position, "/v1.41/images/json")
        .as_array()
        .expect("images")
        .iter()
        .map(|image| {
            image["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Each result of a host's report: the name sent, its records, bytes and error.
fn results(host: &Value) -> Vec<[Value; 5]> {
    host["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| {
            ["image", "untagged", "deleted", "reclaimed_bytes", "error"]
                .map(|field| result[field].clone())
        })
        .collect()
}

/// A rule prune's dry run and real run on lent host `position`: both reports' host.
fn rule_prune_twice(hosts: &Hosts, position: usize, rules: &[&str]) -> (Value, Value) {
    let mut args = vec!["--output", "json", "prune"];
    args.extend(rules);
    let dry = hosts.fleetrmi_on(&[position], &[args.as_slice(), &["--dry-run"]].concat());
    let real = hosts.fleetrmi_on(&[position], &[args.as_slice(), &["--yes"]].concat());
    assert_eq!(
        (dry.code, real.code),
        (0, 0),
        "{}{}",
        dry.stderr,
        real.stderr
    );
    let (planned, done) = (
        dry.json()["hosts"][0].clone(),
        real.json()["hosts"][0].clone(),
    );
    assert_eq!(done["status"], "ok", "{done}");
    assert_eq!(done["warnings"], serde_json::json!([]), "{done}");
    assert_eq!(
        results(&planned),
        results(&done),
        "the dry run differs from the run"
    );
    assert!(
        results(&done).iter().all(|result| result[4].is_null()),
        "{done}"
    );
    assert_eq!(
        planned["predicted_bytes"], done["reclaimed_bytes"],
        "{done}"
    );
    (planned, done)
}

/// An image pulled by tag and digest has two names on Podman, which refuses it by ID (500):
/// a rule prune removes it name by name, as `podman rmi` given both names does, and its dry run
/// says so. `dgonly` (one name, its digest) goes by ID.
#[test]
fn podman_rule_prune_removes_a_pulled_image_by_its_names() {
    let hosts = lab().take_kind("podman4", 2);
    let images = podman_names(&hosts, 1);
    let pulled = images
        .iter()
        .find(|names| names.iter().any(|name| name.ends_with("/dg:1")))
        .expect("dg:1 is seeded");
    assert_eq!(
        pulled.len(),
        2,
        "a tag and the digest it was pulled by: {pulled:?}"
    );
    let tag = pulled
        .iter()
        .find(|name| name.ends_with("/dg:1"))
        .expect("tag");
    let registry = tag.trim_end_matches("/dg:1");
    let dg = hosts.image_id(1, tag);
    let pattern = format!("{registry}/dg*");
    let names: Vec<String> = images
        .iter()
        .filter(|names| names.iter().any(|name| name.contains("/dg")))
        .flatten()
        .cloned()
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let before = containers(&hosts, 1);

    // The twin: the docker CLI removing every name on host 0.
    let mut twin = vec!["rmi"];
    twin.extend(names.iter().map(String::as_str));
    let docker = hosts.docker(0, &twin);
    assert_eq!(docker.code, 0, "{}", docker.stderr);

    let (_, done) = rule_prune_twice(&hosts, 1, &["--all", "--match", &pattern]);
    assert_eq!(results(&done).len(), 3, "{done}");
    assert!(done["reclaimed_bytes"].as_u64() > Some(0), "{done}");
    assert!(!hosts.images(1).contains_key(&dg), "dg is still there");
    assert_eq!(
        hosts.images(1),
        hosts.images(0),
        "the engines' states differ"
    );
    assert_eq!(containers(&hosts, 1), before, "a container went");
}

/// Every unused image by rule on Podman (a tag and a pulled digest, several tags, children
/// before parents): the dry run is the run, and nothing in use goes.
#[test]
fn podman_rule_prune_of_every_unused_image_is_its_dry_run() {
    let hosts = lab().take_kind("podman4", 1);
    let before = containers(&hosts, 0);
    let in_use = [hosts.image_id(0, "run:1"), hosts.image_id(0, "stopped:1")];
    let (_, done) = rule_prune_twice(&hosts, 0, &["--all", "--match", "**"]);
    assert!(done["reclaimed_bytes"].as_u64() > Some(0), "{done}");
    let left = hosts.images(0);
    for id in &in_use {
        assert!(left.contains_key(id), "an image in use went: {done}");
    }
    assert!(
        left.values().flatten().all(|tag| tag.contains("run:1")
            || tag.contains("stopped:1")
            || tag.contains("base:1")),
        "an unused image is left: {left:?}"
    );
    assert_eq!(containers(&hosts, 0), before, "a container went");
}

/// `--ignore-missing` on Podman: a name that is not there (never, or no longer) is `already
/// absent`, with no warning and exit 0, in the dry run as in the run.
#[test]
fn podman_ignore_missing_makes_a_rerun_clean() {
    let hosts = lab().take_kind("podman4", 1);
    let args = [
        "--output",
        "json",
        "rmi",
        "--ignore-missing",
        "nosuch:1",
        "unique:1",
    ];
    let first = hosts.fleetrmi(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first = first.json();
    let host = &first["hosts"][0];
    assert_eq!(host["warnings"], serde_json::json!([]), "{host}");
    assert_eq!(host["results"][0]["already_absent"], true, "{host}");
    assert!(host["results"][1]["already_absent"].is_null(), "{host}");
    assert_eq!(
        host["results"][1]["untagged"],
        serde_json::json!(["unique:1"])
    );
    let dry = hosts.fleetrmi(&[&args[..3], &["--dry-run"], &args[3..]].concat());
    let again = hosts.fleetrmi(&args);
    for run in [dry, again] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        let json = run.json();
        let host = &json["hosts"][0];
        assert_eq!(host["warnings"], serde_json::json!([]), "{host}");
        for result in host["results"].as_array().expect("results") {
            assert_eq!(result["already_absent"], true, "{host}");
        }
    }
}
