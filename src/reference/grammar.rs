//! The character-level grammar of image references, as distribution/reference (the version
//! vendored by dockerd 20.10) defines it with regular expressions.
//!
//! It is written out by hand rather than as a regular expression so that an error can say which
//! part of a reference is wrong. Every predicate here accepts exactly the strings the library's
//! expression for the same part accepts; the tests at the bottom pin that down.

/// Longest full repository name (domain and path, no tag) the library accepts.
pub(crate) const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Longest tag: `[\w][\w.-]{0,127}`.
pub(crate) const TAG_LENGTH_MAX: usize = 128;

/// The reference expression wants at least this many hex digits after the digest algorithm.
const DIGEST_HEX_MIN: usize = 32;

/// The parts of a reference that matched `ReferenceRegexp`, borrowed from the matched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReferenceParts<'a> {
    /// The registry host, or `""` when the name has none (see [`split_name`]).
    pub(crate) domain: &'a str,
    /// The path components joined by `/`.
    pub(crate) path: &'a str,
    /// The whole name (domain and path), which the length limit applies to.
    pub(crate) name: &'a str,
    pub(crate) tag: Option<&'a str>,
    pub(crate) digest: Option<&'a str>,
}

/// Matches `name [":" tag] ["@" digest]` and returns its parts, or says what does not match.
///
/// The split is unambiguous: `@` occurs only before the digest, and a `:` after the last `/` of
/// the part before it can only start a tag, because the one other place a `:` may appear (a
/// registry port) is always followed by a `/`.
pub(crate) fn split_reference(s: &str) -> Result<ReferenceParts<'_>, String> {
    let (before_digest, digest) = match s.split_once('@') {
        Some((before, digest)) => {
            if digest.contains('@') {
                return Err("\"@\" may appear only once, before the digest".to_owned());
            }
            if !is_digest_syntax(digest) {
                return Err(format!(
                    "digest {digest:?} must be an algorithm, \":\" and at least {DIGEST_HEX_MIN} hex digits"
                ));
            }
            (before, Some(digest))
        }
        None => (s, None),
    };

    let (name, tag) = match before_digest.rfind(':') {
        Some(colon) if !before_digest[colon + 1..].contains('/') => {
            (&before_digest[..colon], Some(&before_digest[colon + 1..]))
        }
        _ => (before_digest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }

    let (domain, path) = split_name(name)?;
    Ok(ReferenceParts {
        domain,
        path,
        name,
        tag,
        digest,
    })
}

/// Splits a name into registry host and path, the way `anchoredNameRegexp` captures them.
///
/// The domain group is optional and greedy, so when the first part is a valid host it is taken
/// as the domain. When it is not (say `a.b_c/x`), the whole name may still match as a path with
/// no domain at all; the library accepts that, and so does this function, returning `""`.
pub(crate) fn split_name(name: &str) -> Result<(&str, &str), String> {
    let parts: Vec<&str> = name.split('/').collect();
    if let [first, rest @ ..] = parts.as_slice()
        && !rest.is_empty()
        && is_domain(first)
        && rest.iter().all(|part| is_path_component(part))
    {
        return Ok((first, &name[first.len() + 1..]));
    }
    if parts.iter().all(|part| is_path_component(part)) {
        return Ok(("", name));
    }
    Err(describe_bad_name(name, &parts))
}

/// Explains why a name matched neither as `domain/path` nor as a bare path.
fn describe_bad_name(name: &str, parts: &[&str]) -> String {
    if parts.iter().any(|part| part.is_empty()) {
        return format!(
            "name {name:?} has an empty component (a leading, trailing or doubled \"/\")"
        );
    }
    let mut candidates = parts.iter();
    if let Some(first) = parts.first()
        && parts.len() > 1
        && !is_path_component(first)
    {
        if !is_domain(first) {
            return format!(
                "registry host {first:?} must be dot-separated letters, digits and inner \"-\", with an optional \":port\""
            );
        }
        candidates.next();
    }
    match candidates.find(|part| !is_path_component(part)) {
        Some(part) if part.contains(':') => format!(
            "path component {part:?} contains \":\" (a reference has at most one, before the tag)"
        ),
        Some(part) => format!(
            "path component {part:?} must be lowercase letters and digits joined by \".\", \"_\", \"__\" or \"-\", starting and ending with a letter or digit"
        ),
        None => format!("name {name:?} is not a valid repository name"),
    }
}

