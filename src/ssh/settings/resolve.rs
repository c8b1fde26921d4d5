//! Resolving one host's SSH settings: the inventory, Ansible's configuration, ssh_config and
//! the command line, each value with its source.

use std::path::{Path, PathBuf};

use super::jumps::JumpResolver;
use super::layers::{
    Endpoint, Layer, LayerSource, PROXY_COMMAND_HINT, default_identities, inventory_var, pick,
    resolve_common, unsupported_notes,
};
use super::tokens::Tokens;
use super::types::{
    CliSsh, InventorySsh, LocalEnv, ResolvedSsh, SettingSource, Sourced, SshSettingsError, sourced,
};
use crate::ssh::args::{parse_jump_chain, proxy_command_as_jump, ssh_args_to_config};
use crate::ssh::config::SshConfig;

/// Resolves a host's SSH settings from the inventory, ssh_config and the command line.
pub fn resolve_ssh_settings(
    inventory: &InventorySsh,
    config: &SshConfig,
    cli: &CliSsh,
    local: &LocalEnv,
) -> Result<ResolvedSsh, SshSettingsError> {
    let failed = |message: String| SshSettingsError {
        host: inventory.name.clone(),
        message,
        hint: None,
    };
    let lookup = inventory
        .address
        .clone()
        .unwrap_or_else(|| inventory.name.clone());
    // The inventory's ssh options, read as ssh_config lines that apply to this host only.
    let mut args_layers = Vec::new();
    for (var, text) in &inventory.ssh_args {
        let lines = ssh_args_to_config(text).map_err(|why| failed(format!("{var}: {why}")))?;
        let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
        let parsed = SshConfig::from_text(Path::new(var), &lines, &home)
            .map_err(|error| failed(format!("{var}: {error}")))?;
        args_layers.push((var.clone(), parsed.query(&lookup, &local.user)));
    }
    let mut ansible_layers = Vec::new();
    for (origin, text) in &inventory.ansible.ssh_args {
        let lines = ssh_args_to_config(text).map_err(|why| failed(format!("{origin}: {why}")))?;
        let home = local.home.clone().unwrap_or_else(|| PathBuf::from("/"));
        let parsed = SshConfig::from_text(Path::new(origin), &lines, &home)
            .map_err(|error| failed(format!("{origin}: {error}")))?;
        ansible_layers.push((origin.clone(), parsed.query(&lookup, &local.user)));
    }
    let from_config = config.query(&lookup, &local.user);

    let mut layers: Vec<Layer> = args_layers
        .iter()
        .map(|(var, found)| Layer {
            found,
            source: LayerSource::InventoryArgs(var),
        })
        .collect();
    layers.extend(ansible_layers.iter().map(|(origin, found)| Layer {
        found,
        source: LayerSource::AnsibleArgs(origin),
    }));
    layers.push(Layer {
        found: &from_config,
        source: LayerSource::SshConfig,
    });

    let hostname = match &inventory.address {
        Some(address) => sourced(address.clone(), inventory_var("ansible_host")),
        None => pick(&layers, |found| found.hostname.as_ref())
            .unwrap_or_else(|| sourced(inventory.name.clone(), inventory_var("host name"))),
    };
    let port = match inventory.port {
        Some(port) => sourced(port, inventory_var("ansible_port")),
        None => pick(&layers, |found| found.port.as_ref())
            .unwrap_or_else(|| sourced(22, SettingSource::Default)),
    };
    let user = match (&inventory.user, &inventory.ansible.user) {
        (Some(user), _) => sourced(user.clone(), inventory_var("ansible_user")),
        (None, Some((user, origin))) => {
            sourced(user.clone(), SettingSource::Ansible(origin.clone()))
        }
        (None, None) => pick(&layers, |found| found.user.as_ref())
            .unwrap_or_else(|| sourced(local.user.clone(), SettingSource::Default)),
    };
    let tokens = Tokens {
        local,
        hostname: &hostname.value,
        original: &lookup,
        port: port.value,
        remote_user: &user.value,
    };

    let mut identity_files: Vec<Sourced<PathBuf>> = Vec::new();
    if let Some(path) = &inventory.identity_file {
        identity_files.push(sourced(
            path.clone(),
            inventory_var("ansible_ssh_private_key_file"),
        ));
    } else if let Some((path, origin)) = &inventory.ansible.identity_file {
        identity_files.push(sourced(
            path.clone(),
            SettingSource::Ansible(origin.clone()),
        ));
    }
    for layer in &layers {
        for file in &layer.found.identity_files {
            let path = tokens.expand_path(&file.value).map_err(&failed)?;
            if !identity_files.iter().any(|seen| seen.value == path) {
                identity_files.push(sourced(path, layer.source(&file.origin)));
            }
        }
    }
    let explicit_identities = identity_files.clone();
    if identity_files.is_empty() {
        identity_files = default_identities(local);
    }
    let mut certificate_files: Vec<Sourced<PathBuf>> = Vec::new();
    for layer in &layers {
        for file in &layer.found.certificate_files {
            let path = tokens.expand_path(&file.value).map_err(&failed)?;
            certificate_files.push(sourced(path, layer.source(&file.origin)));
        }
    }

    let mut common = resolve_common(
        &layers,
        cli,
        &tokens,
        inventory.connect_timeout,
        &inventory.ansible,
    )
    .map_err(&failed)?;

    let mut notes = unsupported_notes(&from_config);
    notes.append(&mut common.notes);
    // The jump chain: the inventory's `jump`, else a ProxyJump from the options or ssh_config.
    let (jump_text, jump_source) = match &inventory.jump {
        Some(text) => (Some(text.clone()), Some(inventory_var("jump"))),
        None => {
            let mut chosen = (None, None);
            for layer in &layers {
                if let Some(command) = &layer.found.proxy_command {
                    let source = layer.source(&command.origin);
                    let Some(jump) = proxy_command_as_jump(&command.value) else {
                        return Err(SshSettingsError {
                            hint: Some(PROXY_COMMAND_HINT.to_string()),
                            ..failed(format!(
                                "ProxyCommand ({source}) is not supported: fleetrmi runs no \
                                 local commands"
                            ))
                        });
                    };
                    chosen = (Some(jump.to_string()), Some(source));
                    break;
                }
                if let Some(jump) = &layer.found.proxy_jump {
                    chosen = (Some(jump.value.clone()), Some(layer.source(&jump.origin)));
                    break;
                }
            }
            chosen
        }
    };
    let jumps = match (&jump_text, &jump_source) {
        (Some(text), Some(source)) if !text.eq_ignore_ascii_case("none") => {
            let chain = parse_jump_chain(text).map_err(&failed)?;
            let fallback: Vec<Sourced<PathBuf>> = explicit_identities
                .iter()
                .filter(|file| matches!(file.source, SettingSource::Inventory(_)))
                .cloned()
                .collect();
            let mut resolver = JumpResolver {
                config,
                cli,
                local,
                source,
                fallback_identities: &fallback,
                notes: &mut notes,
            };
            resolver.chain(&chain, 0).map_err(&failed)?
        }
        _ => Vec::new(),
    };

    let mut resolved = common.into_resolved(Endpoint {
        name: inventory.name.clone(),
        lookup,
        hostname,
        port,
        user,
        identity_files,
        certificate_files,
    });
    resolved.jumps = jumps;
    resolved.jump_source = jump_source;
    resolved.notes = notes;
    Ok(resolved)
}
