//! `~/.ssh/config` as OpenSSH reads it: `Host` and `Match` blocks with wildcard and negated
//! patterns, `Include`, and "the first value obtained wins" (except `IdentityFile` and
//! `CertificateFile`, which accumulate). Only the keywords fleetrmi acts on are kept; the others
//! are read past, as a client that does not use them would.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::pattern::{ListMatch, match_host_list, wildcard_match};

/// OpenSSH refuses deeper `Include` nesting than this (`READCONF_MAX_DEPTH`).
const MAX_INCLUDE_DEPTH: usize = 16;

/// The system-wide client configuration OpenSSH reads after the user's.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// A file that could not be read or holds a line OpenSSH would refuse.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("cannot read ssh config {path}: {cause}")]
    Read { path: PathBuf, cause: String },

    #[error("ssh config {path} line {line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Where a value came from: a file and a line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigOrigin {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A value with the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue<T> {
    pub value: T,
    pub origin: ConfigOrigin,
}

/// `StrictHostKeyChecking` as written; `ask` is kept apart because fleetrmi never asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    Ask,
    AcceptNew,
    No,
}

/// What the configuration says for one host. `None`/empty means no line set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName`, with `%h` already replaced by the name looked up.
    pub hostname: Option<ConfigValue<String>>,
    pub user: Option<ConfigValue<String>>,
    pub port: Option<ConfigValue<u16>>,
    /// `IdentityFile` lines in order, tokens (`~`, `%d`, `%h`, `%r`, …) not yet expanded.
    pub identity_files: Vec<ConfigValue<String>>,
    /// `CertificateFile` lines in order, tokens not yet expanded.
    pub certificate_files: Vec<ConfigValue<String>>,
    pub identities_only: Option<ConfigValue<bool>>,
    /// `ProxyJump` as written (`none` included).
    pub proxy_jump: Option<ConfigValue<String>>,
    /// `ProxyCommand` as written; fleetrmi cannot run one, but must know it was asked for.
    pub proxy_command: Option<ConfigValue<String>>,
    pub user_known_hosts_files: Option<ConfigValue<Vec<String>>>,
    pub global_known_hosts_files: Option<ConfigValue<Vec<String>>>,
    pub strict_host_key_checking: Option<ConfigValue<StrictHostKeyChecking>>,
    pub connect_timeout: Option<ConfigValue<Duration>>,
    pub hash_known_hosts: Option<ConfigValue<bool>>,
    /// `IdentityAgent`: a socket path, `SSH_AUTH_SOCK`, or `none`.
    pub identity_agent: Option<ConfigValue<String>>,
    /// `RevokedHostKeys`: a file of revoked public keys (or `none`), tokens not yet expanded.
    pub revoked_host_keys: Option<ConfigValue<String>>,
    /// Options that bear on host key checking but that fleetrmi does not implement
    /// (`HostKeyAlias`, `KnownHostsCommand`), as `Keyword value`: the caller says so.
    pub unsupported_options: Vec<ConfigValue<String>>,
    /// `Match` criteria fleetrmi cannot evaluate (`exec`, `localnetwork`, …): such blocks are
    /// treated as not matching, and the caller may say so.
    pub unsupported_match: Vec<ConfigValue<String>>,
}

/// One or more parsed configuration files, in the order OpenSSH reads them.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    files: Vec<ConfigFile>,
}

#[derive(Debug, Clone)]
struct ConfigFile {
    path: PathBuf,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Host {
        patterns: Vec<String>,
    },
    Match {
        criteria: Vec<Criterion>,
        line: usize,
    },
    Directive {
        directive: Directive,
        line: usize,
    },
    Include {
        files: Vec<ConfigFile>,
    },
}

#[derive(Debug, Clone)]
struct Criterion {
    negated: bool,
    kind: CriterionKind,
}

#[derive(Debug, Clone)]
enum CriterionKind {
    All,
    Canonical,
    Final,
    Host(Vec<String>),
    OriginalHost(Vec<String>),
    User(Vec<String>),
    LocalUser(Vec<String>),
    Unsupported(String),
}

#[derive(Debug, Clone)]
enum Directive {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    CertificateFile(String),
    IdentitiesOnly(bool),
    ProxyJump(String),
    ProxyCommand(String),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    ConnectTimeout(Duration),
    HashKnownHosts(bool),
    IdentityAgent(String),
    RevokedHostKeys(String),
    /// A keyword fleetrmi reads but does not implement, kept to say so: `Keyword value`.
    Unsupported(String),
}

