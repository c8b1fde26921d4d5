//! The whole run: every host's report, the totals, and the exit code that follows.

use serde::Serialize;

use super::exit_code;
use super::host_report::{HostReport, HostStatus};

#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    /// True when nothing was changed: the results are the plan's predictions.
    pub dry_run: bool,
    /// True when Ctrl-C or SIGTERM stopped the run.
    pub interrupted: bool,
    /// Why hosts were left unstarted, if they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    pub hosts: Vec<HostReport>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub interrupted: usize,
    pub skipped: usize,
    pub untagged: usize,
    pub deleted: usize,
    /// Image records deleted (the rest of `deleted` are layers).
    pub deleted_images: usize,
    pub errors: usize,
    pub reclaimed_bytes: u64,
    pub predicted_bytes: u64,
    #[serde(rename = "duration_ms")]
    pub duration_ms: u64,
}

impl FleetReport {
    pub fn with_mode(
        hosts: Vec<HostReport>,
        duration: std::time::Duration,
        dry_run: bool,
    ) -> FleetReport {
        let mut totals = Totals {
            hosts: hosts.len(),
            duration_ms: duration.as_millis() as u64,
            ..Totals::default()
        };
        for host in &hosts {
            match host.status {
                HostStatus::Ok => totals.ok += 1,
                HostStatus::Partial => totals.partial += 1,
                HostStatus::Failed => totals.failed += 1,
                HostStatus::Unreachable => totals.unreachable += 1,
                HostStatus::Interrupted => totals.interrupted += 1,
                HostStatus::Skipped => totals.skipped += 1,
            }
            totals.untagged += host.untagged_count();
            totals.deleted += host.deleted_count();
            totals.deleted_images += host.results.iter().map(|r| r.deleted_images).sum::<usize>();
            totals.errors += host.error_count();
            totals.reclaimed_bytes += host.reclaimed_bytes;
            totals.predicted_bytes += host.predicted_bytes.unwrap_or(0);
        }
        FleetReport {
            dry_run,
            interrupted: false,
            stopped_because: None,
            hosts,
            totals,
        }
    }

    /// What the hosts ended with, for [`exit_code::RunOutcome::exit_code`].
    pub fn outcome(&self) -> exit_code::RunOutcome {
        exit_code::RunOutcome {
            output_failed: false,
            interrupted: self.interrupted,
            unreachable: self.totals.unreachable,
            failed: self.totals.failed,
            refused: self.totals.partial,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::host_report::Step;

    fn host(name: &str) -> HostReport {
        HostReport::new(name, "127.0.0.1")
    }

    #[test]
    fn all_ok_exits_zero() {
        let report = FleetReport::with_mode(vec![host("a"), host("b")], Default::default(), false);
        assert_eq!(report.outcome().exit_code(), exit_code::SUCCESS);
    }

    #[test]
    fn unreachable_host_wins_over_refused_removal() {
        let mut down = host("a");
        down.fail(Step::Connect, "refused".into());
        let mut partial = host("b");
        partial.status = HostStatus::Partial;
        let report = FleetReport::with_mode(vec![down, partial], Default::default(), false);
        assert_eq!(report.outcome().exit_code(), exit_code::HOST_UNREACHABLE);
        assert_eq!(report.totals.unreachable, 1);
        assert_eq!(report.totals.partial, 1);
    }

    #[test]
    fn docker_socket_failure_counts_as_unreachable() {
        let mut host = host("a");
        host.fail(Step::Docker, "socket refused".into());
        assert_eq!(host.status, HostStatus::Unreachable);
    }

    #[test]
    fn failure_after_connecting_is_failed_not_unreachable() {
        let mut host = host("a");
        host.fail(Step::Snapshot, "connection lost".into());
        let report = FleetReport::with_mode(vec![host], Default::default(), false);
        assert_eq!(report.outcome().exit_code(), exit_code::HOST_FAILED);
    }

    #[test]
    fn forced_not_found_is_not_fatal_like_docker_rmi() {
        let mut report = host("a");
        report.results.push(crate::report::ImageResult {
            image: "nope".into(),
            error: Some("No such image: nope:latest".into()),
            error_status: Some(404),
            ..Default::default()
        });
        let mut forced = report.clone();
        forced.settle_status(true);
        assert_eq!(forced.status, HostStatus::Ok);
        report.settle_status(false);
        assert_eq!(report.status, HostStatus::Partial);
    }
}
