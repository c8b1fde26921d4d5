//! Stopping a run: the first Ctrl-C or SIGTERM (or a failure budget) stops new hosts from
//! starting and new calls from being made, while calls in flight get `--stop-grace` to end;
//! then, or at a second Ctrl-C, their hosts are abandoned and reported interrupted. So a stop
//! under systemd (SIGTERM, then SIGKILL after `TimeoutStopSec`) always ends with a report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// Why no further host is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    CanaryFailed(String),
    FailureBudget,
    StopOnError,
}

impl StopReason {
    pub fn describe(&self) -> String {
        match self {
            StopReason::Interrupted => "the run was interrupted".to_string(),
            StopReason::CanaryFailed(host) => format!("canary host {host} failed"),
            StopReason::FailureBudget => "--max-fail-percentage was exceeded".to_string(),
            StopReason::StopOnError => "a host failed and --stop-on-error is set".to_string(),
        }
    }
}

/// Shared by the runner, every host task and the signal listener.
#[derive(Clone)]
pub struct RunControl {
    state: Arc<State>,
}

struct State {
    stop: Mutex<Option<StopReason>>,
    interrupted: AtomicBool,
    abort: watch::Sender<bool>,
    /// Why calls in flight were abandoned, for the hosts' reports.
    abort_cause: Mutex<Option<String>>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            state: Arc::new(State {
                stop: Mutex::new(None),
                interrupted: AtomicBool::new(false),
                abort: watch::channel(false).0,
                abort_cause: Mutex::new(None),
            }),
        }
    }
}

impl RunControl {
    /// Stops new hosts from starting; the first reason given is kept.
    pub fn request_stop(&self, reason: StopReason) {
        if reason == StopReason::Interrupted {
            self.state.interrupted.store(true, Ordering::SeqCst);
        }
        if let Ok(mut stop) = self.state.stop.lock() {
            stop.get_or_insert(reason);
        }
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        self.state.stop.lock().ok().and_then(|stop| stop.clone())
    }

    /// True once Ctrl-C or SIGTERM arrived: host jobs stop between steps.
    pub fn interrupted(&self) -> bool {
        self.state.interrupted.load(Ordering::SeqCst)
    }

    /// Abandons calls in flight because of `cause` (the first cause given is kept).
    pub fn abort(&self, cause: &str) {
        if let Ok(mut kept) = self.state.abort_cause.lock() {
            kept.get_or_insert_with(|| cause.to_string());
        }
        self.state.abort.send_replace(true);
    }

    /// Why calls in flight were abandoned.
    pub fn abort_cause(&self) -> String {
        self.state
            .abort_cause
            .lock()
            .ok()
            .and_then(|cause| cause.clone())
            .unwrap_or_else(|| "abandoned".to_string())
    }

    /// Resolves once [`RunControl::abort`] was called.
    pub async fn aborted(&self) {
        let mut receiver = self.state.abort.subscribe();
        let _ = receiver.wait_for(|aborted| *aborted).await;
    }

    /// The first interrupt: no new host or call starts, and calls in flight are abandoned
    /// after `grace`.
    pub fn interrupt(&self, grace: Duration) {
        self.request_stop(StopReason::Interrupted);
        let control = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            control.abort(&format!(
                "interrupted; not finished within --stop-grace {}",
                humantime::format_duration(grace)
            ));
        });
    }

    /// Listens for SIGINT and SIGTERM for the rest of the run; calls in flight at the first
    /// get `grace`.
    pub fn listen_for_signals(&self, grace: Duration) {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            eprintln!("warning: cannot listen for Ctrl-C; an interrupt will end the run at once");
            return;
        };
        let control = self.clone();
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                seen += 1;
                if seen == 1 {
                    eprintln!(
                        "interrupt: no new host or call starts; calls in flight get --stop-grace {}, \
                         then their hosts are reported interrupted (interrupt again to abandon \
                         them now)",
                        humantime::format_duration(grace)
                    );
                    control.interrupt(grace);
                } else if seen == 2 {
                    eprintln!(
                        "interrupt: abandoning calls in flight (interrupt again to exit at once, \
                         without a report)"
                    );
                    control.abort("interrupted; abandoned by a second interrupt");
                } else {
                    eprintln!("interrupt: exiting now; no report");
                    std::process::exit(crate::report::exit_code::INTERRUPTED);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_stop_reason_is_kept() {
        let control = RunControl::default();
        control.request_stop(StopReason::FailureBudget);
        control.request_stop(StopReason::Interrupted);
        assert_eq!(control.stop_reason(), Some(StopReason::FailureBudget));
        assert!(control.interrupted());
    }

    #[tokio::test]
    async fn abort_wakes_waiters() {
        let control = RunControl::default();
        let waiter = tokio::spawn({
            let control = control.clone();
            async move { control.aborted().await }
        });
        control.abort("a second interrupt");
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(control.abort_cause(), "a second interrupt");
    }

    #[tokio::test]
    async fn an_interrupt_abandons_calls_in_flight_after_the_grace() {
        let control = RunControl::default();
        control.interrupt(Duration::from_millis(300));
        assert!(control.interrupted());
        let aborted = control.aborted();
        tokio::pin!(aborted);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut aborted)
                .await
                .is_err(),
            "abandoned before the grace ended"
        );
        tokio::time::timeout(Duration::from_secs(5), aborted)
            .await
            .expect("abandoned once the grace ended");
        assert_eq!(
            control.abort_cause(),
            "interrupted; not finished within --stop-grace 300ms"
        );
    }
}
