//! One module per subcommand: each turns its checked arguments into a fleet run and a report.

mod apply;
mod ask_once;
mod backup_dir;
mod builder;
mod confirm;
mod df;
mod fleet_run;
mod generate;
mod images;
mod inventory;
mod observed_output;
mod ping;
mod prune;
mod restore;
mod rmi;

use std::io::IsTerminal;

use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::fleet::progress::{FleetProgress, should_draw};
use crate::request::InputError;

/// Runs the parsed command and returns the exit code; `Err` is bad input (exit 2).
pub async fn run_command(cli: Cli) -> Result<i32, InputError> {
    match cli.command {
        Command::Rmi(args) => rmi::run(&cli.global, args).await,
        Command::Ping => ping::run(&cli.global).await,
        Command::Images(args) => images::run(&cli.global, args).await,
        Command::Df => df::run(&cli.global).await,
        Command::Restore(args) => restore::run(&cli.global, args).await,
        Command::Builder(args) => builder::run(&cli.global, args).await,
        Command::Prune(args) => prune::run(&cli.global, args).await,
        Command::Apply(args) => apply::run(&cli.global, args).await,
        Command::Inventory(args) => inventory::run(&cli.global, &args),
        Command::Completions(args) => Ok(generate::print_completions(args.shell)),
        Command::ManPages(args) => generate::write_man_pages(&args.dir),
    }
}

/// The progress display a command should use for `hosts` hosts.
pub(crate) fn progress_for(global: &GlobalArgs, hosts: usize) -> FleetProgress {
    FleetProgress::new(
        should_draw(
            std::io::stderr().is_terminal(),
            global.quiet,
            global.output != OutputFormat::Table,
        ),
        hosts,
    )
    .with_debug(global.verbose)
}
