//! Running `orasql` as a DBA would from a shell against a test instance: a script on stdin
//! under a deadline, a guard that aborts an instance `orasql` started (STARTUP runs `oradb`
//! in the background, outside any guard of the test's own) even when the test fails, and the
//! check that a transcript holds the expected pieces in order.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::instance::wait_output;
use crate::procs::bin;

/// Runs `orasql LOGON` for `ORACLE_HOME=home`, `ORACLE_SID=sid` (no TNS_ADMIN, TWO_TASK or
/// LOCAL from the caller's environment) with `script` on its stdin; what it printed on stdout.
pub fn run_script(home: &Path, sid: &str, logon: &str, script: &str) -> String {
    let out = run_script_output(home, sid, logon, script);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// [`run_script`], with the exit status and stderr too (for WHENEVER ... EXIT checks).
pub fn run_script_output(home: &Path, sid: &str, logon: &str, script: &str) -> Output {
    let mut child = Command::new(bin("orasql"))
        .arg(logon)
        .env("ORACLE_HOME", home)
        .env("ORACLE_SID", sid)
        .env_remove("TNS_ADMIN")
        .env_remove("TWO_TASK")
        .env_remove("LOCAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orasql");
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes());
    wait_output(child, Duration::from_secs(90))
}

/// Runs `oradb shutdown abort` for the instance `sid` of `home` when dropped.
pub struct AbortOnDrop {
    /// The instance's ORACLE_HOME.
    pub home: PathBuf,
    /// Its SID.
    pub sid: String,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let _ = Command::new(bin("oradb"))
            .args(["shutdown", "abort", "--timeout", "20"])
            .env("ORACLE_HOME", &self.home)
            .env("ORACLE_SID", &self.sid)
            .output();
    }
}

/// Asserts that each of `want` occurs in `out`, in this order (each after the end of the
/// one before); fails with the whole transcript.
pub fn assert_in_order(out: &str, want: &[&str]) {
    let mut at = 0;
    for w in want {
        let i = out[at..]
            .find(w)
            .unwrap_or_else(|| panic!("missing {w:?} after byte {at}:\n{out}"));
        at += i + w.len();
    }
}
