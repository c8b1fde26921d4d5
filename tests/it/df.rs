//! `fleetrmi df` against `docker system df` and `/system/df` on each host's socket, with
//! volumes and a stopped container's writable layer on one host and another host down.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// The names this test gives what it creates, so it can remove them whatever happens.
const WRITER: &str = "fr-df-writer";
const USED_VOLUME: &str = "fr-df-used";
const LOOSE_VOLUME: &str = "fr-df-loose";

/// Removes the test's container and volumes from a host when the test ends (the lab's reseed
/// removes containers but keeps volumes).
struct Cleanup<'a> {
    hosts: &'a Hosts,
    position: usize,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.hosts.docker(self.position, &["rm", "-f", WRITER]);
        let _ = self.hosts.docker(
            self.position,
            &["volume", "rm", "-f", USED_VOLUME, LOOSE_VOLUME],
        );
    }
}

/// A volume a stopped container still refers to, one nothing refers to, and the stopped
/// container's own writable layer: every kind of `docker system df` row gets bytes.
fn add_volumes_and_a_stopped_container(hosts: &Hosts, position: usize) {
    let docker = |args: &[&str]| {
        let run = hosts.docker(position, args);
        assert_eq!(run.code, 0, "docker {args:?}: {}", run.stderr);
    };
    docker(&["volume", "create", USED_VOLUME]);
    docker(&["volume", "create", LOOSE_VOLUME]);
    let used_mount = format!("{USED_VOLUME}:/data");
    docker(&[
        "run",
        "--network",
        "none",
        "--name",
        WRITER,
        "-v",
        &used_mount,
        "base:1",
        "sh",
        "-c",
        "head -c 300000 /dev/urandom > /data/blob; head -c 100000 /dev/urandom > /rw",
    ]);
    let loose_mount = format!("{LOOSE_VOLUME}:/data");
    docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &loose_mount,
        "base:1",
        "sh",
        "-c",
        "head -c 200000 /dev/urandom > /data/blob",
    ]);
}

/// go-units' `HumanSize`, which `docker system df` prints: decimal units, 4 significant digits.
fn docker_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let integer_digits = if size < 10.0 {
        1
    } else if size < 100.0 {
        2
    } else {
        3
    };
    let mut text = format!("{size:.prec$}", prec = 4 - integer_digits);
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", UNITS[unit])
}

/// The CLI's RECLAIMABLE cell: the size, and the percentage when there is a size to divide by.
fn docker_reclaimable(reclaimable: u64, size: u64, with_percentage: bool) -> String {
    if with_percentage && size > 0 {
        format!(
            "{} ({}%)",
            docker_size(reclaimable),
            reclaimable * 100 / size
        )
    } else {
        docker_size(reclaimable)
    }
}

/// `docker system df --format '{{json .}}'`: one object per type.
fn docker_system_df(hosts: &Hosts, position: usize) -> Vec<Value> {
    let run = hosts.docker(position, &["system", "df", "--format", "{{json .}}"]);
    assert_eq!(run.code, 0, "docker system df: {}", run.stderr);
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect()
}

/// Size and free space of the filesystem holding `path`, as coreutils' `df` reads them.
fn local_df(path: &str) -> (u64, u64) {
    let output = Command::new("df")
        .args(["-B1", "--output=size,avail", path])
        .output()
        .expect("df runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .lines()
        .nth(1)
        .expect("a data line")
        .split_whitespace()
        .map(|n| n.parse().expect("number"))
        .collect();
    (numbers[0], numbers[1])
}

fn host_report<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|host| host["host"] == name)
        .unwrap_or_else(|| panic!("no report for {name}"))
}

