//! python-oracledb 26.1.0 thin through the real `tnslsnr` (static SID_DESC, ephemeral
//! port): the listener hands the socket to a forked dedicated server (`oracleORCL
//! (LOCAL=NO)`) that logs in with the password file and serves the session. After
//! `connection.close()` no server process is left behind.

use std::time::Duration;

use serde_json::Value;
use tests::procs::{
    ListenerProc, TestHome, WAIT, children_of, stat_of, static_orcl_listener, title_of, wait_until,
};
use tests::py::run_python;

const SERVICE: &str = "orcl.example.com";

fn setup() -> (TestHome, ListenerProc) {
    static_orcl_listener(SERVICE)
}

/// Every process below the listener's children (the dedicated servers under the spawner),
/// whatever its state or title: a zombie has an empty title and would slip past a match on
/// `oracleORCL`, so "no server left" means none of these exists, not even as a zombie.
fn leftover_servers(l: &ListenerProc) -> Vec<(u32, char, String)> {
    let mut out = Vec::new();
    for c in children_of(l.pid()) {
        for g in children_of(c) {
            if let Some((_, state)) = stat_of(g) {
                out.push((g, state, title_of(g)));
            }
        }
    }
    out
}

fn run(l: &ListenerProc, script: &str) -> Value {
    let port = l.port.to_string();
    run_python(script, &[port.as_str(), SERVICE], Duration::from_secs(120)).last_json("python")
}

const SYNC: &str = r#"
import json, sys, oracledb
port, svc = int(sys.argv[1]), sys.argv[2]
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/{svc}")
cur = c.cursor()
cur.execute("select 1 from dual")
out["r1"] = cur.fetchall()
out["desc1"] = [[d[0], d[1].name, d[2], d[3], d[4], d[5], d[6]] for d in cur.description]
cur.execute("select 1 from dual")
out["r1again"] = cur.fetchall()
cur.execute("SELECT LEVEL FROM DUAL CONNECT BY LEVEL <= 1000")
out["n"] = len(cur.fetchall())
cur.execute("select 'x', null from dual")
out["mixed"] = cur.fetchone()
cur.execute("select sys_context('USERENV','SID'), sys_context('USERENV','SERVICE_NAME') from dual")
out["ctx"] = list(cur.fetchone())
out["session_id"] = c.session_id
try:
    cur.execute("select * from nope")
except oracledb.DatabaseError as e:
    out["err"] = e.args[0].code
cur.execute("select 2 from dual")
out["after_err"] = cur.fetchone()[0]
try:
    oracledb.connect(user="scott", password="bad", dsn=f"127.0.0.1:{port}/{svc}")
except oracledb.DatabaseError as e:
    out["bad_pw"] = e.args[0].code
c.ping(); c.commit(); c.rollback()
c.call_timeout = 500
try:
    cur.execute("begin dbms_session.sleep(5); end;")
except oracledb.Error as e:
    out["timeout"] = e.args[0].full_code
c.call_timeout = 0
out["after_timeout"] = cur.execute("select 3 from dual").fetchone()[0]
c.close()
long_dsn = ("(DESCRIPTION=(CONNECT_TIMEOUT=10)(RETRY_COUNT=1)(ADDRESS_LIST=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=%d)))"
            "(CONNECT_DATA=(SERVICE_NAME=%s)(SERVER=DEDICATED)))" % (port, svc))
c = oracledb.connect(user="scott", password="tiger", dsn=long_dsn, program="p" * 200)
out["long"] = c.cursor().execute("select 1 from dual").fetchone()[0]
c.close()
c = oracledb.connect(user="scott", password="tiger", dsn=f"tcp://127.0.0.1:{port}/{svc}?connect_timeout=5&retry_count=1")
out["ez"] = c.cursor().execute("select 1 from dual").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_through_tnslsnr() {
    let (_home, l) = setup();
    let v = run(&l, SYNC);
    assert_eq!(v["r1"], serde_json::json!([[1]]));
    assert_eq!(
        v["desc1"],
        serde_json::json!([["1", "DB_TYPE_NUMBER", 127, null, 0, -127, true]])
    );
    assert_eq!(v["r1again"], serde_json::json!([[1]]));
    assert_eq!(v["n"], 1000);
    assert_eq!(v["mixed"], serde_json::json!(["x", null]));
    assert_eq!(v["ctx"][0], v["session_id"].to_string());
    assert_eq!(v["ctx"][1], SERVICE);
    assert_eq!(v["err"], 942);
    assert_eq!(v["after_err"], 2);
    assert_eq!(v["bad_pw"], 1017);
    let t = v["timeout"].as_str().unwrap_or_default();
    assert!(t == "DPY-4024" || t == "ORA-01013", "{v}");
    assert_eq!(v["after_timeout"], 3);
    assert_eq!(v["long"], 1);
    assert_eq!(v["ez"], 1);
    // Every connection was closed: no dedicated server is left.
    assert!(
        wait_until(WAIT, || leftover_servers(&l).is_empty()),
        "dedicated servers left (pid, state, title): {:?}",
        leftover_servers(&l)
    );
}

