//! Cleanup policies: which images `prune` and `apply` remove on one host, and why.
//!
//! Pure, like `plan`: a host's snapshot, the request (filters, rules, force, the clock) in; a
//! [`PolicyPlan`] out, with a decision and a reason for every image, the removals in order and
//! the bytes they free. Without rules the plan is the engine's own prune, simulated; with rules,
//! the rules choose the candidates and fleetrmi removes them one by one. Every removal runs on
//! `plan::SimulatedStore`, the model of the engine's delete algorithm, so the prediction follows
//! the engine's own rules (conflicts, parent pruning, shared layers).

mod containerd_prune;
mod decision;
mod engine_prune;
mod file;
mod filters;
mod label;
mod pattern;
mod plan;
mod planner;
mod podman_prune;
mod rule_walk;
mod rules;
mod selection;
mod units;

#[cfg(test)]
mod scenarios;

#[cfg(test)]
pub use decision::Reason;
pub use decision::{Action, Decision};
pub use file::{PolicyError, PolicyFile};
pub use filters::PruneFilters;
pub use label::LabelSelector;
pub use pattern::ImagePattern;
pub use plan::PolicyPlan;
pub use planner::plan_policy;
pub use rules::{PolicyRequest, PruneMode, Rules};
pub use units::{Timestamp, parse_duration, parse_size, parse_time};
