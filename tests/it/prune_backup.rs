//! `prune --backup DIR`: the engine prune and rule-based prune save every image they remove
//! first, `restore DIR` brings the host back to what it was, and a failed backup removes nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::{Hosts, lab};

/// Runs `prune ARGS --yes --backup DIR` on the hosts and checks every host was `ok`.
fn prune_with_backup(hosts: &Hosts, backup: &str, args: &[&str]) -> Value {
    let mut command = vec!["--output", "json", "prune", "--yes", "--backup", backup];
    command.extend(args);
    let run = hosts.fleetrmi(&command);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json = run.json();
    for report in json["hosts"].as_array().expect("hosts") {
        assert_eq!(report["status"], "ok", "{report}");
    }
    json
}

/// The image IDs (not layers) a result deleted, of those the host had before.
fn deleted_images(result: &Value, before: &BTreeMap<String, Vec<String>>) -> Vec<Value> {
    result["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .filter(|id| id.as_str().is_some_and(|id| before.contains_key(id)))
        .cloned()
        .collect()
}

fn restore_is_complete(hosts: &Hosts, backup: &str) {
    let restore = hosts.fleetrmi(&["--output", "json", "restore", backup]);
    assert_eq!(restore.code, 0, "stderr:\n{}", restore.stderr);
    for report in restore.json()["hosts"].as_array().expect("hosts") {
        assert_eq!(report["status"], "ok", "{report}");
        for archive in report["restored"].as_array().expect("restored") {
            assert_eq!(archive["status"], "restored", "{archive}");
        }
    }
}

#[test]
fn prune_backup_engine_prune_saves_everything_first_and_restore_undoes_it() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().join("backups").to_string_lossy().to_string();
    let before = hosts.images(0);

    // The dry run names the one archive and writes nothing.
    let dry = hosts.fleetrmi(&[
        "--output",
        "json",
        "prune",
        "-a",
        "--dry-run",
        "--backup",
        &backup,
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(!std::path::Path::new(&backup).exists(), "a dry run wrote");
    let planned = dry.json()["hosts"][0]["results"][0]["backup"]["file"].clone();
    assert!(planned.is_string(), "{}", dry.stdout);

    let json = prune_with_backup(&hosts, &backup, &["-a"]);
    let result = &json["hosts"][0]["results"][0];
    assert_eq!(result["backup"]["file"], planned);
    assert_eq!(result["image"], "(prune)");
    let saved = result["backup"]["images"].as_array().expect("saved images");
    assert!(!saved.is_empty(), "{result}");
    for id in deleted_images(result, &before) {
        assert!(saved.contains(&id), "{id} pruned but not saved: {result}");
    }
    let file = result["backup"]["file"].as_str().expect("archive");
    assert_eq!(
        std::fs::metadata(file).expect("archive exists").len(),
        result["backup"]["bytes"].as_u64().expect("bytes")
    );
    assert_ne!(hosts.images(0), before, "prune -a removed nothing");

    restore_is_complete(&hosts, &backup);
    assert_eq!(hosts.images(0), before, "images differ after the restore");
}

#[test]
fn prune_backup_rules_save_each_image_before_its_removal_and_restore_undoes_it() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().join("backups").to_string_lossy().to_string();
    let before = hosts.images(0);

    let json = prune_with_backup(&hosts, &backup, &["-a", "--match", "app:*"]);
    let results = json["hosts"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        for id in deleted_images(result, &before) {
            let saved = result["backup"]["images"].as_array().expect("a backup");
            assert!(saved.contains(&id), "{id} removed but not saved: {result}");
            assert!(result["backup"]["sha256"].is_string(), "{result}");
        }
    }
    assert!(
        !hosts
            .images(0)
            .values()
            .flatten()
            .any(|tag| tag.starts_with("app:")),
        "app:* images left"
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(&backup)
                .join(&hosts.host(0).name)
                .join("manifest.json"),
        )
        .expect("manifest"),
    )
    .expect("manifest JSON");
    let reason = manifest["archives"][0]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("prune: "), "{reason}");

    restore_is_complete(&hosts, &backup);
    assert_eq!(hosts.images(0), before, "images differ after the restore");
}

#[test]
fn prune_backup_that_fails_removes_nothing_engine_or_rules() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().to_string_lossy().to_string();
    // The host's backup directory cannot be created: a file stands in its place.
    std::fs::write(dir.path().join(&hosts.host(0).name), "not a directory").expect("write");
    let before = hosts.images(0);

    for (args, error) in [
        (
            &["-a"][..],
            "not pruned: the backup of the images it would remove failed",
        ),
        (
            &["-a", "--match", "app:*"][..],
            "not removed: its backup failed",
        ),
    ] {
        let mut command = vec!["--output", "json", "prune", "--yes", "--backup", &backup];
        command.extend(args);
        let run = hosts.fleetrmi(&command);
        assert_eq!(run.code, 1, "{args:?} stderr:\n{}", run.stderr);
        let json = run.json();
        let report = &json["hosts"][0];
        assert_eq!(report["status"], "partial", "{report}");
        let results = report["results"].as_array().expect("results");
        assert_eq!(
            results.len(),
            1,
            "{args:?}: stopped at the failed backup: {report}"
        );
        let message = results[0]["error"].as_str().expect("error");
        assert!(message.starts_with(error), "{message}");
        assert!(results[0]["backup"]["error"].is_string(), "{report}");
        assert_eq!(results[0]["deleted"], serde_json::json!([]));
        assert!(run.stderr.contains("hint: check that"), "{}", run.stderr);
        assert_eq!(
            hosts.images(0),
            before,
            "{args:?} removed images without a backup"
        );
    }
}

#[test]
fn prune_backup_with_apply_saves_under_the_policy_name_and_restore_undoes_it() {
    let hosts = lab().take(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().join("backups").to_string_lossy().to_string();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "policies:\n  - {name: apps, groups: [lab], all: true, match: ['app:*']}\n",
    )
    .expect("write policy");
    let before = hosts.images(0);

    let run = hosts.fleetrmi(&[
        "--output",
        "json",
        "apply",
        &policy.to_string_lossy(),
        "--yes",
        "--backup",
        &backup,
    ]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert_eq!(run.json()["hosts"][0]["status"], "ok");
    assert_ne!(hosts.images(0), before, "apply removed nothing");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(&backup)
                .join(&hosts.host(0).name)
                .join("manifest.json"),
        )
        .expect("manifest"),
    )
    .expect("manifest JSON");
    let reason = manifest["archives"][0]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("apply apps: "), "{reason}");

    restore_is_complete(&hosts, &backup);
    assert_eq!(hosts.images(0), before, "images differ after the restore");
}
