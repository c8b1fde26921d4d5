//! fleetrmi: remove Docker images across a fleet of hosts over SSH.

pub mod atomic_file;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod data;
pub mod engine;
pub mod filter;
pub mod fleet;
pub mod inventory;
pub mod plan;
pub mod policy;
pub mod reference;
pub mod report;
pub mod request;
pub mod run;
pub mod run_lock;
pub mod snapshot;
pub mod ssh;
pub mod version;
