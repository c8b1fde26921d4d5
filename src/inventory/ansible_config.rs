//! Ansible's own configuration, for the settings fleetrmi shares with it: `ansible.cfg`, found as
//! Ansible finds it (`ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`,
//! `/etc/ansible/ansible.cfg`: the first that exists), and the matching `ANSIBLE_*` environment
//! variables, which win over the file. Each value keeps where it came from.

use std::path::{Path, PathBuf};

use super::error::{InventoryError, SourceLocation};

/// A value and where it came from: `/srv/ansible.cfg:4` or
/// `environment variable ANSIBLE_REMOTE_USER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Found<T> {
    fn at(origin: &str, value: T) -> Found<T> {
        Found {
            value,
            origin: origin.to_owned(),
        }
    }
}

/// The settings of Ansible's configuration that fleetrmi reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnsibleConfig {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// `[defaults] inventory` / `ANSIBLE_INVENTORY`: a comma-separated list of sources.
    pub inventory: Option<Found<Vec<PathBuf>>>,
    /// `[defaults] forks` / `ANSIBLE_FORKS`.
    pub forks: Option<Found<u32>>,
    /// `[defaults] remote_user` / `ANSIBLE_REMOTE_USER`.
    pub remote_user: Option<Found<String>>,
    /// `[defaults] private_key_file` / `ANSIBLE_PRIVATE_KEY_FILE`.
    pub private_key_file: Option<Found<PathBuf>>,
    /// `[defaults] host_key_checking` / `ANSIBLE_HOST_KEY_CHECKING`.
    pub host_key_checking: Option<Found<bool>>,
    /// `[defaults] timeout` / `ANSIBLE_TIMEOUT`, in seconds.
    pub timeout: Option<Found<u64>>,
    /// `[ssh_connection] ssh_args` / `ANSIBLE_SSH_ARGS`: `ssh` options.
    pub ssh_args: Option<Found<String>>,
    /// `[ssh_connection] ssh_common_args` / `ANSIBLE_SSH_COMMON_ARGS`: more `ssh` options.
    pub ssh_common_args: Option<Found<String>>,
}

/// Where a process looks: its environment, working directory and home.
pub struct Lookup<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub cwd: &'a Path,
    pub home: Option<&'a Path>,
}

impl AnsibleConfig {
    /// The configuration of this process: its environment, `./ansible.cfg`, `$HOME`.
    pub fn from_process() -> Result<AnsibleConfig, InventoryError> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let home = super::home_dir();
        AnsibleConfig::find(&Lookup {
            env: &env,
            cwd: &cwd,
            home: home.as_deref(),
        })
    }

    /// Finds and reads the configuration as Ansible would from `lookup`.
    pub fn find(lookup: &Lookup<'_>) -> Result<AnsibleConfig, InventoryError> {
        let mut config = AnsibleConfig::default();
        if let Some(file) = config_file(lookup) {
            let text =
                std::fs::read_to_string(&file).map_err(|source| InventoryError::Unreadable {
                    path: file.clone(),
                    source,
                })?;
            let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
            for (line, section, key, value) in entries(&text) {
                let place = Place {
                    origin: format!("{}:{line}", file.display()),
                    base: &base,
                    home: lookup.home,
                    at: SourceLocation::new(&file, line as u64, 1, String::new()),
                };
                config.set(&section, &key, &value, &place)?;
            }
            config.file = Some(file);
        }
        for (name, section, key) in ENVIRONMENT {
            if let Some(value) = (lookup.env)(name) {
                let place = Place {
                    origin: format!("environment variable {name}"),
                    base: lookup.cwd,
                    home: lookup.home,
                    at: SourceLocation::argument(name),
                };
                config.set(section, key, &value, &place)?;
            }
        }
        Ok(config)
    }

    fn set(
        &mut self,
        section: &str,
        key: &str,
        value: &str,
        place: &Place<'_>,
    ) -> Result<(), InventoryError> {
        let (origin, base, home) = (&place.origin, place.base, place.home);
        let invalid = |expected: &'static str| InventoryError::InvalidVariable {
            at: place.at.clone(),
            name: key.to_owned(),
            expected,
            found: format!("{value:?}"),
            hint: None,
        };
        match (section, key) {
            ("defaults", "inventory" | "hostfile") => {
                let sources = value
                    .split(',')
                    .map(str::trim)
                    .filter(|source| !source.is_empty())
                    .map(|source| resolve_path(source, base, home))
                    .collect();
                self.inventory = Some(Found::at(origin, sources));
            }
            ("defaults", "forks") => {
                let forks = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("a number of hosts"))?;
                self.forks = Some(Found::at(origin, forks));
            }
            ("defaults", "remote_user") => {
                self.remote_user = Some(Found::at(origin, value.trim().to_owned()))
            }
            ("defaults", "private_key_file") => {
                self.private_key_file =
                    Some(Found::at(origin, resolve_path(value.trim(), base, home)));
            }
            ("defaults", "host_key_checking") => {
                let checking = ansible_boolean(value).ok_or_else(|| invalid("a boolean"))?;
                self.host_key_checking = Some(Found::at(origin, checking));
            }
            ("defaults", "timeout") => {
                let seconds = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("a number of seconds"))?;
                self.timeout = Some(Found::at(origin, seconds));
            }
            ("ssh_connection", "ssh_args") => {
                self.ssh_args = Some(Found::at(origin, value.trim().to_owned()))
            }
            ("ssh_connection", "ssh_common_args") => {
                self.ssh_common_args = Some(Found::at(origin, value.trim().to_owned()));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Where a value was set: its description, the directory relative paths start from, the home
/// directory for `~/`, and the location for errors.
struct Place<'a> {
    origin: String,
    base: &'a Path,
    home: Option<&'a Path>,
    at: SourceLocation,
}

