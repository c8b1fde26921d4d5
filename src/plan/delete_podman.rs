//! Podman's compat `DELETE /images/{name}` (libpod 4.3's handler over libimage's
//! `removeRecursive`), and libpod's `untag`, as `docs/engines/podman.md` states them.
//!
//! By a name of an image that has other names: that name goes, nothing else. Otherwise (last
//! name, or by ID): refused with 500 by ID when the image has several names, with 409 when a
//! container uses it (force would remove those containers); else the image goes with every
//! layer nothing else holds, answered `Deleted` only when it had no child image, then each
//! parent left without names or children goes too. `Deleted` entries come before `Untagged`
//! ones. `noprune` is ignored.

use super::api_error::ApiError;
use super::podman_lookup::{INTERNAL_ERROR, PodmanTarget, normalized};
use super::record::DeleteRecord;
use super::store::SimulatedStore;
use crate::reference::Reference;

/// What Podman's removal did beyond its answer, for the plan's exactness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PodmanOutcome {
    /// Pruning reached a dangling parent a container uses: Podman then answers an error
    /// although it removed the image asked for.
    pub(crate) parent_in_use: bool,
}

impl SimulatedStore {
    /// The request as it reaches Podman: fleetrmi never sends Podman's force (it would remove
    /// containers; [`crate::engine::Engine::remove_image`] drops it), so a forced request is the
    /// unforced one it becomes.
    pub(crate) fn delete_image_podman(
        &mut self,
        name: &str,
        _force: bool,
        _prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        self.remove_podman(name, false).map(|(records, _)| records)
    }

    /// Podman's removal, with its own force (which removes the containers using the images it
    /// deletes), and what the answer does not show.
    pub(crate) fn remove_podman(
        &mut self,
        name: &str,
        force: bool,
    ) -> Result<(Vec<DeleteRecord>, PodmanOutcome), ApiError> {
        let PodmanTarget {
            image_id,
            name: matched,
        } = self.podman_find(name)?;
        let names = self.podman_names(&image_id);
        if let Some(matched) = matched.filter(|_| names.len() > 1) {
            self.untag_podman_name(&image_id, &matched);
            return Ok((
                vec![DeleteRecord::Untagged(matched)],
                PodmanOutcome::default(),
            ));
        }
        if !force && names.len() > 1 {
            return Err(several_names(&image_id, &names));
        }
        if force {
            self.remove_containers_of(&image_id);
        } else if let Some(container) = self.first_container_using(&image_id, None) {
            return Err(in_use(name, &container.id));
        }

        let mut deleted = Vec::new();
        let mut outcome = PodmanOutcome::default();
        let mut current = image_id;
        loop {
            let has_children = self.has_children(&current);
            let parent = self
                .images
                .get(&current)
                .and_then(|image| image.parent.clone())
                .filter(|parent| self.contains_image(parent));
            self.drop_podman_image(&current);
            if !has_children {
                deleted.push(DeleteRecord::Deleted(current.clone()));
            }
            let Some(parent) = parent.filter(|parent| {
                self.podman_names(parent).is_empty() && !self.has_children(parent)
            }) else {
                break;
            };
            if force {
                self.remove_containers_of(&parent);
            } else if self.first_container_using(&parent, None).is_some() {
                outcome.parent_in_use = true;
                break;
            }
            current = parent;
        }
        deleted.extend(names.into_iter().map(DeleteRecord::Untagged));
        Ok((deleted, outcome))
    }

    /// libpod's `POST /libpod/images/{name}/untag?repo=…&tag=…`: the name goes, the image stays
    /// (even without names, even while a container uses it). False when no image has the name.
    pub(crate) fn untag_podman(&mut self, name: &str) -> bool {
        let Some(wanted) = normalized(name) else {
            return false;
        };
        let found = self.images.values().find_map(|image| {
            image
                .repo_tags
                .iter()
                .find(|candidate| normalized(candidate).is_some_and(|text| text == wanted))
                .map(|candidate| (image.id.clone(), candidate.clone()))
        });
        match found {
            Some((image_id, candidate)) => {
                self.untag_podman_name(&image_id, &candidate);
                true
            }
            None => false,
        }
    }

