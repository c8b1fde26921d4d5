//! The connection variables fleetrmi reads, under the names Ansible's SSH connection reads
//! (and fleetrmi's own `docker_socket`), and the checks on their values.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{InventoryError, SourceLocation};

/// One connection setting. Variables keep the name they were written with; a setting takes the
/// first of its names (`Setting::names`) that the host's merged variables hold, whatever level
/// set each, as Ansible's connection does: `ansible_ssh_user` in `group_vars/all` wins over a
/// host's own `ansible_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    Address,
    Port,
    User,
    IdentityFile,
    DockerSocket,
}

impl Setting {
    pub(crate) const ALL: [Setting; 5] = [
        Setting::Address,
        Setting::Port,
        Setting::User,
        Setting::IdentityFile,
        Setting::DockerSocket,
    ];

    /// The name the setting is shown under when no variable sets it.
    pub(crate) fn canonical(self) -> &'static str {
        match self {
            Setting::Address => "ansible_host",
            Setting::Port => "ansible_port",
            Setting::User => "ansible_user",
            Setting::IdentityFile => "ansible_ssh_private_key_file",
            Setting::DockerSocket => "docker_socket",
        }
    }

    /// Every variable name of the setting, the one that wins first (Ansible's
    /// `MAGIC_VARIABLE_MAPPING` order: the older `ansible_ssh_*` names before the newer ones).
    pub(crate) fn names(self) -> &'static [&'static str] {
        match self {
            Setting::Address => &["ansible_ssh_host", "ansible_host"],
            Setting::Port => &["ansible_ssh_port", "ansible_port"],
            Setting::User => &["ansible_ssh_user", "ansible_user"],
            Setting::IdentityFile => &["ansible_ssh_private_key_file", "ansible_private_key_file"],
            Setting::DockerSocket => &["docker_socket"],
        }
    }

    /// The setting a variable name stands for, if any.
    pub(crate) fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL
            .into_iter()
            .find(|setting| setting.names().contains(&name))
    }

    /// The Ansible variable to use instead of a short name that earlier fleetrmi versions read
    /// as a connection setting (`port`, `user`, ...), which Ansible leaves to roles.
    pub(crate) fn replacing_short_name(name: &str) -> Option<Setting> {
        match name {
            "address" => Some(Setting::Address),
            "port" => Some(Setting::Port),
            "user" => Some(Setting::User),
            "identity_file" => Some(Setting::IdentityFile),
            _ => None,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Setting::Address => "a host name or IP address",
            Setting::Port => "an integer from 1 to 65535",
            Setting::User => "a user name",
            Setting::IdentityFile => "a path to a private key file",
            Setting::DockerSocket => "an absolute path to the Docker socket",
        }
    }
}

/// A checked connection setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SettingValue {
    Address(String),
    Port(u16),
    User(String),
    IdentityFile(PathBuf),
    DockerSocket(String),
}

/// Checks the value of a connection variable. `name` is the variable as written in the file,
/// for the message; `home` expands a leading `~/` in the identity file.
pub(crate) fn check_setting(
    setting: Setting,
    name: &str,
    value: &Value,
    at: SourceLocation,
    home: Option<&Path>,
) -> Result<SettingValue, InventoryError> {
    let invalid = |found: String, hint: Option<String>| InventoryError::InvalidVariable {
        at: at.clone(),
        name: name.to_owned(),
        expected: setting.expected(),
        found,
        hint,
    };
    match value {
        Value::Null => {
            return Err(invalid(
                "nothing (null)".to_owned(),
                Some("remove the line to use the default".to_owned()),
            ));
        }
        Value::String(text) if text.starts_with("$ANSIBLE_VAULT;") => {
            return Err(invalid(
                "an Ansible Vault-encrypted value".to_owned(),
                Some("fleetrmi cannot decrypt vault values: write this one in clear".to_owned()),
            ));
        }
        _ => {}
    }
    let checked = match setting {
        Setting::Address => single_word(value).map(|word| SettingValue::Address(word.to_owned())),
        Setting::Port => port(value).map(SettingValue::Port),
        Setting::User => single_word(value).map(|word| SettingValue::User(word.to_owned())),
        Setting::IdentityFile => {
            return identity_file(value, home).map_err(|hint| invalid(describe(value), hint));
        }
        Setting::DockerSocket => {
            docker_socket(value).map(|path| SettingValue::DockerSocket(path.to_owned()))
        }
    };
    checked.ok_or_else(|| {
        let hint = match (setting, value) {
            (Setting::DockerSocket, Value::String(text)) => docker_socket_hint(text),
            (Setting::Address | Setting::User, Value::Number(_) | Value::Bool(_)) => {
                Some(format!("quote it: {name}: \"{value}\""))
            }
            _ => None,
        };
        invalid(describe(value), hint)
    })
}

