//! `docker images --filter` arguments, checked before any host is contacted.
//!
//! Each filter is passed to the engines as it is, so that every host answers exactly as
//! `docker images --filter …` would there. Only the filters that dockerd 20.10 (API 1.41)
//! supports are accepted, so the same command means the same thing on every host of a mixed
//! fleet; their syntax is checked here so that a typo is bad input (exit 2), not an error from
//! every host.

pub mod build_cache;
mod glob;

use std::collections::HashMap;

use crate::reference::check_image_argument;

/// The filters `fleetrmi images` accepts, as the engine's `/images/json?filters=` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFilters {
    /// Glob patterns matched against each `name:tag` (and name); an image matching any is listed.
    references: Vec<String>,
    dangling: Option<bool>,
    /// Image name or ID: only images created before it.
    before: Option<String>,
    /// Image name or ID: only images created after it.
    since: Option<String>,
    /// `key` or `key=value`; an image must have every one.
    labels: Vec<String>,
}

/// A filter argument that the engines would refuse or read differently than intended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("invalid filter {0:?}: expected KEY=VALUE, e.g. reference=app:*")]
    NotKeyValue(String),

    #[error(
        "invalid filter {filter:?}: unknown filter {key:?}; fleetrmi images takes reference, \
         dangling, before, since and label"
    )]
    UnknownKey { filter: String, key: String },

    #[error(
        "invalid filter {0:?}: until is not supported by dockerd 20.10 (API 1.41), so it cannot \
         mean the same on every host; use before=IMAGE or since=IMAGE"
    )]
    Until(String),

    #[error("invalid filter {0:?}: the value is empty")]
    EmptyValue(String),

    #[error("invalid filter {0:?}: dangling takes true or false")]
    Dangling(String),

    #[error("invalid filter: dangling=true and dangling=false contradict each other")]
    DanglingTwice,

    #[error("invalid filter {filter:?}: bad pattern: {cause}")]
    Pattern { filter: String, cause: String },

    #[error("invalid filter {filter:?}: {value:?} is not an image name or ID: {cause}")]
    Image {
        filter: String,
        value: String,
        cause: String,
    },

    #[error("invalid filter {filter:?}: {key} is given twice; give one image")]
    Repeated { filter: String, key: &'static str },

    #[error("invalid filter {0:?}: the label key is empty")]
    LabelKey(String),
}

impl ImageFilters {
    /// Parses `--filter KEY=VALUE` arguments, checking each as the engine would.
    pub fn parse(arguments: &[String]) -> Result<ImageFilters, FilterError> {
        let mut filters = ImageFilters::default();
        for argument in arguments {
            filters.add(argument)?;
        }
        Ok(filters)
    }

    /// Adds the `docker images REPOSITORY[:TAG]` argument, which the CLI sends as a reference filter.
    pub fn add_reference(&mut self, pattern: &str) -> Result<(), FilterError> {
        self.add(&format!("reference={pattern}"))
    }

