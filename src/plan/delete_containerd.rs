//! The containerd image store's `ImageDelete` (dockerd 26.1 with `containerd-snapshotter`).
//!
//! Its rules, and the transcripts they come from, are in `docs/engines/containerd-store.md`.
//! In this store an image is one or more name records pointing at a manifest digest (the image
//! ID); an image without a tag or digest name keeps a `moby-dangling@<id>` record instead. Here
//! an image's names are its references, and an image left without any stands for that dangling
//! record. Parents are the `org.mobyproject.image.parent` label (the listed `ParentId`), which a
//! child keeps after its parent is gone. `Deleted` records name images only, never layers.

use crate::reference::{ImageArgument, Reference, ReferenceError, check_image_argument};
use crate::snapshot::{ContainerState, short_id};

use super::api_error::ApiError;
use super::conflict::Conflict;
use super::lookup::is_image_id_prefix;
use super::record::DeleteRecord;
use super::store::SimulatedStore;

/// One name record of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    Reference(Reference),
    /// `moby-dangling@<id>`: the record of an image without references.
    Dangling,
}

/// The soft conflicts a delete still checks (a running container is always checked).
#[derive(Debug, Clone, Copy)]
struct SoftChecks {
    stopped_container: bool,
    /// "referenced in multiple repositories", and the dangling record kept for children.
    active_reference: bool,
}

impl SoftChecks {
    fn unless_forced(force: bool) -> Self {
        SoftChecks {
            stopped_container: !force,
            active_reference: !force,
        }
    }
}

impl SimulatedStore {
    pub(crate) fn delete_image_containerd(
        &mut self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        let argument = check_image_argument(name).map_err(|error| match error {
            ReferenceError::Uppercase { input } => ApiError {
                status: ApiError::BAD_REQUEST,
                message: uppercase_message(&input),
            },
            error => ApiError::invalid_argument(&error),
        })?;
        let (matched, image_id) = self.resolve_name(name, &argument)?;
        let all = self.names_of(&image_id);
        let mut checks = SoftChecks::unless_forced(force);

        match matched {
            // By ID, by ID prefix, or by a digest that is no name of its own.
            None => {
                let named = match &argument {
                    ImageArgument::Reference(reference) if !is_image_id_prefix(&image_id, name) => {
                        Some(reference.clone())
                    }
                    _ => None,
                };
                let same = same_references(named.as_ref(), &all);
                if let Some(named) = &named
                    && same.is_empty()
                {
                    return Err(ApiError::no_such_image(
                        &named.with_default_tag().familiar(),
                    ));
                }
                if same.len() == all.len() && !force {
                    checks.active_reference = false;
                }
                if named.is_some() && same.len() != all.len() {
                    return Ok(self.untag(&same));
                }
            }
            Some(matched) => {
                if !is_image_id_prefix(&image_id, name) {
                    let same = same_references(Some(&matched), &all);
                    if same.len() != all.len() {
                        return Ok(self.untag(&same));
                    }
                    if all.len() > 1 && !force {
                        checks.active_reference = false;
                    }
                    if let Some(container) = self.first_container_using(&image_id, None) {
                        if !force {
                            return Err(ApiError::conflict(format!(
                                "conflict: unable to delete {} (must be forced) - container {} is using its referenced image {}",
                                matched.familiar(),
                                short_id(&container.id),
                                short_id(&image_id)
                            )));
                        }
                        // Forced: only this name goes; the image stays, dangling if it was
                        // the last one.
                        return Ok(self.untag(&[Name::Reference(matched)]));
                    }
                }
            }
        }
        self.delete_all(&image_id, &all, checks, prune)
    }