/// Whose file is being read: relative `Include` paths are resolved against `~/.ssh` for the
/// user's configuration (and `-F FILE`), against `/etc/ssh` for the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigScope {
    User,
    System,
}

impl SshConfig {
    /// No configuration at all (`--no-ssh-config`).
    pub fn empty() -> SshConfig {
        SshConfig::default()
    }

    /// OpenSSH's default: `~/.ssh/config`, then `/etc/ssh/ssh_config`; a missing file is skipped.
    pub fn load_default(home: Option<&Path>) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        if let Some(home) = home {
            let user = home.join(".ssh").join("config");
            if user.exists() {
                config.add_file(&user, ConfigScope::User, home)?;
            }
        }
        let system = Path::new(SYSTEM_CONFIG);
        if system.exists() {
            config.add_file(system, ConfigScope::System, home.unwrap_or(Path::new("/")))?;
        }
        Ok(config)
    }

    /// Only `path`, as `ssh -F FILE` reads it (the system file is not read); it must exist.
    pub fn load_file(path: &Path, home: Option<&Path>) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        config.add_file(path, ConfigScope::User, home.unwrap_or(Path::new("/")))?;
        Ok(config)
    }

    /// Reads one more file; its values count only where earlier files set nothing.
    pub fn add_file(
        &mut self,
        path: &Path,
        scope: ConfigScope,
        home: &Path,
    ) -> Result<(), SshConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| SshConfigError::Read {
            path: path.to_path_buf(),
            cause: error.to_string(),
        })?;
        let file = parse_file(path, &text, scope, home, 0)?;
        self.files.push(file);
        Ok(())
    }

    /// Parses configuration text as if read from `path` (for tests and `Include`).
    pub fn from_text(path: &Path, text: &str, home: &Path) -> Result<SshConfig, SshConfigError> {
        Ok(SshConfig {
            files: vec![parse_file(path, text, ConfigScope::User, home, 0)?],
        })
    }

    /// The settings for `host` (the name as it would be given to `ssh`), as OpenSSH would
    /// obtain them. `local_user` is for `Match localuser` and as the user before any `User`.
    pub fn query(&self, host: &str, local_user: &str) -> HostConfig {
        let mut query = Query {
            original_host: host,
            local_user,
            found: HostConfig::default(),
        };
        for file in &self.files {
            query.walk(file, true);
        }
        query.found
    }
}

struct Query<'a> {
    original_host: &'a str,
    local_user: &'a str,
    found: HostConfig,
}

