//! The lab harness: one lab of real sshd + dockerd hosts per test run, lent to tests a few
//! hosts at a time, each reseeded before use so no two tests share a host's state.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Condvar, Mutex, OnceLock};

/// How many hosts the lab starts when the test run starts it itself.
const LAB_HOSTS: usize = 6;

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
    let output = Command::new("bash")
        .arg(lab_script())
        .args(["up", "--hosts", &LAB_HOSTS.to_string(), "--watch"])
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
            }
        })
        .collect()
}

impl Lab {
    /// Borrows `count` hosts, reseeded to the standard image set.
    pub fn take(&'static self, count: usize) -> Hosts {
        assert!(
            count <= self.hosts.len(),
            "the lab has only {} hosts",
            self.hosts.len()
        );
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let chosen = loop {
            let available: Vec<usize> = (0..free.len()).filter(|&i| free[i]).collect();
            if available.len() >= count {
                break available[..count].to_vec();
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_fleetrmi"));
        command
            .arg("-i")
            .arg(self.lab.inventory())
            .arg("--known-hosts")
            .arg(self.lab.known_hosts())
            .arg("-l")
            .arg(limit)
            .args(args)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("FLEETRMI_INVENTORY");
        Run::from(command.output().expect("fleetrmi runs"))
    }

    /// Runs the Docker CLI against one host's daemon socket.
    pub fn docker(&self, position: usize, args: &[&str]) -> Run {
        let socket = format!("unix://{}", self.hosts[position].socket.display());
        let output = Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", socket)
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
            if reference != "<none>:<none>" {
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
