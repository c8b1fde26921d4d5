//! `fleetrmi rmi`: `docker rmi` on every selected host.

use crate::cli::{GlobalArgs, RmiArgs};
use crate::fleet::{RmiRequest, RmiSafety, rmi_on_host};
use crate::plan::ContainerPolicy;
use crate::report::exit_code;
use crate::request::{InputError, check_images, select_fleet};

use super::ask_once::{Confirmation, Terminals, forced_rmi_confirmation, name_list};
use super::backup_dir::{backup_dir, check_distinct_backup_dirs};
use super::confirm::ask;
use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: RmiArgs) -> Result<i32, InputError> {
    // `{host}` stands for each host's name: check the arguments as every host will get them.
    let mut request = RmiRequest {
        images: args.images.clone(),
        force: args.force,
        no_prune: args.no_prune,
        dry_run: args.dry_run,
        ignore_missing: args.ignore_missing,
        safety: RmiSafety::default(),
    };
    check_images(&request.for_host("host").images)?;
    let mut fleet = select_fleet(global)?;
    // A real run reads the free space before and after: its SFTP session opens with the login.
    fleet.connect.ssh.open_sftp_ahead = !args.dry_run;
    fleet.print_warnings();
    if request.is_per_host() {
        for host in &fleet.hosts {
            check_images(&request.for_host(&host.name).images)?;
        }
    }
    request.safety = safety(global, &args)?;
    check_distinct_backup_dirs(
        request.safety.backup_dir.as_ref(),
        fleet.hosts.iter().map(|host| host.name.as_str()),
    )?;
    match forced_rmi_confirmation(
        Terminals::detect(),
        args.safety.yes,
        args.force,
        fleet.hosts.len(),
        args.dry_run,
    ) {
        Confirmation::Proceed => {}
        Confirmation::Ask | Confirmation::Refuse => {
            let names: Vec<&str> = fleet.hosts.iter().map(|host| host.name.as_str()).collect();
            let warning = format!(
                "rmi --force will remove, on {} hosts ({}):\n  {}",
                names.len(),
                name_list(&names, 20),
                args.images.join(" ")
            );
            if !ask(&warning) {
                eprintln!("rmi cancelled: nothing was removed");
                return Ok(exit_code::SUCCESS);
            }
        }
    }
    let run = FleetRun {
        global,
        command: "rmi",
        dry_run: request.dry_run,
        serial: &fleet.serial,
    };
    let code = run
        .execute(&fleet.hosts, fleet.forks, |host, progress, control| {
            rmi_on_host(host, &request, &fleet.connect, progress, control)
        })
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}

/// The checked safety flags: the backup directory made (unless a dry run), the stop timeout
/// within the API call timeout.
fn safety(global: &GlobalArgs, args: &RmiArgs) -> Result<RmiSafety, InputError> {
    let flags = &args.safety;
    if flags.stop_containers && flags.stop_timeout >= global.api_timeout {
        return Err(InputError::Invalid {
            message: format!(
                "--stop-timeout {} must be shorter than --api-timeout {}",
                humantime::format_duration(flags.stop_timeout),
                humantime::format_duration(global.api_timeout)
            ),
            hint: Some("a stop waits for the container, within one API call".to_string()),
        });
    }
    Ok(RmiSafety {
        backup_dir: backup_dir(flags.backup.as_ref(), args.dry_run)?,
        containers: match (flags.stop_containers, flags.remove_containers) {
            (false, _) => ContainerPolicy::Leave,
            (true, false) => ContainerPolicy::Stop,
            (true, true) => ContainerPolicy::StopAndRemove,
        },
        stop_timeout: flags.stop_timeout,
    })
}
