//! Helpers for the Rust-client and `orasql` tests (`tests/tests/client_*.rs`,
//! `tests/tests/orasql_*.rs`): a scripted "listener" on `127.0.0.1:0` that answers a
//! CONNECT with REFUSE, REDIRECT or RESEND (and then relays the session to a real server
//! endpoint), a port nobody listens on, naming directories with a `tnsnames.ora`, and a
//! runner for the `orasql` binary with a deadline.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::{Credentials, InstanceHooks, LocalInstance};
use server_proc::dedicated::{DedicatedContext, run_dedicated};
use tns::o5logon::Verifier;
use tns::packet::{self, Connect, LengthMode, Redirect, Refuse, VSNNUM_19C};

/// Socket timeouts used by the fake listener.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the fake listener does with each CONNECT.
#[derive(Debug, Clone)]
pub enum Script {
    /// REFUSE with `(ERR=code)`, then close.
    Refuse(u32),
    /// REDIRECT to `127.0.0.1:port` (two packets, as a real listener sends it).
    Redirect(u16),
    /// RESEND once, then relay the re-sent CONNECT and the session to `127.0.0.1:port`.
    ResendThenRelay(u16),
    /// Relay the CONNECT and the session to `127.0.0.1:port` (a transparent hop).
    Relay(u16),
    /// Read the CONNECT and never answer (keeps the socket open for 30 s).
    Silent,
    /// ACCEPT with NSI flag 0x10: "Native Network Encryption required".
    AcceptRequiringEncryption,
}

/// One CONNECT the fake listener received.
#[derive(Debug, Clone)]
pub struct SeenConnect {
    /// The decoded CONNECT (descriptor joined from its overflow DATA packet).
    pub connect: Connect,
    /// Bytes the CONNECT used on the wire (CONNECT packet + overflow DATA packet).
    pub wire_len: usize,
    /// Length of the first packet alone (74 when the descriptor overflowed).
    pub first_packet_len: usize,
}

/// A scripted listener running on its own thread.
pub struct FakeListener {
    /// Its port on 127.0.0.1.
    pub port: u16,
    seen: Arc<Mutex<Vec<SeenConnect>>>,
    upstream: Arc<Mutex<Vec<u8>>>,
    finished: Arc<AtomicUsize>,
}

