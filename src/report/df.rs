//! `fleetrmi df`: `docker system df` of every host and of the fleet, with the free space of the
//! filesystem holding each Docker root, hosts that most need attention first.

use std::cmp::Ordering;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use serde::Serialize;

use super::format::{bytes, duration};
use super::host_report::HostStatus;
use super::observed_host::{ObservedHost, StatusCounts, status_word};
use crate::data::{DiskUsage, UsageCounts};
use crate::data::{EngineKind, FilesystemSpace};

/// One host's disk usage.
#[derive(Debug, Clone, Serialize)]
pub struct DfHost {
    #[serde(flatten)]
    pub outcome: ObservedHost,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_root_dir: Option<String>,
    /// images, containers, volumes, build_cache: each `{total, active, size_bytes, reclaimable_bytes}`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub usage: Option<DiskUsage>,
    /// The four kinds' reclaimable bytes added up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaimable_bytes: Option<u64>,
    /// The filesystem holding the Docker root (absent when it could not be read; see warnings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemSpace>,
}

impl DfHost {
    pub fn new(outcome: ObservedHost) -> DfHost {
        DfHost {
            outcome,
            docker_root_dir: None,
            usage: None,
            reclaimable_bytes: None,
            filesystem: None,
        }
    }

    pub fn set_usage(&mut self, usage: DiskUsage) {
        self.reclaimable_bytes = Some(usage.reclaimable_bytes());
        self.usage = Some(usage);
    }
}

/// The whole `df` run.
#[derive(Debug, Clone, Serialize)]
pub struct DfReport {
    /// Hosts that most need attention first (see [`attention_order`]).
    pub hosts: Vec<DfHost>,
    pub totals: DfTotals,
}

