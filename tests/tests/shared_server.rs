//! Shared server end to end: the real `tnslsnr` (ephemeral port, dynamic registration only),
//! the real `oradb` with `shared_servers=2` and one dispatcher, and python-oracledb 26.1.0 in
//! thin mode connecting with `:shared`. Ten sessions are served by two shared server threads
//! inside `oradb`; no dedicated server process is forked for them.

use std::time::Duration;

use serde_json::json;
use server_proc::sga::{ProcessKind, ServerKind, SessionStatus, SessionType, Sga};
use tests::instance::{TestHome, wait_for};
use tests::instance_py::PyDriver;
use tests::procs::{self, ListenerProc};

const USER: &str = "scott";

/// Whether `tid` is a thread of process `pid`.
fn is_thread_of(pid: u32, tid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists()
}
const PASSWORD: &str = "tiger";

/// A listener (direct hand-off on or off) and an instance with one dispatcher and two
/// shared servers, registered.
struct Stack {
    lhome: procs::TestHome,
    /// Held so the listener lives as long as the stack (killed on drop).
    _listener: ListenerProc,
    home: TestHome,
    instance: tests::instance::InstanceGuard,
    port: u16,
    service: String,
}

impl Stack {
    fn start(direct_handoff: bool) -> Stack {
        let lhome = procs::TestHome::new();
        let params: &[(&str, &str)] = if direct_handoff {
            &[]
        } else {
            &[("DIRECT_HANDOFF_TTC", "OFF")]
        };
        let listener = ListenerProc::start(&lhome, "LISTENER", |port| {
            procs::listener_ora("LISTENER", port, &[], params)
        });
        let port = listener.port;
        let service = format!("svc{}", tests::instance::unique_sid().to_lowercase());
        let home = TestHome::for_listener(
            port,
            &format!(
                "service_names='{service}'\n_registration_interval=60\nshared_servers=2\ndispatchers='(PROTOCOL=TCP)(DISPATCHERS=1)'\n"
            ),
        );
        home.add_user(USER, PASSWORD, false);
        let instance = home.start_foreground();
        let s = Stack {
            lhome,
            _listener: listener,
            home,
            instance,
            port,
            service,
        };
        let svc = wait_for(Duration::from_secs(10), || {
            let t = s.services();
            (t.contains("status READY") && t.contains("\"D000\"")).then_some(t)
        })
        .unwrap_or_else(|| panic!("the dispatcher registered: {}", s.services()));
        assert!(
            svc.contains(&format!(
                "DISPATCHER <machine: {}, pid: {}>",
                server_proc::instance::host_name(),
                s.instance.pid()
            )),
            "{svc}"
        );
        s
    }

    fn services(&self) -> String {
        String::from_utf8_lossy(&self.lhome.lsnrctl(&["services", "LISTENER"]).stdout).into_owned()
    }

    fn dsn(&self) -> String {
        format!("127.0.0.1:{}/{}:shared", self.port, self.service)
    }
}

