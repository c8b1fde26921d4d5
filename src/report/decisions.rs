//! The dry run's decision table: one line per image and host, with what the plan does to it,
//! why, and the bytes its removal frees.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use super::fleet_report::FleetReport;
use super::format::bytes;
use crate::policy::Action;

/// The decisions of every host (removals first, then untags, then keeps, each oldest first),
/// or `None` when no host has any.
pub fn render_decisions(report: &FleetReport) -> Option<String> {
    if report.hosts.iter().all(|host| host.decisions.is_empty()) {
        return None;
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["host", "image", "action", "reason", "would free", "why"]);
    for host in &report.hosts {
        for action in [Action::Remove, Action::Untag, Action::Keep] {
            for decision in host.decisions.iter().filter(|d| d.action == action) {
                table.add_row(vec![
                    Cell::new(&host.host),
                    Cell::new(decision.name()),
                    Cell::new(decision.action.as_str()),
                    Cell::new(decision.reason.as_str()),
                    Cell::new(if action == Action::Keep {
                        String::new()
                    } else {
                        bytes(decision.bytes)
                    })
                    .set_alignment(CellAlignment::Right),
                    Cell::new(&decision.detail),
                ]);
            }
        }
    }
    Some(table.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Decision, Reason};
    use crate::report::HostReport;

    fn decision(name: &str, action: Action, reason: Reason, bytes: u64) -> Decision {
        Decision {
            image: format!("sha256:{}", "a".repeat(64)),
            references: vec![name.to_owned()],
            created: String::new(),
            action,
            reason,
            detail: format!("because of {name}"),
            bytes,
        }
    }

    #[test]
    fn removals_come_first_with_their_bytes() {
        let mut host = HostReport::new("h1", "127.0.0.1");
        host.decisions = vec![
            decision("keep:1", Action::Keep, Reason::KeepLast, 0),
            decision("old:1", Action::Remove, Reason::Selected, 1_500_000),
        ];
        let report = FleetReport::with_mode(vec![host], Default::default(), true);
        let text = render_decisions(&report).expect("a table");
        let old = text.find("old:1").expect("old listed");
        let keep = text.find("keep:1").expect("keep listed");
        assert!(old < keep, "{text}");
        assert!(text.contains("1.5 MB"), "{text}");
        assert!(text.contains("keep-last"), "{text}");
    }

    #[test]
    fn no_decisions_no_table() {
        let report = FleetReport::with_mode(
            vec![HostReport::new("h1", "127.0.0.1")],
            Default::default(),
            true,
        );
        assert!(render_decisions(&report).is_none());
    }
}