impl FakeListener {
    /// Starts the listener with a script applied to every connection.
    pub fn start(script: Script) -> FakeListener {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let upstream2 = upstream.clone();
        let finished = Arc::new(AtomicUsize::new(0));
        let finished2 = finished.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let script = script.clone();
                let seen = seen2.clone();
                let upstream = upstream2.clone();
                let finished = finished2.clone();
                std::thread::spawn(move || {
                    let _ = serve(s, &script, &seen, &upstream);
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        FakeListener {
            port,
            seen,
            upstream,
            finished,
        }
    }

    /// Waits (at most `limit`) until `n` connections have been served to the end: for a
    /// relay, until the client's side reached EOF and everything it sent was recorded. A
    /// client's `close()` returns once its bytes are in the socket, not once the relay has
    /// read them.
    pub fn wait_finished(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.finished.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Everything relayed from clients to the server after their CONNECT (all
    /// connections, in arrival order; 4-byte-length packets once ACCEPTed).
    pub fn client_bytes(&self) -> Vec<u8> {
        self.upstream.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Every CONNECT received so far.
    pub fn seen(&self) -> Vec<SeenConnect> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn read_connect(s: &mut TcpStream) -> std::io::Result<(Vec<u8>, SeenConnect)> {
    let mut buf = Vec::new();
    loop {
        match packet::decode_connect(&buf) {
            Ok(Some((connect, used))) => {
                let first = packet::peek_length(&buf, LengthMode::Short)
                    .ok()
                    .flatten()
                    .unwrap_or(used);
                buf.truncate(used);
                return Ok((
                    buf,
                    SeenConnect {
                        connect,
                        wire_len: used,
                        first_packet_len: first,
                    },
                ));
            }
            Ok(None) => {}
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn serve(
    mut s: TcpStream,
    script: &Script,
    seen: &Mutex<Vec<SeenConnect>>,
    upstream: &Arc<Mutex<Vec<u8>>>,
) -> std::io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let (mut bytes, c) = read_connect(&mut s)?;
    let record = |c: SeenConnect| {
        if let Ok(mut v) = seen.lock() {
            v.push(c);
        }
    };
    let descriptor = c.connect.descriptor_str();
    record(c);
    let relay_to = match script {
        Script::Refuse(code) => {
            s.write_all(&Refuse::for_error(*code, VSNNUM_19C).encode())?;
            return Ok(());
        }
        Script::Redirect(port) => {
            let addr = format!("(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))");
            s.write_all(&Redirect::new(&addr, &descriptor).encode())?;
            return Ok(());
        }
        Script::ResendThenRelay(port) => {
            s.write_all(&packet::frame(
                packet::packet_type::RESEND,
                0,
                &[],
                LengthMode::Short,
            ))?;
            let (again, c) = read_connect(&mut s)?;
            record(c);
            bytes = again;
            *port
        }
        Script::Relay(port) => *port,
        Script::AcceptRequiringEncryption => {
            let mut a = packet::Accept::new(packet::DEFAULT_SDU);
            a.nsi0 |= 0x10;
            s.write_all(&a.encode())?;
            let mut sink = [0u8; 64];
            let _ = s.read(&mut sink);
            return Ok(());
        }
        Script::Silent => {
            let mut sink = [0u8; 64];
            let _ = s.read(&mut sink);
            return Ok(());
        }
    };
    let mut up = TcpStream::connect(("127.0.0.1", relay_to))?;
    up.set_read_timeout(Some(IO_TIMEOUT))?;
    up.set_write_timeout(Some(IO_TIMEOUT))?;
    up.write_all(&bytes)?;
    let mut down_r = s.try_clone()?;
    let mut up_w = up.try_clone()?;
    let record = upstream.clone();
    let t = std::thread::spawn(move || {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match down_r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Ok(mut v) = record.lock() {
                        v.extend_from_slice(&chunk[..n]);
                    }
                    if up_w.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = up_w.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up, &mut s);
    let _ = s.shutdown(Shutdown::Write);
    let _ = t.join();
    Ok(())
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A naming directory (`TNS_ADMIN`) holding `tnsnames.ora` (and optionally `sqlnet.ora`).
pub struct NamingDir {
    dir: tempfile::TempDir,
}

impl NamingDir {
    /// Writes `tnsnames.ora` with `text`.
    pub fn with_tnsnames(text: &str) -> NamingDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tnsnames.ora"), text).expect("write tnsnames.ora");
        NamingDir { dir }
    }

    /// Writes `sqlnet.ora` too.
    pub fn sqlnet(self, text: &str) -> NamingDir {
        std::fs::write(self.dir.path().join("sqlnet.ora"), text).expect("write sqlnet.ora");
        self
    }

    /// The directory (use as `TNS_ADMIN`).
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// A resolver reading this directory.
    pub fn resolver(&self) -> config::naming::Resolver {
        config::naming::Resolver::with_config_dir(self.dir.path())
    }
}

/// How long one orasql script may run in a test before it is killed.
pub const ORASQL_LIMIT: Duration = Duration::from_secs(60);

/// A process's output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The logon string of the in-process test server ([`crate::py::start_server`]) on `port`.
pub fn scott_at(port: u16) -> String {
    format!("scott/tiger@127.0.0.1:{port}/ORCL")
}

/// Runs `orasql args...` with `stdin` as its input and `TNS_ADMIN` set (or unset); kills it
/// after `limit`.
pub fn run_orasql(
    args: &[&str],
    stdin: &str,
    tns_admin: Option<&std::path::Path>,
    limit: Duration,
) -> Output {
    let mut cmd = Command::new(crate::procs::bin("orasql"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("TWO_TASK")
        .env_remove("LOCAL");
    match tns_admin {
        Some(p) => cmd.env("TNS_ADMIN", p),
        None => cmd.env_remove("TNS_ADMIN"),
    };
    let mut child = cmd.spawn().expect("starting orasql");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    child.wait_with_output().expect("orasql output")
}

/// Users and their verifiers, held in memory (e.g. an 11g-only account).
pub struct StaticCredentials(pub Vec<(String, Verifier)>);

impl Credentials for StaticCredentials {
    fn verifier(&self, user: &str) -> Option<Verifier> {
        self.0
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(user))
            .map(|(_, v)| v.clone())
    }
}

/// A dedicated-server endpoint on 127.0.0.1:0 (SID and service `ORCL`) whose users come
/// from `creds`. Returns its port; the accept thread lives as long as the test process.
pub fn start_server_with(creds: Arc<dyn Credentials>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = l.local_addr().expect("local addr").port();
    let instance: Arc<dyn InstanceHooks> = Arc::new(LocalInstance::new("ORCL", 40));
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let creds = creds.clone();
            let instance = instance.clone();
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(IO_TIMEOUT));
                let _ = s.set_write_timeout(Some(IO_TIMEOUT));
                let Ok((bytes, _)) = read_connect(&mut s) else {
                    return;
                };
                let mut ctx = DedicatedContext::new("ORCL", "ORCL", std::env::temp_dir());
                ctx.instance = Some(instance);
                ctx.credentials = Some(creds);
                ctx.idle_timeout = Some(Duration::from_secs(60));
                let _ = run_dedicated(s, bytes, ctx);
            });
        }
    });
    port
}

/// A client link over TCP that records every byte the client writes, so that a test can
/// replay one call's request on the same connection without the client (the slow-reader and
/// send-timeout tests push answers at a client that never reads them).
#[derive(Debug)]
pub struct RecordingLink {
    /// The connection to the listener.
    pub stream: TcpStream,
    /// Everything the client has written so far.
    pub log: Arc<Mutex<Vec<u8>>>,
}

impl client::Link for RecordingLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Read::read(&mut self.stream, buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Write::write_all(&mut self.stream, bytes)
    }

    fn set_read_timeout(&mut self, timeout: std::time::Duration) -> std::io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))
    }

    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
