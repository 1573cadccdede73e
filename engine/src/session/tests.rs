//! The engine driven in memory by our own client-side codec: negotiation, O5LOGON,
//! queries, fetches, errors, breaks and logoff — no sockets.

use super::*;
use tns::ttc::buf::Reader;
use tns::ttc::message::{
    ColumnMetadata, DataTypesRequest, ProtocolRequest, function, skip_data_types_reply,
};
use tns::ttc::request::{
    write_auth, write_close_cursors, write_execute, write_fetch, write_function_header,
    write_reexecute,
};
use tns::ttc::response::{ResponseDecoder, ResponseKind, ResponseMessage};
use tns::ttc::types::Decimal;

struct StaticCreds(Vec<(String, Verifier)>);

impl Credentials for StaticCreds {
    fn verifier(&self, user: &str) -> Option<Verifier> {
        self.0
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, v)| v.clone())
    }

    fn grants(&self, user: &str) -> Vec<String> {
        if user == "ADMIN" {
            vec!["SYSDBA".into(), GRANT_ALTER_SYSTEM.into()]
        } else {
            Vec::new()
        }
    }
}

fn session() -> (Session, Arc<LocalInstance>) {
    let inst = Arc::new(LocalInstance::new("orcl", 20));
    (session_on(inst.clone()), inst)
}

fn session_on(inst: Arc<dyn InstanceHooks>) -> Session {
    let creds = StaticCreds(vec![
        (
            "SCOTT".into(),
            Verifier::new_12c(b"tiger", &[5u8; 16], 4096),
        ),
        (
            "ADMIN".into(),
            Verifier::new_12c(b"tiger", &[6u8; 16], 4096),
        ),
    ]);
    let cfg = SessionConfig {
        service_name: "ORCL".into(),
        db_domain: String::new(),
        server_host: "dbhost".into(),
        max_open_cursors: 300,
    };
    Session::new(cfg, Arc::new(creds), inst, seeded_random(7))
}

/// A deterministic byte source (splitmix64) for reproducible session keys.
pub(crate) fn seeded_random(seed: u64) -> RandomSource {
    let mut state = seed;
    Box::new(move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
    })
}

fn one_send(acts: Vec<Action>) -> Vec<u8> {
    assert_eq!(acts.len(), 1, "{acts:?}");
    match acts.into_iter().next() {
        Some(Action::Send(b)) => b,
        other => panic!("expected Send, got {other:?}"),
    }
}

fn messages(bytes: &[u8], cols: &mut Vec<ColumnMetadata>) -> Vec<ResponseMessage> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        // PARAMETER decodes as key/value pairs: the engine sends it only in the AUTH phases.
        let mut dec = ResponseDecoder::new(12, ResponseKind::Auth, cols.clone());
        let m = dec.decode(&mut r).unwrap();
        if let ResponseMessage::Describe(c) = &m {
            *cols = c.clone();
        }
        out.push(m);
    }
    out
}

fn login(s: &mut Session, password: &[u8]) -> Vec<ResponseMessage> {
    login_as(s, "scott", password, 0x101)
}

fn login_as(s: &mut Session, user: &str, password: &[u8], mode: u32) -> Vec<ResponseMessage> {
    let mut w = Writer::new();
    ProtocolRequest {
        version: 6,
        driver: b"test".to_vec(),
    }
    .encode(&mut w);
    let reply = one_send(s.on_data(w.as_bytes()));
    let pr = ProtocolReply::decode(&mut Reader::new(&reply)).unwrap();
    assert_eq!(pr.field_version(), Some(12));
    assert_eq!(pr.ncharset(), Some(2000));
    let mut caps = vec![0u8; 55];
    caps[7] = 12;
    let mut w = Writer::new();
    DataTypesRequest {
        charset: 873,
        ncharset: 873,
        flags: 3,
        compile_caps: caps,
        runtime_caps: vec![0; 11],
        client_time_zone: None,
        types: vec![],
    }
    .encode(&mut w);
    let reply = one_send(s.on_data(w.as_bytes()));
    skip_data_types_reply(&mut Reader::new(&reply)).unwrap();
    assert_eq!(s.field_version(), 12);
    let mut w = Writer::new();
    let a1 = Auth {
        user: user.into(),
        mode: 1,
        pairs: vec![KeyValue::new("AUTH_PROGRAM_NM", "t", 0)],
    };
    write_auth(&mut w, function::AUTH_PHASE_ONE, 1, 12, &a1);
    let mut cols = Vec::new();
    let m = messages(&one_send(s.on_data(w.as_bytes())), &mut cols);
    let ResponseMessage::Parameters(challenge) = &m[0] else {
        panic!("{m:?}")
    };
    let mut rng = |b: &mut [u8]| b.fill(9);
    let ans = o5logon::client_answer(password, challenge, &mut rng).unwrap();
    let a2 = Auth {
        user: user.into(),
        mode,
        pairs: ans.pairs.clone(),
    };
    let mut w = Writer::new();
    write_auth(&mut w, function::AUTH_PHASE_TWO, 2, 12, &a2);
    let m = messages(&one_send(s.on_data(w.as_bytes())), &mut cols);
    if let ResponseMessage::Parameters(p) = &m[0] {
        let svr = tns::ttc::buf::find_key(p, "AUTH_SVR_RESPONSE").unwrap();
        o5logon::client_check_server_response(&ans.combo_key, &svr.value_str()).unwrap();
    }
    m
}

