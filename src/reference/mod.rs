//! Docker image references (`name[:tag][@digest]`): the grammar, normalisation and familiar form
//! of distribution/reference as dockerd 20.10 uses it, so fleetrmi can reject a bad argument
//! before it contacts any host and name things exactly as the engine does.
//!
//! A name gets `docker.io` when its first part is not a registry host (a host contains `.` or
//! `:`, or is `localhost`), and a one-part name on `docker.io` gets `library/`. The familiar form
//! removes both again; the engine uses it in every message and `Untagged` record.

mod argument;
mod error;
mod grammar;

use std::fmt;

pub use argument::{ImageArgument, check_image_argument};
pub use error::ReferenceError;
pub use grammar::DigestError;
pub(crate) use grammar::is_hex64;

pub(crate) use grammar::validate_digest;

/// The registry that names without a host belong to.
const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of [`DEFAULT_DOMAIN`], rewritten to it.
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of one-part names on Docker Hub.
const OFFICIAL_REPOSITORY_NAMESPACE: &str = "library";
/// The tag the daemon assumes when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port (`docker.io`, `localhost:5055`). Empty only for the
    /// rare name whose first part looks like a host but is not a valid one (`a.b_c/x`): the
    /// library then reads the whole name as a path.
    domain: String,
    /// Path components joined by `/` (`library/x`, `team/app`).
    path: String,
    tag: Option<String>,
    /// `algorithm:hex`, validated.
    digest: Option<String>,
}

impl Reference {
    /// Parses and normalises a reference, like `reference.ParseNormalizedNamed`.
    ///
    /// No default tag is added here; see [`Reference::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.trim().is_empty() {
            return Err(ReferenceError::Blank);
        }
        if grammar::is_hex64(s) {
            return Err(ReferenceError::HexadecimalName {
                input: s.to_owned(),
            });
        }

        let (domain, remainder) = split_docker_domain(s);
        // The library checks case on the path up to the first ':' before anything else, so
        // `UPPER:a:b` is reported as upper case rather than as a bad format.
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name
            .chars()
            .any(|c| c.to_lowercase().ne(std::iter::once(c)))
        {
            return Err(ReferenceError::Uppercase {
                input: s.to_owned(),
            });
        }

        let full = format!("{domain}/{remainder}");
        let parts = match grammar::split_reference(&full) {
            Ok(parts) => parts,
            Err(problem) => {
                // The library reports upper case whenever the lower-cased text would match,
                // which also catches upper case in a name that has no valid host.
                return Err(if grammar::split_reference(&full.to_lowercase()).is_ok() {
                    ReferenceError::Uppercase {
                        input: s.to_owned(),
                    }
                } else {
                    ReferenceError::InvalidFormat {
                        input: s.to_owned(),
                        problem,
                    }
                });
            }
        };
        if parts.name.len() > grammar::NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong {
                input: s.to_owned(),
                name: parts.name.to_owned(),
                length: parts.name.len(),
            });
        }
        if let Some(digest) = parts.digest {
            validate_digest(digest).map_err(|problem| ReferenceError::InvalidDigest {
                input: s.to_owned(),
                problem,
            })?;
        }
        Ok(Reference {
            domain: parts.domain.to_owned(),
            path: parts.path.to_owned(),
            tag: parts.tag.map(str::to_owned),
            digest: parts.digest.map(str::to_owned),
        })
    }

    /// The full normalised repository name, e.g. `docker.io/library/x`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// True when both name the same repository ([`Reference::name`] is equal), tags and
    /// digests aside.
    pub fn same_repository(&self, other: &Reference) -> bool {
        if self.domain.is_empty() == other.domain.is_empty() {
            self.domain == other.domain && self.path == other.path
        } else {
            self.name() == other.name()
        }
    }

    /// The repository name as Docker prints it: `x`, `other/x`, `localhost:5055/dg`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.split_once('/') {
            Some((OFFICIAL_REPOSITORY_NAMESPACE, rest)) if !rest.contains('/') => rest.to_owned(),
            _ => self.path.clone(),
        }
    }

    /// The familiar name with `:tag` and/or `@digest` as given, as the engine writes it in
    /// `Untagged` records, `RepoTags` and messages.
    pub fn familiar(&self) -> String {
        self.with_suffixes(self.familiar_name())
    }

    /// The full normalised text, e.g. `docker.io/library/x:1`. The engine sorts an image's
    /// references by this text.
    pub fn normalized(&self) -> String {
        self.with_suffixes(self.name())
    }

    /// The registry host (`docker.io` when the name had none).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The path on the registry (`library/x` for a one-part Docker Hub name).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// True when the reference has neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The reference with `:latest` added when it has neither tag nor digest
    /// (`reference.TagNameOnly`), which is what the daemon looks up and removes.
    pub fn with_default_tag(&self) -> Reference {
        let mut reference = self.clone();
        if reference.is_name_only() {
            reference.tag = Some(DEFAULT_TAG.to_owned());
        }
        reference
    }

    /// The form the engine's tag store keeps: a digest reference without its tag (the store
    /// looks up and deletes `repo:tag@digest` by the digest alone), otherwise the tag, with
    /// `latest` when none was given.
    pub fn stored_form(&self) -> Reference {
        self.clone().into_stored_form()
    }

    /// [`Reference::stored_form`] of an owned reference, without copying it.
    pub fn into_stored_form(mut self) -> Reference {
        if self.digest.is_some() {
            self.tag = None;
        } else if self.tag.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The full normalised text of [`Reference::stored_form`] (`docker.io/library/x:latest`
    /// for `x`), without building that form: what the engine's tag store files it under.
    pub fn stored_normalized(&self) -> String {
        let suffix = match (&self.digest, &self.tag) {
            (Some(digest), _) => ('@', digest.as_str()),
            (None, tag) => (':', tag.as_deref().unwrap_or(DEFAULT_TAG)),
        };
        let mut text =
            String::with_capacity(self.domain.len() + self.path.len() + suffix.1.len() + 2);
        if !self.domain.is_empty() {
            text.push_str(&self.domain);
            text.push('/');
        }
        text.push_str(&self.path);
        text.push(suffix.0);
        text.push_str(suffix.1);
        text
    }

    fn with_suffixes(&self, mut text: String) -> String {
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(digest);
        }
        text
    }
}

