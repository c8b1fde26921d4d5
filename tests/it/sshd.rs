//! Throwaway OpenSSH servers a test starts itself, beside the lab: on a free loopback port, or
//! inside a network namespace of their own that only a jump host can reach.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs a command and insists that it worked.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Makes an ed25519 key pair at `path` (and `path.pub`), encrypted when `passphrase` is not empty.
pub fn keygen(path: &Path, passphrase: &str) {
    let path = path.to_string_lossy();
    run(
        "ssh-keygen",
        &[
            "-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f", &path,
        ],
    );
}

/// The `type base64` part of a public key file.
pub fn public_key(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("public key file");
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// An sshd started by a test; stopped (by its pid) when dropped.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    /// `ListenAddress` values, `address:port`.
    pub listen: Vec<String>,
    /// `type base64` of its host key.
    pub host_key: String,
    child: Child,
}

/// How to start an [`Sshd`].
pub struct SshdSetup<'a> {
    pub listen: Vec<String>,
    pub authorized_keys: &'a Path,
    /// Lines added to sshd_config (e.g. `TrustedUserCAKeys …`).
    pub extra_config: String,
    /// Start it in a new network namespace with only a loopback interface.
    pub own_network: bool,
    /// Use this host key (and its `.pub`) instead of a new one.
    pub host_key: Option<&'a Path>,
}

impl Sshd {
    pub fn start(setup: SshdSetup) -> Sshd {
        std::fs::create_dir_all("/run/sshd").expect("privilege separation directory");
        let dir = tempfile::tempdir().expect("sshd directory");
        let host_key = dir.path().join("host_key");
        match setup.host_key {
            Some(existing) => {
                std::fs::copy(existing, &host_key).expect("copy host key");
                std::fs::copy(
                    format!("{}.pub", existing.display()),
                    dir.path().join("host_key.pub"),
                )
                .expect("copy host public key");
            }
            None => keygen(&host_key, ""),
        }
        let config = write_config(dir.path(), &setup);
        let log = dir.path().join("sshd.log");
        let sshd = format!(
            "/usr/sbin/sshd -D -f {} -E {}",
            config.display(),
            log.display()
        );
        let child = if setup.own_network {
            Command::new("unshare")
                .args(["--net", "sh", "-c"])
                .arg(format!("ip link set lo up && exec {sshd}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("unshare runs")
        } else {
            Command::new("sh")
                .args(["-c", &format!("exec {sshd}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("sshd runs")
        };
        let sshd = Sshd {
            host_key: public_key(&dir.path().join("host_key.pub")),
            dir,
            listen: setup.listen.clone(),
            child,
        };
        sshd.wait_listening(&log);
        sshd
    }

    fn wait_listening(&self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.matches("Server listening on").count() >= self.listen.len() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start listening within 10 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `[address]:port key` for each listen address, as known_hosts lines.
    pub fn known_hosts_lines(&self) -> String {
        self.listen
            .iter()
            .map(|listen| {
                let (address, port) = listen.rsplit_once(':').expect("address:port");
                format!("[{address}]:{port} {}\n", self.host_key)
            })
            .collect()
    }

    /// sshd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, setup: &SshdSetup) -> PathBuf {
    let mut text = String::new();
    for listen in &setup.listen {
        text.push_str(&format!("ListenAddress {listen}\n"));
    }
    text.push_str(&format!(
        "HostKey {dir}/host_key\nPidFile {dir}/sshd.pid\nAuthorizedKeysFile {keys}\nUsePAM no\n\
         StrictModes no\nPermitRootLogin prohibit-password\nPubkeyAuthentication yes\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nAllowTcpForwarding yes\n\
         AllowStreamLocalForwarding yes\nPrintMotd no\nUseDNS no\nLogLevel VERBOSE\n\
         Subsystem sftp internal-sftp\n{extra}\n",
        dir = dir.display(),
        keys = setup.authorized_keys.display(),
        extra = setup.extra_config,
    ));
    let path = dir.join("sshd_config");
    std::fs::write(&path, text).expect("write sshd_config");
    run("/usr/sbin/sshd", &["-t", "-f", &path.to_string_lossy()]);
    path
}

/// A jump host that the coordinator reaches on 127.0.0.1 and that lives in another sshd's
/// network namespace: each TCP connection is handed to `sshd -i` started inside that namespace,
/// so the jump host reaches what only that namespace can reach.
pub struct NamespaceJumpHost {
    pub port: u16,
    pub host_key: String,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    children: Arc<Mutex<Vec<Child>>>,
    _dir: tempfile::TempDir,
}

impl NamespaceJumpHost {
    /// A jump host inside the network namespace of `inside`, accepting `authorized_keys`.
    pub fn start(inside: &Sshd, authorized_keys: &Path) -> NamespaceJumpHost {
        let dir = tempfile::tempdir().expect("jump host directory");
        let host_key = dir.path().join("host_key");
        keygen(&host_key, "");
        let config = write_config(
            dir.path(),
            &SshdSetup {
                listen: vec![],
                authorized_keys,
                extra_config: String::new(),
                own_network: false,
                host_key: None,
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let children = Arc::new(Mutex::new(Vec::new()));
        let namespace_pid = inside.pid().to_string();
        let log = dir.path().join("sshd.log");
        {
            let (accepted, stop, children) = (
                Arc::clone(&accepted),
                Arc::clone(&stop),
                Arc::clone(&children),
            );
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let Ok(input) = stream.try_clone() else {
                        continue;
                    };
                    let child = Command::new("nsenter")
                        .args(["-t", &namespace_pid, "-n", "/usr/sbin/sshd", "-i", "-f"])
                        .arg(&config)
                        .arg("-E")
                        .arg(&log)
                        .stdin(Stdio::from(OwnedFd::from(input)))
                        .stdout(Stdio::from(OwnedFd::from(stream)))
                        .stderr(Stdio::null())
                        .spawn();
                    if let Ok(child) = child {
                        children
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(child);
                    }
                }
            });
        }
        NamespaceJumpHost {
            port,
            host_key: public_key(&dir.path().join("host_key.pub")),
            accepted,
            stop,
            children,
            _dir: dir,
        }
    }

    /// How many SSH connections the jump host was given.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}\n", self.port, self.host_key)
    }

    /// The jump host's log (every `sshd -i` writes to it).
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self._dir.path().join("sshd.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for NamespaceJumpHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop` and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for child in children.iter_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
