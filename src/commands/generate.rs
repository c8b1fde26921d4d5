//! `completions` and `man-pages`: what the packages install, generated from the clap
//! definitions so they always describe the binary that wrote them.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::report::exit_code;
use crate::request::InputError;

/// Prints the completion script for `shell` on stdout.
pub(crate) fn print_completions(shell: clap_complete::Shell) -> i32 {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "fleetrmi", &mut std::io::stdout());
    exit_code::SUCCESS
}

/// Writes `fleetrmi.1` and a page per visible subcommand (`fleetrmi-rmi.1`, …) into `dir`.
pub(crate) fn write_man_pages(dir: &Path) -> Result<i32, InputError> {
    clap_mangen::generate_to(Cli::command(), dir).map_err(|error| InputError::Invalid {
        message: format!("cannot write the man pages into {}: {error}", dir.display()),
        hint: Some("give a directory that exists and that you may write to".to_owned()),
    })?;
    Ok(exit_code::SUCCESS)
}
