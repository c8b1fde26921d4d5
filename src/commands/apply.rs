//! `fleetrmi apply POLICY.yaml`: each policy's rules on the hosts of its inventory groups, all
//! hosts in one run.

use std::collections::BTreeMap;

use crate::cli::{ApplyArgs, GlobalArgs};
use crate::fleet::{PruneJob, prune_on_host};
use crate::inventory::HostEntry;
use crate::policy::{PolicyError, PolicyFile, PolicyRequest, Timestamp};
use crate::request::{InputError, fleet_of, select_hosts};

use super::backup_dir::{backup_dir, check_distinct_backup_dirs};
use super::confirm::{confirm_run, host_list};
use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: ApplyArgs) -> Result<i32, InputError> {
    let now = Timestamp::now();
    let file = PolicyFile::load(&args.policy, now)?;
    let backup = backup_dir(args.backup.as_ref(), args.confirm.dry_run)?;
    let (inventory, selected) = select_hosts(global)?;
    check_distinct_backup_dirs(
        backup.as_ref(),
        selected.iter().map(|entry| entry.name.as_str()),
    )?;
    file.check_groups(&inventory.group_names())?;
    let hosts: Vec<(&str, &[String])> = selected
        .iter()
        .map(|entry| (entry.name.as_str(), entry.groups.as_slice()))
        .collect();
    let assignment = file.assign(&hosts)?;
    let mut entries: Vec<&HostEntry> = Vec::new();
    let mut jobs: BTreeMap<String, Vec<PruneJob>> = BTreeMap::new();
    for (entry, policies) in selected.iter().zip(assignment) {
        if policies.is_empty() {
            continue;
        }
        entries.push(entry);
        let host_jobs = policies
            .into_iter()
            .map(|index| {
                let policy = &file.policies[index];
                PruneJob {
                    policy: PolicyRequest {
                        all: policy.all,
                        filters: policy.filters.clone(),
                        rules: policy.rules.clone(),
                        force: args.force,
                        now,
                    },
                    policy_name: Some(policy.name.clone()),
                    engines: policy.engines.clone(),
                    dry_run: args.confirm.dry_run,
                    backup_dir: backup.clone(),
                }
            })
            .collect();
        jobs.insert(entry.name.clone(), host_jobs);
    }
    if entries.is_empty() {
        return Err(PolicyError::NoHosts { path: file.path }.into());
    }
    let fleet = fleet_of(global, &entries)?;
    fleet.print_warnings();
    let names: Vec<&str> = entries.iter().map(|entry| entry.name.as_str()).collect();
    let warning = format!(
        "This will remove the images that {} selects on {} (--dry-run lists them).",
        file.path.display(),
        host_list(&names)
    );
    if !confirm_run(
        "apply",
        &warning,
        args.force || args.confirm.yes,
        args.confirm.dry_run,
    )? {
        return Ok(crate::report::exit_code::SUCCESS);
    }

    let run = FleetRun {
        global,
        command: "apply",
        dry_run: args.confirm.dry_run,
        serial: &fleet.serial,
    };
    let code = run
        .execute(&fleet.hosts, fleet.forks, |host, progress, control| {
            let host_jobs = jobs
                .get(&host.name)
                .expect("every host of the fleet was given its policies above");
            prune_on_host(host, host_jobs, &fleet.connect, progress, control)
        })
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}
