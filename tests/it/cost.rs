//! What a purge costs each host: one SSH connection, and Docker API calls for the removals and
//! the few images they touch, never a pass over every image on the host.

use crate::harness::lab;

/// `/_ping` or `/version` and `/info` (negotiation), then `/images/json` and `/containers/json`.
const FIXED_CALLS: u64 = 4;

fn api_calls(report: &serde_json::Value) -> u64 {
    report["api_calls"].as_u64().expect("api_calls")
}

#[test]
fn untagging_costs_one_connection_and_one_call_per_tag_beyond_the_fixed_ones() {
    let hosts = lab().take(2);
    let logins: Vec<usize> = (0..2).map(|p| hosts.ssh_logins(p)).collect();
    // Each of these tags is one of several on its image: removing them only untags.
    let run = hosts.fleetrmi(&[
        "--output",
        "json",
        "rmi",
        "multi:2",
        "app:latest",
        "other/multi:1",
    ]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    for (position, report) in json["hosts"].as_array().expect("hosts").iter().enumerate() {
        assert_eq!(api_calls(report), FIXED_CALLS + 3, "{report}");
        assert_eq!(hosts.ssh_logins(position) - logins[position], 1);
    }
}

#[test]
fn deleting_reads_only_the_chains_the_removals_touch() {
    let hosts = lab().take(1);
    let logins = hosts.ssh_logins(0);
    let images = hosts.images(0).len() as u64;
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "app:1", "app:2", "purge:1"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let report = &run.json()["hosts"][0];
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    assert_eq!(report["predicted_bytes"], report["reclaimed_bytes"]);
    // The three images and their base, then the images large enough to share one of the
    // dropped layers (app:3, purge:keep, chain:1 and its intermediate), one inspect each;
    // their layer sizes come from the images' sizes, so no history call.
    assert_eq!(api_calls(report), FIXED_CALLS + 4 + 4 + 3, "{report}");
    assert!(
        api_calls(report) < 2 * images,
        "a full read would take {} calls",
        2 * images + 7
    );
    assert_eq!(hosts.ssh_logins(0) - logins, 1);
}

#[test]
fn an_image_sharing_its_layer_without_a_parent_link_frees_nothing_as_planned() {
    let hosts = lab().take(1);
    let before = hosts.layers_size(0);
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "shared:1"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let report = &run.json()["hosts"][0];
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    assert_eq!(report["reclaimed_bytes"], 0);
    assert_eq!(report["predicted_bytes"], 0);
    assert_eq!(
        report["results"][0]["deleted"]
            .as_array()
            .expect("deleted")
            .len(),
        1
    );
    assert_eq!(
        hosts.layers_size(0),
        before,
        "shared:2 still holds the layer"
    );
}

#[test]
fn each_host_removes_its_own_tag_with_the_host_placeholder() {
    let hosts = lab().take(2);
    for position in 0..2 {
        let name = hosts.host(position).name.clone();
        let tagged = hosts.docker(position, &["tag", "purge:1", &format!("own:{name}")]);
        assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    }
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "own:{host}"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    for (position, report) in json["hosts"].as_array().expect("hosts").iter().enumerate() {
        let name = &hosts.host(position).name;
        assert_eq!(report["results"][0]["image"], format!("own:{name}"));
        assert_eq!(
            report["results"][0]["untagged"],
            serde_json::json!([format!("own:{name}")])
        );
    }
}

/// The round trips a host's run waits for one after another, from its JSON report.
fn round_trips_by_step(report: &serde_json::Value) -> Vec<(String, u64)> {
    report["round_trips"]["by_step"]
        .as_array()
        .expect("round_trips.by_step")
        .iter()
        .map(|step| {
            (
                step["step"].as_str().expect("step").to_string(),
                step["round_trips"].as_u64().expect("round_trips"),
            )
        })
        .collect()
}

#[test]
fn a_plain_purge_waits_for_a_fixed_number_of_round_trips_plus_one_per_image() {
    let hosts = lab().take(1);
    let images = ["app:1", "app:2", "purge:1"];
    let mut args = vec!["--output", "json", "rmi"];
    args.extend(images);
    let run = hosts.fleetrmi(&args);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let report = &run.json()["hosts"][0];
    let steps = round_trips_by_step(report);
    let of = |name: &str| {
        steps
            .iter()
            .find(|(step, _)| step == name)
            .map_or(0, |(_, count)| *count)
    };
    // TCP connect, the version exchange (with both KEXINITs), the key exchange, then the
    // ssh-userauth service request with the signed key (no query for the key first).
    assert_eq!(of("connecting"), 4, "{steps:?}");
    // Docker: /_ping and /info together, on socket channels whose opens went with the signed
    // key (vendor/russh); the free-space session's channel too, and its sftp subsystem starts
    // with /_ping. Snapshot: the two lists together, then one wave of inspects (the SFTP init
    // and the statvfs go with the lists). Behind the bench's latency proxy that is 1 + 2; on
    // loopback an answer can outrun the opening of the channel its next call was to take,
    // which then opens its own: one more at most, in either step.
    assert!((1..=2).contains(&of("docker")), "{steps:?}");
    assert!((2..=3).contains(&of("snapshot")), "{steps:?}");
    assert!(of("docker") + of("snapshot") <= 4, "{steps:?}");
    for image in images {
        assert_eq!(of(&format!("removing {image}")), 1, "{steps:?}");
    }
    // The SFTP session opened with the login is kept: one statvfs after the last removal.
    assert_eq!(of("free space"), 1, "{steps:?}");
    let total = report["round_trips"]["total"].as_u64().expect("total");
    assert_eq!(total, steps.iter().map(|(_, count)| count).sum::<u64>());
    assert!(total <= images.len() as u64 + 9, "{steps:?}");
}
