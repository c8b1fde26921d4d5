//! What the user asked `docker rmi` to do: the arguments and the two flags.

/// One `docker rmi` invocation: one `DELETE /images/{name}` per image, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalRequest {
    /// The arguments as given (`x:1`, an ID prefix, `repo@sha256:…`).
    pub images: Vec<String>,
    /// `-f`: skip soft conflicts (other references, stopped containers).
    pub force: bool,
    /// `--no-prune`: keep untagged parents of deleted images.
    pub no_prune: bool,
}