    /// `resolveAllReferences`: the name record the argument names exactly, if any, and the
    /// image it points at (by name, ID, ID prefix, or the digest of any of its names).
    fn resolve_name(
        &self,
        name: &str,
        argument: &ImageArgument,
    ) -> Result<(Option<Reference>, String), ApiError> {
        let reference = match argument {
            ImageArgument::ImageId(id) if self.contains_image(id) => return Ok((None, id.clone())),
            ImageArgument::ImageId(id) => return Err(ApiError::no_such_image(id)),
            ImageArgument::Reference(reference) => reference,
        };
        let lookup = reference.with_default_tag();
        let not_found = || ApiError::no_such_image(&lookup.familiar());
        let by_name = self.name_record(&lookup);
        if looks_like_truncated_id(name) {
            let hex = name.strip_prefix("sha256:").unwrap_or(name);
            let mut ids: Vec<&str> = self
                .image_ids()
                .filter(|id| {
                    id.strip_prefix("sha256:")
                        .is_some_and(|h| h.starts_with(hex))
                })
                .collect();
            if let Some(id) = by_name.as_deref()
                && !ids.contains(&id)
            {
                ids.push(id);
            }
            return match ids.as_slice() {
                [] => Err(not_found()),
                [id] => Ok((by_name.is_some().then_some(lookup.clone()), id.to_string())),
                _ => Err(ApiError {
                    status: ApiError::NOT_FOUND,
                    message: "ambiguous reference".to_owned(),
                }),
            };
        }
        if let Some(id) = by_name {
            return Ok((Some(lookup), id));
        }
        match reference.digest() {
            Some(digest) if self.contains_image(digest) => Ok((None, digest.to_owned())),
            _ => Err(not_found()),
        }
    }

    /// The image a name record with exactly this full name points at (`repo:tag@digest` is a
    /// name of its own, never stored: it matches nothing).
    fn name_record(&self, lookup: &Reference) -> Option<String> {
        if lookup.tag().is_some() && lookup.digest().is_some() {
            return None;
        }
        self.references
            .get(lookup)
            .filter(|id| self.contains_image(id))
            .map(str::to_owned)
    }

    /// Every name record of an image, in the store's order (full names, lexically).
    fn names_of(&self, image_id: &str) -> Vec<Name> {
        let references = self.references.references(image_id);
        if references.is_empty() {
            vec![Name::Dangling]
        } else {
            references.into_iter().map(Name::Reference).collect()
        }
    }

    /// Deletes the given names and nothing else: the image stays (dangling if they were its
    /// last names).
    fn untag(&mut self, names: &[Name]) -> Vec<DeleteRecord> {
        let mut records = Vec::new();
        for name in names {
            if let Name::Reference(reference) = name {
                self.references.delete(reference);
                records.push(DeleteRecord::Untagged(reference.familiar()));
            }
        }
        records
    }

    /// `deleteAll`: every name of the image, the image, then (with `prune`) its unnamed parents
    /// up the label chain until one cannot go. The chain is read first; when an ancestor is
    /// missing the engine cannot read it and prunes nothing.
    fn delete_all(
        &mut self,
        image_id: &str,
        all: &[Name],
        checks: SoftChecks,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        let parents = if prune {
            self.label_parents(image_id)
        } else {
            Vec::new()
        };
        let mut records = Vec::new();
        for name in all {
            self.delete_name(image_id, name, all, checks, &mut records)?;
        }
        records.push(DeleteRecord::Deleted(image_id.to_owned()));
        let parent_checks = SoftChecks::unless_forced(false);
        for parent in parents {
            if self.references.has_references(&parent) {
                break;
            }
            if self
                .delete_name(&parent, &Name::Dangling, all, parent_checks, &mut records)
                .is_err()
            {
                break;
            }
            records.push(DeleteRecord::Deleted(parent));
        }
        Ok(records)
    }

    /// `imageDeleteHelper`: checks conflicts, then deletes one name record. The last name of an
    /// image with children, deleted without force, leaves a dangling record: the image stays.
    /// `all` is the names of the image the request is about, also when pruning its parents.
    fn delete_name(
        &mut self,
        image_id: &str,
        name: &Name,
        all: &[Name],
        checks: SoftChecks,
        records: &mut Vec<DeleteRecord>,
    ) -> Result<(), ApiError> {
        if let Some(conflict) = self.containerd_conflict(image_id, all, checks) {
            return Err(conflict.to_api_error());
        }
        match name {
            Name::Reference(reference) => {
                let kept_for_children =
                    all.len() == 1 && checks.active_reference && self.has_children(image_id);
                self.references.delete(reference);
                records.push(DeleteRecord::Untagged(reference.familiar()));
                if !self.references.has_references(image_id) {
                    if kept_for_children {
                        self.release_kept_image(image_id);
                    } else {
                        self.drop_image(image_id);
                    }
                }
            }
            Name::Dangling => self.drop_image(image_id),
        }
        Ok(())
    }

