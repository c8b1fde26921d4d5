//! What a real `rmi` must learn of a host's layers before it removes anything: the layer chains
//! its removals can free and the images that could share those layers, and nothing else, so the
//! plan stays exact at a few API calls per host instead of two per image on the host.
//!
//! The listed state (`/images/json?all=1`, `/containers/json?all=1`) already decides everything
//! but layers: which names resolve, conflicts, which images are deleted, parent pruning. Layers
//! only decide the `Deleted` layer records and the bytes. So [`LayerScope`] asks, in rounds:
//! 1. the chains of the images the removals delete, and of their ancestors (`Parent` links:
//!    a child's chain extends its parent's, so a remaining parent holds a prefix);
//! 2. layer sizes, from the images' own `Size` (Σ `DiffSize` of the chain) wherever a step adds
//!    one layer, and the history of a deleted image only where that cannot tell;
//! 3. the chains of the other images that could hold a layer the removals drop: an image can
//!    hold a layer only if its `Size` is at least the size of the chain up to that layer, so
//!    only images at least that large are asked about.
//!
//! Learning more chains only adds holders, so the layers dropped can only shrink: after round
//! 3 every image that could hold one of them is known, and the plan is the one a full snapshot
//! gives.

use std::collections::{BTreeMap, BTreeSet};

use crate::snapshot::Snapshot;

use super::planned_removal::PlannedRemoval;
use super::removal::{RemovalPlan, plan_removal_on, replay};
use super::request::RemovalRequest;
use super::store::SimulatedStore;

/// What the scope needs next from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerNeed {
    /// Inspect these images (full IDs) for their layer chains.
    Chains(Vec<String>),
    /// Read these images' history for the sizes of their layers.
    Sizes(Vec<String>),
    /// The snapshot now holds everything the plan reads.
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    Start,
    DeletedChains,
    Sizes,
    Sharers,
    Done,
}

/// A host's listed state, completed round by round with just the layers a removal can touch.
#[derive(Debug, Clone)]
pub struct LayerScope {
    snapshot: Snapshot,
    request: RemovalRequest,
    /// Images whose chains are known.
    known: BTreeSet<String>,
    /// Images the removals delete.
    deleted: BTreeSet<String>,
    /// The planning model of the listed state, loaded once in the first round and completed
    /// with the layers learned by [`Self::into_plan`], so the plan need not load it again.
    store: Option<SimulatedStore>,
    /// The first round's replay, when it deletes nothing: layers decide only what deleted
    /// images free, so that replay is already the plan.
    deleting_nothing: Option<Vec<PlannedRemoval>>,
    round: Round,
}

impl LayerScope {
    /// `listed` has every image (with `Size`, chains unknown) and every container.
    pub fn new(listed: Snapshot, request: &RemovalRequest) -> Self {
        LayerScope {
            snapshot: listed,
            request: request.clone(),
            known: BTreeSet::new(),
            deleted: BTreeSet::new(),
            store: None,
            deleting_nothing: None,
            round: Round::Start,
        }
    }

    /// The next question for the engine; call after learning the answers to the previous one.
    pub fn next_need(&mut self) -> LayerNeed {
        loop {
            match self.round {
                Round::Start => {
                    let store = SimulatedStore::without_layers(&self.snapshot);
                    let mut replayed = store.clone();
                    let removals = replay(&mut replayed, &self.request);
                    self.deleted = replayed.deleted_images().iter().cloned().collect();
                    if self.deleted.is_empty() {
                        self.deleting_nothing = Some(removals);
                        self.round = Round::Done;
                        continue;
                    }
                    self.store = Some(store);
                    self.round = Round::DeletedChains;
                    let mut wanted = self.with_ancestors(&self.deleted);
                    if !wanted.is_empty() {
                        wanted.extend(self.likely_sharers(&wanted));
                        return LayerNeed::Chains(wanted);
                    }
                }
                Round::DeletedChains => {
                    self.derive_sizes();
                    self.round = Round::Sizes;
                    let unsized_chains: Vec<String> = self
                        .deleted
                        .iter()
                        .filter(|id| self.has_unknown_sizes(id))
                        .cloned()
                        .collect();
                    if !unsized_chains.is_empty() {
                        return LayerNeed::Sizes(unsized_chains);
                    }
                }
                Round::Sizes => {
                    self.round = Round::Sharers;
                    let sharers = self.possible_sharers();
                    if !sharers.is_empty() {
                        return LayerNeed::Chains(sharers);
                    }
                }
                Round::Sharers => {
                    self.derive_sizes();
                    self.round = Round::Done;
                }
                Round::Done => return LayerNeed::Complete,
            }
        }
    }

