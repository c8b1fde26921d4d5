//! Containers that stand in the way of an image removal: their names, and stopping and
//! removing them (`docker stop`, `docker rm`), only ever when the user asked for it.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};

use super::bounded::Within;
use super::{Engine, EngineError};

impl Engine {
    /// Every container, running or not (`docker ps -a`).
    pub(crate) async fn all_containers(&self) -> Result<Vec<ContainerSummary>, EngineError> {
        self.docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .within(self.api_timeout(), "list containers")
            .await
    }

    /// Every container's name (without the leading `/`), by full ID.
    pub async fn container_names(&self) -> Result<HashMap<String, String>, EngineError> {
        let containers = self.all_containers().await?;
        Ok(containers
            .into_iter()
            .filter_map(|container| {
                let id = container.id?;
                let name = container
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|name| name.trim_start_matches('/').to_string())
                    .unwrap_or_default();
                Some((id, name))
            })
            .collect())
    }

    /// `docker stop -t SECONDS ID`: SIGTERM, then SIGKILL after `grace`. A container that is
    /// already stopped is fine (the engine answers 304).
    pub async fn stop_container(&self, id: &str, grace: Duration) -> Result<(), EngineError> {
        let seconds = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        self.docker
            .stop_container(
                id,
                Some(StopContainerOptions {
                    t: Some(seconds),
                    signal: None,
                }),
            )
            .within(self.api_timeout(), "stop a container")
            .await
    }

    /// `docker rm ID`: a stopped container; its volumes are kept, as `docker rm` keeps them.
    pub async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        self.docker
            .remove_container(
                id,
                Some(RemoveContainerOptions {
                    v: false,
                    force: false,
                    link: false,
                }),
            )
            .within(self.api_timeout(), "remove a container")
            .await
    }
}
