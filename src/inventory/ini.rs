//! INI inventories and host lists, read as Ansible's `ini` and `host_list` plugins read them, into
//! the same tree a YAML inventory gives (every node keeping its line), so that one builder makes
//! groups and hosts from every format.
//!
//! INI: lines before any section list hosts of `ungrouped`; `[group]` lists hosts (a name or
//! range, optionally `:port`, then `key=value` variables split like a shell line, `#` starting a
//! comment), `[group:vars]` holds `key=value` lines, `[group:children]` names child groups, which
//! must be defined somewhere in the file. Values are typed by `python_literal`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use super::document::Node;
use super::error::{InventoryError, SourceLocation};
use super::python_literal::ini_value;

/// Reads INI text into an inventory tree. `file` names it in messages; `known` says whether a
/// group was defined by a file read before (a child group may be defined there, as in Ansible).
pub(crate) fn read_ini(
    text: &str,
    file: &Path,
    known: &dyn Fn(&str) -> bool,
) -> Result<Spanned<Node>, InventoryError> {
    let mut reader = IniReader {
        file,
        sections: Vec::new(),
        defined: HashSet::from(["ungrouped".to_owned(), "all".to_owned()]),
        pending: BTreeMap::new(),
    };
    let mut current = Section::new("ungrouped", State::Hosts, 1);
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        let at = Place {
            line: line_number,
            column,
        };
        if let Some(header) = section_header(line) {
            let (name, state) = header.map_err(|reason| reader.error(at, reason, None))?;
            reader.sections.push(std::mem::replace(
                &mut current,
                Section::new(&name, state, line_number),
            ));
            if state != State::Vars {
                reader.defined.insert(name.clone());
                reader.pending.remove(&name);
            } else if !reader.defined.contains(&name) && !known(&name) {
                reader.pending.entry(name.clone()).or_insert((
                    line_number,
                    format!("Section [{name}:vars] not valid for undefined group '{name}'"),
                ));
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(reader.error(
                at,
                format!("invalid section entry {line:?}"),
                Some("a section is [group], [group:vars] or [group:children], without spaces"),
            ));
        }
        match current.state {
            State::Hosts => {
                let words = shell_words(line).map_err(|reason| {
                    reader.error(at, format!("cannot parse host line: {reason}"), None)
                })?;
                let Some((host, assignments)) = words.split_first() else {
                    continue;
                };
                let mut vars = Vec::new();
                for word in assignments {
                    let Some((name, value)) = word.split_once('=') else {
                        return Err(reader.error(
                            at,
                            format!("expected key=value host variable assignment, got: {word}"),
                            Some("quote values with spaces: key=\"two words\""),
                        ));
                    };
                    vars.push((name.to_owned(), ini_value(value)));
                }
                current.hosts.push(HostLine {
                    at,
                    host: host.clone(),
                    vars,
                });
            }
            State::Vars => {
                let Some((name, value)) = line.split_once('=') else {
                    return Err(reader.error(
                        at,
                        format!("expected key=value, got: {line}"),
                        Some("a [group:vars] section holds one `name=value` per line"),
                    ));
                };
                current
                    .vars
                    .push((at, name.trim().to_owned(), ini_value(value.trim())));
            }
            State::Children => {
                let child = group_name(line).ok_or_else(|| {
                    reader.error(at, format!("expected a group name, got: {line}"), None)
                })?;
                if !reader.defined.contains(child) && !known(child) {
                    reader.pending.entry(child.to_owned()).or_insert((
                        line_number,
                        format!(
                            "Section [{}:children] includes undefined group '{child}'",
                            current.name
                        ),
                    ));
                }
                current.children.push((at, child.to_owned()));
            }
        }
    }
    reader.sections.push(current);
    if let Some((line, reason)) = reader.pending.values().min_by_key(|(line, _)| *line) {
        return Err(reader.error(
            Place {
                line: *line,
                column: 1,
            },
            reason.clone(),
            Some("define the group with a [group] section (it may be empty)"),
        ));
    }
    Ok(reader.into_tree())
}

/// A host list (`-i 'web1,web2:2222,'`) as a tree: every name a host of `ungrouped`. A range
/// is refused: Ansible's `host_list` would make one host literally named `web[1:3]`.
pub(crate) fn host_list(list: &str) -> Result<Spanned<Node>, InventoryError> {
    if let Some(range) = list
        .split(',')
        .map(str::trim)
        .find(|name| name.contains('['))
    {
        return Err(InventoryError::InvalidHostKey {
            at: SourceLocation::argument(&format!("-i {list}")),
            key: range.to_owned(),
            reason: "is a range, which Ansible's host list reads as one host named so".to_owned(),
            hint: Some("list each host, or write the range in an INI or YAML inventory".to_owned()),
        });
    }
    let at = Place { line: 0, column: 0 };
    let hosts: Vec<(Spanned<String>, Spanned<Node>)> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| (at.spanned(name.to_owned()), at.spanned(Node::Null)))
        .collect();
    let group = Node::Mapping(vec![(
        at.spanned("hosts".to_owned()),
        at.spanned(Node::Mapping(hosts)),
    )]);
    Ok(at.spanned(Node::Mapping(vec![(
        at.spanned("ungrouped".to_owned()),
        at.spanned(group),
    )])))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Vars,
    Children,
}

