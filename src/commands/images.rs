//! `fleetrmi images`: `docker images` on every host, as one fleet-wide list.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cli::{GlobalArgs, ImageGrouping, ImagesArgs};
use crate::filter::ImageFilters;
use crate::fleet::{ImagesRequest, images_on_host, run_on_hosts};
use crate::report::{ImageLayout, ImagesReport};
use crate::request::{InputError, select_fleet};

use super::observed_output::print_observed;

pub(crate) async fn run(global: &GlobalArgs, args: ImagesArgs) -> Result<i32, InputError> {
    let mut filters = ImageFilters::parse(&args.filters)?;
    if let Some(reference) = &args.reference {
        filters.add_reference(reference)?;
    }
    let fleet = select_fleet(global)?;
    fleet.print_warnings();
    let request = ImagesRequest {
        filters: filters.to_engine(),
        all: args.all,
    };
    let layout = match (args.per_host, args.group_by) {
        (true, _) => ImageLayout::Host,
        (false, ImageGrouping::Tag) => ImageLayout::Tag,
        (false, ImageGrouping::Id) => ImageLayout::Id,
    };
    let progress = super::progress_for(global, fleet.hosts.len());
    let started = Instant::now();
    let hosts = run_on_hosts(
        &fleet.hosts,
        fleet.forks,
        &progress,
        |host, host_progress| images_on_host(host, &request, &fleet.connect, host_progress),
    )
    .await;
    progress.finish();
    let report = ImagesReport::new(layout, hosts, started.elapsed());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    print_observed(
        global.output,
        || report.render_table(now),
        || report.render_json(),
        report.hosts.iter().map(|host| &host.outcome),
    );
    Ok(report.exit_code())
}
