//! `ssh` command-line options as inventories carry them (`ansible_ssh_common_args: -J bastion
//! -o StrictHostKeyChecking=accept-new`), and jump host specifications (`user@host:port`).
//! Options become `ssh_config` lines so that they are checked and applied by the same code.

use super::config::split_args;

/// A jump host as `-J`/`ProxyJump` name it: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl std::fmt::Display for JumpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Parses a comma-separated chain of jump hosts, first hop first.
pub fn parse_jump_chain(text: &str) -> Result<Vec<JumpSpec>, String> {
    text.split(',').map(|hop| parse_jump(hop.trim())).collect()
}

fn parse_jump(text: &str) -> Result<JumpSpec, String> {
    let bad = |why: &str| format!("bad jump host {text:?}: {why} (expected [user@]host[:port])");
    let rest = text.strip_prefix("ssh://").unwrap_or(text);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(bad("empty"));
    }
    let (user, host_port) = match rest.rsplit_once('@') {
        Some((user, host_port)) if !user.is_empty() => (Some(user.to_string()), host_port),
        Some(_) => return Err(bad("empty user")),
        None => (None, rest),
    };
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(bad("junk after ]")),
        }
    } else if host_port.matches(':').count() == 1 {
        let (host, port) = host_port.split_once(':').ok_or_else(|| bad("port"))?;
        (host, Some(port))
    } else {
        (host_port, None)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad("empty or spaced host"));
    }
    let port = match port {
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => return Err(bad("port must be 1-65535")),
        },
        None => None,
    };
    Ok(JumpSpec {
        user,
        host: host.to_string(),
        port,
    })
}

/// Turns `ssh` options into `ssh_config` lines, in order: `-o Key=Value` → `Key Value`,
/// `-J x` → `ProxyJump x`, `-p` → `Port`, `-l` → `User`, `-i` → `IdentityFile`. Options that do
/// not change how a connection is made (`-q`, `-C`, `-v`, …) are skipped.
pub fn ssh_args_to_config(text: &str) -> Result<String, String> {
    let words = split_args(text)?;
    let mut lines = String::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let Some(flags) = word.strip_prefix('-') else {
            return Err(format!(
                "unexpected argument {word:?} (only options are allowed)"
            ));
        };
        let mut chars = flags.chars();
        while let Some(flag) = chars.next() {
            let takes_value = "BbcDEeFIiJLlmOopQRSWw".contains(flag);
            if !takes_value {
                continue;
            }
            // The value is the rest of this word (`-p2222`) or the next word (`-p 2222`).
            let attached: String = chars.by_ref().collect();
            let value = if attached.is_empty() {
                words
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("-{flag} needs a value"))?
            } else {
                attached
            };
            let line = match flag {
                'o' => {
                    let (key, value) = value
                        .split_once(['=', ' '])
                        .ok_or_else(|| format!("-o {value:?}: expected Key=Value"))?;
                    // As OpenSSH does, the value is read as the rest of a config line.
                    format!("{key} {}", value.trim())
                }
                'J' => format!("ProxyJump {}", quote(&value)),
                'p' => format!("Port {}", quote(&value)),
                'l' => format!("User {}", quote(&value)),
                'i' => format!("IdentityFile {}", quote(&value)),
                'F' => return Err("-F is not supported here: use fleetrmi -F FILE".to_string()),
                _ => String::new(),
            };
            if !line.is_empty() {
                lines.push_str(&line);
                lines.push('\n');
            }
        }
    }
    Ok(lines)
}

