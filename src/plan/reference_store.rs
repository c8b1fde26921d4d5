//! The engine's tag and digest store: which references point at which image.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::reference::Reference;

use super::parsed_references::StoredReference;

/// Tag and digest references, each pointing at one image ID.
///
/// Keys are the full normalised text of the stored form (`docker.io/library/x:1`,
/// `localhost:5055/dg@sha256:…`), so iterating an image's keys gives the engine's order for
/// `References()`: lexical order of the full names. Keys, image IDs and references are shared
/// (`Arc`), so a copy of the store (a plan's trial replay) copies no text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReferenceStore {
    by_reference: BTreeMap<Arc<str>, Stored>,
    by_image: BTreeMap<Arc<str>, BTreeSet<Arc<str>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    reference: Arc<Reference>,
    image_id: Arc<str>,
}

impl ReferenceStore {
    /// [`ReferenceStore::add_stored`] of a parsed reference.
    #[cfg(test)]
    pub(crate) fn add(&mut self, reference: &Reference, image_id: &str) {
        self.add_stored(StoredReference::new(reference.clone()), image_id);
    }

    /// Adds a reference to an image, replacing whatever it pointed at before.
    pub(crate) fn add_stored(&mut self, stored: StoredReference, image_id: &str) {
        let StoredReference { reference, key } = stored;
        self.remove_key(&key);
        let image_id = self
            .by_image
            .get_key_value(image_id)
            .map_or_else(|| Arc::from(image_id), |(shared, _)| Arc::clone(shared));
        self.by_image
            .entry(Arc::clone(&image_id))
            .or_default()
            .insert(Arc::clone(&key));
        self.by_reference.insert(
            key,
            Stored {
                reference,
                image_id,
            },
        );
    }

    /// The image a reference points at. `repo:tag@digest` is looked up by its digest alone, and
    /// a bare name as `name:latest`, as the engine's store does.
    pub(crate) fn get(&self, reference: &Reference) -> Option<&str> {
        self.by_reference
            .get(reference.stored_normalized().as_str())
            .map(|stored| &*stored.image_id)
    }

    /// Removes a reference (looked up like [`ReferenceStore::get`]); false when it was absent.
    pub(crate) fn delete(&mut self, reference: &Reference) -> bool {
        self.remove_key(&reference.stored_normalized())
    }

    fn remove_key(&mut self, key: &str) -> bool {
        let Some(stored) = self.by_reference.remove(key) else {
            return false;
        };
        if let Some(keys) = self.by_image.get_mut(&*stored.image_id) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_image.remove(&*stored.image_id);
            }
        }
        true
    }

    /// Every reference to an image, sorted by full normalised text (the engine's order).
    pub(crate) fn references(&self, image_id: &str) -> Vec<Reference> {
        self.each_reference(image_id).cloned().collect()
    }

    /// [`ReferenceStore::references`], borrowed.
    pub(crate) fn each_reference(&self, image_id: &str) -> impl Iterator<Item = &Reference> {
        self.by_image
            .get(image_id)
            .into_iter()
            .flatten()
            .filter_map(|key| self.by_reference.get(key))
            .map(|stored| &*stored.reference)
    }

    /// True when at least one reference points at the image.
    pub(crate) fn has_references(&self, image_id: &str) -> bool {
        self.by_image.contains_key(image_id)
    }
}

/// `isSingleReference`: at most one tag, and every digest in the repository of that tag (or,
/// with no tag, all digests in one repository). No references at all is not single.
pub(crate) fn is_single_reference<R: Borrow<Reference>>(references: &[R]) -> bool {
    if references.len() <= 1 {
        return references.len() == 1;
    }
    let mut tags = references
        .iter()
        .map(Borrow::borrow)
        .filter(|reference| reference.digest().is_none());
    let single = match (tags.next(), tags.next()) {
        (_, Some(_)) => return false,
        (Some(tag), None) => tag,
        (None, None) => references[0].borrow(),
    };
    let digest_repositories: BTreeSet<String> = references
        .iter()
        .map(Borrow::borrow)
        .filter(|reference| reference.digest().is_some())
        .map(Reference::name)
        .collect();
    digest_repositories.len() == 1 && digest_repositories.contains(&single.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(s: &str) -> Reference {
        Reference::parse(s).expect("test references are valid")
    }

    fn digest(fill: char) -> String {
        format!("sha256:{}", fill.to_string().repeat(64))
    }

    fn references(list: &[&str]) -> Vec<Reference> {
        list.iter().map(|s| reference(s)).collect()
    }

    #[test]
    fn references_come_back_in_lexical_order_of_full_names() {
        let mut store = ReferenceStore::default();
        for s in ["x:3", "other/x:1", "x:1", "localhost:5055/x:1"] {
            store.add(&reference(s), "sha256:i");
        }
        let familiar: Vec<String> = store
            .references("sha256:i")
            .iter()
            .map(Reference::familiar)
            .collect();
        // docker.io/library/x:1 < docker.io/library/x:3 < docker.io/other/x:1 < localhost:5055/x:1
        assert_eq!(familiar, ["x:1", "x:3", "other/x:1", "localhost:5055/x:1"]);
    }

    #[test]
    fn a_bare_name_is_looked_up_as_latest() {
        let mut store = ReferenceStore::default();
        store.add(&reference("y:latest"), "sha256:i");
        assert_eq!(store.get(&reference("y")), Some("sha256:i"));
        assert_eq!(store.get(&reference("y:1")), None);
    }

    #[test]
    fn tag_and_digest_is_looked_up_and_deleted_by_the_digest() {
        let mut store = ReferenceStore::default();
        store.add(&reference(&format!("r@{}", digest('d'))), "sha256:i");
        let with_tag = reference(&format!("r:1@{}", digest('d')));
        assert_eq!(store.get(&with_tag), Some("sha256:i"));
        assert!(store.delete(&with_tag));
        assert!(!store.has_references("sha256:i"));
    }

    #[test]
    fn single_reference_rules() {
        let d = digest('d');
        assert!(!is_single_reference::<Reference>(&[]));
        assert!(is_single_reference(&references(&["a:1"])));
        assert!(is_single_reference(&references(&[&format!("x@{d}")])));
        assert!(!is_single_reference(&references(&["a:1", "a:2"])));
        assert!(!is_single_reference(&references(&["a:1", "b/a:1"])));
        assert!(is_single_reference(&references(&[
            "r:1",
            &format!("r@{d}")
        ])));
        assert!(!is_single_reference(&references(&[
            "x:1",
            &format!("r@{d}")
        ])));
        assert!(is_single_reference(&references(&[
            &format!("r@{d}"),
            &format!("r@{}", digest('e'))
        ])));
        assert!(!is_single_reference(&references(&[
            &format!("r@{d}"),
            &format!("s@{d}")
        ])));
    }
}
