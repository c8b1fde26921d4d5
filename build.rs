//! Records the commit fleetrmi is built from, for `--version`: `git rev-parse` when the source
//! is a git checkout, else `FLEETRMI_BUILD_COMMIT` (set it when building from a source archive),
//! else "commit unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FLEETRMI_BUILD_COMMIT");
    let described = std::env::var("FLEETRMI_BUILD_COMMIT")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .or_else(commit_from_git)
        .unwrap_or_else(|| "commit unknown: built outside a git checkout".to_owned());
    println!("cargo:rustc-env=FLEETRMI_BUILD_COMMIT={described}");
}

/// `commit <12 hex>, <commit date>`, and asks cargo to run this again when HEAD moves.
fn commit_from_git() -> Option<String> {
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    let date = git(&["log", "-1", "--format=%cs", "HEAD"])?;
    // HEAD names the branch; the branch's ref file (or packed-refs) moves with each commit.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch])?);
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"])?);
    for path in watched {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(format!("commit {hash}, {date}"))
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