    /// Records an image's layer chain (chain IDs, oldest first).
    pub fn learn_chain(&mut self, image_id: &str, chain: Vec<String>) {
        if let Some(image) = self.snapshot.images.iter_mut().find(|i| i.id == image_id) {
            image.layers = chain;
            self.known.insert(image_id.to_owned());
        }
    }

    /// Records the `DiffSize` of each layer of an image's chain, oldest first.
    pub fn learn_sizes(&mut self, image_id: &str, sizes: &[u64]) {
        let Some(image) = self.snapshot.images.iter().find(|i| i.id == image_id) else {
            return;
        };
        for (layer, size) in image.layers.iter().zip(sizes) {
            self.snapshot
                .layer_sizes
                .entry(layer.clone())
                .or_insert(*size);
        }
    }

    /// How many layers an image's known chain has (0 while unknown).
    pub fn chain_len(&self, image_id: &str) -> usize {
        self.snapshot
            .images
            .iter()
            .find(|image| image.id == image_id)
            .map_or(0, |image| image.layers.len())
    }

    /// The completed snapshot and the plan on it, the one [`super::plan_removal`] makes on
    /// a full snapshot.
    pub fn into_plan(self) -> (Snapshot, RemovalPlan) {
        if let Some(removals) = self.deleting_nothing {
            return (self.snapshot, RemovalPlan::deleting_nothing(removals));
        }
        let request = self.request.clone();
        let (snapshot, store) = self.into_planning();
        let plan = plan_removal_on(store, &snapshot, &request);
        (snapshot, plan)
    }

    /// The completed snapshot, and the planning model loaded from it.
    fn into_planning(self) -> (Snapshot, SimulatedStore) {
        let mut store = self
            .store
            .unwrap_or_else(|| SimulatedStore::without_layers(&self.snapshot));
        store.load_layers(&self.snapshot);
        (self.snapshot, store)
    }

    /// The given images and every image up their `Parent` links, minus those already known.
    fn with_ancestors(&self, images: &BTreeSet<String>) -> Vec<String> {
        let parents: BTreeMap<&str, &str> = self
            .snapshot
            .images
            .iter()
            .filter_map(|image| Some((image.id.as_str(), image.parent.as_deref()?)))
            .collect();
        let listed: BTreeSet<&str> = self.snapshot.images.iter().map(|i| i.id.as_str()).collect();
        let mut wanted = BTreeSet::new();
        for image in images {
            let mut current = Some(image.as_str());
            while let Some(id) = current.filter(|id| listed.contains(id)) {
                if !wanted.insert(id.to_owned()) {
                    break;
                }
                current = parents.get(id).copied();
            }
        }
        wanted
            .into_iter()
            .filter(|id| !self.known.contains(id))
            .collect()
    }

