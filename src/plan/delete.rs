//! The engine's `ImageDelete` (classic image store, dockerd 20.10), step by step:
//! reference check, tag removal, dependency check, deletion with layer analysis, parent pruning.

use crate::data::EngineKind;
use crate::reference::{ImageArgument, Reference, check_image_argument};
use crate::snapshot::short_id;

use super::api_error::ApiError;
use super::conflict::ConflictMask;
use super::lookup::is_image_id_prefix;
use super::record::DeleteRecord;
use super::reference_store::is_single_reference;
use super::store::SimulatedStore;

impl SimulatedStore {
    /// `DELETE /images/{name}?force=…&noprune=…`: changes the store as the store's engine kind
    /// would and returns the engine's answer: the records of a 200, or the error.
    ///
    /// `prune` is the opposite of `noprune`. As in the engine, an error leaves the store as it
    /// was.
    pub fn delete_image(
        &mut self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        match self.engine {
            EngineKind::DockerClassic => self.delete_image_classic(name, force, prune),
            EngineKind::DockerContainerd => self.delete_image_containerd(name, force, prune),
            EngineKind::Podman => self.delete_image_podman(name, force, prune),
        }
    }

    /// The classic store's delete. A conflict met while quietly deleting after an untag is no
    /// error at all.
    pub(crate) fn delete_image_classic(
        &mut self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        // Reference check: a blank or ungrammatical name is a 400 before any lookup.
        let argument =
            check_image_argument(name).map_err(|error| ApiError::invalid_argument(&error))?;
        let image_id = self.find_image(name, &argument)?;

        // The request goes by reference unless the text given is a prefix of the image's ID.
        match argument {
            ImageArgument::Reference(reference) if !is_image_id_prefix(&image_id, name) => {
                self.delete_by_reference(&image_id, name, &reference, force, prune)
            }
            _ => self.delete_by_id(&image_id, force, prune),
        }
    }

    /// Path A: remove the named reference, its repository's digests with its last tag, and the
    /// image itself (quietly) once nothing references it.
    fn delete_by_reference(
        &mut self,
        image_id: &str,
        name: &str,
        reference: &Reference,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        let references: Vec<&Reference> = self.references.each_reference(image_id).collect();

        // Reference check: removing the only reference of an image a container (running or
        // stopped) uses would leave it dangling, so that needs force.
        if !force
            && is_single_reference(&references)
            && let Some(container) = self.first_container_using(image_id, None)
        {
            return Err(ApiError::conflict(format!(
                "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                short_id(&container.id),
                short_id(image_id)
            )));
        }

        // Tag removal. The record echoes the request in familiar form, tag included even when a
        // digest was given and the tag was ignored.
        let removed = reference.with_default_tag();
        self.references.delete(&removed);
        let mut records = vec![DeleteRecord::Untagged(removed.familiar())];

        // A removed tag that was the last of its repository takes the repository's digest
        // references with it.
        if removed.digest().is_none() {
            let same_repository = |other: &&Reference| other.same_repository(&removed);
            let tag_left = self
                .references
                .each_reference(image_id)
                .filter(same_repository)
                .any(|other| other.digest().is_none());
            if !tag_left {
                let digests: Vec<Reference> = self
                    .references
                    .each_reference(image_id)
                    .filter(same_repository)
                    .filter(|other| other.digest().is_some())
                    .cloned()
                    .collect();
                for digest in digests {
                    self.references.delete(&digest);
                    records.push(DeleteRecord::Untagged(digest.familiar()));
                }
            }
        }
        if self.references.has_references(image_id) {
            return Ok(records);
        }

        // The last reference is gone: delete the image quietly, so a conflict (a child, a
        // running container) leaves it in place, dangling, without an error.
        self.delete_helper(image_id, &mut records, force, prune, true)?;
        Ok(records)
    }

    /// Path B: by ID or ID prefix. A single reference is removed after the container and child
    /// checks; several references are a conflict unless forced.
    fn delete_by_id(
        &mut self,
        image_id: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        let mut records = Vec::new();
        let references = self.references.references(image_id);
        if is_single_reference(&references) {
            // Dependency check, ignoring the references themselves.
            let mut mask = ConflictMask::HARD;
            if !force {
                mask = mask | ConflictMask::STOPPED_CONTAINER;
            }
            if let Some(conflict) = self.check_conflict(image_id, mask) {
                return Err(conflict.to_api_error());
            }
            // Tag removal.
            for reference in references {
                self.references.delete(&reference);
                records.push(DeleteRecord::Untagged(reference.familiar()));
            }
        }
        self.delete_helper(image_id, &mut records, force, prune, false)?;
        Ok(records)
    }

