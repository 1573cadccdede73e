//! The limits of shared server, end to end (real listener, real `oradb`, python-oracledb
//! 26.1.0): SHARED_SERVER_SESSIONS keeps the rest of SESSIONS for dedicated servers (a shared
//! login past it gets ORA-00018), CIRCUITS caps the virtual circuits (the dispatchers
//! register as blocked and the listener refuses with ORA-12519), and an instance at its
//! RLIMIT_NOFILE refuses new connections with ORA-12519 — logged in its alert log — while
//! every session it has keeps working and none is freed.

use std::time::Duration;

use serde_json::json;
use tests::instance::wait_for;
use tests::instance_py::{PyDriver, Reply};
use tests::shared_stack::{PASSWORD, SharedStack, USER};

fn refused_with(r: &Reply, code: u64, text: &str) -> bool {
    r.code() == Some(code) || r.error().contains(text)
}

#[test]
fn shared_server_sessions_keeps_the_rest_for_dedicated_servers() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("HS1A"),
        "shared_servers=1\nshared_server_sessions=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    for n in ["s0", "s1"] {
        py.connect(n, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
    }
    let err = py
        .connect("s2", &stack.dsn("shared"), USER, PASSWORD)
        .expect_err("a third shared session is one too many");
    assert!(
        refused_with(&err, 18, "ORA-00018: maximum number of sessions exceeded"),
        "{}",
        err.json
    );
    // Dedicated sessions still have their place.
    py.connect("d0", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect d0: {}", r.json));
    let r = py.exec("d0", "select maximum_sessions from v$shared_server_monitor");
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    // Raised at run time, it takes one more at once.
    let r = py.exec("d0", "alter system set shared_server_sessions=3");
    assert!(r.ok(), "{}", r.json);
    py.connect("s3", &stack.dsn("shared"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect s3 after raising the limit: {}", r.json));
    // One leaves: the next shared login takes its place.
    let r = py.call(json!({"op": "close", "name": "s0"}));
    assert!(r.ok(), "{}", r.json);
    py.connect("s4", &stack.dsn("shared"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect s4 into the freed place: {}", r.json));
    drop(py);
    drop(stack);
}

#[test]
fn circuits_blocks_the_dispatchers_and_the_listener_refuses_with_12519() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("HS1B"),
        "shared_servers=1\ncircuits=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    for n in ["s0", "s1"] {
        py.connect(n, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {n}: {}", r.json));
    }
    let r = py.exec(
        "s0",
        "select value from v$parameter where name = 'circuits'",
    );
    assert_eq!(r.result(), &json!([["2"]]), "{}", r.json);
    // lreg tells the listener the dispatcher can take no more.
    wait_for(Duration::from_secs(5), || {
        stack.services().contains("state:blocked").then_some(())
    })
    .unwrap_or_else(|| panic!("D000 blocked: {}", stack.services()));
    let err = py
        .connect("s2", &stack.dsn("shared"), USER, PASSWORD)
        .expect_err("no circuit left");
    assert!(refused_with(&err, 12519, "ORA-12519"), "{}", err.json);
    let r = py.call(json!({"op": "close", "name": "s1"}));
    assert!(r.ok(), "{}", r.json);
    let again = wait_for(Duration::from_secs(5), || {
        py.connect("s3", &stack.dsn("shared"), USER, PASSWORD).ok()
    });
    assert!(again.is_some(), "a freed circuit is used again");
    drop(py);
    drop(stack);
}

#[test]
fn at_its_descriptor_limit_the_instance_refuses_new_connections_and_keeps_its_sessions() {
    // 64 descriptors: what the instance holds besides circuits, 32 in reserve, and room
    // for a few circuits.
    let stack = SharedStack::start_with_nofile(
        &tests::shared_stack::own_sid("HS1C"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
        Some(64),
    );
    let alert = stack.home.alert_log();
    assert!(alert.contains("RLIMIT_NOFILE is 64"), "{alert}");
    let mut py = PyDriver::start();
    py.connect("d0", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect d0: {}", r.json));
    let mut shared = Vec::new();
    let mut refusal = None;
    for i in 0..64 {
        let n = format!("s{i}");
        match py.connect(&n, &stack.dsn("shared"), USER, PASSWORD) {
            Ok(_) => shared.push(n),
            Err(r) => {
                refusal = Some(r);
                break;
            }
        }
    }
    let refusal = refusal.expect("the instance's descriptors run out before 64 circuits");
    assert!(
        refused_with(&refusal, 12519, "ORA-12519"),
        "{}",
        refusal.json
    );
    assert!(shared.len() >= 3, "some circuits fit: {}", shared.len());
    // Straight to the dispatcher's own port: the dispatcher itself refuses, and says why
    // in the alert log.
    let r = py.exec("d0", "select network from v$dispatcher where name = 'D000'");
    let network = r.result()[0][0].as_str().unwrap_or_default().to_string();
    let port = network
        .split("PORT=")
        .nth(1)
        .and_then(|p| p.trim_end_matches(')').parse::<u16>().ok())
        .unwrap_or_else(|| panic!("D000's port in {network}"));
    let direct = format!("127.0.0.1:{port}/{}", stack.service);
    let err = py
        .connect("x", &direct, USER, PASSWORD)
        .expect_err("the dispatcher has no descriptor for another circuit");
    assert!(refused_with(&err, 12519, "ORA-12519"), "{}", err.json);
    let alert = stack.home.alert_log();
    assert!(
        alert.contains("D000: cannot take more connections (RLIMIT_NOFILE reached"),
        "{alert}"
    );
    // Nobody was freed: every session answers, V$SESSION still has them all.
    for n in shared.iter().chain(std::iter::once(&"d0".to_string())) {
        let r = py.exec(n, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{n}: {}", r.json);
    }
    let r = py.exec("d0", "select count(*) from v$session where type = 'USER'");
    assert_eq!(r.result(), &json!([[shared.len() + 1]]), "{}", r.json);
    assert!(!alert.contains("PMON: dead process"), "{alert}");
    // When the load goes away, logins work again.
    for n in shared.iter().take(3) {
        let r = py.call(json!({"op": "close", "name": n}));
        assert!(r.ok(), "{}", r.json);
    }
    let again = wait_for(Duration::from_secs(5), || {
        py.connect("again", &stack.dsn("shared"), USER, PASSWORD)
            .ok()
    });
    assert!(again.is_some(), "a login after the load went away");
    let r = py.exec("again", "select 2 from dual");
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    assert!(
        stack
            .home
            .alert_log()
            .contains("D000: taking connections again"),
        "{}",
        stack.home.alert_log()
    );
    drop(py);
    drop(stack);
}
