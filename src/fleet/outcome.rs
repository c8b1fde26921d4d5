//! What the runner and the progress display need from any command's per-host result.

use std::time::Duration;

use crate::report::{
    DfHost, HostReport, HostStatus, ImagesHost, ObservedHost, PingHost, RoundTripCount,
};

/// A per-host result the fleet runner can time and the progress display can count.
pub trait HostOutcome {
    /// Records how long the host's job took.
    fn set_duration(&mut self, duration: Duration);
    /// Whether the host failed or could not be reached.
    fn is_failure(&self) -> bool;
    /// Bytes the job freed on the host, for commands that free any.
    fn freed_bytes(&self) -> Option<u64> {
        None
    }
    /// Docker API calls the job made on the host.
    fn api_calls(&self) -> u64 {
        0
    }
    /// Records the host's network round trips (none for a host never connected to).
    fn set_round_trips(&mut self, round_trips: Option<RoundTripCount>);
    fn round_trips(&self) -> Option<&RoundTripCount>;
}

impl HostOutcome for HostReport {
    fn set_duration(&mut self, duration: Duration) {
        self.duration = duration;
    }

    fn is_failure(&self) -> bool {
        matches!(self.status, HostStatus::Failed | HostStatus::Unreachable)
    }

    fn freed_bytes(&self) -> Option<u64> {
        Some(self.reclaimed_bytes)
    }

    fn api_calls(&self) -> u64 {
        self.api_calls
    }

    fn set_round_trips(&mut self, round_trips: Option<RoundTripCount>) {
        self.round_trips = round_trips;
    }

    fn round_trips(&self) -> Option<&RoundTripCount> {
        self.round_trips.as_ref()
    }
}

impl HostOutcome for ObservedHost {
    fn set_duration(&mut self, duration: Duration) {
        self.duration = duration;
    }

    fn is_failure(&self) -> bool {
        !self.is_ok()
    }

    fn api_calls(&self) -> u64 {
        self.api_calls
    }

    fn set_round_trips(&mut self, round_trips: Option<RoundTripCount>) {
        self.round_trips = round_trips;
    }

    fn round_trips(&self) -> Option<&RoundTripCount> {
        self.round_trips.as_ref()
    }
}

/// The read-only commands' results time and count through their [`ObservedHost`].
macro_rules! observed_outcome {
    ($($report:ty),*) => {$(
        impl HostOutcome for $report {
            fn set_duration(&mut self, duration: Duration) {
                self.outcome.set_duration(duration);
            }

            fn is_failure(&self) -> bool {
                self.outcome.is_failure()
            }

            fn api_calls(&self) -> u64 {
                self.outcome.api_calls
            }

            fn set_round_trips(&mut self, round_trips: Option<RoundTripCount>) {
                self.outcome.round_trips = round_trips;
            }

            fn round_trips(&self) -> Option<&RoundTripCount> {
                self.outcome.round_trips.as_ref()
            }
        }
    )*};
}

observed_outcome!(PingHost, ImagesHost, DfHost);

impl From<ObservedHost> for PingHost {
    fn from(outcome: ObservedHost) -> PingHost {
        PingHost::new(outcome)
    }
}

impl From<ObservedHost> for DfHost {
    fn from(outcome: ObservedHost) -> DfHost {
        DfHost::new(outcome)
    }
}

impl From<ObservedHost> for ImagesHost {
    fn from(outcome: ObservedHost) -> ImagesHost {
        ImagesHost {
            outcome,
            images: Vec::new(),
        }
    }
}
