//! SQLNET.SEND_TIMEOUT in the server's sqlnet.ora, end to end (real listener, real `oradb`),
//! on a dedicated server, on a dispatcher and on a DRCP pooled server: a raw client logs in, runs a query whose answer
//! is 1 MB once, then sends that request again every 20 ms and never reads an answer. Once
//! its receive window and the server's send buffer are full (and, on a dispatcher, the
//! circuit's bound of unsent output), the
//! server's send cannot complete; after SEND_TIMEOUT (2 s here) the server gives the
//! connection up: the client's connection is reset, its session leaves V$SESSION, and the log
//! says why (TNS-12535 with TNS-12608 in the instance's alert log, written by the dedicated or
//! pooled server itself or by the dispatcher). Another session (python-oracledb 26.1.0) on
//! the same dispatcher, beside the dedicated server, or on another pooled server of the same
//! pool, keeps answering meanwhile and afterwards.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::{ConnectOptions, Connection};
use serde_json::json;
use tests::client_harness::RecordingLink;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

const LOGGED: &str = "TNS-12535: TNS:operation timed out (TNS-12608: TNS: Send timeout occurred)";

/// A connection to the listener whose receive buffer is as small as the kernel allows, so
/// that a client that does not read fills it after a few answers. Its MSS is small too: the
/// kernel sizes the server's initial send buffer from the MSS (ten segments, doubled), which
/// on loopback's 64 KB MSS is megabytes of pings' answers.
fn small_window_connect(port: u16) -> TcpStream {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn, connect, setsockopt, socket, sockopt,
    };
    let fd: OwnedFd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    setsockopt(&fd, sockopt::RcvBuf, &4096).expect("SO_RCVBUF");
    setsockopt(&fd, sockopt::TcpMaxSeg, &536).expect("TCP_MAXSEG");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let SocketAddr::V4(v4) = addr else {
        unreachable!("an IPv4 address")
    };
    connect(fd.as_raw_fd(), &SockaddrIn::from(v4)).expect("connect");
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("write timeout");
    stream
}

/// Rows of [`big_query`], each 4000 bytes.
const ROWS: u32 = 256;

/// A query whose answer is about 1 MB.
fn big_query() -> String {
    format!(
        "select '{}' from dual connect by level <= {ROWS}",
        "x".repeat(4000)
    )
}

fn sessions(py: &mut PyDriver, good: &str) -> u64 {
    let r = py.exec(
        good,
        "select count(*) from v$session where username = 'SCOTT'",
    );
    r.result()[0][0]
        .as_u64()
        .unwrap_or_else(|| panic!("count of sessions: {}", r.json))
}

/// What the stalling client saw.
struct Pushed {
    requests: usize,
    /// When (after its first write) the server reset the connection, if it did.
    reset_after: Option<Duration>,
}

