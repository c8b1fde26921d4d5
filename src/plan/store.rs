//! A simulated image store: one host's images, references, containers and layers, loaded from a
//! snapshot, on which the engine's delete operations run without touching the host.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::EngineKind;
use crate::reference::Reference;
use crate::snapshot::{ContainerRecord, ContainerState, ImageRecord, Snapshot};

use super::layer_store::LayerStore;
use super::parsed_references::stored_reference;
use super::reference_store::ReferenceStore;

/// The state of one engine's classic image store, as far as removal is concerned.
///
/// Built from a [`Snapshot`]; [`SimulatedStore::delete_image`] then changes it exactly as the
/// engine's `DELETE /images/{name}` would, so a sequence of requests sees the state the earlier
/// ones left. Every image and layer it deletes is logged for the space calculation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatedStore {
    pub(crate) images: BTreeMap<String, ImageRecord>,
    pub(crate) references: ReferenceStore,
    pub(crate) containers: Vec<ContainerRecord>,
    pub(crate) layers: LayerStore,
    pub(crate) layer_sizes: BTreeMap<String, u64>,
    /// Image IDs deleted so far, in order.
    pub(crate) deleted_images: Vec<String>,
    /// Chain IDs freed on disk so far, in order.
    pub(crate) freed_layers: Vec<String>,
    /// Whose delete rules [`SimulatedStore::delete_image`] follows.
    pub(crate) engine: EngineKind,
}

impl SimulatedStore {
    /// Loads a snapshot. References that do not parse (such as the `<none>:<none>` placeholder
    /// of old API versions) are skipped; IDs without `sha256:` get it.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let mut store = SimulatedStore::without_layers(snapshot);
        store.load_layers(snapshot);
        store
    }

    /// Loads a snapshot's images, references and containers, but none of its layers: what
    /// decides which images a removal deletes. [`SimulatedStore::load_layers`] completes it.
    pub fn without_layers(snapshot: &Snapshot) -> Self {
        let mut store = SimulatedStore {
            engine: snapshot.engine,
            ..SimulatedStore::default()
        };
        for image in &snapshot.images {
            let id = full_id(&image.id);
            if store.images.contains_key(&id) {
                continue;
            }
            // Podman's names are its `RepoTags` alone, in its own order (a pulled digest is one
            // of them); the digests it only records stay on the image, outside the references.
            // The containerd store lists every name in `RepoTags` (digest names included) and
            // makes up one `repo@<image ID>` per image in `RepoDigests`: no name of its own.
            let (names, recorded) = match snapshot.engine {
                EngineKind::Podman => (image.repo_tags.clone(), image.repo_digests.clone()),
                EngineKind::DockerContainerd | EngineKind::DockerClassic => {
                    (Vec::new(), Vec::new())
                }
            };
            let digest_references: &[String] = match snapshot.engine {
                EngineKind::DockerClassic => &image.repo_digests,
                EngineKind::DockerContainerd | EngineKind::Podman => &[],
            };
            for text in image.repo_tags.iter().chain(digest_references) {
                if let Some(reference) = stored_reference(text) {
                    store.references.add_stored(reference, &id);
                }
            }
            let record = ImageRecord {
                id: id.clone(),
                parent: image.parent.as_deref().map(full_id),
                repo_tags: names,
                repo_digests: recorded,
                created: image.created,
                created_nanos: image.created_nanos,
                labels: image.labels.clone(),
                layers: Vec::new(),
                size: image.size,
            };
            store.images.insert(id, record);
        }
        store.containers = snapshot
            .containers
            .iter()
            .map(|container| ContainerRecord {
                image_id: full_id(&container.image_id),
                ..container.clone()
            })
            .collect();
        store
    }

    /// Takes the layer chains and sizes from `snapshot`, the one [`Self::without_layers`] was
    /// loaded from, now that they are known (its images and containers are the same).
    pub fn load_layers(&mut self, snapshot: &Snapshot) {
        self.layer_sizes = snapshot.layer_sizes.clone();
        let mut loaded = BTreeSet::new();
        for image in &snapshot.images {
            let id = full_id(&image.id);
            // The first image listed with an ID is the one kept, as above.
            if !loaded.insert(id.clone()) {
                continue;
            }
            self.layers.register_chain(&image.layers);
            if let Some(top) = image.layers.last() {
                self.layers.retain(top);
            }
            if let Some(record) = self.images.get_mut(&id) {
                record.layers = image.layers.clone();
            }
        }
        for container in &self.containers {
            // A container's read-write layer sits on its image's top layer. For a container
            // whose image was deleted before the snapshot, that layer cannot be known.
            if let Some(top) = self
                .images
                .get(&container.image_id)
                .and_then(|image| image.layers.last())
            {
                self.layers.retain(top);
            }
        }
    }

    /// The store's current state as a snapshot (references in familiar form, engine order;
    /// layer sizes only for layers still on disk).
    pub fn to_snapshot(&self) -> Snapshot {
        let images = self
            .images
            .values()
            .map(|image| {
                let references = self.references.references(&image.id);
                // The containerd store lists every name, digest names too, in `RepoTags`.
                let (digests, tags): (Vec<Reference>, Vec<Reference>) =
                    if self.engine == EngineKind::DockerContainerd {
                        (Vec::new(), references)
                    } else {
                        references
                            .into_iter()
                            .partition(|reference| reference.digest().is_some())
                    };
                ImageRecord {
                    repo_tags: tags.iter().map(Reference::familiar).collect(),
                    repo_digests: digests.iter().map(Reference::familiar).collect(),
                    ..image.clone()
                }
            })
            .collect();
        let layer_sizes = self
            .layer_sizes
            .iter()
            .filter(|(chain_id, _)| self.layers.contains(chain_id))
            .map(|(chain_id, size)| (chain_id.clone(), *size))
            .collect();
        Snapshot {
            images,
            containers: self.containers.clone(),
            layer_sizes,
            engine: self.engine,
            // The store keeps no content blobs: a snapshot made from it has none.
            content: None,
        }
    }

    /// True while an image with this full ID exists.
    pub fn contains_image(&self, image_id: &str) -> bool {
        self.images.contains_key(image_id)
    }

    /// The full IDs of every image, intermediate parents included, in ID order.
    pub fn image_ids(&self) -> impl Iterator<Item = &str> {
        self.images.keys().map(String::as_str)
    }

    /// Every tag and digest reference to an image, in the engine's order.
    pub fn references_of(&self, image_id: &str) -> Vec<Reference> {
        self.references.references(image_id)
    }

    /// True when an image has at least one tag or digest reference.
    pub fn has_references(&self, image_id: &str) -> bool {
        self.references.has_references(image_id)
    }

    /// True when another image names this one as its `Parent`.
    pub fn has_children(&self, image_id: &str) -> bool {
        self.images
            .values()
            .any(|image| image.parent.as_deref() == Some(image_id))
    }

    /// The engine's "dangling" for the quiet delete: no references and no children.
    pub(crate) fn is_dangling(&self, image_id: &str) -> bool {
        !self.has_references(image_id) && !self.has_children(image_id)
    }

    /// The first container (in snapshot order) made from the image, in the given state or any.
    ///
    /// The engine takes the first one its in-memory map yields, which is in no fixed order; when
    /// several containers qualify, the ID in a message may differ from the engine's.
    pub(crate) fn first_container_using(
        &self,
        image_id: &str,
        state: Option<ContainerState>,
    ) -> Option<&ContainerRecord> {
        self.containers.iter().find(|container| {
            container.image_id == image_id && state.is_none_or(|state| container.state == state)
        })
    }

    /// The layers some remaining image uses (every prefix of every image's chain): what
    /// `/system/df` `LayersSize` adds up.
    pub fn layers_used_by_images(&self) -> BTreeSet<String> {
        self.images
            .values()
            .flat_map(|image| image.layers.iter().cloned())
            .collect()
    }

    /// The image IDs deleted so far, in order.
    pub fn deleted_images(&self) -> &[String] {
        &self.deleted_images
    }

    /// The chain IDs freed on disk so far, in order.
    pub fn freed_layers(&self) -> &[String] {
        &self.freed_layers
    }

    /// The `DiffSize` of a layer; 0 when the snapshot does not know it.
    pub fn layer_size(&self, chain_id: &str) -> u64 {
        self.layer_sizes.get(chain_id).copied().unwrap_or(0)
    }
}