const ASYNC_POOL: &str = r#"
import asyncio, json, sys, oracledb
port, svc = int(sys.argv[1]), sys.argv[2]
dsn = f"127.0.0.1:{port}/{svc}"
out = {}
pool = oracledb.create_pool(user="scott", password="tiger", dsn=dsn, min=2, max=4, increment=1, ping_interval=0)
total = 0
for i in range(50):
    with pool.acquire() as c:
        total += c.cursor().execute("select 1 from dual").fetchone()[0]
out["pool_total"] = total
out["opened"] = pool.opened
pool.close()
async def main():
    c = await oracledb.connect_async(user="scott", password="tiger", dsn=dsn)
    cur = c.cursor()
    await cur.execute("select 1 from dual")
    out["async"] = await cur.fetchall()
    await cur.execute("select level from dual connect by level <= 1000")
    out["async_n"] = len(await cur.fetchall())
    await c.close()
asyncio.run(main())
print(json.dumps(out))
"#;

#[test]
fn python_pool_and_asyncio_through_tnslsnr() {
    let (_home, l) = setup();
    let v = run(&l, ASYNC_POOL);
    assert_eq!(v["pool_total"], 50);
    let opened = v["opened"].as_u64().unwrap_or(0);
    assert!((2..=4).contains(&opened), "{v}");
    assert_eq!(v["async"], serde_json::json!([[1]]));
    assert_eq!(v["async_n"], 1000);
    assert!(
        wait_until(WAIT, || leftover_servers(&l).is_empty()),
        "dedicated servers left (pid, state, title): {:?}",
        leftover_servers(&l)
    );
}

const ASYNC_SCENARIOS: &str = r#"
import asyncio, json, sys, oracledb
port, svc = int(sys.argv[1]), sys.argv[2]
dsn = f"127.0.0.1:{port}/{svc}"
out = {}
async def one(i):
    c = await oracledb.connect_async(user="scott", password="tiger", dsn=dsn)
    cur = c.cursor()
    await cur.execute("select sys_context('USERENV','SID'), :1 from dual", [i])
    row = await cur.fetchone()
    await c.close()
    return [row[0], row[1]]
async def main():
    c = await oracledb.connect_async(user="scott", password="tiger", dsn=dsn)
    cur = c.cursor()
    await cur.execute("select 1 from dual")
    out["r1"] = await cur.fetchall()
    await cur.execute("select level from dual connect by level <= 1000")
    out["n"] = len(await cur.fetchall())
    try:
        await cur.execute("select nosuchcol from dual")
    except oracledb.DatabaseError as e:
        out["err"] = e.args[0].code
    await cur.execute("select 'x', null from dual")
    out["mixed"] = list(await cur.fetchone())
    await c.ping()
    await c.commit()
    c.call_timeout = 500
    try:
        await cur.execute("begin dbms_session.sleep(5); end;")
        out["timeout"] = None
    except oracledb.Error as e:
        out["timeout"] = e.args[0].full_code
    c.call_timeout = 0
    await cur.execute("select 3 from dual")
    out["after_timeout"] = (await cur.fetchone())[0]
    await c.close()
    # Five sessions at once: five dedicated servers, five different SIDs.
    out["parallel"] = await asyncio.gather(*(one(i) for i in range(5)))
    pool = oracledb.create_pool_async(user="scott", password="tiger", dsn=dsn, min=2, max=4)
    async def use_pool(i):
        async with pool.acquire() as pc:
            return (await pc.fetchone("select 1 from dual"))[0]
    out["pool_total"] = sum(await asyncio.gather(*(use_pool(i) for i in range(12))))
    await pool.close()
    try:
        await oracledb.connect_async(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/nosuch.example.com")
        out["refused"] = None
    except oracledb.Error as e:
        out["refused"] = str(e)
asyncio.run(main())
print(json.dumps(out))
"#;

#[test]
fn python_asyncio_scenarios_through_tnslsnr() {
    let (_home, l) = setup();
    let v = run(&l, ASYNC_SCENARIOS);
    assert_eq!(v["r1"], serde_json::json!([[1]]));
    assert_eq!(v["n"], 1000);
    assert_eq!(v["err"], 904);
    assert_eq!(v["mixed"], serde_json::json!(["x", null]));
    let t = v["timeout"].as_str().unwrap_or_default();
    assert!(t == "DPY-4024" || t == "ORA-01013", "{v}");
    assert_eq!(v["after_timeout"], 3);
    let parallel = v["parallel"].as_array().cloned().unwrap_or_default();
    assert_eq!(parallel.len(), 5, "{v}");
    let mut sids: Vec<String> = parallel
        .iter()
        .map(|p| p[0].as_str().unwrap_or_default().to_string())
        .collect();
    for (i, p) in parallel.iter().enumerate() {
        assert_eq!(p[1], i, "{v}");
    }
    sids.sort();
    sids.dedup();
    assert_eq!(sids.len(), 5, "sessions shared a SID: {v}");
    assert_eq!(v["pool_total"], 12);
    let refused = v["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains(&format!(
            "DPY-6001: Service \"nosuch.example.com\" is not registered with the listener at host \"127.0.0.1\" port {}. (Similar to ORA-12514)",
            l.port
        )),
        "{v}"
    );
    assert!(
        wait_until(WAIT, || leftover_servers(&l).is_empty()),
        "dedicated servers left (pid, state, title): {:?}",
        leftover_servers(&l)
    );
}
