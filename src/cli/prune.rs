//! Arguments of `prune` and `apply`: raw input, checked in `commands`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove every image no container uses, not only dangling ones (with rules: let the rules
    /// consider every image).
    #[arg(short, long)]
    pub all: bool,

    /// Engine prune filter: until=TIME (24h, 7d, unix seconds, RFC 3339 UTC), label=KEY[=VALUE]
    /// or label!=KEY[=VALUE]. Repeatable.
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,

    /// Do not ask for confirmation. With rules, also remove images that only stopped
    /// containers use (never a running container's, never a protected one).
    #[arg(short, long)]
    pub force: bool,

    /// Before an image is removed, save it to DIR/<host>/<image id>.tar (as `rmi --backup`):
    /// with rules, right before its removal; an engine prune saves every image it is predicted
    /// to remove first and is not called on a host whose backup fails. `restore DIR` undoes.
    #[arg(long, value_name = "DIR", env = "FLEETRMI_BACKUP")]
    pub backup: Option<PathBuf>,

    #[command(flatten)]
    pub confirm: ConfirmArgs,

    #[command(flatten)]
    pub rules: RuleArgs,
}

/// How a removal is confirmed.
#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// Do not ask for confirmation, without --force's other effect (for scheduled runs).
    #[arg(short, long)]
    pub yes: bool,

    /// Change nothing: read each host's state and show what would be removed and kept, why,
    /// and the bytes that would be freed.
    #[arg(long, visible_alias = "check")]
    pub dry_run: bool,
}

/// Rules: with any of them, fleetrmi chooses the images and removes them itself.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Rules")]
pub struct RuleArgs {
    /// Only images with a reference matching this glob (repository[:tag]; `*` stops at `/`,
    /// `**` crosses it), e.g. 'ci/*:pr-*'. Repeatable: any may match.
    #[arg(long = "match", value_name = "PATTERN")]
    pub matches: Vec<String>,

    /// Only images created at least this long ago (e.g. 36h, 7d, 2w).
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,

    /// Protect the newest N images of every repository (by creation time).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_last: Option<u32>,

    /// Protect images with a reference matching this glob, even with --force. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub keep: Vec<String>,

    /// Protect images with this label (KEY or KEY=VALUE), even with --force. Repeatable.
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub keep_label: Vec<String>,

    /// Remove candidates, least recently created first, only until image layers use at most
    /// SIZE (e.g. 40GB, 1.5GiB).
    #[arg(long, value_name = "SIZE")]
    pub max_usage: Option<String>,

    /// Remove candidates, least recently created first, only until SIZE is freed.
    #[arg(long, value_name = "SIZE")]
    pub until_free: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The policy file (YAML): cleanup rules per inventory group; see policies/buildfarm.yaml.
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,

    /// Do not ask for confirmation; also remove images that only stopped containers use
    /// (never a running container's, never a protected one).
    #[arg(short, long)]
    pub force: bool,

    /// Before an image is removed, save it to DIR/<host>/<image id>.tar (as `rmi --backup`):
    /// with rules, right before its removal; an engine prune saves every image it is predicted
    /// to remove first and is not called on a host whose backup fails. `restore DIR` undoes.
    #[arg(long, value_name = "DIR", env = "FLEETRMI_BACKUP")]
    pub backup: Option<PathBuf>,

    #[command(flatten)]
    pub confirm: ConfirmArgs,
}
