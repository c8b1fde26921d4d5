//! Asking once before a run that is hard to take back: a fleet-wide `rmi --force` on several
//! hosts, and `builder prune`. Only a person at a terminal is asked; the decision is a small
//! pure function of the flags and the terminals; the question itself is `confirm::ask`'s.

use std::io::IsTerminal;

/// What to do before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// Go ahead without asking.
    Proceed,
    /// Ask on the terminal.
    Ask,
    /// Refuse (bad input): confirmation is needed and no one can be asked.
    Refuse,
}

/// Whether stdin and stderr are terminals: a prompt needs both (the question goes to stderr,
/// the answer comes from stdin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Terminals {
    pub stdin: bool,
    pub stderr: bool,
}

impl Terminals {
    pub(crate) fn detect() -> Terminals {
        Terminals {
            stdin: std::io::stdin().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }

    fn interactive(self) -> bool {
        self.stdin && self.stderr
    }
}

/// `rmi --force` on more than one host asks once on a terminal, unless `--yes` or a dry run.
/// Runs without a terminal (cron, CI, pipes) never ask: they go ahead, as before.
pub(crate) fn forced_rmi_confirmation(
    terminals: Terminals,
    yes: bool,
    force: bool,
    hosts: usize,
    dry_run: bool,
) -> Confirmation {
    if !force || hosts < 2 || yes || dry_run || !terminals.interactive() {
        Confirmation::Proceed
    } else {
        Confirmation::Ask
    }
}

/// `builder prune` asks on a terminal unless `-f`, as `docker builder prune` does; where no one
/// can be asked it needs `-f`.
pub(crate) fn builder_prune_confirmation(terminals: Terminals, force: bool) -> Confirmation {
    if force {
        Confirmation::Proceed
    } else if terminals.interactive() {
        Confirmation::Ask
    } else {
        Confirmation::Refuse
    }
}

/// Names, comma-separated, all of them up to `limit`, then how many more.
pub(crate) fn name_list(names: &[&str], limit: usize) -> String {
    if names.len() <= limit {
        names.join(", ")
    } else {
        format!(
            "{}, … and {} more",
            names[..limit].join(", "),
            names.len() - limit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTY: Terminals = Terminals {
        stdin: true,
        stderr: true,
    };
    const PIPE: Terminals = Terminals {
        stdin: false,
        stderr: false,
    };

    #[test]
    fn forced_rmi_on_several_hosts_at_a_terminal_asks() {
        assert_eq!(
            forced_rmi_confirmation(TTY, false, true, 3, false),
            Confirmation::Ask
        );
    }

    #[test]
    fn yes_dry_run_one_host_or_no_force_never_ask() {
        assert_eq!(
            forced_rmi_confirmation(TTY, true, true, 3, false),
            Confirmation::Proceed
        );
        assert_eq!(
            forced_rmi_confirmation(TTY, false, true, 3, true),
            Confirmation::Proceed
        );
        assert_eq!(
            forced_rmi_confirmation(TTY, false, true, 1, false),
            Confirmation::Proceed
        );
        assert_eq!(
            forced_rmi_confirmation(TTY, false, false, 3, false),
            Confirmation::Proceed
        );
    }

    #[test]
    fn forced_rmi_without_a_terminal_proceeds_as_before() {
        assert_eq!(
            forced_rmi_confirmation(PIPE, false, true, 3, false),
            Confirmation::Proceed
        );
        let stdin_only = Terminals {
            stdin: true,
            stderr: false,
        };
        assert_eq!(
            forced_rmi_confirmation(stdin_only, false, true, 3, false),
            Confirmation::Proceed
        );
        let stderr_only = Terminals {
            stdin: false,
            stderr: true,
        };
        assert_eq!(
            forced_rmi_confirmation(stderr_only, false, true, 3, false),
            Confirmation::Proceed
        );
    }

    #[test]
    fn builder_prune_asks_at_a_terminal_and_needs_force_elsewhere() {
        assert_eq!(builder_prune_confirmation(TTY, false), Confirmation::Ask);
        assert_eq!(builder_prune_confirmation(TTY, true), Confirmation::Proceed);
        assert_eq!(
            builder_prune_confirmation(PIPE, false),
            Confirmation::Refuse
        );
        assert_eq!(
            builder_prune_confirmation(PIPE, true),
            Confirmation::Proceed
        );
    }

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(name_list(&["a", "b"], 3), "a, b");
        assert_eq!(name_list(&["a", "b", "c", "d"], 2), "a, b, … and 2 more");
    }
}
