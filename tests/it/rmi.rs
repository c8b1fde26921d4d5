//! Fleet-wide `rmi`: several hosts at once, JSON checked against every engine's state.

use crate::harness::lab;

#[test]
fn purge_one_tag_across_all_hosts() {
    let hosts = lab().take(3);
    let before: Vec<u64> = (0..3).map(|p| hosts.layers_size(p)).collect();
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    let reports = json["hosts"].as_array().expect("hosts");
    assert_eq!(reports.len(), 3);
    let mut total = 0;
    for (position, report) in reports.iter().enumerate() {
        assert_eq!(report["host"], hosts.host(position).name);
        assert_eq!(report["status"], "ok");
        let result = &report["results"][0];
        assert_eq!(result["untagged"], serde_json::json!(["purge:1"]));
        assert!(result["deleted"].as_array().expect("deleted").len() >= 2);
        assert!(
            !hosts
                .images(position)
                .values()
                .flatten()
                .any(|tag| tag == "purge:1"),
            "purge:1 still on {}",
            hosts.host(position).name
        );
        assert!(
            hosts
                .images(position)
                .values()
                .flatten()
                .any(|tag| tag == "purge:keep")
        );
        let reclaimed = report["reclaimed_bytes"].as_u64().expect("bytes");
        assert!(reclaimed > 0);
        assert_eq!(before[position] - hosts.layers_size(position), reclaimed);
        assert!(report["space_before"]["free_bytes"].as_u64().is_some());
        total += reclaimed;
    }
    assert_eq!(json["totals"]["reclaimed_bytes"], total);
    assert_eq!(json["totals"]["ok"], 3);
}

#[test]
fn table_output_lists_every_host_and_a_total() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["rmi", "multi:2", "app:latest"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for host in &hosts.hosts {
        assert!(
            run.stdout.contains(&host.name),
            "table lacks {}:\n{}",
            host.name,
            run.stdout
        );
    }
    assert!(run.stdout.contains("total (2 hosts)"), "{}", run.stdout);
}

#[test]
fn invalid_reference_is_bad_input_and_touches_no_host() {
    let hosts = lab().take(1);
    let before = hosts.images(0);
    let run = hosts.fleetrmi(&["rmi", "app:1", "UPPER/Case"]);
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("UPPER/Case"), "{}", run.stderr);
    assert_eq!(hosts.images(0), before);
}
