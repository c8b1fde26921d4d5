//! Printing the read-only commands' results: the table or JSON on stdout, then one line per
//! host error or warning on stderr, as `rmi` does.

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::fleet::progress::HostProgress;
use crate::fleet::{HostOutcome, HostTarget, run_on_hosts};
use crate::report::{ObservedHost, observed_error_lines, terminal_safe};
use crate::request::FleetSelection;

/// Prints `table()` or `json()` as `format` asks, then the hosts' error and warning lines.
pub(crate) fn print_observed<'a>(
    format: OutputFormat,
    table: impl FnOnce() -> String,
    json: impl FnOnce() -> Result<String, serde_json::Error>,
    hosts: impl IntoIterator<Item = &'a ObservedHost>,
) {
    let text = match format {
        OutputFormat::Table => terminal_safe(&table()).into_owned(),
        // Read-only commands have no events to stream: NDJSON gets the document as one line.
        OutputFormat::Json | OutputFormat::Ndjson => json()
            .map(|text| match format {
                OutputFormat::Ndjson => text.lines().map(str::trim).collect::<String>(),
                _ => text,
            })
            .unwrap_or_else(|error| format!("{{\"error\":\"cannot encode the report: {error}\"}}")),
    };
    // A reader that stops early (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    for line in observed_error_lines(hosts) {
        eprintln!("{}", terminal_safe(&line));
    }
}

/// Runs a read-only `job` on every selected host with the command's progress display, and
/// returns the hosts' results in order and how long the run took.
pub(crate) async fn observe_fleet<Job, Fut, Report>(
    global: &GlobalArgs,
    fleet: &FleetSelection,
    job: Job,
) -> (Vec<Report>, Duration)
where
    Job: Fn(HostTarget, HostProgress) -> Fut,
    Fut: Future<Output = Report>,
    Report: HostOutcome + From<ObservedHost>,
{
    let progress = super::progress_for(global, fleet.hosts.len());
    let started = Instant::now();
    let hosts = run_on_hosts(&fleet.hosts, fleet.forks, global.timeout, &progress, job).await;
    progress.finish();
    (hosts, started.elapsed())
}
