//! Command-line arguments as clap parses them: raw input, checked later in `request`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

mod safety;

pub use safety::{BuilderArgs, BuilderCommand, BuilderPruneArgs, RestoreArgs, RmiSafetyArgs};
mod prune;

pub use prune::{ApplyArgs, PruneArgs, RuleArgs};
mod generate;

pub use generate::{CompletionsArgs, ManPagesArgs};

/// Remove Docker images across a fleet of hosts over SSH, exactly as `docker rmi` would on each.
#[derive(Debug, Parser)]
#[command(
    name = "fleetrmi",
    version = crate::version::VERSION,
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
    /// Inventory: an Ansible inventory file (YAML or INI), a directory of them with the
    /// group_vars/ and host_vars/ beside it, or a host list (`web1,web2,`). Repeat to merge
    /// several. Default: FLEETRMI_INVENTORY (a comma-separated list), else Ansible's
    /// (ANSIBLE_INVENTORY, ansible.cfg's `inventory`).
    #[arg(
        short,
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Inventory"
    )]
    pub inventory: Vec<PathBuf>,

    /// Hosts to run on, as Ansible host patterns: names, groups, `a,b` or `a:b` (union), `&g`
    /// (and), `!g` (not), globs, `~regex`, slices `g[0:2]`, `@FILE`. Default: every host.
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_LIMIT",
        value_name = "PATTERN",
        help_heading = "Inventory"
    )]
    pub limit: Option<String>,

    /// Accept --limit patterns that match no host (by default each one is an error), and an
    /// empty selection.
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_ALLOW_EMPTY",
        help_heading = "Inventory"
    )]
    pub allow_empty: bool,

    /// Set variables for every host, over every level of the inventory, as Ansible's -e:
    /// `KEY=VALUE` pairs (several per argument, quotes as in a shell; values are strings), a
    /// `{"key": value}` object, or `@FILE` (YAML or JSON). Repeatable; later ones win.
    #[arg(
        short = 'e',
        long,
        global = true,
        value_name = "VARS",
        help_heading = "Inventory"
    )]
    pub extra_vars: Vec<String>,

    /// How many hosts to work on at once. Default: Ansible's `forks` (ANSIBLE_FORKS,
    /// ansible.cfg), else 32.
    #[arg(long, global = true, env = "FLEETRMI_FORKS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096),
          help_heading = "Rollout")]
    pub forks: Option<u32>,

    /// known_hosts file to check host keys against (and to add keys to with accept-new),
    /// instead of ssh_config's UserKnownHostsFile. Default: ~/.ssh/known_hosts.
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_KNOWN_HOSTS",
        value_name = "FILE",
        help_heading = "SSH"
    )]
    pub known_hosts: Option<PathBuf>,

    /// How long to wait for a host's SSH connection, key exchange and login (e.g. 10s, 1m).
    /// Default: ssh_config's ConnectTimeout, else 10s.
    #[arg(long, global = true, env = "FLEETRMI_CONNECT_TIMEOUT",
          value_parser = parse_connect_timeout, value_name = "DURATION",
          help_heading = "SSH")]
    pub connect_timeout: Option<std::time::Duration>,

    /// OpenSSH client configuration to read instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(
        short = 'F',
        long,
        global = true,
        env = "FLEETRMI_SSH_CONFIG",
        value_name = "FILE",
        conflicts_with = "no_ssh_config",
        help_heading = "SSH"
    )]
    pub ssh_config: Option<PathBuf>,

    /// Read no ssh_config file at all.
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_NO_SSH_CONFIG",
        help_heading = "SSH"
    )]
    pub no_ssh_config: bool,

    /// Host key checking, for every host and jump host (overrides StrictHostKeyChecking).
    /// Default: ssh_config's StrictHostKeyChecking, else strict.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "FLEETRMI_HOST_KEY_CHECKING",
        value_name = "MODE",
        help_heading = "SSH"
    )]
    pub host_key_checking: Option<HostKeyChecking>,

    /// How many times to try a host's connection again after a transient failure (refused,
    /// reset), pausing 0.25 s, then twice as long each time. Never after host-key or login
    /// failures.
    #[arg(
        long,
        global = true,
        default_value_t = 2,
        env = "FLEETRMI_CONNECT_RETRIES",
        value_name = "N",
        help_heading = "SSH"
    )]
    pub connect_retries: u32,

    /// Results format on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table,
          env = "FLEETRMI_OUTPUT",
          help_heading = "Output")]
    pub output: OutputFormat,

    /// No progress display; only the results (and errors) are printed.
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_QUIET",
        help_heading = "Output"
    )]
    pub quiet: bool,

    /// Print, on stderr, each host's steps with their times and its Docker API calls, and the
    /// run's SSH connections and API calls (lines start with `debug:`).
    #[arg(
        short,
        long,
        global = true,
        env = "FLEETRMI_VERBOSE",
        help_heading = "Output"
    )]
    pub verbose: bool,

    /// Roll through hosts in batches: sizes or percentages, comma-separated; the last repeats
    /// (e.g. `1,10%`). The next batch starts when the previous one has finished.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        env = "FLEETRMI_SERIAL",
        value_name = "N|P%",
        help_heading = "Rollout"
    )]
    pub serial: Vec<String>,

    /// Run the first N hosts alone first; if any of them fails, start no other host.
    #[arg(
        long,
        global = true,
        default_value_t = 0,
        env = "FLEETRMI_CANARY",
        value_name = "N",
        help_heading = "Rollout"
    )]
    pub canary: usize,

    /// Stop starting hosts once more than P% of all selected hosts failed or were unreachable.
    #[arg(long, global = true, env = "FLEETRMI_MAX_FAIL_PERCENTAGE", value_name = "P",
          value_parser = parse_percentage,
          help_heading = "Rollout")]
    pub max_fail_percentage: Option<f64>,

    /// Stop starting hosts after the first host that fails or is unreachable.
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_STOP_ON_ERROR",
        help_heading = "Rollout"
    )]
    pub stop_on_error: bool,

    /// Limit for one host's whole run (e.g. 5m). Default: none.
    #[arg(long, global = true, env = "FLEETRMI_TIMEOUT", value_parser = parse_duration,
          value_name = "DURATION",
          help_heading = "Rollout")]
    pub timeout: Option<std::time::Duration>,

    /// Limit for one Docker API call.
    #[arg(long, global = true, default_value = "2m", env = "FLEETRMI_API_TIMEOUT",
          value_parser = parse_duration, value_name = "DURATION",
          help_heading = "Rollout")]
    pub api_timeout: std::time::Duration,

    /// After SIGTERM or a first Ctrl-C no new host or call starts; calls in flight get this
    /// long to end, then their hosts are reported interrupted and the run ends with its report
    /// (keep it well below systemd's TimeoutStopSec).
    #[arg(long, global = true, default_value = "10s", env = "FLEETRMI_STOP_GRACE",
          value_parser = parse_duration, value_name = "DURATION",
          help_heading = "Rollout")]
    pub stop_grace: std::time::Duration,

    /// After the run, write the hosts to run again (failed, unreachable, interrupted, not
    /// started) to FILE, one per line; rerun them with `-l @FILE`.
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_RETRY_FILE",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub retry_file: Option<PathBuf>,

    /// Refuse to start while another run holds FILE (for cron and timers).
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_LOCK",
        value_name = "FILE",
        help_heading = "Safety"
    )]
    pub lock: Option<PathBuf>,

    /// Reach every host's Docker daemon through `sudo -n docker system dial-stdio` (as the
    /// inventory's `become: true` does per host), for SSH users that may not open the socket.
    #[arg(
        long = "become",
        global = true,
        env = "FLEETRMI_BECOME",
        help_heading = "SSH"
    )]
    pub r#become: bool,

    /// Write a Prometheus textfile with the run's figures to FILE (atomically).
    #[arg(
        long,
        global = true,
        env = "FLEETRMI_METRICS",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub metrics: Option<PathBuf>,
}

