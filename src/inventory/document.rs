//! The YAML layer: the inventory file read into a tree of values that remember where they were
//! written, so that every later check can point at a line and column.

use std::fmt;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DefaultMessageFormatter, Location, MessageFormatter, Spanned};

use super::error::{InventoryError, SourceLocation};

/// One YAML node. Mapping keys are read as strings (YAML keys such as `10:` or `true:` keep their
/// spelling), and entries keep their order in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// What kind of node this is, for "must be a mapping, found a list" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing (null)",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::Sequence(_) => "a list",
            Node::Mapping(_) => "a mapping",
        }
    }

    /// The node as a JSON value, for variables that fleetrmi keeps without interpreting them.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Node::Null => serde_json::Value::Null,
            Node::Bool(value) => serde_json::Value::Bool(*value),
            Node::Number(value) => serde_json::Value::Number(value.clone()),
            Node::String(value) => serde_json::Value::String(value.clone()),
            Node::Sequence(items) => items.iter().map(|item| item.value.to_json()).collect(),
            Node::Mapping(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.value.clone(), value.value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    // Integers beyond 64 bits have no JSON number; their digits are kept as a string.
    fn visit_i128<E>(self, value: i128) -> Result<Node, E> {
        Ok(match i64::try_from(value) {
            Ok(small) => Node::Number(small.into()),
            Err(_) => Node::String(value.to_string()),
        })
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node, E> {
        Ok(match u64::try_from(value) {
            Ok(small) => Node::Number(small.into()),
            Err(_) => Node::String(value.to_string()),
        })
    }

    // Non-finite floats arrive as strings (see `read_document`); this is only a fallback.
    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(match serde_json::Number::from_f64(value) {
            Some(number) => Node::Number(number),
            None => Node::String(value.to_string()),
        })
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}

/// The keys that lead from the top of the document to a node, for messages about places the YAML
/// reader gives no line for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct YamlPath(Vec<String>);

impl YamlPath {
    pub(crate) fn child(&self, key: &str) -> YamlPath {
        let mut keys = self.0.clone();
        keys.push(key.to_owned());
        YamlPath(keys)
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" > "))
    }
}

/// What the reader knows about the document besides its text: the file it came from (for
/// messages) and the home directory (for `~/` in paths).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) file: &'a Path,
    pub(crate) home: Option<&'a Path>,
}

impl Source<'_> {
    pub(crate) fn at(&self, location: Location, path: &YamlPath) -> SourceLocation {
        SourceLocation::new(
            self.file,
            location.line(),
            location.column(),
            path.to_string(),
        )
    }
}

/// Reads the whole text as one YAML document. Duplicate keys are rejected (serde-saphyr's
/// default); numbers with leading zeros (`0755`) stay strings, as a file mode in a variable
/// should; `.inf` and `.nan` become strings, because JSON has no such numbers.
pub(crate) fn read_document(text: &str, file: &Path) -> Result<Spanned<Node>, InventoryError> {
    let options = serde_saphyr::options! {
        leading_zero_numbers_as_strings: true,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|err| translate(&err, file))
}

/// Turns serde-saphyr's error into ours, keeping its position and its message without the
/// position suffix and snippet it would add itself.
fn translate(err: &serde_saphyr::Error, file: &Path) -> InventoryError {
    let at = match err.location() {
        Some(location) => {
            SourceLocation::new(file, location.line(), location.column(), String::new())
        }
        None => SourceLocation::new(file, 0, 0, String::new()),
    };
    let inner = innermost(err);
    match inner {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => InventoryError::DuplicateKey {
            at,
            key: key.clone().unwrap_or_else(|| "?".to_owned()),
        },
        serde_saphyr::Error::NullIntoString { .. } => InventoryError::MalformedYaml {
            at,
            message: "a mapping key is empty (null)".to_owned(),
            hint: Some("give the key a name, or quote it if `~` or `null` is the name".to_owned()),
        },
        serde_saphyr::Error::Unexpected { expected, .. } if *expected == "string scalar" => {
            InventoryError::MalformedYaml {
                at,
                message: "a mapping key must be a name, not a list or a mapping".to_owned(),
                hint: None,
            }
        }
        serde_saphyr::Error::MultipleDocuments { .. } => InventoryError::MalformedYaml {
            at,
            message: "the file holds more than one YAML document".to_owned(),
            hint: Some("remove the `---` line: an inventory is one document".to_owned()),
        },
        other => InventoryError::MalformedYaml {
            at,
            message: without_control_characters(&DefaultMessageFormatter.format_message(other)),
            hint: None,
        },
    }
}

