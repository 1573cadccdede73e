//! The alert log of a startup, an `ALTER SYSTEM KILL SESSION` and a `SHUTDOWN IMMEDIATE`,
//! byte for byte `server_proc/testdata/alert_startup_kill_shutdown.log` (layout source
//! named in `server_proc/testdata/README.md`) after normalising only what varies from run
//! to run: the timestamps, the OS pids, the victim's `(sid, serial#)` and the file
//! descriptor limit of the machine.

use std::time::Duration;

use tests::instance::{TestHome, is_alert_timestamp};

/// Timestamp and values the golden file holds in place of this run's.
const STAMP: &str = "2019-05-15T20:22:00.000000+00:00";

/// `... ospid = <digits>` with the digits replaced by `pid`.
fn replace_ospid(line: &str, pid: &str) -> String {
    let Some(at) = line.find("ospid = ") else {
        return line.to_string();
    };
    let digits_from = at + "ospid = ".len();
    let digits_len = line[digits_from..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    format!(
        "{}{pid}{}",
        &line[..digits_from],
        &line[digits_from + digits_len..]
    )
}

#[test]
fn startup_kill_and_shutdown_are_logged_in_oracles_layout() {
    let home = TestHome::new_with_sid("G4ALRT", "processes = 20");
    let mut inst = home.start_foreground();
    let instance_pid = inst.pid().to_string();
    let mut victim = home.probe(1);
    let victim_pid = victim.pid().to_string();
    let (sid, serial) = victim.sessions[0];
    let out = home.run_oradb(&["kill-session", &format!("{sid},{serial}")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        victim.ask("call").as_deref(),
        Some("ERROR ORA-00028: your session has been killed")
    );
    let out = home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success(), "{out:?}");
    assert!(inst.wait_exit(Duration::from_secs(30)));

    let log = home.alert_log();
    let mut normalised = String::new();
    for line in log.lines() {
        let line = if is_alert_timestamp(line) {
            STAMP.to_string()
        } else if line.starts_with("RLIMIT_NOFILE is ") {
            "RLIMIT_NOFILE is 65536 (the hard limit)".to_string()
        } else if line.starts_with("  Requestor = ") {
            replace_ospid(line, "2301")
        } else if line.starts_with("  Owner = ") {
            assert!(line.contains(&format!("ospid = {victim_pid})")), "{line}");
            replace_ospid(line, "2302")
        } else {
            line.replace(&format!("(OS id: {instance_pid})"), "(OS id: 2300)")
                .replace(&format!("sid=({sid}, {serial})"), "sid=(23, 45)")
        };
        normalised.push_str(&line);
        normalised.push('\n');
    }
    assert_eq!(
        normalised,
        include_str!("../../server_proc/testdata/alert_startup_kill_shutdown.log"),
        "as written:\n{log}"
    );
}
