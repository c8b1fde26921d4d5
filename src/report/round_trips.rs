//! A host's sequential network round trips in the report: the total and each step's share.

use serde::Serialize;

/// `round_trips` of a host in the JSON report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoundTripCount {
    pub total: u32,
    pub by_step: Vec<StepRoundTrips>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRoundTrips {
    pub step: String,
    pub round_trips: u32,
}

impl RoundTripCount {
    pub fn new(total: u32, by_step: Vec<(String, u32)>) -> RoundTripCount {
        RoundTripCount {
            total,
            by_step: by_step
                .into_iter()
                .map(|(step, round_trips)| StepRoundTrips { step, round_trips })
                .collect(),
        }
    }

    /// `14 round trips (connecting 6, docker 2, …)`, for `--verbose`.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self
            .by_step
            .iter()
            .map(|step| format!("{} {}", step.step, step.round_trips))
            .collect();
        format!(
            "{} round trip{} ({})",
            self.total,
            if self.total == 1 { "" } else { "s" },
            steps.join(", ")
        )
    }
}
