//! Turns raw arguments into a checked run: the inventory loaded, hosts selected, images
//! checked, SSH settings resolved. Everything here fails before any host is contacted.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::cli::{GlobalArgs, HostKeyChecking};
use crate::fleet::rollout::BatchSize;
use crate::fleet::{ConnectOptions, HostTarget};
use crate::inventory::{AnsibleConfig, Found, HostEntry, Inventory};
use crate::ssh::{
    AnsibleSsh, CliSsh, HostKeyPolicy, InventorySsh, LocalEnv, ResolvedSsh, SshConfig,
    SshConfigError, SshOptions, SshSettingsError, resolve_ssh_settings,
};

mod values;

pub use values::check_rules;

/// Hosts worked on at once when neither `--forks` nor Ansible's configuration says.
const DEFAULT_FORKS: u32 = 32;

/// Bad input: exit code 2, nothing touched.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "no inventory given\nhint: pass -i PATH (repeatable), set FLEETRMI_INVENTORY or \
         ANSIBLE_INVENTORY, or name it in ansible.cfg (`inventory = hosts` under [defaults])"
    )]
    NoInventory,

    #[error(transparent)]
    Inventory(#[from] crate::inventory::InventoryError),

    #[error("invalid image reference {argument:?}: {cause}")]
    Image { argument: String, cause: String },

    #[error(transparent)]
    Filter(#[from] crate::filter::FilterError),

    /// A rule or filter of `prune` that does not parse.
    #[error("{0}")]
    Rule(String),

    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),

    /// Removal without confirmation where no one can be asked.
    #[error("{command} removes images and asks first, but stdin is not a terminal")]
    Unconfirmed { command: &'static str },

    #[error(transparent)]
    SshConfig(#[from] SshConfigError),

    #[error(transparent)]
    SshSettings(#[from] SshSettingsError),

    #[error("{host}: inventory variable {var}: {message}")]
    SshVariable {
        host: String,
        var: &'static str,
        message: String,
    },

    /// Any other bad argument, with how to fix it.
    #[error("{message}")]
    Invalid {
        message: String,
        hint: Option<String>,
    },
}

impl InputError {
    /// A line telling how to fix the input, when there is an obvious fix.
    pub fn hint(&self) -> Option<String> {
        match self {
            InputError::Inventory(error) => error.hint().map(str::to_owned),
            InputError::Policy(error) => error.hint(),
            InputError::Unconfirmed { .. } => Some(
                "pass --force (or --yes) to run without asking, or --dry-run to see what would go"
                    .to_owned(),
            ),
            InputError::SshSettings(error) => error.hint.clone(),
            InputError::Invalid { hint, .. } => hint.clone(),
            _ => None,
        }
    }
}

/// Hosts and connection settings shared by every command.
#[derive(Debug, Clone)]
pub struct FleetSelection {
    pub hosts: Vec<HostTarget>,
    pub connect: ConnectOptions,
    pub forks: usize,
    /// `--serial`: the batches hosts are rolled through.
    pub serial: Vec<BatchSize>,
    /// Things to tell the user before the run starts (e.g. host key checking is off).
    pub warnings: Vec<String>,
}

impl FleetSelection {
    /// Prints the selection's warnings on stderr, one `warning:` line each.
    pub fn print_warnings(&self) {
        for warning in &self.warnings {
            eprintln!("warning: {warning}");
        }
    }
}

/// Loads every inventory source with the `--extra-vars`; its warnings go to stderr.
pub fn load_inventory(global: &GlobalArgs) -> Result<Inventory, InputError> {
    let sources = inventory_sources(global, &AnsibleConfig::from_process()?);
    if sources.is_empty() {
        return Err(InputError::NoInventory);
    }
    let inventory = Inventory::load_all(&sources, &global.extra_vars)?;
    for warning in inventory.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(inventory)
}

/// The inventory sources: `-i`, else FLEETRMI_INVENTORY (comma-separated), else Ansible's
/// (ANSIBLE_INVENTORY, ansible.cfg).
fn inventory_sources(global: &GlobalArgs, ansible: &AnsibleConfig) -> Vec<PathBuf> {
    if !global.inventory.is_empty() {
        return global.inventory.clone();
    }
    if let Some(list) = std::env::var_os("FLEETRMI_INVENTORY").filter(|list| !list.is_empty()) {
        return list
            .to_string_lossy()
            .split(',')
            .filter(|source| !source.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    ansible
        .inventory
        .as_ref()
        .map(|found| found.value.clone())
        .unwrap_or_default()
}

/// Loads the inventory and selects hosts as `--inventory`, `--limit` and `--allow-empty` say.
pub fn select_fleet(global: &GlobalArgs) -> Result<FleetSelection, InputError> {
    let (_, selected) = select_hosts(global)?;
    let entries: Vec<&HostEntry> = selected.iter().collect();
    fleet_of(global, &entries)
}

/// `--retry-file` and `--metrics` can be written at the end of the run (checked before any
/// host is contacted, so a run never ends without them or with an older run's).
fn check_output_files(global: &GlobalArgs) -> Result<(), InputError> {
    let outputs = [
        ("--retry-file", &global.retry_file),
        ("--metrics", &global.metrics),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path
            && let Err(cause) = crate::atomic_file::check_writable(path)
        {
            return Err(InputError::Invalid {
                message: format!("{flag} {}: {cause}", path.display()),
                hint: Some(
                    "the file is written whole at the end of the run: its directory must exist \
                     and be writable by this user"
                        .to_string(),
                ),
            });
        }
    }
    Ok(())
}

/// The checked inventory and the hosts `--limit` selects in it (at least one, unless
/// `--allow-empty`), for commands that choose among them further (`apply` takes the hosts of
/// its policies' groups).
pub fn select_hosts(global: &GlobalArgs) -> Result<(Inventory, Vec<HostEntry>), InputError> {
    let inventory = load_inventory(global)?;
    let selected: Vec<HostEntry> = select_limit(&inventory, global)?
        .into_iter()
        .cloned()
        .collect();
    Ok((inventory, selected))
}

/// The hosts `--limit` selects, with Ansible's warnings about deprecated patterns on stderr.
pub fn select_limit<'a>(
    inventory: &'a Inventory,
    global: &GlobalArgs,
) -> Result<Vec<&'a HostEntry>, InputError> {
    for warning in Inventory::limit_warnings(global.limit.as_deref()) {
        eprintln!("warning: {warning}");
    }
    Ok(inventory.select_with(global.limit.as_deref(), global.allow_empty)?)
}

/// The hosts and connection settings for these inventory entries, each host's SSH settings
/// resolved from the command line, the inventory and ssh_config.
pub fn fleet_of(global: &GlobalArgs, entries: &[&HostEntry]) -> Result<FleetSelection, InputError> {
    check_output_files(global)?;
    let serial = values::check_serial(&global.serial)?;
    let ssh_config = load_ssh_config(global)?;
    let ansible = AnsibleConfig::from_process()?;
    let mut hosts = Vec::new();
    let mut warnings = Vec::new();
    let mut unchecked = Vec::new();
    for &entry in entries {
        let resolved = resolve_with(entry, &ssh_config, &ansible, global)?;
        let policies = std::iter::once(&resolved)
            .chain(&resolved.jumps)
            .map(|hop| hop.host_key_checking.value);
        if policies
            .into_iter()
            .any(|policy| policy == HostKeyPolicy::Off)
        {
            unchecked.push(entry.name.clone());
        }
        warnings.extend(
            resolved
                .notes
                .iter()
                .map(|note| format!("{}: {note}", entry.name)),
        );
        hosts.push(HostTarget {
            name: entry.name.clone(),
            address: resolved.hostname.value.clone(),
            ssh: resolved.to_target(),
            docker_socket: entry.docker_socket.clone(),
            become_root: become_root(entry, global.r#become)?,
        });
    }
    if !unchecked.is_empty() {
        warnings.insert(
            0,
            format!(
                "host key checking is OFF for {} (or a jump host of it): any server can pose as it \
                 and see what is sent; use --host-key-checking accept-new to learn keys instead",
                unchecked.join(", ")
            ),
        );
    }
    Ok(FleetSelection {
        hosts,
        connect: ConnectOptions {
            ssh: SshOptions::default(),
            api_timeout_secs: global.api_timeout.as_secs().max(1),
            become_root: global.r#become,
            connect_retries: global.connect_retries,
        },
        forks: global
            .forks
            .or(ansible.forks.map(|found| found.value))
            .unwrap_or(DEFAULT_FORKS) as usize,
        serial,
        warnings,
    })
}

/// The ssh_config files the command line asks for: `-F FILE`, none with `--no-ssh-config`,
/// else `~/.ssh/config` and `/etc/ssh/ssh_config`, as OpenSSH reads them.
pub fn load_ssh_config(global: &GlobalArgs) -> Result<SshConfig, InputError> {
    let local = LocalEnv::from_process();
    Ok(if global.no_ssh_config {
        SshConfig::empty()
    } else if let Some(path) = &global.ssh_config {
        SshConfig::load_file(path, local.home.as_deref())?
    } else {
        SshConfig::load_default(local.home.as_deref())?
    })
}

/// One host's SSH settings, each with its source: the one place where the command line, the
/// inventory and ssh_config are combined (also for `inventory --host`).
pub fn resolve_host_ssh(
    entry: &HostEntry,
    ssh_config: &SshConfig,
    global: &GlobalArgs,
) -> Result<ResolvedSsh, InputError> {
    resolve_with(entry, ssh_config, &AnsibleConfig::from_process()?, global)
}

fn resolve_with(
    entry: &HostEntry,
    ssh_config: &SshConfig,
    ansible: &AnsibleConfig,
    global: &GlobalArgs,
) -> Result<ResolvedSsh, InputError> {
    let cli = CliSsh {
        known_hosts: global.known_hosts.clone(),
        host_key_checking: global.host_key_checking.map(|mode| match mode {
            HostKeyChecking::Strict => HostKeyPolicy::Strict,
            HostKeyChecking::AcceptNew => HostKeyPolicy::AcceptNew,
            HostKeyChecking::Off => HostKeyPolicy::Off,
        }),
        connect_timeout: global.connect_timeout,
    };
    let mut inventory = inventory_ssh(entry)?;
    inventory.ansible = ansible_ssh(ansible);
    Ok(resolve_ssh_settings(
        &inventory,
        ssh_config,
        &cli,
        &LocalEnv::from_process(),
    )?)
}

/// The SSH settings of Ansible's configuration, with where each was set.
fn ansible_ssh(config: &AnsibleConfig) -> AnsibleSsh {
    fn sourced<T: Clone>(found: &Found<T>) -> (T, String) {
        (found.value.clone(), found.origin.clone())
    }
    AnsibleSsh {
        user: config.remote_user.as_ref().map(sourced),
        identity_file: config.private_key_file.as_ref().map(sourced),
        connect_timeout: config
            .timeout
            .as_ref()
            .map(|found| (Duration::from_secs(found.value), found.origin.clone())),
        host_key_checking: config.host_key_checking.as_ref().map(sourced),
        ssh_args: [&config.ssh_args, &config.ssh_common_args]
            .into_iter()
            .flatten()
            .map(|found| (found.origin.clone(), found.value.clone()))
            .collect(),
    }
}

/// What the inventory says about a host's SSH connection. `address` and `port` count only
/// when the inventory sets them (a `HostEntry` fills in the name and 22 otherwise).
pub fn inventory_ssh(entry: &HostEntry) -> Result<InventorySsh, InputError> {
    let bad = |var: &'static str, message: &str| InputError::SshVariable {
        host: entry.name.clone(),
        var,
        message: message.to_string(),
    };
    let jump = match entry.vars.get("jump") {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(hops)) => {
            let hops: Option<Vec<&str>> = hops.iter().map(Value::as_str).collect();
            let hops = hops.ok_or_else(|| bad("jump", "a list of jump hosts must hold strings"))?;
            Some(hops.join(","))
        }
        Some(_) => {
            return Err(bad(
                "jump",
                "expected [user@]host[:port], comma-separated or a list for a chain",
            ));
        }
    };
    let mut ssh_args = Vec::new();
    for var in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
        match entry.vars.get(var) {
            None => {}
            Some(Value::String(text)) => ssh_args.push((var.to_string(), text.clone())),
            Some(_) => return Err(bad(var, "expected a string of ssh options")),
        }
    }
    let connect_timeout = match entry.vars.get("ansible_ssh_timeout") {
        None => None,
        Some(value) => {
            let seconds = value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                .ok_or_else(|| bad("ansible_ssh_timeout", "expected a number of seconds"))?;
            Some(Duration::from_secs(seconds))
        }
    };
    Ok(InventorySsh {
        name: entry.name.clone(),
        address: entry.sets("ansible_host").then(|| entry.address.clone()),
        port: entry.sets("ansible_port").then_some(entry.port),
        user: entry.user.clone(),
        identity_file: entry.identity_file.clone(),
        jump,
        ssh_args,
        connect_timeout,
        ansible: AnsibleSsh::default(),
    })
}

/// Whether the host's daemon is reached through `sudo -n` (`become`/`ansible_become`, any of
/// Ansible's boolean spellings). fleetrmi becomes root with sudo and nothing else: when become
/// is on (here or with `--become`), another `become_user` or `become_method` is refused rather
/// than silently running as root.
fn become_root(entry: &HostEntry, become_flag: bool) -> Result<bool, InputError> {
    let bad = |var: &'static str, message: String| InputError::SshVariable {
        host: entry.name.clone(),
        var,
        message,
    };
    let mut become_root = false;
    // Both must be booleans; when both are set, `become` wins, as fleetrmi has always read it.
    for var in ["ansible_become", "become"] {
        if let Some(value) = entry.vars.get(var) {
            become_root = ansible_bool(value).ok_or_else(|| {
                bad(
                    var,
                    format!("expected a boolean (true/false, yes/no, on/off, 1/0), found {value}"),
                )
            })?;
        }
    }
    if !(become_root || become_flag) {
        return Ok(become_root);
    }
    for (vars, supported, what) in [
        (
            ["ansible_become_user", "become_user"],
            "root",
            "becoming another user than root",
        ),
        (
            ["ansible_become_method", "become_method"],
            "sudo",
            "a become method other than sudo",
        ),
    ] {
        for var in vars {
            match entry.vars.get(var) {
                None => {}
                Some(Value::String(text)) if text == supported => {}
                Some(value) => {
                    return Err(bad(
                        var,
                        format!(
                            "{value}: {what} is not implemented (fleetrmi's become runs \
                             `sudo -n` as root); remove it, or set it to {supported}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(become_root)
}

/// Ansible's boolean spellings (its `boolean()`): a YAML boolean, 1 or 0, or one of `true`,
/// `false`, `yes`, `no`, `on`, `off`, `1`, `0`, `y`, `n`, `t`, `f` in any case.
fn ansible_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" | "y" | "t" => Some(true),
            "false" | "no" | "off" | "0" | "n" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Checks every image argument with the daemon's own grammar before any host is contacted.
pub fn check_images(images: &[String]) -> Result<(), InputError> {
    for argument in images {
        if let Err(error) = crate::reference::check_image_argument(argument) {
            return Err(InputError::Image {
                argument: argument.clone(),
                cause: error.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn host(vars: &[(&str, Value)]) -> HostEntry {
        HostEntry {
            name: "web".to_string(),
            address: "web".to_string(),
            port: 22,
            user: None,
            identity_file: None,
            docker_socket: "/var/run/docker.sock".to_string(),
            groups: vec!["all".to_string()],
            vars: vars
                .iter()
                .map(|(name, value)| ((*name).to_string(), value.clone()))
                .collect(),
            var_sources: BTreeMap::new(),
        }
    }

    #[test]
    fn become_takes_every_ansible_boolean_spelling() {
        for (value, expected) in [
            (json!(true), true),
            (json!(false), false),
            (json!("true"), true),
            (json!("yes"), true),
            (json!("YES"), true),
            (json!("On"), true),
            (json!("1"), true),
            (json!(1), true),
            (json!("false"), false),
            (json!("no"), false),
            (json!("off"), false),
            (json!("0"), false),
            (json!(0), false),
        ] {
            for var in ["become", "ansible_become"] {
                let entry = host(&[(var, value.clone())]);
                assert_eq!(
                    become_root(&entry, false).expect("valid"),
                    expected,
                    "{var}: {value}"
                );
            }
        }
        assert!(!become_root(&host(&[]), false).expect("valid"));
    }

    #[test]
    fn become_from_extra_vars_string_counts() {
        // `-e become=true` and `-e ansible_become=yes` give strings.
        let entry = host(&[("become", json!("true"))]);
        assert!(become_root(&entry, false).expect("valid"));
        let entry = host(&[("ansible_become", json!("yes"))]);
        assert!(become_root(&entry, false).expect("valid"));
    }

    #[test]
    fn become_that_is_not_a_boolean_is_an_input_error_naming_host_and_variable() {
        for value in [json!("sure"), json!(2), json!(["yes"]), json!("")] {
            let entry = host(&[("ansible_become", value.clone())]);
            let error = become_root(&entry, false).expect_err("refused");
            assert!(matches!(error, InputError::SshVariable { .. }));
            assert!(
                error
                    .to_string()
                    .starts_with("web: inventory variable ansible_become: expected a boolean"),
                "{error}"
            );
        }
    }

    #[test]
    fn become_user_other_than_root_is_refused_not_run_as_root() {
        for var in ["become_user", "ansible_become_user"] {
            let entry = host(&[("become", json!(true)), (var, json!("postgres"))]);
            let error = become_root(&entry, false).expect_err("refused");
            let text = error.to_string();
            assert!(
                text.starts_with(&format!("web: inventory variable {var}: ")),
                "{text}"
            );
            assert!(text.contains("not implemented"), "{text}");
            // --become turns become on as well.
            let entry = host(&[(var, json!("postgres"))]);
            assert!(become_root(&entry, true).is_err());
            // Without become, the variable does not matter.
            assert!(!become_root(&entry, false).expect("valid"));
        }
        let entry = host(&[("become", json!("yes")), ("become_user", json!("root"))]);
        assert!(become_root(&entry, false).expect("valid"));
    }

    #[test]
    fn become_method_other_than_sudo_is_refused() {
        let entry = host(&[
            ("ansible_become", json!(true)),
            ("ansible_become_method", json!("su")),
        ]);
        let error = become_root(&entry, false).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("a become method other than sudo is not implemented")
        );
        let entry = host(&[("become", json!(true)), ("become_method", json!("sudo"))]);
        assert!(become_root(&entry, false).expect("valid"));
    }
}
