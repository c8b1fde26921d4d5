//! Failures talking to a Docker daemon.

/// A failure of the Docker API on one host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The daemon answered with an error status; `message` is its own text.
    #[error("{message}")]
    Api { status: u16, message: String },

    /// The request never got an answer (channel refused, connection lost, timeout).
    #[error("cannot {action}: {cause}")]
    Unreachable { action: &'static str, cause: String },

    /// The daemon answered something fleetrmi cannot use.
    #[error("{0}")]
    Protocol(String),
}

impl EngineError {
    pub(crate) fn from_bollard(action: &'static str, error: bollard::errors::Error) -> EngineError {
        use bollard::errors::Error;
        match error {
            Error::DockerResponseServerError {
                status_code,
                message,
            } => EngineError::Api {
                status: status_code,
                message,
            },
            Error::RequestTimeoutError => EngineError::Unreachable {
                action,
                cause: "no answer before the API call timeout".to_string(),
            },
            Error::JsonDataError { message, .. } => {
                EngineError::Protocol(format!("cannot {action}: unexpected answer: {message}"))
            }
            other => EngineError::Unreachable {
                action,
                cause: other.to_string(),
            },
        }
    }

    /// The engine's "No such image" answer, which `-f` tolerates like `docker rmi -f` does.
    pub fn is_not_found(&self) -> bool {
        matches!(self, EngineError::Api { status: 404, .. })
    }
}
