//! The containerd image store's `ImageDelete` (dockerd 26.1 with `containerd-snapshotter`).
//!
//! Its rules are written down in `docs/engines/containerd-store.md`. Until they are modelled
//! here, the classic store's delete stands in, and every prediction on this kind is marked not
//! exact ([`crate::engine::EngineKind::plan_caveat`]).

use super::api_error::ApiError;
use super::record::DeleteRecord;
use super::store::SimulatedStore;

impl SimulatedStore {
    pub(crate) fn delete_image_containerd(
        &mut self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<DeleteRecord>, ApiError> {
        self.delete_image_classic(name, force, prune)
    }
}
