//! Glob patterns over image references (`ci/*:pr-*`, `base`, `registry.example.com/**`), for
//! `--match` and `--keep`.
//!
//! As in the engine's `reference` filter, `*` matches any run of characters except `/`, so
//! `ci/*` covers `ci/app` but not `ci/team/app`; `**` also crosses `/`, and `?` is one character
//! other than `/`. A pattern with a `:` after its last `/` is matched against `name:tag`; one
//! without is matched against the repository name alone, whatever the tag. Names are tried in
//! their familiar form (`app`, `team/app`) and their full form (`docker.io/library/app`).

use std::fmt;
use std::str::FromStr;

use crate::reference::Reference;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePattern {
    text: String,
    /// The pattern names a tag (`name:tag`), not only a repository.
    with_tag: bool,
}

impl ImagePattern {
    /// True when the reference matches. Digest references have no tag, so only patterns without
    /// a tag can match them (by their repository).
    pub fn matches(&self, reference: &Reference) -> bool {
        let names = [reference.familiar_name(), reference.name()];
        match (self.with_tag, reference.tag()) {
            (true, Some(tag)) => names
                .iter()
                .any(|name| glob_matches(&self.text, &format!("{name}:{tag}"))),
            (true, None) => false,
            (false, _) => names.iter().any(|name| glob_matches(&self.text, name)),
        }
    }

    /// True when any of the references matches.
    pub fn matches_any(&self, references: &[Reference]) -> bool {
        references.iter().any(|reference| self.matches(reference))
    }
}

impl FromStr for ImagePattern {
    type Err = String;

    fn from_str(text: &str) -> Result<ImagePattern, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an image pattern cannot be empty".to_owned());
        }
        if text.contains('@') || text.chars().any(char::is_whitespace) {
            return Err(format!(
                "invalid image pattern {text:?}: write REPOSITORY or REPOSITORY:TAG globs \
                 (e.g. ci/*:pr-*), without digests or spaces"
            ));
        }
        let last_part = text.rsplit('/').next().unwrap_or(text);
        Ok(ImagePattern {
            text: text.to_owned(),
            with_tag: last_part.contains(':'),
        })
    }
}

impl fmt::Display for ImagePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Glob matching with `*` (not across `/`), `**` (across `/`) and `?`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    matches_from(&pattern, &text)
}

fn matches_from(pattern: &[char], text: &[char]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some('*') => {
            let crosses_slash = pattern.get(1) == Some(&'*');
            let rest = if crosses_slash {
                &pattern[2..]
            } else {
                &pattern[1..]
            };
            // Try every length the star could take, shortest first.
            for taken in 0..=text.len() {
                if matches_from(rest, &text[taken..]) {
                    return true;
                }
                if taken < text.len() && !crosses_slash && text[taken] == '/' {
                    return false;
                }
            }
            false
        }
        Some('?') => !text.is_empty() && text[0] != '/' && matches_from(&pattern[1..], &text[1..]),
        Some(&literal) => {
            !text.is_empty() && text[0] == literal && matches_from(&pattern[1..], &text[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> ImagePattern {
        text.parse().expect("valid pattern")
    }

    fn reference(text: &str) -> Reference {
        Reference::parse(text).expect("valid reference")
    }

    #[test]
    fn repository_and_tag_globs() {
        let pr = pattern("ci/*:pr-*");
        assert!(pr.matches(&reference("ci/app:pr-1234")));
        assert!(!pr.matches(&reference("ci/app:main")));
        assert!(!pr.matches(&reference("ci/team/app:pr-1")));
        assert!(!pr.matches(&reference("other/app:pr-1")));
    }

    #[test]
    fn a_pattern_without_tag_matches_the_repository_whatever_the_tag() {
        assert!(pattern("app").matches(&reference("app:3")));
        assert!(pattern("app").matches(&reference("app")));
        assert!(!pattern("app").matches(&reference("apple:1")));
        assert!(pattern("app*").matches(&reference("apple:1")));
    }

    #[test]
    fn star_stops_at_slashes_and_double_star_crosses_them() {
        assert!(!pattern("*").matches(&reference("other/multi:1")));
        assert!(pattern("*").matches(&reference("multi:1")));
        assert!(pattern("**").matches(&reference("other/multi:1")));
        assert!(
            pattern("registry.example.com:5000/**")
                .matches(&reference("registry.example.com:5000/team/app:1"))
        );
    }

    #[test]
    fn question_mark_is_one_character() {
        assert!(pattern("app:?").matches(&reference("app:3")));
        assert!(!pattern("app:?").matches(&reference("app:latest")));
    }

    #[test]
    fn full_names_match_too() {
        assert!(pattern("docker.io/library/app:*").matches(&reference("app:1")));
    }

    #[test]
    fn digest_references_match_only_repository_patterns() {
        let digest = format!("localhost:5055/dg@sha256:{}", "a".repeat(64));
        assert!(pattern("localhost:5055/dg").matches(&reference(&digest)));
        assert!(!pattern("localhost:5055/dg:*").matches(&reference(&digest)));
    }

    #[test]
    fn a_colon_in_the_registry_port_is_not_a_tag() {
        let registry = pattern("localhost:5055/*");
        assert!(registry.matches(&reference("localhost:5055/app:1")));
    }

    #[test]
    fn empty_and_digest_patterns_are_refused() {
        assert!("".parse::<ImagePattern>().is_err());
        assert!("app@sha256:*".parse::<ImagePattern>().is_err());
        assert!("a b".parse::<ImagePattern>().is_err());
    }
}
