//! `--retry-file` and `--metrics` that cannot be written: refused before any host is touched,
//! or, when the write fails at the end, an error of the run that leaves no older file behind.

use std::net::TcpListener;
use std::time::Duration;

use crate::harness::{Run, accept_within, lab};

#[test]
fn outputs_that_cannot_be_written_are_refused_before_any_host() {
    let hosts = lab().take(1);
    let directory = tempfile::tempdir().expect("temp dir");
    let missing = directory.path().join("gone").join("retry");
    let logins = hosts.ssh_logins(0);
    for (flag, path, cause) in [
        (
            "--retry-file",
            missing.to_string_lossy().to_string(),
            "No such file or directory",
        ),
        (
            "--metrics",
            directory.path().to_string_lossy().to_string(),
            "it is a directory",
        ),
    ] {
        let run = hosts.fleetrmi(&[flag, &path, "rmi", "purge:1"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("error: {flag} {path}: ")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(cause), "{}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    }
    let run = hosts.fleetrmi(&["--retry-file", &missing.to_string_lossy(), "ping"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(hosts.ssh_logins(0), logins, "a host was contacted");
    assert!(hosts.has_tag(0, "purge:1"));
}

#[test]
fn a_retry_file_that_fails_at_the_end_is_an_error_and_the_older_one_is_removed() {
    let hosts = lab().take(1);
    // A host that accepts TCP and never says a word holds the run while the write is blocked.
    let silent = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = silent.local_addr().expect("address").port();
    let inventory = hosts.inventory_with(&[("silent", "127.0.0.1", port)], 1);
    let directory = tempfile::tempdir().expect("temp dir");
    let retry = directory.path().join("retry");
    std::fs::write(&retry, "# an older run's\nsomeone-else\n").expect("older retry file");
    let child = hosts
        .command(
            inventory.path(),
            &[
                "--forks",
                "1",
                "--connect-timeout",
                "5s",
                "--retry-file",
                &retry.to_string_lossy(),
                "--output",
                "json",
                "rmi",
                "purge:1",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let accepted = accept_within(&silent, Duration::from_secs(30));
    assert!(accepted.is_some(), "fleetrmi never reached the silent host");
    // A non-empty directory where the new file is first written makes the write fail.
    let blocker = directory.path().join(format!(".retry.{}.tmp", child.id()));
    std::fs::create_dir(&blocker).expect("mkdir");
    std::fs::write(blocker.join("in-the-way"), "").expect("write");
    let run = Run::from(child.wait_with_output().expect("wait"));
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: cannot write the retry file {}",
            retry.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("was removed"), "{}", run.stderr);
    assert!(!retry.exists(), "the older retry file was kept");
    // The report itself is whole.
    let json = run.json();
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert_eq!(json["hosts"][1]["status"], "unreachable");
    assert!(!hosts.has_tag(0, "purge:1"));
}

#[test]
fn ping_writes_the_unreachable_hosts_to_the_retry_file() {
    let hosts = lab().take(2);
    hosts.stop("sshd", 1);
    let directory = tempfile::tempdir().expect("temp dir");
    let retry = directory.path().join("retry");
    std::fs::write(&retry, "stale\n").expect("older retry file");
    let run = hosts.fleetrmi(&["--retry-file", &retry.to_string_lossy(), "ping"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let written = std::fs::read_to_string(&retry).expect("retry file");
    assert_eq!(
        written,
        format!(
            "# fleetrmi retry file: rerun these hosts with -l @FILE\n# unreachable\n{}\n",
            hosts.host(1).name
        )
    );
}
