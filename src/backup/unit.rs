//! What one archive must hold: the images one removal deletes (children first, as the engine
//! deletes them), with the tags they had, plus the kept parent whose link `docker load` should
//! restore; and the check that a saved archive holds exactly that.

use std::collections::BTreeSet;

use crate::snapshot::{Snapshot, short_id};

use super::archive::ArchiveContents;
use super::manifest::SavedImage;

/// The images to save into one archive, and how to ask the engine for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupUnit {
    /// What removes them (`rmi app:1`), recorded in the manifest.
    pub reason: String,
    /// The images the removal deletes, with their tags and digests before the run.
    pub images: Vec<SavedImage>,
    /// Kept parents saved by ID so that `docker load` links the saved images to them again.
    pub parents_kept: Vec<String>,
    /// The names for `GET /images/get`: an image's tags still present (so the archive carries
    /// them and a plain `docker load` restores them), else its ID; then the kept parents' IDs.
    pub names: Vec<String>,
    /// Σ `DiffSize` of every layer of the images: the archive, which holds each layer as an
    /// uncompressed tar, cannot be smaller.
    pub layer_bytes: u64,
}

impl BackupUnit {
    /// The unit for `image_ids` (as the plan deletes them) on the host of `snapshot`, where
    /// `gone_tags` were already removed by earlier removals of the same run.
    pub fn new(
        snapshot: &Snapshot,
        image_ids: &[String],
        gone_tags: &BTreeSet<String>,
        reason: &str,
    ) -> BackupUnit {
        let saved: BTreeSet<&str> = image_ids.iter().map(String::as_str).collect();
        let mut images = Vec::new();
        let mut parents_kept: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut layers: BTreeSet<&str> = BTreeSet::new();
        for id in image_ids {
            let Some(record) = snapshot.images.iter().find(|image| &image.id == id) else {
                continue;
            };
            let present: Vec<String> = record
                .repo_tags
                .iter()
                .filter(|tag| !gone_tags.contains(*tag))
                .cloned()
                .collect();
            if present.is_empty() {
                names.push(record.id.clone());
            } else {
                names.extend(present);
            }
            layers.extend(record.layers.iter().map(String::as_str));
            if let Some(parent) = &record.parent
                && !saved.contains(parent.as_str())
                && snapshot.images.iter().any(|image| &image.id == parent)
                && !parents_kept.contains(parent)
            {
                parents_kept.push(parent.clone());
            }
            images.push(SavedImage {
                id: record.id.clone(),
                tags: record.repo_tags.clone(),
                digests: record.repo_digests.clone(),
                parent: record.parent.clone(),
            });
        }
        names.extend(parents_kept.iter().cloned());
        let layer_bytes = layers
            .iter()
            .map(|layer| snapshot.layer_sizes.get(*layer).copied().unwrap_or(0))
            .sum();
        BackupUnit {
            reason: reason.to_string(),
            images,
            parents_kept,
            names,
            layer_bytes,
        }
    }

    /// `<hex of the first image>.tar`: the archive is named after the image the removal names.
    pub fn file_name(&self) -> String {
        let id = self
            .images
            .first()
            .map(|image| image.id.as_str())
            .unwrap_or("empty");
        format!("{}.tar", id.strip_prefix("sha256:").unwrap_or(id))
    }

