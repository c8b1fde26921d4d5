//! `fleetrmi prune`: the same as `docker image prune` on an identically seeded host; every rule's
//! dry run equal to its real run on a seeded host, with predicted bytes equal to measured bytes;
//! protected images surviving `--force`; no removal without confirmation off a terminal.
//!
//! The engine's prune walks its candidates in random order, so records from it are compared as
//! sets (sorted), never in order. Rule-based runs are fleetrmi's own requests, in plan order, and
//! are compared in order.

use std::collections::BTreeMap;

use fleetrmi::testing::{Timestamp, parse_time};
use serde_json::Value;

use crate::harness::{Hosts, Run, lab};

/// `Untagged: x` / `Deleted: y` lines, sorted, from `docker image prune`'s output.
fn docker_records(run: &Run) -> Vec<String> {
    let mut records: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|line| {
            if let Some(reference) = line.strip_prefix("untagged: ") {
                Some(format!("Untagged: {reference}"))
            } else {
                line.strip_prefix("deleted: ")
                    .map(|id| format!("Deleted: {id}"))
            }
        })
        .collect();
    records.sort();
    records
}

/// The records of every result of one host's report, in order.
fn records_in_order(host: &Value) -> Vec<String> {
    let mut records = Vec::new();
    for result in host["results"].as_array().expect("results") {
        for reference in result["untagged"].as_array().expect("untagged") {
            records.push(format!("Untagged: {}", reference.as_str().expect("text")));
        }
        for id in result["deleted"].as_array().expect("deleted") {
            records.push(format!("Deleted: {}", id.as_str().expect("text")));
        }
    }
    records
}

fn sorted(mut records: Vec<String>) -> Vec<String> {
    records.sort();
    records
}

/// Every image's creation time on host `position`, oldest first.
fn creation_times(hosts: &Hosts, position: usize) -> Vec<(Timestamp, String)> {
    let ids: Vec<String> = hosts.images(position).into_keys().collect();
    let mut args = vec!["image", "inspect", "--format", "{{.Created}} {{.Id}}"];
    args.extend(ids.iter().map(String::as_str));
    let run = hosts.docker(position, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut times: Vec<(Timestamp, String)> = run
        .stdout
        .lines()
        .map(|line| {
            let (created, id) = line.split_once(' ').expect("time and id");
            let at = parse_time(created, Timestamp::now()).expect("an RFC 3339 time");
            (at, id.to_owned())
        })
        .collect();
    times.sort();
    times
}

/// A time (as unix seconds with nanoseconds) halfway between the `count`th and the next oldest
/// image, so that `until` splits the images there.
fn time_after_oldest(hosts: &Hosts, count: usize) -> String {
    let times = creation_times(hosts, 0);
    let (before, after) = (times[count - 1].0, times[count].0);
    assert!(before < after, "two images created at the same instant");
    let nanos = |t: Timestamp| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    let middle = (nanos(before) + nanos(after)) / 2;
    format!("{}.{:09}", middle / 1_000_000_000, middle % 1_000_000_000)
}

#[test]
fn prune_equals_docker_image_prune_step_by_step() {
    let hosts = lab().take(2);
    let until = format!("until={}", time_after_oldest(&hosts, 9));
    let steps: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-a", "--filter", "label=lab.role=chain"],
        vec!["-a", "--filter", &until],
        vec!["-a"],
    ];
    for step in steps {
        let layers_before = hosts.layers_size(1);
        let mut docker_args = vec!["image", "prune", "-f"];
        docker_args.extend(&step);
        let docker = hosts.docker(0, &docker_args);
        assert_eq!(docker.code, 0, "docker {step:?}: {}", docker.stderr);

        let mut fleet_args = vec!["--output", "json", "prune", "-f"];
        fleet_args.extend(&step);
        let run = hosts.fleetrmi_on(&[1], &fleet_args);
        assert_eq!(run.code, 0, "fleetrmi {step:?}: {}", run.stderr);
        let json = run.json();
        let host = &json["hosts"][0];
        assert_eq!(host["prune"]["mode"], "engine");
        assert_eq!(
            sorted(records_in_order(host)),
            docker_records(&docker),
            "step {step:?}: fleetrmi's prune differs from docker's"
        );
        assert_eq!(
            hosts.images(1),
            hosts.images(0),
            "step {step:?}: the engines' states differ"
        );
        assert_eq!(host["warnings"], serde_json::json!([]), "step {step:?}");
        let reclaimed = host["reclaimed_bytes"].as_u64().expect("bytes");
        assert_eq!(host["predicted_bytes"], reclaimed, "step {step:?}");
        assert_eq!(
            layers_before - hosts.layers_size(1),
            reclaimed,
            "step {step:?}: measured bytes differ from the LayersSize drop"
        );
    }
}

