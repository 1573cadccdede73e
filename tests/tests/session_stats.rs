//! Session statistics across sessions, through python-oracledb 26.1.0 against the real
//! listener and instance: a dedicated, a shared and a DRCP pooled session each publish their
//! engine-counted statistics into their SGA session slot, so another session (a dedicated
//! observer) sees them in V$SESSTAT as they grow, and V$SYSSTAT sums the instance: logons
//! cumulative grows by one per login, logons current drops when a session ends (not when a
//! pooled client leaves: its session stays with the pooled server) and the ended session's
//! round trips stay counted.

use std::time::Duration;

use serde_json::{Value, json};
use tests::py::run_python;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

/// For each transport: [logons cumulative growth in V$SYSSTAT over its login, the session's
/// own logons cumulative / logons current in V$SESSTAT, round trips / user calls / execute
/// count growth of that session seen by the observer over 3 pings and 2 executions,
/// V$SYSSTAT round trips growth over the 3 pings, bytes sent / received grew, logons
/// current drop after it closed, V$SYSSTAT round trips growth over its close less the
/// observer's own queries].
const STATS: &str = r#"
import json, sys, time, oracledb
user, password, dsn_dedicated, dsn_shared, dsn_pooled = sys.argv[1:6]
obs = oracledb.connect(user=user, password=password, dsn=dsn_dedicated)
oc = obs.cursor()
calls = 0
def sesstat(sid, name):
    global calls
    calls += 1
    return oc.execute(
        "select s.value from v$sesstat s join v$statname n on n.statistic# = s.statistic#"
        " where s.sid = :sid and n.name = :n", sid=sid, n=name).fetchone()[0]
def sysstat(name):
    global calls
    calls += 1
    return oc.execute("select value from v$sysstat where name = :n", n=name).fetchone()[0]
oc.execute("begin dbms_connection_pool.start_pool(); end;")
def connect_pooled():
    # The broker registers with the listener within a second or two of START_POOL.
    deadline = time.monotonic() + 15
    while True:
        try:
            return oracledb.connect(user=user, password=password, dsn=dsn_pooled,
                                    cclass="NDSTAT", purity=oracledb.PURITY_NEW)
        except oracledb.Error as e:
            if "ORA-12520" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
connect_pooled().close()
rt = "SQL*Net roundtrips to/from client"
out = {}
for server, connect in (
        ("dedicated", lambda: oracledb.connect(user=user, password=password, dsn=dsn_dedicated)),
        ("shared", lambda: oracledb.connect(user=user, password=password, dsn=dsn_shared)),
        ("pooled", connect_pooled)):
    logons0 = sysstat("logons cumulative")
    c = connect()
    logons1 = sysstat("logons cumulative")
    cur = c.cursor()
    sid = int(cur.execute("select sys_context('USERENV', 'SID') from dual").fetchone()[0])
    own = [sesstat(sid, "logons cumulative"), sesstat(sid, "logons current")]
    r0, u0, e0 = sesstat(sid, rt), sesstat(sid, "user calls"), sesstat(sid, "execute count")
    s0, b0 = sesstat(sid, "bytes sent via SQL*Net to client"), \
        sesstat(sid, "bytes received via SQL*Net from client")
    sys0 = sysstat(rt)
    for _ in range(3):
        c.ping()
    sys1 = sysstat(rt)
    for _ in range(2):
        cur.execute("select 1 from dual").fetchall()
    r1, u1, e1 = sesstat(sid, rt), sesstat(sid, "user calls"), sesstat(sid, "execute count")
    s1, b1 = sesstat(sid, "bytes sent via SQL*Net to client"), \
        sesstat(sid, "bytes received via SQL*Net from client")
    current0 = sysstat("logons current")
    n_before = calls
    rt_before_close = sysstat(rt)
    c.close()
    # A pooled session stays with its pooled server after the client releases it.
    deadline = time.monotonic() + (0 if server == "pooled" else 5)
    while sysstat("logons current") != current0 - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    out[server] = {
        "logons": logons1 - logons0,
        "own": own,
        "session": [r1 - r0, u1 - u0, e1 - e0],
        # The observer's one query between the two reads is counted too.
        "sysPings": sys1 - sys0 - 1,
        "bytes": [s1 > s0, b1 > b0],
        "currentDrop": current0 - sysstat("logons current"),
    }
    # Growth over the close less the observer's own queries: the ended session's round
    # trips stay in V$SYSSTAT (a drop of its whole count otherwise).
    n_final = calls
    out[server]["kept"] = sysstat(rt) - rt_before_close - (n_final - n_before)
print(json.dumps(out))
"#;

#[test]
fn v_sesstat_and_v_sysstat_see_every_transports_sessions() {
    let stack = SharedStack::start(
        &own_sid("NDST"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let out: Value = run_python(
        STATS,
        &[
            USER.into(),
            PASSWORD.into(),
            stack.dsn("dedicated"),
            stack.dsn("shared"),
            stack.dsn("pooled"),
        ],
        Duration::from_secs(90),
    )
    .last_json("python");
    for server in ["dedicated", "shared", "pooled"] {
        let s = &out[server];
        let what = format!("{server}: {out}");
        assert_eq!(s["logons"], json!(1), "{what}");
        assert_eq!(s["own"], json!([1, 1]), "{what}");
        // 3 pings + 2 executions: 5 round trips and user calls, 2 executions (the pings
        // execute nothing), all seen by the other session.
        assert_eq!(s["session"], json!([5, 5, 2]), "{what}");
        assert_eq!(s["sysPings"], json!(3), "{what}");
        assert_eq!(s["bytes"], json!([true, true]), "{what}");
        // A DRCP session outlives its client: the pooled server keeps it for the next one.
        let drop = if server == "pooled" { 0 } else { 1 };
        assert_eq!(s["currentDrop"], json!(drop), "{what}");
        assert_eq!(s["kept"], json!(0), "{what}");
    }
}
