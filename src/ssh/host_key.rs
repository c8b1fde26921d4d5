//! Whether to trust the key (or certificate) a server offers, as OpenSSH's
//! `StrictHostKeyChecking` decides it: `strict` accepts only recorded keys, `accept-new` also
//! records keys of hosts it has never seen (never a changed one), `off` accepts anything.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PublicKeyOrCertificate};

use super::SshError;
use super::known_hosts::{
    CertVerdict, HostKeyVerdict, KnownHosts, KnownHostsCache, append, fingerprint, host_id,
};

/// How strictly host keys are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Only keys recorded in known_hosts (OpenSSH `StrictHostKeyChecking yes`).
    Strict,
    /// Record the key of a host never seen before; refuse a changed key.
    AcceptNew,
    /// Accept any key (a warning is printed on every run).
    Off,
}

impl std::fmt::Display for HostKeyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HostKeyPolicy::Strict => "strict",
            HostKeyPolicy::AcceptNew => "accept-new",
            HostKeyPolicy::Off => "off",
        })
    }
}

/// Where host keys are looked up and learnt, and how strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeySettings {
    pub policy: HostKeyPolicy,
    /// The user's files (`UserKnownHostsFile`); `accept-new` appends to the first.
    pub user_files: Vec<PathBuf>,
    /// System-wide files (`GlobalKnownHostsFile`), only read.
    pub global_files: Vec<PathBuf>,
    /// Write learnt hosts hashed (`HashKnownHosts yes`).
    pub hash_new_entries: bool,
    /// `RevokedHostKeys`: public keys refused for every host, in every mode.
    pub revoked_file: Option<PathBuf>,
}

/// What the check concluded, kept for after the handshake: russh only learns "refused".
#[derive(Debug, Default)]
pub(crate) struct CheckOutcome {
    pub rejection: Option<SshError>,
    /// Things the user should hear about even though the host was accepted.
    pub notes: Vec<String>,
}

/// The russh handler that checks the server's key during the handshake.
pub(crate) struct HostKeyChecker {
    host_id: String,
    hostname: String,
    settings: HostKeySettings,
    known: Arc<KnownHosts>,
    outcome: Arc<Mutex<CheckOutcome>>,
}

impl HostKeyChecker {
    /// The known_hosts files for a connection to `hostname:port`, from the run's `cache`.
    pub(crate) fn new(
        hostname: &str,
        port: u16,
        settings: &HostKeySettings,
        cache: &KnownHostsCache,
    ) -> Result<(HostKeyChecker, Arc<Mutex<CheckOutcome>>), SshError> {
        let files: Vec<PathBuf> = settings
            .user_files
            .iter()
            .chain(&settings.global_files)
            .cloned()
            .collect();
        let known = cache.get(&files, settings.revoked_file.as_deref())?;
        let outcome = Arc::new(Mutex::new(CheckOutcome::default()));
        Ok((
            HostKeyChecker {
                host_id: host_id(hostname, port),
                hostname: hostname.to_string(),
                settings: settings.clone(),
                known,
                outcome: Arc::clone(&outcome),
            },
            outcome,
        ))
    }