    /// Whether a saved archive of `bytes` bytes holds exactly this unit: every image, no other
    /// (a tag moved to another image since the snapshot would bring one), the tags asked for,
    /// and at least the bytes of the images' layers.
    pub fn check(&self, contents: &ArchiveContents, bytes: u64) -> Result<(), String> {
        let expected: BTreeSet<&str> = self
            .images
            .iter()
            .map(|image| image.id.as_str())
            .chain(self.parents_kept.iter().map(String::as_str))
            .collect();
        for archived in &contents.images {
            if !expected.contains(archived.id.as_str()) {
                return Err(format!(
                    "the archive holds image {} which was not asked for (a tag moved since the \
                     host was read?)",
                    short_id(&archived.id)
                ));
            }
        }
        for image in &self.images {
            let Some(archived) = contents.images.iter().find(|a| a.id == image.id) else {
                return Err(format!("the archive lacks image {}", short_id(&image.id)));
            };
            let missing: Vec<&String> = self
                .names
                .iter()
                .filter(|name| image.tags.contains(name) && !archived.repo_tags.contains(name))
                .collect();
            if let Some(tag) = missing.first() {
                return Err(format!(
                    "the archive does not tag image {} as {tag}",
                    short_id(&image.id)
                ));
            }
        }
        if bytes < self.layer_bytes {
            return Err(format!(
                "{bytes} bytes is less than the images' layers ({} bytes)",
                self.layer_bytes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::archive::ArchivedImage;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, image_id};

    fn chain() -> Snapshot {
        SnapshotBuilder::new()
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image("a", ImageSpec::new().parent("base").layers(["B", "A"]))
            .image(
                "top",
                ImageSpec::new()
                    .tags(["chain:1", "chain:latest"])
                    .parent("a")
                    .layers(["B", "A", "T"]),
            )
            .layer_size("B", 100)
            .layer_size("A", 20)
            .layer_size("T", 3)
            .build()
    }

    fn unit(gone: &[&str]) -> BackupUnit {
        let gone = gone.iter().map(|tag| tag.to_string()).collect();
        BackupUnit::new(
            &chain(),
            &[image_id("top"), image_id("a")],
            &gone,
            "rmi chain:1",
        )
    }

    #[test]
    fn tagged_images_are_saved_by_tag_untagged_by_id_and_the_kept_parent_by_id() {
        let unit = unit(&[]);
        assert_eq!(
            unit.names,
            ["chain:1", "chain:latest", &image_id("a"), &image_id("base")]
        );
        assert_eq!(unit.parents_kept, [image_id("base")]);
        assert_eq!(unit.layer_bytes, 123);
        assert_eq!(unit.images[0].tags, ["chain:1", "chain:latest"]);
        assert!(unit.file_name().ends_with(".tar"));
        assert_eq!(unit.file_name().len(), 64 + 4);
    }

    #[test]
    fn tags_an_earlier_removal_took_are_recorded_but_not_asked_for() {
        let unit = unit(&["chain:latest"]);
        assert_eq!(unit.names[0], "chain:1");
        assert!(!unit.names.contains(&"chain:latest".to_string()));
        assert_eq!(unit.images[0].tags, ["chain:1", "chain:latest"]);
    }

    fn contents(images: &[(&str, &[&str])]) -> ArchiveContents {
        ArchiveContents {
            images: images
                .iter()
                .map(|(id, tags)| ArchivedImage {
                    id: id.to_string(),
                    repo_tags: tags.iter().map(|t| t.to_string()).collect(),
                })
                .collect(),
            tar_bytes: 0,
        }
    }

    #[test]
    fn an_archive_with_exactly_the_unit_passes() {
        let unit = unit(&[]);
        let archive = contents(&[
            (&image_id("top"), &["chain:1", "chain:latest"]),
            (&image_id("a"), &[]),
            (&image_id("base"), &[]),
        ]);
        assert_eq!(unit.check(&archive, 200), Ok(()));
    }

    #[test]
    fn a_moved_tag_a_missing_image_or_too_few_bytes_fail() {
        let unit = unit(&[]);
        let moved = contents(&[
            (&image_id("elsewhere"), &["chain:1"]),
            (&image_id("a"), &[]),
        ]);
        assert!(unit.check(&moved, 200).is_err());
        let missing = contents(&[(&image_id("top"), &["chain:1", "chain:latest"])]);
        assert!(
            unit.check(&missing, 200)
                .expect_err("missing")
                .contains("lacks")
        );
        let whole = contents(&[
            (&image_id("top"), &["chain:1", "chain:latest"]),
            (&image_id("a"), &[]),
        ]);
        assert!(unit.check(&whole, 122).expect_err("small").contains("123"));
    }
}
