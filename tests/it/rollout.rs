//! Runs that meet failures and operators: batches, canaries, failure budgets, Ctrl-C, locks,
//! retry files, NDJSON events and metrics, reruns.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Run, lab};

fn events(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn has_tag(hosts: &crate::harness::Hosts, position: usize, tag: &str) -> bool {
    hosts.images(position).values().flatten().any(|t| t == tag)
}

#[test]
fn serial_batches_finish_before_the_next_starts_and_events_are_ndjson() {
    let hosts = lab().take(3);
    let run = hosts.fleetrmi(&["--serial", "1", "--output", "ndjson", "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events = events(&run);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().expect("event"))
        .collect();
    assert_eq!(
        kinds,
        [
            "run_start",
            "host_start",
            "removal",
            "host_end",
            "host_start",
            "removal",
            "host_end",
            "host_start",
            "removal",
            "host_end",
            "run_end"
        ]
    );
    for event in &events {
        assert!(event["time"].as_str().expect("time").ends_with('Z'));
    }
    let run_end = events.last().expect("run_end");
    assert_eq!(run_end["exit_code"], 0);
    assert_eq!(run_end["totals"]["ok"], 3);
    let freed: u64 = events
        .iter()
        .filter(|e| e["event"] == "removal")
        .map(|e| e["reclaimed_bytes"].as_u64().expect("bytes"))
        .sum();
    assert_eq!(run_end["totals"]["reclaimed_bytes"], freed);
}

#[test]
fn failed_canary_starts_no_other_host() {
    let hosts = lab().take(3);
    hosts.stop("sshd", 0);
    let run = hosts.fleetrmi(&["--canary", "1", "--output", "json", "rmi", "purge:1"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "unreachable");
    for position in 1..3 {
        assert_eq!(json["hosts"][position]["status"], "skipped");
        assert!(
            has_tag(&hosts, position, "purge:1"),
            "a host after the canary was touched"
        );
    }
    assert!(
        json["stopped_because"]
            .as_str()
            .expect("reason")
            .contains("canary")
    );
}

#[test]
fn max_fail_percentage_stops_starting_hosts() {
    let hosts = lab().take(4);
    hosts.stop("sshd", 0);
    hosts.stop("sshd", 1);
    let run = hosts.fleetrmi(&[
        "--forks",
        "1",
        "--max-fail-percentage",
        "25",
        "--output",
        "json",
        "rmi",
        "purge:1",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    let statuses: Vec<&str> = (0..4)
        .map(|p| json["hosts"][p]["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["unreachable", "unreachable", "skipped", "skipped"]
    );
    assert_eq!(json["totals"]["skipped"], 2);
    assert!(has_tag(&hosts, 3, "purge:1"));
}

#[test]
fn interrupt_mid_run_reports_every_host_and_exits_130() {
    let hosts = lab().take(2);
    // A host that accepts TCP and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = silent.local_addr().expect("address").port();
    let inventory = hosts.inventory_with(&[("silent", "127.0.0.1", port)], 1);
    let limit = format!("{},silent,{}", hosts.host(0).name, hosts.host(1).name);
    let mut command = hosts.command(
        inventory.path(),
        &[
            "--forks",
            "1",
            "--connect-timeout",
            "60s",
            "--output",
            "json",
            "-l",
            &limit,
            "rmi",
            "purge:1",
        ],
    );
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("spawn");
    let started = Instant::now();
    // Wait until the silent host is in flight: with --forks 1 fleetrmi connects to it only
    // once the first host is done (whatever the machine's load).
    silent.set_nonblocking(true).expect("non-blocking listener");
    let mut accepted = None;
    while accepted.is_none() && started.elapsed() < Duration::from_secs(30) {
        match silent.accept() {
            Ok((stream, _)) => accepted = Some(stream),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    assert!(accepted.is_some(), "fleetrmi never reached the silent host");
    assert!(has_tag_absent(&hosts, 0), "the first host was done first");
    let pid = child.id().to_string();
    let signal = |_| {
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
    };
    let _ = signal(1);
    std::thread::sleep(Duration::from_millis(300));
    let _ = signal(2);
    let run = Run::from(child.wait_with_output().expect("wait"));
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "the interrupt did not stop the run"
    );
    assert_eq!(run.code, 130, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert_eq!(json["hosts"][1]["status"], "interrupted");
    assert_eq!(json["hosts"][2]["status"], "skipped");
    assert!(
        has_tag(&hosts, 1, "purge:1"),
        "a host started after the interrupt"
    );
    drop(silent);
}

fn has_tag_absent(hosts: &crate::harness::Hosts, position: usize) -> bool {
    !has_tag(hosts, position, "purge:1")
}

#[test]
fn second_run_with_the_same_lock_is_refused() {
    let hosts = lab().take(1);
    let directory = tempfile::tempdir().expect("temp dir");
    let lock = directory.path().join("fleetrmi.lock");
    let held = fleetrmi::testing::RunLock::acquire(&lock).expect("lock");
    let lock_arg = lock.to_string_lossy().to_string();
    let run = hosts.fleetrmi(&["--lock", &lock_arg, "rmi", "purge:1"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("another fleetrmi run holds the lock"),
        "{}",
        run.stderr
    );
    assert!(has_tag(&hosts, 0, "purge:1"));
    drop(held);
    let run = hosts.fleetrmi(&["--lock", &lock_arg, "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn retry_file_metrics_and_idempotent_rerun() {
    let hosts = lab().take(2);
    hosts.stop("sshd", 1);
    let directory = tempfile::tempdir().expect("temp dir");
    let retry = directory.path().join("retry.txt");
    let metrics = directory.path().join("fleetrmi.prom");
    let (retry_arg, metrics_arg) = (
        retry.to_string_lossy().to_string(),
        metrics.to_string_lossy().to_string(),
    );
    let run = hosts.fleetrmi(&[
        "--retry-file",
        &retry_arg,
        "--metrics",
        &metrics_arg,
        "-q",
        "rmi",
        "purge:1",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let retry_text = std::fs::read_to_string(&retry).expect("retry file");
    assert_eq!(
        retry_text,
        format!(
            "# fleetrmi retry file: rerun these hosts with -l @FILE\n# unreachable\n{}\n",
            hosts.host(1).name
        )
    );
    let text = std::fs::read_to_string(&metrics).expect("metrics");
    let sample = |name: &str| -> f64 {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert_eq!(sample("fleetrmi_hosts{command=\"rmi\",status=\"ok\"}"), 1.0);
    assert_eq!(
        sample("fleetrmi_hosts{command=\"rmi\",status=\"unreachable\"}"),
        1.0
    );
    assert_eq!(sample("fleetrmi_images_deleted{command=\"rmi\"}"), 1.0);
    assert!(sample("fleetrmi_reclaimed_bytes{command=\"rmi\"}") > 0.0);
    assert_eq!(sample("fleetrmi_exit_code{command=\"rmi\"}"), 4.0);

    // The rerun takes exactly the hosts of the retry file.
    hosts.start("sshd", 1);
    let retry_limit = format!("@{retry_arg}");
    let rerun = hosts.fleetrmi_with_limit(
        &retry_limit,
        &["--output", "json", "rmi", "--ignore-missing", "purge:1"],
    );
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let rerun_json = rerun.json();
    assert_eq!(rerun_json["hosts"].as_array().expect("hosts").len(), 1);
    assert_eq!(rerun_json["hosts"][0]["host"], hosts.host(1).name);
    assert!(!has_tag(&hosts, 1, "purge:1"));

    // A rerun on the host that was done already: nothing left to do, and that is not an error.
    let run = hosts.fleetrmi_on(
        &[0],
        &["--output", "json", "rmi", "--ignore-missing", "purge:1"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = &run.json()["hosts"][0]["results"][0];
    assert_eq!(result["already_absent"], true);
    assert!(result["error"].is_null());
}