    /// The host key algorithms to offer: types already recorded for this host first, so the
    /// server proves itself with a key we can check (OpenSSH's `order_hostkeyalgs`), and host
    /// certificates only when an `@cert-authority` line could vouch for them.
    pub(crate) fn preferred(&self, base: &russh::Preferred) -> russh::Preferred {
        let mut preferred = base.clone();
        let known = self.known.known_algorithms(&self.host_id);
        if !known.is_empty() {
            let is_known = |algorithm: &Algorithm| {
                known.iter().any(|k| match (k, algorithm) {
                    (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
                    (a, b) => a == b,
                })
            };
            let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
                base.key.iter().cloned().partition(is_known);
            first.extend(rest);
            preferred.key = Cow::Owned(first);
        }
        if self.known.has_cert_authority(&self.host_id) {
            preferred.host_key_certificates = Cow::Owned(vec![
                Algorithm::Ed25519,
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP256,
                },
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP384,
                },
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP521,
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
            ]);
        }
        preferred
    }

    fn files_text(&self) -> String {
        let files: Vec<String> = self
            .settings
            .user_files
            .iter()
            .chain(&self.settings.global_files)
            .map(|path| path.display().to_string())
            .collect();
        if files.is_empty() {
            "any known_hosts file (none is configured)".to_string()
        } else {
            files.join(", ")
        }
    }

    /// The decision for one offered key: `Ok(note)` to accept, `Err` to refuse.
    fn decide(&self, offered: &PublicKeyOrCertificate) -> Result<Option<String>, SshError> {
        let mut certificate_note = String::new();
        let key: KeyData = match offered {
            PublicKeyOrCertificate::Certificate(certificate) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                match self
                    .known
                    .check_certificate(&self.host_id, &self.hostname, certificate, now)
                {
                    CertVerdict::Trusted(_) => return Ok(None),
                    CertVerdict::Revoked(line) => {
                        return Err(SshError::RevokedHostKey {
                            host_id: self.host_id.clone(),
                            fingerprint: format!(
                                "certificate of {}",
                                fingerprint(certificate.public_key())
                            ),
                            known_hosts: line.path,
                            line: line.line,
                        });
                    }
                    // As OpenSSH does, a certificate no CA vouches for falls back to its key.
                    CertVerdict::NotTrusted(reason) => {
                        certificate_note =
                            format!("; its host certificate was not accepted: {reason}");
                        certificate.public_key().clone()
                    }
                }
            }
            PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data().clone(),
        };
        let offered_fingerprint = fingerprint(&key);
        match self.known.check(&self.host_id, &key) {
            HostKeyVerdict::Trusted(_) => Ok(None),
            HostKeyVerdict::Revoked(line) => Err(SshError::RevokedHostKey {
                host_id: self.host_id.clone(),
                fingerprint: offered_fingerprint,
                known_hosts: line.path,
                line: line.line,
            }),
            HostKeyVerdict::Changed(line) => match self.settings.policy {
                HostKeyPolicy::Off => Ok(Some(format!(
                    "host key for {} CHANGED ({offered_fingerprint}, {} line {} differs); \
                     accepted only because host key checking is off",
                    self.host_id,
                    line.path.display(),
                    line.line
                ))),
                _ => Err(SshError::ChangedHostKey {
                    host_id: self.host_id.clone(),
                    fingerprint: offered_fingerprint,
                    known_hosts: line.path,
                    line: line.line,
                }),
            },
            HostKeyVerdict::Unknown { other_types } => {
                let known_as = if other_types.is_empty() {
                    String::new()
                } else {
                    format!("; it is known only with {} keys", other_types.join(", "))
                };
                match self.settings.policy {
                    HostKeyPolicy::Off => Ok(None),
                    HostKeyPolicy::Strict => Err(SshError::UnknownHostKey {
                        host_id: self.host_id.clone(),
                        fingerprint: offered_fingerprint,
                        known_hosts: self.files_text(),
                        detail: format!("{known_as}{certificate_note}"),
                    }),
                    HostKeyPolicy::AcceptNew => {
                        let Some(file) = self.settings.user_files.first() else {
                            return Err(SshError::UnknownHostKey {
                                host_id: self.host_id.clone(),
                                fingerprint: offered_fingerprint,
                                known_hosts: self.files_text(),
                                detail: "; accept-new has no user known_hosts file to add it to"
                                    .to_string(),
                            });
                        };
                        append(file, &self.host_id, &key, self.settings.hash_new_entries)?;
                        Ok(Some(format!(
                            "added host key for {} ({offered_fingerprint}) to {}",
                            self.host_id,
                            file.display()
                        )))
                    }
                }
            }
        }
    }
}

