//! Keys under `hosts:` as Ansible reads them: a key may name many hosts with ranges
//! (`web[01:20].example.com`, `db-[a:f]`, `node[0:30:10]`) and may end in a port
//! (`web1:2222`, `[fd00::1]:2222`).
//!
//! This follows Ansible's YAML inventory plugin step by step: `parse_address` splits off a port
//! when the rest is a host name, an IPv4 or an IPv6 address (each possibly with ranges); a key it
//! does not understand is kept whole, without a port; then every `[begin:end(:step)]` is
//! expanded, left to right, inclusive, zero-padded when `begin` is written with leading zeros.

use std::net::Ipv6Addr;

/// The most host names one key may expand to: a typo such as `[0:1000000]` should fail fast
/// rather than fill memory.
pub(crate) const MAX_EXPANDED_HOSTS: usize = 100_000;

/// What a key under `hosts:` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostKey {
    /// The host names, in expansion order.
    pub(crate) names: Vec<String>,
    /// The port written after the name, if any (checked to be 1..=65535).
    pub(crate) port: Option<u16>,
}

/// Why a key cannot be read, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostKeyError {
    pub(crate) reason: String,
    pub(crate) hint: Option<String>,
}

impl HostKeyError {
    fn new(reason: impl Into<String>, hint: Option<&str>) -> HostKeyError {
        HostKeyError {
            reason: reason.into(),
            hint: hint.map(str::to_owned),
        }
    }
}

/// Reads one key under `hosts:`.
pub(crate) fn read_host_key(key: &str) -> Result<HostKey, HostKeyError> {
    let (pattern, port) = match parse_address(key) {
        Some((host, port)) => (host, port),
        None => (key.to_owned(), None),
    };
    let port = match port {
        None => None,
        Some(digits) => Some(check_port(&digits)?),
    };
    let mut names = Vec::new();
    if pattern.contains('[') {
        expand_ranges(&pattern, &mut names)?;
        if names.is_empty() {
            return Err(HostKeyError::new(
                "is a range that expands to no host",
                Some("a range is [begin:end] or [begin:end:step] with begin <= end"),
            ));
        }
    } else {
        names.push(pattern);
    }
    Ok(HostKey { names, port })
}

fn check_port(digits: &str) -> Result<u16, HostKeyError> {
    match digits.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(HostKeyError::new(
            format!("ends in port {digits}, which is not from 1 to 65535"),
            Some("a port after the name is 1 to 65535, e.g. web1:2222"),
        )),
    }
}

/// Ansible's `parse_address(key, allow_ranges=True)`: the host part and the port digits, or
/// `None` when the key is not a host name, IPv4 or IPv6 address (with an optional port).
pub(crate) fn parse_address(key: &str) -> Option<(String, Option<String>)> {
    let mut address = key;
    let mut port = None;
    // Both forms are tried in turn, as Ansible does: `[a:22]:33` ends as `a` with port 22.
    if let Some((inner, digits)) = bracketed_host_port(address) {
        address = inner;
        port = Some(digits);
    }
    if let Some((host, digits)) = host_port(address) {
        address = host;
        port = Some(digits);
    }
    (is_ipv4(address) || is_ipv6(address) || is_hostname(address))
        .then(|| (address.to_owned(), port.map(str::to_owned)))
}

/// `[anything]:digits`.
fn bracketed_host_port(text: &str) -> Option<(&str, &str)> {
    let (rest, digits) = split_trailing_digits(text)?;
    let inner = rest.strip_prefix('[')?.strip_suffix("]:")?;
    (!inner.is_empty()).then_some((inner, digits))
}

/// `host:digits`, where the host has no `:` outside complete `[...]` groups.
fn host_port(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b':' => break,
            b']' => return None,
            b'[' => {
                let close = text[i + 1..].find(']')?;
                i += close + 2;
            }
            _ => i += 1,
        }
    }
    let digits = text.get(i + 1..)?;
    (i < bytes.len() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some((&text[..i], digits))
}

fn split_trailing_digits(text: &str) -> Option<(&str, &str)> {
    let start = text.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    (start < text.len()).then(|| text.split_at(start))
}

