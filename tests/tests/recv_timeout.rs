//! SQLNET.RECV_TIMEOUT in the server's sqlnet.ora, end to end (real listener, real
//! `oradb`, python-oracledb 26.1.0), on a dedicated, a shared and a DRCP pooled server
//! (the pooled server is the client's dedicated server until the client releases it): it is an idle
//! timer on the server side (Oracle's documentation and MOS 1335630.1 warn about exactly
//! that): a client that says nothing for longer is disconnected, with TNS-12535 /
//! TNS-12609 in the log; a client that keeps talking, and a call that runs longer than the
//! timeout (the server is not waiting for its client then), are not affected.

use std::time::Duration;

use serde_json::json;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

/// What the server logs when it gives a silent client up.
const WHY: &str = "TNS-12535: TNS:operation timed out (TNS-12609: TNS: Receive timeout occurred)";

const STALL: &str = r#"
import json, sys, time, oracledb
dsn, user, pw = sys.argv[1:4]
idle = oracledb.connect(user=user, password=pw, dsn=dsn)
busy = oracledb.connect(user=user, password=pw, dsn=dsn)
out = {}
# A call longer than the timeout: the server is not waiting for its client meanwhile.
busy.cursor().execute("begin dbms_session.sleep(3); end;")
out["long_call"] = "ok"
# Talking every half second for 3 s keeps the connection.
talk = []
for i in range(6):
    time.sleep(0.5)
    talk.append(busy.cursor().execute("select %d from dual" % i).fetchall()[0][0])
out["talk"] = talk
# The idle one has said nothing for over 3 s now.
try:
    idle.cursor().execute("select 1 from dual").fetchall()
    out["idle"] = "answered"
except oracledb.Error as e:
    out["idle"] = e.args[0].full_code
print(json.dumps(out))
"#;

fn stall(stack: &SharedStack, mode: &str) {
    let out = tests::py::run_python(
        STALL,
        &[stack.dsn(mode), USER.into(), PASSWORD.into()],
        Duration::from_secs(60),
    );
    let v = out.last_json("python");
    assert_eq!(v["long_call"], "ok", "{mode}: {v}");
    assert_eq!(
        v["talk"],
        serde_json::json!([0, 1, 2, 3, 4, 5]),
        "{mode}: {v}"
    );
    // python's code for a connection the server closed.
    assert_eq!(v["idle"], "DPY-4011", "{mode}: {v}");
}

#[test]
fn a_client_silent_for_longer_than_recv_timeout_is_disconnected_dedicated_and_shared() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HDRT"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
        None,
        Some("SQLNET.RECV_TIMEOUT = 2000ms\n"),
    );
    stall(&stack, "dedicated");
    stall(&stack, "shared");
    // The dedicated server and the dispatcher log why they closed the connection.
    let found = tests::instance::wait_for(Duration::from_secs(5), || {
        let log = stack.home.alert_log();
        let why = "TNS-12535: TNS:operation timed out (TNS-12609: TNS: Receive timeout occurred)";
        (log.contains(&format!("closing the connection: {why}"))
            && log.contains(&format!("D000: closing a circuit: {why}")))
        .then_some(())
    });
    assert!(found.is_some(), "{}", stack.home.alert_log());
}

