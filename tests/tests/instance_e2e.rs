//! Issue 5's "must show", end to end: the real `tnslsnr` (ephemeral port, no SID_LIST —
//! dynamic registration only), the real `oradb`, dedicated servers forked by the listener's
//! spawner, and python-oracledb 26.1.0 in thin mode.

use std::time::{Duration, Instant};

use serde_json::json;
use server_proc::sga::Sga;
use tests::instance::{TestHome, proc_state, wait_for};
use tests::instance_py::PyDriver;
use tests::procs::{self, ListenerProc};

const USER: &str = "scott";
const PASSWORD: &str = "tiger";

/// A listener with only an endpoint (no static services) and an instance registered with it.
struct Stack {
    lhome: procs::TestHome,
    listener: Option<ListenerProc>,
    home: TestHome,
    instance: tests::instance::InstanceGuard,
    port: u16,
    service: String,
}

fn listener_ora(port: u16) -> String {
    procs::listener_ora("LISTENER", port, &[], &[])
}

/// A process stopped with SIGSTOP, continued with SIGCONT when dropped (even when the test
/// fails, so the instance's guard can shut it down).
struct Frozen(nix::unistd::Pid);

impl Frozen {
    fn stop(pid: u32) -> Frozen {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
        assert!(
            wait_for(Duration::from_secs(5), || (proc_state(pid.as_raw() as u32)
                == Some('T'))
            .then_some(()))
            .is_some(),
            "process {pid} stopped"
        );
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGCONT);
    }
}

impl Stack {
    fn start(extra: &str) -> Stack {
        let lhome = procs::TestHome::new();
        let listener = ListenerProc::start(&lhome, "LISTENER", listener_ora);
        let port = listener.port;
        let service = format!("svc{}", tests::instance::unique_sid().to_lowercase());
        let home = TestHome::for_listener(
            port,
            &format!("service_names='{service}'\n_registration_interval=60\n{extra}"),
        );
        home.add_user(USER, PASSWORD, true);
        home.add_user("hr", "hr", false);
        let instance = home.start_foreground();
        let s = Stack {
            lhome,
            listener: Some(listener),
            home,
            instance,
            port,
            service,
        };
        assert!(
            wait_for(Duration::from_secs(10), || s
                .services()
                .contains("status READY")
                .then_some(()))
            .is_some(),
            "the instance registered: {}",
            s.services()
        );
        s
    }

    fn dsn(&self) -> String {
        format!("127.0.0.1:{}/{}", self.port, self.service)
    }

