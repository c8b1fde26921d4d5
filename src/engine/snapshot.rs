//! Reads a host's [`Snapshot`]: every image with its layer chain and sizes, and every container.

use std::collections::BTreeMap;

use bollard::models::ImageHistoryResponseItem;
use bollard::query_parameters::ListImagesOptions;
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::bounded::Within;
use super::{Engine, EngineError, podman_names};
use crate::snapshot::{ContainerRecord, ContainerState, ImageRecord, Snapshot};

impl Engine {
    /// One pass over the host: `/images/json?all=1`, `/containers/json?all=1`, then inspect and
    /// history of each image for its layer chain and each layer's size.
    pub async fn snapshot(&self) -> Result<Snapshot, EngineError> {
        let (listed, ()) = futures::join!(
            self.listed_snapshot(),
            // The list calls use the two channels opened at connect time; those of the
            // wave of inspects that follows are opened meanwhile.
            self.open_ahead(self.calls_in_flight.saturating_sub(2))
        );
        let mut snapshot = listed?;
        let ids: Vec<String> = snapshot
            .images
            .iter()
            .map(|image| image.id.clone())
            .collect();
        let chains: Vec<Option<LayerChain>> = futures::stream::iter(ids.iter())
            .map(|id| self.described_chain(id))
            .buffered(self.calls_in_flight)
            .try_collect()
            .await?;
        for (image, chain) in snapshot.images.iter_mut().zip(chains) {
            let Some(chain) = chain else { continue };
            let LayerChain {
                layers,
                sizes,
                created_nanos,
            } = chain;
            for (layer, size) in layers.iter().zip(&sizes) {
                snapshot.layer_sizes.insert(layer.clone(), *size);
            }
            image.size = sizes.iter().sum();
            image.layers = layers;
            image.created_nanos = created_nanos;
        }
        Ok(snapshot)
    }

    /// What two list calls tell: every image (with the engine's `Size`, chains not read) and
    /// every container.
    pub async fn listed_snapshot(&self) -> Result<Snapshot, EngineError> {
        let (summaries, containers) = futures::try_join!(
            async {
                self.docker
                    .list_images(Some(ListImagesOptions {
                        all: true,
                        ..Default::default()
                    }))
                    .within(self.api_timeout(), "list images")
                    .await
            },
            self.all_containers()
        )?;
        let mut snapshot = Snapshot {
            engine: self.info.kind,
            ..Snapshot::default()
        };
        let spelled = |references| podman_names::listed_names(self.info.kind, references);
        for summary in summaries {
            snapshot.images.push(ImageRecord {
                id: podman_names::docker_id(&summary.id),
                parent: Some(summary.parent_id)
                    .filter(|parent| !parent.is_empty())
                    .map(|parent| podman_names::docker_id(&parent)),
                repo_tags: spelled(summary.repo_tags),
                repo_digests: spelled(summary.repo_digests),
                created: summary.created,
                // Known only from an inspect; a removal's plan never reads it.
                created_nanos: 0,
                labels: summary.labels.into_iter().collect::<BTreeMap<_, _>>(),
                size: u64::try_from(summary.size).unwrap_or(0),
                layers: Vec::new(),
            });
        }
        snapshot.containers = containers
            .into_iter()
            .filter_map(|container| {
                Some(ContainerRecord {
                    id: container.id?,
                    image_id: podman_names::docker_id(&container.image_id?),
                    image: container.image.unwrap_or_default(),
                    state: ContainerState::from_engine_state(
                        &container
                            .state
                            .map(|state| state.to_string())
                            .unwrap_or_default(),
                    ),
                })
            })
            .collect();
        Ok(snapshot)
    }

    /// Chain IDs of an image's layers, oldest first, with each layer's `DiffSize`, and the
    /// sub-second part of the image's creation time.
    async fn layer_chain(&self, image_id: &str) -> Result<LayerChain, EngineError> {
        let inspect = self
            .docker
            .inspect_image(image_id)
            .within(self.api_timeout(), "inspect an image")
            .await?;
        let history = self
            .docker
            .image_history(image_id)
            .within(self.api_timeout(), "read an image's history")
            .await?;
        let diff_ids = inspect
            .root_fs
            .and_then(|root_fs| root_fs.layers)
            .unwrap_or_default();
        let sizes = layer_sizes(&history, diff_ids.len());
        Ok(LayerChain {
            layers: chain_ids(&diff_ids),
            sizes,
            created_nanos: inspect.created.as_deref().map(subsec_nanos).unwrap_or(0),
        })
    }

