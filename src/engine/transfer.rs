//! What archive transfers (`docker save` to a file, `docker load` from one) share: the watch
//! that shows progress and can cancel, and the ways a transfer fails.
//!
//! Transfers can take far longer than one API call may, so they are bounded by pauses instead:
//! a transfer fails when no byte moved for the API call timeout.

use std::path::PathBuf;
use std::time::Duration;

use super::EngineError;

/// What the caller watches while bytes stream: progress, and whether to give up.
pub trait TransferWatch: Send + Sync {
    /// Bytes moved so far.
    fn bytes(&self, total: u64);
    /// True when the transfer should stop (Ctrl-C).
    fn cancelled(&self) -> bool;
}

/// Why a transfer did not complete. A destination file is left as it was in every case.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Engine(#[from] EngineError),

    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the transfer stalled: no data moved for {}", humantime::format_duration(*.0))]
    Stalled(Duration),

    #[error("the archive is incomplete: {0}")]
    Incomplete(String),

    #[error("interrupted")]
    Interrupted,
}
