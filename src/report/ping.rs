//! `fleetrmi ping`: per host, whether it could be reached, how, and what engine answers there.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use serde::Serialize;

use super::format::duration;
use super::observed_host::{ObservedHost, StatusCounts, status_word};
use crate::data::{DaemonVersion, EngineInfo};

/// One host's answer to `ping`.
#[derive(Debug, Clone, Serialize)]
pub struct PingHost {
    #[serde(flatten)]
    pub outcome: ObservedHost,
    /// How SSH authenticated, e.g. `publickey (/root/.ssh/id_ed25519)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// The negotiated API version and the engine's storage, as read at connect time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineInfo>,
    /// The daemon's API range and platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon: Option<DaemonVersion>,
    /// SSH connection, key exchange, authentication and API negotiation, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    /// One `GET /_ping` on the open connection, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_us: Option<u64>,
}

impl PingHost {
    pub fn new(outcome: ObservedHost) -> PingHost {
        PingHost {
            outcome,
            auth_method: None,
            engine: None,
            daemon: None,
            connect_ms: None,
            ping_us: None,
        }
    }
}

/// The whole `ping` run.
#[derive(Debug, Clone, Serialize)]
pub struct PingReport {
    pub hosts: Vec<PingHost>,
    pub totals: PingTotals,
}

#[derive(Debug, Clone, Serialize)]
pub struct PingTotals {
    #[serde(flatten)]
    pub counts: StatusCounts,
    pub duration_ms: u64,
}

impl PingReport {
    pub fn new(hosts: Vec<PingHost>, elapsed: std::time::Duration) -> PingReport {
        let counts = StatusCounts::count(hosts.iter().map(|host| &host.outcome));
        PingReport {
            hosts,
            totals: PingTotals {
                counts,
                duration_ms: elapsed.as_millis() as u64,
            },
        }
    }

    /// 4 when some host is unreachable, 3 when one broke after connecting, else 0.
    pub fn exit_code(&self) -> i32 {
        self.totals.counts.exit_code()
    }

    pub fn render_table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header([
            "host",
            "status",
            "auth",
            "api",
            "engine",
            "storage",
            "docker root",
            "time",
        ]);
        for host in &self.hosts {
            let engine = host.engine.as_ref();
            let text = |value: Option<String>| value.unwrap_or_else(|| "—".to_string());
            table.add_row(vec![
                Cell::new(&host.outcome.host),
                Cell::new(status_word(host.outcome.status)),
                Cell::new(text(host.auth_method.clone())),
                Cell::new(text(
                    engine.map(|engine| api_text(engine, host.daemon.as_ref())),
                )),
                Cell::new(text(engine.map(product_text))),
                Cell::new(text(engine.map(storage_text))),
                Cell::new(text(engine.map(|engine| engine.docker_root_dir.clone()))),
                Cell::new(duration(host.outcome.duration)).set_alignment(CellAlignment::Right),
            ]);
        }
        table.add_row(vec![
            Cell::new(format!("total ({} hosts)", self.totals.counts.hosts)),
            Cell::new(self.totals.counts.summary()),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(duration(std::time::Duration::from_millis(
                self.totals.duration_ms,
            )))
            .set_alignment(CellAlignment::Right),
        ]);
        table.to_string()
    }
}

/// `1.41`, or `1.47 (daemon 1.52)` when the run speaks an older version than the daemon's newest.
fn api_text(engine: &EngineInfo, daemon: Option<&DaemonVersion>) -> String {
    match daemon {
        Some(daemon) if daemon.max_api_version != engine.api_version => {
            format!("{} (daemon {})", engine.api_version, daemon.max_api_version)
        }
        _ => engine.api_version.clone(),
    }
}

/// `Docker 26.1.5+dfsg1`, `Podman 4.3.1`.
fn product_text(engine: &EngineInfo) -> String {
    format!("{} {}", engine.product.name(), engine.server_version)
        .trim_end()
        .to_string()
}

fn storage_text(engine: &EngineInfo) -> String {
    if engine.containerd_store {
        format!("{} (containerd store)", engine.storage_driver)
    } else {
        engine.storage_driver.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Step;

    fn engine(api: &str, containerd_store: bool) -> EngineInfo {
        EngineInfo {
            product: crate::data::Product::Docker,
            kind: crate::data::EngineKind::detect(crate::data::Product::Docker, containerd_store),
            api_version: api.into(),
            server_version: "20.10.24+dfsg1".into(),
            docker_root_dir: "/var/lib/docker".into(),
            storage_driver: "overlay2".into(),
            containerd_store,
            transport: "socket".into(),
        }
    }

    fn reached(name: &str) -> PingHost {
        let mut host = PingHost::new(ObservedHost::new(name, "127.0.0.1"));
        host.auth_method = Some("publickey (agent)".into());
        host.engine = Some(engine("1.41", false));
        host
    }

    #[test]
    fn one_unreachable_host_exits_four() {
        let mut down = PingHost::new(ObservedHost::new("b", "127.0.0.2"));
        down.outcome
            .fail(Step::Connect, "connection refused".into());
        let report = PingReport::new(vec![reached("a"), down], Default::default());
        assert_eq!(
            report.exit_code(),
            crate::report::exit_code::HOST_UNREACHABLE
        );
        assert_eq!(report.totals.counts.unreachable, 1);
    }

    #[test]
    fn all_reached_exits_zero_and_table_lists_each_host() {
        let report = PingReport::new(vec![reached("a"), reached("b")], Default::default());
        assert_eq!(report.exit_code(), crate::report::exit_code::SUCCESS);
        let table = report.render_table();
        assert!(table.contains("publickey (agent)"), "{table}");
        assert!(table.contains("Docker 20.10.24+dfsg1"), "{table}");
        assert!(table.contains("total (2 hosts)"), "{table}");
    }

    #[test]
    fn api_shows_daemon_newest_only_when_it_differs() {
        let daemon = DaemonVersion {
            max_api_version: "1.52".into(),
            ..DaemonVersion::default()
        };
        assert_eq!(
            api_text(&engine("1.47", false), Some(&daemon)),
            "1.47 (daemon 1.52)"
        );
        assert_eq!(api_text(&engine("1.41", false), None), "1.41");
    }

    #[test]
    fn containerd_store_is_named() {
        assert_eq!(
            storage_text(&engine("1.47", true)),
            "overlay2 (containerd store)"
        );
    }

    #[test]
    fn json_has_flat_host_fields_and_totals() {
        let report = PingReport::new(vec![reached("a")], Default::default());
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["hosts"][0]["host"], "a");
        assert_eq!(json["hosts"][0]["status"], "ok");
        assert_eq!(json["hosts"][0]["engine"]["api_version"], "1.41");
        assert_eq!(json["hosts"][0]["engine"]["product"], "docker");
        assert_eq!(json["hosts"][0]["engine"]["kind"], "docker-classic");
        assert_eq!(json["totals"]["ok"], 1);
    }
}
