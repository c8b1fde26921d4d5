//! `fleetrmi builder prune`: `docker builder prune` on every selected host.

use crate::cli::{BuilderArgs, BuilderCommand, BuilderPruneArgs, GlobalArgs};
use crate::engine::BuildPruneOptions;
use crate::filter::build_cache::parse_build_cache_filters;
use crate::fleet::{BuilderPruneRequest, builder_prune_on_host};
use crate::report::{exit_code, render_build_cache_table};
use crate::request::{InputError, select_fleet};

use super::ask_once::{Confirmation, Terminals, builder_prune_confirmation, name_list};
use super::confirm::ask;
use super::fleet_run::FleetRun;

pub(crate) async fn run(global: &GlobalArgs, args: BuilderArgs) -> Result<i32, InputError> {
    match args.command {
        BuilderCommand::Prune(prune) => run_prune(global, prune).await,
    }
}

async fn run_prune(global: &GlobalArgs, args: BuilderPruneArgs) -> Result<i32, InputError> {
    let filters =
        parse_build_cache_filters(&args.filters).map_err(|error| InputError::Invalid {
            message: error.to_string(),
            hint: None,
        })?;
    let fleet = select_fleet(global)?;
    fleet.print_warnings();
    match builder_prune_confirmation(Terminals::detect(), args.force) {
        Confirmation::Proceed => {}
        Confirmation::Refuse => {
            return Err(InputError::Invalid {
                message: "builder prune asks first, but no one can answer (stdin or stderr is \
                          not a terminal)"
                    .to_string(),
                hint: Some("pass -f (--force) to prune without asking".to_string()),
            });
        }
        Confirmation::Ask => {
            let names: Vec<&str> = fleet.hosts.iter().map(|host| host.name.as_str()).collect();
            let what = if args.all {
                "all build cache"
            } else {
                "all dangling build cache"
            };
            let warning = format!(
                "This will remove {what} on {} host(s) ({}).",
                names.len(),
                name_list(&names, 20)
            );
            if !ask(&warning) {
                eprintln!("builder prune cancelled: nothing was removed");
                return Ok(exit_code::SUCCESS);
            }
        }
    }
    let request = BuilderPruneRequest {
        options: BuildPruneOptions {
            all: args.all,
            filters,
            keep_storage: args.keep_storage,
        },
    };
    let run = FleetRun {
        global,
        command: "builder-prune",
        dry_run: false,
        serial: &fleet.serial,
    };
    let code = run
        .execute_with(
            &fleet.hosts,
            fleet.forks,
            |report| {
                (
                    render_build_cache_table(report),
                    crate::report::error_lines(report),
                )
            },
            |host, progress, control| {
                builder_prune_on_host(host, &request, &fleet.connect, progress, control)
            },
        )
        .await;
    fleet.connect.ssh.jump_pool.close().await;
    Ok(code)
}
