//! The run's reporter: host jobs tell it their steps and results; it owns the progress bars
//! (on a terminal only), the NDJSON event stream, and each host's record of what was done so
//! far, so that a host stopped by a timeout or an abort still reports its finished removals.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::outcome::HostOutcome;
use super::timeline::{StepTimeline, host_line, run_line};
use crate::report::{
    BackupOutcome, ContainerOutcome, EventWriter, HostReport, ImageResult, RoundTripCount,
    terminal_safe,
};
use crate::ssh::RoundTrips;

/// The run's progress display and event stream; either may be off.
pub struct FleetProgress {
    bars: Option<Bars>,
    events: Option<Arc<EventWriter>>,
    /// `--verbose`: each host's step times, and the run's connections and API calls.
    debug: Option<DebugTotals>,
}

#[derive(Default)]
struct DebugTotals {
    hosts: AtomicU64,
    api_calls: AtomicU64,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// Bytes freed so far; `None` until a host reports bytes (commands that free nothing never do).
    freed: Mutex<Option<u64>>,
    failed: AtomicU64,
}

/// One host's handle: its progress line, its events, and what it has done so far.
#[derive(Clone)]
pub struct HostProgress {
    host: Arc<str>,
    line: Option<Arc<ProgressBar>>,
    events: Option<Arc<EventWriter>>,
    done: Arc<Mutex<HostSoFar>>,
    /// The host's network round trips, charged to the step under way.
    round_trips: Arc<RoundTrips>,
}

/// What a host job has reported so far.
#[derive(Debug, Clone, Default)]
pub struct HostSoFar {
    pub step: String,
    /// Whether `step` changes something (see [`HostProgress::changing_step`]).
    pub step_changes: bool,
    pub results: Vec<ImageResult>,
    pub timeline: StepTimeline,
    /// The job's report as it last published it, without its results: engine, warnings,
    /// predictions, restores.
    pub report: Option<HostReport>,
    /// The removal under way, with what its safety steps already did (the archive written,
    /// the containers stopped), until its result is recorded.
    pub pending: Option<ImageResult>,
    /// The removals after the one under way, which a host stopped now never attempts.
    pub not_attempted: Vec<String>,
}

impl HostProgress {
    /// A step that only reads.
    pub fn step(&self, step: &str) {
        self.enter(step, false);
    }

    /// A step that changes something (on the host, or a backup on this machine): a host cut
    /// short in it is reported with that step's outcome unknown.
    pub fn changing_step(&self, step: &str) {
        self.enter(step, true);
    }

    /// The counter the host's SSH connection records its round trips in.
    pub fn round_trips(&self) -> Arc<RoundTrips> {
        Arc::clone(&self.round_trips)
    }

    /// The round trips so far, if the host was reached over the network at all.
    pub fn round_trip_count(&self) -> Option<RoundTripCount> {
        let total = self.round_trips.total();
        (total > 0).then(|| RoundTripCount::new(total, self.round_trips.by_step()))
    }

    fn enter(&self, step: &str, changes: bool) {
        self.round_trips.enter(step);
        if let Ok(mut done) = self.done.lock() {
            done.step = step.to_string();
            done.step_changes = changes;
            done.timeline.start(step, Instant::now());
        }
        if let Some(line) = &self.line {
            line.set_message(terminal_safe(step).into_owned());
        }
    }

    /// Records one finished removal (or planned one, in a dry run).
    pub fn result(&self, result: &ImageResult) {
        if let Ok(mut done) = self.done.lock() {
            done.results.push(result.clone());
            done.pending = None;
        }
        if let Some(events) = &self.events {
            events.removal(&self.host, result);
        }
    }

    /// Adds a finished removal to `report` with its bytes, and records it (see [`Self::result`]).
    /// Between removals only the warnings (appended) and the prediction (replanned after a
    /// refusal) change besides the results and bytes, which `cut_short` takes from the results;
    /// so the report is published again only when one of those changed, not once per removal
    /// (a copy each time would grow with the host).
    pub fn record(&self, report: &mut HostReport, result: ImageResult) {
        self.result(&result);
        report.reclaimed_bytes += result.reclaimed_bytes;
        report.results.push(result);
        let changes = |r: &HostReport| (r.warnings.len(), r.predicted_bytes);
        let published = self
            .done
            .lock()
            .ok()
            .and_then(|done| done.report.as_ref().map(changes));
        if published != Some(changes(report)) {
            self.publish(report);
        }
    }

