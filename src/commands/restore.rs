//! `fleetrmi restore DIR`: load what `rmi`, `prune` or `apply --backup DIR` saved back onto its hosts.

use crate::backup::MANIFEST_FILE;
use crate::cli::{GlobalArgs, RestoreArgs};
use crate::fleet::{RestoreRequest, host_backup_dir, restore_on_host};
use crate::report::{error_lines, render_restore_table, restore_error_lines};
use crate::request::{InputError, select_fleet};

use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: RestoreArgs) -> Result<i32, InputError> {
    if !args.dir.is_dir() {
        return Err(InputError::Invalid {
            message: format!("{} is not a directory", args.dir.display()),
            hint: Some("give the DIR that `rmi --backup DIR` wrote".to_string()),
        });
    }
    let mut fleet = select_fleet(global)?;
    fleet.print_warnings();
    let (with_backup, without): (Vec<_>, Vec<_>) = fleet.hosts.into_iter().partition(|host| {
        host_backup_dir(&args.dir, &host.name)
            .join(MANIFEST_FILE)
            .is_file()
    });
    if with_backup.is_empty() {
        return Err(InputError::Invalid {
            message: format!(
                "{} has no backup of the selected hosts (no <host>/{MANIFEST_FILE})",
                args.dir.display()
            ),
            hint: Some("check -l and the directory given to rmi --backup".to_string()),
        });
    }
    if !without.is_empty() && global.limit.is_some() {
        let names: Vec<&str> = without.iter().map(|host| host.name.as_str()).collect();
        eprintln!(
            "warning: no backup in {} for: {}",
            args.dir.display(),
            names.join(", ")
        );
    }
    fleet.hosts = with_backup;
    let request = RestoreRequest {
        dir: args.dir,
        force: args.force,
    };
    let run = FleetRun {
        global,
        command: "restore",
        dry_run: false,
        serial: &fleet.serial,
    };
    let code = run
        .execute_with(
            &fleet.hosts,
            fleet.forks,
            |report| {
                let mut lines = restore_error_lines(report);
                lines.extend(error_lines(report));
                (render_restore_table(report), lines)
            },
            |host, progress, control| {
                restore_on_host(host, &request, &fleet.connect, progress, control)
            },
        )
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}
