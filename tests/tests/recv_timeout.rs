//! SQLNET.RECV_TIMEOUT in the server's sqlnet.ora, end to end (real listener, real
//! `oradb`, python-oracledb 26.1.0), on a dedicated and on a shared server: it is an idle
//! timer on the server side (Oracle's documentation and MOS 1335630.1 warn about exactly
//! that): a client that says nothing for longer is disconnected, with TNS-12535 /
//! TNS-12609 in the log; a client that keeps talking, and a call that runs longer than the
//! timeout (the server is not waiting for its client then), are not affected.

use std::time::Duration;

use tests::shared_stack::{PASSWORD, SharedStack, USER};

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
