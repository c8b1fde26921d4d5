//! `fleetrmi prune`: `docker image prune` on every selected host, or the images that rules
//! choose, removed by fleetrmi.

use crate::cli::{GlobalArgs, PruneArgs};
use crate::fleet::{PruneJob, prune_on_host};
use crate::policy::{PolicyRequest, PruneFilters, PruneMode, Timestamp};
use crate::request::{InputError, check_rules, select_fleet};

use super::backup_dir::{backup_dir, check_distinct_backup_dirs};
use super::confirm::{confirm_run, host_list};
use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: PruneArgs) -> Result<i32, InputError> {
    let now = Timestamp::now();
    let filters = PruneFilters::parse(&args.filters, now).map_err(InputError::Rule)?;
    let policy = PolicyRequest {
        all: args.all,
        filters,
        rules: check_rules(&args.rules)?,
        force: args.force,
        now,
    };
    if !policy.all && !policy.rules.matches.is_empty() {
        eprintln!(
            "warning: without --all the rules consider only dangling images, which have no tag \
             for --match to match; add --all to match tagged images"
        );
    }
    let backup = backup_dir(args.backup.as_ref(), args.confirm.dry_run)?;
    let mut fleet = select_fleet(global)?;
    // A real run reads the free space before and after: its SFTP session opens with the login.
    fleet.connect.ssh.open_sftp_ahead = !args.confirm.dry_run;
    fleet.print_warnings();
    let names: Vec<&str> = fleet.hosts.iter().map(|host| host.name.as_str()).collect();
    check_distinct_backup_dirs(backup.as_ref(), names.iter().copied())?;
    let what = match (policy.mode(), policy.all) {
        (PruneMode::Engine, false) => "all dangling images",
        (PruneMode::Engine, true) => "all images without at least one container associated to them",
        (PruneMode::Rules, _) => "the images the rules select (--dry-run lists them)",
    };
    let warning = format!("This will remove {what} on {}.", host_list(&names));
    if !confirm_run(
        "prune",
        &warning,
        args.force || args.confirm.yes,
        args.confirm.dry_run,
    )? {
        return Ok(crate::report::exit_code::SUCCESS);
    }

    let job = PruneJob {
        policy,
        policy_name: None,
        engines: Vec::new(),
        dry_run: args.confirm.dry_run,
        backup_dir: backup,
    };
    let dry_run = job.dry_run;
    let run = FleetRun {
        global,
        command: "prune",
        dry_run,
        serial: &fleet.serial,
    };
    let code = run
        .execute(&fleet.hosts, fleet.forks, |host, progress, control| {
            prune_on_host(
                host,
                std::slice::from_ref(&job),
                &fleet.connect,
                progress,
                control,
            )
        })
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}