    fn services(&self) -> String {
        let out = self.lhome.lsnrctl(&["services", "LISTENER"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sga(&self) -> std::sync::Arc<Sga> {
        Sga::attach(&self.home.sid).expect("instance up")
    }

    fn user_sids(&self) -> Vec<u32> {
        self.sga()
            .snapshot_sessions()
            .into_iter()
            .filter(|s| s.session_type == server_proc::sga::SessionType::User)
            .map(|s| s.sid)
            .collect()
    }
}

#[test]
fn services_show_ready_and_sessions_see_each_other_with_real_spids() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    let (a_sid, a_serial, a_spid) = py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let (b_sid, b_serial, b_spid) = py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    assert_ne!(a_sid, b_sid);
    let svc = stack.services();
    assert!(
        svc.contains(&format!("Service \"{}\" has 1 instance(s).", stack.service)),
        "{svc}"
    );
    assert!(
        svc.contains(&format!(
            "Instance \"{}\", status READY, has 1 handler(s) for this service...",
            stack.home.sid
        )),
        "{svc}"
    );
    assert!(
        svc.contains("\"DEDICATED\" established:2 refused:0 state:ready"),
        "{svc}"
    );
    assert!(svc.contains("LOCAL SERVER"), "{svc}");

    // Each sees both, with the SID/SERIAL# the other reported for itself.
    let r = py.exec(
        "a",
        "select sid, serial#, username, status, server from v$session where type = 'USER' order by sid",
    );
    assert!(r.ok(), "{}", r.error());
    let rows = r.result().as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut want = vec![(a_sid, a_serial), (b_sid, b_serial)];
    want.sort_unstable();
    for (row, (sid, serial)) in rows.iter().zip(&want) {
        assert_eq!(row[0].as_u64(), Some(*sid));
        assert_eq!(row[1].as_u64(), Some(*serial));
        assert_eq!(row[2], json!("SCOTT"));
        assert_eq!(row[4], json!("DEDICATED"));
    }
    // The querying session is ACTIVE in its own query, the other INACTIVE.
    let me = rows
        .iter()
        .find(|r| r[0].as_u64() == Some(a_sid))
        .cloned()
        .unwrap_or_default();
    assert_eq!(me[3], json!("ACTIVE"));
    let other = rows
        .iter()
        .find(|r| r[0].as_u64() == Some(b_sid))
        .cloned()
        .unwrap_or_default();
    assert_eq!(other[3], json!("INACTIVE"));
    // V$PROCESS.SPID is the real pid of each dedicated server, forked by the spawner.
    for spid in [a_spid, b_spid] {
        assert_eq!(
            procs::title_of(spid),
            format!("oracle{} (LOCAL=NO)", stack.home.sid)
        );
        let spawner = procs::stat_of(spid).map(|(ppid, _)| ppid).unwrap_or(0);
        assert!(
            procs::title_of(spawner).contains("spawner"),
            "parent of {spid} is the spawner"
        );
    }
    assert_ne!(a_spid, b_spid);
    // The classic ways to find one's own row.
    let r = py.exec(
        "a",
        "select sid from v$session where audsid = userenv('SESSIONID')",
    );
    assert_eq!(r.result(), &json!([[a_sid]]), "{}", r.json);
    let r = py.exec("b", "select count(*) from v$session where username = user");
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    let inst = py.exec("b", "select instance_name, status from v$instance");
    assert_eq!(inst.result(), &json!([[stack.home.sid, "OPEN"]]));
}

#[test]
fn killing_an_idle_session_gives_ora_00028_at_its_next_call() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let (b_sid, b_serial, _) = py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    let (h_sid, h_serial, _) = py.connect("h", &stack.dsn(), "hr", "hr").expect("HR");
    // Without the privilege: ORA-01031.
    let r = py.exec(
        "h",
        &format!("alter system kill session '{b_sid},{b_serial}'"),
    );
    assert_eq!(r.code(), Some(1031), "{}", r.error());
    // Wrong serial: ORA-00030; own session: ORA-00027.
    let r = py.exec(
        "a",
        &format!("alter system kill session '{b_sid},{}'", b_serial + 1),
    );
    assert_eq!(r.code(), Some(30), "{}", r.error());
    let me = py.exec(
        "a",
        "select sid, serial# from v$session where sid = sys_context('USERENV','SID')",
    );
    let (me_sid, me_serial) = (me.result()[0][0].clone(), me.result()[0][1].clone());
    let r = py.exec(
        "a",
        &format!("alter system kill session '{me_sid},{me_serial}'"),
    );
    assert_eq!(r.code(), Some(27), "{}", r.error());

    let r = py.exec(
        "a",
        &format!("alter system kill session '{b_sid},{b_serial}'"),
    );
    assert!(r.ok(), "{}", r.error());
    let r = py.exec(
        "a",
        &format!("select status from v$session where sid = {b_sid}"),
    );
    assert_eq!(r.result(), &json!([["KILLED"]]));
    let r = py.exec("b", "select 1 from dual");
    assert!(!r.ok());
    assert!(
        r.error()
            .contains("ORA-00028: your session has been killed"),
        "{}",
        r.error()
    );
    assert!(
        r.error().contains("DPY-4011"),
        "python reports the session dead: {}",
        r.error()
    );
    // The row is gone; the others are untouched.
    let r = py.exec(
        "a",
        &format!("select count(*) from v$session where sid = {b_sid}"),
    );
    assert_eq!(r.result(), &json!([[0]]));
    assert!(py.exec("h", "select 1 from dual").ok());
    let _ = (h_sid, h_serial);
}

#[test]
fn killing_a_session_inside_a_long_call_ends_the_call_at_once() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let (b_sid, b_serial, _) = py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    let r =
        py.call(json!({"op": "start", "name": "b", "sql": "begin dbms_session.sleep(30); end;"}));
    assert!(r.ok());
    let active = wait_for(Duration::from_secs(10), || {
        let r = py.exec(
            "a",
            &format!("select status from v$session where sid = {b_sid}"),
        );
        (r.result() == &json!([["ACTIVE"]])).then_some(())
    });
    assert!(active.is_some(), "B is inside its call");
    // The clock starts before the kill is sent and stops when B's error is back: an upper
    // bound on the kill-to-error latency.
    let killed_at = Instant::now();
    let r = py.exec(
        "a",
        &format!("alter system kill session '{b_sid},{b_serial}'"),
    );
    assert!(r.ok(), "{}", r.error());
    let done = py.call(json!({"op": "wait", "name": "b", "timeout": 40}));
    let since_kill = killed_at.elapsed();
    let job = done.result();
    assert_eq!(job["ok"], json!(false), "{job}");
    assert!(
        job["error"].as_str().unwrap_or("").contains("ORA-00028"),
        "{job}"
    );
    let elapsed = job["elapsed"].as_f64().unwrap_or(99.0);
    assert!(
        elapsed < 10.0,
        "the 30 s call ended early, after the kill ({elapsed} s)"
    );
    assert!(
        since_kill < Duration::from_millis(1500),
        "B's call ended within ~1 s of the kill, not {since_kill:?}"
    );
}

