//! The coordinator: reaches hosts in parallel and runs a job on each.

mod backup;
mod builder;
mod connect;
mod content_blobs;
pub mod control;
mod cut_short;
mod df;
mod difference;
mod free_space;
mod host_run;
mod images;
mod observe;
mod open_files;
mod outcome;
mod ping;
pub mod progress;
mod prune;
mod prune_backup;
mod restore;
mod rmi;
mod rmi_safety;
pub mod rollout;
mod runner;
mod send_removal;
mod target;
mod timeline;

pub use connect::ConnectOptions;
pub use df::df_on_host;
pub use images::{ImagesRequest, images_on_host};
pub use outcome::HostOutcome;
pub use ping::ping_on_host;
pub use prune::{PruneJob, prune_on_host};
pub use rmi::{RmiRequest, rmi_on_host};

pub use backup::host_backup_dir;
pub use builder::{BuilderPruneRequest, builder_prune_on_host};
pub use restore::{RestoreRequest, restore_on_host};
pub use rmi_safety::RmiSafety;
pub use runner::{RunSettings, run_fleet, run_on_hosts};
pub use target::HostTarget;