/// The formatter may quote file content, whose control characters would garble a terminal.
fn without_control_characters(message: &str) -> String {
    let mut clean = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            clean.extend(c.escape_default());
        } else {
            clean.push(c);
        }
    }
    clean
}

/// serde-saphyr wraps errors met while replaying an alias, and errors with a source snippet.
fn innermost(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut current = err.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = current {
        current = error.without_snippet();
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Spanned<Node>, InventoryError> {
        read_document(text, Path::new("inv.yaml"))
    }

    fn position(err: &InventoryError) -> (Option<u64>, Option<u64>) {
        let at = err.location().expect("the error has a location");
        (at.line(), at.column())
    }

    #[test]
    fn keeps_mapping_order_and_positions() {
        let root = read("b: 1\na:\n  x: [1, two]\n").expect("valid YAML");
        let Node::Mapping(entries) = &root.value else {
            panic!("expected a mapping, got {root:?}");
        };
        let keys: Vec<_> = entries.iter().map(|(key, _)| key.value.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        let (key, value) = &entries[1];
        assert_eq!((key.referenced.line(), key.referenced.column()), (2, 1));
        assert_eq!((value.defined.line(), value.defined.column()), (3, 3));
    }

    #[test]
    fn converts_values_to_json() {
        let root = read("a: [1, -2, 1.5, true, ~, text, {k: v}]\n").expect("valid YAML");
        assert_eq!(
            root.value.to_json(),
            serde_json::json!({"a": [1, -2, 1.5, true, null, "text", {"k": "v"}]})
        );
    }

    #[test]
    fn leading_zero_numbers_stay_strings() {
        let root = read("mode: 0755\n").expect("valid YAML");
        assert_eq!(root.value.to_json(), serde_json::json!({"mode": "0755"}));
    }

    #[test]
    fn infinity_becomes_a_string() {
        let root = read("x: .inf\n").expect("valid YAML");
        assert_eq!(root.value.to_json(), serde_json::json!({"x": ".inf"}));
    }

    #[test]
    fn empty_file_is_null() {
        assert_eq!(read("").expect("empty is valid").value, Node::Null);
        assert_eq!(read("# only a comment\n").expect("valid").value, Node::Null);
    }

    #[test]
    fn duplicate_key_is_reported_at_the_second_occurrence() {
        let err = read("all:\n  hosts:\n    h1:\n    h1:\n").expect_err("duplicate key");
        assert!(matches!(&err, InventoryError::DuplicateKey { key, .. } if key == "h1"));
        assert_eq!(position(&err), (Some(4), Some(5)));
        assert_eq!(err.to_string(), "inv.yaml:4:5: duplicate key `h1`");
    }

    #[test]
    fn unclosed_bracket_is_malformed_yaml_with_position() {
        let err = read("all:\n  hosts: [a\n").expect_err("malformed");
        assert!(matches!(err, InventoryError::MalformedYaml { .. }));
        assert_eq!(position(&err), (Some(2), Some(10)));
        assert_eq!(err.to_string(), "inv.yaml:2:10: unclosed bracket '['");
    }

    #[test]
    fn tab_indentation_is_malformed_yaml() {
        let err = read("all:\n\thosts:\n").expect_err("tabs");
        assert!(matches!(err, InventoryError::MalformedYaml { .. }));
        assert_eq!(position(&err).0, Some(2));
    }

    #[test]
    fn null_key_is_malformed_yaml_with_a_hint() {
        let err = read("all:\n  hosts:\n    ~:\n").expect_err("null key");
        assert_eq!(
            err.to_string(),
            "inv.yaml:3:5: a mapping key is empty (null)"
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn list_as_key_is_malformed_yaml() {
        let err = read("? [a, b]\n: 1\n").expect_err("complex key");
        assert_eq!(
            err.to_string(),
            "inv.yaml:1:3: a mapping key must be a name, not a list or a mapping"
        );
    }

    #[test]
    fn second_document_is_rejected() {
        let err = read("all: {}\n---\nall: {}\n").expect_err("two documents");
        assert_eq!(
            err.to_string(),
            "inv.yaml:3:1: the file holds more than one YAML document"
        );
    }

    #[test]
    fn unknown_anchor_is_malformed_yaml() {
        let err = read("all:\n  vars: *common\n").expect_err("unknown anchor");
        assert_eq!(position(&err), (Some(2), Some(9)));
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        assert_eq!(
            without_control_characters("bad \u{1b}[31m 'x'"),
            "bad \\u{1b}[31m 'x'"
        );
    }

    #[test]
    fn yaml_path_joins_keys() {
        let path = YamlPath::default().child("all").child("hosts").child("h1");
        assert_eq!(path.to_string(), "all > hosts > h1");
    }
}
