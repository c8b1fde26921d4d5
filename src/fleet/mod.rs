//! The coordinator: reaches hosts in parallel and runs a job on each.

mod connect;
pub mod progress;
mod prune;
mod rmi;
mod runner;
mod target;

pub use connect::{ConnectOptions, ConnectedHost, connect_host};
pub use prune::{PRUNE_RESULT, PruneJob, prune_on_host};
pub use rmi::{RmiRequest, rmi_on_host};
pub use runner::run_on_hosts;
pub use target::HostTarget;
