//! A host as the fleet runner needs it: how to reach it and where its Docker socket is.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct HostTarget {
    /// The inventory name, used in every message and report.
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<PathBuf>,
    pub docker_socket: String,
    /// Reach the daemon through `sudo -n` (inventory `become: true`).
    pub become_root: bool,
}