    /// Keeps a copy of `report` but its results (those are kept one by one by [`Self::result`]),
    /// for the report of a host cut short by `--timeout` or a second Ctrl-C. Jobs publish after
    /// each change worth keeping.
    pub fn publish(&self, report: &mut HostReport) {
        let results = std::mem::take(&mut report.results);
        let copy = report.clone();
        report.results = results;
        if let Ok(mut done) = self.done.lock() {
            done.report = Some(copy);
        }
    }

    /// What the safety steps of the removal of `image` did so far; nothing to keep when they
    /// did nothing.
    pub fn pending(
        &self,
        image: &str,
        backup: Option<&BackupOutcome>,
        containers: &[ContainerOutcome],
    ) {
        let pending = (backup.is_some() || !containers.is_empty()).then(|| ImageResult {
            image: image.to_string(),
            backup: backup.cloned(),
            containers: containers.to_vec(),
            ..ImageResult::default()
        });
        if let Ok(mut done) = self.done.lock() {
            done.pending = pending;
        }
    }

    /// The removals still to come after the one about to start.
    pub fn still_to_come(&self, images: &[String]) {
        if let Ok(mut done) = self.done.lock() {
            done.not_attempted = images.to_vec();
        }
    }

    /// Adds the pending removal, if any, to `report` as unfinished (`why`), so what its safety
    /// steps did is not lost when the removal itself fails.
    pub fn settle_pending(&self, report: &mut HostReport, why: &str) {
        let pending = self
            .done
            .lock()
            .ok()
            .and_then(|mut done| done.pending.take());
        if let Some(mut result) = pending {
            result.error = Some(why.to_string());
            self.result(&result);
            report.results.push(result);
        }
    }

    pub fn so_far(&self) -> HostSoFar {
        self.done
            .lock()
            .map(|done| done.clone())
            .unwrap_or_default()
    }
}

/// Whether to draw bars: only on a terminal, and not when quiet or writing machine output.
pub fn should_draw(stderr_is_terminal: bool, quiet: bool, machine_output: bool) -> bool {
    stderr_is_terminal && !quiet && !machine_output
}

impl FleetProgress {
    pub fn new(draw: bool, hosts: usize) -> FleetProgress {
        FleetProgress {
            bars: draw.then(|| Bars::new(hosts)),
            events: None,
            debug: None,
        }
    }

    /// Also print `debug:` lines on stderr (`--verbose`).
    pub fn with_debug(mut self, debug: bool) -> FleetProgress {
        self.debug = debug.then(DebugTotals::default);
        self
    }

    /// Also write NDJSON events to stdout.
    pub fn with_events(mut self, events: Option<EventWriter>) -> FleetProgress {
        self.events = events.map(Arc::new);
        self
    }

    pub fn events(&self) -> Option<&EventWriter> {
        self.events.as_deref()
    }

    pub fn host_started(&self, host: &str) -> HostProgress {
        if let Some(events) = &self.events {
            events.host_start(host);
        }
        HostProgress {
            host: Arc::from(host),
            line: self
                .bars
                .as_ref()
                .map(|bars| Arc::new(bars.host_line(host))),
            events: self.events.clone(),
            done: Arc::default(),
            round_trips: Arc::default(),
        }
    }

    pub fn host_finished(&self, host: HostProgress, report: &impl HostOutcome) {
        if let Some(debug) = &self.debug {
            debug.hosts.fetch_add(1, Ordering::Relaxed);
            debug
                .api_calls
                .fetch_add(report.api_calls(), Ordering::Relaxed);
            let so_far = host.so_far();
            let line = host_line(
                &host.host,
                &so_far.timeline.durations(Instant::now()),
                report.api_calls(),
                report.round_trips(),
            );
            self.print_above_bars(&line);
        }
        if let Some(bars) = &self.bars {
            bars.host_finished(host, report);
        }
    }