/// On host 0, freshly seeded: a dry run, then the real run, compared.
fn assert_dry_run_matches(hosts: &Hosts, args: &[&str]) -> Value {
    hosts.reseed();
    let state_before = hosts.images(0);
    let layers_before = hosts.layers_size(0);
    let mut dry_args = vec!["--output", "json", "prune", "--dry-run"];
    dry_args.extend(args);
    let dry = hosts.fleetrmi_on(&[0], &dry_args);
    assert_eq!(
        hosts.images(0),
        state_before,
        "{args:?}: the dry run changed the host"
    );

    let mut real_args = vec!["--output", "json", "prune", "--yes"];
    real_args.extend(args);
    let real = hosts.fleetrmi_on(&[0], &real_args);
    assert_eq!(
        dry.code, real.code,
        "{args:?}: exit codes differ\n{}",
        real.stderr
    );
    assert_eq!(real.code, 0, "{args:?}: {}", real.stderr);
    let (dry_json, real_json) = (dry.json(), real.json());
    let (planned, done) = (&dry_json["hosts"][0], &real_json["hosts"][0]);
    // Details may quote ages, which grow between the two runs; the rest must be equal.
    assert_eq!(
        decisions_without_details(planned),
        decisions_without_details(done),
        "{args:?}: decisions differ"
    );
    if done["prune"]["mode"] == "engine" {
        assert_eq!(
            sorted(records_in_order(planned)),
            sorted(records_in_order(done))
        );
    } else {
        assert_eq!(
            records_in_order(planned),
            records_in_order(done),
            "{args:?}: plan and engine differ"
        );
    }
    assert_eq!(
        done["warnings"],
        serde_json::json!([]),
        "{args:?}: {}",
        real.stderr
    );
    let reclaimed = done["reclaimed_bytes"].as_u64().expect("bytes");
    assert_eq!(
        planned["predicted_bytes"], reclaimed,
        "{args:?}: predicted and measured bytes differ"
    );
    if !args.contains(&"-f") {
        assert_eq!(
            layers_before - hosts.layers_size(0),
            reclaimed,
            "{args:?}: LayersSize fell by other than the bytes freed"
        );
    }
    // Every decision holds on the engine: removed images are gone, kept ones are there.
    let after = hosts.images(0);
    for decision in done["decisions"].as_array().expect("decisions") {
        let id = decision["image"].as_str().expect("id");
        let present = after.contains_key(id);
        match decision["action"].as_str().expect("action") {
            "remove" => assert!(!present, "{args:?}: {decision} is still there"),
            _ => assert!(present, "{args:?}: {decision} is gone"),
        }
    }
    done.clone()
}

fn decisions_without_details(host: &Value) -> Vec<Value> {
    host["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|decision| {
            let mut decision = decision.clone();
            decision["detail"] = Value::Null;
            decision
        })
        .collect()
}

fn reasons(host: &Value) -> BTreeMap<String, String> {
    host["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|decision| {
            let name = decision["references"]
                .as_array()
                .expect("references")
                .iter()
                .map(|r| r.as_str().expect("text"))
                .collect::<Vec<_>>()
                .join(",");
            let name = if name.is_empty() {
                decision["image"].as_str().expect("id").to_owned()
            } else {
                name
            };
            (
                name,
                format!(
                    "{} {}",
                    decision["action"].as_str().expect("action"),
                    decision["reason"].as_str().expect("reason")
                ),
            )
        })
        .collect()
}

