//! SSH as OpenSSH does it, against real sshd: ssh_config, known_hosts formats and host-key
//! modes, encrypted keys, the agent, certificates, and hosts reachable only through jump hosts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Hosts, Run, lab};
use crate::sshd::{NamespaceJumpHost, Sshd, SshdSetup, free_port, keygen, public_key, run};

const IMPOSTOR_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICjmfPGPb0tob6cEulfaYNbn8zcB8Ki+to7ZgYBMTSVK";

/// fleetrmi with no ssh_config, no agent and no inventory from the environment; the caller adds
/// the rest.
fn fleetrmi() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
    command
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("FLEETRMI_INVENTORY")
        .env_remove("FLEETRMI_KNOWN_HOSTS")
        .env_remove("FLEETRMI_KEY_PASSPHRASE")
        .env_remove("FLEETRMI_SSH_CONFIG")
        .env_remove("FLEETRMI_HOST_KEY_CHECKING");
    command
}

fn output(command: &mut Command) -> Run {
    Run::from(command.output().expect("fleetrmi runs"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn statuses(run: &Run) -> Vec<(String, String)> {
    run.json()["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| {
            (
                host["host"].as_str().expect("host").to_string(),
                host["status"].as_str().expect("status").to_string(),
            )
        })
        .collect()
}

fn failure(run: &Run, position: usize) -> (String, String) {
    let host = &run.json()["hosts"][position];
    (
        host["failure"]["step"].as_str().unwrap_or("").to_string(),
        host["failure"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn has_tag(hosts: &Hosts, position: usize, tag: &str) -> bool {
    hosts.images(position).values().flatten().any(|t| t == tag)
}

/// An inventory of the lent hosts by name and socket only (no address, port, user or key).
fn lab_hosts_yaml(hosts: &Hosts) -> String {
    let mut text = String::from("all:\n  hosts:\n");
    for host in &hosts.hosts {
        text.push_str(&format!(
            "    {}:\n      docker_socket: {}\n",
            host.name,
            host.socket.display()
        ));
    }
    text
}

#[test]
fn ssh_config_file_gives_address_port_user_key_and_known_hosts() {
    let hosts = lab().take(2);
    let dir = tempfile::tempdir().expect("temp");
    // Only names and sockets: HostName, Port, User, IdentityFile and UserKnownHostsFile all come
    // from the lab's ssh_config (which also has keywords fleetrmi does not use, like BatchMode).
    let inventory = write(dir.path(), "inventory.yaml", &lab_hosts_yaml(&hosts));
    let run = output(
        fleetrmi()
            .arg("-i")
            .arg(&inventory)
            .arg("-F")
            .arg(lab().dir.join("ssh_config"))
            .args(["--output", "json", "rmi", "purge:1"]),
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for (position, host) in hosts.hosts.iter().enumerate() {
        assert_eq!(run.json()["hosts"][position]["address"], host.address);
        assert!(!has_tag(&hosts, position, "purge:1"));
    }

    // Without the config the names do not resolve to the lab's addresses.
    let run = output(
        fleetrmi()
            .arg("-i")
            .arg(&inventory)
            .args(["--no-ssh-config", "--connect-timeout", "3s"])
            .args(["--output", "json", "rmi", "--dry-run", "purge:keep"]),
    );
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
}

#[test]
fn a_refused_key_before_the_accepted_one_loses_only_the_channels_sent_behind_it() {
    // The Docker socket's first channels are asked for with the login and go right behind the
    // first signed key (vendor/russh); when sshd refuses that key it refuses them too, and they
    // are opened again once the next key is accepted.
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp");
    let stranger = dir.path().join("stranger");
    keygen(&stranger, "");
    let lab_key = lab().dir.join("id_ed25519");
    let config = std::fs::read_to_string(lab().dir.join("ssh_config"))
        .expect("lab ssh_config")
        .replace(
            &format!("IdentityFile {}", lab_key.display()),
            &format!(
                "IdentityFile {}\n  IdentityFile {}",
                stranger.display(),
                lab_key.display()
            ),
        );
    let config = write(dir.path(), "ssh_config", &config);
    let inventory = write(dir.path(), "inventory.yaml", &lab_hosts_yaml(&hosts));
    let run = output(
        fleetrmi()
            .arg("-i")
            .arg(&inventory)
            .arg("-F")
            .arg(&config)
            .args(["--output", "json", "rmi", "purge:1"]),
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(!has_tag(&hosts, 0, "purge:1"));
    let report = &run.json()["hosts"][0];
    // The refused key is one round trip more than the login's 4.
    let connecting = report["round_trips"]["by_step"][0].clone();
    assert_eq!(connecting["step"], "connecting", "{report}");
    assert_eq!(connecting["round_trips"], 5, "{report}");
}

#[test]
fn hashed_known_hosts_and_revoked_keys() {
    let hosts = lab().take(2);
    let dir = tempfile::tempdir().expect("temp");
    let hashed = dir.path().join("known_hosts");
    std::fs::copy(lab().known_hosts(), &hashed).expect("copy known_hosts");
    run("ssh-keygen", &["-H", "-f", &hashed.to_string_lossy()]);
    let text = std::fs::read_to_string(&hashed).expect("read");
    assert!(text.lines().all(|line| line.starts_with("|1|")), "{text}");
    let inventory = hosts.inventory_with(&[], 0);
    let with_known_hosts = |file: &Path| {
        output(
            fleetrmi()
                .arg("-i")
                .arg(inventory.path())
                .arg("--known-hosts")
                .arg(file)
                .args(["--no-ssh-config", "--output", "json"])
                .args(["rmi", "--dry-run", "purge:1"]),
        )
    };
    let run = with_known_hosts(&hashed);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);

    // The second host's key, revoked: refused even though a line also trusts it.
    let second_key = lab_host_key(&hosts, 1);
    let revoked = write(
        dir.path(),
        "revoked",
        &format!("{text}@revoked * {second_key}\n"),
    );
    let run = with_known_hosts(&revoked);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert_eq!(
        statuses(&run),
        [
            (hosts.host(0).name.clone(), "ok".to_string()),
            (hosts.host(1).name.clone(), "unreachable".to_string())
        ]
    );
    let (step, message) = failure(&run, 1);
    assert_eq!(step, "host-key");
    assert!(message.contains("REVOKED"), "{message}");
}

/// The `type base64` host key of a lent lab host, from the lab's known_hosts.
fn lab_host_key(hosts: &Hosts, position: usize) -> String {
    let host = hosts.host(position);
    let id = format!("[{}]:{} ", host.address, host.port);
    let text = std::fs::read_to_string(lab().known_hosts()).expect("known_hosts");
    text.lines()
        .find_map(|line| line.strip_prefix(&id))
        .expect("host in known_hosts")
        .to_string()
}

#[test]
fn accept_new_learns_keys_then_strict_accepts_them_and_changes_are_refused() {
    let hosts = lab().take(2);
    let dir = tempfile::tempdir().expect("temp");
    let known_hosts = dir.path().join("new").join("known_hosts");
    let inventory = hosts.inventory_with(&[], 0);
    let with_mode = |mode: &str| {
        output(
            fleetrmi()
                .arg("-i")
                .arg(inventory.path())
                .arg("--known-hosts")
                .arg(&known_hosts)
                .args(["--no-ssh-config", "--host-key-checking", mode])
                .args(["--output", "json", "rmi", "--dry-run", "purge:1"]),
        )
    };

    let run = with_mode("strict");
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert!(failure(&run, 0).1.contains("is not in"), "{}", run.stderr);
    assert!(!known_hosts.exists());

    let run = with_mode("accept-new");
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("added host key for"),
        "stderr:\n{}",
        run.stderr
    );
    let learnt = std::fs::read_to_string(&known_hosts).expect("known_hosts written");
    assert_eq!(learnt.lines().count(), 2, "{learnt}");
    for position in 0..2 {
        assert!(learnt.contains(&lab_host_key(&hosts, position)));
    }

    let run = with_mode("strict");
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(!run.stderr.contains("added host key"));
    assert_eq!(std::fs::read_to_string(&known_hosts).expect("read"), learnt);

    // A changed key is never replaced, not even by accept-new.
    let first = hosts.host(0);
    let changed = format!(
        "[{}]:{} {IMPOSTOR_KEY}\n{}",
        first.address,
        first.port,
        learnt
            .lines()
            .filter(|line| !line.contains(&lab_host_key(&hosts, 0)))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    );
    std::fs::write(&known_hosts, &changed).expect("write");
    let run = with_mode("accept-new");
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert!(
        failure(&run, 0).1.starts_with("HOST KEY CHANGED"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&known_hosts).expect("read"),
        changed
    );

    // Off accepts it, says so on every run, and writes nothing.
    for _ in 0..2 {
        let run = with_mode("off");
        assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
        assert!(
            run.stderr.contains("warning: host key checking is OFF"),
            "stderr:\n{}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(&known_hosts).expect("read"),
        changed
    );
}

#[test]
fn passphrase_protected_key_opens_with_the_environment_variable() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp");
    let key = dir.path().join("id_secret");
    keygen(&key, "correct horse battery");
    let port = free_port();
    let sshd = Sshd::start(SshdSetup {
        listen: vec![format!("127.0.0.1:{port}")],
        authorized_keys: &key.with_extension("pub"),
        extra_config: String::new(),
        own_network: false,
        host_key: None,
    });
    let known_hosts = write(dir.path(), "known_hosts", &sshd.known_hosts_lines());
    let inventory = write(
        dir.path(),
        "inventory.yaml",
        &format!(
            "all:\n  hosts:\n    secret:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      ansible_user: root\n      ansible_ssh_private_key_file: {}\n      docker_socket: {}\n",
            key.display(),
            hosts.host(0).socket.display()
        ),
    );
    let with_passphrase = |passphrase: Option<&str>| {
        let mut command = fleetrmi();
        command
            .arg("-i")
            .arg(&inventory)
            .arg("--known-hosts")
            .arg(&known_hosts)
            .args(["--no-ssh-config", "--output", "json", "rmi", "purge:1"]);
        if let Some(passphrase) = passphrase {
            command.env("FLEETRMI_KEY_PASSPHRASE", passphrase);
        }
        output(&mut command)
    };

    let run = with_passphrase(None);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let (step, message) = failure(&run, 0);
    assert_eq!(step, "auth");
    assert!(
        message.contains("id_secret (encrypted, and no passphrase: set FLEETRMI_KEY_PASSPHRASE"),
        "{message}"
    );

    let run = with_passphrase(Some("wrong guess"));
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert!(failure(&run, 0).1.contains("does not open it"));
    assert!(!run.stdout.contains("wrong guess") && !run.stderr.contains("wrong guess"));
    assert!(has_tag(&hosts, 0, "purge:1"));

    let run = with_passphrase(Some("correct horse battery"));
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(!run.stdout.contains("correct horse") && !run.stderr.contains("correct horse"));
    assert!(!has_tag(&hosts, 0, "purge:1"));
    assert!(sshd.log().contains("Accepted publickey for root"));
}

#[test]
fn agent_key_is_used_when_no_key_file_is_given() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp");
    let socket = dir.path().join("agent.sock");
    let started = run("ssh-agent", &["-s", "-a", &socket.to_string_lossy()]);
    let agent_pid: u32 = started
        .split(';')
        .find_map(|part| part.trim().strip_prefix("SSH_AGENT_PID="))
        .and_then(|pid| pid.parse().ok())
        .expect("ssh-agent prints its pid");
    let _agent = KillOnDrop(agent_pid);
    let added = Command::new("ssh-add")
        .arg(lab().dir.join("id_ed25519"))
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add runs");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    // No key file in the inventory, and a HOME without ~/.ssh: only the agent has the key.
    let host = hosts.host(0);
    let inventory = write(
        dir.path(),
        "inventory.yaml",
        &format!(
            "all:\n  hosts:\n    {}:\n      ansible_host: {}\n      ansible_port: {}\n      ansible_user: root\n      docker_socket: {}\n",
            host.name,
            host.address,
            host.port,
            host.socket.display()
        ),
    );
    let home = tempfile::tempdir().expect("empty home");
    let with_agent = |agent: Option<&Path>| {
        let mut command = fleetrmi();
        command
            .arg("-i")
            .arg(&inventory)
            .arg("--known-hosts")
            .arg(lab().known_hosts())
            .env("HOME", home.path())
            .args(["--no-ssh-config", "--output", "json", "rmi", "purge:1"]);
        if let Some(agent) = agent {
            command.env("SSH_AUTH_SOCK", agent);
        }
        output(&mut command)
    };

    let run = with_agent(None);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let (step, message) = failure(&run, 0);
    assert_eq!(step, "auth");
    assert!(message.contains("tried: nothing"), "{message}");

    let run = with_agent(Some(&socket));
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(!has_tag(&hosts, 0, "purge:1"));
}

/// Ends a process this test started, by its pid.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

#[test]
fn user_and_host_certificates_signed_by_a_ca() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp");
    let ca = dir.path().join("ca");
    keygen(&ca, "");
    let key = dir.path().join("id_user");
    keygen(&key, "");
    let ca_path = ca.to_string_lossy().to_string();
    // A user certificate for root beside the key (`id_user-cert.pub`); the key itself is not
    // authorized anywhere.
    run(
        "ssh-keygen",
        &[
            "-q",
            "-s",
            &ca_path,
            "-I",
            "test-user",
            "-n",
            "root",
            &format!("{}.pub", key.display()),
        ],
    );
    let nothing = write(dir.path(), "authorized_keys", "");
    // The host key gets a host certificate from the same CA, for the name fleetrmi connects to.
    let host_key = dir.path().join("host_key");
    keygen(&host_key, "");
    run(
        "ssh-keygen",
        &[
            "-q",
            "-s",
            &ca_path,
            "-I",
            "test-host",
            "-h",
            "-n",
            "127.0.0.1",
            &format!("{}.pub", host_key.display()),
        ],
    );
    let port = free_port();
    let sshd = Sshd::start(SshdSetup {
        listen: vec![format!("127.0.0.1:{port}")],
        authorized_keys: &nothing,
        extra_config: format!(
            "TrustedUserCAKeys {ca_path}.pub\nHostCertificate {}-cert.pub\n",
            host_key.display()
        ),
        own_network: false,
        host_key: Some(&host_key),
    });
    // Only the CA is known: no line for the host's own key.
    let known_hosts = write(
        dir.path(),
        "known_hosts",
        &format!(
            "@cert-authority [127.0.0.1]:* {}\n",
            public_key(&PathBuf::from(format!("{ca_path}.pub")))
        ),
    );
    let inventory = write(
        dir.path(),
        "inventory.yaml",
        &format!(
            "all:\n  hosts:\n    certified:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      ansible_user: root\n      ansible_ssh_private_key_file: {}\n      docker_socket: {}\n",
            key.display(),
            hosts.host(0).socket.display()
        ),
    );
    let run = output(
        fleetrmi()
            .arg("-i")
            .arg(&inventory)
            .arg("--known-hosts")
            .arg(&known_hosts)
            .args(["--no-ssh-config", "--output", "json", "rmi", "purge:1"]),
    );
    assert_eq!(
        run.code,
        0,
        "stderr:\n{}\nsshd:\n{}",
        run.stderr,
        sshd.log()
    );
    assert!(!has_tag(&hosts, 0, "purge:1"));
    assert!(sshd.log().contains("Accepted publickey for root"));
    assert!(sshd.log().contains("ID test-user"), "{}", sshd.log());
}

/// A target sshd inside its own network namespace (listening on `addresses`, port 2222), and
/// a jump host inside the same namespace reached on 127.0.0.1.
fn hidden_hosts(addresses: &[&str]) -> (Sshd, NamespaceJumpHost) {
    let authorized = lab().dir.join("id_ed25519.pub");
    let target = Sshd::start(SshdSetup {
        listen: addresses.iter().map(|a| format!("{a}:2222")).collect(),
        authorized_keys: &authorized,
        extra_config: String::new(),
        own_network: true,
        host_key: None,
    });
    let jump = NamespaceJumpHost::start(&target, &authorized);
    (target, jump)
}

#[test]
fn hosts_reachable_only_through_a_jump_host_share_one_connection_to_it() {
    let hosts = lab().take(2);
    let (target, jump) = hidden_hosts(&["127.0.0.2", "127.0.0.3"]);
    let dir = tempfile::tempdir().expect("temp");
    let known_hosts = write(
        dir.path(),
        "known_hosts",
        &format!("{}{}", jump.known_hosts_line(), target.known_hosts_lines()),
    );
    let key = lab().dir.join("id_ed25519");
    // t1 names its jump host with the `jump` variable, t2 with ssh's -J in
    // ansible_ssh_common_args: the same jump host, so one connection serves both.
    let inventory_text = |jump_vars: [&str; 2]| {
        format!(
            "all:\n  vars:\n    ansible_user: root\n    ansible_port: 2222\n    ansible_ssh_private_key_file: {key}\n  hosts:\n    t1:\n      ansible_host: 127.0.0.2\n      docker_socket: {s1}\n{j1}    t2:\n      ansible_host: 127.0.0.3\n      docker_socket: {s2}\n{j2}",
            key = key.display(),
            s1 = hosts.host(0).socket.display(),
            s2 = hosts.host(1).socket.display(),
            j1 = jump_vars[0],
            j2 = jump_vars[1],
        )
    };
    let direct = write(dir.path(), "direct.yaml", &inventory_text(["", ""]));
    let jumped = write(
        dir.path(),
        "jumped.yaml",
        &inventory_text([
            &format!("      jump: root@127.0.0.1:{}\n", jump.port),
            &format!(
                "      ansible_ssh_common_args: '-o ConnectTimeout=5 -J root@127.0.0.1:{}'\n",
                jump.port
            ),
        ]),
    );
    let with_inventory = |inventory: &Path| {
        output(
            fleetrmi()
                .arg("-i")
                .arg(inventory)
                .arg("--known-hosts")
                .arg(&known_hosts)
                .args(["--no-ssh-config", "--connect-timeout", "5s"])
                .args(["--output", "json", "rmi", "purge:1"]),
        )
    };

    // Straight from the coordinator, the targets cannot be reached at all.
    let run = with_inventory(&direct);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    assert_eq!(failure(&run, 0).0, "connect");
    assert_eq!(jump.connections(), 0);

    let run = with_inventory(&jumped);
    assert_eq!(
        run.code,
        0,
        "stderr:\n{}\ntarget sshd:\n{}\njump sshd:\n{}",
        run.stderr,
        target.log(),
        jump.log()
    );
    assert_eq!(statuses(&run).len(), 2);
    assert!(!has_tag(&hosts, 0, "purge:1"));
    assert!(!has_tag(&hosts, 1, "purge:1"));
    assert_eq!(
        jump.connections(),
        1,
        "one connection to the jump host, shared"
    );
}

#[test]
fn ssh_config_proxy_jump_chain_with_hashed_known_hosts() {
    let hosts = lab().take(2);
    // 127.0.0.4 plays a second jump host inside the namespace: bastion → inner → targets.
    let (target, jump) = hidden_hosts(&["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    let dir = tempfile::tempdir().expect("temp");
    let known_hosts = write(
        dir.path(),
        "known_hosts",
        &format!("{}{}", jump.known_hosts_line(), target.known_hosts_lines()),
    );
    run("ssh-keygen", &["-H", "-f", &known_hosts.to_string_lossy()]);
    let key = lab().dir.join("id_ed25519");
    let config = write(
        dir.path(),
        "ssh_config",
        &format!(
            "Host bastion\n  HostName 127.0.0.1\n  Port {port}\n\
             Host inner\n  HostName 127.0.0.4\n  ProxyJump bastion\n\
             Host t1\n  HostName 127.0.0.2\n\
             Host t2\n  HostName 127.0.0.3\n\
             Host t? !bastion\n  ProxyJump inner\n\
             Host *\n  User root\n  Port 2222\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {kh}\n  StrictHostKeyChecking yes\n",
            port = jump.port,
            key = key.display(),
            kh = known_hosts.display(),
        ),
    );
    let inventory = write(
        dir.path(),
        "inventory.yaml",
        &lab_hosts_yaml_named(&hosts, ["t1", "t2"]),
    );
    let run = output(
        fleetrmi()
            .arg("-i")
            .arg(&inventory)
            .arg("-F")
            .arg(&config)
            .args([
                "--connect-timeout",
                "5s",
                "--output",
                "json",
                "rmi",
                "purge:1",
            ]),
    );
    assert_eq!(
        run.code,
        0,
        "stderr:\n{}\ntarget sshd:\n{}\njump sshd:\n{}",
        run.stderr,
        target.log(),
        jump.log()
    );
    assert!(!has_tag(&hosts, 0, "purge:1"));
    assert!(!has_tag(&hosts, 1, "purge:1"));
    assert_eq!(jump.connections(), 1);
    // Two targets and one "inner" hop, all through the same sshd in the namespace.
    assert_eq!(
        target.log().matches("Accepted publickey for root").count(),
        3
    );
}

/// An inventory naming the lent hosts' sockets under other names (no addresses).
fn lab_hosts_yaml_named(hosts: &Hosts, names: [&str; 2]) -> String {
    let mut text = String::from("all:\n  hosts:\n");
    for (host, name) in hosts.hosts.iter().zip(names) {
        text.push_str(&format!(
            "    {name}:\n      docker_socket: {}\n",
            host.socket.display()
        ));
    }
    text
}
