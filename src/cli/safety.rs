//! Arguments of the safety net: `rmi`'s backup, container and confirmation flags, `restore`,
//! and `builder prune`. Raw input, checked in `commands`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `rmi` flags that make a removal undoable or let it through running containers.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Safety")]
pub struct RmiSafetyArgs {
    /// Before an image is removed, save it (`docker save`, streamed over SSH) to
    /// DIR/<host>/<image id>.tar and record its tags in DIR/<host>/manifest.json; a removal
    /// happens only after its archive is complete and checked. `fleetrmi restore DIR` undoes.
    #[arg(long, value_name = "DIR", env = "FLEETRMI_BACKUP")]
    pub backup: Option<PathBuf>,

    /// Stop the containers that use an image this removal deletes, right before it (never
    /// implied by --force). Other containers are never touched. A stopped container still
    /// holds its image unless -f or --remove-containers.
    #[arg(long)]
    pub stop_containers: bool,

    /// With --stop-containers: also remove those containers (their volumes are kept).
    #[arg(long, requires = "stop_containers")]
    pub remove_containers: bool,

    /// How long a stopped container has to exit before it is killed (docker stop -t).
    #[arg(long, default_value = "10s", value_parser = super::parse_duration,
          value_name = "DURATION")]
    pub stop_timeout: std::time::Duration,

    /// Do not ask before a forced removal on several hosts (a terminal asks once otherwise).
    #[arg(short, long)]
    pub yes: bool,
}

/// `fleetrmi restore DIR`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory a `rmi`, `prune` or `apply` `--backup DIR` wrote
    /// (DIR/<host>/manifest.json per host).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Load an archive even when one of its tags now names another image on the host (the tag
    /// is moved back to the saved image).
    #[arg(short, long)]
    pub force: bool,
}

/// `fleetrmi builder …`.
#[derive(Debug, Args)]
pub struct BuilderArgs {
    #[command(subcommand)]
    pub command: BuilderCommand,
}

#[derive(Debug, Subcommand)]
pub enum BuilderCommand {
    /// Remove build cache on every selected host, as `docker builder prune` does on each.
    Prune(BuilderPruneArgs),
}

#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling records.
    #[arg(short, long)]
    pub all: bool,

    /// Filter as `docker builder prune --filter` does (repeatable): until=DURATION (e.g. 24h),
    /// id=, parent=, type=, description=, inuse=, shared=, private=.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,

    /// Keep this much build cache (e.g. 10GB; units are binary, as Docker's CLI reads them).
    #[arg(long, value_name = "SIZE", value_parser = parse_docker_size)]
    pub keep_storage: Option<u64>,

    /// Do not ask for confirmation (needed where no one can be asked).
    #[arg(short, long)]
    pub force: bool,
}

/// A size as Docker's CLI reads `--keep-storage` (`RAMInBytes`): a decimal number, then an
/// optional `k`, `m`, `g`, `t` or `p` (powers of 1024, any case), optional `i`, optional `b`.
pub fn parse_docker_size(text: &str) -> Result<u64, String> {
    let invalid = || format!("{text:?} is not a size (examples: 512MB, 10GB, 1.5g, 1048576)");
    let trimmed = text.trim();
    let number_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(number_end);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let mut rest = unit.as_str();
    let mut multiplier: f64 = 1.0;
    if let Some(first) = rest.chars().next()
        && let Some(power) = "kmgtp".find(first)
    {
        multiplier = 1024f64.powi(power as i32 + 1);
        rest = &rest[1..];
    }
    rest = rest.strip_prefix('i').unwrap_or(rest);
    rest = rest.strip_prefix('b').unwrap_or(rest);
    if !rest.is_empty() {
        return Err(invalid());
    }
    Ok((value * multiplier) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_docker_size;

    #[test]
    fn sizes_read_as_dockers_cli_reads_them() {
        assert_eq!(parse_docker_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_docker_size("10GB"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(parse_docker_size("10gib"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(parse_docker_size("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_docker_size("1.5k"), Ok(1536));
        assert_eq!(parse_docker_size("2 kb"), Ok(2048));
        assert_eq!(parse_docker_size("7b"), Ok(7));
    }

    #[test]
    fn other_text_is_not_a_size() {
        for bad in ["", "GB", "10 GBs", "1.2.3g", "-1g", "10x", ".5g"] {
            assert!(parse_docker_size(bad).is_err(), "{bad}");
        }
    }
}
