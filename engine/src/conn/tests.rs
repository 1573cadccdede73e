//! The TNS layer of `ServerConn`, driven byte by byte: CONNECT → ACCEPT, framing, EOF,
//! refusals of what a client must not send, and lending the session out.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tns::packet::{self, Connect, Data, LengthMode, Marker, MarkerKind, Packet};
use tns::ttc::buf::{KeyValue, Writer};
use tns::ttc::message::ProtocolRequest;
use tns::ttc::request::{Auth, write_auth};

use super::*;
use crate::port::LocalInstance;
use crate::session::SessionConfig;

struct NoUsers;

impl crate::port::Credentials for NoUsers {
    fn verifier(&self, _user: &str) -> Option<tns::o5logon::Verifier> {
        None
    }
}

fn runner(inst: &Arc<LocalInstance>) -> SessionRunner {
    let cfg = SessionConfig {
        service_name: "ORCL".into(),
        db_domain: String::new(),
        server_host: "h".into(),
        max_open_cursors: 10,
    };
    let session = Session::new(
        cfg,
        Arc::new(NoUsers),
        inst.clone(),
        Box::new(|b: &mut [u8]| b.fill(7)),
    );
    SessionRunner::new(
        session,
        WallClock {
            instant: Instant::now(),
            wall: SystemTime::UNIX_EPOCH,
        },
    )
}

fn connect_bytes(sdu: u32) -> Vec<u8> {
    Connect::new(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=ORCL)))",
        sdu,
    )
    .encode()
}

fn data(payload: &[u8]) -> Vec<u8> {
    Data {
        flags: 0,
        payload: payload.to_vec(),
    }
    .encode(LengthMode::Large)
}

fn protocol_request() -> Vec<u8> {
    let mut w = Writer::new();
    ProtocolRequest {
        version: 6,
        driver: b"test".to_vec(),
    }
    .encode(&mut w);
    w.into_bytes()
}

/// An accepted connection and the ACCEPT it sent.
fn accepted(inst: &Arc<LocalInstance>, sdu: u32) -> (ServerConn, packet::Accept) {
    let mut c = ServerConn::new(runner(inst), 65535);
    let now = Instant::now();
    // One byte at a time: the CONNECT is answered once, when it is complete.
    for b in connect_bytes(sdu) {
        assert!(c.poll_transmit().is_none());
        c.handle_bytes(now, &[b]);
    }
    let out = c.poll_transmit().expect("ACCEPT");
    let (p, used) = packet::decode(&out, LengthMode::Short).unwrap().unwrap();
    assert_eq!(used, out.len());
    let Packet::Accept(a) = p else {
        panic!("expected ACCEPT, got {p:?}")
    };
    (c, a)
}

#[test]
fn connect_is_accepted_and_later_packets_use_4_byte_lengths_and_the_sdu() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, a) = accepted(&inst, 8192);
    assert_eq!((a.version, a.sdu), (318, 8192));
    assert_eq!(
        c.framing(),
        Framing {
            mode: LengthMode::Large,
            sdu: 8192
        }
    );
    // The PROTOCOL request split across two packets is answered once, in a DATA packet.
    let req = protocol_request();
    let (head, tail) = req.split_at(5);
    c.handle_bytes(Instant::now(), &data(head));
    assert!(c.poll_transmit().is_none());
    c.handle_bytes(Instant::now(), &data(tail));
    let out = c.poll_transmit().expect("protocol reply");
    let (p, used) = packet::decode(&out, LengthMode::Large).unwrap().unwrap();
    assert_eq!(used, out.len());
    assert!(matches!(p, Packet::Data(_)), "{p:?}");
    assert!(!c.is_closed());
}

