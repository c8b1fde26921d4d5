//! Hosts that fail in different ways while the others succeed.

use std::io::Write;

use crate::harness::{InventoryHost, Run, lab};

#[test]
fn down_sshd_wrong_host_key_and_stopped_dockerd_fail_alone() {
    let hosts = lab().take(4);
    hosts.stop("sshd", 1);
    hosts.stop("dockerd", 3);
    // A known_hosts where host 2 has someone else's key.
    let known = std::fs::read_to_string(lab().known_hosts()).expect("known_hosts");
    let impostor =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICjmfPGPb0tob6cEulfaYNbn8zcB8Ki+to7ZgYBMTSVK";
    let wrong_host = hosts.host(2);
    let host_id = format!("[{}]:{}", wrong_host.address, wrong_host.port);
    let mut file = tempfile::NamedTempFile::new().expect("temp");
    for line in known.lines() {
        if line.starts_with(&format!("{host_id} ")) {
            writeln!(file, "{host_id} {impostor}").expect("write");
        } else {
            writeln!(file, "{line}").expect("write");
        }
    }
    let known_hosts = file.path().to_string_lossy().to_string();
    let run = hosts.fleetrmi(&[
        "--known-hosts",
        &known_hosts,
        "--output",
        "json",
        "rmi",
        "purge:1",
    ]);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let json = run.json();
    let status = |p: usize| {
        json["hosts"][p]["status"]
            .as_str()
            .expect("status")
            .to_string()
    };
    let step = |p: usize| {
        json["hosts"][p]["failure"]["step"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(status(0), "ok");
    assert_eq!(
        (status(1), step(1)),
        ("unreachable".into(), "connect".into())
    );
    assert_eq!(
        (status(2), step(2)),
        ("unreachable".into(), "host-key".into())
    );
    assert_eq!(
        (status(3), step(3)),
        ("unreachable".into(), "docker".into())
    );
    assert!(run.stderr.contains(&format!(
        "error: {}: host-key: HOST KEY CHANGED",
        wrong_host.name
    )));
    assert!(
        !hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
    assert!(
        hosts
            .images(2)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
}

/// Resumes a frozen dockerd even when the test fails.
struct Thaw<'a>(&'a crate::harness::Hosts, usize);

impl Drop for Thaw<'_> {
    fn drop(&mut self) {
        self.0.signal_dockerd(self.1, "CONT");
    }
}

fn lab_host(hosts: &crate::harness::Hosts, position: usize) -> InventoryHost {
    let host = hosts.host(position);
    InventoryHost {
        name: host.name.clone(),
        address: host.address.clone(),
        port: host.port,
        socket: Some(host.socket.clone()),
        ..InventoryHost::default()
    }
}

#[test]
fn silent_host_and_refused_login_fail_alone_with_their_step() {
    let hosts = lab().take(2);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let directory = tempfile::tempdir().expect("temp dir");
    let stranger_key = directory.path().join("stranger");
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger_key)
        .status()
        .expect("ssh-keygen");
    assert!(keygen.success());
    let mut refused = lab_host(&hosts, 1);
    refused.name = "stranger".into();
    refused.vars.push((
        "ansible_ssh_private_key_file",
        stranger_key.display().to_string(),
    ));
    let inventory = hosts.inventory_of(&[
        lab_host(&hosts, 0),
        InventoryHost {
            name: "silent".into(),
            address: "127.0.0.1".into(),
            port: silent.local_addr().expect("address").port(),
            ..InventoryHost::default()
        },
        refused,
    ]);
    let run = Run::from(
        hosts
            .command(
                inventory.path(),
                &[
                    "--connect-timeout",
                    "8s",
                    "--output",
                    "json",
                    "rmi",
                    "purge:1",
                ],
            )
            .output()
            .expect("runs"),
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert_eq!(json["hosts"][1]["failure"]["step"], "connect");
    assert!(
        run.stderr
            .contains("error: silent: connect: no answer from 127.0.0.1:"),
        "{}",
        run.stderr
    );
    assert_eq!(json["hosts"][2]["failure"]["step"], "auth");
    assert!(
        run.stderr
            .contains("error: stranger: auth: authentication as root refused"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("stranger (refused)"), "{}", run.stderr);
    assert!(
        hosts
            .images(1)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
}

#[test]
fn frozen_dockerd_times_out_at_its_step_and_others_finish() {
    let hosts = lab().take(2);
    hosts.signal_dockerd(1, "STOP");
    let _thaw = Thaw(&hosts, 1);
    let started = std::time::Instant::now();
    let run = hosts.fleetrmi(&["--api-timeout", "8s", "--output", "json", "rmi", "purge:1"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert_eq!(json["hosts"][1]["failure"]["step"], "docker");
    let message = json["hosts"][1]["failure"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("timeout"), "{message}");
}

#[test]
fn read_only_commands_keep_to_the_host_timeout() {
    let hosts = lab().take(2);
    hosts.signal_dockerd(1, "STOP");
    let _thaw = Thaw(&hosts, 1);
    let started = std::time::Instant::now();
    let run = hosts.fleetrmi(&["--timeout", "10s", "--output", "json", "df"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    let frozen = json["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|host| host["host"] == hosts.host(1).name.as_str())
        .expect("the frozen host is reported");
    assert_eq!(frozen["status"], "unreachable", "{frozen}");
    assert_eq!(frozen["failure"]["step"], "docker", "{frozen}");
    assert_eq!(
        frozen["failure"]["message"],
        "no result within --timeout 10s while docker"
    );
}

#[test]
fn connection_killed_mid_run_is_reported_and_claims_nothing() {
    let hosts = lab().take(2);
    hosts.signal_dockerd(1, "STOP");
    let thaw = Thaw(&hosts, 1);
    let mut child = hosts
        .command(
            &lab().inventory(),
            &[
                "-l",
                &hosts.limit(),
                // Longer than the wait for a session to kill below, short enough that a
                // reconnect after a kill during the handshake does not hang the test.
                "--api-timeout",
                "30s",
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
    // Host 1's engine is frozen, so its connection sits in an API call; kill the sshd session
    // serving it as soon as it exists.
    let mut killed = 0;
    let waited = std::time::Instant::now();
    while killed == 0 && waited.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        killed = hosts.kill_ssh_sessions(1);
    }
    let status = child.wait().expect("wait");
    drop(thaw);
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert!(killed > 0, "no SSH session to kill");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert_eq!(json["hosts"][0]["status"], "ok");
    let broken = &json["hosts"][1];
    assert!(
        broken["status"] == "failed" || broken["status"] == "unreachable",
        "{broken}"
    );
    assert!(broken["failure"]["step"].is_string(), "{broken}");
    // Every deletion reported for the broken host really happened on its engine.
    let images = hosts.images(1);
    for result in broken["results"].as_array().expect("results") {
        for id in result["deleted"].as_array().expect("deleted") {
            assert!(
                !images.contains_key(id.as_str().expect("id")),
                "{id} reported but present"
            );
        }
    }
}
