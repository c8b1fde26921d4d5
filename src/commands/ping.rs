//! `fleetrmi ping`: can every host be reached, and what engine answers there.

use crate::cli::GlobalArgs;
use crate::fleet::ping_on_host;
use crate::report::PingReport;
use crate::request::{InputError, select_fleet};

use super::observed_output::{observe_fleet, print_observed};

pub(crate) async fn run(global: &GlobalArgs) -> Result<i32, InputError> {
    let fleet = select_fleet(global)?;
    fleet.print_warnings();
    let (hosts, elapsed) = observe_fleet(global, &fleet, |host, host_progress| {
        ping_on_host(host, &fleet.connect, host_progress)
    })
    .await;
    let report = PingReport::new(hosts, elapsed);
    Ok(print_observed(
        global,
        report.exit_code(),
        || report.render_table(),
        || serde_json::to_string_pretty(&report),
        report.hosts.iter().map(|host| &host.outcome),
    ))
}
