//! Turns raw arguments into a checked run: the inventory loaded, hosts selected, images
//! checked, SSH settings resolved. Everything here fails before any host is contacted.

use std::path::{Path, PathBuf};

use crate::cli::GlobalArgs;
use crate::fleet::{ConnectOptions, HostTarget};
use crate::inventory::{HostEntry, Inventory};
use crate::ssh::SshOptions;

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
    Ok(fleet_of(global, &entries))
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

/// The hosts and connection settings for these inventory entries.
pub fn fleet_of(global: &GlobalArgs, entries: &[&HostEntry]) -> FleetSelection {
    FleetSelection {
        hosts: entries.iter().map(|entry| host_target(entry)).collect(),
        connect: ConnectOptions {
            ssh: SshOptions {
                known_hosts: global
                    .known_hosts
                    .clone()
                    .unwrap_or_else(default_known_hosts),
                connect_timeout: global.connect_timeout,
            },
            api_timeout_secs: global.api_timeout.as_secs().max(1),
            become_root: global.r#become,
            connect_retries: global.connect_retries,
        },
        forks: global.forks as usize,
    }
}

fn host_target(entry: &HostEntry) -> HostTarget {
    HostTarget {
        name: entry.name.clone(),
        address: entry.address.clone(),
        port: entry.port,
        user: entry.user.clone().unwrap_or_else(local_user),
        identity_files: entry.identity_file.iter().cloned().collect(),
        docker_socket: entry.docker_socket.clone(),
        become_root: matches!(
            entry
                .vars
                .get("become")
                .or_else(|| entry.vars.get("ansible_become")),
            Some(serde_json::Value::Bool(true))
        ),
    }
}

/// OpenSSH's default login name: the local user's.
fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}

fn default_known_hosts() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".ssh").join("known_hosts")
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