/// Reads the classic bastion `ProxyCommand` (`ssh -W %h:%p [-q] [-p PORT] [-l USER]
/// [user@]host`, what Ansible's documentation suggests) as the jump host it stands for, since
/// fleetrmi runs no local commands. `None` for any other command.
pub fn proxy_command_as_jump(command: &str) -> Option<JumpSpec> {
    let words = split_args(command).ok()?;
    let mut words = words.iter();
    let program = words.next()?;
    if program != "ssh" && !program.ends_with("/ssh") {
        return None;
    }
    let (mut forward, mut port, mut user, mut host) = (false, None, None, None);
    while let Some(word) = words.next() {
        match word.as_str() {
            "-W" => forward = words.next()? == "%h:%p",
            "-p" => port = Some(words.next()?.parse::<u16>().ok()?),
            "-l" => user = Some(words.next()?.clone()),
            flag if flag.starts_with('-') => {
                // Flags that change nothing about where the connection goes.
                if !flag[1..].chars().all(|c| "qTNaxAC46".contains(c)) || flag.len() < 2 {
                    return None;
                }
            }
            name if host.is_none() => host = Some(name.to_string()),
            _ => return None,
        }
    }
    if !forward {
        return None;
    }
    let mut spec = parse_jump(&host?).ok()?;
    if spec.port.is_none() {
        spec.port = port;
    }
    if spec.user.is_none() {
        spec.user = user;
    }
    Some(spec)
}

/// Quotes a value for an `ssh_config` line so that `split_args` gives it back whole.
fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || "\"'\\".contains(c)) {
        return value.to_string();
    }
    let mut quoted = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(user: Option<&str>, host: &str, port: Option<u16>) -> JumpSpec {
        JumpSpec {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn jump_chain_with_users_ports_and_ipv6() {
        assert_eq!(
            parse_jump_chain("ops@bastion:2222,inner,ssh://root@[::1]:22").expect("parses"),
            [
                spec(Some("ops"), "bastion", Some(2222)),
                spec(None, "inner", None),
                spec(Some("root"), "::1", Some(22)),
            ]
        );
        assert_eq!(
            spec(Some("root"), "::1", Some(22)).to_string(),
            "root@[::1]:22"
        );
    }

    #[test]
    fn bad_jump_specs_are_refused() {
        for bad in ["", "host:0", "host:abc", "@host", "[::1", "a,,b"] {
            assert!(parse_jump_chain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn common_args_become_config_lines() {
        let lines = ssh_args_to_config(
            "-q -J ops@bastion -o StrictHostKeyChecking=accept-new -o 'UserKnownHostsFile=/a /b' -p2200 -l deploy -i ~/.ssh/k -C",
        )
        .expect("parses");
        assert_eq!(
            lines,
            "ProxyJump ops@bastion\nStrictHostKeyChecking accept-new\nUserKnownHostsFile /a /b\nPort 2200\nUser deploy\nIdentityFile ~/.ssh/k\n"
        );
    }

    #[test]
    fn proxy_command_is_carried_whole() {
        let lines =
            ssh_args_to_config(r#"-o ProxyCommand="ssh -W %h:%p -q bastion""#).expect("parses");
        assert_eq!(lines, "ProxyCommand ssh -W %h:%p -q bastion\n");
    }

    #[test]
    fn bastion_proxy_command_reads_as_a_jump_host() {
        assert_eq!(
            proxy_command_as_jump("ssh -W %h:%p -q ops@gw.example.com"),
            Some(spec(Some("ops"), "gw.example.com", None))
        );
        assert_eq!(
            proxy_command_as_jump("/usr/bin/ssh -q -p 2222 -l ops -W %h:%p gw"),
            Some(spec(Some("ops"), "gw", Some(2222)))
        );
        assert_eq!(proxy_command_as_jump("nc %h %p"), None);
        assert_eq!(proxy_command_as_jump("ssh -W %h:%p -i key gw"), None);
        assert_eq!(proxy_command_as_jump("ssh gw nc %h %p"), None);
    }

    #[test]
    fn stray_words_and_missing_values_are_errors() {
        assert!(ssh_args_to_config("bastion").is_err());
        assert!(ssh_args_to_config("-J").is_err());
        assert!(ssh_args_to_config("-o NoEquals").is_err());
    }
}
