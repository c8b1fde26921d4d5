//! fleetrmi: remove Docker images across a fleet of hosts over SSH.

pub mod engine;
pub mod snapshot;
pub mod ssh;