    /// `imageDeleteHelper`: check conflicts, remove what references are left, delete the image
    /// record, release its layers, then walk up the parents (quietly, without force) while
    /// `prune` holds and each parent can go.
    fn delete_helper(
        &mut self,
        image_id: &str,
        records: &mut Vec<DeleteRecord>,
        force: bool,
        prune: bool,
        quiet: bool,
    ) -> Result<(), ApiError> {
        let mut current = image_id.to_owned();
        let (mut force, mut quiet) = (force, quiet);
        loop {
            // Dependency check: hard conflicts always, soft ones unless forced.
            if let Some(conflict) = self.check_conflict(&current, ConflictMask::for_force(force)) {
                // Quietly skipped unless the image is dangling and no container uses it; the
                // engine's rules leave no conflict of that kind, but this is its condition.
                if quiet && (!self.is_dangling(&current) || conflict.used) {
                    return Ok(());
                }
                return Err(conflict.to_api_error());
            }
            // A parent link to an image that is gone cannot be followed.
            let parent = self
                .images
                .get(&current)
                .and_then(|image| image.parent.clone())
                .filter(|parent| self.contains_image(parent));

            // Tag removal: whatever references are left (forced deletes).
            for reference in self.references.references(&current) {
                self.references.delete(&reference);
                records.push(DeleteRecord::Untagged(reference.familiar()));
            }

            // Deletion and layer analysis.
            self.delete_image_record(&current, records);

            match parent {
                Some(parent) if prune => {
                    current = parent;
                    force = false;
                    quiet = true;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The image store's `Delete`: drops the record, unlinks any children, and releases the top
    /// layer; records the image ID, then each layer freed, top down.
    pub(crate) fn delete_image_record(&mut self, image_id: &str, records: &mut Vec<DeleteRecord>) {
        let Some(image) = self.images.remove(image_id) else {
            return;
        };
        for child in self.images.values_mut() {
            if child.parent.as_deref() == Some(image_id) {
                child.parent = None;
            }
        }
        records.push(DeleteRecord::Deleted(image.id.clone()));
        self.deleted_images.push(image.id);
        if let Some(top) = image.layers.last() {
            for chain_id in self.layers.release(top) {
                records.push(DeleteRecord::Deleted(chain_id.clone()));
                self.freed_layers.push(chain_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The rules of section 2 of `docs/rmi-semantics.md`, one test each.

    use super::*;
    use crate::plan::test_support::{
        ImageSpec, SnapshotBuilder, chain_id, container_id, deleted, digest, image_id, short,
        untagged,
    };

    fn store(builder: SnapshotBuilder) -> SimulatedStore {
        SimulatedStore::from_snapshot(&builder.build())
    }

    fn conflict(status: u16, message: String) -> Result<Vec<DeleteRecord>, ApiError> {
        Err(ApiError { status, message })
    }

    #[test]
    fn untag_one_of_several_tags_keeps_image() {
        let mut store = store(
            SnapshotBuilder::new().image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"])),
        );
        assert_eq!(
            store.delete_image("a:2", false, true),
            Ok(vec![untagged("a:2")])
        );
        assert!(store.contains_image(&image_id("a")));
        assert_eq!(store.references_of(&image_id("a"))[0].familiar(), "a:1");
    }

    #[test]
    fn last_tag_deletes_image_and_its_layer() {
        let mut store =
            store(SnapshotBuilder::new().image("a", ImageSpec::new().tags(["a:1"]).layers(["L"])));
        assert_eq!(
            store.delete_image("a:1", false, true),
            Ok(vec![
                untagged("a:1"),
                deleted(&image_id("a")),
                deleted(&chain_id(&["L"]))
            ])
        );
    }

    #[test]
    fn by_id_with_two_tags_needs_force() {
        let mut store = store(
            SnapshotBuilder::new().image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"])),
        );
        assert_eq!(
            store.delete_image(&image_id("a"), false, true),
            conflict(
                409,
                format!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    short(&image_id("a"))
                )
            )
        );
        assert!(store.has_references(&image_id("a")));
    }

    #[test]
    fn forced_by_id_untags_in_full_name_order_then_deletes() {
        let mut store = store(
            SnapshotBuilder::new().image(
                "x",
                ImageSpec::new()
                    .tags(["x:3", "other/x:1", "x:1"])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image(&image_id("x"), true, true),
            Ok(vec![
                untagged("x:1"),
                untagged("x:3"),
                untagged("other/x:1"),
                deleted(&image_id("x")),
                deleted(&chain_id(&["L"])),
            ])
        );
    }

    #[test]
    fn by_id_with_a_single_tag_needs_no_force() {
        let mut store =
            store(SnapshotBuilder::new().image("a", ImageSpec::new().tags(["a:1"]).layers(["L"])));
        assert_eq!(
            store.delete_image(short(&image_id("a")), false, true),
            Ok(vec![
                untagged("a:1"),
                deleted(&image_id("a")),
                deleted(&chain_id(&["L"]))
            ])
        );
    }

    #[test]
    fn untagged_image_by_id_is_deleted_without_force() {
        let mut store = store(SnapshotBuilder::new().image("a", ImageSpec::new().layers(["L"])));
        assert_eq!(
            store.delete_image(&image_id("a"), false, true),
            Ok(vec![deleted(&image_id("a")), deleted(&chain_id(&["L"]))])
        );
    }

    #[test]
    fn only_tag_used_by_a_stopped_container_needs_force() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("s", ImageSpec::new().tags(["s:1"]).layers(["S"]))
                .stopped("ctr", "s"),
        );
        assert_eq!(
            store.delete_image("s:1", false, true),
            conflict(
                409,
                format!(
                    "conflict: unable to remove repository reference \"s:1\" (must force) - container {} is using its referenced image {}",
                    short(&container_id("ctr")),
                    short(&image_id("s"))
                )
            )
        );
    }

    #[test]
    fn the_repository_reference_message_quotes_the_name_as_given() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("s", ImageSpec::new().tags(["s:latest"]).layers(["S"]))
                .running("ctr", "s"),
        );
        let error = store
            .delete_image("docker.io/library/s", false, true)
            .expect_err("a container uses the only tag");
        assert!(
            error.message.starts_with(
                "conflict: unable to remove repository reference \"docker.io/library/s\""
            ),
            "{}",
            error.message
        );
    }

    #[test]
    fn forced_untag_of_image_used_by_stopped_container_deletes_record_but_no_layer() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("s", ImageSpec::new().tags(["s:1"]).layers(["S"]))
                .stopped("ctr", "s"),
        );
        assert_eq!(
            store.delete_image("s:1", true, true),
            Ok(vec![untagged("s:1"), deleted(&image_id("s"))])
        );
        assert!(store.layers.contains(&chain_id(&["S"])));
    }

    #[test]
    fn forced_untag_of_image_used_by_running_container_leaves_it_dangling() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("r", ImageSpec::new().tags(["r:1"]).layers(["R"]))
                .running("ctr", "r"),
        );
        assert_eq!(
            store.delete_image("r:1", true, true),
            Ok(vec![untagged("r:1")])
        );
        assert!(store.contains_image(&image_id("r")));
        assert!(!store.has_references(&image_id("r")));
    }

