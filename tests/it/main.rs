//! Integration tests: the real fleetrmi binary against a lab of real sshd + dockerd hosts.

mod faults;
mod harness;
mod inventory;
mod parity;
mod rmi;