impl Query<'_> {
    fn walk(&mut self, file: &ConfigFile, mut active: bool) {
        for item in &file.items {
            match item {
                Item::Host { patterns } => {
                    active =
                        match_host_list(self.original_host, patterns.iter().map(String::as_str))
                            == ListMatch::Matched;
                }
                Item::Match { criteria, line } => {
                    active = self.match_block(criteria, &file.path, *line);
                }
                Item::Directive { directive, line } if active => {
                    let origin = ConfigOrigin {
                        file: file.path.clone(),
                        line: *line,
                    };
                    self.apply(directive, origin);
                }
                Item::Directive { .. } => {}
                Item::Include { files } => {
                    // An Include in a block that does not apply reads nothing (OpenSSH's
                    // SSHCONF_NEVERMATCH); after it, the including block's state is restored.
                    if active {
                        for included in files {
                            self.walk(included, true);
                        }
                    }
                }
            }
        }
    }

    fn match_block(&mut self, criteria: &[Criterion], file: &Path, line: usize) -> bool {
        let host = self
            .found
            .hostname
            .as_ref()
            .map(|value| value.value.clone())
            .unwrap_or_else(|| self.original_host.to_string());
        let user = self
            .found
            .user
            .as_ref()
            .map(|value| value.value.clone())
            .unwrap_or_else(|| self.local_user.to_string());
        let mut all = true;
        for criterion in criteria {
            let matched = match &criterion.kind {
                CriterionKind::All | CriterionKind::Final => true,
                CriterionKind::Canonical => false,
                CriterionKind::Host(list) => list_matches(&host, list),
                CriterionKind::OriginalHost(list) => list_matches(self.original_host, list),
                CriterionKind::User(list) => plain_list_matches(&user, list),
                CriterionKind::LocalUser(list) => plain_list_matches(self.local_user, list),
                CriterionKind::Unsupported(name) => {
                    self.found.unsupported_match.push(ConfigValue {
                        value: name.clone(),
                        origin: ConfigOrigin {
                            file: file.to_path_buf(),
                            line,
                        },
                    });
                    return false;
                }
            };
            if matched == criterion.negated {
                all = false;
            }
        }
        all
    }

    fn apply(&mut self, directive: &Directive, origin: ConfigOrigin) {
        fn first<T: Clone>(slot: &mut Option<ConfigValue<T>>, value: &T, origin: ConfigOrigin) {
            if slot.is_none() {
                *slot = Some(ConfigValue {
                    value: value.clone(),
                    origin,
                });
            }
        }
        let found = &mut self.found;
        match directive {
            Directive::HostName(name) => {
                let expanded = name
                    .replace("%%", "\u{0}")
                    .replace("%h", self.original_host)
                    .replace('\u{0}', "%");
                first(&mut found.hostname, &expanded, origin);
            }
            Directive::User(user) => first(&mut found.user, user, origin),
            Directive::Port(port) => first(&mut found.port, port, origin),
            Directive::IdentityFile(path) => {
                if !found.identity_files.iter().any(|seen| &seen.value == path) {
                    found.identity_files.push(ConfigValue {
                        value: path.clone(),
                        origin,
                    });
                }
            }
            Directive::CertificateFile(path) => {
                if !found
                    .certificate_files
                    .iter()
                    .any(|seen| &seen.value == path)
                {
                    found.certificate_files.push(ConfigValue {
                        value: path.clone(),
                        origin,
                    });
                }
            }
            Directive::IdentitiesOnly(flag) => first(&mut found.identities_only, flag, origin),
            // ProxyJump and ProxyCommand share one slot in OpenSSH: the first of either wins.
            Directive::ProxyJump(jump) => {
                if found.proxy_command.is_none() {
                    first(&mut found.proxy_jump, jump, origin);
                }
            }
            Directive::ProxyCommand(command) => {
                if found.proxy_jump.is_none() {
                    first(&mut found.proxy_command, command, origin);
                }
            }
            Directive::UserKnownHostsFile(files) => {
                first(&mut found.user_known_hosts_files, files, origin)
            }
            Directive::GlobalKnownHostsFile(files) => {
                first(&mut found.global_known_hosts_files, files, origin)
            }
            Directive::StrictHostKeyChecking(mode) => {
                first(&mut found.strict_host_key_checking, mode, origin)
            }
            Directive::ConnectTimeout(timeout) => {
                first(&mut found.connect_timeout, timeout, origin)
            }
            Directive::HashKnownHosts(flag) => first(&mut found.hash_known_hosts, flag, origin),
            Directive::IdentityAgent(agent) => first(&mut found.identity_agent, agent, origin),
            Directive::RevokedHostKeys(path) => first(&mut found.revoked_host_keys, path, origin),
            Directive::Unsupported(text) => found.unsupported_options.push(ConfigValue {
                value: text.clone(),
                origin,
            }),
        }
    }
}

/// Host-style list (comma-separated, wildcards, negation, case-insensitive).
fn list_matches(name: &str, list: &[String]) -> bool {
    match_host_list(
        name,
        list.iter().flat_map(|item| item.split(',')).map(str::trim),
    ) == ListMatch::Matched
}

