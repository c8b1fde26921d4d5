//! File names in ssh settings: OpenSSH's `%` tokens, `~` and `${VAR}`.

use std::path::PathBuf;

use super::types::LocalEnv;

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

    /// A `UserKnownHostsFile`/`GlobalKnownHostsFile` list, expanded. `none` (any case) as the
    /// only entry means no file at all, as OpenSSH reads it; `none` among other entries is an
    /// error, as it is for OpenSSH.
    pub(super) fn expand_known_hosts(
        &self,
        keyword: &str,
        raw: &[String],
    ) -> Result<Vec<PathBuf>, String> {
        if raw
            .first()
            .is_some_and(|first| first.eq_ignore_ascii_case("none"))
        {
            if raw.len() > 1 {
                return Err(format!("{keyword}: \"none\" appears with other entries"));
            }
            return Ok(Vec::new());
        }
        raw.iter()
            .map(|path| self.expand_absolute(keyword, path))
            .collect()
    }

    /// A file name that decides which host keys are trusted, expanded; it must be absolute.
    /// OpenSSH expands `~`, tokens and `${VAR}` and then opens what is left as it is, so a name
    /// still relative after that is opened in ssh's current directory. For a fleet tool started
    /// from cron, CI or any shell, the current directory is an accident: fleetrmi refuses such
    /// a name rather than check host keys against whatever file happens to be there.
    pub(super) fn expand_absolute(&self, keyword: &str, raw: &str) -> Result<PathBuf, String> {
        let path = self.expand_path(raw)?;
        if path.is_relative() {
            return Err(format!(
                "{keyword} {raw:?} is a relative path, which OpenSSH would open in the current \
                 directory; write it as an absolute path or start it with ~/ (or %d/)"
            ));
        }
        Ok(path)
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