    /// Removes the bars before the report is printed; with `--verbose`, sums up the run.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
        if let Some(debug) = &self.debug {
            eprintln!(
                "{}",
                run_line(
                    debug.hosts.load(Ordering::Relaxed),
                    crate::ssh::connections_opened(),
                    debug.api_calls.load(Ordering::Relaxed),
                )
            );
        }
    }

    fn print_above_bars(&self, line: &str) {
        match &self.bars {
            Some(bars) => bars.multi.suspend(|| eprintln!("{}", terminal_safe(line))),
            None => eprintln!("{}", terminal_safe(line)),
        }
    }
}

impl Bars {
    fn new(hosts: usize) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(hosts as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} hosts  {msg}  [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(Duration::from_millis(120));
        // A passphrase prompt must not be drawn over: the bars step aside while it is asked.
        let suspend = multi.clone();
        crate::ssh::set_prompt_suspender(move |prompt| suspend.suspend(prompt));
        Bars {
            multi,
            overall,
            freed: Mutex::new(None),
            failed: AtomicU64::new(0),
        }
    }

    fn host_line(&self, host: &str) -> ProgressBar {
        let line = self.multi.add(ProgressBar::new_spinner());
        line.set_style(
            ProgressStyle::with_template("  {spinner} {prefix}: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        line.set_prefix(host.to_string());
        line.enable_steady_tick(Duration::from_millis(120));
        line
    }

    fn host_finished(&self, host: HostProgress, report: &impl HostOutcome) {
        if let Some(line) = host.line {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
        let freed = match self.freed.lock() {
            Ok(mut freed) => {
                if let Some(bytes) = report.freed_bytes() {
                    *freed = Some(freed.unwrap_or(0) + bytes);
                }
                *freed
            }
            Err(_) => None,
        };
        let failed = if report.is_failure() {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.failed.load(Ordering::Relaxed)
        };
        self.overall.inc(1);
        let mut parts = Vec::new();
        if let Some(freed) = freed {
            parts.push(format!("freed {}", crate::report::format_bytes(freed)));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        self.overall.set_message(parts.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_only_on_a_terminal_for_people() {
        assert!(should_draw(true, false, false));
        assert!(!should_draw(false, false, false));
        assert!(!should_draw(true, true, false));
        assert!(!should_draw(true, false, true));
    }

    #[test]
    fn host_remembers_its_step_and_results() {
        let fleet = FleetProgress::new(false, 1);
        let host = fleet.host_started("h1");
        host.step("removing x:1");
        host.result(&ImageResult {
            image: "x:1".into(),
            ..ImageResult::default()
        });
        let so_far = host.so_far();
        assert_eq!(so_far.step, "removing x:1");
        assert_eq!(so_far.results.len(), 1);
    }

    #[test]
    fn what_safety_steps_did_survives_a_lost_removal() {
        let fleet = FleetProgress::new(false, 1);
        let host = fleet.host_started("h1");
        let mut report = HostReport::new("h1", "127.0.0.1");
        host.pending("x:1", Some(&BackupOutcome::default()), &[]);
        assert!(host.so_far().pending.is_some());
        host.settle_pending(&mut report, "lost");
        assert_eq!(report.results.len(), 1);
        assert_eq!(report.results[0].error.as_deref(), Some("lost"));
        assert!(report.results[0].backup.is_some());
        assert!(host.so_far().pending.is_none());
    }

    #[test]
    fn a_recorded_result_ends_the_pending_one_and_is_published() {
        let fleet = FleetProgress::new(false, 1);
        let host = fleet.host_started("h1");
        let mut report = HostReport::new("h1", "127.0.0.1");
        host.pending("x:1", Some(&BackupOutcome::default()), &[]);
        host.record(
            &mut report,
            ImageResult {
                image: "x:1".into(),
                reclaimed_bytes: 7,
                ..ImageResult::default()
            },
        );
        let so_far = host.so_far();
        assert!(so_far.pending.is_none());
        assert_eq!(so_far.report.expect("published").reclaimed_bytes, 7);
        assert_eq!(report.reclaimed_bytes, 7);
    }

    #[test]
    fn safety_steps_that_did_nothing_leave_nothing_pending() {
        let fleet = FleetProgress::new(false, 1);
        let host = fleet.host_started("h1");
        host.pending("x:1", None, &[]);
        assert!(host.so_far().pending.is_none());
    }
}
