//! Reading ssh_config files: keywords, quoting, `Host` and `Match` lines, `Include`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::types::{
    ConfigFile, ConfigScope, Criterion, CriterionKind, Directive, Item, SYSTEM_CONFIG, SshConfig,
    SshConfigError, StrictHostKeyChecking,
};
use crate::ssh::pattern::wildcard_match;

/// OpenSSH refuses deeper `Include` nesting than this (`READCONF_MAX_DEPTH`).
const MAX_INCLUDE_DEPTH: usize = 16;

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
pub(super) fn parse_time(text: &str) -> Result<Duration, String> {
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
