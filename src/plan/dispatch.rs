//! How one planned removal is sent when the engine's force means more than Docker's.
//!
//! Podman's forced `DELETE /images/{name}` also stops and removes every container using the
//! images it deletes (parents pruned with it included); `docker rmi -f` never removes a
//! container. On such an engine fleetrmi never sends force. Docker's forced outcome is reached
//! by unforced requests where it can be: an image named by ID that has several tags is removed
//! tag by tag (the last one deletes it). Where Docker's outcome would leave a container using a
//! deleted image, no engine call can give it without removing that container, so fleetrmi
//! refuses the argument itself and says why.

use std::collections::BTreeSet;

use crate::snapshot::short_id;

use super::api_error::ApiError;
use super::record::DeleteRecord;
use super::store::SimulatedStore;

/// What goes to the engine for one argument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Dispatch {
    /// One `DELETE` of the argument with the user's flags.
    #[default]
    AsGiven,
    /// Unforced `DELETE`s of these names, in order (the engine's force would remove containers).
    Unforced(Vec<String>),
    /// Untag these tags and delete nothing: Docker's forced outcome keeps the image, which
    /// the engine's removal of a last name would not (it would take the containers too).
    Untag(Vec<String>),
    /// Nothing is sent: fleetrmi refuses the argument (the planned error says why).
    Refused,
}

/// Decides how a forced removal whose planned `records` came from `before` (the store as it was
/// before the request) is sent to an engine whose force removes containers; `Err` is fleetrmi's
/// refusal, as the engine-like error the result shows.
pub(crate) fn unforced_dispatch(
    before: &SimulatedStore,
    image: &str,
    records: &[DeleteRecord],
) -> Result<Dispatch, ApiError> {
    let deleted: BTreeSet<&str> = records
        .iter()
        .filter_map(|record| match record {
            DeleteRecord::Deleted(id) if before.contains_image(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if let Some(container) = before
        .containers
        .iter()
        .find(|container| deleted.contains(container.image_id.as_str()))
    {
        return Err(ApiError::conflict(format!(
            "fleetrmi refused to remove {image}: container {} uses image {}, and this engine's \
             forced removal would remove that container, which `docker rmi -f` never does; \
             remove the container first (or use --remove-containers)",
            short_id(&container.id),
            short_id(&container.image_id)
        )));
    }
    let tags: Vec<String> = records
        .iter()
        .filter_map(|record| match record {
            DeleteRecord::Untagged(name) if !name.contains('@') => Some(name.clone()),
            _ => None,
        })
        .collect();
    if deleted.is_empty() && !tags.is_empty() {
        return Ok(Dispatch::Untag(tags));
    }
    if tags.len() > 1 {
        Ok(Dispatch::Unforced(tags))
    } else {
        Ok(Dispatch::Unforced(vec![image.to_string()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, image_id};

    fn forced(builder: SnapshotBuilder, image: &str) -> Result<Dispatch, ApiError> {
        let before = SimulatedStore::from_snapshot(&builder.build());
        let records = before
            .clone()
            .delete_image(image, true, true)
            .expect("the forced removal succeeds");
        unforced_dispatch(&before, image, &records)
    }

    #[test]
    fn an_image_with_several_tags_named_by_id_goes_tag_by_tag() {
        let builder =
            SnapshotBuilder::new().image("m", ImageSpec::new().tags(["m:1", "m:2"]).layers(["M"]));
        let id = image_id("m");
        assert_eq!(
            forced(builder, &id),
            Ok(Dispatch::Unforced(vec!["m:1".into(), "m:2".into()]))
        );
    }

    #[test]
    fn a_single_tag_goes_as_given_without_force() {
        let builder =
            SnapshotBuilder::new().image("s", ImageSpec::new().tags(["s:1"]).layers(["S"]));
        assert_eq!(
            forced(builder, "s:1"),
            Ok(Dispatch::Unforced(vec!["s:1".into()]))
        );
    }

    #[test]
    fn a_forced_untag_that_keeps_an_image_a_running_container_uses_is_an_untag() {
        let builder = SnapshotBuilder::new()
            .image("r", ImageSpec::new().tags(["r:1"]).layers(["R"]))
            .running("c1", "r");
        assert_eq!(
            forced(builder, "r:1"),
            Ok(Dispatch::Untag(vec!["r:1".into()]))
        );
    }

    #[test]
    fn an_image_a_stopped_container_uses_is_refused_not_forced() {
        let builder = SnapshotBuilder::new()
            .image("u", ImageSpec::new().tags(["u:1"]).layers(["U"]))
            .stopped("c1", "u");
        let error = forced(builder, "u:1").expect_err("refused");
        assert_eq!(error.status, ApiError::CONFLICT);
        assert!(
            error.message.contains("fleetrmi refused to remove u:1"),
            "{}",
            error.message
        );
        assert!(error.message.contains("never does"), "{}", error.message);
    }
}
