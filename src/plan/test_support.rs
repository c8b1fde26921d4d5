//! Test-only helpers: a readable builder for hand-made snapshots, with stable made-up IDs.
//!
//! Images, containers and layers are named by short keys; their IDs are derived from the keys,
//! so a test can say `image_id("a")` or `chain_id(&["base", "top"])` instead of hex.

use std::collections::BTreeMap;

use crate::snapshot::{ContainerRecord, ContainerState, ImageRecord, Snapshot, short_id};

use super::record::DeleteRecord;
use super::request::RemovalRequest;

/// The size every layer gets unless a test sets one.
pub(crate) const DEFAULT_LAYER_SIZE: u64 = 1000;

/// 64 hex digits derived from a seed (FNV-1a, four rounds); stable across runs.
pub(crate) fn fake_hex(seed: &str) -> String {
    (0..4u64)
        .map(|round| {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
            for byte in seed.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            format!("{hash:016x}")
        })
        .collect()
}

/// The full ID of the image with this key (unless the test gave it another ID).
pub(crate) fn image_id(key: &str) -> String {
    format!("sha256:{}", fake_hex(&format!("image:{key}")))
}

/// A full image ID that starts with the given hex digits.
pub(crate) fn id_with_prefix(prefix: &str, key: &str) -> String {
    let tail = fake_hex(&format!("image:{key}"));
    format!("sha256:{prefix}{}", &tail[prefix.len()..])
}

/// The full ID of the container with this key (no algorithm, as the engine lists them). A key of
/// 12 or more hex digits becomes the start of the ID, so messages can quote a real short ID.
pub(crate) fn container_id(key: &str) -> String {
    let tail = fake_hex(&format!("container:{key}"));
    if key.len() >= 12 && key.len() <= 64 && key.bytes().all(|c| c.is_ascii_hexdigit()) {
        format!("{key}{}", &tail[key.len()..])
    } else {
        tail
    }
}

/// The chain ID of the top layer of a stack of named layers, oldest first. Stacks that share a
/// prefix share those layers, as chain IDs do.
pub(crate) fn chain_id(layers: &[&str]) -> String {
    format!(
        "sha256:{}",
        fake_hex(&format!("layer:{}", layers.join("/")))
    )
}

/// A layer chain ID that starts with the given hex digits, for [`ImageSpec::chain`].
pub(crate) fn layer_with_prefix(prefix: &str, key: &str) -> String {
    let tail = fake_hex(&format!("layer:{key}"));
    format!("sha256:{prefix}{}", &tail[prefix.len()..])
}

/// A digest (`sha256:…`) derived from a key.
pub(crate) fn digest(key: &str) -> String {
    format!("sha256:{}", fake_hex(&format!("digest:{key}")))
}

/// The 12-digit short form of an ID.
pub(crate) fn short(id: &str) -> &str {
    short_id(id)
}

pub(crate) fn untagged(reference: &str) -> DeleteRecord {
    DeleteRecord::Untagged(reference.to_owned())
}

pub(crate) fn deleted(id: &str) -> DeleteRecord {
    DeleteRecord::Deleted(id.to_owned())
}

pub(crate) fn request(images: &[&str], force: bool, no_prune: bool) -> RemovalRequest {
    RemovalRequest {
        images: images.iter().map(|image| (*image).to_owned()).collect(),
        force,
        no_prune,
    }
}

/// One image of a [`SnapshotBuilder`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ImageSpec {
    id: Option<String>,
    parent: Option<String>,
    tags: Vec<String>,
    digests: Vec<String>,
    layers: Vec<String>,
    /// The layers are chain IDs given as they are, not names.
    raw_chain: bool,
}

impl ImageSpec {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Gives the image this full ID instead of one derived from its key.
    pub(crate) fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// The key of the `Parent` image (legacy builder, commit).
    pub(crate) fn parent(mut self, key: &str) -> Self {
        self.parent = Some(key.to_owned());
        self
    }

    pub(crate) fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn digests<S: Into<String>>(mut self, digests: impl IntoIterator<Item = S>) -> Self {
        self.digests = digests.into_iter().map(Into::into).collect();
        self
    }

