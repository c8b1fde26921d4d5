//! One image as `docker images` lists it.

use std::collections::BTreeMap;

use serde::Serialize;

/// One image as `docker images` lists it, with the containers that use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListedImage {
    /// Full image ID, `sha256:<64 hex>`.
    pub id: String,
    /// Full ID of the `Parent` image; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Tags in familiar form (`app:1`); only the matching ones under a reference filter.
    pub repo_tags: Vec<String>,
    /// Digest references in familiar form.
    pub repo_digests: Vec<String>,
    /// Creation time, unix seconds.
    pub created: i64,
    /// The engine's `Size`: every layer of the image, shared ones included.
    pub size: u64,
    pub labels: BTreeMap<String, String>,
    /// Containers of any state whose image this is.
    pub containers: u64,
    /// Of those, the running, paused or restarting ones.
    pub running_containers: u64,
}
