//! `-e/--extra-vars KEY=VALUE`: variables from the command line, which win over every level of
//! the inventory for every host (as Ansible's extra vars do). Values are strings, as Ansible's
//! `key=value` form gives them; connection variables are checked like those in a file.

use std::path::Path;

use serde_json::Value;

use super::connection::{Setting, check_setting};
use super::error::{InventoryError, SourceLocation};
use super::vars::{Var, VarLayer, VarScope, VarSource};

/// Reads every `-e` argument, in order: a later one wins over an earlier one.
pub(crate) fn read_extra_vars(
    arguments: &[String],
    home: Option<&Path>,
) -> Result<VarLayer, InventoryError> {
    let mut layer = VarLayer::default();
    for argument in arguments {
        let invalid = |reason, hint: &str| InventoryError::InvalidExtraVar {
            argument: argument.clone(),
            reason,
            hint: Some(hint.to_owned()),
        };
        let Some((name, text)) = argument.split_once('=') else {
            return Err(invalid(
                "is not KEY=VALUE",
                "write one variable per -e, e.g. -e ansible_user=deploy",
            ));
        };
        if !is_variable_name(name) {
            return Err(invalid(
                "does not start with a variable name",
                "a variable name is letters, digits and `_`, not starting with a digit",
            ));
        }
        let value = Value::String(text.to_owned());
        let at = SourceLocation::argument(&format!("-e {argument}"));
        let (stored, setting) = match Setting::from_name(name) {
            None => (name, None),
            Some(setting) => (
                setting.canonical(),
                Some(check_setting(setting, name, &value, at.clone(), home)?),
            ),
        };
        let source = VarSource {
            scope: VarScope::ExtraVars,
            at,
        };
        layer.insert(
            stored,
            Var {
                value,
                setting,
                source,
            },
        );
    }
    Ok(layer)
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

    use super::super::connection::SettingValue;
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
    fn value_may_contain_equals_signs() {
        let layer = read(&["opts=a=b"]).expect("valid");
        assert_eq!(layer.values()["opts"], json!("a=b"));
    }

    #[test]
    fn connection_variables_are_checked_and_stored_under_their_ansible_name() {
        let layer = read(&["port=2222", "identity_file=~/.ssh/k"]).expect("valid");
        assert_eq!(
            layer.setting(Setting::Port),
            Some(&SettingValue::Port(2222))
        );
        assert_eq!(
            layer.setting(Setting::IdentityFile),
            Some(&SettingValue::IdentityFile("/home/ci/.ssh/k".into()))
        );
        assert_eq!(layer.sources()["ansible_port"].to_string(), "-e port=2222");
    }

    #[test]
    fn bad_connection_value_names_the_argument() {
        let err = read(&["ansible_port=ssh"]).expect_err("bad port");
        assert_eq!(
            err.to_string(),
            r#"-e ansible_port=ssh: ansible_port must be an integer from 1 to 65535, found "ssh""#
        );
    }

    #[test]
    fn argument_without_equals_is_rejected() {
        let err = read(&["ansible_user"]).expect_err("no value");
        assert_eq!(err.to_string(), r#"-e "ansible_user": is not KEY=VALUE"#);
        assert!(err.hint().is_some());
    }

    #[test]
    fn bad_variable_name_is_rejected() {
        assert!(read(&["1x=2"]).is_err());
        assert!(read(&["=2"]).is_err());
        assert!(read(&["a b=2"]).is_err());
    }
}
