//! Reference check, part one: how the engine finds the image a `DELETE /images/{name}` means.

use crate::reference::{DigestError, ImageArgument, validate_digest};

use super::api_error::ApiError;
use super::store::SimulatedStore;

/// The outcome of an ID prefix search.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PrefixMatch {
    None,
    One(String),
    /// Two or more images start with the prefix; the engine answers as if none did.
    Ambiguous,
}

impl SimulatedStore {
    /// `GetImage`: finds the full ID of the image `name` means, or the engine's 404.
    ///
    /// A full ID matches only exactly. Anything else is tried first as a tag or digest reference
    /// (a bare name as `name:latest`), then as an ID prefix of any length, with or without
    /// `sha256:`. An ambiguous prefix gets the same "No such image" answer as a missing image.
    pub fn find_image(&self, name: &str, argument: &ImageArgument) -> Result<String, ApiError> {
        let not_found = || ApiError::no_such_image(&argument.not_found_name());
        match argument {
            ImageArgument::ImageId(id) if self.contains_image(id) => Ok(id.clone()),
            ImageArgument::ImageId(_) => Err(not_found()),
            ImageArgument::Reference(reference) => {
                if let Some(id) = self.references.get(reference)
                    && self.contains_image(id)
                {
                    return Ok(id.to_owned());
                }
                match self.search_id_prefix(name) {
                    PrefixMatch::One(id) => Ok(id),
                    PrefixMatch::None | PrefixMatch::Ambiguous => Err(not_found()),
                }
            }
        }
    }

    /// The image store's `Search` (a digest set lookup): `term` is either a bare hex prefix, or
    /// `algorithm:prefix` when go-digest reads it as a digest of the wrong length.
    fn search_id_prefix(&self, term: &str) -> PrefixMatch {
        let (algorithm, prefix) = split_search_term(term);
        let mut matches = self.image_ids().filter(|id| {
            let (id_algorithm, hex) = id.split_once(':').unwrap_or(("", id));
            algorithm.is_none_or(|algorithm| algorithm == id_algorithm) && hex.starts_with(prefix)
        });
        match (matches.next(), matches.next()) {
            (None, _) => PrefixMatch::None,
            (Some(id), None) => PrefixMatch::One(id.to_owned()),
            (Some(_), Some(_)) => PrefixMatch::Ambiguous,
        }
    }
}

/// go-digest decides how the digest set reads a search term: when parsing it as a digest fails
/// with "invalid format" the whole term is the hex prefix; otherwise (valid, wrong length, or
/// unsupported algorithm) it is `algorithm:hex` and both must match.
fn split_search_term(term: &str) -> (Option<&str>, &str) {
    match validate_digest(term) {
        Err(DigestError::InvalidFormat | DigestError::NotLowercaseHex { .. }) => (None, term),
        _ => match term.split_once(':') {
            Some((algorithm, hex)) => (Some(algorithm), hex),
            None => (None, term),
        },
    }
}

