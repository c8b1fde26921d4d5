//! Turns raw arguments into a checked run: the inventory loaded, hosts selected, images
//! checked, SSH settings resolved. Everything here fails before any host is contacted.

use std::time::Duration;

use serde_json::Value;

use crate::cli::{GlobalArgs, HostKeyChecking};
use crate::fleet::{ConnectOptions, HostTarget};
use crate::inventory::{HostEntry, Inventory};
use crate::ssh::{
    CliSsh, HostKeyPolicy, InventorySsh, LocalEnv, ResolvedSsh, SshConfig, SshConfigError,
    SshOptions, SshSettingsError, resolve_ssh_settings,
};

/// Bad input: exit code 2, nothing touched.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no inventory given\nhint: pass -i PATH (repeatable) or set FLEETRMI_INVENTORY")]
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

/// Loads every `--inventory` source with the `--extra-vars`; its warnings go to stderr.
pub fn load_inventory(global: &GlobalArgs) -> Result<Inventory, InputError> {
    if global.inventory.is_empty() {
        return Err(InputError::NoInventory);
    }
    let inventory = Inventory::load_all(&global.inventory, &global.extra_vars)?;
    for warning in inventory.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(inventory)
}

/// Loads the inventory and selects hosts as `--inventory`, `--limit` and `--allow-empty` say.
pub fn select_fleet(global: &GlobalArgs) -> Result<FleetSelection, InputError> {
    let (_, selected) = select_hosts(global)?;
    let entries: Vec<&HostEntry> = selected.iter().collect();
    fleet_of(global, &entries)
}

/// The checked inventory and the hosts `--limit` selects in it (at least one, unless
/// `--allow-empty`), for commands that choose among them further (`apply` takes the hosts of
/// its policies' groups).
pub fn select_hosts(global: &GlobalArgs) -> Result<(Inventory, Vec<HostEntry>), InputError> {
    let inventory = load_inventory(global)?;
    let selected: Vec<HostEntry> = inventory
        .select_with(global.limit.as_deref(), global.allow_empty)?
        .into_iter()
        .cloned()
        .collect();
    Ok((inventory, selected))
}

/// The hosts and connection settings for these inventory entries, each host's SSH settings
/// resolved from the command line, the inventory and ssh_config.
pub fn fleet_of(global: &GlobalArgs, entries: &[&HostEntry]) -> Result<FleetSelection, InputError> {
    let ssh_config = load_ssh_config(global)?;
    let mut hosts = Vec::new();
    let mut warnings = Vec::new();
    let mut unchecked = Vec::new();
    for &entry in entries {
        let resolved = resolve_host_ssh(entry, &ssh_config, global)?;
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
            become_root: matches!(
                entry
                    .vars
                    .get("become")
                    .or_else(|| entry.vars.get("ansible_become")),
                Some(Value::Bool(true))
            ),
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
        forks: global.forks as usize,
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
    let cli = CliSsh {
        known_hosts: global.known_hosts.clone(),
        host_key_checking: global.host_key_checking.map(|mode| match mode {
            HostKeyChecking::Strict => HostKeyPolicy::Strict,
            HostKeyChecking::AcceptNew => HostKeyPolicy::AcceptNew,
            HostKeyChecking::Off => HostKeyPolicy::Off,
        }),
        connect_timeout: global.connect_timeout,
    };
    Ok(resolve_ssh_settings(
        &inventory_ssh(entry)?,
        ssh_config,
        &cli,
        &LocalEnv::from_process(),
    )?)
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
        address: entry
            .vars
            .contains_key("ansible_host")
            .then(|| entry.address.clone()),
        port: entry
            .vars
            .contains_key("ansible_port")
            .then_some(entry.port),
        user: entry.user.clone(),
        identity_file: entry.identity_file.clone(),
        jump,
        ssh_args,
        connect_timeout,
    })
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
