//! What real drivers send besides plain SQL, through python-oracledb 26.1.0: requests the
//! server cannot serve get an Oracle error at once and leave the session usable (a REF
//! CURSOR bound IN, a RETURNING INTO bind with no value, closing a LOB never opened, a PL/SQL array
//! bind), dedicated and shared; the application context (AUTH_APPCTX at connect, piggyback
//! 154 from `set_app_context`), `connection.current_schema` after ALTER SESSION, proxy
//! logins (`proxy[client]`, PROXY_USER, ORA-28150), the password length rule and the
//! USERENV parameters Oracle knows without a value.

use std::time::Duration;

use serde_json::{Value, json};
use tests::py::{InProcessServer, run_python, start_server};
use tests::shared_stack::python_on_dedicated_and_shared;

const TIMEOUT: Duration = Duration::from_secs(60);

fn run(script: &str, args: &[String]) -> Value {
    run_python(script, args, TIMEOUT).last_json("python")
}

/// Each attempt: [the error's full code, answered within 1 s, `select 1` works after it].
const UNSERVED: &str = r#"
import json, sys, time, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
out = {}
def attempt(name, f):
    t0 = time.monotonic()
    try:
        f()
        code = None
    except oracledb.Error as e:
        code = e.args[0].full_code
    fast = time.monotonic() - t0 < 1.0
    out[name] = [code, fast, c.cursor().execute("select 1 from dual").fetchall() == [(1,)]]
cur = c.cursor()
ref = c.cursor()
ref.execute("select 1 from dual")
attempt("ref_cursor_in", lambda: cur.execute("select :c from dual", c=ref))
v = cur.var(int)
attempt("returning_out_only",
        lambda: cur.execute("insert into hn_missing (x) values (1) returning x into :v", v=v))
# A LOB call that fails (closing a LOB that is not open) answers at once too.
attempt("close_unopened_lob", lambda: c.createlob(oracledb.DB_TYPE_CLOB).close())
attempt("array_bind", lambda: cur.execute("select :a from dual", a=cur.arrayvar(int, [1, 2, 3])))
print(json.dumps(out))
"#;

fn assert_unserved(out: &Value, what: &str) {
    assert_eq!(
        out["ref_cursor_in"],
        json!(["ORA-03115", true, true]),
        "{what}: {out}"
    );
    assert_eq!(
        out["returning_out_only"],
        json!(["ORA-00942", true, true]),
        "{what}: {out}"
    );
    assert_eq!(
        out["close_unopened_lob"],
        json!(["ORA-22289", true, true]),
        "{what}: {out}"
    );
    assert_eq!(
        out["array_bind"],
        json!(["ORA-03115", true, true]),
        "{what}: {out}"
    );
}

#[test]
fn requests_the_server_cannot_serve_get_an_oracle_error_at_once_dedicated_and_shared() {
    python_on_dedicated_and_shared("HNHANG", UNSERVED, TIMEOUT, assert_unserved);
}

const SESSION_STATE: &str = r#"
import json, sys, oracledb
port = int(sys.argv[1])
dsn = f"127.0.0.1:{port}/ORCL"
out = {}
def code(f):
    try:
        f()
        return None
    except oracledb.Error as e:
        return e.args[0].full_code
c = oracledb.connect(user="scott", password="tiger", dsn=dsn,
                     appcontext=[("CLIENTCONTEXT", "k1", "v1"), ("MY_CTX", "Attr", "x")])
cur = c.cursor()
def ctx(ns, attr):
    return cur.execute("select sys_context(:n, :a) from dual", n=ns, a=attr).fetchone()[0]
out["appctx_at_connect"] = [ctx("CLIENTCONTEXT", "K1"), ctx("my_ctx", "attr")]
c.set_app_context("CLIENTCONTEXT", k2="v2")
# The query that carries the piggyback is answered too.
out["set_app_context"] = [ctx("CLIENTCONTEXT", "k2"), ctx("CLIENTCONTEXT", "k1")]
c.clear_app_context("CLIENTCONTEXT")
out["clear_app_context"] = [ctx("CLIENTCONTEXT", "k2"), ctx("MY_CTX", "ATTR")]
out["schema_before"] = c.current_schema
cur.execute("alter session set current_schema = hr")
out["schema_after"] = [c.current_schema,
                       cur.execute("select sys_context('USERENV','CURRENT_SCHEMA') from dual").fetchone()[0]]
out["userenv"] = [ctx("USERENV", p) for p in
                  ("CLOUD_SERVICE", "CURRENT_EDITION_NAME", "PROXY_USER", "SESSION_USER", "ISDBA")]
