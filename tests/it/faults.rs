//! Hosts that fail in different ways while the others succeed.

use std::io::Write;

use crate::harness::lab;

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
