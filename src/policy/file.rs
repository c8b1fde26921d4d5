//! The policy file of `fleetrmi apply`: cleanup rules per inventory group, read once and checked
//! (unknown keys, bad durations, sizes, patterns and labels are errors at their line and column).
//!
//! ```yaml
//! protect:                      # optional, added to every policy: keep wins over remove
//!   keep: ["*/base:*"]
//!   keep_labels: [com.example.keep]
//! policies:
//!   - name: pr-images
//!     groups: [buildfarm]       # inventory groups whose hosts take this policy
//!     all: true                 # look beyond dangling images
//!     match: ["ci/*:pr-*"]
//!     older_than: 3d
//!     keep_last: 5
//!     filters: ["label!=com.example.pin"]
//!     max_usage: 40GB           # or until_free: 10GB
//!     engines: [docker-classic] # optional: only hosts whose engine is of these kinds
//! ```
//! A policy with no rule at all is a plain prune, done by the engine. A host takes at most one
//! policy; hosts in none of the groups are left alone. Policies may share groups when their
//! `engines:` do not overlap: each host then takes the one for the engine it runs, known once
//! it is reached.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter, Spanned};

use super::filters::PruneFilters;
use super::label::LabelSelector;
use super::rules::Rules;
use super::units::{Timestamp, parse_duration, parse_size};
use crate::data::EngineKind;

/// A checked policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    pub path: PathBuf,
    pub policies: Vec<PolicySet>,
}

/// One policy: the rules for the hosts of some inventory groups.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySet {
    pub name: String,
    pub groups: Vec<String>,
    pub all: bool,
    pub filters: PruneFilters,
    pub rules: Rules,
    /// The engine kinds whose hosts take this policy; empty for every kind.
    pub engines: Vec<EngineKind>,
    /// Where the policy starts in the file, for messages.
    pub at: String,
    group_places: Vec<String>,
}

impl PolicySet {
    /// Whether a host whose engine is `kind` takes this policy (its groups aside).
    pub fn covers(&self, kind: EngineKind) -> bool {
        self.engines.is_empty() || self.engines.contains(&kind)
    }

    /// Whether some engine kind is covered by both policies.
    fn shares_an_engine_with(&self, other: &PolicySet) -> bool {
        EngineKind::ALL
            .into_iter()
            .any(|kind| self.covers(kind) && other.covers(kind))
    }
}

/// A policy file that cannot be used: exit 2, no host contacted.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{}: cannot read the policy file: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Malformed YAML, an unknown key, a wrong type.
    #[error("{at}: {message}")]
    Yaml { at: String, message: String },

    /// A value that does not parse: a duration, a size, a pattern, a label, a filter.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },

    #[error("{at}: policy `{policy}` names group `{group}`, which the inventory does not have")]
    UnknownGroup {
        at: String,
        policy: String,
        group: String,
        known: Vec<String>,
    },

    #[error(
        "{at}: host `{host}` is in groups of two policies, `{first}` and `{second}`; a host takes one policy"
    )]
    Overlap {
        at: String,
        host: String,
        first: String,
        second: String,
    },

    #[error("{}: no selected host is in a group of any policy", path.display())]
    NoHosts { path: PathBuf },
}

