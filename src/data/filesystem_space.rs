//! Free and total space of one filesystem.

/// Space on one filesystem, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FilesystemSpace {
    /// Available to unprivileged users (`f_bavail × f_frsize`), as `df` shows it.
    pub free_bytes: u64,
    pub total_bytes: u64,
}
