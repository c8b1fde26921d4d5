//! How Podman's compat `DELETE /images/{name}` finds the image it means (libimage's
//! `LookupImage` after the handler's Docker Hub normalisation), and the arguments whose answer
//! fleetrmi cannot predict on this engine.
//!
//! Podman's names are its `RepoTags` (a pulled digest is one of them), in its own order; the
//! store keeps them as its image records' `repo_tags` (and as its references). The digests
//! Podman only records (`RepoDigests`) are not names; the records keep them as `repo_digests`.

use crate::reference::{ImageArgument, Reference, ReferenceError, check_image_argument};

use super::api_error::ApiError;
use super::store::SimulatedStore;

/// The image a request means and how it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodmanTarget {
    pub(crate) image_id: String,
    /// The name that matched (familiar form); `None` when found by ID or ID prefix.
    pub(crate) name: Option<String>,
}

/// Podman's status for a failure that is neither "not found" nor "in use".
pub(crate) const INTERNAL_ERROR: u16 = 500;

impl SimulatedStore {
    /// The names of an image in Podman's order (familiar form).
    pub(crate) fn podman_names(&self, image_id: &str) -> Vec<String> {
        self.images
            .get(image_id)
            .map(|image| image.repo_tags.clone())
            .unwrap_or_default()
    }

    /// How to send one of an image's names so that Podman's lookup finds exactly that name: as
    /// it is when it does, else fully qualified (a short name means a `localhost/` image first,
    /// and may resolve through another registry).
    pub(crate) fn podman_exact_name(&self, image_id: &str, name: &str) -> String {
        let finds_it = self.podman_find(name).is_ok_and(|target| {
            target.image_id == image_id && target.name.as_deref() == Some(name)
        });
        if finds_it && self.podman_lookup_caveat(name).is_none() {
            return name.to_owned();
        }
        normalized(name).unwrap_or_else(|| name.to_owned())
    }

    /// The image `name` means on Podman, or Podman's error answer.
    pub(crate) fn podman_find(&self, name: &str) -> Result<PodmanTarget, ApiError> {
        let by_id = |image_id: &str| PodmanTarget {
            image_id: image_id.to_owned(),
            name: None,
        };
        match check_image_argument(name) {
            Err(error) => Err(bad_reference(&error)),
            Ok(ImageArgument::ImageId(id)) if self.contains_image(&id) => Ok(by_id(&id)),
            Ok(ImageArgument::ImageId(id)) => {
                Err(not_found(name, &format!("docker.io/library/{id}")))
            }
            Ok(ImageArgument::Reference(reference)) => {
                if let Some(target) = candidates(name, &reference)
                    .iter()
                    .find_map(|candidate| self.podman_name_match(candidate))
                {
                    return Ok(target);
                }
                match self.podman_id_prefix_matches(name).as_slice() {
                    [only] => Ok(by_id(only)),
                    _ => Err(not_found(name, &not_found_form(&reference))),
                }
            }
        }
    }

    /// The image one of whose names is the reference (`:latest` added to a bare name, the tag
    /// of `name:tag@digest` ignored).
    fn podman_name_match(&self, reference: &Reference) -> Option<PodmanTarget> {
        let wanted = reference.stored_form().normalized();
        self.images.values().find_map(|image| {
            image
                .repo_tags
                .iter()
                .find(|name| normalized(name).is_some_and(|name| name == wanted))
                .map(|name| PodmanTarget {
                    image_id: image.id.clone(),
                    name: Some(name.clone()),
                })
        })
    }

