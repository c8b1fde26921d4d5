//! `GET /images/json` with the engine's own filters, and how many containers use each image;
//! Podman's names and IDs respelled to Docker's forms, as `docker images` shows them.

use std::collections::HashMap;

use bollard::query_parameters::ListImagesOptions;

use super::bounded::Within;
use super::{Engine, EngineError, podman_names};
use crate::data::ListedImage;

impl Engine {
    /// `docker images [-a] [--filter …]`: the engine's list, newest first, each image with the
    /// number of containers using it (counted from `/containers/json?all=1`, because
    /// `/images/json` leaves `Containers` at -1 before API 1.51).
    pub async fn list_images(
        &self,
        filters: HashMap<String, Vec<String>>,
        all: bool,
    ) -> Result<Vec<ListedImage>, EngineError> {
        let summaries = self
            .docker
            .list_images(Some(ListImagesOptions {
                all,
                filters: Some(filters).filter(|filters| !filters.is_empty()),
                ..Default::default()
            }))
            .within(self.api_timeout(), "list images")
            .await?;
        let containers = self.all_containers().await?;

        let mut used: HashMap<String, (u64, u64)> = HashMap::new();
        for container in containers {
            let Some(image_id) = container.image_id else {
                continue;
            };
            let running = container
                .state
                .map(|state| {
                    matches!(
                        state.to_string().as_str(),
                        "running" | "paused" | "restarting"
                    )
                })
                .unwrap_or(false);
            let entry = used.entry(podman_names::docker_id(&image_id)).or_default();
            entry.0 += 1;
            entry.1 += u64::from(running);
        }

        let kind = self.info.kind;
        Ok(summaries
            .into_iter()
            .map(|summary| {
                let id = podman_names::docker_id(&summary.id);
                let (containers, running_containers) = used.get(&id).copied().unwrap_or_default();
                ListedImage {
                    parent_id: Some(summary.parent_id)
                        .filter(|parent| !parent.is_empty())
                        .map(|parent| podman_names::docker_id(&parent)),
                    repo_tags: podman_names::listed_names(kind, summary.repo_tags),
                    repo_digests: podman_names::listed_names(kind, summary.repo_digests),
                    created: summary.created,
                    size: u64::try_from(summary.size).unwrap_or(0),
                    labels: summary.labels.into_iter().collect(),
                    containers,
                    running_containers,
                    id,
                }
            })
            .collect())
    }
}
