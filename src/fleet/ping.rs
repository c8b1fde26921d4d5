//! `ping` on one host: reach it, and ask its engine what it is.

use std::time::Instant;

use crate::report::{PingHost, Step};

use super::HostTarget;
use super::connect::ConnectOptions;
use super::observe::connect_observed;
use super::progress::HostProgress;

/// Connects (SSH, authentication, API negotiation, `/info`), then reads `/version` and times a
/// `/_ping` on the open connection.
pub async fn ping_on_host(
    target: HostTarget,
    options: &ConnectOptions,
    progress: HostProgress,
) -> PingHost {
    let started = Instant::now();
    let (outcome, host) = connect_observed(&target, options, &progress).await;
    let mut report = PingHost::new(outcome);
    let Some(host) = host else {
        return report;
    };
    report.connect_ms = Some(started.elapsed().as_millis() as u64);
    report.auth_method = Some(host.session.auth_method.clone());
    report.engine = Some(host.engine.info.clone());

    progress.step("ping");
    match host.engine.daemon_version().await {
        Ok(version) => report.daemon = Some(version),
        Err(error) => report.outcome.fail(Step::Docker, error.to_string()),
    }
    if report.outcome.is_ok() {
        match host.engine.ping_round_trip().await {
            Ok(round_trip) => report.ping_us = Some(round_trip.as_micros() as u64),
            Err(error) => report.outcome.fail(Step::Docker, error.to_string()),
        }
    }
    report.outcome.api_calls = host.engine.api_calls();
    host.close().await;
    report
}
