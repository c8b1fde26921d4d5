//! `rmi` on one host: snapshot for layer sizes, the engine's own removal of each image in
//! order, and the bytes those removals gave back.

use crate::engine::Engine;
use crate::report::{HostReport, ImageResult, Step};
use crate::snapshot::Snapshot;
use crate::ssh::filesystem_space;

use super::HostTarget;
use super::connect::{ConnectOptions, connect_host};
use super::progress::HostProgress;

/// What the user asked `rmi` to do on every host.
#[derive(Debug, Clone)]
pub struct RmiRequest {
    pub images: Vec<String>,
    pub force: bool,
    pub no_prune: bool,
}

/// Runs `rmi` on one host and reports what the engine did there.
pub async fn rmi_on_host(
    target: HostTarget,
    request: &RmiRequest,
    options: &ConnectOptions,
    progress: HostProgress,
) -> HostReport {
    let mut report = HostReport::new(&target.name, &target.address);
    let Some(host) = connect_host(&target, options, &mut report, &progress).await else {
        return report;
    };

    progress.step("snapshot");
    let snapshot = match host.engine.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            report.fail(Step::Snapshot, error.to_string());
            report.api_calls = host.engine.api_calls();
            host.close().await;
            return report;
        }
    };
    let docker_root = host.engine.info.docker_root_dir.clone();
    report.space_before = read_space(&host.session, &docker_root, &mut report.warnings).await;

    for image in &request.images {
        progress.step(&format!("removing {image}"));
        let result = remove_one(&host.engine, &snapshot, image, request).await;
        if let Some(lost) = result.1 {
            report.results.push(result.0);
            report.fail(Step::Remove, lost);
            break;
        }
        report.reclaimed_bytes += result.0.reclaimed_bytes;
        report.results.push(result.0);
    }

    report.space_after = read_space(&host.session, &docker_root, &mut report.warnings).await;
    report.settle_status(request.force);
    report.api_calls = host.engine.api_calls();
    host.close().await;
    report
}

/// One `DELETE /images/{name}`. The second value is set when the host stopped answering,
/// as opposed to answering with an error.
async fn remove_one(
    engine: &Engine,
    snapshot: &Snapshot,
    image: &str,
    request: &RmiRequest,
) -> (ImageResult, Option<String>) {
    let mut result = ImageResult {
        image: image.to_string(),
        ..ImageResult::default()
    };
    match engine
        .remove_image(image, request.force, request.no_prune)
        .await
    {
        Ok(outcome) => {
            result.reclaimed_bytes = outcome
                .deleted
                .iter()
                .filter_map(|id| snapshot.layer_sizes.get(id))
                .sum();
            result.untagged = outcome.untagged;
            result.deleted = outcome.deleted;
            (result, None)
        }
        Err(crate::engine::EngineError::Api { status, message }) => {
            result.error = Some(message);
            result.error_status = Some(status);
            (result, None)
        }
        Err(other) => {
            let message = format!("{other}; the removal of {image} may or may not have happened");
            result.error = Some(other.to_string());
            (result, Some(message))
        }
    }
}

/// Free space around the Docker root; a failure here is a warning, never a failed run.
async fn read_space(
    session: &crate::ssh::SshSession,
    docker_root: &str,
    warnings: &mut Vec<String>,
) -> Option<crate::ssh::FilesystemSpace> {
    if docker_root.is_empty() {
        return None;
    }
    match filesystem_space(session, docker_root).await {
        Ok(space) => Some(space),
        Err(error) => {
            if !warnings.iter().any(|w| w.starts_with("free space")) {
                warnings.push(format!("free space not measured: {error}"));
            }
            None
        }
    }
}