#[derive(Debug, Clone, Copy)]
struct Place {
    line: usize,
    column: usize,
}

impl Place {
    fn location(self) -> Location {
        serde_json::from_value(serde_json::json!({"line": self.line, "column": self.column}))
            .unwrap_or(Location::UNKNOWN)
    }

    fn spanned<T>(self, value: T) -> Spanned<T> {
        Spanned::new(value, self.location(), self.location())
    }
}

/// A host line: where it is, the host (or range, with a port), and its variables.
struct HostLine {
    at: Place,
    host: String,
    vars: Vec<(String, Value)>,
}

/// One section of the file, in order; a group may have several.
struct Section {
    name: String,
    state: State,
    line: usize,
    hosts: Vec<HostLine>,
    vars: Vec<(Place, String, Value)>,
    children: Vec<(Place, String)>,
}

impl Section {
    fn new(name: &str, state: State, line: usize) -> Section {
        Section {
            name: name.to_owned(),
            state,
            line,
            hosts: Vec::new(),
            vars: Vec::new(),
            children: Vec::new(),
        }
    }
}

struct IniReader<'a> {
    file: &'a Path,
    sections: Vec<Section>,
    /// Groups with a `[group]` or `[group:children]` section so far.
    defined: HashSet<String>,
    /// Groups used before their definition: the first line and Ansible's message if never defined.
    pending: BTreeMap<String, (usize, String)>,
}

impl IniReader<'_> {
    fn error(&self, at: Place, reason: String, hint: Option<&str>) -> InventoryError {
        InventoryError::MalformedIni {
            at: SourceLocation::new(self.file, at.line as u64, at.column as u64, String::new()),
            reason,
            hint: hint.map(str::to_owned),
        }
    }

    /// One top-level entry per section, in file order: the builder merges entries of the same
    /// group, as Ansible adds to a group section by section.
    fn into_tree(self) -> Spanned<Node> {
        let mut groups = Vec::new();
        for section in self.sections {
            let header = Place {
                line: section.line,
                column: 1,
            };
            let body = match section.state {
                State::Hosts => {
                    if section.hosts.is_empty() && section.name == "ungrouped" {
                        continue;
                    }
                    let hosts = section
                        .hosts
                        .into_iter()
                        .map(
                            |HostLine {
                                 at,
                                 host: name,
                                 vars,
                             }| {
                                let vars: Vec<_> = vars
                                    .into_iter()
                                    .map(|(name, value)| {
                                        (at.spanned(name), at.spanned(to_node(value, at)))
                                    })
                                    .collect();
                                let vars = if vars.is_empty() {
                                    Node::Null
                                } else {
                                    Node::Mapping(vars)
                                };
                                (at.spanned(name), at.spanned(vars))
                            },
                        )
                        .collect();
                    ("hosts", Node::Mapping(hosts))
                }
                State::Vars => {
                    let vars = section
                        .vars
                        .into_iter()
                        .map(|(at, name, value)| (at.spanned(name), at.spanned(to_node(value, at))))
                        .collect();
                    ("vars", Node::Mapping(vars))
                }
                State::Children => {
                    let children = section
                        .children
                        .into_iter()
                        .map(|(at, name)| (at.spanned(name), at.spanned(Node::Null)))
                        .collect();
                    ("children", Node::Mapping(children))
                }
            };
            let group = Node::Mapping(vec![(
                header.spanned(body.0.to_owned()),
                header.spanned(body.1),
            )]);
            groups.push((header.spanned(section.name), header.spanned(group)));
        }
        Place { line: 1, column: 1 }.spanned(Node::Mapping(groups))
    }
}

fn to_node(value: Value, at: Place) -> Node {
    match value {
        Value::Null => Node::Null,
        Value::Bool(flag) => Node::Bool(flag),
        Value::Number(number) => Node::Number(number),
        Value::String(text) => Node::String(text),
        Value::Array(items) => Node::Sequence(
            items
                .into_iter()
                .map(|item| at.spanned(to_node(item, at)))
                .collect(),
        ),
        Value::Object(entries) => Node::Mapping(
            entries
                .into_iter()
                .map(|(key, value)| (at.spanned(key), at.spanned(to_node(value, at))))
                .collect(),
        ),
    }
}

