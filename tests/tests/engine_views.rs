//! Data-driven tests of the engine's V$ query subset over a fixed snapshot (here, not in the
//! engine crate, so that the engine's manifest keeps no test-only dependency that does I/O).

use engine::OraError;
use engine::rows::{InstanceRow, ProcessRow, SessionRow};
use engine::rows::{InstanceState, ProcessKind, ServerKind, SessionStatus, SessionType};
use engine::views::*;

fn snapshot() -> Snapshot {
    let proc_row = |pid: u32, spid: i32, pname: Option<&str>, bg: bool| ProcessRow {
        addr: format!("{:016X}", 0x8A40_0100 + u64::from(pid) * 0x100),
        pid,
        serial: 1,
        spid,
        pname: pname.map(str::to_string),
        username: "oracle".into(),
        terminal: "UNKNOWN".into(),
        program: match pname {
            Some(p) => format!("oracle@db ({p})"),
            None => "oracle@db (TNS V1-V3)".into(),
        },
        background: bg,
        kind: if bg {
            ProcessKind::Background
        } else {
            ProcessKind::Dedicated
        },
    };
    let sess = |sid: u32, serial: u32, user: Option<&str>, status, pid: u32, bg: bool| SessionRow {
        saddr: format!("{:016X}", 0x8A50_0000 + u64::from(sid) * 0x200),
        sid,
        serial,
        audsid: u64::from(sid) * 10,
        paddr: format!("{:016X}", 0x8A40_0100 + u64::from(pid) * 0x100),
        user_id: 0,
        username: user.map(str::to_string),
        status,
        server: ServerKind::Dedicated,
        osuser: "alice".into(),
        process: "4242".into(),
        machine: "client".into(),
        port: 50000,
        terminal: "pts/1".into(),
        program: if bg {
            "oracle@db (PMON)".into()
        } else {
            "python3".into()
        },
        session_type: if bg {
            SessionType::Background
        } else {
            SessionType::User
        },
        module: String::new(),
        logon_time: 1_795_350_000,
        last_call_et: u64::from(sid),
        service_name: if bg {
            "SYS$BACKGROUND".into()
        } else {
            "orcl".into()
        },
        owner_spid: 0,
    };
    Snapshot {
        processes: vec![
            proc_row(1, 100, Some("PMON"), true),
            proc_row(3, 300, None, false),
            proc_row(4, 400, None, false),
        ],
        sessions: vec![
            sess(1, 1, None, SessionStatus::Inactive, 1, true),
            sess(7, 12, Some("SCOTT"), SessionStatus::Active, 3, false),
            sess(9, 3, Some("HR"), SessionStatus::Killed, 4, false),
        ],
        instance: Some(InstanceRow {
            instance_number: 1,
            instance_name: "orcl".into(),
            host_name: "db".into(),
            version: "19.0.0.0.0".into(),
            startup_time: 1_795_340_000,
            status: InstanceState::Open,
            shutdown_pending: false,
            logins_restricted: false,
            database_status: "ACTIVE",
            instance_role: "PRIMARY_INSTANCE",
            db_name: "ORCL".into(),
            sid: "ORCL".into(),
            instance_pid: 99,
        }),
        ..Snapshot::default()
    }
}

fn ctx() -> QueryContext {
    QueryContext {
        userenv: vec![
            ("SID".into(), "7".into()),
            ("SESSION_USER".into(), "HR".into()),
            ("SESSIONID".into(), "70".into()),
        ],
        binds: vec![("SID".into(), Cell::Int(9)), ("1".into(), Cell::Int(9))],
    }
}

fn run(sql: &str) -> Result<ResultSet, OraError> {
    match parse(sql)? {
        Some(Statement::Query(q)) => q.execute(&snapshot(), &ctx()),
        other => panic!("not a view query: {other:?}"),
    }
}