/// Four dot-separated parts, each 0..255 (written with at most three digits) or a numeric range.
fn is_ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|part| {
            is_numeric_range(part)
                || (!part.is_empty()
                    && part.len() <= 3
                    && part.bytes().all(|b| b.is_ascii_digit())
                    && part.parse::<u16>().is_ok_and(|value| value <= 255))
        })
}

/// An IPv6 address whose groups may be hexadecimal ranges (`fd00::[a:f]`).
fn is_ipv6(text: &str) -> bool {
    if !text.contains(':') {
        return false;
    }
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']') else {
            return false;
        };
        if !is_hex_range(&rest[open + 1..open + close]) {
            return false;
        }
        plain.push('0');
        rest = &rest[open + close + 1..];
    }
    plain.push_str(rest);
    plain.parse::<Ipv6Addr>().is_ok()
}

/// Dot-separated labels: each starts with a letter, digit, `_` or range, goes on with those and
/// `-`, and does not end in `-` or `_`.
fn is_hostname(text: &str) -> bool {
    text.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut first = true;
    let mut last = None;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(close) = rest.find(']') else {
                return false;
            };
            if !is_alphanumeric_range(&rest[1..close]) {
                return false;
            }
            rest = &rest[close + 1..];
            last = Some(']');
        } else if c.is_alphanumeric() || c == '_' || (c == '-' && !first) {
            rest = &rest[c.len_utf8()..];
            last = Some(c);
        } else {
            return false;
        }
        first = false;
    }
    last.is_some_and(|c| c != '-' && c != '_')
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `begin:end` or `begin:end:step` whose bounds satisfy `bound`, with a numeric step.
fn is_range_with(inner: &str, bound: impl Fn(&str) -> bool) -> bool {
    let parts: Vec<&str> = inner.split(':').collect();
    match parts.as_slice() {
        [begin, end] => bound(begin) && bound(end),
        [begin, end, step] => bound(begin) && bound(end) && is_digits(step),
        _ => false,
    }
}

fn is_numeric_range(part: &str) -> bool {
    part.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|inner| is_range_with(inner, is_digits))
}

fn is_hex_range(inner: &str) -> bool {
    is_range_with(inner, |bound| {
        !bound.is_empty() && bound.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn is_alphanumeric_range(inner: &str) -> bool {
    let letter = |bound: &str| bound.len() == 1 && bound.bytes().all(|b| b.is_ascii_alphabetic());
    is_range_with(inner, letter) || is_range_with(inner, is_digits)
}

/// Ansible's `expand_hostname_range`: the first `[...]` is expanded, and each result again until
/// none is left, so `a[1:2]b[x:y]` gives `a1bx a1by a2bx a2by`.
fn expand_ranges(pattern: &str, names: &mut Vec<String>) -> Result<(), HostKeyError> {
    let Some(open) = pattern.find('[') else {
        if names.len() >= MAX_EXPANDED_HOSTS {
            return Err(HostKeyError::new(
                format!("expands to more than {MAX_EXPANDED_HOSTS} hosts"),
                Some("check the range bounds"),
            ));
        }
        names.push(pattern.to_owned());
        return Ok(());
    };
    let Some(close) = pattern[open..].find(']').map(|offset| open + offset) else {
        return Err(HostKeyError::new(
            "has a `[` without a closing `]`",
            Some("a range is written [begin:end], e.g. web[01:20]"),
        ));
    };
    let head = &pattern[..open];
    let tail = &pattern[close + 1..];
    if head.contains(']') {
        return Err(HostKeyError::new(
            "has a `]` before its first `[`",
            Some("a range is written [begin:end], e.g. web[01:20]"),
        ));
    }
    for value in range_values(&pattern[open + 1..close])? {
        expand_ranges(&format!("{head}{value}{tail}"), names)?;
    }
    Ok(())
}

/// The values of one range, formatted: `01:03` gives `01 02 03`, `a:c` gives `a b c`.
fn range_values(inner: &str) -> Result<Vec<String>, HostKeyError> {
    const SHAPE: &str = "a range is [begin:end] or [begin:end:step]: numbers (web[01:20]) or single letters (db-[a:f])";
    let bounds: Vec<&str> = inner.split(':').collect();
    let (begin, end, step) = match bounds.as_slice() {
        [begin, end] => (*begin, *end, "1"),
        [begin, end, step] => (*begin, *end, *step),
        _ => {
            return Err(HostKeyError::new(
                format!("has a range [{inner}] that is not begin:end or begin:end:step"),
                Some(SHAPE),
            ));
        }
    };
    // Ansible reads an empty begin as 0.
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(HostKeyError::new(
            format!("has a range [{inner}] without an end value"),
            Some(SHAPE),
        ));
    }
    let step: usize = match step.parse() {
        Ok(parsed) if parsed > 0 && is_digits(step) => parsed,
        _ => {
            return Err(HostKeyError::new(
                format!("has a range [{inner}] whose step is not a positive integer"),
                Some(SHAPE),
            ));
        }
    };
    if let (Some(first), Some(last)) = (letter_index(begin), letter_index(end)) {
        if first > last {
            return Err(HostKeyError::new(
                format!("has a range [{inner}] whose begin comes after its end"),
                Some("letters run a..z then A..Z; write the earlier one first"),
            ));
        }
        return Ok((first..=last)
            .step_by(step)
            .map(|index| char::from(LETTERS[index]).to_string())
            .collect());
    }
    let (Some(first), Some(last)) = (number(begin), number(end)) else {
        return Err(HostKeyError::new(
            format!(
                "has a range [{inner}] whose bounds are not both numbers or both single letters"
            ),
            Some(SHAPE),
        ));
    };
    // A begin written with leading zeros sets the width of every value.
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(HostKeyError::new(
                format!("has a range [{inner}] whose begin and end have different widths"),
                Some("zero-padded bounds must have as many digits, e.g. [01:20] or [001:120]"),
            ));
        }
        begin.len()
    } else {
        0
    };
    if last.saturating_sub(first) / step as u64 >= MAX_EXPANDED_HOSTS as u64 {
        return Err(HostKeyError::new(
            format!("has a range [{inner}] of more than {MAX_EXPANDED_HOSTS} values"),
            Some("check the range bounds"),
        ));
    }
    Ok((first..=last)
        .step_by(step)
        .map(|value| format!("{value:0width$}"))
        .collect())
}

