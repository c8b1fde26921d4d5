//! What one host's Docker engine holds at one moment: images, containers and layer sizes.
//!
//! A snapshot is plain data. The engine module fills it from the API; the planner reads it
//! and never does I/O, so every removal rule can be tested on hand-made snapshots.

use std::collections::BTreeMap;

use crate::data::EngineKind;

/// The state of one host's image store and containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every image, intermediate (legacy-builder) parents included.
    pub images: Vec<ImageRecord>,
    /// Every container, whatever its state.
    pub containers: Vec<ContainerRecord>,
    /// `DiffSize` in bytes of each layer, keyed by chain ID (`sha256:<64 hex>`).
    pub layer_sizes: BTreeMap<String, u64>,
    /// The engine kind whose delete rules the planner applies to this store.
    pub engine: EngineKind,
    /// The content blobs each image holds, where the store keeps them apart from its layers
    /// (containerd's image store) and they could be read; `None` elsewhere.
    pub content: Option<ContentBlobs>,
}

/// The content blobs (manifests, configs, compressed layers) of the images of a store that keeps
/// them apart from the unpacked layers, as read from the host's content store. A blob is shared
/// by digest: it stays while any image references it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentBlobs {
    /// For each image ID, the digests (`sha256:<64 hex>`) of the blobs present that it
    /// references: its own manifest or index, and below it every manifest present with its
    /// config and layers.
    pub by_image: BTreeMap<String, Vec<String>>,
    /// Each blob's size in bytes.
    pub sizes: BTreeMap<String, u64>,
}

impl ContentBlobs {
    /// Bytes of every blob, each once.
    pub fn total_bytes(&self) -> u64 {
        self.sizes.values().sum()
    }
}

/// One image as the engine lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRecord {
    /// Full image ID, `sha256:<64 hex>`.
    pub id: String,
    /// Full ID of the `Parent` image (legacy builder, commit, some loads), if any.
    pub parent: Option<String>,
    /// Tags in familiar form, as the engine lists them (`x:1`, `other/x:1`, `localhost:5055/dg:1`).
    pub repo_tags: Vec<String>,
    /// Digest references in familiar form (`localhost:5055/dg@sha256:…`).
    pub repo_digests: Vec<String>,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Nanoseconds past `created` (from inspect's `Created`), so that time filters compare as
    /// precisely as the engine does; 0 when unknown.
    pub created_nanos: u32,
    pub labels: BTreeMap<String, String>,
    /// Chain IDs of the image's layers, oldest first.
    pub layers: Vec<String>,
    /// Sum of the `DiffSize` of the layers in the image's chain.
    pub size: u64,
}

/// One container, reduced to what decides removal conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    /// Full container ID (64 hex, no prefix).
    pub id: String,
    /// Full ID of the image the container was created from, `sha256:<64 hex>`.
    pub image_id: String,
    /// The image as the container was created from it (`Image` of the container list: the
    /// name given to `docker run`, or the image ID once that name names another image or none).
    /// The containerd store's prune spares the name a container was created from.
    pub image: String,
    pub state: ContainerState,
}

/// A container's state as far as `docker rmi` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// running, paused or restarting: a hard conflict that `--force` cannot override.
    Running,
    /// created, exited, dead or removing: a soft conflict that `--force` overrides.
    Stopped,
}

impl ContainerState {
    /// Maps the engine's `State` string; running, paused and restarting count as running.
    pub fn from_engine_state(state: &str) -> Self {
        match state {
            "running" | "paused" | "restarting" => ContainerState::Running,
            _ => ContainerState::Stopped,
        }
    }
}

/// The first 12 hex digits of an ID, without `sha256:`, as the engine prints it in messages.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_and_restarting_count_as_running() {
        for state in ["running", "paused", "restarting"] {
            assert_eq!(
                ContainerState::from_engine_state(state),
                ContainerState::Running
            );
        }
        for state in ["created", "exited", "dead", "removing"] {
            assert_eq!(
                ContainerState::from_engine_state(state),
                ContainerState::Stopped
            );
        }
    }

    #[test]
    fn short_id_drops_algorithm_and_keeps_twelve_digits() {
        assert_eq!(short_id("sha256:753d6f4e822d8ca5186b3b08"), "753d6f4e822d");
        assert_eq!(short_id("bd7221a48001ffff"), "bd7221a48001");
    }
}
