//! `fleetrmi rmi`: `docker rmi` on every selected host.

use crate::cli::{GlobalArgs, RmiArgs};
use crate::fleet::{RmiRequest, rmi_on_host};
use crate::request::{InputError, check_images, select_fleet};

use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: RmiArgs) -> Result<i32, InputError> {
    check_images(&args.images)?;
    let fleet = select_fleet(global)?;
    fleet.print_warnings();
    let request = RmiRequest {
        images: args.images,
        force: args.force,
        no_prune: args.no_prune,
        dry_run: args.dry_run,
        ignore_missing: args.ignore_missing,
    };
    let run = FleetRun {
        global,
        command: "rmi",
        dry_run: request.dry_run,
    };
    let code = run
        .execute(&fleet.hosts, fleet.forks, |host, progress, control| {
            rmi_on_host(host, &request, &fleet.connect, progress, control)
        })
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}
