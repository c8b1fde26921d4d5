//! Digest references (`repo@sha256:…`, `RepoDigests`): `fleetrmi rmi` against `docker rmi`,
//! and `--dry-run` against the real run, on the lab's pushed images (semantics doc section 7,
//! cases 23–27, and scenario F). `dg:1` has a tag and a digest in one repository; `dgonly`
//! has only a digest.

use serde_json::Value;

use crate::dry_run::{assert_dry_run_predicts, step};
use crate::harness::{Hosts, lab};
use crate::parity::assert_steps_match_docker;

/// The lab's registry and its two pushed images, from seed.json.
struct Digests {
    /// `127.0.X.250:5000/dg:1`
    tag: String,
    /// `127.0.X.250:5000/dg@sha256:…`
    dg: String,
    /// `127.0.X.250:5000/dgonly@sha256:…`
    dgonly: String,
    /// `127.0.X.250:5000`
    registry: String,
}

fn digests() -> Digests {
    let text = std::fs::read_to_string(lab().dir.join("seed.json")).expect("lab wrote seed.json");
    let seed: Value = serde_json::from_str(&text).expect("seed.json is JSON");
    let registry = seed["registry"].as_str().expect("registry").to_string();
    let digest = |name: &str| {
        seed["digests"][name]
            .as_str()
            .unwrap_or_else(|| panic!("seed.json has no digest for {name}"))
            .to_string()
    };
    Digests {
        tag: format!("{registry}/dg:1"),
        dg: digest("dg:1"),
        dgonly: digest("dgonly:1"),
        registry,
    }
}

