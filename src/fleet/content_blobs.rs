//! The content blobs of the images on a host with containerd's image store, read from
//! containerd's content store over the host's SFTP session, so freed bytes count the
//! manifests, configs and compressed layers containerd removes with an image, not only its
//! unpacked snapshots (the Docker API names no blob sizes an `rmi` frees).
//!
//! An image's ID there is the digest of its manifest or index, which is also the blob's file
//! name. The manifests are read in one batch (two round trips: opens, then reads); an index's
//! manifests present are read in a second batch only when some image is an index. A manifest
//! present counts with its config and layers (Docker keeps every blob of a platform it pulled
//! or loaded); an index's other platforms, absent, count nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;

use crate::engine::EngineKind;
use crate::plan::DeleteRecord;
use crate::snapshot::{ContentBlobs, Snapshot};
use crate::ssh::{FileRead, SftpError};

use super::connect::ConnectedHost;
use super::free_space::FreeSpace;

/// Where the content store lies below a containerd root.
const BLOBS: &str = "io.containerd.content.v1.content/blobs/sha256";
/// containerd's root when it runs as the system's own service (Docker CE's `containerd.io`,
/// Debian's `containerd`).
const SYSTEM_ROOT: &str = "/var/lib/containerd";

/// The warning of a host whose content blobs could not be read: bytes are the snapshots only.
fn not_counted(reason: &str) -> String {
    let hint = if reason == SftpError::NoSubsystem.to_string() {
        "give sshd a `Subsystem sftp` line".to_owned()
    } else {
        format!(
            "containerd keeps its root 0700, so only root may read its content store \
             (<docker root>/containerd/daemon/{BLOBS} when dockerd starts its own containerd, \
             else {SYSTEM_ROOT}/{BLOBS}): connect as root to count it"
        )
    };
    format!(
        "content blobs not counted: {reason}; freed bytes are the unpacked layers only (hint: \
         {hint})"
    )
}

/// On containerd's image store, when the plan's `records` delete an image: reads the images'
/// content blobs into `snapshot` and says so (the caller plans again, so predicted bytes count
/// them as the real run will), or warns why they are not counted. Elsewhere, nothing.
pub(super) async fn add_content_blobs<'r>(
    host: &ConnectedHost,
    sftp: &mut FreeSpace,
    snapshot: &mut Snapshot,
    mut records: impl Iterator<Item = &'r DeleteRecord>,
    warnings: &mut Vec<String>,
) -> bool {
    if snapshot.engine != EngineKind::DockerContainerd
        || !records.any(|record| matches!(record, DeleteRecord::Deleted(_)))
    {
        return false;
    }
    let limit = host.engine.api_timeout();
    match read_content_blobs(host, sftp, snapshot, limit).await {
        Ok(blobs) => {
            snapshot.content = Some(blobs);
            true
        }
        Err(reason) => {
            warnings.push(not_counted(&reason));
            false
        }
    }
}

/// The content blobs of every image of `snapshot`, within `limit`. `Err` is the reason for
/// [`not_counted`].
async fn read_content_blobs(
    host: &ConnectedHost,
    sftp: &mut FreeSpace,
    snapshot: &Snapshot,
    limit: Duration,
) -> Result<ContentBlobs, String> {
    let roots = candidate_roots(&host.engine.info.docker_root_dir);
    let attempt = async {
        let channel = sftp
            .sftp(&host.session)
            .await
            .map_err(|error| sftp_failure(&error))?;
        let targets: Vec<(String, String)> = snapshot
            .images
            .iter()
            .filter_map(|image| Some((image.id.clone(), blob_hex(&image.id)?.to_owned())))
            .collect();
        if targets.is_empty() {
            return Ok(ContentBlobs::default());
        }
        let paths: Vec<String> = roots
            .iter()
            .flat_map(|root| targets.iter().map(move |(_, hex)| blob_path(root, hex)))
            .collect();
        let reads = channel
            .read_files(&paths)
            .await
            .map_err(|error| sftp_failure(&error))?;
        let per_root: Vec<&[FileRead]> = reads.chunks(targets.len().max(1)).collect();
        let (root, found) = roots
            .iter()
            .zip(&per_root)
            .find(|(_, reads)| {
                reads
                    .iter()
                    .any(|read| matches!(read, FileRead::Contents(_)))
            })
            .ok_or_else(|| nothing_read(&roots, &per_root))?;
        let documents: Vec<(String, Vec<u8>)> = targets
            .iter()
            .zip(found.iter())
            .filter_map(|((id, _), read)| match read {
                FileRead::Contents(bytes) => Some((id.clone(), bytes.clone())),
                _ => None,
            })
            .collect();
        let wanted = children_wanted(&documents);
        let children = if wanted.is_empty() {
            BTreeMap::new()
        } else {
            let paths: Vec<String> = wanted
                .iter()
                .filter_map(|digest| blob_hex(digest).map(|hex| blob_path(root, hex)))
                .collect();
            let reads = channel
                .read_files(&paths)
                .await
                .map_err(|error| sftp_failure(&error))?;
            wanted
                .into_iter()
                .zip(reads)
                .filter_map(|(digest, read)| match read {
                    FileRead::Contents(bytes) => Some((digest, bytes)),
                    _ => None,
                })
                .collect()
        };
        Ok(assemble(&documents, &children))
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!(
            "no answer from the sftp server within {}",
            humantime::format_duration(limit)
        )),
    }
}