/// Ansible's letter order (`string.ascii_letters`).
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn letter_index(bound: &str) -> Option<usize> {
    match bound.as_bytes() {
        [byte] => LETTERS.iter().position(|letter| letter == byte),
        _ => None,
    }
}

fn number(bound: &str) -> Option<u64> {
    is_digits(bound).then(|| bound.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(key: &str) -> Vec<String> {
        read_host_key(key).expect("valid key").names
    }

    fn port(key: &str) -> Option<u16> {
        read_host_key(key).expect("valid key").port
    }

    fn reason(key: &str) -> String {
        read_host_key(key).expect_err("invalid key").reason
    }

    #[test]
    fn plain_names_stay_as_they_are() {
        assert_eq!(names("web1"), ["web1"]);
        assert_eq!(names("db.lab.example"), ["db.lab.example"]);
        assert_eq!(port("web1"), None);
    }

    #[test]
    fn numeric_range_is_inclusive() {
        assert_eq!(names("web[1:3]"), ["web1", "web2", "web3"]);
    }

    #[test]
    fn leading_zeros_set_the_width() {
        assert_eq!(
            names("web[08:11].example.com"),
            [
                "web08.example.com",
                "web09.example.com",
                "web10.example.com",
                "web11.example.com"
            ]
        );
        assert_eq!(names("n[001:003]"), ["n001", "n002", "n003"]);
    }

    #[test]
    fn unpadded_begin_gives_unpadded_values() {
        assert_eq!(names("n[8:10]"), ["n8", "n9", "n10"]);
        assert_eq!(names("n[0:2]"), ["n0", "n1", "n2"]);
    }

    #[test]
    fn padded_bounds_of_different_widths_are_rejected() {
        assert_eq!(
            reason("n[01:100]"),
            "has a range [01:100] whose begin and end have different widths"
        );
    }

    #[test]
    fn stride_takes_every_nth_value_from_begin() {
        assert_eq!(
            names("node[0:30:10]"),
            ["node0", "node10", "node20", "node30"]
        );
        assert_eq!(names("w[01:10:4]"), ["w01", "w05", "w09"]);
        assert_eq!(names("x[a:g:3]"), ["xa", "xd", "xg"]);
    }

    #[test]
    fn letter_range_is_inclusive_and_runs_into_capitals() {
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("x[y:B]"), ["xy", "xz", "xA", "xB"]);
    }

    #[test]
    fn several_ranges_expand_left_first() {
        assert_eq!(names("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
    }

    #[test]
    fn empty_begin_means_zero() {
        assert_eq!(names("h[:2]"), ["h0", "h1", "h2"]);
    }

    #[test]
    fn range_in_an_ipv4_address() {
        assert_eq!(names("10.0.0.[1:3]"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    }

    #[test]
    fn host_with_a_port() {
        let key = read_host_key("web1:2222").expect("valid");
        assert_eq!((key.names, key.port), (vec!["web1".to_owned()], Some(2222)));
        assert_eq!(port("10.0.0.5:22"), Some(22));
        assert_eq!(port("db.example.com:2200"), Some(2200));
    }

    #[test]
    fn range_with_a_port_gives_every_host_the_port() {
        let key = read_host_key("web[1:2].example.com:2222").expect("valid");
        assert_eq!(key.names, ["web1.example.com", "web2.example.com"]);
        assert_eq!(key.port, Some(2222));
    }

    #[test]
    fn bracketed_ipv6_with_a_port() {
        let key = read_host_key("[fd00::10]:2222").expect("valid");
        assert_eq!(
            (key.names, key.port),
            (vec!["fd00::10".to_owned()], Some(2222))
        );
    }

    #[test]
    fn bare_ipv6_has_no_port() {
        assert_eq!(names("fd00::1"), ["fd00::1"]);
        assert_eq!(port("fd00::1:22"), None);
        assert_eq!(names("fd00::1:22"), ["fd00::1:22"]);
    }

    #[test]
    fn key_that_is_no_address_keeps_its_colon() {
        // Ansible keeps such a key whole: a trailing `-` makes it no valid host name.
        assert_eq!(names("web-:22"), ["web-:22"]);
        assert_eq!(port("web-:22"), None);
        assert_eq!(names("web1:ssh"), ["web1:ssh"]);
    }

    #[test]
    fn port_out_of_range_is_rejected() {
        assert_eq!(
            reason("web1:70000"),
            "ends in port 70000, which is not from 1 to 65535"
        );
        assert!(read_host_key("web1:0").is_err());
    }

    #[test]
    fn reversed_numeric_range_expands_to_nothing() {
        assert_eq!(reason("w[5:1]"), "is a range that expands to no host");
    }

    #[test]
    fn reversed_letter_range_is_rejected() {
        assert_eq!(
            reason("w[f:a]"),
            "has a range [f:a] whose begin comes after its end"
        );
    }

    #[test]
    fn malformed_ranges_are_rejected() {
        assert_eq!(reason("w[1:]"), "has a range [1:] without an end value");
        assert_eq!(
            reason("w[1]"),
            "has a range [1] that is not begin:end or begin:end:step"
        );
        assert_eq!(
            reason("w[1:5:0]"),
            "has a range [1:5:0] whose step is not a positive integer"
        );
        assert_eq!(
            reason("w[a:5]"),
            "has a range [a:5] whose bounds are not both numbers or both single letters"
        );
        assert_eq!(reason("w[1:3"), "has a `[` without a closing `]`");
    }

    #[test]
    fn huge_range_is_rejected() {
        assert_eq!(
            reason("w[0:999999999]"),
            "has a range [0:999999999] of more than 100000 values"
        );
    }

    #[test]
    fn address_classification() {
        assert!(is_ipv4("10.0.0.255"));
        assert!(!is_ipv4("10.0.0.256"));
        assert!(is_ipv4("10.0.[0:9].1"));
        assert!(is_ipv6("::1"));
        assert!(is_ipv6("fd00::[a:f]"));
        assert!(!is_ipv6("web1"));
        assert!(is_hostname("web-01.example.com"));
        assert!(is_hostname("db-[a:f]"));
        assert!(!is_hostname("web-"));
        assert!(!is_hostname("-web"));
        assert!(!is_hostname("a..b"));
    }
}