out["bad_userenv"] = code(lambda: ctx("USERENV", "NO_SUCH_PARAMETER"))
out["long_password"] = code(lambda: c.changepassword("tiger", "x" * 1500))
out["still_tiger"] = code(lambda: oracledb.connect(user="scott", password="tiger", dsn=dsn).close())
p = oracledb.connect(user="scott[hr]", password="tiger", dsn=dsn)
out["proxy"] = p.cursor().execute(
    "select user, sys_context('USERENV','SESSION_USER'), sys_context('USERENV','PROXY_USER'),"
    " sys_context('USERENV','CURRENT_SCHEMA') from dual").fetchone()
out["proxy_not_granted"] = code(
    lambda: oracledb.connect(user="hr[scott]", password="hrpw", dsn=dsn))
print(json.dumps(out))
"#;

fn add_user_with_grants(server: &InProcessServer, name: &str, password: &str, grants: &[&str]) {
    let add = server_proc::pwfile::UserCommand::Add {
        name: name.into(),
        password_stdin: true,
        grants: grants.iter().map(|g| (*g).to_owned()).collect(),
    };
    server_proc::pwfile::run_user_command(
        &add,
        server.oracle_home.path(),
        "ORCL",
        &mut format!("{password}\n").as_bytes(),
        &mut std::io::sink(),
    )
    .unwrap_or_else(|e| panic!("creating user {name}: {e}"));
}

#[test]
fn app_context_current_schema_proxy_login_and_password_rules() {
    let server = start_server();
    add_user_with_grants(&server, "hr", "hrpw", &["CONNECT_THROUGH_SCOTT"]);
    let out = run(SESSION_STATE, &[server.port.to_string()]);
    assert_eq!(out["appctx_at_connect"], json!(["v1", "x"]), "{out}");
    assert_eq!(out["set_app_context"], json!(["v2", null]), "{out}");
    assert_eq!(out["clear_app_context"], json!([null, "x"]), "{out}");
    assert_eq!(out["schema_before"], json!(null), "{out}");
    assert_eq!(out["schema_after"], json!(["HR", "HR"]), "{out}");
    assert_eq!(
        out["userenv"],
        json!([null, "ORA$BASE", null, "SCOTT", "FALSE"]),
        "{out}"
    );
    assert_eq!(out["bad_userenv"], json!("ORA-02003"), "{out}");
    assert_eq!(out["long_password"], json!("ORA-00988"), "{out}");
    assert_eq!(out["still_tiger"], json!(null), "{out}");
    assert_eq!(out["proxy"], json!(["HR", "HR", "SCOTT", "HR"]), "{out}");
    assert_eq!(out["proxy_not_granted"], json!("ORA-28150"), "{out}");
}

/// Statistic deltas seen through V$MYSTAT: [after 3 pings, after 3 re-executions of
/// `select 1`], each minus the query that reads the value (one round trip itself), and the
/// other counters after a few calls.
const MYSTAT: &str = r#"
import json, sys, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
cur = c.cursor()
def stat(name):
    return cur.execute(
        "select value from v$mystat m join v$statname n on n.statistic# = m.statistic#"
        " where n.name = :n", n=name).fetchone()[0]
rt = "SQL*Net roundtrips to/from client"
a = stat(rt)
for _ in range(3):
    c.ping()
b = stat(rt)
one = c.cursor()
for _ in range(3):
    one.execute("select 1 from dual")
    one.fetchall()
d = stat(rt)
names = [r[0] for r in cur.execute("select name from v$statname order by statistic#")]
values = {n: stat(n) for n in ("logons cumulative", "logons current", "user calls",
                               "execute count", "parse count (total)",
                               "bytes sent via SQL*Net to client",
                               "bytes received via SQL*Net from client",
                               "opened cursors current")}
print(json.dumps({"ping": b - a - 1, "reexecute": d - b - 1, "names": names, "values": values}))
"#;

fn assert_mystat(out: &Value, what: &str) {
    assert_eq!(out["ping"], json!(3), "{what}: {out}");
    assert_eq!(out["reexecute"], json!(3), "{what}: {out}");
    let names = out["names"].as_array().expect("names");
    for n in [
        "SQL*Net roundtrips to/from client",
        "bytes sent via SQL*Net to client",
        "bytes received via SQL*Net from client",
        "parse count (total)",
        "execute count",
        "user calls",
        "logons cumulative",
        "logons current",
        "opened cursors current",
    ] {
        assert!(names.contains(&json!(n)), "{what}: {n} in {names:?}");
    }
    let v = &out["values"];
    assert_eq!(v["logons cumulative"], json!(1), "{what}: {v}");
    assert_eq!(v["logons current"], json!(1), "{what}: {v}");
    for n in [
        "user calls",
        "execute count",
        "parse count (total)",
        "bytes sent via SQL*Net to client",
        "bytes received via SQL*Net from client",
        "opened cursors current",
    ] {
        assert!(
            v[n].as_u64().is_some_and(|x| x > 0),
            "{what}: {n} = {}",
            v[n]
        );
    }
}