/// The environment variables fleetrmi reads, and the setting each stands for.
const ENVIRONMENT: [(&str, &str, &str); 8] = [
    ("ANSIBLE_INVENTORY", "defaults", "inventory"),
    ("ANSIBLE_FORKS", "defaults", "forks"),
    ("ANSIBLE_REMOTE_USER", "defaults", "remote_user"),
    ("ANSIBLE_PRIVATE_KEY_FILE", "defaults", "private_key_file"),
    ("ANSIBLE_HOST_KEY_CHECKING", "defaults", "host_key_checking"),
    ("ANSIBLE_TIMEOUT", "defaults", "timeout"),
    ("ANSIBLE_SSH_ARGS", "ssh_connection", "ssh_args"),
    (
        "ANSIBLE_SSH_COMMON_ARGS",
        "ssh_connection",
        "ssh_common_args",
    ),
];

/// The first configuration file that exists, in Ansible's order. `./ansible.cfg` is skipped in a
/// world-writable directory, as Ansible skips it.
fn config_file(lookup: &Lookup<'_>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut candidates = Vec::new();
    if let Some(path) = (lookup.env)("ANSIBLE_CONFIG") {
        let path = resolve_path(&path, lookup.cwd, lookup.home);
        candidates.push(if path.is_dir() {
            path.join("ansible.cfg")
        } else {
            path
        });
    }
    let world_writable = std::fs::metadata(lookup.cwd)
        .map(|metadata| metadata.permissions().mode() & 0o002 != 0)
        .unwrap_or(true);
    if !world_writable {
        candidates.push(lookup.cwd.join("ansible.cfg"));
    }
    if let Some(home) = lookup.home {
        candidates.push(home.join(".ansible.cfg"));
    }
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates.into_iter().find(|path| path.is_file())
}

/// `(line, section, key, value)` of each `key = value` (or `key: value`) line, as Python's
/// configparser reads them: `#` and `;` comment lines, `;` inline comments after a space, keys
/// in lower case.
fn entries(text: &str) -> Vec<(usize, String, String, String)> {
    let mut section = String::new();
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            section = name.trim().to_owned();
            continue;
        }
        let Some(split) = trimmed.find(['=', ':']) else {
            continue;
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let mut value = trimmed[split + 1..].trim();
        if let Some(comment) = value.find(" ;") {
            value = value[..comment].trim_end();
        }
        found.push((index + 1, section.clone(), key, value.to_owned()));
    }
    found
}