impl PolicyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            PolicyError::UnknownGroup { known, .. } => {
                Some(format!("the inventory's groups: {}", known.join(", ")))
            }
            PolicyError::Overlap { .. } => Some(
                "give the policies disjoint groups or disjoint `engines:`; rules shared by every \
                 policy go under `protect:`"
                    .to_owned(),
            ),
            PolicyError::NoHosts { .. } => {
                Some("check the policies' `groups:` against the inventory and --limit".to_owned())
            }
            PolicyError::Yaml { message, .. } if message.contains("unknown field") => Some(
                "a policy has name, groups, engines, all, filters, match, older_than, keep_last, \
                 keep, keep_labels, max_usage and until_free; the top level has protect and \
                 policies"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

impl PolicyFile {
    /// Reads and checks a policy file; relative times in filters count back from `now`.
    pub fn load(path: &Path, now: Timestamp) -> Result<PolicyFile, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        PolicyFile::parse(&text, path, now)
    }

    /// Checks a policy file given as text; `path` names it in messages.
    pub fn parse(text: &str, path: &Path, now: Timestamp) -> Result<PolicyFile, PolicyError> {
        let raw: RawFile = serde_saphyr::from_str(text).map_err(|error| {
            let place = match error.location() {
                Some(location) => {
                    format!(
                        "{}:{}:{}",
                        path.display(),
                        location.line(),
                        location.column()
                    )
                }
                None => path.display().to_string(),
            };
            PolicyError::Yaml {
                at: place,
                message: DefaultMessageFormatter
                    .format_message(error.without_snippet())
                    .to_string(),
            }
        })?;
        let reader = Reader { path };
        let (keep, keep_labels) = match &raw.protect {
            Some(protect) => (
                reader.each(&protect.keep)?,
                reader.each::<LabelSelector>(&protect.keep_labels)?,
            ),
            None => (Vec::new(), Vec::new()),
        };
        if raw.policies.value.is_empty() {
            return Err(PolicyError::Invalid {
                at: reader.at(&raw.policies),
                message: "`policies` is empty: give at least one policy".to_owned(),
            });
        }
        let mut policies: Vec<PolicySet> = Vec::new();
        for policy in &raw.policies.value {
            let mut checked = reader.policy(policy, now)?;
            if policies.iter().any(|other| other.name == checked.name) {
                return Err(PolicyError::Invalid {
                    at: reader.at(&policy.value.name),
                    message: format!("two policies are named `{}`", checked.name),
                });
            }
            checked.rules.protect_also(&keep, &keep_labels);
            policies.push(checked);
        }
        Ok(PolicyFile {
            path: path.to_path_buf(),
            policies,
        })
    }

    /// Checks every policy's groups against the inventory's.
    pub fn check_groups(&self, known: &[&str]) -> Result<(), PolicyError> {
        for policy in &self.policies {
            for (group, at) in policy.groups.iter().zip(&policy.group_places) {
                if !known.contains(&group.as_str()) {
                    return Err(PolicyError::UnknownGroup {
                        at: at.clone(),
                        policy: policy.name.clone(),
                        group: group.clone(),
                        known: known.iter().map(|name| (*name).to_owned()).collect(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The policies each host may take, given each host's name and groups: none for a host in
    /// no policy's groups, several only when their `engines:` do not overlap (the host's engine
    /// then picks one); an error when a host could take two policies for one engine kind.
    pub fn assign(&self, hosts: &[(&str, &[String])]) -> Result<Vec<Vec<usize>>, PolicyError> {
        hosts
            .iter()
            .map(|(host, groups)| {
                let matching: Vec<usize> = (0..self.policies.len())
                    .filter(|&index| {
                        self.policies[index]
                            .groups
                            .iter()
                            .any(|g| groups.contains(g))
                    })
                    .collect();
                for (position, &first) in matching.iter().enumerate() {
                    for &second in &matching[position + 1..] {
                        let (first, second) = (&self.policies[first], &self.policies[second]);
                        if first.shares_an_engine_with(second) {
                            return Err(PolicyError::Overlap {
                                at: second.at.clone(),
                                host: (*host).to_owned(),
                                first: first.name.clone(),
                                second: second.name.clone(),
                            });
                        }
                    }
                }
                Ok(matching)
            })
            .collect()
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    protect: Option<RawProtect>,
    policies: Spanned<Vec<Spanned<RawPolicy>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtect {
    #[serde(default)]
    keep: Vec<Spanned<Text>>,
    #[serde(default)]
    keep_labels: Vec<Spanned<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Spanned<String>,
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    filters: Vec<Spanned<Text>>,
    #[serde(default, rename = "match")]
    matches: Vec<Spanned<Text>>,
    #[serde(default)]
    older_than: Option<Spanned<Text>>,
    #[serde(default)]
    keep_last: Option<Spanned<usize>>,
    #[serde(default)]
    keep: Vec<Spanned<Text>>,
    #[serde(default)]
    keep_labels: Vec<Spanned<Text>>,
    #[serde(default)]
    max_usage: Option<Spanned<Text>>,
    #[serde(default)]
    until_free: Option<Spanned<Text>>,
    #[serde(default)]
    engines: Vec<Spanned<String>>,
}

/// A scalar read as text, whatever YAML typed it (`40GB`, `1000000`, `7d`), so that the same
/// parser reads it as reads the flag.
#[derive(Debug, Clone, PartialEq)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// Turns raw values into checked ones, with the place of each error.
struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn at<T>(&self, spanned: &Spanned<T>) -> String {
        format!(
            "{}:{}:{}",
            self.path.display(),
            spanned.referenced.line(),
            spanned.referenced.column()
        )
    }

    fn one<T: FromStr<Err = String>>(&self, text: &Spanned<Text>) -> Result<T, PolicyError> {
        self.with(text, |value| value.parse())
    }

    fn with<T>(
        &self,
        text: &Spanned<Text>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, PolicyError> {
        parse(&text.value.0).map_err(|message| PolicyError::Invalid {
            at: self.at(text),
            message,
        })
    }

    fn each<T: FromStr<Err = String>>(
        &self,
        texts: &[Spanned<Text>],
    ) -> Result<Vec<T>, PolicyError> {
        texts.iter().map(|text| self.one(text)).collect()
    }

    fn policy(&self, raw: &Spanned<RawPolicy>, now: Timestamp) -> Result<PolicySet, PolicyError> {
        let policy = &raw.value;
        let name = policy.name.value.trim().to_owned();
        if name.is_empty() {
            return Err(PolicyError::Invalid {
                at: self.at(&policy.name),
                message: "a policy's name cannot be empty".to_owned(),
            });
        }
        if policy.groups.is_empty() {
            return Err(PolicyError::Invalid {
                at: self.at(raw),
                message: format!(
                    "policy `{name}` has no groups: name the inventory groups it is for"
                ),
            });
        }
        let filter_texts: Vec<String> = policy.filters.iter().map(|f| f.value.0.clone()).collect();
        let filters =
            PruneFilters::parse(&filter_texts, now).map_err(|message| PolicyError::Invalid {
                at: policy
                    .filters
                    .first()
                    .map_or_else(|| self.at(raw), |first| self.at(first)),
                message,
            })?;
        if let Some(keep_last) = &policy.keep_last
            && keep_last.value == 0
        {
            return Err(PolicyError::Invalid {
                at: self.at(keep_last),
                message: "keep_last must be at least 1 (leave it out to keep no fixed number)"
                    .to_owned(),
            });
        }
        let rules = Rules {
            matches: self.each(&policy.matches)?,
            older_than: policy
                .older_than
                .as_ref()
                .map(|text| self.with(text, parse_duration))
                .transpose()?,
            keep_last: policy.keep_last.as_ref().map(|count| count.value),
            keep: self.each(&policy.keep)?,
            keep_labels: self.each(&policy.keep_labels)?,
            max_usage: policy
                .max_usage
                .as_ref()
                .map(|text| self.with(text, parse_size))
                .transpose()?,
            until_free: policy
                .until_free
                .as_ref()
                .map(|text| self.with(text, parse_size))
                .transpose()?,
        };
        let engines = policy
            .engines
            .iter()
            .map(|engine| {
                EngineKind::from_name(engine.value.trim()).ok_or_else(|| PolicyError::Invalid {
                    at: self.at(engine),
                    message: format!(
                        "unknown engine kind `{}`: expected docker-classic, docker-containerd \
                         or podman (as `fleetrmi ping` shows them)",
                        engine.value
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicySet {
            name,
            groups: policy.groups.iter().map(|g| g.value.clone()).collect(),
            all: policy.all,
            filters,
            rules,
            engines,
            at: self.at(raw),
            group_places: policy.groups.iter().map(|g| self.at(g)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        seconds: 1_000_000,
        nanos: 0,
    };

    fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
        PolicyFile::parse(text, Path::new("p.yaml"), NOW)
    }

    const EXAMPLE: &str = include_str!("../../policies/buildfarm.yaml");

    #[test]
    fn the_example_policy_file_is_valid() {
        let file = parse(EXAMPLE).expect("the example is valid");
        assert!(!file.policies.is_empty());
        assert!(
            file.policies
                .iter()
                .all(|policy| !policy.rules.keep_labels.is_empty())
        );
    }

    #[test]
    fn the_example_policy_fits_the_example_inventory() {
        let inventory = crate::inventory::Inventory::parse_with_home(
            include_str!("../../inventories/example.yaml"),
            Path::new("inventories/example.yaml"),
            Some(Path::new("/home/test")),
        )
        .expect("the example inventory is valid");
        let file = parse(EXAMPLE).expect("the example is valid");
        file.check_groups(&inventory.group_names())
            .expect("every group exists");
        let hosts: Vec<(&str, &[String])> = inventory
            .hosts()
            .iter()
            .map(|host| (host.name.as_str(), host.groups.as_slice()))
            .collect();
        let assigned = file.assign(&hosts).expect("no host takes two policies");
        assert!(
            assigned
                .iter()
                .filter(|policies| !policies.is_empty())
                .count()
                >= 5
        );
    }

    #[test]
    fn rules_read_the_same_syntax_as_the_flags() {
        let file = parse(
            "policies:\n  - name: pr\n    groups: [buildfarm]\n    all: true\n    match: ['ci/*:pr-*']\n    older_than: 3d\n    keep_last: 2\n    max_usage: 40GB\n    until_free: 1000\n    filters: ['label!=pin']\n",
        )
        .expect("valid");
        let policy = &file.policies[0];
        assert_eq!(policy.name, "pr");
        assert!(policy.all);
        assert_eq!(
            policy.rules.older_than,
            Some(std::time::Duration::from_secs(3 * 86_400))
        );
        assert_eq!(policy.rules.keep_last, Some(2));
        assert_eq!(policy.rules.max_usage, Some(40_000_000_000));
        assert_eq!(policy.rules.until_free, Some(1000));
        assert_eq!(policy.filters.not_labels.len(), 1);
        assert_eq!(policy.at, "p.yaml:2:5");
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        let error = parse("policies:\n  - name: pr\n    groups: [a]\n    older: 3d\n")
            .expect_err("unknown key");
        let text = error.to_string();
        assert!(text.starts_with("p.yaml:4:5: "), "{text}");
        assert!(text.contains("older"), "{text}");
        assert!(error.hint().is_some());
        let top = parse("policies: []\nextra: 1\n").expect_err("unknown top key");
        assert!(top.to_string().starts_with("p.yaml:2:1: "), "{top}");
    }

    #[test]
    fn bad_values_point_at_themselves() {
        let error = parse("policies:\n  - name: pr\n    groups: [a]\n    older_than: soon\n")
            .expect_err("bad duration");
        assert!(
            error
                .to_string()
                .starts_with("p.yaml:4:17: invalid duration"),
            "{error}"
        );
        let error = parse("policies:\n  - name: pr\n    groups: [a]\n    max_usage: lots\n")
            .expect_err("bad size");
        assert!(
            error.to_string().starts_with("p.yaml:4:16: invalid size"),
            "{error}"
        );
        let error = parse("policies:\n  - name: pr\n    groups: [a]\n    keep_last: 0\n")
            .expect_err("zero");
        assert!(error.to_string().starts_with("p.yaml:4:16:"), "{error}");
    }

    #[test]
    fn protections_apply_to_every_policy() {
        let file = parse(
            "protect:\n  keep: [base]\n  keep_labels: [pin]\npolicies:\n  - {name: a, groups: [x]}\n  - {name: b, groups: [y], keep: [tool]}\n",
        )
        .expect("valid");
        assert_eq!(file.policies[0].rules.keep.len(), 1);
        assert_eq!(file.policies[1].rules.keep.len(), 2);
        assert_eq!(file.policies[1].rules.keep_labels.len(), 1);
    }

    #[test]
    fn a_policy_without_rules_is_a_plain_prune() {
        let file = parse("policies:\n  - {name: a, groups: [x]}\n").expect("valid");
        assert!(file.policies[0].rules.is_empty());
    }

    #[test]
    fn groups_must_exist_and_a_host_takes_one_policy() {
        let file = parse(
            "policies:\n  - {name: a, groups: [build]}\n  - {name: b, groups: [gpu, nope]}\n",
        )
        .expect("valid");
        let error = file
            .check_groups(&["all", "build", "gpu"])
            .expect_err("unknown group");
        assert!(error.to_string().starts_with("p.yaml:3:29: "), "{error}");
        assert!(error.hint().is_some_and(|hint| hint.contains("build")));

        let build = vec!["all".to_owned(), "build".to_owned()];
        let both = vec!["build".to_owned(), "gpu".to_owned()];
        let none = vec!["all".to_owned()];
        assert_eq!(
            file.assign(&[("h1", &build), ("h2", &none)])
                .expect("assigned"),
            [vec![0], vec![]]
        );
        let overlap = file.assign(&[("h3", &both)]).expect_err("two policies");
        assert!(overlap.to_string().contains("`a` and `b`"), "{overlap}");
    }

    #[test]
    fn policies_may_share_groups_when_their_engines_do_not_overlap() {
        let file = parse(
            "policies:\n  - {name: a, groups: [build], engines: [docker-classic]}\n  - {name: b, \
             groups: [build], engines: [podman, docker-containerd]}\n",
        )
        .expect("valid");
        let build = vec!["build".to_owned()];
        assert_eq!(
            file.assign(&[("h1", &build)]).expect("assigned"),
            [vec![0, 1]]
        );
        assert!(file.policies[1].covers(EngineKind::Podman));
        assert!(!file.policies[0].covers(EngineKind::Podman));

        let overlapping = parse(
            "policies:\n  - {name: a, groups: [build]}\n  - {name: b, groups: [build], engines: \
             [podman]}\n",
        )
        .expect("valid");
        let error = overlapping
            .assign(&[("h1", &build)])
            .expect_err("both cover podman");
        assert!(
            error.hint().is_some_and(|hint| hint.contains("engines")),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_engine_kind_is_refused_where_it_is_written() {
        let error = parse("policies:\n  - {name: a, groups: [x], engines: [docker]}\n")
            .expect_err("unknown kind");
        assert!(error.to_string().starts_with("p.yaml:2:"), "{error}");
        assert!(
            error.to_string().contains("unknown engine kind `docker`"),
            "{error}"
        );
    }

    #[test]
    fn duplicate_names_and_empty_lists_are_refused() {
        assert!(parse("policies: []\n").is_err());
        assert!(
            parse("policies:\n  - {name: a, groups: [x]}\n  - {name: a, groups: [y]}\n").is_err()
        );
        assert!(parse("policies:\n  - {name: a, groups: []}\n").is_err());
        assert!(
            parse("policies:\n  - {name: a, groups: [x], filters: [dangling=false]}\n").is_err()
        );
    }
}
