//! Reports: per-host outcomes, fleet totals, the table and JSON renderings, and exit codes.

mod decisions;
pub mod exit_code;
mod fleet_report;
mod format;
mod host_report;
mod table;

pub use fleet_report::{FleetReport, Totals};
pub use format::{bytes as format_bytes, duration as format_duration};
pub use host_report::{HostFailure, HostReport, HostStatus, ImageResult, PruneSummary, Step};
pub use table::{error_lines, render_table};

/// The JSON document of `--output json` (schema in the README).
pub fn render_json(report: &FleetReport) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|error| format!("{{\"error\":\"cannot encode the report: {error}\"}}"))
}
