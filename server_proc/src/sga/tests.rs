//! In-process tests of the SGA: one test process plays the instance and several servers.
//! The multi-process behaviour (pmon, kill of another process) is tested end to end in
//! `tests/tests/instance_*.rs` with real processes.

use super::*;
use std::sync::atomic::AtomicU32;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh SGA with a SID unique to this test run, unlinked on drop.
struct TestSga {
    sga: Arc<Sga>,
}

impl Drop for TestSga {
    fn drop(&mut self) {
        let _ = self.sga.unlink();
    }
}

fn test_sga(processes: u32, sessions: u32) -> TestSga {
    let sid = format!(
        "UT{}X{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let sga = Sga::create(&SgaConfig {
        sid,
        instance_name: "orcl".into(),
        db_name: "ORCL".into(),
        host_name: "dbhost".into(),
        version: "19.0.0.0.0".into(),
        processes,
        sessions,
    })
    .unwrap();
    sga.set_instance_state(InstanceState::Open);
    TestSga { sga }
}

fn user(name: &str) -> SessionSpec {
    SessionSpec {
        username: name.into(),
        program: "python@client".into(),
        machine: "client".into(),
        service: "orcl".into(),
        ..SessionSpec::default()
    }
}

#[test]
fn attach_without_instance_is_ora_01034_and_27101() {
    let err = Sga::attach("NOSUCHSID_orasim").unwrap_err();
    assert_eq!(err.ora_code(), 1034);
    let text = err.to_string();
    assert!(
        text.starts_with("ORA-01034: ORACLE not available"),
        "{text}"
    );
    assert!(
        text.contains("ORA-27101: shared memory realm does not exist"),
        "{text}"
    );
}

#[test]
fn attach_sees_the_same_tables() {
    let t = test_sga(10, 20);
    let other = Sga::attach(&t.sga.sid()).unwrap();
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("oracle@h (TNS V1-V3)"))
        .unwrap();
    let s = p.create_session(&user("SCOTT")).unwrap();
    let rows = other.snapshot_sessions();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sid, s.sid());
    assert_eq!(rows[0].serial, s.serial());
    assert_eq!(rows[0].username.as_deref(), Some("SCOTT"));
    assert_eq!(rows[0].paddr, p.addr());
    assert_eq!(rows[0].status, SessionStatus::Inactive);
    assert_eq!(rows[0].server, ServerKind::Dedicated);
    assert_eq!(rows[0].service_name, "orcl");
    let procs = other.snapshot_processes();
    assert_eq!(procs.len(), 1);
    assert_eq!(procs[0].spid, std::process::id() as i32);
    assert_eq!(procs[0].pname, None);
    assert!(!procs[0].background);
    let inst = other.instance_row();
    assert_eq!(inst.instance_name, "orcl");
    assert_eq!(inst.status, InstanceState::Open);
    assert!(!inst.shutdown_pending);
}

