//! `--limit`: choosing hosts with Ansible's host patterns (grammar in `pattern`).
//!
//! Each sub-pattern is matched as Ansible's `InventoryManager` matches it: a sub-pattern without
//! prefix that is exactly a host name selects that host; otherwise a `~regex` (anchored at the
//! start of the name, as Python's `re.match`) or a wildcard pattern is matched against every
//! group name, taking each matching group's hosts with its children's; it is also matched against
//! host names when it matched no group, or is a regex, or contains `.`, `?`, `*` or `[`. A slice
//! then picks from those hosts. Unlike Ansible, which warns and goes on, a sub-pattern that
//! matches no host and no group (or whose slice picks nothing) is an error unless the caller
//! allows empty matches: a mistyped exclusion must not silently select hosts it meant to spare.
//!
//! The selection is returned in inventory order (order of first appearance).

use std::collections::HashMap;

use super::error::{ALLOW_EMPTY_HINT, InventoryError};
use super::glob::{Glob, has_wildcards};
use super::pattern::{Operator, Term, apply_subscript, read_limit, split_subscript};
use super::suggest::{closest, edit_distance};
use super::{GroupEntry, HostEntry};

/// How many known names an "unknown name" message lists.
const KNOWN_NAMES_SHOWN: usize = 5;

/// The hosts and groups a limit is evaluated against.
pub(crate) struct Universe<'a> {
    pub(crate) hosts: &'a [HostEntry],
    pub(crate) groups: &'a [GroupEntry],
}

/// The indexes (into `hosts`) of the hosts `limit` selects, in inventory order. No limit selects
/// every host. With `allow_empty`, sub-patterns that match nothing, and a selection that ends
/// empty, are accepted.
pub(crate) fn select(
    universe: &Universe<'_>,
    limit: Option<&str>,
    allow_empty: bool,
) -> Result<Vec<usize>, InventoryError> {
    let Some(limit) = limit else {
        return Ok((0..universe.hosts.len()).collect());
    };
    let terms = read_limit(limit)?;
    let host_index: HashMap<&str, usize> = universe
        .hosts
        .iter()
        .enumerate()
        .map(|(index, host)| (host.name.as_str(), index))
        .collect();
    if terms.is_empty() && !allow_empty {
        return Err(InventoryError::NothingSelected {
            limit: limit.to_owned(),
            hint: Some(
                "it names no host or group: give patterns separated by commas, or @FILE with one per line"
                    .to_owned(),
            ),
        });
    }
    // Whether each host is selected so far; the result is in inventory order anyway.
    let mut chosen = vec![false; universe.hosts.len()];
    for term in &terms {
        if term.operator == Operator::Union
            && let Some(&host) = host_index.get(term.text.as_str())
        {
            chosen[host] = true;
            continue;
        }
        let matched = universe.match_term(term, allow_empty)?;
        let mut is_matched = vec![false; universe.hosts.len()];
        for &host in &matched {
            is_matched[host] = true;
        }
        for (selected, matched) in chosen.iter_mut().zip(is_matched) {
            *selected = match term.operator {
                Operator::Union => *selected || matched,
                Operator::Intersection => *selected && matched,
                Operator::Exclusion => *selected && !matched,
            };
        }
    }
    let chosen: Vec<usize> = (0..chosen.len()).filter(|&host| chosen[host]).collect();
    if chosen.is_empty() && !allow_empty {
        return Err(InventoryError::NothingSelected {
            limit: limit.to_owned(),
            hint: Some(ALLOW_EMPTY_HINT.to_owned()),
        });
    }
    Ok(chosen)
}

/// A name matcher: a wildcard pattern, or a `~regex`.
enum Matcher {
    Glob(Glob),
    Regex(regex::Regex),
}