/// `--host-key-checking` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostKeyChecking {
    /// Only keys already in known_hosts (StrictHostKeyChecking yes).
    Strict,
    /// Add keys of hosts never seen to known_hosts; refuse changed keys.
    AcceptNew,
    /// Accept any host key (a warning is printed on every run).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// One JSON document (schema in docs/GUIDE.md).
    Json,
    /// One JSON event per line as the run goes (schema in docs/GUIDE.md).
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Remove images on every selected host, as `docker rmi` does on each.
    Rmi(RmiArgs),
    /// Check every selected host: SSH reachability and login, and what its Docker engine is.
    Ping,
    /// List images across the fleet with the hosts that have them, as `docker images` would.
    Images(ImagesArgs),
    /// Disk usage per host and in total, as `docker system df`, with each Docker root's free space.
    Df,
    /// Load the archives `--backup DIR` saved (rmi, prune, apply) back onto their hosts, with tags.
    Restore(RestoreArgs),
    /// Manage the build cache on every selected host (`builder prune`).
    Builder(BuilderArgs),

    /// Remove unused images on every selected host, as `docker image prune` does on each, or as
    /// rules choose them.
    Prune(PruneArgs),

    /// Apply a policy file: cleanup rules per inventory group.
    Apply(ApplyArgs),

    /// Show what fleetrmi resolved from the inventory; no host is contacted.
    Inventory(InventoryArgs),

    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),

    /// Write the man pages, generated from these options, into DIR.
    #[command(hide = true)]
    ManPages(ManPagesArgs),
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Only images matching REPOSITORY[:TAG], a glob as for `docker images REPOSITORY`.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,

    /// Filter as `docker images --filter` does (repeatable): reference=PATTERN,
    /// dangling=true|false, before=IMAGE, since=IMAGE, label=KEY[=VALUE].
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,

    /// Intermediate images too (untagged parents), as `docker images -a`.
    #[arg(short, long)]
    pub all: bool,

    /// One row per host and image instead of one fleet-wide list.
    #[arg(long, conflicts_with = "group_by")]
    pub per_host: bool,

    /// Group the fleet-wide list by tag (one entry per repo:tag) or by image ID.
    #[arg(long, value_enum, default_value_t = ImageGrouping::Tag)]
    pub group_by: ImageGrouping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageGrouping {
    /// One entry per repo:tag, with the image IDs it names and the hosts that have each.
    Tag,
    /// One entry per image ID, with its tags and the hosts that have it.
    Id,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images to remove: full or short ID, repo, repo:tag or repo@sha256:digest. Removed in order;
    /// one image's failure does not stop the next. `{host}` in an IMAGE stands for each host's
    /// inventory name (e.g. `ci/cache:{host}`).
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

    /// Report an image that is already gone as already absent, not as an error (for reruns).
    #[arg(long)]
    pub ignore_missing: bool,

    #[command(flatten)]
    pub safety: RmiSafetyArgs,
}

