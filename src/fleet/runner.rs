//! Runs one job per host, at most `forks` at once; a host's failure never stops the others.

use std::future::Future;
use std::time::Instant;

use futures::StreamExt;

use super::HostTarget;
use super::outcome::HostOutcome;
use super::progress::{FleetProgress, HostProgress};

/// Runs `job` on every host and returns the reports in the hosts' order.
pub async fn run_on_hosts<Job, Fut, Report>(
    hosts: &[HostTarget],
    forks: usize,
    progress: &FleetProgress,
    job: Job,
) -> Vec<Report>
where
    Job: Fn(HostTarget, HostProgress) -> Fut,
    Fut: Future<Output = Report>,
    Report: HostOutcome,
{
    let job = &job;
    let mut reports: Vec<(usize, Report)> = futures::stream::iter(hosts.iter().enumerate())
        .map(|(index, host)| async move {
            let host_progress = progress.host_started(&host.name);
            let started = Instant::now();
            let mut report = job(host.clone(), host_progress.clone()).await;
            report.set_duration(started.elapsed());
            progress.host_finished(host_progress, &report);
            (index, report)
        })
        .buffer_unordered(forks.max(1))
        .collect()
        .await;
    reports.sort_by_key(|(index, _)| *index);
    reports.into_iter().map(|(_, report)| report).collect()
}
