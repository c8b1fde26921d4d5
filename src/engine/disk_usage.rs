//! `GET /system/df`, summed up the way `docker system df` (CLI 20.10–28) sums it: per kind of
//! object, how many there are, how many are in use, their size, and what could be reclaimed.
//!
//! How each number is computed (the CLI's rules, reproduced so the two answers agree):
//! - images: total = top-level images listed; active = those with containers (`Containers` > 0);
//!   size = `LayersSize` (every layer some image uses, counted once); reclaimable = `LayersSize`
//!   − Σ (`Size` − `SharedSize`) over images with containers, i.e. everything except the bytes
//!   that only images in use hold. It is an estimate: layers that images in use share with each
//!   other or with unused images count as reclaimable.
//! - containers: total; active = running, paused or restarting; size = Σ `SizeRw` (writable
//!   layers); reclaimable = Σ `SizeRw` of the others.
//! - volumes: total; active = `RefCount` > 0; size = Σ `UsageData.Size` (−1, unknown, skipped);
//!   reclaimable = size of the volumes no container refers to.
//! - build cache: total records; active = `InUse`; size = Σ `Size` of records not `Shared`;
//!   reclaimable = size − Σ `Size` of records in use and not shared.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Engine, EngineError};
use crate::data::{DiskUsage, UsageCounts};

/// How long to keep retrying while another disk usage computation runs on the host.
const BUSY_RETRY_FOR: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// `/system/df` at API 1.41–1.51 (the fields the sums need).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SystemDf {
    #[serde(rename = "LayersSize", default)]
    layers_size: i64,
    #[serde(rename = "Images", default)]
    images: Option<Vec<DfImage>>,
    #[serde(rename = "Containers", default)]
    containers: Option<Vec<DfContainer>>,
    #[serde(rename = "Volumes", default)]
    volumes: Option<Vec<DfVolume>>,
    #[serde(rename = "BuildCache", default)]
    build_cache: Option<Vec<DfBuildCache>>,
}

#[derive(Debug, Default, Deserialize)]
struct DfImage {
    #[serde(rename = "Containers", default)]
    containers: i64,
    #[serde(rename = "Size", default)]
    size: i64,
    #[serde(rename = "SharedSize", default)]
    shared_size: i64,
}

#[derive(Debug, Default, Deserialize)]
struct DfContainer {
    /// Absent when zero.
    #[serde(rename = "SizeRw", default)]
    size_rw: i64,
    #[serde(rename = "State", default)]
    state: String,
}

#[derive(Debug, Default, Deserialize)]
struct DfVolume {
    #[serde(rename = "UsageData", default)]
    usage_data: Option<VolumeUsage>,
}

#[derive(Debug, Default, Deserialize)]
struct VolumeUsage {
    #[serde(rename = "Size", default)]
    size: i64,
    #[serde(rename = "RefCount", default)]
    ref_count: i64,
}

#[derive(Debug, Default, Deserialize)]
struct DfBuildCache {
    #[serde(rename = "Size", default)]
    size: i64,
    #[serde(rename = "InUse", default)]
    in_use: bool,
    #[serde(rename = "Shared", default)]
    shared: bool,
}