#[test]
fn kill_immediate_closes_the_victims_connection_and_oradb_kill_session_does_the_same() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let (b_sid, b_serial, b_spid) = py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    let r = py.exec(
        "a",
        &format!("alter system kill session '{b_sid},{b_serial}' immediate"),
    );
    assert!(r.ok(), "{}", r.error());
    // B's server process is gone at once (reaped by the spawner: no zombie).
    assert!(
        wait_for(Duration::from_secs(5), || proc_state(b_spid)
            .is_none()
            .then_some(()))
        .is_some(),
        "dedicated server {b_spid} ended: {:?}",
        proc_state(b_spid)
    );
    let r = py.exec("b", "select 1 from dual");
    assert!(!r.ok());
    assert!(r.error().contains("DPY-4011"), "{}", r.error());

    // The admin command, on a third session.
    let (c_sid, c_serial, c_spid) = py.connect("c", &stack.dsn(), USER, PASSWORD).expect("C");
    let out = stack.home.run_oradb(&[
        "kill-session",
        &format!("{c_sid},{c_serial}"),
        "--immediate",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "System altered.\n");
    assert!(
        wait_for(Duration::from_secs(5), || proc_state(c_spid)
            .is_none()
            .then_some(()))
        .is_some()
    );
    assert!(!py.exec("c", "select 1 from dual").ok());
    // DISCONNECT SESSION ... IMMEDIATE from SQL ends the server process too.
    let (e_sid, e_serial, e_spid) = py.connect("e", &stack.dsn(), USER, PASSWORD).expect("E");
    let r = py.exec(
        "a",
        &format!("alter system disconnect session '{e_sid},{e_serial}' immediate"),
    );
    assert!(r.ok(), "{}", r.error());
    assert!(
        wait_for(Duration::from_secs(5), || proc_state(e_spid)
            .is_none()
            .then_some(()))
        .is_some()
    );
    assert!(!py.exec("e", "select 1 from dual").ok());
    let r = py.exec("a", "alter system disconnect session '1,1'");
    assert!(r.error().contains("ORA-02000"), "{}", r.error());
    // And without --immediate: marked, ORA-00028 at the next call.
    let (d_sid, d_serial, _) = py.connect("d", &stack.dsn(), USER, PASSWORD).expect("D");
    let out = stack
        .home
        .run_oradb(&["kill-session", &format!("{d_sid},{d_serial}")]);
    assert!(out.status.success());
    assert!(
        py.exec("d", "select 1 from dual")
            .error()
            .contains("ORA-00028")
    );
    assert!(
        py.exec("a", "select 1 from dual").ok(),
        "the killer is untouched"
    );
}

#[test]
fn a_pool_replaces_a_killed_connection_and_keeps_serving() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    // Pool "p" pings at every acquire (ping_interval=0): the kill is found by the ping and
    // the connection replaced before the application sees it.
    // Pool "q" does not ping (the default 60 s): the application sees ORA-00028 once, the
    // pool drops the dead connection, and the next acquire gets a new one.
    for (name, ping) in [("p", 0), ("q", 60)] {
        let r = py.call(json!({"op": "pool", "name": name, "dsn": stack.dsn(), "user": USER, "password": PASSWORD, "min": 1, "max": 1, "ping_interval": ping}));
        assert!(r.ok(), "{}", r.error());
        let s = py.call(json!({"op": "pool_session", "name": name}));
        let before = (s.result()["sid"].clone(), s.result()["serial"].clone());
        let out = stack
            .home
            .run_oradb(&["kill-session", &format!("{},{}", before.0, before.1)]);
        assert!(out.status.success());
        let first = py.call(json!({"op": "pool_exec", "name": name, "sql": "select 1 from dual"}));
        if ping == 0 {
            assert!(first.ok(), "replaced transparently: {}", first.json);
        } else {
            assert!(first.error().contains("ORA-00028"), "{}", first.json);
        }
        for _ in 0..5 {
            let r = py.call(json!({"op": "pool_exec", "name": name, "sql": "select 1 from dual"}));
            assert!(r.ok(), "pool {name} keeps serving: {}", r.json);
        }
        let s = py.call(json!({"op": "pool_session", "name": name}));
        let after = (s.result()["sid"].clone(), s.result()["serial"].clone());
        assert_ne!(after, before, "pool {name} serves from a new session");
    }
}

