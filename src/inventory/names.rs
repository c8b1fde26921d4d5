//! What a host or group name may be: one word that `--limit` can name.

use super::error::{InventoryError, SourceLocation};

/// Names are single words: `--limit` separates patterns with commas, and a name with a space is
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
            assert!(check_name("host", name, &at()).is_ok(), "{name}");
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
}