/// Every image on a host with its tags and digests (`images` ignores digests).
fn references(hosts: &Hosts, position: usize) -> Vec<String> {
    let ids = hosts.docker(position, &["images", "-aq", "--no-trunc"]);
    let mut args = vec![
        "image",
        "inspect",
        "-f",
        "{{.Id}} {{range .RepoTags}}{{.}},{{end}} {{range .RepoDigests}}{{.}},{{end}}",
    ];
    let mut ids: Vec<&str> = ids.stdout.split_whitespace().collect();
    ids.sort_unstable();
    ids.dedup();
    args.extend(ids);
    let run = hosts.docker(position, &args);
    assert_eq!(run.code, 0, "inspect: {}", run.stderr);
    let mut lines: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Each step through `assert_steps_match_docker`, then the digests compared as well.
fn assert_digest_steps_match_docker(hosts: &Hosts, steps: &[&[&str]]) -> Vec<Value> {
    let mut reports = Vec::new();
    for step in steps {
        reports.extend(assert_steps_match_docker(hosts, &[step]));
        assert_eq!(
            references(hosts, 1),
            references(hosts, 0),
            "step {step:?}: tags or digests differ after the step"
        );
    }
    reports
}

fn untagged(report: &Value) -> Vec<String> {
    report["hosts"][0]["results"][0]["untagged"]
        .as_array()
        .expect("untagged")
        .iter()
        .map(|r| r.as_str().expect("text").to_string())
        .collect()
}

fn deleted_count(report: &Value) -> usize {
    report["hosts"][0]["results"][0]["deleted"]
        .as_array()
        .expect("deleted")
        .len()
}

#[test]
fn digest_removed_by_digest_keeps_the_tag_then_last_tag_takes_the_digest_too() {
    let d = digests();
    let hosts = lab().take(2);
    // Case 23, then case 24 (on a reseeded pair, so the digest is there again).
    let reports = assert_digest_steps_match_docker(&hosts, &[&[&d.dg]]);
    assert_eq!(untagged(&reports[0]), [d.dg.as_str()]);
    assert_eq!(deleted_count(&reports[0]), 0);
    hosts.reseed();
    let reports = assert_digest_steps_match_docker(&hosts, &[&[&d.tag]]);
    assert_eq!(untagged(&reports[0]), [d.tag.as_str(), d.dg.as_str()]);
    assert!(deleted_count(&reports[0]) >= 2, "{}", reports[0]);
}

#[test]
fn digest_by_id_with_tag_and_digest_in_one_repository_needs_no_force() {
    let d = digests();
    let hosts = lab().take(2);
    // Case 25: a single repository, so a single reference.
    let id = format!("@id:{}", d.tag);
    let reports = assert_digest_steps_match_docker(&hosts, &[&[&id]]);
    assert_eq!(reports[0]["hosts"][0]["status"], "ok");
    assert_eq!(untagged(&reports[0]), [d.tag.as_str(), d.dg.as_str()]);
}

#[test]
fn digest_plus_a_tag_in_another_repository_by_id_conflicts() {
    let d = digests();
    let hosts = lab().take(2);
    for position in 0..2 {
        let run = hosts.docker(position, &["tag", &d.dgonly, "elsewhere:1"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // Case 26 and scenario F: 409 by ID; untag the other repository; then by digest.
    let id = format!("@id:{}", d.dgonly);
    let reports =
        assert_digest_steps_match_docker(&hosts, &[&[&id], &["elsewhere:1"], &[&d.dgonly]]);
    assert_eq!(reports[0]["hosts"][0]["results"][0]["error_status"], 409);
    assert_eq!(untagged(&reports[1]), ["elsewhere:1"]);
    assert_eq!(untagged(&reports[2]), [d.dgonly.as_str()]);
    assert!(deleted_count(&reports[2]) >= 2, "{}", reports[2]);
}

#[test]
fn digest_only_image_by_tag_and_digest_by_other_repository_and_by_id() {
    let d = digests();
    let hosts = lab().take(2);
    let (_, digest) = d.dgonly.split_once('@').expect("a digest reference");
    // Scenario F: a digest known only under another repository is not found.
    let other = format!("{}/other@{digest}", d.registry);
    // Case 27: `repo:tag@digest` where only the digest exists: the tag is ignored, echoed.
    let with_tag = format!("{}/dgonly:whatever@{digest}", d.registry);
    let reports = assert_digest_steps_match_docker(&hosts, &[&[&other], &[&with_tag]]);
    assert_eq!(reports[0]["hosts"][0]["results"][0]["error_status"], 404);
    assert_eq!(untagged(&reports[1]), [with_tag.as_str()]);
    assert!(deleted_count(&reports[1]) >= 2, "{}", reports[1]);
    // The digest-only image by ID: its one reference goes, then the image.
    hosts.reseed();
    let id = format!("@id:{}", d.dgonly);
    let reports = assert_digest_steps_match_docker(&hosts, &[&[&id]]);
    assert_eq!(untagged(&reports[0]), [d.dgonly.as_str()]);
}

#[test]
fn digest_dry_run_matches_by_digest_tag_and_tagged_digest() {
    let d = digests();
    let hosts = lab().take(1);
    let (_, digest) = d.dgonly.split_once('@').expect("a digest reference");
    let with_tag = format!("{}/dgonly:whatever@{digest}", d.registry);
    let other = format!("{}/other@{digest}", d.registry);
    assert_dry_run_predicts(
        &hosts,
        &[
            step(&[&d.dg]),
            step(&[&d.tag]),
            step(&[&other]),
            step(&[&with_tag]),
        ],
    );
}

#[test]
fn digest_dry_run_matches_by_id() {
    let d = digests();
    let hosts = lab().take(1);
    let dg = hosts.image_id(0, &d.tag);
    let dgonly = hosts.image_id(0, &d.dgonly);
    let run = hosts.docker(0, &["tag", &d.dgonly, "elsewhere:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_dry_run_predicts(
        &hosts,
        &[
            step(&[&dg]),
            step(&[&dgonly]),
            step(&["elsewhere:1"]),
            step(&[&dgonly]),
        ],
    );
}

#[test]
fn a_rule_prune_removes_a_pulled_image_by_id_without_force() {
    // `dg:1` has its tag and a digest in one repository, as every pulled or pushed image has:
    // a single reference, so the rules remove it with one DELETE by ID (case 25), no --force.
    let hosts = lab().take(1);
    let d = digests();
    let pattern = format!("{}/dg:*", d.registry);
    let args = |dry: bool| {
        let mut args = vec!["--output", "json", "prune", "-a", "--match", &pattern];
        args.push(if dry { "--dry-run" } else { "--yes" });
        hosts.fleetrmi(&args)
    };
    let dry = args(true);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let real = args(false);
    assert_eq!(real.code, 0, "{}", real.stderr);
    let host = &real.json()["hosts"][0];
    assert_eq!(host["status"], "ok", "{host}");
    assert_eq!(host["warnings"], serde_json::json!([]), "{}", real.stderr);
    let results = host["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{host}");
    assert!(results[0]["error"].is_null(), "{host}");
    assert!(
        results[0]["image"]
            .as_str()
            .expect("name")
            .starts_with("sha256:")
    );
    assert_eq!(untagged(&real.json()), [d.tag.as_str(), d.dg.as_str()]);
    assert_eq!(
        dry.json()["hosts"][0]["predicted_bytes"],
        host["reclaimed_bytes"]
    );
    assert!(
        !references(&hosts, 0)
            .iter()
            .any(|line| line.contains("/dg:1") || line.contains("/dg@")),
        "dg is gone"
    );
}