#[test]
fn a_data_eof_or_a_closed_socket_ends_the_connection() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, _) = accepted(&inst, 8192);
    c.handle_bytes(Instant::now(), &Data::eof().encode(LengthMode::Large));
    assert_eq!(c.end(), Some(SessionEnd::Eof));
    let (mut c, _) = accepted(&inst, 8192);
    c.handle_eof();
    assert_eq!(c.end(), Some(SessionEnd::Eof));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn anything_but_connect_first_is_refused() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let mut c = ServerConn::new(runner(&inst), 65535);
    c.handle_bytes(
        Instant::now(),
        &Data {
            flags: 0,
            payload: vec![1, 2, 3],
        }
        .encode(LengthMode::Short),
    );
    assert_eq!(c.end(), Some(SessionEnd::Closed));
    assert_eq!(c.error(), Some(&ConnError::NotConnect));
    assert!(c.poll_transmit().is_none());
}

#[test]
fn a_packet_longer_than_the_sdu_is_refused_from_its_header() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, _) = accepted(&inst, 8192);
    let big = data(&vec![0u8; 9000]);
    c.handle_bytes(Instant::now(), &big[..8]);
    assert_eq!(c.end(), Some(SessionEnd::Closed));
    assert_eq!(
        c.error(),
        Some(&ConnError::OverSdu {
            len: 9010,
            sdu: 8192
        })
    );
}

#[test]
fn a_call_other_than_the_login_before_login_is_refused_and_closed() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, _) = accepted(&inst, 8192);
    c.handle_bytes(Instant::now(), &data(&protocol_request()));
    assert!(c.poll_transmit().is_some());
    // A PING (function 147) where the data-types request belongs.
    let mut w = Writer::new();
    tns::ttc::request::write_function_header(&mut w, 147, 1, 0);
    c.handle_bytes(Instant::now(), &data(w.as_bytes()));
    let out = c.poll_transmit().expect("an error answer");
    assert!(!out.is_empty());
    assert_eq!(c.end(), Some(SessionEnd::Closed));
}

#[test]
fn a_10_mb_login_flood_is_refused_after_at_most_64_kib() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, a) = accepted(&inst, 8192);
    c.handle_bytes(Instant::now(), &data(&protocol_request()));
    assert!(c.poll_transmit().is_some());
    // A well-formed AUTH phase one whose user name is 10 MB long, in SDU-sized packets.
    let mut w = Writer::new();
    write_auth(
        &mut w,
        tns::ttc::message::function::AUTH_PHASE_ONE,
        1,
        0,
        &Auth {
            user: "X".repeat(10 << 20),
            mode: 1,
            pairs: vec![KeyValue::new("AUTH_PROGRAM_NM", "flood", 0)],
        },
    );
    let flood = packet::encode_data_packets(w.as_bytes(), a.sdu, LengthMode::Large, 0);
    let mut fed = 0;
    for chunk in flood.chunks(16 * 1024) {
        if c.is_closed() {
            break;
        }
        c.handle_bytes(Instant::now(), chunk);
        fed += chunk.len();
    }
    assert_eq!(c.end(), Some(SessionEnd::Closed));
    assert!(
        fed <= 64 * 1024 + 16 * 1024,
        "refused only after {fed} bytes"
    );
    assert!(c.poll_transmit().is_some(), "the refusal is answered");
    assert!(inst.open_sessions().is_empty());
}

