//! A container stopped or removed before a removal (`--stop-containers`), as the report shows it.

use serde::Serialize;

/// What was (or, in a dry run, would be) done to one container before one removal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContainerOutcome {
    /// Full container ID.
    pub id: String,
    pub name: String,
    /// The image it used, which the removal deletes.
    pub image_id: String,
    /// `stop`, `remove` (it was not running) or `stop+remove`.
    pub action: String,
    /// Why the step failed; the removal was then not attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ContainerOutcome {
    /// The action's word for a step that stops and/or removes.
    pub fn action_word(stop: bool, remove: bool) -> &'static str {
        match (stop, remove) {
            (true, true) => "stop+remove",
            (true, false) => "stop",
            (false, _) => "remove",
        }
    }
}
