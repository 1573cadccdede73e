//! Several dispatchers end to end (real listener, real `oradb`, python-oracledb 26.1.0):
//! DISPATCHERS='(PROTOCOL=TCP)(DISPATCHERS=3)(CONNECTIONS=5)' spreads 15 sessions over
//! D000–D002 (V$DISPATCHER and `lsnrctl services` agree), the 16th is refused with Oracle's
//! ORA-12519; and kills of shared sessions behave for the client as for dedicated ones,
//! with the circuit leaving V$CIRCUIT.

use std::time::Duration;

use serde_json::json;
use tests::instance::wait_for;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

#[test]
fn three_dispatchers_of_five_connections_take_fifteen_sessions_and_refuse_the_sixteenth() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9C"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)(DISPATCHERS=3)(CONNECTIONS=5)'",
        3,
    );
    let mut py = PyDriver::start();
    for i in 0..15 {
        let n = format!("c{i}");
        py.connect(&n, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
    }
    let r = py.exec(
        "c0",
        "select name, owned, accept from v$dispatcher order by name",
    );
    assert_eq!(
        r.result(),
        &json!([["D000", 5, "YES"], ["D001", 5, "YES"], ["D002", 5, "YES"]]),
        "{}",
        r.json
    );
    let r = py.exec("c0", "select count(*) from v$circuit");
    assert_eq!(r.result(), &json!([[15]]), "{}", r.json);
    let r = py.exec(
        "c0",
        "select conf_indx, dispatchers, connections from v$dispatcher_config",
    );
    assert_eq!(r.result(), &json!([[0, 3, 5]]), "{}", r.json);
    // The listener handed five to each and knows they are full.
    let svc = wait_for(Duration::from_secs(5), || {
        let t = stack.services();
        ["D000", "D001", "D002"]
            .iter()
            .all(|d| t.contains(&format!("\"{d}\" established:5 refused:0 current:5 max:5")))
            .then_some(t)
    })
    .unwrap_or_else(|| panic!("lsnrctl services: {}", stack.services()));
    // Both services of the instance (ORCL and its SERVICE_NAMES) list the three.
    assert_eq!(svc.matches("state:blocked").count(), 6, "{svc}");
    let r = py.connect("c15", &stack.dsn("shared"), USER, PASSWORD);
    let err = r.expect_err("the sixteenth is refused");
    assert!(
        err.error()
            .contains("ORA-12519: TNS:no appropriate service handler found")
            || err.code() == Some(12519),
        "{}",
        err.json
    );
    // One leaves: its dispatcher takes the next one.
    let r = py.call(json!({"op": "close", "name": "c3"}));
    assert!(r.ok(), "{}", r.json);
    let again = wait_for(Duration::from_secs(5), || {
        py.connect("c16", &stack.dsn("shared"), USER, PASSWORD).ok()
    });
    assert!(again.is_some(), "a freed place is used again");
    drop(py);
    drop(stack);
}

#[test]
fn killing_a_shared_session_looks_like_killing_a_dedicated_one() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9D"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect dba: {}", r.json));
    let mut victims = Vec::new();
    for n in ["idle", "busy", "imm", "imm_busy"] {
        let (sid, serial, _) = py
            .connect(n, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
        victims.push((n, sid, serial));
    }
    let circuits = |py: &mut PyDriver| {
        py.exec("dba", "select count(*) from v$circuit").result()[0][0]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(circuits(&mut py), 4);
    let kill = |py: &mut PyDriver, sid: u64, serial: u64, how: &str| {
        let r = py.exec(
            "dba",
            &format!("alter system kill session '{sid},{serial}' {how}"),
        );
        assert!(r.ok(), "{}", r.json);
    };
    // Idle, plain KILL: the next call gets ORA-00028, then ORA-01012.
    let (_, sid, serial) = victims[0];
    kill(&mut py, sid, serial, "");
    let r = py.exec("idle", "select 1 from dual");
    assert_eq!(r.code(), Some(28), "{}", r.json);
    // Inside a call: ORA-00028 at once.
    let (_, sid, serial) = victims[1];
    let r = py
        .call(json!({"op": "start", "name": "busy", "sql": "begin dbms_session.sleep(30); end;"}));
    assert!(r.ok(), "{}", r.json);
    std::thread::sleep(Duration::from_millis(500));
    kill(&mut py, sid, serial, "");
    let r = py.call(json!({"op": "wait", "name": "busy", "timeout": 10}));
    let job = r.result();
    assert_eq!(job["code"], json!(28), "{job}");
    assert!(job["elapsed"].as_f64().unwrap_or(99.0) < 10.0, "{job}");
    // IMMEDIATE, idle: the connection is closed, as a dedicated server's process would be.
    let (_, sid, serial) = victims[2];
    kill(&mut py, sid, serial, "immediate");
    let r = py.exec("imm", "select 1 from dual");
    assert!(!r.ok(), "{}", r.json);
    assert!(
        r.error().contains("DPY-4011") || r.code() == Some(3113) || r.code() == Some(3135),
        "{}",
        r.json
    );
    // IMMEDIATE inside a call: the same, at once.
    let (_, sid, serial) = victims[3];
    let r = py.call(
        json!({"op": "start", "name": "imm_busy", "sql": "begin dbms_session.sleep(30); end;"}),
    );
    assert!(r.ok(), "{}", r.json);
    std::thread::sleep(Duration::from_millis(500));
    kill(&mut py, sid, serial, "immediate");
    let r = py.call(json!({"op": "wait", "name": "imm_busy", "timeout": 10}));
    let job = r.result();
    assert_eq!(job["ok"], json!(false), "{job}");
    assert!(job["elapsed"].as_f64().unwrap_or(99.0) < 10.0, "{job}");
    // The plainly killed ones are closed by the client after ORA-00028; the IMMEDIATE
    // ones are gone already.
    for n in ["idle", "busy"] {
        let _ = py.call(json!({"op": "close", "name": n}));
    }
    // Every killed session's circuit is gone; the shared servers are free again.
    let gone = wait_for(Duration::from_secs(5), || {
        (circuits(&mut py) == 0).then_some(())
    });
    assert!(gone.is_some(), "circuits left: {}", circuits(&mut py));
    let r = py.exec(
        "dba",
        "select count(*) from v$shared_server where status = 'WAIT(COMMON)'",
    );
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    drop(py);
    drop(stack);
}
