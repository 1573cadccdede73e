//! Data-driven tests of the SQL subset: statement text in, Oracle's answer out.

use super::eval::{EvalContext, Value, plan_query};
use super::*;
use tns::ttc::types::{DateTime, ora_type};

fn ctx() -> EvalContext {
    EvalContext {
        user: "SCOTT".into(),
        userenv: vec![
            ("SID".into(), "27".into()),
            ("SESSION_USER".into(), "SCOTT".into()),
            ("INSTANCE_NAME".into(), "orcl".into()),
        ],
        now: DateTime::from_unix(1_795_355_107, 0),
        binds: Vec::new(),
        tz_offset_minutes: 0,
        contexts: Default::default(),
        columns: Vec::new(),
        level: 0,
        rownum: 0,
        nls: Default::default(),
        variables: Vec::new(),
    }
}

fn rows(sql: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), OraError> {
    let st = parse(sql)?;
    let plan = plan_query(&st, &ctx())?;
    let names = plan.columns.iter().map(|c| c.name.clone()).collect();
    let rows = (0..plan.total_rows().min(5000))
        .map(|i| plan.row(i, &ctx()))
        .collect::<Result<_, _>>()?;
    Ok((names, rows))
}

fn num(s: &str) -> Value {
    Value::Number(Decimal::parse(s).unwrap())
}

#[test]
fn select_literals_with_oracle_column_names() {
    let e = rows("select 1e2000000000 from dual").unwrap_err();
    assert_eq!(e.text(), "ORA-01426: numeric overflow");
    let e = rows("select 1e100 * 1e100 from dual").unwrap_err();
    assert_eq!(e.code, 1426);
    let (_, r) = rows("select 1e-2000000000 from dual").unwrap();
    assert_eq!(r, [[num("0")]]);
    let (names, r) = rows("select 1 from dual").unwrap();
    assert_eq!(names, ["1"]);
    assert_eq!(r, [[num("1")]]);
    let (names, r) = rows("SELECT 1 + 2 * 3, 'abc' x, null, (7-10)/4 \"q\" FROM Dual").unwrap();
    assert_eq!(names, ["1+2*3", "X", "NULL", "q"]);
    assert_eq!(
        r,
        [[
            num("7"),
            Value::Str("abc".into()),
            Value::Null,
            num("-0.75")
        ]]
    );
}

#[test]
fn division_has_forty_digits() {
    let (_, r) = rows("select 1/3 from dual").unwrap();
    let Value::Number(d) = &r[0][0] else { panic!() };
    assert_eq!(d.to_string(), format!(".{}", "3".repeat(40)));
}

#[test]
fn connect_by_level_rows_and_count() {
    let (names, r) = rows("select level from dual connect by level <= 1000").unwrap();
    assert_eq!(names, ["LEVEL"]);
    assert_eq!(r.len(), 1000);
    assert_eq!(r[999], [num("1000")]);
    let (names, r) = rows("select count(*) from dual connect by level <= 12345").unwrap();
    assert_eq!(names, ["COUNT(*)"]);
    assert_eq!(r, [[num("12345")]]);
    let (_, r) = rows("select level from dual connect by level <= 0").unwrap();
    assert_eq!(r.len(), 1);
}

#[test]
fn sys_context_user_and_dates() {
    let (names, r) = rows("select sys_context('USERENV', 'SID'), user, sysdate from dual").unwrap();
    assert_eq!(names, ["SYS_CONTEXT('USERENV','SID')", "USER", "SYSDATE"]);
    assert_eq!(r[0][0], Value::Str("27".into()));
    assert_eq!(r[0][1], Value::Str("SCOTT".into()));
    assert!(matches!(r[0][2], Value::Date(_)));
    let e = rows("select sys_context('userenv','NOPE') from dual").unwrap_err();
    assert_eq!(e.code, 2003);
}

