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
    #[error("no inventory given\nhint: pass -i FILE or set FLEETRMI_INVENTORY")]
    NoInventory,

    #[error(transparent)]
    Inventory(#[from] crate::inventory::InventoryError),

    #[error("invalid image reference {argument:?}: {cause}")]
    Image { argument: String, cause: String },

    #[error("no host matches the limit {0:?}")]
    NoHosts(String),

    #[error(transparent)]
    Filter(#[from] crate::filter::FilterError),

    /// Any other bad argument, with how to fix it.
    #[error("{message}")]
    Invalid {
        message: String,
        hint: Option<String>,
    },
}

impl InputError {
    /// A line telling how to fix the input, when there is an obvious fix.
    pub fn hint(&self) -> Option<&str> {
        match self {
            InputError::Inventory(error) => error.hint(),
            InputError::Invalid { hint, .. } => hint.as_deref(),
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

/// Loads the inventory and selects hosts as `--inventory` and `--limit` say.
pub fn select_fleet(global: &GlobalArgs) -> Result<FleetSelection, InputError> {
    let path = global.inventory.as_ref().ok_or(InputError::NoInventory)?;
    let inventory = Inventory::load(path)?;
    let selected = inventory.select(global.limit.as_deref())?;
    if selected.is_empty() {
        return Err(InputError::NoHosts(
            global.limit.clone().unwrap_or_default(),
        ));
    }
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
            api_timeout_secs: global.api_timeout.as_secs().max(1),
            become_root: global.r#become,
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
