//! Progress on stderr while hosts run: hosts done of total, bytes freed so far, and one line
//! per active host. Only drawn on a terminal; the final report never reads from it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::outcome::HostOutcome;

/// The run's progress display, or nothing when it is not drawn.
pub struct FleetProgress {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// Bytes freed so far; `None` until a host reports bytes (commands that free nothing never do).
    freed: std::sync::Mutex<Option<u64>>,
    failed: AtomicU64,
}

/// One host's line, or nothing.
#[derive(Clone)]
pub struct HostProgress {
    line: Option<Arc<ProgressBar>>,
}

impl HostProgress {
    pub fn step(&self, step: &str) {
        if let Some(line) = &self.line {
            line.set_message(step.to_string());
        }
    }
}

/// Whether to draw bars: only on a terminal, and not when quiet or writing machine output.
pub fn should_draw(stderr_is_terminal: bool, quiet: bool, machine_output: bool) -> bool {
    stderr_is_terminal && !quiet && !machine_output
}

impl FleetProgress {
    pub fn new(draw: bool, hosts: usize) -> FleetProgress {
        if !draw {
            return FleetProgress { bars: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(hosts as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} hosts  {msg}  [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(Duration::from_millis(120));
        FleetProgress {
            bars: Some(Bars {
                multi,
                overall,
                freed: std::sync::Mutex::new(None),
                failed: AtomicU64::new(0),
            }),
        }
    }

    pub fn host_started(&self, host: &str) -> HostProgress {
        let Some(bars) = &self.bars else {
            return HostProgress { line: None };
        };
        let line = bars.multi.add(ProgressBar::new_spinner());
        line.set_style(
            ProgressStyle::with_template("  {spinner} {prefix}: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        line.set_prefix(host.to_string());
        line.enable_steady_tick(Duration::from_millis(120));
        HostProgress {
            line: Some(Arc::new(line)),
        }
    }

    pub fn host_finished(&self, host: HostProgress, report: &impl HostOutcome) {
        let Some(bars) = &self.bars else {
            return;
        };
        if let Some(line) = host.line {
            line.finish_and_clear();
            bars.multi.remove(&line);
        }
        let freed = match bars.freed.lock() {
            Ok(mut freed) => {
                if let Some(bytes) = report.freed_bytes() {
                    *freed = Some(freed.unwrap_or(0) + bytes);
                }
                *freed
            }
            Err(_) => None,
        };
        let failed = if report.is_failure() {
            bars.failed.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            bars.failed.load(Ordering::Relaxed)
        };
        bars.overall.inc(1);
        let mut parts = Vec::new();
        if let Some(freed) = freed {
            parts.push(format!("freed {}", crate::report::format_bytes(freed)));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        bars.overall.set_message(parts.join(", "));
    }

    /// Removes the bars before the report is printed.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::should_draw;

    #[test]
    fn bars_only_on_a_terminal_for_people() {
        assert!(should_draw(true, false, false));
        assert!(!should_draw(false, false, false));
        assert!(!should_draw(true, true, false));
        assert!(!should_draw(true, false, true));
    }
}
