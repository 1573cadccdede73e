//! Shared-server pool end to end (real listener, real `oradb`, python-oracledb 26.1.0):
//! `ALTER SYSTEM SET SHARED_SERVERS` starts and retires shared servers as V$SHARED_SERVER
//! shows; with MAX_SHARED_SERVERS = SHARED_SERVERS = 1 a second call waits on the common
//! queue (V$QUEUE, V$CIRCUIT show it) behind a sleeping one; with MAX_SHARED_SERVERS=4 the
//! pool grows so it does not wait (V$SHARED_SERVER_MONITOR counts it) and the extra server
//! retires once idle.

use std::time::Duration;

use serde_json::{Value, json};
use tests::instance::wait_for;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

fn count(py: &mut PyDriver, name: &str, sql: &str) -> u64 {
    let r = py.exec(name, sql);
    assert!(r.ok(), "{sql}: {}", r.json);
    r.result()[0][0].as_u64().unwrap_or(u64::MAX)
}

fn wait_count(py: &mut PyDriver, name: &str, sql: &str, want: u64, limit: Duration) -> u64 {
    let mut last = 0;
    let _ = wait_for(limit, || {
        last = count(py, name, sql);
        (last == want).then_some(())
    });
    last
}

#[test]
fn alter_system_set_shared_servers_starts_them_at_once_and_retires_them_once_idle() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9A"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("shared"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect: {}", r.json));
    let servers = "select count(*) from v$shared_server";
    assert_eq!(count(&mut py, "dba", servers), 1);
    let r = py.exec("dba", "ALTER SYSTEM SET SHARED_SERVERS=4");
    assert!(r.ok(), "{}", r.json);
    assert_eq!(
        wait_count(&mut py, "dba", servers, 4, Duration::from_secs(5)),
        4
    );
    let r = py.exec(
        "dba",
        "select name, status from v$shared_server order by name",
    );
    let rows = r.result().as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = rows.iter().filter_map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["S000", "S001", "S002", "S003"], "{}", r.json);
    // The session asking runs on one of them.
    assert!(rows.iter().any(|r| r[1] == json!("EXEC")), "{}", r.json);
    let r = py.exec(
        "dba",
        "select value, isdefault, ismodified, issys_modifiable from v$parameter where name = 'shared_servers'",
    );
    assert_eq!(
        r.result(),
        &json!([["4", "FALSE", "SYSTEM_MOD", "IMMEDIATE"]]),
        "{}",
        r.json
    );
    // A pfile instance: SCOPE=SPFILE or BOTH is ORA-32001; unknown and static parameters
    // get Oracle's errors (ORA-02065 is gone for the dynamic ones).
    for (sql, code) in [
        ("alter system set shared_servers=2 scope=spfile", 32001),
        ("alter system set shared_servers=2 scope=both", 32001),
        ("alter system set no_such_parameter=2", 2065),
        ("alter system set processes=300", 2095),
        ("alter system set shared_servers='many'", 2017),
    ] {
        let r = py.exec("dba", sql);
        assert_eq!(r.code(), Some(code), "{sql}: {}", r.json);
    }
    let r = py.exec("dba", "select name, accept, conf_indx from v$dispatcher");
    assert_eq!(r.result(), &json!([["D000", "YES", 0]]), "{}", r.json);
    let r = py.exec("dba", "select network from v$dispatcher_config");
    assert_eq!(
        r.result(),
        &json!([["(ADDRESS=(PROTOCOL=tcp))"]]),
        "{}",
        r.json
    );
    // Lowering: the extra servers leave once idle.
    let r = py.exec("dba", "alter system set shared_servers=1 scope=memory");
    assert!(r.ok(), "{}", r.json);
    assert_eq!(
        wait_count(&mut py, "dba", servers, 1, Duration::from_secs(30)),
        1
    );
    let r = py.exec(
        "dba",
        "select servers_terminated, servers_highwater from v$shared_server_monitor",
    );
    assert_eq!(r.result(), &json!([[3, 4]]), "{}", r.json);
    drop(py);
    drop(stack);
}

fn start_job(py: &mut PyDriver, name: &str, sql: &str) {
    let r = py.call(json!({"op": "start", "name": name, "sql": sql}));
    assert!(r.ok(), "{}", r.error());
}

fn wait_job(py: &mut PyDriver, name: &str) -> Value {
    let r = py.call(json!({"op": "wait", "name": name, "timeout": 60}));
    let job = r.result().clone();
    assert_eq!(job["ok"], json!(true), "{name}: {job}");
    job
}

#[test]
fn a_second_call_waits_on_the_common_queue_unless_the_pool_may_grow() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9B"),
        "shared_servers=1\nmax_shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    for n in ["a", "b"] {
        py.connect(n, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
    }
    // The DBA watches from a dedicated session: it needs no shared server.
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect dba: {}", r.json));
    let sleep = "begin dbms_session.sleep(2); end;";
    start_job(&mut py, "a", sleep);
    std::thread::sleep(Duration::from_millis(300));
    start_job(&mut py, "b", "select 1 from dual");
    let queued = wait_for(Duration::from_secs(2), || {
        let q = count(
            &mut py,
            "dba",
            "select queued from v$queue where type = 'COMMON'",
        );
        let c = count(
            &mut py,
            "dba",
            "select count(*) from v$circuit where queue = 'COMMON'",
        );
        (q == 1 && c == 1).then_some(())
    });
    assert!(queued.is_some(), "b's call waits on the common queue");
    let a = wait_job(&mut py, "a");
    let b = wait_job(&mut py, "b");
    let (ea, eb) = (
        a["elapsed"].as_f64().unwrap_or(0.0),
        b["elapsed"].as_f64().unwrap_or(0.0),
    );
    // b waited for the one server behind a's 2-second sleep (started 0.3 s later).
    assert!(eb > 1.2, "b held back: a {ea:.2} s, b {eb:.2} s");
    let r = py.exec("dba", "select totalq from v$queue where type = 'COMMON'");
    assert!(r.result()[0][0].as_u64().unwrap_or(0) >= 2, "{}", r.json);

    // Room to grow: b's call gets a new shared server instead of waiting.
    let r = py.exec("dba", "alter system set max_shared_servers=4");
    assert!(r.ok(), "{}", r.json);
    start_job(&mut py, "a", sleep);
    std::thread::sleep(Duration::from_millis(300));
    start_job(&mut py, "b", "select 1 from dual");
    let a = wait_job(&mut py, "a");
    let b = wait_job(&mut py, "b");
    let (ea, eb) = (
        a["elapsed"].as_f64().unwrap_or(0.0),
        b["elapsed"].as_f64().unwrap_or(0.0),
    );
    assert!(eb < 1.2, "b not held back: a {ea:.2} s, b {eb:.2} s");
    let started = count(
        &mut py,
        "dba",
        "select servers_started from v$shared_server_monitor",
    );
    assert!(started >= 1, "SERVERS_STARTED {started}");
    // The extra server retires once it has stayed idle.
    assert_eq!(
        wait_count(
            &mut py,
            "dba",
            "select count(*) from v$shared_server",
            1,
            Duration::from_secs(30)
        ),
        1
    );
    let r = py.exec(
        "dba",
        "select servers_terminated, servers_highwater from v$shared_server_monitor",
    );
    let row = &r.result()[0];
    assert!(
        row[0].as_u64() >= Some(1) && row[1].as_u64() >= Some(2),
        "{}",
        r.json
    );
    drop(py);
    drop(stack);
}
