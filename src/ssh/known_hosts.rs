//! Host key verification against an OpenSSH `known_hosts` file, as `StrictHostKeyChecking yes` does it.

use std::path::Path;

use russh::keys::{HashAlg, PublicKey};

use super::SshError;

/// What a `known_hosts` file says about the key a server offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKeyVerdict {
    /// A line for this host holds exactly this key.
    Trusted,
    /// No line for this host holds a key of this algorithm.
    Unknown,
    /// A line for this host holds a different key of the same algorithm.
    Changed { line: usize },
}

/// The name OpenSSH looks up in `known_hosts`: `address`, or `[address]:port` off port 22.
pub(crate) fn host_id(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// SHA256 fingerprint in OpenSSH's notation, e.g. `SHA256:Zb3…`, with the key type.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    format!(
        "{} key {}",
        key.algorithm(),
        key.fingerprint(HashAlg::Sha256)
    )
}

/// Looks the offered key up; plain and hashed (`|1|…`) host entries both match.
pub(crate) fn check_host_key(
    known_hosts: &Path,
    address: &str,
    port: u16,
    offered: &PublicKey,
) -> Result<HostKeyVerdict, SshError> {
    if !known_hosts.exists() {
        return Ok(HostKeyVerdict::Unknown);
    }
    let recorded = russh::keys::known_hosts::known_host_keys_path(address, port, known_hosts)
        .map_err(|error| SshError::KnownHosts {
            path: known_hosts.to_path_buf(),
            cause: error.to_string(),
        })?;
    let mut changed_line = None;
    for (line, key) in recorded {
        if key.key_data() == offered.key_data() {
            return Ok(HostKeyVerdict::Trusted);
        }
        if key.algorithm() == offered.algorithm() {
            changed_line.get_or_insert(line);
        }
    }
    Ok(match changed_line {
        Some(line) => HostKeyVerdict::Changed { line },
        None => HostKeyVerdict::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICjmfPGPb0tob6cEulfaYNbn8zcB8Ki+to7ZgYBMTSVK";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINCeD5mcOH1kaHpqdZ8EBEq5WKtLonarfoH0tdlB5mIp";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).expect("test key parses")
    }

    fn file_with(lines: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(lines.as_bytes()).expect("write");
        file
    }

    #[test]
    fn host_id_brackets_non_default_ports() {
        assert_eq!(host_id("10.0.0.1", 22), "10.0.0.1");
        assert_eq!(host_id("127.0.1.1", 2222), "[127.0.1.1]:2222");
    }

    #[test]
    fn recorded_key_is_trusted() {
        let file = file_with(&format!("[127.0.1.1]:2222 {KEY_A}\n"));
        let verdict = check_host_key(file.path(), "127.0.1.1", 2222, &key(KEY_A)).expect("check");
        assert_eq!(verdict, HostKeyVerdict::Trusted);
    }

    #[test]
    fn other_key_of_same_type_is_a_change() {
        let file = file_with(&format!("# comment\n[127.0.1.1]:2222 {KEY_A}\n"));
        let verdict = check_host_key(file.path(), "127.0.1.1", 2222, &key(KEY_B)).expect("check");
        assert_eq!(verdict, HostKeyVerdict::Changed { line: 1 });
    }

    #[test]
    fn key_for_another_port_is_unknown() {
        let file = file_with(&format!("[127.0.1.1]:2200 {KEY_A}\n"));
        let verdict = check_host_key(file.path(), "127.0.1.1", 2222, &key(KEY_A)).expect("check");
        assert_eq!(verdict, HostKeyVerdict::Unknown);
    }

    #[test]
    fn missing_file_means_unknown() {
        let verdict = check_host_key(Path::new("/nonexistent/known_hosts"), "h", 22, &key(KEY_A))
            .expect("check");
        assert_eq!(verdict, HostKeyVerdict::Unknown);
    }
}
