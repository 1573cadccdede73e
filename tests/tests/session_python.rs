//! python-oracledb 26.1.0 (thin) against the dedicated-server session, in process (no
//! listener): login, queries, re-execute, batched fetches, errors, ping, commit/rollback,
//! pools, call timeouts during DBMS_SESSION.SLEEP, long descriptors and EZConnect Plus.

use std::time::Duration;

use serde_json::Value;
use server_proc::dedicated::SessionEnd;
use std::sync::Arc;

use engine::Credentials;
use tests::py::{InProcessServer, run_python, start_server, start_server_with};
use tns::o5logon::Verifier;

const TIMEOUT: Duration = Duration::from_secs(120);

fn run(server: &InProcessServer, script: &str) -> Value {
    run_python(script, &[server.port.to_string()], TIMEOUT).last_json("python")
}

const SYNC: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
out["version"] = c.version
out["session_id"] = c.session_id
cur = c.cursor()
cur.execute("select 1 from dual")
out["r1"] = cur.fetchall()
out["desc1"] = [[d[0], d[1].name, d[2], d[3], d[4], d[5], d[6]] for d in cur.description]
cur.execute("select 1 from dual")
out["r1again"] = cur.fetchall()
cur.execute("SELECT LEVEL FROM DUAL CONNECT BY LEVEL <= 1000")
rows = cur.fetchall()
out["levels"] = [len(rows), rows[0][0], rows[-1][0], sum(r[0] for r in rows)]
cur.execute("select 'hello' as greeting, null, user, 1+2*3 from dual")
out["mixed"] = cur.fetchone()
out["desc_mixed"] = [[d[0], d[1].name, d[2], d[3], d[4], d[5], d[6]] for d in cur.description]
cur.execute("select sys_context('USERENV','SID') from dual")
out["sid"] = cur.fetchone()[0]
try:
    cur.execute("select * from missing_table")
    out["err"] = None
except oracledb.DatabaseError as e:
    (err,) = e.args
    out["err"] = [err.code, err.offset, err.message]
cur.execute("select count(*) from dual connect by level <= 5000")
out["count"] = cur.fetchone()[0]
c.ping()
c.commit()
c.rollback()
cur.execute("commit")
out["sysdate_type"] = type(c.cursor().execute("select sysdate from dual").fetchone()[0]).__name__
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_sync_session_scenarios() {
    let server = start_server();
    let v = run(&server, SYNC);
    assert_eq!(v["version"], "19.3.0.0.0");
    assert_eq!(v["r1"], serde_json::json!([[1]]));
    assert_eq!(
        v["desc1"],
        serde_json::json!([["1", "DB_TYPE_NUMBER", 127, null, 0, -127, true]])
    );
    assert_eq!(v["r1again"], serde_json::json!([[1]]));
    assert_eq!(v["levels"], serde_json::json!([1000, 1, 1000, 500500]));
    assert_eq!(v["mixed"], serde_json::json!(["hello", null, "SCOTT", 7]));
    assert_eq!(v["desc_mixed"][0][0], "GREETING");
    assert_eq!(v["desc_mixed"][0][1], "DB_TYPE_CHAR");
    assert_eq!(v["desc_mixed"][2][1], "DB_TYPE_VARCHAR");
    assert_eq!(v["sid"], v["session_id"].to_string());
    assert_eq!(v["err"][0], 942);
    assert_eq!(v["err"][1], 14);
    let msg = v["err"][2].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("ORA-00942: table or view does not exist"),
        "{msg}"
    );
    assert_eq!(v["count"], 5000);
    assert_eq!(v["sysdate_type"], "datetime");
    // close() logged off and freed the session slot.
    let end = server
        .ends
        .recv_timeout(Duration::from_secs(10))
        .expect("session ended");
    assert_eq!(end, Ok(SessionEnd::Logoff));
    assert!(server.instance.open_sessions().is_empty());
}

