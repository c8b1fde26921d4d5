//! Plain data that the I/O modules (`ssh`, `engine`) read from a host and that the planner,
//! the policies and the reports use: which engine, what it said about itself, its images, its
//! disk usage, the free space around its data. No I/O here.

mod disk_usage;
mod engine_info;
mod engine_kind;
mod filesystem_space;
mod listed_image;

pub use disk_usage::{DiskUsage, UsageCounts};
pub use engine_info::{DaemonVersion, EngineInfo};
pub use engine_kind::{EngineKind, Product};
pub use filesystem_space::FilesystemSpace;
pub use listed_image::ListedImage;
