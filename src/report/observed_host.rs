//! What the read-only commands (`ping`, `images`, `df`) say about every host besides their own
//! data: which host, whether it was reached, where it stopped, and what it cost.

use std::time::Duration;

use serde::Serialize;

use crate::data::EngineKind;

use super::RoundTripCount;
use super::exit_code;
use super::host_report::{HostFailure, HostReport, HostStatus, Step};

/// One host's outcome in a read-only command. `status` is `ok`, `failed` or `unreachable`.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedHost {
    pub host: String,
    pub address: String,
    pub status: HostStatus,
    /// The host's engine kind, once the engine answered (a mixed fleet's hosts differ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_kind: Option<EngineKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<HostFailure>,
    pub warnings: Vec<String>,
    #[serde(serialize_with = "as_millis", rename = "duration_ms")]
    pub duration: Duration,
    /// Docker API calls made on this host (negotiation included).
    pub api_calls: u64,
    /// Sequential network round trips from the TCP connect on, by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_trips: Option<RoundTripCount>,
}

impl ObservedHost {
    pub fn new(host: &str, address: &str) -> ObservedHost {
        ObservedHost {
            host: host.to_string(),
            address: address.to_string(),
            status: HostStatus::Ok,
            engine_kind: None,
            failure: None,
            warnings: Vec::new(),
            duration: Duration::ZERO,
            api_calls: 0,
            round_trips: None,
        }
    }

    /// Takes over what connecting recorded (failure, status, warnings) in a connect report.
    pub fn from_connect(report: &HostReport) -> ObservedHost {
        ObservedHost {
            status: report.status,
            engine_kind: report.engine.as_ref().map(|engine| engine.kind),
            failure: report.failure.clone(),
            warnings: report.warnings.clone(),
            api_calls: report.api_calls,
            ..ObservedHost::new(&report.host, &report.address)
        }
    }

    /// Records that the host stopped at `step`: unreachable before it was usable, else failed.
    pub fn fail(&mut self, step: Step, message: String) {
        self.status = if step.is_reachability() {
            HostStatus::Unreachable
        } else {
            HostStatus::Failed
        };
        self.failure = Some(HostFailure { step, message });
    }

    pub fn is_ok(&self) -> bool {
        self.status == HostStatus::Ok
    }
}

/// How many hosts ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub hosts: usize,
    pub ok: usize,
    pub failed: usize,
    pub unreachable: usize,
}

impl StatusCounts {
    pub fn count<'a>(hosts: impl IntoIterator<Item = &'a ObservedHost>) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for host in hosts {
            counts.hosts += 1;
            match host.status {
                HostStatus::Ok | HostStatus::Partial => counts.ok += 1,
                HostStatus::Failed | HostStatus::Interrupted | HostStatus::Skipped => {
                    counts.failed += 1
                }
                HostStatus::Unreachable => counts.unreachable += 1,
            }
        }
        counts
    }

    /// Unreachable (4) wins over failed (3); otherwise success (read-only commands refuse
    /// nothing), by the one ranking in [`exit_code::RunOutcome`].
    pub fn exit_code(&self) -> i32 {
        exit_code::RunOutcome {
            unreachable: self.unreachable,
            failed: self.failed,
            ..exit_code::RunOutcome::default()
        }
        .exit_code()
    }

    /// `3 ok, 1 unreachable` for the totals row.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("{} ok", self.ok)];
        for (count, label) in [(self.failed, "failed"), (self.unreachable, "unreachable")] {
            if count > 0 {
                parts.push(format!("{count} {label}"));
            }
        }
        parts.join(", ")
    }
}

/// `error: <host>: <step>: <cause>` and `warning: <host>: …` lines, in host order.
pub fn observed_error_lines<'a>(hosts: impl IntoIterator<Item = &'a ObservedHost>) -> Vec<String> {
    let mut lines = Vec::new();
    for host in hosts {
        if let Some(failure) = &host.failure {
            lines.push(failure.error_line(&host.host));
        }
        for warning in &host.warnings {
            lines.push(format!("warning: {}: {}", host.host, warning));
        }
    }
    lines
}

/// The status word shown in tables.
pub fn status_word(status: HostStatus) -> &'static str {
    match status {
        HostStatus::Ok => "ok",
        HostStatus::Partial => "partial",
        HostStatus::Failed => "failed",
        HostStatus::Unreachable => "unreachable",
        HostStatus::Interrupted => "interrupted",
        HostStatus::Skipped => "not started",
    }
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_host_exits_four_even_with_a_failed_one() {
        let mut down = ObservedHost::new("a", "10.0.0.1");
        down.fail(Step::Connect, "refused".into());
        let mut broken = ObservedHost::new("b", "10.0.0.2");
        broken.fail(Step::DiskUsage, "connection lost".into());
        let counts = StatusCounts::count([&down, &broken, &ObservedHost::new("c", "10.0.0.3")]);
        assert_eq!(
            counts,
            StatusCounts {
                hosts: 3,
                ok: 1,
                failed: 1,
                unreachable: 1
            }
        );
        assert_eq!(counts.exit_code(), exit_code::HOST_UNREACHABLE);
        assert_eq!(counts.summary(), "1 ok, 1 failed, 1 unreachable");
    }

    #[test]
    fn failure_after_connecting_exits_three() {
        let mut broken = ObservedHost::new("b", "10.0.0.2");
        broken.fail(Step::Images, "No such image: app:1".into());
        assert_eq!(broken.status, HostStatus::Failed);
        assert_eq!(
            StatusCounts::count([&broken]).exit_code(),
            exit_code::HOST_FAILED
        );
    }

    #[test]
    fn all_reached_exits_zero() {
        let host = ObservedHost::new("a", "10.0.0.1");
        assert_eq!(StatusCounts::count([&host]).exit_code(), exit_code::SUCCESS);
    }

    #[test]
    fn error_lines_name_host_and_step() {
        let mut host = ObservedHost::new("web1", "10.0.0.1");
        host.fail(Step::Docker, "socket refused".into());
        host.warnings
            .push("free space not measured: no sftp".into());
        assert_eq!(
            observed_error_lines([&host]),
            vec![
                "error: web1: docker: socket refused".to_string(),
                "warning: web1: free space not measured: no sftp".to_string(),
            ]
        );
    }

    #[test]
    fn connect_failure_carries_over() {
        let mut report = HostReport::new("h", "127.0.0.1");
        report.fail(Step::Auth, "refused".into());
        let host = ObservedHost::from_connect(&report);
        assert_eq!(host.status, HostStatus::Unreachable);
        assert_eq!(host.failure.map(|f| f.step), Some(Step::Auth));
    }
}
