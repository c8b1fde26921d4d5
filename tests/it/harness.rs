//! The lab harness: one lab of real sshd + dockerd hosts per test run, lent to tests a few
//! hosts at a time, each reseeded before use so no two tests share a host's state.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Condvar, Mutex, OnceLock};

/// The engine kinds of the hosts the lab starts when the test run starts it itself: today's
/// dockerd 20.10 for most tests, and twins of every other kind (one for the docker CLI, one for
/// fleetrmi).
const LAB_KINDS: [(&str, usize); 4] = [
    (CLASSIC20, 6),
    ("classic26", 2),
    ("containerd26", 2),
    ("podman4", 2),
];

/// The kind `Lab::take` lends: dockerd 20.10 with its classic image store.
pub const CLASSIC20: &str = "classic20";

pub struct Lab {
    pub dir: PathBuf,
    pub hosts: Vec<LabHost>,
    free: Mutex<Vec<bool>>,
    returned: Condvar,
}

#[derive(Debug, Clone)]
pub struct LabHost {
    pub index: usize,
    pub name: String,
    pub address: String,
    pub port: u16,
    pub socket: PathBuf,
    /// The engine kind (`lab.sh up --kinds`): classic20, classic26, containerd26 or podman4.
    pub kind: String,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lab_script() -> PathBuf {
    repo_root().join("lab/lab.sh")
}

/// The run's lab: the one named by `FLEETRMI_LAB_DIR`, or one started now that stops when
/// this test process exits.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let dir = match std::env::var_os("FLEETRMI_LAB_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => start_lab(),
        };
        let hosts = read_hosts(&dir);
        let free = Mutex::new(vec![true; hosts.len()]);
        Lab {
            dir,
            hosts,
            free,
            returned: Condvar::new(),
        }
    })
}

fn start_lab() -> PathBuf {
    let kinds: Vec<&str> = LAB_KINDS
        .iter()
        .flat_map(|&(kind, count)| std::iter::repeat_n(kind, count))
        .collect();
    let output = Command::new("bash")
        .arg(lab_script())
        .args(["up", "--hosts", &kinds.len().to_string()])
        .args(["--kinds", &kinds.join(" "), "--watch"])
        .arg(std::process::id().to_string())
        .output()
        .expect("lab.sh runs");
    assert!(
        output.status.success(),
        "lab up failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("lab up prints its directory")
            .trim(),
    )
}

fn read_hosts(dir: &Path) -> Vec<LabHost> {
    let text = std::fs::read_to_string(dir.join("hosts.tsv")).expect("lab wrote hosts.tsv");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(position, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            LabHost {
                index: position + 1,
                name: fields[0].to_string(),
                address: fields[1].to_string(),
                port: fields[2].parse().expect("port"),
                socket: PathBuf::from(fields[3]),
                kind: fields.get(5).unwrap_or(&CLASSIC20).to_string(),
            }
        })
        .collect()
}

impl Lab {
    /// Borrows `count` dockerd 20.10 hosts, reseeded to the standard image set.
    pub fn take(&'static self, count: usize) -> Hosts {
        self.take_kind(CLASSIC20, count)
    }

    /// Borrows `count` hosts running engine `kind`, reseeded to that kind's image set (the same
    /// image IDs on every host of one kind).
    pub fn take_kind(&'static self, kind: &str, count: usize) -> Hosts {
        self.take_mix(&[(kind, count)])
    }

