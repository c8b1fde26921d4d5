//! The syntax of the glob patterns the engine's `reference` filter takes (Go's `path.Match`).
//!
//! The engine does the matching; fleetrmi only checks the syntax, so that a malformed pattern is
//! bad input (exit 2) instead of a 500 "syntax error in pattern" from every host.

/// Checks `pattern` against `path.Match`'s grammar: `*`, `?`, `\c`, and non-empty character
/// classes `[...]`/`[^...]` of characters and `lo-hi` ranges. `Err` says what is wrong.
pub(crate) fn check_glob(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // The guard consumes the escaped character; when there is one, the `_` arm takes over.
            '\\' if chars.next().is_none() => {
                return Err("it ends with a lone backslash".to_string());
            }
            '[' => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                let mut ranges = 0;
                loop {
                    if chars.peek() == Some(&']') && ranges > 0 {
                        chars.next();
                        break;
                    }
                    class_char(&mut chars)?;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        class_char(&mut chars)?;
                    }
                    ranges += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// One character of a class, possibly escaped; what follows it must exist (at least the `]`).
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<(), String> {
    match chars.next() {
        None => return Err("a [ is never closed".to_string()),
        Some(']') => return Err("a character class is empty".to_string()),
        Some('-') => return Err("a range in [...] lacks its first character".to_string()),
        // As above: the guard consumes the escaped character.
        Some('\\') if chars.next().is_none() => return Err("a [ is never closed".to_string()),
        Some(_) => {}
    }
    if chars.peek().is_none() {
        return Err("a [ is never closed".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_glob;

    #[test]
    fn plain_names_stars_and_questions_are_fine() {
        for pattern in ["app", "app:*", "*/team/*", "a?p:1", "registry:5000/x:*", ""] {
            assert_eq!(check_glob(pattern), Ok(()), "{pattern}");
        }
    }

    #[test]
    fn classes_and_ranges_are_fine() {
        for pattern in [
            "app:[0-9]",
            "[^a]pp",
            "[!a]pp",
            "[\\]]",
            "x[a\\-z]",
            "ap[p]:*",
        ] {
            assert_eq!(check_glob(pattern), Ok(()), "{pattern}");
        }
    }

    #[test]
    fn escaped_characters_are_literal() {
        assert_eq!(check_glob("app\\*"), Ok(()));
        assert_eq!(check_glob("\\["), Ok(()));
    }

    #[test]
    fn unclosed_class_is_rejected() {
        assert!(check_glob("[").is_err());
        assert!(check_glob("app:[0-9").is_err());
        assert!(check_glob("app:[0-").is_err());
    }

    #[test]
    fn empty_class_and_dangling_range_are_rejected() {
        assert!(check_glob("[]").is_err());
        assert!(check_glob("[^]").is_err());
        assert!(check_glob("[]a]").is_err());
        assert!(check_glob("[a-]").is_err());
        assert!(check_glob("[-a]").is_err());
        assert!(check_glob("[a-c-]x").is_err());
    }

    #[test]
    fn trailing_backslash_is_rejected() {
        assert!(check_glob("app\\").is_err());
        assert!(check_glob("[\\").is_err());
    }
}
