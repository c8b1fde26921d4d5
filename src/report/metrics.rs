//! `--metrics FILE`: the run's figures as a Prometheus textfile (node_exporter's textfile
//! collector), so scheduled runs can be graphed and alerted on.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use super::FleetReport;

/// The textfile for `report` of `command`.
pub fn render_metrics(report: &FleetReport, command: &str, exit_code: i32) -> String {
    let totals = &report.totals;
    let mut text = String::new();
    let label = format!("command=\"{command}\"");
    let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(text, "# HELP fleetrmi_{name} {help}");
        let _ = writeln!(text, "# TYPE fleetrmi_{name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(text, "fleetrmi_{name}{{{labels}}} {value}");
        }
    };
    gauge(
        "reclaimed_bytes",
        "Bytes of image layers the engines deleted in the last run.",
        &[(label.clone(), totals.reclaimed_bytes as f64)],
    );
    gauge(
        "images_deleted",
        "Image records the engines deleted in the last run.",
        &[(label.clone(), totals.deleted_images as f64)],
    );
    gauge(
        "references_untagged",
        "Tags and digests the engines removed in the last run.",
        &[(label.clone(), totals.untagged as f64)],
    );
    let statuses = [
        ("ok", totals.ok),
        ("partial", totals.partial),
        ("failed", totals.failed),
        ("unreachable", totals.unreachable),
        ("interrupted", totals.interrupted),
        ("skipped", totals.skipped),
    ];
    let samples: Vec<(String, f64)> = statuses
        .iter()
        .map(|(status, count)| (format!("{label},status=\"{status}\""), *count as f64))
        .collect();
    gauge(
        "hosts",
        "Hosts by how their run ended, in the last run.",
        &samples,
    );
    gauge(
        "run_duration_seconds",
        "Wall time of the last run.",
        &[(label.clone(), totals.duration_ms as f64 / 1000.0)],
    );
    gauge(
        "exit_code",
        "Exit code of the last run.",
        &[(label.clone(), f64::from(exit_code))],
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    gauge(
        "last_run_timestamp_seconds",
        "When the last run ended, unix time.",
        &[(label, now as f64)],
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::HostReport;

    #[test]
    fn every_sample_has_help_type_and_command_label() {
        let report =
            FleetReport::with_mode(vec![HostReport::new("h1", "a")], Default::default(), false);
        let text = render_metrics(&report, "rmi", 0);
        assert!(text.contains("# TYPE fleetrmi_reclaimed_bytes gauge"));
        assert!(text.contains("fleetrmi_hosts{command=\"rmi\",status=\"ok\"} 1"));
        assert!(text.contains("fleetrmi_exit_code{command=\"rmi\"} 0"));
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            assert!(line.starts_with("fleetrmi_"), "{line}");
        }
    }
}