    /// The layer stack by name, oldest first (see [`chain_id`]).
    pub(crate) fn layers<S: Into<String>>(mut self, layers: impl IntoIterator<Item = S>) -> Self {
        self.layers = layers.into_iter().map(Into::into).collect();
        self.raw_chain = false;
        self
    }

    /// The layer stack as chain IDs, oldest first; sizes are then set by chain ID.
    pub(crate) fn chain<S: Into<String>>(mut self, chain_ids: impl IntoIterator<Item = S>) -> Self {
        self.layers = chain_ids.into_iter().map(Into::into).collect();
        self.raw_chain = true;
        self
    }
}

/// Builds a [`Snapshot`] from keyed images and containers.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotBuilder {
    images: Vec<(String, ImageSpec)>,
    containers: Vec<(String, String, ContainerState)>,
    sizes: BTreeMap<String, u64>,
}

impl SnapshotBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `base:1` (layer B) and `app:1` built on it (layers B and A).
    pub(crate) fn base_and_app() -> Self {
        Self::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image(
                "app",
                ImageSpec::new()
                    .tags(["app:1"])
                    .parent("base")
                    .layers(["B", "A"]),
            )
    }

    pub(crate) fn image(mut self, key: &str, spec: ImageSpec) -> Self {
        self.images.push((key.to_owned(), spec));
        self
    }

    /// A running (or paused, or restarting) container made from the image with this key.
    pub(crate) fn running(self, key: &str, image: &str) -> Self {
        self.container(key, image, ContainerState::Running)
    }

    /// A created, exited or dead container made from the image with this key.
    pub(crate) fn stopped(self, key: &str, image: &str) -> Self {
        self.container(key, image, ContainerState::Stopped)
    }

    fn container(mut self, key: &str, image: &str, state: ContainerState) -> Self {
        self.containers
            .push((key.to_owned(), image.to_owned(), state));
        self
    }

    /// The `DiffSize` of every layer whose name (last element of its stack) is `layer`, or of
    /// the layer with this chain ID for images built with [`ImageSpec::chain`].
    pub(crate) fn layer_size(mut self, layer: &str, bytes: u64) -> Self {
        self.sizes.insert(layer.to_owned(), bytes);
        self
    }

    pub(crate) fn build(self) -> Snapshot {
        let ids: BTreeMap<&str, String> = self
            .images
            .iter()
            .map(|(key, spec)| {
                (
                    key.as_str(),
                    spec.id.clone().unwrap_or_else(|| image_id(key)),
                )
            })
            .collect();
        let id_of = |key: &str| ids.get(key).cloned().unwrap_or_else(|| image_id(key));

        let mut layer_sizes = BTreeMap::new();
        let images = self
            .images
            .iter()
            .map(|(key, spec)| {
                let names: Vec<&str> = spec.layers.iter().map(String::as_str).collect();
                let layers: Vec<String> = if spec.raw_chain {
                    spec.layers.clone()
                } else {
                    (1..=names.len()).map(|n| chain_id(&names[..n])).collect()
                };
                let mut size = 0;
                for (name, chain) in names.iter().zip(&layers) {
                    let bytes = self.sizes.get(*name).copied().unwrap_or(DEFAULT_LAYER_SIZE);
                    layer_sizes.insert(chain.clone(), bytes);
                    size += bytes;
                }
                ImageRecord {
                    id: id_of(key),
                    parent: spec.parent.as_deref().map(id_of),
                    repo_tags: spec.tags.clone(),
                    repo_digests: spec.digests.clone(),
                    layers,
                    size,
                    ..ImageRecord::default()
                }
            })
            .collect();
        let containers = self
            .containers
            .iter()
            .map(|(key, image, state)| ContainerRecord {
                id: container_id(key),
                image_id: id_of(image),
                image: id_of(image),
                state: *state,
            })
            .collect();
        Snapshot {
            images,
            containers,
            layer_sizes,
            ..Snapshot::default()
        }
    }
}