/// Renders a result as `COL|COL` header and `v|v` lines (NULL as empty).
fn render(rs: &ResultSet) -> String {
    let mut s = rs
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join("|");
    for r in &rs.rows {
        s.push('\n');
        s.push_str(
            &r.iter()
                .map(|c| match c {
                    Cell::Null => String::new(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Text(t) | Cell::Raw(t) => t.clone(),
                    Cell::Date(d) => format!("@{d}"),
                })
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    s
}

#[test]
fn queries_render_as_expected() {
    let cases: &[(&str, &str)] = &[
        (
            "select sid, serial#, username, status from v$session where type = 'USER' order by sid",
            "SID|SERIAL#|USERNAME|STATUS\n7|12|SCOTT|ACTIVE\n9|3|HR|KILLED",
        ),
        (
            "SELECT SID FROM V$SESSION WHERE SID = SYS_CONTEXT('USERENV','SID')",
            "SID\n7",
        ),
        (
            "select sid, username from v$session where username in ('HR', 'SCOTT') and status <> 'ACTIVE'",
            "SID|USERNAME\n9|HR",
        ),
        ("select sid from v$session where sid = :sid", "SID\n9"),
        ("select sid from v$session where sid = :1", "SID\n9"),
        (
            "select count(*) from v$session where username is not null",
            "COUNT(*)\n2",
        ),
        (
            "select s.sid, p.spid from v$session s, v$process p where s.paddr = p.addr and s.type = 'USER' order by 1 desc",
            "SID|SPID\n9|400\n7|300",
        ),
        (
            "select pid, pname, background from v$process order by pid",
            "PID|PNAME|BACKGROUND\n1|PMON|1\n3||\n4||",
        ),
        (
            "select instance_name, status, logins, shutdown_pending from v$instance",
            "INSTANCE_NAME|STATUS|LOGINS|SHUTDOWN_PENDING\norcl|OPEN|ALLOWED|NO",
        ),
        (
            "select name, open_mode, database_role, log_mode from v$database",
            "NAME|OPEN_MODE|DATABASE_ROLE|LOG_MODE\nORCL|READ WRITE|PRIMARY|NOARCHIVELOG",
        ),
        (
            "select username u from sys.v$session where sid > 1 and (sid = 7 or sid = 9) order by u",
            "U\nHR\nSCOTT",
        ),
        ("select sid from v$session where username = 'NOBODY'", "SID"),
        (
            "select sid from v$session where sid not in (1, 7);",
            "SID\n9",
        ),
        (
            "select distinct status from v$session order by status",
            "STATUS\nACTIVE\nINACTIVE\nKILLED",
        ),
        (
            "select distinct server, type from v$session where type = 'USER'",
            "SERVER|TYPE\nDEDICATED|USER",
        ),
        (
            "select sid from v$session where rownum <= 2 order by sid desc",
            "SID\n7\n1",
        ),
        ("select sid from v$session where rownum = 2", "SID"),
        (
            "select sid from v$session where type = 'USER' and rownum < 2",
            "SID\n7",
        ),
        (
            "select sid from v$session order by username desc",
            "SID\n1\n7\n9",
        ),
        (
            "select sid, last_call_et from v$session where sid >= '7' order by last_call_et desc",
            "SID|LAST_CALL_ET\n9|9\n7|7",
        ),
    ];
    for (sql, want) in cases {
        let got = run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(render(&got), *want, "{sql}");
    }
}

#[test]
fn star_lists_every_column_in_order() {
    let rs = run("select * from v$process where pid = 3").unwrap();
    let names: Vec<_> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&names[..4], ["ADDR", "PID", "SOSID", "SPID"]);
    assert_eq!(rs.rows.len(), 1);
    let rs = run(
        "select s.*, p.spid from v$session s, v$process p where s.paddr = p.addr and s.sid = 7",
    )
    .unwrap();
    assert_eq!(rs.columns.len(), View::Session.columns().len() + 1);
    assert_eq!(rs.rows[0].last(), Some(&Cell::Text("300".into())));
    assert_eq!(rs.columns[1].ty, ColumnType::Number);
    assert_eq!(rs.columns[0].ty, ColumnType::Raw(8));
}

#[test]
fn errors_carry_oracle_codes_and_offsets() {
    let cases: &[(&str, u32, usize)] = &[
        ("select nosuch from v$session", 904, 7),
        ("select sid from v$nosuch", 942, 16),
        (
            "select sid from v$session s, v$process p where sid = 1",
            0,
            0,
        ),
        ("select serial# from v$session s, v$process p", 918, 7),
        ("select sid from v$session where", 936, 31),
        ("select sid from v$session where sid = :nope", 1008, 38),
        ("select sid from v$session order by 5", 1785, 35),
        ("select sid from v$session xyz abc", 933, 30),
        ("select sid, count(*) from v$session", 937, 0),
    ];
    for (sql, code, at) in cases {
        let r = run(sql);
        if *code == 0 {
            assert!(r.is_ok(), "{sql}: {r:?}");
            continue;
        }
        let e = r.unwrap_err();
        assert_eq!((e.code, e.offset as usize), (*code, *at), "{sql}: {e}");
    }
    assert_eq!(
        run("select nosuch from v$session").unwrap_err().to_string(),
        "ORA-00904: \"NOSUCH\": invalid identifier"
    );
}

#[test]
fn only_v_dollar_statements_are_claimed() {
    assert_eq!(parse("select 1 from dual").unwrap(), None);
    assert_eq!(parse("begin dbms_session.sleep(1); end;").unwrap(), None);
    assert_eq!(parse("select * from (select 1 from dual)").unwrap(), None);
    assert!(matches!(
        parse("select sid from v$session").unwrap(),
        Some(Statement::Query(_))
    ));
}

#[test]
fn alter_system_forms() {
    let ok: &[(&str, AlterSystem)] = &[
        (
            "ALTER SYSTEM KILL SESSION '12,345'",
            AlterSystem::KillSession {
                target: "12,345".into(),
                immediate: false,
            },
        ),
        (
            "alter system kill session '12, 345, @1' immediate;",
            AlterSystem::KillSession {
                target: "12, 345, @1".into(),
                immediate: true,
            },
        ),
        (
            "alter system disconnect session '12,345' immediate",
            AlterSystem::DisconnectSession {
                target: "12,345".into(),
            },
        ),
        (
            "alter system disconnect session '12,345' post_transaction",
            AlterSystem::DisconnectSession {
                target: "12,345".into(),
            },
        ),
        ("ALTER SYSTEM REGISTER", AlterSystem::Register),
    ];
    for (sql, want) in ok {
        assert_eq!(
            parse(sql).unwrap(),
            Some(Statement::AlterSystem(want.clone())),
            "{sql}"
        );
    }
    let bad: &[(&str, u32)] = &[
        ("alter system disconnect session '1,2'", 2000),
        ("alter system kill session 12", 26),
        ("alter system frobnicate", 2065),
        ("alter system kill session '1,2' sideways", 933),
    ];
    for (sql, code) in bad {
        assert_eq!(parse(sql).unwrap_err().code, *code, "{sql}");
    }
}

proptest::proptest! {
    /// SQL text comes from the network: parsing and running it never panics, whatever it is.
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        if let Ok(Some(Statement::Query(q))) = parse(&s) {
            let _ = q.execute(&snapshot(), &ctx());
        }
    }

    /// Queries built from view vocabulary exercise the evaluator without panicking.
    #[test]
    fn view_shaped_queries_never_panic(
        cols in proptest::collection::vec("(sid|serial#|username|status|s\\.sid|p\\.spid|\\*|count\\(\\*\\)|nosuch)", 1..4),
        from in "(v\\$session|v\\$process|v\\$instance|v\\$session s, v\\$process p|v\\$nosuch)",
        cond in "( where sid = 1| where sid in \\(1, 7\\)| where s\\.paddr = p\\.addr| where username <> 'X' and sid > :1| order by 1 desc| order by sid|)",
    ) {
        let sql = format!("select {} from {}{}", cols.join(", "), from, cond);
        if let Ok(Some(Statement::Query(q))) = parse(&sql) {
            let _ = q.execute(&snapshot(), &ctx());
        }
    }
}
