//! Stopping a run whose engine call hangs (SIGTERM from systemd, Ctrl-C), and removals whose
//! answer never comes.

use std::time::{Duration, Instant};

use crate::harness::{Hosts, InventoryHost, Run, lab};
use crate::held_engine::HeldEngine;

/// An inventory of lent host 0 as it is and lent host 1 behind `held`.
fn inventory_with_held_engine(hosts: &Hosts, held: &HeldEngine) -> tempfile::NamedTempFile {
    let entry = |position: usize, socket: std::path::PathBuf| {
        let host = hosts.host(position);
        InventoryHost {
            name: host.name.clone(),
            address: host.address.clone(),
            port: host.port,
            socket: Some(socket),
            ..InventoryHost::default()
        }
    };
    hosts.inventory_of(&[
        entry(0, hosts.host(0).socket.clone()),
        entry(1, held.socket.clone()),
    ])
}

#[test]
fn sigterm_during_a_hung_removal_ends_within_the_grace_with_report_retry_file_and_metrics() {
    let hosts = lab().take(2);
    let held = HeldEngine::new(&hosts.host(1).socket);
    let inventory = inventory_with_held_engine(&hosts, &held);
    let outputs = tempfile::tempdir().expect("temp dir");
    let retry = outputs.path().join("retry");
    let metrics = outputs.path().join("fleetrmi.prom");
    let child = hosts
        .command(
            inventory.path(),
            &[
                // Host 0 is done before host 1 starts.
                "--forks",
                "1",
                "--stop-grace",
                "3s",
                "--retry-file",
                &retry.to_string_lossy(),
                "--metrics",
                &metrics.to_string_lossy(),
                "--output",
                "json",
                "rmi",
                "purge:1",
                "app:1",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(
        held.wait_for_removal(Duration::from_secs(60)),
        "fleetrmi never sent the removal"
    );
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let run = Run::from(child.wait_with_output().expect("wait"));
    let stopped_after = signalled.elapsed();
    assert!(
        stopped_after < Duration::from_secs(3 + 5),
        "took {stopped_after:?} after SIGTERM with --stop-grace 3s"
    );
    assert_eq!(run.code, 130, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["hosts"][0]["status"], "ok", "{}", run.stderr);
    let stopped = &json["hosts"][1];
    assert_eq!(stopped["status"], "interrupted", "{stopped}");
    assert_eq!(stopped["failure"]["step"], "interrupt", "{stopped}");
    let message = stopped["failure"]["message"].as_str().expect("message");
    assert!(message.contains("--stop-grace 3s"), "{message}");
    assert!(
        message.contains("whether purge:1 was removed is unknown"),
        "{message}"
    );
    assert!(message.ends_with("not attempted: app:1"), "{message}");
    // Nothing is claimed for the stopped host, although the engine did remove the tag.
    assert_eq!(stopped["results"].as_array().map(Vec::len), Some(0));
    assert!(!hosts.has_tag(1, "purge:1"));
    assert!(hosts.has_tag(1, "app:1"), "app:1 was never sent");
    assert!(!hosts.has_tag(0, "purge:1"));

    let retry_file = std::fs::read_to_string(&retry).expect("retry file written");
    assert!(
        retry_file.contains(&format!("# interrupted\n{}\n", hosts.host(1).name)),
        "{retry_file}"
    );
    let metrics_file = std::fs::read_to_string(&metrics).expect("metrics written");
    assert!(metrics_file.contains("fleetrmi_"), "{metrics_file}");
}

#[test]
fn a_lost_removal_answer_names_what_was_not_attempted() {
    let hosts = lab().take(2);
    let held = HeldEngine::new(&hosts.host(1).socket);
    let inventory = inventory_with_held_engine(&hosts, &held);
    let run = Run::from(
        hosts
            .command(
                inventory.path(),
                &[
                    "--api-timeout",
                    "3s",
                    "--output",
                    "json",
                    "rmi",
                    "purge:1",
                    "app:1",
                    "app:2",
                ],
            )
            .output()
            .expect("runs"),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok");
    let failed = &json["hosts"][1];
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["step"], "remove", "{failed}");
    let message = failed["failure"]["message"].as_str().expect("message");
    assert!(
        message.contains("whether purge:1 was removed is unknown"),
        "{message}"
    );
    assert!(message.ends_with("not attempted: app:1 app:2"), "{message}");
    assert!(hosts.has_tag(1, "app:1") && hosts.has_tag(1, "app:2"));
    // The connection still answers: the free space after is read as usual.
    assert!(failed["space_after"].is_object(), "{failed}");
}

/// A rule prune whose engine does other than planned stops there and fails the host (exit 3),
/// naming the removals it did not attempt: a scheduled run must not read success while
/// matched images are left. Between the plan and the removals a container appears on the
/// image of the second removal, so the engine refuses it.
#[test]
fn a_rule_prune_that_meets_a_difference_fails_naming_what_was_not_attempted() {
    let hosts = lab().take(2);
    let rules = ["prune", "--all", "--match", "shared", "--match", "unique"];
    let dry = hosts.fleetrmi_on(
        &[1],
        &[&["--output", "json"], &rules[..], &["--dry-run"]].concat(),
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let planned: Vec<String> = dry.json()["hosts"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["image"].as_str().expect("image").to_string())
        .collect();
    assert_eq!(planned.len(), 3, "{planned:?}");

    let held = HeldEngine::gated(&hosts.host(1).socket);
    let inventory = inventory_with_held_engine(&hosts, &held);
    let child = hosts
        .command(
            inventory.path(),
            &[
                &["--forks", "1", "--output", "json"],
                &rules[..],
                &["--yes"],
            ]
            .concat(),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("fleetrmi starts");
    assert!(
        held.wait_for_removal(Duration::from_secs(120)),
        "no removal reached host 1"
    );
    let created = hosts.docker(
        1,
        &[
            "create",
            "--network",
            "none",
            "--name",
            "late-user",
            &planned[1],
            "true",
        ],
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    held.release();
    let run = Run::from(child.wait_with_output().expect("fleetrmi ends"));

    assert_eq!(run.code, 3, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok", "{}", run.stderr);
    let failed = &json["hosts"][1];
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["step"], "remove", "{failed}");
    let message = failed["failure"]["message"].as_str().expect("message");
    assert!(
        message.ends_with(&format!(
            "not attempted: {} (rerun with --dry-run to plan again)",
            planned[2]
        )),
        "{message}"
    );
    let warnings = failed["warnings"].to_string();
    assert!(
        warnings.contains("did not do what the plan predicted"),
        "{warnings}"
    );
    assert!(
        run.stderr
            .contains(&format!("error: {}: remove: ", hosts.host(1).name)),
        "{}",
        run.stderr
    );
}
