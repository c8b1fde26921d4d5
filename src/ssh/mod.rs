//! SSH: one russh connection per host, host-key checking, authentication, and the channels
//! that carry Docker API traffic.

mod auth;
mod error;
mod known_hosts;
mod session;
mod statvfs;

pub use error::SshError;
pub use session::{SshOptions, SshSession, SshTarget, connections_opened};
pub use statvfs::{FilesystemSpace, filesystem_space};