    #[test]
    fn running_container_by_id_cannot_be_forced_even_when_untagged() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("r", ImageSpec::new().layers(["R"]))
                .running("ctr", "r"),
        );
        let expected = conflict(
            409,
            format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short(&image_id("r")),
                short(&container_id("ctr"))
            ),
        );
        assert_eq!(store.delete_image(&image_id("r"), false, true), expected);
        assert_eq!(store.delete_image(&image_id("r"), true, true), expected);
    }

    #[test]
    fn another_tag_can_go_while_a_container_uses_the_image() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("r", ImageSpec::new().tags(["r:1", "r:2"]).layers(["R"]))
                .running("ctr", "r"),
        );
        assert_eq!(
            store.delete_image("r:2", false, true),
            Ok(vec![untagged("r:2")])
        );
    }

    #[test]
    fn parent_with_a_child_cannot_be_deleted_by_id_even_forced() {
        let builder = SnapshotBuilder::new()
            .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["c:1"])
                    .parent("p")
                    .layers(["P", "C"]),
            );
        let expected = conflict(
            409,
            format!(
                "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
                short(&image_id("p"))
            ),
        );
        let mut store = store(builder);
        assert_eq!(store.delete_image(&image_id("p"), false, true), expected);
        assert_eq!(store.delete_image(&image_id("p"), true, true), expected);
        assert_eq!(
            store.delete_image("p:1", false, true),
            Ok(vec![untagged("p:1")])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn sharing_layers_does_not_make_a_child() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("nb", ImageSpec::new().tags(["nb:1"]).layers(["N"]))
                .image("nc", ImageSpec::new().tags(["nc:1"]).layers(["N", "C"])),
        );
        assert_eq!(
            store.delete_image(&image_id("nb"), false, true),
            Ok(vec![untagged("nb:1"), deleted(&image_id("nb"))])
        );
    }

    #[test]
    fn pruning_walks_untagged_parents_and_stops_at_a_tagged_one() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("b", ImageSpec::new().tags(["b:1"]).layers(["B"]))
                .image("i1", ImageSpec::new().parent("b").layers(["B", "1"]))
                .image("i2", ImageSpec::new().parent("i1").layers(["B", "1", "2"]))
                .image(
                    "t",
                    ImageSpec::new()
                        .tags(["t:1"])
                        .parent("i2")
                        .layers(["B", "1", "2", "T"]),
                ),
        );
        assert_eq!(
            store.delete_image("t:1", false, true),
            Ok(vec![
                untagged("t:1"),
                deleted(&image_id("t")),
                deleted(&chain_id(&["B", "1", "2", "T"])),
                deleted(&image_id("i2")),
                deleted(&chain_id(&["B", "1", "2"])),
                deleted(&image_id("i1")),
                deleted(&chain_id(&["B", "1"])),
            ])
        );
        assert!(store.contains_image(&image_id("b")));
    }

    #[test]
    fn pruning_stops_at_a_parent_with_another_child() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("p", ImageSpec::new().layers(["P"]))
                .image(
                    "c1",
                    ImageSpec::new()
                        .tags(["c:1"])
                        .parent("p")
                        .layers(["P", "1"]),
                )
                .image(
                    "c2",
                    ImageSpec::new()
                        .tags(["c:2"])
                        .parent("p")
                        .layers(["P", "2"]),
                ),
        );
        assert_eq!(
            store.delete_image("c:1", false, true),
            Ok(vec![
                untagged("c:1"),
                deleted(&image_id("c1")),
                deleted(&chain_id(&["P", "1"]))
            ])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn pruning_stops_at_a_parent_a_stopped_container_uses_even_when_forced() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("p", ImageSpec::new().layers(["P"]))
                .image(
                    "c",
                    ImageSpec::new()
                        .tags(["c:1"])
                        .parent("p")
                        .layers(["P", "C"]),
                )
                .stopped("ctr", "p"),
        );
        assert_eq!(
            store.delete_image("c:1", true, true),
            Ok(vec![
                untagged("c:1"),
                deleted(&image_id("c")),
                deleted(&chain_id(&["P", "C"]))
            ])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn no_prune_deletes_the_target_but_leaves_its_parents() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("p", ImageSpec::new().layers(["P"]))
                .image(
                    "c",
                    ImageSpec::new()
                        .tags(["c:1"])
                        .parent("p")
                        .layers(["P", "C"]),
                ),
        );
        assert_eq!(
            store.delete_image("c:1", false, false),
            Ok(vec![
                untagged("c:1"),
                deleted(&image_id("c")),
                deleted(&chain_id(&["P", "C"]))
            ])
        );
        assert!(store.contains_image(&image_id("p")));
        assert!(store.is_dangling(&image_id("p")));
    }

    #[test]
    fn a_tag_removes_the_digests_of_its_repository_with_it() {
        let d = digest("D");
        let mut store = store(
            SnapshotBuilder::new().image(
                "r",
                ImageSpec::new()
                    .tags(["r:1"])
                    .digests([format!("r@{d}")])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image("r:1", false, true),
            Ok(vec![
                untagged("r:1"),
                untagged(&format!("r@{d}")),
                deleted(&image_id("r")),
                deleted(&chain_id(&["L"])),
            ])
        );
    }

    #[test]
    fn a_tag_keeps_digests_while_another_tag_of_the_repository_is_left() {
        let d = digest("D");
        let mut store = store(
            SnapshotBuilder::new().image(
                "r",
                ImageSpec::new()
                    .tags(["r:1", "r:2"])
                    .digests([format!("r@{d}")])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image("r:1", false, true),
            Ok(vec![untagged("r:1")])
        );
        assert_eq!(store.references_of(&image_id("r")).len(), 2);
    }

    #[test]
    fn a_tag_keeps_digests_of_other_repositories() {
        let d = digest("D");
        let mut store = store(
            SnapshotBuilder::new().image(
                "r",
                ImageSpec::new()
                    .tags(["r:1"])
                    .digests([format!("s@{d}")])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image("r:1", false, true),
            Ok(vec![untagged("r:1")])
        );
        assert!(store.contains_image(&image_id("r")));
    }

    #[test]
    fn removing_a_digest_keeps_the_tag() {
        let d = digest("D");
        let mut store = store(
            SnapshotBuilder::new().image(
                "r",
                ImageSpec::new()
                    .tags(["r:1"])
                    .digests([format!("r@{d}")])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image(&format!("r@{d}"), false, true),
            Ok(vec![untagged(&format!("r@{d}"))])
        );
        assert_eq!(store.references_of(&image_id("r"))[0].familiar(), "r:1");
    }

    #[test]
    fn a_digest_known_only_under_another_repository_is_not_found() {
        let d = digest("D");
        let mut store = store(
            SnapshotBuilder::new().image(
                "r",
                ImageSpec::new()
                    .digests([format!("localhost:5055/dg@{d}")])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image(&format!("other@{d}"), false, true),
            conflict(404, format!("No such image: other@{d}"))
        );
    }

    #[test]
    fn a_name_that_is_a_prefix_of_the_id_takes_the_id_path() {
        let id = crate::plan::test_support::id_with_prefix("056a58cb8db8", "amb4");
        let mut store = store(
            SnapshotBuilder::new().image(
                "amb4",
                ImageSpec::new()
                    .id(&id)
                    .tags(["amb4:1", "056a5:latest"])
                    .layers(["L"]),
            ),
        );
        assert_eq!(
            store.delete_image("056a5", false, true),
            conflict(
                409,
                "conflict: unable to delete 056a58cb8db8 (must be forced) - image is referenced in multiple repositories"
                    .to_owned()
            )
        );
        assert_eq!(
            store.delete_image("056a5:latest", false, true),
            Ok(vec![untagged("056a5:latest")])
        );
    }

    #[test]
    fn a_tag_named_like_the_algorithm_goes_by_id() {
        // "sha" is a prefix of every "sha256:…" ID, so the engine takes the ID path: with a
        // stopped container it reports the container rather than the repository reference.
        let mut store = store(
            SnapshotBuilder::new()
                .image("s", ImageSpec::new().tags(["sha:latest"]).layers(["L"]))
                .stopped("ctr", "s"),
        );
        assert_eq!(
            store.delete_image("sha", false, true),
            conflict(
                409,
                format!(
                    "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                    short(&image_id("s")),
                    short(&container_id("ctr"))
                )
            )
        );
    }

    #[test]
    fn invalid_and_blank_names_are_bad_requests() {
        let mut store = SimulatedStore::default();
        assert_eq!(
            store.delete_image(" ", false, true),
            conflict(400, "image name cannot be blank".to_owned())
        );
        assert_eq!(
            store.delete_image("UPPER", true, true),
            conflict(
                400,
                "invalid reference format: repository name must be lowercase".to_owned()
            )
        );
    }

    #[test]
    fn an_image_without_layers_is_deleted_with_no_layer_record() {
        let mut store = store(SnapshotBuilder::new().image("e", ImageSpec::new().tags(["e:1"])));
        assert_eq!(
            store.delete_image("e:1", false, true),
            Ok(vec![untagged("e:1"), deleted(&image_id("e"))])
        );
    }

    #[test]
    fn a_failed_request_changes_nothing() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"]))
                .stopped("ctr", "a"),
        );
        let before = store.clone();
        assert!(store.delete_image(&image_id("a"), false, true).is_err());
        assert_eq!(store, before);
    }
}