/// A non-empty string without spaces: what a host name, an address or a user name must be.
fn single_word(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) if !text.is_empty() && !text.chars().any(char::is_whitespace) => {
            Some(text)
        }
        _ => None,
    }
}

/// An integer, or a string of digits as Ansible also accepts (`ansible_port: "2222"`).
fn port(value: &Value) -> Option<u16> {
    let number = match value {
        Value::Number(number) => u16::try_from(number.as_u64()?).ok()?,
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u16>().ok()?
        }
        _ => return None,
    };
    (number != 0).then_some(number)
}

/// A path, with a leading `~/` replaced by the home directory. The error is the hint to show.
fn identity_file(value: &Value, home: Option<&Path>) -> Result<SettingValue, Option<String>> {
    let Value::String(text) = value else {
        return Err(None);
    };
    if text.trim().is_empty() {
        return Err(None);
    }
    if let Some(rest) = text.strip_prefix("~/") {
        return match home {
            Some(home) => Ok(SettingValue::IdentityFile(home.join(rest))),
            None => Err(Some(
                "HOME is not set, so `~/` cannot be expanded: write the full path".to_owned(),
            )),
        };
    }
    if text.starts_with('~') {
        return Err(Some(
            "only a leading `~/` (your own home) is expanded: write the full path".to_owned(),
        ));
    }
    Ok(SettingValue::IdentityFile(PathBuf::from(text)))
}

fn docker_socket(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) if text.starts_with('/') && !text.contains(char::is_whitespace) => {
            Some(text)
        }
        _ => None,
    }
}

fn docker_socket_hint(text: &str) -> Option<String> {
    if let Some(path) = text.strip_prefix("unix://") {
        Some(format!("drop the `unix://` prefix: docker_socket: {path}"))
    } else if !text.starts_with('/') {
        Some("give the path from the root, e.g. /run/user/1000/docker.sock".to_owned())
    } else {
        None
    }
}

