//! `DELETE /images/{name}`: the engine's own removal, recorded exactly as it answered.

use bollard::query_parameters::RemoveImageOptions;

use super::{Engine, EngineError};

/// What the engine did for one `DELETE /images/{name}`, in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalOutcome {
    /// References removed, in familiar form (`x:1`, `localhost:5055/dg@sha256:…`).
    pub untagged: Vec<String>,
    /// Image IDs and layer chain IDs deleted.
    pub deleted: Vec<String>,
    /// Both kinds in the order the engine listed them.
    pub records: Vec<(RecordKind, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Untagged,
    Deleted,
}

impl Engine {
    /// Removes one image by the name the user gave, as `docker rmi` does.
    pub async fn remove_image(
        &self,
        name: &str,
        force: bool,
        no_prune: bool,
    ) -> Result<RemovalOutcome, EngineError> {
        let items = self
            .docker
            .remove_image(
                name,
                Some(RemoveImageOptions {
                    force,
                    noprune: no_prune,
                    platforms: None,
                }),
                None,
            )
            .await
            .map_err(|error| EngineError::from_bollard("remove an image", error))?;
        let mut outcome = RemovalOutcome::default();
        for item in items {
            if let Some(reference) = item.untagged {
                outcome.untagged.push(reference.clone());
                outcome.records.push((RecordKind::Untagged, reference));
            }
            if let Some(id) = item.deleted {
                outcome.deleted.push(id.clone());
                outcome.records.push((RecordKind::Deleted, id));
            }
        }
        Ok(outcome)
    }
}
