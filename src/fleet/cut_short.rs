//! The report of a host whose job was stopped from outside (`--timeout`, a second Ctrl-C):
//! everything the job had published and finished, the removal it was in the middle of, and
//! where it was. Nothing it did is dropped, and nothing it did not do is claimed.

use crate::report::{HostReport, Step};

use super::progress::HostSoFar;

/// The report of `host` (at `address`) stopped at `step` (timeout or interrupt) because of
/// `cause`.
pub(super) fn cut_short(
    host: &str,
    address: &str,
    so_far: HostSoFar,
    step: Step,
    cause: &str,
    dry_run: bool,
) -> HostReport {
    let mut report = so_far
        .report
        .unwrap_or_else(|| HostReport::new(host, address));
    report.results = so_far.results;
    let activity = activity(&so_far.step);
    if let Some(mut pending) = so_far.pending {
        pending.error = Some(format!("not finished: {cause} while {activity}"));
        report.results.push(pending);
    }
    report.reclaimed_bytes = if dry_run {
        0
    } else {
        report.results.iter().map(|r| r.reclaimed_bytes).sum()
    };
    let (step, mut message) = failure(step, activity, so_far.step_changes, cause);
    message.push_str(&super::host_run::not_attempted(&so_far.not_attempted));
    report.fail(step, message);
    report
}

/// What a host was doing, for messages: its last step.
pub(super) fn activity(step: &str) -> &str {
    if step.is_empty() { "starting" } else { step }
}

/// The failure of a host stopped at `step` (timeout or interrupt) while doing `activity`,
/// which `changes` something or only reads.
pub(super) fn failure(step: Step, activity: &str, changes: bool, cause: &str) -> (Step, String) {
    let message = if changes {
        // `removing IMAGE`, or `removing IMAGE (2/5)` in a prune.
        let removed = activity
            .strip_prefix("removing ")
            .map(|rest| rest.split(" (").next().unwrap_or(rest));
        match removed {
            Some(image) => {
                format!("{cause} while {activity}; whether {image} was removed is unknown")
            }
            None => format!(
                "{cause} while {activity}; whether that step completed on the host is unknown"
            ),
        }
    } else {
        format!("{cause} while {activity}")
    };
    // A host that never got through to its engine in time was not reached.
    let step = match (step, activity) {
        (Step::Timeout, "starting" | "connecting") => Step::Connect,
        (Step::Timeout, "docker") => Step::Docker,
        (step, _) => step,
    };
    (step, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{BackupOutcome, HostStatus, ImageResult};

    fn stopped(so_far: HostSoFar, step: Step, cause: &str, dry_run: bool) -> HostReport {
        cut_short("h1", "127.0.0.1", so_far, step, cause, dry_run)
    }

    fn removed(image: &str, bytes: u64) -> ImageResult {
        ImageResult {
            image: image.into(),
            deleted: vec![format!("sha256:{image}")],
            reclaimed_bytes: bytes,
            ..ImageResult::default()
        }
    }

    #[test]
    fn published_fields_and_finished_removals_are_kept() {
        let mut published = HostReport::new("h1", "127.0.0.1");
        published.warnings.push("accept-new added a key".into());
        published.predicted_bytes = Some(30);
        let so_far = HostSoFar {
            step: "removing b:1".into(),
            step_changes: true,
            results: vec![removed("a:1", 10)],
            report: Some(published),
            ..HostSoFar::default()
        };
        let report = stopped(so_far, Step::Timeout, "no result in 5s", false);
        assert_eq!(report.status, HostStatus::Failed);
        assert_eq!(report.warnings, ["accept-new added a key"]);
        assert_eq!(report.predicted_bytes, Some(30));
        assert_eq!(report.reclaimed_bytes, 10);
        assert_eq!(report.results.len(), 1);
        let failure = report.failure.expect("failure");
        assert_eq!(failure.step, Step::Timeout);
        assert!(
            failure.message.contains("is unknown"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn a_host_stopped_in_a_removal_names_it_and_the_removals_never_attempted() {
        let so_far = HostSoFar {
            step: "removing a:1".into(),
            step_changes: true,
            not_attempted: vec!["b:1".into(), "c:1".into()],
            ..HostSoFar::default()
        };
        let report = stopped(so_far, Step::Interrupt, "interrupted", false);
        assert_eq!(
            report.failure.expect("failure").message,
            "interrupted while removing a:1; whether a:1 was removed is unknown; \
             not attempted: b:1 c:1"
        );
    }

    #[test]
    fn the_archive_of_an_unfinished_removal_is_reported() {
        let so_far = HostSoFar {
            step: "stopping container web".into(),
            step_changes: true,
            pending: Some(ImageResult {
                image: "a:1".into(),
                backup: Some(BackupOutcome::default()),
                ..ImageResult::default()
            }),
            ..HostSoFar::default()
        };
        let report = stopped(so_far, Step::Interrupt, "abandoned", false);
        assert_eq!(report.status, HostStatus::Interrupted);
        let pending = &report.results[0];
        assert!(pending.backup.is_some());
        assert_eq!(
            pending.error.as_deref(),
            Some("not finished: abandoned while stopping container web")
        );
    }

    #[test]
    fn a_dry_run_claims_no_bytes() {
        let so_far = HostSoFar {
            step: "closing".into(),
            results: vec![removed("a:1", 10)],
            ..HostSoFar::default()
        };
        let report = stopped(so_far, Step::Timeout, "no result in 5s", true);
        assert_eq!(report.reclaimed_bytes, 0);
        assert_eq!(report.results.len(), 1);
    }

    #[test]
    fn a_timeout_before_the_engine_answered_is_unreachable_and_changed_nothing() {
        for (activity, step) in [("connecting", Step::Connect), ("docker", Step::Docker)] {
            let so_far = HostSoFar {
                step: activity.into(),
                ..HostSoFar::default()
            };
            let report = stopped(so_far, Step::Timeout, "no result in 5s", false);
            assert_eq!(report.status, HostStatus::Unreachable, "{activity}");
            let failure = report.failure.expect("failure");
            assert_eq!(failure.step, step);
            assert_eq!(failure.message, format!("no result in 5s while {activity}"));
        }
    }
}
