//! Bytes given back by an engine whose removal answer names only the images it deleted (the
//! containerd image store lists image digests, Podman image IDs; neither lists layers).
//!
//! The images the engine says it deleted are taken out of a copy of the store read before the
//! run; a layer counts once no remaining image or container holds it, with the size the engine
//! itself reported for it (history `Size`). An image the engine answers `Deleted` for but keeps
//! for a child shares its layers with that child, so it frees nothing here, as on disk.
//!
//! Where the snapshot has the images' content blobs (containerd's image store: manifests,
//! configs, compressed layers, read from the host's content store), a blob counts once no
//! remaining image references it, with its size on disk: containerd's garbage collector removes
//! exactly those when the image record goes. Containers hold snapshots, never content.

use std::collections::BTreeMap;

use super::record::DeleteRecord;
use super::store::SimulatedStore;
use crate::snapshot::{ContentBlobs, Snapshot};

/// The running count of one host's removals.
#[derive(Debug, Clone)]
pub struct FreedByImages {
    store: SimulatedStore,
    content: Option<ContentCount>,
}

/// The content blobs still referenced, with how many remaining images reference each.
#[derive(Debug, Clone)]
struct ContentCount {
    blobs: ContentBlobs,
    holders: BTreeMap<String, usize>,
}

impl ContentCount {
    fn new(blobs: &ContentBlobs) -> ContentCount {
        let mut holders: BTreeMap<String, usize> = BTreeMap::new();
        for digest in blobs.by_image.values().flatten() {
            *holders.entry(digest.clone()).or_default() += 1;
        }
        ContentCount {
            blobs: blobs.clone(),
            holders,
        }
    }

    /// Takes `image` out; returns the bytes of the blobs no remaining image references.
    fn release(&mut self, image: &str) -> u64 {
        let Some(digests) = self.blobs.by_image.remove(image) else {
            return 0;
        };
        let mut freed = 0;
        for digest in digests {
            if let Some(count) = self.holders.get_mut(&digest) {
                *count -= 1;
                if *count == 0 {
                    self.holders.remove(&digest);
                    freed += self.blobs.sizes.get(&digest).copied().unwrap_or(0);
                }
            }
        }
        freed
    }
}

impl FreedByImages {
    pub fn new(snapshot: &Snapshot) -> Self {
        Self::from_store(SimulatedStore::from_snapshot(snapshot), snapshot)
    }

    /// The count on a store already loaded from `snapshot`, so a caller that has one does not
    /// load it again.
    pub fn from_store(store: SimulatedStore, snapshot: &Snapshot) -> Self {
        FreedByImages {
            store,
            content: snapshot.content.as_ref().map(ContentCount::new),
        }
    }

    /// Takes the images among `records`' `Deleted` entries out of the store and returns the
    /// bytes of the layers, and of the content blobs where they are known, that freed.
    pub fn count(&mut self, records: &[DeleteRecord]) -> u64 {
        let mut scratch = Vec::new();
        let freed_before = self.store.freed_layers().len();
        let mut content_freed = 0;
        for record in records {
            if let DeleteRecord::Deleted(id) = record
                && self.store.contains_image(id)
            {
                self.store.delete_image_record(id, &mut scratch);
                if let Some(content) = &mut self.content {
                    content_freed += content.release(id);
                }
            }
        }
        let layers_freed: u64 = self.store.freed_layers()[freed_before..]
            .iter()
            .map(|chain_id| self.store.layer_size(chain_id))
            .sum();
        layers_freed + content_freed
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

    /// `base_and_app` with content: each image its manifest and config, `app` the compressed
    /// blob of the layer they share too.
    fn with_content(mut snapshot: Snapshot) -> Snapshot {
        let blobs = [
            ("sha256:mb", 5),
            ("sha256:cb", 7),
            ("sha256:ma", 11),
            ("sha256:ca", 13),
            ("sha256:lb", 1000),
        ];
        snapshot.content = Some(ContentBlobs {
            by_image: BTreeMap::from([
                (
                    image_id("base"),
                    vec!["sha256:mb".into(), "sha256:cb".into(), "sha256:lb".into()],
                ),
                (
                    image_id("app"),
                    vec!["sha256:ma".into(), "sha256:ca".into(), "sha256:lb".into()],
                ),
            ]),
            sizes: blobs
                .iter()
                .map(|(digest, size)| ((*digest).to_owned(), *size))
                .collect(),
        });
        snapshot
    }

    #[test]
    fn content_blobs_count_once_no_remaining_image_references_them() {
        let snapshot = with_content(base_and_app());
        let mut freed = FreedByImages::new(&snapshot);
        // `app`: its layer A (10), its manifest and config; the shared blob stays for `base`.
        assert_eq!(freed.count(&[deleted(&image_id("app"))]), 10 + 11 + 13);
        // `base`: layer B (100), its manifest and config, and now the shared blob.
        assert_eq!(
            freed.count(&[deleted(&image_id("base"))]),
            100 + 5 + 7 + 1000
        );
        // Deleted twice (a base answered `Deleted`, then pruned): counted once.
        assert_eq!(freed.count(&[deleted(&image_id("base"))]), 0);
    }

    #[test]
    fn content_goes_with_an_image_whose_layers_a_container_holds() {
        let mut snapshot = SnapshotBuilder::new()
            .image("app", ImageSpec::new().tags(["app:1"]).layers(["A"]))
            .stopped("c1", "app")
            .layer_size("A", 10)
            .build();
        snapshot.content = Some(ContentBlobs {
            by_image: BTreeMap::from([(image_id("app"), vec!["sha256:ma".into()])]),
            sizes: BTreeMap::from([("sha256:ma".to_owned(), 500)]),
        });
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted(&image_id("app"))]), 500);
    }

    #[test]
    fn ids_the_store_does_not_know_count_nothing() {
        let snapshot = SnapshotBuilder::new().build();
        let mut freed = FreedByImages::new(&snapshot);
        assert_eq!(freed.count(&[deleted("sha256:feed")]), 0);
    }
}