/// `isImageIDPrefix`: the request goes by ID when the given text is a prefix of the image's ID,
/// with or without `sha256:`. A name that happens to be such a prefix (`sha`, or a tag like
/// `056a5` on image `056a58…`) therefore also takes the ID path.
pub(crate) fn is_image_id_prefix(image_id: &str, name: &str) -> bool {
    image_id.starts_with(name)
        || image_id
            .split_once(':')
            .is_some_and(|(_, hex)| hex.starts_with(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, id_with_prefix, image_id};
    use crate::reference::check_image_argument;

    fn find(store: &SimulatedStore, name: &str) -> Result<String, ApiError> {
        let argument = check_image_argument(name).expect("test names are valid");
        store.find_image(name, &argument)
    }

    fn store_with_ids(ids: &[(&str, String)]) -> SimulatedStore {
        let mut builder = SnapshotBuilder::new();
        for (key, id) in ids {
            builder = builder.image(key, ImageSpec::new().id(id).layers([*key]));
        }
        SimulatedStore::from_snapshot(&builder.build())
    }

    #[test]
    fn a_bare_name_means_latest_and_is_not_found_when_only_other_tags_exist() {
        let store = SimulatedStore::from_snapshot(
            &SnapshotBuilder::new()
                .image("y", ImageSpec::new().tags(["y:1"]))
                .build(),
        );
        let error = find(&store, "y").expect_err("the image is not found");
        assert_eq!(
            (error.status, error.message.as_str()),
            (404, "No such image: y:latest")
        );
    }

    #[test]
    fn one_hex_digit_finds_an_image_when_unique() {
        let store = store_with_ids(&[
            ("amb11", id_with_prefix("3d977ecc", "amb11")),
            ("amb4", id_with_prefix("056a58cb8db8", "amb4")),
        ]);
        assert_eq!(find(&store, "3"), Ok(id_with_prefix("3d977ecc", "amb11")));
        assert_eq!(
            find(&store, "sha256:3"),
            Ok(id_with_prefix("3d977ecc", "amb11"))
        );
    }

    #[test]
    fn an_ambiguous_prefix_is_not_found() {
        let store = store_with_ids(&[
            ("amb4", id_with_prefix("056a58cb8db8", "amb4")),
            ("amb12", id_with_prefix("05b43b885bac", "amb12")),
        ]);
        assert_eq!(
            find(&store, "0")
                .expect_err("the image is not found")
                .message,
            "No such image: 0:latest"
        );
        assert_eq!(
            find(&store, "sha256:0")
                .expect_err("the image is not found")
                .message,
            "No such image: sha256:0"
        );
        assert_eq!(
            find(&store, "056"),
            Ok(id_with_prefix("056a58cb8db8", "amb4"))
        );
    }

    #[test]
    fn a_full_id_matches_only_exactly() {
        let store = store_with_ids(&[("a", image_id("a"))]);
        let hex = image_id("a").trim_start_matches("sha256:").to_owned();
        assert_eq!(find(&store, &hex), Ok(image_id("a")));
        let zeros = "0".repeat(64);
        assert_eq!(
            find(&store, &zeros)
                .expect_err("the image is not found")
                .message,
            format!("No such image: sha256:{zeros}")
        );
    }

    #[test]
    fn a_tag_beats_an_id_prefix() {
        let snapshot = SnapshotBuilder::new()
            .image(
                "amb4",
                ImageSpec::new().id(&id_with_prefix("056a58cb8db8", "amb4")),
            )
            .image(
                "amb12",
                ImageSpec::new()
                    .id(&id_with_prefix("05b43b885bac", "amb12"))
                    .tags(["056a:latest"]),
            )
            .build();
        let store = SimulatedStore::from_snapshot(&snapshot);
        assert_eq!(
            find(&store, "056a"),
            Ok(id_with_prefix("05b43b885bac", "amb12"))
        );
    }

    #[test]
    fn other_algorithms_and_non_hex_terms_match_nothing() {
        let store = store_with_ids(&[("a", id_with_prefix("abc", "a"))]);
        assert!(find(&store, "sha512:abc").is_err());
        assert!(find(&store, "abc:latest").is_err());
        assert!(find(&store, "md5:abc").is_err());
        assert_eq!(find(&store, "ab"), Ok(id_with_prefix("abc", "a")));
    }

    #[test]
    fn id_prefix_test_accepts_the_algorithm_or_not() {
        let id = format!("sha256:056a58{}", "0".repeat(58));
        assert!(is_image_id_prefix(&id, "056a5"));
        assert!(is_image_id_prefix(&id, "sha256:056a"));
        assert!(is_image_id_prefix(&id, "sha"));
        assert!(!is_image_id_prefix(&id, "056a:latest"));
        assert!(!is_image_id_prefix(&id, "05b4"));
    }
}
