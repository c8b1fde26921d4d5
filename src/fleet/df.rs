//! `df` on one host: the engine's disk usage and the free space around its Docker root.

use crate::report::{DfHost, Step};

use super::HostTarget;
use super::connect::ConnectOptions;
use super::free_space::{FreeSpace, not_measured};
use super::observe::connect_observed;
use super::progress::HostProgress;

/// `GET /system/df`, then `statvfs` of the Docker root over SFTP (a warning if that fails).
pub async fn df_on_host(
    target: HostTarget,
    options: &ConnectOptions,
    progress: HostProgress,
) -> DfHost {
    let (outcome, host) = connect_observed(&target, options, &progress).await;
    let mut report = DfHost::new(outcome);
    let Some(host) = host else {
        return report;
    };
    let docker_root = host.engine.info.docker_root_dir.clone();
    progress.step("disk usage");
    match host.engine.disk_usage().await {
        Ok(usage) => report.set_usage(usage),
        Err(error) => report.outcome.fail(Step::DiskUsage, error.to_string()),
    }
    if report.outcome.is_ok() {
        progress.step("free space");
        let mut free_space = FreeSpace::new(&docker_root);
        match free_space
            .read(&host.session, host.engine.api_timeout())
            .await
        {
            Ok(space) => report.filesystem = Some(space),
            Err(reason) => report.outcome.warnings.push(not_measured(&reason)),
        }
        free_space.close().await;
    }
    report.docker_root_dir = Some(docker_root).filter(|root| !root.is_empty());
    report.outcome.api_calls = host.engine.api_calls();
    host.close().await;
    report
}
