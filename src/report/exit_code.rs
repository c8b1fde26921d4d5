//! The process exit codes, documented in the README and docs/GUIDE.md. Worse outcomes take precedence.

/// Every selected host did all it was asked.
pub const SUCCESS: i32 = 0;
/// The engine refused some removal (conflict, no such image) on a reachable host.
pub const REMOVAL_FAILED: i32 = 1;
/// Bad input: arguments, inventory, image references, policy file, or a removal that needs a
/// confirmation no one can give. No host was contacted.
pub const BAD_INPUT: i32 = 2;
/// A host was reached but its run broke at a step (connection lost, unexpected API error).
pub const HOST_FAILED: i32 = 3;
/// A host could not be reached: TCP, host key, authentication, or its Docker socket.
pub const HOST_UNREACHABLE: i32 = 4;
/// The run was interrupted (Ctrl-C, SIGTERM); the report shows each host's true state.
pub const INTERRUPTED: i32 = 130;
/// `--lock`: another run holds the lock; nothing was done.
pub const ALREADY_RUNNING: i32 = 5;
/// The run ended but its `--retry-file` or `--metrics` file could not be written (the older
/// file was removed); the report on stdout is whole. Takes precedence over the hosts' outcome,
/// since what reads those files would otherwise act on a stale one.
pub const OUTPUT_FAILED: i32 = 6;
