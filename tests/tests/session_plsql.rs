//! Session-level PL/SQL through python-oracledb 26.1.0: OUT and IN OUT binds
//! (`begin :v := :a + 1; end;`), a REF CURSOR opened for an OUT bind and fetched,
//! `RAISE_APPLICATION_ERROR`, predefined and user exceptions with handlers, SQLCODE and
//! SQLERRM, `DECLARE` blocks, DBMS_OUTPUT round trips (enable, put_line, get_line,
//! get_lines), DBMS_SESSION.SET_IDENTIFIER and DBMS_APPLICATION_INFO — dedicated and
//! shared.

use std::time::Duration;

use serde_json::{Value, json};
use tests::shared_stack::python_on_dedicated_and_shared;

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
