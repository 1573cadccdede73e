//! Helpers for the real-client session tests (`tests/tests/session_*.rs`): a python-oracledb
//! runner with a timeout (built on [`crate::procs::capture`]), and an in-process dedicated-server
//! endpoint (accept loop on `127.0.0.1:0` → read CONNECT → `run_dedicated`) so the session
//! can be tested without the listener.

use std::ffi::OsStr;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use crate::procs::capture;
pub use crate::pyenv::python;

use engine::{Credentials, LocalInstance};
use server_proc::dedicated::{DedicatedContext, SessionEnd, run_dedicated};

/// What a driver script (python or node) printed.
#[derive(Debug)]
pub struct ScriptOutput {
    /// Exit success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl ScriptOutput {
    /// The JSON object the script printed as its last line. Panics with both streams, headed
    /// by `what`, when the script failed or its last line is not JSON.
    pub fn last_json(&self, what: &str) -> serde_json::Value {
        assert!(
            self.ok,
            "{what} failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let last = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("bad JSON {e}: {}", self.stdout))
    }
}

/// Runs `cmd` with its output captured; kills it after `timeout` (noted in its stderr as
/// `[<name> killed after timeout]`) or when the calling test panics.
pub(crate) fn run_guarded(cmd: &mut Command, name: &str, timeout: Duration) -> ScriptOutput {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let done = capture(child, timeout);
    let mut stderr = String::from_utf8_lossy(&done.stderr).into_owned();
    if done.timed_out {
        stderr.push_str(&format!("\n[{name} killed after timeout]"));
    }
    ScriptOutput {
        ok: !done.timed_out && done.status.success(),
        stdout: String::from_utf8_lossy(&done.stdout).into_owned(),
        stderr,
    }
}

/// Runs `script` with python-oracledb, passing `args`; kills it after `timeout`.
pub fn run_python<S: AsRef<OsStr>>(script: &str, args: &[S], timeout: Duration) -> ScriptOutput {
    run_guarded(
        Command::new(python()).arg("-c").arg(script).args(args),
        "python",
        timeout,
    )
}

/// An in-process "dedicated server" endpoint: every accepted connection gets a thread that
/// reads the CONNECT (and its overflow packet) and runs [`run_dedicated`].
pub struct InProcessServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The shared in-process instance (to check that sessions are freed).
    pub instance: Arc<LocalInstance>,
    /// How each session ended, in completion order.
    pub ends: Receiver<Result<SessionEnd, String>>,
    /// The temporary ORACLE_HOME with the password file.
    pub oracle_home: tempfile::TempDir,
}

/// Starts an endpoint for SID `ORCL` / service `ORCL` with user SCOTT/tiger.
pub fn start_server() -> InProcessServer {
    start_server_with(None)
}

/// Like [`start_server`], with verifiers from `credentials` instead of the password file.
pub fn start_server_with(credentials: Option<Arc<dyn Credentials>>) -> InProcessServer {
    let home = tempfile::tempdir().expect("tempdir");
    crate::procs::add_user(home.path(), "ORCL", "scott", "tiger");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let instance = Arc::new(LocalInstance::new("ORCL", 17));
    let (tx, ends) = channel();
    let inst = instance.clone();
    let home_path = home.path().to_path_buf();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(stream) = s else { continue };
            let tx = tx.clone();
            let inst = inst.clone();
            let home_path = home_path.clone();
            let creds = credentials.clone();
            std::thread::spawn(move || {
                let r = serve_one(stream, inst, &home_path, creds);
                let _ = tx.send(r);
            });
        }
    });
    InProcessServer {
        port,
        instance,
        ends,
        oracle_home: home,
    }
}

fn serve_one(
    mut stream: TcpStream,
    inst: Arc<LocalInstance>,
    home: &Path,
    credentials: Option<Arc<dyn Credentials>>,
) -> Result<SessionEnd, String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    loop {
        if tns::packet::decode_connect(&buf)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            break;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("EOF before CONNECT".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut ctx = DedicatedContext::new("ORCL", "ORCL", home);
    ctx.instance = Some(inst as Arc<dyn engine::InstanceHooks>);
    ctx.idle_timeout = Some(Duration::from_secs(60));
    ctx.credentials = credentials;
    run_dedicated(stream, buf, ctx).map_err(|e| e.to_string())
}