/// Stalls a `mode` (`dedicated`, `shared`, `pooled`) connection; `logged` is the alert log line that
/// says why the server gave it up.
fn stall(stack: &SharedStack, py: &mut PyDriver, mode: &str, logged: &str) {
    let good = format!("good_{mode}");
    py.connect(&good, &stack.dsn(mode), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect {good}: {}", r.json));
    let before = sessions(py, &good);

    let stream = small_window_connect(stack.port);
    let mut raw = stream.try_clone().expect("clone");
    let log = Arc::new(Mutex::new(Vec::new()));
    let descriptor = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME={})(SERVER={})))",
        stack.port,
        stack.service,
        mode.to_ascii_uppercase()
    );
    let mut stalled = Connection::connect_over(
        Box::new(RecordingLink {
            stream,
            log: Arc::clone(&log),
        }),
        &descriptor,
        USER,
        PASSWORD,
        &ConnectOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{mode}: the stalling client logs in: {e}"));
    stalled.set_prefetch_rows(ROWS);
    stalled.set_arraysize(ROWS);
    log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let big = stalled
        .query(&big_query())
        .unwrap_or_else(|e| panic!("{mode}: the big query answered once: {e}"));
    assert_eq!(
        big.rows.len(),
        ROWS as usize,
        "{mode}: rows of the big query"
    );
    let request = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(!request.is_empty(), "the query's requests were recorded");
    assert_eq!(
        sessions(py, &good),
        before + 1,
        "{mode}: the stalling client's session is in V$SESSION"
    );

    let pusher = std::thread::spawn(move || {
        raw.set_write_timeout(Some(Duration::from_millis(200)))
            .expect("write timeout");
        let start = Instant::now();
        let mut out = Pushed {
            requests: 0,
            reset_after: None,
        };
        while start.elapsed() < Duration::from_secs(30) {
            match Write::write_all(&mut raw, &request) {
                Ok(()) => out.requests += 1,
                // The server stopped reading too: keep trying.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    out.reset_after = Some(start.elapsed());
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        out
    });
    // While the server is stuck on the stalled client, the other session answers at once.
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..5 {
        let r = py.call_within(
            json!({"op": "exec", "name": good, "sql": format!("select {i} from dual")}),
            Duration::from_secs(5),
        );
        assert_eq!(r.result(), &json!([[i]]), "{mode}: call {i}: {}", r.json);
        std::thread::sleep(Duration::from_millis(100));
    }
    let pushed = pusher.join().expect("pusher");
    let reset_after = pushed.reset_after.unwrap_or_else(|| {
        panic!(
            "{mode}: the server never gave up on a client that does not read ({} requests sent)",
            pushed.requests
        )
    });
    eprintln!(
        "{mode}: connection reset {reset_after:?} after the first unread request ({} requests sent)",
        pushed.requests
    );
    let gone = tests::instance::wait_for(Duration::from_secs(10), || {
        (sessions(py, &good) == before).then_some(())
    });
    assert!(
        gone.is_some(),
        "{mode}: the stalled session left V$SESSION ({} sessions, {before} before)",
        sessions(py, &good)
    );
    let r = py.exec(&good, "select 42 from dual");
    assert_eq!(r.result(), &json!([[42]]), "{mode}: {}", r.json);
    let found = tests::instance::wait_for(Duration::from_secs(5), || {
        stack.home.alert_log().contains(logged).then_some(())
    });
    assert!(
        found.is_some(),
        "{mode}: {logged} in the alert log:\n{}",
        stack.home.alert_log()
    );
    drop(stalled);
}

#[test]
fn a_client_that_never_reads_is_disconnected_after_send_timeout_dedicated_and_shared() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("H4ST"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
        None,
        Some("SQLNET.SEND_TIMEOUT = 2\n"),
    );
    let mut py = PyDriver::start();
    // The dedicated server writes its own entry, the dispatcher logs through the instance.
    stall(
        &stack,
        &mut py,
        "dedicated",
        &format!("closing the connection: {LOGGED}"),
    );
    stall(
        &stack,
        &mut py,
        "shared",
        &format!("D000: closing a circuit: {LOGGED}"),
    );
    // The stalled circuit is gone from D000; the good one is left.
    let r = py.exec(
        "good_shared",
        "select count(*) from v$circuit c, v$dispatcher d where c.dispatcher = d.paddr and d.name = 'D000'",
    );
    assert_eq!(
        r.result(),
        &json!([[1]]),
        "only the good circuit is left: {}",
        r.json
    );
    drop(py);
    drop(stack);
}

#[test]
fn a_pooled_client_that_never_reads_is_disconnected_after_send_timeout() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HD2P"),
        "",
        0,
        None,
        Some("SQLNET.SEND_TIMEOUT = 2\n"),
    );
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    let r = py.exec("dba", "begin dbms_connection_pool.start_pool(); end;");
    assert!(r.ok(), "start_pool: {}", r.json);
    let registered = tests::instance::wait_for(Duration::from_secs(10), || {
        stack.services().contains("\"N000\"").then_some(())
    });
    assert!(registered.is_some(), "{}", stack.services());
    // The pooled server writes its own entry, as a dedicated server does.
    stall(
        &stack,
        &mut py,
        "pooled",
        &format!("closing the connection: {LOGGED}"),
    );
    // The pool goes on serving new clients.
    py.connect("again", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("a pooled login after the stall: {}", r.json));
    let r = py.exec("again", "select 7 from dual");
    assert_eq!(r.result(), &json!([[7]]), "{}", r.json);
    drop(py);
    drop(stack);
}
