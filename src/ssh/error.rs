//! Why an SSH connection to a host could not be made or used.

use std::path::PathBuf;

/// A failure on the SSH side of a host's run. Each variant is one step that can fail.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot connect to {address}:{port}: {cause}")]
    Connect {
        address: String,
        port: u16,
        cause: String,
    },

    #[error("no answer from {address}:{port} within {seconds} s")]
    ConnectTimeout {
        address: String,
        port: u16,
        seconds: u64,
    },

    #[error(
        "host key for {host_id} is not in {known_hosts} ({fingerprint}){detail}; \
         hint: check the fingerprint out of band, then add the key \
         (ssh-keyscan -p PORT ADDRESS >> known_hosts), or run once with --host-key-checking accept-new"
    )]
    UnknownHostKey {
        host_id: String,
        fingerprint: String,
        known_hosts: String,
        detail: String,
    },

    #[error(
        "HOST KEY CHANGED for {host_id}: it offered {fingerprint}, which differs from {known_hosts} line {line}; \
         someone may be intercepting the connection, or the host was reinstalled; \
         hint: if the change is expected, remove the old line and add the new key"
    )]
    ChangedHostKey {
        host_id: String,
        fingerprint: String,
        known_hosts: PathBuf,
        line: usize,
    },

    #[error(
        "host key for {host_id} ({fingerprint}) is REVOKED by {known_hosts} line {line}; \
         hint: the host must get a new key (or certificate) before it can be reached"
    )]
    RevokedHostKey {
        host_id: String,
        fingerprint: String,
        known_hosts: PathBuf,
        line: usize,
    },

    #[error("cannot read known_hosts {path}: {cause}")]
    KnownHosts { path: PathBuf, cause: String },

    #[error("SSH handshake with {address}:{port} failed: {cause}")]
    Handshake {
        address: String,
        port: u16,
        cause: String,
    },

    #[error("authentication as {user} refused; tried: {tried}; hint: {hint}")]
    AuthRefused {
        user: String,
        tried: String,
        hint: String,
    },

    #[error("via jump host {jump}: {cause}")]
    Jump { jump: String, cause: String },

    #[error(
        "jump host {jump} could not open a connection to {address}:{port}: {cause}; \
         hint: the jump host must reach {address}:{port} itself and allow TCP forwarding (AllowTcpForwarding)"
    )]
    JumpForward {
        jump: String,
        address: String,
        port: u16,
        cause: String,
    },

    #[error("the SSH server refused to forward to the socket {path}: {cause}")]
    SocketForward { path: String, cause: String },

    #[error(
        "there is no socket at {path} on the host: dockerd is not running there, or \
         docker_socket names another path"
    )]
    SocketMissing { path: String },

    #[error(
        "the SSH user may not open the socket {path} (permission denied); hint: add the user \
         to the `docker` group, or reach Docker through sudo (become: true, or --become)"
    )]
    SocketDenied { path: String },

    #[error("SSH connection failed: {0}")]
    Transport(String),
}
