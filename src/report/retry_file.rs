//! `--retry-file FILE`: the hosts a rerun should take, one name per line, for `-l @FILE`.

use super::{FleetReport, HostStatus};

/// Hosts that did not finish: failed, unreachable, interrupted, or never started. Hosts where
/// the engine refused a removal (partial) are left out: running them again changes nothing.
pub fn render_retry_file(report: &FleetReport) -> String {
    report
        .hosts
        .iter()
        .filter(|host| {
            matches!(
                host.status,
                HostStatus::Failed
                    | HostStatus::Unreachable
                    | HostStatus::Interrupted
                    | HostStatus::Skipped
            )
        })
        .map(|host| format!("{}\n", host.host))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{HostReport, Step};

    #[test]
    fn lists_only_hosts_that_did_not_finish() {
        let ok = HostReport::new("ok1", "a");
        let mut down = HostReport::new("down1", "b");
        down.fail(Step::Connect, "refused".into());
        let skipped = HostReport::skipped("later1", "c", "canary failed".into());
        let mut partial = HostReport::new("partial1", "d");
        partial.status = HostStatus::Partial;
        let report = FleetReport::new(vec![ok, down, skipped, partial], Default::default());
        assert_eq!(render_retry_file(&report), "down1\nlater1\n");
    }
}
