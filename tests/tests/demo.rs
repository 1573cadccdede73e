//! The README's first command runs `orasim demo`; this test runs the same tour on an
//! ephemeral port and checks that every step did what it says, down to the closing
//! dedicated/shared/pooled comparison (with fewer sessions than the demo's 200, to keep the
//! suite short) and the kill of one of its sessions.

use std::process::{Command, Stdio};
use std::time::Duration;

use tests::instance::{wait_output, workspace_bin};

/// Sessions per mode of the closing comparison.
const COMPARED: u32 = 12;

/// The comparison's table has a row per mode with every figure measured, all the sessions
/// open and no error; one shared session was killed (ORA-00028 on its next call) while every
/// other answered; tnsbench's own instance is gone afterwards.
fn check_comparison(stdout: &str) {
    let tail = stdout
        .split_once(&format!("$ tnsbench --quick {COMPARED}\n"))
        .unwrap_or_else(|| panic!("no tnsbench step in the demo:\n{stdout}"))
        .1;
    assert!(
        tail.contains(&format!(
            "dedicated vs shared vs pooled, {COMPARED} sessions each"
        )),
        "{tail}"
    );
    let rows: Vec<Vec<&str>> = tail
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() == 7 && ["dedicated", "shared", "pooled"].contains(&f[0]))
        .collect();
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        ["dedicated", "shared", "pooled"],
        "{tail}"
    );
    for r in &rows {
        // connect p50 ms, server CPU ms/connect, idle sessions, PSS KiB/idle session,
        // processes added for the idle sessions, errors
        for figure in [r[1], r[2], r[4]] {
            assert!(figure.parse::<f64>().is_ok(), "unmeasured figure in {r:?}");
        }
        assert_eq!(r[3], COMPARED.to_string(), "{r:?}");
        assert!(r[5].parse::<i64>().is_ok(), "{r:?}");
        assert_eq!(r[6], "0", "{r:?}");
    }
    // A dedicated server is a process per session; shared and pooled sessions are not.
    let added = |i: usize| rows[i][5].parse::<i64>().unwrap_or(0);
    let n = i64::from(COMPARED);
    assert!(added(0) >= n && added(1) < n / 2, "{rows:?}");

    let kill = tail
        .lines()
        .find_map(|l| l.strip_prefix("$ oradb kill-session "))
        .unwrap_or_else(|| panic!("no kill-session in:\n{tail}"));
    let (victim, bench_sid) = kill
        .split_once(" --sid ")
        .unwrap_or_else(|| panic!("kill-session without --sid: {kill}"));
    let after = tail.split_once(kill).map_or("", |(_, a)| a);
    for expected in [
        "System altered.".to_string(),
        format!("session {victim} next call: ORA-00028: your session has been killed"),
        format!("the other {n} sessions: {n} answered\n", n = COMPARED - 1),
    ] {
        assert!(after.contains(&expected), "lacks {expected:?}:\n{tail}");
    }
    let uid = nix::unistd::getuid().as_raw();
    assert!(
        !std::path::Path::new(&format!("/dev/shm/orasim_{uid}_{bench_sid}")).exists(),
        "tnsbench left the SGA of {bench_sid}"
    );
}

#[test]
fn demo_tour_runs_every_step_and_cleans_up() {
    for (package, bin) in [
        ("listener", "tnslsnr"),
        ("listener", "lsnrctl"),
        ("server_proc", "oradb"),
        ("client", "tnsping"),
        ("client", "orasql"),
        ("bench", "tnsbench"),
    ] {
        workspace_bin(package, bin);
    }
    let orasim = workspace_bin("client", "orasim");
    // A SID of this test process, so a suite running at once has its own instance; the demo
    // makes it the db_name too, which Oracle caps at 8 characters (pids have up to 7 digits).
    let sid = format!("D{}", std::process::id());
    let home = tempfile::tempdir().expect("temp dir");
    let child = Command::new(&orasim)
        .args(["demo", "--port", "0", "--sid", &sid, "--compare-sessions"])
        .arg(COMPARED.to_string())
        .arg("--home")
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
    check_comparison(&stdout);
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
