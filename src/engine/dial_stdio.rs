//! The fallback route to the Docker API: an exec channel running `docker system dial-stdio` on
//! the host (optionally through `sudo -n`), for hosts whose sshd refuses socket forwarding or
//! whose SSH user may not open the socket. Only the socket path is put in the command, quoted;
//! image names travel inside HTTP, never through a shell.

use std::time::Duration;

use russh::ChannelMsg;

use crate::ssh::SshSession;

/// How long the probe waits for the host's docker CLI to answer a ping.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The command that bridges an exec channel's stdin/stdout to the Docker socket.
pub(crate) fn dial_stdio_command(socket_path: &str, become_root: bool) -> String {
    let docker = format!(
        "docker -H {} system dial-stdio",
        shell_quote(&format!("unix://{socket_path}"))
    );
    if become_root {
        format!("sudo -n {docker}")
    } else {
        docker
    }
}

/// Single-quotes `text` for a POSIX shell.
pub(crate) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs the command once with a ping piped in; `Err` explains why it cannot carry the API.
pub(crate) async fn probe(session: &SshSession, command: &str) -> Result<(), String> {
    let attempt = async {
        let mut channel = session
            .open_exec(command)
            .await
            .map_err(|error| error.to_string())?;
        channel
            .data(&b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"[..])
            .await
            .map_err(|error| error.to_string())?;
        let (mut stdout, mut stderr, mut exit_status) = (Vec::new(), Vec::new(), None);
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    stdout.extend_from_slice(&data);
                    if stdout.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                ChannelMsg::ExtendedData { data, .. } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus {
                    exit_status: status,
                } => exit_status = Some(status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = channel.close().await;
        Ok::<_, String>((stdout, stderr, exit_status))
    };
    let (stdout, stderr, exit_status) = tokio::time::timeout(PROBE_TIMEOUT, attempt)
        .await
        .map_err(|_| {
            format!(
                "`{command}` gave no answer within {} s",
                PROBE_TIMEOUT.as_secs()
            )
        })??;
    if stdout.starts_with(b"HTTP/1.") && stdout.get(9..12) == Some(b"200") {
        return Ok(());
    }
    Err(explain_failure(
        command,
        &String::from_utf8_lossy(&stderr),
        exit_status,
    ))
}

/// Turns what the host's shell, sudo or docker CLI said into a cause and a fix.
pub(crate) fn explain_failure(command: &str, stderr: &str, exit_status: Option<u32>) -> String {
    let said = stderr.trim();
    let lower = said.to_lowercase();
    let hint = if lower.contains("permission denied") {
        "the SSH user may not open the Docker socket; hint: add it to the `docker` group on the \
         host, or set `become: true` in the inventory (or --become) to use `sudo -n`"
    } else if lower.contains("password is required") || lower.contains("a terminal is required") {
        "sudo asks for a password; hint: allow the SSH user `docker` without a password in \
         sudoers (NOPASSWD), or connect as a user in the `docker` group"
    } else if exit_status == Some(127) || lower.contains("not found") {
        "the host has no `docker` CLI for the fallback; hint: allow stream-local forwarding in \
         sshd_config (AllowStreamLocalForwarding yes, AllowTcpForwarding yes), or install the \
         docker CLI on the host"
    } else if lower.contains("cannot connect to the docker daemon")
        || lower.contains("no such file")
    {
        "Docker does not answer on that socket; hint: check that dockerd runs and that \
         docker_socket is its API socket"
    } else {
        "hint: run the command on the host by hand to see why"
    };
    let status = exit_status
        .map(|s| format!(" (exit {s})"))
        .unwrap_or_default();
    if said.is_empty() {
        format!("`{command}` failed{status}; {hint}")
    } else {
        format!("`{command}` failed{status}: {said}; {hint}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_is_quoted_for_the_shell() {
        assert_eq!(
            dial_stdio_command("/run/it's/d.sock", false),
            r"docker -H 'unix:///run/it'\''s/d.sock' system dial-stdio"
        );
        assert!(dial_stdio_command("/var/run/docker.sock", true).starts_with("sudo -n docker -H "));
    }

    #[test]
    fn permission_denied_points_at_the_docker_group_and_become() {
        let message = explain_failure(
            "docker -H 'unix:///var/run/docker.sock' system dial-stdio",
            "permission denied while trying to connect to the Docker daemon socket",
            Some(1),
        );
        assert!(message.contains("`docker` group"), "{message}");
        assert!(message.contains("become"), "{message}");
    }

    #[test]
    fn sudo_password_prompt_points_at_nopasswd() {
        let message = explain_failure("sudo -n docker", "sudo: a password is required", Some(1));
        assert!(message.contains("NOPASSWD"), "{message}");
    }

    #[test]
    fn missing_cli_points_at_forwarding() {
        let message = explain_failure("docker", "sh: 1: docker: not found", Some(127));
        assert!(message.contains("AllowStreamLocalForwarding"), "{message}");
    }
}
