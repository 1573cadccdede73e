//! The README's first command runs `orasim demo`; this test runs the same tour on an
//! ephemeral port and checks that every step did what it says.

use std::process::{Command, Stdio};
use std::time::Duration;

use tests::instance::{wait_output, workspace_bin};

#[test]
fn demo_tour_runs_every_step_and_cleans_up() {
    for (package, bin) in [
        ("listener", "tnslsnr"),
        ("listener", "lsnrctl"),
        ("server_proc", "oradb"),
        ("client", "tnsping"),
        ("client", "orasql"),
    ] {
        workspace_bin(package, bin);
    }
    let orasim = workspace_bin("client", "orasim");
    // A SID of this test process, so a suite running at once has its own instance; the demo
    // makes it the db_name too, which Oracle caps at 8 characters (pids have up to 7 digits).
    let sid = format!("D{}", std::process::id());
    let home = tempfile::tempdir().expect("temp dir");
    let child = Command::new(&orasim)
        .args(["demo", "--port", "0", "--sid", &sid, "--home"])
        .arg(home.path())
        .env_remove("TNS_ADMIN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orasim demo");
    let out = wait_output(child, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for expected in [
        "User created.",
        "Database opened.",
        "\"DEDICATED\" established:",
        "OK (",
        "SCOTT",
        "6 rows selected.",
        "ORA-00942: table or view does not exist",
        "ORA-01017: invalid username/password; logon denied",
        "ORA-12514: TNS:listener does not currently know of service requested in connect descriptor",
        "The demo completed successfully.",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}\n{stderr}"
        );
    }
    // Teardown stopped the listener: lsnrctl now reports no listener.
    let status = Command::new(workspace_bin("listener", "lsnrctl"))
        .arg("status")
        .env("ORACLE_HOME", home.path())
        .env_remove("TNS_ADMIN")
        .output()
        .expect("lsnrctl status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("TNS-12541"),
        "listener still answers after the demo:\n{text}"
    );
}
