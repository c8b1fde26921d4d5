//! `-e/--extra-vars`: variables from the command line, which win over every level of the
//! inventory for every host, read as Ansible reads them: `@FILE` (YAML or JSON), an inline
//! `{...}` YAML/JSON object, or `key=value` pairs (several per argument, shell-like quoting,
//! values kept as strings). Later arguments win; connection variables are checked like those in
//! a file.

use std::path::Path;

use serde_json::Value;

use super::connection::{Setting, check_setting};
use super::error::{InventoryError, SourceLocation};
use super::template::is_template;
use super::vars::{Var, VarLayer, VarScope, VarSource};
use super::vars_files::{read_vars_file, read_vars_text};

/// Reads every `-e` argument, in order: a later one wins over an earlier one.
pub(crate) fn read_extra_vars(
    arguments: &[String],
    home: Option<&Path>,
) -> Result<VarLayer, InventoryError> {
    let mut layer = VarLayer::default();
    for argument in arguments {
        layer.overlay(&read_one(argument, home)?);
    }
    Ok(layer)
}

fn read_one(argument: &str, home: Option<&Path>) -> Result<VarLayer, InventoryError> {
    let invalid = |reason: &str, hint: &str| InventoryError::InvalidExtraVar {
        argument: argument.to_owned(),
        reason: reason.to_owned(),
        hint: Some(hint.to_owned()),
    };
    if let Some(file) = argument.strip_prefix('@') {
        return read_vars_file(Path::new(file), &VarScope::ExtraVars, home);
    }
    match argument.chars().next() {
        None => Ok(VarLayer::default()),
        Some('/' | '.') => Err(invalid(
            "looks like a file name",
            &format!("to read variables from a file, write -e @{argument}"),
        )),
        Some('{') => read_vars_text(
            argument,
            Path::new(&format!("-e {argument}")),
            &VarScope::ExtraVars,
            home,
        ),
        Some('[') => Err(invalid(
            "is a list",
            "give variables as KEY=VALUE, a {\"key\": \"value\"} object or @FILE",
        )),
        Some(_) => read_pairs(argument, home),
    }
}

/// `key=value key2="quoted value"`, as Ansible's `parse_kv` reads them.
fn read_pairs(argument: &str, home: Option<&Path>) -> Result<VarLayer, InventoryError> {
    let invalid = |reason: String, hint: &str| InventoryError::InvalidExtraVar {
        argument: argument.to_owned(),
        reason,
        hint: Some(hint.to_owned()),
    };
    let words = split_keeping_quotes(argument)
        .map_err(|reason| invalid(reason, "close every quote you open"))?;
    let mut layer = VarLayer::default();
    for word in words {
        let word = decode_escapes(&word);
        let Some((name, text)) = split_at_unescaped_equals(&word) else {
            return Err(invalid(
                format!("{word:?} is not KEY=VALUE"),
                "write variables as KEY=VALUE, e.g. -e 'ansible_user=deploy docker_socket=/run/docker.sock'",
            ));
        };
        let name = name.trim();
        if !is_variable_name(name) {
            return Err(invalid(
                format!("{name:?} is not a variable name"),
                "a variable name is letters, digits and `_`, not starting with a digit",
            ));
        }
        let value = Value::String(unquote(text.trim()).to_owned());
        let at = SourceLocation::argument(&format!("-e {argument}"));
        if let Some(setting) = Setting::from_name(name)
            && !is_template(&value)
        {
            check_setting(setting, name, &value, at.clone(), home)?;
        }
        let source = VarSource {
            scope: VarScope::ExtraVars,
            at,
        };
        layer.insert(name, Var { value, source });
    }
    Ok(layer)
}