    /// Fills in layer sizes from the known chains and the images' `Size`: the chain up to an
    /// image's top layer weighs exactly that image's `Size`, so a layer between two known
    /// cumulative sizes weighs their difference.
    fn derive_sizes(&mut self) {
        let chains: Vec<(Vec<String>, u64)> = self
            .snapshot
            .images
            .iter()
            .filter(|image| self.known.contains(&image.id) && !image.layers.is_empty())
            .map(|image| (image.layers.clone(), image.size))
            .collect();
        let mut cumulative: BTreeMap<String, u64> = BTreeMap::new();
        for (chain, size) in &chains {
            if let Some(top) = chain.last() {
                cumulative.insert(top.clone(), *size);
            }
        }
        let sizes = &mut self.snapshot.layer_sizes;
        let mut changed = true;
        while changed {
            changed = false;
            for (chain, _) in &chains {
                for (index, layer) in chain.iter().enumerate() {
                    let below = match index {
                        0 => Some(0),
                        _ => cumulative.get(&chain[index - 1]).copied(),
                    };
                    let Some(below) = below else { continue };
                    if !sizes.contains_key(layer)
                        && let Some(&total) = cumulative.get(layer)
                        && total >= below
                    {
                        sizes.insert(layer.clone(), total - below);
                        changed = true;
                    }
                    if !cumulative.contains_key(layer)
                        && let Some(&size) = sizes.get(layer)
                    {
                        cumulative.insert(layer.clone(), below + size);
                        changed = true;
                    }
                }
            }
        }
    }

    fn has_unknown_sizes(&self, image_id: &str) -> bool {
        self.snapshot
            .images
            .iter()
            .find(|image| image.id == image_id)
            .is_some_and(|image| {
                image
                    .layers
                    .iter()
                    .any(|layer| !self.snapshot.layer_sizes.contains_key(layer))
            })
    }

    /// Images at least as large as the smallest deleted image, read in the same wave as the
    /// deleted chains: when a deleted image's own top layer is dropped, the chain up to it
    /// weighs its `Size`, so these are among [`Self::possible_sharers`] and reading them early
    /// usually leaves that second wave empty.
    fn likely_sharers(&self, wanted: &[String]) -> Vec<String> {
        let size_of = |id: &String| {
            self.snapshot
                .images
                .iter()
                .find(|image| &image.id == id)
                .map(|image| image.size)
        };
        let Some(smallest) = self.deleted.iter().filter_map(size_of).min() else {
            return Vec::new();
        };
        self.snapshot
            .images
            .iter()
            .filter(|image| {
                image.size >= smallest
                    && !self.known.contains(&image.id)
                    && !wanted.contains(&image.id)
            })
            .map(|image| image.id.clone())
            .collect()
    }