    /// Borrows hosts of several kinds at once (`count` of each `kind`, in that order), each
    /// reseeded to its kind's image set; all or none, so two tests never wait on each other.
    pub fn take_mix(&'static self, wanted: &[(&str, usize)]) -> Hosts {
        for &(kind, count) in wanted {
            let of_kind = self.hosts.iter().filter(|host| host.kind == kind).count();
            assert!(
                count <= of_kind,
                "the lab at {} has {of_kind} {kind} host(s), {count} wanted (a lab of your own: \
                 lab.sh up --kinds)",
                self.dir.display()
            );
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let chosen = loop {
            let mut chosen = Vec::new();
            for &(kind, count) in wanted {
                let available: Vec<usize> = (0..free.len())
                    .filter(|&i| free[i] && self.hosts[i].kind == kind)
                    .take(count)
                    .collect();
                if available.len() < count {
                    break;
                }
                chosen.extend(available);
            }
            if chosen.len() == wanted.iter().map(|(_, count)| count).sum::<usize>() {
                break chosen;
            }
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        };
        for &i in &chosen {
            free[i] = false;
        }
        drop(free);
        let hosts: Vec<LabHost> = chosen.iter().map(|&i| self.hosts[i].clone()).collect();
        let hosts = Hosts {
            lab: self,
            hosts,
            stopped: Mutex::new(Vec::new()),
        };
        hosts.reseed();
        hosts
    }

    fn give_back(&self, hosts: &[LabHost]) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        for host in hosts {
            free[host.index - 1] = true;
        }
        self.returned.notify_all();
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.yaml")
    }

