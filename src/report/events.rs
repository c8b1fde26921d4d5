//! `--output ndjson`: one JSON event per line on stdout, as the run goes, each with a timestamp.
//! Events: `run_start`, `host_start`, `removal`, `host_end`, `run_end`.

use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Value, json};

use super::{FleetReport, HostReport, ImageResult};

/// Writes events to stdout, a whole line at a time.
pub struct EventWriter {
    out: Mutex<std::io::Stdout>,
}

impl Default for EventWriter {
    fn default() -> Self {
        EventWriter {
            out: Mutex::new(std::io::stdout()),
        }
    }
}

impl EventWriter {
    pub fn run_start(&self, command: &str, hosts: usize, dry_run: bool) {
        self.emit(
            "run_start",
            json!({ "command": command, "hosts": hosts, "dry_run": dry_run }),
        );
    }

    pub fn host_start(&self, host: &str) {
        self.emit("host_start", json!({ "host": host }));
    }

    pub fn removal(&self, host: &str, result: &ImageResult) {
        self.emit("removal", with_host(host, result));
    }

    pub fn host_end(&self, report: &HostReport) {
        let mut fields = json!({
            "host": report.host,
            "status": report.status,
            "failure": report.failure,
            "reclaimed_bytes": report.reclaimed_bytes,
            "predicted_bytes": report.predicted_bytes,
            "warnings": report.warnings,
            "duration_ms": report.duration.as_millis() as u64,
        });
        // `restore` and `builder prune` report per host, not per removal.
        if let Some(object) = fields.as_object_mut() {
            if let Some(reason) = &report.not_started {
                object.insert("not_started".to_string(), json!(reason));
            }
            if !report.restored.is_empty() {
                object.insert("restored".to_string(), json!(report.restored));
            }
            if let Some(build_cache) = &report.build_cache {
                object.insert("build_cache".to_string(), json!(build_cache));
            }
        }
        self.emit("host_end", fields);
    }

    pub fn run_end(&self, report: &FleetReport, exit_code: i32) {
        self.emit(
            "run_end",
            json!({
                "dry_run": report.dry_run,
                "interrupted": report.interrupted,
                "stopped_because": report.stopped_because,
                "totals": report.totals,
                "exit_code": exit_code,
            }),
        );
    }

    fn emit(&self, event: &str, fields: Value) {
        let mut line = json!({ "event": event, "time": timestamp() });
        if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
            line.extend(fields);
        }
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

fn with_host<T: Serialize>(host: &str, value: &T) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("host".to_string(), Value::String(host.to_string()));
    }
    value
}

/// RFC 3339 UTC with milliseconds.
pub fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_event_carries_host_and_result() {
        let result = ImageResult {
            image: "x:1".into(),
            untagged: vec!["x:1".into()],
            ..ImageResult::default()
        };
        let value = with_host("h1", &result);
        assert_eq!(value["host"], "h1");
        assert_eq!(value["untagged"][0], "x:1");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let stamp = timestamp();
        assert!(stamp.ends_with('Z') && stamp.contains('T'), "{stamp}");
    }
}
