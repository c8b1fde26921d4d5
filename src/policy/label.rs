//! `KEY` or `KEY=VALUE`: a condition on an image's labels, as the engine's `label` filter and
//! fleetrmi's `--keep-label` write it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An image has the label `key` (with `value`, when one is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector {
    pub key: String,
    pub value: Option<String>,
}

impl LabelSelector {
    /// True when the labels have the key, with the value if one is required.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match (labels.get(&self.key), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(found), Some(wanted)) => found == wanted,
        }
    }
}

impl FromStr for LabelSelector {
    type Err = String;

    /// Splits at the first `=`, as the engine does, so a value may contain `=`.
    fn from_str(text: &str) -> Result<LabelSelector, String> {
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (text, None),
        };
        if key.trim().is_empty() {
            return Err(format!(
                "invalid label {text:?}: the key is empty (write KEY or KEY=VALUE)"
            ));
        }
        Ok(LabelSelector {
            key: key.to_owned(),
            value,
        })
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// The engine's `MatchKVList`: true when every selector matches (and, with selectors, some
/// labels exist). No selectors match everything.
pub fn all_match(selectors: &[LabelSelector], labels: &BTreeMap<String, String>) -> bool {
    selectors.is_empty()
        || (!labels.is_empty() && selectors.iter().all(|selector| selector.matches(labels)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn selector(text: &str) -> LabelSelector {
        text.parse().expect("valid selector")
    }

    #[test]
    fn key_alone_matches_any_value() {
        assert!(selector("keep").matches(&labels(&[("keep", "")])));
        assert!(selector("keep").matches(&labels(&[("keep", "no")])));
        assert!(!selector("keep").matches(&labels(&[("other", "1")])));
    }

    #[test]
    fn key_and_value_must_both_match_and_the_value_may_hold_equals() {
        assert!(selector("tier=a=b").matches(&labels(&[("tier", "a=b")])));
        assert!(!selector("tier=a").matches(&labels(&[("tier", "b")])));
        assert_eq!(selector("tier=a=b").value.as_deref(), Some("a=b"));
    }

    #[test]
    fn empty_key_is_refused() {
        assert!("=x".parse::<LabelSelector>().is_err());
        assert!("".parse::<LabelSelector>().is_err());
    }

    #[test]
    fn all_match_needs_every_selector() {
        let image = labels(&[("a", "1"), ("b", "2")]);
        assert!(all_match(&[], &BTreeMap::new()));
        assert!(all_match(&[selector("a"), selector("b=2")], &image));
        assert!(!all_match(&[selector("a"), selector("c")], &image));
    }
}
