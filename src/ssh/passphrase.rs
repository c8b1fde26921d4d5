//! The passphrase for encrypted key files: from `FLEETRMI_KEY_PASSPHRASE`, or asked once on the
//! terminal and reused for every key and host of the run. It is never logged or reported.

use std::io::IsTerminal;
use std::path::Path;

use tokio::sync::OnceCell;

/// The environment variable that holds the passphrase for non-interactive runs.
pub const PASSPHRASE_ENV: &str = "FLEETRMI_KEY_PASSPHRASE";

/// One answer per run: hosts connecting at once wait for the single prompt.
static PASSPHRASE: OnceCell<Option<String>> = OnceCell::const_new();

/// The run's passphrase, or `None` when there is no variable and no terminal to ask on.
/// `key` names the first key that needed it, for the prompt.
pub(crate) async fn key_passphrase(key: &Path) -> Option<String> {
    PASSPHRASE
        .get_or_init(|| async {
            if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
                return Some(passphrase);
            }
            // Only when a person is there: a run under CI or cron must not hang on /dev/tty.
            if !std::io::stdin().is_terminal() {
                return None;
            }
            let prompt = format!(
                "Passphrase for {} (asked once, used for every encrypted key of this run): ",
                key.display()
            );
            tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt).ok())
                .await
                .ok()
                .flatten()
        })
        .await
        .clone()
}
