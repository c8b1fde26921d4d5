//! `fleetrmi df`: `docker system df` on every host and for the fleet, with free space.

use std::time::Instant;

use crate::cli::GlobalArgs;
use crate::fleet::{df_on_host, run_on_hosts};
use crate::report::DfReport;
use crate::request::{InputError, select_fleet};

use super::observed_output::print_observed;

pub(crate) async fn run(global: &GlobalArgs) -> Result<i32, InputError> {
    let fleet = select_fleet(global)?;
    fleet.print_warnings();
    let progress = super::progress_for(global, fleet.hosts.len());
    let started = Instant::now();
    let hosts = run_on_hosts(
        &fleet.hosts,
        fleet.forks,
        &progress,
        |host, host_progress| df_on_host(host, &fleet.connect, host_progress),
    )
    .await;
    progress.finish();
    let report = DfReport::new(hosts, started.elapsed());
    print_observed(
        global.output,
        || report.render_table(),
        || serde_json::to_string_pretty(&report),
        report.hosts.iter().map(|host| &host.outcome),
    );
    Ok(report.exit_code())
}
