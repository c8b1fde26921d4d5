//! `images` on one host: the engine's own filtered list, with container counts.

use std::collections::HashMap;

use crate::report::{ImagesHost, Step};

use super::HostTarget;
use super::connect::ConnectOptions;
use super::observe::connect_observed;
use super::progress::HostProgress;

/// What to list on every host.
#[derive(Debug, Clone, Default)]
pub struct ImagesRequest {
    /// The `filters` of `GET /images/json`, already checked.
    pub filters: HashMap<String, Vec<String>>,
    /// Intermediate images too (`docker images -a`).
    pub all: bool,
}

/// Lists one host's images as `docker images` would there.
pub async fn images_on_host(
    target: HostTarget,
    request: &ImagesRequest,
    options: &ConnectOptions,
    progress: HostProgress,
) -> ImagesHost {
    let (outcome, host) = connect_observed(&target, options, &progress).await;
    let mut report = ImagesHost {
        outcome,
        images: Vec::new(),
    };
    let Some(host) = host else {
        return report;
    };
    progress.step("listing images");
    match host
        .engine
        .list_images(request.filters.clone(), request.all)
        .await
    {
        Ok(images) => report.images = images,
        Err(error) => report.outcome.fail(Step::Images, error.to_string()),
    }
    report.outcome.api_calls = host.engine.api_calls();
    host.close().await;
    report
}