/// `[name]`, `[name:vars]`, `[name:children]` (a trailing `# comment` allowed): `None` when the
/// line is no section header, an error for a header of an unknown kind.
fn section_header(line: &str) -> Option<Result<(String, State), String>> {
    let line = match line.find(']') {
        Some(end) if line.starts_with('[') && is_blank_or_comment(&line[end + 1..]) => {
            &line[1..end]
        }
        _ => return None,
    };
    let (name, kind) = match line.split_once(':') {
        Some((name, kind)) => (name, Some(kind)),
        None => (line, None),
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    if kind.is_some_and(|kind| {
        kind.is_empty() || !kind.chars().all(|c| c.is_alphanumeric() || c == '_')
    }) {
        return None;
    }
    let state = match kind {
        None | Some("hosts") => State::Hosts,
        Some("vars") => State::Vars,
        Some("children") => State::Children,
        Some(other) => return Some(Err(format!("section [{line}] has unknown type: {other}"))),
    };
    Some(Ok((name.to_owned(), state)))
}

fn is_blank_or_comment(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.is_empty() || rest.starts_with('#')
}

/// A child group line: one name without `:`, `]` or spaces, then optionally a comment.
fn group_name(line: &str) -> Option<&str> {
    let end = line.find(char::is_whitespace).unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    (!name.is_empty() && !name.contains([':', ']']) && is_blank_or_comment(rest)).then_some(name)
}

/// Splits a line into words as Python's `shlex.split(line, comments=True)`: whitespace
/// separates, `'...'` is literal, `"..."` honours `\"` and `\\`, a backslash outside quotes
/// escapes the next character, and `#` outside quotes ends the line, even inside a word.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("no closing quotation".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                            if let Some(escaped) = chars.next() {
                                current.push(escaped);
                            }
                        }
                        Some(c) => current.push(c),
                        None => return Err("no closing quotation".to_owned()),
                    }
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::super::Inventory;
    use super::super::testing::TEST_HOME;
    use super::*;

    fn parse(text: &str) -> Result<Inventory, InventoryError> {
        Inventory::parse_ini_with_home(text, Path::new("hosts"), Some(Path::new(TEST_HOME)))
    }

    #[test]
    fn shell_words_follow_python_shlex() {
        assert_eq!(
            shell_words(r#"web1 a=1 b="two words" c='x y' d=e#f g=h"#).expect("valid"),
            ["web1", "a=1", "b=two words", "c=x y", "d=e"]
        );
        assert_eq!(
            shell_words(r#"h x="a\"b" y=a\ b"#).expect("valid"),
            ["h", "x=a\"b", "y=a b"]
        );
        assert!(shell_words("h x='open").is_err());
    }

    #[test]
    fn groups_vars_children_and_ungrouped_hosts() {
        let inventory = parse(
            "lonely ansible_host=10.0.0.9\n\n[web]\nweb[1:2] ansible_port=2222 team=\"front end\"\n# comment\n[web:vars]\nansible_user=deploy\nretries=3\n\n[prod:children]\nweb\n",
        )
        .expect("valid");
        let names: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["lonely", "web1", "web2"]);
        let web2 = inventory.host("web2").expect("web2");
        assert_eq!(web2.port, 2222);
        assert_eq!(web2.user.as_deref(), Some("deploy"));
        assert_eq!(web2.vars["retries"], serde_json::json!(3));
        assert_eq!(web2.vars["team"], serde_json::json!("front end"));
        assert_eq!(web2.groups, ["all", "prod", "web"]);
        assert_eq!(
            inventory.host("lonely").expect("lonely").address,
            "10.0.0.9"
        );
        assert_eq!(
            web2.var_sources["ansible_user"].to_string(),
            "group web, hosts:7:1"
        );
    }

    #[test]
    fn host_with_port_in_its_name() {
        let inventory = parse("[db]\ndb1:2200\n").expect("valid");
        assert_eq!(inventory.host("db1").expect("db1").port, 2200);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "[web]\nweb1 oops\n",
                "hosts:2:1: expected key=value host variable assignment, got: oops",
            ),
            (
                "[web:vars]\nx\n[web]\nh\n",
                "hosts:2:1: expected key=value, got: x",
            ),
            (
                "[web:nope]\nh\n",
                "hosts:1:1: section [web:nope] has unknown type: nope",
            ),
            (
                "[a:children]\nb\n[c]\nh\n",
                "hosts:2:1: Section [a:children] includes undefined group 'b'",
            ),
            (
                "[a:vars]\nx=1\n[c]\nh\n",
                "hosts:1:1: Section [a:vars] not valid for undefined group 'a'",
            ),
            (
                "[web]\nh x='open\n",
                "hosts:2:1: cannot parse host line: no closing quotation",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.to_string(), expected, "{text}");
            assert!(err.location().is_some());
        }
    }

    #[test]
    fn host_list_names_ungrouped_hosts_with_ports() {
        let tree = host_list("web1, web2:2222,,").expect("valid");
        let Node::Mapping(groups) = &tree.value else {
            panic!("mapping");
        };
        assert_eq!(groups[0].0.value, "ungrouped");
        let err = host_list("web[1:3],").expect_err("range");
        assert_eq!(
            err.to_string(),
            r#"-i web[1:3],: host key "web[1:3]" is a range, which Ansible's host list reads as one host named so"#
        );
    }
}
