//! The top of the program: parse, run the command, and choose the exit code.

use clap::Parser;

use crate::cli::Cli;
use crate::commands::run_command;
use crate::report::exit_code;

/// Runs fleetrmi with the process's arguments and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                exit_code::BAD_INPUT
            } else {
                exit_code::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!(
                "error: cannot start the async runtime: {error}; no host was contacted\nhint: \
                 check this machine's limits on threads and memory (ulimit -u, ulimit -v)"
            );
            return exit_code::CANNOT_START;
        }
    };
    match runtime.block_on(run_command(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(hint) = error.hint() {
                eprintln!("hint: {hint}");
            }
            exit_code::BAD_INPUT
        }
    }
}
