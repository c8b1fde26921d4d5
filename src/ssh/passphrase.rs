//! The passphrase for encrypted key files: from `FLEETRMI_KEY_PASSPHRASE`, or asked once on the
//! terminal and reused for every key and host of the run. It is never logged or reported.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;

use tokio::sync::OnceCell;

/// The environment variable that holds the passphrase for non-interactive runs.
pub const PASSPHRASE_ENV: &str = "FLEETRMI_KEY_PASSPHRASE";

/// One answer per run: hosts connecting at once wait for the single prompt.
static PASSPHRASE: OnceCell<Option<String>> = OnceCell::const_new();

type Suspender = Box<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

/// How to run the prompt with the progress display out of the way, if one is drawn.
static SUSPENDER: Mutex<Option<Suspender>> = Mutex::new(None);

/// Registers a wrapper that runs the prompt with the progress display hidden (e.g. indicatif's
/// `MultiProgress::suspend`), so the question is not drawn over.
pub fn set_prompt_suspender(suspend: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static) {
    if let Ok(mut slot) = SUSPENDER.lock() {
        *slot = Some(Box::new(suspend));
    }
}

fn prompt_on_terminal(prompt: &str) -> Option<String> {
    let mut answer = None;
    let mut ask = || answer = rpassword::prompt_password(prompt).ok();
    match SUSPENDER.lock() {
        Ok(slot) => match slot.as_ref() {
            Some(suspend) => suspend(&mut ask),
            None => ask(),
        },
        Err(_) => ask(),
    }
    answer
}

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
            tokio::task::spawn_blocking(move || prompt_on_terminal(&prompt))
                .await
                .ok()
                .flatten()
        })
        .await
        .clone()
}