#[test]
fn processes_limit_gives_ora_00020_and_frees_on_release() {
    let t = test_sga(2, 10);
    let a = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let _b = t
        .sga
        .register_process(&ProcessSpec::dedicated("b"))
        .unwrap();
    let err = t
        .sga
        .register_process(&ProcessSpec::dedicated("c"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ORA-00020: maximum number of processes (2) exceeded"
    );
    drop(a);
    let c = t
        .sga
        .register_process(&ProcessSpec::dedicated("c"))
        .unwrap();
    assert_eq!(c.pid(), 1, "the freed slot is reused");
    assert_eq!(c.serial(), 2, "SERIAL# is bumped on reuse");
}

#[test]
fn sessions_limit_gives_ora_00018() {
    let t = test_sga(5, 2);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let _s1 = p.create_session(&user("A")).unwrap();
    let s2 = p.create_session(&user("B")).unwrap();
    let err = p.create_session(&user("C")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ORA-00018: maximum number of sessions exceeded"
    );
    assert_eq!(err.ora_code(), 18);
    s2.logoff();
    assert!(p.create_session(&user("C")).is_ok());
}

#[test]
fn serial_is_bumped_on_reuse_of_a_sid() {
    let t = test_sga(5, 5);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let s = p.create_session(&user("A")).unwrap();
    let (sid, serial) = (s.sid(), s.serial());
    drop(s);
    let s = p.create_session(&user("B")).unwrap();
    assert_eq!(s.sid(), sid);
    assert_eq!(s.serial(), serial + 1);
    // The old incarnation cannot be killed any more.
    let err = t
        .sga
        .kill_session(sid, serial, KillRequest::Kill, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ORA-00030: User session ID does not exist."
    );
}

#[test]
fn idle_victim_shows_killed_then_gets_ora_00028_then_ora_01012() {
    let t = test_sga(5, 5);
    let pa = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let pb = t
        .sga
        .register_process(&ProcessSpec::dedicated("b"))
        .unwrap();
    let a = pa.create_session(&user("A")).unwrap();
    let b = pb.create_session(&user("B")).unwrap();
    let out = t
        .sga
        .kill_session(
            b.sid(),
            b.serial(),
            KillRequest::Kill,
            Some((a.sid(), a.serial())),
        )
        .unwrap();
    assert!(!out.was_active);
    assert!(!out.signalled);
    let row = t
        .sga
        .snapshot_sessions()
        .into_iter()
        .find(|r| r.sid == b.sid())
        .unwrap();
    assert_eq!(row.status, SessionStatus::Killed);
    let err = b.begin_call().unwrap_err();
    assert_eq!(err.to_string(), "ORA-00028: your session has been killed");
    assert!(
        t.sga.snapshot_sessions().iter().all(|r| r.sid != b.sid()),
        "row gone"
    );
    assert_eq!(b.begin_call().unwrap_err().ora_code(), 1012);
    // The killer is untouched.
    a.begin_call().unwrap();
    a.end_call().unwrap();
}

#[test]
fn kill_errors_wrong_serial_self_and_background() {
    let t = test_sga(5, 5);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let a = p.create_session(&user("A")).unwrap();
    let me = Some((a.sid(), a.serial()));
    let e = t
        .sga
        .kill_session(a.sid(), a.serial() + 7, KillRequest::Kill, me)
        .unwrap_err();
    assert_eq!(e.ora_code(), 30);
    let e = t
        .sga
        .kill_session(a.sid(), a.serial(), KillRequest::Kill, me)
        .unwrap_err();
    assert_eq!(e.to_string(), "ORA-00027: cannot kill current session");
    let e = t
        .sga
        .kill_session(99, 1, KillRequest::Kill, me)
        .unwrap_err();
    assert_eq!(e.ora_code(), 30);
    let bg = t
        .sga
        .register_process(&ProcessSpec {
            kind: ProcessKind::Background,
            pname: "PMON".into(),
            program: "oracle@h (PMON)".into(),
            username: "oracle".into(),
            terminal: "UNKNOWN".into(),
            spid: None,
        })
        .unwrap();
    let bs = bg
        .create_session(&SessionSpec {
            background: true,
            ..SessionSpec::default()
        })
        .unwrap();
    let e = t
        .sga
        .kill_session(bs.sid(), bs.serial(), KillRequest::Kill, me)
        .unwrap_err();
    assert_eq!(e.ora_code(), 29);
    let rows = t.sga.snapshot_processes();
    let pmon = rows
        .iter()
        .find(|r| r.pname.as_deref() == Some("PMON"))
        .unwrap();
    assert!(pmon.background);
    let srow = t
        .sga
        .snapshot_sessions()
        .into_iter()
        .find(|r| r.sid == bs.sid())
        .unwrap();
    assert_eq!(srow.session_type, SessionType::Background);
    assert_eq!(srow.username, None);
}

#[test]
fn victim_inside_a_long_call_is_woken_at_once() {
    let t = test_sga(5, 5);
    let pb = t
        .sga
        .register_process(&ProcessSpec::dedicated("b"))
        .unwrap();
    let b = Arc::new(pb.create_session(&user("B")).unwrap());
    let (sid, serial) = (b.sid(), b.serial());
    b.begin_call().unwrap();
    let sleeper = {
        let b = Arc::clone(&b);
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = b.sleep(Duration::from_secs(30));
            (r, started.elapsed())
        })
    };
    // Wait until the row shows ACTIVE, then kill it.
    let row = t
        .sga
        .snapshot_sessions()
        .into_iter()
        .find(|r| r.sid == sid)
        .unwrap();
    assert_eq!(row.status, SessionStatus::Active);
    let out = t
        .sga
        .kill_session(sid, serial, KillRequest::Kill, None)
        .unwrap();
    assert!(out.was_active);
    let (r, elapsed) = sleeper.join().unwrap();
    assert_eq!(r.unwrap_err().ora_code(), 28);
    assert!(
        elapsed < Duration::from_secs(30),
        "woken before the sleep ended"
    );
    assert_eq!(b.end_call().unwrap_err().ora_code(), 28);
    assert_eq!(b.begin_call().unwrap_err().ora_code(), 1012);
}