impl client::Handler for HostKeyChecker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let decision = self.decide(offered);
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        match decision {
            Ok(note) => {
                outcome.notes.extend(note);
                Ok(true)
            }
            Err(rejection) => {
                outcome.rejection = Some(rejection);
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::PublicKey;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICjmfPGPb0tob6cEulfaYNbn8zcB8Ki+to7ZgYBMTSVK";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINCeD5mcOH1kaHpqdZ8EBEq5WKtLonarfoH0tdlB5mIp";

    fn offered(text: &str) -> PublicKeyOrCertificate {
        PublicKey::from_openssh(text).expect("test key").into()
    }

    fn make_checker(known: &str, policy: HostKeyPolicy) -> (tempfile::TempDir, HostKeyChecker) {
        let dir = tempfile::tempdir().expect("temp");
        let file = dir.path().join("known_hosts");
        std::fs::write(&file, known).expect("write");
        let settings = HostKeySettings {
            policy,
            user_files: vec![file],
            global_files: vec![],
            hash_new_entries: false,
            revoked_file: None,
        };
        let (checker, _) = HostKeyChecker::new("web", 2222, &settings, &KnownHostsCache::default())
            .expect("loads");
        (dir, checker)
    }

    #[test]
    fn strict_refuses_an_unknown_host() {
        let (_dir, checker) = make_checker("", HostKeyPolicy::Strict);
        let error = checker.decide(&offered(KEY_A)).expect_err("refused");
        assert!(matches!(error, SshError::UnknownHostKey { .. }));
    }

    #[test]
    fn strict_with_no_known_hosts_file_at_all_refuses_every_host() {
        // `UserKnownHostsFile none` + `GlobalKnownHostsFile none`: nothing is trusted.
        let settings = HostKeySettings {
            policy: HostKeyPolicy::Strict,
            user_files: vec![],
            global_files: vec![],
            hash_new_entries: false,
            revoked_file: None,
        };
        let (checker, _) =
            HostKeyChecker::new("web", 22, &settings, &KnownHostsCache::default()).expect("loads");
        let error = checker.decide(&offered(KEY_A)).expect_err("refused");
        assert!(matches!(error, SshError::UnknownHostKey { .. }), "{error}");
        assert!(error.to_string().contains("none is configured"), "{error}");
    }

    #[test]
    fn strict_refuses_a_certificate_without_principals_and_says_why() {
        // The CA and a host certificate naming no principal (ssh-keygen -h without -n).
        let ca = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeKqTnBliIslxwaI0eDxjs6cRKVWy33WnvVJkKhcUU4";
        let certificate = russh::keys::Certificate::from_openssh("ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIBGa+xQlSu60o5RfA3p31f3hCFRBr+Ix9mBo61tLckLJAAAAICZV9AMkAEJlqiz6jyOlqvLtqIkHuSlhZnRacs4nQEfkAAAAAAAAAAAAAAACAAAAB25vcHJpbmMAAAAAAAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgF4qpOcGWIiyXHBojR4PGOzpxEpVbLfdae9UmQqFxRTgAAABTAAAAC3NzaC1lZDI1NTE5AAAAQG9imFaFkugpYnLWrxvoh49pjoQ7uvBxOVCm0E7RN1RTylb3nXypj9anLwZLX0OdSTSG8n9VeUbEg/sAeRVewwo=").expect("test certificate");
        let (_dir, checker) =
            make_checker(&format!("@cert-authority * {ca}\n"), HostKeyPolicy::Strict);
        let error = checker
            .decide(&PublicKeyOrCertificate::from(certificate))
            .expect_err("refused");
        assert!(matches!(error, SshError::UnknownHostKey { .. }), "{error}");
        assert!(
            error.to_string().contains("lacks a principal list"),
            "{error}"
        );
    }

    #[test]
    fn accept_new_records_an_unknown_host_then_trusts_it() {
        let (dir, checker) = make_checker("", HostKeyPolicy::AcceptNew);
        let note = checker.decide(&offered(KEY_A)).expect("accepted");
        assert!(
            note.expect("a note")
                .starts_with("added host key for [web]:2222")
        );
        let text = std::fs::read_to_string(dir.path().join("known_hosts")).expect("read");
        assert_eq!(text, format!("[web]:2222 {KEY_A}\n"));
        let settings = HostKeySettings {
            policy: HostKeyPolicy::Strict,
            user_files: vec![dir.path().join("known_hosts")],
            global_files: vec![],
            hash_new_entries: false,
            revoked_file: None,
        };
        let (strict, _) = HostKeyChecker::new("web", 2222, &settings, &KnownHostsCache::default())
            .expect("loads");
        assert_eq!(strict.decide(&offered(KEY_A)).expect("trusted"), None);
    }

    #[test]
    fn accept_new_never_replaces_a_changed_key() {
        let known = format!("[web]:2222 {KEY_A}\n");
        let (dir, checker) = make_checker(&known, HostKeyPolicy::AcceptNew);
        let error = checker.decide(&offered(KEY_B)).expect_err("refused");
        assert!(matches!(error, SshError::ChangedHostKey { line: 1, .. }));
        let text = std::fs::read_to_string(dir.path().join("known_hosts")).expect("read");
        assert_eq!(text, known);
    }

    #[test]
    fn off_accepts_unknown_and_changed_keys_but_says_so_for_a_change() {
        let (_dir, checker) = make_checker(&format!("[web]:2222 {KEY_A}\n"), HostKeyPolicy::Off);
        let note = checker.decide(&offered(KEY_B)).expect("accepted");
        assert!(note.expect("a note").contains("CHANGED"));
        let (_dir, checker) = make_checker("", HostKeyPolicy::Off);
        assert_eq!(checker.decide(&offered(KEY_A)).expect("accepted"), None);
    }

    #[test]
    fn revoked_key_is_refused_in_every_mode() {
        for policy in [
            HostKeyPolicy::Strict,
            HostKeyPolicy::AcceptNew,
            HostKeyPolicy::Off,
        ] {
            let (_dir, checker) = make_checker(&format!("@revoked * {KEY_A}\n"), policy);
            let error = checker.decide(&offered(KEY_A)).expect_err("refused");
            assert!(matches!(error, SshError::RevokedHostKey { .. }), "{policy}");
        }
    }

    #[test]
    fn revoked_host_keys_file_refuses_a_known_key_in_every_mode() {
        let dir = tempfile::tempdir().expect("temp");
        let known = dir.path().join("known_hosts");
        std::fs::write(&known, format!("[web]:2222 {KEY_A}\n")).expect("write");
        let revoked = dir.path().join("revoked");
        std::fs::write(&revoked, format!("{KEY_A}\n")).expect("write");
        for policy in [
            HostKeyPolicy::Strict,
            HostKeyPolicy::AcceptNew,
            HostKeyPolicy::Off,
        ] {
            let settings = HostKeySettings {
                policy,
                user_files: vec![known.clone()],
                global_files: vec![],
                hash_new_entries: false,
                revoked_file: Some(revoked.clone()),
            };
            let (checker, _) =
                HostKeyChecker::new("web", 2222, &settings, &KnownHostsCache::default())
                    .expect("loads");
            let error = checker.decide(&offered(KEY_A)).expect_err("refused");
            assert!(
                matches!(error, SshError::RevokedHostKey { line: 1, .. }),
                "{policy}"
            );
        }
        // A missing file refuses every host, as OpenSSH does.
        let settings = HostKeySettings {
            policy: HostKeyPolicy::Off,
            user_files: vec![known],
            global_files: vec![],
            hash_new_entries: false,
            revoked_file: Some(dir.path().join("missing")),
        };
        assert!(matches!(
            HostKeyChecker::new("web", 2222, &settings, &KnownHostsCache::default()),
            Err(SshError::KnownHosts { .. })
        ));
    }

    #[test]
    fn known_key_types_are_offered_first() {
        let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMfXoix6qPhP9souxdDapELjEJAFCbkXVyMKFInjE+kzhrqGVBqWPGCagEx8ZIJm6Bxujr6IuXoSUgiFY6JAmnw=";
        let (_dir, checker) = make_checker(&format!("[web]:2222 {ecdsa}\n"), HostKeyPolicy::Strict);
        let preferred = checker.preferred(&russh::Preferred::DEFAULT);
        assert_eq!(
            preferred.key[0],
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256
            }
        );
        assert_eq!(preferred.key.len(), russh::Preferred::DEFAULT.key.len());
        assert!(preferred.host_key_certificates.is_empty());
        let (_dir, checker) = make_checker(
            &format!("@cert-authority [*]:2222 {KEY_A}\n"),
            HostKeyPolicy::Strict,
        );
        assert!(
            !checker
                .preferred(&russh::Preferred::DEFAULT)
                .host_key_certificates
                .is_empty()
        );
    }
}
