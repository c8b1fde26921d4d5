//! `~/.ssh/config` as OpenSSH reads it: `Host` and `Match` blocks with wildcard and negated
//! patterns, `Include`, and "the first value obtained wins" (except `IdentityFile` and
//! `CertificateFile`, which accumulate). Only the keywords fleetrmi acts on are kept; the others
//! are read past, as a client that does not use them would.

mod parse;
mod query;
mod types;

#[cfg(test)]
mod tests;

pub(crate) use parse::split_args;
pub use types::{
    ConfigOrigin, ConfigValue, HostConfig, SshConfig, SshConfigError, StrictHostKeyChecking,
};
