//! Which engine answers on a host (dockerd with either image store, or Podman's Docker API):
//! the removal rules fleetrmi can predict, and how it counts freed bytes, depend on it.

use serde::Serialize;

/// The program serving the Docker API on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    Docker,
    Podman,
}

impl Product {
    pub fn name(self) -> &'static str {
        match self {
            Product::Docker => "Docker",
            Product::Podman => "Podman",
        }
    }
}

/// The image store whose delete and prune rules a host follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// dockerd with its classic (graph driver) image store: the rules the planner models exactly.
    #[default]
    DockerClassic,
    /// dockerd with containerd's image store (the default of new Docker 29 installs).
    DockerContainerd,
    /// Podman's Docker-compatible API (libpod).
    Podman,
}

impl EngineKind {
    pub fn detect(product: Product, containerd_store: bool) -> EngineKind {
        match (product, containerd_store) {
            (Product::Podman, _) => EngineKind::Podman,
            (Product::Docker, true) => EngineKind::DockerContainerd,
            (Product::Docker, false) => EngineKind::DockerClassic,
        }
    }

    /// The name used in tables, JSON and policy files' `engines:` selector.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::DockerClassic => "docker-classic",
            EngineKind::DockerContainerd => "docker-containerd",
            EngineKind::Podman => "podman",
        }
    }

    /// Why the plan of the engine's own prune (`POST /images/prune`, prune without rules) may
    /// differ from its answer; `None` where it is predicted exactly. `rmi` and rule prunes are
    /// modelled on every kind; what a model cannot settle is marked per image.
    pub fn engine_prune_caveat(self) -> Option<&'static str> {
        match self {
            EngineKind::DockerContainerd => Some(
                "not predicted exactly on this engine (docker-containerd): its prune also \
                 answers the content blobs it dropped (configs, compressed layers), which no \
                 API call names beforehand, and its until filter reads when each name was \
                 recorded on the host; the images and names it removes are predicted",
            ),
            EngineKind::DockerClassic | EngineKind::Podman => None,
        }
    }

    /// Whether the engine's delete answers list the layers it freed (`Deleted: <chain ID>`), so
    /// freed bytes are the sizes of those layers and `SpaceReclaimed` can be checked against
    /// them. The other kinds list deleted images only; their bytes are the layers those images
    /// leave unheld ([`crate::plan::FreedByImages`]).
    pub fn deletes_answer_with_layers(self) -> bool {
        self == EngineKind::DockerClassic
    }

    pub fn from_name(name: &str) -> Option<EngineKind> {
        EngineKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    pub const ALL: [EngineKind; 3] = [
        EngineKind::DockerClassic,
        EngineKind::DockerContainerd,
        EngineKind::Podman,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_wins_over_the_store_flag() {
        assert_eq!(
            EngineKind::detect(Product::Podman, true),
            EngineKind::Podman
        );
        assert_eq!(
            EngineKind::detect(Product::Docker, true),
            EngineKind::DockerContainerd
        );
        assert_eq!(
            EngineKind::detect(Product::Docker, false),
            EngineKind::DockerClassic
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in EngineKind::ALL {
            assert_eq!(EngineKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(EngineKind::from_name("docker"), None);
    }
}
