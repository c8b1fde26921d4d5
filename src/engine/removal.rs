//! `DELETE /images/{name}`: the engine's own removal, recorded exactly as it answered.

use bollard::query_parameters::RemoveImageOptions;

use super::bounded::Within;
use super::{Engine, EngineError, EngineKind, podman_names};
use crate::plan::DeleteRecord;

impl Engine {
    /// Removes one image by the name the user gave, as `docker rmi` does, and returns the
    /// engine's `Untagged`/`Deleted` entries in its order.
    pub async fn remove_image(
        &self,
        name: &str,
        force: bool,
        no_prune: bool,
    ) -> Result<Vec<DeleteRecord>, EngineError> {
        // Podman's forced removal also stops and removes every container using the image,
        // which `docker rmi -f` never does: fleetrmi never asks Podman to force (the plan sends
        // such removals name by name, or refuses them).
        let force = force && self.info.kind != EngineKind::Podman;
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
            .within(self.api_timeout(), "remove an image")
            .await?;
        let mut records = Vec::with_capacity(items.len());
        for item in items {
            if let Some(reference) = item.untagged {
                records.push(DeleteRecord::Untagged(reference));
            }
            if let Some(id) = item.deleted {
                records.push(DeleteRecord::Deleted(id));
            }
        }
        if self.info.kind == EngineKind::Podman {
            return Ok(podman_names::docker_records(records));
        }
        Ok(records)
    }
}
