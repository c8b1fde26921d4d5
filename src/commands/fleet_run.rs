//! What every fleet command does around its per-host job: the run lock, Ctrl-C handling,
//! rollout, progress and events, then the report, the retry file and the metrics.

use std::future::Future;
use std::io::Write;
use std::time::Instant;

use crate::atomic_file::replace_or_remove;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::fleet::control::{RunControl, StopReason};
use crate::fleet::progress::HostProgress;
use crate::fleet::rollout::{BatchSize, Rollout};
use crate::fleet::{HostTarget, RunSettings, run_fleet};
use crate::report::{
    EventWriter, FleetReport, HostReport, error_lines, exit_code, render_json, render_metrics,
    render_retry_file, render_table, terminal_safe,
};
use crate::run_lock::RunLock;

/// A fleet command's run as the user configured it.
pub(crate) struct FleetRun<'a> {
    pub global: &'a GlobalArgs,
    pub command: &'static str,
    pub dry_run: bool,
    /// `--serial`, checked.
    pub serial: &'a [BatchSize],
}

impl FleetRun<'_> {
    /// Runs `job` on `hosts` and renders everything; returns the exit code.
    pub async fn execute<Job, Fut>(&self, hosts: &[HostTarget], forks: usize, job: Job) -> i32
    where
        Job: Fn(HostTarget, HostProgress, RunControl) -> Fut,
        Fut: Future<Output = HostReport>,
    {
        self.execute_with(
            hosts,
            forks,
            |report| (render_table(report), error_lines(report)),
            job,
        )
        .await
    }

    /// The same, with a command's own table and error lines (`restore`, `builder prune`).
    pub async fn execute_with<Job, Fut>(
        &self,
        hosts: &[HostTarget],
        forks: usize,
        table: impl Fn(&FleetReport) -> (String, Vec<String>),
        job: Job,
    ) -> i32
    where
        Job: Fn(HostTarget, HostProgress, RunControl) -> Fut,
        Fut: Future<Output = HostReport>,
    {
        let _lock = match self
            .global
            .lock
            .as_deref()
            .map(RunLock::acquire)
            .transpose()
        {
            Ok(lock) => lock,
            Err(error) => {
                eprintln!("error: {error}");
                return exit_code::ALREADY_RUNNING;
            }
        };
        let control = RunControl::default();
        control.listen_for_signals(self.global.stop_grace);
        let events = (self.global.output == OutputFormat::Ndjson).then(EventWriter::default);
        let progress = super::progress_for(self.global, hosts.len()).with_events(events);
        if let Some(events) = progress.events() {
            events.run_start(self.command, hosts.len(), self.dry_run);
        }
        let settings = RunSettings {
            forks,
            rollout: Rollout {
                serial: self.serial.to_vec(),
                canary: self.global.canary,
                max_fail_percentage: self.global.max_fail_percentage,
                stop_on_error: self.global.stop_on_error,
            },
            host_timeout: self.global.timeout,
            dry_run: self.dry_run,
        };
        let started = Instant::now();
        let reports = run_fleet(
            hosts,
            &settings,
            &control,
            &progress,
            |host, host_progress| job(host, host_progress, control.clone()),
        )
        .await;
        progress.finish();

        let mut report = FleetReport::with_mode(reports, started.elapsed(), self.dry_run);
        report.interrupted = control.interrupted();
        report.stopped_because = control
            .stop_reason()
            .filter(|_| report.totals.skipped > 0 || report.interrupted)
            .map(|reason| match reason {
                StopReason::Interrupted => "interrupted (Ctrl-C or SIGTERM)".to_string(),
                other => other.describe(),
            });
        let outcome = report.outcome();
        let output_errors = self.write_outputs(&report, outcome.exit_code());
        let code = exit_code::RunOutcome {
            output_failed: !output_errors.is_empty(),
            ..outcome
        }
        .exit_code();
        self.render(&report, &progress, code, table);
        for error in output_errors {
            eprintln!("{error}");
        }
        code
    }

    /// Writes the retry file and the metrics; returns an error line (with its hint) for each
    /// that could not be written.
    fn write_outputs(&self, report: &FleetReport, code: i32) -> Vec<String> {
        let mut errors = Vec::new();
        let hint = "hint: the hosts' outcome is in the report above; make the file's directory \
                    writable (its path was checked before the run)";
        if let Some(path) = &self.global.retry_file
            && let Err(cause) = replace_or_remove(path, &render_retry_file(report))
        {
            errors.push(format!(
                "error: cannot write the retry file {}: {cause}\n{hint}",
                path.display()
            ));
        }
        // Metrics say what the engines did; a dry run did nothing, and must not replace the
        // figures of the last real run.
        if let Some(path) = &self.global.metrics
            && report.dry_run
        {
            eprintln!(
                "warning: {} not written: a dry run changes nothing (it keeps the last real run's \
                 figures)",
                path.display()
            );
        } else if let Some(path) = &self.global.metrics
            && let Err(cause) = replace_or_remove(path, &render_metrics(report, self.command, code))
        {
            errors.push(format!(
                "error: cannot write the metrics file {}: {cause}\n{hint}",
                path.display()
            ));
        }
        errors
    }

    fn render(
        &self,
        report: &FleetReport,
        progress: &crate::fleet::progress::FleetProgress,
        code: i32,
        table: impl Fn(&FleetReport) -> (String, Vec<String>),
    ) {
        let (text, lines) = table(report);
        // A reader that stops early (`| head`) is not worth a panic.
        let print = |text: &str| {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        };
        match self.global.output {
            OutputFormat::Table => print(&terminal_safe(&text)),
            OutputFormat::Json => print(&render_json(report)),
            OutputFormat::Ndjson => {
                if let Some(events) = progress.events() {
                    events.run_end(report, code);
                }
            }
        }
        for line in lines {
            eprintln!("{}", terminal_safe(&line));
        }
    }
}
