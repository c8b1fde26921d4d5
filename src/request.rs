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
}

impl InputError {
    /// A line telling how to fix the input, when there is an obvious fix.
    pub fn hint(&self) -> Option<&str> {
        match self {
            InputError::Inventory(error) => error.hint(),
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

/// Per-API-call limit: long enough for a delete of a large image on a slow disk.
const API_TIMEOUT_SECS: u64 = 120;

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
    let inventory = load_inventory(global)?;
    let selected = inventory.select_with(global.limit.as_deref(), global.allow_empty)?;
    let hosts = selected.into_iter().map(host_target).collect();
    Ok(FleetSelection {
        hosts,
        connect: ConnectOptions {
            ssh: SshOptions {
                known_hosts: global
                    .known_hosts
                    .clone()
                    .unwrap_or_else(default_known_hosts),
                connect_timeout: global.connect_timeout,
            },
            api_timeout_secs: API_TIMEOUT_SECS,
        },
        forks: global.forks as usize,
    })
}

fn host_target(entry: &HostEntry) -> HostTarget {
    HostTarget {
        name: entry.name.clone(),
        address: entry.address.clone(),
        port: entry.port,
        user: entry.user.clone().unwrap_or_else(local_user),
        identity_files: entry.identity_file.iter().cloned().collect(),
        docker_socket: entry.docker_socket.clone(),
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
