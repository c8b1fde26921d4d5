//! `docker system df` of one host, or summed over hosts: per kind of object, how many there
//! are, how many are in use, their size, and what could be reclaimed.

use serde::Serialize;

/// One kind of object on a host (or summed over hosts), as a row of `docker system df`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageCounts {
    pub total: u64,
    pub active: u64,
    pub size_bytes: u64,
    pub reclaimable_bytes: u64,
}

impl UsageCounts {
    pub fn add(&mut self, other: &UsageCounts) {
        self.total += other.total;
        self.active += other.active;
        self.size_bytes += other.size_bytes;
        self.reclaimable_bytes += other.reclaimable_bytes;
    }
}

/// `docker system df` of one host, or summed over hosts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiskUsage {
    pub images: UsageCounts,
    pub containers: UsageCounts,
    pub volumes: UsageCounts,
    pub build_cache: UsageCounts,
}

impl DiskUsage {
    pub fn add(&mut self, other: &DiskUsage) {
        self.images.add(&other.images);
        self.containers.add(&other.containers);
        self.volumes.add(&other.volumes);
        self.build_cache.add(&other.build_cache);
    }

    /// The four kinds with the names `docker system df` gives them.
    pub fn kinds(&self) -> [(&'static str, &UsageCounts); 4] {
        [
            ("Images", &self.images),
            ("Containers", &self.containers),
            ("Local Volumes", &self.volumes),
            ("Build Cache", &self.build_cache),
        ]
    }

    pub fn size_bytes(&self) -> u64 {
        self.kinds().iter().map(|(_, kind)| kind.size_bytes).sum()
    }

    pub fn reclaimable_bytes(&self) -> u64 {
        self.kinds()
            .iter()
            .map(|(_, kind)| kind.reclaimable_bytes)
            .sum()
    }
}