/// Splits on whitespace outside quotes, keeping the quotes in the words (Ansible's
/// `split_args`; `unquote` removes them from values afterwards).
fn split_keeping_quotes(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            (_, c) => current.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

/// The common backslash escapes Ansible decodes in `key=value` words.
fn decode_escapes(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            _ => {
                // Not an escape Ansible decodes (`\=` among them): kept as written.
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// The first `=` not preceded by a backslash, past the first character.
fn split_at_unescaped_equals(word: &str) -> Option<(&str, &str)> {
    let bytes = word.as_bytes();
    (1..bytes.len())
        .find(|&at| bytes[at] == b'=' && bytes[at - 1] != b'\\')
        .map(|at| (&word[..at], &word[at + 1..]))
}

/// A value between one pair of matching quotes, without them (Ansible's `unquote`).
fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            return &text[1..text.len() - 1];
        }
    }
    text
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(arguments: &[&str]) -> Result<VarLayer, InventoryError> {
        let arguments: Vec<String> = arguments.iter().map(|a| (*a).to_owned()).collect();
        read_extra_vars(&arguments, Some(Path::new("/home/ci")))
    }

    #[test]
    fn values_are_strings_and_later_wins() {
        let layer = read(&["team=infra", "count=3", "team=ops", "empty="]).expect("valid");
        assert_eq!(layer.values()["team"], json!("ops"));
        assert_eq!(layer.values()["count"], json!("3"));
        assert_eq!(layer.values()["empty"], json!(""));
    }

    #[test]
    fn several_pairs_in_one_argument() {
        let layer = read(&["ansible_user=release docker_socket=/run/release.sock"]).expect("valid");
        assert_eq!(layer.values()["ansible_user"], json!("release"));
        assert_eq!(layer.values()["docker_socket"], json!("/run/release.sock"));
    }

    #[test]
    fn quotes_around_a_value_are_removed() {
        let layer = read(&[
            r#"docker_socket="/run/user/1000/docker.sock""#,
            "note='two words' x=\"a b\"c",
        ])
        .expect("valid");
        assert_eq!(
            layer.values()["docker_socket"],
            json!("/run/user/1000/docker.sock")
        );
        assert_eq!(layer.values()["note"], json!("two words"));
        assert_eq!(layer.values()["x"], json!("\"a b\"c"));
    }

    #[test]
    fn value_may_contain_equals_signs() {
        let layer = read(&["opts=a=b"]).expect("valid");
        assert_eq!(layer.values()["opts"], json!("a=b"));
    }

    #[test]
    fn json_object_keeps_its_types() {
        let layer = read(&[r#"{"ansible_port": 2222, "tags": ["a"]}"#]).expect("valid");
        assert_eq!(layer.values()["ansible_port"], json!(2222));
        assert_eq!(layer.values()["tags"], json!(["a"]));
    }

    #[test]
    fn file_argument_is_read_as_yaml() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("vars.yml");
        std::fs::write(&file, "ansible_user: deploy\nretention: 3\n").expect("write");
        let layer = read(&[&format!("@{}", file.display()), "retention=5"]).expect("valid");
        assert_eq!(layer.values()["ansible_user"], json!("deploy"));
        assert_eq!(layer.values()["retention"], json!("5"));
        assert_eq!(
            layer.sources()["ansible_user"].to_string(),
            format!("{}:1:15", file.display())
        );
    }

    #[test]
    fn bare_file_name_asks_for_an_at_sign() {
        let err = read(&["./vars.yml"]).expect_err("file without @");
        assert!(
            err.hint()
                .is_some_and(|hint| hint.contains("-e @./vars.yml"))
        );
    }

    #[test]
    fn connection_variables_are_checked_under_the_name_given() {
        let layer = read(&["ansible_ssh_port=2222"]).expect("valid");
        assert_eq!(
            layer.sources()["ansible_ssh_port"].to_string(),
            "-e ansible_ssh_port=2222"
        );
        let err = read(&["ansible_port=ssh"]).expect_err("bad port");
        assert_eq!(
            err.to_string(),
            r#"-e ansible_port=ssh: ansible_port must be an integer from 1 to 65535, found "ssh""#
        );
    }

    #[test]
    fn word_without_equals_is_rejected() {
        let err = read(&["ansible_user"]).expect_err("no value");
        assert!(err.to_string().contains("is not KEY=VALUE"), "{err}");
        assert!(err.hint().is_some());
    }

    #[test]
    fn bad_variable_name_is_rejected() {
        assert!(read(&["1x=2"]).is_err());
        assert!(read(&["a-b=2"]).is_err());
        assert!(read(&["x='open"]).is_err());
    }
}
