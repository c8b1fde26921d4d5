//! OpenSSH's wildcard patterns (`*`, `?`, `!negation`), shared by `ssh_config` Host lines and
//! `known_hosts` host fields so that both match exactly as OpenSSH's `match_pattern_list` does.

/// Whether `text` matches `pattern`, where `*` matches any run of characters (even none) and
/// `?` exactly one; every other character stands for itself. Case-sensitive: callers lowercase
/// host names first, as OpenSSH does.
pub(crate) fn wildcard_match(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Iterative matching with backtracking to the last `*`: linear in practice, never recursive.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                t += 1;
                p += 1;
            }
            Some(&c) if c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// What a list of patterns says about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMatch {
    /// Some positive pattern matched and no negated one did.
    Matched,
    /// A negated pattern (`!pattern`) matched: the list rejects the name whatever else matches.
    Negated,
    /// No pattern matched.
    NoMatch,
}

/// Matches `name` against every pattern of a list, OpenSSH-style: a matching negated pattern
/// wins over any positive one. Host names are compared in lower case.
pub(crate) fn match_host_list<'a>(
    name: &str,
    patterns: impl IntoIterator<Item = &'a str>,
) -> ListMatch {
    let name = name.to_lowercase();
    let mut result = ListMatch::NoMatch;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        if wildcard_match(&name, &pattern.to_lowercase()) {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Matched;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(wildcard_match("web01.example.com", "*.example.com"));
        assert!(wildcard_match("a", "*a*"));
        assert!(wildcard_match("", "*"));
        assert!(!wildcard_match("example.com", "*.example.com"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(wildcard_match("web1", "web?"));
        assert!(!wildcard_match("web10", "web?"));
        assert!(!wildcard_match("web", "web?"));
    }

    #[test]
    fn brackets_are_literal_so_host_port_patterns_work() {
        assert!(wildcard_match("[127.0.1.5]:2222", "[127.0.1.*]:2222"));
        assert!(!wildcard_match("[127.0.1.5]:2200", "[127.0.1.*]:2222"));
    }

    #[test]
    fn backtracking_finds_a_later_match() {
        assert!(wildcard_match("aXbXc", "a*b*c"));
        assert!(wildcard_match("abcabd", "*abd"));
        assert!(!wildcard_match("abcabe", "*abd"));
    }

    #[test]
    fn negated_pattern_wins_over_a_positive_one() {
        let list = ["*.example.com", "!bastion.example.com"];
        assert_eq!(match_host_list("web.example.com", list), ListMatch::Matched);
        assert_eq!(
            match_host_list("bastion.example.com", list),
            ListMatch::Negated
        );
        assert_eq!(match_host_list("other.org", list), ListMatch::NoMatch);
    }

    #[test]
    fn negation_alone_matches_nothing() {
        assert_eq!(match_host_list("web", ["!db"]), ListMatch::NoMatch);
    }

    #[test]
    fn host_names_match_case_insensitively() {
        assert_eq!(match_host_list("WEB01", ["web*"]), ListMatch::Matched);
        assert_eq!(match_host_list("web01", ["WEB*"]), ListMatch::Matched);
    }
}
