//! The SGA across real processes: a real `oradb` instance and `sga_probe` children standing
//! in for dedicated servers (they attach, take slots and make calls exactly as one does).

use std::time::Duration;

use server_proc::sga::{ServerKind, SessionStatus, SessionType, Sga};
use tests::instance::{Probe, TestHome, proc_state, wait_for};

fn user_sessions(sga: &Sga) -> Vec<server_proc::sga::SessionRow> {
    sga.snapshot_sessions()
        .into_iter()
        .filter(|s| s.session_type == SessionType::User)
        .collect()
}

#[test]
fn no_instance_means_ora_01034_and_ora_27101() {
    let home = TestHome::new("");
    let p = home.probe(1);
    let err = p.error.clone().expect("refused");
    assert!(err.starts_with("ORA-01034: ORACLE not available"), "{err}");
    assert!(
        err.contains("ORA-27101: shared memory realm does not exist"),
        "{err}"
    );
    assert_eq!(p.oracle_pid, None);
}

#[test]
fn two_processes_see_each_other_with_sid_serial_and_spid() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let a = home.probe(1);
    let b = home.probe(1);
    let sga = Sga::attach(&home.sid).unwrap();
    let rows = user_sessions(&sga);
    assert_eq!(rows.len(), 2);
    let procs = sga.snapshot_processes();
    for (probe, row) in [(&a, &rows[0]), (&b, &rows[1])] {
        assert_eq!((row.sid, row.serial), probe.sessions[0]);
        assert_eq!(row.username.as_deref(), Some("SCOTT"));
        assert_eq!(row.server, ServerKind::Dedicated);
        assert_eq!(row.status, SessionStatus::Inactive);
        assert_eq!(row.process, probe.pid().to_string());
        let p = procs
            .iter()
            .find(|p| p.addr == row.paddr)
            .expect("PADDR joins ADDR");
        assert_eq!(p.spid, probe.pid() as i32, "SPID is the real pid");
        assert_eq!(Some(p.pid), probe.oracle_pid);
        assert!(!p.background);
    }
    // The instance's own background processes are there too.
    let names: Vec<_> = procs.iter().filter_map(|p| p.pname.clone()).collect();
    assert_eq!(names, vec!["PMON", "LREG"]);
}

#[test]
fn processes_limit_gives_ora_00020_and_the_others_keep_working() {
    // PROCESSES=6: PMON and LREG take two, four dedicated servers fit.
    let home = TestHome::new("processes=6");
    let _inst = home.start_foreground();
    let mut ok: Vec<Probe> = (0..4).map(|_| home.probe(1)).collect();
    assert!(ok.iter().all(|p| p.error.is_none()));
    let refused = home.probe(1);
    assert_eq!(
        refused.error.as_deref(),
        Some("ORA-00020: maximum number of processes (6) exceeded")
    );
    for p in &mut ok {
        assert_eq!(p.ask("call").as_deref(), Some("OK"));
    }
    // One leaves: a new one fits again.
    ok.pop();
    let again = wait_for(Duration::from_secs(5), || {
        let p = home.probe(1);
        p.error.is_none().then_some(p)
    });
    assert!(again.is_some(), "a freed process slot is reused");
}

#[test]
fn sessions_limit_gives_ora_00018() {
    // PROCESSES=6 → SESSIONS = 1.5*6+22 = 31; PMON and LREG hold two.
    let home = TestHome::new("processes=6\nsessions=5");
    let _inst = home.start_foreground();
    let p = home.probe(40);
    assert_eq!(p.sessions.len(), 29);
    assert_eq!(
        p.error.as_deref(),
        Some("ORA-00018: maximum number of sessions exceeded")
    );
}

#[test]
fn serial_is_bumped_when_a_sid_is_reused_by_another_process() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut a = home.probe(1);
    let (sid, serial) = a.sessions[0];
    assert_eq!(a.ask("exit"), None);
    a.wait_exit(Duration::from_secs(5)).expect("probe exits");
    let b = home.probe(1);
    assert_eq!(b.sessions[0], (sid, serial + 1));
}

#[test]
fn pmon_frees_the_slots_of_a_killed_server_within_a_second() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = home.probe(2);
    let mut other = home.probe(1);
    let sga = Sga::attach(&home.sid).unwrap();
    assert_eq!(user_sessions(&sga).len(), 3);
    let before = sga.load();
    victim.kill9();
    assert_eq!(proc_state(victim.pid()), None, "reaped: no zombie");
    let gone = wait_for(Duration::from_secs(1), || {
        (user_sessions(&sga).len() == 1).then_some(())
    });
    assert!(
        gone.is_some(),
        "pmon freed the dead server's sessions within a second"
    );
    let load = sga.load();
    assert_eq!(load.pmon_cleanups, before.pmon_cleanups + 1);
    assert_eq!(load.processes_used, before.processes_used - 1);
    assert!(
        sga.snapshot_processes()
            .iter()
            .all(|p| p.spid != victim.pid() as i32)
    );
    // The other session is untouched.
    assert_eq!(user_sessions(&sga)[0].sid, other.sessions[0].0);
    assert_eq!(other.ask("call").as_deref(), Some("OK"));
}
