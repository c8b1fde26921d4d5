//! OpenSSH `known_hosts` files: plain and hashed (`|1|salt|hash`) host fields, several hosts per
//! line, wildcard and negated patterns, `[host]:port` entries, comments, and the `@revoked` and
//! `@cert-authority` markers, read and matched as OpenSSH's hostfile.c does.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Algorithm, HashAlg, PublicKey};

use super::SshError;
use super::pattern::{ListMatch, match_host_list};

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The name OpenSSH looks up in `known_hosts`: `host`, or `[host]:port` off port 22, lowercased.
pub(crate) fn host_id(host: &str, port: u16) -> String {
    let host = host.to_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// SHA256 fingerprint in OpenSSH's notation with the key type, e.g. `ssh-ed25519 key SHA256:Zb3…`.
pub(crate) fn fingerprint(key: &KeyData) -> String {
    format!(
        "{} key {}",
        key.algorithm(),
        key.fingerprint(HashAlg::Sha256)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    CertAuthority,
    Revoked,
}

#[derive(Clone)]
enum HostField {
    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, host_id))`, the HMAC already keyed with the salt
    /// so that each lookup hashes only the name.
    Hashed { keyed: HmacSha1, hash: Vec<u8> },
    /// Comma-separated names or patterns, `!` negating.
    Patterns(Vec<String>),
}

impl std::fmt::Debug for HostField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostField::Hashed { hash, .. } => write!(f, "Hashed({})", BASE64.encode(hash)),
            HostField::Patterns(patterns) => write!(f, "Patterns({patterns:?})"),
        }
    }
}

impl HostField {
    fn parse(field: &str) -> HostField {
        if let Some(rest) = field.strip_prefix("|1|")
            && let Some((salt, hash)) = rest.split_once('|')
            && let (Ok(salt), Ok(hash)) = (BASE64.decode(salt), BASE64.decode(hash))
            && let Ok(keyed) = HmacSha1::new_from_slice(&salt)
        {
            return HostField::Hashed { keyed, hash };
        }
        HostField::Patterns(field.split(',').map(str::to_string).collect())
    }

    fn matches(&self, host_id: &str) -> bool {
        match self {
            HostField::Hashed { keyed, hash } => keyed
                .clone()
                .chain_update(host_id.as_bytes())
                .verify_slice(hash)
                .is_ok(),
            HostField::Patterns(patterns) => {
                match_host_list(host_id, patterns.iter().map(String::as_str)) == ListMatch::Matched
            }
        }
    }

    /// The names a lookup can find this field under without trying it, or `None` when it must
    /// be tried for every name (hashed, or a positive pattern with a wildcard).
    fn literal_names(&self) -> Option<Vec<String>> {
        let HostField::Patterns(patterns) = self else {
            return None;
        };
        let positive: Vec<&String> = patterns.iter().filter(|p| !p.starts_with('!')).collect();
        if positive.is_empty() || positive.iter().any(|p| p.contains(['*', '?'])) {
            return None;
        }
        Some(positive.iter().map(|p| p.to_lowercase()).collect())
    }
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    marker: Marker,
    hosts: HostField,
    key: KeyData,
}

/// Where a decisive line is: file and 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineRef {
    pub path: PathBuf,
    pub line: usize,
}

/// What the files say about a plain host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKeyVerdict {
    /// A line for this host holds exactly this key.
    Trusted(LineRef),
    /// An `@revoked` line holds this key: never accept it.
    Revoked(LineRef),
    /// A line for this host holds a different key of the same type.
    Changed(LineRef),
    /// No line for this host holds a key of this type; `other_types` lists the types it is
    /// known with, if any.
    Unknown { other_types: Vec<String> },
}

/// What the files say about a host certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertVerdict {
    /// Signed by a CA an `@cert-authority` line trusts for this host, valid now, for this host.
    Trusted(LineRef),
    /// The certificate's key or its CA is `@revoked`.
    Revoked(LineRef),
    /// No trusted CA, or the certificate is not valid for this host now; the reason says which.
    NotTrusted(String),
}

/// Every known_hosts file that applies to a host, read once.
#[derive(Debug, Default)]
pub(crate) struct KnownHosts {
    files: Vec<(PathBuf, Vec<Entry>)>,
    index: LineIndex,
    /// The lines that apply to each host id looked up so far.
    found: Mutex<HashMap<String, Arc<[Position]>>>,
}

/// A line: its file and its place among that file's entries.
type Position = (usize, usize);

/// Where a lookup finds its candidate lines without reading every line: plain host names
/// (without wildcards) by name; hashed lines and wildcard patterns are tried one by one, each
/// hashed line with its HMAC already keyed.
#[derive(Debug, Default)]
struct LineIndex {
    by_name: HashMap<String, Vec<Position>>,
    tried: Vec<Position>,
}

impl LineIndex {
    fn add(&mut self, position: Position, hosts: &HostField) {
        match hosts.literal_names() {
            Some(names) => {
                for name in names {
                    let positions = self.by_name.entry(name).or_default();
                    if positions.last() != Some(&position) {
                        positions.push(position);
                    }
                }
            }
            None => self.tried.push(position),
        }
    }
}

/// known_hosts files read once per run and shared by every connection that names the same
/// files: a fleet behind one bastion reads its (possibly huge) known_hosts once, not per host.
#[derive(Debug, Default)]
pub struct KnownHostsCache {
    loaded: Mutex<HashMap<FileSet, Arc<Slot>>>,
}

/// The known_hosts files of a connection, and its `RevokedHostKeys` file.
type FileSet = (Vec<PathBuf>, Option<PathBuf>);

/// One set of files, once read.
type Slot = Mutex<Option<Arc<KnownHosts>>>;

impl KnownHostsCache {
    /// The files `paths` (and the `RevokedHostKeys` file), read on first use; connections that
    /// need them meanwhile wait for that read. A failed read is not kept: the next connection
    /// reads again and reports the error itself.
    pub(crate) fn get(
        &self,
        paths: &[PathBuf],
        revoked: Option<&Path>,
    ) -> Result<Arc<KnownHosts>, SshError> {
        let slot = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                loaded
                    .entry((paths.to_vec(), revoked.map(Path::to_path_buf)))
                    .or_default(),
            )
        };
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = slot.as_ref() {
            return Ok(Arc::clone(known));
        }
        let mut known = KnownHosts::load(paths)?;
        if let Some(path) = revoked {
            known.add_revoked_file(path)?;
        }
        let known = Arc::new(known);
        *slot = Some(Arc::clone(&known));
        Ok(known)
    }
}

impl KnownHosts {
    /// Reads the files in order; a missing file is empty, an unreadable one an error.
    pub(crate) fn load(paths: &[PathBuf]) -> Result<KnownHosts, SshError> {
        let mut files = Vec::new();
        for path in paths {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(error) => {
                    return Err(SshError::KnownHosts {
                        path: path.clone(),
                        cause: error.to_string(),
                    });
                }
            };
            files.push((path.clone(), parse(&text)));
        }
        let mut known = KnownHosts {
            files,
            ..KnownHosts::default()
        };
        known.reindex();
        Ok(known)
    }

    fn reindex(&mut self) {
        let mut index = LineIndex::default();
        for (file, (_, entries)) in self.files.iter().enumerate() {
            for (line, entry) in entries.iter().enumerate() {
                index.add((file, line), &entry.hosts);
            }
        }
        self.index = index;
        self.found = Mutex::default();
    }

    /// The lines whose host field matches `host_id`, in file order.
    fn positions_for(&self, host_id: &str) -> Arc<[Position]> {
        if let Some(found) = self
            .found
            .lock()
            .ok()
            .and_then(|found| found.get(host_id).cloned())
        {
            return found;
        }
        let mut positions: Vec<Position> = self
            .index
            .by_name
            .get(host_id)
            .into_iter()
            .flatten()
            .chain(&self.index.tried)
            .copied()
            .filter(|&(file, line)| self.files[file].1[line].hosts.matches(host_id))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let positions: Arc<[Position]> = positions.into();
        if let Ok(mut found) = self.found.lock() {
            found.insert(host_id.to_string(), Arc::clone(&positions));
        }
        positions
    }

    /// Adds a `RevokedHostKeys` file: public keys (or certificates), one per line, each refused
    /// for every host as an `@revoked *` line would be. As OpenSSH does, a file that is missing
    /// or unreadable refuses every host, and lines that are not keys are skipped. OpenSSH's
    /// binary Key Revocation Lists (`ssh-keygen -k`) are not read: such a file is an error.
    pub(crate) fn add_revoked_file(&mut self, path: &Path) -> Result<(), SshError> {
        let failed = |cause: String| SshError::KnownHosts {
            path: path.to_path_buf(),
            cause: format!("RevokedHostKeys: {cause}; every host is refused until it is fixed"),
        };
        let bytes = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
        if bytes.starts_with(KRL_MAGIC) {
            return Err(failed(
                "it is a binary key revocation list (KRL), which fleetrmi cannot read; \
                 list the revoked public keys instead, one per line"
                    .to_string(),
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| failed("it is not a text file of public keys".to_string()))?;
        self.files.push((path.to_path_buf(), parse_revoked(&text)));
        self.reindex();
        Ok(())
    }

    fn entries_for<'a>(&'a self, host_id: &str) -> impl Iterator<Item = (&'a Path, &'a Entry)> {
        let positions = self.positions_for(host_id);
        (0..positions.len()).map(move |at| {
            let (file, line) = positions[at];
            let (path, entries) = &self.files[file];
            (path.as_path(), &entries[line])
        })
    }

    fn revoked(&self, host_id: &str, key: &KeyData) -> Option<LineRef> {
        self.entries_for(host_id)
            .find(|(_, entry)| entry.marker == Marker::Revoked && &entry.key == key)
            .map(|(path, entry)| line_ref(path, entry))
    }

    /// Looks a plain host key up for `host_id` (see [`host_id`]).
    pub(crate) fn check(&self, host_id: &str, offered: &KeyData) -> HostKeyVerdict {
        if let Some(line) = self.revoked(host_id, offered) {
            return HostKeyVerdict::Revoked(line);
        }
        let mut changed = None;
        let mut other_types = Vec::new();
        for (path, entry) in self.entries_for(host_id) {
            if entry.marker != Marker::None {
                continue;
            }
            if &entry.key == offered {
                return HostKeyVerdict::Trusted(line_ref(path, entry));
            }
            if same_type(&entry.key, offered) {
                changed.get_or_insert_with(|| line_ref(path, entry));
            } else {
                let name = entry.key.algorithm().to_string();
                if !other_types.contains(&name) {
                    other_types.push(name);
                }
            }
        }
        match changed {
            Some(line) => HostKeyVerdict::Changed(line),
            None => HostKeyVerdict::Unknown { other_types },
        }
    }

    /// Whether some `@cert-authority` line applies to `host_id`: only then does fleetrmi ask
    /// servers for host certificates, as OpenSSH does.
    pub(crate) fn has_cert_authority(&self, host_id: &str) -> bool {
        self.entries_for(host_id)
            .any(|(_, entry)| entry.marker == Marker::CertAuthority)
    }

    /// Key types recorded for `host_id`, in file order, for ordering the host key algorithms
    /// so that a server proves itself with a key already known (OpenSSH's `order_hostkeyalgs`).
    pub(crate) fn known_algorithms(&self, host_id: &str) -> Vec<Algorithm> {
        let mut algorithms = Vec::new();
        for (_, entry) in self.entries_for(host_id) {
            if entry.marker == Marker::None {
                let algorithm = entry.key.algorithm();
                if !algorithms.contains(&algorithm) {
                    algorithms.push(algorithm);
                }
            }
        }
        algorithms
    }

    /// Checks a host certificate: a trusted CA for `host_id`, neither it nor the key revoked,
    /// a host (not user) certificate, valid at `now` (Unix seconds), naming `hostname` among its
    /// principals (wildcards allowed); one that names no principal is refused.
    pub(crate) fn check_certificate(
        &self,
        host_id: &str,
        hostname: &str,
        certificate: &russh::keys::Certificate,
        now: u64,
    ) -> CertVerdict {
        if let Some(line) = self.revoked(host_id, certificate.public_key()) {
            return CertVerdict::Revoked(line);
        }
        if let Some(line) = self.revoked(host_id, certificate.signature_key()) {
            return CertVerdict::Revoked(line);
        }
        let Some((path, ca)) = self.entries_for(host_id).find(|(_, entry)| {
            entry.marker == Marker::CertAuthority && &entry.key == certificate.signature_key()
        }) else {
            return CertVerdict::NotTrusted(format!(
                "its CA ({}) is not trusted for {host_id} by any @cert-authority line",
                fingerprint(certificate.signature_key())
            ));
        };
        if certificate.cert_type() != russh::keys::ssh_key::certificate::CertType::Host {
            return CertVerdict::NotTrusted("it is a user certificate".to_string());
        }
        let ca_fingerprint = ca.key.fingerprint(HashAlg::Sha256);
        if certificate.validate_at(now, [&ca_fingerprint]).is_err() {
            return CertVerdict::NotTrusted(
                "its signature does not verify or it is not valid now".to_string(),
            );
        }
        let principals = certificate.valid_principals();
        // An empty list would mean "valid for every host": OpenSSH (since 8.x) refuses such
        // host certificates, since one leaked certificate could then pose as any host the CA
        // is trusted for.
        if principals.is_empty() {
            return CertVerdict::NotTrusted(
                "it lacks a principal list (it names no host), which OpenSSH refuses too"
                    .to_string(),
            );
        }
        let hostname = hostname.to_lowercase();
        if !principals
            .iter()
            .any(|p| super::pattern::wildcard_match(&hostname, &p.to_lowercase()))
        {
            return CertVerdict::NotTrusted(format!(
                "it names {} but not {hostname}",
                principals.join(", ")
            ));
        }
        if !certificate.critical_options().is_empty() {
            return CertVerdict::NotTrusted(
                "it carries critical options, which host certificates must not".to_string(),
            );
        }
        CertVerdict::Trusted(line_ref(path, ca))
    }
}

fn line_ref(path: &Path, entry: &Entry) -> LineRef {
    LineRef {
        path: path.to_path_buf(),
        line: entry.line,
    }
}

/// Two keys of one type: RSA keys are one type whatever hash they sign with.
fn same_type(a: &KeyData, b: &KeyData) -> bool {
    match (a.algorithm(), b.algorithm()) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        (x, y) => x == y,
    }
}

/// Parses every line it can; lines it cannot read are skipped, as OpenSSH skips them.
fn parse(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        let marker = match first {
            "@cert-authority" => Marker::CertAuthority,
            "@revoked" => Marker::Revoked,
            other if other.starts_with('@') => continue,
            _ => Marker::None,
        };
        if marker != Marker::None {
            match fields.next() {
                Some(hosts) => first = hosts,
                None => continue,
            }
        }
        let (Some(key_type), Some(key_base64)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = PublicKey::from_openssh(&format!("{key_type} {key_base64}")) else {
            continue;
        };
        entries.push(Entry {
            line: index + 1,
            marker,
            hosts: HostField::parse(first),
            key: key.key_data().clone(),
        });
    }
    entries
}

/// The first bytes of an OpenSSH binary Key Revocation List (`KRL_MAGIC` in krl.h).
const KRL_MAGIC: &[u8] = b"SSHKRL\n\0";

/// A `RevokedHostKeys` text file: one public key or certificate per line (`type base64
/// [comment]`), comments and blank lines skipped; each becomes an `@revoked *` entry. For a
/// certificate, its key is what is revoked.
fn parse_revoked(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = match PublicKey::from_openssh(line) {
            Ok(key) => key.key_data().clone(),
            Err(_) => match russh::keys::Certificate::from_openssh(line) {
                Ok(certificate) => certificate.public_key().clone(),
                Err(_) => continue,
            },
        };
        entries.push(Entry {
            line: index + 1,
            marker: Marker::Revoked,
            hosts: HostField::Patterns(vec!["*".to_string()]),
            key,
        });
    }
    entries
}

