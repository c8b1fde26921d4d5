//! Integration tests: the real fleetrmi binary against a lab of real sshd + dockerd hosts.

mod df;
mod digest;
mod dry_run;
mod faults;
mod harness;
mod images;
mod inventory;
mod parity;
mod ping;
mod policy;
mod prune;
mod rmi;
mod rollout;
mod ssh;
mod sshd;
mod transport;
