//! `oradb` end to end with a temporary ORACLE_HOME: startup in the background and in the
//! foreground, status, sessions, kill-session and the shutdown modes.

use std::time::{Duration, Instant};

use server_proc::sga::{SessionStatus, SessionType, Sga};
use tests::instance::{TestHome, proc_state, wait_for};

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Kills a background instance by pid if a test fails before shutting it down.
struct PidGuard(Option<i32>, String);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = nix::sys::mman::shm_unlink(server_proc::sga::segment_name(&self.1).as_str());
    }
}

#[test]
fn startup_status_shutdown_in_the_background() {
    let home = TestHome::new("processes=20\nbogus_parameter=1");
    let out = home.run_oradb(&["startup"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.starts_with("ORACLE instance started."), "{stdout}");
    assert!(
        stderr.contains(
            ":5:1: warning: LRM-00101: unknown parameter name 'bogus_parameter' (ignored)"
        ),
        "{stderr}"
    );
    // SQL*Plus's STARTUP report (Oracle Database Administrator's Guide, "Starting Up a
    // Database"): five lines, labels in 24 columns, sizes right-aligned before " bytes".
    let sizes: Vec<&str> = stdout.lines().filter(|l| l.ends_with(" bytes")).collect();
    let labels: Vec<&str> = sizes.iter().map(|l| l[..24].trim_end()).collect();
    assert_eq!(
        labels,
        [
            "Total System Global Area",
            "Fixed Size",
            "Variable Size",
            "Database Buffers",
            "Redo Buffers"
        ],
        "{stdout}"
    );
    assert!(sizes.iter().all(|l| l.len() == 24 + 11 + 6), "{stdout}");
    let n = |i: usize| sizes[i][24..35].trim().parse::<u64>().unwrap();
    assert_eq!(n(0), n(1) + n(2) + n(3) + n(4), "{stdout}");
    assert_eq!(n(0), Sga::attach(&home.sid).unwrap().segment_size() as u64);
    assert!(
        stdout.ends_with("Database mounted.\nDatabase opened.\n"),
        "{stdout}"
    );
    let sga = Sga::attach(&home.sid).unwrap();
    let pid = sga.instance_pid();
    let _guard = PidGuard(Some(pid), home.sid.clone());
    // It runs as `oradb <SID>`, detached from the startup command.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<&[u8]> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(args, vec![b"oradb".as_slice(), home.sid.as_bytes()]);

    let (stdout, _) = text(&home.run_oradb(&["status"]));
    assert!(stdout.contains(" OPEN "), "{stdout}");
    assert!(
        stdout.contains("Processes                 2 of 20"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Sessions                  2 of 52"),
        "{stdout}"
    );
    // The unknown parameter was warned about in the alert log, not fatal.
    let log = std::fs::read_to_string(server_proc::instance::alert_log_path(
        home.path(),
        &home.sid,
    ))
    .unwrap();
    assert!(
        log.contains("LRM-00101: unknown parameter name 'bogus_parameter'"),
        "{log}"
    );

    // A second startup is refused.
    let out = home.run_oradb(&["startup"]);
    assert!(!out.status.success());
    assert!(
        text(&out)
            .1
            .contains("ORA-01081: cannot start already-running ORACLE - shut it down first"),
        "{:?}",
        text(&out)
    );

    let out = home.run_oradb(&["shutdown", "immediate"]);
    assert_eq!(
        text(&out).0,
        "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n"
    );
    assert!(!sga.instance_alive());
    let out = home.run_oradb(&["status"]);
    assert!(!out.status.success());
    assert!(
        text(&out)
            .1
            .starts_with("ORA-01034: ORACLE not available\nORA-27101"),
        "{:?}",
        text(&out)
    );
}

#[test]
fn startup_errors_come_from_the_parameter_file() {
    let home = TestHome::new("");
    let out = home.run_oradb(&["startup", "--sid", "NOSUCHPFILE"]);
    assert!(!out.status.success());
    let (_, stderr) = text(&out);
    assert!(stderr.starts_with("ORA-01078: failure in processing system parameters\nLRM-00109: could not open parameter file '"), "{stderr}");
    assert!(stderr.contains("/dbs/initNOSUCHPFILE.ora'"), "{stderr}");
    let bad = TestHome::new("processes=many");
    let out = bad.run_oradb(&["startup"]);
    assert!(
        text(&out)
            .1
            .contains("LRM-00121: 'many' is not an allowable value for 'processes'")
    );
    assert!(Sga::attach(&bad.sid).is_err(), "nothing was started");
}

#[test]
fn sessions_lists_v_session_and_kill_session_marks_an_idle_victim() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = home.probe(1);
    let (sid, serial) = victim.sessions[0];
    let (stdout, _) = text(&home.run_oradb(&["sessions"]));
    let line = stdout
        .lines()
        .find(|l| l.contains("sga_probe"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols[0], sid.to_string());
    assert_eq!(cols[1], serial.to_string());
    assert_eq!(cols[2], "SCOTT");
    assert_eq!(cols[3], "INACTIVE");
    assert_eq!(cols[4], "DEDICATED");
    assert_eq!(cols[5], victim.pid().to_string());
    assert!(stdout.ends_with("1 row selected.\n"), "{stdout}");

    // Wrong serial → ORA-00030; garbage → ORA-00026.
    let out = home.run_oradb(&["kill-session", &format!("{sid},{}", serial + 1)]);
    assert!(!out.status.success());
    assert_eq!(text(&out).1, "ORA-00030: User session ID does not exist.\n");
    let out = home.run_oradb(&["kill-session", "x,y"]);
    assert_eq!(text(&out).1, "ORA-00026: missing or invalid session ID\n");

    let out = home.run_oradb(&["kill-session", &format!("{sid},{serial}")]);
    assert_eq!(text(&out).0, "System altered.\n");
    let (stdout, _) = text(&home.run_oradb(&["sessions"]));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("sga_probe") && l.contains("KILLED")),
        "{stdout}"
    );
    // Its next call gets ORA-00028, then the session is gone: ORA-01012.
    assert_eq!(
        victim.ask("call").as_deref(),
        Some("ERROR ORA-00028: your session has been killed")
    );
    let (stdout, _) = text(&home.run_oradb(&["sessions"]));
    assert!(stdout.ends_with("no rows selected\n"), "{stdout}");
    assert_eq!(
        victim.ask("call").as_deref(),
        Some("ERROR ORA-01012: not logged on")
    );
}