#[test]
fn a_lent_session_runs_elsewhere_and_a_break_meanwhile_is_passed_on() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let mut c = ServerConn::new_lending(runner(&inst), 65535);
    let now = Instant::now();
    c.handle_bytes(now, &connect_bytes(8192));
    assert!(c.poll_transmit().is_some(), "ACCEPT");
    assert!(c.poll_request().is_none(), "nothing to run yet");
    c.handle_bytes(now, &data(&protocol_request()));
    // The dispatcher's side does not run the call: it lends the session out.
    assert!(c.poll_transmit().is_none());
    let (mut r, input) = c.poll_request().expect("a request");
    assert!(c.session().is_none());
    assert!(c.poll_request().is_none(), "one request out at a time");
    // A BREAK while the request is out is for whoever runs it.
    c.handle_bytes(
        now,
        &Marker {
            kind: MarkerKind::Break,
        }
        .encode(LengthMode::Large),
    );
    assert!(c.take_interrupt());
    assert!(!c.take_interrupt());
    r.handle_input(now + Duration::from_millis(5), input);
    assert!(!r.in_call());
    c.finish_request(now, r, false);
    let out = c.poll_transmit().expect("the reply comes home");
    assert_eq!(kinds(&out), ["DATA"]);
    // A BREAK that came when the call had ended is answered here, at once, without a
    // shared server.
    c.handle_bytes(now, &marker(MarkerKind::Break));
    assert!(c.poll_request().is_none());
    let out = c.poll_transmit().expect("BREAK, RESET, ORA-01013");
    assert_eq!(kinds(&out), ["BREAK", "RESET", "DATA"]);
    // Until the client's RESET, its requests are discarded; after it they run again.
    c.handle_bytes(now, &data(&protocol_request()));
    assert!(
        c.poll_request().is_none(),
        "discarded before the client's RESET"
    );
    c.handle_bytes(now, &marker(MarkerKind::Reset));
    assert!(c.poll_request().is_none());
    c.handle_bytes(now, &data(&protocol_request()));
    assert!(c.poll_request().is_some(), "runs after the client's RESET");
}

fn marker(kind: MarkerKind) -> Vec<u8> {
    Marker { kind }.encode(LengthMode::Large)
}

/// The packets in `out`, by kind.
fn kinds(mut out: &[u8]) -> Vec<&'static str> {
    let mut v = Vec::new();
    while let Some((p, used)) = packet::decode(out, LengthMode::Large).unwrap() {
        v.push(match p {
            Packet::Data(_) => "DATA",
            Packet::Marker(Marker {
                kind: MarkerKind::Break,
            }) => "BREAK",
            Packet::Marker(Marker {
                kind: MarkerKind::Reset,
            }) => "RESET",
            _ => "OTHER",
        });
        out = &out[used..];
    }
    v
}

#[test]
fn a_break_the_lent_call_did_not_see_is_answered_after_its_answer() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let mut c = ServerConn::new_lending(runner(&inst), 65535);
    let now = Instant::now();
    c.handle_bytes(now, &connect_bytes(8192));
    assert!(c.poll_transmit().is_some(), "ACCEPT");
    c.handle_bytes(now, &data(&protocol_request()));
    let (mut r, input) = c.poll_request().expect("a request");
    r.handle_input(now, input);
    // The transport passed the BREAK on, but the call had ended before it looked.
    c.finish_request(now, r, true);
    let out = c.poll_transmit().expect("answer, then the break's");
    assert_eq!(kinds(&out), ["DATA", "BREAK", "RESET", "DATA"]);
}

#[test]
fn a_break_after_the_answer_gets_one_answer_and_the_next_request_its_ora_01013() {
    // The call-timeout race on a dedicated server: the client's BREAK comes just after
    // the call's answer, and the client sends its next request before it sees the
    // server's BREAK/RESET. That request is discarded (it came before the client's RESET),
    // so the ORA-01013 is its only answer and the one after it gets its own.
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, _) = accepted(&inst, 8192);
    let now = Instant::now();
    c.handle_bytes(now, &data(&protocol_request()));
    assert_eq!(kinds(&c.poll_transmit().expect("answer")), ["DATA"]);
    let mut late = marker(MarkerKind::Interrupt);
    late.extend(data(&protocol_request()));
    c.handle_bytes(now, &late);
    assert_eq!(
        kinds(&c.poll_transmit().expect("the break's answer")),
        ["BREAK", "RESET", "DATA"]
    );
    // A second BREAK in the same episode gets no second answer.
    c.handle_bytes(now, &marker(MarkerKind::Break));
    assert!(c.poll_transmit().is_none(), "one answer per episode");
    c.handle_bytes(now, &marker(MarkerKind::Reset));
    assert!(c.poll_transmit().is_none(), "a RESET is not answered");
    c.handle_bytes(now, &data(&protocol_request()));
    assert_eq!(kinds(&c.poll_transmit().expect("answer")), ["DATA"]);
    assert!(!c.is_closed());
}

