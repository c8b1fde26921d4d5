//! The rules of a cleanup policy, checked: which images they select on a host and which they
//! protect.

use std::time::Duration;

use super::filters::PruneFilters;
use super::label::LabelSelector;
use super::pattern::ImagePattern;
use super::units::Timestamp;

/// Rules that select and protect images (flags of `prune`, or one policy of a policy file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// `--match`: only images with a reference matching one of these.
    pub matches: Vec<ImagePattern>,
    /// `--older-than`: only images created at least this long ago.
    pub older_than: Option<Duration>,
    /// `--keep-last`: the newest N images of every repository are protected.
    pub keep_last: Option<usize>,
    /// `--keep`: images with a reference matching one of these are protected.
    pub keep: Vec<ImagePattern>,
    /// `--keep-label`: images with one of these labels are protected.
    pub keep_labels: Vec<LabelSelector>,
    /// `--max-usage`: remove candidates, oldest first, until the images use at most this.
    pub max_usage: Option<u64>,
    /// `--until-free`: remove candidates, oldest first, until this much is freed.
    pub until_free: Option<u64>,
}

impl Rules {
    /// No rule given: a plain prune, left to the engine.
    pub fn is_empty(&self) -> bool {
        *self == Rules::default()
    }

    /// Whether a threshold limits how many candidates go.
    pub fn has_threshold(&self) -> bool {
        self.max_usage.is_some() || self.until_free.is_some()
    }

    /// Adds protections that apply on top of these rules (a policy file's `protect:`).
    pub fn protect_also(&mut self, keep: &[ImagePattern], keep_labels: &[LabelSelector]) {
        self.keep.extend(keep.iter().cloned());
        self.keep_labels.extend(keep_labels.iter().cloned());
    }
}

/// Everything that decides the plan on one host, besides the host's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRequest {
    /// `-a`: consider every image, not only dangling ones.
    pub all: bool,
    pub filters: PruneFilters,
    pub rules: Rules,
    /// `-f` with rules: images that only stopped containers use may go too (never those of
    /// running containers, never protected ones).
    pub force: bool,
    /// The time age rules are measured at (this machine's clock, once per run).
    pub now: Timestamp,
}

/// Who removes the images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PruneMode {
    /// No rules: the engine's own `POST /images/prune`, exactly `docker image prune`.
    Engine,
    /// Rules: fleetrmi picks the images and removes them one by one, children first.
    Rules,
}

impl PolicyRequest {
    pub fn mode(&self) -> PruneMode {
        if self.rules.is_empty() {
            PruneMode::Engine
        } else {
            PruneMode::Rules
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_rule_switches_from_the_engine_to_rules() {
        let mut request = PolicyRequest {
            all: true,
            filters: PruneFilters::default(),
            rules: Rules::default(),
            force: false,
            now: Timestamp::default(),
        };
        assert_eq!(request.mode(), PruneMode::Engine);
        request.rules.keep_last = Some(2);
        assert_eq!(request.mode(), PruneMode::Rules);
    }

    #[test]
    fn protections_add_to_the_rules() {
        let mut rules = Rules::default();
        rules.protect_also(
            &["base".parse().expect("pattern")],
            &["keep".parse().expect("label")],
        );
        assert_eq!(rules.keep.len(), 1);
        assert_eq!(rules.keep_labels.len(), 1);
        assert!(!rules.is_empty());
        assert!(!rules.has_threshold());
    }
}