#[test]
fn kill_session_reaches_a_victim_inside_a_long_call_at_once() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = home.probe(1);
    let (sid, serial) = victim.sessions[0];
    let sga = Sga::attach(&home.sid).unwrap();
    victim.send("sleep 30");
    let active = wait_for(Duration::from_secs(5), || {
        sga.snapshot_sessions()
            .into_iter()
            .find(|s| s.sid == sid && s.status == SessionStatus::Active)
    });
    assert!(active.is_some(), "the victim is inside its call");
    // The clock starts before `oradb kill-session` runs: an upper bound on kill-to-error.
    let killed_at = Instant::now();
    let out = home.run_oradb(&["kill-session", &format!("{sid},{serial}")]);
    assert!(out.status.success());
    // Answered well before the 30 s call would have ended.
    assert_eq!(
        victim.answer(Duration::from_secs(5)).as_deref(),
        Some("ERROR ORA-00028: your session has been killed")
    );
    let since_kill = killed_at.elapsed();
    assert!(
        since_kill < Duration::from_millis(1500),
        "the victim's call ended within ~1 s of the kill, not {since_kill:?}"
    );
    assert!(sga.snapshot_sessions().iter().all(|s| s.sid != sid));
}

#[test]
fn kill_session_immediate_ends_the_victims_process() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = home.probe(1);
    let mut bystander = home.probe(1);
    let (sid, serial) = victim.sessions[0];
    let out = home.run_oradb(&["kill-session", &format!("{sid},{serial}"), "--immediate"]);
    assert_eq!(text(&out).0, "System altered.\n");
    let status = victim
        .wait_exit(Duration::from_secs(5))
        .expect("victim process ended");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(nix::libc::SIGTERM));
    assert_eq!(proc_state(victim.pid()), None);
    let sga = Sga::attach(&home.sid).unwrap();
    let gone = wait_for(Duration::from_secs(2), || {
        sga.snapshot_sessions()
            .iter()
            .all(|s| s.sid != sid)
            .then_some(())
    });
    assert!(gone.is_some(), "pmon cleaned the slot");
    assert_eq!(bystander.ask("call").as_deref(), Some("OK"));
}

