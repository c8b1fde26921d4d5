//! The summary table for people, and the error lines that go with it.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use super::fleet_report::FleetReport;
use super::format::{bytes, duration};
use super::host_report::HostStatus;
use super::observed_host::status_word;

/// One row per host and a totals row.
pub fn render_table(report: &FleetReport) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if report.dry_run {
        table.set_header([
            "host",
            "engine",
            "status",
            "would untag",
            "would delete",
            "errors",
            "would free",
            "time",
        ]);
    } else {
        table.set_header([
            "host", "engine", "status", "untagged", "deleted", "errors", "freed", "time",
        ]);
    }
    let freed = |reclaimed: u64, predicted: Option<u64>| {
        if report.dry_run {
            bytes(predicted.unwrap_or(0))
        } else {
            bytes(reclaimed)
        }
    };
    for host in &report.hosts {
        table.add_row(vec![
            Cell::new(&host.host),
            Cell::new(
                host.engine
                    .as_ref()
                    .map_or("—", |engine| engine.kind.name()),
            ),
            Cell::new(status_word(host.status)),
            number(host.untagged_count()),
            number(host.deleted_count()),
            number(host.error_count()),
            Cell::new(freed(host.reclaimed_bytes, host.predicted_bytes))
                .set_alignment(CellAlignment::Right),
            Cell::new(duration(host.duration)).set_alignment(CellAlignment::Right),
        ]);
    }
    let totals = &report.totals;
    table.add_row(vec![
        Cell::new(format!("total ({} hosts)", totals.hosts)),
        Cell::new(""),
        Cell::new(totals_status(report)),
        number(totals.untagged),
        number(totals.deleted),
        number(totals.errors),
        Cell::new(freed(totals.reclaimed_bytes, Some(totals.predicted_bytes)))
            .set_alignment(CellAlignment::Right),
        Cell::new(duration(std::time::Duration::from_millis(
            totals.duration_ms,
        )))
        .set_alignment(CellAlignment::Right),
    ]);
    let mut text = table.to_string();
    if let Some(reason) = &report.stopped_because {
        text.push_str(&format!("\nstopped starting hosts: {reason}"));
    }
    if report.dry_run
        && let Some(decisions) = super::decisions::render_decisions(report)
    {
        text.push('\n');
        text.push_str(&decisions);
    }
    for line in super::safety_lines::safety_lines(report) {
        text.push('\n');
        text.push_str(&line);
    }
    if report.dry_run {
        text.push_str("\ndry run: nothing was changed; the figures are what the engine would do");
    }
    text
}

/// `error: <host>: <step>: <cause>` lines, one per failure, in host order (in a dry run, the
/// removals that would fail), then one line naming the hosts never started.
pub fn error_lines(report: &FleetReport) -> Vec<String> {
    let verb = if report.dry_run {
        "would fail to remove"
    } else {
        "remove"
    };
    let mut lines = Vec::new();
    for host in &report.hosts {
        if let Some(failure) = &host.failure {
            lines.push(failure.error_line(&host.host));
        }
        for result in &host.results {
            if let Some(message) = &result.error {
                lines.push(format!(
                    "error: {}: {verb} {}: {}",
                    host.host, result.image, message
                ));
            }
        }
        for warning in &host.warnings {
            lines.push(format!("warning: {}: {}", host.host, warning));
        }
        if let Some(caveat) = host
            .results
            .iter()
            .find_map(|result| result.not_exact.as_ref())
        {
            lines.push(format!("note: {}: {caveat}", host.host));
        }
    }
    lines.extend(not_started_line(report));
    lines
}

/// How many hosts named in the line about hosts never started.
const NOT_STARTED_NAMES: usize = 20;

fn not_started_line(report: &FleetReport) -> Option<String> {
    let skipped: Vec<&str> = report
        .hosts
        .iter()
        .filter(|host| host.status == HostStatus::Skipped)
        .map(|host| host.host.as_str())
        .collect();
    if skipped.is_empty() {
        return None;
    }
    let mut names = skipped[..skipped.len().min(NOT_STARTED_NAMES)].join(", ");
    if skipped.len() > NOT_STARTED_NAMES {
        names.push_str(&format!(
            " and {} more (listed in the report and --retry-file)",
            skipped.len() - NOT_STARTED_NAMES
        ));
    }
    let why = report
        .stopped_because
        .as_deref()
        .unwrap_or("the run stopped starting hosts");
    Some(format!(
        "warning: {} hosts not started ({why}): {names}",
        skipped.len()
    ))
}

fn number(value: usize) -> Cell {
    Cell::new(value).set_alignment(CellAlignment::Right)
}

fn totals_status(report: &FleetReport) -> String {
    let totals = &report.totals;
    let mut parts = vec![format!("{} ok", totals.ok)];
    for (count, label) in [
        (totals.partial, "partial"),
        (totals.failed, "failed"),
        (totals.unreachable, "unreachable"),
        (totals.interrupted, "interrupted"),
        (totals.skipped, "not started"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {label}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{HostReport, ImageResult};

    fn refused(host: &str) -> HostReport {
        let mut report = HostReport::new(host, "127.0.0.1");
        report.results.push(ImageResult {
            image: "run:1".into(),
            error: Some("conflict".into()),
            error_status: Some(409),
            ..ImageResult::default()
        });
        report
    }

    #[test]
    fn a_dry_run_says_which_removals_would_fail() {
        let report = FleetReport::with_mode(vec![refused("h1")], Default::default(), true);
        assert_eq!(
            error_lines(&report),
            ["error: h1: would fail to remove run:1: conflict"]
        );
        let report = FleetReport::with_mode(vec![refused("h1")], Default::default(), false);
        assert_eq!(error_lines(&report), ["error: h1: remove run:1: conflict"]);
    }

    #[test]
    fn a_prediction_that_is_not_exact_is_noted_once_per_host() {
        let mut host = HostReport::new("p1", "127.0.0.1");
        for image in ["a:1", "b:1"] {
            host.results.push(ImageResult {
                image: image.into(),
                not_exact: Some("not predicted exactly on this engine (podman)".into()),
                ..ImageResult::default()
            });
        }
        let report = FleetReport::with_mode(vec![host], Default::default(), true);
        assert_eq!(
            error_lines(&report),
            ["note: p1: not predicted exactly on this engine (podman)"]
        );
        assert!(render_table(&report).contains("engine"));
    }

    #[test]
    fn hosts_never_started_are_named_with_the_reason() {
        let mut hosts = vec![refused("h0")];
        for index in 1..=22 {
            hosts.push(HostReport::skipped(
                &format!("h{index}"),
                "127.0.0.1",
                "canary failed".into(),
            ));
        }
        let mut report = FleetReport::with_mode(hosts, Default::default(), false);
        report.stopped_because = Some("the canary host h0 failed".into());
        let lines = error_lines(&report);
        let last = lines.last().expect("a line");
        assert!(
            last.starts_with("warning: 22 hosts not started (the canary host h0 failed): h1, h2,"),
            "{last}"
        );
        assert!(last.ends_with("h20 and 2 more (listed in the report and --retry-file)"));
    }
}