fn exec(sql: &str, prefetch: u32, seq: u8) -> Vec<u8> {
    let ex = Execute {
        options: 0x8061,
        cursor_id: 0,
        sql: Some(sql.as_bytes().to_vec()),
        prefetch_rows: prefetch,
        al8i4: vec![1, 0, 0, 0, 0, 0, 0, 1, 0, 0x8000, 0, 0, 0],
        binds: vec![],
        defines: vec![],
        bind_rows: vec![],
    };
    let mut w = Writer::new();
    write_execute(&mut w, seq, 12, &ex);
    w.into_bytes()
}

fn end(m: &[ResponseMessage]) -> &ErrorInfo {
    match m.last() {
        Some(ResponseMessage::Error(e)) => e,
        other => panic!("no end-of-call: {other:?}"),
    }
}

#[test]
fn login_select_refetch_and_logoff() {
    let (mut s, inst) = session();
    let m = login(&mut s, b"tiger");
    let ResponseMessage::Parameters(p) = &m[0] else {
        panic!("{m:?}")
    };
    let get = |k: &str| tns::ttc::buf::find_key(p, k).map(|kv| kv.value_str());
    assert_eq!(get("AUTH_SESSION_ID").as_deref(), Some("20"));
    assert_eq!(get("AUTH_VERSION_NO").as_deref(), Some("318963712"));
    assert_eq!(get("AUTH_MAX_OPEN_CURSORS").as_deref(), Some("300"));
    assert_eq!(inst.open_sessions().len(), 1);

    let mut cols = Vec::new();
    let m = messages(
        &one_send(s.on_data(&exec("select 1 from dual", 2, 3))),
        &mut cols,
    );
    assert_eq!(cols.len(), 1);
    assert_eq!(
        (cols[0].name.as_str(), cols[0].precision, cols[0].scale),
        ("1", 0, -127)
    );
    assert!(m.contains(&ResponseMessage::Row(vec![Some(vec![0xC1, 0x02])])));
    let e = end(&m);
    assert_eq!(e.error_code, 1403);
    let cursor = u32::from(e.cursor_id);
    assert_ne!(cursor, 0);

    // Re-execute (78) on the cursor: rows again, no describe.
    let mut w = Writer::new();
    write_reexecute(&mut w, 4, 12, true, cursor, 2);
    let m = messages(&one_send(s.on_data(w.as_bytes())), &mut cols);
    assert_eq!(
        m.iter()
            .filter(|x| matches!(x, ResponseMessage::Row(_)))
            .count(),
        1
    );
    assert_eq!(end(&m).error_code, 1403);

    // Multi-row with batches: never more rows than asked.
    let m = messages(
        &one_send(s.on_data(&exec(
            "select level from dual connect by level <= 250",
            2,
            5,
        ))),
        &mut cols,
    );
    assert_eq!(
        m.iter()
            .filter(|x| matches!(x, ResponseMessage::Row(_)))
            .count(),
        2
    );
    let e = end(&m);
    assert_eq!(e.error_code, 0);
    let c2 = u32::from(e.cursor_id);
    let mut total = 2;
    loop {
        let mut w = Writer::new();
        write_fetch(&mut w, 6, 12, c2, 100);
        let m = messages(&one_send(s.on_data(w.as_bytes())), &mut cols);
        let n = m
            .iter()
            .filter(|x| matches!(x, ResponseMessage::Row(_)))
            .count();
        assert!(n <= 100);
        total += n;
        if end(&m).error_code == 1403 {
            let Some(ResponseMessage::Row(last)) = m
                .iter()
                .rev()
                .find(|x| matches!(x, ResponseMessage::Row(_)))
            else {
                panic!()
            };
            assert_eq!(
                Decimal::from_oracle_number(last[0].as_ref().unwrap())
                    .unwrap()
                    .to_string(),
                "250"
            );
            break;
        }
    }
    assert_eq!(total, 250);

    // Close piggyback then ping.
    let mut w = Writer::new();
    write_close_cursors(&mut w, 7, 12, &[cursor, c2]);
    write_function_header(&mut w, function::PING, 8, 12);
    let reply = one_send(s.on_data(w.as_bytes()));
    assert_eq!(reply, [9, 0, 0]);

    let mut w = Writer::new();
    write_function_header(&mut w, function::LOGOFF, 9, 12);
    assert_eq!(one_send(s.on_data(w.as_bytes())), [9, 0, 0]);
    assert!(s.logged_off());
    assert!(inst.open_sessions().is_empty());
}