    /// Removes one of an image's names.
    fn untag_podman_name(&mut self, image_id: &str, name: &str) {
        if let Some(image) = self.images.get_mut(image_id) {
            image.repo_tags.retain(|other| other != name);
        }
        if let Ok(removed) = Reference::parse(name) {
            self.references.delete(&removed);
        }
    }

    /// Takes an image out of the store with its names, releasing its layers (freed ones are
    /// logged like every deletion); answers nothing.
    fn drop_podman_image(&mut self, image_id: &str) {
        for name in self.podman_names(image_id) {
            self.untag_podman_name(image_id, &name);
        }
        let mut unused_records = Vec::new();
        self.delete_image_record(image_id, &mut unused_records);
    }

    /// Podman's forced removal: every container using the image goes first.
    fn remove_containers_of(&mut self, image_id: &str) {
        let top = self
            .images
            .get(image_id)
            .and_then(|image| image.layers.last().cloned());
        let before = self.containers.len();
        self.containers
            .retain(|container| container.image_id != image_id);
        if let Some(top) = top {
            for _ in self.containers.len()..before {
                let freed = self.layers.release(&top);
                self.freed_layers.extend(freed);
            }
        }
    }
}

/// 500: by ID, without force, an image with several names.
fn several_names(image_id: &str, names: &[String]) -> ApiError {
    let hex = image_id.trim_start_matches("sha256:");
    let qualified: Vec<String> = names
        .iter()
        .map(|name| normalized(name).unwrap_or_else(|| name.clone()))
        .collect();
    ApiError {
        status: INTERNAL_ERROR,
        message: format!(
            "unable to delete image \"{hex}\" by ID with more than one tag ([{}]): please force \
             removal",
            qualified.join(" ")
        ),
    }
}

/// 409: a container (running or not) uses the image.
fn in_use(name: &str, container_id: &str) -> ApiError {
    ApiError::conflict(format!(
        "image {name} is in use: image used by {container_id}: image is in use by a container: \
         consider listing external containers and force-removing image"
    ))
}

#[cfg(test)]
mod tests {
    //! The transcripts of `docs/engines/podman.md`, by case number.

    use super::*;
    use crate::data::EngineKind;
    use crate::plan::test_support::{
        ImageSpec, SnapshotBuilder, container_id, deleted, digest, image_id, untagged,
    };

    fn podman(builder: SnapshotBuilder) -> SimulatedStore {
        let mut snapshot = builder.build();
        snapshot.engine = EngineKind::Podman;
        SimulatedStore::from_snapshot(&snapshot)
    }

    fn forced(store: &mut SimulatedStore, name: &str) -> Result<Vec<DeleteRecord>, ApiError> {
        store.remove_podman(name, true).map(|(records, _)| records)
    }

    fn error(status: u16, message: &str) -> Result<Vec<DeleteRecord>, ApiError> {
        Err(ApiError {
            status,
            message: message.to_owned(),
        })
    }

    /// Podman's 500 for an image named by ID that has several names.
    fn several_names_error(id: &str, names: &str) -> Result<Vec<DeleteRecord>, ApiError> {
        let hex = id.trim_start_matches("sha256:");
        error(
            500,
            &format!(
                "unable to delete image \"{hex}\" by ID with more than one tag ([{names}]): \
                 please force removal"
            ),
        )
    }

    /// `base:1` with two children, one of them behind two untagged intermediates.
    fn family() -> SnapshotBuilder {
        SnapshotBuilder::base_and_app()
            .image("i1", ImageSpec::new().parent("base").layers(["B", "1"]))
            .image("i2", ImageSpec::new().parent("i1").layers(["B", "1", "2"]))
            .image(
                "chain",
                ImageSpec::new()
                    .tags(["chain:1"])
                    .parent("i2")
                    .layers(["B", "1", "2", "C"]),
            )
    }

    #[test]
    fn case_01_one_of_two_tags_is_only_untagged() {
        let mut store = podman(
            SnapshotBuilder::new().image("a", ImageSpec::new().tags(["app:latest", "app:3"])),
        );
        assert_eq!(
            store.delete_image("app:latest", false, true),
            Ok(vec![untagged("app:latest")])
        );
        assert_eq!(store.podman_names(&image_id("a")), ["app:3"]);
    }

