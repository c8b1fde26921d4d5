//! `DELETE /images/{name}`: the engine's own removal, recorded exactly as it answered.

use bollard::query_parameters::RemoveImageOptions;

use super::bounded::Within;
use super::{Engine, EngineError, EngineKind, podman_names};
use crate::plan::DeleteRecord;
use crate::reference::Reference;

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

    /// Podman only: removes one tag and nothing else (libpod's `untag`), answered as Docker's
    /// `Untagged` record. `docker rmi -f` of an image a container uses untags it and keeps the
    /// container; Podman's compat removal would remove the container with its last name.
    pub async fn untag_image(&self, tag: &str) -> Result<Vec<DeleteRecord>, EngineError> {
        let reference = Reference::parse(tag)
            .map_err(|error| EngineError::Protocol(format!("cannot untag {tag}: {error}")))?
            .with_default_tag();
        let name = reference.name();
        let tag_only = reference.tag().unwrap_or("latest");
        // The reference grammar admits no character that needs escaping in a path or query.
        let path = format!(
            "/libpod/images/{}/untag?repo={name}&tag={tag_only}",
            reference.normalized()
        );
        self.raw
            .call_for_status("untag an image", hyper::Method::POST, &path)
            .await?;
        Ok(vec![DeleteRecord::Untagged(reference.familiar())])
    }
}
