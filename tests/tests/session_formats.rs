//! Oracle's format models through python-oracledb 26.1.0 (thin), dedicated and shared:
//! TO_CHAR of a bound DATE (FM toggled off again) and of numbers, TO_DATE / TO_TIMESTAMP
//! fetched as datetimes, TO_NUMBER with a model, `ALTER SESSION SET NLS_DATE_FORMAT` /
//! `NLS_NUMERIC_CHARACTERS` as the defaults of the same session (and in SYS_CONTEXT and
//! NLS_SESSION_PARAMETERS), and Oracle's errors with their texts — a failed conversion
//! leaves the session usable.

use std::time::Duration;

use serde_json::{Value, json};
use tests::shared_stack::python_on_dedicated_and_shared;

const SCRIPT: &str = r#"
import datetime, json, sys, oracledb
user, password, dsn = sys.argv[1:4]
c = oracledb.connect(user=user, password=password, dsn=dsn)
cur = c.cursor()
out = {}
def one(sql, **binds):
    return cur.execute(sql, binds).fetchone()[0]
def error(sql):
    try:
        cur.execute(sql).fetchall()
        return None
    except oracledb.Error as e:
        return e.args[0].message.splitlines()[0]

d = datetime.datetime(2008, 4, 3, 14, 5, 9)
out["to_char_date"] = one("select to_char(:d, 'fmDay, DDth Month YYYY fmHH24:MI:SS') from dual", d=d)
out["to_char_default"] = one("select to_char(:d) from dual", d=d)
out["to_date"] = one("select to_date('2008-04-03 14:05:09', 'YYYY-MM-DD HH24:MI:SS') from dual").isoformat()
out["to_timestamp"] = one("select to_timestamp('03-APR-08 02.05.09.250000 PM') from dual").isoformat()
out["to_number"] = one("select to_number('1,234.5', '9G999D9') from dual")
out["to_char_number"] = one("select to_char(1234.5, '$99,999.00') from dual")
out["overflow"] = one("select to_char(12345, '999') from dual")
out["year"] = one("select to_char(date '2024-01-01', 'Year') from dual")
out["bc"] = one("select to_char(to_date('15-03-0044 BC', 'DD-MM-YYYY BC') + 1, 'SYYYY-MM-DD B.C.') from dual")
out["ts_tz"] = one("select to_timestamp_tz('2024-01-01 12:30:00 +05:30', 'YYYY-MM-DD HH24:MI:SS TZH:TZM') from dual").isoformat()
out["errors"] = [
    error("select to_date('2008-13-01', 'YYYY-MM-DD') from dual"),
    error("select to_date('2008x01', 'YYYY-MM') from dual"),
    error("select to_char(sysdate, 'YYYY-BOGUS') from dual"),
    error("select to_number('12x') from dual"),
    error("select to_char(1, '9.9.9') from dual"),
    error("select to_date('2008-02-30', 'YYYY-MM-DD') from dual"),
]
out["bad_alter"] = error("alter session set nls_date_format = 'YYYY-BOGUS'")
cur.execute("alter session set nls_date_format = 'YYYY-MM-DD HH24:MI' nls_numeric_characters = ',.'")
out["nls"] = [
    one("select to_char(:d) from dual", d=d),
    one("select to_date('2008-04-03 14:05') from dual").isoformat(),
    one("select 'at ' || to_date('2008-04-03 14:05') from dual"),
    one("select to_char(1.5) from dual"),
    one("select to_number('2,5') from dual"),
    one("select sys_context('USERENV', 'NLS_DATE_FORMAT') from dual"),
    one("select value from nls_session_parameters where parameter = 'NLS_NUMERIC_CHARACTERS'"),
]
print(json.dumps(out))
"#;

fn check(out: &Value, what: &str) {
    let want = json!({
        "to_char_date": "Thursday, 3rd April 2008 14:05:09",
        "to_char_default": "03-APR-08",
        "to_date": "2008-04-03T14:05:09",
        "to_timestamp": "2008-04-03T14:05:09.250000",
        "to_number": 1234.5,
        "to_char_number": "  $1,234.50",
        "overflow": "####",
        "year": "Twenty Twenty-Four",
        "bc": "-0044-03-16 B.C.",
        "ts_tz": "2024-01-01T12:30:00",
        "errors": [
            "ORA-01843: not a valid month",
            "ORA-01861: literal does not match format string",
            "ORA-01821: date format not recognized",
            "ORA-01722: invalid number",
            "ORA-01481: invalid number format model",
            "ORA-01839: date not valid for month specified",
        ],
        "bad_alter": "ORA-01821: date format not recognized",
        "nls": [
            "2008-04-03 14:05",
            "2008-04-03T14:05:00",
            "at 2008-04-03 14:05",
            "1,5",
            2.5,
            "YYYY-MM-DD HH24:MI",
            ",.",
        ],
    });
    assert_eq!(*out, want, "{what}");
}

#[test]
fn format_models_dedicated_and_shared() {
    python_on_dedicated_and_shared("FMFMT", SCRIPT, Duration::from_secs(60), check);
}
