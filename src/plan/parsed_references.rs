//! Reference texts parsed once per run. The hosts of a fleet list mostly the same names, so each
//! distinct text is parsed, and its store key formatted, once however many hosts list it, and
//! every host's planning model shares the result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::reference::Reference;

/// Distinct texts kept at most; past that, texts are parsed without being kept, so a run over
/// hosts that share no names costs what it did without the cache.
const KEPT_AT_MOST: usize = 100_000;

/// A reference in the form the engine's tag store keeps ([`Reference::into_stored_form`]), with
/// the key it is filed under ([`Reference::normalized`] of that form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredReference {
    pub(crate) reference: Arc<Reference>,
    pub(crate) key: Arc<str>,
}

impl StoredReference {
    pub(crate) fn new(reference: Reference) -> StoredReference {
        let reference = reference.into_stored_form();
        StoredReference {
            key: Arc::from(reference.normalized()),
            reference: Arc::new(reference),
        }
    }
}

/// `text` parsed into its stored form; `None` when it is no reference (the `<none>:<none>`
/// placeholder of old API versions, say).
pub(crate) fn stored_reference(text: &str) -> Option<StoredReference> {
    static PARSED: OnceLock<Mutex<HashMap<Box<str>, Option<StoredReference>>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(Mutex::default);
    if let Ok(kept) = parsed.lock()
        && let Some(known) = kept.get(text)
    {
        return known.clone();
    }
    let stored = Reference::parse(text).ok().map(StoredReference::new);
    if let Ok(mut kept) = parsed.lock()
        && kept.len() < KEPT_AT_MOST
    {
        kept.insert(text.into(), stored.clone());
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_parses_as_reference_parse_into_the_stored_form() {
        for text in ["x", "x:1", "other/x:1", "localhost:5055/dg:1"] {
            let stored = stored_reference(text).expect("a reference");
            let expected = Reference::parse(text).expect("parses").stored_form();
            assert_eq!(*stored.reference, expected, "{text}");
            assert_eq!(&*stored.key, expected.normalized(), "{text}");
        }
    }

    #[test]
    fn the_same_text_is_shared_and_a_bad_one_is_none() {
        let first = stored_reference("shared:1").expect("a reference");
        let again = stored_reference("shared:1").expect("a reference");
        assert!(Arc::ptr_eq(&first.reference, &again.reference));
        assert_eq!(stored_reference("<none>:<none>"), None);
        assert_eq!(stored_reference("<none>:<none>"), None);
    }
}