#[test]
fn oracle_errors_and_offsets() {
    let cases: [(&str, u32, u32, &str); 8] = [
        (
            "select * from missing",
            942,
            14,
            "ORA-00942: table or view does not exist",
        ),
        (
            "select foo from dual",
            904,
            7,
            "ORA-00904: \"FOO\": invalid identifier",
        ),
        (
            "select 1 frm dual",
            923,
            13,
            "ORA-00923: FROM keyword not found where expected",
        ),
        (
            "select 1 from dual xyz abc",
            933,
            23,
            "ORA-00933: SQL command not properly ended",
        ),
        ("frobnicate", 900, 0, "ORA-00900: invalid SQL statement"),
        (
            "select 1/0 from dual",
            1476,
            0,
            "ORA-01476: divisor is equal to zero",
        ),
        ("select from dual", 936, 7, "ORA-00936: missing expression"),
        (
            "select foo from missing",
            942,
            16,
            "ORA-00942: table or view does not exist",
        ),
    ];
    for (sql, code, off, text) in cases {
        let e = rows(sql).unwrap_err();
        assert_eq!(
            (e.code, e.offset, e.text().as_str()),
            (code, off, text),
            "{sql}"
        );
    }
}

#[test]
fn plsql_sleep_commit_rollback() {
    let Statement::Plsql(b) = parse("BEGIN DBMS_SESSION.SLEEP(5); END;").unwrap() else {
        panic!("a block")
    };
    let crate::sql::plsql::StmtKind::Call(p, args) = &b.body[0].kind else {
        panic!("{b:?}")
    };
    assert_eq!(p.name, "DBMS_SESSION.SLEEP");
    assert_eq!(args, &[Expr::Number(Decimal::parse("5").unwrap())]);
    assert!(matches!(
        parse("begin null; end;").unwrap(),
        Statement::Plsql(_)
    ));
    assert_eq!(parse("commit").unwrap(), Statement::Commit);
    assert_eq!(parse(" ROLLBACK WORK").unwrap(), Statement::Rollback);
    let e = parse("begin foo.bar(1); end;").unwrap_err();
    assert_eq!(e.code, 6550);
    assert!(
        e.message
            .contains("PLS-00201: identifier 'FOO.BAR' must be declared"),
        "{}",
        e.message
    );
}

