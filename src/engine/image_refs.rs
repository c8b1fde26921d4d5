//! Looking up and setting one image's references: which image a tag names now, and tagging an
//! image again (`docker tag`), for restoring what a backup recorded.

use bollard::query_parameters::TagImageOptions;

use super::bounded::Within;
use super::{Engine, EngineError};

impl Engine {
    /// The full ID of the image `name` (a tag or an ID) names, `None` when there is none.
    pub async fn image_id_of(&self, name: &str) -> Result<Option<String>, EngineError> {
        match self
            .docker
            .inspect_image(name)
            .within(self.api_timeout(), "inspect an image")
            .await
        {
            Ok(image) => Ok(image.id),
            Err(error) => {
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// `docker tag IMAGE_ID REFERENCE`: points `reference` (`repo:tag`) at `image_id`.
    pub async fn tag_image(&self, image_id: &str, reference: &str) -> Result<(), EngineError> {
        let (repo, tag) = split_tag(reference);
        self.docker
            .tag_image(
                image_id,
                Some(TagImageOptions {
                    repo: Some(repo.to_string()),
                    tag: Some(tag.to_string()),
                }),
            )
            .within(self.api_timeout(), "tag an image")
            .await
    }
}

/// `repo:tag` → (`repo`, `tag`); the tag is after the last `:` that follows the last `/`
/// (a registry port is not a tag); `latest` when there is none.
pub(crate) fn split_tag(reference: &str) -> (&str, &str) {
    let name_start = reference.rfind('/').map(|slash| slash + 1).unwrap_or(0);
    match reference[name_start..].rfind(':') {
        Some(colon) => (
            &reference[..name_start + colon],
            &reference[name_start + colon + 1..],
        ),
        None => (reference, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::split_tag;

    #[test]
    fn a_registry_port_is_not_a_tag() {
        assert_eq!(split_tag("app:1"), ("app", "1"));
        assert_eq!(
            split_tag("localhost:5000/x/app:v2"),
            ("localhost:5000/x/app", "v2")
        );
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(split_tag("app"), ("app", "latest"));
    }
}