#[test]
fn df_equals_docker_system_df_on_each_host_and_sums_the_fleet() {
    let hosts = lab().take(3);
    let _cleanup = Cleanup {
        hosts: &hosts,
        position: 0,
    };
    add_volumes_and_a_stopped_container(&hosts, 0);
    hosts.stop("sshd", 2);

    let run = hosts.fleetrmi(&["--output", "json", "df"]);
    assert_eq!(run.code, 4, "stderr:\n{}", run.stderr);
    let json = run.json();

    // The host that could not be looked at comes first, with nothing measured.
    let down = &json["hosts"][0];
    assert_eq!(down["host"], hosts.host(2).name);
    assert_eq!(down["status"], "unreachable");
    assert_eq!(down["failure"]["step"], "connect");
    assert!(down.get("images").is_none(), "{down}");
    assert!(
        run.stderr
            .contains(&format!("error: {}: connect: ", hosts.host(2).name)),
        "{}",
        run.stderr
    );

    let kinds = [
        ("Images", "images"),
        ("Containers", "containers"),
        ("Local Volumes", "volumes"),
        ("Build Cache", "build_cache"),
    ];
    let mut sums = [0u64; 4];
    let mut reclaimable_sum = 0;
    for position in 0..2 {
        let name = &hosts.host(position).name;
        let report = host_report(&json, name);
        assert_eq!(report["status"], "ok", "{report}");

        // The engine's own numbers.
        let engine = hosts.api_get(position, "/v1.41/system/df");
        let count = |key: &str| engine[key].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(report["images"]["size_bytes"], engine["LayersSize"]);
        assert_eq!(report["images"]["total"], count("Images"));
        assert_eq!(report["containers"]["total"], count("Containers"));
        assert_eq!(report["volumes"]["total"], count("Volumes"));
        let size_rw: u64 = engine["Containers"]
            .as_array()
            .expect("containers")
            .iter()
            .map(|c| c["SizeRw"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(report["containers"]["size_bytes"], size_rw);
        let volume_bytes: u64 = engine["Volumes"]
            .as_array()
            .map(|volumes| {
                volumes
                    .iter()
                    .map(|v| v["UsageData"]["Size"].as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(report["volumes"]["size_bytes"], volume_bytes);

        // The CLI's table, row by row.
        let cli = docker_system_df(&hosts, position);
        assert_eq!(cli.len(), 4, "{cli:?}");
        for (row, (cli_name, key)) in cli.iter().zip(kinds) {
            assert_eq!(row["Type"], cli_name);
            let ours = &report[key];
            let size = ours["size_bytes"].as_u64().expect("size");
            let reclaimable = ours["reclaimable_bytes"].as_u64().expect("reclaimable");
            assert_eq!(row["TotalCount"], ours["total"].to_string(), "{name} {key}");
            assert_eq!(row["Active"], ours["active"].to_string(), "{name} {key}");
            assert_eq!(row["Size"], docker_size(size), "{name} {key}");
            assert_eq!(
                row["Reclaimable"],
                docker_reclaimable(reclaimable, size, key != "build_cache"),
                "{name} {key}"
            );
        }
        for (sum, (_, key)) in sums.iter_mut().zip(kinds) {
            *sum += report[key]["size_bytes"].as_u64().expect("size");
        }
        reclaimable_sum += report["reclaimable_bytes"].as_u64().expect("reclaimable");

        // The filesystem holding the Docker root, as the local df sees it (the lab's hosts
        // are on this machine).
        let root = report["docker_root_dir"].as_str().expect("docker root");
        let root_from_docker = hosts.docker(position, &["info", "--format", "{{.DockerRootDir}}"]);
        assert_eq!(root, root_from_docker.stdout.trim());
        let (total, free) = local_df(root);
        assert_eq!(report["filesystem"]["total_bytes"], total);
        let reported_free = report["filesystem"]["free_bytes"].as_u64().expect("free");
        // Other writers on this machine (parallel builds) move free space between the two
        // readings; the total is exact, the free space only close.
        assert!(
            reported_free.abs_diff(free) < 4 * 1024 * 1024 * 1024,
            "free {reported_free} vs df {free}"
        );
    }

    // Host 0 has the volumes and the stopped writer: its rows are not all zero.
    let busy = host_report(&json, &hosts.host(0).name);
    assert_eq!(busy["volumes"]["total"], 2);
    assert_eq!(busy["volumes"]["active"], 1);
    assert!(
        busy["volumes"]["reclaimable_bytes"]
            .as_u64()
            .expect("bytes")
            >= 200_000
    );
    assert!(
        busy["containers"]["reclaimable_bytes"]
            .as_u64()
            .expect("bytes")
            >= 100_000
    );

    let totals = &json["totals"];
    for (sum, (_, key)) in sums.iter().zip(kinds) {
        assert_eq!(totals[key]["size_bytes"], *sum, "totals {key}");
    }
    assert_eq!(totals["reclaimable_bytes"], reclaimable_sum);
    assert_eq!(totals["ok"], 2);
    assert_eq!(totals["unreachable"], 1);
    assert_eq!(totals["filesystem"]["hosts"], 2);
}

#[test]
fn df_waits_out_another_disk_usage_computation_on_the_host() {
    let hosts = lab().take(1);
    // dockerd 20.10 answers a /system/df that overlaps another with 500; fleetrmi retries.
    let stop_at = Instant::now() + Duration::from_secs(4);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while Instant::now() < stop_at {
                    let _ = hosts.api_get(0, "/v1.41/system/df");
                }
            });
        }
        for _ in 0..4 {
            let run = hosts.fleetrmi(&["--output", "json", "df"]);
            assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
            assert_eq!(run.json()["hosts"][0]["status"], "ok");
        }
    });
}

#[test]
fn df_table_lists_every_host_and_the_fleet_by_kind() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["df"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for host in &hosts.hosts {
        assert!(run.stdout.contains(&host.name), "{}", run.stdout);
    }
    for text in [
        "total (2 hosts)",
        "Fleet total",
        "Local Volumes",
        "Build Cache",
    ] {
        assert!(run.stdout.contains(text), "{text}:\n{}", run.stdout);
    }
}

#[test]
fn docker_size_matches_go_units() {
    assert_eq!(docker_size(0), "0B");
    assert_eq!(docker_size(5_115_752), "5.116MB");
    assert_eq!(docker_size(5_003_112), "5.003MB");
    assert_eq!(docker_size(100_000), "100kB");
    assert_eq!(docker_size(1_500), "1.5kB");
}
