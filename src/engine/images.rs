//! `GET /images/json` with the engine's own filters, and how many containers use each image.

use std::collections::HashMap;

use bollard::query_parameters::ListImagesOptions;

use super::bounded::Within;
use super::snapshot::real_references;
use super::{Engine, EngineError};
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
            let entry = used.entry(image_id).or_default();
            entry.0 += 1;
            entry.1 += u64::from(running);
        }

        Ok(summaries
            .into_iter()
            .map(|summary| {
                let (containers, running_containers) =
                    used.get(&summary.id).copied().unwrap_or_default();
                ListedImage {
                    parent_id: Some(summary.parent_id).filter(|parent| !parent.is_empty()),
                    repo_tags: real_references(summary.repo_tags),
                    repo_digests: real_references(summary.repo_digests),
                    created: summary.created,
                    size: u64::try_from(summary.size).unwrap_or(0),
                    labels: summary.labels.into_iter().collect(),
                    containers,
                    running_containers,
                    id: summary.id,
                }
            })
            .collect())
    }
}
