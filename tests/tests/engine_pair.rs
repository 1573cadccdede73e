//! The client state machine against the engine's `ServerConn`, in memory, on a virtual
//! clock (quinn-proto's `Pair`): no socket, no thread, no sleeping. The client's link hands
//! what it writes to the server connection; when the client waits to read, the pair moves
//! the virtual clock to the next thing that happens — a deadline of the server (the end of
//! a sleep, a kill check), an event the test scheduled (a kill), or the client's own read
//! timeout (its call timeout, after which it sends a BREAK) — and lets it happen.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use client::{ClientError, ConnectOptions, Connection, Link, Value};
use engine::{
    Credentials, LocalInstance, RandomSource, ServerConn, Session, SessionConfig, SessionRunner,
    SessionSlot, WallClock,
};
use tns::o5logon::Verifier;
use tns::ttc::types::DateTime;

/// The wall-clock time the server's clock starts at: 2001-02-03 04:05:06 UTC.
const WALL_START: u64 = 981_173_106;

struct OneUser(Verifier);

impl Credentials for OneUser {
    fn verifier(&self, user: &str) -> Option<Verifier> {
        (user == "SCOTT").then(|| self.0.clone())
    }
}

/// A deterministic byte source for the server's keys.
fn counter_random() -> RandomSource {
    let mut n = 0u8;
    Box::new(move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            n = n.wrapping_mul(31).wrapping_add(17);
            *b = n;
        }
    })
}

type Event = Box<dyn FnOnce() + Send>;

/// The shared state of the pair: the server connection, the virtual clock, bytes on their
/// way to the client, and scheduled events.
struct World {
    server: ServerConn,
    start: Instant,
    now: Instant,
    read_timeout: Duration,
    to_client: Vec<u8>,
    events: Vec<(Instant, Event)>,
}

impl World {
    fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}

#[derive(Clone)]
struct Pair(Arc<Mutex<World>>);

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pair")
    }
}

impl Pair {
    fn new(instance: Arc<LocalInstance>) -> Pair {
        let creds = OneUser(Verifier::new_12c(b"tiger", &[7u8; 16], 4096));
        let cfg = SessionConfig {
            service_name: "PAIR".into(),
            db_domain: String::new(),
            server_host: "pairhost".into(),
            max_open_cursors: 50,
        };
        let session = Session::new(cfg, Arc::new(creds), instance, counter_random());
        let start = Instant::now();
        let clock = WallClock {
            instant: start,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(WALL_START),
        };
        let mut server = ServerConn::new(SessionRunner::new(session, clock), 8192);
        // The login must be done within a minute; once it is, nothing waits on that.
        server.set_login_deadline(start + Duration::from_secs(60));
        Pair(Arc::new(Mutex::new(World {
            server,
            start,
            now: start,
            read_timeout: Duration::from_secs(600),
            to_client: Vec::new(),
            events: Vec::new(),
        })))
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().expect("pair state")
    }

    /// Runs `f` when the virtual clock reaches `after` from now.
    fn schedule(&self, after: Duration, f: impl FnOnce() + Send + 'static) {
        let mut w = self.world();
        let at = w.now + after;
        w.events.push((at, Box::new(f)));
    }

    fn elapsed(&self) -> Duration {
        self.world().elapsed()
    }
}

impl Link for Pair {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.world();
        let give_up = w.now + w.read_timeout;
        loop {
            if let Some(bytes) = w.server.poll_transmit() {
                w.to_client.extend_from_slice(&bytes);
            }
            if !w.to_client.is_empty() {
                let n = buf.len().min(w.to_client.len());
                buf[..n].copy_from_slice(&w.to_client[..n]);
                w.to_client.drain(..n);
                return Ok(n);
            }
            if w.server.is_closed() {
                return Ok(0);
            }
            let server_due = w.server.poll_timeout();
            let event_due = w.events.iter().map(|(at, _)| *at).min();
            let next = server_due.into_iter().chain(event_due).min();
            match next {
                Some(at) if at <= give_up => {
                    w.now = w.now.max(at);
                    let now = w.now;
                    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut w.events)
                        .into_iter()
                        .partition(|(at, _)| *at <= now);
                    w.events = later;
                    for (_, f) in due {
                        f();
                    }
                    if server_due.is_some_and(|t| t <= now) {
                        w.server.handle_timeout(now);
                    }
                }
                _ => {
                    w.now = give_up;
                    return Err(io::ErrorKind::TimedOut.into());
                }
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut w = self.world();
        let now = w.now;
        w.server.handle_bytes(now, bytes);
        Ok(())
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.world().read_timeout = timeout;
        Ok(())
    }

