//! Session-level PL/SQL through python-oracledb 26.1.0: OUT and IN OUT binds
//! (`begin :v := :a + 1; end;`), a REF CURSOR opened for an OUT bind and fetched,
//! `RAISE_APPLICATION_ERROR`, predefined and user exceptions with handlers, SQLCODE and
//! SQLERRM, `DECLARE` blocks, DBMS_OUTPUT round trips (enable, put_line, get_line,
//! get_lines), DBMS_SESSION.SET_IDENTIFIER and DBMS_APPLICATION_INFO — dedicated and
//! shared. Control flow: IF / ELSIF / ELSE, CASE, LOOP, WHILE, FOR and cursor FOR loops,
//! SELECT INTO with NO_DATA_FOUND and TOO_MANY_ROWS caught by handlers; a declared cursor
//! with a parameter fetched in a labeled loop until %NOTFOUND, a BOOLEAN condition, and the
//! cursor errors ORA-06511 / ORA-01001; an endless loop
//! ended by a call timeout, by a cancel (ORA-01013) and by ALTER SYSTEM KILL SESSION
//! (ORA-00028), the session usable after the first two.

use std::time::Duration;

use serde_json::{Value, json};
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, python_on_dedicated_and_shared};

const SCRIPT: &str = r#"
import json, sys, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
cur = c.cursor()
out = {}
def code(f):
    try:
        f()
        return None
    except oracledb.Error as e:
        # python-oracledb appends a "Help:" link of its own.
        return [e.args[0].full_code, e.args[0].message.split("\nHelp: ")[0]]
v = cur.var(int)
cur.execute("begin :v := :a + 1; end;", v=v, a=41)
out["assign"] = v.getvalue()
io = cur.var(int)
io.setvalue(0, 5)
cur.execute("begin :x := :x * 2; end;", x=io)
out["in_out"] = io.getvalue()
ref = cur.var(oracledb.DB_TYPE_CURSOR)
cur.execute("begin open :c for select level from dual connect by level <= 3; end;", c=ref)
out["ref_cursor"] = ref.getvalue().fetchall()
out["raise_application_error"] = code(
    lambda: cur.execute("begin raise_application_error(-20001, 'boom'); end;"))
out["no_data_found"] = code(lambda: cur.execute("begin\n  null;\n  raise no_data_found;\nend;"))
out["user_exception"] = code(
    lambda: cur.execute("declare e exception; begin raise e; end;"))
r, m, s = cur.var(int), cur.var(str), cur.var(int)
cur.execute("""
declare
  n number := 10;
  e exception;
begin
  begin
    :r := n / 0;
  exception
    when zero_divide then
      :r := -1;
      :m := sqlerrm;
      :s := sqlcode;
  end;
  raise e;
exception
  when no_data_found or e then
    :r := :r - 1;
end;""", r=r, m=m, s=s)
out["handlers"] = [r.getvalue(), m.getvalue(), s.getvalue()]
cur.callproc("dbms_output.enable")
cur.execute("begin dbms_output.put_line('hello'); dbms_output.put('wor'); "
            "dbms_output.put_line(:x); end;", x="ld")
line, status = cur.var(str), cur.var(int)
lines = []
while True:
    cur.callproc("dbms_output.get_line", (line, status))
    if status.getvalue() != 0:
        break
    lines.append(line.getvalue())
out["get_line"] = lines
for i in range(5):
    cur.callproc("dbms_output.put_line", ["line %d" % i])
arr = cur.arrayvar(str, 10, 100)
num = cur.var(int)
num.setvalue(0, 10)
cur.callproc("dbms_output.get_lines", (arr, num))
out["get_lines"] = [num.getvalue(), arr.getvalue()[:num.getvalue()]]
cur.execute("begin dbms_session.set_identifier('hn-client'); "
            "dbms_application_info.set_module('hn-mod', 'hn-act'); end;")
mod, act = cur.var(str), cur.var(str)
cur.callproc("dbms_application_info.read_module", (mod, act))
out["identity"] = [cur.execute(
    "select sys_context('USERENV','CLIENT_IDENTIFIER'), sys_context('USERENV','MODULE')"
    " from dual").fetchone(), mod.getvalue(), act.getvalue()]
out["unknown"] = code(lambda: cur.execute("begin no_such.proc(1); end;"))
out["after"] = cur.execute("select 1 from dual").fetchall()
print(json.dumps(out))
"#;

