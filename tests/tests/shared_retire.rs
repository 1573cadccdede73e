//! Lowering DISPATCHERS end to end (real listener, real `oradb`, python-oracledb 26.1.0):
//! `ALTER SYSTEM SET dispatchers=` with fewer dispatchers stops D001 taking connections, its
//! sessions keep working, and it leaves V$DISPATCHER once its last circuit is gone. The
//! sessions connect to each dispatcher's own port, so where they land does not depend on
//! the listener's choice.

use std::time::Duration;

use serde_json::{Value, json};
use tests::instance::wait_for;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

fn rows(py: &mut PyDriver, sql: &str) -> Value {
    let r = py.exec("dba", sql);
    assert!(r.ok(), "{sql}: {}", r.json);
    r.result().clone()
}

#[test]
fn lowering_dispatchers_drains_and_retires_one_once_its_circuits_are_gone() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9LR"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)(DISPATCHERS=2)'",
        2,
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect dba: {}", r.json));
    // Each dispatcher also listens on its own port: two sessions go to each directly.
    let port_of = |py: &mut PyDriver, d: &str| -> u16 {
        let r = rows(
            py,
            &format!("select network from v$dispatcher where name = '{d}'"),
        );
        let network = r[0][0].as_str().unwrap_or_default().to_ascii_uppercase();
        network
            .split("(PORT=")
            .nth(1)
            .and_then(|p| p.split(')').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("port of {d}: {network}"))
    };
    let d0 = port_of(&mut py, "D000");
    let d1 = port_of(&mut py, "D001");
    for (n, port) in [("a", d0), ("b", d0), ("c", d1), ("d", d1)] {
        py.connect(
            n,
            &format!("127.0.0.1:{port}/{}", stack.service),
            USER,
            PASSWORD,
        )
        .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
    }
    let disp = "select name, owned, accept from v$dispatcher order by name";
    assert_eq!(
        rows(&mut py, disp),
        json!([["D000", 2, "YES"], ["D001", 2, "YES"]])
    );
    let r = py.exec(
        "dba",
        "alter system set dispatchers='(PROTOCOL=TCP)(DISPATCHERS=1)'",
    );
    assert!(r.ok(), "{}", r.json);
    // D001 no longer accepts but stays while its circuits live; its sessions keep working.
    let draining = wait_for(Duration::from_secs(5), || {
        let r = rows(&mut py, disp);
        (r == json!([["D000", 2, "YES"], ["D001", 2, "NO"]])).then_some(())
    });
    assert!(draining.is_some(), "{}", rows(&mut py, disp));
    let r = py.exec("dba", "select status from v$dispatcher where name = 'D001'");
    assert_eq!(r.result(), &json!([["TERMINATE"]]), "{}", r.json);
    std::thread::sleep(Duration::from_secs(1));
    for n in ["a", "b", "c", "d"] {
        let r = py.exec(n, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{n}: {}", r.json);
    }
    assert_eq!(
        rows(&mut py, "select count(*) from v$dispatcher"),
        json!([[2]])
    );
    // D001's sessions log off one by one: it stays until the last has gone.
    let r = py.call(json!({"op": "close", "name": "c"}));
    assert!(r.ok(), "{}", r.json);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        rows(&mut py, disp),
        json!([["D000", 2, "YES"], ["D001", 1, "NO"]])
    );
    let r = py.exec("d", "select 1 from dual");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
    let r = py.call(json!({"op": "close", "name": "d"}));
    assert!(r.ok(), "{}", r.json);
    let gone = wait_for(Duration::from_secs(10), || {
        let r = rows(&mut py, "select name from v$dispatcher");
        (r == json!([["D000"]])).then_some(())
    });
    assert!(gone.is_some(), "{}", rows(&mut py, disp));
    // D000's sessions were never disturbed.
    for n in ["a", "b"] {
        let r = py.exec(n, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{n}: {}", r.json);
    }
    assert_eq!(
        rows(&mut py, "select count(*) from v$circuit"),
        json!([[2]])
    );
    for n in ["a", "b"] {
        let r = py.call(json!({"op": "close", "name": n}));
        assert!(r.ok(), "{}", r.json);
    }
    let none = wait_for(Duration::from_secs(5), || {
        (rows(&mut py, "select count(*) from v$circuit") == json!([[0]])).then_some(())
    });
    assert!(none.is_some(), "D000's circuits gone");
    // The remaining dispatcher stays.
    assert_eq!(
        rows(&mut py, "select name, accept from v$dispatcher"),
        json!([["D000", "YES"]])
    );
    drop(py);
    drop(stack);
}
