//! Connecting for the read-only commands (`ping`, `images`, `df`), which report an
//! [`ObservedHost`] instead of an `rmi` host report.

use crate::report::{HostReport, ObservedHost};

use super::HostTarget;
use super::connect::{ConnectOptions, ConnectedHost, connect_host};
use super::progress::HostProgress;

/// Connects to `target`; the outcome says why not when the host is `None`.
pub(crate) async fn connect_observed(
    target: &HostTarget,
    options: &ConnectOptions,
    progress: &HostProgress,
) -> (ObservedHost, Option<ConnectedHost>) {
    let mut connecting = HostReport::new(&target.name, &target.address);
    let host = connect_host(target, options, &mut connecting, progress).await;
    (ObservedHost::from_connect(&connecting), host)
}