#[test]
fn kill_9_of_a_dedicated_server_frees_its_session_within_a_second() {
    let stack = Stack::start("");
    let mut py = PyDriver::start();
    let (a_sid, _, _) = py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let (b_sid, _, b_spid) = py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    assert_eq!(stack.user_sids().len(), 2);
    let cleanups = stack.sga().load().pmon_cleanups;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(b_spid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9");
    let t0 = Instant::now();
    let gone = wait_for(Duration::from_secs(1), || {
        (!stack.user_sids().contains(&(b_sid as u32))).then_some(())
    });
    assert!(
        gone.is_some(),
        "session left V$SESSION within a second ({:?})",
        t0.elapsed()
    );
    assert_eq!(stack.sga().load().pmon_cleanups, cleanups + 1);
    assert_eq!(
        stack.user_sids(),
        vec![a_sid as u32],
        "other sessions untouched"
    );
    assert!(py.exec("a", "select 1 from dual").ok());
    // Reaped by its parent: no zombie left.
    assert!(
        wait_for(Duration::from_secs(5), || proc_state(b_spid)
            .is_none()
            .then_some(()))
        .is_some()
    );
    assert!(!py.exec("b", "select 1 from dual").ok());
}

#[test]
fn listener_restart_keeps_sessions_and_reregistration_comes_within_two_seconds() {
    let mut stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let out = stack.lhome.lsnrctl(&["stop", "LISTENER"]);
    assert!(out.status.success(), "{out:?}");
    if let Some(mut l) = stack.listener.take() {
        assert!(l.wait_exit(Duration::from_secs(10)));
    }
    // Connected sessions keep working; new connections find no listener.
    assert!(py.exec("a", "select 1 from dual").ok());
    let r = py.call(json!({"op": "connect", "name": "x", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
    assert!(!r.ok());
    assert!(
        r.error().contains("DPY-6005") || r.error().contains("12541"),
        "{}",
        r.error()
    );
    // Restart on the same port with the instance frozen (SIGSTOP stops its lreg thread with
    // it), so the listener is surely back before lreg: new connections must be refused with
    // ORA-12514 — the listener does not know the service yet.
    let port = stack.port;
    let frozen = Frozen::stop(stack.instance.pid());
    let listener = ListenerProc::start(&stack.lhome, "LISTENER", move |_| listener_ora(port));
    stack.listener = Some(listener);
    let mut refusals = Vec::new();
    for _ in 0..3 {
        let r = py.call(json!({"op": "connect", "name": "n", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
        assert!(!r.ok(), "connected while lreg was frozen");
        refusals.push(r.error());
    }
    assert!(
        py.exec("a", "select 1 from dual").ok(),
        "A works while the instance's background threads are frozen"
    );
    // Let lreg run again: it finds the listener within a tick, and connections succeed.
    drop(frozen);
    let started = Instant::now();
    let ok = loop {
        let r = py.call(json!({"op": "connect", "name": "n", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
        if r.ok() {
            break true;
        }
        refusals.push(r.error());
        if started.elapsed() > Duration::from_secs(10) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(ok, "never reconnected: {refusals:?}");
    let waited = started.elapsed();
    eprintln!("reconnected {waited:?} after lreg could run; refusals meanwhile: {refusals:?}");
    assert!(
        waited < Duration::from_secs(2),
        "re-registered within 2 s of the listener's return ({waited:?})"
    );
    assert!(
        refusals.len() >= 3,
        "the frozen phase was refused: {refusals:?}"
    );
    assert!(
        refusals
            .iter()
            .all(|e| e.contains("ORA-12514") && e.contains("DPY-6001")),
        "only 'service not registered' refusals meanwhile: {refusals:?}"
    );
    assert!(
        py.exec("a", "select 1 from dual").ok(),
        "A worked throughout"
    );
    assert!(py.exec("n", "select 1 from dual").ok());
}

#[test]
fn shutdown_immediate_ends_sessions_and_the_listener_drops_the_service() {
    let mut stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    assert!(
        py.call(json!({"op": "start", "name": "b", "sql": "begin dbms_session.sleep(30); end;"}))
            .ok()
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = stack.home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stack.instance.wait_exit(Duration::from_secs(10)));
    let b = py.call(json!({"op": "wait", "name": "b", "timeout": 40}));
    let job = b.result();
    assert_eq!(job["ok"], json!(false), "{job}");
    let err = job["error"].as_str().unwrap_or("").to_string();
    assert!(
        err.contains("ORA-01089") || err.contains("DPY-4011"),
        "{err}"
    );
    let r = py.exec("a", "select 1 from dual");
    assert!(!r.ok(), "A lost its session");
    assert!(
        wait_for(Duration::from_secs(5), || (!stack
            .services()
            .contains(&stack.service))
        .then_some(()))
        .is_some(),
        "the listener dropped the service: {}",
        stack.services()
    );
    let r = py.call(json!({"op": "connect", "name": "x", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
    assert!(
        r.error().contains("12514") || r.error().contains("DPY-6001"),
        "{}",
        r.error()
    );
}

#[test]
fn processes_limit_refuses_the_next_connection_and_keeps_the_others() {
    // PROCESSES=6: PMON and LREG hold two, four dedicated servers fit.
    let stack = Stack::start("processes=6");
    let mut py = PyDriver::start();
    for n in 0..4 {
        py.connect(&format!("c{n}"), &stack.dsn(), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connection {n}: {}", r.error()));
    }
    let r = py.call(json!({"op": "connect", "name": "extra", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
    assert!(!r.ok());
    let e = r.error();
    eprintln!("connection over PROCESSES: {e}");
    assert!(
        e.contains("ORA-00020: maximum number of processes (6) exceeded")
            || e.contains("12519")
            || e.contains("12516"),
        "{e}"
    );
    for n in 0..4 {
        assert!(py.exec(&format!("c{n}"), "select 1 from dual").ok());
    }
}

#[test]
fn alter_system_register_and_shutdown_normal_as_the_listener_sees_them() {
    let mut stack = Stack::start("");
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    let updates = stack.sga().registration_state().2;
    let r = py.exec("a", "alter system register");
    assert!(r.ok(), "{}", r.error());
    assert!(
        wait_for(Duration::from_secs(5), || (stack
            .sga()
            .registration_state()
            .2
            > updates)
            .then_some(()))
        .is_some(),
        "lreg sent an update at once"
    );
    let r = py.exec(
        "a",
        "select count(*) from v$session where username = 'SCOTT'",
    );
    assert_eq!(r.result(), &json!([[1]]));
    // SHUTDOWN NORMAL waits for A; meanwhile new connections are refused: by the listener
    // (ORA-12528, the instance is BLOCKED) or, if it has not heard yet, by the instance
    // (ORA-01090).
    let shutdown = stack.home.spawn_oradb(&["shutdown", "normal"]);
    let refused = wait_for(Duration::from_secs(5), || {
        let r = py.call(json!({"op": "connect", "name": "x", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
        (!r.ok()).then(|| r.error())
    })
    .expect("new connections refused during SHUTDOWN NORMAL");
    assert!(
        refused.contains("12528") || refused.contains("ORA-01090"),
        "{refused}"
    );
    assert!(
        wait_for(Duration::from_secs(5), || stack
            .services()
            .contains("status BLOCKED")
            .then_some(()))
        .is_some(),
        "the listener shows the instance BLOCKED: {}",
        stack.services()
    );
    let r = py.call(json!({"op": "connect", "name": "y", "dsn": stack.dsn(), "user": USER, "password": PASSWORD}));
    assert!(
        r.error().contains("12528"),
        "refused by the listener now: {}",
        r.error()
    );
    assert!(
        py.exec("a", "select 1 from dual").ok(),
        "A keeps working until it leaves"
    );
    assert!(py.call(json!({"op": "close", "name": "a"})).ok());
    assert!(
        stack.instance.wait_exit(Duration::from_secs(10)),
        "shutdown completed after A left"
    );
    let out = shutdown.output(Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
}
