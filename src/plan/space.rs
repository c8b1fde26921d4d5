//! Space reclaim: the bytes a removal frees on disk, and how far `/system/df` `LayersSize` falls.

use std::collections::BTreeSet;

use super::store::SimulatedStore;

/// Predicted bytes for one plan (`docs/rmi-semantics.md` section 4, "bytes a plan frees").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpaceReclaim {
    /// Σ `DiffSize` of the layers freed on disk: used before, unused after, where containers
    /// count as users. The engine's `Deleted` layer records list exactly these.
    pub(crate) freed_on_disk: u64,
    /// Σ `DiffSize` of the layers some image used before and none uses after, containers left
    /// out: what `LayersSize` falls by.
    pub(crate) layers_size_drop: u64,
}

impl SpaceReclaim {
    /// Compares the store after the removals with the layers images used before them.
    pub(crate) fn measure(
        store: &SimulatedStore,
        used_by_images_before: &BTreeSet<String>,
    ) -> Self {
        let freed: BTreeSet<&String> = store.freed_layers().iter().collect();
        let freed_on_disk = freed
            .iter()
            .map(|chain_id| store.layer_size(chain_id))
            .sum();
        let used_after = store.layers_used_by_images();
        let layers_size_drop = used_by_images_before
            .difference(&used_after)
            .map(|chain_id| store.layer_size(chain_id))
            .sum();
        SpaceReclaim {
            freed_on_disk,
            layers_size_drop,
        }
    }

    /// Bytes whose image records went but whose layers containers still hold; they come back
    /// only when those containers are removed.
    pub(crate) fn held_by_containers(&self) -> u64 {
        self.layers_size_drop.saturating_sub(self.freed_on_disk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder};

    fn measure_after(builder: SnapshotBuilder, name: &str, force: bool) -> SpaceReclaim {
        let mut store = SimulatedStore::from_snapshot(&builder.build());
        let before = store.layers_used_by_images();
        store
            .delete_image(name, force, true)
            .expect("the request succeeds");
        SpaceReclaim::measure(&store, &before)
    }

    #[test]
    fn freed_layers_count_on_disk_and_in_layers_size() {
        let builder = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1"]).layers(["base", "top"]))
            .layer_size("base", 3000)
            .layer_size("top", 500);
        let reclaim = measure_after(builder, "a:1", false);
        assert_eq!(
            reclaim,
            SpaceReclaim {
                freed_on_disk: 3500,
                layers_size_drop: 3500
            }
        );
        assert_eq!(reclaim.held_by_containers(), 0);
    }

    #[test]
    fn layers_a_stopped_container_holds_leave_layers_size_but_not_the_disk() {
        let builder = SnapshotBuilder::new()
            .image("s", ImageSpec::new().tags(["s:1"]).layers(["S"]))
            .layer_size("S", 5_054_305)
            .stopped("ctr", "s");
        let reclaim = measure_after(builder, "s:1", true);
        assert_eq!(
            reclaim,
            SpaceReclaim {
                freed_on_disk: 0,
                layers_size_drop: 5_054_305
            }
        );
        assert_eq!(reclaim.held_by_containers(), 5_054_305);
    }

    #[test]
    fn a_layer_another_image_shares_frees_nothing() {
        let builder = SnapshotBuilder::new()
            .image("sb1", ImageSpec::new().tags(["sb:1"]).layers(["S"]))
            .image("sb2", ImageSpec::new().tags(["sb:2"]).layers(["S"]))
            .layer_size("S", 3_006_305);
        assert_eq!(
            measure_after(builder, "sb:1", false),
            SpaceReclaim::default()
        );
    }

    #[test]
    fn unknown_layer_sizes_count_as_zero() {
        let mut snapshot = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1"]).layers(["L"]))
            .build();
        snapshot.layer_sizes.clear();
        let mut store = SimulatedStore::from_snapshot(&snapshot);
        let before = store.layers_used_by_images();
        store
            .delete_image("a:1", false, true)
            .expect("the request succeeds");
        assert_eq!(
            SpaceReclaim::measure(&store, &before),
            SpaceReclaim::default()
        );
    }
}
