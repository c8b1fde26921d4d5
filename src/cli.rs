//! Command-line arguments as clap parses them: raw input, checked later in `request`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

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
    /// Inventory: an Ansible YAML inventory file, or a directory of them, with the group_vars/
    /// and host_vars/ beside it. Repeat to merge several (the environment variable takes a
    /// comma-separated list).
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_INVENTORY",
        value_name = "PATH",
        value_delimiter = ','
    )]
    pub inventory: Vec<PathBuf>,

    /// Hosts to run on, as Ansible host patterns: names, groups, `a,b` or `a:b` (union), `&g`
    /// (and), `!g` (not), globs, `~regex`, slices `g[0:2]`, `@FILE`. Default: every host.
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_LIMIT",
        value_name = "PATTERN"
    )]
    pub limit: Option<String>,

    /// Accept --limit patterns that match no host (by default each one is an error), and an
    /// empty selection.
    #[arg(long, global = true, env = "FLEETRMI_ALLOW_EMPTY")]
    pub allow_empty: bool,

    /// Set a variable for every host, over every level of the inventory (e.g.
    /// -e ansible_user=deploy). Repeatable; the value is a string.
    #[arg(short = 'e', long, global = true, value_name = "KEY=VALUE")]
    pub extra_vars: Vec<String>,

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
    /// Show what fleetrmi resolved from the inventory; no host is contacted.
    Inventory(InventoryArgs),
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
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("view").required(true).args(["list", "graph", "host"])))]
pub struct InventoryArgs {
    /// Every selected host with its connection settings (with `--output json`, in
    /// `ansible-inventory --list`'s shape).
    #[arg(long)]
    pub list: bool,

    /// The group tree from GROUP (default: all), as `ansible-inventory --graph` draws it.
    #[arg(long, value_name = "GROUP", num_args = 0..=1, default_missing_value = "all")]
    pub graph: Option<String>,

    /// One host's connection settings and variables, each with where it was set.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{error} (examples: 10s, 1m30s)"))
}
