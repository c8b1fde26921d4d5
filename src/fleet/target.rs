//! A host as the fleet runner needs it: how to reach it and where its Docker socket is.

use crate::ssh::SshTarget;

#[derive(Debug, Clone)]
pub struct HostTarget {
    /// The inventory name, used in every message and report.
    pub name: String,
    /// The address connected to (after ssh_config's HostName), for reports.
    pub address: String,
    /// Everything the SSH connection needs, resolved (jump hosts included).
    pub ssh: SshTarget,
    pub docker_socket: String,
    /// Reach the daemon through `sudo -n` (inventory `become: true`).
    pub become_root: bool,
}
