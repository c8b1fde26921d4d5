//! `POST /images/prune`: the engine's own prune, as `docker image prune` asks for it, retried
//! while another prune runs on the same engine (20.10 answers a concurrent one with 409).

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::PruneImagesOptions;

use super::bounded::Within;
use super::{Engine, EngineError, EngineKind, podman_names};
use crate::plan::DeleteRecord;

/// The engine's answer to a prune.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneAnswer {
    /// `ImagesDeleted`, in the engine's order (random between candidates).
    pub records: Vec<DeleteRecord>,
    /// `SpaceReclaimed`: Σ `DiffSize` of the deleted layers, by the engine's count.
    pub space_reclaimed: u64,
}

/// The engine's message when a prune is already running on it.
const PRUNE_RUNNING: &str = "a prune operation is already running";

impl Engine {
    /// Prunes images with the given filters (`dangling`, `until`, `label`, `label!`).
    pub async fn prune_images(
        &self,
        filters: &HashMap<String, Vec<String>>,
    ) -> Result<PruneAnswer, EngineError> {
        let mut attempt = 0;
        loop {
            let answer = self
                .docker
                .prune_images(Some(PruneImagesOptions {
                    filters: Some(filters.clone()),
                }))
                .within(self.api_timeout(), "prune images")
                .await;
            match answer {
                Ok(answer) => {
                    let mut records = Vec::new();
                    for item in answer.images_deleted.unwrap_or_default() {
                        if let Some(reference) = item.untagged {
                            records.push(DeleteRecord::Untagged(reference));
                        }
                        if let Some(id) = item.deleted {
                            records.push(DeleteRecord::Deleted(id));
                        }
                    }
                    if self.info.kind == EngineKind::Podman {
                        records = podman_names::docker_records(records);
                    }
                    return Ok(PruneAnswer {
                        records,
                        space_reclaimed: answer
                            .space_reclaimed
                            .and_then(|bytes| u64::try_from(bytes).ok())
                            .unwrap_or(0),
                    });
                }
                Err(error) if is_prune_running(&error) => match retry_delay(attempt) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(error),
                },
                Err(error) => return Err(error),
            }
        }
    }
}

/// The 409 an engine gives while another prune runs on it.
fn is_prune_running(error: &EngineError) -> bool {
    matches!(error, EngineError::Api { status: 409, message } if message.contains(PRUNE_RUNNING))
}

/// How long to wait before retry number `attempt` (0-based): doubling from 250 ms, at most 4 s a
/// wait, about 30 s in all; `None` when it is time to give up.
fn retry_delay(attempt: u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 11;
    (attempt < ATTEMPTS).then(|| Duration::from_millis((250u64 << attempt.min(4)).min(4_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_running_prune_conflict_is_retried() {
        let running = EngineError::Api {
            status: 409,
            message: "a prune operation is already running".into(),
        };
        let other = EngineError::Api {
            status: 409,
            message: "conflict: unable to delete".into(),
        };
        assert!(is_prune_running(&running));
        assert!(!is_prune_running(&other));
    }

    #[test]
    fn retries_back_off_and_give_up_after_about_thirty_seconds() {
        assert_eq!(retry_delay(0), Some(Duration::from_millis(250)));
        assert_eq!(retry_delay(1), Some(Duration::from_millis(500)));
        assert_eq!(retry_delay(4), Some(Duration::from_secs(4)));
        assert_eq!(retry_delay(9), Some(Duration::from_secs(4)));
        let total: Duration = (0..).map_while(retry_delay).sum();
        assert!(
            total >= Duration::from_secs(25) && total <= Duration::from_secs(35),
            "{total:?}"
        );
        assert_eq!(retry_delay(11), None);
    }
}