#[test]
fn sleep_without_kill_completes() {
    let t = test_sga(5, 5);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("b"))
        .unwrap();
    let s = p.create_session(&user("B")).unwrap();
    let started = Instant::now();
    s.sleep(Duration::from_millis(30)).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn active_and_inactive_status_follow_calls() {
    let t = test_sga(5, 5);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("b"))
        .unwrap();
    let s = p.create_session(&user("B")).unwrap();
    let status = || {
        t.sga
            .snapshot_sessions()
            .into_iter()
            .find(|r| r.sid == s.sid())
            .unwrap()
            .status
    };
    assert_eq!(status(), SessionStatus::Inactive);
    s.begin_call().unwrap();
    assert_eq!(status(), SessionStatus::Active);
    s.end_call().unwrap();
    assert_eq!(status(), SessionStatus::Inactive);
}

#[test]
fn shutdown_refuses_logins_and_marks_sessions() {
    let t = test_sga(5, 5);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap();
    let s = p.create_session(&user("A")).unwrap();
    t.sga.request_shutdown(ShutdownMode::Normal);
    assert_eq!(t.sga.shutdown_requested(), Some(ShutdownMode::Normal));
    assert_eq!(p.create_session(&user("B")).unwrap_err().ora_code(), 1090);
    assert_eq!(
        t.sga
            .register_process(&ProcessSpec::dedicated("x"))
            .unwrap_err()
            .ora_code(),
        1090
    );
    // NORMAL lets the existing session work.
    s.begin_call().unwrap();
    s.end_call().unwrap();
    // IMMEDIATE overrides NORMAL, and a weaker request does not downgrade it.
    t.sga.request_shutdown(ShutdownMode::Immediate);
    t.sga.request_shutdown(ShutdownMode::Normal);
    assert_eq!(t.sga.shutdown_requested(), Some(ShutdownMode::Immediate));
    assert_eq!(t.sga.mark_all_for_shutdown(), 1);
    let e = s.begin_call().unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORA-01089: immediate shutdown or close in progress - no operations are permitted"
    );
    assert!(t.sga.instance_row().shutdown_pending);
}

#[test]
fn instance_not_open_admits_only_administrative_logins() {
    let t = test_sga(5, 5);
    for state in [InstanceState::Started, InstanceState::Mounted] {
        t.sga.set_instance_state(state);
        // The server process is admitted: its login decides.
        let p = t
            .sga
            .register_process(&ProcessSpec::dedicated("a"))
            .unwrap();
        let e = p.create_session(&SessionSpec::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ORA-01033: ORACLE initialization or shutdown in progress"
        );
        let sysdba = p
            .create_session(&SessionSpec {
                username: "SYS".into(),
                administrative: true,
                ..SessionSpec::default()
            })
            .unwrap();
        drop(sysdba);
        drop(p);
    }
    t.sga.set_instance_state(InstanceState::Shutdown);
    let e = t
        .sga
        .register_process(&ProcessSpec::dedicated("a"))
        .unwrap_err();
    assert_eq!(e.ora_code(), 1034);
}

#[test]
fn second_create_of_a_live_instance_is_ora_01081() {
    let t = test_sga(5, 5);
    let err = Sga::create(&SgaConfig {
        sid: t.sga.sid(),
        instance_name: "x".into(),
        db_name: "x".into(),
        host_name: "x".into(),
        version: "x".into(),
        processes: 5,
        sessions: 5,
    })
    .unwrap_err();
    assert_eq!(err.ora_code(), 1081);
}

#[test]
fn pmon_pass_frees_a_dead_process_and_counts_it() {
    let t = test_sga(5, 5);
    // A real process that is gone by the time pmon looks: spawn and reap `true`.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id() as i32;
    child.wait().unwrap();
    let p = t
        .sga
        .register_process(&ProcessSpec {
            spid: Some(dead_pid),
            ..ProcessSpec::dedicated("ghost")
        })
        .unwrap();
    let s = p.create_session(&user("GHOST")).unwrap();
    let live = t
        .sga
        .register_process(&ProcessSpec::dedicated("live"))
        .unwrap();
    let ls = live.create_session(&user("LIVE")).unwrap();
    assert_eq!(t.sga.reap_dead_processes(), vec![dead_pid]);
    let rows = t.sga.snapshot_sessions();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sid, ls.sid());
    assert_eq!(t.sga.snapshot_processes().len(), 1);
    assert_eq!(t.sga.load().pmon_cleanups, 1);
    // The owner's late release must not free the slot's next incarnation.
    let again = t
        .sga
        .register_process(&ProcessSpec::dedicated("next"))
        .unwrap();
    assert_eq!(again.pid(), p.pid());
    let again_s = again.create_session(&user("NEXT")).unwrap();
    drop(s);
    drop(p);
    assert_eq!(t.sga.snapshot_processes().len(), 2);
    assert!(
        again_s.check().is_ok(),
        "next incarnation's session untouched"
    );
    assert_eq!(t.sga.snapshot_sessions().len(), 2);
    assert!(t.sga.reap_dead_processes().is_empty());
}

