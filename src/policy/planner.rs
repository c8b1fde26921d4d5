//! Which planner a request gets: the engine's own prune (no rules), as the host's engine kind
//! prunes, or the rules walk.

use crate::data::EngineKind;
use crate::snapshot::Snapshot;

use super::containerd_prune::plan_containerd_prune;
use super::engine_prune::plan_dockerd_prune;
use super::plan::PolicyPlan;
use super::podman_prune::plan_podman_prune;
use super::rule_walk::plan_rules;
use super::rules::{PolicyRequest, PruneMode};

/// Plans a prune (no rules: the engine's algorithm) or a rule-based cleanup on a snapshot.
pub fn plan_policy(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    match request.mode() {
        PruneMode::Engine => match snapshot.engine {
            EngineKind::DockerClassic => plan_dockerd_prune(snapshot, request),
            EngineKind::DockerContainerd => plan_containerd_prune(snapshot, request),
            EngineKind::Podman => plan_podman_prune(snapshot, request),
        },
        PruneMode::Rules => plan_rules(snapshot, request),
    }
}
