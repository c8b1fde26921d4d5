//! Whether to ask before removing images: once for the whole fleet on a terminal, as
//! `docker image prune` asks; never where no one can answer.

use std::io::{BufRead, IsTerminal, Write};

use crate::request::InputError;

/// What to do before a run that removes images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// Go ahead: a dry run, or confirmed by a flag.
    Proceed,
    /// Ask on the terminal.
    Ask,
    /// Refuse (exit 2): nobody can be asked.
    Refuse,
}

/// Decides: a dry run changes nothing and `--force`/`--yes` confirm; otherwise ask when stdin is
/// a terminal, and refuse when it is not.
pub(crate) fn confirmation(
    stdin_is_terminal: bool,
    confirmed: bool,
    dry_run: bool,
) -> Confirmation {
    if dry_run || confirmed {
        Confirmation::Proceed
    } else if stdin_is_terminal {
        Confirmation::Ask
    } else {
        Confirmation::Refuse
    }
}

/// Confirms a run that removes images, asking on a terminal: `Ok(true)` to go on, `Ok(false)`
/// when the answer is no (the caller stops, having removed nothing), `Err` when nobody can be
/// asked.
pub(crate) fn confirm_run(
    command: &'static str,
    warning: &str,
    confirmed: bool,
    dry_run: bool,
) -> Result<bool, InputError> {
    match confirmation(std::io::stdin().is_terminal(), confirmed, dry_run) {
        Confirmation::Proceed => Ok(true),
        Confirmation::Refuse => Err(InputError::Unconfirmed { command }),
        Confirmation::Ask => {
            let yes = ask(warning);
            if !yes {
                eprintln!("{command} has been cancelled: nothing was removed");
            }
            Ok(yes)
        }
    }
}

/// Prints the warning and question on stderr and reads the answer from stdin: only `y` or `yes`
/// (any case) is yes.
pub(crate) fn ask(warning: &str) -> bool {
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "WARNING! {warning}\nAre you sure you want to continue? [y/N] "
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    is_yes(&answer)
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The hosts a warning names: all of them up to five, then a count.
pub(crate) fn host_list(names: &[&str]) -> String {
    match names.len() {
        1 => format!("host {}", names[0]),
        2..=5 => format!("{} hosts ({})", names.len(), names.join(", ")),
        count => format!("{count} hosts ({}, …)", names[..5].join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_never_asks() {
        assert_eq!(confirmation(false, false, true), Confirmation::Proceed);
        assert_eq!(confirmation(true, false, true), Confirmation::Proceed);
    }

    #[test]
    fn force_or_yes_confirms_anywhere() {
        assert_eq!(confirmation(false, true, false), Confirmation::Proceed);
        assert_eq!(confirmation(true, true, false), Confirmation::Proceed);
    }

    #[test]
    fn a_terminal_is_asked_and_a_pipe_is_refused() {
        assert_eq!(confirmation(true, false, false), Confirmation::Ask);
        assert_eq!(confirmation(false, false, false), Confirmation::Refuse);
    }

    #[test]
    fn only_y_or_yes_is_yes() {
        assert!(is_yes("y\n"));
        assert!(is_yes(" YES \n"));
        assert!(!is_yes("\n"));
        assert!(!is_yes("n"));
        assert!(!is_yes("yep"));
    }

    #[test]
    fn long_host_lists_are_cut() {
        assert_eq!(host_list(&["h1"]), "host h1");
        assert_eq!(host_list(&["h1", "h2"]), "2 hosts (h1, h2)");
        assert_eq!(
            host_list(&["a", "b", "c", "d", "e", "f"]),
            "6 hosts (a, b, c, d, e, …)"
        );
    }
}