impl Engine {
    /// `GET /system/df`, retried while the engine says another disk usage computation runs
    /// (dockerd 20.10 answers a concurrent call with 500 instead of waiting).
    pub async fn disk_usage(&self) -> Result<DiskUsage, EngineError> {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self
                .raw
                .get_json::<SystemDf>("read disk usage", "/system/df")
                .await
            {
                Ok(df) => return Ok(summarize(&df)),
                Err(error) if is_busy(&error) && started.elapsed() < BUSY_RETRY_FOR => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// The engine's answer while another `/system/df` runs.
fn is_busy(error: &EngineError) -> bool {
    matches!(error, EngineError::Api { status: 500, message }
        if message.contains("disk usage operation is already running"))
}

fn bytes(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The CLI's sums (see the module comment).
pub(crate) fn summarize(df: &SystemDf) -> DiskUsage {
    let images = df.images.as_deref().unwrap_or_default();
    let layers_size = bytes(df.layers_size);
    let used_by_active: i64 = images
        .iter()
        .filter(|image| image.containers != 0 && image.size != -1 && image.shared_size != -1)
        .map(|image| image.size - image.shared_size)
        .sum();
    let image_counts = UsageCounts {
        total: images.len() as u64,
        active: images.iter().filter(|image| image.containers > 0).count() as u64,
        size_bytes: layers_size,
        reclaimable_bytes: bytes(df.layers_size - used_by_active),
    };

    let containers = df.containers.as_deref().unwrap_or_default();
    let mut container_counts = UsageCounts {
        total: containers.len() as u64,
        ..UsageCounts::default()
    };
    for container in containers {
        let size = bytes(container.size_rw);
        container_counts.size_bytes += size;
        if matches!(
            container.state.as_str(),
            "running" | "paused" | "restarting"
        ) {
            container_counts.active += 1;
        } else {
            container_counts.reclaimable_bytes += size;
        }
    }

    let volumes = df.volumes.as_deref().unwrap_or_default();
    let mut volume_counts = UsageCounts {
        total: volumes.len() as u64,
        ..UsageCounts::default()
    };
    for usage in volumes
        .iter()
        .filter_map(|volume| volume.usage_data.as_ref())
    {
        if usage.ref_count > 0 {
            volume_counts.active += 1;
        }
        if usage.size != -1 {
            volume_counts.size_bytes += bytes(usage.size);
            if usage.ref_count <= 0 {
                volume_counts.reclaimable_bytes += bytes(usage.size);
            }
        }
    }

    let records = df.build_cache.as_deref().unwrap_or_default();
    let mut cache_counts = UsageCounts {
        total: records.len() as u64,
        ..UsageCounts::default()
    };
    let mut cache_in_use = 0;
    for record in records {
        if record.in_use {
            cache_counts.active += 1;
        }
        if !record.shared {
            cache_counts.size_bytes += bytes(record.size);
            if record.in_use {
                cache_in_use += bytes(record.size);
            }
        }
    }
    cache_counts.reclaimable_bytes = cache_counts.size_bytes.saturating_sub(cache_in_use);

    DiskUsage {
        images: image_counts,
        containers: container_counts,
        volumes: volume_counts,
        build_cache: cache_counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df(json: &str) -> SystemDf {
        serde_json::from_str(json).expect("valid /system/df")
    }

    #[test]
    fn images_reclaimable_excludes_only_bytes_held_by_images_in_use() {
        // The lab's seed: 5115752 bytes of layers; run:1 and stopped:1 each add one layer
        // (51200, 61440) on the 1982312-byte base that every image shares.
        let usage = summarize(&df(r#"{
            "LayersSize": 5115752,
            "Images": [
                {"Containers": 1, "Size": 2033512, "SharedSize": 1982312},
                {"Containers": 1, "Size": 2043752, "SharedSize": 1982312},
                {"Containers": 0, "Size": 2207592, "SharedSize": 1982312}
            ],
            "Containers": [], "Volumes": [], "BuildCache": null, "BuilderSize": 0
        }"#));
        assert_eq!(
            usage.images,
            UsageCounts {
                total: 3,
                active: 2,
                size_bytes: 5_115_752,
                reclaimable_bytes: 5_115_752 - 51_200 - 61_440,
            }
        );
    }

    #[test]
    fn unknown_shared_size_is_not_subtracted() {
        let usage = summarize(&df(r#"{"LayersSize": 100,
            "Images": [{"Containers": 2, "Size": 60, "SharedSize": -1}]}"#));
        assert_eq!(usage.images.reclaimable_bytes, 100);
        assert_eq!(usage.images.active, 1);
    }

    #[test]
    fn stopped_containers_writable_layers_are_reclaimable() {
        let usage = summarize(&df(r#"{"Containers": [
            {"State": "running", "SizeRw": 10},
            {"State": "paused", "SizeRw": 20},
            {"State": "exited", "SizeRw": 300},
            {"State": "created"}
        ]}"#));
        assert_eq!(
            usage.containers,
            UsageCounts {
                total: 4,
                active: 2,
                size_bytes: 330,
                reclaimable_bytes: 300,
            }
        );
    }

    #[test]
    fn unreferenced_volumes_are_reclaimable_and_unknown_sizes_skipped() {
        let usage = summarize(&df(r#"{"Volumes": [
            {"Name": "a", "UsageData": {"Size": 1000, "RefCount": 1}},
            {"Name": "b", "UsageData": {"Size": 400, "RefCount": 0}},
            {"Name": "c", "UsageData": {"Size": -1, "RefCount": 0}}
        ]}"#));
        assert_eq!(
            usage.volumes,
            UsageCounts {
                total: 3,
                active: 1,
                size_bytes: 1400,
                reclaimable_bytes: 400,
            }
        );
    }

    #[test]
    fn shared_build_cache_counts_neither_in_size_nor_reclaimable() {
        let usage = summarize(&df(r#"{"BuildCache": [
            {"Size": 100, "InUse": true, "Shared": false},
            {"Size": 200, "InUse": false, "Shared": false},
            {"Size": 400, "InUse": false, "Shared": true}
        ], "BuilderSize": 700}"#));
        assert_eq!(
            usage.build_cache,
            UsageCounts {
                total: 3,
                active: 1,
                size_bytes: 300,
                reclaimable_bytes: 200,
            }
        );
    }

    #[test]
    fn empty_engine_has_nothing_to_reclaim() {
        let usage = summarize(&df(
            r#"{"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": null}"#,
        ));
        assert_eq!(usage, DiskUsage::default());
        assert_eq!(usage.reclaimable_bytes(), 0);
    }

    #[test]
    fn only_the_busy_answer_is_retried() {
        let busy = EngineError::Api {
            status: 500,
            message: "a disk usage operation is already running".into(),
        };
        let other = EngineError::Api {
            status: 500,
            message: "something else".into(),
        };
        assert!(is_busy(&busy));
        assert!(!is_busy(&other));
    }

    #[test]
    fn sums_over_hosts_add_every_row() {
        let mut total = DiskUsage::default();
        let host = DiskUsage {
            images: UsageCounts {
                total: 2,
                active: 1,
                size_bytes: 10,
                reclaimable_bytes: 4,
            },
            ..DiskUsage::default()
        };
        total.add(&host);
        total.add(&host);
        assert_eq!(total.images.total, 4);
        assert_eq!(total.reclaimable_bytes(), 8);
        assert_eq!(total.size_bytes(), 20);
    }
}