const ASYNC: &str = r#"
import asyncio, json, sys, oracledb
port = int(sys.argv[1])
async def main():
    out = {}
    c = await oracledb.connect_async(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
    cur = c.cursor()
    await cur.execute("select 1 from dual")
    out["r1"] = await cur.fetchall()
    await cur.execute("select 1 from dual")
    out["r1again"] = await cur.fetchall()
    await cur.execute("select level from dual connect by level <= 1000")
    out["n"] = len(await cur.fetchall())
    try:
        await cur.execute("select nosuchcol from dual")
    except oracledb.DatabaseError as e:
        out["err"] = e.args[0].code
    await c.ping()
    await c.commit()
    await c.close()
    pool = oracledb.create_pool_async(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL", min=2, max=4)
    total = 0
    for i in range(10):
        async with pool.acquire() as pc:
            r = await pc.fetchone("select 1 from dual")
            total += r[0]
    await pool.close()
    out["pool_total"] = total
    print(json.dumps(out))
asyncio.run(main())
"#;

#[test]
fn python_asyncio_session_scenarios() {
    let server = start_server();
    let v = run(&server, ASYNC);
    assert_eq!(v["r1"], serde_json::json!([[1]]));
    assert_eq!(v["r1again"], serde_json::json!([[1]]));
    assert_eq!(v["n"], 1000);
    assert_eq!(v["err"], 904);
    assert_eq!(v["pool_total"], 10);
}

const WRONG_PASSWORD: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
for user, pw in (("scott", "wrong"), ("nobody", "tiger")):
    try:
        oracledb.connect(user=user, password=pw, dsn=f"127.0.0.1:{port}/ORCL")
        out[user] = None
    except oracledb.DatabaseError as e:
        out[user] = [e.args[0].code, e.args[0].message]
try:
    oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL", mode=oracledb.AUTH_MODE_SYSDBA)
    out["sysdba"] = None
except oracledb.DatabaseError as e:
    out["sysdba"] = e.args[0].code
print(json.dumps(out))
"#;

#[test]
fn python_wrong_password_and_unknown_user_get_ora_01017() {
    let server = start_server();
    let v = run(&server, WRONG_PASSWORD);
    for user in ["scott", "nobody"] {
        assert_eq!(v[user][0], 1017, "{v}");
        assert!(
            v[user][1]
                .as_str()
                .unwrap_or_default()
                .starts_with("ORA-01017"),
            "{v}"
        );
    }
    // SCOTT has no SYSDBA in the password file.
    assert_eq!(v["sysdba"], 1031);
    assert!(server.instance.open_sessions().is_empty());
}

const POOL: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
pool = oracledb.create_pool(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL", min=2, max=4, increment=1, ping_interval=0)
total = 0
for i in range(50):
    with pool.acquire() as c:
        with c.cursor() as cur:
            cur.execute("select level from dual connect by level <= 3")
            total += sum(r[0] for r in cur)
opened = pool.opened
pool.close()
print(json.dumps({"total": total, "opened": opened}))
"#;

#[test]
fn python_pool_serves_fifty_cycles() {
    let server = start_server();
    let v = run(&server, POOL);
    assert_eq!(v["total"], 300);
    let opened = v["opened"].as_u64().unwrap_or(0);
    assert!((2..=4).contains(&opened), "{v}");
    // Every pooled session logged off when the pool closed.
    for _ in 0..opened {
        let end = server
            .ends
            .recv_timeout(Duration::from_secs(10))
            .expect("end");
        assert_eq!(end, Ok(SessionEnd::Logoff));
    }
    assert!(server.instance.open_sessions().is_empty());
}

const CALL_TIMEOUT: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
c.call_timeout = 500
cur = c.cursor()
try:
    cur.execute("BEGIN DBMS_SESSION.SLEEP(5); END;")
    out["timeout"] = None
except oracledb.Error as e:
    out["timeout"] = e.args[0].full_code
c.call_timeout = 0
cur.execute("select 42 from dual")
out["after"] = cur.fetchone()[0]
cur.execute("begin dbms_session.sleep(0.2); end;")
out["short_sleep"] = "ok"
c.call_timeout = 500
try:
    cur.execute("select count(*) from dual connect by level <= 1000000000000")
    out["burn"] = None
except oracledb.Error as e:
    out["burn"] = e.args[0].full_code
c.call_timeout = 0
out["after_burn"] = cur.execute("select 43 from dual").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_call_timeout_during_sleep_keeps_connection_usable() {
    let server = start_server();
    let v = run(&server, CALL_TIMEOUT);
    let code = v["timeout"].as_str().unwrap_or_default();
    assert!(code == "DPY-4024" || code == "ORA-01013", "{v}");
    assert_eq!(v["after"], 42);
    assert_eq!(v["short_sleep"], "ok");
    // A query burning CPU is cancelled the same way.
    let code = v["burn"].as_str().unwrap_or_default();
    assert!(code == "DPY-4024" || code == "ORA-01013", "{v}");
    assert_eq!(v["after_burn"], 43);
}

const DESCRIPTORS: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
long_dsn = ("(DESCRIPTION=(RETRY_COUNT=1)(ADDRESS_LIST=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=%d)))"
            "(CONNECT_DATA=(SERVICE_NAME=ORCL)(SERVER=DEDICATED)))" % port)
c = oracledb.connect(user="scott", password="tiger", dsn=long_dsn, program="p" * 200)
out["long"] = c.cursor().execute("select 1 from dual").fetchone()[0]
c.close()
ez = f"tcp://127.0.0.1:{port}/ORCL?connect_timeout=5&retry_count=1&retry_delay=1&expire_time=2"
c = oracledb.connect(user="scott", password="tiger", dsn=ez)
out["ezplus"] = c.cursor().execute("select sys_context('USERENV','SERVICE_NAME') from dual").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_long_descriptor_and_ezconnect_plus() {
    let server = start_server();
    let v = run(&server, DESCRIPTORS);
    assert_eq!(v["long"], 1);
    assert_eq!(v["ezplus"], "ORCL");
}

const BINDS_AND_ATTRIBUTES: &str = r#"
import json, sys, datetime, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
cur = c.cursor()
cur.execute("select :1 + :2, :3, :4 from dual", [40, 2, "héllo", None])
out["binds"] = list(cur.fetchone())
cur.execute("select :n * 2 from dual", n=21)
out["named"] = cur.fetchone()[0]
cur.execute("select :n * 2 from dual", n=50)
out["rebound"] = cur.fetchone()[0]
cur.execute("select :d from dual", d=datetime.datetime(2020, 1, 2, 3, 4, 5))
out["date"] = str(cur.fetchone()[0])
c.module = "billing"
c.action = "close month"
c.client_identifier = "alice"
cur.execute("select sys_context('USERENV','MODULE'), sys_context('USERENV','ACTION'), sys_context('USERENV','CLIENT_IDENTIFIER') from dual")
out["e2e"] = list(cur.fetchone())
cur.execute("alter session set current_schema = hr")
cur.execute("select sys_context('USERENV','CURRENT_SCHEMA') from dual")
out["schema"] = cur.fetchone()[0]
errs = []
for sql, binds in (("insert into emp values (:1, :2)", [1, "x"]),
                   ("select * from emp where empno = :1", [7839]),
                   ("create table t (a number)", [])):
    try:
        cur.execute(sql, binds)
    except oracledb.DatabaseError as e:
        errs.append(e.args[0].code)
try:
    cur.executemany("insert into emp values (:1, :2)", [(1, "a"), (2, "b"), (3, None)])
except oracledb.DatabaseError as e:
    errs.append(e.args[0].code)
out["errs"] = errs
out["still"] = cur.execute("select 5 from dual").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_binds_end_to_end_attributes_and_dml_errors() {
    let server = start_server();
    let v = run(&server, BINDS_AND_ATTRIBUTES);
    assert_eq!(v["binds"], serde_json::json!([42, "héllo", null]));
    assert_eq!(v["named"], 42);
    assert_eq!(v["rebound"], 100);
    assert_eq!(v["date"], "2020-01-02 03:04:05");
    assert_eq!(
        v["e2e"],
        serde_json::json!(["billing", "close month", "alice"])
    );
    assert_eq!(v["schema"], "HR");
    assert_eq!(v["errs"], serde_json::json!([942, 942, 1031, 942]));
    assert_eq!(v["still"], 5);
}

/// An account that only has the 11g (SHA-1, type 0xB152) verifier.
struct ElevenG;

impl Credentials for ElevenG {
    fn verifier(&self, user: &str) -> Option<Verifier> {
        (user == "SCOTT").then(|| Verifier::new_11g(b"tiger", b"0123456789"))
    }
}

const ELEVEN_G: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
out["r"] = c.cursor().execute("select user from dual").fetchone()[0]
c.close()
try:
    oracledb.connect(user="scott", password="TIGER", dsn=f"127.0.0.1:{port}/ORCL")
except oracledb.DatabaseError as e:
    out["wrong"] = e.args[0].code
print(json.dumps(out))
"#;

#[test]
fn python_logs_in_with_the_11g_verifier() {
    let server = start_server_with(Some(Arc::new(ElevenG)));
    let v = run(&server, ELEVEN_G);
    assert_eq!(v["r"], "SCOTT");
    assert_eq!(v["wrong"], 1017);
}

const SCROLL: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
cur = c.cursor(scrollable=True)
cur.arraysize = 10
cur.execute("select level from dual connect by level <= 500")
cur.scroll(250, mode="absolute")
out["abs"] = cur.fetchone()[0]
cur.scroll(mode="last")
out["last"] = cur.fetchone()[0]
cur.scroll(mode="first")
out["first"] = cur.fetchone()[0]
cur.scroll(100, mode="relative")
out["rel"] = cur.fetchone()[0]
out["next"] = [r[0] for r in cur.fetchmany(3)]
try:
    cur.scroll(1000, mode="absolute")
except oracledb.Error as e:
    out["out"] = e.args[0].full_code
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_scrollable_cursor() {
    let server = start_server();
    let v = run(&server, SCROLL);
    assert_eq!(v["abs"], 250);
    assert_eq!(v["last"], 500);
    assert_eq!(v["first"], 1);
    assert_eq!(v["rel"], 101);
    assert_eq!(v["next"], serde_json::json!([102, 103, 104]));
    assert_eq!(v["out"], "DPY-2063");
}

const VERSION_AND_FUNCTIONS: &str = r#"
import json, sys, datetime, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
cur = c.cursor()
out["banner"] = cur.execute("select banner from v$version").fetchone()[0]
out["cols"] = [d[0] for d in cur.execute("select * from v$version").description]
now, tomorrow, s = cur.execute("select sysdate, sysdate + 1, to_char(sysdate, 'YYYY-MM-DD') from dual").fetchone()
out["plus_one"] = (tomorrow - now).total_seconds()
out["to_char_ok"] = s == now.strftime("%Y-%m-%d")
out["funcs"] = list(cur.execute("select nvl(null, 'd'), upper('x'), round(2.5), mod(7, 3) from dual").fetchone())
c.close()
print(json.dumps(out))
"#;

#[test]
fn python_v_version_date_arithmetic_and_functions() {
    let server = start_server();
    let v = run(&server, VERSION_AND_FUNCTIONS);
    assert_eq!(
        v["banner"],
        "Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production"
    );
    assert_eq!(
        v["cols"],
        serde_json::json!(["BANNER", "BANNER_FULL", "BANNER_LEGACY", "CON_ID"])
    );
    assert_eq!(v["plus_one"], 86400.0);
    assert_eq!(v["to_char_ok"], true);
    assert_eq!(v["funcs"], serde_json::json!(["d", "X", 3, 1]));
}

const DRCP: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
out = {}
dsn = f"127.0.0.1:{port}/ORCL:pooled"
c = oracledb.connect(user="scott", password="tiger", dsn=dsn, cclass="APP", purity=oracledb.PURITY_SELF)
out["standalone"] = c.cursor().execute("select 1 from dual").fetchone()[0]
c.close()
pool = oracledb.create_pool(user="scott", password="tiger", dsn=dsn, min=1, max=2, cclass="APP")
total = 0
for i in range(5):
    with pool.acquire() as pc:
        total += pc.cursor().execute("select 2 from dual").fetchone()[0]
pool.close()
out["pool"] = total
print(json.dumps(out))
"#;

/// DRCP (`:pooled`) clients release sessions with a one-way SESSION_RELEASE that gets no
/// answer; the connection must stay in step for the next acquire.
#[test]
fn python_drcp_session_release() {
    let server = start_server();
    let v = run(&server, DRCP);
    assert_eq!(v["standalone"], 1);
    assert_eq!(v["pool"], 10);
}

const CHANGE_PASSWORD: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
dsn = f"127.0.0.1:{port}/ORCL"
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=dsn)
try:
    c.changepassword("wrong", "lion")
except oracledb.DatabaseError as e:
    out["bad_old"] = e.args[0].code
c.changepassword("tiger", "lion")
c.close()
def login(pw, **kw):
    try:
        x = oracledb.connect(user="scott", password=pw, dsn=dsn, **kw)
        x.close()
        return "ok"
    except oracledb.DatabaseError as e:
        return e.args[0].code
out["old"] = login("tiger")
out["new"] = login("lion")
out["at_login"] = login("lion", newpassword="puma")
out["after"] = login("puma")
print(json.dumps(out))
"#;

/// `connection.changepassword()` and `connect(newpassword=...)` rewrite the verifiers in the
/// password file (never the password itself).
#[test]
fn python_change_password() {
    let server = start_server();
    let v = run(&server, CHANGE_PASSWORD);
    assert_eq!(v["bad_old"], 28008);
    assert_eq!(v["old"], 1017);
    assert_eq!(v["new"], "ok");
    assert_eq!(v["at_login"], "ok");
    assert_eq!(v["after"], "ok");
    let pwfile = server.oracle_home.path().join("dbs/orapwORCL");
    let text = std::fs::read_to_string(pwfile).expect("password file");
    for pw in ["tiger", "lion", "puma"] {
        assert!(!text.contains(pw));
    }
}

const CANCEL: &str = r#"
import json, sys, threading, oracledb
port = int(sys.argv[1])
out = {}
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
threading.Timer(0.3, c.cancel).start()
try:
    c.cursor().execute("begin dbms_session.sleep(5); end;")
    out["cancel"] = None
except oracledb.DatabaseError as e:
    out["cancel"] = e.args[0].full_code
out["after"] = c.cursor().execute("select 7 from dual").fetchone()[0]
c.close()
print(json.dumps(out))
"#;

/// `connection.cancel()` from another thread during `DBMS_SESSION.SLEEP`: ORA-01013 and the
/// connection stays usable.
#[test]
fn python_cancel_during_sleep_gives_ora_01013() {
    let server = start_server();
    let v = run(&server, CANCEL);
    assert_eq!(v["cancel"], "ORA-01013");
    assert_eq!(v["after"], 7);
}

const SESSION_TIME_ZONE: &str = r#"
import json, os, sys, oracledb
os.environ["ORA_SDTZ"] = "+02:00"
port = int(sys.argv[1])
c = oracledb.connect(user="scott", password="tiger", dsn=f"127.0.0.1:{port}/ORCL")
cur = c.cursor()
cur_date, sys_date = cur.execute("select current_date, sysdate from dual").fetchone()
out = {"shift_h": round((cur_date - sys_date).total_seconds() / 3600)}
cur.execute("alter session set time_zone = '-03:00'")
cur_date, sys_date = cur.execute("select current_date, sysdate from dual").fetchone()
out["after_alter_h"] = round((cur_date - sys_date).total_seconds() / 3600)
out["ts_type"] = cur.execute("select current_timestamp from dual").description[0][1].name
c.close()
print(json.dumps(out))
"#;

/// The client's time zone (sent at login as `ALTER SESSION SET TIME_ZONE`) drives
/// CURRENT_DATE / CURRENT_TIMESTAMP; SYSDATE stays the server's clock.
#[test]
fn python_session_time_zone() {
    let server = start_server();
    let v = run(&server, SESSION_TIME_ZONE);
    assert_eq!(v["shift_h"], 2);
    assert_eq!(v["after_alter_h"], -3);
    assert_eq!(v["ts_type"], "DB_TYPE_TIMESTAMP_TZ");
}
