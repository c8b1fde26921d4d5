//! File names in ssh settings: OpenSSH's `%` tokens, `~` and `${VAR}`.

use std::path::PathBuf;

use super::LocalEnv;

/// OpenSSH's `%` tokens, `~` and `${VAR}` in file names (`IdentityFile`, `UserKnownHostsFile`…).
pub(super) struct Tokens<'a> {
    pub(super) local: &'a LocalEnv,
    pub(super) hostname: &'a str,
    pub(super) original: &'a str,
    pub(super) port: u16,
    pub(super) remote_user: &'a str,
}

impl Tokens<'_> {
    pub(super) fn home(&self) -> PathBuf {
        self.local
            .home
            .clone()
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    pub(super) fn expand_paths(&self, raw: &[String]) -> Result<Vec<PathBuf>, String> {
        raw.iter().map(|path| self.expand_path(path)).collect()
    }

    pub(super) fn expand_path(&self, raw: &str) -> Result<PathBuf, String> {
        let home = self.home();
        let mut text = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some('%') => text.push('%'),
                    Some('d') => text.push_str(&home.to_string_lossy()),
                    Some('h') => text.push_str(self.hostname),
                    Some('n') => text.push_str(self.original),
                    Some('p') => text.push_str(&self.port.to_string()),
                    Some('r') => text.push_str(self.remote_user),
                    Some('u') => text.push_str(&self.local.user),
                    Some(other) => {
                        return Err(format!(
                            "{raw:?}: the token %{other} is not supported (supported: %% %d %h %n %p %r %u)"
                        ));
                    }
                    None => return Err(format!("{raw:?}: a lone % at the end")),
                },
                '$' if chars.peek() == Some(&'{') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let value = std::env::var(&name).map_err(|_| {
                        format!("{raw:?}: the environment variable {name} is not set")
                    })?;
                    text.push_str(&value);
                }
                _ => text.push(c),
            }
        }
        Ok(if text == "~" {
            home
        } else if let Some(rest) = text.strip_prefix("~/") {
            home.join(rest)
        } else {
            PathBuf::from(text)
        })
    }
}