    fn add(&mut self, argument: &str) -> Result<(), FilterError> {
        let (key, value) = argument
            .split_once('=')
            .ok_or_else(|| FilterError::NotKeyValue(argument.to_string()))?;
        let key_known = matches!(
            key,
            "reference" | "dangling" | "before" | "since" | "label" | "until"
        );
        if key_known && value.is_empty() {
            return Err(FilterError::EmptyValue(argument.to_string()));
        }
        match key {
            "reference" => {
                glob::check_glob(value).map_err(|cause| FilterError::Pattern {
                    filter: argument.to_string(),
                    cause,
                })?;
                self.references.push(value.to_string());
            }
            "dangling" => {
                let dangling = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(FilterError::Dangling(argument.to_string())),
                };
                if self.dangling.is_some_and(|earlier| earlier != dangling) {
                    return Err(FilterError::DanglingTwice);
                }
                self.dangling = Some(dangling);
            }
            "before" => self.before = Some(image_value(argument, "before", value, &self.before)?),
            "since" => self.since = Some(image_value(argument, "since", value, &self.since)?),
            "label" => {
                if value.starts_with('=') {
                    return Err(FilterError::LabelKey(argument.to_string()));
                }
                self.labels.push(value.to_string());
            }
            "until" => return Err(FilterError::Until(argument.to_string())),
            _ => {
                return Err(FilterError::UnknownKey {
                    filter: argument.to_string(),
                    key: key.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The `filters` map of `GET /images/json`.
    pub fn to_engine(&self) -> HashMap<String, Vec<String>> {
        let mut map = HashMap::new();
        if !self.references.is_empty() {
            map.insert("reference".to_string(), self.references.clone());
        }
        if let Some(dangling) = self.dangling {
            map.insert("dangling".to_string(), vec![dangling.to_string()]);
        }
        if let Some(before) = &self.before {
            map.insert("before".to_string(), vec![before.clone()]);
        }
        if let Some(since) = &self.since {
            map.insert("since".to_string(), vec![since.clone()]);
        }
        if !self.labels.is_empty() {
            map.insert("label".to_string(), self.labels.clone());
        }
        map
    }
}

/// A `before`/`since` value: one image name or ID, in the grammar the engine looks it up with.
fn image_value(
    filter: &str,
    key: &'static str,
    value: &str,
    earlier: &Option<String>,
) -> Result<String, FilterError> {
    if earlier.is_some() {
        return Err(FilterError::Repeated {
            filter: filter.to_string(),
            key,
        });
    }
    check_image_argument(value).map_err(|error| FilterError::Image {
        filter: filter.to_string(),
        value: value.to_string(),
        cause: error.daemon_message(),
    })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<ImageFilters, FilterError> {
        let arguments: Vec<String> = arguments.iter().map(|a| a.to_string()).collect();
        ImageFilters::parse(&arguments)
    }

    #[test]
    fn every_supported_filter_goes_to_the_engine_as_given() {
        let filters = parse(&[
            "reference=app:*",
            "reference=*/team/*",
            "dangling=false",
            "before=app:2",
            "since=sha256:abc",
            "label=lab.role=chain",
            "label=keep",
        ])
        .expect("valid");
        let map = filters.to_engine();
        assert_eq!(map["reference"], vec!["app:*", "*/team/*"]);
        assert_eq!(map["dangling"], vec!["false"]);
        assert_eq!(map["before"], vec!["app:2"]);
        assert_eq!(map["since"], vec!["sha256:abc"]);
        assert_eq!(map["label"], vec!["lab.role=chain", "keep"]);
    }

    #[test]
    fn no_filters_send_no_filters() {
        assert!(parse(&[]).expect("valid").to_engine().is_empty());
    }

    #[test]
    fn positional_repository_is_a_reference_filter() {
        let mut filters = ImageFilters::default();
        filters.add_reference("app").expect("valid");
        assert_eq!(filters.to_engine()["reference"], vec!["app"]);
    }

    #[test]
    fn dangling_takes_only_true_or_false_like_the_engine() {
        assert_eq!(
            parse(&["dangling=1"]),
            Err(FilterError::Dangling("dangling=1".into()))
        );
        assert_eq!(
            parse(&["dangling=true", "dangling=false"]),
            Err(FilterError::DanglingTwice)
        );
        assert!(parse(&["dangling=true", "dangling=true"]).is_ok());
    }

    #[test]
    fn until_is_refused_with_the_reason() {
        let error = parse(&["until=24h"]).expect_err("refused");
        assert!(error.to_string().contains("API 1.41"), "{error}");
    }

    #[test]
    fn unknown_key_and_missing_equals_are_bad_input() {
        assert!(matches!(
            parse(&["tag=1"]),
            Err(FilterError::UnknownKey { .. })
        ));
        assert_eq!(
            parse(&["dangling"]),
            Err(FilterError::NotKeyValue("dangling".into()))
        );
        assert_eq!(
            parse(&["reference="]),
            Err(FilterError::EmptyValue("reference=".into()))
        );
    }

    #[test]
    fn malformed_glob_names_the_filter() {
        let error = parse(&["reference=app:[0-9"]).expect_err("bad pattern");
        assert!(error.to_string().contains("reference=app:[0-9"), "{error}");
    }

    #[test]
    fn before_and_since_need_one_valid_image() {
        assert!(matches!(
            parse(&["before=UPPER/case"]),
            Err(FilterError::Image { .. })
        ));
        assert!(matches!(
            parse(&["since=app:1", "since=app:2"]),
            Err(FilterError::Repeated { key: "since", .. })
        ));
        assert!(parse(&["before=3f1c2a9b"]).is_ok());
    }

    #[test]
    fn label_needs_a_key() {
        assert_eq!(
            parse(&["label==x"]),
            Err(FilterError::LabelKey("label==x".into()))
        );
    }
}