#[test]
fn a_database_not_open_answers_fixed_views_and_dual_only() {
    use crate::port::DatabaseStage;
    for state in [InstanceState::Started, InstanceState::Mounted] {
        for (sql, off) in [
            ("select * from nls_session_parameters", 14),
            ("select * from scott.emp where 1 = 0", 14),
            ("insert into emp values (1)", 12),
            ("delete from hr.t", 12),
        ] {
            match parse_in(sql, state) {
                Err(e) if e.code == 1219 => assert_eq!(e.offset, off, "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_in("select status from v$instance", state),
            Ok(Statement::InstanceQuery(_))
        ));
        assert!(matches!(
            parse_in("select 'x' from dual", state),
            Ok(Statement::Select { .. })
        ));
    }
    // DBA_CPOOL_INFO is a dictionary view, not a fixed one; V$DATABASE needs MOUNT.
    let e = parse_in("select * from dba_cpool_info", InstanceState::Mounted).unwrap_err();
    assert_eq!((e.code, e.offset), (1219, 14));
    let e = parse_in("select name from v$database", InstanceState::Started).unwrap_err();
    assert_eq!((e.code, e.offset), (1507, 17));
    assert!(matches!(
        parse_in("select name from v$database", InstanceState::Mounted),
        Ok(Statement::InstanceQuery(_))
    ));
    // Open: the same names are ordinary missing tables again.
    let e = parse_in("select * from scott.emp", InstanceState::Open).unwrap_err();
    assert_eq!((e.code, e.offset), (942, 14));
    assert!(matches!(
        parse_in("select * from nls_session_parameters", InstanceState::Open),
        Ok(Statement::Query(_))
    ));
    for (sql, to) in [
        ("alter database mount", DatabaseStage::Mount),
        ("ALTER DATABASE orcl OPEN;", DatabaseStage::Open),
        ("alter  database\nopen", DatabaseStage::Open),
    ] {
        assert_eq!(parse(sql).unwrap(), Statement::AlterDatabase(to), "{sql}");
    }
    assert_eq!(
        parse("alter database backup controlfile to trace")
            .unwrap_err()
            .code,
        1031
    );
}

#[test]
fn tables_dml_and_ddl_answer_like_a_user_with_create_session_only() {
    let cases: [(&str, u32, u32); 6] = [
        ("select * from emp where empno = :1 order by 1", 942, 14),
        ("insert into emp values (1, 'x')", 942, 12),
        ("UPDATE scott.emp set sal = 0", 942, 7),
        ("delete emp", 942, 7),
        ("create table t (a number)", 1031, 0),
        ("insert into dual values ('Y')", 1031, 0),
    ];
    for (sql, code, off) in cases {
        let e = parse(sql).unwrap_err();
        assert_eq!((e.code, e.offset), (code, off), "{sql}");
    }
    assert_eq!(
        parse("alter session set current_schema = hr").unwrap(),
        Statement::AlterSession {
            current_schema: Some("HR".into()),
            time_zone: None,
            nls: Vec::new(),
        }
    );
    assert_eq!(
        parse("ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD' nls_numeric_characters=',.'")
            .unwrap(),
        Statement::AlterSession {
            current_schema: None,
            time_zone: None,
            nls: vec![
                ("NLS_DATE_FORMAT".into(), "YYYY-MM-DD".into()),
                ("NLS_NUMERIC_CHARACTERS".into(), ",.".into()),
            ],
        }
    );
}

#[test]
fn binds_by_position_of_first_appearance() {
    let st = parse("select :b + :a, :b, :1 from dual").unwrap();
    assert_eq!(st.bind_names(), ["B", "A", "1"]);
    let mut c = ctx();
    c.binds = vec![
        ("B".into(), num("2")),
        ("A".into(), num("40")),
        ("1".into(), Value::Str("s".into())),
    ];
    let plan = plan_query(&st, &c).unwrap();
    assert_eq!(
        plan.row(0, &c).unwrap(),
        [num("42"), num("2"), Value::Str("s".into())]
    );
    assert_eq!(plan.columns[2].ora_type, tns::ttc::types::ora_type::VARCHAR);
    let e = plan_query(&st, &ctx()).unwrap_err();
    assert_eq!(e.code, 1008);
}

#[test]
fn v_version_answers_the_banner() {
    let (names, r) = rows("select * from v$version").unwrap();
    assert_eq!(names, ["BANNER", "BANNER_FULL", "BANNER_LEGACY", "CON_ID"]);
    assert_eq!(
        r[0][0],
        Value::Str("Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production".into())
    );
    let (names, r) = rows("SELECT banner, 1 FROM sys.v$version v").unwrap();
    assert_eq!(names, ["BANNER", "1"]);
    assert_eq!(r.len(), 1);
    let e = rows("select version from v$version").unwrap_err();
    assert_eq!(e.text(), "ORA-00904: \"VERSION\": invalid identifier");
}

#[test]
fn date_arithmetic_and_functions() {
    // now = 2026-11-22 13:45:07 UTC (a Sunday)
    let (names, r) = rows(
        "select to_char(sysdate, 'YYYY-MM-DD HH24:MI:SS'), to_char(sysdate + 1, 'Dy DD-Mon-YYYY'), \
         to_char(sysdate - 1/24, 'HH:MI AM'), sysdate - (sysdate - 2), to_char(sysdate) from dual",
    )
    .unwrap();
    assert_eq!(names[0], "TO_CHAR(SYSDATE,'YYYY-MM-DD HH24:MI:SS')");
    assert_eq!(
        r[0],
        [
            Value::Str("2026-11-22 13:45:07".into()),
            Value::Str("Mon 23-Nov-2026".into()),
            Value::Str("12:45 PM".into()),
            num("2"),
            Value::Str("22-NOV-26".into()),
        ]
    );
    let (_, r) = rows(
        "select nvl(null, 'x'), upper('abc'), lower('ABC'), length('héllo'), round(2.567, 2), \
         trunc(-2.567, 1), round(1234.5), abs(-3), mod(11, 4), mod(-11, 4), nvl(1, 2) from dual",
    )
    .unwrap();
    assert_eq!(
        r[0],
        [
            Value::Str("x".into()),
            Value::Str("ABC".into()),
            Value::Str("abc".into()),
            num("5"),
            num("2.57"),
            num("-2.5"),
            num("1235"),
            num("3"),
            num("3"),
            num("-3"),
            num("1"),
        ]
    );
    assert_eq!(rows("select upper(1, 2) from dual").unwrap_err().code, 909);
    assert_eq!(rows("select sysdate * 2 from dual").unwrap_err().code, 932);
    assert_eq!(
        rows("select to_char(sysdate, 'QQX9') from dual")
            .unwrap_err()
            .code,
        1821
    );
}

#[test]
fn literal_column_names_are_upper_case() {
    let (names, _) = rows("select 'hello', sys_context('userenv', 'sid') from dual").unwrap();
    assert_eq!(names, ["'HELLO'", "SYS_CONTEXT('USERENV','SID')"]);
}

/// The ANSI date literal takes a BC year with its sign (`DATE '-4712-01-01'` is the first
/// DATE); arithmetic goes on across 1 BC as Oracle's does, through a year 0 (Oracle 11 shows
/// `31-DEC-0001 BC` + 1 as `01-JAN-0000 AD`). Not from the book.
#[test]
fn date_literals_and_bc_arithmetic() {
    let (_, r) = rows(
        "select date '-0044-03-15', to_char(date '-0044-03-15', 'DD-MON-YYYY BC'), \
         to_char(date '-0001-12-31' + 1, 'DD-MON-YYYY BC'), \
         to_char(date '2024-01-01', 'Year'), date '2024-03-01' - date '2024-02-01' from dual",
    )
    .unwrap();
    let bc = DateTime {
        year: -44,
        month: 3,
        day: 15,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_minutes: 0,
    };
    assert_eq!(
        r,
        [[
            Value::Date(bc),
            Value::Str("15-MAR-0044 BC".into()),
            Value::Str("01-JAN-0000 AD".into()),
            Value::Str("Twenty Twenty-Four".into()),
            num("29"),
        ]]
    );
    // Julian before 1582-10-15: the day after 1582-10-04 is the 15th.
    let (_, r) = rows(
        "select to_char(date '1582-10-04' + 1, 'YYYY-MM-DD Dy'), \
         date '1582-10-15' - date '1582-10-04', date '0001-01-01' - date '-0001-12-31' from dual",
    )
    .unwrap();
    // 367 days from 1 BC's last day to 1 AD's first, as Oracle counts (comp.databases.oracle
    // .tools, "Millennial Fun with Oracle Dates", 2000).
    assert_eq!(
        r,
        [[Value::Str("1582-10-15 Fri".into()), num("1"), num("367")]]
    );
    assert_eq!(
        rows("select date '-4713-12-31' from dual")
            .unwrap_err()
            .code,
        1841
    );
    assert_eq!(
        rows("select date '2024-13-01' from dual").unwrap_err().code,
        1843
    );
    assert_eq!(
        rows("select date '2024-01-01 from dual").unwrap_err().code,
        1756
    );
}

#[test]
fn session_time_zone_drives_current_date() {
    assert_eq!(
        parse("ALTER SESSION SET TIME_ZONE='+05:30'").unwrap(),
        Statement::AlterSession {
            current_schema: None,
            time_zone: Some(330),
            nls: Vec::new(),
        }
    );
    assert_eq!(
        parse("alter session set time_zone = 'Mars/Olympus'")
            .unwrap_err()
            .code,
        1882
    );
    let mut c = ctx();
    c.tz_offset_minutes = 330;
    let st =
        parse("select to_char(current_date, 'HH24:MI'), to_char(sysdate, 'HH24:MI') from dual")
            .unwrap();
    let plan = plan_query(&st, &c).unwrap();
    assert_eq!(
        plan.row(0, &c).unwrap(),
        [Value::Str("19:15".into()), Value::Str("13:45".into())]
    );
}

/// TO_TIMESTAMP_TZ: a TIMESTAMP WITH TIME ZONE column (type 181) of the string's zone, or of
/// the session's when the string has none; NLS_TIMESTAMP_TZ_FORMAT without a format.
#[test]
fn to_timestamp_tz_takes_the_zone_or_the_sessions() {
    let mut c = ctx();
    c.tz_offset_minutes = -180;
    let st = parse(
        "select to_timestamp_tz('2024-01-01 12:30:00 +05:30', 'YYYY-MM-DD HH24:MI:SS TZH:TZM'), \
         to_char(to_timestamp_tz('2024-01-01 12:30 UTC', 'YYYY-MM-DD HH24:MI TZR'), 'HH24:MI TZH:TZM'), \
         to_char(to_timestamp_tz('2024-01-01 12:30', 'YYYY-MM-DD HH24:MI TZR'), 'TZR'), \
         to_char(to_timestamp_tz('01-JAN-24 12.30.00.25 PM -08:00')) from dual",
    )
    .unwrap();
    let plan = plan_query(&st, &c).unwrap();
    assert_eq!(plan.columns[0].ora_type, ora_type::TIMESTAMP_TZ);
    let at = DateTime {
        year: 2024,
        month: 1,
        day: 1,
        hour: 12,
        minute: 30,
        second: 0,
        nanos: 0,
        offset_minutes: 330,
    };
    assert_eq!(
        plan.row(0, &c).unwrap(),
        [
            Value::TimestampTz(at),
            Value::Str("12:30 +00:00".into()),
            Value::Str("-03:00".into()),
            Value::Str("01-JAN-24 12.30.00.250000 PM -08:00".into()),
        ]
    );
    let e = rows("select to_timestamp_tz('2024-01-01 Mars/Olympus', 'YYYY-MM-DD TZR') from dual");
    assert_eq!(e.unwrap_err().code, 1882);
}

#[test]
fn rounding_up_carries_into_a_new_leading_digit() {
    let (_, r) =
        rows("select round(9.96, 1), round(999.5), round(-99.95, 1), 2/3 from dual").unwrap();
    assert_eq!(
        r[0],
        [
            num("10"),
            num("1000"),
            num("-100"),
            num(&format!("0.{}7", "6".repeat(39))),
        ]
    );
}

#[test]
fn returning_binds_are_counted_after_into_of_dml_only() {
    use crate::sql::returning_bind_count as count;
    assert_eq!(
        count(b"insert into t (x) values (:a) returning x, y into :o1, :o2"),
        2
    );
    assert_eq!(count(b"UPDATE t SET x = :a RETURN x INTO :\"Out\""), 1);
    assert_eq!(
        count(b"delete from t where x = ':returning into :q' returning x into :o"),
        1
    );
    assert_eq!(count(b"update t set x = 1 -- returning x into :c\n"), 0);
    assert_eq!(
        count(b"begin insert into t values (1) returning x into :o; end;"),
        0
    );
    assert_eq!(count(b"select :a from dual"), 0);
}

#[test]
fn quoted_bind_names_keep_their_case() {
    let st = parse("select :\"_value1\" + :b from dual").unwrap();
    assert_eq!(st.bind_names(), ["_value1", "B"]);
}

/// The conversion functions through the evaluator: types of the columns, the session's
/// NLS settings as the default formats and in implicit conversions.
#[test]
fn conversion_functions_use_the_session_nls() {
    let run = |sql: &str, c: &EvalContext| -> Result<(Vec<u8>, Vec<Value>), OraError> {
        let st = parse(sql)?;
        let plan = plan_query(&st, c)?;
        let types = plan.columns.iter().map(|m| m.ora_type).collect();
        Ok((types, plan.row(0, c)?))
    };
    let mut c = ctx();
    let (types, row) = run(
        "select to_date('2008-04-03 14:05:09', 'YYYY-MM-DD HH24:MI:SS'), \
         to_timestamp('2008-04-03 14:05:09.25', 'YYYY-MM-DD HH24:MI:SS.FF'), \
         to_char(to_date('03.04.2008', 'DD.MM.YYYY'), 'fmDay, DDth Month YYYY'), \
         to_number('1,234.5', '9G999D9'), to_char(1234.5, '$99,999.00') from dual",
        &c,
    )
    .unwrap();
    assert_eq!(
        types,
        [
            ora_type::DATE,
            ora_type::TIMESTAMP,
            ora_type::VARCHAR,
            ora_type::NUMBER,
            ora_type::VARCHAR
        ]
    );
    let when = DateTime {
        year: 2008,
        month: 4,
        day: 3,
        hour: 14,
        minute: 5,
        second: 9,
        nanos: 0,
        offset_minutes: 0,
    };
    assert_eq!(
        row,
        [
            Value::Date(when),
            Value::Timestamp(DateTime {
                nanos: 250_000_000,
                ..when
            }),
            Value::Str("Thursday, 3rd April 2008".into()),
            num("1234.5"),
            Value::Str("  $1,234.50".into()),
        ]
    );
    // Without a format: DD-MON-RR, then the session's NLS_DATE_FORMAT.
    let sql = "select to_char(to_date('03-APR-08')), 'at ' || to_date('03-APR-08') from dual";
    assert_eq!(
        run(sql, &c).unwrap().1,
        [
            Value::Str("03-APR-08".into()),
            Value::Str("at 03-APR-08".into())
        ]
    );
    let nls = std::sync::Arc::make_mut(&mut c.nls);
    nls.set("NLS_DATE_FORMAT", "YYYY-MM-DD").unwrap();
    nls.set("NLS_NUMERIC_CHARACTERS", ",.").unwrap();
    let sql = "select to_char(to_date('2008-04-03')), 'at ' || to_date('2008-04-03'), \
               to_char(1.5), to_number('2,5'), cast('2008-04-03' as date) from dual";
    assert_eq!(
        run(sql, &c).unwrap().1,
        [
            Value::Str("2008-04-03".into()),
            Value::Str("at 2008-04-03".into()),
            Value::Str("1,5".into()),
            num("2.5"),
            Value::Date(DateTime {
                hour: 0,
                minute: 0,
                second: 0,
                ..when
            }),
        ]
    );
    // The errors come through as Oracle's.
    for (sql, code) in [
        ("select to_date('2008-13-01', 'YYYY-MM-DD') from dual", 1843),
        ("select to_number('12x') from dual", 1722),
        ("select to_char(1, '9.9.9') from dual", 1481),
        ("select to_char(sysdate, 'FF') from dual", 1821),
        (
            "select to_char(1, '9', 'NLS_BOGUS = ''x''') from dual",
            12702,
        ),
    ] {
        assert_eq!(run(sql, &c).unwrap_err().code, code, "{sql}");
    }
    assert_eq!(
        run("select to_char(12345, '999') from dual", &c).unwrap().1,
        [Value::Str("####".into())]
    );
}

#[test]
fn only_statements_that_may_read_userenv_say_so() {
    for sql in [
        "select 1 from dual",
        "select sysdate, user from dual",
        "select * from dual where 1 = 1",
        "commit",
    ] {
        assert!(!parse(sql).unwrap().reads_userenv(), "{sql}");
    }
    for sql in [
        "select sys_context('USERENV', 'SID') from dual",
        "select sys_context(:ns, :attr) from dual",
        "select nvl(sys_context('userenv', 'module'), 'x') from dual",
        "select case when sys_context('userenv','isdba') = 'TRUE' then 1 else 0 end from dual",
        "select 1 from dual where sys_context('userenv', 'sid') > 0",
        "select count(*) from (select sys_context('userenv','sid') s from dual)",
        "select sid from v$session where sid = sys_context('userenv', 'sid')",
        "begin null; end;",
    ] {
        assert!(parse(sql).unwrap().reads_userenv(), "{sql}");
    }
}

/// Runs `f` on a thread with the stack sessions run on ([`crate::SESSION_STACK`]); a stack
/// overflow aborts the test binary, so getting an answer back is the proof there is none.
fn on_session_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(crate::SESSION_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// Everything a session does with a statement that recurses on its tree: parse, clone (a
/// cursor keeps its statement), bind names, plan, rows, drop. The first column of the
/// first row, or the error's text.
fn run_whole(sql: &str) -> Result<Value, String> {
    let st = parse(sql).map_err(|e| e.text())?;
    let kept = st.clone();
    assert_eq!(kept.bind_names(), Vec::<String>::new());
    let _ = kept.reads_userenv();
    let plan = plan_query(&kept, &ctx()).map_err(|e| e.text())?;
    let row = plan.row(0, &ctx()).map_err(|e| e.text())?;
    drop(st);
    drop(kept);
    Ok(row.into_iter().next().unwrap_or(Value::Null))
}

/// The deepest `n` for which `make(n)` is accepted, found by bisection between `0` (taken
/// as accepted) and `limit` (not accepted), with that statement's answer; and the error
/// of `n + 1`.
fn deepest_accepted(
    make: fn(usize) -> String,
    limit: usize,
) -> (usize, Result<Value, String>, String) {
    on_session_stack(move || {
        let (mut ok, mut bad) = (0, limit);
        while bad - ok > 1 {
            let mid = (ok + bad) / 2;
            if parse(&make(mid)).is_ok() {
                ok = mid;
            } else {
                bad = mid;
            }
        }
        let answer = run_whole(&make(ok));
        let beyond = run_whole(&make(ok + 1)).expect_err("one level more is refused");
        (ok, answer, beyond)
    })
}

/// ORA-03095 of a statement nesting deeper than MAX_NESTING_DEPTH.
const NESTED_TOO_DEEP: &str = "ORA-03095: expression level is too deep, maximum 255";
/// ORA-03095 of a tree deeper than MAX_EXPR_DEPTH.
const TREE_TOO_DEEP: &str = "ORA-03095: expression level is too deep, maximum 1000";

/// A statement nesting one construct `n` levels deep, its answer, the bound it meets and
/// the error beyond it.
type Nested = (
    &'static str,
    fn(usize) -> String,
    fn(usize) -> Value,
    usize,
    &'static str,
);

/// The deepest CASE an expression may hold, around `inner`.
fn deepest_case_around(inner: &str) -> String {
    let n = MAX_NESTING_DEPTH - 2;
    format!(
        "{}{inner}{}",
        "case when 1 = 1 then ".repeat(n),
        " end".repeat(n)
    )
}

#[test]
fn nesting_is_refused_with_ora_03095_before_the_session_stack_runs_out() {
    // Each construct that nests: the deepest statement accepted runs (parse, clone, plan,
    // rows, drop) on a session's stack and answers right, and one level more is
    // ORA-03095. The accepted depth is within a few levels of the bound (the levels the
    // statement itself adds).
    const N: usize = MAX_NESTING_DEPTH;
    const T: usize = MAX_EXPR_DEPTH;
    let cases: [Nested; 13] = [
        (
            "parentheses",
            |n| format!("select {}1{} from dual", "(".repeat(n), ")".repeat(n)),
            |_| num("1"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "function calls",
            |n| format!("select {}-1{} from dual", "abs(".repeat(n), ")".repeat(n)),
            |_| num("1"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "CASE",
            |n| {
                format!(
                    "select {}2{} from dual",
                    "case when 1 = 1 then ".repeat(n),
                    " end".repeat(n)
                )
            },
            |_| num("2"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "CAST",
            |n| {
                format!(
                    "select {}3{} from dual",
                    "cast(".repeat(n),
                    " as number)".repeat(n)
                )
            },
            |_| num("3"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "unary minus",
            |n| format!("select {}4 from dual", "- ".repeat(n)),
            |n| num(if n % 2 == 0 { "4" } else { "-4" }),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "NOT",
            |n| {
                format!(
                    "select 5 from dual where {}1 = 1 or 1 = 1",
                    "not ".repeat(n)
                )
            },
            |_| num("5"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "parenthesized conditions",
            |n| {
                format!(
                    "select 6 from dual where {}1 = 1{}",
                    "(".repeat(n),
                    ")".repeat(n)
                )
            },
            |_| num("6"),
            N,
            NESTED_TOO_DEEP,
        ),
        (
            "a chain of +",
            |n| format!("select 1{} from dual", " + 1".repeat(n)),
            |n| num(&(n + 1).to_string()),
            T,
            TREE_TOO_DEEP,
        ),
        (
            "a chain of *",
            |n| format!("select 1{} from dual", " * 1".repeat(n)),
            |_| num("1"),
            T,
            TREE_TOO_DEEP,
        ),
        (
            "a chain of ||",
            |n| format!("select 'a'{} from dual", " || 'a'".repeat(n)),
            |n| Value::Str("a".repeat(n + 1)),
            T,
            TREE_TOO_DEEP,
        ),
        (
            "a chain of AND",
            |n| format!("select 7 from dual where 1 = 1{}", " and 1 = 1".repeat(n)),
            |_| num("7"),
            T,
            TREE_TOO_DEEP,
        ),
        // Nesting and chains together: the deepest of each, one inside the other.
        (
            "a chain inside the deepest CASE",
            |n| {
                format!(
                    "select {} from dual",
                    deepest_case_around(&format!("1{}", " + 1".repeat(n)))
                )
            },
            |n| num(&(n + 1).to_string()),
            T - (N - 2),
            TREE_TOO_DEEP,
        ),
        (
            "a chain whose first term is the deepest CASE",
            |n| {
                format!(
                    "select {}{} from dual",
                    deepest_case_around("1"),
                    " + 1".repeat(n)
                )
            },
            |n| num(&(n + 1).to_string()),
            T - (N - 2),
            TREE_TOO_DEEP,
        ),
    ];
    for (what, make, expected, bound, error) in cases {
        let (deepest, answer, beyond) = deepest_accepted(make, 100_000);
        assert!(
            (bound - 4..bound).contains(&deepest),
            "{what}: deepest accepted {deepest}"
        );
        assert_eq!(answer, Ok(expected(deepest)), "{what}");
        assert_eq!(beyond, error, "{what}");
    }
}

#[test]
fn pathological_statements_get_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let statements = [
        (
            format!("select {}1{} from dual", "(".repeat(n), ")".repeat(n)),
            NESTED_TOO_DEEP,
        ),
        (
            format!("select 1{} from dual", " + 1".repeat(n)),
            TREE_TOO_DEEP,
        ),
        (
            format!("select 'a'{} from dual", " || 'a'".repeat(n)),
            TREE_TOO_DEEP,
        ),
        (
            format!("select 1 from dual where 1 = 1{}", " and 1 = 1".repeat(n)),
            TREE_TOO_DEEP,
        ),
        (
            format!("select 1 from dual where 1 = 0{}", " or 1 = 1".repeat(n)),
            TREE_TOO_DEEP,
        ),
        (
            format!("select {}1 from dual", "- ".repeat(n)),
            NESTED_TOO_DEEP,
        ),
        (
            format!("select 1 from dual where {}1 = 1", "not ".repeat(n)),
            NESTED_TOO_DEEP,
        ),
        (
            format!("select {}1{} from dual", "nvl(".repeat(n), ", 0)".repeat(n)),
            NESTED_TOO_DEEP,
        ),
        (
            format!(
                "select {}1{} from dual",
                "case when 1 = 1 then ".repeat(n),
                " end".repeat(n)
            ),
            NESTED_TOO_DEEP,
        ),
        // The V$ views have a parser of their own.
        (
            format!(
                "select sid from v$session where {}sid = 1{}",
                "(".repeat(n),
                ")".repeat(n)
            ),
            NESTED_TOO_DEEP,
        ),
        (
            format!(
                "select sid from v$session where sid = 1{}",
                " and sid = 1".repeat(n)
            ),
            TREE_TOO_DEEP,
        ),
    ];
    let expected: Vec<&str> = statements.iter().map(|(_, e)| *e).collect();
    let answers = on_session_stack(move || {
        statements
            .iter()
            .map(|(s, _)| run_whole(s))
            .collect::<Vec<_>>()
    });
    for (k, (answer, error)) in answers.into_iter().zip(expected).enumerate() {
        assert_eq!(answer, Err(error.to_owned()), "statement {k}");
    }
}

#[test]
fn subqueries_nest_255_deep_then_ora_01778() {
    // The innermost query's item nests as deep as an expression may.
    let deepest_case = deepest_case_around("1");
    let nested = move |n: usize| {
        format!(
            "select x from {}(select {deepest_case} x from dual){} where x = 1",
            "(select x from ".repeat(n),
            ")".repeat(n)
        )
    };
    let answers = on_session_stack(move || [254, 255, 100_000].map(|n| run_whole(&nested(n))));
    // 254 around the innermost: 255 subqueries.
    assert_eq!(answers[0], Ok(num("1")));
    let too_many = Err("ORA-01778: maximum subquery nesting level exceeded".to_owned());
    assert_eq!(answers[1], too_many);
    assert_eq!(answers[2], too_many);
}

#[test]
fn like_with_a_long_pattern_is_neither_recursive_nor_exponential() {
    let text = "a".repeat(100_000);
    let answers = on_session_stack(move || {
        let like = |pattern: &str| {
            run_whole(&format!(
                "select count(*) from dual where '{text}' like '{pattern}'"
            ))
        };
        [
            like(&"_".repeat(100_000)),
            like(&"%a".repeat(50_000)),
            like(&format!("{}b", "%a".repeat(30))),
            like("%"),
            like("a%a%a%"),
            like("%b%"),
        ]
    });
    let [all_underscores, percent_a, no_b, percent, some, b] = answers;
    assert_eq!(all_underscores, Ok(num("1")));
    assert_eq!(percent_a, Ok(num("1")));
    assert_eq!(no_b, Ok(num("0")));
    assert_eq!(percent, Ok(num("1")));
    assert_eq!(some, Ok(num("1")));
    assert_eq!(b, Ok(num("0")));
    // The matcher against Oracle's rules on small cases.
    for (t, p, m) in [
        ("abc", "a_c", true),
        ("abc", "a%", true),
        ("abc", "%c", true),
        ("abc", "%b%", true),
        ("abc", "%d%", false),
        ("abc", "ab", false),
        ("", "%", true),
        ("", "_", false),
        ("aXbXc", "a%b%c", true),
        ("ab", "a%%b", true),
        ("mississippi", "%iss%ipp%", true),
        ("mississippi", "%iss%ipx%", false),
    ] {
        let got = rows(&format!("select 1 from dual where '{t}' like '{p}'"))
            .map(|(_, r)| r.len() == 1)
            .unwrap_or_else(|e| panic!("{t} like {p}: {}", e.text()));
        assert_eq!(got, m, "'{t}' like '{p}'");
    }
}