    /// `checkImageDeleteConflict` of this store: running container, stopped container, then
    /// several names, in that order.
    fn containerd_conflict(
        &self,
        image_id: &str,
        all: &[Name],
        checks: SoftChecks,
    ) -> Option<Conflict> {
        let conflict = |hard, used, message: String| Conflict {
            hard,
            used,
            image_id: image_id.to_owned(),
            message,
        };
        if let Some(container) = self.first_container_using(image_id, Some(ContainerState::Running))
        {
            return Some(conflict(
                true,
                true,
                format!(
                    "image is being used by running container {}",
                    short_id(&container.id)
                ),
            ));
        }
        if checks.stopped_container
            && let Some(container) =
                self.first_container_using(image_id, Some(ContainerState::Stopped))
        {
            return Some(conflict(
                false,
                true,
                format!(
                    "image is being used by stopped container {}",
                    short_id(&container.id)
                ),
            ));
        }
        if checks.active_reference && all.len() > 1 {
            return Some(conflict(
                false,
                false,
                "image is referenced in multiple repositories".to_owned(),
            ));
        }
        None
    }

    /// The parents named by the label, nearest first; empty when one of them is gone.
    fn label_parents(&self, image_id: &str) -> Vec<String> {
        let mut parents: Vec<String> = Vec::new();
        let mut current = image_id;
        while let Some(parent) = self
            .images
            .get(current)
            .and_then(|image| image.parent.as_deref())
        {
            if !self.contains_image(parent) {
                return Vec::new();
            }
            if parent == image_id || parents.iter().any(|seen| seen == parent) {
                break;
            }
            parents.push(parent.to_owned());
            current = parent;
        }
        parents
    }

    /// An image answered `Deleted` but kept for its children counts as gone for bytes, as the
    /// real run counts it ([`super::FreedByImages`]): its top layer is released now (the
    /// children hold every layer of it) and it keeps no layers of its own, as the engine then
    /// lists it (its history answers "snapshot does not exist").
    fn release_kept_image(&mut self, image_id: &str) {
        let Some(image) = self.images.get_mut(image_id) else {
            return;
        };
        if let Some(top) = std::mem::take(&mut image.layers).last() {
            let freed = self.layers.release(top);
            self.freed_layers.extend(freed);
        }
    }

    /// Removes an image record: its content goes, its top layer is released (the layers no one
    /// else holds are logged as freed). Children keep their parent label.
    pub(super) fn drop_image(&mut self, image_id: &str) {
        let Some(image) = self.images.remove(image_id) else {
            return;
        };
        self.deleted_images.push(image.id);
        if let Some(top) = image.layers.last() {
            let freed = self.layers.release(top);
            self.freed_layers.extend(freed);
        }
    }
}

/// The 400 text of a name with upper case in its repository path, as dockerd 25 and later
/// word it: the path as normalised (`library/` added), up to the first `:`.
fn uppercase_message(input: &str) -> String {
    let (first, rest) = input.split_once('/').unwrap_or(("", input));
    let remainder = if input.contains('/')
        && (first.contains(['.', ':']) || first == "localhost" || first != first.to_lowercase())
    {
        rest.to_owned()
    } else if input.contains('/') {
        input.to_owned()
    } else {
        format!("library/{input}")
    };
    let remote = remainder.split(':').next().unwrap_or_default();
    format!("invalid reference format: repository name ({remote}) must be lowercase")
}

