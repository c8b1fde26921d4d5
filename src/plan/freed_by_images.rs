//! Bytes given back by an engine whose removal answer names only the images it deleted (the
//! containerd image store lists image digests, Podman image IDs; neither lists layers).
//!
//! The images the engine says it deleted are taken out of a copy of the store read before the
//! run; a layer counts once no remaining image or container holds it, with the size the engine
//! itself reported for it (history `Size`). An image the engine answers `Deleted` for but keeps
//! for a child shares its layers with that child, so it frees nothing here, as on disk.

use super::record::DeleteRecord;
use super::store::SimulatedStore;
use crate::snapshot::Snapshot;

/// The running count of one host's removals.
#[derive(Debug, Clone)]
pub struct FreedByImages {
    store: SimulatedStore,
}

impl FreedByImages {
    pub fn new(snapshot: &Snapshot) -> Self {
        FreedByImages {
            store: SimulatedStore::from_snapshot(snapshot),
        }
    }

    /// Takes the images among `records`' `Deleted` entries out of the store and returns the
    /// bytes of the layers that freed.
    pub fn count(&mut self, records: &[DeleteRecord]) -> u64 {
        let mut scratch = Vec::new();
        let freed_before = self.store.freed_layers().len();
        for record in records {
            if let DeleteRecord::Deleted(id) = record
                && self.store.contains_image(id)
            {
                self.store.delete_image_record(id, &mut scratch);
            }
        }
        self.store.freed_layers()[freed_before..]
            .iter()
            .map(|chain_id| self.store.layer_size(chain_id))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, deleted, image_id};

    /// `app:1` built on `base:1`: a 100-byte layer they share and a 10-byte one of its own.
    fn base_and_app() -> Snapshot {
        SnapshotBuilder::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image("app", ImageSpec::new().tags(["app:1"]).layers(["B", "A"]))
            .layer_size("B", 100)
            .layer_size("A", 10)
            .build()
    }

    #[test]
    fn a_deleted_image_frees_the_layers_no_one_else_holds() {
        let snapshot = base_and_app();
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted(&image_id("app"))]), 10);
        assert_eq!(freed.count(&[deleted(&image_id("base"))]), 100);
    }

    #[test]
    fn an_image_kept_for_its_child_frees_nothing() {
        let snapshot = base_and_app();
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted(&image_id("base"))]), 0);
    }

    #[test]
    fn layers_a_container_holds_are_not_freed() {
        let snapshot = SnapshotBuilder::new()
            .image("app", ImageSpec::new().tags(["app:1"]).layers(["A"]))
            .stopped("c1", "app")
            .layer_size("A", 10)
            .build();
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted(&image_id("app"))]), 0);
    }

    #[test]
    fn ids_the_store_does_not_know_count_nothing() {
        let snapshot = SnapshotBuilder::new().build();
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted("sha256:feed")]), 0);
    }
}
