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
        ..InventoryHost::default()
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
    // The socket is there and root may open it: sshd_config is why, and the warning says so.
    assert!(
        warnings.contains("sshd_config forbids forwarding"),
        "{warnings}"
    );
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
        ..InventoryHost::default()
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
    // sshd refuses such a channel as it refuses forbidden forwarding; the error says which.
    assert!(
        run.stderr
            .contains("there is no socket at /run/nothing-here/docker.sock"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("refused to forward"), "{}", run.stderr);
    assert!(
        !run.stderr
            .contains("cannot reach the Docker daemon: cannot reach"),
        "{}",
        run.stderr
    );
}

/// Runs `rmi purge:1` on host 0 as local user `user`, through an sshd of its own whose
/// authorized keys file the user may read (the lab's sits in a root-only directory).
fn as_user(hosts: &crate::harness::Hosts, user: &str, vars: &[(&'static str, &str)]) -> Run {
    use std::os::unix::fs::PermissionsExt;
    let keys = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(keys.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let authorized = keys.path().join("authorized_keys");
    std::fs::copy(lab().dir.join("id_ed25519.pub"), &authorized).expect("copy key");
    std::fs::set_permissions(&authorized, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let setting = format!("AuthorizedKeysFile {}", authorized.display());
    let sshd = hosts.extra_sshd(0, &[setting.as_str()]);
    let mut entry = InventoryHost {
        name: format!("as-{user}"),
        address: sshd.address.clone(),
        port: sshd.port,
        socket: Some(hosts.host(0).socket.clone()),
        ..InventoryHost::default()
    };
    entry.vars.push(("ansible_user", user.to_string()));
    for (key, value) in vars {
        entry.vars.push((key, value.to_string()));
    }
    let inventory = hosts.inventory_of(&[entry]);
    let mut command = hosts.command(inventory.path(), &["--output", "json", "rmi", "purge:1"]);
    command.arg("--known-hosts").arg(sshd.known_hosts.path());
    Run::from(command.output().expect("runs"))
}

#[test]
fn user_outside_the_docker_group_is_told_how_to_fix_it() {
    let hosts = lab().take(1);
    crate::harness::ensure_local_user("frl-plain", false);
    let run = as_user(&hosts, "frl-plain", &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let failure = &run.json()["hosts"][0]["failure"];
    assert_eq!(failure["step"], "docker");
    let message = failure["message"].as_str().expect("message");
    assert!(message.contains("permission denied"), "{message}");
    assert!(message.contains("may not open the socket"), "{message}");
    assert!(!message.contains("refused to forward"), "{message}");
    assert!(message.contains("`docker` group"), "{message}");
    assert!(message.contains("become"), "{message}");
    assert!(
        hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
}

#[test]
fn become_reaches_docker_through_sudo() {
    let hosts = lab().take(1);
    crate::harness::ensure_local_user("frl-sudo", true);
    let run = as_user(&hosts, "frl-sudo", &[("become", "true")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = &run.json()["hosts"][0];
    assert_eq!(report["engine"]["transport"], "sudo dial-stdio");
    assert_eq!(report["results"][0]["untagged"][0], "purge:1");
    assert!(
        !hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    );
}
