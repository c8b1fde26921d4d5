//! The policy plan for one host: a decision for every image, the engine requests that carry it
//! out, and the bytes they free.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::{ApiError, DeleteRecord, RemovalAnswer, SimulatedStore};

use crate::snapshot::{ContentBlobs, Snapshot};

use super::decision::Decision;
use super::rules::PruneMode;

/// One `DELETE /images/{name}` the plan makes (with rules), or that the engine's prune makes
/// internally (without), and the engine's answer as the simulation predicts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    /// The `{name}` sent: a full image ID, or a reference.
    pub name: String,
    /// The image the request is for.
    pub image_id: String,
    pub force: bool,
    pub no_prune: bool,
    pub records: Vec<DeleteRecord>,
    pub error: Option<ApiError>,
}

impl PlannedRequest {
    /// The answer the plan expects from the engine for this request.
    pub fn expected_answer(&self) -> RemovalAnswer {
        RemovalAnswer::expected(&self.records, self.error.as_ref())
    }
}

/// What a prune or policy will do on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPlan {
    pub mode: PruneMode,
    /// One decision per image of the snapshot, intermediates included, oldest first.
    pub decisions: Vec<Decision>,
    /// The removals in order: children before parents. In engine mode the engine's own order is
    /// random; only the set of records is certain.
    pub requests: Vec<PlannedRequest>,
    /// Σ `DiffSize` of the layers freed on disk, each counted once.
    pub predicted_bytes: u64,
    /// Bytes of every image layer on disk before, and what is left after.
    pub usage_before: u64,
    pub usage_after: u64,
}

impl PolicyPlan {
    /// The plan of an engine's own prune, with the disk usage before and the bytes it frees.
    pub(crate) fn engine_prune(
        decisions: Vec<Decision>,
        requests: Vec<PlannedRequest>,
        predicted_bytes: u64,
        usage_before: u64,
    ) -> PolicyPlan {
        PolicyPlan {
            mode: PruneMode::Engine,
            decisions,
            requests,
            predicted_bytes,
            usage_before,
            usage_after: usage_before.saturating_sub(predicted_bytes),
        }
    }

    /// The records of every successful request, in plan order.
    pub fn records(&self) -> Vec<DeleteRecord> {
        self.requests
            .iter()
            .flat_map(|request| request.records.iter().cloned())
            .collect()
    }
}

/// Bytes of every layer on disk in the store (used by an image or held by a container).
pub(crate) fn usage(store: &SimulatedStore) -> u64 {
    store.to_snapshot().layer_sizes.values().sum()
}

/// What the images use on disk: every layer in the store, and the content blobs where the
/// snapshot has them (containerd's image store), as removals there free both.
pub(crate) fn image_usage(store: &SimulatedStore, snapshot: &Snapshot) -> u64 {
    usage(store)
        + snapshot
            .content
            .as_ref()
            .map_or(0, ContentBlobs::total_bytes)
}

/// Bytes freed so far in the store: Σ `DiffSize` of its freed layers.
pub(crate) fn freed(store: &SimulatedStore) -> u64 {
    let unique: BTreeSet<&String> = store.freed_layers().iter().collect();
    unique.iter().map(|layer| store.layer_size(layer)).sum()
}

/// The bytes each deleted image freed: a `Deleted` ID among `image_ids` starts an image, and
/// what `freed_by` says each `Deleted` record from there on freed is that image's. On engines
/// whose answers list layers, that is the layer records' sizes; where they name images only
/// (the containerd store, Podman), a [`crate::plan::FreedByImages`] count taking the images out one at a
/// time, as the real run counts them, so the images' bytes add up to the host's.
pub(crate) fn bytes_by_image(
    records: &[DeleteRecord],
    image_ids: &BTreeSet<String>,
    mut freed_by: impl FnMut(&DeleteRecord) -> u64,
) -> BTreeMap<String, u64> {
    let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
    let mut current: Option<&String> = None;
    for record in records {
        if let DeleteRecord::Deleted(id) = record {
            if image_ids.contains(id) {
                current = Some(id);
                bytes.entry(id.clone()).or_default();
            }
            let freed = freed_by(record);
            if let Some(image) = current {
                *bytes.entry(image.clone()).or_default() += freed;
            }
        }
    }
    bytes
}

/// What a `Deleted` layer record of an engine whose answers list layers freed.
pub(crate) fn layer_record_size(store: &SimulatedStore) -> impl Fn(&DeleteRecord) -> u64 + '_ {
    |record| match record {
        DeleteRecord::Deleted(id) => store.layer_size(id),
        DeleteRecord::Untagged(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, chain_id, image_id};
    use crate::snapshot::Snapshot;

    #[test]
    fn freed_layers_are_attributed_to_the_image_deleted_before_them() {
        let snapshot = SnapshotBuilder::new()
            .image("p", ImageSpec::new().layers(["base"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["c:1"])
                    .parent("p")
                    .layers(["base", "top"]),
            )
            .layer_size("base", 300)
            .layer_size("top", 20)
            .build();
        let mut store = SimulatedStore::from_snapshot(&snapshot);
        let records = store.delete_image("c:1", false, true).expect("deletes");
        let ids: BTreeSet<String> = store_ids(&snapshot);
        let bytes = bytes_by_image(&records, &ids, layer_record_size(&store));
        assert_eq!(bytes[&image_id("c")], 20);
        assert_eq!(bytes[&image_id("p")], 300);
        assert_eq!(freed(&store), 320);
        assert!(store.freed_layers().contains(&chain_id(&["base"])));
    }

    fn store_ids(snapshot: &Snapshot) -> BTreeSet<String> {
        snapshot
            .images
            .iter()
            .map(|image| image.id.clone())
            .collect()
    }
}
