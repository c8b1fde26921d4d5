//! Open files: every host being worked on holds a TCP socket, so a run with many `--forks` needs
//! more file descriptors than the soft limit many systems start processes with (1024). The soft
//! limit is raised toward the hard limit when, and only as far as, the run needs it.

/// File descriptors the process needs besides its hosts (stdio, the runtime's epoll and
/// wakers, the inventory and known_hosts being read, key files).
const BASE: u64 = 64;
/// Per host in flight: its SSH connection's socket, and a spare for a file it reads
/// (known_hosts, its key) while connecting. Measured: one socket per host (BENCHMARKS.md).
const PER_HOST: u64 = 2;

/// What to do with the soft limit for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitChange {
    /// The soft limit is enough.
    Keep,
    /// Raise the soft limit to this.
    Raise(u64),
    /// Even the hard limit is too low: raise to it, and warn.
    Short { hard: u64, needed: u64 },
}

/// File descriptors a run with this many hosts in flight needs.
pub(crate) fn needed(hosts_in_flight: usize) -> u64 {
    BASE + PER_HOST * hosts_in_flight as u64
}

pub(crate) fn decide(soft: u64, hard: u64, needed: u64) -> LimitChange {
    if soft >= needed {
        LimitChange::Keep
    } else if hard >= needed {
        LimitChange::Raise(needed)
    } else {
        LimitChange::Short { hard, needed }
    }
}

/// Raises the open-files soft limit if `hosts_in_flight` hosts need it; returns a warning when
/// the limit stays too low.
pub(crate) fn ensure_open_files(hosts_in_flight: usize) -> Option<String> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
    let needed = needed(hosts_in_flight);
    let target = match decide(soft, hard, needed) {
        LimitChange::Keep => return None,
        LimitChange::Raise(target) => target,
        LimitChange::Short { hard, .. } => hard,
    };
    let raised = rlimit::Resource::NOFILE.set(target, hard);
    if raised.is_ok() && target >= needed {
        return None;
    }
    let now = rlimit::Resource::NOFILE
        .get()
        .map_or(soft, |(soft, _)| soft);
    Some(format!(
        "the open files limit is {now} and {hosts_in_flight} hosts at once need about {needed}; \
         some hosts may fail with \"Too many open files\"\nhint: raise the hard limit \
         (ulimit -Hn, LimitNOFILE= in a systemd unit) or lower --forks"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_run_keeps_the_usual_soft_limit() {
        assert_eq!(decide(1024, 4096, needed(32)), LimitChange::Keep);
    }

    #[test]
    fn many_hosts_at_once_raise_the_soft_limit_as_far_as_needed() {
        assert_eq!(
            decide(1024, 524_288, needed(1000)),
            LimitChange::Raise(2064)
        );
    }

    #[test]
    fn a_hard_limit_too_low_is_reported() {
        assert_eq!(
            decide(256, 1024, needed(1000)),
            LimitChange::Short {
                hard: 1024,
                needed: 2064
            }
        );
    }
}
