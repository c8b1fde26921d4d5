//! Inventories and `--limit` patterns: real-world Ansible inventories (tests/fixtures/inventories)
//! read by fleetrmi and compared with what Ansible itself resolved from the same files (the
//! `expected/` files, written by `ansible-inventory` and `ansible --list-hosts` through
//! `regenerate.sh`); then the lab's inventory end to end, with a pattern limit on a real `rmi`.

use std::path::PathBuf;
use std::process::Command;

use fleetrmi::testing::Inventory;

use crate::harness::{Run, lab, repo_root};

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/inventories")
}

/// Every case of `expected/`: its name and the `-i`/`-e` arguments Ansible was given.
fn cases() -> Vec<(String, Vec<String>)> {
    let mut cases: Vec<(String, Vec<String>)> = std::fs::read_dir(fixtures().join("expected"))
        .expect("expected/ exists")
        .filter_map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".args")?
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("args file");
            Some((name, text.lines().map(str::to_owned).collect()))
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "fixture cases missing: {cases:?}");
    cases
}

fn expected(case: &str, suffix: &str) -> String {
    let path = fixtures().join("expected").join(format!("{case}.{suffix}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs fleetrmi in the fixtures directory, with no FLEETRMI_* settings from the environment
/// and no ssh_config of the machine's.
fn fleetrmi_in_fixtures(args: &[String], rest: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
    command.current_dir(fixtures());
    // The machine's own ssh_config must not change what a case resolves.
    if !args
        .iter()
        .any(|arg| arg == "-F" || arg.starts_with("--ssh-config"))
    {
        command.arg("--no-ssh-config");
    }
    command.args(args).args(rest);
    crate::harness::clear_settings_from_environment(&mut command);
    Run::from(command.output().expect("fleetrmi runs"))
}

/// The inventory of a case, read through the library (for the many `--limit` checks).
fn load_case(args: &[String]) -> Inventory {
    let (mut sources, mut extra) = (Vec::new(), Vec::new());
    for pair in args.chunks(2) {
        match pair {
            [flag, value] if flag == "-i" => sources.push(fixtures().join(value)),
            [flag, value] if flag == "-e" => extra.push(value.clone()),
            other => panic!("unexpected arguments {other:?}"),
        }
    }
    Inventory::load_all(&sources, &extra).expect("fixture inventory is valid")
}

#[test]
fn inventory_list_matches_ansible_inventory_list() {
    for (case, args) in cases() {
        let run = fleetrmi_in_fixtures(&args, &["inventory", "--list", "--output", "json"]);
        assert_eq!(run.code, 0, "{case}: stderr:\n{}", run.stderr);
        let ours = run.json();
        let ansible: serde_json::Value =
            serde_json::from_str(&expected(&case, "list.json")).expect("expected JSON");
        assert!(
            ours == ansible,
            "{case}: fleetrmi and ansible-inventory differ\nfleetrmi:\n{}\nansible-inventory:\n{}",
            serde_json::to_string_pretty(&ours).unwrap_or_default(),
            serde_json::to_string_pretty(&ansible).unwrap_or_default(),
        );
    }
}

#[test]
fn inventory_graph_matches_ansible_inventory_graph() {
    for (case, args) in cases() {
        let run = fleetrmi_in_fixtures(&args, &["inventory", "--graph"]);
        assert_eq!(run.code, 0, "{case}: stderr:\n{}", run.stderr);
        assert_eq!(
            run.stdout.trim_end(),
            expected(&case, "graph.txt").trim_end(),
            "{case}: fleetrmi's graph differs from ansible-inventory's"
        );
    }
}

#[test]
fn limit_patterns_select_what_ansible_selects() {
    for (case, args) in cases() {
        let inventory = load_case(&args);
        let limits: Vec<serde_json::Value> =
            serde_json::from_str(&expected(&case, "limits.json")).expect("expected JSON");
        assert!(!limits.is_empty());
        for entry in limits {
            let limit = entry["limit"].as_str().expect("limit");
            let mut ours: Vec<String> = inventory
                .select(Some(limit))
                .unwrap_or_else(|err| panic!("{case}: --limit {limit:?}: {err}"))
                .into_iter()
                .map(|host| host.name.clone())
                .collect();
            ours.sort();
            let ansible: Vec<String> =
                serde_json::from_value(entry["hosts"].clone()).expect("host list");
            assert_eq!(ours, ansible, "{case}: --limit {limit:?}");
        }
    }
}

#[test]
fn inventory_host_shows_where_each_setting_comes_from() {
    let args: Vec<String> = ["-i", "webshop/production.yml"].map(str::to_owned).into();
    let run = fleetrmi_in_fixtures(&args, &["inventory", "--host", "db-a.shop.example"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "host: db-a.shop.example");
    assert!(
        lines.contains(
            &"ansible_host = 10.1.1.10  (host db-a.shop.example, webshop/host_vars/db-a.shop.example.yml:2:15)"
        ),
        "{}",
        run.stdout
    );
    // group_vars/all.yml beats the inventory file's `prod` vars, as in Ansible.
    assert!(
        lines.contains(&"ansible_port = 22  (group all, webshop/group_vars/all.yml:2:15)"),
        "{}",
        run.stdout
    );
    assert!(
        lines.contains(
            &"role = primary  (host db-a.shop.example, webshop/host_vars/db-a.shop.example.yml:1:7)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn inventory_host_takes_what_the_inventory_leaves_unset_from_ssh_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("ssh_config");
    std::fs::write(
        &config,
        "Host fe-eu-1.example.net\n  HostName 192.0.2.99\n  Port 2200\n  User nobody\n",
    )
    .expect("write");
    let config = config.display().to_string();
    let args: Vec<String> = ["-i", "sites", "-F", &config].map(str::to_owned).into();
    let run = fleetrmi_in_fixtures(&args, &["inventory", "--host", "fe-eu-1.example.net"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    for line in [
        format!("ansible_host = 192.0.2.99  (ssh config ({config}:2))"),
        format!("ansible_port = 2200  (ssh config ({config}:3))"),
        // The inventory's user wins over ssh_config's.
        "ansible_user = ops  (group all, sites/group_vars/all.yml:1:15)".to_owned(),
    ] {
        assert!(
            lines.contains(&line.as_str()),
            "no {line:?} in\n{}",
            run.stdout
        );
    }
    let run = fleetrmi_in_fixtures(&args, &["-l", "fe-eu-1*", "inventory", "--list"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(
        run.stdout.contains("192.0.2.99") && run.stdout.contains("2200"),
        "{}",
        run.stdout
    );
}

#[test]
fn inventory_errors_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "all:\n  hosts:\n    web[01:100]:\n").expect("write");
    let args = vec!["-i".to_owned(), path.display().to_string()];
    let run = fleetrmi_in_fixtures(&args, &["inventory", "--list"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: {}:3:5: host key \"web[01:100]\" has a range [01:100] whose begin and end have different widths\nhint: ",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn pattern_that_matches_nothing_is_bad_input_unless_allowed() {
    let args: Vec<String> = ["-i", "sites"].map(str::to_owned).into();
    let run = fleetrmi_in_fixtures(&args, &["-l", "frontend:!fe-eu-9*", "inventory", "--list"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: --limit: \"!fe-eu-9*\" matches no host or group\nhint: "),
        "{}",
        run.stderr
    );
    let run = fleetrmi_in_fixtures(
        &args,
        &[
            "-l",
            "frontend:!fe-eu-9*",
            "--allow-empty",
            "inventory",
            "--list",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["_meta"]["hostvars"].as_object().map(|o| o.len()),
        Some(5)
    );
}

#[test]
fn inventory_sources_from_the_environment_are_a_comma_separated_list() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
    command
        .current_dir(fixtures())
        .env(
            "FLEETRMI_INVENTORY",
            "merged/base.yml,merged/overlay/extra.yml",
        )
        .env_remove("FLEETRMI_LIMIT")
        .args(["inventory", "--list", "--output", "json"]);
    let run = Run::from(command.output().expect("fleetrmi runs"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hosts = run.json()["app"]["hosts"].clone();
    assert_eq!(hosts, serde_json::json!(["app1", "app2", "app3", "app4"]));
}

fn lab_inventory_args() -> Vec<String> {
    vec!["-i".to_owned(), lab().inventory().display().to_string()]
}

#[test]
fn inventory_list_shows_the_lab_hosts() {
    let lab = lab();
    let run = fleetrmi_in_fixtures(
        &lab_inventory_args(),
        &["inventory", "--list", "--output", "json"],
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let list = run.json();
    let names: Vec<&str> = lab.hosts.iter().map(|host| host.name.as_str()).collect();
    assert_eq!(list["lab"]["hosts"], serde_json::json!(names));
    // lab.sh adds one group per engine kind present, in this order.
    let kinds: Vec<&str> = ["classic20", "classic26", "containerd26", "podman4"]
        .into_iter()
        .filter(|kind| lab.hosts.iter().any(|host| host.kind == *kind))
        .collect();
    let mut children = vec!["ungrouped", "lab"];
    children.extend(&kinds);
    assert_eq!(list["all"]["children"], serde_json::json!(children));
    let first = &lab.hosts[0];
    let vars = &list["_meta"]["hostvars"][&first.name];
    assert_eq!(vars["ansible_host"], first.address.as_str());
    assert_eq!(vars["ansible_port"], first.port);
    assert_eq!(vars["ansible_user"], "root");
    assert_eq!(vars["docker_socket"], first.socket.display().to_string());

    let run = fleetrmi_in_fixtures(&lab_inventory_args(), &["inventory", "--list"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for host in &lab.hosts {
        assert!(run.stdout.contains(&host.address), "{}", run.stdout);
    }
    assert!(
        run.stdout.ends_with(&format!(
            "{0} of {0} hosts, {1} groups\n",
            lab.hosts.len(),
            3 + kinds.len()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn inventory_host_of_a_lab_host_names_each_source() {
    let lab = lab();
    let host = &lab.hosts[0];
    let run = fleetrmi_in_fixtures(
        &lab_inventory_args(),
        &["-e", "ansible_user=root", "inventory", "--host", &host.name],
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let inventory = lab.inventory().display().to_string();
    let line = |prefix: &str| {
        run.stdout
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in\n{}", run.stdout))
            .to_owned()
    };
    assert_eq!(
        line("ansible_port = "),
        format!(
            "ansible_port = {}  (group all, {inventory}:4:19)",
            host.port
        )
    );
    assert!(
        line("ansible_host = ").starts_with(&format!(
            "ansible_host = {}  (host {}, {inventory}:",
            host.address, host.name
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        line("ansible_user = "),
        "ansible_user = root  (-e ansible_user=root)"
    );
}

#[test]
fn rmi_with_a_pattern_limit_skips_the_excluded_host() {
    let hosts = lab().take(3);
    let [a, b, c] = [0, 1, 2].map(|position| hosts.host(position).name.clone());
    // Union of the lent hosts, intersected with the group, minus the middle one.
    let limit = format!("{a}:{b}:{c}:&lab:!{b}");
    let run = hosts.fleetrmi_with_limit(&limit, &["--output", "json", "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    let reported: Vec<&str> = json["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|report| report["host"].as_str().expect("host name"))
        .collect();
    assert_eq!(reported, [a.as_str(), c.as_str()]);
    let has_purge = |position: usize| {
        hosts
            .images(position)
            .values()
            .flatten()
            .any(|tag| tag == "purge:1")
    };
    assert!(!has_purge(0), "purge:1 still on {a}");
    assert!(has_purge(1), "purge:1 removed from the excluded host {b}");
    assert!(!has_purge(2), "purge:1 still on {c}");
}

#[test]
fn rmi_with_a_limit_that_matches_nothing_contacts_no_host() {
    let inventory = lab().inventory();
    let run = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
        command
            .arg("-i")
            .arg(&inventory)
            .args(["-l", "nosuchhost*", "--output", "json"])
            .args(extra)
            .args(["rmi", "purge:1"])
            .env_remove("FLEETRMI_LIMIT")
            .env_remove("FLEETRMI_ALLOW_EMPTY");
        Run::from(command.output().expect("fleetrmi runs"))
    };
    let strict = run(&[]);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    assert!(
        strict
            .stderr
            .contains("\"nosuchhost*\" matches no host or group")
    );
    let allowed = run(&["--allow-empty"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert_eq!(allowed.json()["totals"]["hosts"], 0);
}

/// The parity cases of `parity/`, each with what Ansible answered (`expected/parity/CASE.json`,
/// written by `regenerate-parity.sh`).
fn parity_cases() -> Vec<(String, serde_json::Value)> {
    let dir = fixtures().join("expected/parity");
    let mut cases: Vec<(String, serde_json::Value)> = std::fs::read_dir(&dir)
        .expect("expected/parity exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).expect("readable");
            (name, serde_json::from_str(&text).expect("JSON"))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// Runs fleetrmi in a case's directory as Ansible ran there: an empty HOME, the case's `env`,
/// no ssh_config, no FLEETRMI_*/ANSIBLE_* settings of the machine.
fn fleetrmi_in_case(dir: &str, case: &str, args: &[String], rest: &[&str]) -> Run {
    let case_dir = fixtures().join(dir).join(case);
    let home = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
    command.current_dir(&case_dir).env("HOME", home.path());
    crate::harness::clear_settings_from_environment(&mut command);
    if let Ok(text) = std::fs::read_to_string(case_dir.join("env")) {
        for line in text.lines().filter(|line| !line.is_empty()) {
            let (name, value) = line.split_once('=').expect("KEY=VALUE");
            command.env(name, value);
        }
    }
    command.arg("--no-ssh-config").args(args).args(rest);
    Run::from(command.output().expect("fleetrmi runs"))
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).expect("a list of strings")
}

#[test]
fn parity_inventory_list_and_host_match_ansible() {
    let cases = parity_cases();
    assert!(cases.len() >= 40, "{} parity cases", cases.len());
    for (case, expected) in cases {
        let args = strings(&expected["args"]);
        let run = fleetrmi_in_case(
            "parity",
            &case,
            &args,
            &["inventory", "--list", "--output", "json"],
        );
        assert_eq!(run.code, 0, "{case}: stderr:\n{}", run.stderr);
        assert!(
            run.json() == expected["list"],
            "{case}: fleetrmi and ansible-inventory --list differ\nfleetrmi:\n{}\nansible:\n{}",
            serde_json::to_string_pretty(&run.json()).unwrap_or_default(),
            serde_json::to_string_pretty(&expected["list"]).unwrap_or_default(),
        );
        let hosts = expected["hosts"].as_object().expect("hosts");
        for (name, vars) in hosts {
            let run = fleetrmi_in_case(
                "parity",
                &case,
                &args,
                &["inventory", "--host", name, "--output", "json"],
            );
            assert_eq!(run.code, 0, "{case} {name}: stderr:\n{}", run.stderr);
            assert_eq!(&run.json(), vars, "{case}: --host {name}");
        }
    }
}

#[test]
fn parity_limits_select_what_ansible_selects() {
    for (case, expected) in parity_cases() {
        let args = strings(&expected["args"]);
        for entry in expected["limits"].as_array().expect("limits") {
            let limit = entry["limit"].as_str().expect("limit");
            let run = fleetrmi_in_case(
                "parity",
                &case,
                &args,
                &[
                    "-l",
                    limit,
                    "--allow-empty",
                    "inventory",
                    "--list",
                    "--output",
                    "json",
                ],
            );
            assert_eq!(run.code, 0, "{case} -l {limit}: stderr:\n{}", run.stderr);
            // Every host of every group (`_meta.hostvars` lists only hosts with variables).
            let listing = run.json();
            let mut ours: Vec<String> = listing
                .as_object()
                .expect("a listing")
                .values()
                .filter_map(|group| group["hosts"].as_array())
                .flatten()
                .filter_map(|host| host.as_str().map(str::to_owned))
                .collect();
            ours.sort();
            ours.dedup();
            assert_eq!(ours, strings(&entry["hosts"]), "{case}: -l {limit}");
            if limit.contains('-') && limit.contains('[') && entry["warning"] == true {
                assert!(
                    run.stderr.contains("use [x:y] inclusive subscripts"),
                    "{case} -l {limit}: no deprecation warning:\n{}",
                    run.stderr
                );
            }
        }
    }
}

/// `name = value  (source)` rows of `inventory --host`, by name.
fn shown_settings(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(" = ")?;
            let (value, source) = rest.split_once("  (")?;
            Some((
                name.to_owned(),
                value.to_owned(),
                source.trim_end_matches(')').to_owned(),
            ))
        })
        .collect()
}

#[test]
fn parity_connections_use_what_ansible_connects_with() {
    for (case, expected) in parity_cases() {
        let args = strings(&expected["args"]);
        for (name, connect) in expected["connect"].as_object().expect("connect") {
            let run = fleetrmi_in_case("parity", &case, &args, &["inventory", "--host", name]);
            assert_eq!(run.code, 0, "{case} {name}: stderr:\n{}", run.stderr);
            let settings = shown_settings(&run.stdout);
            let find = |names: &[&str]| {
                settings
                    .iter()
                    .find(|(shown, _, _)| names.contains(&shown.as_str()))
                    .cloned()
                    .unwrap_or_else(|| panic!("{case} {name}: no {names:?} in\n{}", run.stdout))
            };
            let (_, address, _) = find(&["ansible_host", "ansible_ssh_host"]);
            assert_eq!(
                address,
                connect["address"].as_str().expect("address"),
                "{case} {name}: address"
            );
            let (_, port, source) = find(&["ansible_port", "ansible_ssh_port"]);
            match connect["port"].as_u64() {
                Some(expected) => assert_eq!(port, expected.to_string(), "{case} {name}: port"),
                None => assert_eq!(
                    (port.as_str(), source.as_str()),
                    ("22", "default"),
                    "{case} {name}: port"
                ),
            }
            let (_, user, source) = find(&["ansible_user", "ansible_ssh_user"]);
            match connect["user"].as_str() {
                Some(expected) => assert_eq!(user, expected, "{case} {name}: user"),
                None => assert_eq!(source, "default", "{case} {name}: user {user}"),
            }
        }
    }
}

/// What fleetrmi deliberately refuses (vault values, inventory plugins and scripts, lookups,
/// templates it cannot render, malformed INI): exit 2, the place and the reason on stderr, and
/// nothing on stdout.
#[test]
fn refused_inventories_are_bad_input_with_their_place() {
    let dir = fixtures().join("refused");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .expect("refused/ exists")
        .map(|entry| {
            entry
                .expect("readable")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in cases {
        let read =
            |name: &str| std::fs::read_to_string(dir.join(&case).join(name)).expect("case file");
        let args: Vec<String> = read("args").lines().map(str::to_owned).collect();
        let run = fleetrmi_in_case("refused", &case, &args, &["inventory", "--list"]);
        assert_eq!(run.code, 2, "{case}: stderr:\n{}", run.stderr);
        let error = read("error");
        assert!(
            run.stderr.contains(error.trim_end_matches('\n')),
            "{case}: expected {error:?} in:\n{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{case}: {}", run.stdout);
    }
}
