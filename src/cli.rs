//! Command-line arguments as clap parses them: raw input, checked later in `request`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod prune;

pub use prune::{ApplyArgs, ConfirmArgs, PruneArgs, RuleArgs};

/// Remove Docker images across a fleet of hosts over SSH, exactly as `docker rmi` would on each.
#[derive(Debug, Parser)]
#[command(
    name = "fleetrmi",
    version,
    about,
    max_term_width = 100,
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Inventory file (Ansible YAML inventory format).
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_INVENTORY",
        value_name = "FILE"
    )]
    pub inventory: Option<PathBuf>,

    /// Hosts to run on: host or group names, comma-separated. Default: every host.
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_LIMIT",
        value_name = "PATTERN"
    )]
    pub limit: Option<String>,

    /// How many hosts to work on at once.
    #[arg(long, global = true, default_value_t = 32, env = "FLEETRMI_FORKS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub forks: u32,

    /// known_hosts file to check host keys against. Default: ~/.ssh/known_hosts.
    #[arg(long, global = true, env = "FLEETRMI_KNOWN_HOSTS", value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,

    /// How long to wait for a host's SSH connection, key exchange and login (e.g. 10s, 1m).
    #[arg(long, global = true, default_value = "10s", env = "FLEETRMI_CONNECT_TIMEOUT",
          value_parser = parse_duration, value_name = "DURATION")]
    pub connect_timeout: std::time::Duration,

    /// Results format on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table,
          env = "FLEETRMI_OUTPUT")]
    pub output: OutputFormat,

    /// No progress display; only the results (and errors) are printed.
    #[arg(short, long, global = true, env = "FLEETRMI_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// One JSON document (schema in the README).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Remove images on every selected host, as `docker rmi` does on each.
    Rmi(RmiArgs),

    /// Remove unused images on every selected host, as `docker image prune` does on each, or as
    /// rules choose them.
    Prune(PruneArgs),

    /// Apply a policy file: cleanup rules per inventory group.
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images to remove: full or short ID, repo, repo:tag or repo@sha256:digest. Removed in order;
    /// one image's failure does not stop the next.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Remove even if tagged in several repositories or used by a stopped container
    /// (never an image a running container uses, nor one with child images).
    #[arg(short, long)]
    pub force: bool,

    /// Do not delete untagged parents.
    #[arg(long)]
    pub no_prune: bool,

    /// Change nothing: connect, read each host's state, and show what would be untagged, deleted
    /// and refused, and the bytes that would be freed. Exits with the code the real run would.
    #[arg(long, visible_alias = "check")]
    pub dry_run: bool,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{error} (examples: 10s, 1m30s)"))
}