/// One append at a time within the process, so that concurrent hosts do not interleave lines.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Appends `host_id key` to `path` (creating it, and its directory with mode 0700, if needed),
/// hashing the host name when `hash` is set (`HashKnownHosts yes`).
pub(crate) fn append(
    path: &Path,
    host_id: &str,
    key: &KeyData,
    hash: bool,
) -> Result<(), SshError> {
    let failed = |cause: String| SshError::KnownHosts {
        path: path.to_path_buf(),
        cause,
    };
    let key_text = PublicKey::new(key.clone(), "")
        .to_openssh()
        .map_err(|error| failed(error.to_string()))?;
    let host_field = if hash {
        hashed_host(host_id, &salt_for(host_id))
    } else {
        host_id.to_string()
    };
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|error| failed(error.to_string()))?;
    }
    let needs_newline = std::fs::read(path)
        .map(|bytes| bytes.last().is_some_and(|&b| b != b'\n'))
        .unwrap_or(false);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| failed(error.to_string()))?;
    let text = format!(
        "{}{host_field} {}\n",
        if needs_newline { "\n" } else { "" },
        key_text.trim()
    );
    file.write_all(text.as_bytes())
        .map_err(|error| failed(error.to_string()))
}

/// `|1|salt|hash` for a host, as `ssh-keygen -H` writes it.
fn hashed_host(host_id: &str, salt: &[u8]) -> String {
    let hash = match HmacSha1::new_from_slice(salt) {
        Ok(mac) => mac.chain_update(host_id.as_bytes()).finalize().into_bytes(),
        // HMAC takes keys of any length; this cannot happen, but never write a wrong line.
        Err(_) => return host_id.to_string(),
    };
    format!("|1|{}|{}", BASE64.encode(salt), BASE64.encode(hash))
}