    fn script(&self, args: &[&str]) {
        let output = Command::new("bash")
            .arg(lab_script())
            .args(args)
            .output()
            .expect("lab.sh runs");
        assert!(
            output.status.success(),
            "lab.sh {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Hosts lent to one test. Daemons the test stopped are started again when it ends.
pub struct Hosts {
    lab: &'static Lab,
    pub hosts: Vec<LabHost>,
    stopped: Mutex<Vec<(String, usize)>>,
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let stopped = std::mem::take(&mut *self.stopped.lock().unwrap_or_else(|e| e.into_inner()));
        for (what, index) in stopped {
            let start = what.replace("stop-", "start-");
            let dir = self.lab.dir.to_string_lossy().to_string();
            let _ = Command::new("bash")
                .arg(lab_script())
                .args([start.as_str(), dir.as_str(), &index.to_string()])
                .output();
        }
        self.lab.give_back(&self.hosts);
    }
}

impl Hosts {
    pub fn reseed(&self) {
        let dir = self.lab.dir.to_string_lossy().to_string();
        let mut args = vec!["seed".to_string(), dir];
        args.extend(self.hosts.iter().map(|host| host.index.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.lab.script(&args);
    }

    pub fn host(&self, position: usize) -> &LabHost {
        &self.hosts[position]
    }

    /// Logins the host's sshd has accepted so far (its log's "Accepted publickey" lines).
    pub fn ssh_logins(&self, position: usize) -> usize {
        let log = self
            .lab
            .dir
            .join(format!("h{}", self.hosts[position].index))
            .join("sshd.log");
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("Accepted publickey"))
            .count()
    }

    /// `-l h1,h2,…` for the lent hosts.
    pub fn limit(&self) -> String {
        self.hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Stops `sshd` or `dockerd` of one lent host until the test ends.
    pub fn stop(&self, what: &str, position: usize) {
        let index = self.hosts[position].index;
        let command = format!("stop-{what}");
        let dir = self.lab.dir.to_string_lossy().to_string();
        self.lab
            .script(&[command.as_str(), dir.as_str(), &index.to_string()]);
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((command, index));
    }

    /// Whether lent host `position`'s engine has the reference `tag`.
    pub fn has_tag(&self, position: usize, tag: &str) -> bool {
        self.images(position).values().flatten().any(|t| t == tag)
    }

    /// The lab directory of lent host `position` (pidfiles, sockets, logs).
    pub fn host_dir(&self, position: usize) -> PathBuf {
        self.lab.dir.join(&self.hosts[position].name)
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`) to the dockerd of lent host `position`.
    pub fn signal_dockerd(&self, position: usize, signal: &str) {
        let pid = std::fs::read_to_string(self.host_dir(position).join("d.pid")).expect("d.pid");
        let status = Command::new("kill")
            .args([&format!("-{signal}"), pid.trim()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} dockerd failed");
    }

    /// Kills the per-connection sshd processes (children of the listener) of host `position`.
    pub fn kill_ssh_sessions(&self, position: usize) -> usize {
        let pid = std::fs::read_to_string(self.host_dir(position).join("sshd.pid")).expect("pid");
        let children = Command::new("pgrep")
            .args(["-P", pid.trim()])
            .output()
            .expect("pgrep runs");
        let children = String::from_utf8_lossy(&children.stdout).to_string();
        let mut killed = 0;
        for child in children.split_whitespace() {
            if Command::new("kill")
                .arg(child)
                .status()
                .is_ok_and(|s| s.success())
            {
                killed += 1;
            }
        }
        killed
    }

    /// Starts again what [`Hosts::stop`] stopped on lent host `position`.
    pub fn start(&self, what: &str, position: usize) {
        let index = self.hosts[position].index;
        let dir = self.lab.dir.to_string_lossy().to_string();
        let command = format!("start-{what}");
        self.lab
            .script(&[command.as_str(), dir.as_str(), &index.to_string()]);
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(stopped, i)| !(stopped == &format!("stop-{what}") && *i == index));
    }

    /// Runs fleetrmi on every lent host with the lab's inventory and known_hosts.
    pub fn fleetrmi(&self, args: &[&str]) -> Run {
        self.fleetrmi_with_limit(&self.limit(), args)
    }

    /// Runs fleetrmi on the lent hosts at `positions` only.
    pub fn fleetrmi_on(&self, positions: &[usize], args: &[&str]) -> Run {
        let limit: Vec<&str> = positions
            .iter()
            .map(|&p| self.hosts[p].name.as_str())
            .collect();
        self.fleetrmi_with_limit(&limit.join(","), args)
    }

    /// Runs fleetrmi with the lab's inventory and known_hosts and this `--limit` (which should
    /// select only lent hosts).
    pub fn fleetrmi_with_limit(&self, limit: &str, args: &[&str]) -> Run {
        let mut command = self.command(&self.lab.inventory(), args);
        command.arg("-l").arg(limit);
        Run::from(command.output().expect("fleetrmi runs"))
    }

    /// A fleetrmi command with `inventory` and the lab's known_hosts, not yet started.
    pub fn command(&self, inventory: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
        command
            .arg("-i")
            .arg(inventory)
            .arg("--known-hosts")
            .arg(self.lab.known_hosts())
            // The lab's inventory says everything; the machine's own ~/.ssh/config must not.
            .arg("--no-ssh-config")
            .args(args)
            .env_remove("SSH_AUTH_SOCK");
        clear_settings_from_environment(&mut command);
        command
    }

    /// An inventory of the lent hosts in order, with `extra` hosts (name, address, port) placed
    /// after the first `insert_at` of them.
    pub fn inventory_with(
        &self,
        extra: &[(&str, &str, u16)],
        insert_at: usize,
    ) -> tempfile::NamedTempFile {
        let mut entries: Vec<InventoryHost> = self
            .hosts
            .iter()
            .map(|host| InventoryHost {
                name: host.name.clone(),
                address: host.address.clone(),
                port: host.port,
                socket: Some(host.socket.clone()),
                vars: Vec::new(),
            })
            .collect();
        let extra = extra.iter().map(|(name, address, port)| InventoryHost {
            name: name.to_string(),
            address: address.to_string(),
            port: *port,
            ..InventoryHost::default()
        });
        let at = insert_at.min(entries.len());
        entries.splice(at..at, extra);
        self.inventory_of(&entries)
    }

    /// An inventory of exactly `entries`, with the lab's user and key.
    pub fn inventory_of(&self, entries: &[InventoryHost]) -> tempfile::NamedTempFile {
        let mut text = String::from("all:\n  vars:\n    ansible_user: root\n");
        text.push_str(&format!(
            "    ansible_ssh_private_key_file: {}\n  hosts:\n",
            self.lab.dir.join("id_ed25519").display()
        ));
        for host in entries {
            text.push_str(&format!(
                "    {}:\n      ansible_host: {}\n      ansible_port: {}\n",
                host.name, host.address, host.port
            ));
            if let Some(socket) = &host.socket {
                text.push_str(&format!("      docker_socket: {}\n", socket.display()));
            }
            for (key, value) in &host.vars {
                text.push_str(&format!("      {key}: {value}\n"));
            }
        }
        let mut file = tempfile::Builder::new()
            .suffix(".yaml")
            .tempfile()
            .expect("temp inventory");
        file.write_all(text.as_bytes()).expect("write inventory");
        file
    }

    /// Runs the Docker CLI against one host's daemon socket.
    pub fn docker(&self, position: usize, args: &[&str]) -> Run {
        let socket = format!("unix://{}", self.hosts[position].socket.display());
        let output = Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", socket)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .output()
            .expect("docker CLI runs");
        Run::from(output)
    }

    /// Every image on a host: full ID → its tags, sorted (intermediates included, with no tags).
    pub fn images(&self, position: usize) -> BTreeMap<String, Vec<String>> {
        let run = self.docker(
            position,
            &[
                "images",
                "-a",
                "--no-trunc",
                "--format",
                "{{.ID}} {{.Repository}}:{{.Tag}}",
            ],
        );
        assert_eq!(run.code, 0, "docker images failed: {}", run.stderr);
        let mut images: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in run.stdout.lines() {
            let (id, reference) = line.split_once(' ').expect("id and reference");
            let tags = images.entry(id.to_string()).or_default();
            // A digest-only image lists as `repo:<none>`: it has no tag.
            if !reference.ends_with(":<none>") {
                tags.push(reference.to_string());
                tags.sort();
            }
        }
        images
    }

    /// The engine's own API answer for `path`, e.g. `/v1.41/system/df`.
    pub fn api_get(&self, position: usize, path: &str) -> serde_json::Value {
        let mut stream = UnixStream::connect(&self.hosts[position].socket).expect("socket");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("bad JSON from {path}: {e}: {body}"))
    }

    /// `LayersSize` of `/system/df`: the bytes of every layer some image uses.
    pub fn layers_size(&self, position: usize) -> u64 {
        self.api_get(position, "/v1.41/system/df")["LayersSize"]
            .as_u64()
            .expect("LayersSize")
    }

    /// The ID of a tag on a host.
    pub fn image_id(&self, position: usize, reference: &str) -> String {
        let run = self.docker(
            position,
            &["image", "inspect", "--format", "{{.Id}}", reference],
        );
        assert_eq!(run.code, 0, "inspect {reference}: {}", run.stderr);
        run.stdout.trim().to_string()
    }
}

/// One host of a test's own inventory.
#[derive(Default)]
pub struct InventoryHost {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub socket: Option<PathBuf>,
    /// More host vars, written as given (e.g. `("ansible_user", "nobody")`).
    pub vars: Vec<(&'static str, String)>,
}

/// A second sshd for a lab host, with changed settings, on its own address; stopped on drop.
pub struct ExtraSshd {
    pub address: String,
    pub port: u16,
    /// known_hosts with the lab's lines plus one for this sshd (the lab host's own key).
    pub known_hosts: tempfile::NamedTempFile,
    pidfile: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for ExtraSshd {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pidfile) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

impl Hosts {
    /// Starts another sshd in front of lab host `position` with `settings` (sshd_config lines
    /// that replace the same keywords), listening on `127.0.200.<index>:2222`.
    pub fn extra_sshd(&self, position: usize, settings: &[&str]) -> ExtraSshd {
        let host = &self.hosts[position];
        let dir = tempfile::tempdir().expect("temp dir");
        let address = format!("127.0.200.{}", host.index);
        let pidfile = dir.path().join("sshd.pid");
        let original = std::fs::read_to_string(self.lab.dir.join(&host.name).join("sshd_config"))
            .expect("lab sshd_config");
        let replaced: Vec<&str> = settings
            .iter()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let mut config = String::new();
        for line in original.lines() {
            let keyword = line.split_whitespace().next().unwrap_or("");
            if ["ListenAddress", "PidFile"].contains(&keyword) || replaced.contains(&keyword) {
                continue;
            }
            config.push_str(line);
            config.push('\n');
        }
        config.push_str(&format!(
            "ListenAddress {address}:2222\nPidFile {}\n",
            pidfile.display()
        ));
        for line in settings {
            config.push_str(line);
            config.push('\n');
        }
        let config_path = dir.path().join("sshd_config");
        std::fs::write(&config_path, config).expect("write sshd_config");
        let status = Command::new("/usr/sbin/sshd")
            .arg("-f")
            .arg(&config_path)
            .arg("-E")
            .arg(dir.path().join("sshd.log"))
            .status()
            .expect("sshd starts");
        assert!(status.success(), "extra sshd failed to start");
        for _ in 0..50 {
            if std::net::TcpStream::connect((address.as_str(), 2222)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let host_key = std::fs::read_to_string(
            self.lab
                .dir
                .join(&host.name)
                .join("ssh_host_ed25519_key.pub"),
        )
        .expect("host key");
        let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        let mut known_hosts = tempfile::NamedTempFile::new().expect("temp known_hosts");
        let lab_known = std::fs::read_to_string(self.lab.known_hosts()).expect("known_hosts");
        writeln!(known_hosts, "{lab_known}[{address}]:2222 {}", key.join(" ")).expect("write");
        ExtraSshd {
            address,
            port: 2222,
            known_hosts,
            pidfile,
            _dir: dir,
        }
    }
}

/// A finished command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).to_string(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Makes sure a local user `name` exists (the lab's sshd lets every user log in with the lab
/// key), outside the docker group; with `sudo_docker`, allowed `sudo -n docker` without a
/// password. Idempotent; shared by every test run on this machine.
pub fn ensure_local_user(name: &str, sudo_docker: bool) {
    static SETUP: Mutex<()> = Mutex::new(());
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let exists = Command::new("id")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let status = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", name])
            .status()
            .expect("useradd runs");
        assert!(status.success(), "useradd {name} failed");
    }
    // useradd locks the password with "!", and sshd without PAM refuses locked accounts even
    // for key logins; "*" means "no password" without the lock.
    let _ = Command::new("usermod").args(["-p", "*", name]).status();
    if sudo_docker {
        let rule = format!("{name} ALL=(root) NOPASSWD: /usr/bin/docker, /usr/local/bin/docker\n");
        let path = format!("/etc/sudoers.d/fleetrmi-test-{name}");
        std::fs::write(&path, rule).expect("write sudoers rule");
        let _ = Command::new("chmod").args(["0440", &path]).status();
    }
}

/// Removes every `FLEETRMI_*` and `ANSIBLE_*` variable from `command`'s environment: a developer's or CI's
/// settings (output format, lock, timeouts…) must not change what a test sees.
pub fn clear_settings_from_environment(command: &mut Command) {
    for (name, _) in std::env::vars() {
        if name.starts_with("FLEETRMI_") || name.starts_with("ANSIBLE_") {
            command.env_remove(name);
        }
    }
}

/// Waits up to `limit` for fleetrmi to connect to `listener` (a host that never answers), and
/// keeps that connection open.
pub fn accept_within(
    listener: &std::net::TcpListener,
    limit: std::time::Duration,
) -> Option<std::net::TcpStream> {
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        match listener.accept() {
            Ok((stream, _)) => return Some(stream),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    None
}
