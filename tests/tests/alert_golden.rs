//! The alert log of a startup, an `ALTER SYSTEM KILL SESSION` and a `SHUTDOWN IMMEDIATE`,
//! byte for byte `server_proc/testdata/alert_startup_kill_shutdown.log` (layout source
//! named in `server_proc/testdata/README.md`) after normalising only what varies from run
//! to run: the timestamps, the OS pids, the victim's `(sid, serial#)` and the file
//! descriptor limit of the machine.
//!
//! And `ALTER SYSTEM KILL SESSION` run from SQL (python-oracledb 26.1.0) on a dedicated and
//! on a shared server writes the same entry, with the process running the statement (the
//! dedicated server, the shared server S000) as the requester, to the alert log the instance published in the SGA — although the listener
//! that forked the dedicated server has another ORACLE_HOME.

use std::time::Duration;

use tests::instance::{TestHome, is_alert_timestamp};
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

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
    // The victim leaves before the shutdown: a server the shutdown has to terminate is
    // found dead by PMON or by the shutdown itself, whichever looks first, and only PMON
    // writes a line about it.
    victim.send("exit");
    assert!(victim.wait_exit(Duration::from_secs(10)).is_some());
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

/// V$PROCESS.PID and SPID of the process owning session `sid`, asked on connection `on`.
fn process_of(py: &mut PyDriver, on: &str, sid: u64) -> (u64, String) {
    let r = py.exec(
        on,
        &format!("select p.pid, p.spid from v$session s, v$process p where s.paddr = p.addr and s.sid = {sid}"),
    );
    let row = &r.result()[0];
    match (row[0].as_u64(), row[1].as_str()) {
        (Some(pid), Some(spid)) => (pid, spid.to_string()),
        _ => panic!("process of session {sid}: {}", r.json),
    }
}

/// The entry Oracle writes for a kill from SQL.
fn kill_entry(
    victim: (u64, u64),
    mode: &str,
    requestor: &(u64, String),
    owner: &(u64, String),
) -> String {
    format!(
        "KILL SESSION for sid=({}, {}):\n  Reason = alter system kill session\n  Mode = {mode}\n  \
         Requestor = USER (orapid = {}, ospid = {}, inst = 1)\n  \
         Owner = Process: USER (orapid = {}, ospid = {})\n  Result = ORA-0",
        victim.0, victim.1, requestor.0, requestor.1, owner.0, owner.1
    )
}

#[test]
fn kills_from_sql_on_dedicated_and_shared_servers_are_logged_by_the_killer() {
    let stack = SharedStack::start(
        &own_sid("AL1K"),
        "shared_servers=1\nmax_shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    let connect = |py: &mut PyDriver, name: &str, server: &str| {
        let (sid, serial, _) = py
            .connect(name, &stack.dsn(server), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {name}: {}", r.json));
        (sid, serial)
    };
    let dba_dedicated = connect(&mut py, "dba_d", "dedicated");
    let dba_shared = connect(&mut py, "dba_s", "shared");
    let victim_shared = connect(&mut py, "v_s", "shared");
    let victim_dedicated = connect(&mut py, "v_d", "dedicated");
    let victim_immediate = connect(&mut py, "v_i", "shared");
    let requestor_d = process_of(&mut py, "dba_d", dba_dedicated.0);
    // A shared session's statement runs on the shared server: S000 is the requester.
    let r = py.exec(
        "dba_d",
        "select pid, spid from v$process where pname = 'S000'",
    );
    let requestor_s = match (r.result()[0][0].as_u64(), r.result()[0][1].as_str()) {
        (Some(pid), Some(spid)) => (pid, spid.to_string()),
        _ => panic!("S000: {}", r.json),
    };
    let owner_s = process_of(&mut py, "dba_d", victim_shared.0);
    let owner_d = process_of(&mut py, "dba_d", victim_dedicated.0);
    let owner_i = process_of(&mut py, "dba_d", victim_immediate.0);
    assert_ne!(
        requestor_d.1, requestor_s.1,
        "a dedicated server, a shared server"
    );
    // ... not the dispatcher that owns the killer's session.
    assert_ne!(process_of(&mut py, "dba_d", dba_shared.0), requestor_s);
    let kill = |py: &mut PyDriver, by: &str, victim: (u64, u64), how: &str| {
        let r = py.exec(
            by,
            &format!("alter system kill session '{},{}'{how}", victim.0, victim.1),
        );
        assert!(r.ok(), "{}", r.json);
    };
    // A dedicated server kills a shared session, a shared server a dedicated one: both
    // victims get ORA-00028 at their next call.
    kill(&mut py, "dba_d", victim_shared, "");
    kill(&mut py, "dba_s", victim_dedicated, "");
    kill(&mut py, "dba_s", victim_immediate, " immediate");
    for victim in ["v_s", "v_d"] {
        let r = py.exec(victim, "select 1 from dual");
        assert_eq!(r.code(), Some(28), "{victim}: {}", r.json);
    }
    let r = py.exec("v_i", "select 1 from dual");
    assert!(
        !r.ok(),
        "an IMMEDIATE kill closes the connection: {}",
        r.json
    );

    let log = stack.home.alert_log();
    let lines: Vec<&str> = log.lines().collect();
    let mut entries = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("KILL SESSION for sid=") {
            assert!(i > 0 && is_alert_timestamp(lines[i - 1]), "{log}");
            entries.push(lines[i..(i + 6).min(lines.len())].join("\n"));
        }
    }
    assert_eq!(
        entries,
        vec![
            kill_entry(victim_shared, "KILL SOFT -/-/-", &requestor_d, &owner_s),
            kill_entry(victim_dedicated, "KILL SOFT -/-/-", &requestor_s, &owner_d),
            kill_entry(
                victim_immediate,
                "KILL HARD SAFE -/-/-",
                &requestor_s,
                &owner_i
            ),
        ],
        "the alert log:\n{log}"
    );
}
