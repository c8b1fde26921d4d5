//! What the plan decided for one image, and why: the unit of `--dry-run` output.

use std::fmt;

use serde::Serialize;

/// What happens to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Keep,
    Remove,
    /// Its references go, the image stays (the engine's prune does this to a tagged parent
    /// whose children stay).
    Untag,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Remove => "remove",
            Action::Untag => "untag",
        }
    }
}

/// Why, as a stable code for machines; [`Decision::detail`] says it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    // Kept.
    /// A running (or paused, restarting) container uses it: never removed.
    RunningContainer,
    /// A stopped container uses it: kept unless `--force` (with rules).
    StoppedContainer,
    /// A reference matches `--keep`.
    KeepPattern,
    /// It has a `--keep-label` label.
    KeepLabel,
    /// One of the newest `--keep-last` images of its repository.
    KeepLast,
    /// Tagged, and only dangling images are considered without `--all`.
    Tagged,
    /// Created after the `until` filter.
    FilteredUntil,
    /// Left out by a `label` / `label!` filter.
    FilteredLabel,
    /// No reference matches `--match`.
    NotMatched,
    /// Younger than `--older-than`.
    TooNew,
    /// Child images that stay depend on it.
    HasChildren,
    /// An untagged parent (legacy builder): it goes only with its last child.
    Intermediate,
    /// The threshold is met without removing it.
    ThresholdMet,
    /// The engine would refuse the removal (the message says why).
    Refused,
    // Removed.
    /// A dangling image, as `docker image prune` removes.
    Dangling,
    /// An image no container uses, as `docker image prune -a` removes.
    Unused,
    /// The rules select it.
    Selected,
    /// The rules select it, and the threshold is not met yet.
    OverThreshold,
    /// An untagged parent the engine prunes with its last child.
    ParentPruned,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RunningContainer => "running-container",
            Reason::StoppedContainer => "stopped-container",
            Reason::KeepPattern => "keep-pattern",
            Reason::KeepLabel => "keep-label",
            Reason::KeepLast => "keep-last",
            Reason::Tagged => "tagged",
            Reason::FilteredUntil => "filtered-until",
            Reason::FilteredLabel => "filtered-label",
            Reason::NotMatched => "not-matched",
            Reason::TooNew => "too-new",
            Reason::HasChildren => "has-children",
            Reason::Intermediate => "intermediate",
            Reason::ThresholdMet => "threshold-met",
            Reason::Refused => "refused",
            Reason::Dangling => "dangling",
            Reason::Unused => "unused",
            Reason::Selected => "selected",
            Reason::OverThreshold => "over-threshold",
            Reason::ParentPruned => "parent-pruned",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The plan's decision on one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Full image ID.
    pub image: String,
    /// Its tags and digests, familiar form, engine order.
    pub references: Vec<String>,
    /// Creation time, UTC.
    pub created: String,
    pub action: Action,
    pub reason: Reason,
    /// The reason in words, with the rule or the container that decided it.
    pub detail: String,
    /// Bytes this image's removal frees on disk (0 when kept); a layer shared with another
    /// removed image is counted once, with the image whose removal frees it.
    pub bytes: u64,
}

impl Decision {
    /// The references, or the short ID for an image without any.
    pub fn name(&self) -> String {
        if self.references.is_empty() {
            crate::snapshot::short_id(&self.image).to_owned()
        } else {
            self.references.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialise_as_their_codes() {
        for reason in [
            Reason::RunningContainer,
            Reason::OverThreshold,
            Reason::KeepLast,
        ] {
            assert_eq!(
                serde_json::to_value(reason).expect("serialises"),
                serde_json::Value::String(reason.as_str().to_owned())
            );
        }
        assert_eq!(
            serde_json::to_value(Action::Untag).expect("serialises"),
            "untag"
        );
    }

    #[test]
    fn an_untagged_image_is_named_by_its_short_id() {
        let decision = Decision {
            image: format!("sha256:{}", "ab".repeat(32)),
            references: vec![],
            created: String::new(),
            action: Action::Keep,
            reason: Reason::Intermediate,
            detail: String::new(),
            bytes: 0,
        };
        assert_eq!(decision.name(), "abababababab");
    }
}
