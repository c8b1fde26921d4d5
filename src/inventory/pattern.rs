//! The `--limit` grammar, as Ansible reads it: sub-patterns separated by `,` (or, when there is
//! no comma and the whole is not one host address, by `:`), each optionally prefixed with `&`
//! (intersection) or `!` (exclusion), `@FILE` for one pattern per line of a file, and a `[i]`,
//! `[i:j]` or `[i:]` slice after any pattern but a `~regex`. Sub-patterns are applied in
//! Ansible's order: every union first, then every intersection, then every exclusion, whatever
//! order they were written in; with no union, the union is `all`.

use std::path::Path;

use super::error::InventoryError;
use super::host_pattern::parse_address;

/// How a sub-pattern combines with the hosts selected so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    /// No prefix: add its hosts.
    Union,
    /// `&`: keep only hosts it also selects.
    Intersection,
    /// `!`: drop the hosts it selects.
    Exclusion,
}

/// One sub-pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// As written, with its prefix: `!web*[0:2]`.
    pub(crate) text: String,
    pub(crate) operator: Operator,
    /// Without the prefix: `web*[0:2]`.
    pub(crate) expression: String,
    /// Where it was written, for messages: `--limit`, or `--limit @FILE:LINE`.
    pub(crate) origin: String,
}

/// A slice after a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subscript {
    /// `[i]`, `[-i]`: one host, counted from the end when negative.
    Index(i64),
    /// `[i:j]` (inclusive) or `[i:]` (to the last host).
    Range { start: usize, end: Option<usize> },
}

/// Reads a `--limit` into its sub-patterns, in the order they are applied.
pub(crate) fn read_limit(limit: &str) -> Result<Vec<Term>, InventoryError> {
    let mut terms = Vec::new();
    for item in split_patterns(limit) {
        match item.strip_prefix('@') {
            Some(file) => read_limit_file(Path::new(file), &mut terms)?,
            None => terms.push(term(&item, "--limit".to_owned())?),
        }
    }
    Ok(in_application_order(terms))
}