/// User-style list: like a host list but case-sensitive.
fn plain_list_matches(name: &str, list: &[String]) -> bool {
    let mut matched = false;
    for pattern in list.iter().flat_map(|item| item.split(',')) {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        if wildcard_match(name, pattern) {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

fn parse_file(
    path: &Path,
    text: &str,
    scope: ConfigScope,
    home: &Path,
    depth: usize,
) -> Result<ConfigFile, SshConfigError> {
    let mut items = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let error = |message: String| SshConfigError::Line {
            path: path.to_path_buf(),
            line,
            message,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (keyword, rest) = split_keyword(trimmed);
        let keyword = keyword.to_ascii_lowercase();
        let args = split_args(rest).map_err(error)?;
        let item = match keyword.as_str() {
            "host" => {
                if args.is_empty() {
                    return Err(error("Host needs at least one pattern".to_string()));
                }
                Item::Host { patterns: args }
            }
            "match" => Item::Match {
                criteria: parse_match(&args).map_err(error)?,
                line,
            },
            "include" => {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(error(format!(
                        "Include nested more than {MAX_INCLUDE_DEPTH} deep"
                    )));
                }
                if args.is_empty() {
                    return Err(error("Include needs a file".to_string()));
                }
                let mut files = Vec::new();
                for arg in &args {
                    for included in include_paths(arg, scope, home) {
                        // Directories and unreadable files matched by a glob are skipped, as
                        // OpenSSH skips them; a named file that is missing is not an error either.
                        let Ok(text) = std::fs::read_to_string(&included) else {
                            continue;
                        };
                        files.push(parse_file(&included, &text, scope, home, depth + 1)?);
                    }
                }
                Item::Include { files }
            }
            _ => match parse_directive(&keyword, &args, rest).map_err(error)? {
                Some(directive) => Item::Directive { directive, line },
                None => continue,
            },
        };
        items.push(item);
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        items,
    })
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    (keyword, rest)
}

/// Splits arguments on whitespace, honouring double and single quotes and backslash escapes.
pub(crate) fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_arg = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => match chars.next() {
                Some(next) => {
                    current.push(next);
                    in_arg = true;
                }
                None => current.push('\\'),
            },
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_arg = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_arg {
                    args.push(std::mem::take(&mut current));
                    in_arg = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_arg = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if in_arg {
        args.push(current);
    }
    Ok(args)
}

fn parse_match(args: &[String]) -> Result<Vec<Criterion>, String> {
    if args.is_empty() {
        return Err("Match needs criteria".to_string());
    }
    let mut criteria = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let (negated, name) = match word.strip_prefix('!') {
            Some(rest) => (true, rest.to_ascii_lowercase()),
            None => (false, word.to_ascii_lowercase()),
        };
        let mut argument = || {
            words
                .next()
                .map(|value| vec![value.clone()])
                .ok_or_else(|| format!("Match {name} needs an argument"))
        };
        let kind = match name.as_str() {
            "all" => CriterionKind::All,
            "canonical" => CriterionKind::Canonical,
            "final" => CriterionKind::Final,
            "host" => CriterionKind::Host(argument()?),
            "originalhost" => CriterionKind::OriginalHost(argument()?),
            "user" => CriterionKind::User(argument()?),
            "localuser" => CriterionKind::LocalUser(argument()?),
            "exec" | "localnetwork" | "tagged" | "version" | "sessiontype" | "command" => {
                let _ = argument()?;
                CriterionKind::Unsupported(format!("Match {name}"))
            }
            other => return Err(format!("unknown Match criterion {other:?}")),
        };
        criteria.push(Criterion { negated, kind });
    }
    Ok(criteria)
}

fn parse_directive(
    keyword: &str,
    args: &[String],
    raw_rest: &str,
) -> Result<Option<Directive>, String> {
    let one = || -> Result<String, String> {
        match args {
            [value] => Ok(value.clone()),
            [] => Err(format!("{keyword} needs a value")),
            _ => Err(format!("{keyword} takes one value, got {}", args.len())),
        }
    };
    let directive = match keyword {
        "hostname" => Directive::HostName(one()?),
        "user" => Directive::User(one()?),
        "port" => {
            let value = one()?;
            match value.parse::<u16>() {
                Ok(port) if port > 0 => Directive::Port(port),
                _ => return Err(format!("bad port {value:?}")),
            }
        }
        "identityfile" => Directive::IdentityFile(one()?),
        "certificatefile" => Directive::CertificateFile(one()?),
        "identitiesonly" => Directive::IdentitiesOnly(parse_flag(keyword, &one()?)?),
        "hashknownhosts" => Directive::HashKnownHosts(parse_flag(keyword, &one()?)?),
        "proxyjump" => Directive::ProxyJump(one()?),
        // The command is a shell command line: keep it as written.
        "proxycommand" => Directive::ProxyCommand(raw_rest.to_string()),
        "userknownhostsfile" | "globalknownhostsfile" => {
            if args.is_empty() {
                return Err(format!("{keyword} needs a file"));
            }
            if keyword == "userknownhostsfile" {
                Directive::UserKnownHostsFile(args.to_vec())
            } else {
                Directive::GlobalKnownHostsFile(args.to_vec())
            }
        }
        "stricthostkeychecking" => {
            let value = one()?;
            Directive::StrictHostKeyChecking(match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => StrictHostKeyChecking::Yes,
                "ask" => StrictHostKeyChecking::Ask,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                "no" | "false" | "off" => StrictHostKeyChecking::No,
                _ => {
                    return Err(format!(
                        "bad StrictHostKeyChecking {value:?} (yes, no, ask, accept-new)"
                    ));
                }
            })
        }
        "connecttimeout" => Directive::ConnectTimeout(parse_time(&one()?)?),
        "identityagent" => Directive::IdentityAgent(one()?),
        "revokedhostkeys" => Directive::RevokedHostKeys(one()?),
        // These change which host keys are trusted; fleetrmi does not implement them, and
        // says so rather than read past them.
        "hostkeyalias" => Directive::Unsupported(format!("HostKeyAlias {}", one()?)),
        "knownhostscommand" => {
            if raw_rest.is_empty() {
                return Err(format!("{keyword} needs a command"));
            }
            Directive::Unsupported(format!("KnownHostsCommand {raw_rest}"))
        }
        _ => return Ok(None),
    };
    Ok(Some(directive))
}

