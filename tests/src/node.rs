//! The node-oracledb installs the real-client node tests drive: node-oracledb 26.0.0 and
//! 6.10.0 (thin mode, pure JavaScript), each installed once by `scripts/nodeenv.sh` under
//! `target/nodeenv`, and a node runner with a timeout that kills the child through a guard.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::corpus::repo_root;
use crate::py::{ScriptOutput, run_guarded};

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

/// Runs `script` with node, `require("oracledb")` resolving to node-oracledb `version`
/// (one of [`VERSIONS`]), passing `args` (`process.argv[2..]`); kills it after `timeout`.
pub fn run_node(version: &str, script: &str, args: &[String], timeout: Duration) -> ScriptOutput {
    let ix = VERSIONS
        .iter()
        .position(|v| *v == version)
        .unwrap_or_else(|| panic!("node-oracledb {version} is not installed by nodeenv.sh"));
    let modules = node_modules()[ix].clone();
    run_guarded(
        Command::new("node")
            .arg("-e")
            .arg(script)
            .arg("--")
            .args(args)
            .env("NODE_PATH", &modules),
        "node",
        timeout,
    )
}

/// Runs `files` of node-oracledb's own mocha test directory `dir` through
/// `scripts/node_suite.sh` (node-oracledb 26.0.0) against `dsn` as `user`; kills mocha
/// after `timeout`.
pub fn run_node_suite(
    dir: &str,
    user: &str,
    password: &str,
    dsn: &str,
    files: &[&str],
    timeout: Duration,
) -> ScriptOutput {
    run_guarded(
        Command::new("bash")
            .arg(repo_root().join("scripts/node_suite.sh"))
            .args([dir, user, password, dsn])
            .args(files),
        "mocha",
        timeout,
    )
}