/// Where containerd's root may be: the one dockerd starts itself keeps it under the Docker root,
/// a system containerd in its default place.
fn candidate_roots(docker_root: &str) -> Vec<String> {
    let mut roots = Vec::new();
    if !docker_root.is_empty() {
        roots.push(format!(
            "{}/containerd/daemon",
            docker_root.trim_end_matches('/')
        ));
    }
    roots.push(SYSTEM_ROOT.to_owned());
    roots
}

fn blob_path(root: &str, hex: &str) -> String {
    format!("{root}/{BLOBS}/{hex}")
}

/// The hex of a `sha256:<64 lowercase hex>` digest; anything else names no blob (and no path).
fn blob_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

fn sftp_failure(error: &SftpError) -> String {
    match error {
        SftpError::NoSubsystem => error.to_string(),
        other => format!("reading containerd's content store over sftp: {other}"),
    }
}

/// Why no root gave a manifest: the first refusal that is not "no such file", or none found.
fn nothing_read(roots: &[String], per_root: &[&[FileRead]]) -> String {
    for (root, reads) in roots.iter().zip(per_root) {
        for read in reads.iter() {
            match read {
                FileRead::Denied => {
                    return format!("permission denied reading {root}/{BLOBS}");
                }
                FileRead::Failed(message) => {
                    return format!("reading {root}/{BLOBS}: {message}");
                }
                _ => {}
            }
        }
    }
    format!(
        "no image's manifest found in {}",
        roots
            .iter()
            .map(|root| format!("{root}/{BLOBS}"))
            .collect::<Vec<_>>()
            .join(" or ")
    )
}

