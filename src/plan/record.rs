//! One entry of the engine's answer to `DELETE /images/{name}`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One element of the engine's 200 answer, in the order the engine did things.
///
/// Serialises exactly as the engine's JSON (`{"Untagged":"x:1"}`, `{"Deleted":"sha256:…"}`), so
/// an engine answer can be read straight into records and compared with the plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeleteRecord {
    /// A tag or digest reference was removed; the familiar form (`x:1`, `localhost:5055/dg@sha256:…`).
    Untagged(String),
    /// An image ID, or the chain ID of a layer freed on disk (`sha256:<64 hex>`).
    Deleted(String),
}

/// The line `docker rmi` prints for the record.
impl fmt::Display for DeleteRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteRecord::Untagged(reference) => write!(f, "Untagged: {reference}"),
            DeleteRecord::Deleted(id) => write!(f, "Deleted: {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_print_like_docker_rmi() {
        assert_eq!(
            DeleteRecord::Untagged("x:1".to_owned()).to_string(),
            "Untagged: x:1"
        );
        assert_eq!(
            DeleteRecord::Deleted("sha256:ab".to_owned()).to_string(),
            "Deleted: sha256:ab"
        );
    }

    #[test]
    fn records_read_and_write_the_engine_json() {
        let json = r#"[{"Untagged":"x:1"},{"Deleted":"sha256:ab"}]"#;
        let records: Vec<DeleteRecord> =
            serde_json::from_str(json).expect("the engine's JSON parses");
        assert_eq!(
            records,
            [
                DeleteRecord::Untagged("x:1".to_owned()),
                DeleteRecord::Deleted("sha256:ab".to_owned())
            ]
        );
        assert_eq!(
            serde_json::to_string(&records).expect("records serialise"),
            json
        );
    }
}
