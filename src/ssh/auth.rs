//! Public-key authentication as OpenSSH does it: the agent's keys (and certificates) first, then
//! each identity file, its certificate (`KEY-cert.pub`) before the bare key. Encrypted keys are
//! opened with the run's passphrase. When all fail, the error lists everything that was tried.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle, Handler};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Certificate, HashAlg, PrivateKey, PrivateKeyWithHashAlg};

use super::SshError;
use super::known_hosts::fingerprint;
use super::passphrase::{PASSPHRASE_ENV, key_passphrase};
use super::round_trips::RoundTrips;

/// Which ssh-agent to ask (`IdentityAgent`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentSocket {
    /// The socket `SSH_AUTH_SOCK` names, if it is set.
    Environment,
    /// This socket.
    Path(PathBuf),
    /// No agent (`IdentityAgent none`).
    Disabled,
}

impl std::fmt::Display for AgentSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentSocket::Environment => f.write_str("$SSH_AUTH_SOCK"),
            AgentSocket::Path(path) => write!(f, "{}", path.display()),
            AgentSocket::Disabled => f.write_str("none"),
        }
    }
}

/// Who to log in as and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    pub user: String,
    /// Key files in order.
    pub identity_files: Vec<PathBuf>,
    /// The files are OpenSSH's defaults (`~/.ssh/id_*`): missing ones are skipped silently.
    pub default_identities: bool,
    /// Extra certificates (`CertificateFile`), used with the identity whose key they certify.
    pub certificate_files: Vec<PathBuf>,
    /// Use only the identity files, and agent keys only when they are one of them.
    pub identities_only: bool,
    pub agent: AgentSocket,
}

/// Tries each method in turn and returns a description of the one that worked.
pub(crate) async fn authenticate<H: Handler>(
    handle: &mut Handle<H>,
    settings: &AuthSettings,
    round_trips: &RoundTrips,
    files: &IdentityCache,
) -> Result<String, SshError> {
    let mut attempt = Attempt {
        round_trips,
        user: &settings.user,
        tried: Vec::new(),
        offered: Vec::new(),
        rsa_hash: handle
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten(),
    };
    let identities: Vec<Arc<IdentityFile>> = settings
        .identity_files
        .iter()
        .map(|path| files.get(path))
        .collect();

    if let Some(method) = attempt.agent(handle, settings, &identities).await? {
        return Ok(method);
    }
    for identity in &identities {
        if let Some(method) = attempt.identity_file(handle, settings, identity).await? {
            return Ok(method);
        }
    }
    Err(attempt.refused(settings))
}

/// Identity files read once per run and shared by every connection (a fleet uses the same few).
#[derive(Default)]
pub struct IdentityCache {
    read: std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<IdentityFile>>>,
}

impl std::fmt::Debug for IdentityCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityCache")
    }
}

impl IdentityCache {
    fn get(&self, path: &Path) -> Arc<IdentityFile> {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            read.entry(path.to_path_buf())
                .or_insert_with(|| Arc::new(IdentityFile::read(path))),
        )
    }
}

/// An identity file as found on disk, read before any passphrase is needed.
struct IdentityFile {
    path: PathBuf,
    /// The file's text, or why it could not be read.
    text: Result<String, std::io::Error>,
    /// Its public key, when the file or `KEY.pub` shows it without decrypting.
    public: Option<KeyData>,
}

impl IdentityFile {
    fn read(path: &Path) -> IdentityFile {
        let text = std::fs::read_to_string(path);
        let public = text
            .as_ref()
            .ok()
            .and_then(|text| PrivateKey::from_openssh(text).ok())
            .map(|key| key.public_key().key_data().clone())
            .or_else(|| {
                russh::keys::load_public_key(pub_path(path))
                    .ok()
                    .map(|key| key.key_data().clone())
            });
        IdentityFile {
            path: path.to_path_buf(),
            text,
            public,
        }
    }
}

fn pub_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn cert_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-cert.pub");
    PathBuf::from(name)
}

struct Attempt<'a> {
    round_trips: &'a RoundTrips,
    user: &'a str,
    /// What was tried and how it ended, for the final message.
    tried: Vec<String>,
    /// Keys already offered (and refused), never offered twice.
    offered: Vec<KeyData>,
    rsa_hash: Option<HashAlg>,
}

