//! `fleetrmi rmi`: `docker rmi` on every selected host.

use std::time::Instant;

use crate::cli::{GlobalArgs, OutputFormat, RmiArgs};
use crate::fleet::{RmiRequest, rmi_on_host, run_on_hosts};
use crate::report::{FleetReport, error_lines, render_json, render_table};
use crate::request::{InputError, check_images, select_fleet};

pub(crate) async fn run(global: &GlobalArgs, args: RmiArgs) -> Result<i32, InputError> {
    check_images(&args.images)?;
    let fleet = select_fleet(global)?;
    let request = RmiRequest {
        images: args.images,
        force: args.force,
        no_prune: args.no_prune,
        dry_run: args.dry_run,
    };
    let progress = super::progress_for(global, fleet.hosts.len());
    let started = Instant::now();
    let reports = run_on_hosts(
        &fleet.hosts,
        fleet.forks,
        &progress,
        |host, host_progress| rmi_on_host(host, &request, &fleet.connect, host_progress),
    )
    .await;
    progress.finish();
    let report = FleetReport::with_mode(reports, started.elapsed(), request.dry_run);
    print_report(&report, global.output);
    Ok(report.exit_code())
}

pub(super) fn print_report(report: &FleetReport, format: OutputFormat) {
    match format {
        OutputFormat::Table => println!("{}", render_table(report)),
        OutputFormat::Json => println!("{}", render_json(report)),
    }
    for line in error_lines(report) {
        eprintln!("{line}");
    }
}
