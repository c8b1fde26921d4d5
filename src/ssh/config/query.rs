//! The settings one host gets: the blocks that apply to it, walked as OpenSSH walks them, the
//! first value obtained winning.

use std::path::Path;

use super::types::{
    ConfigFile, ConfigOrigin, ConfigValue, Criterion, CriterionKind, Directive, HostConfig, Item,
    SshConfig,
};
use crate::ssh::pattern::{ListMatch, match_host_list, wildcard_match};

impl SshConfig {
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