#[test]
fn wrong_password_and_unknown_user_get_ora_01017() {
    let (mut s, inst) = session();
    let m = login(&mut s, b"TIGER");
    let e = end(&m);
    assert_eq!(e.error_code, 1017);
    assert!(e.message.as_deref().unwrap().starts_with("ORA-01017"));
    assert!(inst.open_sessions().is_empty());

    // A user that does not exist gets a challenge too, then the very same error: the
    // answer does not tell which users exist.
    let (mut s, inst) = session();
    let m = login_as(&mut s, "nosuchuser", b"tiger", 0x101);
    let u = end(&m);
    assert_eq!(u.error_code, 1017);
    assert_eq!(u.message, e.message);
    assert!(inst.open_sessions().is_empty());
}

#[test]
fn errors_keep_the_session_usable_and_sleep_can_be_cancelled() {
    let (mut s, _) = session();
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let m = messages(
        &one_send(s.on_data(&exec("select * from missing", 2, 3))),
        &mut cols,
    );
    let e = end(&m);
    assert_eq!((e.error_code, e.error_pos), (942, 14));
    assert_eq!(
        e.message.as_deref(),
        Some("ORA-00942: table or view does not exist")
    );

    // A split request: nothing until the last byte arrives.
    let req = exec("begin dbms_session.sleep(5); end;", 1, 4);
    assert!(s.on_data(&req[..10]).is_empty());
    let acts = s.on_data(&req[10..]);
    assert_eq!(acts, [Action::Sleep(Duration::from_secs(5))]);
    assert!(s.is_waiting());
    let acts = s.on_break();
    let [Action::BreakAndSend(b)] = acts.as_slice() else {
        panic!("{acts:?}")
    };
    let m = messages(b, &mut cols);
    assert_eq!(end(&m).error_code, 1013);
    assert!(!s.is_waiting());

    // Still usable, and a sleep that runs to the end answers success.
    let acts = s.on_data(&exec("begin dbms_session.sleep(0.01); end;", 1, 5));
    assert_eq!(acts, [Action::Sleep(Duration::from_millis(10))]);
    let m = messages(&one_send(s.on_timer()), &mut cols);
    assert_eq!(end(&m).error_code, 0);
    let m = messages(
        &one_send(s.on_data(&exec("select sys_context('USERENV','SID') from dual", 2, 6))),
        &mut cols,
    );
    assert!(m.contains(&ResponseMessage::Row(vec![Some(b"20".to_vec())])));
}

#[test]
fn sysdba_needs_the_grant_and_runs_as_sys() {
    let (mut s, _) = session();
    let m = login_as(&mut s, "scott", b"tiger", 0x121);
    assert_eq!(end(&m).error_code, 1031);
    let (mut s, _) = session();
    let m = login_as(&mut s, "admin", b"tiger", 0x121);
    assert_eq!(end(&m).error_code, 0);
    let mut cols = Vec::new();
    let m = messages(
        &one_send(s.on_data(&exec("select user from dual", 2, 3))),
        &mut cols,
    );
    assert!(
        m.contains(&ResponseMessage::Row(vec![Some(b"SYS".to_vec())])),
        "{m:?}"
    );
}

/// An instance started MOUNT: it records the logins' `administrative` flag and the
/// `ALTER DATABASE` calls, and opens on `ALTER DATABASE OPEN`.
#[derive(Debug)]
struct Mounted {
    inner: LocalInstance,
    open: std::sync::atomic::AtomicBool,
    logins: std::sync::Mutex<Vec<bool>>,
    area: super::shared_sql::SharedSql,
}