/// Shows the familiar form, as Docker does.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.familiar())
    }
}

/// `splitDockerDomain`: the first part is a registry host only if it contains `.` or `:` or is
/// `localhost`; `index.docker.io` becomes `docker.io`; a one-part Docker Hub name gets `library/`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let (mut domain, remainder) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => (DEFAULT_DOMAIN, name),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN;
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        return (
            domain,
            format!("{OFFICIAL_REPOSITORY_NAMESPACE}/{remainder}"),
        );
    }
    (domain, remainder.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|error| panic!("{s:?} should parse: {error}"))
    }

    fn digest(fill: char) -> String {
        format!("sha256:{}", fill.to_string().repeat(64))
    }

    #[test]
    fn one_part_names_normalise_to_docker_hub_library() {
        let reference = parse("x");
        assert_eq!(reference.name(), "docker.io/library/x");
        assert_eq!(reference.familiar_name(), "x");
        assert_eq!(reference.familiar(), "x");
        assert_eq!(reference.tag(), None);
        assert_eq!(
            reference.with_default_tag().normalized(),
            "docker.io/library/x:latest"
        );
    }

    #[test]
    fn same_repository_is_equal_names() {
        let names = [
            "x:1".to_owned(),
            "docker.io/library/x:2".to_owned(),
            format!("x@{}", digest('d')),
            "other/x:1".to_owned(),
            "localhost:5055/x:1".to_owned(),
            "a.b_c/x:1".to_owned(),
        ];
        for a in &names {
            for b in &names {
                let (a, b) = (parse(a), parse(b));
                assert_eq!(a.same_repository(&b), a.name() == b.name(), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn docker_io_index_docker_io_and_library_prefixes_are_the_same_name() {
        for s in [
            "la:9",
            "docker.io/la:9",
            "docker.io/library/la:9",
            "index.docker.io/library/la:9",
            "index.docker.io/la:9",
        ] {
            let reference = parse(s);
            assert_eq!(reference.normalized(), "docker.io/library/la:9", "{s}");
            assert_eq!(reference.familiar(), "la:9", "{s}");
        }
    }

    #[test]
    fn two_part_hub_names_keep_their_namespace() {
        let reference = parse("other/x:1");
        assert_eq!(reference.name(), "docker.io/other/x");
        assert_eq!(reference.familiar(), "other/x:1");
        let nested = parse("docker.io/library/a/b");
        assert_eq!(nested.familiar_name(), "library/a/b");
    }

    #[test]
    fn localhost_and_ports_make_a_registry_host() {
        let reference = parse("localhost:5055/dg:1");
        assert_eq!(reference.domain, "localhost:5055");
        assert_eq!(reference.path, "dg");
        assert_eq!(reference.familiar(), "localhost:5055/dg:1");
        assert_eq!(parse("localhost/dg").name(), "localhost/dg");
        assert_eq!(
            parse("registry.example.com:5000/team/lb:1").familiar_name(),
            "registry.example.com:5000/team/lb"
        );
    }

    #[test]
    fn a_bare_localhost_or_host_port_is_a_hub_name_with_a_tag() {
        assert_eq!(
            parse("localhost").normalized(),
            "docker.io/library/localhost"
        );
        let with_port = parse("localhost:5000");
        assert_eq!(with_port.name(), "docker.io/library/localhost");
        assert_eq!(with_port.tag(), Some("5000"));
    }

    #[test]
    fn upper_case_domain_is_allowed_upper_case_path_is_not() {
        assert_eq!(parse("Example.COM/app").domain, "Example.COM");
        assert_eq!(parse("LOCALHOST:5000/app").name(), "LOCALHOST:5000/app");
        for bad in [
            "UPPER",
            "foo/Bar",
            "Localhost/app",
            "localhost:5000/App",
            "UPPER:a:b",
            "My_Host.com/app",
        ] {
            assert_eq!(
                Reference::parse(bad),
                Err(ReferenceError::Uppercase {
                    input: bad.to_owned()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn upper_case_tags_are_allowed() {
        assert_eq!(parse("la:TAG").familiar(), "la:TAG");
    }

    #[test]
    fn tags_of_128_characters_pass_and_129_fail() {
        let ok = format!("x:{}", "t".repeat(128));
        assert_eq!(parse(&ok).tag().map(str::len), Some(128));
        let too_long = format!("x:{}", "t".repeat(129));
        let error = Reference::parse(&too_long).expect_err("the reference is invalid");
        assert_eq!(error.daemon_message(), "invalid reference format");
        assert!(error.to_string().contains("at most 128"), "{error}");
    }

    #[test]
    fn hub_names_of_237_characters_pass_and_238_fail() {
        let ok = "a".repeat(237);
        assert_eq!(parse(&ok).name().len(), 255);
        let too_long = "a".repeat(238);
        let error = Reference::parse(&too_long).expect_err("the reference is invalid");
        assert_eq!(
            error,
            ReferenceError::NameTooLong {
                input: too_long.clone(),
                name: format!("docker.io/library/{too_long}"),
                length: 256,
            }
        );
        assert_eq!(
            error.daemon_message(),
            "repository name must not be more than 255 characters"
        );
    }

    #[test]
    fn the_length_limit_counts_the_domain_but_not_the_tag() {
        let path = "a".repeat(255 - "localhost:5000/".len());
        assert!(Reference::parse(&format!("localhost:5000/{path}:{}", "t".repeat(128))).is_ok());
        assert!(matches!(
            Reference::parse(&format!("localhost:5000/{path}b")),
            Err(ReferenceError::NameTooLong { length: 256, .. })
        ));
    }

    #[test]
    fn upper_case_is_reported_before_length() {
        let long_upper = "A".repeat(300);
        assert!(matches!(
            Reference::parse(&long_upper),
            Err(ReferenceError::Uppercase { .. })
        ));
    }

    #[test]
    fn two_colons_leading_hyphen_spaces_and_empty_parts_are_invalid_format() {
        for bad in [
            "a:b:c",
            "-bad",
            "a b",
            " la:1",
            "la:1 ",
            "a//b",
            "/a",
            "a/",
            "x:",
            "x@",
            ":tag",
            "a@b@c",
            "a_-b",
            "[::1]:5000/x",
        ] {
            let error = Reference::parse(bad).expect_err("the reference is invalid");
            assert_eq!(
                error.daemon_message(),
                "invalid reference format",
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn invalid_format_says_which_part_is_wrong() {
        let error = Reference::parse("-bad").expect_err("the reference is invalid");
        assert_eq!(
            error.to_string(),
            r#"invalid reference format: path component "-bad" must be lowercase letters and digits joined by ".", "_", "__" or "-", starting and ending with a letter or digit: "-bad""#
        );
        let error = Reference::parse("a:b:c").expect_err("the reference is invalid");
        assert!(
            error.to_string().contains(r#""a:b" contains ":""#),
            "{error}"
        );
    }

    #[test]
    fn digests_need_sha256_and_64_lowercase_hex_digits() {
        let reference = parse(&format!("localhost:5055/dg@{}", digest('c')));
        assert_eq!(reference.digest(), Some(digest('c').as_str()));
        assert_eq!(
            reference.familiar(),
            format!("localhost:5055/dg@{}", digest('c'))
        );

        let short = Reference::parse("x@sha256:123").expect_err("the reference is invalid");
        assert_eq!(short.daemon_message(), "invalid reference format");

        let forty = Reference::parse(&format!("x@sha256:{}", "a".repeat(40)))
            .expect_err("the reference is invalid");
        assert_eq!(forty.daemon_message(), "invalid checksum digest length");

        let upper = Reference::parse(&format!("x@sha256:{}", "A".repeat(64)))
            .expect_err("the reference is invalid");
        assert_eq!(upper.daemon_message(), "invalid checksum digest format");
        assert!(upper.to_string().contains("lowercase hex"), "{upper}");
    }

    #[test]
    fn tag_and_digest_together_keep_both_in_familiar_form() {
        let reference = parse(&format!("localhost:5055/ld:whatever@{}", digest('7')));
        assert_eq!(
            reference.familiar(),
            format!("localhost:5055/ld:whatever@{}", digest('7'))
        );
        assert_eq!(
            reference.stored_form().familiar(),
            format!("localhost:5055/ld@{}", digest('7'))
        );
    }

    #[test]
    fn the_stored_key_is_the_stored_form_normalised() {
        for text in [
            "x".to_owned(),
            "x:1".to_owned(),
            "other/x:2".to_owned(),
            "localhost:5055/dg".to_owned(),
            "a.b_c/x:3".to_owned(),
            format!("r@{}", digest('d')),
            format!("localhost:5055/ld:whatever@{}", digest('7')),
        ] {
            let reference = parse(&text);
            assert_eq!(
                reference.stored_normalized(),
                reference.stored_form().normalized(),
                "{text}"
            );
        }
    }

    #[test]
    fn sixty_four_hex_digits_are_not_a_repository_name() {
        let hex = "0".repeat(64);
        assert_eq!(
            Reference::parse(&hex),
            Err(ReferenceError::HexadecimalName { input: hex.clone() })
        );
        // With a tag it is a name like any other.
        assert_eq!(parse(&format!("{hex}:1")).familiar(), format!("{hex}:1"));
    }

    #[test]
    fn a_first_part_with_a_dot_but_no_valid_host_is_read_as_a_path() {
        let reference = parse("a.b_c/x:1");
        assert_eq!(reference.domain, "");
        assert_eq!(reference.name(), "a.b_c/x");
        assert_eq!(reference.familiar(), "a.b_c/x:1");
    }

    #[test]
    fn blank_is_its_own_error() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Blank));
        assert_eq!(Reference::parse("  "), Err(ReferenceError::Blank));
    }

    #[test]
    fn display_is_the_familiar_form() {
        assert_eq!(parse("docker.io/library/x:1").to_string(), "x:1");
    }

    #[test]
    fn references_sort_tags_before_digests_of_the_same_repository() {
        let tag = parse("r:1").normalized();
        let by_digest = parse(&format!("r@{}", digest('d'))).normalized();
        assert!(tag < by_digest, "':' sorts before '@'");
    }
}