    /// Images whose bare hex ID starts with `text` (only when `text` is lowercase hex).
    fn podman_id_prefix_matches(&self, text: &str) -> Vec<String> {
        if text.is_empty()
            || !text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Vec::new();
        }
        self.image_ids()
            .filter(|id| id.trim_start_matches("sha256:").starts_with(text))
            .map(str::to_owned)
            .collect()
    }

    /// Why Podman's answer to `name` cannot be predicted exactly here, if it cannot: lookups
    /// libimage resolves by rules fleetrmi does not model (short names it may find under another
    /// registry, digests it matches in any repository, ambiguous ID prefixes) and error texts
    /// not observed.
    pub(crate) fn podman_lookup_caveat(&self, name: &str) -> Option<&'static str> {
        let reference = match check_image_argument(name) {
            Err(ReferenceError::Uppercase { .. }) => return None,
            Err(_) => return Some("Podman's answer to this malformed name was not observed"),
            Ok(ImageArgument::ImageId(id)) if !self.contains_image(&id) => {
                return Some("Podman's answer to an unknown full image ID was not observed");
            }
            Ok(ImageArgument::ImageId(_)) => return None,
            Ok(ImageArgument::Reference(_)) if name.starts_with("sha256:") => {
                return Some("Podman's answer to a short `sha256:` prefix was not observed");
            }
            Ok(ImageArgument::Reference(reference)) => reference,
        };
        let candidates = candidates(name, &reference);
        let found = candidates
            .iter()
            .any(|candidate| self.podman_name_match(candidate).is_some());
        if !has_explicit_domain(name) && self.has_name_elsewhere(&candidates, found) {
            return Some(
                "Podman resolves a short name through its aliases and search registries, and \
                 another registry has an image by this name",
            );
        }
        if found {
            return None;
        }
        if self.podman_id_prefix_matches(name).len() > 1 {
            return Some("Podman's answer to an ID prefix several images share was not observed");
        }
        if let Some(digest) = reference.digest()
            && self.images.values().any(|image| {
                image.repo_digests.iter().any(|recorded| {
                    Reference::parse(recorded).is_ok_and(|other| other.digest() == Some(digest))
                })
            })
        {
            return Some(
                "Podman also finds an image by a digest it only records (not one of its names), \
                 in any repository",
            );
        }
        None
    }

    /// Some image has a name with the candidates' tag or digest whose repository ends like
    /// theirs but is none of them (`quay.io/x/app:1` for `app:1`). When a candidate is a name,
    /// only a registry other than Docker Hub (an alias, a search registry) can win over it;
    /// otherwise libimage's last resort finds any repository ending like it.
    fn has_name_elsewhere(&self, candidates: &[Reference], found: bool) -> bool {
        let Some(wanted) = candidates.last() else {
            return false;
        };
        let suffix = format!("/{}", wanted.familiar_name());
        let repositories: Vec<String> = candidates.iter().map(Reference::name).collect();
        self.images
            .values()
            .flat_map(|image| &image.repo_tags)
            .any(|name| {
                Reference::parse(name).is_ok_and(|other| {
                    let other = other.stored_form();
                    other.tag() == wanted.tag()
                        && other.digest() == wanted.digest()
                        && !repositories.contains(&other.name())
                        && (other.path() == wanted.path() || other.name().ends_with(&suffix))
                        && (!found || other.domain() != wanted.domain())
                })
            })
    }
}

/// The names libimage tries for the text given, in order: a short name (no registry given)
/// under `localhost/` first, then on Docker Hub; a full name as it is. The last is the
/// reference itself.
fn candidates(name: &str, reference: &Reference) -> Vec<Reference> {
    let mut candidates = Vec::new();
    if !has_explicit_domain(name)
        && let Ok(local) = Reference::parse(&format!("localhost/{}", reference.familiar()))
    {
        candidates.push(local);
    }
    candidates.push(reference.clone());
    candidates
}

/// A name's full normalised text in stored form (`docker.io/library/app:1`).
pub(crate) fn normalized(name: &str) -> Option<String> {
    Reference::parse(name)
        .ok()
        .map(|reference| reference.stored_form().normalized())
}

/// Whether the text names its registry (`localhost/…`, `host:5000/…`, `quay.io/…`).
fn has_explicit_domain(name: &str) -> bool {
    name.split_once('/').is_some_and(|(first, _)| {
        first == "localhost" || first.contains('.') || first.contains(':')
    })
}

/// The name Podman's "image not known" quotes: Docker Hub normalised, without a default tag,
/// and without the tag of `name:tag@digest`.
fn not_found_form(reference: &Reference) -> String {
    match reference.digest() {
        Some(_) => reference.stored_form().normalized(),
        None => reference.normalized(),
    }
}

fn not_found(name: &str, normalized: &str) -> ApiError {
    ApiError {
        status: ApiError::NOT_FOUND,
        message: format!("failed to find image {name}: {normalized}: image not known"),
    }
}

/// A name the reference grammar refuses: Podman answers 500 from its normalisation.
fn bad_reference(error: &ReferenceError) -> ApiError {
    let cause = match error {
        ReferenceError::Uppercase { .. } => "repository name must be lowercase".to_owned(),
        other => other.daemon_message(),
    };
    ApiError {
        status: INTERNAL_ERROR,
        message: format!("normalizing image: normalizing name for compat API: {cause}"),
    }
}