/// A 20-byte salt that differs per call: it only has to keep equal names from hashing alike,
/// so the process's random hasher keys, a counter and the time are enough.
fn salt_for(host_id: &str) -> Vec<u8> {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut salt = Vec::with_capacity(24);
    for round in 0..3u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write(host_id.as_bytes());
        hasher.write_u128(nanos);
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u64(round);
        salt.extend_from_slice(&hasher.finish().to_le_bytes());
    }
    salt.truncate(20);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICjmfPGPb0tob6cEulfaYNbn8zcB8Ki+to7ZgYBMTSVK";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINCeD5mcOH1kaHpqdZ8EBEq5WKtLonarfoH0tdlB5mIp";
    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMfXoix6qPhP9souxdDapELjEJAFCbkXVyMKFInjE+kzhrqGVBqWPGCagEx8ZIJm6Bxujr6IuXoSUgiFY6JAmnw=";

    fn key(text: &str) -> KeyData {
        PublicKey::from_openssh(text)
            .expect("test key parses")
            .key_data()
            .clone()
    }

    fn known(text: &str) -> KnownHosts {
        let mut known = KnownHosts {
            files: vec![(PathBuf::from("/kh"), parse(text))],
            ..KnownHosts::default()
        };
        known.reindex();
        known
    }

    fn at(line: usize) -> LineRef {
        LineRef {
            path: PathBuf::from("/kh"),
            line,
        }
    }

    #[test]
    fn host_id_brackets_non_default_ports_and_lowercases() {
        assert_eq!(host_id("10.0.0.1", 22), "10.0.0.1");
        assert_eq!(host_id("Web01", 2222), "[web01]:2222");
    }

    #[test]
    fn recorded_key_is_trusted_with_its_line() {
        let kh = known(&format!("# comment\n\n[127.0.1.1]:2222 {KEY_A} h1\n"));
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_A)),
            HostKeyVerdict::Trusted(at(3))
        );
    }

    #[test]
    fn other_key_of_the_same_type_is_a_change() {
        let kh = known(&format!("[127.0.1.1]:2222 {KEY_A}\n"));
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_B)),
            HostKeyVerdict::Changed(at(1))
        );
    }

    #[test]
    fn key_of_another_type_is_unknown_and_says_what_is_known() {
        let kh = known(&format!("web {ECDSA}\n"));
        assert_eq!(
            kh.check("web", &key(KEY_A)),
            HostKeyVerdict::Unknown {
                other_types: vec!["ecdsa-sha2-nistp256".to_string()]
            }
        );
    }

    #[test]
    fn key_for_another_port_is_unknown() {
        let kh = known(&format!("[127.0.1.1]:2200 {KEY_A}\n127.0.1.1 {KEY_A}\n"));
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_A)),
            HostKeyVerdict::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn several_hosts_on_one_line() {
        let kh = known(&format!("web01,web02,10.0.0.5 {KEY_A}\n"));
        for host in ["web01", "web02", "10.0.0.5"] {
            assert_eq!(kh.check(host, &key(KEY_A)), HostKeyVerdict::Trusted(at(1)));
        }
    }

    #[test]
    fn wildcards_and_negation_as_openssh() {
        let kh = known(&format!("*.prod,!db.prod {KEY_A}\n[10.0.*]:2222 {KEY_B}\n"));
        assert_eq!(
            kh.check("web.prod", &key(KEY_A)),
            HostKeyVerdict::Trusted(at(1))
        );
        assert_eq!(
            kh.check("db.prod", &key(KEY_A)),
            HostKeyVerdict::Unknown {
                other_types: vec![]
            }
        );
        assert_eq!(
            kh.check("[10.0.3.4]:2222", &key(KEY_B)),
            HostKeyVerdict::Trusted(at(2))
        );
    }

    #[test]
    fn the_index_finds_plain_names_by_name_and_tries_patterns_and_hashed_lines() {
        let salt = b"0123456789abcdefghij";
        let kh = known(&format!(
            "web01,Web02 {KEY_A}\n*.prod,!db.prod {KEY_B}\n{} {ECDSA}\nweb02,!web02 {KEY_B}\n",
            hashed_host("web02", salt)
        ));
        assert_eq!(kh.index.by_name.get("web02"), Some(&vec![(0, 0), (0, 3)]));
        assert_eq!(kh.index.tried, vec![(0, 1), (0, 2)]);
        // Lines in file order, whichever way they were found; the negated line never applies.
        assert_eq!(kh.positions_for("web02").as_ref(), &[(0, 0), (0, 2)]);
        assert_eq!(
            kh.known_algorithms("web02"),
            vec![key(KEY_A).algorithm(), key(ECDSA).algorithm()]
        );
        assert_eq!(kh.positions_for("web.prod").as_ref(), &[(0, 1)]);
        assert!(kh.positions_for("db.prod").is_empty());
        // A second lookup of a name is answered from what the first found.
        assert_eq!(kh.found.lock().expect("lock").len(), 3);
        assert_eq!(
            kh.check("web02", &key(ECDSA)),
            HostKeyVerdict::Trusted(at(3))
        );
    }

    #[test]
    fn the_cache_reads_the_same_files_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, format!("web01 {KEY_A}\n")).expect("write");
        let cache = KnownHostsCache::default();
        let first = cache.get(std::slice::from_ref(&path), None).expect("loads");
        std::fs::write(&path, format!("web01 {KEY_B}\n")).expect("write");
        let second = cache.get(std::slice::from_ref(&path), None).expect("loads");
        assert!(Arc::ptr_eq(&first, &second));
        let other = cache
            .get(&[path, dir.path().join("missing")], None)
            .expect("loads");
        assert_eq!(
            other.check("web01", &key(KEY_B)),
            HostKeyVerdict::Trusted(LineRef {
                path: dir.path().join("known_hosts"),
                line: 1,
            })
        );
    }

    #[test]
    fn hashed_entries_match_only_their_host_and_port() {
        // Written by `ssh-keygen -H` for "[127.0.1.1]:2222".
        let salt = b"0123456789abcdefghij";
        let line = format!("{} {KEY_A}\n", hashed_host("[127.0.1.1]:2222", salt));
        assert!(line.starts_with("|1|MDEyMzQ1Njc4OWFiY2RlZmdoaWo=|"));
        let kh = known(&line);
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_A)),
            HostKeyVerdict::Trusted(at(1))
        );
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_B)),
            HostKeyVerdict::Changed(at(1))
        );
        assert!(matches!(
            kh.check("127.0.1.1", &key(KEY_A)),
            HostKeyVerdict::Unknown { .. }
        ));
    }

    #[test]
    fn hashed_entries_written_by_ssh_keygen_match() {
        // `ssh-keygen -H` (OpenSSH 9.2) output for "localhost" and "[127.0.1.1]:2222".
        let kh = known(&format!(
            "|1|wopFRtH6YmsnvxdQFq8KLvLabTg=|znWfTRwRmyNOMl9YQPSpnU4ZVzQ= {KEY_A}\n\
             |1|kt5wRAaM97jIXC5bKHqnYf3/YQE=|/XuNn7QlByj2Gv2jt9yFpkf2WLs= {KEY_A}\n"
        ));
        assert_eq!(
            kh.check("localhost", &key(KEY_A)),
            HostKeyVerdict::Trusted(at(1))
        );
        assert_eq!(
            kh.check("[127.0.1.1]:2222", &key(KEY_A)),
            HostKeyVerdict::Trusted(at(2))
        );
        assert!(matches!(
            kh.check("127.0.1.1", &key(KEY_A)),
            HostKeyVerdict::Unknown { .. }
        ));
    }

    #[test]
    fn revoked_key_is_refused_even_when_also_listed() {
        let kh = known(&format!("web {KEY_A}\n@revoked * {KEY_A}\n"));
        assert_eq!(kh.check("web", &key(KEY_A)), HostKeyVerdict::Revoked(at(2)));
        assert_eq!(
            kh.check("other", &key(KEY_B)),
            HostKeyVerdict::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn cert_authority_lines_are_not_host_keys() {
        let kh = known(&format!("@cert-authority *.prod {KEY_A}\n"));
        assert!(kh.has_cert_authority("web.prod"));
        assert!(!kh.has_cert_authority("web.dev"));
        assert_eq!(
            kh.check("web.prod", &key(KEY_A)),
            HostKeyVerdict::Unknown {
                other_types: vec![]
            }
        );
    }

    // Made with ssh-keygen: a CA, a host certificate for `web.prod,*.lab` valid forever, one
    // for `web.prod` that expired in 2000, and a user certificate, all signed by the CA.
    const CA: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEj/qQpKV0XcL01m1EWF4Brl6WILaS3/FHF6zKrjL6G/";
    const HOST_CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIC86yhSoIZCAfxknigLIpivPxH7vAfUq6EBFVBCD+v0LAAAAIDt6Uqpgy+JzFAf6wjvouAw+7WpPPKou0sw60R4NL7TeAAAAAAAAAAAAAAACAAAAA3dlYgAAABUAAAAId2ViLnByb2QAAAAFKi5sYWIAAAAAAAAAAP//////////AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBI/6kKSldF3C9NZtRFheAa5eliC2kt/xRxesyq4y+hvwAAAFMAAAALc3NoLWVkMjU1MTkAAABAw0MtZJcDTVhmEbujeiFTyGxQ5RxwC3Z7KWbhSV4u4QZnVuMhFoz06ssCHUWqT7oCdUTAk/6QEgDU6lpbKZ4UAA==";
    const HOST_KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDt6Uqpgy+JzFAf6wjvouAw+7WpPPKou0sw60R4NL7Te";
    const EXPIRED_CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAICY7+u78qCoHHqCYB7T/m7DtJKPRE2FQD7/tp8KpmruTAAAAIDt6Uqpgy+JzFAf6wjvouAw+7WpPPKou0sw60R4NL7TeAAAAAAAAAAAAAAACAAAAA2V4cAAAAAwAAAAId2ViLnByb2QAAAAAOG1DgAAAAAA4bpUAAAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBI/6kKSldF3C9NZtRFheAa5eliC2kt/xRxesyq4y+hvwAAAFMAAAALc3NoLWVkMjU1MTkAAABABpNgiccW7Ti1RxjYNFcKeLkupcw0+wIAAugUx+a1a6YIQR6F2aPZ0pOYzkO9cUz0Jc/b18XRfJoGtytLVnAtCA==";
    const USER_CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAILpFCDpFJSmXpxbIFs2GEoVkIgyQQrnohWCW2bWqEXA8AAAAIPWnWxEB9Y1tNxB/7VGXoGVPd+rYXQQ6/B6TXS0EJcSJAAAAAAAAAAAAAAABAAAABHVzZXIAAAAMAAAACHdlYi5wcm9kAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIEj/qQpKV0XcL01m1EWF4Brl6WILaS3/FHF6zKrjL6G/AAAAUwAAAAtzc2gtZWQyNTUxOQAAAECZUrPlzke2eH9RWVyxyCXjwv804JiRMyRbk8A9YLunVBvWGIJzWmG7c4zBKaHPvLmqaCjV5oyMM7MvFn2T2ZUB";
    const NOW: u64 = 1_750_000_000;

    fn cert(text: &str) -> russh::keys::Certificate {
        russh::keys::Certificate::from_openssh(text).expect("test certificate parses")
    }

    #[test]
    fn host_certificate_signed_by_a_trusted_ca_is_trusted() {
        let kh = known(&format!("@cert-authority *.prod,[*.lab]:* {CA}\n"));
        assert_eq!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::Trusted(at(1))
        );
        assert_eq!(
            kh.check_certificate("[h1.lab]:2222", "h1.lab", &cert(HOST_CERT), NOW),
            CertVerdict::Trusted(at(1))
        );
    }

    #[test]
    fn host_certificate_for_another_name_is_not_trusted() {
        let kh = known(&format!("@cert-authority * {CA}\n"));
        let verdict = kh.check_certificate("db.prod", "db.prod", &cert(HOST_CERT), NOW);
        assert!(
            matches!(&verdict, CertVerdict::NotTrusted(why) if why.contains("not db.prod")),
            "{verdict:?}"
        );
    }

    #[test]
    fn host_certificate_without_a_ca_line_for_the_host_is_not_trusted() {
        let kh = known(&format!("@cert-authority *.lab {CA}\nweb.prod {CA}\n"));
        assert!(matches!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::NotTrusted(_)
        ));
    }

    // Made with `ssh-keygen -s ca -I noprinc -h -V always:forever` (no -n): no principals.
    const NO_PRINCIPALS_CA: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeKqTnBliIslxwaI0eDxjs6cRKVWy33WnvVJkKhcUU4";
    const NO_PRINCIPALS_CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIBGa+xQlSu60o5RfA3p31f3hCFRBr+Ix9mBo61tLckLJAAAAICZV9AMkAEJlqiz6jyOlqvLtqIkHuSlhZnRacs4nQEfkAAAAAAAAAAAAAAACAAAAB25vcHJpbmMAAAAAAAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgF4qpOcGWIiyXHBojR4PGOzpxEpVbLfdae9UmQqFxRTgAAABTAAAAC3NzaC1lZDI1NTE5AAAAQG9imFaFkugpYnLWrxvoh49pjoQ7uvBxOVCm0E7RN1RTylb3nXypj9anLwZLX0OdSTSG8n9VeUbEg/sAeRVewwo=";

    #[test]
    fn host_certificate_without_principals_is_refused_for_every_host() {
        let kh = known(&format!("@cert-authority * {NO_PRINCIPALS_CA}\n"));
        for host in ["web.prod", "db.prod"] {
            let verdict = kh.check_certificate(host, host, &cert(NO_PRINCIPALS_CERT), NOW);
            assert!(
                matches!(&verdict, CertVerdict::NotTrusted(why) if why.contains("lacks a principal list")),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn expired_and_user_certificates_are_not_trusted() {
        let kh = known(&format!("@cert-authority * {CA}\n"));
        assert!(matches!(
            kh.check_certificate("web.prod", "web.prod", &cert(EXPIRED_CERT), NOW),
            CertVerdict::NotTrusted(_)
        ));
        let verdict = kh.check_certificate("web.prod", "web.prod", &cert(USER_CERT), NOW);
        assert_eq!(
            verdict,
            CertVerdict::NotTrusted("it is a user certificate".to_string())
        );
    }

    #[test]
    fn revoked_ca_or_revoked_certified_key_refuses_the_certificate() {
        let kh = known(&format!("@cert-authority * {CA}\n@revoked * {CA}\n"));
        assert_eq!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::Revoked(at(2))
        );
        let kh = known(&format!(
            "@cert-authority * {CA}\n@revoked web.prod {HOST_KEY}\n"
        ));
        assert_eq!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::Revoked(at(2))
        );
    }

    #[test]
    fn broken_and_unknown_marker_lines_are_skipped() {
        let kh = known(&format!(
            "garbage\nweb ssh-ed25519 notbase64\n@future web {KEY_B}\nweb {KEY_A}\n"
        ));
        assert_eq!(kh.check("web", &key(KEY_A)), HostKeyVerdict::Trusted(at(4)));
    }

    #[test]
    fn revoked_host_keys_file_refuses_its_keys_for_every_host() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("revoked");
        std::fs::write(
            &path,
            format!("# retired\n\n{KEY_A} old web key\nnot a key\n"),
        )
        .expect("write");
        let mut kh = known(&format!("web {KEY_A}\ndb {KEY_B}\n"));
        kh.add_revoked_file(&path).expect("reads");
        let revoked_at = LineRef {
            path: path.clone(),
            line: 3,
        };
        assert_eq!(
            kh.check("web", &key(KEY_A)),
            HostKeyVerdict::Revoked(revoked_at.clone())
        );
        assert_eq!(
            kh.check("[other]:2222", &key(KEY_A)),
            HostKeyVerdict::Revoked(revoked_at)
        );
        assert_eq!(kh.check("db", &key(KEY_B)), HostKeyVerdict::Trusted(at(2)));
    }

    #[test]
    fn revoked_host_keys_file_refuses_a_ca_and_a_certified_key() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("revoked");
        std::fs::write(&path, format!("{CA}\n")).expect("write");
        let mut kh = known(&format!("@cert-authority * {CA}\n"));
        kh.add_revoked_file(&path).expect("reads");
        assert!(matches!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::Revoked(_)
        ));
        // The certificate itself listed revokes the key it certifies.
        std::fs::write(&path, format!("{HOST_CERT}\n")).expect("write");
        let mut kh = known(&format!("@cert-authority * {CA}\nweb.prod {HOST_KEY}\n"));
        kh.add_revoked_file(&path).expect("reads");
        assert!(matches!(
            kh.check_certificate("web.prod", "web.prod", &cert(HOST_CERT), NOW),
            CertVerdict::Revoked(_)
        ));
        assert!(matches!(
            kh.check("web.prod", &key(HOST_KEY)),
            HostKeyVerdict::Revoked(_)
        ));
    }

    #[test]
    fn missing_revoked_host_keys_file_refuses_every_host() {
        let mut kh = known(&format!("web {KEY_A}\n"));
        let error = kh
            .add_revoked_file(Path::new("/nonexistent/revoked"))
            .expect_err("refused");
        assert!(matches!(error, SshError::KnownHosts { .. }));
        assert!(
            error.to_string().contains("every host is refused"),
            "{error}"
        );
    }

    #[test]
    fn binary_krl_revoked_host_keys_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("revoked.krl");
        std::fs::write(&path, b"SSHKRL\n\0\0\0\0\x01rest").expect("write");
        let error = KnownHosts::default()
            .add_revoked_file(&path)
            .expect_err("refused");
        assert!(
            error.to_string().contains("key revocation list (KRL)"),
            "{error}"
        );
    }

    #[test]
    fn known_algorithms_in_file_order() {
        let kh = known(&format!("web {ECDSA}\nweb {KEY_A}\n"));
        let names: Vec<String> = kh
            .known_algorithms("web")
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(names, ["ecdsa-sha2-nistp256", "ssh-ed25519"]);
    }

    #[test]
    fn missing_file_is_empty() {
        let kh = KnownHosts::load(&[PathBuf::from("/nonexistent/known_hosts")]).expect("loads");
        assert!(matches!(
            kh.check("h", &key(KEY_A)),
            HostKeyVerdict::Unknown { .. }
        ));
    }

    #[test]
    fn append_then_check_plain_and_hashed() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("sub").join("known_hosts");
        append(&path, "[127.0.1.1]:2222", &key(KEY_A), false).expect("append");
        append(&path, "[127.0.1.2]:2222", &key(KEY_B), true).expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(&format!("[127.0.1.1]:2222 {KEY_A}\n|1|")));
        let kh = KnownHosts::load(std::slice::from_ref(&path)).expect("loads");
        assert!(matches!(
            kh.check("[127.0.1.1]:2222", &key(KEY_A)),
            HostKeyVerdict::Trusted(_)
        ));
        assert!(matches!(
            kh.check("[127.0.1.2]:2222", &key(KEY_B)),
            HostKeyVerdict::Trusted(_)
        ));
    }

    #[test]
    fn append_adds_a_newline_to_a_file_that_lacks_one() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, format!("web {KEY_A}")).expect("write");
        append(&path, "db", &key(KEY_B), false).expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("web {KEY_A}\ndb {KEY_B}\n"));
    }
}