#[test]
fn a_screened_connect_waits_for_the_driver_then_is_accepted_or_refused() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let now = Instant::now();
    // Accepted: what came after the CONNECT is read then.
    let mut c = ServerConn::new(runner(&inst), 65535).screening_connects();
    let mut bytes = connect_bytes(8192);
    bytes.extend(data(&protocol_request()));
    c.handle_bytes(now, &bytes);
    assert!(c.poll_transmit().is_none(), "nothing before the decision");
    let descriptor = String::from_utf8(c.poll_connect().expect("a CONNECT").to_vec()).unwrap();
    assert!(descriptor.contains("(SERVICE_NAME=ORCL)"), "{descriptor}");
    c.accept_connect(now);
    assert!(c.poll_connect().is_none());
    let out = c.poll_transmit().expect("ACCEPT and the protocol reply");
    let (p, used) = packet::decode(&out, LengthMode::Short).unwrap().unwrap();
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let (p, _) = packet::decode(&out[used..], LengthMode::Large)
        .unwrap()
        .unwrap();
    assert!(matches!(p, Packet::Data(_)), "{p:?}");
    // Refused: a REFUSE as a listener sends it, then closed.
    let mut c = ServerConn::new(runner(&inst), 65535).screening_connects();
    c.handle_bytes(now, &connect_bytes(8192));
    c.refuse_connect(12514);
    let out = c.poll_transmit().expect("REFUSE");
    let (p, _) = packet::decode(&out, LengthMode::Short).unwrap().unwrap();
    let Packet::Refuse(r) = p else {
        panic!("expected REFUSE, got {p:?}")
    };
    assert_eq!(r.error_code(), Some(12514));
    assert_eq!(c.end(), Some(SessionEnd::Closed));
    assert_eq!(
        c.error().map(ToString::to_string).as_deref(),
        Some(
            "TNS-12514: TNS:listener does not currently know of service requested in connect descriptor"
        )
    );
}

#[test]
fn a_client_that_stalls_before_login_is_closed_at_the_login_deadline() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let start = Instant::now();
    let (mut c, _) = accepted(&inst, 8192);
    c.set_login_deadline(start + Duration::from_secs(2));
    c.handle_bytes(start, &data(&protocol_request()));
    assert!(c.poll_transmit().is_some());
    assert_eq!(c.poll_timeout(), Some(start + Duration::from_secs(2)));
    c.handle_timeout(start + Duration::from_millis(1999));
    assert!(!c.is_closed());
    c.handle_timeout(start + Duration::from_secs(2));
    assert_eq!(c.end(), Some(SessionEnd::Closed));
    assert_eq!(
        c.error().map(ToString::to_string).as_deref(),
        Some("ORA-03136: inbound connection timed out")
    );
    assert!(c.poll_transmit().is_none(), "closed without a word");
}

#[test]
fn an_idle_client_is_closed_at_the_recv_timeout_but_a_running_call_is_not() {
    let inst = Arc::new(LocalInstance::new("t", 1));
    let (mut c, _) = accepted(&inst, 8192);
    c.set_recv_timeout(Duration::from_secs(1));
    let t0 = Instant::now();
    c.handle_bytes(t0, &data(&protocol_request()));
    assert!(c.poll_transmit().is_some(), "answered");
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    c.handle_timeout(t0 + Duration::from_millis(999));
    assert!(!c.is_closed());
    // Data resets the wait.
    let t1 = t0 + Duration::from_millis(999);
    c.handle_bytes(t1, &marker(MarkerKind::Reset));
    c.handle_timeout(t0 + Duration::from_secs(1));
    assert!(!c.is_closed(), "the wait counts from the last data");
    c.handle_timeout(t1 + Duration::from_secs(1));
    assert!(c.is_closed());
    assert_eq!(c.error(), Some(&ConnError::RecvTimeout));
    assert_eq!(
        c.error().map(ToString::to_string).as_deref(),
        Some("TNS-12535: TNS:operation timed out (TNS-12609: TNS: Receive timeout occurred)")
    );
}