/// `~` expanded, a relative path taken from `base` (the configuration file's directory, or the
/// working directory for an environment variable), as Ansible resolves path settings.
fn resolve_path(text: &str, base: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (text.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    let path = Path::new(text);
    // A host list (`web1,web2,`) is no path; neither is anything with a comma in it.
    if path.is_absolute() || text.contains(',') {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Ansible's boolean spellings.
fn ansible_boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn find(dir: &Path, env: &[(&str, &str)]) -> AnsibleConfig {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = |name: &str| env.get(name).cloned();
        let home = dir.join("home");
        AnsibleConfig::find(&Lookup {
            env: &lookup,
            cwd: &dir.join("project"),
            home: Some(&home),
        })
        .expect("valid")
    }

    fn setup() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("project")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("mkdir");
        dir
    }

    #[test]
    fn project_file_is_read_with_paths_from_its_directory() {
        let dir = setup();
        std::fs::write(
            dir.path().join("project/ansible.cfg"),
            "# comment\n[defaults]\ninventory = inventories/prod/hosts, extra.yml\nremote_user: deploy ; inline\nforks=7\nhost_key_checking = False\nprivate_key_file = ~/.ssh/deploy\ntimeout = 17\n[ssh_connection]\nssh_args = -o ProxyJump=bastion\n",
        )
        .expect("write");
        let config = find(dir.path(), &[]);
        let project = dir.path().join("project");
        assert_eq!(
            config.inventory.as_ref().map(|found| found.value.clone()),
            Some(vec![
                project.join("inventories/prod/hosts"),
                project.join("extra.yml")
            ])
        );
        let user = config.remote_user.expect("remote_user");
        assert_eq!(user.value, "deploy");
        assert_eq!(
            user.origin,
            format!("{}:4", project.join("ansible.cfg").display())
        );
        assert_eq!(config.forks.map(|found| found.value), Some(7));
        assert_eq!(
            config.host_key_checking.map(|found| found.value),
            Some(false)
        );
        assert_eq!(
            config.private_key_file.map(|found| found.value),
            Some(dir.path().join("home/.ssh/deploy"))
        );
        assert_eq!(config.timeout.map(|found| found.value), Some(17));
        assert_eq!(
            config.ssh_args.map(|found| found.value).as_deref(),
            Some("-o ProxyJump=bastion")
        );
    }

    #[test]
    fn environment_wins_over_the_file_and_ansible_config_names_the_file() {
        let dir = setup();
        std::fs::write(
            dir.path().join("project/ansible.cfg"),
            "[defaults]\nremote_user = a\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("home/other.cfg"),
            "[defaults]\nremote_user = b\nforks = 3\n",
        )
        .expect("write");
        let other = dir.path().join("home/other.cfg");
        let config = find(
            dir.path(),
            &[
                ("ANSIBLE_CONFIG", other.to_str().expect("utf-8")),
                ("ANSIBLE_FORKS", "9"),
            ],
        );
        assert_eq!(config.file.as_deref(), Some(other.as_path()));
        assert_eq!(
            config.remote_user.map(|found| found.value).as_deref(),
            Some("b")
        );
        let forks = config.forks.expect("forks");
        assert_eq!(
            (forks.value, forks.origin.as_str()),
            (9, "environment variable ANSIBLE_FORKS")
        );
    }

    #[test]
    fn home_file_is_the_fallback_and_nothing_is_fine() {
        let dir = setup();
        assert_eq!(find(dir.path(), &[]).file, None);
        std::fs::write(
            dir.path().join("home/.ansible.cfg"),
            "[defaults]\nremote_user = h\n",
        )
        .expect("write");
        assert_eq!(
            find(dir.path(), &[])
                .remote_user
                .map(|found| found.value)
                .as_deref(),
            Some("h")
        );
    }

    #[test]
    fn bad_values_name_the_line() {
        let dir = setup();
        std::fs::write(
            dir.path().join("project/ansible.cfg"),
            "[defaults]\n\nforks = many\n",
        )
        .expect("write");
        let lookup = |_: &str| None;
        let home = dir.path().join("home");
        let err = AnsibleConfig::find(&Lookup {
            env: &lookup,
            cwd: &dir.path().join("project"),
            home: Some(&home),
        })
        .expect_err("bad forks");
        assert!(
            err.to_string()
                .contains("ansible.cfg:3:1: forks must be a number of hosts"),
            "{err}"
        );
    }
}