    #[test]
    fn case_02_a_last_tag_answers_deleted_before_untagged() {
        let mut store = podman(
            SnapshotBuilder::new().image("u", ImageSpec::new().tags(["unique:1"]).layers(["U"])),
        );
        assert_eq!(
            store.delete_image("unique:1", false, true),
            Ok(vec![deleted(&image_id("u")), untagged("unique:1")])
        );
        assert!(!store.contains_image(&image_id("u")));
        assert_eq!(store.freed_layers().len(), 1);
    }

    #[test]
    fn case_03_a_bare_name_means_latest_and_the_message_is_podmans() {
        let mut store =
            podman(SnapshotBuilder::new().image("m", ImageSpec::new().tags(["multi:1"])));
        assert_eq!(
            store.delete_image("multi", false, true),
            error(
                404,
                "failed to find image multi: docker.io/library/multi: image not known"
            )
        );
    }

    fn multi() -> SnapshotBuilder {
        SnapshotBuilder::new().image(
            "m",
            ImageSpec::new()
                .tags(["other/multi:1", "multi:2", "multi:1"])
                .layers(["M"]),
        )
    }

    #[test]
    fn case_04_by_id_with_several_names_is_a_500_listing_them_in_podmans_order() {
        let mut store = podman(multi());
        let id = image_id("m");
        assert_eq!(
            store.delete_image(&id, false, true),
            several_names_error(
                &id,
                "docker.io/other/multi:1 docker.io/library/multi:2 docker.io/library/multi:1"
            )
        );
        assert_eq!(store.podman_names(&id).len(), 3);
    }

    #[test]
    fn case_05_forced_by_id_takes_every_name() {
        let mut store = podman(multi());
        let id = image_id("m");
        assert_eq!(
            forced(&mut store, &id),
            Ok(vec![
                deleted(&id),
                untagged("other/multi:1"),
                untagged("multi:2"),
                untagged("multi:1")
            ])
        );
    }

    #[test]
    fn case_06_an_id_prefix_with_one_name_deletes() {
        let id = crate::plan::test_support::id_with_prefix("f9565f9ab318", "p");
        let mut store =
            podman(SnapshotBuilder::new().image("p", ImageSpec::new().id(&id).tags(["purge:1"])));
        assert_eq!(
            store.delete_image("f9565f9ab318", false, true),
            Ok(vec![deleted(&id), untagged("purge:1")])
        );
    }

    fn run_and_stopped() -> SnapshotBuilder {
        SnapshotBuilder::new()
            .image("r", ImageSpec::new().tags(["run:1", "run:2"]).layers(["R"]))
            .image("s", ImageSpec::new().tags(["stopped:1"]).layers(["S"]))
            .running("running-1", "r")
            .stopped("stopped-1", "s")
    }

    #[test]
    fn cases_10_15_a_container_makes_the_last_name_a_409_by_tag_and_by_id() {
        let mut store = podman(run_and_stopped());
        let message = |name: &str, key: &str| {
            format!(
                "image {name} is in use: image used by {}: image is in use by a container: \
                 consider listing external containers and force-removing image",
                container_id(key)
            )
        };
        assert_eq!(
            store.delete_image("stopped:1", false, true),
            error(409, &message("stopped:1", "stopped-1"))
        );
        let id = image_id("s");
        assert_eq!(
            store.delete_image(&id, false, true),
            error(409, &message(&id, "stopped-1"))
        );
        assert_eq!(
            store.delete_image("run:2", false, true),
            Ok(vec![untagged("run:2")])
        );
        assert_eq!(
            store.delete_image("run:1", false, true),
            error(409, &message("run:1", "running-1"))
        );
    }

    #[test]
    fn cases_11_16_force_removes_the_containers_running_ones_included() {
        let mut store = podman(run_and_stopped());
        assert_eq!(
            forced(&mut store, "stopped:1"),
            Ok(vec![deleted(&image_id("s")), untagged("stopped:1")])
        );
        assert_eq!(store.containers.len(), 1);
        assert_eq!(
            forced(&mut store, &image_id("r")),
            Ok(vec![
                deleted(&image_id("r")),
                untagged("run:1"),
                untagged("run:2")
            ])
        );
        assert!(store.containers.is_empty());
    }