    fn shutdown(&mut self) {
        self.world().server.handle_eof();
    }
}

fn connect(pair: &Pair) -> Connection {
    Connection::connect_over(
        Box::new(pair.clone()),
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=pair)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=PAIR)))",
        "scott",
        "tiger",
        &ConnectOptions::default(),
    )
    .expect("login over the in-memory pair")
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {v:?}"))
}

fn slot_of(conn: &Connection) -> SessionSlot {
    let info = conn.session_info();
    SessionSlot {
        sid: info.session_id,
        serial: info.serial_num,
    }
}

#[test]
fn login_and_a_call_see_the_virtual_clock() {
    let inst = Arc::new(LocalInstance::new("pair", 40));
    let pair = Pair::new(inst.clone());
    let mut c = connect(&pair);
    assert_eq!(c.session_info().session_id, 40);
    assert_eq!(inst.open_sessions(), vec![slot_of(&c)]);
    let r = c.query("select 1 + 1 from dual").expect("select");
    assert_eq!(int(&r.rows[0][0]), 2);
    // SYSDATE is the driver's wall clock moved by the virtual time, not the machine's.
    pair.schedule(Duration::from_secs(90), || {});
    c.set_call_timeout(Some(Duration::from_secs(100)))
        .expect("timeout");
    c.query("BEGIN DBMS_SESSION.SLEEP(120); END;")
        .expect_err("interrupted by the call timeout");
    let r = c.query("select sysdate from dual").expect("sysdate");
    let elapsed = pair.elapsed().as_secs();
    assert_eq!(
        r.rows[0][0],
        Value::Date(DateTime::from_unix((WALL_START + elapsed) as i64, 0)),
        "elapsed {elapsed} s"
    );
    c.close().expect("logoff");
    assert!(inst.open_sessions().is_empty());
    assert!(pair.world().server.is_closed());
}

#[test]
fn the_client_fetches_lob_columns_as_long_as_sql_plus_does() {
    let inst = Arc::new(LocalInstance::new("pair", 41));
    let pair = Pair::new(inst);
    let mut c = connect(&pair);
    let sql = "select to_clob('x' || level), level from dual connect by level <= 3";
    for _ in 0..2 {
        // The second run re-executes the cached cursor, whose define the server kept.
        let r = c.query(sql).expect("clob query");
        let texts: Vec<_> = r.rows.iter().map(|row| row[0].clone()).collect();
        assert_eq!(
            texts,
            ["x1", "x2", "x3"].map(|t| Value::Text(t.into())).to_vec()
        );
        assert_eq!(int(&r.rows[2][1]), 3);
    }
    let r = c
        .query("select to_clob(null) from dual")
        .expect("null clob");
    assert_eq!(r.rows, vec![vec![Value::Null]]);
    c.close().expect("logoff");
}

#[test]
fn a_break_during_a_sleep_ends_the_call_with_ora_01013_at_the_call_timeout() {
    let inst = Arc::new(LocalInstance::new("pair", 50));
    let pair = Pair::new(inst.clone());
    let mut c = connect(&pair);
    c.set_call_timeout(Some(Duration::from_secs(2)))
        .expect("call timeout");
    let before = pair.elapsed();
    let e = c
        .query("BEGIN DBMS_SESSION.SLEEP(30); END;")
        .expect_err("cancelled");
    assert_eq!(e.code(), Some(1013), "{e}");
    assert_eq!(
        e.to_string(),
        "ORA-01013: user requested cancel of current operation"
    );
    // The break arrived when the client's 2 s ran out, not when the 30 s sleep ended.
    assert_eq!(pair.elapsed() - before, Duration::from_secs(2));
    // The session goes on, and the next sleep runs to its end.
    c.set_call_timeout(None).expect("no call timeout");
    let r = c
        .query("select 7 from dual")
        .expect("usable after the break");
    assert_eq!(int(&r.rows[0][0]), 7);
    let before = pair.elapsed();
    c.query("BEGIN DBMS_SESSION.SLEEP(3); END;")
        .expect("a whole sleep");
    assert_eq!(pair.elapsed() - before, Duration::from_secs(3));
    c.close().expect("logoff");
}

