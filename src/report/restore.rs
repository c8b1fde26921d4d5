//! `fleetrmi restore`: what came back from each saved archive, and the table for people.

use super::fleet_report::FleetReport;
use super::format::{bytes, duration};
use super::observed_host::status_word;
use super::restore_outcome::RestoreStatus;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

/// One row per host: archives restored, already present and failed, images, tags, bytes.
pub fn render_restore_table(report: &FleetReport) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
        "host", "status", "restored", "present", "failed", "images", "tags", "loaded", "time",
    ]);
    let mut sums = [0usize; 5];
    let mut loaded_total = 0;
    for host in &report.hosts {
        let count = |status: RestoreStatus| {
            host.restored
                .iter()
                .filter(|archive| archive.status == status)
                .count()
        };
        let back = host.restored.iter().filter(|archive| {
            matches!(
                archive.status,
                RestoreStatus::Restored | RestoreStatus::AlreadyPresent
            )
        });
        let row = [
            count(RestoreStatus::Restored),
            count(RestoreStatus::AlreadyPresent),
            count(RestoreStatus::Failed) + count(RestoreStatus::Conflict),
            back.clone().map(|archive| archive.images.len()).sum(),
            back.map(|archive| archive.tags.len()).sum(),
        ];
        let loaded: u64 = host
            .restored
            .iter()
            .map(|archive| archive.loaded_bytes)
            .sum();
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
        loaded_total += loaded;
        let mut cells = vec![Cell::new(&host.host), Cell::new(status_word(host.status))];
        cells.extend(row.iter().map(|value| number(*value)));
        cells.push(Cell::new(bytes(loaded)).set_alignment(CellAlignment::Right));
        cells.push(Cell::new(duration(host.duration)).set_alignment(CellAlignment::Right));
        table.add_row(cells);
    }
    let mut cells = vec![
        Cell::new(format!("total ({} hosts)", report.totals.hosts)),
        Cell::new(format!(
            "{} ok, {} not ok",
            report.totals.ok,
            report.totals.hosts - report.totals.ok
        )),
    ];
    cells.extend(sums.iter().map(|value| number(*value)));
    cells.push(Cell::new(bytes(loaded_total)).set_alignment(CellAlignment::Right));
    cells.push(
        Cell::new(duration(std::time::Duration::from_millis(
            report.totals.duration_ms,
        )))
        .set_alignment(CellAlignment::Right),
    );
    table.add_row(cells);
    table.to_string()
}

/// `error: <host>: restore <file>: <cause>` for every archive that did not come back.
pub fn restore_error_lines(report: &FleetReport) -> Vec<String> {
    report
        .hosts
        .iter()
        .flat_map(|host| {
            host.restored.iter().filter_map(move |archive| {
                archive.error.as_ref().map(|error| {
                    format!(
                        "error: {}: restore {}: {error}",
                        host.host,
                        archive.file.display()
                    )
                })
            })
        })
        .collect()
}

fn number(value: usize) -> Cell {
    Cell::new(value).set_alignment(CellAlignment::Right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{HostReport, RestoredArchive};

    #[test]
    fn table_counts_archives_by_outcome() {
        let mut host = HostReport::new("h1", "127.0.0.1");
        host.restored = vec![
            RestoredArchive {
                file: "a.tar".into(),
                status: RestoreStatus::Restored,
                images: vec!["sha256:a".into(), "sha256:b".into()],
                tags: vec!["chain:1".into()],
                loaded_bytes: 2_000_000,
                error: None,
            },
            RestoredArchive {
                file: "b.tar".into(),
                status: RestoreStatus::Failed,
                images: vec!["sha256:c".into()],
                tags: vec![],
                loaded_bytes: 0,
                error: Some("sha256 mismatch".into()),
            },
        ];
        let report = FleetReport::with_mode(vec![host], Default::default(), false);
        let table = render_restore_table(&report);
        assert!(table.contains("2.0 MB"), "{table}");
        assert_eq!(
            restore_error_lines(&report),
            ["error: h1: restore b.tar: sha256 mismatch"]
        );
    }
}
