//! A slow reader on D000 (real listener, real `oradb`): a raw client logs in over SERVER=SHARED,
//! then pipelines ping requests as fast as it can and never reads an answer. Another session
//! on the same dispatcher (python-oracledb 26.1.0) keeps getting its `select 1` answered at
//! once (each well under 250 ms; about 1 ms here), the pusher is held back (the dispatcher
//! stops reading its circuit), and the instance's VmRSS grows by less than 32 MB meanwhile.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::{ConnectOptions, Connection};
use serde_json::json;
use tests::client_harness::RecordingLink;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("VmRSS of {pid}: {status}"))
}

#[test]
fn a_client_that_never_reads_does_not_slow_the_others_on_its_dispatcher() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9LS"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let mut py = PyDriver::start();
    py.connect("good", &stack.dsn("shared"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect good: {}", r.json));

    // The slow reader: logs in through the listener (handed to D000 with its socket).
    let stream = TcpStream::connect(("127.0.0.1", stack.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("write timeout");
    let mut raw = stream.try_clone().expect("clone");
    let log = Arc::new(Mutex::new(Vec::new()));
    let descriptor = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME={})(SERVER=SHARED)))",
        stack.port, stack.service
    );
    let mut slow = Connection::connect_over(
        Box::new(RecordingLink {
            stream,
            log: Arc::clone(&log),
        }),
        &descriptor,
        USER,
        PASSWORD,
        &ConnectOptions::default(),
    )
    .expect("slow reader logs in");
    log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    slow.ping().expect("one ping answered");
    let ping = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(!ping.is_empty(), "the ping's request was recorded");
    let r = py.exec(
        "good",
        "select count(*) from v$circuit c, v$dispatcher d where c.dispatcher = d.paddr and d.name = 'D000'",
    );
    assert_eq!(r.result(), &json!([[2]]), "both on D000: {}", r.json);

    let before = vm_rss_kib(stack.instance.pid());
    let batch: Vec<u8> = ping.repeat(64);
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            raw.set_write_timeout(Some(Duration::from_millis(200)))
                .expect("write timeout");
            let (mut pushed, mut held_back) = (0usize, false);
            while !stop.load(Ordering::Relaxed) {
                match raw.write(&batch) {
                    Ok(n) => pushed += n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        held_back = true;
                    }
                    Err(e) => panic!("the pusher's connection failed: {e}"),
                }
            }
            (pushed, held_back)
        })
    };
    // Let the pusher fill what it can first.
    std::thread::sleep(Duration::from_secs(2));
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        let t0 = Instant::now();
        let r = py.call_within(
            json!({"op": "exec", "name": "good", "sql": "select 1 from dual"}),
            Duration::from_secs(10),
        );
        let took = t0.elapsed();
        assert_eq!(r.result(), &json!([[1]]), "call {i}: {}", r.json);
        // About a millisecond when the dispatcher is fair; a dispatcher that serves the
        // pusher's pipeline without polling its other circuits took 0.5–1 s.
        assert!(took < Duration::from_millis(250), "call {i} took {took:?}");
        worst = worst.max(took);
    }
    let after = vm_rss_kib(stack.instance.pid());
    stop.store(true, Ordering::Relaxed);
    let (pushed, held_back) = pusher.join().expect("pusher");
    assert!(
        held_back,
        "the dispatcher stopped reading the pusher ({pushed} bytes pushed)"
    );
    assert!(
        after < before + 32 * 1024,
        "oradb VmRSS {before} KiB → {after} KiB while {pushed} bytes were pushed"
    );
    eprintln!("slowest select 1: {worst:?}; pushed {pushed} bytes; VmRSS {before} → {after} KiB");
    drop(slow);
    drop(py);
    drop(stack);
}
