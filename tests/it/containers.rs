//! `rmi --stop-containers [--remove-containers]`: only the containers that use an image the
//! removal deletes are stopped (and removed), right before it; the dry run lists them and
//! predicts what the real run then does; other containers are never touched.

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// `running`, `exited`, `created`…, or `None` when the container is gone.
fn state(hosts: &Hosts, position: usize, name: &str) -> Option<String> {
    let run = hosts.docker(
        position,
        &["inspect", "--format", "{{.State.Status}}", name],
    );
    (run.code == 0).then(|| run.stdout.trim().to_string())
}

fn outcome(result: &Value) -> Value {
    serde_json::json!({
        "untagged": result["untagged"],
        "deleted": result["deleted"],
        "error": result["error"],
        "containers": result["containers"],
    })
}

#[test]
fn stop_containers_removes_a_running_containers_image_and_leaves_other_containers_alone() {
    let hosts = lab().take(1);
    let bystander = hosts.docker(
        0,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "bystander",
            "purge:keep",
            "sleep",
            "1000000",
        ],
    );
    assert_eq!(bystander.code, 0, "{}", bystander.stderr);
    let run_image = hosts.image_id(0, "run:1");
    let args = [
        "--output",
        "json",
        "rmi",
        "--stop-containers",
        "--remove-containers",
        "--stop-timeout",
        "1s",
        "run:1",
        "purge:1",
    ];

    let mut dry_args = args.to_vec();
    dry_args.insert(3, "--dry-run");
    let dry = hosts.fleetrmi(&dry_args);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(state(&hosts, 0, "running-1").as_deref(), Some("running"));
    let planned = dry.json();
    let containers = &planned["hosts"][0]["results"][0]["containers"];
    assert_eq!(
        containers.as_array().expect("containers").len(),
        1,
        "{containers}"
    );
    assert_eq!(containers[0]["name"], "running-1");
    assert_eq!(containers[0]["action"], "stop+remove");
    assert_eq!(containers[0]["image_id"], run_image);
    assert!(planned["hosts"][0]["results"][1]["containers"].is_null());

    let real = hosts.fleetrmi(&args);
    assert_eq!(real.code, 0, "stderr:\n{}", real.stderr);
    let done = real.json();
    let host = &done["hosts"][0];
    assert_eq!(host["status"], "ok");
    assert_eq!(host["warnings"], serde_json::json!([]), "{}", real.stderr);
    for index in 0..2 {
        assert_eq!(
            outcome(&planned["hosts"][0]["results"][index]),
            outcome(&host["results"][index]),
            "the dry run and the real run differ"
        );
    }
    assert_eq!(
        planned["hosts"][0]["predicted_bytes"],
        host["reclaimed_bytes"]
    );
    assert!(
        host["results"][0]["deleted"]
            .as_array()
            .expect("deleted")
            .contains(&Value::String(run_image.clone()))
    );
    assert_eq!(
        state(&hosts, 0, "running-1"),
        None,
        "running-1 was not removed"
    );
    assert_eq!(state(&hosts, 0, "bystander").as_deref(), Some("running"));
    assert_eq!(state(&hosts, 0, "stopped-1").as_deref(), Some("created"));
}

#[test]
fn stop_containers_lists_the_containers_in_the_table() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&[
        "rmi",
        "--stop-containers",
        "--remove-containers",
        "--stop-timeout",
        "1s",
        "--dry-run",
        "run:1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("would stop+remove container running-1"),
        "{}",
        run.stdout
    );
    let real = hosts.fleetrmi(&[
        "rmi",
        "--stop-containers",
        "--remove-containers",
        "--stop-timeout",
        "1s",
        "run:1",
    ]);
    assert_eq!(real.code, 0, "{}", real.stderr);
    assert!(
        real.stdout
            .contains("stopped and removed container running-1"),
        "{}",
        real.stdout
    );
    assert!(
        real.stdout.contains("no other container was touched"),
        "{}",
        real.stdout
    );
}

#[test]
fn stop_containers_alone_stops_only_when_force_lets_the_image_go() {
    let hosts = lab().take(1);
    // Without -f a stopped container still holds its image: nothing is stopped.
    let unforced = hosts.fleetrmi(&["--output", "json", "rmi", "--stop-containers", "run:1"]);
    assert_eq!(unforced.code, 1, "{}", unforced.stderr);
    assert!(unforced.json()["hosts"][0]["results"][0]["containers"].is_null());
    assert_eq!(state(&hosts, 0, "running-1").as_deref(), Some("running"));

    let forced = hosts.fleetrmi(&[
        "--output",
        "json",
        "rmi",
        "-f",
        "--stop-containers",
        "--stop-timeout",
        "1s",
        "run:1",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let result = &forced.json()["hosts"][0]["results"][0];
    assert_eq!(result["containers"][0]["action"], "stop", "{result}");
    assert_eq!(state(&hosts, 0, "running-1").as_deref(), Some("exited"));
    assert!(!hosts.images(0).values().flatten().any(|tag| tag == "run:1"));
}

#[test]
fn without_stop_containers_a_running_container_is_never_touched() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "-f", "run:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(state(&hosts, 0, "running-1").as_deref(), Some("running"));
    assert!(run.json()["hosts"][0]["results"][0]["containers"].is_null());
}

#[test]
fn remove_containers_needs_stop_containers() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&["rmi", "--remove-containers", "run:1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--stop-containers"), "{}", run.stderr);
}

#[test]
fn a_host_cut_short_while_stopping_a_container_still_reports_the_archive_it_wrote() {
    // `sleep` as PID 1 ignores SIGTERM, so the stop waits for --stop-timeout, well past
    // --timeout: the host is cut short after its backup, in the middle of the container step.
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    let run = hosts.fleetrmi(&[
        "--timeout",
        "12s",
        "--output",
        "json",
        "rmi",
        "--backup",
        &backup,
        "--stop-containers",
        "--remove-containers",
        "--stop-timeout",
        "60s",
        "run:1",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let host = &run.json()["hosts"][0];
    assert_eq!(host["status"], "failed", "{host}");
    assert_eq!(host["failure"]["step"], "timeout");
    let message = host["failure"]["message"].as_str().expect("message");
    assert!(
        message.contains("stopping container running-1"),
        "{message}"
    );
    assert!(
        host["engine"].is_object(),
        "published engine info is kept: {host}"
    );
    let result = &host["results"][0];
    assert_eq!(result["image"], "run:1");
    assert!(
        result["error"]
            .as_str()
            .expect("error")
            .starts_with("not finished:"),
        "{result}"
    );
    let file = result["backup"]["file"].as_str().expect("archive");
    assert!(std::path::Path::new(file).is_file(), "{file} was written");
    assert!(hosts.image_id(0, "run:1").starts_with("sha256:"));
}