impl Attempt<'_> {
    /// Counts the round trips of one finished attempt. The `ssh-userauth` service request goes
    /// with the first attempt (vendor/russh). A key in memory sends its signature at once; a
    /// key the agent holds is offered first and signed only once the server accepts it.
    fn count(&mut self, result: &Result<AuthResult, impl std::fmt::Debug>, signed_at_once: bool) {
        let pairs = match result {
            Ok(AuthResult::Success) if !signed_at_once => 2,
            Ok(AuthResult::Success | AuthResult::Failure { .. }) => 1,
            Err(_) => return,
        };
        self.round_trips.sequential(pairs);
    }

    fn hash_for(&self, key: &KeyData) -> Option<HashAlg> {
        if key.algorithm().is_rsa() {
            self.rsa_hash
        } else {
            None
        }
    }

    async fn agent<H: Handler>(
        &mut self,
        handle: &mut Handle<H>,
        settings: &AuthSettings,
        identities: &[Arc<IdentityFile>],
    ) -> Result<Option<String>, SshError> {
        let socket = match &settings.agent {
            AgentSocket::Disabled => return Ok(None),
            AgentSocket::Path(path) => path.clone(),
            AgentSocket::Environment => match std::env::var_os("SSH_AUTH_SOCK") {
                Some(path) if !path.is_empty() => PathBuf::from(path),
                _ => return Ok(None),
            },
        };
        let mut agent = match AgentClient::connect_uds(&socket).await {
            Ok(agent) => agent,
            Err(error) => {
                self.tried.push(format!(
                    "agent at {} (unreachable: {error})",
                    socket.display()
                ));
                return Ok(None);
            }
        };
        let listed = match agent.request_identities().await {
            Ok(listed) => listed,
            Err(error) => {
                self.tried
                    .push(format!("agent at {} (error: {error})", socket.display()));
                return Ok(None);
            }
        };
        if listed.is_empty() {
            self.tried.push("agent (holds no keys)".to_string());
        }
        for identity in listed {
            let (key, comment, is_certificate) = match &identity {
                AgentIdentity::PublicKey { key, comment } => {
                    (key.key_data().clone(), comment, false)
                }
                AgentIdentity::Certificate {
                    certificate,
                    comment,
                } => (certificate.public_key().clone(), comment, true),
            };
            if settings.identities_only
                && !identities
                    .iter()
                    .any(|identity| identity.public.as_ref() == Some(&key))
            {
                continue;
            }
            let label = format!(
                "agent {} {}{}",
                if is_certificate {
                    "certificate for"
                } else {
                    "key"
                },
                fingerprint(&key),
                if comment.is_empty() {
                    String::new()
                } else {
                    format!(" {comment:?}")
                }
            );
            let hash = self.hash_for(&key);
            let result = match identity {
                AgentIdentity::PublicKey { key: public, .. } => {
                    handle
                        .authenticate_publickey_with(self.user, public, hash, &mut agent)
                        .await
                }
                AgentIdentity::Certificate { certificate, .. } => {
                    handle
                        .authenticate_certificate_with(self.user, certificate, hash, &mut agent)
                        .await
                }
            };
            self.count(&result, false);
            match result {
                Ok(AuthResult::Success) => return Ok(Some(format!("publickey ({label})"))),
                Ok(AuthResult::Failure {
                    remaining_methods, ..
                }) => {
                    self.tried.push(format!("{label} (refused)"));
                    if !is_certificate {
                        self.offered.push(key);
                    }
                    self.stop_unless_publickey(&remaining_methods)?;
                }
                Err(error) => {
                    if handle.is_closed() {
                        return Err(self.closed(settings, &error.to_string()));
                    }
                    self.tried.push(format!("{label} (agent error: {error})"));
                }
            }
        }
        Ok(None)
    }

    async fn identity_file<H: Handler>(
        &mut self,
        handle: &mut Handle<H>,
        settings: &AuthSettings,
        identity: &IdentityFile,
    ) -> Result<Option<String>, SshError> {
        let path = &identity.path;
        let text = match &identity.text {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if !settings.default_identities {
                    self.tried
                        .push(format!("{} (no such file)", path.display()));
                }
                return Ok(None);
            }
            Err(error) => {
                self.tried
                    .push(format!("{} (unreadable: {error})", path.display()));
                return Ok(None);
            }
        };
        if let Some(public) = &identity.public
            && self.offered.contains(public)
        {
            // The agent already offered this key and the server refused it.
            return Ok(None);
        }
        let Some(key) = self.open_key(path, text).await else {
            return Ok(None);
        };
        let key = Arc::new(key);
        let public = key.public_key().key_data().clone();

        for certificate in certificates_for(path, &settings.certificate_files, &public) {
            let (cert_file, certificate) = certificate;
            let result = handle
                .authenticate_openssh_cert(self.user, Arc::clone(&key), certificate)
                .await;
            self.count(&result, true);
            match result {
                Ok(AuthResult::Success) => {
                    return Ok(Some(format!(
                        "publickey certificate ({})",
                        cert_file.display()
                    )));
                }
                Ok(AuthResult::Failure {
                    remaining_methods, ..
                }) => {
                    self.tried
                        .push(format!("{} (certificate refused)", cert_file.display()));
                    self.stop_unless_publickey(&remaining_methods)?;
                }
                Err(error) => return Err(self.closed(settings, &error.to_string())),
            }
        }

        let hash = self.hash_for(&public);
        let result = handle
            .authenticate_publickey(self.user, PrivateKeyWithHashAlg::new(key, hash))
            .await;
        self.count(&result, true);
        match result {
            Ok(AuthResult::Success) => Ok(Some(format!("publickey ({})", path.display()))),
            Ok(AuthResult::Failure {
                remaining_methods, ..
            }) => {
                self.tried.push(format!("{} (refused)", path.display()));
                self.offered.push(public);
                self.stop_unless_publickey(&remaining_methods)?;
                Ok(None)
            }
            Err(error) => Err(self.closed(settings, &error.to_string())),
        }
    }

    /// The private key, decrypted with the run's passphrase if need be; `None` (with the
    /// reason recorded) when it cannot be opened.
    async fn open_key(&mut self, path: &Path, text: &str) -> Option<PrivateKey> {
        match russh::keys::decode_secret_key(text, None) {
            Ok(key) => return Some(key),
            Err(russh::keys::Error::KeyIsEncrypted) => {}
            Err(error) => {
                self.tried.push(format!(
                    "{} (not a usable private key: {error})",
                    path.display()
                ));
                return None;
            }
        }
        let Some(passphrase) = key_passphrase(path).await else {
            self.tried.push(format!(
                "{} (encrypted, and no passphrase: set {PASSPHRASE_ENV}, or run on a terminal \
                 to be asked)",
                path.display()
            ));
            return None;
        };
        match russh::keys::decode_secret_key(text, Some(&passphrase)) {
            Ok(key) => Some(key),
            Err(_) => {
                self.tried.push(format!(
                    "{} (encrypted, and the run's passphrase does not open it)",
                    path.display()
                ));
                None
            }
        }
    }

    /// When the server no longer accepts public keys at all, trying more keys is pointless.
    fn stop_unless_publickey(&self, remaining: &russh::MethodSet) -> Result<(), SshError> {
        if remaining.contains(&russh::MethodKind::PublicKey) {
            return Ok(());
        }
        let methods: Vec<&str> = remaining.iter().map(|method| method.into()).collect();
        Err(SshError::AuthRefused {
            user: self.user.to_string(),
            tried: self.tried.join(", "),
            hint: format!(
                "the server no longer accepts public keys (it offers: {}); fleetrmi only uses keys",
                if methods.is_empty() {
                    "nothing".to_string()
                } else {
                    methods.join(", ")
                }
            ),
        })
    }

    /// The server closed the connection mid-authentication: usually `MaxAuthTries` reached.
    fn closed(&self, settings: &AuthSettings, cause: &str) -> SshError {
        SshError::AuthRefused {
            user: self.user.to_string(),
            tried: format!(
                "{}, then the server closed the connection ({cause})",
                self.tried.join(", ")
            ),
            hint: if settings.identities_only {
                "the server may allow fewer attempts (MaxAuthTries) than keys were offered"
                    .to_string()
            } else {
                "the server may allow fewer attempts (MaxAuthTries) than keys were offered; \
                 set IdentitiesOnly yes with the right IdentityFile for this host"
                    .to_string()
            },
        }
    }

    fn refused(self, settings: &AuthSettings) -> SshError {
        SshError::AuthRefused {
            user: self.user.to_string(),
            tried: if self.tried.is_empty() {
                "nothing: no agent (SSH_AUTH_SOCK unset) and no key file".to_string()
            } else {
                self.tried.join(", ")
            },
            hint: if settings.identity_files.is_empty() || settings.default_identities {
                "give the host a key (ansible_ssh_private_key_file, or IdentityFile in ~/.ssh/config), \
                 or load the key into ssh-agent, and check that its public key is in the user's \
                 authorized_keys on the host"
                    .to_string()
            } else {
                "check that the public key of one of these is in the user's authorized_keys on the host \
                 (or that a certificate's CA is trusted there), and that the user name is right"
                    .to_string()
            },
        }
    }
}

/// Certificates for the key in `path`: `KEY-cert.pub` beside it, then any `CertificateFile`
/// that certifies the same public key.
fn certificates_for(
    path: &Path,
    extra: &[PathBuf],
    public: &KeyData,
) -> Vec<(PathBuf, Certificate)> {
    let mut found: Vec<(PathBuf, Certificate)> = Vec::new();
    for candidate in std::iter::once(cert_path(path)).chain(extra.iter().cloned()) {
        if found.iter().any(|(seen, _)| seen == &candidate) {
            continue;
        }
        if let Ok(certificate) = russh::keys::load_openssh_certificate(&candidate)
            && certificate.public_key() == public
        {
            found.push((candidate, certificate));
        }
    }
    found
}
