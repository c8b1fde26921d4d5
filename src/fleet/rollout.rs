//! How hosts are rolled through: a canary first, then batches (`--serial`, Ansible's semantics),
//! and when to stop starting hosts (`--max-fail-percentage`, `--stop-on-error`).

use std::fmt;
use std::str::FromStr;

/// One `--serial` entry: a number of hosts or a percentage of all selected hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchSize {
    Hosts(usize),
    Percent(f64),
}

impl FromStr for BatchSize {
    type Err = String;

    fn from_str(text: &str) -> Result<BatchSize, String> {
        let text = text.trim();
        if let Some(percent) = text.strip_suffix('%') {
            let value: f64 = percent
                .trim()
                .parse()
                .map_err(|_| format!("{text:?} is not a percentage (example: 25%)"))?;
            if !(value > 0.0 && value <= 100.0) {
                return Err(format!(
                    "{text:?}: a percentage must be above 0 and at most 100"
                ));
            }
            return Ok(BatchSize::Percent(value));
        }
        match text.parse::<usize>() {
            Ok(0) | Err(_) => Err(format!(
                "{text:?} is not a batch size (a whole number above 0, or a percentage like 25%)"
            )),
            Ok(hosts) => Ok(BatchSize::Hosts(hosts)),
        }
    }
}

impl fmt::Display for BatchSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchSize::Hosts(hosts) => write!(f, "{hosts}"),
            BatchSize::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

impl BatchSize {
    /// Hosts in a batch of this size out of `total`; a percentage rounds down, but never to 0.
    fn hosts_of(self, total: usize) -> usize {
        match self {
            BatchSize::Hosts(hosts) => hosts,
            BatchSize::Percent(percent) => ((total as f64 * percent / 100.0) as usize).max(1),
        }
    }
}

/// The rollout settings of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollout {
    /// Batch sizes in order; the last one repeats. Empty: all hosts in one batch.
    pub serial: Vec<BatchSize>,
    /// Hosts run alone first; if any of them fails, no other host starts.
    pub canary: usize,
    /// Stop starting hosts once more than this share of all hosts failed or was unreachable.
    pub max_fail_percentage: Option<f64>,
    /// Stop starting hosts after the first failure.
    pub stop_on_error: bool,
}

impl Rollout {
    /// The sizes of the batches for `total` hosts, in order, summing to `total`.
    pub fn batches(&self, total: usize) -> Vec<usize> {
        let mut batches = Vec::new();
        let mut remaining = total;
        let canary = self.canary.min(remaining);
        if canary > 0 {
            batches.push(canary);
            remaining -= canary;
        }
        if self.serial.is_empty() {
            if remaining > 0 {
                batches.push(remaining);
            }
            return batches;
        }
        let mut sizes = self.serial.iter();
        let mut current = self.serial[0];
        while remaining > 0 {
            if let Some(next) = sizes.next() {
                current = *next;
            }
            let size = current.hosts_of(total).min(remaining);
            batches.push(size);
            remaining -= size;
        }
        batches
    }

    /// Whether to stop starting hosts, given how many of `total` have failed so far.
    pub fn should_stop(&self, failed: usize, total: usize) -> bool {
        if failed == 0 {
            return false;
        }
        if self.stop_on_error {
            return true;
        }
        match self.max_fail_percentage {
            Some(limit) => (failed as f64) * 100.0 / (total.max(1) as f64) > limit,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(serial: &[&str], canary: usize) -> Rollout {
        Rollout {
            serial: serial.iter().map(|s| s.parse().expect("size")).collect(),
            canary,
            ..Rollout::default()
        }
    }

    #[test]
    fn no_serial_is_one_batch() {
        assert_eq!(rollout(&[], 0).batches(5), vec![5]);
        assert_eq!(rollout(&[], 0).batches(0), Vec::<usize>::new());
    }

    #[test]
    fn last_serial_size_repeats_like_ansible() {
        assert_eq!(rollout(&["1", "2"], 0).batches(7), vec![1, 2, 2, 2]);
    }

    #[test]
    fn percentages_are_of_all_hosts_and_never_zero() {
        assert_eq!(rollout(&["30%"], 0).batches(10), vec![3, 3, 3, 1]);
        assert_eq!(rollout(&["10%"], 0).batches(3), vec![1, 1, 1]);
    }

    #[test]
    fn canary_runs_alone_first() {
        assert_eq!(rollout(&[], 1).batches(4), vec![1, 3]);
        assert_eq!(rollout(&["2"], 1).batches(6), vec![1, 2, 2, 1]);
        assert_eq!(rollout(&[], 9).batches(2), vec![2]);
    }

    #[test]
    fn bad_batch_sizes_are_explained() {
        assert!("0".parse::<BatchSize>().is_err());
        assert!("abc".parse::<BatchSize>().is_err());
        assert!("150%".parse::<BatchSize>().is_err());
        assert_eq!("25%".parse::<BatchSize>(), Ok(BatchSize::Percent(25.0)));
    }

    #[test]
    fn max_fail_percentage_is_exceeded_not_reached() {
        let settings = Rollout {
            max_fail_percentage: Some(25.0),
            ..Rollout::default()
        };
        assert!(!settings.should_stop(1, 4));
        assert!(settings.should_stop(2, 4));
    }

    #[test]
    fn stop_on_error_stops_at_first_failure() {
        let settings = Rollout {
            stop_on_error: true,
            ..Rollout::default()
        };
        assert!(!settings.should_stop(0, 4));
        assert!(settings.should_stop(1, 4));
    }
}
