//! `fleetrmi builder prune`: the build cache each engine pruned, and the table for people.

use super::fleet_report::FleetReport;
use super::format::{bytes, duration};
use super::observed_host::status_word;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

/// One row per host: records deleted and space reclaimed, or why there was nothing to prune.
pub fn render_build_cache_table(report: &FleetReport) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
        "host",
        "status",
        "caches deleted",
        "reclaimed",
        "time",
        "note",
    ]);
    let mut deleted_total = 0;
    for host in &report.hosts {
        let outcome = host.build_cache.clone().unwrap_or_default();
        deleted_total += outcome.caches_deleted;
        let note = match &host.build_cache {
            Some(outcome) if !outcome.supported => "no build cache API".to_string(),
            _ => String::new(),
        };
        table.add_row(vec![
            Cell::new(&host.host),
            Cell::new(status_word(host.status)),
            Cell::new(outcome.caches_deleted).set_alignment(CellAlignment::Right),
            Cell::new(bytes(host.reclaimed_bytes)).set_alignment(CellAlignment::Right),
            Cell::new(duration(host.duration)).set_alignment(CellAlignment::Right),
            Cell::new(note),
        ]);
    }
    table.add_row(vec![
        Cell::new(format!("total ({} hosts)", report.totals.hosts)),
        Cell::new(format!(
            "{} ok, {} not ok",
            report.totals.ok,
            report.totals.hosts - report.totals.ok
        )),
        Cell::new(deleted_total).set_alignment(CellAlignment::Right),
        Cell::new(bytes(report.totals.reclaimed_bytes)).set_alignment(CellAlignment::Right),
        Cell::new(duration(std::time::Duration::from_millis(
            report.totals.duration_ms,
        )))
        .set_alignment(CellAlignment::Right),
        Cell::new(""),
    ]);
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{BuildCacheOutcome, HostReport};

    #[test]
    fn an_engine_without_build_cache_api_is_noted() {
        let mut pruned = HostReport::new("h1", "127.0.0.1");
        pruned.reclaimed_bytes = 307_200;
        pruned.build_cache = Some(BuildCacheOutcome {
            supported: true,
            caches_deleted: 2,
            reclaimed_bytes: 307_200,
            message: None,
        });
        let mut old = HostReport::new("h2", "127.0.0.2");
        old.build_cache = Some(BuildCacheOutcome {
            supported: false,
            message: Some("API 1.38".into()),
            ..BuildCacheOutcome::default()
        });
        let report = FleetReport::with_mode(vec![pruned, old], Default::default(), false);
        let table = render_build_cache_table(&report);
        assert!(table.contains("307.2 kB"), "{table}");
        assert!(table.contains("no build cache API"), "{table}");
    }
}
