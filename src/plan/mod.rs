//! The removal planner: a pure model of the engine's image delete (dockerd 20.10, classic image
//! store), run on a host's snapshot, so `--dry-run` shows exactly what a real run will do.
//!
//! [`plan_removal`] loads the snapshot into a [`SimulatedStore`] and replays `docker rmi`
//! request by request. Each request goes through the engine's steps: reference check (grammar,
//! lookup, the container using a last reference), tag removal, dependency check (conflicts),
//! deletion with layer analysis (reference-counted layers), parent pruning, and finally the space
//! reclaim (bytes freed on disk, and the fall of `LayersSize`).

mod api_error;
mod conflict;
mod containers_first;
mod delete;
mod delete_containerd;
mod delete_podman;
mod dispatch;
mod freed_by_images;
mod layer_scope;
mod layer_store;
mod lookup;
mod parsed_references;
mod planned_removal;
mod podman_lookup;
mod podman_replay;
mod prune_containerd;
mod record;
mod reference_store;
mod removal;
mod request;
mod space;
mod store;

#[cfg(test)]
mod conformance;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod transcripts;

pub use api_error::ApiError;
pub use containers_first::{
    ContainerPolicy, ContainerStep, PreparedRemoval, deleted_images, plan_with_containers,
};
pub use dispatch::Dispatch;
pub use freed_by_images::FreedByImages;
pub use layer_scope::{LayerNeed, LayerScope};
pub use planned_removal::{PlannedRemoval, RemovalAnswer};
pub use record::DeleteRecord;
pub(crate) use reference_store::is_single_reference;
pub use removal::RemovalPlan;
pub use request::RemovalRequest;
pub use store::SimulatedStore;
