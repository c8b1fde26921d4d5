//! `rmi --dry-run` predicts exactly what the real run then gets from the engine: the same
//! records, errors and exit code, and predicted bytes equal to the bytes measured.

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// The parts of a result that the engine decides.
fn outcome(result: &Value) -> Value {
    serde_json::json!({
        "image": result["image"],
        "untagged": result["untagged"],
        "deleted": result["deleted"],
        "error": result["error"],
        "error_status": result["error_status"],
    })
}

/// For each step on host 0: a dry run, then the real run, compared.
pub(crate) fn assert_dry_run_predicts(hosts: &Hosts, steps: &[Vec<String>]) {
    for step in steps {
        let mut dry_args = vec!["--output", "json", "rmi", "--dry-run"];
        dry_args.extend(step.iter().map(String::as_str));
        let state_before = hosts.images(0);
        let layers_before = hosts.layers_size(0);
        let dry = hosts.fleetrmi_on(&[0], &dry_args);
        assert_eq!(
            hosts.images(0),
            state_before,
            "step {step:?}: the dry run changed the host"
        );

        let mut real_args = vec!["--output", "json", "rmi"];
        real_args.extend(step.iter().map(String::as_str));
        let real = hosts.fleetrmi_on(&[0], &real_args);

        let (dry_json, real_json) = (dry.json(), real.json());
        assert_eq!(dry_json["dry_run"], true);
        assert_eq!(real_json["dry_run"], false);
        let (planned, done) = (&dry_json["hosts"][0], &real_json["hosts"][0]);
        let planned_results: Vec<Value> = planned["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(outcome)
            .collect();
        let done_results: Vec<Value> = done["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(outcome)
            .collect();
        assert_eq!(
            planned_results, done_results,
            "step {step:?}: plan and engine differ"
        );
        assert_eq!(
            dry.code, real.code,
            "step {step:?}: exit codes differ\n{}",
            real.stderr
        );
        assert_eq!(
            planned["predicted_bytes"], done["reclaimed_bytes"],
            "step {step:?}: predicted and measured bytes differ"
        );
        assert_eq!(done["predicted_bytes"], done["reclaimed_bytes"]);
        assert_eq!(
            done["warnings"],
            serde_json::json!([]),
            "step {step:?}: {}",
            real.stderr
        );
        let freed = done["reclaimed_bytes"].as_u64().expect("bytes");
        // Semantics case 16: a forced removal of an image a stopped container uses drops
        // LayersSize while the container keeps the layers on disk. Which image an ID prefix
        // names changes with each lab build, so look at what was deleted, not at the arguments.
        let containers_images: Vec<String> = hosts
            .api_get(0, "/containers/json?all=1")
            .as_array()
            .expect("containers")
            .iter()
            .filter_map(|container| container["ImageID"].as_str().map(str::to_string))
            .collect();
        let deleted_a_containers_image = done["results"]
            .as_array()
            .expect("results")
            .iter()
            .flat_map(|result| result["deleted"].as_array().cloned().unwrap_or_default())
            .any(|id| containers_images.iter().any(|image| id == image.as_str()));
        if !deleted_a_containers_image {
            assert_eq!(
                layers_before - hosts.layers_size(0),
                freed,
                "step {step:?}: LayersSize fell by other than the bytes freed"
            );
        }
    }
}

pub(crate) fn step(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

#[test]
fn dry_run_matches_tags_ids_and_containers() {
    let hosts = lab().take(1);
    let multi = hosts.image_id(0, "multi:1");
    let running = hosts.image_id(0, "run:1");
    let stopped = hosts.image_id(0, "stopped:1");
    let unique_short = hosts.image_id(0, "unique:1")["sha256:".len()..][..12].to_string();
    assert_dry_run_predicts(
        &hosts,
        &[
            step(&["multi:2"]),
            step(&[&multi]),
            step(&["-f", &multi]),
            step(&["run:1"]),
            step(&[&running]),
            step(&["-f", &running]),
            step(&["-f", "run:1"]),
            step(&["stopped:1"]),
            step(&[&stopped]),
            step(&["-f", "stopped:1"]),
            step(&[&unique_short]),
            step(&["nope:1", "-f"]),
        ],
    );
}

#[test]
fn dry_run_matches_children_chains_and_argument_order() {
    let hosts = lab().take(1);
    let base = hosts.image_id(0, "base:1");
    assert_dry_run_predicts(
        &hosts,
        &[
            step(&[&base]),
            step(&["base:1"]),
            step(&["--no-prune", "chain:1"]),
            step(&["other/multi:1", "multi:1", &hosts.image_id(0, "multi:2")]),
            step(&[
                "app:1",
                "app:2",
                "app:3",
                "app:latest",
                "purge:1",
                "purge:keep",
            ]),
            step(&["moved:1", "shared:1", "shared:2"]),
        ],
    );
}

#[test]
fn dry_run_matches_short_and_ambiguous_id_prefixes() {
    let hosts = lab().take(1);
    let ids: Vec<String> = hosts
        .images(0)
        .keys()
        .map(|id| id["sha256:".len()..].to_string())
        .collect();
    let first_digit_count = |digit: char| ids.iter().filter(|id| id.starts_with(digit)).count();
    let ambiguous = "0123456789abcdef"
        .chars()
        .find(|&digit| first_digit_count(digit) >= 2)
        .expect("17 images share some first digit");
    let unique = "0123456789abcdef"
        .chars()
        .find(|&digit| first_digit_count(digit) == 1);
    let mut steps = vec![
        step(&[&ambiguous.to_string()]),
        step(&[&format!("sha256:{ambiguous}")]),
    ];
    if let Some(digit) = unique {
        steps.push(step(&["-f", &digit.to_string()]));
    }
    assert_dry_run_predicts(&hosts, &steps);
}

#[test]
fn dry_run_table_says_nothing_changed() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&["rmi", "--check", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("would free"), "{}", run.stdout);
    assert!(
        run.stdout.contains("dry run: nothing was changed"),
        "{}",
        run.stdout
    );
    assert!(
        hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
}
