//! `builder prune --filter` arguments, checked before any host is contacted, as the engine
//! (dockerd 20.10 and later) reads them for `POST /build/prune`.

use std::collections::BTreeMap;

/// A build cache filter the engines would refuse or read differently than intended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildCacheFilterError {
    #[error("invalid filter {0:?}: expected KEY=VALUE, e.g. until=24h")]
    NotKeyValue(String),

    #[error(
        "invalid filter {filter:?}: unknown filter {key:?}; builder prune takes until, id, \
         parent, type, description, inuse, shared and private"
    )]
    UnknownKey { filter: String, key: String },

    #[error("invalid filter {0:?}: the value is empty")]
    EmptyValue(String),

    #[error(
        "invalid filter {0:?}: until takes a duration such as 24h, 90m or 1h30m (no days: \
         the engine reads Go durations)"
    )]
    Until(String),

    #[error("invalid filter: until is given twice; give one duration")]
    UntilTwice,
}

/// The keys `POST /build/prune` accepts (BuildKit's cache record fields, and `until`).
const KEYS: [&str; 8] = [
    "until",
    "id",
    "parent",
    "type",
    "description",
    "inuse",
    "shared",
    "private",
];

/// Parses `--filter KEY=VALUE` arguments into the engine's `filters` map.
pub fn parse_build_cache_filters(
    arguments: &[String],
) -> Result<BTreeMap<String, Vec<String>>, BuildCacheFilterError> {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for argument in arguments {
        let (key, value) = argument
            .split_once('=')
            .ok_or_else(|| BuildCacheFilterError::NotKeyValue(argument.clone()))?;
        let key = key.trim().to_ascii_lowercase();
        if !KEYS.contains(&key.as_str()) {
            return Err(BuildCacheFilterError::UnknownKey {
                filter: argument.clone(),
                key,
            });
        }
        if value.is_empty() {
            return Err(BuildCacheFilterError::EmptyValue(argument.clone()));
        }
        if key == "until" {
            if !is_go_duration(value) {
                return Err(BuildCacheFilterError::Until(argument.clone()));
            }
            if filters.contains_key("until") {
                return Err(BuildCacheFilterError::UntilTwice);
            }
        }
        filters.entry(key).or_default().push(value.to_string());
    }
    Ok(filters)
}

/// Whether `text` is a non-negative Go `time.ParseDuration` string: `0`, or one or more
/// decimal numbers each followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`).
pub fn is_go_duration(text: &str) -> bool {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return true;
    }
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[number_end..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .iter()
            .filter(|unit| rest.starts_with(**unit))
            .max_by_key(|unit| unit.len());
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<BTreeMap<String, Vec<String>>, BuildCacheFilterError> {
        let arguments: Vec<String> = arguments.iter().map(|a| a.to_string()).collect();
        parse_build_cache_filters(&arguments)
    }

    #[test]
    fn go_durations_are_what_the_engine_parses() {
        for good in ["24h", "90m", "1h30m", "1.5h", "0", "10s", "250ms", "+5m"] {
            assert!(is_go_duration(good), "{good}");
        }
        for bad in ["", "1d", "24", "h", "1h-", "-1h", "1..5h", "2w", "24 h"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn known_filters_pass_through_grouped_by_key() {
        let filters = parse(&["until=24h", "type=regular", "type=source.local"]).expect("valid");
        assert_eq!(filters["until"], ["24h"]);
        assert_eq!(filters["type"], ["regular", "source.local"]);
    }

    #[test]
    fn days_unknown_keys_and_missing_values_are_bad_input() {
        assert!(matches!(
            parse(&["until=7d"]),
            Err(BuildCacheFilterError::Until(_))
        ));
        assert!(matches!(
            parse(&["label=x"]),
            Err(BuildCacheFilterError::UnknownKey { .. })
        ));
        assert!(matches!(
            parse(&["until"]),
            Err(BuildCacheFilterError::NotKeyValue(_))
        ));
        assert!(matches!(
            parse(&["id="]),
            Err(BuildCacheFilterError::EmptyValue(_))
        ));
        assert_eq!(
            parse(&["until=1h", "until=2h"]),
            Err(BuildCacheFilterError::UntilTwice)
        );
    }
}
