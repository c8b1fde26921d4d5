//! Layer analysis: the engine's reference-counted layer store, which decides which layers a
//! deleted image actually frees on disk.

use std::collections::BTreeMap;

/// Read-only layers by chain ID, each with its parent and a reference count.
///
/// A layer's holders are the images whose top layer it is, its child layers, and the read-write
/// layers of containers made from an image whose top layer it is. A container keeps holding
/// that layer after its image record is force-deleted, which is why such a delete frees nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LayerStore {
    layers: BTreeMap<String, Layer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    parent: Option<String>,
    references: usize,
}

impl LayerStore {
    /// Records the layers of one image chain (chain IDs, oldest first). Each layer seen for the
    /// first time takes a reference on its parent, as a child layer does in the engine.
    pub(crate) fn register_chain(&mut self, chain: &[String]) {
        let mut parent: Option<&String> = None;
        for chain_id in chain {
            if !self.layers.contains_key(chain_id) {
                if let Some(parent_layer) = parent.and_then(|id| self.layers.get_mut(id)) {
                    parent_layer.references += 1;
                }
                self.layers.insert(
                    chain_id.clone(),
                    Layer {
                        parent: parent.cloned(),
                        references: 0,
                    },
                );
            }
            parent = Some(chain_id);
        }
    }

    /// Takes one reference on a layer (an image's top layer, or a container's base layer).
    pub(crate) fn retain(&mut self, chain_id: &str) {
        if let Some(layer) = self.layers.get_mut(chain_id) {
            layer.references += 1;
        }
    }

    /// Drops one reference on a layer. A layer whose count reaches zero is removed and drops its
    /// reference on its parent, and so on down the chain. Returns the removed chain IDs, top
    /// layer first, as the engine lists them in `Deleted` records.
    pub(crate) fn release(&mut self, chain_id: &str) -> Vec<String> {
        let mut freed = Vec::new();
        let mut current = Some(chain_id.to_owned());
        while let Some(id) = current.take() {
            let Some(layer) = self.layers.get_mut(&id) else {
                break;
            };
            layer.references = layer.references.saturating_sub(1);
            if layer.references > 0 {
                break;
            }
            if let Some(layer) = self.layers.remove(&id) {
                current = layer.parent;
            }
            freed.push(id);
        }
        freed
    }

    /// True while the layer is on disk.
    pub(crate) fn contains(&self, chain_id: &str) -> bool {
        self.layers.contains_key(chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn releasing_the_only_image_frees_its_chain_top_down() {
        let mut store = LayerStore::default();
        store.register_chain(&chain(&["a", "b", "c"]));
        store.retain("c");
        assert_eq!(store.release("c"), ["c", "b", "a"]);
        assert!(!store.contains("a"));
    }

    #[test]
    fn the_walk_stops_at_a_layer_another_image_uses_as_top() {
        let mut store = LayerStore::default();
        store.register_chain(&chain(&["a"]));
        store.retain("a");
        store.register_chain(&chain(&["a", "b"]));
        store.retain("b");
        assert_eq!(store.release("b"), ["b"]);
        assert!(store.contains("a"));
        assert_eq!(store.release("a"), ["a"]);
    }

    #[test]
    fn the_walk_stops_at_a_layer_with_another_child() {
        let mut store = LayerStore::default();
        store.register_chain(&chain(&["a", "b"]));
        store.retain("b");
        store.register_chain(&chain(&["a", "c"]));
        store.retain("c");
        assert_eq!(store.release("b"), ["b"]);
        assert_eq!(store.release("c"), ["c", "a"]);
    }

    #[test]
    fn two_images_with_the_same_top_layer_free_it_only_with_the_second() {
        let mut store = LayerStore::default();
        store.register_chain(&chain(&["a"]));
        store.retain("a");
        store.retain("a");
        assert!(store.release("a").is_empty());
        assert_eq!(store.release("a"), ["a"]);
    }

    #[test]
    fn a_container_keeps_its_image_layers_after_the_image_goes() {
        let mut store = LayerStore::default();
        store.register_chain(&chain(&["a", "b"]));
        store.retain("b"); // the image
        store.retain("b"); // the container's read-write layer
        assert!(store.release("b").is_empty());
        assert!(store.contains("a") && store.contains("b"));
    }
}
