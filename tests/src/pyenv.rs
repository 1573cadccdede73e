//! The python-oracledb 26.1.0 virtual environment used by real-client and differential
//! tests: created once by `scripts/pyenv.sh` (cached under `target/pyenv`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::corpus::repo_root;

/// Path of the venv's python, creating the venv if needed (the script runs once per test
/// process). Panics with the script's output when it cannot be created (the tests that need
/// it cannot run without it).
pub fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(venv_python).clone()
}

fn venv_python() -> PathBuf {
    let script = repo_root().join("scripts").join("pyenv.sh");
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
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    PathBuf::from(path)
}
