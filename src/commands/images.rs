//! `fleetrmi images`: `docker images` on every host, as one fleet-wide list.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::{GlobalArgs, ImageGrouping, ImagesArgs};
use crate::filter::ImageFilters;
use crate::fleet::{ImagesRequest, images_on_host};
use crate::report::{ImageLayout, ImagesReport};
use crate::request::{InputError, select_fleet};

use super::observed_output::{observe_fleet, print_observed};

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
    let (hosts, elapsed) = observe_fleet(global, &fleet, |host, host_progress| {
        images_on_host(host, &request, &fleet.connect, host_progress)
    })
    .await;
    let report = ImagesReport::new(layout, hosts, elapsed);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    Ok(print_observed(
        global,
        report.exit_code(),
        || report.render_table(now),
        || report.render_json(),
        report.hosts.iter().map(|host| &host.outcome),
    ))
}
