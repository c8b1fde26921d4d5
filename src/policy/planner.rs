//! Which planner a request gets: the engine's own prune (no rules) or the rules walk.

use crate::snapshot::Snapshot;

use super::engine_prune::plan_engine_prune;
use super::plan::PolicyPlan;
use super::rule_walk::plan_rules;
use super::rules::{PolicyRequest, PruneMode};

/// Plans a prune (no rules: the engine's algorithm) or a rule-based cleanup on a snapshot.
pub fn plan_policy(snapshot: &Snapshot, request: &PolicyRequest) -> PolicyPlan {
    match request.mode() {
        PruneMode::Engine => plan_engine_prune(snapshot, request),
        PruneMode::Rules => plan_rules(snapshot, request),
    }
}
