//! The dependency check: what stops the engine from deleting an image, in the engine's order.

use std::ops::BitOr;

use crate::snapshot::{ContainerState, short_id};

use super::api_error::ApiError;
use super::store::SimulatedStore;

/// Which conflict kinds a check looks for (the engine's `conflictType` bit mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConflictMask(u8);

impl ConflictMask {
    /// Another image has this one as its `Parent` (hard).
    pub(crate) const DEPENDENT_CHILD: Self = Self(1);
    /// A running, paused or restarting container uses the image (hard).
    pub(crate) const RUNNING_CONTAINER: Self = Self(1 << 1);
    /// A tag or digest reference is left on the image (soft).
    pub(crate) const ACTIVE_REFERENCE: Self = Self(1 << 2);
    /// A stopped container uses the image (soft).
    pub(crate) const STOPPED_CONTAINER: Self = Self(1 << 3);
    /// Conflicts that `force` cannot override.
    pub(crate) const HARD: Self = Self(Self::DEPENDENT_CHILD.0 | Self::RUNNING_CONTAINER.0);
    /// Conflicts that `force` overrides.
    pub(crate) const SOFT: Self = Self(Self::ACTIVE_REFERENCE.0 | Self::STOPPED_CONTAINER.0);

    /// The hard conflicts, plus the soft ones unless forced: what the delete helper checks.
    pub(crate) fn for_force(force: bool) -> Self {
        if force {
            Self::HARD
        } else {
            Self::HARD | Self::SOFT
        }
    }

    fn contains(self, kind: Self) -> bool {
        self.0 & kind.0 == kind.0
    }
}

impl BitOr for ConflictMask {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// A reason the engine will not delete an image (`imageDeleteConflict`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// Hard conflicts say "cannot be forced", soft ones "must be forced".
    pub(crate) hard: bool,
    /// A container uses the image. A quiet delete reports a conflict only on a dangling image
    /// that no container uses, which the engine's rules make impossible in practice.
    pub(crate) used: bool,
    pub(crate) image_id: String,
    pub(crate) message: String,
}

impl Conflict {
    /// The 409 answer, worded as the engine words it.
    pub(crate) fn to_api_error(&self) -> ApiError {
        let force = if self.hard {
            "cannot be forced"
        } else {
            "must be forced"
        };
        ApiError::conflict(format!(
            "conflict: unable to delete {} ({force}) - {}",
            short_id(&self.image_id),
            self.message
        ))
    }
}

impl SimulatedStore {
    /// `checkImageDeleteConflict`: the first conflict of the kinds in `mask`, checked in the
    /// engine's order (child, running container, references, stopped container). Containers
    /// are searched in snapshot order.
    pub(crate) fn check_conflict(&self, image_id: &str, mask: ConflictMask) -> Option<Conflict> {
        let conflict = |hard, used, message: String| Conflict {
            hard,
            used,
            image_id: image_id.to_owned(),
            message,
        };
        if mask.contains(ConflictMask::DEPENDENT_CHILD) && self.has_children(image_id) {
            return Some(conflict(
                true,
                false,
                "image has dependent child images".to_owned(),
            ));
        }
        if mask.contains(ConflictMask::RUNNING_CONTAINER)
            && let Some(container) =
                self.first_container_using(image_id, Some(ContainerState::Running))
        {
            let message = format!(
                "image is being used by running container {}",
                short_id(&container.id)
            );
            return Some(conflict(true, true, message));
        }
        if mask.contains(ConflictMask::ACTIVE_REFERENCE) && self.has_references(image_id) {
            return Some(conflict(
                false,
                false,
                "image is referenced in multiple repositories".to_owned(),
            ));
        }
        if mask.contains(ConflictMask::STOPPED_CONTAINER)
            && let Some(container) =
                self.first_container_using(image_id, Some(ContainerState::Stopped))
        {
            let message = format!(
                "image is being used by stopped container {}",
                short_id(&container.id)
            );
            return Some(conflict(false, true, message));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, container_id, image_id};

    fn conflict_message(
        builder: SnapshotBuilder,
        image: &str,
        mask: ConflictMask,
    ) -> Option<String> {
        let store = SimulatedStore::from_snapshot(&builder.build());
        store
            .check_conflict(&image_id(image), mask)
            .map(|conflict| conflict.to_api_error().message)
    }

    fn short(id: &str) -> String {
        short_id(id).to_owned()
    }

    #[test]
    fn dependent_child_is_checked_before_running_container() {
        let builder = SnapshotBuilder::new()
            .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["c:1"])
                    .parent("p")
                    .layers(["P", "C"]),
            )
            .running("ctr", "p");
        assert_eq!(
            conflict_message(builder, "p", ConflictMask::for_force(false)),
            Some(format!(
                "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
                short(&image_id("p"))
            ))
        );
    }

    #[test]
    fn running_container_is_checked_before_references() {
        let builder = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"]))
            .running("ctr", "a");
        assert_eq!(
            conflict_message(builder, "a", ConflictMask::for_force(false)),
            Some(format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short(&image_id("a")),
                short(&container_id("ctr"))
            ))
        );
    }

    #[test]
    fn references_are_checked_before_stopped_containers() {
        let builder = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"]))
            .stopped("ctr", "a");
        assert_eq!(
            conflict_message(builder, "a", ConflictMask::for_force(false)),
            Some(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short(&image_id("a"))
            ))
        );
    }

    #[test]
    fn force_skips_soft_conflicts_only() {
        let builder = SnapshotBuilder::new()
            .image("a", ImageSpec::new().tags(["a:1", "a:2"]).layers(["L"]))
            .stopped("ctr", "a");
        assert_eq!(
            conflict_message(builder, "a", ConflictMask::for_force(true)),
            None
        );
    }

    #[test]
    fn the_first_matching_container_in_snapshot_order_is_named() {
        let builder = SnapshotBuilder::new()
            .image("a", ImageSpec::new().layers(["L"]))
            .stopped("first", "a")
            .stopped("second", "a");
        let message = conflict_message(builder, "a", ConflictMask::STOPPED_CONTAINER)
            .expect("a stopped container conflicts");
        assert!(
            message.ends_with(&short(&container_id("first"))),
            "{message}"
        );
    }
}