#[test]
fn v_mystat_counts_one_round_trip_per_ping_and_per_re_execution_dedicated_and_shared() {
    python_on_dedicated_and_shared("HNSTAT", MYSTAT, TIMEOUT, assert_mystat);
}

const SQL_SURFACE: &str = r#"
import json, sys, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
cur = c.cursor()
out = {}
def q(sql, **binds):
    try:
        return cur.execute(sql, binds).fetchall()
    except oracledb.Error as e:
        return e.args[0].full_code
out["union_all"] = q("select 1 from dual union all select 2 from dual")
out["repeated_bind"] = q("select :a, :b, :a + 1 from dual", a=1, b=2)
out["union"] = q("select 2 from dual union select 1 from dual union select 2 from dual")
out["minus"] = q("select level from dual connect by level <= 5 minus select 3 from dual")
out["intersect"] = q("select level from dual connect by level <= 5 intersect select 3 from dual")
out["rownum"] = q("select * from (select level x from dual connect by level <= 10) where rownum <= 3")
out["rownum_col"] = q("select rownum, level from dual connect by level <= 2")
out["order"] = q("select x * 2 as y from (select level x from dual connect by level <= 3) order by 1 desc")
out["where_count"] = q("select count(*) from (select level l from dual connect by level <= 7) where l > 2 and l not in (5)")
out["bind_where"] = [q("select 1 from dual where 1 = :s", s=1), q("select 1 from dual where 1 = :s", s=2)]
out["between_like"] = q("select 'y' from dual where 5 between 1 and 9 and 'abc' like 'a%' and null is null")
cur.execute("select cast('abc' as varchar2(10)) from dual")
out["cast"] = [cur.fetchall(), cur.description[0][1].name, cur.description[0][3]]
out["case"] = q("select case when :a > 1 then 'big' else 'small' end, case :a when 5 then 'five' end from dual", a=5)
out["decode"] = q("select decode(:a, 1, 'one', 2, 'two', 'many'), nvl2(null, 1, 2), coalesce(null, 3), substr('hello', 2, 3), to_number('42') from dual", a=2)
out["to_clob"] = [[v.read() for v in r] for r in q("select to_clob('x') from dual")]
out["nls"] = [q("select value from nls_session_parameters where parameter = 'NLS_DATE_FORMAT'"),
              q("select value from nls_database_parameters where parameter = 'NLS_CHARACTERSET'")]
out["quoted_bind"] = cur.execute('select :"_value1" from dual', [5]).fetchall()
out["rowid_bind"] = q("select :ROWID from dual", ROWID=1)
out["union_types"] = q("select 1 from dual union select 'a' from dual")
out["union_columns"] = q("select 1, 2 from dual union select 1 from dual")
out["missing_column"] = q("select nope from (select 1 x from dual)")
out["truncate"] = q("truncate table hn_missing")
out["connect_info"] = q("select client_driver, client_version, network_service_banner from v$session_connect_info"
                        " where sid = sys_context('USERENV', 'SID') order by network_service_banner")
print(json.dumps(out))
"#;

#[test]
fn sql_surface_drivers_and_test_fixtures_use() {
    let server = start_server();
    let dsn = format!("127.0.0.1:{}/ORCL", server.port);
    let out = run(SQL_SURFACE, &["scott".into(), "tiger".into(), dsn]);
    let want = json!({
        "union_all": [[1], [2]],
        "repeated_bind": [[1, 2, 2]],
        "union": [[1], [2]],
        "minus": [[1], [2], [4], [5]],
        "intersect": [[3]],
        "rownum": [[1], [2], [3]],
        "rownum_col": [[1, 1], [2, 2]],
        "order": [[6], [4], [2]],
        "where_count": [[4]],
        "bind_where": [[[1]], []],
        "between_like": [["y"]],
        "cast": [[["abc"]], "DB_TYPE_VARCHAR", 10],
        "case": [["big", "five"]],
        "decode": [["two", 2, 3, "ell", 42]],
        "to_clob": [["x"]],
        "nls": [[["DD-MON-RR"]], [["AL32UTF8"]]],
        "quoted_bind": [[5]],
        "rowid_bind": "ORA-01745",
        "union_types": "ORA-01790",
        "union_columns": "ORA-01789",
        "missing_column": "ORA-00904",
        "truncate": "ORA-00942",
        "connect_info": [
            ["python-oracledb thn : 26.1.0", "26.1.0.0.0", "Crypto-checksumming service for Linux: Version 19.0.0.0.0 - Production"],
            ["python-oracledb thn : 26.1.0", "26.1.0.0.0", "Encryption service for Linux: Version 19.0.0.0.0 - Production"],
            ["python-oracledb thn : 26.1.0", "26.1.0.0.0", "TCP/IP NT Protocol Adapter for Linux: Version 19.0.0.0.0 - Production"],
        ],
    });
    for (k, v) in want.as_object().expect("object") {
        assert_eq!(&out[k], v, "{k}: {out}");
    }
}