fn parse_flag(keyword: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("bad {keyword} value {value:?} (yes or no)")),
    }
}

/// OpenSSH's time format: `30`, `30s`, `1m30s`, `2h`, `1d`, `1w` (case-insensitive).
pub(crate) fn parse_time(text: &str) -> Result<Duration, String> {
    let bad = || format!("bad time {text:?} (examples: 30, 30s, 1m30s)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let value: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(value.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() {
        let value: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(value);
    }
    Ok(Duration::from_secs(total))
}

/// The files an `Include` argument names: `~` expanded, relative paths resolved for the scope,
/// wildcards in any path component expanded and sorted, as glob(3) does.
fn include_paths(arg: &str, scope: ConfigScope, home: &Path) -> Vec<PathBuf> {
    let path = if let Some(rest) = arg.strip_prefix("~/") {
        home.join(rest)
    } else if Path::new(arg).is_absolute() {
        PathBuf::from(arg)
    } else {
        match scope {
            ConfigScope::User => home.join(".ssh").join(arg),
            ConfigScope::System => Path::new("/etc/ssh").join(arg),
        }
    };
    expand_glob(&path)
}

fn expand_glob(path: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("/")];
    for component in path.components().skip(1) {
        let part = component.as_os_str().to_string_lossy().to_string();
        let has_wildcard = part.contains('*') || part.contains('?');
        let mut next = Vec::new();
        for base in &found {
            if !has_wildcard {
                next.push(base.join(&part));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(base) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().to_string())
                .filter(|name| !name.starts_with('.') || part.starts_with('.'))
                .filter(|name| wildcard_match(name, &part))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|name| base.join(name)));
        }
        found = next;
    }
    found.into_iter().filter(|path| path.is_file()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SshConfig {
        SshConfig::from_text(Path::new("/cfg"), text, Path::new("/home/tester")).expect("parses")
    }

    #[test]
    fn first_value_obtained_wins_across_blocks() {
        let cfg = config(
            "Host web01\n  User deploy\n  Port 2201\n\nHost *\n  User nobody\n  Port 22\n  ConnectTimeout 7\n",
        );
        let web = cfg.query("web01", "me");
        assert_eq!(web.user.expect("user").value, "deploy");
        assert_eq!(web.port.as_ref().expect("port").value, 2201);
        assert_eq!(web.port.expect("port").origin.line, 3);
        assert_eq!(
            web.connect_timeout.expect("timeout").value,
            Duration::from_secs(7)
        );
        let other = cfg.query("db01", "me");
        assert_eq!(other.user.expect("user").value, "nobody");
    }

    #[test]
    fn lines_before_any_host_apply_to_every_host() {
        let cfg = config("User early\nHost web\n  User late\n");
        assert_eq!(cfg.query("web", "me").user.expect("user").value, "early");
    }

    #[test]
    fn host_line_with_several_patterns_and_a_negation() {
        let cfg = config("Host *.prod !bastion.prod db?\n  ProxyJump bastion.prod\n");
        assert!(cfg.query("web.prod", "me").proxy_jump.is_some());
        assert!(cfg.query("db1", "me").proxy_jump.is_some());
        assert!(cfg.query("bastion.prod", "me").proxy_jump.is_none());
        assert!(cfg.query("db10", "me").proxy_jump.is_none());
    }

    #[test]
    fn identity_files_accumulate_in_order_without_repeats() {
        let cfg = config(
            "Host web\n  IdentityFile ~/.ssh/web\nHost *\n  IdentityFile ~/.ssh/all\n  IdentityFile ~/.ssh/web\n",
        );
        let files: Vec<String> = cfg
            .query("web", "me")
            .identity_files
            .into_iter()
            .map(|value| value.value)
            .collect();
        assert_eq!(files, ["~/.ssh/web", "~/.ssh/all"]);
    }

    #[test]
    fn equals_sign_quotes_and_case_insensitive_keywords() {
        let cfg = config(
            "HOST web\n  hostname=10.0.0.5\n  IdentityFile \"/keys/my key\"\n  UserKnownHostsFile = /a /b\n",
        );
        let web = cfg.query("web", "me");
        assert_eq!(web.hostname.expect("hostname").value, "10.0.0.5");
        assert_eq!(web.identity_files[0].value, "/keys/my key");
        assert_eq!(
            web.user_known_hosts_files.expect("files").value,
            ["/a", "/b"]
        );
    }

    #[test]
    fn hostname_expands_percent_h() {
        let cfg = config("Host *.lab\n  HostName %h.internal.example\n");
        assert_eq!(
            cfg.query("h1.lab", "me").hostname.expect("hostname").value,
            "h1.lab.internal.example"
        );
    }

    #[test]
    fn strict_host_key_checking_values() {
        let cfg = config(
            "Host a\n StrictHostKeyChecking accept-new\nHost b\n StrictHostKeyChecking no\nHost c\n StrictHostKeyChecking yes\n",
        );
        let mode = |host: &str| {
            cfg.query(host, "me")
                .strict_host_key_checking
                .expect("set")
                .value
        };
        assert_eq!(mode("a"), StrictHostKeyChecking::AcceptNew);
        assert_eq!(mode("b"), StrictHostKeyChecking::No);
        assert_eq!(mode("c"), StrictHostKeyChecking::Yes);
    }

    #[test]
    fn bad_values_name_the_file_and_line() {
        let error = SshConfig::from_text(
            Path::new("/cfg"),
            "Host a\n  Port http\n",
            Path::new("/home/tester"),
        )
        .expect_err("bad port");
        assert_eq!(
            error.to_string(),
            "ssh config /cfg line 2: bad port \"http\""
        );
        let error =
            SshConfig::from_text(Path::new("/cfg"), "Host a\n  User \"x\n", Path::new("/h"))
                .expect_err("bad quote");
        assert!(error.to_string().contains("unterminated"));
    }

    #[test]
    fn unknown_keywords_are_read_past() {
        let cfg = config("Host a\n  BatchMode yes\n  LogLevel ERROR\n  User u\n");
        assert_eq!(cfg.query("a", "me").user.expect("user").value, "u");
    }

    #[test]
    fn proxy_jump_and_proxy_command_share_a_slot() {
        let cfg = config("Host a\n  ProxyCommand ssh -W %h:%p b\n  ProxyJump c\n");
        let a = cfg.query("a", "me");
        assert_eq!(a.proxy_command.expect("command").value, "ssh -W %h:%p b");
        assert!(a.proxy_jump.is_none());
    }

    #[test]
    fn match_host_sees_the_hostname_set_so_far() {
        let cfg = config(
            "Host web\n  HostName 10.1.2.3\nMatch host 10.1.*\n  User tenant\nMatch originalhost web user tenant\n  Port 2022\n",
        );
        let web = cfg.query("web", "me");
        assert_eq!(web.user.expect("user").value, "tenant");
        assert_eq!(web.port.expect("port").value, 2022);
    }

    #[test]
    fn match_all_negation_and_unsupported_criteria() {
        let cfg = config(
            "Match !host db*\n  User notdb\nMatch exec \"true\"\n  Port 1\nMatch all\n  Port 2\n",
        );
        let web = cfg.query("web", "me");
        assert_eq!(web.user.expect("user").value, "notdb");
        assert_eq!(web.port.expect("port").value, 2);
        assert_eq!(web.unsupported_match[0].value, "Match exec");
        assert!(cfg.query("db1", "me").user.is_none());
    }

    #[test]
    fn include_reads_globbed_files_in_order_relative_to_dot_ssh() {
        let home = tempfile::tempdir().expect("temp");
        let ssh = home.path().join(".ssh");
        std::fs::create_dir_all(ssh.join("conf.d")).expect("dirs");
        std::fs::write(ssh.join("conf.d/20-b.conf"), "Host web\n  Port 2020\n").expect("write");
        std::fs::write(
            ssh.join("conf.d/10-a.conf"),
            "Host web\n  User from-a\nHost other\n  Port 1\n",
        )
        .expect("write");
        let main = ssh.join("config");
        std::fs::write(&main, "Include conf.d/*.conf\nHost web\n  User late\n").expect("write");
        let cfg = SshConfig::load_file(&main, Some(home.path())).expect("loads");
        let web = cfg.query("web", "me");
        assert_eq!(web.user.as_ref().expect("user").value, "from-a");
        assert_eq!(web.port.as_ref().expect("port").value, 2020);
        assert!(
            web.port
                .expect("port")
                .origin
                .file
                .ends_with("conf.d/20-b.conf")
        );
    }

    #[test]
    fn include_inside_a_host_block_applies_only_to_that_host() {
        let home = tempfile::tempdir().expect("temp");
        let ssh = home.path().join(".ssh");
        std::fs::create_dir_all(&ssh).expect("dirs");
        std::fs::write(ssh.join("web.conf"), "User included\n").expect("write");
        let main = ssh.join("config");
        std::fs::write(&main, "Host web\n  Include web.conf\nHost *\n  Port 3\n").expect("write");
        let cfg = SshConfig::load_file(&main, Some(home.path())).expect("loads");
        assert_eq!(cfg.query("web", "me").user.expect("user").value, "included");
        let db = cfg.query("db", "me");
        assert!(db.user.is_none());
        assert_eq!(db.port.expect("port").value, 3);
    }

    #[test]
    fn later_files_fill_only_what_earlier_ones_left_unset() {
        let home = tempfile::tempdir().expect("temp");
        let user = home.path().join("user");
        let system = home.path().join("system");
        std::fs::write(&user, "Host web\n  User mine\n").expect("write");
        std::fs::write(&system, "Host *\n  User theirs\n  Port 2200\n").expect("write");
        let mut cfg = SshConfig::load_file(&user, Some(home.path())).expect("loads");
        cfg.add_file(&system, ConfigScope::System, home.path())
            .expect("loads");
        let web = cfg.query("web", "me");
        assert_eq!(web.user.expect("user").value, "mine");
        assert_eq!(web.port.expect("port").value, 2200);
    }

    #[test]
    fn revoked_host_keys_is_read_and_the_first_value_wins() {
        let cfg = config(
            "Host web\n  RevokedHostKeys ~/.ssh/revoked\nHost *\n  RevokedHostKeys /etc/ssh/revoked\n",
        );
        let web = cfg.query("web", "me").revoked_host_keys.expect("set");
        assert_eq!(web.value, "~/.ssh/revoked");
        assert_eq!(web.origin.line, 2);
        assert_eq!(
            cfg.query("db", "me").revoked_host_keys.expect("set").value,
            "/etc/ssh/revoked"
        );
    }

    #[test]
    fn host_key_alias_and_known_hosts_command_are_kept_to_be_reported() {
        let cfg = config(
            "Host web\n  HostKeyAlias other\n  KnownHostsCommand /usr/bin/keys %H\nHost db\n  HostKeyAlias x\n",
        );
        let found = cfg.query("web", "me").unsupported_options;
        let texts: Vec<&str> = found.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(
            texts,
            ["HostKeyAlias other", "KnownHostsCommand /usr/bin/keys %H"]
        );
        assert_eq!(found[1].origin.line, 3);
        assert!(cfg.query("other", "me").unsupported_options.is_empty());
    }

    #[test]
    fn connect_timeout_takes_openssh_time_formats() {
        assert_eq!(parse_time("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_time("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_time("2H"), Ok(Duration::from_secs(7200)));
        assert!(parse_time("soon").is_err());
    }

    #[test]
    fn split_args_handles_quotes_and_escapes() {
        assert_eq!(
            split_args(r#"a "b c" 'd e' f\ g"#).expect("splits"),
            ["a", "b c", "d e", "f g"]
        );
        assert_eq!(split_args("").expect("splits"), Vec::<String>::new());
        assert_eq!(split_args("\"\"").expect("splits"), [""]);
    }
}