impl Mounted {
    /// An instance of 40 sessions, mounted, that has seen no login.
    fn started() -> Arc<Mounted> {
        Arc::new(Mounted {
            inner: LocalInstance::new("orcl", 40),
            open: Default::default(),
            logins: Default::default(),
            area: Default::default(),
        })
    }
}

impl InstanceHooks for Mounted {
    fn shared_sql(&self) -> Option<&super::shared_sql::SharedSql> {
        Some(&self.area)
    }
    fn open_session(&self, info: &SessionInfo) -> Result<SessionSlot, OraError> {
        self.logins.lock().unwrap().push(info.administrative);
        self.inner.open_session(info)
    }
    fn close_session(&self, slot: SessionSlot) {
        self.inner.close_session(slot);
    }
    fn instance_name(&self) -> String {
        self.inner.instance_name()
    }
    fn instance_state(&self) -> crate::rows::InstanceState {
        if self.open.load(std::sync::atomic::Ordering::SeqCst) {
            crate::rows::InstanceState::Open
        } else {
            crate::rows::InstanceState::Mounted
        }
    }
    fn alter_database(&self, to: crate::port::DatabaseStage) -> Result<(), OraError> {
        assert_eq!(to, crate::port::DatabaseStage::Open);
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn alter_database_is_for_sysdba_and_a_database_not_open_has_fixed_views_only() {
    let inst = Mounted::started();
    let mut cols = Vec::new();
    let mut scott = session_on(inst.clone());
    login(&mut scott, b"tiger");
    let m = messages(
        &one_send(scott.on_data(&exec("alter database open", 0, 3))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 1031);
    let mut admin = session_on(inst.clone());
    login_as(&mut admin, "admin", b"tiger", 0x121);
    assert_eq!(*inst.logins.lock().unwrap(), vec![false, true]);
    let m = messages(
        &one_send(admin.on_data(&exec("select * from nls_session_parameters", 2, 3))),
        &mut cols,
    );
    assert_eq!((end(&m).error_code, end(&m).error_pos), (1219, 14));
    let m = messages(
        &one_send(admin.on_data(&exec("alter database open", 0, 4))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 0);
    assert!(inst.open.load(std::sync::atomic::Ordering::SeqCst));
    // Open now: the dictionary view answers.
    let m = messages(
        &one_send(admin.on_data(&exec("select * from nls_session_parameters", 2, 5))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 0, "{m:?}");
}

/// How many holders the statement parsed from `text` has: the area and the cursors that
/// share it (`None`: not in the area).
fn area_holders(inst: &Mounted, text: &str) -> Option<usize> {
    inst.area.get(text).map(|p| Arc::strong_count(&p) - 1)
}

#[test]
fn sessions_share_the_statements_of_the_shared_sql_area_once_the_database_is_open() {
    let inst = Mounted::started();
    let mut cols = Vec::new();
    // The call's error code; a query that returned all its rows ends with ORA-01403.
    let mut run = |s: &mut Session, sql: &str| {
        let m = messages(&one_send(s.on_data(&exec(sql, 2, 3))), &mut cols);
        match end(&m).error_code {
            1403 => 0,
            code => code,
        }
    };
    let mut admin = session_on(inst.clone());
    login_as(&mut admin, "admin", b"tiger", 0x121);
    // Mounted: what parses is not kept, since the same text may parse otherwise once open.
    assert_eq!(run(&mut admin, "select 1 from dual"), 0);
    assert_eq!(
        run(&mut admin, "select * from nls_session_parameters"),
        1219
    );
    assert!(inst.area.is_empty());
    assert_eq!(run(&mut admin, "alter database open"), 0);
    assert_eq!(run(&mut admin, "select * from nls_session_parameters"), 0);
    assert_eq!(
        area_holders(&inst, "select * from nls_session_parameters"),
        Some(2)
    );
    // Another session's execute of the same text takes the same tree.
    let mut scott = session_on(inst.clone());
    login(&mut scott, b"tiger");
    assert_eq!(run(&mut scott, "select 1 from dual"), 0);
    assert_eq!(area_holders(&inst, "select 1 from dual"), Some(2));
    assert_eq!(run(&mut admin, "select 1 from dual"), 0);
    assert_eq!(area_holders(&inst, "select 1 from dual"), Some(3));
    // The text is the key, as in Oracle; a statement that does not parse is not kept.
    assert_eq!(run(&mut scott, "SELECT 1 FROM DUAL"), 0);
    assert_eq!(run(&mut scott, "select from dual"), 936);
    assert_eq!(inst.area.len(), 3);
}

#[test]
fn the_shared_sql_area_is_bounded() {
    use super::shared_sql::{CAPACITY, MAX_TEXT, SharedSql};
    let area = SharedSql::new();
    let p = Prepared::new(sql::parse("select 1 from dual").unwrap());
    for i in 0..CAPACITY {
        area.insert(&format!("select {i} from dual"), &p);
    }
    assert_eq!(area.len(), CAPACITY);
    area.insert("select 0 from dual", &p);
    assert_eq!(area.len(), CAPACITY, "a text it holds is replaced");
    area.insert("select -1 from dual", &p);
    assert_eq!(area.len(), 1, "full: emptied, then the new one kept");
    area.insert(&format!("select '{}' from dual", "x".repeat(MAX_TEXT)), &p);
    assert_eq!(area.len(), 1, "a text over MAX_TEXT is not kept");
}

#[test]
fn killed_session_gets_ora_00028_and_close() {
    let (mut s, inst) = session();
    login(&mut s, b"tiger");
    inst.kill(s.slot().unwrap());
    let acts = s.on_data(&exec("select 1 from dual", 2, 3));
    assert_eq!(acts.len(), 2);
    assert_eq!(acts[1], Action::Close);
    assert!(inst.open_sessions().is_empty());
}

#[test]
fn cpu_burning_count_runs_in_slices_and_can_be_cancelled() {
    let (mut s, _) = session();
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let n = 3 * WORK_SLICE + 5;
    let sql = format!("select count(*) from dual connect by level <= {n}");
    assert_eq!(s.on_data(&exec(&sql, 2, 3)), [Action::Busy]);
    let mut slices = 1;
    let reply = loop {
        let acts = s.on_work();
        match acts.as_slice() {
            [Action::Busy] => slices += 1,
            [Action::Send(b)] => break b.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(slices, 4);
    let m = messages(&reply, &mut cols);
    let Some(ResponseMessage::Row(r)) = m.iter().find(|x| matches!(x, ResponseMessage::Row(_)))
    else {
        panic!("{m:?}")
    };
    let count = Decimal::from_oracle_number(r[0].as_ref().unwrap()).unwrap();
    assert_eq!(count.to_string(), n.to_string());

    // Cancelled in the middle: ORA-01013 and the session goes on.
    assert_eq!(s.on_data(&exec(&sql, 2, 4)), [Action::Busy]);
    assert_eq!(s.on_work(), [Action::Busy]);
    let acts = s.on_break();
    let [Action::BreakAndSend(b)] = acts.as_slice() else {
        panic!("{acts:?}")
    };
    assert_eq!(end(&messages(b, &mut cols)).error_code, 1013);
    let m = messages(
        &one_send(s.on_data(&exec("select 1 from dual", 2, 5))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 1403);
}

#[test]
fn endless_plsql_loop_runs_in_slices_and_yields_to_break_and_kill() {
    let (mut s, inst) = session();
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let endless = "declare n number := 0; begin loop n := n + 1; end loop; end;";
    assert_eq!(s.on_data(&exec(endless, 1, 3)), [Action::Busy]);
    assert!(s.is_waiting());
    for _ in 0..3 {
        assert_eq!(s.on_kill_check(), []);
        assert_eq!(s.on_work(), [Action::Busy]);
    }
    // A BREAK ends it with ORA-01013 and the session goes on.
    let acts = s.on_break();
    let [Action::BreakAndSend(b)] = acts.as_slice() else {
        panic!("{acts:?}")
    };
    assert_eq!(end(&messages(b, &mut cols)).error_code, 1013);
    assert!(!s.is_waiting());
    let m = messages(
        &one_send(s.on_data(&exec("select 1 from dual", 2, 4))),
        &mut cols,
    );
    assert!(
        m.contains(&ResponseMessage::Row(vec![Some(vec![0xc1, 0x02])])),
        "{m:?}"
    );

    // A loop that ends answers after its slices.
    let finite = "declare n number := 0; begin while n < 50000 loop n := n + 1; end loop; end;";
    assert_eq!(s.on_data(&exec(finite, 1, 5)), [Action::Busy]);
    let reply = loop {
        match s.on_work().as_slice() {
            [Action::Busy] => {}
            [Action::Send(b)] => break b.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(end(&messages(&reply, &mut cols)).error_code, 0);

    // Killed mid-loop: ORA-00028 and the connection closes.
    assert_eq!(s.on_data(&exec(endless, 1, 6)), [Action::Busy]);
    inst.kill(s.slot().unwrap());
    let acts = s.on_kill_check();
    assert_eq!(acts.len(), 2, "{acts:?}");
    let Action::Send(b) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_eq!(end(&messages(b, &mut cols)).error_code, 28);
    assert_eq!(acts[1], Action::Close);
}

/// The answer to the first `select 1 from dual` that python-oracledb 26.1.0 accepted on the
/// wire (tns-protocol reference §5.7).
const VALIDATED_SELECT_1: [u8; 115] = [
    0x10, 0x00, 0x01, 0x16, 0x01, 0x01, 0x00, 0x02, 0x00, 0x00, 0x81, 0x01, 0x16, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x31, 0x00, 0x00, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x07, 0x02, 0xC1, 0x02, 0x04, 0x00, 0x00, 0x01, 0x01, 0x02, 0x05, 0x7B, 0x00, 0x00, 0x01, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x05, 0x7B, 0x01, 0x01, 0x18, 0x4F, 0x52, 0x41, 0x2D, 0x30,
    0x31, 0x34, 0x30, 0x33, 0x3A, 0x20, 0x6E, 0x6F, 0x20, 0x64, 0x61, 0x74, 0x61, 0x20, 0x66, 0x6F,
    0x75, 0x6E, 0x64,
];

#[test]
fn select_1_answer_matches_the_validated_bytes() {
    let (mut s, _) = session();
    login(&mut s, b"tiger");
    let got = one_send(s.on_data(&exec("select 1 from dual", 2, 3)));
    let mut want = VALIDATED_SELECT_1.to_vec();
    // Same layout; our first cursor id is 1 where the capture had 5.
    let at = want
        .windows(5)
        .position(|w| w == [0x00, 0x00, 0x01, 0x05, 0x00])
        .unwrap();
    want[at + 3] = 0x01;
    assert_eq!(got, want);
}

/// Shared servers hand sessions between threads: the engine state must be `Send`.
#[test]
fn session_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
    assert_send::<tns::ttc::request::RequestDecoder>();
}

#[test]
fn open_cursors_limit_gives_ora_01000_until_cursors_are_closed() {
    let (mut s, _) = session();
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let mut ids = Vec::new();
    for i in 0..300u32 {
        let m = messages(
            &one_send(s.on_data(&exec("select 1 from dual", 2, (i % 200) as u8 + 3))),
            &mut cols,
        );
        ids.push(u32::from(end(&m).cursor_id));
    }
    let m = messages(
        &one_send(s.on_data(&exec("select 1 from dual", 2, 3))),
        &mut cols,
    );
    assert_eq!(
        end(&m).message.as_deref(),
        Some("ORA-01000: maximum open cursors exceeded")
    );
    let mut w = Writer::new();
    write_close_cursors(&mut w, 4, 12, &ids[..10]);
    w.raw(&exec("select 1 from dual", 2, 5));
    let m = messages(&one_send(s.on_data(w.as_bytes())), &mut cols);
    assert_eq!(end(&m).error_code, 1403);
}

/// An instance that records what the engine asks of it.
#[derive(Debug)]
struct Recording {
    inner: LocalInstance,
    commands: std::sync::Mutex<Vec<crate::views::AlterSystem>>,
    snapshots: std::sync::Mutex<Vec<Vec<crate::views::View>>>,
}

impl InstanceHooks for Recording {
    fn open_session(&self, info: &SessionInfo) -> Result<SessionSlot, OraError> {
        self.inner.open_session(info)
    }
    fn close_session(&self, slot: SessionSlot) {
        self.inner.close_session(slot);
    }
    fn instance_name(&self) -> String {
        "orcl".into()
    }
    fn snapshot(&self, views: &[crate::views::View]) -> Result<crate::views::Snapshot, OraError> {
        self.snapshots.lock().unwrap().push(views.to_vec());
        Ok(crate::views::Snapshot::default())
    }
    fn alter_system(
        &self,
        _me: SessionSlot,
        command: &crate::views::AlterSystem,
    ) -> Result<(), OraError> {
        self.commands.lock().unwrap().push(command.clone());
        Ok(())
    }
}

#[test]
fn alter_system_needs_the_grant_and_v_queries_read_a_snapshot_of_their_views() {
    use crate::views::{AlterSystem, View};
    let inst = Arc::new(Recording {
        inner: LocalInstance::new("orcl", 30),
        commands: Default::default(),
        snapshots: Default::default(),
    });
    let mut s = session_on(inst.clone());
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let m = messages(
        &one_send(s.on_data(&exec("alter system register", 0, 3))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 1031);
    assert!(inst.commands.lock().unwrap().is_empty());
    let m = messages(
        &one_send(s.on_data(&exec(
            "select count(*) from v$session s, v$process p where s.paddr = p.addr",
            2,
            4,
        ))),
        &mut cols,
    );
    assert!(
        m.contains(&ResponseMessage::Row(vec![Some(vec![0x80])])),
        "{m:?}"
    );
    assert_eq!(
        *inst.snapshots.lock().unwrap(),
        vec![vec![View::Session, View::Process]]
    );

    let mut s = session_on(inst.clone());
    login_as(&mut s, "admin", b"tiger", 0x101);
    let m = messages(
        &one_send(s.on_data(&exec("alter system kill session '12,34' immediate", 0, 3))),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 0);
    assert_eq!(
        *inst.commands.lock().unwrap(),
        vec![AlterSystem::KillSession {
            target: "12,34".into(),
            immediate: true
        }]
    );
}

/// A client that asks for the time-zone exchange (runtime caps TZ_EX, as node-oracledb 26
/// does) sends its zone after the capabilities and gets DBTIMEZONE (+00:00) at the head of
/// the DATA_TYPES reply; one that does not (python-oracledb) gets the plain reply.
#[test]
fn data_types_exchange_carries_the_database_time_zone_when_asked() {
    for tz_ex in [true, false] {
        let (mut s, _inst) = session();
        let mut w = Writer::new();
        ProtocolRequest {
            version: 6,
            driver: b"node-oracledb".to_vec(),
        }
        .encode(&mut w);
        let reply = one_send(s.on_data(w.as_bytes()));
        let pr = ProtocolReply::decode(&mut Reader::new(&reply)).unwrap();
        assert_eq!(pr.runtime_caps[1], 1, "the server offers TZ_EX");
        let mut caps = vec![0u8; 55];
        caps[7] = 12;
        let mut rcaps = vec![0u8; 11];
        rcaps[1] = u8::from(tz_ex);
        let mut w = Writer::new();
        DataTypesRequest {
            charset: 873,
            ncharset: 873,
            flags: 3,
            compile_caps: caps,
            runtime_caps: rcaps,
            // +05:30 (hours and minutes biased by 60).
            client_time_zone: tz_ex.then_some([0x80, 0, 0, 0, 65, 90, 0x80, 0, 0, 0, 0]),
            types: vec![],
        }
        .encode(&mut w);
        let reply = one_send(s.on_data(w.as_bytes()));
        let want: &[u8] = if tz_ex {
            &[2, 0x80, 0, 0, 0, 60, 60, 0x80, 0, 0, 0, 0, 0, 0]
        } else {
            &[2, 0, 0]
        };
        assert_eq!(reply, want, "TZ_EX {tz_ex}");
        assert_eq!(s.field_version(), 12);
    }
}

/// A request that ends (its packet is shorter than the SDU) before it is complete gets
/// ORA-03137 at once instead of a wait for bytes that never come; a request that cannot be
/// decoded has the rest of its packets dropped up to its short packet. Either way the next
/// call is answered.
#[test]
fn an_incomplete_or_undecodable_request_is_answered_and_the_session_goes_on() {
    let (mut s, _inst) = session();
    login(&mut s, b"tiger");
    let mut cols = Vec::new();
    let full = exec("select 1 from dual", 2, 3);
    // Incomplete: the SQL text is cut short in the request's last packet.
    let acts = s.on_request_packet(&full[..full.len() - 20], true);
    let m = messages(&one_send(acts), &mut cols);
    assert_eq!(end(&m).error_code, 3137, "{m:?}");
    // Undecodable (an unknown function code) in a full packet: the error is sent at once
    // and the rest of that request, in its short last packet, is dropped.
    let mut w = Writer::new();
    write_function_header(&mut w, 250, 4, 12);
    w.raw(&[0x55; 64]);
    let m = messages(
        &one_send(s.on_request_packet(w.as_bytes(), false)),
        &mut cols,
    );
    assert_eq!(end(&m).error_code, 3137, "{m:?}");
    assert!(s.on_request_packet(&[0x03, 0x93, 0x05], true).is_empty());
    // The next request is whole and answered.
    let m = messages(&one_send(s.on_request_packet(&full, true)), &mut cols);
    assert!(
        m.contains(&ResponseMessage::Row(vec![Some(vec![0xC1, 0x02])])),
        "{m:?}"
    );
}

#[test]
fn the_counted_statistics_have_their_v_statname_numbers() {
    use crate::rows::statistic_number as n;
    for (index, name) in [
        (stat::LOGONS_CUMULATIVE, "logons cumulative"),
        (stat::LOGONS_CURRENT, "logons current"),
        (stat::OPENED_CURSORS_CUMULATIVE, "opened cursors cumulative"),
        (stat::OPENED_CURSORS_CURRENT, "opened cursors current"),
        (stat::USER_CALLS, "user calls"),
        (stat::EXECUTE_COUNT, "execute count"),
        (stat::PARSE_COUNT, "parse count (total)"),
        (stat::BYTES_SENT, "bytes sent via SQL*Net to client"),
        (
            stat::BYTES_RECEIVED,
            "bytes received via SQL*Net from client",
        ),
        (stat::ROUNDTRIPS, "SQL*Net roundtrips to/from client"),
    ] {
        assert_eq!(n(name), Some(index), "{name}");
    }
}

/// A LOB operation call as python-oracledb's `LobOpMessage` writes it.
fn lob_call(seq: u8, operation: u32, locator: &[u8], offset: u64, data: Option<&[u8]>) -> Vec<u8> {
    let create = operation == tns::ttc::lob::op::CREATE_TEMP;
    let mut w = Writer::new();
    write_function_header(&mut w, function::LOB_OP, seq, 12);
    w.u8(1).ub4(u32::try_from(locator.len()).unwrap());
    w.u8(0).ub4(if create { 10 } else { 0 });
    w.ub4(0).ub4(0);
    w.u8(u8::from(create)).u8(0).u8(u8::from(create));
    w.ub4(operation).u8(0).u8(0);
    w.ub8(if create { 1 } else { offset })
        .ub8(if create { 112 } else { 0 });
    let amount = operation == tns::ttc::lob::op::READ;
    w.u8(u8::from(amount));
    for _ in 0..3 {
        w.u16be(0);
    }
    w.raw(locator);
    if create {
        w.ub4(873);
    }
    if let Some(d) = data {
        w.u8(14).dalc(d);
    }
    if amount {
        w.ub8(100);
    }
    w.into_bytes()
}

#[test]
fn temporary_lobs_freed_by_the_piggyback_are_gone() {
    use tns::ttc::lob::op;
    let (mut s, _inst) = session();
    login(&mut s, b"tiger");
    let reply = one_send(s.on_data(&lob_call(3, op::CREATE_TEMP, &[0; 40], 0, None)));
    // PARAMETER: the locator, charset (AL16UTF16), flags; then the end of the call.
    assert_eq!(reply[0], 8);
    let locator = reply[1..41].to_vec();
    assert_eq!(&reply[41..45], &[2, 0x07, 0xD0, 0]);
    assert_eq!(reply[45], 4, "end of call: {reply:?}");
    let utf16: Vec<u8> = "hi".encode_utf16().flat_map(u16::to_be_bytes).collect();
    one_send(s.on_data(&lob_call(4, op::WRITE, &locator, 1, Some(&utf16))));
    let reply = one_send(s.on_data(&lob_call(5, op::READ, &locator, 1, None)));
    // LOB_DATA with the UTF-16 bytes, then the locator and the amount read (2).
    assert_eq!(&reply[..6], &[14, 4, 0, b'h', 0, b'i']);
    assert_eq!(
        &reply[6..49],
        &[&[8][..], &locator[..], &[1, 2]].concat()[..]
    );

    // The FreeTemporaryLobs piggyback (python-oracledb's layout), then a PING.
    let mut w = Writer::new();
    w.u8(17).u8(function::LOB_OP).u8(6);
    w.u8(1).ub4(40).u8(0).ub4(0).ub4(0).ub4(0).u8(0).u8(0).u8(0);
    w.ub4(op::FREE_TEMP | op::ARRAY);
    w.u8(0).ub4(0).ub8(0).ub8(0).u8(0);
    for _ in 0..3 {
        w.u8(0).ub4(0);
    }
    w.raw(&locator);
    write_function_header(&mut w, function::PING, 7, 12);
    assert_eq!(one_send(s.on_data(w.as_bytes())), [9, 0, 0]);
    let reply = one_send(s.on_data(&lob_call(8, op::READ, &locator, 1, None)));
    let mut cols = Vec::new();
    let m = messages(&reply, &mut cols);
    assert_eq!(end(&m).error_code, 22922, "{m:?}");
}
