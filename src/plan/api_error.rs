//! An error answer of the engine API as the planner predicts it: status code and exact message
//! (`engine::ApiError::Api` is the same answer as received from a host).

use crate::reference::ReferenceError;

/// The status code and `message` the engine answers a failed `DELETE /images/{name}` with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    /// The argument fails the reference grammar, or is blank.
    pub const BAD_REQUEST: u16 = 400;
    /// Nothing matches, or an ID prefix matches several images.
    pub const NOT_FOUND: u16 = 404;
    /// A conflict (dependent child, container, references).
    pub const CONFLICT: u16 = 409;

    /// The 400 answer for an argument that is not a valid reference.
    pub(crate) fn invalid_argument(error: &ReferenceError) -> Self {
        ApiError {
            status: Self::BAD_REQUEST,
            message: error.daemon_message(),
        }
    }

    /// The 404 answer; `name` is the familiar form the engine quotes.
    pub(crate) fn no_such_image(name: &str) -> Self {
        ApiError {
            status: Self::NOT_FOUND,
            message: format!("No such image: {name}"),
        }
    }

    /// A 409 answer with the given message.
    pub(crate) fn conflict(message: String) -> Self {
        ApiError {
            status: Self::CONFLICT,
            message,
        }
    }

    /// True for "No such image", the one error `docker rmi -f` does not count as a failure.
    #[cfg(test)]
    pub fn is_not_found(&self) -> bool {
        self.status == Self::NOT_FOUND
    }
}