    #[test]
    fn cases_18_19_an_image_with_children_goes_answered_untagged_only() {
        for name in [image_id("base"), "base:1".to_owned()] {
            let mut store = podman(family());
            assert_eq!(
                store.delete_image(&name, false, true),
                Ok(vec![untagged("base:1")])
            );
            assert!(!store.contains_image(&image_id("base")));
            assert_eq!(store.images[&image_id("app")].parent, None);
            assert!(
                store.freed_layers().is_empty(),
                "the children hold its layer"
            );
        }
    }

    #[test]
    fn cases_20_21_dangling_parents_go_too_and_noprune_is_ignored() {
        for prune in [true, false] {
            let mut store = podman(family());
            assert_eq!(
                store.delete_image("chain:1", false, prune),
                Ok(vec![
                    deleted(&image_id("chain")),
                    deleted(&image_id("i2")),
                    deleted(&image_id("i1")),
                    untagged("chain:1")
                ])
            );
            assert!(store.contains_image(&image_id("base")));
        }
    }

    #[test]
    fn a_parent_with_a_name_or_another_child_stays() {
        let mut store = podman(family());
        assert_eq!(
            store.delete_image("app:1", false, true),
            Ok(vec![deleted(&image_id("app")), untagged("app:1")])
        );
        assert!(store.contains_image(&image_id("base")));
    }

    #[test]
    fn a_dangling_parent_a_container_uses_stops_the_pruning() {
        let mut store = podman(family().stopped("ctr", "i2"));
        let (records, outcome) = store.remove_podman("chain:1", false).expect("removed");
        assert_eq!(records, [deleted(&image_id("chain")), untagged("chain:1")]);
        assert!(outcome.parent_in_use);
    }

    fn digest_names() -> SnapshotBuilder {
        let d = digest("dg");
        SnapshotBuilder::new()
            .image(
                "dg",
                ImageSpec::new()
                    .tags([
                        "127.0.1.250:5000/dg:1".to_string(),
                        format!("127.0.1.250:5000/dg@{d}"),
                    ])
                    .digests([
                        format!("127.0.1.250:5000/dg@{d}"),
                        format!("127.0.1.250:5000/dg@{}", digest("local")),
                    ]),
            )
            .image(
                "only",
                ImageSpec::new().tags([format!("127.0.1.250:5000/dgonly@{}", digest("only"))]),
            )
    }

    #[test]
    fn case_23_a_digest_name_goes_and_the_tag_stays() {
        let mut store = podman(digest_names());
        let name = format!("127.0.1.250:5000/dg@{}", digest("dg"));
        assert_eq!(
            store.delete_image(&name, false, true),
            Ok(vec![untagged(&name)])
        );
        assert_eq!(
            store.podman_names(&image_id("dg")),
            ["127.0.1.250:5000/dg:1"]
        );
    }

    #[test]
    fn cases_25_27_a_digest_only_image_by_id_or_by_tag_and_digest() {
        let name = format!("127.0.1.250:5000/dgonly@{}", digest("only"));
        let expected = Ok(vec![deleted(&image_id("only")), untagged(&name)]);
        let mut store = podman(digest_names());
        assert_eq!(store.delete_image(&image_id("only"), false, true), expected);
        let mut store = podman(digest_names());
        let tagged = format!("127.0.1.250:5000/dgonly:ignored@{}", digest("only"));
        assert_eq!(store.delete_image(&tagged, false, true), expected);
    }

    #[test]
    fn case_26_a_digest_name_counts_as_a_name_by_id() {
        let d = digest("only");
        let mut store = podman(SnapshotBuilder::new().image(
            "only",
            ImageSpec::new().tags([format!("127.0.1.250:5000/dgonly@{d}"), "x:1".to_owned()]),
        ));
        let id = image_id("only");
        assert_eq!(
            store.delete_image(&id, false, true),
            several_names_error(
                &id,
                &format!("127.0.1.250:5000/dgonly@{d} docker.io/library/x:1")
            )
        );
    }

