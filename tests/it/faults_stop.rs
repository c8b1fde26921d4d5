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