fn parse_percentage(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a number from 0 to 100"))?;
    if (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{text:?} is not a number from 0 to 100"))
    }
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

pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{error} (examples: 10s, 1m30s)"))
}

/// `--connect-timeout`: a duration above zero (a zero would fail every host at once).
fn parse_connect_timeout(text: &str) -> Result<std::time::Duration, String> {
    match parse_duration(text)? {
        timeout if timeout.is_zero() => {
            Err("must be above zero (examples: 10s, 1m30s)".to_string())
        }
        timeout => Ok(timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommand_help_lists_its_own_options_before_the_global_groups() {
        let help = Cli::try_parse_from(["fleetrmi", "rmi", "--help"])
            .expect_err("--help stops parsing")
            .to_string();
        let position = |heading: &str| {
            help.find(&format!("\n{heading}:\n"))
                .unwrap_or_else(|| panic!("no {heading:?} heading in:\n{help}"))
        };
        let own = position("Options");
        for heading in ["Inventory", "SSH", "Rollout", "Output", "Safety"] {
            assert!(own < position(heading), "{heading} before Options:\n{help}");
        }
        assert!(
            help[own..position("Inventory")].contains("--dry-run"),
            "{help}"
        );
    }

    #[test]
    fn connect_timeout_of_zero_is_refused_on_the_command_line() {
        let error = Cli::try_parse_from(["fleetrmi", "--connect-timeout", "0s", "ping"])
            .expect_err("refused");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("must be above zero"), "{error}");
        let cli =
            Cli::try_parse_from(["fleetrmi", "--connect-timeout", "3s", "ping"]).expect("parses");
        assert_eq!(
            cli.global.connect_timeout,
            Some(std::time::Duration::from_secs(3))
        );
    }
}