#[test]
fn each_rule_dry_run_equals_its_real_run() {
    let hosts = lab().take(1);
    let until = format!("until={}", time_after_oldest(&hosts, 4));

    let plain = assert_dry_run_matches(&hosts, &[]);
    assert_eq!(plain["prune"]["mode"], "engine");

    let matched = assert_dry_run_matches(&hosts, &["-a", "--match", "app:*"]);
    let matched = reasons(&matched);
    assert_eq!(matched["app:1"], "remove selected");
    assert_eq!(matched["app:3,app:latest"], "remove selected");
    assert_eq!(matched["purge:1"], "keep not-matched");

    let dangling = assert_dry_run_matches(&hosts, &["--older-than", "0s"]);
    // The dangling image and the digest-only one (no tags: dangling for the engine too).
    assert_eq!(dangling["prune"]["remove"], 2);

    let newest = reasons(&assert_dry_run_matches(
        &hosts,
        &["-a", "--older-than", "0s", "--keep-last", "1"],
    ));
    assert_eq!(newest["app:3,app:latest"], "keep keep-last");
    assert_eq!(newest["app:2"], "remove selected");
    assert_eq!(newest["purge:1"], "remove selected");
    assert_eq!(newest["purge:keep"], "keep keep-last");

    let protected = reasons(&assert_dry_run_matches(
        &hosts,
        &[
            "-a",
            "--older-than",
            "0s",
            "--keep",
            "purge:*",
            "--keep-label",
            "lab.role=chain",
        ],
    ));
    assert_eq!(protected["purge:1"], "keep keep-pattern");
    assert_eq!(protected["chain:1"], "keep keep-label");
    assert_eq!(protected["base:1"], "keep has-children");
    assert_eq!(protected["unique:1"], "remove selected");

    let before_until = reasons(&assert_dry_run_matches(
        &hosts,
        &["-a", "--match", "**", "--filter", &until],
    ));
    assert_eq!(before_until["unique:1"], "remove selected");
    assert_eq!(before_until["app:1"], "keep filtered-until");

    let usage = assert_dry_run_matches(&hosts, &["-a", "--max-usage", "4.5MB"]);
    assert!(
        usage["prune"]["predicted_usage_after_bytes"]
            .as_u64()
            .expect("bytes")
            <= 4_500_000
    );
    let decided = reasons(&usage);
    assert_eq!(decided["base:1"], "keep has-children");
    assert!(decided.values().any(|r| r == "remove over-threshold"));
    assert!(decided.values().any(|r| r == "keep threshold-met"));

    let freed = assert_dry_run_matches(&hosts, &["-a", "--until-free", "600kB"]);
    assert!(freed["reclaimed_bytes"].as_u64().expect("bytes") >= 600_000);

    let forced = reasons(&assert_dry_run_matches(
        &hosts,
        &[
            "-a", "-f", "--match", "stopped", "--match", "multi", "--match", "run",
        ],
    ));
    assert_eq!(forced["stopped:1"], "remove selected");
    assert_eq!(forced["multi:1,multi:2,other/multi:1"], "remove selected");
    assert_eq!(forced["run:1"], "keep running-container");
}

#[test]
fn protected_images_survive_force() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&[
        "--output",
        "json",
        "prune",
        "-a",
        "-f",
        "--older-than",
        "0s",
        "--keep",
        "purge:*",
        "--keep",
        "multi",
        "--keep-label",
        "lab.role=chain",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tags: Vec<String> = hosts.images(0).into_values().flatten().collect();
    for kept in [
        "purge:1",
        "purge:keep",
        "multi:1",
        "multi:2",
        "other/multi:1",
        "chain:1",
        "run:1",
        "base:1",
    ] {
        assert!(
            tags.iter().any(|tag| tag == kept),
            "{kept} was removed: {tags:?}"
        );
    }
    for gone in ["stopped:1", "app:1", "unique:1", "shared:2"] {
        assert!(
            !tags.iter().any(|tag| tag == gone),
            "{gone} survived: {tags:?}"
        );
    }
    let json = run.json();
    assert_eq!(json["hosts"][0]["warnings"], serde_json::json!([]));
}

#[test]
fn prune_refuses_to_run_unconfirmed_off_a_terminal() {
    let hosts = lab().take(1);
    let before = hosts.images(0);
    let run = hosts.fleetrmi(&["prune", "-a"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(hosts.images(0), before);
}

#[test]
fn prune_across_hosts_reports_each_host_and_the_total() {
    let hosts = lab().take(2);
    // The dangling image and the digest-only one.
    let dangling: Vec<Vec<String>> = (0..2)
        .map(|p| {
            hosts
                .docker(p, &["images", "-q", "--no-trunc", "-f", "dangling=true"])
                .stdout
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    let run = hosts.fleetrmi(&["--output", "json", "prune", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let mut total = 0;
    for (position, host) in json["hosts"].as_array().expect("hosts").iter().enumerate() {
        assert_eq!(host["status"], "ok");
        let deleted = &host["results"][0]["deleted"];
        let deleted = deleted.as_array().expect("deleted");
        assert!(
            dangling[position]
                .iter()
                .all(|image| deleted.iter().any(|id| id == image)),
            "{host}"
        );
        total += host["reclaimed_bytes"].as_u64().expect("bytes");
    }
    assert!(total > 0);
    assert_eq!(json["totals"]["reclaimed_bytes"], total);
    let table = hosts.fleetrmi(&["prune", "--dry-run", "-a", "--keep-last", "1"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("keep-last"), "{}", table.stdout);
    assert!(table.stdout.contains("total (2 hosts)"), "{}", table.stdout);
}
