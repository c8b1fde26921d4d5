//! How the daemon reads the `{name}` of `DELETE /images/{name}` before it looks anything up.

use super::grammar::{is_hex64, validate_digest};
use super::{Reference, ReferenceError};

/// A `DELETE /images/{name}` argument that passed the daemon's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageArgument {
    /// 64 hex digits, or a full digest such as `sha256:<64 hex>`: only an image with exactly this
    /// ID matches. Holds the ID with its algorithm (`sha256:…`).
    ImageId(String),
    /// Anything else: looked up as a tag or digest reference first, then the original text as an
    /// image ID prefix.
    Reference(Reference),
}

impl ImageArgument {
    /// The name the daemon's 404 answer quotes: `No such image: <this>`. A reference with no tag
    /// and no digest gets `:latest`; an ID keeps its `sha256:`.
    pub fn not_found_name(&self) -> String {
        match self {
            ImageArgument::ImageId(id) => id.clone(),
            ImageArgument::Reference(reference) => reference.with_default_tag().familiar(),
        }
    }
}

/// Checks an argument the way dockerd 20.10 does before looking it up (the router's blank check,
/// then `reference.ParseAnyReference`). `Err` is what the daemon answers 400 for; its
/// [`ReferenceError::daemon_message`] is the daemon's exact message.
pub fn check_image_argument(s: &str) -> Result<ImageArgument, ReferenceError> {
    if s.trim().is_empty() {
        return Err(ReferenceError::Blank);
    }
    if is_hex64(s) {
        return Ok(ImageArgument::ImageId(format!("sha256:{s}")));
    }
    if validate_digest(s).is_ok() {
        return Ok(ImageArgument::ImageId(s.to_owned()));
    }
    Reference::parse(s).map(ImageArgument::Reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon_message(s: &str) -> String {
        check_image_argument(s)
            .expect_err("the argument is invalid")
            .daemon_message()
    }

    #[test]
    fn sixty_four_hex_digits_are_an_image_id_with_or_without_algorithm() {
        let hex = "8731c138".repeat(8);
        assert_eq!(
            check_image_argument(&hex),
            Ok(ImageArgument::ImageId(format!("sha256:{hex}")))
        );
        assert_eq!(
            check_image_argument(&format!("sha256:{hex}")),
            Ok(ImageArgument::ImageId(format!("sha256:{hex}")))
        );
    }

    #[test]
    fn a_full_sha512_digest_is_an_id_that_never_matches() {
        let digest = format!("sha512:{}", "0".repeat(128));
        assert_eq!(
            check_image_argument(&digest),
            Ok(ImageArgument::ImageId(digest.clone()))
        );
    }

    #[test]
    fn short_id_prefixes_are_read_as_references_first() {
        let argument = check_image_argument("552b95b686c0").expect("the argument is valid");
        assert_eq!(argument.not_found_name(), "552b95b686c0:latest");
        let argument = check_image_argument("sha256:0").expect("the argument is valid");
        assert_eq!(argument.not_found_name(), "sha256:0");
    }

    #[test]
    fn not_found_names_add_latest_only_without_tag_or_digest() {
        let name = |s: &str| {
            check_image_argument(s)
                .expect("the argument is valid")
                .not_found_name()
        };
        assert_eq!(name("y"), "y:latest");
        assert_eq!(name("nope:2"), "nope:2");
        assert_eq!(name("docker.io/library/nope:3"), "nope:3");
        let digest = format!("sha256:{}", "0".repeat(64));
        assert_eq!(name(&format!("nope@{digest}")), format!("nope@{digest}"));
        assert_eq!(name(&"0".repeat(64)), digest);
    }

    #[test]
    fn blank_and_space_only_names_are_blank() {
        assert_eq!(check_image_argument(""), Err(ReferenceError::Blank));
        assert_eq!(daemon_message(" "), "image name cannot be blank");
        assert_eq!(daemon_message("\t \n"), "image name cannot be blank");
    }

    #[test]
    fn observed_invalid_names_give_the_observed_messages() {
        assert_eq!(
            daemon_message("UPPER"),
            "invalid reference format: repository name must be lowercase"
        );
        for invalid in ["a:b:c", "-bad", "x@sha256:123", "a b", " la:1"] {
            assert_eq!(
                daemon_message(invalid),
                "invalid reference format",
                "{invalid}"
            );
        }
        assert_eq!(
            daemon_message(&format!("x:{}", "t".repeat(129))),
            "invalid reference format"
        );
        assert_eq!(
            daemon_message(&"a".repeat(256)),
            "repository name must not be more than 255 characters"
        );
    }
}