/// `truncatedID`: 4 to 64 lowercase hex digits, with or without `sha256:`.
fn looks_like_truncated_id(name: &str) -> bool {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    (4..=64).contains(&hex.len()) && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `getSameReferences`: the names a request for `named` removes. Without `named`, the first
/// name stands for it. A tag takes the names of the same tag and repository, and the
/// repository's digest names when no other tag of it is left; a digest takes every name of its
/// repository; a dangling record always counts.
fn same_references(named: Option<&Reference>, all: &[Name]) -> Vec<Name> {
    let mut named = named.cloned();
    let mut tag: Option<String> = None;
    let mut all_tags = false;
    if let Some(named) = &named {
        if let Some(given) = named.tag() {
            tag = Some(given.to_owned());
        } else if named.digest().is_some() {
            all_tags = true;
        }
    }
    let mut same = Vec::new();
    let mut digest_names: Option<Vec<Name>> = Some(Vec::new());
    for name in all {
        if let Name::Reference(reference) = name {
            match &named {
                None => {
                    named = Some(reference.clone());
                    tag = reference.tag().map(str::to_owned);
                }
                Some(named) if named.name() != reference.name() => continue,
                Some(_) if !all_tags => match (reference.tag(), &tag) {
                    (Some(own), None) => tag = Some(own.to_owned()),
                    (Some(own), Some(wanted)) if own != wanted => {
                        digest_names = None;
                        continue;
                    }
                    (Some(_), Some(_)) => {}
                    (None, _) => {
                        if let Some(digest_names) = &mut digest_names {
                            digest_names.push(name.clone());
                        }
                        continue;
                    }
                },
                Some(_) => {}
            }
        }
        same.push(name.clone());
    }
    same.extend(digest_names.into_iter().flatten());
    same
}

#[cfg(test)]
mod tests {
    //! The cases of `docs/engines/containerd-store.md`, on a store seeded like the lab's.

    use super::*;
    use crate::data::EngineKind;
    use crate::plan::FreedByImages;
    use crate::plan::removal::plan_removal;
    use crate::plan::test_support::{
        ImageSpec, SnapshotBuilder, container_id, deleted, digest, image_id, request, short,
        untagged,
    };
    use crate::snapshot::Snapshot;

    const REGISTRY: &str = "127.0.4.250:5000";

    /// The lab's image set: `base:1` and its children, a builder chain with two unnamed
    /// intermediates, a running and a stopped container, a pushed image and a digest-only one.
    /// Each local build lists the made-up `repo@<image ID>` digest the store shows.
    fn lab() -> SnapshotBuilder {
        let phantom = |repo: &str, key: &str| format!("{repo}@{}", image_id(key));
        SnapshotBuilder::new()
            .image(
                "base",
                ImageSpec::new()
                    .tags(["base:1"])
                    .digests([phantom("base", "base")])
                    .layers(["B"]),
            )
            .image(
                "app1",
                ImageSpec::new()
                    .tags(["app:1"])
                    .parent("base")
                    .layers(["B", "A1"]),
            )
            .image(
                "app3",
                ImageSpec::new()
                    .tags(["app:3", "app:latest"])
                    .parent("base")
                    .layers(["B", "A3"]),
            )
            .image(
                "multi",
                ImageSpec::new()
                    .tags(["multi:1", "multi:2", "other/multi:1"])
                    .digests([phantom("other/multi", "multi")])
                    .parent("base")
                    .layers(["B", "M"]),
            )
            .image(
                "run",
                ImageSpec::new()
                    .tags(["run:1", "run:2"])
                    .parent("base")
                    .layers(["B", "R"]),
            )
            .image(
                "stopped",
                ImageSpec::new()
                    .tags(["stopped:1"])
                    .parent("base")
                    .layers(["B", "S"]),
            )
            .image("i1", ImageSpec::new().parent("base").layers(["B", "1"]))
            .image("i2", ImageSpec::new().parent("i1").layers(["B", "1", "2"]))
            .image(
                "chain",
                ImageSpec::new()
                    .tags(["chain:1"])
                    .parent("i2")
                    .layers(["B", "1", "2", "C"]),
            )
            .image(
                "dg",
                ImageSpec::new()
                    .tags([format!("{REGISTRY}/dg:1")])
                    .digests([format!("{REGISTRY}/dg@{}", image_id("dg"))])
                    .parent("base")
                    .layers(["B", "D"]),
            )
            .image(
                "dgonly",
                ImageSpec::new()
                    .tags([format!("{REGISTRY}/dgonly@{}", image_id("dgonly"))])
                    .digests([format!("{REGISTRY}/dgonly@{}", image_id("dgonly"))])
                    .layers(["O"]),
            )
            .image("unique", ImageSpec::new().tags(["unique:1"]).layers(["U"]))
            .running("running-1", "run")
            .stopped("stopped-1", "stopped")
    }

    /// An unnamed parent `p` (layer `P`) and its child `c` with these names (layers `P`, `C`).
    fn parent_and_child<const N: usize>(child_names: [&str; N]) -> SnapshotBuilder {
        SnapshotBuilder::new()
            .image("p", ImageSpec::new().layers(["P"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(child_names)
                    .parent("p")
                    .layers(["P", "C"]),
            )
    }

    fn containerd(builder: SnapshotBuilder) -> Snapshot {
        let mut snapshot = builder.build();
        snapshot.engine = EngineKind::DockerContainerd;
        snapshot
    }

    fn store(builder: SnapshotBuilder) -> SimulatedStore {
        SimulatedStore::from_snapshot(&containerd(builder))
    }

    fn conflict(message: String) -> Result<Vec<DeleteRecord>, ApiError> {
        Err(ApiError::conflict(message))
    }

    fn tags_of(store: &SimulatedStore, key: &str) -> Vec<String> {
        store
            .references_of(&image_id(key))
            .iter()
            .map(Reference::familiar)
            .collect()
    }

    #[test]
    fn case_01_untag_one_of_two_tags() {
        let mut store = store(lab());
        assert_eq!(
            store.delete_image("app:latest", false, true),
            Ok(vec![untagged("app:latest")])
        );
        assert_eq!(tags_of(&store, "app3"), ["app:3"]);
    }

    #[test]
    fn case_02_last_tag_answers_the_image_and_no_layer() {
        let mut store = store(lab());
        assert_eq!(
            store.delete_image("unique:1", false, true),
            Ok(vec![untagged("unique:1"), deleted(&image_id("unique"))])
        );
        assert!(!store.contains_image(&image_id("unique")));
        // A child image: its parent has a tag, so nothing more goes.
        assert_eq!(
            store.delete_image("app:1", false, true),
            Ok(vec![untagged("app:1"), deleted(&image_id("app1"))])
        );
        assert!(store.contains_image(&image_id("base")));
    }

    #[test]
    fn case_03_a_bare_name_means_latest() {
        let mut store = store(lab());
        assert_eq!(
            store.delete_image("multi", false, true),
            Err(ApiError::no_such_image("multi:latest"))
        );
    }

    #[test]
    fn cases_04_05_by_id_with_several_repositories_needs_force_then_untags_in_name_order() {
        let mut store = store(lab());
        let id = image_id("multi");
        assert_eq!(
            store.delete_image(&id, false, true),
            conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short(&id)
            ))
        );
        assert_eq!(
            store.delete_image(&id, true, true),
            Ok(vec![
                untagged("multi:1"),
                untagged("multi:2"),
                untagged("other/multi:1"),
                deleted(&id),
            ])
        );
    }

    #[test]
    fn cases_06_07_id_prefix_and_full_id_with_one_tag() {
        for name in [short(&image_id("unique")).to_owned(), image_id("unique")] {
            let mut store = store(lab());
            assert_eq!(
                store.delete_image(&name, false, true),
                Ok(vec![untagged("unique:1"), deleted(&image_id("unique"))]),
                "{name}"
            );
        }
    }

    #[test]
    fn cases_10_to_13_running_container() {
        let mut store = store(lab());
        let id = image_id("run");
        // Two tags: the other one just goes (case 13).
        assert_eq!(
            store.delete_image("run:2", false, true),
            Ok(vec![untagged("run:2")])
        );
        assert_eq!(
            store.delete_image("run:1", false, true),
            conflict(format!(
                "conflict: unable to delete run:1 (must be forced) - container {} is using its referenced image {}",
                short(&container_id("running-1")),
                short(&id)
            ))
        );
        assert_eq!(
            store.delete_image(&id, true, true),
            conflict(format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short(&id),
                short(&container_id("running-1"))
            ))
        );
        assert_eq!(
            store.delete_image("run:1", true, true),
            Ok(vec![untagged("run:1")])
        );
        assert!(store.contains_image(&id));
        assert!(!store.has_references(&id));
    }

    #[test]
    fn the_container_conflict_names_the_stored_name_not_the_argument() {
        let mut store = store(lab());
        let error = store
            .delete_image("docker.io/library/stopped:1", false, true)
            .expect_err("a container uses the image");
        assert!(
            error
                .message
                .starts_with("conflict: unable to delete stopped:1 (must be forced) - container"),
            "{}",
            error.message
        );
    }

    #[test]
    fn cases_15_16_stopped_container_by_tag_and_id() {
        let mut store = store(lab());
        let id = image_id("stopped");
        let ctr = short(&container_id("stopped-1")).to_owned();
        assert_eq!(
            store.delete_image("stopped:1", false, true),
            conflict(format!(
                "conflict: unable to delete stopped:1 (must be forced) - container {ctr} is using its referenced image {}",
                short(&id)
            ))
        );
        assert_eq!(
            store.delete_image(&id, false, true),
            conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is being used by stopped container {ctr}",
                short(&id)
            ))
        );
        // Forced by tag: the name goes, the image stays (the classic store deletes it).
        assert_eq!(
            store.delete_image("stopped:1", true, true),
            Ok(vec![untagged("stopped:1")])
        );
        assert!(store.contains_image(&id));
        // Now dangling: forced by ID deletes it.
        assert_eq!(store.delete_image(&id, true, true), Ok(vec![deleted(&id)]));
    }

    #[test]
    fn case_16b_stopped_container_image_by_id_forced() {
        let mut store = store(lab());
        let id = image_id("stopped");
        assert_eq!(
            store.delete_image(&id, true, true),
            Ok(vec![untagged("stopped:1"), deleted(&id)])
        );
        assert!(!store.contains_image(&id));
    }

    #[test]
    fn case_17_stopped_container_is_checked_before_several_repositories() {
        let mut store = store(lab().image("stopped", ImageSpec::new()));
        store.references.add(
            &Reference::parse("second/stopped:1").expect("a reference"),
            &image_id("stopped"),
        );
        let error = store
            .delete_image(&image_id("stopped"), false, true)
            .expect_err("conflict");
        assert!(
            error.message.ends_with(&format!(
                "image is being used by stopped container {}",
                short(&container_id("stopped-1"))
            )),
            "{}",
            error.message
        );
    }

    #[test]
    fn case_18_a_parent_with_children_goes_by_id_and_children_keep_their_label() {
        for force in [false, true] {
            let mut store = store(lab());
            let id = image_id("base");
            assert_eq!(
                store.delete_image(&id, force, true),
                Ok(vec![untagged("base:1"), deleted(&id)])
            );
            assert!(!store.contains_image(&id));
            assert_eq!(
                store.images[&image_id("app1")].parent.as_deref(),
                Some(id.as_str())
            );
        }
    }

    #[test]
    fn case_19_a_parents_last_tag_answers_deleted_but_the_image_stays() {
        let mut store = store(lab());
        let id = image_id("base");
        assert_eq!(
            store.delete_image("base:1", false, true),
            Ok(vec![untagged("base:1"), deleted(&id)])
        );
        assert!(store.contains_image(&id));
        assert!(!store.has_references(&id));
        // Forced, the same answer deletes it.
        let mut forced = self::store(lab());
        assert_eq!(
            forced.delete_image("base:1", true, true),
            Ok(vec![untagged("base:1"), deleted(&id)])
        );
        assert!(!forced.contains_image(&id));
    }

    #[test]
    fn a_kept_parent_goes_with_a_child_deleted_after_it() {
        let mut store = store(
            SnapshotBuilder::new()
                .image("b", ImageSpec::new().tags(["b:1"]).layers(["B"]))
                .image(
                    "c",
                    ImageSpec::new()
                        .tags(["c:1"])
                        .parent("b")
                        .layers(["B", "C"]),
                ),
        );
        store.delete_image("b:1", false, true).expect("untagged");
        assert_eq!(
            store.delete_image("c:1", false, true),
            Ok(vec![
                untagged("c:1"),
                deleted(&image_id("c")),
                deleted(&image_id("b"))
            ])
        );
        assert!(store.images.is_empty());
    }

    #[test]
    fn cases_20_21_unnamed_parents_are_pruned_unless_no_prune() {
        let mut store = store(lab());
        assert_eq!(
            store.delete_image("chain:1", false, true),
            Ok(vec![
                untagged("chain:1"),
                deleted(&image_id("chain")),
                deleted(&image_id("i2")),
                deleted(&image_id("i1")),
            ])
        );
        assert!(store.contains_image(&image_id("base")));
        let mut store = self::store(lab());
        assert_eq!(
            store.delete_image("chain:1", false, false),
            Ok(vec![untagged("chain:1"), deleted(&image_id("chain"))])
        );
        assert!(store.contains_image(&image_id("i2")));
    }

    #[test]
    fn an_unnamed_parent_with_another_child_is_pruned_too() {
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
                deleted(&image_id("p"))
            ])
        );
        // c2 keeps its label to a parent that is gone: its own delete prunes nothing.
        assert_eq!(
            store.delete_image("c:2", false, true),
            Ok(vec![untagged("c:2"), deleted(&image_id("c2"))])
        );
    }

    #[test]
    fn no_parent_is_pruned_when_an_ancestor_is_missing() {
        let mut snapshot = containerd(parent_and_child(["c:1"]));
        snapshot.images[0].parent = Some(image_id("gone"));
        let mut store = SimulatedStore::from_snapshot(&snapshot);
        assert_eq!(
            store.delete_image("c:1", false, true),
            Ok(vec![untagged("c:1"), deleted(&image_id("c"))])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn parents_are_not_pruned_after_a_forced_delete_of_several_names() {
        let mut store = store(parent_and_child(["c:1", "d:1"]));
        assert_eq!(
            store.delete_image(&image_id("c"), true, true),
            Ok(vec![
                untagged("c:1"),
                untagged("d:1"),
                deleted(&image_id("c"))
            ])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn pruning_stops_at_a_parent_a_container_uses() {
        let mut store = store(parent_and_child(["c:1"]).stopped("ctr", "p"));
        assert_eq!(
            store.delete_image("c:1", true, true),
            Ok(vec![untagged("c:1"), deleted(&image_id("c"))])
        );
        assert!(store.contains_image(&image_id("p")));
    }

    #[test]
    fn cases_23_24_a_digest_takes_the_tags_of_its_repository() {
        let dg = format!("{REGISTRY}/dg:1");
        for name in [format!("{REGISTRY}/dg@{}", image_id("dg")), dg.clone()] {
            let mut store = store(lab());
            assert_eq!(
                store.delete_image(&name, false, true),
                Ok(vec![untagged(&dg), deleted(&image_id("dg"))]),
                "{name}"
            );
        }
    }

    #[test]
    fn a_digest_keeps_the_tags_of_other_repositories() {
        let mut store = store(SnapshotBuilder::new().image(
            "x",
            ImageSpec::new().tags(["r:1", "r:2", "s:1"]).layers(["X"]),
        ));
        assert_eq!(
            store.delete_image(&format!("r@{}", image_id("x")), false, true),
            Ok(vec![untagged("r:1"), untagged("r:2")])
        );
        assert_eq!(tags_of(&store, "x"), ["s:1"]);
        assert_eq!(
            store.delete_image(&format!("t@{}", image_id("x")), false, true),
            Err(ApiError::no_such_image(&format!("t@{}", image_id("x"))))
        );
    }

    #[test]
    fn phantom_repo_digests_are_no_names() {
        let mut store = store(lab());
        assert_eq!(tags_of(&store, "base"), ["base:1"]);
        assert_eq!(
            store.delete_image("app:1", false, true),
            Ok(vec![untagged("app:1"), deleted(&image_id("app1"))])
        );
    }

    #[test]
    fn digest_names_stay_names_through_a_snapshot() {
        let store = store(lab());
        let again = SimulatedStore::from_snapshot(&store.to_snapshot());
        assert_eq!(
            tags_of(&again, "dgonly"),
            [format!("{REGISTRY}/dgonly@{}", image_id("dgonly"))]
        );
        assert_eq!(again.references, store.references);
    }

    #[test]
    fn cases_25_27_digest_only_image_by_id_and_by_tag_and_digest() {
        let only = format!("{REGISTRY}/dgonly@{}", image_id("dgonly"));
        for name in [
            image_id("dgonly"),
            format!("{REGISTRY}/dgonly:ignored@{}", image_id("dgonly")),
        ] {
            let mut store = store(lab());
            assert_eq!(
                store.delete_image(&name, false, true),
                Ok(vec![untagged(&only), deleted(&image_id("dgonly"))]),
                "{name}"
            );
        }
    }

    #[test]
    fn case_26_digest_only_image_with_a_tag_elsewhere_by_id() {
        let mut store = store(lab());
        store.references.add(
            &Reference::parse("elsewhere:1").expect("a reference"),
            &image_id("dgonly"),
        );
        assert_eq!(
            store.delete_image(&image_id("dgonly"), false, true),
            conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short(&image_id("dgonly"))
            ))
        );
    }

    #[test]
    fn case_28_not_found() {
        let mut store = store(lab());
        assert_eq!(
            store.delete_image("nosuch:1", false, true),
            Err(ApiError::no_such_image("nosuch:1"))
        );
        assert_eq!(
            store.delete_image("0123456789ab", false, true),
            Err(ApiError::no_such_image("0123456789ab:latest"))
        );
        let missing = digest("missing");
        assert_eq!(
            store.delete_image(&missing, false, true),
            Err(ApiError::no_such_image(&missing))
        );
    }

    #[test]
    fn case_29_upper_case_names_the_normalised_path() {
        let mut store = store(lab());
        let message = |name: &str| {
            SimulatedStore::delete_image(&mut store.clone(), name, false, true)
                .expect_err("invalid")
                .message
        };
        assert_eq!(
            message("Bad:1"),
            "invalid reference format: repository name (library/Bad) must be lowercase"
        );
        assert_eq!(
            message("team/Bad"),
            "invalid reference format: repository name (team/Bad) must be lowercase"
        );
        assert_eq!(
            message("localhost:5000/x/Bad:2"),
            "invalid reference format: repository name (x/Bad) must be lowercase"
        );
        assert_eq!(
            store
                .delete_image("Bad:1", false, true)
                .map_err(|e| e.status),
            Err(400)
        );
    }

    #[test]
    fn an_ambiguous_prefix_is_not_found() {
        let a = crate::plan::test_support::id_with_prefix("abcd1", "a");
        let b = crate::plan::test_support::id_with_prefix("abcd2", "b");
        let mut store = store(
            SnapshotBuilder::new()
                .image("a", ImageSpec::new().id(&a).tags(["a:1"]))
                .image("b", ImageSpec::new().id(&b).tags(["b:1"])),
        );
        assert_eq!(
            store.delete_image("abcd", false, true),
            Err(ApiError {
                status: 404,
                message: "ambiguous reference".to_owned()
            })
        );
        assert_eq!(
            store.delete_image("abcd1", false, true),
            Ok(vec![untagged("a:1"), deleted(&a)])
        );
    }

    #[test]
    fn a_failed_request_changes_nothing() {
        let mut store = store(lab());
        let before = store.clone();
        for name in [
            image_id("multi"),
            "stopped:1".to_owned(),
            image_id("stopped"),
        ] {
            assert!(store.delete_image(&name, false, true).is_err());
        }
        assert_eq!(store, before);
    }

    #[test]
    fn the_plan_counts_bytes_as_the_real_run_does() {
        let snapshot = containerd(
            lab()
                .layer_size("C", 700)
                .layer_size("2", 200)
                .layer_size("1", 100),
        );
        let plan = plan_removal(&snapshot, &request(&["chain:1", "base:1"], false, false));
        let records: Vec<DeleteRecord> = plan.records().cloned().collect();
        assert_eq!(
            plan.predicted_bytes,
            FreedByImages::new(&snapshot).count(&records)
        );
        assert_eq!(plan.predicted_bytes, 1000);
    }
}
