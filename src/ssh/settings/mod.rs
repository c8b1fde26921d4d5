//! Every SSH setting of a host resolved in one place, each with where its value came from.
//! Precedence: the command line, then the inventory (its variables, then the `ssh` options in
//! `ansible_ssh_common_args`/`ansible_ssh_extra_args`), then Ansible's configuration
//! (`ansible.cfg`, `ANSIBLE_*`: Ansible gives those to `ssh` on its command line, where they beat
//! ssh_config), then ssh_config, then OpenSSH's default.

mod jumps;
mod layers;
mod resolve;
mod target;
mod tokens;
mod types;

#[cfg(test)]
mod tests;

pub use resolve::resolve_ssh_settings;
pub use types::{
    AnsibleSsh, CliSsh, InventorySsh, LocalEnv, ResolvedSsh, SettingSource, SshSettingsError,
};
