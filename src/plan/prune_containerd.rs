//! The containerd image store's `POST /images/prune` (`pruneUnused`, dockerd 26.1), simulated
//! on its name records, as `docs/engines/containerd-store.md` describes it.
//!
//! Candidates are name records: dangling records only (images without a name, unnamed parents
//! with children included), or with `dangling=false` every name, each kept only if the image
//! passes the filters. A container spares its image's dangling record and the name it was
//! created from; an image a container was created from by ID keeps a dangling record when its
//! last name goes. Each candidate name is then deleted without any other check: `Untagged` the
//! name (a dangling record as its bare image ID), then `Deleted` the image ID once the image has
//! no name left. The engine also answers a `Deleted` per content blob it dropped (config, layer
//! blobs), which no API call names beforehand: those are not predicted. It walks candidates in
//! Go map order (random); this walks them in the order given.

use crate::reference::Reference;
use crate::snapshot::ImageRecord;

use super::lookup::is_image_id_prefix;
use super::record::DeleteRecord;
use super::store::SimulatedStore;

/// One name record the prune deletes, with the records the engine answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunedName {
    pub image_id: String,
    /// The name as the engine prints it: familiar form, or the image ID for a dangling record.
    pub name: String,
    pub records: Vec<DeleteRecord>,
}

impl SimulatedStore {
    /// Prunes the store as the containerd store's engine would. `image_order` is the order the
    /// images' names are walked in; `passes_filters` is the request's `until`/`label` filters.
    pub fn prune_containerd(
        &mut self,
        dangling_only: bool,
        image_order: &[String],
        passes_filters: impl Fn(&ImageRecord) -> bool,
    ) -> Vec<PrunedName> {
        // (image ID, name; None for the dangling record)
        let mut candidates: Vec<(String, Option<Reference>)> = Vec::new();
        for id in image_order {
            let Some(image) = self.images.get(id) else {
                continue;
            };
            if !passes_filters(image) {
                continue;
            }
            let references = self.references.references(id);
            if references.is_empty() {
                candidates.push((id.clone(), None));
            } else if !dangling_only {
                candidates.extend(references.into_iter().map(|name| (id.clone(), Some(name))));
            }
        }
        let mut created_by_id: Vec<String> = Vec::new();
        for container in &self.containers {
            candidates.retain(|(id, name)| !(name.is_none() && *id == container.image_id));
            let given = container.image.trim_start_matches("sha256:");
            if !given.is_empty() && is_image_id_prefix(&container.image_id, given) {
                created_by_id.push(container.image_id.clone());
            } else if let Ok(reference) = Reference::parse(&container.image) {
                let spared = reference.with_default_tag().normalized();
                candidates.retain(|(_, name)| {
                    name.as_ref().is_none_or(|name| name.normalized() != spared)
                });
            }
        }

        let mut pruned = Vec::new();
        for (id, name) in candidates {
            let mut records = Vec::new();
            let printed = match &name {
                Some(reference) => {
                    self.references.delete(reference);
                    reference.familiar()
                }
                None => id.clone(),
            };
            records.push(DeleteRecord::Untagged(printed.clone()));
            let unnamed = !self.references.has_references(&id);
            if unnamed && !created_by_id.contains(&id) && self.contains_image(&id) {
                self.drop_image(&id);
                records.push(DeleteRecord::Deleted(id.clone()));
            }
            pruned.push(PrunedName {
                image_id: id,
                name: printed,
                records,
            });
        }
        pruned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EngineKind;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, deleted, image_id, untagged};

    /// `base:1` with an unnamed child `i` (itself a parent of `chain:1`), a dangling image, a
    /// running container made from `run:1` (also tagged `run:2`).
    fn store() -> SimulatedStore {
        let mut snapshot = SnapshotBuilder::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image("i", ImageSpec::new().parent("base").layers(["B", "I"]))
            .image(
                "chain",
                ImageSpec::new()
                    .tags(["chain:1"])
                    .parent("i")
                    .layers(["B", "I", "C"]),
            )
            .image("d", ImageSpec::new().layers(["D"]))
            .image(
                "run",
                ImageSpec::new().tags(["run:1", "run:2"]).layers(["R"]),
            )
            .running("ctr", "run")
            .build();
        snapshot.engine = EngineKind::DockerContainerd;
        snapshot.containers[0].image = "run:1".to_owned();
        SimulatedStore::from_snapshot(&snapshot)
    }

    fn order(store: &SimulatedStore) -> Vec<String> {
        store.image_ids().map(str::to_owned).collect()
    }

    fn records(pruned: &[PrunedName]) -> Vec<DeleteRecord> {
        let mut records: Vec<DeleteRecord> = pruned
            .iter()
            .flat_map(|name| name.records.clone())
            .collect();
        records.sort_by_key(|record| format!("{record:?}"));
        records
    }

    #[test]
    fn dangling_prune_takes_unnamed_parents_with_children() {
        let mut store = store();
        let ids = order(&store);
        let pruned = store.prune_containerd(true, &ids, |_| true);
        let mut expected = vec![
            untagged(&image_id("i")),
            deleted(&image_id("i")),
            untagged(&image_id("d")),
            deleted(&image_id("d")),
        ];
        expected.sort_by_key(|record| format!("{record:?}"));
        assert_eq!(records(&pruned), expected);
        assert!(store.contains_image(&image_id("chain")));
    }

    #[test]
    fn prune_all_spares_the_name_a_container_was_created_from() {
        let mut store = store();
        let ids = order(&store);
        let pruned = store.prune_containerd(false, &ids, |_| true);
        let untagged_names: Vec<&str> = pruned.iter().map(|name| name.name.as_str()).collect();
        assert!(untagged_names.contains(&"run:2"));
        assert!(!untagged_names.contains(&"run:1"));
        assert!(store.contains_image(&image_id("run")));
        assert_eq!(store.image_ids().count(), 1);
    }

    #[test]
    fn an_image_a_container_was_created_from_by_id_stays_dangling() {
        let mut store = store();
        store.containers[0].image = image_id("run")["sha256:".len()..][..12].to_owned();
        let ids = order(&store);
        let pruned = store.prune_containerd(false, &ids, |_| true);
        let run: Vec<&PrunedName> = pruned
            .iter()
            .filter(|name| name.image_id == image_id("run"))
            .collect();
        assert_eq!(run.len(), 2);
        assert!(run.iter().all(|name| name.records.len() == 1));
        assert!(store.contains_image(&image_id("run")));
        assert!(!store.has_references(&image_id("run")));
    }
}