#[derive(Debug, Clone, Serialize)]
pub struct DfTotals {
    #[serde(flatten)]
    pub counts: StatusCounts,
    /// Sums over the hosts reached.
    #[serde(flatten)]
    pub usage: DiskUsage,
    pub reclaimable_bytes: u64,
    /// Sums over the hosts whose filesystem was read. Hosts sharing one filesystem count it
    /// once each.
    pub filesystem: FilesystemTotals,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct FilesystemTotals {
    pub hosts: usize,
    pub free_bytes: u64,
    pub total_bytes: u64,
}

impl DfReport {
    pub fn new(mut hosts: Vec<DfHost>, elapsed: std::time::Duration) -> DfReport {
        attention_order(&mut hosts);
        let counts = StatusCounts::count(hosts.iter().map(|host| &host.outcome));
        let mut usage = DiskUsage::default();
        let mut filesystem = FilesystemTotals::default();
        for host in &hosts {
            if let Some(host_usage) = &host.usage {
                usage.add(host_usage);
            }
            if let Some(space) = &host.filesystem {
                filesystem.hosts += 1;
                filesystem.free_bytes += space.free_bytes;
                filesystem.total_bytes += space.total_bytes;
            }
        }
        DfReport {
            hosts,
            totals: DfTotals {
                counts,
                reclaimable_bytes: usage.reclaimable_bytes(),
                usage,
                filesystem,
                duration_ms: elapsed.as_millis() as u64,
            },
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.totals.counts.exit_code()
    }

    /// A row per host and a totals row, then the fleet's sums by kind as `docker system df`
    /// prints them.
    pub fn render_table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header([
            "host",
            "engine",
            "status",
            "images",
            "containers",
            "volumes",
            "build cache",
            "reclaimable",
            "disk free / size",
            "time",
        ]);
        for host in &self.hosts {
            let mut row = vec![
                Cell::new(&host.outcome.host),
                Cell::new(host.outcome.engine_kind.map_or("—", EngineKind::name)),
                Cell::new(status_word(host.outcome.status)),
            ];
            match &host.usage {
                Some(usage) => row.extend(usage_cells(usage)),
                None => row.extend((0..5).map(|_| Cell::new("—"))),
            }
            row.push(right(
                host.filesystem
                    .as_ref()
                    .map_or_else(|| "—".to_string(), space_text),
            ));
            row.push(right(duration(host.outcome.duration)));
            table.add_row(row);
        }
        let totals = &self.totals;
        let mut row = vec![
            Cell::new(format!("total ({} hosts)", totals.counts.hosts)),
            Cell::new(""),
            Cell::new(totals.counts.summary()),
        ];
        row.extend(usage_cells(&totals.usage));
        row.push(right(if totals.filesystem.hosts == 0 {
            "—".to_string()
        } else {
            space_text(&FilesystemSpace {
                free_bytes: totals.filesystem.free_bytes,
                total_bytes: totals.filesystem.total_bytes,
            })
        }));
        row.push(right(duration(std::time::Duration::from_millis(
            totals.duration_ms,
        ))));
        table.add_row(row);

        let mut kinds = Table::new();
        kinds.load_preset(UTF8_FULL_CONDENSED);
        kinds.set_header(["type", "total", "active", "size", "reclaimable"]);
        for (name, counts) in totals.usage.kinds() {
            kinds.add_row(vec![
                Cell::new(name),
                right(counts.total.to_string()),
                right(counts.active.to_string()),
                right(bytes(counts.size_bytes)),
                right(reclaimable_text(
                    counts.reclaimable_bytes,
                    counts.size_bytes,
                )),
            ]);
        }
        format!(
            "{table}\n\nFleet total over the {} hosts reached:\n{kinds}",
            totals.counts.ok
        )
    }
}

/// Hosts that could not be looked at first (unreachable, then failed), then the fullest
/// filesystems (least free space in proportion), then the most reclaimable bytes, then by name.
pub fn attention_order(hosts: &mut [DfHost]) {
    hosts.sort_by(|a, b| {
        status_rank(a.outcome.status)
            .cmp(&status_rank(b.outcome.status))
            .then_with(|| compare_free_fraction(a.filesystem, b.filesystem))
            .then_with(|| b.reclaimable_bytes.cmp(&a.reclaimable_bytes))
            .then_with(|| a.outcome.host.cmp(&b.outcome.host))
    });
}

fn status_rank(status: HostStatus) -> u8 {
    match status {
        HostStatus::Unreachable => 0,
        HostStatus::Failed | HostStatus::Interrupted | HostStatus::Skipped => 1,
        HostStatus::Partial | HostStatus::Ok => 2,
    }
}

/// Less free space in proportion first; hosts without a reading after those with one.
fn compare_free_fraction(a: Option<FilesystemSpace>, b: Option<FilesystemSpace>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            // a.free / a.total vs b.free / b.total, without floating point.
            let left = u128::from(a.free_bytes) * u128::from(b.total_bytes.max(1));
            let right = u128::from(b.free_bytes) * u128::from(a.total_bytes.max(1));
            left.cmp(&right)
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn usage_cells(usage: &DiskUsage) -> Vec<Cell> {
    let mut cells: Vec<Cell> = usage
        .kinds()
        .iter()
        .map(|(_, counts)| right(kind_text(counts)))
        .collect();
    cells.push(right(reclaimable_text(
        usage.reclaimable_bytes(),
        usage.size_bytes(),
    )));
    cells
}

/// `5.1 MB (15, 2 active)`.
fn kind_text(counts: &UsageCounts) -> String {
    format!(
        "{} ({}, {} active)",
        bytes(counts.size_bytes),
        counts.total,
        counts.active
    )
}

/// `5.0 MB (97%)`, the percentage truncated as the Docker CLI does; no percentage of nothing.
fn reclaimable_text(reclaimable: u64, size: u64) -> String {
    if size == 0 {
        bytes(reclaimable)
    } else {
        format!(
            "{} ({}%)",
            bytes(reclaimable),
            u128::from(reclaimable) * 100 / u128::from(size)
        )
    }
}

/// `77.6 GB / 270.6 GB (28%)`: free, size, and free in proportion.
fn space_text(space: &FilesystemSpace) -> String {
    let percent = if space.total_bytes == 0 {
        0
    } else {
        u128::from(space.free_bytes) * 100 / u128::from(space.total_bytes)
    };
    format!(
        "{} / {} ({percent}%)",
        bytes(space.free_bytes),
        bytes(space.total_bytes)
    )
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Step;

    fn reached(name: &str, free: u64, total: u64, reclaimable: u64) -> DfHost {
        let mut host = DfHost::new(ObservedHost::new(name, "127.0.0.1"));
        host.set_usage(DiskUsage {
            images: UsageCounts {
                total: 3,
                active: 1,
                size_bytes: 1_000,
                reclaimable_bytes: reclaimable,
            },
            ..DiskUsage::default()
        });
        host.filesystem = Some(FilesystemSpace {
            free_bytes: free,
            total_bytes: total,
        });
        host
    }

    fn names(report: &DfReport) -> Vec<&str> {
        report
            .hosts
            .iter()
            .map(|host| host.outcome.host.as_str())
            .collect()
    }

    #[test]
    fn unreachable_then_failed_then_fullest_disk_first() {
        let mut down = DfHost::new(ObservedHost::new("down", "127.0.0.9"));
        down.outcome.fail(Step::Connect, "refused".into());
        let mut broken = DfHost::new(ObservedHost::new("broken", "127.0.0.8"));
        broken.outcome.fail(Step::DiskUsage, "lost".into());
        let report = DfReport::new(
            vec![
                reached("roomy", 90, 100, 500),
                broken,
                reached("full", 5, 100, 10),
                down,
                reached("half", 500, 1_000, 10),
            ],
            Default::default(),
        );
        assert_eq!(
            names(&report),
            vec!["down", "broken", "full", "half", "roomy"]
        );
        assert_eq!(
            report.exit_code(),
            crate::report::exit_code::HOST_UNREACHABLE
        );
    }

    #[test]
    fn equal_free_space_puts_more_reclaimable_first() {
        let report = DfReport::new(
            vec![reached("a", 50, 100, 10), reached("b", 50, 100, 900)],
            Default::default(),
        );
        assert_eq!(names(&report), vec!["b", "a"]);
    }

    #[test]
    fn host_without_free_space_reading_goes_after_those_with_one() {
        let mut unknown = reached("unknown", 0, 0, 10_000);
        unknown.filesystem = None;
        let report = DfReport::new(
            vec![unknown, reached("known", 99, 100, 0)],
            Default::default(),
        );
        assert_eq!(names(&report), vec!["known", "unknown"]);
    }

    #[test]
    fn totals_sum_reached_hosts_and_filesystems() {
        let mut down = DfHost::new(ObservedHost::new("down", "127.0.0.9"));
        down.outcome.fail(Step::Connect, "refused".into());
        let report = DfReport::new(
            vec![reached("a", 10, 100, 300), reached("b", 20, 100, 200), down],
            Default::default(),
        );
        let totals = &report.totals;
        assert_eq!(totals.usage.images.total, 6);
        assert_eq!(totals.usage.images.size_bytes, 2_000);
        assert_eq!(totals.reclaimable_bytes, 500);
        assert_eq!(totals.filesystem.hosts, 2);
        assert_eq!(totals.filesystem.free_bytes, 30);
        assert_eq!(totals.counts.unreachable, 1);
    }

    #[test]
    fn json_has_kinds_per_host_and_nothing_for_unreachable_ones() {
        let mut down = DfHost::new(ObservedHost::new("down", "127.0.0.9"));
        down.outcome.fail(Step::Connect, "refused".into());
        let report = DfReport::new(vec![reached("a", 10, 100, 300), down], Default::default());
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["hosts"][0]["host"], "down");
        assert!(json["hosts"][0].get("images").is_none());
        assert_eq!(json["hosts"][1]["images"]["reclaimable_bytes"], 300);
        assert_eq!(json["hosts"][1]["reclaimable_bytes"], 300);
        assert_eq!(json["hosts"][1]["filesystem"]["free_bytes"], 10);
        assert_eq!(json["totals"]["images"]["total"], 3);
        assert_eq!(json["totals"]["unreachable"], 1);
    }

    #[test]
    fn reclaimable_percentage_is_truncated_like_the_cli() {
        assert_eq!(reclaimable_text(5_003_112, 5_115_752), "5.0 MB (97%)");
        assert_eq!(reclaimable_text(0, 0), "0 B");
    }

    #[test]
    fn table_has_a_row_per_host_and_the_kinds_of_the_fleet() {
        let mut podman = reached("a", 10, 100, 300);
        podman.outcome.engine_kind = Some(EngineKind::Podman);
        let report = DfReport::new(vec![podman], Default::default());
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["hosts"][0]["engine_kind"], "podman");
        let table = report.render_table();
        assert!(table.contains("podman"), "{table}");
        assert!(table.contains("total (1 hosts)"), "{table}");
        assert!(table.contains("Local Volumes"), "{table}");
        assert!(table.contains("10 B / 100 B (10%)"), "{table}");
    }
}
