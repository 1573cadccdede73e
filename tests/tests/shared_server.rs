//! Shared server end to end: the real `tnslsnr` (ephemeral port, dynamic registration only),
//! the real `oradb` with `shared_servers=2` and one dispatcher, and python-oracledb 26.1.0 in
//! thin mode connecting with `:shared`. Ten sessions are served by two shared server threads
//! inside `oradb`; no dedicated server process is forked for them.

use std::time::Duration;

use serde_json::json;
use server_proc::sga::{ProcessKind, SessionType, Sga};
use tests::instance::{TestHome, wait_for};
use tests::instance_py::PyDriver;
use tests::procs::{self, ListenerProc};

const USER: &str = "scott";
const PASSWORD: &str = "tiger";

#[test]
fn shared_sessions_are_served_by_two_shared_servers_through_the_dispatcher() {
    let lhome = procs::TestHome::new();
    let listener = ListenerProc::start(&lhome, "LISTENER", |port| {
        procs::listener_ora("LISTENER", port, &[], &[])
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
    let services =
        || String::from_utf8_lossy(&lhome.lsnrctl(&["services", "LISTENER"]).stdout).into_owned();
    let svc = wait_for(Duration::from_secs(10), || {
        let s = services();
        (s.contains("status READY") && s.contains("\"D000\"")).then_some(s)
    })
    .unwrap_or_else(|| panic!("the dispatcher registered: {}", services()));
    assert!(
        svc.contains(&format!(
            "DISPATCHER <machine: {}, pid: {}>",
            server_proc::instance::host_name(),
            instance.pid()
        )),
        "{svc}"
    );

    let dsn = format!("127.0.0.1:{port}/{service}:shared");
    let mut py = PyDriver::start();
    let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    let mut sids = Vec::new();
    for n in &names {
        let (sid, _serial, spid) = py
            .connect(n, &dsn, USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
        // V$SESSION.PADDR of a shared session between calls is its dispatcher, a thread of
        // oradb: no server process of its own.
        assert_eq!(spid, instance.pid(), "{n}");
        sids.push(sid);
    }
    let sga = Sga::attach(&home.sid).expect("instance up");
    let processes = sga.snapshot_processes();
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
    assert!(svc.contains("\"D000\" established:10"), "{svc}");
    drop(py);
    drop(instance);
    drop(listener);
}
