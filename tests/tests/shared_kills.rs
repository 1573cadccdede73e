//! Kills of shared sessions end to end (real listener, real `oradb`, python-oracledb 26.1.0):
//! `ALTER SYSTEM DISCONNECT SESSION '<sid>,<serial>' IMMEDIATE` and `oradb kill-session`
//! (plain and `--immediate`), on an idle session and inside a call, give a shared session's
//! client exactly the errors a dedicated session's client gets, and the killed circuits leave
//! V$CIRCUIT while the shared servers are freed.

use std::time::Duration;

use serde_json::json;
use tests::instance::wait_for;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

/// How the victim is killed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// `alter system disconnect session '..' immediate` from the DBA's session.
    DisconnectImmediate,
    /// `oradb kill-session sid,serial`.
    Oradb,
    /// `oradb kill-session sid,serial --immediate`.
    OradbImmediate,
}

/// What the victim's client saw: the error of the first call after the kill (or of the call
/// the kill interrupted) and of the call after that.
#[derive(Debug, PartialEq)]
struct Seen {
    first: String,
    second: String,
}

fn kill(stack: &SharedStack, py: &mut PyDriver, sid: u64, serial: u64, how: Kill) {
    match how {
        Kill::DisconnectImmediate => {
            let r = py.exec(
                "dba",
                &format!("alter system disconnect session '{sid},{serial}' immediate"),
            );
            assert!(r.ok(), "{}", r.json);
        }
        Kill::Oradb | Kill::OradbImmediate => {
            let target = format!("{sid},{serial}");
            let mut args = vec!["kill-session", target.as_str()];
            if matches!(how, Kill::OradbImmediate) {
                args.push("--immediate");
            }
            let out = stack.home.run_oradb(&args);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "System altered.\n",
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Connects `name` with `server`, kills it `how` (idle, or `in_call` inside a 30 s sleep)
/// and returns what its client saw.
fn victim(
    stack: &SharedStack,
    py: &mut PyDriver,
    name: &str,
    server: &str,
    how: Kill,
    in_call: bool,
) -> Seen {
    let (sid, serial, _) = py
        .connect(name, &stack.dsn(server), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect {name}: {}", r.json));
    let first = if in_call {
        let r = py.call(
            json!({"op": "start", "name": name, "sql": "begin dbms_session.sleep(30); end;"}),
        );
        assert!(r.ok(), "{}", r.json);
        std::thread::sleep(Duration::from_millis(500));
        kill(stack, py, sid, serial, how);
        let r = py.call(json!({"op": "wait", "name": name, "timeout": 10}));
        let job = r.result().clone();
        assert_eq!(job["ok"], json!(false), "{name}: {job}");
        assert!(
            job["elapsed"].as_f64().unwrap_or(99.0) < 10.0,
            "{name}: the call ends at once, not after its sleep: {job}"
        );
        job["error"].as_str().unwrap_or("").to_string()
    } else {
        kill(stack, py, sid, serial, how);
        let r = py.exec(name, "select 1 from dual");
        assert!(!r.ok(), "{name}: {}", r.json);
        r.error()
    };
    let r = py.exec(name, "select 1 from dual");
    assert!(!r.ok(), "{name}: {}", r.json);
    let _ = py.call(json!({"op": "close", "name": name}));
    Seen {
        first,
        second: r.error(),
    }
}

#[test]
fn disconnect_immediate_and_oradb_kill_session_of_a_shared_session_look_as_for_a_dedicated_one() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9K"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect dba: {}", r.json));
    let circuits = |py: &mut PyDriver| {
        let r = py.exec("dba", "select count(*) from v$circuit");
        assert!(r.ok(), "{}", r.json);
        r.result()[0][0].as_u64().unwrap_or(u64::MAX)
    };
    // A bystander on the same dispatcher keeps its circuit throughout.
    py.connect("bystander", &stack.dsn("shared"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect bystander: {}", r.json));
    assert_eq!(circuits(&mut py), 1);
    for (i, (how, in_call)) in [
        (Kill::DisconnectImmediate, false),
        (Kill::DisconnectImmediate, true),
        (Kill::Oradb, false),
        (Kill::Oradb, true),
        (Kill::OradbImmediate, false),
        (Kill::OradbImmediate, true),
    ]
    .into_iter()
    .enumerate()
    {
        let dedicated = victim(&stack, &mut py, &format!("d{i}"), "dedicated", how, in_call);
        let shared = victim(&stack, &mut py, &format!("s{i}"), "shared", how, in_call);
        assert_eq!(
            shared, dedicated,
            "{how:?} (in a call: {in_call}): the shared client sees what the dedicated one does"
        );
        match how {
            Kill::Oradb => {
                // python-oracledb reports ORA-00028 as the connection's end.
                assert!(
                    shared
                        .first
                        .contains("\nORA-00028: your session has been killed\n"),
                    "{how:?} {in_call}: {shared:?}"
                );
            }
            Kill::DisconnectImmediate | Kill::OradbImmediate => {
                assert!(
                    shared.first.starts_with("DPY-4011"),
                    "{how:?} {in_call}: {shared:?}"
                );
            }
        }
        // The killed circuit is gone; only the bystander's is left.
        let left = wait_for(Duration::from_secs(5), || {
            (circuits(&mut py) == 1).then_some(())
        });
        assert!(
            left.is_some(),
            "{how:?} {in_call}: circuits left {}",
            circuits(&mut py)
        );
    }
    let r = py.exec("bystander", "select 1 from dual");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
    let r = py.exec(
        "dba",
        "select count(*) from v$shared_server where status = 'WAIT(COMMON)'",
    );
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    drop(py);
    drop(stack);
}
