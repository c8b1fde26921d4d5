//! `df` on one host: the engine's disk usage and the free space around its Docker root.

use crate::report::{DfHost, Step};
use crate::ssh::filesystem_space;

use super::HostTarget;
use super::connect::ConnectOptions;
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
        if docker_root.is_empty() {
            report
                .outcome
                .warnings
                .push("free space not measured: the engine did not say where its root is".into());
        } else {
            match filesystem_space(&host.session, &docker_root, host.engine.api_timeout()).await {
                Ok(space) => report.filesystem = Some(space),
                Err(error) => report
                    .outcome
                    .warnings
                    .push(format!("free space not measured: {error}")),
            }
        }
    }
    report.docker_root_dir = Some(docker_root).filter(|root| !root.is_empty());
    report.outcome.api_calls = host.engine.api_calls();
    host.close().await;
    report
}
