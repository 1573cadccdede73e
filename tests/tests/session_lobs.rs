//! Temporary LOBs through python-oracledb 26.1.0 (thin), as against Oracle: `createlob`
//! for CLOB and BLOB, `write`/`read` at offsets (CLOB offsets count UCS-2 code units, a gap
//! written past the end is padded), `size`, `trim` (ORA-22926 beyond the length),
//! `getchunksize`, `open`/`isopen`/`close` (ORA-22293, ORA-22289); a temporary LOB bound
//! into `select :1 from dual` and `begin :out := :in; end;`; `TO_CLOB` fetched as a LOB and, with `oracledb.defaults.fetch_lobs = False`, as a
//! string; the session goes on after the driver frees LOBs (FreeTemporaryLobs piggyback;
//! that a freed LOB is gone is the engine's `temporary_lobs_freed_by_the_piggyback_are_gone`)
//! — dedicated and shared.

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
        return e.args[0].full_code

clob = c.createlob(oracledb.DB_TYPE_CLOB)
out["empty"] = [clob.size(), clob.read()]
clob.write("hello wörld")
clob.write("€uro", 20)
out["clob"] = [clob.size(), clob.read(), clob.read(7, 5), clob.getchunksize()]
clob.trim(5)
out["trimmed"] = [clob.size(), clob.read()]
out["trim_beyond"] = code(lambda: clob.trim(6))

def message(f):
    try:
        f()
        return None
    except oracledb.Error as e:
        return e.args[0].message.splitlines()[0]
out["open_close"] = [clob.isopen()]
clob.open()
out["open_close"] += [clob.isopen(), message(clob.open), clob.read()]
clob.close()
out["open_close"] += [clob.isopen(), message(clob.close)]

blob = c.createlob(oracledb.DB_TYPE_BLOB, b"\x00\x01\x02")
blob.write(b"\xff", 5)
out["blob"] = [blob.size(), blob.read().hex(), blob.read(2, 2).hex()]

cur.execute("select :1 from dual", [clob])
lob, = cur.fetchone()
out["bound_select"] = [cur.description[0][1].name, lob.type.name, lob.read()]
v = cur.var(oracledb.DB_TYPE_CLOB)
cur.execute("begin :o := :i; end;", o=v, i=clob)
out["bound_plsql"] = [v.getvalue().read(), v.getvalue().size()]
bv = cur.var(oracledb.DB_TYPE_BLOB)
cur.execute("begin :o := :i; end;", o=bv, i=blob)
out["bound_blob"] = bv.getvalue().read().hex()

cur.execute("select to_clob('abc'), to_clob(null) from dual")
row = cur.fetchone()
out["to_clob"] = [type(row[0]).__name__, row[0].read(), row[0].size(), row[1]]
cur.execute("select to_clob('x' || level) from dual connect by level <= 3")
out["rows"] = [r[0].read() for r in cur]
# Executed again: the same cursor, defined again.
cur.execute("select to_clob('x' || level) from dual connect by level <= 3")
out["again"] = [r[0].read() for r in cur]

oracledb.defaults.fetch_lobs = False
cur2 = c.cursor()
cur2.execute("select to_clob('abc'), to_clob(null), 7 from dual")
out["fetch_lobs_off"] = [list(cur2.fetchone()), cur2.description[0][1].name]
cur2.execute("select :1 from dual", [blob])
out["blob_as_bytes"] = cur2.fetchone()[0].hex()
oracledb.defaults.fetch_lobs = True

# LOBs going out of scope: the driver frees them on the next call's piggyback.
del lob, row, v, bv
c.ping()
out["after"] = cur.execute("select 1 from dual").fetchall()
print(json.dumps(out))
"#;

fn check(out: &Value, what: &str) {
    let want = json!({
        "empty": [0, ""],
        // 11 characters, a gap of 8 spaces, then "€uro" at 20.
        "clob": [23, "hello wörld        €uro", "wörld", 8132],
        "trimmed": [5, "hello"],
        "trim_beyond": "ORA-22926",
        // OPEN/IS_OPEN/CLOSE; Oracle leaves CLOSE's operation unfilled for a temporary LOB.
        "open_close": [
            false,
            true,
            "ORA-22293: LOB already opened in the same transaction",
            "hello",
            false,
            "ORA-22289: cannot perform %s operation on an unopened file or LOB",
        ],
        "blob": [5, "00010200ff", "0102"],
        "bound_select": ["DB_TYPE_CLOB", "DB_TYPE_CLOB", "hello"],
        "bound_plsql": ["hello", 5],
        "bound_blob": "00010200ff",
        "to_clob": ["LOB", "abc", 3, null],
        "rows": ["x1", "x2", "x3"],
        "again": ["x1", "x2", "x3"],
        "fetch_lobs_off": [["abc", null, 7], "DB_TYPE_LONG"],
        "blob_as_bytes": "00010200ff",
        "after": [[1]],
    });
    assert_eq!(*out, want, "{what}");
}

#[test]
fn temporary_lobs_dedicated_and_shared() {
    python_on_dedicated_and_shared("R4LOB", SCRIPT, Duration::from_secs(60), check);
}
