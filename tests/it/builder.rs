//! `builder prune`: the engine's own build cache prune on every host, with `docker builder
//! prune`'s options, checked against a BuildKit build made on the lab host.
//!
//! The docker CLI here has no buildx plugin, so BuildKit builds go straight to the engine's API
//! (`POST /build?version=2` with the context as the request body), which dockerd 20.10 accepts.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// A tar holding only `Dockerfile`, as a build context.
fn context(dockerfile: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write Dockerfile");
    let output = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(dir.path())
        .arg("Dockerfile")
        .output()
        .expect("tar runs");
    assert!(output.status.success());
    output.stdout
}

/// A BuildKit build on a host's engine; returns the engine's last message.
fn buildkit_build(hosts: &Hosts, position: usize, tag: &str, dockerfile: &str) -> String {
    let body = context(dockerfile);
    let mut stream = UnixStream::connect(&hosts.host(position).socket).expect("socket");
    write!(
        stream,
        "POST /v1.41/build?version=2&networkmode=none&nocache=1&t={tag} HTTP/1.0\r\n\
         Host: docker\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("request");
    stream.write_all(&body).expect("body");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let last = response.trim_end().lines().last().unwrap_or("").to_string();
    assert!(
        response.contains("Successfully tagged") || response.contains("naming to"),
        "BuildKit build failed: {last}"
    );
    last
}

/// The engine's build cache records: (total size, count).
fn build_cache(hosts: &Hosts, position: usize) -> (u64, usize) {
    let df = hosts.api_get(position, "/v1.41/system/df");
    let records = df["BuildCache"].as_array().cloned().unwrap_or_default();
    (
        records
            .iter()
            .map(|record| record["Size"].as_u64().unwrap_or(0))
            .sum(),
        records.len(),
    )
}

fn pruned(run: &crate::harness::Run) -> (u64, u64) {
    let json = run.json();
    let cache = &json["hosts"][0]["build_cache"];
    assert_eq!(cache["supported"], true, "{cache}");
    (
        cache["caches_deleted"].as_u64().expect("count"),
        json["hosts"][0]["reclaimed_bytes"].as_u64().expect("bytes"),
    )
}

#[test]
fn builder_prune_reclaims_space_from_a_buildkit_build() {
    let hosts = lab().take(1);
    // Start from no cache, whatever earlier runs on this lab left.
    let clean = hosts.fleetrmi(&["builder", "prune", "-f", "--all"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert_eq!(build_cache(&hosts, 0), (0, 0));

    buildkit_build(
        &hosts,
        0,
        "bk:1",
        "FROM base:1\nRUN dd if=/dev/urandom of=/blob bs=1k count=300\n",
    );
    let (size, records) = build_cache(&hosts, 0);
    assert!(size >= 300 * 1024, "BuildKit left {size} bytes of cache");
    assert!(records >= 2);

    // Nothing is older than an hour, and everything fits in a gigabyte.
    let recent = hosts.fleetrmi(&[
        "--output", "json", "builder", "prune", "-f", "--all", "--filter", "until=1h",
    ]);
    assert_eq!(recent.code, 0, "{}", recent.stderr);
    assert_eq!(pruned(&recent), (0, 0));
    let kept = hosts.fleetrmi(&[
        "--output",
        "json",
        "builder",
        "prune",
        "-f",
        "--all",
        "--keep-storage",
        "1GB",
    ]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert_eq!(pruned(&kept), (0, 0));
    assert_eq!(build_cache(&hosts, 0), (size, records));

    // Without --all only the cache no image shares goes (the build context here).
    let dangling = hosts.fleetrmi(&["--output", "json", "builder", "prune", "-f"]);
    assert_eq!(dangling.code, 0, "{}", dangling.stderr);
    let (deleted, reclaimed) = pruned(&dangling);
    let (size_after, records_after) = build_cache(&hosts, 0);
    assert_eq!(records - records_after, deleted as usize);
    assert_eq!(size - size_after, reclaimed);

    let all = hosts.fleetrmi(&["--output", "json", "builder", "prune", "-f", "--all"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let (deleted, reclaimed) = pruned(&all);
    assert_eq!(deleted as usize, records_after);
    assert_eq!(reclaimed, size_after);
    assert!(reclaimed >= 300 * 1024, "reclaimed {reclaimed}");
    assert_eq!(build_cache(&hosts, 0), (0, 0));
    let json: Value = all.json();
    assert_eq!(json["totals"]["reclaimed_bytes"], reclaimed);
}

#[test]
fn builder_prune_table_shows_each_host() {
    let hosts = lab().take(2);
    let run = hosts.fleetrmi(&["builder", "prune", "-f"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for host in &hosts.hosts {
        assert!(run.stdout.contains(&host.name), "{}", run.stdout);
    }
    assert!(run.stdout.contains("caches deleted"), "{}", run.stdout);
    assert!(run.stdout.contains("total (2 hosts)"), "{}", run.stdout);
}

#[test]
fn builder_prune_without_force_off_a_terminal_is_refused() {
    let hosts = lab().take(1);
    let run = hosts.fleetrmi(&["builder", "prune"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("hint: pass -f"), "{}", run.stderr);
}

#[test]
fn builder_prune_bad_filter_or_size_is_bad_input() {
    let hosts = lab().take(1);
    let days = hosts.fleetrmi(&["builder", "prune", "-f", "--filter", "until=7d"]);
    assert_eq!(days.code, 2, "{}", days.stderr);
    assert!(days.stderr.contains("Go durations"), "{}", days.stderr);
    let unknown = hosts.fleetrmi(&["builder", "prune", "-f", "--filter", "label=x"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    let size = hosts.fleetrmi(&["builder", "prune", "-f", "--keep-storage", "lots"]);
    assert_eq!(size.code, 2, "{}", size.stderr);
}