/// A path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
pub(crate) fn is_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let is_alphanumeric = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if is_alphanumeric(first) && is_alphanumeric(last) => {}
        _ => return false,
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alphanumeric(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alphanumeric(bytes[i]) {
            i += 1;
        }
        let separator = &bytes[start..i];
        let allowed =
            matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&c| c == b'-');
        if !allowed {
            return false;
        }
    }
    true
}

/// A registry host: dot-separated labels of `[a-zA-Z0-9]` with inner `-`, then an optional
/// `:` and digits. Upper case is allowed here, unlike in the path. IPv6 literals came with a
/// later library version and are not accepted.
pub(crate) fn is_domain(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()));
    port_ok && host.split('.').all(is_domain_label)
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last))
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() =>
        {
            bytes
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }
        _ => false,
    }
}

/// A tag: `[\w][\w.-]{0,127}` where `\w` is `[0-9A-Za-z_]`.
fn check_tag(tag: &str) -> Result<(), String> {
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = tag.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err("the tag after \":\" is empty".to_owned());
    };
    let well_formed = is_word(first) && bytes.iter().all(|&c| is_word(c) || c == b'.' || c == b'-');
    if !well_formed {
        return Err(format!(
            "tag {tag:?} may hold only letters, digits, \"_\", \".\" and \"-\", and must not start with \".\" or \"-\""
        ));
    }
    if bytes.len() > TAG_LENGTH_MAX {
        return Err(format!(
            "tag is {} characters long, at most {TAG_LENGTH_MAX} are allowed",
            bytes.len()
        ));
    }
    Ok(())
}

/// The digest as the reference expression sees it (before the digest itself is validated):
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_syntax(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        let bytes = part.as_bytes();
        bytes.first().is_some_and(u8::is_ascii_alphabetic)
            && bytes.iter().all(u8::is_ascii_alphanumeric)
    });
    algorithm_ok && hex.len() >= DIGEST_HEX_MIN && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// 64 lowercase hex digits: what the daemon reads as a full image ID rather than a name.
pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// Why go-digest's `Digest.Validate` (v1.0.0, vendored by dockerd 20.10) rejects a digest.
/// The daemon answers 400 with [`DigestError::daemon_message`] when a reference's digest part
/// passes the reference expression but fails this check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("it is not \"algorithm:hex\"")]
    InvalidFormat,
    #[error("{algorithm} needs exactly {expected} lowercase hex digits, found {found}")]
    InvalidLength {
        algorithm: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{algorithm} needs lowercase hex digits")]
    NotLowercaseHex { algorithm: &'static str },
    #[error("the algorithm {algorithm:?} is not supported (sha256, sha384 and sha512 are)")]
    Unsupported { algorithm: String },
}

impl DigestError {
    /// The daemon's 400 message (go-digest's error text).
    pub fn daemon_message(&self) -> &'static str {
        match self {
            DigestError::InvalidFormat | DigestError::NotLowercaseHex { .. } => {
                "invalid checksum digest format"
            }
            DigestError::InvalidLength { .. } => "invalid checksum digest length",
            DigestError::Unsupported { .. } => "unsupported digest algorithm",
        }
    }
}

/// go-digest's `Digest.Validate`: a known algorithm with the right number of lowercase hex
/// digits. dockerd links SHA-256 and SHA-512 (which also provides SHA-384), so those three are
/// available.
pub(crate) fn validate_digest(digest: &str) -> Result<(), DigestError> {
    let colon = match digest.find(':') {
        Some(colon) if colon > 0 && colon + 1 < digest.len() => colon,
        _ => return Err(DigestError::InvalidFormat),
    };
    let (algorithm, encoded) = (&digest[..colon], &digest[colon + 1..]);
    let (algorithm, expected): (&'static str, usize) = match algorithm {
        "sha256" => ("sha256", 64),
        "sha384" => ("sha384", 96),
        "sha512" => ("sha512", 128),
        other => {
            return Err(if is_go_digest_syntax(digest) {
                DigestError::Unsupported {
                    algorithm: other.to_owned(),
                }
            } else {
                DigestError::InvalidFormat
            });
        }
    };
    if encoded.len() != expected {
        return Err(DigestError::InvalidLength {
            algorithm,
            expected,
            found: encoded.len(),
        });
    }
    if !encoded.bytes().all(is_lower_hex) {
        return Err(DigestError::NotLowercaseHex { algorithm });
    }
    Ok(())
}

