//! Arguments of the commands that print what is generated from the clap definitions: shell
//! completions and man pages, so neither can drift from the options they describe.

use std::path::PathBuf;

use clap::Args;

/// `fleetrmi completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `fleetrmi man-pages DIR` (hidden: packaging uses it).
#[derive(Debug, Args)]
pub struct ManPagesArgs {
    /// Existing directory to write fleetrmi.1 and one page per subcommand (fleetrmi-rmi.1, …) to.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}