#[test]
fn kill_session_disconnect_escalates_to_sigkill_for_a_stubborn_server() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = tests::instance::Probe::start_with(&home.sid, 1, &["--ignore-sigterm"]);
    let (sid, serial) = victim.sessions[0];
    let out = home.run_oradb(&["kill-session", &format!("{sid},{serial}"), "--disconnect"]);
    assert_eq!(text(&out).0, "System altered.\n");
    let status = victim
        .wait_exit(Duration::from_secs(5))
        .expect("victim process ended");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(nix::libc::SIGKILL));
}

#[test]
fn shutdown_normal_refuses_new_logins_and_waits_for_users() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    let mut user = home.probe(1);
    let shutdown = home.spawn_oradb(&["shutdown", "normal"]);
    let sga = Sga::attach(&home.sid).unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || sga
            .instance_row()
            .shutdown_pending
            .then_some(()))
        .is_some()
    );
    // No new connections; the existing one keeps working.
    let late = home.probe(1);
    assert_eq!(
        late.error.as_deref(),
        Some("ORA-01090: shutdown in progress - connection is not permitted")
    );
    assert_eq!(user.ask("call").as_deref(), Some("OK"));
    assert!(sga.instance_alive(), "NORMAL waits for the user");
    // The user logs off: the shutdown completes.
    assert_eq!(user.ask("exit"), None);
    let out = shutdown.output(Duration::from_secs(20));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n"
    );
    assert!(inst.wait_exit(Duration::from_secs(5)));
}

#[test]
fn shutdown_immediate_ends_active_and_idle_sessions() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    let mut busy = home.probe(1);
    let mut idle = home.probe(1);
    let sga = Sga::attach(&home.sid).unwrap();
    busy.send("sleep 30");
    assert!(
        wait_for(Duration::from_secs(5), || {
            sga.snapshot_sessions()
                .into_iter()
                .find(|s| s.status == SessionStatus::Active && s.session_type == SessionType::User)
        })
        .is_some()
    );
    let out = home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success(), "{:?}", text(&out));
    // The session inside a call is told ORA-01089 at once; the idle one loses its process.
    assert_eq!(
        busy.answer(Duration::from_secs(5)).as_deref(),
        Some(
            "ERROR ORA-01089: immediate shutdown or close in progress - no operations are permitted"
        )
    );
    assert!(
        idle.wait_exit(Duration::from_secs(10)).is_some(),
        "idle server ended"
    );
    assert!(inst.wait_exit(Duration::from_secs(10)));
    let again = home.probe(1);
    assert!(
        again
            .error
            .as_deref()
            .unwrap_or("")
            .starts_with("ORA-01034")
    );
}

