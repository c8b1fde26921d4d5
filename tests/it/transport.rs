//! How the Docker API is reached: stream-local forwarding, and the dial-stdio fallback.

use crate::harness::{InventoryHost, Run, lab};

#[test]
fn refused_socket_forwarding_falls_back_to_dial_stdio() {
    let hosts = lab().take(1);
    let hardened = hosts.extra_sshd(
        0,
        &["AllowStreamLocalForwarding no", "AllowTcpForwarding no"],
    );
    let inventory = hosts.inventory_of(&[InventoryHost {
        name: "hardened".into(),
        address: hardened.address.clone(),
        port: hardened.port,
        socket: Some(hosts.host(0).socket.clone()),
    }]);
    let mut command = hosts.command(inventory.path(), &["--output", "json", "rmi", "purge:1"]);
    command
        .arg("--known-hosts")
        .arg(hardened.known_hosts.path());
    let run = Run::from(command.output().expect("runs"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = &run.json()["hosts"][0];
    assert_eq!(report["engine"]["transport"], "dial-stdio");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("dial-stdio"), "{warnings}");
    assert!(warnings.contains("refused to forward"), "{warnings}");
    assert_eq!(report["results"][0]["untagged"][0], "purge:1");
    assert!(
        !hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
    assert!(
        run.stderr
            .contains("warning: hardened: socket forwarding failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_socket_names_the_socket_and_what_to_check() {
    let hosts = lab().take(1);
    let host = hosts.host(0);
    let inventory = hosts.inventory_of(&[InventoryHost {
        name: "nosocket".into(),
        address: host.address.clone(),
        port: host.port,
        socket: Some("/run/nothing-here/docker.sock".into()),
    }]);
    let run = Run::from(
        hosts
            .command(inventory.path(), &["rmi", "purge:1"])
            .output()
            .expect("runs"),
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: nosocket: docker:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/run/nothing-here/docker.sock"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}
