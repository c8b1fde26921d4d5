//! One argument's planned answer, and the answer the fleet then compares the engine's with.

use super::api_error::ApiError;
use super::dispatch::Dispatch;
use super::record::DeleteRecord;

/// The engine's answer to one `DELETE /images/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRemoval {
    /// The argument as given.
    pub image: String,
    /// The records of a 200 answer, in the engine's order; empty on error.
    pub records: Vec<DeleteRecord>,
    /// The error answer, if the request fails.
    pub error: Option<ApiError>,
    /// How the argument is sent to the engine.
    pub dispatch: Dispatch,
    /// Why this answer may differ from the engine's, where the model cannot tell it exactly.
    pub not_exact: Option<String>,
}

impl PlannedRemoval {
    /// An argument fleetrmi refuses itself: nothing is sent, the refusal is the error.
    pub(crate) fn refused(image: &str, refusal: ApiError, not_exact: Option<String>) -> Self {
        PlannedRemoval {
            image: image.to_string(),
            records: Vec::new(),
            error: Some(refusal),
            dispatch: Dispatch::Refused,
            not_exact,
        }
    }
}

/// An engine's answer to one removal: the records of its 200 answer, and the error it ended
/// with (status, message), if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalAnswer {
    pub records: Vec<DeleteRecord>,
    pub error: Option<(u16, String)>,
}

impl RemovalAnswer {
    /// The answer a planned request expects: its records, or its error.
    pub fn expected(records: &[DeleteRecord], error: Option<&ApiError>) -> RemovalAnswer {
        RemovalAnswer {
            records: records.to_vec(),
            error: error.map(|error| (error.status, error.message.clone())),
        }
    }
}

impl PlannedRemoval {
    /// The answer the plan expects from the engine for this argument.
    pub fn expected_answer(&self) -> RemovalAnswer {
        RemovalAnswer::expected(&self.records, self.error.as_ref())
    }
}
