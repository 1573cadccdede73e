//! `tnsbench` stopped by SIGTERM in the middle of a phase stops everything it started: its
//! listeners (and their spawners and dedicated servers), its instance (and the SGA segment),
//! the floor process, and its throw-away ORACLE_HOME; it exits with 128 + 15.

use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tests::instance::{wait_output, workspace_bin};
use tests::procs::{children_of, title_of, wait_until};

/// `pid` and all its descendants, with their titles.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children_of(p) {
            out.push((c, title_of(c)));
            todo.push(c);
        }
    }
    out
}

#[test]
fn sigterm_mid_run_tears_the_whole_stack_down() {
    for (package, bin) in [
        ("listener", "tnslsnr"),
        ("listener", "lsnrctl"),
        ("server_proc", "oradb"),
    ] {
        workspace_bin(package, bin);
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    // Connect cycles that would go on for a minute.
    let child = Command::new(workspace_bin("bench", "tnsbench"))
        .args([
            "--mode",
            "dedicated,shared",
            "--phase",
            "connect",
            "--connects",
            "1000000",
            "--phase-limit",
            "60",
            "--python",
            "none",
            "-q",
        ])
        .env("TMPDIR", tmp.path())
        .env_remove("TNS_ADMIN")
        .env_remove("ORASIM_RUN_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tnsbench");
    let pid = child.id();
    let sid = format!("TB{}", pid % 1_000_000);
    let uid = nix::unistd::getuid().as_raw();
    let segment = format!("/dev/shm/orasim_{uid}_{sid}");
    // The floor process starts once the stack is up, right before the phases.
    let running = wait_until(Duration::from_secs(60), || {
        descendants(pid)
            .iter()
            .any(|(_, t)| t.contains("--floor-server"))
    });
    std::thread::sleep(Duration::from_secs(1));
    let stack = descendants(pid);
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    let out = wait_output(child, Duration::from_secs(90));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(running, "no floor process appeared: {stderr}");
    assert!(
        stack.iter().any(|(_, t)| t.contains("tnslsnr"))
            && stack.iter().any(|(_, t)| t.contains("oradb")),
        "{stack:?}"
    );
    assert_eq!(out.status.code(), Some(128 + 15), "{stderr}");
    assert!(stderr.contains("stopped by signal 15"), "{stderr}");
    // Every process of the stack is gone (a recycled pid would carry another title).
    let gone = wait_until(Duration::from_secs(10), || {
        stack.iter().all(|(p, t)| title_of(*p) != *t)
    });
    let left: Vec<_> = stack.iter().filter(|(p, t)| title_of(*p) == *t).collect();
    assert!(gone, "left running after SIGTERM: {left:?}");
    assert!(
        !std::path::Path::new(&segment).exists(),
        "SGA segment {segment} left"
    );
    let homes: Vec<_> = std::fs::read_dir(tmp.path())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(homes.is_empty(), "left in TMPDIR: {homes:?}");
}