    /// [`Engine::layer_chain`], or `None` for an image a non-classic engine lists but cannot
    /// describe: the containerd store keeps a deleted base's record for its children while
    /// answering its history with "snapshot … does not exist". Such an image keeps what the
    /// list says; its layers count for nothing (fleetrmi under-reports rather than guess).
    async fn described_chain(&self, image_id: &str) -> Result<Option<LayerChain>, EngineError> {
        match self.layer_chain(image_id).await {
            Ok(chain) => Ok(Some(chain)),
            Err(EngineError::Api { .. }) if !self.info.kind.deletes_answer_with_layers() => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Chain IDs of an image's layers, oldest first (one inspect).
    pub(super) async fn image_chain(&self, image_id: &str) -> Result<Vec<String>, EngineError> {
        let inspect = self
            .docker
            .inspect_image(image_id)
            .within(self.api_timeout(), "inspect an image")
            .await?;
        let diff_ids = inspect
            .root_fs
            .and_then(|root_fs| root_fs.layers)
            .unwrap_or_default();
        Ok(chain_ids(&diff_ids))
    }

    /// The `DiffSize` of each of an image's `layer_count` layers, oldest first (one history).
    pub(super) async fn image_layer_sizes(
        &self,
        image_id: &str,
        layer_count: usize,
    ) -> Result<Vec<u64>, EngineError> {
        let history = self
            .docker
            .image_history(image_id)
            .within(self.api_timeout(), "read an image's history")
            .await?;
        Ok(layer_sizes(&history, layer_count))
    }
}

/// What the per-image calls add to the image list's entry.
struct LayerChain {
    layers: Vec<String>,
    sizes: Vec<u64>,
    created_nanos: u32,
}

/// The nanoseconds of an RFC 3339 time (`2026-05-01T10:20:30.123456789Z`); 0 when unreadable.
fn subsec_nanos(rfc3339: &str) -> u32 {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since| since.subsec_nanos())
        .unwrap_or(0)
}

/// Chain IDs from diff IDs: the first is the first diff ID; each next is the SHA-256 of
/// `"<previous chain ID> <diff ID>"`. The engine's `Deleted` layer entries use these IDs.
pub(crate) fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut chain: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match chain.last() {
            None => diff_id.clone(),
            Some(previous) => {
                let digest = Sha256::digest(format!("{previous} {diff_id}").as_bytes());
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                format!("sha256:{hex}")
            }
        };
        chain.push(next);
    }
    chain
}

/// Each layer's `DiffSize`, oldest first, from the image's history (which the API lists newest
/// first). Steps with a size are layers; a zero-size step is a layer only when the layer count
/// needs it, and legacy-builder metadata steps (`#(nop)`) never are.
pub(crate) fn layer_sizes(history: &[ImageHistoryResponseItem], layer_count: usize) -> Vec<u64> {
    let oldest_first: Vec<&ImageHistoryResponseItem> = history.iter().rev().collect();
    let with_size = oldest_first.iter().filter(|step| step.size > 0).count();
    let mut zero_layers_needed = layer_count.saturating_sub(with_size);
    let mut sizes = Vec::with_capacity(layer_count);
    for step in &oldest_first {
        if step.size > 0 {
            sizes.push(step.size as u64);
        } else if zero_layers_needed > 0 && !step.created_by.contains("#(nop)") {
            zero_layers_needed -= 1;
            sizes.push(0);
        }
    }
    sizes.resize(layer_count, 0);
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(created_by: &str, size: i64) -> ImageHistoryResponseItem {
        ImageHistoryResponseItem {
            created_by: created_by.to_string(),
            size,
            ..Default::default()
        }
    }

    #[test]
    fn creation_nanoseconds_come_from_the_inspect_time() {
        assert_eq!(subsec_nanos("2026-05-01T10:20:30.123456789Z"), 123_456_789);
        assert_eq!(subsec_nanos("2026-05-01T10:20:30Z"), 0);
        assert_eq!(subsec_nanos("garbage"), 0);
    }

    #[test]
    fn first_chain_id_is_the_first_diff_id() {
        let diff = "sha256:95a3904719b1b7e8b4f4499647efeca6c26577c0dc49e1ab1aac47bf4adf000c";
        assert_eq!(chain_ids(&[diff.to_string()]), vec![diff.to_string()]);
    }

    #[test]
    fn next_chain_id_hashes_previous_and_diff() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let chain = chain_ids(&[a.clone(), b]);
        let expected = Sha256::digest(b"sha256:aaaa sha256:bbbb");
        let hex: String = expected.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(chain[1], format!("sha256:{hex}"));
    }

    #[test]
    fn legacy_metadata_steps_are_not_layers() {
        // Newest first, as the API lists history.
        let history = vec![
            step("/bin/sh -c #(nop)  LABEL x=y", 0),
            step(
                "/bin/sh -c dd if=/dev/urandom of=/b bs=1k count=300",
                307_200,
            ),
            step("/bin/sh -c #(nop)  CMD [\"sh\"]", 0),
            step("", 1_500_000),
        ];
        assert_eq!(layer_sizes(&history, 2), vec![1_500_000, 307_200]);
    }

    #[test]
    fn empty_run_step_counts_when_layer_count_needs_it() {
        let history = vec![
            step("/bin/sh -c mkdir /empty", 0),
            step("/bin/sh -c #(nop)  ENV A=1", 0),
            step("", 1_000),
        ];
        assert_eq!(layer_sizes(&history, 2), vec![1_000, 0]);
    }
}
