//! A BREAK that races the call's answer, end to end (real listener, real `oradb`,
//! python-oracledb 26.1.0), on a dedicated and on a shared server: a call timeout set
//! around a short call's duration makes python's INTERRUPT land sometimes while the call
//! runs, sometimes just after its answer went out. Oracle Net's reset keeps the stream in
//! step either way: the call gets its answer or DPY-4024, the next call gets its own
//! answer or (when it was sent before the client saw the server's BREAK/RESET) the
//! ORA-01013 as its only answer, and never another call's answer. Every answer is checked,
//! no timing is.

use std::time::Duration;

use tests::shared_stack::{PASSWORD, SharedStack, USER};

const RACE: &str = r#"
import json, random, sys, oracledb
dsn, user, pw, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(7)
connect = lambda: oracledb.connect(user=user, password=pw, dsn=dsn)
c = connect()
out = {"wrong": [], "other": [], "timeouts": 0, "answered": 0, "ora01013": 0, "dropped": 0}
for i in range(rounds):
    timeout_ms = rng.choice((10, 20, 40))
    c.call_timeout = timeout_ms
    try:
        c.cursor().execute("begin dbms_session.sleep(%f); end;" % (timeout_ms / 1000 * rng.uniform(0.8, 1.2)))
        out["answered"] += 1
    except oracledb.Error as e:
        code = e.args[0].full_code
        if code == "DPY-4024":
            out["timeouts"] += 1
        elif code == "DPY-4011":
            # The break's answer took longer than the call timeout (a loaded machine):
            # python drops the connection (and segfaults if call_timeout is then set on
            # it). Timing, not correctness: a new connection goes on.
            out["dropped"] += 1
            c = connect()
            continue
        else:
            out["other"].append([i, "sleep", str(e)])
            break
    c.call_timeout = 0
    n = 1000 + i
    try:
        got = c.cursor().execute("select %d from dual" % n).fetchall()
        if got != [(n,)]:
            out["wrong"].append([n, got])
    except oracledb.Error as e:
        if e.args[0].full_code == "ORA-01013":
            # Sent before python saw the server's BREAK/RESET for a break that came
            # after the sleep's answer: discarded in the reset, ORA-01013 is its answer.
            out["ora01013"] += 1
        else:
            out["other"].append([i, "select", str(e)])
            break
if not out["other"]:
    out["after"] = [c.cursor().execute("select %d from dual" % n).fetchall()[0][0] for n in (7, 8, 9)]
print(json.dumps(out))
"#;

fn race(stack: &SharedStack, mode: &str) {
    let out = tests::py::run_python(
        RACE,
        &[stack.dsn(mode), USER.into(), PASSWORD.into(), "150".into()],
        Duration::from_secs(90),
    );
    let v = out.last_json("python");
    assert_eq!(
        v["wrong"],
        serde_json::json!([]),
        "{mode}: answers of other calls: {v}"
    );
    assert_eq!(
        v["other"],
        serde_json::json!([]),
        "{mode}: unexpected errors: {v}"
    );
    assert_eq!(v["after"], serde_json::json!([7, 8, 9]), "{mode}: {v}");
    eprintln!("{mode}: {v}");
}

#[test]
fn a_break_racing_the_answer_never_shifts_answers_dedicated_or_shared() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("HDBR"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    race(&stack, "dedicated");
    race(&stack, "shared");
    let r = stack.home.alert_log();
    assert!(!r.contains("panicked"), "{r}");
}