#[test]
fn freeing_a_process_frees_the_sessions_it_still_holds_after_others_logged_off() {
    let t = test_sga(3, 6);
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("p"))
        .unwrap();
    let other = t
        .sga
        .register_process(&ProcessSpec::dedicated("other"))
        .unwrap();
    let kept = other.create_session(&user("KEPT")).unwrap();
    // Log in and off, as a dedicated server does, then hold two sessions.
    drop(p.create_session(&user("FIRST")).unwrap());
    let a = p.create_session(&user("A")).unwrap();
    let b = p.create_session(&user("B")).unwrap();
    drop(a);
    assert_eq!(t.sga.snapshot_sessions().len(), 2);
    // The process goes while B is logged on (its handle is leaked, as a crash leaves it).
    std::mem::forget(b);
    drop(p);
    let rows = t.sga.snapshot_sessions();
    assert_eq!(rows.len(), 1, "B went with its process: {rows:?}");
    assert_eq!(rows[0].sid, kept.sid());
    // A process with no session left is freed too, and its slot is reused.
    drop(kept);
    drop(other);
    assert!(t.sga.snapshot_sessions().is_empty());
    assert!(t.sga.snapshot_processes().is_empty());
}

#[test]
fn parse_session_id_accepts_oracle_forms() {
    assert_eq!(parse_session_id("12,345").unwrap(), (12, 345));
    assert_eq!(parse_session_id(" 12 , 345 ").unwrap(), (12, 345));
    assert_eq!(parse_session_id("12,345,@1").unwrap(), (12, 345));
    for bad in ["", "12", "12,", "a,b", "12,345,@2", "0,1", "1,2,3"] {
        assert_eq!(parse_session_id(bad).unwrap_err().ora_code(), 26, "{bad}");
    }
}

#[test]
fn concurrent_logins_never_share_a_slot() {
    let t = test_sga(64, 64);
    let sga = Arc::clone(&t.sga);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let sga = Arc::clone(&sga);
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                for _ in 0..50 {
                    let p = sga.register_process(&ProcessSpec::dedicated("t")).unwrap();
                    let s = p.create_session(&user("T")).unwrap();
                    seen.push((s.sid(), s.serial()));
                }
                seen
            })
        })
        .collect();
    let mut all: Vec<(u32, u32)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "every (SID, SERIAL#) incarnation is unique");
    assert_eq!(t.sga.load().sessions_used, 0);
    assert_eq!(t.sga.load().processes_used, 0);
}

#[test]
fn circuits_default_to_sessions_and_circuits_caps_them() {
    let t = test_sga(10, 12_000);
    // SESSIONS slots give as many circuits (Oracle derives CIRCUITS from SESSIONS), enough
    // for ten thousand idle shared sessions.
    assert_eq!(t.sga.circuit_limit(), 12_000);
    assert_eq!(t.sga.circuits_in_use(), 0);
    t.sga.alter_system_set("circuits", "5", None).unwrap();
    assert_eq!(t.sga.circuit_limit(), 5);
    // Above SESSIONS: ORA-02097 with ORA-00068, as for the other limits.
    let err = t
        .sga
        .alter_system_set("circuits", "12001", None)
        .unwrap_err();
    assert_eq!(err.ora_code(), 2097);
}

#[test]
fn shared_server_sessions_refuses_shared_logins_past_it_with_ora_00018() {
    let t = test_sga(10, 20);
    t.sga
        .alter_system_set("shared_server_sessions", "1", None)
        .unwrap();
    let p = t
        .sga
        .register_process(&ProcessSpec::dedicated("d"))
        .unwrap();
    let shared = SessionSpec {
        shared: true,
        ..user("SCOTT")
    };
    let first = p.create_session(&shared).unwrap();
    let err = p.create_session(&shared).unwrap_err();
    assert_eq!(err.ora_code(), 18);
    // Dedicated sessions are not counted against it.
    let dedicated = p.create_session(&user("SCOTT")).unwrap();
    drop(first);
    let again = p.create_session(&shared).unwrap();
    drop((again, dedicated));
}