#[test]
fn shared_sessions_are_served_by_two_shared_servers_through_the_dispatcher() {
    let stack = Stack::start(true);
    let instance = &stack.instance;
    let home = &stack.home;
    let services = || stack.services();
    let dsn = stack.dsn();
    let mut py = PyDriver::start();
    let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    let mut sids = Vec::new();
    for n in &names {
        let (sid, _serial, spid) = py
            .connect(n, &dsn, USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
        // V$SESSION.PADDR of a shared session between calls is its dispatcher, a thread of
        // oradb (SPID = its thread id): no server process of its own.
        assert!(
            is_thread_of(instance.pid(), spid as i32),
            "{n}: spid {spid}"
        );
        sids.push(sid);
    }
    let sga = Sga::attach(&home.sid).expect("instance up");
    let processes = sga.snapshot_processes();
    // V$PROCESS: the dispatcher and both shared servers, threads of oradb.
    for pname in ["D000", "S000", "S001"] {
        let p = processes
            .iter()
            .find(|p| p.pname.as_deref() == Some(pname))
            .unwrap_or_else(|| panic!("{pname} in V$PROCESS: {processes:?}"));
        assert!(is_thread_of(instance.pid(), p.spid), "{pname}: {p:?}");
        assert_ne!(
            p.spid,
            instance.pid() as i32,
            "{pname} has its own thread id"
        );
        let comm =
            std::fs::read_to_string(format!("/proc/{}/task/{}/comm", instance.pid(), p.spid))
                .unwrap_or_default();
        let mut want = format!("ora_{}_{}", pname.to_ascii_lowercase(), home.sid);
        want.truncate(15); // Linux keeps 15 bytes of a thread's name
        assert_eq!(comm.trim(), want, "ps -L shows Oracle's thread name");
        assert!(p.program.ends_with(&format!("({pname})")), "{p:?}");
    }
    assert!(!processes.iter().any(|p| p.pname.as_deref() == Some("S002")));
    assert_eq!(
        processes
            .iter()
            .filter(|p| p.kind == ProcessKind::Dedicated)
            .count(),
        0,
        "no dedicated server was forked: {processes:?}"
    );
    assert_eq!(
        sga.snapshot_sessions()
            .iter()
            .filter(|s| s.session_type == SessionType::User)
            .count(),
        10
    );

    for n in &names {
        let r = py.exec(n, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{n}: {}", r.json);
        // 300 rows: several fetch round trips, each a request of its own on the queue.
        let r = py.exec(
            n,
            "select level, 'a fairly long constant string value' from dual connect by level <= 300",
        );
        let want: Vec<_> = (1..=300)
            .map(|i| json!([i, "a fairly long constant string value"]))
            .collect();
        assert_eq!(r.result(), &json!(want), "{n}: {}", r.json);
    }

    // All ten at once (one python thread each): their requests queue for the two servers.
    let sql =
        "select level, 'a fairly long constant string value' from dual connect by level <= 300";
    for n in &names {
        let r = py.call(json!({"op": "start", "name": n, "sql": sql}));
        assert!(r.ok(), "{}", r.error());
    }
    for n in &names {
        let r = py.call(json!({"op": "wait", "name": n, "timeout": 60}));
        let job = r.result();
        assert_eq!(job["ok"], json!(true), "{n}: {job}");
        let rows = job["result"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 300, "{n}");
        assert_eq!(
            rows[299],
            json!([300, "a fairly long constant string value"])
        );
    }

    // SERVER: SHARED for the session inside its call, NONE for the idle ones.
    let r = py.exec(
        "c0",
        "select sid, server, status from v$session where type = 'USER' order by sid",
    );
    let rows = r.result().as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 10, "{}", r.json);
    for row in &rows {
        if row[0].as_u64() == Some(sids[0]) {
            assert_eq!(row[1], json!("SHARED"), "{row:?}");
            assert_eq!(row[2], json!("ACTIVE"), "{row:?}");
        } else {
            assert_eq!(row[1], json!("NONE"), "{row:?}");
            assert_eq!(row[2], json!("INACTIVE"), "{row:?}");
        }
    }

    // The listener counted the hand-offs to D000.
    let svc = services();
    assert!(
        svc.contains("\"D000\" established:10"),
        "{svc}\nlistener.log (service_died/service_register lines show a re-registration):\n{}",
        stack.lhome.listener_log()
    );
    drop(py);
    drop(stack);
}

#[test]
fn without_direct_hand_off_the_listener_redirects_to_the_dispatchers_own_address() {
    // DIRECT_HANDOFF_TTC_LISTENER=OFF: the only way in is the REDIRECT to D000's TCP port,
    // where the dispatcher reads the client's second CONNECT itself.
    let stack = Stack::start(false);
    let mut py = PyDriver::start();
    for n in ["a", "b"] {
        let (_sid, _serial, spid) = py
            .connect(n, &stack.dsn(), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
        assert!(is_thread_of(stack.instance.pid(), spid as i32), "{n}");
        let r = py.exec(n, "select level from dual connect by level <= 3");
        assert_eq!(r.result(), &json!([[1], [2], [3]]), "{n}: {}", r.json);
        let r = py.exec(
            n,
            "select server from v$session where sid = sys_context('USERENV','SID')",
        );
        assert_eq!(r.result(), &json!([["SHARED"]]), "{n}: {}", r.json);
    }
    let sga = Sga::attach(&stack.home.sid).expect("instance up");
    assert!(
        sga.snapshot_processes()
            .iter()
            .all(|p| p.kind != ProcessKind::Dedicated)
    );
    drop(py);
    drop(stack);
}

#[test]
fn shutdown_immediate_ends_shared_sessions_even_inside_a_call() {
    let mut stack = Stack::start(true);
    let mut py = PyDriver::start();
    py.connect("a", &stack.dsn(), USER, PASSWORD).expect("A");
    py.connect("b", &stack.dsn(), USER, PASSWORD).expect("B");
    // B sleeps on one of the two shared servers; A is idle on the dispatcher.
    assert!(
        py.call(json!({"op": "start", "name": "b", "sql": "begin dbms_session.sleep(30); end;"}))
            .ok()
    );
    let sga = Sga::attach(&stack.home.sid).expect("instance up");
    let sleeping = wait_for(Duration::from_secs(5), || {
        sga.snapshot_sessions()
            .into_iter()
            .find(|s| s.session_type == SessionType::User && s.status == SessionStatus::Active)
    })
    .expect("B is inside its call");
    assert_eq!(sleeping.server, ServerKind::Shared);
    drop(sga);
    let socket = server_proc::shared::handoff_path(&stack.home.sid, "D000", stack.instance.pid());
    assert!(
        socket.exists(),
        "D000's hand-off socket {}",
        socket.display()
    );
    let out = stack.home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stack.instance.wait_exit(Duration::from_secs(10)),
        "the instance went down although a shared server was inside a 30 s sleep"
    );
    let b = py.call(json!({"op": "wait", "name": "b", "timeout": 40}));
    let job = b.result();
    assert_eq!(job["ok"], json!(false), "{job}");
    let r = py.exec("a", "select 1 from dual");
    assert!(!r.ok(), "A lost its session");
    assert!(!socket.exists(), "hand-off socket removed");
}

const BREAKS: &str = r#"
import json, sys, threading, oracledb
dsn = sys.argv[1]
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=dsn)
cur = c.cursor()
threading.Timer(0.3, c.cancel).start()
try:
    cur.execute("begin dbms_session.sleep(5); end;")
    out["cancel"] = None
