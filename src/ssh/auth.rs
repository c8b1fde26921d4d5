//! Public-key authentication as OpenSSH does it: the agent's keys first, then key files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle, Handler};
use russh::keys::PrivateKeyWithHashAlg;
use russh::keys::agent::client::AgentClient;

use super::{SshError, SshTarget};

/// Tries each method in turn and returns a description of the one that worked.
pub(crate) async fn authenticate<H: Handler>(
    handle: &mut Handle<H>,
    target: &SshTarget,
) -> Result<String, SshError> {
    let mut tried = Vec::new();
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();

    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        match try_agent(handle, &target.user, rsa_hash).await {
            Ok(true) => return Ok("publickey (agent)".to_string()),
            Ok(false) => tried.push("agent keys (refused)".to_string()),
            Err(cause) => tried.push(format!("agent ({cause})")),
        }
    }

    for path in identity_files(target) {
        let key = match russh::keys::load_secret_key(&path, None) {
            Ok(key) => key,
            Err(russh::keys::Error::KeyIsEncrypted) => {
                tried.push(format!("{} (encrypted, skipped)", path.display()));
                continue;
            }
            Err(error) if !path.exists() && target.identity_files.is_empty() => {
                let _ = error;
                continue;
            }
            Err(error) => {
                tried.push(format!("{} (unreadable: {error})", path.display()));
                continue;
            }
        };
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash);
        match handle.authenticate_publickey(&target.user, key).await {
            Ok(AuthResult::Success) => return Ok(format!("publickey ({})", path.display())),
            Ok(AuthResult::Failure { .. }) => tried.push(format!("{} (refused)", path.display())),
            Err(error) => return Err(SshError::Transport(error.to_string())),
        }
    }

    Err(SshError::AuthRefused {
        user: target.user.clone(),
        tried: if tried.is_empty() {
            "nothing: no agent and no key file".to_string()
        } else {
            tried.join(", ")
        },
        hint: "give the host a key with ansible_ssh_private_key_file, or load the key into ssh-agent, \
               and check that its public key is in the user's authorized_keys on the host",
    })
}

async fn try_agent<H: Handler>(
    handle: &mut Handle<H>,
    user: &str,
    rsa_hash: Option<russh::keys::HashAlg>,
) -> Result<bool, String> {
    let mut agent = AgentClient::connect_env()
        .await
        .map_err(|error| error.to_string())?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|error| error.to_string())?;
    for identity in identities {
        let key = identity.public_key().into_owned();
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(AuthResult::Success) => return Ok(true),
            Ok(AuthResult::Failure { .. }) => continue,
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(false)
}

/// The host's own key files, or OpenSSH's default ones when it names none.
fn identity_files(target: &SshTarget) -> Vec<PathBuf> {
    if !target.identity_files.is_empty() {
        return target.identity_files.clone();
    }
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| Path::new(&home).join(".ssh").join(name))
        .collect()
}
