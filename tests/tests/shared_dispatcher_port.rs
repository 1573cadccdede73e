//! A dispatcher's own TCP port (where a REDIRECT sends clients) screens CONNECTs as the
//! listener does — a broken descriptor gets ORA-12502, none naming a service ORA-12504, an
//! unknown service ORA-12514 — and holds no connection longer than
//! SQLNET.INBOUND_CONNECT_TIMEOUT without a login: silent sockets and clients that stall
//! right after ACCEPT are closed after it (2 s here), and the port serves the next client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use server_proc::sga::Sga;
use tests::shared_stack::SharedStack;
use tns::packet::{self, LengthMode, Packet};

fn dispatcher_port(sga: &Sga) -> u16 {
    let network = sga.snapshot_dispatchers()[0].network.clone();
    network
        .split("PORT=")
        .nth(1)
        .and_then(|p| p.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("D000's port in {network}"))
}

fn open(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    s.set_write_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    s
}

/// Sends a CONNECT for `descriptor` and decodes the first packet of the answer.
fn answer(port: u16, descriptor: &str) -> (TcpStream, Packet) {
    let mut s = open(port);
    s.write_all(&packet::Connect::new(descriptor.as_bytes().to_vec(), 8192).encode())
        .expect("send CONNECT");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Some((p, _))) = packet::decode(&buf, LengthMode::Short) {
            return (s, p);
        }
        let n = s.read(&mut chunk).expect("read the answer");
        assert!(n > 0, "closed without an answer to {descriptor}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn refusal(port: u16, descriptor: &str) -> u32 {
    match answer(port, descriptor).1 {
        Packet::Refuse(r) => r.error_code().expect("code"),
        other => panic!("{descriptor}: expected a refusal, got {other:?}"),
    }
}

/// Reads until the server closes; true if it did.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    match s.read_to_end(&mut sink) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn a_dispatchers_port_screens_connects_and_closes_stalled_clients() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HS7A"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)(CONNECTIONS=300)'\nsessions=400\ncircuits=400",
        1,
        None,
        Some("SQLNET.INBOUND_CONNECT_TIMEOUT = 2\n"),
    );
    let sga = Sga::attach(&stack.home.sid).expect("instance up");
    let port = dispatcher_port(&sga);
    let cd = |data: &str| {
        format!(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))(CONNECT_DATA={data}))"
        )
    };
    assert_eq!(refusal(port, "garbage(((("), 12502);
    assert_eq!(refusal(port, &"(".repeat(4000)), 12502);
    assert_eq!(
        refusal(port, "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)))"),
        12502
    );
    assert_eq!(refusal(port, &cd("(SERVICE_NAME=NO_SUCH_SERVICE)")), 12514);
    assert_eq!(refusal(port, &cd("(SID=NOSUCHSID)")), 12505);
    assert_eq!(
        refusal(port, &cd("(CID=(PROGRAM=x)(HOST=h)(USER=u))")),
        12504
    );

    // 50 silent sockets and 200 clients that stop right after ACCEPT (issue 14's 200; the
    // dispatcher's CONNECTIONS and the instance's SESSIONS/CIRCUITS are raised above 250 for them).
    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..50).map(|_| open(port)).collect();
    let good = cd(&format!("(SERVICE_NAME={})", stack.service));
    for _ in 0..200 {
        let (s, p) = answer(port, &good);
        assert!(matches!(p, Packet::Accept(_)), "{p:?}");
        stalled.push(s);
    }
    for s in &mut stalled {
        assert!(closed_by_server(s), "a stalled connection was closed");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(12),
        "closed after INBOUND_CONNECT_TIMEOUT: {took:?}"
    );
    drop(stalled);
    let circuits = tests::instance::wait_for(Duration::from_secs(5), || {
        sga.snapshot_circuits().is_empty().then_some(())
    });
    assert!(circuits.is_some(), "{:?}", sga.snapshot_circuits());
    // The port still serves.
    let (_s, p) = answer(port, &good);
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
}
