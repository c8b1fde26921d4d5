//! The top of the program: parse, run the command, render, and choose the exit code.

use std::io::IsTerminal;
use std::time::Instant;

use clap::Parser;

use crate::cli::{Cli, Command, GlobalArgs, OutputFormat, RmiArgs};
use crate::fleet::progress::{FleetProgress, should_draw};
use crate::fleet::{RmiRequest, rmi_on_host, run_on_hosts};
use crate::report::{FleetReport, error_lines, exit_code, render_json, render_table};
use crate::request::{InputError, check_images, select_fleet};

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
            eprintln!("error: cannot start the async runtime: {error}");
            return exit_code::HOST_FAILED;
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

async fn run_command(cli: Cli) -> Result<i32, InputError> {
    match cli.command {
        Command::Rmi(args) => rmi(&cli.global, args).await,
    }
}

async fn rmi(global: &GlobalArgs, args: RmiArgs) -> Result<i32, InputError> {
    check_images(&args.images)?;
    let fleet = select_fleet(global)?;
    let request = RmiRequest {
        images: args.images,
        force: args.force,
        no_prune: args.no_prune,
    };
    let progress = FleetProgress::new(
        should_draw(
            std::io::stderr().is_terminal(),
            global.quiet,
            global.output != OutputFormat::Table,
        ),
        fleet.hosts.len(),
    );
    let started = Instant::now();
    let reports = run_on_hosts(
        &fleet.hosts,
        fleet.forks,
        &progress,
        |host, host_progress| rmi_on_host(host, &request, &fleet.connect, host_progress),
    )
    .await;
    progress.finish();
    let report = FleetReport::new(reports, started.elapsed());
    print_report(&report, global.output);
    Ok(report.exit_code())
}

fn print_report(report: &FleetReport, format: OutputFormat) {
    match format {
        OutputFormat::Table => {
            println!("{}", render_table(report));
        }
        OutputFormat::Json => println!("{}", render_json(report)),
    }
    for line in error_lines(report) {
        eprintln!("{line}");
    }
}
