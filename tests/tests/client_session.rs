//! The Rust client library against the real session engine (the dedicated-server loop,
//! in process on 127.0.0.1:0): the same scenarios python-oracledb runs in
//! `session_python.rs` — login, `select 1 from dual` and its re-execute, 1000 rows fetched
//! in batches, VARCHAR2 and NULL columns, SYS_CONTEXT SID, ORA-00942 then still usable,
//! ORA-01017, ping/commit/rollback, a call timeout during DBMS_SESSION.SLEEP, 50
//! connect/query/close cycles that leave no session behind, a long descriptor and
//! EZConnect Plus; a query with IN binds, and a block's IN-only and OUT binds.

use std::time::Duration;

use client::{Bind, ClientError, ClientIdentity, ConnectOptions, Connection, Value};
use server_proc::dedicated::SessionEnd;
use tests::py::{InProcessServer, start_server};

const WAIT: Duration = Duration::from_secs(30);

fn opts() -> ConnectOptions {
    ConnectOptions {
        // An empty naming directory: EZConnect strings resolve, aliases do not.
        resolver: config::naming::Resolver::default(),
        ..ConnectOptions::default()
    }
}

fn dsn(s: &InProcessServer) -> String {
    format!("127.0.0.1:{}/ORCL", s.port)
}

fn connect(s: &InProcessServer) -> Connection {
    Connection::connect_with(&dsn(s), "scott", "tiger", &opts()).expect("connect")
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {v:?}"))
}

#[test]
fn login_select_one_and_reexecute() {
    let s = start_server();
    let mut c = connect(&s);
    let info = c.session_info().clone();
    assert_eq!(info.server_version, "19.3.0.0.0");
    assert!(info.session_id > 0);
    assert!(info.tns_version >= 315);
    let r = c.query("select 1 from dual").expect("select 1");
    assert_eq!(r.columns.len(), 1);
    assert_eq!(r.columns[0].name, "1");
    assert_eq!(r.columns[0].type_name, "NUMBER");
    assert_eq!((r.columns[0].precision, r.columns[0].scale), (0, -127));
    assert_eq!(
        r.rows,
        vec![vec![Value::Number(tns::ttc::types::Decimal::from_i128(1))]]
    );
    assert_eq!(c.stats().executes, 1);
    // The same SQL again goes out as REEXECUTE_AND_FETCH on the cached cursor.
    let r = c.query("select 1 from dual").expect("select 1 again");
    assert_eq!(int(&r.rows[0][0]), 1);
    assert_eq!(c.stats().executes, 1);
    assert_eq!(c.stats().reexecutes, 1);
    c.close().expect("close");
    assert!(matches!(
        s.ends.recv_timeout(WAIT),
        Ok(Ok(SessionEnd::Logoff))
    ));
}

#[test]
fn thousand_levels_are_fetched_in_batches() {
    let s = start_server();
    let mut c = connect(&s);
    let mut cur = c
        .execute("SELECT LEVEL FROM DUAL CONNECT BY LEVEL <= 1000")
        .expect("execute");
    assert_eq!(cur.columns()[0].name, "LEVEL");
    let mut n = 0;
    let mut sum = 0;
    for row in cur.by_ref() {
        let row = row.expect("row");
        n += 1;
        sum += int(&row[0]);
        assert_eq!(int(&row[0]), n);
    }
    assert_eq!((n, sum), (1000, 500_500));
    // 2 rows with the execute, then FETCHes of 100: 998 rows need 10 of them.
    assert_eq!(c.stats().fetches, 10);
    assert_eq!(c.stats().executes, 1);
    let r = c
        .query("select count(*) from dual connect by level <= 5000")
        .expect("count");
    assert_eq!(int(&r.rows[0][0]), 5000);
    c.close().expect("close");
}

#[test]
fn varchar2_null_user_and_sid() {
    let s = start_server();
    let mut c = connect(&s);
    let r = c
        .query("select 'hello' as greeting, null, user, 1+2*3 from dual")
        .expect("mixed");
    assert_eq!(r.columns[0].name, "GREETING");
    assert_eq!(r.rows[0][0], Value::Text("hello".into()));
    assert_eq!(r.rows[0][1], Value::Null);
    assert_eq!(r.rows[0][2], Value::Text("SCOTT".into()));
    assert_eq!(int(&r.rows[0][3]), 7);
    let r = c
        .query("select sys_context('USERENV','SID') from dual")
        .expect("sid");
    assert_eq!(
        r.rows[0][0].to_string(),
        c.session_info().session_id.to_string()
    );
    c.close().expect("close");
}

