//! Reports: per-host outcomes, fleet totals, the table and JSON renderings, and exit codes.

mod age;
mod backup_outcome;
mod build_cache;
mod build_cache_outcome;
mod container_outcome;
mod decisions;
mod df;
mod events;
pub mod exit_code;
mod fleet_report;
mod format;
mod host_report;
mod images;
mod metrics;
mod observed_host;
mod ping;
mod restore;
mod restore_outcome;
mod retry_file;
mod round_trips;
mod safety_lines;
mod table;

pub use events::{EventWriter, timestamp};
pub use fleet_report::FleetReport;
pub use format::{bounded_list, bytes as format_bytes, terminal_safe};
pub use host_report::{HostFailure, HostReport, HostStatus, ImageResult, PruneSummary, Step};
pub use metrics::render_metrics;
pub use retry_file::{render_observed_retry_file, render_retry_file};
pub use round_trips::RoundTripCount;
pub use table::{error_lines, render_table};

pub use df::{DfHost, DfReport};
pub use images::{ImageLayout, ImagesHost, ImagesReport};
pub use observed_host::{ObservedHost, observed_error_lines};
pub use ping::{PingHost, PingReport};

pub use backup_outcome::BackupOutcome;
pub use build_cache::render_build_cache_table;
pub use build_cache_outcome::BuildCacheOutcome;
pub use container_outcome::ContainerOutcome;
pub use restore::{render_restore_table, restore_error_lines};
pub use restore_outcome::{RestoreStatus, RestoredArchive};

/// The JSON document of `--output json` (schema in docs/GUIDE.md).
pub fn render_json(report: &FleetReport) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|error| format!("{{\"error\":\"cannot encode the report: {error}\"}}"))
}
