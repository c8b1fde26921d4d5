//! Integration tests: the real fleetrmi binary against a lab of real sshd + dockerd hosts.

mod backup;
mod builder;
mod confirm;
mod containers;
mod cost;
mod df;
mod digest;
mod dry_run;
mod faults;
mod faults_outputs;
mod faults_sftp;
mod faults_stop;
mod harness;
mod held_engine;
mod images;
mod inventory;
mod parity;
mod ping;
mod policy;
mod prune;
mod prune_backup;
mod rmi;
mod rollout;
mod ssh;
mod sshd;
mod transport;
