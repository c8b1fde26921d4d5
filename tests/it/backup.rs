//! `rmi --backup DIR` and `restore DIR`: archives streamed over SSH before each removal, checked,
//! recorded in a manifest; a failed backup removes nothing; a restore brings back the same image
//! IDs, tags and parent links on every host.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// Every regular file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(
                    path.strip_prefix(dir)
                        .expect("under dir")
                        .to_string_lossy()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    files
}

fn has_tag(hosts: &Hosts, position: usize, tag: &str) -> bool {
    hosts.images(position).values().flatten().any(|t| t == tag)
}

/// The `Parent` of an image on a host, as the engine reports it.
fn parent(hosts: &Hosts, position: usize, image: &str) -> String {
    let run = hosts.docker(
        position,
        &["image", "inspect", "--format", "{{.Parent}}", image],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_string()
}

#[test]
fn backup_round_trip_restores_the_same_ids_tags_and_parents_on_every_host() {
    let hosts = lab().take(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().join("backups");
    let backup_arg = backup.to_string_lossy().to_string();
    let before: Vec<_> = (0..3).map(|p| hosts.images(p)).collect();
    let chain_parent = parent(&hosts, 0, "chain:1");
    // The seed's dangling image; the digest-only image is listed as dangling too, under its
    // repository's name.
    let dangling = hosts.docker(
        0,
        &[
            "images",
            "--no-trunc",
            "--filter",
            "dangling=true",
            "--format",
            "{{.ID}} {{.Repository}}",
        ],
    );
    let dangling = dangling
        .stdout
        .lines()
        .find_map(|line| line.strip_suffix(" <none>"))
        .unwrap_or_default()
        .to_string();
    assert!(dangling.starts_with("sha256:"), "{dangling}");
    let images = ["chain:1", "app:latest", "app:3", "moved:1", &dangling];

    // The dry run names the archives and writes nothing.
    let mut dry = vec![
        "--output",
        "json",
        "rmi",
        "--dry-run",
        "--backup",
        &backup_arg,
    ];
    dry.extend(images);
    let planned = hosts.fleetrmi(&dry);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(!backup.exists(), "a dry run created {}", backup.display());
    let planned = planned.json();
    let planned_file = planned["hosts"][0]["results"][0]["backup"]["file"]
        .as_str()
        .expect("planned archive")
        .to_string();
    assert!(
        planned["hosts"][0]["results"][1]["backup"].is_null(),
        "app:latest only untags: nothing to save"
    );

    let mut real = vec!["--output", "json", "rmi", "--backup", &backup_arg];
    real.extend(images);
    let run = hosts.fleetrmi(&real);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    for (position, report) in json["hosts"].as_array().expect("hosts").iter().enumerate() {
        let name = &hosts.host(position).name;
        assert_eq!(report["status"], "ok", "{name}: {}", run.stderr);
        assert_eq!(report["warnings"], serde_json::json!([]), "{name}");
        let results = report["results"].as_array().expect("results");
        // chain:1 deletes itself and its two untagged parents: one archive of three images.
        let chain = &results[0]["backup"];
        assert_eq!(chain["images"].as_array().expect("images").len(), 3);
        assert!(chain["bytes"].as_u64().expect("bytes") > 2_000_000);
        assert_eq!(chain["sha256"].as_str().expect("sha").len(), 64);
        // app:3 is deleted by its second argument and saved with both tags it had.
        assert_eq!(
            results[2]["backup"]["tags"],
            serde_json::json!(["app:3", "app:latest"])
        );
        for (index, result) in results.iter().enumerate() {
            if index == 1 {
                continue;
            }
            let file = result["backup"]["file"].as_str().expect("file");
            let metadata = std::fs::metadata(file).expect("archive exists");
            assert_eq!(
                metadata.len(),
                result["backup"]["bytes"].as_u64().expect("bytes")
            );
            assert_eq!(metadata.mode() & 0o777, 0o600, "{file}: owner only");
        }
        assert!(!has_tag(&hosts, position, "chain:1"));
        assert!(!has_tag(&hosts, position, "app:3"));
        assert_ne!(hosts.images(position), before[position]);
    }
    assert_eq!(
        json["hosts"][0]["results"][0]["backup"]["file"], planned_file,
        "the dry run named the archive the real run wrote"
    );
    for host in &hosts.hosts {
        let files = files_under(&backup.join(&host.name));
        assert_eq!(files.len(), 5, "{}: {files:?}", host.name);
        assert!(files.contains(&"manifest.json".to_string()));
        assert!(files.iter().all(|f| !f.ends_with(".part")), "{files:?}");
        let host_dir = std::fs::metadata(backup.join(&host.name)).expect("host dir");
        assert_eq!(host_dir.mode() & 0o777, 0o700, "{}: owner only", host.name);
    }
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(backup.join(&hosts.host(0).name).join("manifest.json"))
            .expect("manifest"),
    )
    .expect("manifest JSON");
    assert_eq!(manifest["archives"].as_array().expect("archives").len(), 4);
    assert_eq!(manifest["archives"][0]["reason"], "rmi chain:1");

    let restore = hosts.fleetrmi(&["--output", "json", "restore", &backup_arg]);
    assert_eq!(restore.code, 0, "stderr:\n{}", restore.stderr);
    let restored = restore.json();
    for (position, report) in restored["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .enumerate()
    {
        assert_eq!(report["status"], "ok");
        for archive in report["restored"].as_array().expect("restored") {
            assert_eq!(archive["status"], "restored", "{archive}");
        }
        assert_eq!(
            hosts.images(position),
            before[position],
            "{}: image IDs and tags differ after the restore",
            hosts.host(position).name
        );
        assert_eq!(parent(&hosts, position, "chain:1"), chain_parent);
    }

    // A second restore finds everything in place and loads nothing.
    let again = hosts.fleetrmi(&["--output", "json", "restore", &backup_arg]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    for report in again.json()["hosts"].as_array().expect("hosts") {
        for archive in report["restored"].as_array().expect("restored") {
            assert_eq!(archive["status"], "already-present");
            assert_eq!(archive["loaded_bytes"], 0);
        }
    }
}

#[test]
fn backup_archive_loads_with_plain_docker_load() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    let id = hosts.image_id(0, "purge:1");
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "--backup", &backup, "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = run.json()["hosts"][0]["results"][0]["backup"]["file"]
        .as_str()
        .expect("file")
        .to_string();
    assert!(
        file.ends_with(&format!("{}.tar", &id["sha256:".len()..])),
        "{file}"
    );
    let load = hosts.docker(0, &["load", "-i", &file]);
    assert_eq!(load.code, 0, "{}", load.stderr);
    assert!(
        load.stdout.contains("Loaded image: purge:1"),
        "{}",
        load.stdout
    );
    assert_eq!(hosts.image_id(0, "purge:1"), id);
}

#[test]
fn failed_backup_stops_that_removal_and_only_that_host() {
    let hosts = lab().take(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    // Host 0's backup directory cannot be created: a file stands in its place.
    std::fs::write(dir.path().join(&hosts.host(0).name), "not a directory").expect("write");
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "--backup", &backup, "purge:1"]);
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    let json = run.json();
    let blocked = &json["hosts"][0];
    assert_eq!(blocked["status"], "partial");
    let result = &blocked["results"][0];
    assert!(
        result["error"]
            .as_str()
            .expect("error")
            .starts_with("not removed: its backup failed"),
        "{result}"
    );
    assert!(result["backup"]["error"].is_string(), "{result}");
    assert_eq!(result["deleted"], serde_json::json!([]));
    assert!(
        has_tag(&hosts, 0, "purge:1"),
        "purge:1 was removed without a backup"
    );
    assert!(
        run.stderr.contains(&format!(
            "error: {}: remove purge:1: not removed: its backup failed",
            hosts.host(0).name
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: check that"), "{}", run.stderr);

    assert_eq!(json["hosts"][1]["status"], "ok");
    assert!(!has_tag(&hosts, 1, "purge:1"));
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        status.success().then_some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn backup_on_a_full_disk_leaves_no_partial_archive_and_removes_nothing() {
    let hosts = lab().take(1);
    let Some(disk) = SmallDisk::mount("1m") else {
        panic!("this test needs `mount -t tmpfs` (run as root)");
    };
    let backup = disk.dir.path().to_string_lossy().to_string();
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "--backup", &backup, "purge:1"]);
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    let result = &run.json()["hosts"][0]["results"][0];
    let error = result["backup"]["error"].as_str().expect("backup error");
    assert!(error.contains("No space left"), "{error}");
    assert!(has_tag(&hosts, 0, "purge:1"));
    let files = files_under(disk.dir.path());
    assert!(files.is_empty(), "left behind: {files:?}");
}

#[test]
fn restore_leaves_a_moved_tag_alone_unless_forced() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    let original = hosts.image_id(0, "purge:1");
    let run = hosts.fleetrmi(&["rmi", "--backup", &backup, "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Meanwhile someone points purge:1 at another image.
    assert_eq!(hosts.docker(0, &["tag", "purge:keep", "purge:1"]).code, 0);
    let keep = hosts.image_id(0, "purge:keep");

    let refused = hosts.fleetrmi(&["--output", "json", "restore", &backup]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let archive = &refused.json()["hosts"][0]["restored"][0];
    assert_eq!(archive["status"], "conflict", "{archive}");
    assert!(
        refused.stderr.contains("now names image"),
        "{}",
        refused.stderr
    );
    assert_eq!(hosts.image_id(0, "purge:1"), keep);

    let forced = hosts.fleetrmi(&["restore", "--force", &backup]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(hosts.image_id(0, "purge:1"), original);
}

#[test]
fn restore_refuses_an_archive_that_changed() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    let run = hosts.fleetrmi(&["--output", "json", "rmi", "--backup", &backup, "unique:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = run.json()["hosts"][0]["results"][0]["backup"]["file"]
        .as_str()
        .expect("file")
        .to_string();
    let mut bytes = std::fs::read(&file).expect("read archive");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).expect("write archive");

    let restore = hosts.fleetrmi(&["--output", "json", "restore", &backup]);
    assert_eq!(restore.code, 1, "{}", restore.stderr);
    let archive = &restore.json()["hosts"][0]["restored"][0];
    assert_eq!(archive["status"], "failed");
    assert!(
        archive["error"]
            .as_str()
            .expect("error")
            .contains("changed since it was saved"),
        "{archive}"
    );
    assert!(!has_tag(&hosts, 0, "unique:1"));
}

#[test]
fn restore_refuses_another_hosts_backup_and_a_manifest_naming_foreign_files() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let host_dir = dir.path().join(&hosts.host(0).name);
    std::fs::create_dir(&host_dir).expect("host dir");
    let manifest = |host: &str, file: &str| {
        serde_json::json!({"format": 1, "host": host, "archives": [{
            "file": file, "bytes": 1, "sha256": "0".repeat(64),
            "saved_at": "2026-01-01T00:00:00Z", "reason": "rmi x:1",
            "engine_version": "20.10", "images": []
        }]})
        .to_string()
    };
    let good_file = format!("{}.tar", "a".repeat(64));
    std::fs::write(
        host_dir.join("manifest.json"),
        manifest("elsewhere", &good_file),
    )
    .expect("manifest");
    let restore = hosts.fleetrmi(&["restore", &dir.path().to_string_lossy()]);
    assert_eq!(restore.code, 3, "{}", restore.stderr);
    assert!(
        restore
            .stderr
            .contains("holds the backup of host \"elsewhere\""),
        "{}",
        restore.stderr
    );

    std::fs::write(
        host_dir.join("manifest.json"),
        manifest(&hosts.host(0).name, "/etc/passwd"),
    )
    .expect("manifest");
    let restore = hosts.fleetrmi(&["restore", &dir.path().to_string_lossy()]);
    assert_eq!(restore.code, 3, "{}", restore.stderr);
    assert!(
        restore
            .stderr
            .contains("the file name is not <64 hex digits>.tar"),
        "{}",
        restore.stderr
    );
}

#[test]
fn restore_of_a_directory_without_backups_is_bad_input() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let run = hosts.fleetrmi(&["restore", &dir.path().to_string_lossy()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("has no backup"), "{}", run.stderr);
}

#[test]
fn interrupt_during_a_backup_removes_nothing_and_leaves_no_partial_archive() {
    let hosts = lab().take(1);
    // An image big enough that its archive takes a few seconds to stream.
    let payload = tempfile::tempdir().expect("temp dir");
    let blob = payload.path().join("blob");
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 150000000 /dev/urandom > {} && tar -C {} -cf - blob | \
             DOCKER_HOST=unix://{} docker import - big:1",
            blob.display(),
            payload.path().display(),
            hosts.host(0).socket.display()
        ))
        .output()
        .expect("sh runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    drop(payload);

    let dir = tempfile::tempdir().expect("temp dir");
    let host_dir = dir.path().join(&hosts.host(0).name);
    let mut command = hosts.command(
        &lab().inventory(),
        &[
            "-l",
            &hosts.host(0).name,
            "--output",
            "json",
            "rmi",
            "--backup",
            &dir.path().to_string_lossy(),
            "big:1",
            "purge:1",
        ],
    );
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("fleetrmi starts");
    // Interrupt as soon as the archive is streaming.
    let started = std::time::Instant::now();
    while files_under(&host_dir).iter().all(|f| !f.ends_with(".part")) {
        assert!(started.elapsed().as_secs() < 60, "the backup never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("fleetrmi ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(json["hosts"][0]["status"], "interrupted", "{stderr}");
    assert!(
        json["hosts"][0]["failure"]["message"]
            .as_str()
            .expect("message")
            .contains("not attempted: big:1 purge:1"),
        "{json}"
    );
    assert!(
        files_under(&host_dir).is_empty(),
        "{:?}",
        files_under(&host_dir)
    );
    assert!(has_tag(&hosts, 0, "big:1"));
    assert!(has_tag(&hosts, 0, "purge:1"));
}