fn check(out: &Value, what: &str) {
    assert_eq!(out["assign"], json!(42), "{what}: {out}");
    assert_eq!(out["in_out"], json!(10), "{what}: {out}");
    assert_eq!(out["ref_cursor"], json!([[1], [2], [3]]), "{what}: {out}");
    assert_eq!(
        out["raise_application_error"],
        json!(["ORA-20001", "ORA-20001: boom\nORA-06512: at line 1"]),
        "{what}: {out}"
    );
    assert_eq!(
        out["no_data_found"],
        json!([
            "ORA-01403",
            "ORA-01403: no data found\nORA-06512: at line 3"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["user_exception"],
        json!([
            "ORA-06510",
            "ORA-06510: PL/SQL: unhandled user-defined exception\nORA-06512: at line 1"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["handlers"],
        json!([-2, "ORA-01476: divisor is equal to zero", -1476]),
        "{what}: {out}"
    );
    assert_eq!(out["get_line"], json!(["hello", "world"]), "{what}: {out}");
    assert_eq!(
        out["get_lines"],
        json!([5, ["line 0", "line 1", "line 2", "line 3", "line 4"]]),
        "{what}: {out}"
    );
    assert_eq!(
        out["identity"],
        json!([["hn-client", "hn-mod"], "hn-mod", "hn-act"]),
        "{what}: {out}"
    );
    assert_eq!(out["unknown"][0], json!("ORA-06550"), "{what}: {out}");
    assert!(
        out["unknown"][1]
            .as_str()
            .is_some_and(|m| m.contains("PLS-00201: identifier 'NO_SUCH.PROC' must be declared")),
        "{what}: {out}"
    );
    assert_eq!(out["after"], json!([[1]]), "{what}: {out}");
}

#[test]
fn plsql_blocks_binds_cursors_exceptions_and_dbms_output_dedicated_and_shared() {
    python_on_dedicated_and_shared("HNPLSQL", SCRIPT, Duration::from_secs(60), check);
}

const FLOW: &str = r#"
import json, sys, threading, time, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
cur = c.cursor()
out = {}
def code(f):
    try:
        f()
        return None
    except oracledb.Error as e:
        return [e.args[0].full_code, e.args[0].message.split("\nHelp: ")[0]]
cur.callproc("dbms_output.enable")
def lines():
    arr = cur.arrayvar(str, 100, 200)
    num = cur.var(int)
    num.setvalue(0, 100)
    cur.callproc("dbms_output.get_lines", (arr, num))
    return arr.getvalue()[:num.getvalue()]
cur.execute("""
declare
  total number := 0;
  i number := 0;
  v varchar2(30);
begin
  for k in 1..5 loop
    if mod(k, 2) = 0 then
      dbms_output.put_line(k || ' even');
    elsif k = 5 then
      dbms_output.put_line(k || ' last');
    else
      continue;
    end if;
  end loop;
  for k in reverse 1..3 loop
    total := total + k * 10;
  end loop;
  while total > 0 loop
    total := total - 25;
  end loop;
  loop
    i := i + 1;
    exit when i >= 4;
  end loop;
  dbms_output.put_line('total ' || total || ' i ' || i);
  for r in (select level n, 'row' || level t from dual connect by level <= :rows) loop
    case r.n
      when 1 then dbms_output.put_line(r.t || ' one');
      else dbms_output.put_line(r.t);
    end case;
  end loop;
  select value into v from nls_database_parameters where parameter = 'NLS_CHARACTERSET';
  select count(*) into :cnt from dual connect by level <= 7;
  dbms_output.put_line('charset ' || v);
  begin
    select 1 into i from dual where 1 = 0;
  exception
    when no_data_found then dbms_output.put_line('no rows ' || sqlcode);
  end;
  begin
    select level into i from dual connect by level <= 2;
  exception
    when too_many_rows then dbms_output.put_line(sqlerrm);
  end;
end;""", rows=3, cnt=cur.var(int))
out["flow"] = lines()
found = cur.var(int)
cur.execute("""
declare
  cursor c(lim number) is select level n, 'row' || level t from dual connect by level <= lim;
  n number;
  t varchar2(10);
  big boolean := false;
begin
  open c(:lim);
  <<fetching>>
  loop
    fetch c into n, t;
    exit fetching when c%notfound;
    big := n > 2;
    if big then
      dbms_output.put_line(t || ' big ' || c%rowcount);
    elsif not big then
      dbms_output.put_line(t || ' small');
    end if;
  end loop fetching;
  dbms_output.put_line('last ' || n || ' ' || c%rowcount);
  if c%isopen then
    close c;
  end if;
  :found := case when sql%found is null and not c%isopen and big then 1 else 0 end;
end;""", lim=4, found=found)
out["cursor"] = lines() + [found.getvalue()]
out["cursor_open"] = code(lambda: cur.execute(
    "declare cursor c is select 1 from dual; begin open c;\n  open c;\nend;"))
out["cursor_closed"] = code(lambda: cur.execute(
    "declare cursor c is select 1 from dual; n number; begin\n  fetch c into n;\nend;"))
cnt, rc = cur.var(int), cur.var(int)
cur.execute("begin select count(*) into :cnt from dual connect by level <= 7; :rc := sql%rowcount; end;",
            cnt=cnt, rc=rc)
out["select_into_bind"] = [cnt.getvalue(), rc.getvalue()]
out["no_data_found"] = code(
    lambda: cur.execute("declare n number; begin\n  select 1 into n from dual where 1 = 2;\nend;"))
out["case_not_found"] = code(
    lambda: cur.execute("begin case 2 when 1 then null; end case; end;"))
out["loop_index"] = code(
    lambda: cur.execute("begin for i in 1..2 loop i := 3; end loop; end;"))
endless = "declare n number := 0; begin loop n := n + 1; end loop; end;"
c.call_timeout = 700
start = time.monotonic()
out["call_timeout"] = code(lambda: cur.execute(endless))
out["call_timeout_secs"] = time.monotonic() - start
c.call_timeout = 0
out["after_timeout"] = cur.execute("select 2 from dual").fetchall()
timer = threading.Timer(0.7, c.cancel)
timer.start()
out["cancel"] = code(lambda: cur.execute("begin while true loop null; end loop; end;"))
timer.join()
out["after_cancel"] = cur.execute("select 3 from dual").fetchall()
print(json.dumps(out))
"#;

fn check_flow(out: &Value, what: &str) {
    assert_eq!(
        out["flow"],
        json!([
            "2 even",
            "4 even",
            "5 last",
            "total -15 i 4",
            "row1 one",
            "row2",
            "row3",
            "charset AL32UTF8",
            "no rows -1403",
            "ORA-01422: exact fetch returns more than requested number of rows"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["cursor"],
        json!([
            "row1 small",
            "row2 small",
            "row3 big 3",
            "row4 big 4",
            "last 4 4",
            1
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["cursor_open"],
        json!([
            "ORA-06511",
            "ORA-06511: PL/SQL: cursor already open\nORA-06512: at line 2"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["cursor_closed"],
        json!([
            "ORA-01001",
            "ORA-01001: invalid cursor\nORA-06512: at line 2"
        ]),
        "{what}: {out}"
    );
    assert_eq!(out["select_into_bind"], json!([7, 1]), "{what}: {out}");
    assert_eq!(
        out["no_data_found"],
        json!([
            "ORA-01403",
            "ORA-01403: no data found\nORA-06512: at line 2"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["case_not_found"],
        json!([
            "ORA-06592",
            "ORA-06592: CASE not found while executing CASE statement\nORA-06512: at line 1"
        ]),
        "{what}: {out}"
    );
    assert_eq!(
        out["loop_index"],
        json!([
            "ORA-06550",
            "ORA-06550: line 1, column 26:\nPLS-00363: expression 'I' cannot be used as an assignment target"
        ]),
        "{what}: {out}"
    );
    // python-oracledb sends a BREAK at the timeout and reports its own error once the
    // server answered it; an unanswered BREAK would drop the connection (DPY-4011).
    assert_eq!(out["call_timeout"][0], json!("DPY-4024"), "{what}: {out}");
    assert_eq!(out["after_timeout"], json!([[2]]), "{what}: {out}");
    assert_eq!(
        out["cancel"],
        json!([
            "ORA-01013",
            "ORA-01013: user requested cancel of current operation"
        ]),
        "{what}: {out}"
    );
    assert_eq!(out["after_cancel"], json!([[3]]), "{what}: {out}");
}

#[test]
fn plsql_control_flow_select_into_and_breaking_an_endless_loop_dedicated_and_shared() {
    python_on_dedicated_and_shared("PQFLOW", FLOW, Duration::from_secs(90), check_flow);
}

#[test]
fn killing_a_session_in_an_endless_plsql_loop_gives_ora_00028_dedicated_and_shared() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("PQKILL"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect dba: {}", r.json));
    for mode in ["dedicated", "shared"] {
        let (sid, serial, _) = py
            .connect(mode, &stack.dsn(mode), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {mode}: {}", r.json));
        let endless = "declare n number := 0; begin loop n := n + 1; end loop; end;";
        let r = py.call(json!({"op": "start", "name": mode, "sql": endless}));
        assert!(r.ok(), "{mode}: {}", r.json);
        // The loop is running (ACTIVE) before the kill.
        let active = tests::instance::wait_for(Duration::from_secs(10), || {
            let r = py.exec(
                "dba",
                &format!("select status from v$session where sid = {sid}"),
            );
            (r.result() == &json!([["ACTIVE"]])).then_some(())
        });
        assert!(active.is_some(), "{mode}: the loop never showed ACTIVE");
        let r = py.exec(
            "dba",
            &format!("alter system kill session '{sid},{serial}'"),
        );
        assert!(r.ok(), "{mode}: {}", r.json);
        let r = py.call(json!({"op": "wait", "name": mode, "timeout": 10}));
        let job = r.result();
        assert_eq!(job["code"], json!(28), "{mode}: {job}");
        let _ = py.call(json!({"op": "close", "name": mode}));
    }
    drop(py);
    drop(stack);
}