#[test]
fn ora_00942_then_the_session_still_works() {
    let s = start_server();
    let mut c = connect(&s);
    let e = c.query("select * from missing_table").unwrap_err();
    match &e {
        ClientError::Database {
            code,
            message,
            offset,
        } => {
            assert_eq!(*code, 942);
            assert_eq!(message, "ORA-00942: table or view does not exist");
            assert_eq!(*offset, Some(14));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!e.is_fatal());
    assert!(c.is_open());
    let r = c.query("select 1 from dual").expect("still usable");
    assert_eq!(int(&r.rows[0][0]), 1);
    c.close().expect("close");
}

#[test]
fn wrong_password_is_ora_01017() {
    let s = start_server();
    let e = Connection::connect_with(&dsn(&s), "scott", "wrong", &opts()).unwrap_err();
    assert_eq!(e.code(), Some(1017), "{e}");
    assert!(e.to_string().starts_with("ORA-01017: "), "{e}");
    let e = Connection::connect_with(&dsn(&s), "nosuchuser", "tiger", &opts()).unwrap_err();
    assert_eq!(e.code(), Some(1017), "{e}");
}

#[test]
fn ping_commit_rollback() {
    let s = start_server();
    let mut c = connect(&s);
    let before = c.stats().round_trips;
    c.ping().expect("ping");
    c.commit().expect("commit");
    c.rollback().expect("rollback");
    assert_eq!(c.stats().round_trips, before + 3);
    let r = c.query("commit").expect("commit statement");
    assert!(r.columns.is_empty());
    let r = c.query("rollback").expect("rollback statement");
    assert!(r.columns.is_empty());
    c.close().expect("close");
}

#[test]
fn call_timeout_during_sleep_interrupts_and_session_survives() {
    let s = start_server();
    let mut c = connect(&s);
    c.set_call_timeout(Some(Duration::from_millis(500)))
        .expect("call timeout");
    let e = c.query("BEGIN DBMS_SESSION.SLEEP(5); END;").unwrap_err();
    assert_eq!(e.code(), Some(1013), "{e}");
    assert!(c.is_open());
    c.set_call_timeout(None).expect("no call timeout");
    let r = c.query("select 1 from dual").expect("usable after cancel");
    assert_eq!(int(&r.rows[0][0]), 1);
    let r = c
        .query("BEGIN DBMS_SESSION.SLEEP(0.1); END;")
        .expect("short sleep");
    assert!(r.columns.is_empty());
    c.close().expect("close");
}

#[test]
fn fifty_connect_query_close_cycles_leave_no_session() {
    let s = start_server();
    for i in 0..50 {
        let mut c = connect(&s);
        let r = c.query("select 1 from dual").expect("select");
        assert_eq!(int(&r.rows[0][0]), 1, "cycle {i}");
        c.close().expect("close");
        assert!(
            matches!(s.ends.recv_timeout(WAIT), Ok(Ok(SessionEnd::Logoff))),
            "cycle {i}"
        );
    }
    assert!(s.instance.open_sessions().is_empty());
}

#[test]
fn dropping_a_connection_logs_off() {
    let s = start_server();
    {
        let mut c = connect(&s);
        c.ping().expect("ping");
    }
    assert!(matches!(
        s.ends.recv_timeout(WAIT),
        Ok(Ok(SessionEnd::Logoff))
    ));
    assert!(s.instance.open_sessions().is_empty());
}

#[test]
fn long_descriptor_and_ezconnect_plus() {
    let s = start_server();
    // A 200-character program name pushes the descriptor past 230 bytes: the CONNECT then
    // travels with its overflow DATA packet.
    let o = ConnectOptions {
        identity: ClientIdentity {
            program: "p".repeat(200),
            ..ClientIdentity::current()
        },
        ..opts()
    };
    let mut c = Connection::connect_with(&dsn(&s), "scott", "tiger", &o).expect("long");
    assert_eq!(int(&c.query("select 1 from dual").unwrap().rows[0][0]), 1);
    c.close().expect("close");
    let plus = format!(
        "tcp://127.0.0.1:{}/ORCL?connect_timeout=10&transport_connect_timeout=5&retry_count=1",
        s.port
    );
    let mut c = Connection::connect_with(&plus, "scott", "tiger", &opts()).expect("ezconnect+");
    assert_eq!(int(&c.query("select 1 from dual").unwrap().rows[0][0]), 1);
    c.close().expect("close");
}

#[test]
fn o5logon_with_an_11g_verifier() {
    use std::sync::Arc;
    use tests::client_harness::{StaticCredentials, start_server_with};
    use tns::o5logon::Verifier;
    let creds = StaticCredentials(vec![(
        "LEGACY".to_string(),
        Verifier::new_11g(b"Secret11", b"0123456789"),
    )]);
    let port = start_server_with(Arc::new(creds));
    let dsn = format!("127.0.0.1:{port}/ORCL");
    let mut c = Connection::connect_with(&dsn, "legacy", "Secret11", &opts()).expect("11g login");
    assert_eq!(int(&c.query("select 1 from dual").unwrap().rows[0][0]), 1);
    c.close().expect("close");
    let e = Connection::connect_with(&dsn, "legacy", "secret11", &opts()).unwrap_err();
    assert_eq!(e.code(), Some(1017), "{e}");
}

#[test]
fn statement_cache_evicts_and_closes_cursors() {
    let s = start_server();
    let mut c = connect(&s);
    for i in 0..25 {
        let r = c.query(&format!("select {i} from dual")).expect("select");
        assert_eq!(int(&r.rows[0][0]), i);
    }
    c.ping().expect("ping");
    // 20 statements stay cached; the 5 oldest cursors were closed by piggyback.
    assert_eq!(c.stats().cursors_closed, 5);
    let r = c.query("select 24 from dual").expect("cached");
    assert_eq!(int(&r.rows[0][0]), 24);
    assert_eq!(c.stats().reexecutes, 1);
    let r = c
        .query("select 0 from dual")
        .expect("evicted, parsed again");
    assert_eq!(int(&r.rows[0][0]), 0);
    assert_eq!(c.stats().executes, 26);
    c.close().expect("close");
}

#[test]
fn small_sdu_splits_responses_across_packets() {
    let s = start_server();
    let d = format!(
        "(DESCRIPTION=(SDU=512)(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME=ORCL)))",
        s.port
    );
    let mut c = Connection::connect_with(&d, "scott", "tiger", &opts()).expect("connect");
    assert_eq!(c.session_info().sdu, 512);
    // 100-row batches of ~40-byte rows do not fit one 512-byte packet: every FETCH answer
    // is reassembled from several DATA packets.
    let r = c
        .query(
            "select level, 'a fairly long constant string value' from dual connect by level <= 300",
        )
        .expect("query");
    assert_eq!(r.rows.len(), 300);
    assert_eq!(int(&r.rows[299][0]), 300);
    assert_eq!(
        r.rows[0][1],
        Value::Text("a fairly long constant string value".into())
    );
    // A request longer than the SDU goes out in several DATA packets too.
    let long = format!("select {} from dual", vec!["1"; 400].join(" + "));
    assert!(long.len() > 1500);
    let r = c.query(&long).expect("long statement");
    assert_eq!(int(&r.rows[0][0]), 400);
    assert!(c.is_open());
    assert_eq!(int(&c.query("select 2 from dual").unwrap().rows[0][0]), 2);
    c.close().expect("close");
}

#[test]
fn a_killed_session_reports_the_error_and_is_closed() {
    let s = start_server();
    let mut c = connect(&s);
    let sid = c.session_info().session_id;
    let slot = s
        .instance
        .open_sessions()
        .into_iter()
        .find(|x| x.sid == sid)
        .expect("our session in the instance");
    s.instance.kill(slot);
    let e = c.query("select 1 from dual").unwrap_err();
    assert!(e.is_fatal(), "{e}");
    assert!(matches!(e.code(), Some(28 | 3113)), "{e}");
    assert!(!c.is_open());
    let e = c.ping().unwrap_err();
    assert_eq!(e.to_string(), "ORA-03114: not connected to ORACLE");
    // close() on a dead session is a no-op, not an error.
    c.close().expect("close after death");
}

#[test]
fn query_binds_and_a_blocks_in_only_binds_keep_their_places() {
    let s = start_server();
    let mut c = connect(&s);
    let n = |v: &str| tns::ttc::types::Decimal::parse(v).expect("decimal");
    let binds = [
        Bind::Number(Some(n("21"))),
        Bind::Text {
            value: Some("ab".into()),
            size: 10,
        },
    ];
    let closed = c.stats().cursors_closed;
    for _ in 0..2 {
        // Run twice: a statement with binds is not re-executed from the cache without them.
        let rows: Vec<Vec<Value>> = c
            .execute_with("select :n * 2, :s || 'c' from dual", &binds)
            .expect("execute")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            rows,
            vec![vec![Value::Number(n("42")), Value::Text("abc".into())]]
        );
    }
    // Each of those two cursors was closed once, with the next call.
    c.ping().expect("ping");
    assert_eq!(c.stats().cursors_closed, closed + 2);
    // A bound query given up before its last row is closed too.
    let mut rows = c
        .execute_with(
            "select level * :n from dual connect by level <= 1000",
            &binds[..1],
        )
        .expect("execute");
    assert_eq!(
        rows.next().map(|r| r.expect("row")),
        Some(vec![Value::Number(n("21"))])
    );
    rows.close();
    c.ping().expect("ping");
    assert_eq!(c.stats().cursors_closed, closed + 3);
    // :a is only read (IN: the server sends no value for it), :b is written.
    let out = c
        .call_plsql(
            "begin dbms_output.put_line(:a); :b := 7; end;",
            &[
                Bind::Text {
                    value: Some("in".into()),
                    size: 10,
                },
                Bind::Number(None),
            ],
        )
        .expect("block");
    assert_eq!(
        out,
        vec![vec![Value::Text("in".into())], vec![Value::Number(n("7"))]]
    );
    c.close().expect("close");
}
