//! ssh_config read as OpenSSH reads it.

use std::path::Path;
use std::time::Duration;

use super::parse::parse_time;
use super::types::ConfigScope;
use super::*;

fn config(text: &str) -> SshConfig {
    SshConfig::from_text(Path::new("/cfg"), text, Path::new("/home/tester")).expect("parses")
}

#[test]
fn first_value_obtained_wins_across_blocks() {
    let cfg = config(
        "Host web01\n  User deploy\n  Port 2201\n\nHost *\n  User nobody\n  Port 22\n  ConnectTimeout 7\n",
    );
    let web = cfg.query("web01", "me");
    assert_eq!(web.user.expect("user").value, "deploy");
    assert_eq!(web.port.as_ref().expect("port").value, 2201);
    assert_eq!(web.port.expect("port").origin.line, 3);
    assert_eq!(
        web.connect_timeout.expect("timeout").value,
        Duration::from_secs(7)
    );
    let other = cfg.query("db01", "me");
    assert_eq!(other.user.expect("user").value, "nobody");
}

#[test]
fn lines_before_any_host_apply_to_every_host() {
    let cfg = config("User early\nHost web\n  User late\n");
    assert_eq!(cfg.query("web", "me").user.expect("user").value, "early");
}

#[test]
fn host_line_with_several_patterns_and_a_negation() {
    let cfg = config("Host *.prod !bastion.prod db?\n  ProxyJump bastion.prod\n");
    assert!(cfg.query("web.prod", "me").proxy_jump.is_some());
    assert!(cfg.query("db1", "me").proxy_jump.is_some());
    assert!(cfg.query("bastion.prod", "me").proxy_jump.is_none());
    assert!(cfg.query("db10", "me").proxy_jump.is_none());
}

#[test]
fn identity_files_accumulate_in_order_without_repeats() {
    let cfg = config(
        "Host web\n  IdentityFile ~/.ssh/web\nHost *\n  IdentityFile ~/.ssh/all\n  IdentityFile ~/.ssh/web\n",
    );
    let files: Vec<String> = cfg
        .query("web", "me")
        .identity_files
        .into_iter()
        .map(|value| value.value)
        .collect();
    assert_eq!(files, ["~/.ssh/web", "~/.ssh/all"]);
}

#[test]
fn equals_sign_quotes_and_case_insensitive_keywords() {
    let cfg = config(
        "HOST web\n  hostname=10.0.0.5\n  IdentityFile \"/keys/my key\"\n  UserKnownHostsFile = /a /b\n",
    );
    let web = cfg.query("web", "me");
    assert_eq!(web.hostname.expect("hostname").value, "10.0.0.5");
    assert_eq!(web.identity_files[0].value, "/keys/my key");
    assert_eq!(
        web.user_known_hosts_files.expect("files").value,
        ["/a", "/b"]
    );
}

#[test]
fn hostname_expands_percent_h() {
    let cfg = config("Host *.lab\n  HostName %h.internal.example\n");
    assert_eq!(
        cfg.query("h1.lab", "me").hostname.expect("hostname").value,
        "h1.lab.internal.example"
    );
}

#[test]
fn strict_host_key_checking_values() {
    let cfg = config(
        "Host a\n StrictHostKeyChecking accept-new\nHost b\n StrictHostKeyChecking no\nHost c\n StrictHostKeyChecking yes\n",
    );
    let mode = |host: &str| {
        cfg.query(host, "me")
            .strict_host_key_checking
            .expect("set")
            .value
    };
    assert_eq!(mode("a"), StrictHostKeyChecking::AcceptNew);
    assert_eq!(mode("b"), StrictHostKeyChecking::No);
    assert_eq!(mode("c"), StrictHostKeyChecking::Yes);
}

#[test]
fn bad_values_name_the_file_and_line() {
    let error = SshConfig::from_text(
        Path::new("/cfg"),
        "Host a\n  Port http\n",
        Path::new("/home/tester"),
    )
    .expect_err("bad port");
    assert_eq!(
        error.to_string(),
        "ssh config /cfg line 2: bad port \"http\""
    );
    let error = SshConfig::from_text(Path::new("/cfg"), "Host a\n  User \"x\n", Path::new("/h"))
        .expect_err("bad quote");
    assert!(error.to_string().contains("unterminated"));
}

#[test]
fn unknown_keywords_are_read_past() {
    let cfg = config("Host a\n  BatchMode yes\n  LogLevel ERROR\n  User u\n");
    assert_eq!(cfg.query("a", "me").user.expect("user").value, "u");
}

#[test]
fn proxy_jump_and_proxy_command_share_a_slot() {
    let cfg = config("Host a\n  ProxyCommand ssh -W %h:%p b\n  ProxyJump c\n");
    let a = cfg.query("a", "me");
    assert_eq!(a.proxy_command.expect("command").value, "ssh -W %h:%p b");
    assert!(a.proxy_jump.is_none());
}