#[test]
fn a_pooled_client_silent_for_longer_than_recv_timeout_is_disconnected() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HD3R"),
        "",
        0,
        None,
        Some("SQLNET.RECV_TIMEOUT = 2000ms\n"),
    );
    let mut py = tests::instance_py::PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    let r = py.exec("dba", "begin dbms_connection_pool.start_pool(); end;");
    assert!(r.ok(), "start_pool: {}", r.json);
    // The dba session itself is a client that falls silent: that is the point here.
    drop(py);
    let registered = tests::instance::wait_for(Duration::from_secs(10), || {
        stack.services().contains("\"N000\"").then_some(())
    });
    assert!(registered.is_some(), "{}", stack.services());
    stall(&stack, "pooled");
    // The pooled server logs why it closed the connection, and the pool goes on serving.
    let found = tests::instance::wait_for(Duration::from_secs(5), || {
        stack
            .home
            .alert_log()
            .contains(&format!("closing the connection: {WHY}"))
            .then_some(())
    });
    assert!(found.is_some(), "{}", stack.home.alert_log());
    // The pooled server whose client timed out stays in the pool.
    let log = stack.home.alert_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("N000: pooled server") && l.ends_with(" left")),
        "{log}"
    );
    let mut py = tests::instance_py::PyDriver::start();
    py.connect("again", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("a pooled login after the timeout: {}", r.json));
    let r = py.exec("again", "select 7 from dual");
    assert_eq!(r.result(), &serde_json::json!([[7]]), "{}", r.json);
    assert!(py.call(json!({"op": "close", "name": "again"})).ok());

    // Between sessions the broker holds the client (python's pool released it): silent for
    // longer than the timeout there, it is disconnected too; one that keeps talking is not.
    // (A dedicated connection of its own for each look: a silent one would time out too.)
    let held = |py: &mut tests::instance_py::PyDriver| {
        py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("dba connect: {}", r.json));
        let r = py.exec("dba", "select count(*) from v$cpool_conn_info");
        let n = r.result()[0][0]
            .as_u64()
            .unwrap_or_else(|| panic!("held clients: {}", r.json));
        assert!(py.call(json!({"op": "close", "name": "dba"})).ok());
        n
    };
    for name in ["silent", "talking"] {
        let r = py.call(
            json!({"op": "pool", "name": name, "dsn": stack.dsn("pooled"),
            "user": USER, "password": PASSWORD, "min": 1, "max": 1}),
        );
        assert!(r.ok(), "{}", r.json);
        let r = py.call(json!({"op": "pool_exec", "name": name, "sql": "select 1 from dual"}));
        assert_eq!(r.result(), &json!([[1]]), "{name}: {}", r.json);
    }
    assert_eq!(held(&mut py), 2, "the broker holds both released clients");
    for i in 0..6 {
        std::thread::sleep(Duration::from_millis(500));
        let r = py.call(
            json!({"op": "pool_exec", "name": "talking", "sql": format!("select {i} from dual")}),
        );
        assert_eq!(r.result(), &json!([[i]]), "talking: {}", r.json);
    }
    assert_eq!(
        held(&mut py),
        1,
        "only the talking client is left in the broker:\n{}",
        stack.home.alert_log()
    );
    // python's pool sees the closed socket at its next acquire and connects again.
    let r = py.call(json!({"op": "pool_exec", "name": "silent", "sql": "select 2 from dual"}));
    assert_eq!(r.result(), &json!([[2]]), "silent, reconnected: {}", r.json);
    let found = tests::instance::wait_for(Duration::from_secs(5), || {
        stack
            .home
            .alert_log()
            .contains(&format!("N000: closing a client connection: {WHY}"))
            .then_some(())
    });
    assert!(found.is_some(), "{}", stack.home.alert_log());
}

#[test]
fn max_think_time_still_applies_under_a_longer_recv_timeout() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HD4T"),
        "",
        0,
        None,
        Some("SQLNET.RECV_TIMEOUT = 60\n"),
    );
    let mut py = tests::instance_py::PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    for sql in [
        "begin dbms_connection_pool.alter_param('', 'MAX_THINK_TIME', '1'); end;",
        "begin dbms_connection_pool.start_pool(); end;",
    ] {
        let r = py.exec("dba", sql);
        assert!(r.ok(), "{sql}: {}", r.json);
    }
    let pooled = tests::instance::wait_for(Duration::from_secs(10), || {
        py.connect("idle", &stack.dsn("pooled"), USER, PASSWORD)
            .ok()
    });
    assert!(pooled.is_some(), "a pooled login: {}", stack.services());
    let r = py.exec("idle", "select 1 from dual");
    assert_eq!(r.result(), &serde_json::json!([[1]]), "{}", r.json);
    std::thread::sleep(Duration::from_millis(2500));
    let r = py.exec("idle", "select 1 from dual");
    assert!(
        !r.ok(),
        "MAX_THINK_TIME (1 s) ended the idle client: {}",
        r.json
    );
    let r = py.exec("dba", "select client_req_timeouts from v$cpool_stats");
    assert_eq!(r.result(), &serde_json::json!([[1]]), "{}", r.json);
}
