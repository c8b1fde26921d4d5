//! What a host or group name may be: one word that `--limit` can name, and not one of Ansible's
//! host patterns, which fleetrmi does not expand.

use super::error::{InventoryError, SourceLocation};

/// Names are single words: `--limit` separates names with commas, and a name with a space is
/// almost always a mistake in indentation or quoting.
pub(crate) fn check_name(
    kind: &'static str,
    name: &str,
    at: &SourceLocation,
) -> Result<(), InventoryError> {
    let reason = if name.is_empty() {
        "is empty"
    } else if name.contains(|c: char| c.is_whitespace() || c == ',') {
        "contains a space or a comma"
    } else {
        return Ok(());
    };
    Err(InventoryError::InvalidName {
        at: at.clone(),
        kind,
        name: name.to_owned(),
        reason,
        hint: Some(format!("a {kind} name is one word without commas")),
    })
}

/// Host names also may not use Ansible's host patterns, which fleetrmi does not expand.
pub(crate) fn check_host_name(name: &str, at: &SourceLocation) -> Result<(), InventoryError> {
    check_name("host", name, at)?;
    let invalid = |reason: &'static str, hint: String| InventoryError::InvalidName {
        at: at.clone(),
        kind: "host",
        name: name.to_owned(),
        reason,
        hint: Some(hint),
    };
    if is_host_range(name) {
        return Err(invalid(
            "is a host range, which fleetrmi does not expand yet",
            "list the hosts one by one".to_owned(),
        ));
    }
    match name.split_once(':') {
        Some((host, port))
            if !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Err(invalid(
                "ends in a port number",
                format!("write `{host}:` and set `ansible_port: {port}` under it"),
            ))
        }
        _ => Ok(()),
    }
}

/// Ansible's `web[01:10]` and `db-[a:f]` (with an optional `:step`).
fn is_host_range(name: &str) -> bool {
    let Some((_, rest)) = name.split_once('[') else {
        return false;
    };
    let Some((inner, _)) = rest.split_once(']') else {
        return false;
    };
    let parts: Vec<&str> = inner.split(':').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn at() -> SourceLocation {
        SourceLocation::new(Path::new("inv.yaml"), 2, 5, String::new())
    }

    #[test]
    fn ordinary_names_are_accepted() {
        for name in [
            "web1",
            "build-x86-01",
            "10.0.0.5",
            "db.lab.example",
            "fd00::1",
        ] {
            assert!(check_host_name(name, &at()).is_ok(), "{name}");
        }
        assert!(check_name("group", "x86_64", &at()).is_ok());
    }

    #[test]
    fn empty_name_is_rejected() {
        let err = check_name("group", "", &at()).expect_err("empty");
        assert_eq!(err.to_string(), r#"inv.yaml:2:5: group name "" is empty"#);
    }

    #[test]
    fn name_with_a_comma_is_rejected() {
        let err = check_name("group", "web,db", &at()).expect_err("comma");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:2:5: group name "web,db" contains a space or a comma"#
        );
    }

    #[test]
    fn range_detection_needs_two_or_three_parts() {
        assert!(is_host_range("web[1:9]"));
        assert!(is_host_range("db-[a:f:2].lab"));
        assert!(!is_host_range("[fd00::1]"));
        assert!(!is_host_range("web[1]"));
    }
}
