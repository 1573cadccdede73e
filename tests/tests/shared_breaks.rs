//! Breaks and vanished clients on shared servers, end to end (real listener, real `oradb`,
//! python-oracledb 26.1.0), with both shared servers busy so that requests wait on the
//! common queue:
//! - a call that times out while its request waits gets exactly one answer (Oracle's
//!   BREAK/RESET and ORA-01013, within a second, without waiting for a server), and every
//!   later call gets its own answer (no shift);
//! - clients that go away during a long call free their shared servers at the call's next
//!   kill/break check, not at its end.

use std::time::Duration;

use tests::shared_stack::{PASSWORD, SharedStack, USER};

const TIMEOUT_WHILE_QUEUED: &str = r#"
import json, sys, threading, time, oracledb
dsn, user, pw = sys.argv[1:4]
sleepers = [oracledb.connect(user=user, password=pw, dsn=dsn) for _ in range(2)]
c = oracledb.connect(user=user, password=pw, dsn=dsn)
out = {}
def sleep(conn):
    conn.cursor().execute("begin dbms_session.sleep(3); end;")
threads = [threading.Thread(target=sleep, args=(s,)) for s in sleepers]
t_sleep = time.monotonic()
for t in threads:
    t.start()
time.sleep(0.3)
c.call_timeout = 2000
t0 = time.monotonic()
try:
    out["q1"] = c.cursor().execute("select 1 from dual").fetchall()
except oracledb.Error as e:
    out["q1"] = e.args[0].full_code
out["q1_elapsed"] = time.monotonic() - t0
out["q1_done_before_sleeps"] = time.monotonic() - t_sleep < 2.95
for n in (2, 3, 4):
    try:
        out["q%d" % n] = c.cursor().execute("select %d from dual" % n).fetchall()
    except oracledb.Error as e:
        out["q%d" % n] = e.args[0].full_code
for t in threads:
    t.join()
c.call_timeout = 0
out["after"] = c.cursor().execute("select 5 from dual").fetchall()
print(json.dumps(out))
"#;

#[test]
fn a_call_timing_out_in_the_common_queue_gets_one_answer_at_once() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("HS3A"),
        "shared_servers=2\nmax_shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let out = tests::py::run_python(
        TIMEOUT_WHILE_QUEUED,
        &[stack.dsn("shared"), USER.into(), PASSWORD.into()],
        Duration::from_secs(60),
    );
    let v = out.last_json("python");
    // The timed-out call: python's call timeout, answered by the break (not by a server
    // that became free at the end of the 3 s sleeps).
    assert_eq!(v["q1"], "DPY-4024", "{v}");
    let elapsed = v["q1_elapsed"].as_f64().unwrap_or(f64::MAX);
    assert!(
        elapsed < 3.0,
        "answered within a second of the timeout: {v}"
    );
    assert_eq!(v["q1_done_before_sleeps"], true, "{v}");
    // Every later call gets its own answer.
    assert_eq!(v["q2"], serde_json::json!([[2]]), "{v}");
    assert_eq!(v["q3"], serde_json::json!([[3]]), "{v}");
    assert_eq!(v["q4"], serde_json::json!([[4]]), "{v}");
    assert_eq!(v["after"], serde_json::json!([[5]]), "{v}");
    let r = stack.home.alert_log();
    assert!(!r.contains("panicked"), "{r}");
}

const SLEEPERS: &str = r#"
import sys, threading, time, oracledb
dsn, user, pw = sys.argv[1:4]
conns = [oracledb.connect(user=user, password=pw, dsn=dsn) for _ in range(2)]
for conn in conns:
    threading.Thread(target=lambda c=conn: c.cursor().execute("begin dbms_session.sleep(10); end;"), daemon=True).start()
time.sleep(0.5)
print("sleeping", flush=True)
time.sleep(30)
"#;

const VANISHING: &str = r#"
import json, subprocess, sys, time, oracledb
dsn, dedicated, user, pw, sleepers = sys.argv[1:6]
watch = oracledb.connect(user=user, password=pw, dsn=dedicated)
c = oracledb.connect(user=user, password=pw, dsn=dsn)
child = subprocess.Popen([sys.executable, "-c", sleepers, dsn, user, pw], stdout=subprocess.PIPE)
child.stdout.readline()
busy = watch.cursor().execute("select count(*) from v$shared_server where status = 'EXEC'").fetchall()
child.kill()
child.wait()
t0 = time.monotonic()
c.cursor().execute("select 1 from dual").fetchall()
out = {"busy_before": busy[0][0], "elapsed": time.monotonic() - t0}
time.sleep(0.5)
users = watch.cursor().execute("select count(*) from v$session where type = 'USER'").fetchall()
out["users_after"] = users[0][0]
print(json.dumps(out))
"#;

#[test]
fn clients_gone_during_long_calls_free_their_shared_servers() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("HS3B"),
        "shared_servers=2\nmax_shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let out = tests::py::run_python(
        VANISHING,
        &[
            stack.dsn("shared"),
            stack.dsn("dedicated"),
            USER.into(),
            PASSWORD.into(),
            SLEEPERS.into(),
        ],
        Duration::from_secs(60),
    );
    let v = out.last_json("python");
    // Both servers were in the 10 s sleeps; the next call waits for the sleeps' next
    // break check (100 ms), not for their end.
    assert_eq!(v["busy_before"], 2, "{v}");
    let elapsed = v["elapsed"].as_f64().unwrap_or(f64::MAX);
    assert!(elapsed < 3.0, "{v}");
    assert_eq!(v["users_after"], 2, "the vanished sessions are gone: {v}");
}
