//! Runs one job per host: batch by batch (canary, `--serial`), at most `forks` at once, with a
//! per-host time limit, stopping new starts when told to. A host's failure never stops the
//! others unless the user asked for that (`--stop-on-error`, `--max-fail-percentage`, canary).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::report::{HostReport, HostStatus, ObservedHost, Step};

use super::HostTarget;
use super::control::{RunControl, StopReason};
use super::cut_short::{activity, cut_short, failure};
use super::outcome::HostOutcome;
use super::progress::{FleetProgress, HostProgress};
use super::rollout::Rollout;

/// How a run goes through its hosts.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub forks: usize,
    pub rollout: Rollout,
    /// Limit for one host's whole run.
    pub host_timeout: Option<Duration>,
    /// Nothing is changed: a host cut short claims no bytes.
    pub dry_run: bool,
}

/// Runs `job` on every host, all in one batch, each within `host_timeout`, for read-only
/// commands whose reports are not [`HostReport`]s; mutating commands use [`run_fleet`] for
/// rollouts and interrupts.
pub async fn run_on_hosts<Job, Fut, Report>(
    hosts: &[HostTarget],
    forks: usize,
    host_timeout: Option<Duration>,
    progress: &FleetProgress,
    job: Job,
) -> Vec<Report>
where
    Job: Fn(HostTarget, HostProgress) -> Fut,
    Fut: Future<Output = Report>,
    Report: HostOutcome + From<ObservedHost>,
{
    raise_open_files(forks.min(hosts.len()));
    let job = &job;
    let limit = host_timeout.unwrap_or(Duration::MAX);
    let mut reports: Vec<(usize, Report)> = futures::stream::iter(hosts.iter().enumerate())
        .map(|(index, host)| async move {
            let host_progress = progress.host_started(&host.name);
            let started = Instant::now();
            let mut report = tokio::select! {
                report = job(host.clone(), host_progress.clone()) => report,
                _ = sleep_for(limit) => {
                    let so_far = host_progress.so_far();
                    let cause =
                        format!("no result within --timeout {}", humantime::format_duration(limit));
                    let (step, message) = failure(
                        Step::Timeout,
                        activity(&so_far.step),
                        so_far.step_changes,
                        &cause,
                    );
                    let mut outcome = ObservedHost::new(&host.name, &host.address);
                    outcome.fail(step, message);
                    Report::from(outcome)
                }
            };
            report.set_duration(started.elapsed());
            report.set_round_trips(host_progress.round_trip_count());
            progress.host_finished(host_progress, &report);
            (index, report)
        })
        .buffer_unordered(forks.max(1))
        .collect()
        .await;
    reports.sort_by_key(|(index, _)| *index);
    reports.into_iter().map(|(_, report)| report).collect()
}

/// Runs `job` on every host as `settings` say, and returns the reports in the hosts' order.
pub async fn run_fleet<Job, Fut>(
    hosts: &[HostTarget],
    settings: &RunSettings,
    control: &RunControl,
    progress: &FleetProgress,
    job: Job,
) -> Vec<HostReport>
where
    Job: Fn(HostTarget, HostProgress) -> Fut,
    Fut: Future<Output = HostReport>,
{
    raise_open_files(settings.forks.min(hosts.len()));
    let failed = AtomicUsize::new(0);
    let total = hosts.len();
    let mut reports: Vec<(usize, HostReport)> = Vec::with_capacity(total);
    let mut start = 0;
    for (batch_number, size) in settings.rollout.batches(total).into_iter().enumerate() {
        let batch = start..start + size;
        start += size;
        let is_canary = batch_number == 0 && settings.rollout.canary > 0;
        let finished: Vec<(usize, HostReport)> = futures::stream::iter(batch)
            .map(|index| {
                let host = &hosts[index];
                let (job, failed) = (&job, &failed);
                async move {
                    if let Some(reason) = control.stop_reason() {
                        let report =
                            HostReport::skipped(&host.name, &host.address, reason.describe());
                        if let Some(events) = progress.events() {
                            events.host_end(&report);
                        }
                        return (index, report);
                    }
                    let report = run_one(host, settings, control, progress, job).await;
                    if matches!(report.status, HostStatus::Failed | HostStatus::Unreachable) {
                        let failures = failed.fetch_add(1, Ordering::SeqCst) + 1;
                        if is_canary {
                            control.request_stop(StopReason::CanaryFailed(host.name.clone()));
                        } else if settings.rollout.should_stop(failures, total) {
                            control.request_stop(if settings.rollout.stop_on_error {
                                StopReason::StopOnError
                            } else {
                                StopReason::FailureBudget
                            });
                        }
                    }
                    (index, report)
                }
            })
            .buffer_unordered(settings.forks.max(1))
            .collect()
            .await;
        reports.extend(finished);
    }
    reports.sort_by_key(|(index, _)| *index);
    reports.into_iter().map(|(_, report)| report).collect()
}

/// One host's job, bounded by the host timeout and a second interrupt.
async fn run_one<Job, Fut>(
    host: &HostTarget,
    settings: &RunSettings,
    control: &RunControl,
    progress: &FleetProgress,
    job: &Job,
) -> HostReport
where
    Job: Fn(HostTarget, HostProgress) -> Fut,
    Fut: Future<Output = HostReport>,
{
    let host_progress = progress.host_started(&host.name);
    let started = Instant::now();
    let limit = settings.host_timeout.unwrap_or(Duration::MAX);
    let work = job(host.clone(), host_progress.clone());
    let stopped = |step: Step, cause: &str| {
        cut_short(
            &host.name,
            &host.address,
            host_progress.so_far(),
            step,
            cause,
            settings.dry_run,
        )
    };
    let mut report = tokio::select! {
        report = work => report,
        _ = sleep_for(limit) => stopped(
            Step::Timeout,
            &format!("no result within --timeout {}", humantime::format_duration(limit)),
        ),
        _ = control.aborted() => stopped(Step::Interrupt, &control.abort_cause()),
    };
    report.duration = started.elapsed();
    report.round_trips = host_progress.round_trip_count();
    if let Some(events) = progress.events() {
        events.host_end(&report);
    }
    progress.host_finished(host_progress, &report);
    report
}

/// Makes room for this many hosts' connections at once (see `open_files`).
fn raise_open_files(hosts_in_flight: usize) {
    if let Some(warning) = super::open_files::ensure_open_files(hosts_in_flight) {
        eprintln!("warning: {warning}");
    }
}

async fn sleep_for(limit: Duration) {
    match tokio::time::Instant::now().checked_add(limit) {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
