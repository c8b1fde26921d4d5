//! Shell-style wildcards as Python's `fnmatch` reads them, which is how Ansible matches host and
//! group names in `--limit`: `*` any run of characters, `?` one character, `[abc]`, `[a-z]` and
//! `[!abc]` one character of (or not of) a set; a `[` without a closing `]` is itself. Matching is
//! case-sensitive and covers the whole name.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    AnyRun,
    Class {
        negated: bool,
        /// Inclusive ranges; a single character is a range of one.
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Literal(literal) => *literal == c,
            Token::AnyChar => true,
            Token::AnyRun => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated
            }
        }
    }
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun);
                    }
                }
                '?' => tokens.push(Token::AnyChar),
                '[' => match read_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => tokens.push(Token::Literal('[')),
                },
                other => tokens.push(Token::Literal(other)),
            }
        }
        Glob { tokens }
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0, 0);
        // Where the last `*` was, and where in the text it is currently made to end.
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                Some(token) if token.matches(text[t]) => {
                    t += 1;
                    p += 1;
                }
                _ => match backtrack {
                    Some((star, start)) => {
                        backtrack = Some((star, start + 1));
                        p = star + 1;
                        t = start + 1;
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|token| *token == Token::AnyRun)
    }
}

/// The set starting after a `[` at `start`: the token and the index after its `]`, or `None`
/// when there is no closing `]` (then the `[` is a literal). As in `fnmatch`, a `]` right after
/// `[` or `[!` belongs to the set.
fn read_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut j = start;
    let negated = chars.get(j) == Some(&'!');
    if negated {
        j += 1;
    }
    let first = j;
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while j < chars.len() && chars[j] != ']' {
        j += 1;
    }
    if j >= chars.len() {
        return None;
    }
    let members = &chars[first..j];
    let mut ranges = Vec::new();
    let mut k = 0;
    while k < members.len() {
        if k + 2 < members.len() && members[k + 1] == '-' {
            // A reversed range (`z-a`) matches nothing, as in fnmatch.
            if members[k] <= members[k + 2] {
                ranges.push((members[k], members[k + 2]));
            }
            k += 3;
        } else {
            ranges.push((members[k], members[k]));
            k += 1;
        }
    }
    Some((Token::Class { negated, ranges }, j + 1))
}

/// Whether a pattern uses any wildcard: Ansible also matches such a pattern (and any with a `.`)
/// against host names when it matched some group.
pub(crate) fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Glob::new(pattern).is_match(text)
    }

    #[test]
    fn literal_matches_only_itself() {
        assert!(matches("web1", "web1"));
        assert!(!matches("web1", "web10"));
        assert!(!matches("web1", "Web1"));
    }

    #[test]
    fn star_matches_any_run_even_empty() {
        assert!(matches("web*", "web"));
        assert!(matches("web*", "web01.example.com"));
        assert!(matches("*.example.com", "db.example.com"));
        assert!(matches("w*b*1", "wxxbyy1"));
        assert!(!matches("w*b*1", "wxxbyy2"));
        assert!(matches("*", ""));
    }

    #[test]
    fn question_mark_matches_one_character() {
        assert!(matches("web0?", "web01"));
        assert!(!matches("web0?", "web0"));
        assert!(!matches("web0?", "web012"));
    }

    #[test]
    fn sets_and_ranges() {
        assert!(matches("web[12]", "web1"));
        assert!(!matches("web[12]", "web3"));
        assert!(matches("db-[a-c]", "db-b"));
        assert!(!matches("db-[a-c]", "db-d"));
        assert!(matches("db-[!a-c]", "db-d"));
        assert!(!matches("db-[!a-c]", "db-a"));
        assert!(matches("x[-a]", "x-"));
        assert!(matches("x[]a]", "x]"));
    }

    #[test]
    fn unclosed_bracket_is_literal() {
        assert!(matches("web[1", "web[1"));
        assert!(!matches("web[1", "web1"));
    }

    #[test]
    fn reversed_range_matches_nothing() {
        assert!(!matches("x[z-a]", "xb"));
    }

    #[test]
    fn wildcard_detection() {
        assert!(has_wildcards("web*"));
        assert!(has_wildcards("w?b"));
        assert!(has_wildcards("w[12]"));
        assert!(!has_wildcards("web01"));
    }
}
