//! `fleetrmi apply POLICY.yaml`: policies per inventory group on real hosts, the dry run equal to
//! the real run, and a bad policy file refused before any host is contacted.

use std::io::Write;

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// An inventory of the lent hosts with host 0 in group `builders` and host 1 in `services`.
fn grouped_inventory(hosts: &Hosts) -> tempfile::NamedTempFile {
    let key = lab().dir.join("id_ed25519");
    let mut text = format!(
        "all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n  children:\n",
        key.display()
    );
    for (position, group) in ["builders", "services"].iter().enumerate() {
        let host = hosts.host(position);
        text.push_str(&format!(
            "    {group}:\n      hosts:\n        {}:\n          ansible_host: {}\n          ansible_port: {}\n          docker_socket: {}\n",
            host.name,
            host.address,
            host.port,
            host.socket.display()
        ));
    }
    file_with(&text)
}

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

const POLICY: &str = "\
protect:
  keep_labels: [lab.role=chain]
policies:
  - name: builder-apps
    groups: [builders]
    all: true
    match: ['app:*', 'purge:*', 'chain:*']
    keep_last: 1
  - name: services-dangling
    groups: [services]
";

fn tags(hosts: &Hosts, position: usize) -> Vec<String> {
    hosts.images(position).into_values().flatten().collect()
}

fn records(host: &Value) -> Vec<String> {
    let mut records = Vec::new();
    for result in host["results"].as_array().expect("results") {
        for key in ["untagged", "deleted"] {
            for value in result[key].as_array().expect("records") {
                records.push(format!("{key} {}", value.as_str().expect("text")));
            }
        }
    }
    records
}

#[test]
fn apply_runs_each_group_s_policy_and_its_dry_run_predicts_it() {
    let hosts = lab().take(2);
    let inventory = grouped_inventory(&hosts);
    let policy = file_with(POLICY);
    let inventory_path = inventory.path().to_string_lossy().to_string();
    let policy_path = policy.path().to_string_lossy().to_string();
    let before = [hosts.images(0), hosts.images(1)];
    let layers_before = [hosts.layers_size(0), hosts.layers_size(1)];

    let dry = hosts.fleetrmi(&[
        "-i",
        &inventory_path,
        "--output",
        "json",
        "apply",
        &policy_path,
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        [hosts.images(0), hosts.images(1)],
        before,
        "the dry run changed a host"
    );
    let table = hosts.fleetrmi(&["-i", &inventory_path, "apply", &policy_path, "--check"]);
    assert!(
        table.stdout.contains("builder-apps") || table.stdout.contains("keep-last"),
        "{}",
        table.stdout
    );

    let real = hosts.fleetrmi(&[
        "-i",
        &inventory_path,
        "--output",
        "json",
        "apply",
        &policy_path,
        "--yes",
    ]);
    assert_eq!(real.code, 0, "{}", real.stderr);
    let (dry, real) = (dry.json(), real.json());
    for position in 0..2 {
        let (planned, done) = (&dry["hosts"][position], &real["hosts"][position]);
        assert_eq!(done["warnings"], serde_json::json!([]), "{done}");
        assert_eq!(planned["predicted_bytes"], done["reclaimed_bytes"]);
        let mut planned_records = records(planned);
        let mut done_records = records(done);
        planned_records.sort();
        done_records.sort();
        assert_eq!(planned_records, done_records);
        assert_eq!(
            layers_before[position] - hosts.layers_size(position),
            done["reclaimed_bytes"].as_u64().expect("bytes")
        );
    }

    let builder = &real["hosts"][0];
    assert_eq!(builder["prune"]["policy"], "builder-apps");
    assert_eq!(builder["prune"]["mode"], "rules");
    let builder_tags = tags(&hosts, 0);
    for kept in ["app:3", "purge:keep", "chain:1", "unique:1", "multi:1"] {
        assert!(
            builder_tags.iter().any(|t| t == kept),
            "{kept} went: {builder_tags:?}"
        );
    }
    for gone in ["app:1", "app:2", "purge:1"] {
        assert!(
            !builder_tags.iter().any(|t| t == gone),
            "{gone} stayed: {builder_tags:?}"
        );
    }

    // The services policy has the file's protections, so it runs as rules, dangling only.
    let services = &real["hosts"][1];
    assert_eq!(services["prune"]["policy"], "services-dangling");
    // The dangling image and the digest-only one (no tags: dangling for the engine too).
    assert_eq!(services["prune"]["remove"], 2);
    assert_eq!(tags(&hosts, 1).len(), before[1].values().flatten().count());
}

#[test]
fn a_host_in_no_policy_group_is_left_alone() {
    let hosts = lab().take(2);
    let inventory = grouped_inventory(&hosts);
    let policy = file_with("policies:\n  - {name: only-builders, groups: [builders], all: true}\n");
    let before = hosts.images(1);
    let run = hosts.fleetrmi(&[
        "-i",
        &inventory.path().to_string_lossy(),
        "--output",
        "json",
        "apply",
        &policy.path().to_string_lossy(),
        "--force",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"].as_array().expect("hosts").len(), 1);
    assert_eq!(json["hosts"][0]["prune"]["mode"], "engine");
    assert_eq!(hosts.images(1), before);
    assert!(!tags(&hosts, 0).iter().any(|t| t == "unique:1"));
}

#[test]
fn a_bad_policy_file_is_refused_with_its_line_and_column() {
    let hosts = lab().take(1);
    let before = hosts.images(0);
    let policy = file_with("policies:\n  - name: x\n    groups: [lab]\n    older: 3d\n");
    let run = hosts.fleetrmi(&["apply", &policy.path().to_string_lossy(), "--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(":4:5: "), "{}", run.stderr);
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);

    let unknown_group = file_with("policies:\n  - {name: x, groups: [nope]}\n");
    let run = hosts.fleetrmi(&["apply", &unknown_group.path().to_string_lossy(), "--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("group `nope`"), "{}", run.stderr);
    assert_eq!(hosts.images(0), before);
}