#[test]
fn shutdown_transactional_lets_the_running_call_finish() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    let mut busy = home.probe(1);
    let mut idle = home.probe(1);
    let sga = Sga::attach(&home.sid).unwrap();
    busy.send("sleep 2");
    assert!(
        wait_for(Duration::from_secs(5), || {
            sga.snapshot_sessions()
                .into_iter()
                .find(|s| s.status == SessionStatus::Active && s.session_type == SessionType::User)
        })
        .is_some()
    );
    let out = home.run_oradb(&["shutdown", "transactional"]);
    assert!(out.status.success(), "{:?}", text(&out));
    // Unlike IMMEDIATE, the call in progress completes normally; then both servers go.
    assert_eq!(busy.answer(Duration::from_secs(10)).as_deref(), Some("OK"));
    assert!(busy.wait_exit(Duration::from_secs(10)).is_some());
    assert!(idle.wait_exit(Duration::from_secs(10)).is_some());
    assert!(inst.wait_exit(Duration::from_secs(10)));
}

#[test]
fn shutdown_abort_kills_servers_at_once() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    let mut user = home.probe(1);
    let out = home.run_oradb(&["shutdown", "abort"]);
    assert_eq!(text(&out).0, "ORACLE instance shut down.\n");
    let st = user
        .wait_exit(Duration::from_secs(5))
        .expect("server killed");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(nix::libc::SIGKILL));
    assert!(inst.wait_exit(Duration::from_secs(5)));
}

#[test]
fn a_crashed_instance_ends_its_sessions_and_starts_again_over_the_stale_sga() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    let mut user = home.probe(1);
    assert_eq!(user.ask("call").as_deref(), Some("OK"));
    // kill -9 of oradb: nothing is cleaned up, the segment stays behind.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(inst.pid() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(inst.wait_exit(Duration::from_secs(5)));
    // The server's next calls find the instance gone.
    let err = wait_for(Duration::from_secs(5), || {
        user.ask("call").filter(|a| a.starts_with("ERROR"))
    });
    assert_eq!(
        err.as_deref(),
        Some("ERROR ORA-01092: ORACLE instance terminated. Disconnection forced")
    );
    let late = home.probe(1);
    assert!(late.error.as_deref().unwrap_or("").starts_with("ORA-01034"));
    // STARTUP replaces the dead instance's segment.
    let _again = home.start_foreground();
    let fresh = home.probe(1);
    assert!(fresh.error.is_none(), "{:?}", fresh.error);
    assert_eq!(fresh.sessions.len(), 1);
}

