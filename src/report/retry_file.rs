//! `--retry-file FILE`: the hosts a rerun should take, one name per line, for `-l @FILE`.

use super::{FleetReport, HostStatus, ObservedHost};

/// Hosts that did not finish: failed, unreachable, interrupted, or never started. Hosts where
/// the engine refused a removal (partial) are left out: running them again changes nothing.
/// Each kind is under a `#` comment line, so unreachable and failed hosts stay apart.
pub fn render_retry_file(report: &FleetReport) -> String {
    retry_file_of(
        report
            .hosts
            .iter()
            .map(|host| (host.host.as_str(), host.status)),
    )
}

/// The retry file of a read-only command (`ping`, `images`, `df`): its failed and unreachable
/// hosts, under the same headings.
pub fn render_observed_retry_file<'a>(hosts: impl IntoIterator<Item = &'a ObservedHost>) -> String {
    retry_file_of(
        hosts
            .into_iter()
            .map(|host| (host.host.as_str(), host.status)),
    )
}

fn retry_file_of<'a>(hosts: impl Iterator<Item = (&'a str, HostStatus)>) -> String {
    let hosts: Vec<(&str, HostStatus)> = hosts.collect();
    let mut text = String::from("# fleetrmi retry file: rerun these hosts with -l @FILE\n");
    for (status, heading) in [
        (HostStatus::Unreachable, "unreachable"),
        (HostStatus::Failed, "failed"),
        (HostStatus::Interrupted, "interrupted"),
        (HostStatus::Skipped, "not started"),
    ] {
        let named: Vec<&str> = hosts
            .iter()
            .filter(|(_, host_status)| *host_status == status)
            .map(|(name, _)| *name)
            .collect();
        if !named.is_empty() {
            text.push_str(&format!("# {heading}\n"));
            for host in named {
                text.push_str(host);
                text.push('\n');
            }
        }
    }
    text
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
        let report =
            FleetReport::with_mode(vec![ok, down, skipped, partial], Default::default(), false);
        assert_eq!(
            render_retry_file(&report),
            "# fleetrmi retry file: rerun these hosts with -l @FILE\n\
             # unreachable\ndown1\n# not started\nlater1\n"
        );
    }
}
