//! The engine's prune filters (`until`, `label`, `label!`), checked once, and the same filters
//! as the engine applies them, so the plan predicts exactly the engine's candidates.

use std::collections::HashMap;

use crate::snapshot::ImageRecord;

use super::label::{LabelSelector, all_match};
use super::units::{Timestamp, parse_time};

/// `--filter` values of `prune`, and `filters:` of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneFilters {
    /// `until=TIME`: only images created at or before this time.
    pub until: Option<TimeFilter>,
    /// `label=KEY[=VALUE]`: only images with every one of these labels.
    pub labels: Vec<LabelSelector>,
    /// `label!=KEY[=VALUE]`: not images that have all of these labels.
    pub not_labels: Vec<LabelSelector>,
}

/// A time filter: the text as given, and the absolute time it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFilter {
    pub text: String,
    pub at: Timestamp,
}

/// Why the filters leave an image out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilteredOut {
    /// Created after `until`.
    Until,
    /// Lacks a `label=` label, or has every `label!=` label.
    Label,
}

impl PruneFilters {
    /// Reads `KEY=VALUE` filters; relative times count back from `now`.
    pub fn parse(filters: &[String], now: Timestamp) -> Result<PruneFilters, String> {
        let mut parsed = PruneFilters::default();
        for filter in filters {
            let Some((key, value)) = filter.split_once('=') else {
                return Err(invalid(filter));
            };
            match key {
                "until" => {
                    if parsed.until.is_some() {
                        return Err(
                            "more than one until filter given; the engine takes one".to_owned()
                        );
                    }
                    parsed.until = Some(TimeFilter {
                        text: value.to_owned(),
                        at: parse_time(value, now)?,
                    });
                }
                "label" => parsed.labels.push(value.parse()?),
                "label!" => parsed.not_labels.push(value.parse()?),
                _ => return Err(invalid(filter)),
            }
        }
        Ok(parsed)
    }

    /// Why the engine's prune would not consider this image, if it would not (`until` first,
    /// then labels, as the engine checks them).
    pub fn excludes(&self, image: &ImageRecord) -> Option<FilteredOut> {
        if let Some(until) = &self.until
            && created_at(image) > until.at
        {
            return Some(FilteredOut::Until);
        }
        if !all_match(&self.labels, &image.labels)
            || (!self.not_labels.is_empty() && all_match(&self.not_labels, &image.labels))
        {
            return Some(FilteredOut::Label);
        }
        None
    }

    /// The `filters` query of `POST /images/prune`; `until` as an absolute time.
    pub fn to_engine(&self, all: bool) -> HashMap<String, Vec<String>> {
        let mut filters = HashMap::new();
        filters.insert("dangling".to_owned(), vec![(!all).to_string()]);
        if let Some(until) = &self.until {
            filters.insert("until".to_owned(), vec![until.at.engine_text()]);
        }
        let texts =
            |selectors: &[LabelSelector]| selectors.iter().map(ToString::to_string).collect();
        if !self.labels.is_empty() {
            filters.insert("label".to_owned(), texts(&self.labels));
        }
        if !self.not_labels.is_empty() {
            filters.insert("label!".to_owned(), texts(&self.not_labels));
        }
        filters
    }
}

/// An image's creation time with the engine's precision.
pub fn created_at(image: &ImageRecord) -> Timestamp {
    Timestamp::new(image.created, image.created_nanos)
}

fn invalid(filter: &str) -> String {
    format!(
        "invalid filter {filter:?}: use until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE] \
         (--all stands for dangling=false)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        seconds: 1_000_000,
        nanos: 0,
    };

    fn filters(texts: &[&str]) -> PruneFilters {
        let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        PruneFilters::parse(&texts, NOW).expect("valid filters")
    }

    fn image(created: i64, nanos: u32, labels: &[(&str, &str)]) -> ImageRecord {
        ImageRecord {
            created,
            created_nanos: nanos,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ImageRecord::default()
        }
    }

    #[test]
    fn until_keeps_images_created_after_it_to_the_nanosecond() {
        let until = filters(&["until=999000.5"]);
        assert_eq!(until.excludes(&image(999_000, 400_000_000, &[])), None);
        assert_eq!(until.excludes(&image(999_000, 500_000_000, &[])), None);
        assert_eq!(
            until.excludes(&image(999_000, 500_000_001, &[])),
            Some(FilteredOut::Until)
        );
    }

    #[test]
    fn label_needs_every_label_and_label_not_excludes_only_when_all_match() {
        let with = filters(&["label=a", "label=b=2"]);
        assert_eq!(with.excludes(&image(0, 0, &[("a", ""), ("b", "2")])), None);
        assert_eq!(
            with.excludes(&image(0, 0, &[("a", "")])),
            Some(FilteredOut::Label)
        );
        let without = filters(&["label!=a", "label!=b"]);
        assert_eq!(without.excludes(&image(0, 0, &[("a", "")])), None);
        assert_eq!(
            without.excludes(&image(0, 0, &[("a", ""), ("b", "")])),
            Some(FilteredOut::Label)
        );
        assert_eq!(without.excludes(&image(0, 0, &[])), None);
    }

    #[test]
    fn engine_filters_carry_dangling_and_an_absolute_until() {
        let engine = filters(&["until=10s", "label!=keep"]).to_engine(true);
        assert_eq!(engine["dangling"], ["false"]);
        assert_eq!(engine["until"], ["999990.000000000"]);
        assert_eq!(engine["label!"], ["keep"]);
        assert!(!engine.contains_key("label"));
        assert_eq!(
            PruneFilters::default().to_engine(false)["dangling"],
            ["true"]
        );
    }

    #[test]
    fn unknown_and_repeated_filters_are_refused() {
        let parse = |texts: &[&str]| {
            let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
            PruneFilters::parse(&texts, NOW)
        };
        assert!(parse(&["dangling=false"]).is_err());
        assert!(parse(&["until"]).is_err());
        assert!(parse(&["until=1h", "until=2h"]).is_err());
        assert!(parse(&["label="]).is_err());
    }
}