/// Image IDs carry their algorithm in the store; add `sha256:` to a bare hex ID.
fn full_id(id: &str) -> String {
    if id.contains(':') {
        id.to_owned()
    } else {
        format!("sha256:{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, image_id};

    #[test]
    fn none_placeholders_in_repo_tags_are_ignored() {
        let snapshot = SnapshotBuilder::new()
            .image(
                "a",
                ImageSpec::new()
                    .tags(["<none>:<none>"])
                    .digests(["<none>@<none>"])
                    .layers(["L"]),
            )
            .build();
        let store = SimulatedStore::from_snapshot(&snapshot);
        assert!(!store.has_references(&image_id("a")));
    }

    #[test]
    fn bare_hex_ids_get_the_sha256_prefix() {
        let mut snapshot = SnapshotBuilder::new()
            .image("a", ImageSpec::new().layers(["L"]))
            .build();
        let bare = image_id("a").trim_start_matches("sha256:").to_owned();
        snapshot.images[0].id = bare;
        let store = SimulatedStore::from_snapshot(&snapshot);
        assert!(store.contains_image(&image_id("a")));
    }

    #[test]
    fn to_snapshot_round_trips_references_in_engine_order() {
        let snapshot = SnapshotBuilder::new()
            .image(
                "a",
                ImageSpec::new()
                    .tags(["x:3", "other/x:1", "x:1"])
                    .layers(["L"]),
            )
            .build();
        let round_trip = SimulatedStore::from_snapshot(&snapshot).to_snapshot();
        assert_eq!(round_trip.images[0].repo_tags, ["x:1", "x:3", "other/x:1"]);
        assert_eq!(round_trip.layer_sizes, snapshot.layer_sizes);
    }
}