#[test]
fn sigterm_to_the_instance_is_shutdown_immediate() {
    let home = TestHome::new("");
    let mut inst = home.start_foreground();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(inst.pid() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(inst.wait_exit(Duration::from_secs(10)));
    assert!(Sga::attach(&home.sid).is_err());
}

/// The alert log's layout against Oracle's (Oracle Database 19c Administrator's Guide,
/// "Monitoring the Database" / "Viewing the Alert Log": the text alert log of 12.2 and later
/// puts each message under a line with its ISO 8601 timestamp, microseconds and time zone
/// offset; startup writes "Starting ORACLE instance (normal) (OS id: n)", the parameters
/// with non-default values, the ALTER DATABASE MOUNT/OPEN pair; shutdown writes "Shutting
/// down ORACLE instance (immediate) (OS id: n)" and "Instance shutdown complete (OS id: n)").
#[test]
fn the_alert_log_reads_as_oracles() {
    let home = TestHome::new("processes = 20");
    let mut inst = home.start_foreground();
    let pid = inst.pid();
    let out = home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(inst.wait_exit(Duration::from_secs(30)));
    let log = home.alert_log();
    let lines: Vec<&str> = log.lines().collect();
    let is_stamp = tests::instance::is_alert_timestamp;
    assert!(is_stamp(lines[0]), "{log}");
    // Every message sits under its own timestamp; no tracing level or module path.
    for (i, l) in lines.iter().enumerate() {
        assert!(
            !l.contains(" INFO ") && !l.contains("server_proc::"),
            "{l}\n{log}"
        );
        if i > 0 && is_stamp(lines[i - 1]) {
            assert!(!is_stamp(l), "an empty message at line {i}:\n{log}");
        }
    }
    let message_after_stamp = |m: &str| lines.windows(2).any(|w| is_stamp(w[0]) && w[1] == m);
    for m in [
        format!("Starting ORACLE instance (normal) (OS id: {pid})"),
        "System parameters with non-default values:".to_string(),
        "ALTER DATABASE   MOUNT".to_string(),
        "Completed: ALTER DATABASE   MOUNT".to_string(),
        "ALTER DATABASE OPEN".to_string(),
        "Completed: ALTER DATABASE OPEN".to_string(),
        format!("Shutting down ORACLE instance (immediate) (OS id: {pid})"),
        format!("Instance shutdown complete (OS id: {pid})"),
    ] {
        assert!(
            message_after_stamp(&m),
            "{m:?} not found under a timestamp:\n{log}"
        );
    }
    // The parameter lines: two blanks, the name in 24 columns, `= value`, strings quoted.
    assert!(log.contains("\n  processes                = 20\n"), "{log}");
    assert!(
        log.contains("\n  db_name                  = \"ORCL\"\n"),
        "{log}"
    );
}

/// STARTUP NOMOUNT / MOUNT, ALTER DATABASE MOUNT / OPEN with Oracle's refusals, STARTUP
/// FORCE over a running instance; V$INSTANCE.STATUS (as `oradb status` shows it) follows.
#[test]
fn startup_stages_alter_database_and_force() {
    let home = TestHome::new("processes=20");
    let status = |home: &TestHome| {
        let (stdout, _) = text(&home.run_oradb(&["status"]));
        stdout
    };
    let out = home.run_oradb(&["startup", "nomount"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let pid = Sga::attach(&home.sid).unwrap().instance_pid();
    let mut guard = PidGuard(Some(pid), home.sid.clone());
    assert!(stdout.starts_with("ORACLE instance started."), "{stdout}");
    assert!(stdout.contains("Total System Global Area"), "{stdout}");
    assert!(!stdout.contains("Database mounted."), "{stdout}");
    assert!(status(&home).contains(" STARTED "), "{}", status(&home));

    let out = home.run_oradb(&["alter-database", "open"]);
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("ORA-01507: database not mounted"),
        "{:?}",
        text(&out)
    );
    let out = home.run_oradb(&["alter-database", "mount"]);
    assert_eq!(text(&out).0, "Database altered.\n", "{:?}", text(&out));
    assert!(status(&home).contains(" MOUNTED "), "{}", status(&home));
    let out = home.run_oradb(&["alter-database", "mount"]);
    assert!(
        text(&out).1.contains("ORA-01100: database already mounted"),
        "{:?}",
        text(&out)
    );
    let out = home.run_oradb(&["alter-database", "open"]);
    assert_eq!(text(&out).0, "Database altered.\n", "{:?}", text(&out));
    assert!(status(&home).contains(" OPEN "), "{}", status(&home));
    let out = home.run_oradb(&["alter-database", "open"]);
    assert!(
        text(&out)
            .1
            .contains("ORA-01531: a database already open by the instance"),
        "{:?}",
        text(&out)
    );
    let log = home.alert_log();
    assert!(
        log.contains("\nCompleted: ALTER DATABASE   MOUNT\n"),
        "{log}"
    );
    assert!(log.contains("\nCompleted: ALTER DATABASE OPEN\n"), "{log}");

    // STARTUP MOUNT over a running instance is refused; FORCE aborts it and starts again.
    let out = home.run_oradb(&["startup", "mount"]);
    assert!(text(&out).1.contains("ORA-01081"), "{:?}", text(&out));
    let out = home.run_oradb(&["startup", "force"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.ends_with("Database mounted.\nDatabase opened.\n"),
        "{stdout}"
    );
    let new_pid = Sga::attach(&home.sid).unwrap().instance_pid();
    assert_ne!(new_pid, pid);
    guard.0 = Some(new_pid);
    assert!(status(&home).contains(" OPEN "), "{}", status(&home));
    assert!(home.run_oradb(&["shutdown", "immediate"]).status.success());
    guard.0 = None;
}