#[test]
fn kills_are_written_to_the_alert_log_the_instance_published() {
    let t = test_sga(5, 5);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alert_UT.log");
    std::fs::write(&log, "").unwrap();
    assert_eq!(t.sga.alert_log(), None);
    // A path the header cannot hold whole is not published: cut short, it would name
    // another file.
    assert!(!t.sga.publish_alert_log(&dir.path().join("x".repeat(5000))));
    assert_eq!(t.sga.alert_log(), None);
    assert!(t.sga.publish_alert_log(&log));
    assert_eq!(t.sga.alert_log().as_deref(), Some(log.as_path()));
    // OS pids above any kernel's pid_max: the DISCONNECT below signals no real process.
    let spec = |spid| ProcessSpec {
        spid: Some(spid),
        ..ProcessSpec::dedicated("oracle@dbhost (TNS V1-V3)")
    };
    let pa = t.sga.register_process(&spec(5000001)).unwrap();
    let pb = t.sga.register_process(&spec(5000002)).unwrap();
    let a = pa.create_session(&user("A")).unwrap();
    let b = pb.create_session(&user("B")).unwrap();
    let orapid = |spid| {
        t.sga
            .snapshot_processes()
            .into_iter()
            .find(|p| p.spid == spid)
            .map(|p| p.pid)
            .unwrap()
    };
    let (pid_a, pid_b) = (orapid(5000001), orapid(5000002));
    // Refused kills leave no entry.
    assert!(
        t.sga
            .kill_session(
                a.sid(),
                a.serial(),
                KillRequest::Kill,
                Some((a.sid(), a.serial()))
            )
            .is_err()
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
    // From SQL: the requester is the killing session's process.
    t.sga
        .kill_session(
            b.sid(),
            b.serial(),
            KillRequest::Kill,
            Some((a.sid(), a.serial())),
        )
        .unwrap();
    // From `oradb kill-session`: no process slot, this process's pid.
    let c = pb.create_session(&user("C")).unwrap();
    t.sga
        .kill_session(c.sid(), c.serial(), KillRequest::Disconnect, None)
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let entries: Vec<&str> = text.lines().filter(|l| !is_timestamp(l)).collect();
    assert_eq!(
        text.lines().filter(|l| is_timestamp(l)).count(),
        2,
        "{text}"
    );
    assert_eq!(
        entries.join("\n"),
        format!(
            "KILL SESSION for sid=({}, {}):\n  Reason = alter system kill session\n  \
             Mode = KILL SOFT -/-/-\n  Requestor = USER (orapid = {pid_a}, ospid = 5000001, inst = 1)\n  \
             Owner = Process: USER (orapid = {pid_b}, ospid = 5000002)\n  Result = ORA-0\n\
             KILL SESSION for sid=({}, {}):\n  Reason = alter system disconnect session\n  \
             Mode = KILL HARD SAFE -/-/-\n  Requestor = USER (orapid = 0, ospid = {}, inst = 1)\n  \
             Owner = Process: USER (orapid = {pid_b}, ospid = 5000002)\n  Result = ORA-0",
            b.sid(),
            b.serial(),
            c.sid(),
            c.serial(),
            std::process::id()
        ),
        "{text}"
    );
}

/// `2026-12-05T08:43:04.752321+00:00`.
fn is_timestamp(line: &str) -> bool {
    line.len() == 32 && line.as_bytes()[10] == b'T' && line.ends_with("+00:00")
}

#[test]
fn circuits_are_counted_as_they_are_claimed_and_freed() {
    let t = test_sga(10, 20);
    t.sga.alter_system_set("circuits", "3", None).unwrap();
    let d = t
        .sga
        .register_process(&ProcessSpec::dedicated("d000"))
        .unwrap();
    let mut held: Vec<_> = (0..3).map(|_| t.sga.claim_circuit(&d).unwrap()).collect();
    assert_eq!(t.sga.circuits_in_use(), 3);
    // CIRCUITS reached: no fourth, and the refused claim leaves the count alone.
    assert!(t.sga.claim_circuit(&d).is_none());
    assert_eq!(t.sga.circuits_in_use(), 3);
    let first = held.remove(0);
    first.free();
    first.free();
    drop(first);
    assert_eq!(t.sga.circuits_in_use(), 2);
    held.push(t.sga.claim_circuit(&d).unwrap());
    assert_eq!(t.sga.circuits_in_use(), 3);
    // pmon frees a dead dispatcher's circuits; their handles' own frees then change nothing.
    t.sga.free_circuits_of(d.index);
    assert_eq!(t.sga.circuits_in_use(), 0);
    drop(held);
    assert_eq!(t.sga.circuits_in_use(), 0);
    assert_eq!(t.sga.snapshot_circuits().len(), 0);
}
