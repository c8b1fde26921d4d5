//! Printing the read-only commands' results: the table or JSON on stdout, then one line per
//! host error or warning on stderr, as `rmi` does.

use std::io::Write;

use crate::cli::OutputFormat;
use crate::report::{ObservedHost, observed_error_lines};

/// Prints `table()` or `json()` as `format` asks, then the hosts' error and warning lines.
pub(crate) fn print_observed<'a>(
    format: OutputFormat,
    table: impl FnOnce() -> String,
    json: impl FnOnce() -> Result<String, serde_json::Error>,
    hosts: impl IntoIterator<Item = &'a ObservedHost>,
) {
    let text = match format {
        OutputFormat::Table => table(),
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
        eprintln!("{line}");
    }
}