#[test]
fn a_kill_during_a_sleep_ends_the_call_with_ora_00028_at_the_next_kill_check() {
    let inst = Arc::new(LocalInstance::new("pair", 60));
    let pair = Pair::new(inst.clone());
    let mut c = connect(&pair);
    let slot = slot_of(&c);
    let killer = inst.clone();
    pair.schedule(Duration::from_millis(1_050), move || killer.kill(slot));
    let before = pair.elapsed();
    let e = c
        .query("BEGIN DBMS_SESSION.SLEEP(60); END;")
        .expect_err("killed");
    assert_eq!(e.code(), Some(28), "{e}");
    assert_eq!(e.to_string(), "ORA-00028: your session has been killed");
    // Seen at the first kill check after the kill (every 100 ms), not after 60 s.
    assert_eq!(pair.elapsed() - before, Duration::from_millis(1_100));
    // The server closed the connection and freed the session.
    assert!(pair.world().server.is_closed());
    assert!(inst.open_sessions().is_empty());
    let e = c.query("select 1 from dual").expect_err("gone");
    assert!(
        matches!(e, ClientError::EndOfFile | ClientError::NotConnected),
        "{e:?}"
    );
}

#[test]
fn an_idle_kill_is_seen_by_the_next_call() {
    let inst = Arc::new(LocalInstance::new("pair", 70));
    let pair = Pair::new(inst.clone());
    let mut c = connect(&pair);
    let r = c.query("select 1 from dual").expect("select");
    assert_eq!(int(&r.rows[0][0]), 1);
    inst.kill(slot_of(&c));
    // An idle session waits for nothing (the login deadline is gone too): nothing happens
    // until the client calls.
    assert_eq!(pair.world().server.poll_timeout(), None);
    let e = c.query("select 1 from dual").expect_err("killed");
    assert_eq!(e.code(), Some(28), "{e}");
    assert!(pair.world().server.is_closed());
    assert!(inst.open_sessions().is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..Default::default() })]

    /// Whatever a logged-in client sends, the server connection answers, asks for more or
    /// closes; it never panics, and after a BREAK (and the client's RESET) a ping still gets its answer unless the
    /// connection was closed.
    #[test]
    fn the_server_survives_arbitrary_requests(
        chunks in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), 0..6)
    ) {
        use tns::packet::{Data, LengthMode, Marker, MarkerKind};
        let inst = Arc::new(LocalInstance::new("pair", 80));
        let pair = Pair::new(inst.clone());
        let mut c = connect(&pair);
        {
            let mut w = pair.world();
            let feed = |w: &mut World, bytes: &[u8]| {
                let now = w.now;
                w.server.handle_bytes(now, bytes);
                // Let any call it started run to its end, on the virtual clock.
                for _ in 0..10_000 {
                    let Some(at) = w.server.poll_timeout() else { break };
                    w.now = w.now.max(at);
                    let now = w.now;
                    w.server.handle_timeout(now);
                }
                while w.server.poll_transmit().is_some() {}
            };
            for chunk in chunks {
                feed(&mut w, &Data { flags: 0, payload: chunk }.encode(LengthMode::Large));
            }
            feed(&mut w, &Marker { kind: MarkerKind::Break }.encode(LengthMode::Large));
            // The client's side of the reset: the answer to the BREAK was drained above,
            // so the client that saw it answers with its RESET (until then the server
            // discards what it sends).
            feed(&mut w, &Marker { kind: MarkerKind::Reset }.encode(LengthMode::Large));
        }
        if !pair.world().server.is_closed() {
            proptest::prop_assert!(c.ping().is_ok());
        }
    }
}
