//! Misbehaving clients — garbage, a truncated header, lengths of 0 and 65535, a CONNECT
//! with a broken descriptor, a client that says nothing — are each closed with a
//! `listener.log` entry naming their address, and well-behaved clients are served during and
//! after all of it.

use std::io::{Read, Write};
use std::net::TcpStream;

use tests::procs::{ListenerProc, TestHome, WAIT, listener_ora};
use tns::packet::{self, LengthMode, Packet};

fn open(port: u16) -> (TcpStream, u16) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.set_write_timeout(Some(WAIT)).expect("timeout");
    let local = s.local_addr().expect("local").port();
    (s, local)
}

/// Reads until EOF; returns what came before it. Panics if the listener never closes.
fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    match s.read_to_end(&mut v) {
        Ok(_) => v,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => v,
        Err(e) => panic!("listener did not close the connection: {e}"),
    }
}

fn good_client(port: u16) -> u32 {
    let (mut s, _) = open(port);
    let d = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))(CONNECT_DATA=(SERVICE_NAME=unknown.example.com)))"
    );
    s.write_all(&packet::Connect::new(d.into_bytes(), 8192).encode())
        .expect("send");
    let bytes = read_to_eof(&mut s);
    match packet::decode(&bytes, LengthMode::Short) {
        Ok(Some((Packet::Refuse(r), _))) => r.error_code().expect("code"),
        other => panic!("unexpected answer {other:?}"),
    }
}

fn addr(port: u16) -> String {
    format!("(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))")
}

#[test]
fn malformed_clients_are_dropped_and_logged_while_others_are_served() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora(
            "LISTENER",
            port,
            &[("ORCL", Some("orcl.example.com"))],
            &[("INBOUND_CONNECT_TIMEOUT", "2")],
        )
    });

    // A silent client stays connected while everything else happens.
    let (mut silent, silent_port) = open(l.port);
    // A client that sent 3 bytes of a header and then nothing.
    let (mut stalled, stalled_port) = open(l.port);
    stalled.write_all(&[0x01, 0x2F, 0x00]).expect("send");

    let (mut garbage, garbage_port) = open(l.port);
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert!(read_to_eof(&mut garbage).is_empty());

    let (mut zero, zero_port) = open(l.port);
    zero.write_all(&[0, 0, 0, 0, 1, 0, 0, 0]).expect("send");
    assert!(read_to_eof(&mut zero).is_empty());

    let (mut huge, huge_port) = open(l.port);
    huge.write_all(&[0xFF, 0xFF, 0, 0, 1, 0, 0, 0])
        .expect("send");
    assert!(read_to_eof(&mut huge).is_empty());

    let (mut truncated, truncated_port) = open(l.port);
    truncated.write_all(&[0x01, 0x2F, 0x00]).expect("send");
    truncated
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert!(read_to_eof(&mut truncated).is_empty());

    let (mut broken, broken_port) = open(l.port);
    broken
        .write_all(
            &packet::Connect::new(
                b"(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=x)".to_vec(),
                8192,
            )
            .encode(),
        )
        .expect("send");
    let answer = read_to_eof(&mut broken);
    match packet::decode(&answer, LengthMode::Short) {
        Ok(Some((Packet::Refuse(r), _))) => assert_eq!(r.error_code(), Some(12502)),
        other => panic!("broken descriptor answered with {other:?}"),
    }

    // Served while the silent and stalled clients are still connected.
    assert_eq!(good_client(l.port), 12514);

    // The silent and stalled clients are cut off by INBOUND_CONNECT_TIMEOUT.
    assert!(read_to_eof(&mut silent).is_empty());
    assert!(read_to_eof(&mut stalled).is_empty());

    // ...and the listener still serves.
    assert_eq!(good_client(l.port), 12514);

    let log = home.listener_log();
    let entry = |port: u16| -> String {
        let needle = addr(port);
        let pos = log
            .find(&needle)
            .unwrap_or_else(|| panic!("no log entry for {needle}:\n{log}"));
        let start = log[..pos].rfind("\n2").map(|i| i + 1).unwrap_or(0);
        let end = log[pos..].find("\n2").map(|i| pos + i).unwrap_or(log.len());
        log[start..end].to_string()
    };
    for (port, code) in [
        (garbage_port, "12592"),
        (zero_port, "12592"),
        (huge_port, "12592"),
        (truncated_port, "12537"),
        (silent_port, "12525"),
        (stalled_port, "12525"),
        (broken_port, "12502"),
    ] {
        let e = entry(port);
        assert!(e.contains(code), "entry for port {port} lacks {code}:\n{e}");
    }
    assert!(
        entry(silent_port)
            .contains("TNS-12525: TNS:listener has not received client's request in time allowed")
    );
}

#[test]
fn a_silent_admin_client_does_not_hold_up_lsnrctl_or_clients() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[], &[])
    });
    let sock = listener::home::OracleHome::with_admin(home.path().to_path_buf(), None)
        .admin_socket("LISTENER");
    // Connected to the admin socket, sending nothing (and one sending half a request).
    let _silent = std::os::unix::net::UnixStream::connect(&sock).expect("admin connect");
    let mut half = std::os::unix::net::UnixStream::connect(&sock).expect("admin connect");
    half.write_all(b"{\"cmd\":").expect("partial request");
    let out = home.lsnrctl(&["status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(good_client(l.port), 12514);
    // The listener hangs up on the half request once its time is up.
    half.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut rest = Vec::new();
    assert!(half.read_to_end(&mut rest).is_ok());
    assert!(rest.is_empty());
}

#[test]
fn running_out_of_descriptors_does_not_stop_the_listener() {
    let home = TestHome::new();
    let l = ListenerProc::start_with_nofile(
        &home,
        "LISTENER",
        |port| listener_ora("LISTENER", port, &[], &[("INBOUND_CONNECT_TIMEOUT", "0")]),
        32,
    );
    // Silent clients until the listener cannot accept any more (EMFILE)...
    let hogs: Vec<TcpStream> = (0..40).map(|_| open(l.port).0).collect();
    // ...a well-behaved client queues in the backlog meanwhile...
    let port = l.port;
    let waiter = std::thread::spawn(move || good_client(port));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // ...and is served once descriptors are free again.
    drop(hogs);
    assert_eq!(waiter.join().expect("client"), 12514);
    assert_eq!(good_client(l.port), 12514);
    let trace = std::fs::read_to_string(home.path().join("tnslsnr.err")).unwrap_or_default();
    assert!(
        trace.contains("accept failed"),
        "EMFILE never happened:\n{trace}"
    );
}