    #[test]
    fn cases_28_29_not_found_and_bad_references() {
        let mut store = podman(SnapshotBuilder::new());
        assert_eq!(
            store.delete_image("nosuch:1", false, true),
            error(
                404,
                "failed to find image nosuch:1: docker.io/library/nosuch:1: image not known"
            )
        );
        assert_eq!(
            store.delete_image("0123456789ab", false, true),
            error(
                404,
                "failed to find image 0123456789ab: docker.io/library/0123456789ab: image not known"
            )
        );
        assert_eq!(
            store.delete_image("Bad:1", false, true),
            error(
                500,
                "normalizing image: normalizing name for compat API: repository name must be lowercase"
            )
        );
    }

    #[test]
    fn case_32_a_shared_layer_is_freed_with_the_second_image() {
        let mut store = podman(
            SnapshotBuilder::new()
                .image("s1", ImageSpec::new().tags(["shared:1"]).layers(["S"]))
                .image("s2", ImageSpec::new().tags(["shared:2"]).layers(["S"])),
        );
        store
            .delete_image("shared:1", false, true)
            .expect("deleted");
        assert!(store.freed_layers().is_empty());
        store
            .delete_image("shared:2", false, true)
            .expect("deleted");
        assert_eq!(store.freed_layers().len(), 1);
    }

    #[test]
    fn libpods_untag_keeps_the_image_without_names_while_a_container_runs() {
        let mut store = podman(
            SnapshotBuilder::new()
                .image("r", ImageSpec::new().tags(["run:1"]))
                .running("c", "r"),
        );
        assert!(store.untag_podman("run:1"));
        assert!(store.contains_image(&image_id("r")));
        assert!(store.podman_names(&image_id("r")).is_empty());
        assert!(!store.has_references(&image_id("r")));
        assert!(!store.untag_podman("run:1"));
    }

    #[test]
    fn a_failed_request_changes_nothing() {
        let mut store = podman(multi().stopped("c", "m"));
        let before = store.clone();
        assert!(store.delete_image(&image_id("m"), false, true).is_err());
        assert_eq!(store, before);
    }

    #[test]
    fn a_forced_request_reaches_podman_unforced() {
        let mut store = podman(run_and_stopped());
        assert_eq!(
            store
                .delete_image("stopped:1", true, true)
                .map_err(|e| e.status),
            Err(409)
        );
        assert_eq!(store.containers.len(), 2);
    }

    #[test]
    fn a_short_name_means_the_localhost_image_first() {
        let mut store = podman(
            SnapshotBuilder::new()
                .image("hub", ImageSpec::new().tags(["app:1"]))
                .image("local", ImageSpec::new().tags(["localhost/app:1"])),
        );
        assert_eq!(
            store.delete_image("app:1", false, true),
            Ok(vec![
                deleted(&image_id("local")),
                untagged("localhost/app:1")
            ])
        );
        assert_eq!(store.podman_lookup_caveat("app:1"), None);
        assert_eq!(
            store.delete_image("docker.io/library/app:1", false, true),
            Ok(vec![deleted(&image_id("hub")), untagged("app:1")])
        );
    }

    #[test]
    fn lookups_podman_resolves_by_rules_not_modelled_are_marked() {
        let store = podman(
            digest_names()
                .image("quay", ImageSpec::new().tags(["quay.io/x/app:1"]))
                .image("hub", ImageSpec::new().tags(["app:1"])),
        );
        assert!(store.podman_lookup_caveat("app:1").is_some());
        assert_eq!(store.podman_lookup_caveat("docker.io/library/app:1"), None);
        assert_eq!(store.podman_lookup_caveat("Bad:1"), None);
        assert!(store.podman_lookup_caveat("bad@x").is_some());
        let recorded = format!("127.0.1.250:5000/dg@{}", digest("local"));
        assert!(store.podman_lookup_caveat(&recorded).is_some());
        assert_eq!(store.podman_lookup_caveat("nosuch:1"), None);
        assert!(store.podman_lookup_caveat(&"0".repeat(64)).is_some());
        assert!(store.podman_lookup_caveat("sha256:0123").is_some());
    }
}