/// Ansible's `split_host_pattern`: on commas if there is any; else the whole, if it is one host
/// address (`fd00::1`, `web[1:3]`, `web1:22`); else on colons, keeping `[...]` groups whole.
pub(crate) fn split_patterns(limit: &str) -> Vec<String> {
    let items: Vec<String> = if limit.contains(',') {
        limit.split(',').map(str::to_owned).collect()
    } else if parse_address(limit).is_some() {
        vec![limit.to_owned()]
    } else {
        split_on_colons(limit)
    };
    items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The runs of characters other than whitespace, `:`, `[` and `]`, where a complete `[...]`
/// counts as one character (Ansible's `re.findall` of `(?:[^\s:\[\]]|\[[^\]]*\])+`).
fn split_on_colons(limit: &str) -> Vec<String> {
    let chars: Vec<char> = limit.chars().collect();
    let mut items = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let bracket_end = (c == '[')
            .then(|| chars[i + 1..].iter().position(|&d| d == ']'))
            .flatten();
        if let Some(offset) = bracket_end {
            current.extend(&chars[i..=i + 1 + offset]);
            i += offset + 2;
            continue;
        }
        if c.is_whitespace() || matches!(c, ':' | '[' | ']') {
            if !current.is_empty() {
                items.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
        i += 1;
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

/// `@FILE`: one pattern per line, whitespace trimmed, empty lines skipped; lines are not split
/// further (as in Ansible). Lines starting with `#` are comments (fleetrmi's retry files use
/// them to say why each host is listed; no host or group name starts with `#`).
fn read_limit_file(path: &Path, terms: &mut Vec<Term>) -> Result<(), InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::LimitFile {
        path: path.to_path_buf(),
        source,
    })?;
    for (number, line) in text.split('\n').enumerate() {
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            let origin = format!("--limit @{}:{}", path.display(), number + 1);
            terms.push(term(line, origin)?);
        }
    }
    Ok(())
}

fn term(text: &str, origin: String) -> Result<Term, InventoryError> {
    let (operator, expression) = if let Some(rest) = text.strip_prefix('!') {
        (Operator::Exclusion, rest)
    } else if let Some(rest) = text.strip_prefix('&') {
        (Operator::Intersection, rest)
    } else {
        (Operator::Union, text)
    };
    if expression.is_empty() {
        return Err(InventoryError::InvalidPattern {
            origin,
            pattern: text.to_owned(),
            reason: "has nothing after its operator".to_owned(),
            hint: Some("write `!NAME` to exclude and `&NAME` to intersect".to_owned()),
        });
    }
    Ok(Term {
        text: text.to_owned(),
        operator,
        expression: expression.to_owned(),
        origin,
    })
}

/// Ansible's `order_patterns`. An empty list stays empty: unlike Ansible, which then selects
/// every host, fleetrmi never reads "no pattern" as "all".
fn in_application_order(terms: Vec<Term>) -> Vec<Term> {
    let mut ordered: Vec<Term> = Vec::with_capacity(terms.len() + 1);
    for operator in [Operator::Union, Operator::Intersection, Operator::Exclusion] {
        if operator == Operator::Intersection && ordered.is_empty() && !terms.is_empty() {
            ordered.push(Term {
                text: "all".to_owned(),
                operator: Operator::Union,
                expression: "all".to_owned(),
                origin: "--limit".to_owned(),
            });
        }
        ordered.extend(terms.iter().filter(|t| t.operator == operator).cloned());
    }
    ordered
}

/// Splits a trailing slice off an expression that is not a `~regex`: `web*[0:2]` gives `web*`
/// and `[0:2]` (Ansible's `PATTERN_WITH_SUBSCRIPT`). `[i-j]` is read as `[i:j]`, as Ansible still
/// does (with the warning of `subscript_warnings`).
pub(crate) fn split_subscript(term: &Term) -> Result<(&str, Option<Subscript>), InventoryError> {
    let expression = term.expression.as_str();
    let no_subscript = Ok((expression, None));
    if expression.starts_with('~') {
        return no_subscript;
    }
    let Some(body) = expression.strip_suffix(']') else {
        return no_subscript;
    };
    let Some(open) = body.rfind('[') else {
        return no_subscript;
    };
    let (pattern, inner) = (&body[..open], &body[open + 1..]);
    if pattern.is_empty() {
        return no_subscript;
    }
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let index_digits = inner.strip_prefix('-').unwrap_or(inner);
    if digits(index_digits) {
        return match inner.parse::<i64>() {
            Ok(index) => Ok((pattern, Some(Subscript::Index(index)))),
            Err(_) => Err(bad_subscript(term, "has a slice index that is too large")),
        };
    }
    let Some(separator) = inner.find([':', '-']) else {
        return no_subscript;
    };
    let (start, end) = (&inner[..separator], &inner[separator + 1..]);
    if !digits(start) || !(end.is_empty() || digits(end)) {
        return no_subscript;
    }
    let parse = |text: &str| text.parse::<usize>().ok();
    let (Some(start), end) = (parse(start), (!end.is_empty()).then(|| parse(end))) else {
        return Err(bad_subscript(term, "has a slice bound that is too large"));
    };
    match end {
        Some(None) => Err(bad_subscript(term, "has a slice bound that is too large")),
        Some(Some(end)) => Ok((
            pattern,
            Some(Subscript::Range {
                start,
                end: Some(end),
            }),
        )),
        None => Ok((pattern, Some(Subscript::Range { start, end: None }))),
    }
}

/// Ansible's warning for each `[i-j]` slice of a limit, which it reads as `[i:j]`.
pub(crate) fn subscript_warnings(limit: &str) -> Vec<String> {
    let Ok(terms) = read_limit(limit) else {
        return Vec::new();
    };
    terms
        .iter()
        .filter(|term| {
            matches!(split_subscript(term), Ok((_, Some(Subscript::Range { end: Some(_), .. }))))
                && term
                    .expression
                    .rsplit_once('[')
                    .is_some_and(|(_, inner)| inner.contains('-'))
        })
        .map(|term| {
            format!(
                "{}: {}: use [x:y] inclusive subscripts instead of [x-y], which Ansible has deprecated",
                term.origin, term.text
            )
        })
        .collect()
}

fn bad_subscript(term: &Term, reason: &str) -> InventoryError {
    InventoryError::InvalidPattern {
        origin: term.origin.clone(),
        pattern: term.text.clone(),
        reason: reason.to_owned(),
        hint: None,
    }
}

/// Applies a slice as Ansible's `_apply_subscript` does (Python indexing, an end of 0 meaning
/// "only the start"); `None` when it selects nothing.
pub(crate) fn apply_subscript<T: Copy>(items: &[T], subscript: Subscript) -> Option<Vec<T>> {
    let length = i64::try_from(items.len()).ok()?;
    let single = |index: i64| {
        let index = if index < 0 { length + index } else { index };
        usize::try_from(index)
            .ok()
            .and_then(|index| items.get(index))
            .map(|&item| vec![item])
    };
    let selected = match subscript {
        Subscript::Index(index) => single(index)?,
        Subscript::Range {
            start,
            end: Some(0),
        } => single(i64::try_from(start).ok()?)?,
        Subscript::Range { start, end } => {
            let end = end.unwrap_or(items.len().saturating_sub(1));
            items
                .get(start..=end.min(items.len().saturating_sub(1)))
                .unwrap_or_default()
                .to_vec()
        }
    };
    (!selected.is_empty()).then_some(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(limit: &str) -> Vec<String> {
        read_limit(limit)
            .expect("valid limit")
            .into_iter()
            .map(|term| term.text)
            .collect()
    }

    fn subscript(expression: &str) -> Result<(String, Option<Subscript>), InventoryError> {
        let term = term(expression, "--limit".to_owned()).expect("term");
        split_subscript(&term).map(|(pattern, subscript)| (pattern.to_owned(), subscript))
    }

    #[test]
    fn commas_separate_patterns_and_spaces_are_trimmed() {
        assert_eq!(split_patterns("web, db ,,cache"), ["web", "db", "cache"]);
    }

    #[test]
    fn with_commas_colons_stay_inside_patterns() {
        assert_eq!(split_patterns("web[1:3],fd00::1"), ["web[1:3]", "fd00::1"]);
    }

    #[test]
    fn colons_separate_when_there_is_no_comma() {
        assert_eq!(split_patterns("lab:!h2"), ["lab", "!h2"]);
        assert_eq!(
            split_patterns("web:&prod:!web0*"),
            ["web", "&prod", "!web0*"]
        );
    }

    #[test]
    fn one_address_is_not_split_on_colons() {
        assert_eq!(split_patterns("fd00::1"), ["fd00::1"]);
        assert_eq!(split_patterns("web1:22"), ["web1:22"]);
    }

    #[test]
    fn brackets_stay_whole_when_splitting_on_colons() {
        assert_eq!(split_patterns("web[0:2]:!web[1]"), ["web[0:2]", "!web[1]"]);
    }

    #[test]
    fn unions_come_first_then_intersections_then_exclusions() {
        assert_eq!(
            texts("!h2,&prod,web,!h3,db,&eu"),
            ["web", "db", "&prod", "&eu", "!h2", "!h3"]
        );
    }

    #[test]
    fn exclusion_alone_applies_to_all() {
        assert_eq!(texts("!h2"), ["all", "!h2"]);
        assert_eq!(texts("&web"), ["all", "&web"]);
    }

    #[test]
    fn empty_limit_has_no_terms() {
        assert!(texts(" , ").is_empty());
    }

    #[test]
    fn lone_operator_is_an_error() {
        let err = read_limit("web,!").expect_err("lone !");
        assert_eq!(
            err.to_string(),
            r#"--limit: "!" has nothing after its operator"#
        );
    }

    #[test]
    fn limit_file_gives_one_pattern_per_line_with_its_line_number() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("retry");
        std::fs::write(&path, "h1\n\n  !h2 \nweb,db\n").expect("write");
        let terms = read_limit(&format!("@{},h9", path.display())).expect("valid");
        let shown: Vec<(&str, &str)> = terms
            .iter()
            .map(|t| (t.text.as_str(), t.origin.as_str()))
            .collect();
        let origin = |line: usize| format!("--limit @{}:{line}", path.display());
        assert_eq!(
            shown,
            [
                ("h1", origin(1).as_str()),
                ("web,db", origin(4).as_str()),
                ("h9", "--limit"),
                ("!h2", origin(3).as_str()),
            ]
        );
    }

    #[test]
    fn missing_limit_file_is_an_error() {
        let err = read_limit("@/nonexistent/retry").expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("--limit @/nonexistent/retry: cannot read the file:")
        );
    }

    #[test]
    fn subscripts_are_split_off() {
        assert_eq!(
            subscript("web[1]").expect("valid"),
            ("web".to_owned(), Some(Subscript::Index(1)))
        );
        assert_eq!(
            subscript("web*[-1]").expect("valid"),
            ("web*".to_owned(), Some(Subscript::Index(-1)))
        );
        assert_eq!(
            subscript("web[0:2]").expect("valid"),
            (
                "web".to_owned(),
                Some(Subscript::Range {
                    start: 0,
                    end: Some(2)
                })
            )
        );
        assert_eq!(
            subscript("!web[2:]").expect("valid"),
            (
                "web".to_owned(),
                Some(Subscript::Range {
                    start: 2,
                    end: None
                })
            )
        );
    }

    #[test]
    fn brackets_that_are_no_slice_stay_in_the_pattern() {
        assert_eq!(
            subscript("web[ab]").expect("valid"),
            ("web[ab]".to_owned(), None)
        );
        assert_eq!(subscript("[1]").expect("valid"), ("[1]".to_owned(), None));
        assert_eq!(
            subscript("~web[1]").expect("valid"),
            ("~web[1]".to_owned(), None)
        );
    }

    #[test]
    fn dash_slice_is_read_as_a_colon_slice_with_a_warning() {
        assert_eq!(
            subscript("web[1-3]").expect("deprecated form"),
            (
                "web".to_owned(),
                Some(Subscript::Range {
                    start: 1,
                    end: Some(3)
                })
            )
        );
        assert_eq!(
            subscript_warnings("web[1-3]:db[0:1]:x-y"),
            [
                "--limit: web[1-3]: use [x:y] inclusive subscripts instead of [x-y], which Ansible has deprecated"
            ]
        );
    }

    #[test]
    fn slices_are_inclusive_and_follow_python_indexing() {
        let items = [10, 11, 12, 13];
        let range = |start, end| Subscript::Range { start, end };
        assert_eq!(
            apply_subscript(&items, range(0, Some(2))),
            Some(vec![10, 11, 12])
        );
        assert_eq!(apply_subscript(&items, range(2, None)), Some(vec![12, 13]));
        assert_eq!(
            apply_subscript(&items, range(2, Some(9))),
            Some(vec![12, 13])
        );
        assert_eq!(apply_subscript(&items, Subscript::Index(1)), Some(vec![11]));
        assert_eq!(
            apply_subscript(&items, Subscript::Index(-1)),
            Some(vec![13])
        );
        // Ansible reads an end of 0 as "the start only".
        assert_eq!(apply_subscript(&items, range(2, Some(0))), Some(vec![12]));
    }

    #[test]
    fn slices_beyond_the_hosts_select_nothing() {
        let items = [10, 11];
        assert_eq!(apply_subscript(&items, Subscript::Index(2)), None);
        assert_eq!(apply_subscript(&items, Subscript::Index(-3)), None);
        assert_eq!(
            apply_subscript(
                &items,
                Subscript::Range {
                    start: 5,
                    end: Some(7)
                }
            ),
            None
        );
        assert_eq!(
            apply_subscript(
                &items,
                Subscript::Range {
                    start: 1,
                    end: Some(0)
                }
            ),
            Some(vec![11])
        );
        assert_eq!(
            apply_subscript(
                &items,
                Subscript::Range {
                    start: 3,
                    end: Some(1)
                }
            ),
            None
        );
    }
}