/// A value as the "found …" part of a message: scalars as written (strings quoted, long ones
/// cut), collections by kind.
pub(crate) fn describe(value: &Value) -> String {
    const LONGEST: usize = 40;
    match value {
        Value::Null => "nothing (null)".to_owned(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::String(text) if text.chars().count() > LONGEST => {
            let start: String = text.chars().take(LONGEST).collect();
            format!("{:?}", format!("{start}…"))
        }
        Value::String(text) => format!("{text:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at() -> SourceLocation {
        SourceLocation::new(Path::new("inv.yaml"), 3, 7, String::new())
    }

    fn check(name: &str, value: Value) -> Result<SettingValue, InventoryError> {
        let setting = Setting::from_name(name).expect("a connection variable");
        check_setting(setting, name, &value, at(), Some(Path::new("/home/ci")))
    }

    #[test]
    fn ansible_names_name_the_setting_and_short_names_do_not() {
        assert_eq!(Setting::from_name("ansible_host"), Some(Setting::Address));
        assert_eq!(
            Setting::from_name("ansible_ssh_host"),
            Some(Setting::Address)
        );
        assert_eq!(Setting::from_name("ansible_ssh_port"), Some(Setting::Port));
        assert_eq!(
            Setting::from_name("ansible_private_key_file"),
            Some(Setting::IdentityFile)
        );
        assert_eq!(
            Setting::from_name("docker_socket"),
            Some(Setting::DockerSocket)
        );
        for short in ["address", "port", "user", "identity_file"] {
            assert_eq!(Setting::from_name(short), None, "{short}");
            assert!(Setting::replacing_short_name(short).is_some(), "{short}");
        }
        assert_eq!(Setting::from_name("ansible_become"), None);
    }

    #[test]
    fn older_ssh_names_come_first() {
        for setting in Setting::ALL {
            assert!(setting.names().contains(&setting.canonical()));
        }
        assert_eq!(Setting::User.names()[0], "ansible_ssh_user");
    }

    #[test]
    fn port_accepts_integer_and_numeric_string() {
        assert_eq!(
            check("ansible_port", json!(2222)).ok(),
            Some(SettingValue::Port(2222))
        );
        assert_eq!(
            check("ansible_ssh_port", json!("2222")).ok(),
            Some(SettingValue::Port(2222))
        );
    }

    #[test]
    fn port_rejects_words_zero_range_and_fractions() {
        for value in [
            json!("abc"),
            json!(0),
            json!(65536),
            json!(-1),
            json!(22.5),
            json!(" 22"),
            json!(true),
        ] {
            let err = check("ansible_port", value.clone()).expect_err("invalid port");
            assert!(
                err.to_string().starts_with(
                    "inv.yaml:3:7: ansible_port must be an integer from 1 to 65535, found "
                ),
                "{value}: {err}"
            );
        }
    }

    #[test]
    fn port_error_quotes_a_string_value() {
        let err = check("ansible_port", json!("abc")).expect_err("invalid port");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:7: ansible_port must be an integer from 1 to 65535, found "abc""#
        );
    }

    #[test]
    fn error_names_the_variable_as_written() {
        let err = check("ansible_ssh_port", json!("ssh")).expect_err("invalid port");
        assert!(
            err.to_string().contains(": ansible_ssh_port must be"),
            "{err}"
        );
    }

    #[test]
    fn null_value_is_rejected_with_hint_to_remove_it() {
        let err = check("ansible_user", Value::Null).expect_err("null user");
        assert_eq!(
            err.to_string(),
            "inv.yaml:3:7: ansible_user must be a user name, found nothing (null)"
        );
        assert_eq!(err.hint(), Some("remove the line to use the default"));
    }

    #[test]
    fn numeric_user_is_rejected_with_hint_to_quote_it() {
        let err = check("ansible_user", json!(1000)).expect_err("numeric user");
        assert_eq!(err.hint(), Some("quote it: ansible_user: \"1000\""));
    }

    #[test]
    fn address_with_space_is_rejected() {
        assert!(check("ansible_host", json!("10.0.0.1 10.0.0.2")).is_err());
        assert!(check("ansible_host", json!("")).is_err());
        assert_eq!(
            check("ansible_ssh_host", json!("10.0.0.1")).ok(),
            Some(SettingValue::Address("10.0.0.1".into()))
        );
    }

    #[test]
    fn identity_file_expands_leading_tilde_slash() {
        assert_eq!(
            check("ansible_private_key_file", json!("~/.ssh/id_ed25519")).ok(),
            Some(SettingValue::IdentityFile(
                "/home/ci/.ssh/id_ed25519".into()
            ))
        );
    }

    #[test]
    fn identity_file_keeps_absolute_and_relative_paths() {
        assert_eq!(
            check("ansible_ssh_private_key_file", json!("/etc/keys/id")).ok(),
            Some(SettingValue::IdentityFile("/etc/keys/id".into()))
        );
        assert_eq!(
            check("ansible_private_key_file", json!("keys/id")).ok(),
            Some(SettingValue::IdentityFile("keys/id".into()))
        );
    }

    #[test]
    fn identity_file_of_another_user_is_rejected() {
        let err = check("ansible_private_key_file", json!("~bob/.ssh/id")).expect_err("~user");
        assert!(
            err.hint()
                .is_some_and(|hint| hint.contains("write the full path"))
        );
    }

    #[test]
    fn identity_file_with_tilde_and_no_home_is_rejected() {
        let err = check_setting(
            Setting::IdentityFile,
            "ansible_private_key_file",
            &json!("~/.ssh/id"),
            at(),
            None,
        )
        .expect_err("no HOME");
        assert!(
            err.hint()
                .is_some_and(|hint| hint.contains("HOME is not set"))
        );
    }

    #[test]
    fn docker_socket_must_be_absolute() {
        assert_eq!(
            check("docker_socket", json!("/run/user/1000/docker.sock")).ok(),
            Some(SettingValue::DockerSocket(
                "/run/user/1000/docker.sock".into()
            ))
        );
        let err = check("docker_socket", json!("docker.sock")).expect_err("relative");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:3:7: docker_socket must be an absolute path to the Docker socket, found "docker.sock""#
        );
    }

    #[test]
    fn docker_socket_with_unix_scheme_gets_a_hint() {
        let err = check("docker_socket", json!("unix:///var/run/docker.sock")).expect_err("scheme");
        assert_eq!(
            err.hint(),
            Some("drop the `unix://` prefix: docker_socket: /var/run/docker.sock")
        );
    }

    #[test]
    fn vault_encrypted_value_is_rejected() {
        let err =
            check("ansible_user", json!("$ANSIBLE_VAULT;1.1;AES256\n6162\n")).expect_err("vault");
        assert!(
            err.to_string()
                .ends_with("found an Ansible Vault-encrypted value"),
            "{err}"
        );
    }

    #[test]
    fn describe_cuts_long_strings() {
        let long = "x".repeat(50);
        assert_eq!(describe(&json!(long)), format!("\"{}…\"", "x".repeat(40)));
        assert_eq!(describe(&json!([1])), "a list");
    }
}
