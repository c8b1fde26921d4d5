//! `fleetrmi ping` against the engines' own answers, with one host's sshd down.

use crate::harness::{Hosts, lab};

/// One `docker version`/`docker info` template answer from a host's socket.
fn docker_says(hosts: &Hosts, position: usize, args: &[&str]) -> String {
    let run = hosts.docker(position, args);
    assert_eq!(run.code, 0, "docker {args:?}: {}", run.stderr);
    run.stdout.trim().to_string()
}

#[test]
fn ping_reports_each_engine_as_it_describes_itself_and_the_host_that_is_down() {
    let hosts = lab().take(3);
    hosts.stop("sshd", 1);
    let run = hosts.fleetrmi(&["--output", "json", "ping"]);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let json = run.json();
    let reports = json["hosts"].as_array().expect("hosts");
    assert_eq!(reports.len(), 3);

    for position in [0, 2] {
        let report = &reports[position];
        assert_eq!(report["host"], hosts.host(position).name);
        assert_eq!(report["status"], "ok", "{report}");
        assert!(
            report["auth_method"]
                .as_str()
                .expect("auth method")
                .starts_with("publickey ("),
            "{report}"
        );
        let engine = &report["engine"];
        let server_api = docker_says(
            &hosts,
            position,
            &["version", "--format", "{{.Server.APIVersion}}"],
        );
        assert_eq!(engine["api_version"], server_api.as_str());
        assert_eq!(report["daemon"]["max_api_version"], server_api.as_str());
        assert_eq!(
            report["daemon"]["min_api_version"],
            docker_says(
                &hosts,
                position,
                &["version", "--format", "{{.Server.MinAPIVersion}}"]
            )
            .as_str()
        );
        assert_eq!(
            engine["server_version"],
            docker_says(
                &hosts,
                position,
                &["version", "--format", "{{.Server.Version}}"]
            )
            .as_str()
        );
        assert_eq!(
            engine["storage_driver"],
            docker_says(&hosts, position, &["info", "--format", "{{.Driver}}"]).as_str()
        );
        assert_eq!(
            engine["docker_root_dir"],
            docker_says(
                &hosts,
                position,
                &["info", "--format", "{{.DockerRootDir}}"]
            )
            .as_str()
        );
        let driver_status = docker_says(
            &hosts,
            position,
            &["info", "--format", "{{json .DriverStatus}}"],
        );
        assert_eq!(
            engine["containerd_store"],
            driver_status.contains("io.containerd.snapshotter.v1")
        );
        assert!(report["connect_ms"].as_u64().is_some(), "{report}");
        assert!(report["ping_us"].as_u64().is_some(), "{report}");
    }

    let down = &reports[1];
    assert_eq!(down["status"], "unreachable");
    assert_eq!(down["failure"]["step"], "connect");
    assert!(down.get("engine").is_none(), "{down}");
    assert!(
        run.stderr
            .contains(&format!("error: {}: connect: ", hosts.host(1).name)),
        "{}",
        run.stderr
    );
    assert_eq!(json["totals"]["ok"], 2);
    assert_eq!(json["totals"]["unreachable"], 1);
}

#[test]
fn ping_table_lists_every_host_and_exits_zero_when_all_answer() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["ping"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for host in &hosts.hosts {
        assert!(run.stdout.contains(&host.name), "{}", run.stdout);
    }
    assert!(run.stdout.contains("total (2 hosts)"), "{}", run.stdout);
    assert!(run.stdout.contains("overlay2"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}
