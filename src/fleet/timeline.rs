//! `--verbose`: where each host's time went, step by step, and what the run cost in SSH
//! connections and Docker API calls, as `debug:` lines on stderr.

use std::time::{Duration, Instant};

use crate::report::RoundTripCount;

/// The steps one host went through, each with the moment it started.
#[derive(Debug, Clone, Default)]
pub struct StepTimeline {
    steps: Vec<(String, Instant)>,
}

impl StepTimeline {
    pub fn start(&mut self, step: &str, at: Instant) {
        self.steps.push((step.to_string(), at));
    }

    /// Each step with how long it lasted: until the next began, the last until `end`.
    pub fn durations(&self, end: Instant) -> Vec<(&str, Duration)> {
        self.steps
            .iter()
            .enumerate()
            .map(|(index, (step, started))| {
                let until = self.steps.get(index + 1).map_or(end, |(_, next)| *next);
                (step.as_str(), until.saturating_duration_since(*started))
            })
            .collect()
    }
}

/// `debug: h1: connecting 41 ms, docker 12 ms, snapshot 9 ms, removing app:1 20 ms; 9 API
/// calls; 12 round trips (connecting 6, docker 2, snapshot 2, removing app:1 1, free space 1)`
pub fn host_line(
    host: &str,
    steps: &[(&str, Duration)],
    api_calls: u64,
    round_trips: Option<&RoundTripCount>,
) -> String {
    let steps: Vec<String> = steps
        .iter()
        .map(|(step, took)| format!("{step} {}", millis(*took)))
        .collect();
    format!(
        "debug: {host}: {}; {api_calls} Docker API call{}{}",
        steps.join(", "),
        if api_calls == 1 { "" } else { "s" },
        round_trips.map_or(String::new(), |count| format!("; {}", count.describe()))
    )
}

/// `debug: run: 8 hosts, 8 SSH connections, 72 Docker API calls (9.0 per host)`
pub fn run_line(hosts: u64, ssh_connections: u64, api_calls: u64) -> String {
    let per_host = if hosts == 0 {
        0.0
    } else {
        api_calls as f64 / hosts as f64
    };
    format!(
        "debug: run: {hosts} hosts, {ssh_connections} SSH connections, {api_calls} Docker API calls \
         ({per_host:.1} per host)"
    )
}

fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_lasts_until_the_next_and_the_last_until_the_end() {
        let t0 = Instant::now();
        let mut timeline = StepTimeline::default();
        timeline.start("connecting", t0);
        timeline.start("docker", t0 + Duration::from_millis(40));
        let durations = timeline.durations(t0 + Duration::from_millis(55));
        assert_eq!(
            durations,
            [
                ("connecting", Duration::from_millis(40)),
                ("docker", Duration::from_millis(15))
            ]
        );
    }

    #[test]
    fn host_line_names_steps_times_and_calls() {
        let line = host_line(
            "h1",
            &[
                ("connecting", Duration::from_millis(41)),
                ("removing app:1", Duration::from_micros(2500)),
            ],
            9,
            Some(&RoundTripCount::new(
                7,
                vec![
                    ("connecting".to_string(), 6),
                    ("removing app:1".to_string(), 1),
                ],
            )),
        );
        assert_eq!(
            line,
            "debug: h1: connecting 41 ms, removing app:1 2.5 ms; 9 Docker API calls; \
             7 round trips (connecting 6, removing app:1 1)"
        );
    }

    #[test]
    fn run_line_gives_calls_per_host() {
        assert_eq!(
            run_line(8, 8, 72),
            "debug: run: 8 hosts, 8 SSH connections, 72 Docker API calls (9.0 per host)"
        );
    }
}
