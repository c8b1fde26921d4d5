//! Integration tests: the real fleetrmi binary against a lab of real sshd + dockerd hosts.

mod dry_run;
mod faults;
mod harness;
mod parity;
mod rmi;
mod rollout;
mod ssh;
mod sshd;
