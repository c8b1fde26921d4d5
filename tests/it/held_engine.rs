//! An engine whose removals hang: a unix socket in front of a lab host's real dockerd socket
//! that passes every request on but never passes back the answer to a `DELETE`. The engine
//! does the removal; fleetrmi never hears of it, as when an engine or its connection hangs.
//! Or, gated, one that holds the first `DELETE` itself until the test releases it, so the test
//! can change the host between fleetrmi's plan and its removals.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The socket to give fleetrmi as the host's `docker_socket`; stops accepting when dropped.
pub struct HeldEngine {
    pub socket: PathBuf,
    held: Arc<(Mutex<bool>, Condvar)>,
    /// Gated: set by [`HeldEngine::release`], which lets the held `DELETE` through.
    gate: Option<Arc<(Mutex<bool>, Condvar)>>,
    _dir: tempfile::TempDir,
}

impl HeldEngine {
    /// Listens in front of the daemon socket `upstream`.
    pub fn new(upstream: &Path) -> HeldEngine {
        HeldEngine::listen(upstream, None)
    }

    /// Listens in front of `upstream`, holding the first `DELETE` request (not its answer)
    /// until [`HeldEngine::release`].
    pub fn gated(upstream: &Path) -> HeldEngine {
        HeldEngine::listen(
            upstream,
            Some(Arc::new((Mutex::new(false), Condvar::new()))),
        )
    }

    /// Lets the held `DELETE` (and every later one) through to the engine.
    pub fn release(&self) {
        if let Some(gate) = &self.gate {
            let (lock, opened) = &**gate;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            opened.notify_all();
        }
    }

    fn listen(upstream: &Path, gate: Option<Arc<(Mutex<bool>, Condvar)>>) -> HeldEngine {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("held.sock");
        let listener = UnixListener::bind(&socket).expect("bind the held socket");
        let held = Arc::new((Mutex::new(false), Condvar::new()));
        let upstream = upstream.to_path_buf();
        let signal = Arc::clone(&held);
        let relay_gate = gate.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(engine) = UnixStream::connect(&upstream) else {
                    continue;
                };
                relay(client, engine, Arc::clone(&signal), relay_gate.clone());
            }
        });
        HeldEngine {
            socket,
            held,
            gate,
            _dir: dir,
        }
    }

    /// Waits until a `DELETE` went to the engine (its answer is being held); false after `limit`.
    pub fn wait_for_removal(&self, limit: Duration) -> bool {
        let (lock, seen) = &*self.held;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = seen
            .wait_timeout_while(guard, limit, |held| !*held)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

/// Copies both ways between `client` and `engine`; after a request that contains `DELETE `,
/// nothing more goes back to the client on this connection, or (gated) the request waits for
/// the gate to open and its answer goes back as usual.
fn relay(
    client: UnixStream,
    engine: UnixStream,
    signal: Arc<(Mutex<bool>, Condvar)>,
    gate: Option<Arc<(Mutex<bool>, Condvar)>>,
) {
    let holding = Arc::new(AtomicBool::new(false));
    let (mut client_in, mut engine_out) = (
        client.try_clone().expect("clone"),
        engine.try_clone().expect("clone"),
    );
    let holding_requests = Arc::clone(&holding);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read) = client_in.read(&mut buffer) {
            if read == 0 {
                break;
            }
            let chunk = &buffer[..read];
            if chunk.windows(7).any(|window| window == b"DELETE ") {
                holding_requests.store(gate.is_none(), Ordering::SeqCst);
                let (lock, seen) = &*signal;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
                seen.notify_all();
                if let Some(gate) = &gate {
                    let (lock, opened) = &**gate;
                    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                    drop(
                        opened
                            .wait_while(guard, |open| !*open)
                            .unwrap_or_else(|e| e.into_inner()),
                    );
                }
            }
            if engine_out.write_all(chunk).is_err() {
                break;
            }
        }
        let _ = engine_out.shutdown(std::net::Shutdown::Both);
    });
    let (mut engine_in, mut client_out) = (engine, client);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read) = engine_in.read(&mut buffer) {
            if read == 0 {
                break;
            }
            if !holding.load(Ordering::SeqCst) && client_out.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
    });
}