/// go-digest's `DigestRegexpAnchored`: `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`.
/// It only decides between "unsupported" and "invalid format" for unknown algorithms.
fn is_go_digest_syntax(digest: &str) -> bool {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['.', '+', '_', '-']).all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    let encoded_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'));
    algorithm_ok && encoded_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components_join_alphanumerics_with_the_allowed_separators() {
        for ok in [
            "a",
            "a1",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a.b-c_d__e",
            "0",
        ] {
            assert!(is_path_component(ok), "{ok} should be a component");
        }
        for bad in [
            "", "-a", "a-", ".a", "a.", "a..b", "a___b", "a._b", "a-_b", "A", "aB", "a:b", "a b",
            "é",
        ] {
            assert!(!is_path_component(bad), "{bad} should not be a component");
        }
    }

    #[test]
    fn domains_allow_upper_case_ports_and_inner_hyphens() {
        for ok in [
            "localhost",
            "localhost:5000",
            "Example.COM",
            "my-reg.io:443",
            "127.0.0.1:5055",
            "a",
        ] {
            assert!(is_domain(ok), "{ok} should be a domain");
        }
        for bad in [
            "",
            "-a.com",
            "a-.com",
            "a..com",
            "a.com:",
            "a.com:x",
            "[::1]:5000",
            "a_b.com",
            "a:1:2",
        ] {
            assert!(!is_domain(bad), "{bad} should not be a domain");
        }
    }

    #[test]
    fn tags_are_word_characters_up_to_128() {
        assert!(check_tag("TAG").is_ok());
        assert!(check_tag("_x.y-z").is_ok());
        assert!(check_tag(&"t".repeat(128)).is_ok());
        assert!(check_tag(&"t".repeat(129)).is_err());
        assert!(check_tag("").is_err());
        assert!(check_tag(".x").is_err());
        assert!(check_tag("-x").is_err());
        assert!(check_tag("x/y").is_err());
    }

    #[test]
    fn digest_syntax_needs_an_algorithm_and_32_hex_digits() {
        assert!(is_digest_syntax(&format!("sha256:{}", "a".repeat(64))));
        assert!(is_digest_syntax(&format!("md5:{}", "A".repeat(32))));
        assert!(is_digest_syntax(&format!("a+b.c:{}", "0".repeat(32))));
        assert!(!is_digest_syntax("sha256:123"));
        assert!(!is_digest_syntax(&format!("1sha:{}", "0".repeat(32))));
        assert!(!is_digest_syntax(&format!("sha256{}", "0".repeat(32))));
    }

    #[test]
    fn digest_validation_checks_length_then_case() {
        assert_eq!(
            validate_digest(&format!("sha256:{}", "a".repeat(64))),
            Ok(())
        );
        assert_eq!(
            validate_digest(&format!("sha512:{}", "0".repeat(128))),
            Ok(())
        );
        let short = validate_digest(&format!("sha256:{}", "a".repeat(40)))
            .expect_err("the digest is invalid");
        assert_eq!(short.daemon_message(), "invalid checksum digest length");
        let upper = validate_digest(&format!("sha256:{}", "A".repeat(64)))
            .expect_err("the digest is invalid");
        assert_eq!(upper.daemon_message(), "invalid checksum digest format");
        let md5 =
            validate_digest(&format!("md5:{}", "a".repeat(32))).expect_err("the digest is invalid");
        assert_eq!(md5.daemon_message(), "unsupported digest algorithm");
        let upper_algorithm =
            validate_digest(&format!("MD5:{}", "a".repeat(32))).expect_err("the digest is invalid");
        assert_eq!(
            upper_algorithm.daemon_message(),
            "invalid checksum digest format"
        );
        assert_eq!(validate_digest("sha256:"), Err(DigestError::InvalidFormat));
        assert_eq!(validate_digest(":abc"), Err(DigestError::InvalidFormat));
    }

    #[test]
    fn a_colon_after_the_last_slash_starts_the_tag() {
        let parts = split_reference("localhost:5000/team/app:1.0").expect("the reference matches");
        assert_eq!(parts.domain, "localhost:5000");
        assert_eq!(parts.path, "team/app");
        assert_eq!(parts.tag, Some("1.0"));
        let parts = split_reference("localhost:5000/app").expect("the reference matches");
        assert_eq!(
            (parts.domain, parts.path, parts.tag),
            ("localhost:5000", "app", None)
        );
    }

    #[test]
    fn a_first_part_that_is_no_valid_host_can_still_be_a_path() {
        let parts = split_reference("a.b_c/x").expect("the reference matches");
        assert_eq!((parts.domain, parts.path), ("", "a.b_c/x"));
    }

    #[test]
    fn two_colons_without_a_slash_are_rejected_with_a_reason() {
        let problem =
            split_reference("docker.io/library/a:b:c").expect_err("two colons do not match");
        assert!(problem.contains("\"a:b\""), "{problem}");
    }
}
