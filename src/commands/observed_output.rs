//! Printing the read-only commands' results: the table or JSON on stdout, then one line per
//! host error or warning on stderr, as `rmi` does.

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::atomic_file::replace_or_remove;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::fleet::progress::HostProgress;
use crate::fleet::{HostOutcome, HostTarget, run_on_hosts};
use crate::report::{
    ObservedHost, exit_code, observed_error_lines, render_observed_retry_file, terminal_safe,
};
use crate::request::FleetSelection;

/// Prints `table()` or `json()` as `--output` asks, then the hosts' error and warning lines,
/// and writes `--retry-file` (failed and unreachable hosts). Returns the exit code: the
/// command's `code`, or [`exit_code::OUTPUT_FAILED`] when the retry file cannot be written.
pub(crate) fn print_observed<'a>(
    global: &GlobalArgs,
    code: i32,
    table: impl FnOnce() -> String,
    json: impl FnOnce() -> Result<String, serde_json::Error>,
    hosts: impl IntoIterator<Item = &'a ObservedHost>,
) -> i32 {
    let hosts: Vec<&ObservedHost> = hosts.into_iter().collect();
    let format = global.output;
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
    for line in observed_error_lines(hosts.iter().copied()) {
        eprintln!("{}", terminal_safe(&line));
    }
    if let Some(path) = &global.retry_file
        && let Err(cause) = replace_or_remove(path, &render_observed_retry_file(hosts))
    {
        eprintln!(
            "error: cannot write the retry file {}: {cause}\nhint: the hosts' outcome is in the \
             report above; make the file's directory writable",
            path.display()
        );
        return exit_code::OUTPUT_FAILED;
    }
    code
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