#[test]
fn match_host_sees_the_hostname_set_so_far() {
    let cfg = config(
        "Host web\n  HostName 10.1.2.3\nMatch host 10.1.*\n  User tenant\nMatch originalhost web user tenant\n  Port 2022\n",
    );
    let web = cfg.query("web", "me");
    assert_eq!(web.user.expect("user").value, "tenant");
    assert_eq!(web.port.expect("port").value, 2022);
}

#[test]
fn match_all_negation_and_unsupported_criteria() {
    let cfg = config(
        "Match !host db*\n  User notdb\nMatch exec \"true\"\n  Port 1\nMatch all\n  Port 2\n",
    );
    let web = cfg.query("web", "me");
    assert_eq!(web.user.expect("user").value, "notdb");
    assert_eq!(web.port.expect("port").value, 2);
    assert_eq!(web.unsupported_match[0].value, "Match exec");
    assert!(cfg.query("db1", "me").user.is_none());
}

#[test]
fn include_reads_globbed_files_in_order_relative_to_dot_ssh() {
    let home = tempfile::tempdir().expect("temp");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).expect("dirs");
    std::fs::write(ssh.join("conf.d/20-b.conf"), "Host web\n  Port 2020\n").expect("write");
    std::fs::write(
        ssh.join("conf.d/10-a.conf"),
        "Host web\n  User from-a\nHost other\n  Port 1\n",
    )
    .expect("write");
    let main = ssh.join("config");
    std::fs::write(&main, "Include conf.d/*.conf\nHost web\n  User late\n").expect("write");
    let cfg = SshConfig::load_file(&main, Some(home.path())).expect("loads");
    let web = cfg.query("web", "me");
    assert_eq!(web.user.as_ref().expect("user").value, "from-a");
    assert_eq!(web.port.as_ref().expect("port").value, 2020);
    assert!(
        web.port
            .expect("port")
            .origin
            .file
            .ends_with("conf.d/20-b.conf")
    );
}

#[test]
fn include_inside_a_host_block_applies_only_to_that_host() {
    let home = tempfile::tempdir().expect("temp");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).expect("dirs");
    std::fs::write(ssh.join("web.conf"), "User included\n").expect("write");
    let main = ssh.join("config");
    std::fs::write(&main, "Host web\n  Include web.conf\nHost *\n  Port 3\n").expect("write");
    let cfg = SshConfig::load_file(&main, Some(home.path())).expect("loads");
    assert_eq!(cfg.query("web", "me").user.expect("user").value, "included");
    let db = cfg.query("db", "me");
    assert!(db.user.is_none());
    assert_eq!(db.port.expect("port").value, 3);
}

#[test]
fn later_files_fill_only_what_earlier_ones_left_unset() {
    let home = tempfile::tempdir().expect("temp");
    let user = home.path().join("user");
    let system = home.path().join("system");
    std::fs::write(&user, "Host web\n  User mine\n").expect("write");
    std::fs::write(&system, "Host *\n  User theirs\n  Port 2200\n").expect("write");
    let mut cfg = SshConfig::load_file(&user, Some(home.path())).expect("loads");
    cfg.add_file(&system, ConfigScope::System, home.path())
        .expect("loads");
    let web = cfg.query("web", "me");
    assert_eq!(web.user.expect("user").value, "mine");
    assert_eq!(web.port.expect("port").value, 2200);
}

#[test]
fn revoked_host_keys_is_read_and_the_first_value_wins() {
    let cfg = config(
        "Host web\n  RevokedHostKeys ~/.ssh/revoked\nHost *\n  RevokedHostKeys /etc/ssh/revoked\n",
    );
    let web = cfg.query("web", "me").revoked_host_keys.expect("set");
    assert_eq!(web.value, "~/.ssh/revoked");
    assert_eq!(web.origin.line, 2);
    assert_eq!(
        cfg.query("db", "me").revoked_host_keys.expect("set").value,
        "/etc/ssh/revoked"
    );
}

#[test]
fn host_key_alias_and_known_hosts_command_are_kept_to_be_reported() {
    let cfg = config(
        "Host web\n  HostKeyAlias other\n  KnownHostsCommand /usr/bin/keys %H\nHost db\n  HostKeyAlias x\n",
    );
    let found = cfg.query("web", "me").unsupported_options;
    let texts: Vec<&str> = found.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(
        texts,
        ["HostKeyAlias other", "KnownHostsCommand /usr/bin/keys %H"]
    );
    assert_eq!(found[1].origin.line, 3);
    assert!(cfg.query("other", "me").unsupported_options.is_empty());
}

#[test]
fn connect_timeout_takes_openssh_time_formats() {
    assert_eq!(parse_time("30"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_time("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_time("2H"), Ok(Duration::from_secs(7200)));
    assert!(parse_time("soon").is_err());
}

#[test]
fn split_args_handles_quotes_and_escapes() {
    assert_eq!(
        split_args(r#"a "b c" 'd e' f\ g"#).expect("splits"),
        ["a", "b c", "d e", "f g"]
    );
    assert_eq!(split_args("").expect("splits"), Vec::<String>::new());
    assert_eq!(split_args("\"\"").expect("splits"), [""]);
}
