//! `--limit`: choosing hosts by host and group names, separated by commas.

use super::error::InventoryError;
use super::host::HostEntry;
use super::suggest::{closest, edit_distance};

/// How many known names an "unknown name" message lists.
const KNOWN_NAMES_SHOWN: usize = 5;

/// The hosts a limit selects: the union of the hosts named and the hosts of the groups named
/// (with their child groups), in inventory order and each once. No limit selects every host.
pub(crate) fn select<'a>(
    hosts: &'a [HostEntry],
    groups: &[String],
    limit: Option<&str>,
) -> Result<Vec<&'a HostEntry>, InventoryError> {
    let Some(limit) = limit else {
        return Ok(hosts.iter().collect());
    };
    let names: Vec<&str> = limit
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return Err(InventoryError::NothingSelected {
            limit: limit.to_owned(),
            hint: Some("give host or group names, separated by commas".to_owned()),
        });
    }
    let mut chosen = vec![false; hosts.len()];
    for name in names {
        let is_group = groups.iter().any(|group| group == name);
        let mut is_host = false;
        for (host, chosen) in hosts.iter().zip(chosen.iter_mut()) {
            let named = host.name == name;
            is_host |= named;
            if named || (is_group && host.groups.iter().any(|group| group == name)) {
                *chosen = true;
            }
        }
        if !is_host && !is_group {
            return Err(unknown_name(name, hosts, groups));
        }
    }
    let selected: Vec<&HostEntry> = hosts
        .iter()
        .zip(&chosen)
        .filter_map(|(host, &chosen)| chosen.then_some(host))
        .collect();
    if selected.is_empty() {
        return Err(InventoryError::NothingSelected {
            limit: limit.to_owned(),
            hint: Some("the groups it names have no hosts".to_owned()),
        });
    }
    Ok(selected)
}

fn unknown_name(name: &str, hosts: &[HostEntry], groups: &[String]) -> InventoryError {
    let mut known: Vec<&str> = groups.iter().map(String::as_str).collect();
    for host in hosts {
        if !known.contains(&host.name.as_str()) {
            known.push(&host.name);
        }
    }
    let hint = if name.contains(['*', '?', '!', '&', '~', '@', ':', '[']) {
        Some(
            "--limit takes host and group names separated by commas; Ansible patterns \
             (`*`, `!`, `&`, `~`, `@file`, ranges) are not supported yet"
                .to_owned(),
        )
    } else {
        closest(name, known.iter().copied()).map(|near| format!("did you mean {near:?}?"))
    };
    // The closest names first; the stable sort keeps inventory order among equals.
    known.sort_by_key(|candidate| edit_distance(name, candidate));
    let more = known.len().saturating_sub(KNOWN_NAMES_SHOWN);
    known.truncate(KNOWN_NAMES_SHOWN);
    InventoryError::UnknownLimitName {
        name: name.to_owned(),
        known: known.into_iter().map(str::to_owned).collect(),
        more,
        hint,
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

    fn selected(inventory: &Inventory, limit: Option<&str>) -> Vec<String> {
        inventory
            .select(limit)
            .expect("valid limit")
            .into_iter()
            .map(|host| host.name.clone())
            .collect()
    }

    #[test]
    fn no_limit_selects_every_host_in_inventory_order() {
        assert_eq!(selected(&farm(), None), ["bastion", "x1", "x2", "a1", "c1"]);
    }

    #[test]
    fn limit_by_host_name() {
        assert_eq!(selected(&farm(), Some("a1")), ["a1"]);
    }

    #[test]
    fn limit_by_group_includes_child_groups() {
        assert_eq!(selected(&farm(), Some("build")), ["x1", "x2", "a1"]);
        assert_eq!(selected(&farm(), Some("arm")), ["a1"]);
    }

    #[test]
    fn limit_all_selects_every_host() {
        assert_eq!(selected(&farm(), Some("all")).len(), 5);
    }

    #[test]
    fn limit_ungrouped_selects_hosts_in_no_group() {
        assert_eq!(selected(&farm(), Some("ungrouped")), ["bastion"]);
    }

    #[test]
    fn union_keeps_inventory_order_without_duplicates() {
        assert_eq!(
            selected(&farm(), Some("c1,cache,x86,x2")),
            ["x1", "x2", "c1"]
        );
    }

    #[test]
    fn spaces_and_empty_items_are_ignored() {
        assert_eq!(
            selected(&farm(), Some(" a1 , ,bastion,")),
            ["bastion", "a1"]
        );
    }

    #[test]
    fn unknown_name_is_an_error_that_lists_close_names() {
        let err = farm().select(Some("x1,arn")).expect_err("unknown name");
        assert_eq!(
            err.to_string(),
            r#"--limit: no host or group is named "arn" (known: arm, all, a1, x86, x1 and 7 more)"#
        );
        assert_eq!(err.hint(), Some(r#"did you mean "arm"?"#));
    }

    #[test]
    fn unknown_pattern_hints_that_patterns_are_unsupported() {
        let err = farm().select(Some("x*")).expect_err("pattern");
        assert!(matches!(err, InventoryError::UnknownLimitName { .. }));
        assert!(err.hint().is_some_and(|hint| hint.contains("patterns")));
    }

    #[test]
    fn limit_naming_only_an_empty_group_selects_nothing() {
        let err = farm().select(Some("empty")).expect_err("nothing selected");
        assert_eq!(err.to_string(), r#"--limit "empty" selects no hosts"#);
    }

    #[test]
    fn empty_limit_is_an_error() {
        let err = farm().select(Some(" , ")).expect_err("empty limit");
        assert!(matches!(err, InventoryError::NothingSelected { .. }));
    }

    #[test]
    fn name_of_both_a_host_and_a_group_selects_both() {
        let inventory =
            parse("all:\n  children:\n    db:\n      hosts: {d1: , d2: }\n  hosts:\n    db:\n")
                .expect("valid");
        assert_eq!(selected(&inventory, Some("db")), ["d1", "d2", "db"]);
    }
}
