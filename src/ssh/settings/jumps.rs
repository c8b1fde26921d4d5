//! Jump hosts (`ProxyJump`, `-J`): each hop resolved through ssh_config under its own name.

use std::path::PathBuf;

use super::layers::{
    Endpoint, Layer, LayerSource, MAX_JUMP_DEPTH, PROXY_COMMAND_HINT, default_identities, pick,
    resolve_common, unsupported_notes,
};
use super::tokens::Tokens;
use super::types::{AnsibleSsh, CliSsh, LocalEnv, ResolvedSsh, SettingSource, Sourced, sourced};
use crate::ssh::args::{JumpSpec, parse_jump_chain, proxy_command_as_jump};
use crate::ssh::config::{ConfigValue, SshConfig};

/// Resolves jump hosts: each through ssh_config under its own name, as `ssh -J` does.
pub(super) struct JumpResolver<'a> {
    pub(super) config: &'a SshConfig,
    pub(super) cli: &'a CliSsh,
    pub(super) local: &'a LocalEnv,
    /// Where the chain came from; a hop's user and port written in it come from there too.
    pub(super) source: &'a SettingSource,
    /// The target's inventory key, tried on a jump host that has no IdentityFile of its own.
    pub(super) fallback_identities: &'a [Sourced<PathBuf>],
    pub(super) notes: &'a mut Vec<String>,
}

impl JumpResolver<'_> {
    /// The hops of `chain`, the first preceded by the jump hosts its own ProxyJump names.
    pub(super) fn chain(
        &mut self,
        chain: &[JumpSpec],
        depth: usize,
    ) -> Result<Vec<ResolvedSsh>, String> {
        if depth > MAX_JUMP_DEPTH {
            return Err(format!(
                "jump hosts nest more than {MAX_JUMP_DEPTH} deep (a ProxyJump loop?)"
            ));
        }
        let mut hops = Vec::new();
        for (position, spec) in chain.iter().enumerate() {
            let (hop, proxy_jump) = self.hop(spec)?;
            // Only the first hop is reached on its own: later hops are reached through the
            // hop before them, which overrides any ProxyJump of theirs (as `ssh -J a,b` does).
            if position == 0
                && let Some(jump) = proxy_jump
                && !jump.value.eq_ignore_ascii_case("none")
            {
                let inner = parse_jump_chain(&jump.value)?;
                // A ProxyJump that names the jump host itself (`Host *` + `ProxyJump bastion`
                // seen from bastion) is ignored, as OpenSSH ignores it.
                if !inner
                    .iter()
                    .any(|hop| hop.host.eq_ignore_ascii_case(&spec.host))
                {
                    hops.extend(self.chain(&inner, depth + 1)?);
                }
            }
            hops.push(hop);
        }
        if hops.len() > MAX_JUMP_DEPTH {
            return Err(format!(
                "more than {MAX_JUMP_DEPTH} jump hosts in a chain (a ProxyJump loop?)"
            ));
        }
        Ok(hops)
    }

    fn hop(
        &mut self,
        spec: &JumpSpec,
    ) -> Result<(ResolvedSsh, Option<ConfigValue<String>>), String> {
        let found = self.config.query(&spec.host, &self.local.user);
        let layers = [Layer {
            found: &found,
            source: LayerSource::SshConfig,
        }];
        let mut proxy_jump = found.proxy_jump.clone();
        if let Some(command) = &found.proxy_command {
            let Some(jump) = proxy_command_as_jump(&command.value) else {
                return Err(format!(
                    "jump host {spec}: ProxyCommand ({}) is not supported: fleetrmi runs no \
                     local commands ({PROXY_COMMAND_HINT})",
                    command.origin
                ));
            };
            proxy_jump = Some(ConfigValue {
                value: jump.to_string(),
                origin: command.origin.clone(),
            });
        }
        let hostname = pick(&layers, |found| found.hostname.as_ref())
            .unwrap_or_else(|| sourced(spec.host.clone(), self.source.clone()));
        let port = match spec.port {
            Some(port) => sourced(port, self.source.clone()),
            None => pick(&layers, |found| found.port.as_ref())
                .unwrap_or_else(|| sourced(22, SettingSource::Default)),
        };
        let user = match &spec.user {
            Some(user) => sourced(user.clone(), self.source.clone()),
            None => pick(&layers, |found| found.user.as_ref())
                .unwrap_or_else(|| sourced(self.local.user.clone(), SettingSource::Default)),
        };
        let tokens = Tokens {
            local: self.local,
            hostname: &hostname.value,
            original: &spec.host,
            port: port.value,
            remote_user: &user.value,
        };
        let mut identity_files = Vec::new();
        for file in &found.identity_files {
            identity_files.push(sourced(
                tokens.expand_path(&file.value)?,
                SettingSource::SshConfig(file.origin.clone()),
            ));
        }
        if identity_files.is_empty() {
            identity_files = self.fallback_identities.to_vec();
        }
        if identity_files.is_empty() {
            identity_files = default_identities(self.local);
        }
        let mut certificate_files = Vec::new();
        for file in &found.certificate_files {
            certificate_files.push(sourced(
                tokens.expand_path(&file.value)?,
                SettingSource::SshConfig(file.origin.clone()),
            ));
        }
        // Ansible's configuration reaches `ssh`'s own command line, not its jump hosts.
        let common = resolve_common(&layers, self.cli, &tokens, None, &AnsibleSsh::default())?;
        self.notes.extend(unsupported_notes(&found));
        self.notes.extend(
            common
                .notes
                .iter()
                .map(|note| format!("jump host {spec}: {note}")),
        );
        let hop = common.into_resolved(Endpoint {
            name: spec.to_string(),
            lookup: spec.host.clone(),
            hostname,
            port,
            user,
            identity_files,
            certificate_files,
        });
        Ok((hop, proxy_jump))
    }
}