    /// Images not yet known that are at least as large as the chain up to some layer the
    /// removals drop: only those can hold such a layer.
    /// Replaying the removals deletes exactly [`Self::deleted`] (deletion never depends on
    /// layers), so the layers dropped are those of the deleted images that no other image uses.
    fn possible_sharers(&self) -> Vec<String> {
        if self.deleted.is_empty() {
            return Vec::new();
        }
        let kept: BTreeSet<&String> = self
            .snapshot
            .images
            .iter()
            .filter(|image| !self.deleted.contains(&image.id))
            .flat_map(|image| &image.layers)
            .collect();
        let dropped: BTreeSet<&String> = self
            .snapshot
            .images
            .iter()
            .filter(|image| self.deleted.contains(&image.id))
            .flat_map(|image| &image.layers)
            .filter(|layer| !kept.contains(layer))
            .collect();
        let mut threshold: Option<u64> = None;
        for image in &self.snapshot.images {
            let mut weight = 0;
            for layer in &image.layers {
                weight += self.snapshot.layer_sizes.get(layer).copied().unwrap_or(0);
                if dropped.contains(layer) {
                    threshold = Some(threshold.map_or(weight, |t: u64| t.min(weight)));
                }
            }
        }
        let Some(threshold) = threshold else {
            return Vec::new();
        };
        self.snapshot
            .images
            .iter()
            .filter(|image| !self.known.contains(&image.id) && image.size >= threshold)
            .map(|image| image.id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::removal::plan_removal;
    use crate::plan::test_support::{ImageSpec, SnapshotBuilder, image_id, request};

    /// The listed state of a full snapshot: every image with its `Size`, no chains, no sizes.
    fn listed(full: &Snapshot) -> Snapshot {
        let mut listed = full.clone();
        for image in &mut listed.images {
            image.layers.clear();
        }
        listed.layer_sizes.clear();
        listed
    }

    /// Answers the scope's questions from the full snapshot, as the engine would; returns the
    /// plan on what the scope learned and how many inspect and history calls it asked for.
    fn plan_with_scope(full: &Snapshot, request: &RemovalRequest) -> (RemovalPlan, usize, usize) {
        let mut scope = LayerScope::new(listed(full), request);
        let (mut inspects, mut histories) = (0, 0);
        loop {
            match scope.next_need() {
                LayerNeed::Chains(ids) => {
                    for id in ids {
                        inspects += 1;
                        let image = full.images.iter().find(|i| i.id == id).expect("listed");
                        scope.learn_chain(&id, image.layers.clone());
                    }
                }
                LayerNeed::Sizes(ids) => {
                    for id in ids {
                        histories += 1;
                        let image = full.images.iter().find(|i| i.id == id).expect("listed");
                        let sizes: Vec<u64> =
                            image.layers.iter().map(|l| full.layer_sizes[l]).collect();
                        scope.learn_sizes(&id, &sizes);
                    }
                }
                LayerNeed::Complete => break,
            }
        }
        if scope.deleting_nothing.is_none() {
            let (snapshot, store) = scope.clone().into_planning();
            assert_eq!(
                store,
                SimulatedStore::from_snapshot(&snapshot),
                "the store handed over is the one the snapshot loads"
            );
        }
        (scope.into_plan().1, inspects, histories)
    }

    /// A base, legacy builds on it (one layer each), an untagged chain, two imports of one
    /// layer, an unrelated import, and containers.
    fn fleet() -> SnapshotBuilder {
        SnapshotBuilder::new()
            .layer_size("B", 2_000_000)
            .layer_size("a1", 200)
            .layer_size("a2", 300)
            .layer_size("a3", 400)
            .layer_size("k", 350)
            .layer_size("c1", 100)
            .layer_size("c2", 250)
            .layer_size("S", 512_000)
            .layer_size("U", 358_000)
            .layer_size("r", 50)
            .image("base", ImageSpec::new().tags(["base:1"]).layers(["B"]))
            .image(
                "a1",
                ImageSpec::new()
                    .tags(["app:1"])
                    .parent("base")
                    .layers(["B", "a1"]),
            )
            .image(
                "a2",
                ImageSpec::new()
                    .tags(["app:2"])
                    .parent("base")
                    .layers(["B", "a2"]),
            )
            .image(
                "a3",
                ImageSpec::new()
                    .tags(["app:3", "app:latest"])
                    .parent("base")
                    .layers(["B", "a3"]),
            )
            .image(
                "keep",
                ImageSpec::new()
                    .tags(["purge:keep"])
                    .parent("base")
                    .layers(["B", "k"]),
            )
            .image("ia", ImageSpec::new().parent("base").layers(["B", "c1"]))
            .image(
                "ib",
                ImageSpec::new().parent("ia").layers(["B", "c1", "c2"]),
            )
            .image(
                "chain",
                ImageSpec::new()
                    .tags(["chain:1"])
                    .parent("ib")
                    .layers(["B", "c1", "c2"]),
            )
            .image("s1", ImageSpec::new().tags(["shared:1"]).layers(["S"]))
            .image("s2", ImageSpec::new().tags(["shared:2"]).layers(["S"]))
            .image("u", ImageSpec::new().tags(["unique:1"]).layers(["U"]))
            .image(
                "run",
                ImageSpec::new()
                    .tags(["run:1"])
                    .parent("base")
                    .layers(["B", "r"]),
            )
            .running("c-run", "run")
    }

    fn assert_same_plan(images: &[&str], force: bool, no_prune: bool) -> (usize, usize) {
        let full = fleet().build();
        let request = request(images, force, no_prune);
        let (plan, inspects, histories) = plan_with_scope(&full, &request);
        assert_eq!(plan, plan_removal(&full, &request), "{images:?}");
        (inspects, histories)
    }

    #[test]
    fn untagging_only_needs_no_layer() {
        assert_eq!(assert_same_plan(&["app:latest"], false, false), (0, 0));
    }

    #[test]
    fn deleting_tags_learns_their_chains_the_base_and_larger_images_only() {
        let (inspects, histories) = assert_same_plan(&["app:1", "app:2"], false, false);
        // app:1, app:2, base; then the images at least as large as B + a1: app:3, purge:keep,
        // the chain's intermediate B, chain:1, run:1 is smaller (B + 50).
        assert_eq!(inspects, 3 + 4);
        assert_eq!(histories, 0, "sizes come from Size differences");
    }

    #[test]
    fn a_layer_shared_without_a_parent_link_is_found() {
        assert_same_plan(&["shared:1"], false, false);
        assert_same_plan(&["shared:1", "shared:2"], false, false);
        let full = fleet().build();
        let (plan, _, _) = plan_with_scope(&full, &request(&["shared:1"], false, false));
        assert!(
            plan.freed_layers.is_empty(),
            "shared:2 still holds the layer"
        );
    }

    #[test]
    fn chains_with_pruned_parents_and_no_prune() {
        assert_same_plan(&["chain:1"], false, false);
        assert_same_plan(&["chain:1"], false, true);
    }

    #[test]
    fn conflicts_and_forced_removals_match_the_full_plan() {
        let (run, base) = (image_id("run"), image_id("base"));
        for images in [
            vec!["run:1"],
            vec![run.as_str()],
            vec![base.as_str()],
            vec!["base:1", "app:1", "nope:1"],
            vec!["unique:1", "purge:keep", "app:3", "app:latest"],
        ] {
            assert_same_plan(&images, false, false);
            assert_same_plan(&images, true, false);
        }
    }

    #[test]
    fn a_step_of_several_layers_asks_for_history() {
        // An image with two layers of its own over its parent: sizes not derivable.
        let full = SnapshotBuilder::new()
            .layer_size("P", 1000)
            .layer_size("x", 10)
            .layer_size("y", 20)
            .image("p", ImageSpec::new().tags(["p:1"]).layers(["P"]))
            .image(
                "c",
                ImageSpec::new()
                    .tags(["c:1"])
                    .parent("p")
                    .layers(["P", "x", "y"]),
            )
            .build();
        let request = request(&["c:1"], false, false);
        let (plan, _, histories) = plan_with_scope(&full, &request);
        assert_eq!(histories, 1);
        assert_eq!(plan, plan_removal(&full, &request));
        assert_eq!(plan.predicted_bytes, 30);
    }

    #[test]
    fn a_larger_unrelated_image_holding_the_layer_is_found() {
        // Two images built the same way with no parent link, one with one more layer.
        let full = SnapshotBuilder::new()
            .layer_size("L", 500)
            .layer_size("M", 70)
            .image("a", ImageSpec::new().tags(["a:1"]).layers(["L"]))
            .image("b", ImageSpec::new().tags(["b:1"]).layers(["L", "M"]))
            .image("small", ImageSpec::new().tags(["s:1"]).layers(["Z"]))
            .layer_size("Z", 10)
            .build();
        let request = request(&["a:1"], false, false);
        let (plan, inspects, _) = plan_with_scope(&full, &request);
        assert_eq!(plan, plan_removal(&full, &request));
        assert!(plan.freed_layers.is_empty());
        assert_eq!(inspects, 2, "a:1, then b:1; s:1 is too small to hold L");
    }
}
