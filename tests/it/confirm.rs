//! A fleet-wide `rmi --force` asks once on a terminal (listing hosts and images) unless `--yes`;
//! without a terminal it never asks and goes ahead, as before. The terminal is a real pty
//! (`script`), so the program sees what a person's shell would give it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::{Hosts, lab};

/// Runs fleetrmi on the lent hosts inside a pty, typing `answer` into it; returns the exit code
/// and everything the terminal showed.
fn at_terminal(hosts: &Hosts, args: &[&str], answer: &str) -> (i32, String) {
    let mut argv = vec![
        env!("CARGO_BIN_EXE_fleetrmi").to_string(),
        "-i".to_string(),
        lab().inventory().to_string_lossy().to_string(),
        "--known-hosts".to_string(),
        lab().known_hosts().to_string_lossy().to_string(),
        "--no-ssh-config".to_string(),
        "-l".to_string(),
        hosts.limit(),
    ];
    argv.extend(args.iter().map(|arg| arg.to_string()));
    let command_line: Vec<String> = argv
        .iter()
        .map(|arg| format!("'{}'", arg.replace('\'', r"'\''")))
        .collect();
    let mut script = Command::new("script");
    script
        .args(["-q", "-e", "-c", &command_line.join(" "), "/dev/null"])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::harness::clear_settings_from_environment(&mut script);
    let mut child = script.spawn().expect("script runs");
    // Keep stdin open until the program ends: `script` would pass its end on as an EOF.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(answer.as_bytes()).expect("answer");
    let output = child.wait_with_output().expect("script ends");
    drop(stdin);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

fn has_purge(hosts: &Hosts, position: usize) -> bool {
    hosts
        .images(position)
        .values()
        .flatten()
        .any(|tag| tag == "purge:1")
}

#[test]
fn confirm_forced_rmi_on_several_hosts_asks_once_and_no_removes_nothing() {
    let hosts = lab().take(2);
    let (code, screen) = at_terminal(&hosts, &["rmi", "-f", "purge:1"], "n\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen.matches("Are you sure").count(), 1, "{screen}");
    assert!(
        screen.contains("rmi --force will remove, on 2 hosts"),
        "{screen}"
    );
    for host in &hosts.hosts {
        assert!(screen.contains(&host.name), "{screen}");
    }
    assert!(screen.contains("purge:1"), "{screen}");
    assert!(
        screen.contains("rmi cancelled: nothing was removed"),
        "{screen}"
    );
    assert!(has_purge(&hosts, 0) && has_purge(&hosts, 1));
}

#[test]
fn confirm_yes_answer_removes_on_every_host() {
    let hosts = lab().take(2);
    let (code, screen) = at_terminal(&hosts, &["rmi", "-f", "purge:1"], "y\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen.matches("Are you sure").count(), 1, "{screen}");
    assert!(!has_purge(&hosts, 0) && !has_purge(&hosts, 1));
}

#[test]
fn confirm_yes_flag_or_dry_run_never_asks() {
    let hosts = lab().take(2);
    let (code, screen) = at_terminal(&hosts, &["rmi", "-f", "--dry-run", "purge:1"], "");
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("Are you sure"), "{screen}");
    let (code, screen) = at_terminal(&hosts, &["rmi", "-f", "--yes", "purge:1"], "");
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("Are you sure"), "{screen}");
    assert!(!has_purge(&hosts, 0) && !has_purge(&hosts, 1));
}

#[test]
fn confirm_is_never_asked_without_a_terminal() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["rmi", "-f", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("Are you sure"), "{}", run.stderr);
    assert!(!has_purge(&hosts, 0) && !has_purge(&hosts, 1));
}
