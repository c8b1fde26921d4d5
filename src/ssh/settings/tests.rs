//! How a host's SSH settings are resolved: precedence, sources, jump hosts, refusals.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::layers::inventory_var;
use super::types::{DEFAULT_CONNECT_TIMEOUT, sourced};
use super::*;
use crate::ssh::config::{ConfigOrigin, SshConfig};
use crate::ssh::host_key::HostKeyPolicy;

fn local() -> LocalEnv {
    LocalEnv {
        home: Some(PathBuf::from("/home/me")),
        user: "me".to_string(),
    }
}

fn config(text: &str) -> SshConfig {
    SshConfig::from_text(Path::new("/cfg"), text, Path::new("/home/me")).expect("parses")
}

fn inventory(name: &str) -> InventorySsh {
    InventorySsh {
        name: name.to_string(),
        ..InventorySsh::default()
    }
}

fn at(line: usize) -> SettingSource {
    SettingSource::SshConfig(ConfigOrigin {
        file: PathBuf::from("/cfg"),
        line,
    })
}

#[test]
fn ansible_configuration_sits_between_the_inventory_and_ssh_config() {
    let cfg =
        config("Host *\n  User fromsshconfig\n  ConnectTimeout 3\n  StrictHostKeyChecking yes\n");
    let ansible = AnsibleSsh {
        user: Some(("deploy".to_string(), "/p/ansible.cfg:3".to_string())),
        identity_file: Some((PathBuf::from("/keys/cfg"), "/p/ansible.cfg:4".to_string())),
        connect_timeout: Some((Duration::from_secs(17), "/p/ansible.cfg:5".to_string())),
        host_key_checking: Some((false, "/p/ansible.cfg:6".to_string())),
        ssh_args: vec![(
            "environment variable ANSIBLE_SSH_ARGS".to_string(),
            "-o Port=2202".to_string(),
        )],
    };
    let host = InventorySsh {
        ansible: ansible.clone(),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    let ansible_at = |origin: &str| SettingSource::Ansible(origin.to_string());
    assert_eq!(
        resolved.user,
        sourced("deploy".to_string(), ansible_at("/p/ansible.cfg:3"))
    );
    assert_eq!(resolved.identity_files[0].value, PathBuf::from("/keys/cfg"));
    assert_eq!(resolved.connect_timeout.value, Duration::from_secs(17));
    assert_eq!(
        resolved.host_key_checking,
        sourced(HostKeyPolicy::Off, ansible_at("/p/ansible.cfg:6"))
    );
    assert_eq!(
        resolved.port,
        sourced(2202, ansible_at("environment variable ANSIBLE_SSH_ARGS"))
    );
    assert_eq!(resolved.user.source.to_string(), "/p/ansible.cfg:3");

    // The inventory's own variables and the command line still win.
    let host = InventorySsh {
        user: Some("ci".to_string()),
        connect_timeout: Some(Duration::from_secs(5)),
        ansible,
        ..inventory("web")
    };
    let cli = CliSsh {
        host_key_checking: Some(HostKeyPolicy::Strict),
        ..CliSsh::default()
    };
    let resolved = resolve_ssh_settings(&host, &cfg, &cli, &local()).expect("resolves");
    assert_eq!(resolved.user.value, "ci");
    assert_eq!(resolved.connect_timeout.value, Duration::from_secs(5));
    assert_eq!(resolved.host_key_checking.value, HostKeyPolicy::Strict);
}

#[test]
fn defaults_when_nothing_is_set() {
    let resolved = resolve_ssh_settings(
        &inventory("web"),
        &SshConfig::empty(),
        &CliSsh::default(),
        &local(),
    )
    .expect("resolves");
    assert_eq!(
        resolved.hostname,
        sourced("web".to_string(), inventory_var("host name"))
    );
    assert_eq!(resolved.port, sourced(22, SettingSource::Default));
    assert_eq!(
        resolved.user,
        sourced("me".to_string(), SettingSource::Default)
    );
    assert_eq!(
        resolved.identity_files[2].value,
        PathBuf::from("/home/me/.ssh/id_ed25519")
    );
    assert_eq!(
        resolved.known_hosts_files.value[0],
        PathBuf::from("/home/me/.ssh/known_hosts")
    );
    assert_eq!(resolved.host_key_checking.value, HostKeyPolicy::Strict);
    assert_eq!(resolved.connect_timeout.value, DEFAULT_CONNECT_TIMEOUT);
    assert!(resolved.jumps.is_empty());
    assert!(resolved.to_target().auth.default_identities);
}

#[test]
fn ssh_config_fills_what_the_inventory_leaves_unset() {
    let cfg = config(
        "Host web\n  HostName 10.0.0.5\n  Port 2222\n  User deploy\n  IdentityFile ~/.ssh/%r_%h\n  IdentitiesOnly yes\n  UserKnownHostsFile ~/kh /etc/kh\n  StrictHostKeyChecking accept-new\n  ConnectTimeout 3\n",
    );
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    assert_eq!(resolved.hostname, sourced("10.0.0.5".to_string(), at(2)));
    assert_eq!(resolved.port, sourced(2222, at(3)));
    assert_eq!(resolved.user, sourced("deploy".to_string(), at(4)));
    assert_eq!(
        resolved.identity_files,
        [sourced(
            PathBuf::from("/home/me/.ssh/deploy_10.0.0.5"),
            at(5)
        )]
    );
    assert_eq!(resolved.identities_only, sourced(true, at(6)));
    assert_eq!(
        resolved.known_hosts_files.value,
        [PathBuf::from("/home/me/kh"), PathBuf::from("/etc/kh")]
    );
    assert_eq!(
        resolved.host_key_checking,
        sourced(HostKeyPolicy::AcceptNew, at(8))
    );
    assert_eq!(resolved.connect_timeout.value, Duration::from_secs(3));
    assert!(!resolved.to_target().auth.default_identities);
}

#[test]
fn inventory_wins_over_ssh_config_and_the_command_line_over_both() {
    let cfg = config(
        "Host 10.0.0.5\n  HostName elsewhere\n  Port 2222\n  User deploy\n  IdentityFile ~/.ssh/cfg\n  StrictHostKeyChecking no\n  ConnectTimeout 3\n",
    );
    let host = InventorySsh {
        address: Some("10.0.0.5".to_string()),
        port: Some(2200),
        user: Some("ci".to_string()),
        identity_file: Some(PathBuf::from("/keys/inv")),
        ssh_args: vec![(
            "ansible_ssh_common_args".to_string(),
            "-o StrictHostKeyChecking=yes".to_string(),
        )],
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert_eq!(resolved.lookup, "10.0.0.5");
    assert_eq!(resolved.hostname.value, "10.0.0.5");
    assert_eq!(resolved.hostname.source, inventory_var("ansible_host"));
    assert_eq!(resolved.port, sourced(2200, inventory_var("ansible_port")));
    assert_eq!(resolved.user.value, "ci");
    let files: Vec<&Path> = resolved
        .identity_files
        .iter()
        .map(|f| f.value.as_path())
        .collect();
    assert_eq!(
        files,
        [Path::new("/keys/inv"), Path::new("/home/me/.ssh/cfg")]
    );
    assert_eq!(
        resolved.host_key_checking,
        sourced(
            HostKeyPolicy::Strict,
            inventory_var("ansible_ssh_common_args")
        )
    );

    let cli = CliSsh {
        known_hosts: Some(PathBuf::from("/tmp/kh")),
        host_key_checking: Some(HostKeyPolicy::AcceptNew),
        connect_timeout: Some(Duration::from_secs(1)),
    };
    let resolved = resolve_ssh_settings(&host, &cfg, &cli, &local()).expect("resolves");
    assert_eq!(
        resolved.host_key_checking.source,
        SettingSource::CommandLine("--host-key-checking")
    );
    assert_eq!(resolved.known_hosts_files.value, [PathBuf::from("/tmp/kh")]);
    assert_eq!(resolved.connect_timeout.value, Duration::from_secs(1));
}

#[test]
fn jump_variable_gives_a_chain_resolved_through_ssh_config() {
    let cfg = config(
        "Host bastion\n  HostName 192.0.2.1\n  User ops\n  IdentityFile ~/.ssh/ops\nHost inner\n  Port 2022\n",
    );
    let host = InventorySsh {
        jump: Some("bastion,root@inner".to_string()),
        identity_file: Some(PathBuf::from("/keys/inv")),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert_eq!(resolved.jump_source, Some(inventory_var("jump")));
    let bastion = &resolved.jumps[0];
    assert_eq!(bastion.hostname.value, "192.0.2.1");
    assert_eq!(bastion.user.value, "ops");
    assert_eq!(bastion.port.value, 22);
    assert_eq!(
        bastion.identity_files[0].value,
        PathBuf::from("/home/me/.ssh/ops")
    );
    let inner = &resolved.jumps[1];
    assert_eq!(inner.hostname.value, "inner");
    assert_eq!(
        inner.user,
        sourced("root".to_string(), inventory_var("jump"))
    );
    assert_eq!(inner.port, sourced(2022, at(6)));
    // No IdentityFile of its own: the target's inventory key is tried.
    assert_eq!(inner.identity_files[0].value, PathBuf::from("/keys/inv"));
    let target = resolved.to_target();
    assert_eq!(target.jumps.len(), 2);
    assert_eq!(target.jumps[1].address, "inner");
}

#[test]
fn proxy_jump_of_the_first_hop_is_followed_and_loops_are_refused() {
    let cfg = config(
        "Host web\n  ProxyJump inner\nHost inner\n  ProxyJump bastion\nHost loop1\n  ProxyJump loop2\nHost loop2\n  ProxyJump loop1\n",
    );
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    let names: Vec<&str> = resolved.jumps.iter().map(|hop| hop.name.as_str()).collect();
    assert_eq!(names, ["bastion", "inner"]);
    assert_eq!(resolved.jump_source, Some(at(2)));

    let host = InventorySsh {
        jump: Some("loop1".to_string()),
        ..inventory("web")
    };
    let error = resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect_err("loop");
    assert!(error.to_string().contains("loop"), "{error}");
}

#[test]
fn common_args_jump_and_proxy_jump_none() {
    let cfg = config("Host *\n  ProxyJump bastion\n");
    let host = InventorySsh {
        ssh_args: vec![(
            "ansible_ssh_common_args".to_string(),
            "-J ops@gw:2200".to_string(),
        )],
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    // gw matches `Host *` too, so it is reached through bastion, whose own ProxyJump
    // (itself) is ignored.
    let names: Vec<&str> = resolved.jumps.iter().map(|hop| hop.name.as_str()).collect();
    assert_eq!(names, ["bastion", "ops@gw:2200"]);
    assert_eq!(resolved.jumps[1].port.value, 2200);
    assert_eq!(
        resolved.jump_source,
        Some(inventory_var("ansible_ssh_common_args"))
    );

    let host = InventorySsh {
        jump: Some("none".to_string()),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert!(resolved.jumps.is_empty());
}

#[test]
fn bastion_proxy_command_in_common_args_becomes_a_jump_host() {
    let host = InventorySsh {
        ssh_args: vec![(
            "ansible_ssh_common_args".to_string(),
            r#"-o ProxyCommand="ssh -W %h:%p -q ops@gw""#.to_string(),
        )],
        ..inventory("web")
    };
    let resolved = resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
        .expect("resolves");
    assert_eq!(resolved.jumps.len(), 1);
    assert_eq!(resolved.jumps[0].user.value, "ops");
    assert_eq!(resolved.jumps[0].hostname.value, "gw");
}

#[test]
fn proxy_command_is_refused_with_a_hint() {
    let cfg = config("Host web\n  ProxyCommand nc %h %p\n");
    let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect_err("refused");
    let text = error.to_string();
    assert!(
        text.starts_with("web: ProxyCommand (ssh config (/cfg:2))"),
        "{text}"
    );
    assert!(error.hint.expect("a hint").starts_with("use ProxyJump"));
}

#[test]
fn unsupported_tokens_and_bad_common_args_are_errors() {
    let cfg = config("Host web\n  IdentityFile ~/.ssh/%C\n");
    assert!(resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local()).is_err());
    let host = InventorySsh {
        ssh_args: vec![("ansible_ssh_extra_args".to_string(), "-p".to_string())],
        ..inventory("web")
    };
    let error = resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
        .expect_err("bad args");
    assert!(error.to_string().contains("ansible_ssh_extra_args"));
}

#[test]
fn known_hosts_none_means_no_file_in_any_case() {
    let cfg = config("Host web\n  UserKnownHostsFile none\n  GlobalKnownHostsFile NONE\n");
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    assert!(resolved.known_hosts_files.value.is_empty());
    assert!(resolved.global_known_hosts_files.value.is_empty());
    assert_eq!(resolved.known_hosts_files.source, at(2));
    let target = resolved.to_target();
    assert!(target.host_keys.user_files.is_empty());
    assert!(target.host_keys.global_files.is_empty());

    let host = InventorySsh {
        ssh_args: vec![(
            "ansible_ssh_common_args".to_string(),
            "-o UserKnownHostsFile=None".to_string(),
        )],
        ..inventory("web")
    };
    let resolved = resolve_ssh_settings(&host, &SshConfig::empty(), &CliSsh::default(), &local())
        .expect("resolves");
    assert!(resolved.known_hosts_files.value.is_empty());
}

#[test]
fn known_hosts_none_among_other_files_is_an_error() {
    let cfg = config("Host web\n  UserKnownHostsFile none ~/.ssh/known_hosts\n");
    let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect_err("refused");
    assert!(
        error.to_string().contains("appears with other entries"),
        "{error}"
    );
}

#[test]
fn relative_known_hosts_file_is_an_input_error() {
    let cfg = config("Host web\n  UserKnownHostsFile known_hosts\n");
    let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect_err("refused");
    let text = error.to_string();
    assert!(
        text.starts_with("web: UserKnownHostsFile \"known_hosts\" is a relative path"),
        "{text}"
    );
    assert!(text.contains("(ssh config (/cfg:2))"), "{text}");

    let cfg = config("Host web\n  GlobalKnownHostsFile /etc/ssh/kh %h_keys\n");
    let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("GlobalKnownHostsFile \"%h_keys\""),
        "{error}"
    );

    // A jump host's known_hosts files are checked alike.
    let cfg = config("Host bastion\n  UserKnownHostsFile kh\n");
    let host = InventorySsh {
        jump: Some("bastion".to_string()),
        ..inventory("web")
    };
    let error =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect_err("refused");
    assert!(error.to_string().contains("relative path"), "{error}");

    // `~`, `%d` and absolute names are fine.
    let cfg = config("Host web\n  UserKnownHostsFile ~/kh %d/kh2 /etc/kh3\n");
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    assert_eq!(
        resolved.known_hosts_files.value,
        [
            PathBuf::from("/home/me/kh"),
            PathBuf::from("/home/me/kh2"),
            PathBuf::from("/etc/kh3")
        ]
    );
}

#[test]
fn zero_connect_timeout_from_ssh_config_or_inventory_means_the_default() {
    let cfg = config("Host web bastion\n  ConnectTimeout 0\n");
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    assert_eq!(
        resolved.connect_timeout,
        sourced(DEFAULT_CONNECT_TIMEOUT, SettingSource::Default)
    );
    assert!(
        resolved.notes.iter().any(
            |note| note.starts_with("connect timeout 0 (ssh config (/cfg:2)) means no timeout")
        ),
        "{:?}",
        resolved.notes
    );

    let host = InventorySsh {
        connect_timeout: Some(Duration::ZERO),
        jump: Some("bastion".to_string()),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert_eq!(resolved.connect_timeout.value, DEFAULT_CONNECT_TIMEOUT);
    assert!(resolved.notes[0].contains("inventory (ansible_ssh_timeout)"));
    // The jump host's own ConnectTimeout 0 is replaced too, and said so.
    assert_eq!(
        resolved.jumps[0].connect_timeout.value,
        DEFAULT_CONNECT_TIMEOUT
    );
    assert_eq!(resolved.notes.len(), 2, "{:?}", resolved.notes);
}

#[test]
fn revoked_host_keys_is_resolved_for_targets_and_jump_hosts() {
    let cfg = config("Host *\n  RevokedHostKeys ~/.ssh/revoked_%h\n");
    let host = InventorySsh {
        jump: Some("bastion".to_string()),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert_eq!(
        resolved.revoked_host_keys,
        Some(sourced(PathBuf::from("/home/me/.ssh/revoked_web"), at(2)))
    );
    let target = resolved.to_target();
    assert_eq!(
        target.host_keys.revoked_file,
        Some(PathBuf::from("/home/me/.ssh/revoked_web"))
    );
    assert_eq!(
        target.jumps[0].host_keys.revoked_file,
        Some(PathBuf::from("/home/me/.ssh/revoked_bastion"))
    );

    let cfg = config("Host *\n  RevokedHostKeys none\n");
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    assert_eq!(resolved.revoked_host_keys, None);

    let cfg = config("Host *\n  RevokedHostKeys revoked\n");
    let error = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect_err("relative");
    assert!(
        error
            .to_string()
            .contains("RevokedHostKeys \"revoked\" is a relative path")
    );
}

#[test]
fn host_key_alias_and_known_hosts_command_give_a_note_not_silence() {
    let cfg = config("Host web bastion\n  HostKeyAlias alias\n  KnownHostsCommand /bin/keys %H\n");
    let host = InventorySsh {
        jump: Some("bastion".to_string()),
        ..inventory("web")
    };
    let resolved =
        resolve_ssh_settings(&host, &cfg, &CliSsh::default(), &local()).expect("resolves");
    assert_eq!(resolved.notes.len(), 4, "{:?}", resolved.notes);
    assert!(resolved.notes[0].starts_with("HostKeyAlias alias at /cfg:2 is not supported"));
    assert!(
        resolved.notes[1].starts_with("KnownHostsCommand /bin/keys %H at /cfg:3 is not supported")
    );
}

#[test]
fn json_names_every_source() {
    let cfg = config("Host web\n  Port 2222\n");
    let resolved = resolve_ssh_settings(&inventory("web"), &cfg, &CliSsh::default(), &local())
        .expect("resolves");
    let json = serde_json::to_value(&resolved).expect("serializes");
    assert_eq!(json["port"]["source"], "ssh config (/cfg:2)");
    assert_eq!(json["connect_timeout"]["value"], "10s");
}