impl Matcher {
    fn new(term: &Term, pattern: &str) -> Result<Matcher, InventoryError> {
        let Some(expression) = pattern.strip_prefix('~') else {
            return Ok(Matcher::Glob(Glob::new(pattern)));
        };
        // Python's `re.match` is anchored at the start of the name only.
        regex::Regex::new(&format!("^(?:{expression})"))
            .map(Matcher::Regex)
            .map_err(|err| InventoryError::InvalidPattern {
                origin: term.origin.clone(),
                pattern: term.text.clone(),
                reason: format!("is not a valid regular expression: {}", regex_cause(&err)),
                hint: Some(
                    "after `~` comes a regular expression (Rust `regex` syntax, like Python's without look-around or backreferences)"
                        .to_owned(),
                ),
            })
    }

    fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::Glob(glob) => glob.is_match(name),
            Matcher::Regex(regex) => regex.is_match(name),
        }
    }
}

/// The one-line cause of a regex error (the crate's message draws a multi-line diagram).
fn regex_cause(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or_else(|| text.lines().next().unwrap_or_default())
        .to_owned()
}

impl Universe<'_> {
    /// The hosts of a group and of all its descendants: its own hosts, then its children's, then
    /// its grandchildren's, each group once (Ansible's `get_hosts`, made deterministic).
    fn group_hosts(&self, group: usize) -> Vec<usize> {
        let mut ordered = vec![group];
        let mut seen_groups = vec![false; self.groups.len()];
        seen_groups[group] = true;
        let mut level = vec![group];
        while !level.is_empty() {
            let mut next = Vec::new();
            for parent in level {
                for &child in &self.groups[parent].children {
                    if !seen_groups[child] {
                        seen_groups[child] = true;
                        ordered.push(child);
                        next.push(child);
                    }
                }
            }
            level = next;
        }
        let mut hosts = Vec::new();
        let mut seen_hosts = vec![false; self.hosts.len()];
        for group in ordered {
            for &host in &self.groups[group].hosts {
                if !seen_hosts[host] {
                    seen_hosts[host] = true;
                    hosts.push(host);
                }
            }
        }
        hosts
    }

    /// The hosts one sub-pattern selects (its prefix aside).
    fn match_term(&self, term: &Term, allow_empty: bool) -> Result<Vec<usize>, InventoryError> {
        let (pattern, subscript) = split_subscript(term)?;
        let matcher = Matcher::new(term, pattern)?;
        let groups: Vec<usize> = (0..self.groups.len())
            .filter(|&group| matcher.is_match(&self.groups[group].name))
            .collect();
        let mut hosts = Vec::new();
        let mut seen = vec![false; self.hosts.len()];
        for &group in &groups {
            for host in self.group_hosts(group) {
                if !seen[host] {
                    seen[host] = true;
                    hosts.push(host);
                }
            }
        }
        let regex = pattern.starts_with('~');
        if groups.is_empty() || regex || pattern.contains('.') || has_wildcards(pattern) {
            for (host, entry) in self.hosts.iter().enumerate() {
                if !seen[host] && matcher.is_match(&entry.name) {
                    seen[host] = true;
                    hosts.push(host);
                }
            }
        }
        if hosts.is_empty() && groups.is_empty() {
            if allow_empty {
                return Ok(Vec::new());
            }
            return Err(if regex || has_wildcards(pattern) {
                InventoryError::PatternMatchesNothing {
                    origin: term.origin.clone(),
                    pattern: term.text.clone(),
                    reason: "matches no host or group".to_owned(),
                }
            } else {
                self.unknown_name(term, pattern)
            });
        }
        // A matched group without hosts selects nothing, slice or not (as in Ansible).
        let (Some(subscript), false) = (subscript, hosts.is_empty()) else {
            return Ok(hosts);
        };
        match apply_subscript(&hosts, subscript) {
            Some(sliced) => Ok(sliced),
            None if allow_empty => Ok(Vec::new()),
            None => Err(InventoryError::PatternMatchesNothing {
                origin: term.origin.clone(),
                pattern: term.text.clone(),
                reason: format!(
                    "selects no host: {pattern:?} matches {} host{} (numbered from 0), and the slice picks none of them",
                    hosts.len(),
                    if hosts.len() == 1 { "" } else { "s" },
                ),
            }),
        }
    }

    fn unknown_name(&self, term: &Term, name: &str) -> InventoryError {
        let mut known: Vec<&str> = self
            .groups
            .iter()
            .map(|group| group.name.as_str())
            .collect();
        for host in self.hosts {
            if !known.contains(&host.name.as_str()) {
                known.push(&host.name);
            }
        }
        let hint = closest(name, known.iter().copied())
            .map(|near| format!("did you mean {near:?}?"))
            .or_else(|| Some(ALLOW_EMPTY_HINT.to_owned()));
        // The closest names first; the stable sort keeps inventory order among equals.
        known.sort_by_key(|candidate| edit_distance(name, candidate));
        let more = known.len().saturating_sub(KNOWN_NAMES_SHOWN);
        known.truncate(KNOWN_NAMES_SHOWN);
        InventoryError::UnknownLimitName {
            origin: term.origin.clone(),
            name: name.to_owned(),
            known: known.into_iter().map(str::to_owned).collect(),
            more,
            hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Inventory;
    use super::super::testing::parse;
    use super::*;

    const FARM: &str = "\
all:
  hosts:
    bastion:
  children:
    build:
      children:
        x86:
          hosts:
            x1:
            x2:
        arm:
          hosts:
            a1:
    cache:
      hosts:
        x2:
        c1:
    empty:
";

    fn farm() -> Inventory {
        parse(FARM).expect("valid inventory")
    }

    fn selected(inventory: &Inventory, limit: &str) -> Vec<String> {
        inventory
            .select(Some(limit))
            .unwrap_or_else(|err| panic!("{limit}: {err}"))
            .into_iter()
            .map(|host| host.name.clone())
            .collect()
    }

    fn error(inventory: &Inventory, limit: &str) -> InventoryError {
        inventory.select(Some(limit)).expect_err("invalid limit")
    }

    #[test]
    fn no_limit_selects_every_host_in_inventory_order() {
        let inventory = farm();
        let all: Vec<_> = inventory
            .select(None)
            .expect("no limit")
            .into_iter()
            .map(|host| host.name.as_str())
            .collect();
        assert_eq!(all, ["bastion", "x1", "x2", "a1", "c1"]);
    }

    #[test]
    fn limit_by_host_name() {
        assert_eq!(selected(&farm(), "a1"), ["a1"]);
    }

    #[test]
    fn limit_by_group_includes_child_groups() {
        assert_eq!(selected(&farm(), "build"), ["x1", "x2", "a1"]);
        assert_eq!(selected(&farm(), "arm"), ["a1"]);
    }

    #[test]
    fn limit_all_and_star_select_every_host() {
        assert_eq!(selected(&farm(), "all").len(), 5);
        assert_eq!(selected(&farm(), "*").len(), 5);
    }

    #[test]
    fn limit_ungrouped_selects_hosts_in_no_group() {
        assert_eq!(selected(&farm(), "ungrouped"), ["bastion"]);
    }

    #[test]
    fn union_keeps_inventory_order_without_duplicates() {
        assert_eq!(selected(&farm(), "c1,cache,x86,x2"), ["x1", "x2", "c1"]);
    }

    #[test]
    fn colon_is_a_union_too() {
        assert_eq!(selected(&farm(), "arm:cache"), ["x2", "a1", "c1"]);
    }

    #[test]
    fn spaces_and_empty_items_are_ignored() {
        assert_eq!(selected(&farm(), " a1 , ,bastion,"), ["bastion", "a1"]);
    }

    #[test]
    fn intersection_keeps_hosts_in_both() {
        assert_eq!(selected(&farm(), "build:&cache"), ["x2"]);
        assert_eq!(selected(&farm(), "build,&cache"), ["x2"]);
    }

    #[test]
    fn exclusion_drops_hosts() {
        assert_eq!(selected(&farm(), "build:!x86"), ["a1"]);
        assert_eq!(selected(&farm(), "all:!x2"), ["bastion", "x1", "a1", "c1"]);
    }

    #[test]
    fn exclusion_alone_excludes_from_all() {
        assert_eq!(selected(&farm(), "!build"), ["bastion", "c1"]);
    }

    #[test]
    fn intersections_and_exclusions_apply_after_every_union_whatever_the_order() {
        // Written as exclusion, union, intersection, union: applied as unions, &, then !.
        assert_eq!(selected(&farm(), "!x1,x86,&build,cache"), ["x2"]);
        assert_eq!(selected(&farm(), "cache:!x2:arm"), ["a1", "c1"]);
    }

    #[test]
    fn several_intersections_all_apply() {
        assert_eq!(selected(&farm(), "all:&build:&cache"), ["x2"]);
    }

    #[test]
    fn glob_matches_groups_and_hosts() {
        assert_eq!(selected(&farm(), "x*"), ["x1", "x2"]);
        assert_eq!(selected(&farm(), "?1"), ["x1", "a1", "c1"]);
        assert_eq!(selected(&farm(), "ca*"), ["x2", "c1"]);
        assert_eq!(selected(&farm(), "b*"), ["bastion", "x1", "x2", "a1"]);
    }

    #[test]
    fn glob_in_an_exclusion() {
        assert_eq!(selected(&farm(), "all:!x*"), ["bastion", "a1", "c1"]);
    }

    #[test]
    fn regex_is_anchored_at_the_start_only() {
        assert_eq!(selected(&farm(), "~x"), ["x1", "x2"]);
        assert_eq!(selected(&farm(), "~(a|c)1"), ["a1", "c1"]);
        assert_eq!(selected(&farm(), "~.*2$"), ["x2"]);
        assert_eq!(selected(&farm(), "~ca"), ["x2", "c1"]);
    }

    #[test]
    fn invalid_regex_is_an_error_even_when_empty_is_allowed() {
        let err = farm()
            .select_with(Some("~web("), true)
            .expect_err("bad regex");
        assert_eq!(
            err.to_string(),
            r#"--limit: "~web(" is not a valid regular expression: unclosed group"#
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn slices_are_inclusive_and_count_from_zero() {
        let inventory =
            parse("lab:\n  hosts:\n    h1:\n    h2:\n    h3:\n    h4:\n").expect("valid");
        assert_eq!(selected(&inventory, "lab[0:2]"), ["h1", "h2", "h3"]);
        assert_eq!(selected(&inventory, "lab[1]"), ["h2"]);
        assert_eq!(selected(&inventory, "lab[-1]"), ["h4"]);
        assert_eq!(selected(&inventory, "lab[2:]"), ["h3", "h4"]);
        assert_eq!(selected(&inventory, "lab:!lab[1:2]"), ["h1", "h4"]);
        assert_eq!(selected(&inventory, "h*[0]"), ["h1"]);
    }

    #[test]
    fn slice_of_a_group_follows_the_group_then_its_children() {
        let inventory = parse(
            "top:\n  hosts: {t1: }\n  children:\n    mid:\n      hosts: {m1: , m2: }\n      children:\n        low:\n          hosts: {l1: }\n",
        )
        .expect("valid");
        assert_eq!(selected(&inventory, "top[0:1]"), ["t1", "m1"]);
        assert_eq!(selected(&inventory, "top[3]"), ["l1"]);
    }

    #[test]
    fn slice_beyond_the_hosts_is_an_error() {
        let err = error(&farm(), "arm[1]");
        assert_eq!(
            err.to_string(),
            r#"--limit: "arm[1]" selects no host: "arm" matches 1 host (numbered from 0), and the slice picks none of them"#
        );
        assert_eq!(err.hint(), Some(ALLOW_EMPTY_HINT));
    }

    #[test]
    fn host_names_win_over_groups_of_the_same_name() {
        // As in Ansible: a plain name that is a host selects the host, not the group.
        let inventory =
            parse("all:\n  children:\n    db:\n      hosts: {d1: , d2: }\n  hosts:\n    db:\n")
                .expect("valid");
        assert_eq!(selected(&inventory, "db"), ["db"]);
        assert_eq!(selected(&inventory, "all:!db"), ["db"]);
    }

    #[test]
    fn limit_file_lists_patterns() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("retry");
        std::fs::write(&path, "x1\n!x1\nc1\n").expect("write");
        let limit = format!("@{}", path.display());
        assert_eq!(selected(&farm(), &limit), ["c1"]);
        assert_eq!(selected(&farm(), &format!("{limit},a1")), ["a1", "c1"]);
    }

    #[test]
    fn unknown_name_is_an_error_that_lists_close_names() {
        let err = error(&farm(), "x1,arn");
        assert_eq!(
            err.to_string(),
            r#"--limit: no host or group is named "arn" (known: arm, all, a1, x86, x1 and 7 more)"#
        );
        assert_eq!(err.hint(), Some(r#"did you mean "arm"?"#));
    }

    #[test]
    fn unknown_name_in_an_exclusion_is_an_error() {
        let err = error(&farm(), "all:!x9");
        assert!(
            matches!(&err, InventoryError::UnknownLimitName { name, .. } if name == "x9"),
            "{err}"
        );
    }

    #[test]
    fn unknown_name_in_a_limit_file_names_the_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("retry");
        std::fs::write(&path, "x1\nx9\n").expect("write");
        let err = error(&farm(), &format!("@{}", path.display()));
        assert!(
            err.to_string().starts_with(&format!(
                "--limit @{}:2: no host or group is named \"x9\"",
                path.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn glob_that_matches_nothing_is_an_error() {
        let err = error(&farm(), "web*");
        assert_eq!(
            err.to_string(),
            r#"--limit: "web*" matches no host or group"#
        );
        assert_eq!(err.hint(), Some(ALLOW_EMPTY_HINT));
        let err = error(&farm(), "all:!~^web");
        assert_eq!(
            err.to_string(),
            r#"--limit: "!~^web" matches no host or group"#
        );
    }

    #[test]
    fn allow_empty_accepts_patterns_that_match_nothing() {
        let inventory = farm();
        let pick = |limit: &str| -> Vec<String> {
            inventory
                .select_with(Some(limit), true)
                .expect("allowed")
                .into_iter()
                .map(|host| host.name.clone())
                .collect()
        };
        assert_eq!(pick("a1,web*"), ["a1"]);
        assert_eq!(pick("a1:!nope"), ["a1"]);
        assert_eq!(pick("arm[5]"), Vec::<String>::new());
        assert_eq!(pick("nope"), Vec::<String>::new());
        assert_eq!(pick(" , "), Vec::<String>::new());
    }

    #[test]
    fn limit_naming_only_an_empty_group_selects_nothing() {
        let err = error(&farm(), "empty");
        assert_eq!(err.to_string(), r#"--limit "empty" selects no hosts"#);
        assert_eq!(err.hint(), Some(ALLOW_EMPTY_HINT));
    }

    #[test]
    fn excluding_an_empty_group_is_fine() {
        assert_eq!(selected(&farm(), "arm:!empty"), ["a1"]);
    }

    #[test]
    fn empty_intersection_selects_nothing() {
        let err = error(&farm(), "arm:&cache");
        assert!(matches!(err, InventoryError::NothingSelected { .. }));
    }

    #[test]
    fn empty_limit_is_an_error() {
        let err = error(&farm(), " , ");
        assert!(matches!(err, InventoryError::NothingSelected { .. }));
    }

    #[test]
    fn empty_limit_file_is_an_error_not_every_host() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("retry");
        std::fs::write(&path, "\n\n").expect("write");
        let err = error(&farm(), &format!("@{}", path.display()));
        assert!(matches!(err, InventoryError::NothingSelected { .. }));
    }
}
