//! fleetrmi: remove Docker images across a fleet of hosts over SSH.
//!
//! The binary is the product: [`run`] is all `main` calls. The modules stay private so that the
//! compiler sees what is unused; [`testing`] gives the integration tests the few parsers they
//! check the program against.

mod atomic_file;
mod backup;
mod cli;
mod commands;
mod data;
mod engine;
mod filter;
mod fleet;
mod inventory;
mod plan;
mod policy;
mod reference;
mod report;
mod request;
mod run;
mod run_lock;
mod snapshot;
mod ssh;
mod version;

pub use run::run;

/// What the integration tests use besides the binary: an inventory parsed as fleetrmi reads it,
/// the run lock, and the policy file's time grammar.
#[doc(hidden)]
pub mod testing {
    pub use crate::inventory::Inventory;
    pub use crate::policy::{Timestamp, parse_time};
    pub use crate::run_lock::RunLock;
}
