//! Sequential network round trips of one host's run, by step: what sets its time across a WAN.
//!
//! Every request/answer pair is recorded when it is sent and when its answer arrives. A pair
//! sent after the answer of the k-th sequential round trip ends at depth k + 1; pairs in flight
//! together (a wave of concurrent calls) end at the same depth. The host's count is the deepest
//! answer, and each step is charged with the depth reached while it was the current one.

use std::sync::Mutex;

/// One host's round trips, shared by its SSH session and the channels opened on it.
#[derive(Debug, Default)]
pub struct RoundTrips {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Round trips done one after another so far.
    depth: u32,
    /// Each step entered, with the round trips charged to it.
    steps: Vec<(String, u32)>,
}

/// A request on its way: the depth its answer will end at.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Sent(u32);

impl Sent {
    /// A request that waited only for the answer to this one.
    pub fn next(self) -> Sent {
        Sent(self.0 + 1)
    }
}

impl RoundTrips {
    /// Later round trips are charged to `step`.
    pub fn enter(&self, step: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.steps.push((step.to_string(), 0));
        }
    }

    /// A request is sent now.
    pub fn sent(&self) -> Sent {
        Sent(self.state.lock().map(|state| state.depth).unwrap_or(0) + 1)
    }

    /// The answer to `sent` has arrived.
    pub fn answered(&self, sent: Sent) {
        if let Ok(mut state) = self.state.lock()
            && sent.0 > state.depth
        {
            let added = sent.0 - state.depth;
            state.depth = sent.0;
            match state.steps.last_mut() {
                Some((_, count)) => *count += added,
                None => state.steps.push((String::new(), added)),
            }
        }
    }

    /// `count` request/answer pairs made one after another, each waiting for the one before.
    pub fn sequential(&self, count: u32) {
        for _ in 0..count {
            let sent = self.sent();
            self.answered(sent);
        }
    }

    pub fn total(&self) -> u32 {
        self.state.lock().map(|state| state.depth).unwrap_or(0)
    }

    /// Each step that cost round trips, in the order they were entered (a step entered
    /// several times is summed under its first place).
    pub fn by_step(&self) -> Vec<(String, u32)> {
        let mut steps: Vec<(String, u32)> = Vec::new();
        let Ok(state) = self.state.lock() else {
            return steps;
        };
        for (step, count) in state.steps.iter().filter(|(_, count)| *count > 0) {
            match steps.iter_mut().find(|(seen, _)| seen == step) {
                Some((_, total)) => *total += count,
                None => steps.push((step.clone(), *count)),
            }
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_pairs_add_up_and_a_wave_counts_once() {
        let trips = RoundTrips::default();
        trips.enter("connecting");
        trips.sequential(2);
        trips.enter("docker");
        let (a, b, c) = (trips.sent(), trips.sent(), trips.sent());
        trips.answered(b);
        trips.answered(a);
        trips.answered(c);
        assert_eq!(trips.total(), 3);
        assert_eq!(
            trips.by_step(),
            vec![("connecting".to_string(), 2), ("docker".to_string(), 1)]
        );
    }

    #[test]
    fn a_pair_sent_before_an_answer_ends_at_the_earlier_depth() {
        let trips = RoundTrips::default();
        let early = trips.sent();
        let first = trips.sent();
        trips.answered(first);
        let second = trips.sent();
        trips.answered(early);
        trips.answered(second);
        assert_eq!(trips.total(), 2);
    }

    #[test]
    fn steps_entered_twice_are_summed_and_free_steps_left_out() {
        let trips = RoundTrips::default();
        trips.enter("removing");
        trips.sequential(1);
        trips.enter("closing");
        trips.enter("removing");
        trips.sequential(2);
        assert_eq!(trips.by_step(), vec![("removing".to_string(), 3)]);
    }
}
