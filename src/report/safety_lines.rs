//! The lines under `rmi`'s table that say what `--backup` and `--stop-containers` did (or, in
//! a dry run, would do) on each host: every archive and every container touched.

use super::fleet_report::FleetReport;
use super::format::bytes;
use crate::snapshot::short_id;

/// One line per archive and per container step, in host order; empty when there were none.
pub fn safety_lines(report: &FleetReport) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut archives, mut archive_bytes, mut containers) = (0usize, 0u64, 0usize);
    for host in &report.hosts {
        for result in &host.results {
            if let Some(backup) = &result.backup
                && backup.error.is_none()
            {
                let images = match backup.images.len() {
                    1 => "1 image".to_string(),
                    count => format!("{count} images"),
                };
                let line = match backup.bytes {
                    Some(size) => {
                        archives += 1;
                        archive_bytes += size;
                        format!(
                            "{}: backed up {} ({images}, {}) to {}",
                            host.host,
                            result.image,
                            bytes(size),
                            backup.file.display()
                        )
                    }
                    None => format!(
                        "{}: would back up {} ({images}) to {}",
                        host.host,
                        result.image,
                        backup.file.display()
                    ),
                };
                lines.push(line);
            }
            for container in &result.containers {
                if container.error.is_some() {
                    continue;
                }
                containers += 1;
                let done = match (report.dry_run, container.action.as_str()) {
                    (true, action) => format!("would {action}"),
                    (false, "stop") => "stopped".to_string(),
                    (false, "remove") => "removed".to_string(),
                    (false, _) => "stopped and removed".to_string(),
                };
                lines.push(format!(
                    "{}: {done} container {} ({}) of image {} before removing {}",
                    host.host,
                    if container.name.is_empty() {
                        "?"
                    } else {
                        &container.name
                    },
                    short_id(&container.id),
                    short_id(&container.image_id),
                    result.image
                ));
            }
        }
    }
    if archives > 0 {
        lines.push(format!(
            "backups: {archives} archive{} ({}) written",
            if archives == 1 { "" } else { "s" },
            bytes(archive_bytes)
        ));
    }
    if containers > 0 && !report.dry_run {
        lines.push(format!(
            "containers: {containers} stopped or removed; no other container was touched"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{BackupOutcome, ContainerOutcome, HostReport, ImageResult};

    #[test]
    fn each_archive_and_container_gets_a_line() {
        let mut host = HostReport::new("h1", "127.0.0.1");
        host.results.push(ImageResult {
            image: "run:1".into(),
            backup: Some(BackupOutcome {
                file: "/b/h1/abc.tar".into(),
                images: vec!["sha256:abc".into()],
                bytes: Some(2_000_000),
                ..BackupOutcome::default()
            }),
            containers: vec![ContainerOutcome {
                id: "0123456789abcdef".into(),
                name: "running-1".into(),
                image_id: "sha256:abcdef0123456789".into(),
                action: "stop+remove".into(),
                error: None,
            }],
            ..ImageResult::default()
        });
        let report = FleetReport::with_mode(vec![host], Default::default(), false);
        let lines = safety_lines(&report);
        assert_eq!(
            lines,
            [
                "h1: backed up run:1 (1 image, 2.0 MB) to /b/h1/abc.tar",
                "h1: stopped and removed container running-1 (0123456789ab) of image abcdef012345 before removing run:1",
                "backups: 1 archive (2.0 MB) written",
                "containers: 1 stopped or removed; no other container was touched",
            ]
        );
    }
}
