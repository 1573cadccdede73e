//! The node-oracledb installs the real-client node tests drive: node-oracledb 26.0.0 and
//! 6.10.0 (thin mode, pure JavaScript), each installed once by `scripts/nodeenv.sh` under
//! `target/nodeenv`, and a node runner with a timeout that kills the child through a guard.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::corpus::repo_root;

/// The node-oracledb versions the script installs, in the order it prints them.
pub const VERSIONS: [&str; 2] = ["26.0.0", "6.10.0"];

/// The `node_modules` directory of each installed version, in [`VERSIONS`] order
/// (installing them on first use). Panics with the script's output when it fails.
pub fn node_modules() -> Vec<PathBuf> {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let script = repo_root().join("scripts").join("nodeenv.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(PathBuf::from)
            .collect()
    })
    .clone()
}

/// Kills the child when dropped (even when the test panics).
struct KillGuard(Child);

impl Drop for KillGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a node run printed.
#[derive(Debug)]
pub struct NodeOutput {
    /// Exit success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `script` with node, `require("oracledb")` resolving to node-oracledb `version`
/// (one of [`VERSIONS`]), passing `args` (`process.argv[2..]`); kills it after `timeout`.
pub fn run_node(version: &str, script: &str, args: &[String], timeout: Duration) -> NodeOutput {
    let ix = VERSIONS
        .iter()
        .position(|v| *v == version)
        .unwrap_or_else(|| panic!("node-oracledb {version} is not installed by nodeenv.sh"));
    let modules = node_modules()[ix].clone();
    let mut child = KillGuard(
        Command::new("node")
            .arg("-e")
            .arg(script)
            .arg("--")
            .args(args)
            .env("NODE_PATH", &modules)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting node"),
    );
    let mut so = child.0.stdout.take().expect("stdout piped");
    let mut se = child.0.stderr.take().expect("stderr piped");
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(st)) = child.0.try_wait() {
            break Some(st);
        }
        if start.elapsed() > timeout {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(child);
    let stdout = t1.join().unwrap_or_default();
    let mut stderr = t2.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str("\n[node killed after timeout]");
    }
    NodeOutput {
        ok: status.is_some_and(|s| s.success()),
        stdout,
        stderr,
    }
}
