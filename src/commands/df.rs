//! `fleetrmi df`: `docker system df` on every host and for the fleet, with free space.

use crate::cli::GlobalArgs;
use crate::fleet::df_on_host;
use crate::report::DfReport;
use crate::request::{InputError, select_fleet};

use super::observed_output::{observe_fleet, print_observed};

pub(crate) async fn run(global: &GlobalArgs) -> Result<i32, InputError> {
    let mut fleet = select_fleet(global)?;
    // Every host's free space is read: its SFTP session opens with the login.
    fleet.connect.ssh.open_sftp_ahead = true;
    fleet.print_warnings();
    let (hosts, elapsed) = observe_fleet(global, &fleet, |host, host_progress| {
        df_on_host(host, &fleet.connect, host_progress)
    })
    .await;
    let report = DfReport::new(hosts, elapsed);
    Ok(print_observed(
        global,
        report.exit_code(),
        || report.render_table(),
        || serde_json::to_string_pretty(&report),
        report.hosts.iter().map(|host| &host.outcome),
    ))
}