except oracledb.DatabaseError as e:
    out["cancel"] = e.args[0].full_code
out["after_cancel"] = cur.execute("select 7 from dual").fetchone()[0]
c.call_timeout = 500
try:
    cur.execute("select count(*) from dual connect by level <= 1000000000000")
    out["burn"] = None
except oracledb.Error as e:
    out["burn"] = e.args[0].full_code
c.call_timeout = 0
out["after_burn"] = cur.execute("select 43 from dual").fetchone()[0]
out["server"] = cur.execute("select server from v$session where sid = sys_context('USERENV','SID')").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

/// `connection.cancel()` during a sleep and a call timeout during a CPU-bound query, both on
/// a shared server: ORA-01013 (or python's DPY-4024) and the session stays usable.
#[test]
fn breaks_reach_the_shared_server_running_the_call() {
    let stack = Stack::start(true);
    let out = tests::py::run_python(BREAKS, &[stack.dsn()], Duration::from_secs(60));
    let v = out.last_json("python");
    assert_eq!(v["cancel"], "ORA-01013", "{v}");
    assert_eq!(v["after_cancel"], 7);
    let code = v["burn"].as_str().unwrap_or_default();
    assert!(code == "DPY-4024" || code == "ORA-01013", "{v}");
    assert_eq!(v["after_burn"], 43);
    assert_eq!(v["server"], "SHARED");
}
