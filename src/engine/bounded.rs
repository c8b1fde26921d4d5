//! Every bollard call within the API call timeout. bollard's own timeout covers the wait for
//! the answer's headers only; a daemon frozen half way through a large body (`/images/json` on
//! a busy host) would otherwise hold the host's run for ever.

use std::future::Future;
use std::time::Duration;

use super::EngineError;

/// A bollard call, bounded.
pub(crate) trait Within<T> {
    /// The call's answer within `limit`, its error as an [`EngineError`] naming `action`.
    fn within(
        self,
        limit: Duration,
        action: &'static str,
    ) -> impl Future<Output = Result<T, EngineError>>;
}

impl<F, T> Within<T> for F
where
    F: Future<Output = Result<T, bollard::errors::Error>>,
{
    async fn within(self, limit: Duration, action: &'static str) -> Result<T, EngineError> {
        match tokio::time::timeout(limit, self).await {
            Ok(answer) => answer.map_err(|error| EngineError::from_bollard(action, error)),
            Err(_) => Err(EngineError::Unreachable {
                action,
                cause: "no answer before the API call timeout".to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_never_ends_is_cut_at_the_limit() {
        let never = std::future::pending::<Result<(), bollard::errors::Error>>();
        let answer = never
            .within(Duration::from_millis(10), "list images")
            .await
            .expect_err("cut");
        assert!(answer.to_string().contains("no answer"), "{answer}");
    }
}