/// A manifest or an index, as far as the blobs it references go.
#[derive(Debug, Default, Deserialize)]
struct Document {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Descriptor {
    digest: String,
    size: u64,
}

fn decode(bytes: &[u8]) -> Document {
    serde_json::from_slice(bytes).unwrap_or_default()
}

/// The manifests the indexes among `documents` name, each once.
fn children_wanted(documents: &[(String, Vec<u8>)]) -> BTreeSet<String> {
    documents
        .iter()
        .flat_map(|(_, bytes)| decode(bytes).manifests)
        .map(|child| child.digest)
        .filter(|digest| blob_hex(digest).is_some())
        .collect()
}

/// Each image's blobs: its own document; a manifest's config and layers; an index's manifests
/// present in `children` with their configs and layers (an index below an index counts as its
/// own blob only).
fn assemble(documents: &[(String, Vec<u8>)], children: &BTreeMap<String, Vec<u8>>) -> ContentBlobs {
    let mut blobs = ContentBlobs::default();
    for (id, bytes) in documents {
        let mut held = vec![id.clone()];
        blobs.sizes.insert(id.clone(), bytes.len() as u64);
        let document = decode(bytes);
        add_manifest_parts(&document, &mut held, &mut blobs.sizes);
        for child in &document.manifests {
            let Some(child_bytes) = children.get(&child.digest) else {
                continue;
            };
            held.push(child.digest.clone());
            blobs
                .sizes
                .insert(child.digest.clone(), child_bytes.len() as u64);
            add_manifest_parts(&decode(child_bytes), &mut held, &mut blobs.sizes);
        }
        held.sort();
        held.dedup();
        blobs.by_image.insert(id.clone(), held);
    }
    blobs
}

fn add_manifest_parts(
    document: &Document,
    held: &mut Vec<String>,
    sizes: &mut BTreeMap<String, u64>,
) {
    for part in document.config.iter().chain(&document.layers) {
        if blob_hex(&part.digest).is_some() {
            held.push(part.digest.clone());
            sizes.insert(part.digest.clone(), part.size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn manifest(config: char, layers: &[(char, u64)]) -> Vec<u8> {
        let layers: Vec<String> = layers
            .iter()
            .map(|(c, size)| format!(r#"{{"digest":"{}","size":{size}}}"#, digest(*c)))
            .collect();
        format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"{}","size":30}},"layers":[{}]}}"#,
            digest(config),
            layers.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn a_manifest_holds_itself_its_config_and_its_layers() {
        let bytes = manifest('c', &[('1', 100), ('2', 200)]);
        let blobs = assemble(&[(digest('a'), bytes.clone())], &BTreeMap::new());
        let mut expected = vec![digest('a'), digest('c'), digest('1'), digest('2')];
        expected.sort();
        assert_eq!(blobs.by_image[&digest('a')], expected);
        assert_eq!(blobs.sizes[&digest('a')], bytes.len() as u64);
        assert_eq!(blobs.sizes[&digest('c')], 30);
        assert_eq!(blobs.sizes[&digest('2')], 200);
    }

    #[test]
    fn an_index_holds_only_the_manifests_present() {
        let index = format!(
            r#"{{"manifests":[{{"digest":"{}","size":9}},{{"digest":"{}","size":9}}]}}"#,
            digest('d'),
            digest('f')
        )
        .into_bytes();
        let documents = [(digest('e'), index)];
        assert_eq!(
            children_wanted(&documents),
            BTreeSet::from([digest('d'), digest('f')])
        );
        let present = manifest('c', &[('1', 100)]);
        let children = BTreeMap::from([(digest('d'), present.clone())]);
        let blobs = assemble(&documents, &children);
        let mut expected = vec![digest('e'), digest('d'), digest('c'), digest('1')];
        expected.sort();
        assert_eq!(blobs.by_image[&digest('e')], expected);
        assert_eq!(blobs.sizes[&digest('d')], present.len() as u64);
        assert!(!blobs.sizes.contains_key(&digest('f')));
    }

    #[test]
    fn digests_that_are_not_plain_sha256_name_no_path() {
        assert_eq!(blob_hex(&digest('a')), Some(&*"a".repeat(64)));
        assert_eq!(blob_hex("sha256:../../etc/passwd"), None);
        assert_eq!(blob_hex(&format!("sha512:{}", "a".repeat(64))), None);
        assert_eq!(blob_hex(&format!("sha256:{}", "A".repeat(64))), None);
        let odd = r#"{"config":{"digest":"sha256:../x","size":1},"layers":[]}"#;
        let blobs = assemble(&[(digest('a'), odd.as_bytes().to_vec())], &BTreeMap::new());
        assert_eq!(blobs.by_image[&digest('a')], [digest('a')]);
    }

    #[test]
    fn the_docker_roots_containerd_comes_before_the_systems() {
        assert_eq!(
            candidate_roots("/var/lib/docker/"),
            ["/var/lib/docker/containerd/daemon", "/var/lib/containerd"]
        );
        assert_eq!(candidate_roots(""), ["/var/lib/containerd"]);
    }

    #[test]
    fn a_refusal_is_named_before_a_missing_store() {
        let roots = ["/d/containerd/daemon".to_owned(), SYSTEM_ROOT.to_owned()];
        let missing = [FileRead::Missing];
        let denied = [FileRead::Denied];
        let reason = nothing_read(&roots, &[&missing, &denied]);
        assert_eq!(
            reason,
            format!("permission denied reading {SYSTEM_ROOT}/{BLOBS}")
        );
        let reason = nothing_read(&roots, &[&missing, &missing]);
        assert!(
            reason.starts_with("no image's manifest found in /d/"),
            "{reason}"
        );
    }
}
