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
/// This machine could not start the run (its async runtime: threads, memory). Like 2 and 5,
/// it ends the run before any host is contacted; unlike 2, no input is wrong.
pub const CANNOT_START: i32 = 7;

/// What a run that reached hosts ended with, in the terms that decide its exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// `--retry-file` or `--metrics` could not be written.
    pub output_failed: bool,
    /// Ctrl-C or SIGTERM stopped the run.
    pub interrupted: bool,
    pub unreachable: usize,
    pub failed: usize,
    /// Hosts where the engine refused some removal.
    pub refused: usize,
}

impl RunOutcome {
    /// The one ranking of outcomes, worst first: 6, 130, 4, 3, 1, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.output_failed {
            OUTPUT_FAILED
        } else if self.interrupted {
            INTERRUPTED
        } else if self.unreachable > 0 {
            HOST_UNREACHABLE
        } else if self.failed > 0 {
            HOST_FAILED
        } else if self.refused > 0 {
            REMOVAL_FAILED
        } else {
            SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_decides() {
        let outcome = RunOutcome {
            unreachable: 1,
            failed: 2,
            refused: 3,
            ..RunOutcome::default()
        };
        assert_eq!(outcome.exit_code(), HOST_UNREACHABLE);
        let interrupted = RunOutcome {
            interrupted: true,
            ..outcome
        };
        assert_eq!(interrupted.exit_code(), INTERRUPTED);
        let unwritten = RunOutcome {
            output_failed: true,
            ..interrupted
        };
        assert_eq!(unwritten.exit_code(), OUTPUT_FAILED);
        assert_eq!(
            RunOutcome {
                refused: 1,
                ..RunOutcome::default()
            }
            .exit_code(),
            REMOVAL_FAILED
        );
        assert_eq!(RunOutcome::default().exit_code(), SUCCESS);
    }
}
