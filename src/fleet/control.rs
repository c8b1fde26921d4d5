//! Stopping a run: the first Ctrl-C or SIGTERM (or a failure budget) stops new hosts from
//! starting while running ones finish their current call; a second Ctrl-C aborts those too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            state: Arc::new(State {
                stop: Mutex::new(None),
                interrupted: AtomicBool::new(false),
                abort: watch::channel(false).0,
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

    /// Abandons calls in flight (a second Ctrl-C).
    pub fn abort(&self) {
        self.state.abort.send_replace(true);
    }

    /// Resolves once [`RunControl::abort`] was called.
    pub async fn aborted(&self) {
        let mut receiver = self.state.abort.subscribe();
        let _ = receiver.wait_for(|aborted| *aborted).await;
    }

    /// Listens for SIGINT and SIGTERM for the rest of the run.
    pub fn listen_for_signals(&self) {
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
                        "interrupt: no new host will start; running hosts finish their current call \
                         (interrupt again to abandon them)"
                    );
                    control.request_stop(StopReason::Interrupted);
                } else if seen == 2 {
                    eprintln!(
                        "interrupt: abandoning calls in flight (interrupt again to exit at once, \
                         without a report)"
                    );
                    control.abort();
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
        control.abort();
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("woken")
            .expect("joined");
    }
}
