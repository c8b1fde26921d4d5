//! The snapshot a real `rmi` reads: the two lists, then only the layer chains its removals can
//! touch ([`LayerScope`]), instead of an inspect and a history of every image on the host.

use futures::{StreamExt, TryStreamExt};

use super::{Engine, EngineError};
use crate::plan::{LayerNeed, LayerScope, RemovalPlan, RemovalRequest};
use crate::snapshot::Snapshot;

impl Engine {
    /// A snapshot on which `request` plans exactly as on a full one: 2 list calls, then one
    /// inspect per image whose chain matters and a history only where layer sizes cannot be
    /// told from the images' sizes. Removals that only untag read no chain at all. With the
    /// snapshot comes the plan on it, the one a full snapshot gives.
    pub async fn snapshot_for_removal(
        &self,
        request: &RemovalRequest,
    ) -> Result<(Snapshot, RemovalPlan), EngineError> {
        let (listed, ()) = futures::join!(
            self.listed_snapshot(),
            // The list calls use the channels opened at connect time; those of the wave of
            // inspects that follows (an image, its parent and a larger one or two per
            // argument, typically) are opened meanwhile.
            self.open_ahead(self.calls_in_flight.min(2 * request.images.len() + 2))
        );
        let listed = listed?;
        let mut scope = LayerScope::new(listed, request);
        loop {
            match scope.next_need() {
                LayerNeed::Chains(ids) => {
                    let chains: Vec<Vec<String>> = futures::stream::iter(ids.iter())
                        .map(|id| self.image_chain(id))
                        .buffered(self.calls_in_flight)
                        .try_collect()
                        .await?;
                    for (id, chain) in ids.iter().zip(chains) {
                        scope.learn_chain(id, chain);
                    }
                }
                LayerNeed::Sizes(ids) => {
                    let counts: Vec<usize> = ids.iter().map(|id| scope.chain_len(id)).collect();
                    let sizes: Vec<Vec<u64>> = futures::stream::iter(ids.iter().zip(counts))
                        .map(|(id, count)| self.image_layer_sizes(id, count))
                        .buffered(self.calls_in_flight)
                        .try_collect()
                        .await?;
                    for (id, sizes) in ids.iter().zip(sizes) {
                        scope.learn_sizes(id, &sizes);
                    }
                }
                LayerNeed::Complete => return Ok(scope.into_plan()),
            }
        }
    }
}
