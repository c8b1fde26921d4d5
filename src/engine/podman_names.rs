//! Podman's Docker API answers in its own spelling: fully qualified names
//! (`docker.io/library/app:1`) and bare hex IDs. fleetrmi reads and reports Docker's familiar
//! forms (`app:1`, `sha256:<hex>`) on every engine, so plans, records and reports compare; and
//! every engine's listed names lose the `<none>` placeholders old API versions put there.

use super::EngineKind;
use crate::plan::DeleteRecord;
use crate::reference::Reference;

/// `docker.io/library/app:1` → `app:1`; a name that does not parse is kept as it is.
pub(crate) fn familiar_name(name: &str) -> String {
    Reference::parse(name)
        .map(|reference| reference.familiar())
        .unwrap_or_else(|_| name.to_string())
}

/// A bare 64-hex ID → `sha256:<hex>`; anything else as it is.
pub(crate) fn docker_id(id: &str) -> String {
    if id.len() == 64 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        format!("sha256:{id}")
    } else {
        id.to_string()
    }
}

/// An engine's listed names (`RepoTags`, `RepoDigests`) without the `<none>` placeholders, in
/// Docker's familiar forms (only Podman's need respelling).
pub(crate) fn listed_names(kind: EngineKind, names: Vec<String>) -> Vec<String> {
    let names = real_references(names);
    if kind != EngineKind::Podman {
        return names;
    }
    names.iter().map(|name| familiar_name(name)).collect()
}

/// `<none>:<none>` and `<none>@<none>` are how API 1.41 writes "no reference".
fn real_references(references: Vec<String>) -> Vec<String> {
    references
        .into_iter()
        .filter(|reference| !reference.starts_with("<none>"))
        .collect()
}

/// A removal's records in Docker's spelling.
pub(crate) fn docker_records(records: Vec<DeleteRecord>) -> Vec<DeleteRecord> {
    records
        .into_iter()
        .map(|record| match record {
            DeleteRecord::Untagged(name) => DeleteRecord::Untagged(familiar_name(&name)),
            DeleteRecord::Deleted(id) => DeleteRecord::Deleted(docker_id(&id)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_become_familiar() {
        assert_eq!(familiar_name("docker.io/library/app:1"), "app:1");
        assert_eq!(familiar_name("docker.io/eng/app:1"), "eng/app:1");
        assert_eq!(familiar_name("localhost/app:1"), "localhost/app:1");
        assert_eq!(familiar_name("<none>:<none>"), "<none>:<none>");
    }

    #[test]
    fn listed_names_lose_placeholders_and_podmans_are_familiar() {
        let listed = || {
            vec![
                "<none>:<none>".to_string(),
                "docker.io/library/app:1".to_string(),
                "127.0.0.1:5000/dg@sha256:aa".to_string(),
            ]
        };
        assert_eq!(
            listed_names(EngineKind::Podman, listed()),
            ["app:1", "127.0.0.1:5000/dg@sha256:aa"]
        );
        assert_eq!(
            listed_names(EngineKind::DockerClassic, listed()),
            ["docker.io/library/app:1", "127.0.0.1:5000/dg@sha256:aa"]
        );
    }

    #[test]
    fn bare_hex_ids_get_their_algorithm() {
        let hex = "a".repeat(64);
        assert_eq!(docker_id(&hex), format!("sha256:{hex}"));
        assert_eq!(docker_id(&format!("sha256:{hex}")), format!("sha256:{hex}"));
        assert_eq!(docker_id("abc"), "abc");
    }

    #[test]
    fn records_are_respelled() {
        let hex = "b".repeat(64);
        assert_eq!(
            docker_records(vec![
                DeleteRecord::Deleted(hex.clone()),
                DeleteRecord::Untagged("docker.io/library/app:1".into()),
            ]),
            vec![
                DeleteRecord::Deleted(format!("sha256:{hex}")),
                DeleteRecord::Untagged("app:1".into()),
            ]
        );
    }
}
