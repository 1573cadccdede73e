//! Request decoder tests: golden bytes from python-oracledb 26.1.0, incremental feeding,
//! and a property that arbitrary bytes never panic the decoder.

use super::*;
use crate::ttc::buf::DALC_LONG;
use proptest::prelude::*;

/// `select 1 from dual`, first execute, fv 12 (reference §5.2, validated on the wire).
const EXECUTE_SELECT_1: &[u8] = &[
    0x03, 0x5E, 0x03, 0x02, 0x80, 0x61, 0x00, 0x01, 0x01, 0x12, 0x01, 0x01, 0x0D, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x04, 0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x12, 0x73, 0x65, 0x6C, 0x65, 0x63, 0x74, 0x20, 0x31, 0x20, 0x66, 0x72, 0x6F, 0x6D,
    0x20, 0x64, 0x75, 0x61, 0x6C, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00,
    0x02, 0x80, 0x00, 0x00, 0x00, 0x00,
];

/// A logged-on session at field version 12.
fn ctx12() -> DecodeContext {
    DecodeContext {
        field_version: 12,
        logged_on: true,
        ..DecodeContext::default()
    }
}

#[test]
fn decodes_python_execute_select_1() {
    let (req, used) = decode_request(EXECUTE_SELECT_1, &ctx12()).unwrap().unwrap();
    assert_eq!(used, EXECUTE_SELECT_1.len());
    let Request::Call {
        seq,
        call,
        piggybacks,
    } = req
    else {
        panic!("not a call")
    };
    assert_eq!(seq, 3);
    assert!(piggybacks.is_empty());
    let Call::Execute(ex) = call else {
        panic!("not execute")
    };
    assert_eq!(ex.options, 0x8061);
    assert_eq!(ex.cursor_id, 0);
    assert_eq!(ex.prefetch_rows, 2);
    assert_eq!(ex.sql.as_deref(), Some(&b"select 1 from dual"[..]));
    assert_eq!(ex.al8i4, [1, 0, 0, 0, 0, 0, 0, 1, 0, 0x8000, 0, 0, 0]);
    assert!(ex.is_query());
}

#[test]
fn encoder_reproduces_python_execute() {
    let (req, _) = decode_request(EXECUTE_SELECT_1, &ctx12()).unwrap().unwrap();
    let Request::Call {
        call: Call::Execute(ex),
        ..
    } = req
    else {
        panic!("not execute")
    };
    let mut w = Writer::new();
    write_execute(&mut w, 3, 12, &ex);
    assert_eq!(w.as_bytes(), EXECUTE_SELECT_1);
}

#[test]
fn every_prefix_needs_more_and_split_feeding_completes() {
    for cut in 0..EXECUTE_SELECT_1.len() {
        assert_eq!(
            decode_request(&EXECUTE_SELECT_1[..cut], &ctx12()).unwrap(),
            None,
            "prefix {cut}"
        );
        let mut d = RequestDecoder::new();
        d.push(&EXECUTE_SELECT_1[..cut]);
        assert_eq!(d.next_request(&ctx12()).unwrap(), None);
        d.push(&EXECUTE_SELECT_1[cut..]);
        assert!(d.next_request(&ctx12()).unwrap().is_some());
        assert_eq!(d.pending(), 0);
    }
}

#[test]
fn close_cursor_piggyback_precedes_the_call() {
    // Observed after ORA-00942 on cursor 6: `11 69 07 01 01 01 01 06` then the next call.
    let mut bytes = vec![0x11, 0x69, 0x07, 0x01, 0x01, 0x01, 0x01, 0x06];
    bytes.extend_from_slice(&[0x03, 0x93, 0x08]);
    let (req, used) = decode_request(&bytes, &ctx12()).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(
        req,
        Request::Call {
            piggybacks: vec![Piggyback::CloseCursors(vec![6])],
            seq: 8,
            call: Call::Ping
        }
    );
}

#[test]
fn protocol_request_from_python() {
    let bytes = b"\x01\x06\x00python-oracledb\x00";
    let (req, used) = decode_request(bytes, &DecodeContext::default())
        .unwrap()
        .unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(
        req,
        Request::Protocol(ProtocolRequest {
            version: 6,
            driver: b"python-oracledb".to_vec()
        })
    );
}

#[test]
fn auth_round_trip_and_tokens_at_fv18() {
    let auth = Auth {
        user: "scott".into(),
        mode: 1,
        pairs: vec![
            KeyValue::new("AUTH_TERMINAL", "unknown", 0),
            KeyValue::new("AUTH_PID", "42", 0),
        ],
    };
    for fv in [12u8, 18] {
        let mut w = Writer::new();
        write_auth(&mut w, function::AUTH_PHASE_ONE, 1, fv, &auth);
        let ctx = DecodeContext {
            field_version: fv,
            ..DecodeContext::default()
        };
        let (req, used) = decode_request(w.as_bytes(), &ctx).unwrap().unwrap();
        assert_eq!(used, w.as_bytes().len());
        assert_eq!(
            req,
            Request::Call {
                piggybacks: vec![],
                seq: 1,
                call: Call::AuthPhaseOne(auth.clone())
            }
        );
    }
}

#[test]
fn reexecute_and_fetch_and_fetch() {
    let mut w = Writer::new();
    write_reexecute(&mut w, 4, 12, true, 5, 2);
    write_fetch(&mut w, 5, 12, 5, 100);
    let bytes = w.into_bytes();
    let mut d = RequestDecoder::new();
    d.push(&bytes);
    let a = d.next_request(&ctx12()).unwrap().unwrap();
    let b = d.next_request(&ctx12()).unwrap().unwrap();
    assert!(matches!(
        a,
        Request::Call {
            call: Call::Reexecute {
                fetch: true,
                cursor_id: 5,
                rows: 2,
                ..
            },
            ..
        }
    ));
    assert!(matches!(
        b,
        Request::Call {
            call: Call::Fetch {
                cursor_id: 5,
                rows: 100
            },
            ..
        }
    ));
}

#[test]
fn drcp_session_release_is_a_one_way_call() {
    // python-oracledb: ONEWAY_FN, SESSION_RELEASE, seq, tag pointer, tag length, ub4 mode.
    let bytes = [0x1A, 0xA3, 0x07, 0x00, 0x00, 0x01, 0x02];
    let (req, used) = decode_request(&bytes, &ctx12()).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(
        req,
        Request::Call {
            piggybacks: vec![],
            seq: 7,
            call: Call::SessionRelease { mode: 2 }
        }
    );
}

#[test]
fn a_piggyback_may_precede_the_one_way_release() {
    // A pooled python-oracledb connection closes a cursor as it releases its session.
    let mut bytes = vec![0x11, 0x69, 0x07, 0x01, 0x01, 0x01, 0x01, 0x06];
    bytes.extend_from_slice(&[0x1A, 0xA3, 0x08, 0x00, 0x00, 0x00]);
    let (req, used) = decode_request(&bytes, &ctx12()).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(
        req,
        Request::Call {
            piggybacks: vec![Piggyback::CloseCursors(vec![6])],
            seq: 8,
            call: Call::SessionRelease { mode: 0 }
        }
    );
}

#[test]
fn unknown_function_is_invalid_not_need_more() {
    let e = decode_request(&[0x03, 0xEE, 0x01, 0x00], &ctx12()).unwrap_err();
    assert!(matches!(e, TtcError::Invalid { .. }), "{e}");
}

proptest! {
    #[test]
    fn request_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_request(&bytes, &ctx12());
        let mut with_header = vec![0x03, 0x5E, 0x01];
        with_header.extend_from_slice(&bytes);
        let _ = decode_request(&with_header, &ctx12());
    }

    /// Whatever the bytes, a decoded request never claims more bytes than it was given.
    #[test]
    fn request_decoder_used_stays_within_the_input(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut with_header = vec![0x03, 0x5E, 0x01];
        with_header.extend_from_slice(&bytes);
        for input in [&bytes[..], &with_header[..]] {
            if let Ok(Some((_, used))) = decode_request(input, &ctx12()) {
                prop_assert!(used > 0 && used <= input.len(), "used {} of {}", used, input.len());
            }
        }
    }

    /// A complete request followed by anything: exactly the request is consumed, and the
    /// incremental decoder keeps the rest buffered, whatever the chunking.
    #[test]
    fn request_decoder_consumes_exactly_one_request(
        trailer in proptest::collection::vec(any::<u8>(), 0..200),
        chunk in 1usize..64,
    ) {
        let mut stream = EXECUTE_SELECT_1.to_vec();
        stream.extend_from_slice(&trailer);
        let (_, used) = decode_request(&stream, &ctx12()).unwrap().unwrap();
        prop_assert_eq!(used, EXECUTE_SELECT_1.len());
        let mut d = RequestDecoder::new();
        let mut got = None;
        for piece in stream.chunks(chunk) {
            d.push(piece);
            if got.is_none() {
                got = d.next_request(&ctx12()).ok().flatten();
            }
        }
        prop_assert!(got.is_some());
        prop_assert_eq!(d.pending(), trailer.len());
    }

    #[test]
    fn mutated_execute_never_panics(i in 0usize..90, b in any::<u8>()) {
        let mut v = EXECUTE_SELECT_1.to_vec();
        let i = i % v.len();
        v[i] = b;
        let _ = decode_request(&v, &ctx12());
    }
}

/// A whole client session captured from python-oracledb 26.1.0 with
/// `PYO_DEBUG_PACKETS=1` (everything the client sent after its CONNECT).
const PYO_SESSION: &[u8] = include_bytes!("../../../testdata/pyo_client_session.bin");

#[test]
fn decodes_a_captured_python_session() {
    use crate::packet::{self, LengthMode, Packet, data_flags};
    let mut pos = 0;
    let mut dec = RequestDecoder::new();
    let mut ctx = DecodeContext::default();
    let mut calls = Vec::new();
    let mut saw_eof = false;
    while pos < PYO_SESSION.len() {
        let (p, used) = packet::decode(&PYO_SESSION[pos..], LengthMode::Large)
            .unwrap()
            .unwrap();
        pos += used;
        let Packet::Data(d) = p else {
            panic!("unexpected {p:?}")
        };
        if d.flags & data_flags::EOF != 0 {
            saw_eof = true;
            continue;
        }
        dec.push(&d.payload);
        while let Some(req) = dec.next_request(&ctx).unwrap() {
            match req {
                Request::Protocol(p) => {
                    assert_eq!(p.driver, b"python-oracledb");
                    calls.push("protocol".to_owned());
                }
                Request::DataTypes(dt) => {
                    assert_eq!(dt.charset, 873);
                    assert_eq!(dt.compile_caps.len(), 55);
                    assert!(dt.types.len() > 300, "{}", dt.types.len());
                    ctx.field_version = dt.compile_caps[7];
                    calls.push("data_types".to_owned());
                }
                Request::Call { call, .. } => calls.push(match call {
                    Call::AuthPhaseOne(a) => {
                        assert_eq!(a.user, "scott");
                        assert_eq!(a.pairs.len(), 5);
                        "auth1".to_owned()
                    }
                    Call::AuthPhaseTwo(a) => {
                        assert_eq!(a.mode, 0x101);
                        assert!(a.get("AUTH_PBKDF2_SPEEDY_KEY").is_some());
                        assert_eq!(
                            a.get("SESSION_CLIENT_DRIVER_NAME").as_deref(),
                            Some("python-oracledb thn : 26.1.0")
                        );
                        ctx.logged_on = true;
                        "auth2".to_owned()
                    }
                    Call::Execute(ex) => format!(
                        "94:{}",
                        String::from_utf8_lossy(ex.sql.as_deref().unwrap_or_default())
                    ),
                    Call::Reexecute {
                        fetch,
                        cursor_id,
                        rows,
                        ..
                    } => format!("78:{fetch}:{cursor_id}:{rows}"),
                    Call::Fetch { cursor_id, rows } => format!("5:{cursor_id}:{rows}"),
                    Call::Ping => "ping".to_owned(),
                    Call::Commit => "commit".to_owned(),
                    Call::Rollback => "rollback".to_owned(),
                    Call::Logoff => "logoff".to_owned(),
                    Call::SessionRelease { mode } => format!("release:{mode}"),
                    Call::LobOp(op) => format!("lob:{}", op.operation),
                }),
            }
        }
    }
    assert_eq!(dec.pending(), 0);
    assert!(saw_eof);
    assert_eq!(ctx.field_version, 12);
    assert_eq!(
        calls,
        [
            "protocol",
            "data_types",
            "auth1",
            "auth2",
            "94:select 1 from dual",
            "78:true:1:2",
            "94:select level from dual connect by level <= 5",
            "5:2:100",
            "94:select * from missing",
            "ping",
            "commit",
            "logoff",
        ]
    );
}

/// The TTC bytes python-oracledb sent in [`PYO_SESSION`], one DATA payload after another
/// (EOF packet left out).
fn pyo_ttc_stream() -> Vec<u8> {
    use crate::packet::{self, LengthMode, Packet, data_flags};
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < PYO_SESSION.len() {
        let (p, used) = packet::decode(&PYO_SESSION[pos..], LengthMode::Large)
            .unwrap()
            .unwrap();
        pos += used;
        if let Packet::Data(d) = p
            && d.flags & data_flags::EOF == 0
        {
            out.extend_from_slice(&d.payload);
        }
    }
    out
}

/// Feeds `stream` to a decoder `chunk` bytes at a time, following the session's phases as
/// the engine does; returns per request (its name, its length, the bytes examined for it).
fn feed_session(stream: &[u8], chunk: usize) -> Vec<(String, usize, u64)> {
    let mut d = RequestDecoder::new();
    let mut ctx = DecodeContext::default();
    let mut out = Vec::new();
    let (mut fed, mut last_end, mut last_examined) = (0usize, 0usize, 0u64);
    for piece in stream.chunks(chunk) {
        d.push(piece);
        fed += piece.len();
        while let Some(req) = d.next_request(&ctx).unwrap() {
            let end = fed - d.pending();
            let name = match req {
                Request::Protocol(_) => "protocol".to_owned(),
                Request::DataTypes(dt) => {
                    ctx.field_version = dt.compile_caps[7];
                    "data_types".to_owned()
                }
                Request::Call {
                    call: Call::AuthPhaseTwo(_),
                    ..
                } => {
                    ctx.logged_on = true;
                    "auth2".to_owned()
                }
                Request::Call { call, .. } => format!("{call:?}").chars().take(12).collect(),
            };
            out.push((name, end - last_end, d.bytes_examined() - last_examined));
            last_end = end;
            last_examined = d.bytes_examined();
        }
    }
    assert_eq!(d.pending(), 0);
    out
}

/// Linear, not quadratic: fed one byte per push, each request of the captured session —
/// the AUTH phases included — is decoded looking at no more than 3 × its length (each field
/// is read once, plus the length byte of an integer read again when its value has not
/// arrived yet). Re-parsing from the start of the request at every push, as the decoder once
/// did, looks at about length² / 2 bytes: for the 737 bytes of AUTH phase two, 368 × its
/// length.
#[test]
fn one_byte_per_push_costs_linear_work() {
    let stream = pyo_ttc_stream();
    let bytewise = feed_session(&stream, 1);
    let whole = feed_session(&stream, stream.len());
    assert_eq!(bytewise.len(), 12, "{bytewise:?}");
    for ((name, len, examined), (_, len_whole, examined_whole)) in bytewise.iter().zip(&whole) {
        assert_eq!(len, len_whole, "{name}");
        println!("{name}: {len} bytes, {examined} examined fed one byte per push");
        assert_eq!(
            examined_whole,
            &(*len as u64),
            "{name}: one push reads each byte once"
        );
        assert!(
            *examined <= 3 * *len as u64,
            "{name}: {examined} bytes examined for a {len}-byte request"
        );
    }
    let auth2 = bytewise.iter().find(|(n, _, _)| n == "auth2").unwrap();
    assert_eq!(auth2.1, 737, "{auth2:?}");
}

/// A long-form DALC of one-byte chunks is read one chunk per attempt: fed one byte per
/// push, a 20 000-chunk SQL text costs a bounded multiple of its length.
#[test]
fn a_value_of_tiny_chunks_is_not_reread() {
    let (req, _) = decode_request(EXECUTE_SELECT_1, &ctx12()).unwrap().unwrap();
    let Request::Call {
        call: Call::Execute(mut ex),
        ..
    } = req
    else {
        panic!("not execute")
    };
    ex.sql = Some(Vec::new());
    let mut w = Writer::new();
    write_execute(&mut w, 3, 12, &ex);
    // Replace the empty SQL DALC (`00`) with FE (01 'x')×20000 00.
    let bytes = w.into_bytes();
    let sql_at = bytes.len()
        - 1
        - ex.al8i4
            .iter()
            .map(|&v| Writer::new().ub4(v).as_bytes().len())
            .sum::<usize>();
    assert_eq!(bytes[sql_at], 0);
    let mut stream = bytes[..sql_at].to_vec();
    stream.push(DALC_LONG);
    for _ in 0..20_000 {
        stream.extend_from_slice(&[1, 1, b'x']);
    }
    stream.push(0);
    stream.extend_from_slice(&bytes[sql_at + 1..]);
    let mut d = RequestDecoder::new();
    let mut got = None;
    for b in &stream {
        d.push(std::slice::from_ref(b));
        if let Some(r) = d.next_request(&ctx12()).unwrap() {
            got = Some(r);
        }
    }
    let Some(Request::Call {
        call: Call::Execute(ex),
        ..
    }) = got
    else {
        panic!("no execute")
    };
    assert_eq!(ex.sql.map(|s| s.len()), Some(20_000));
    let examined = d.bytes_examined();
    assert!(
        examined <= 3 * stream.len() as u64,
        "{examined} bytes examined for {}",
        stream.len()
    );
}

/// DATA_TYPES with a type table that never ends: well-formed bytes, no request boundary.
fn endless_data_types(total: usize) -> Vec<u8> {
    let mut v = vec![
        msg_type::DATA_TYPES,
        0x69,
        0x03,
        0x69,
        0x03,
        0x03,
        0x01,
        0x06,
        0x01,
        0x02,
    ];
    while v.len() < total {
        v.extend_from_slice(&[0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
    }
    v
}

/// A pre-login flood: 10 MB of well-formed TTC in 8 KiB packets is refused once 64 KiB are
/// buffered, without ever holding more, each byte looked at about once.
#[test]
fn pre_login_flood_is_refused_at_64_kib() {
    let flood = endless_data_types(10_000_000);
    let mut d = RequestDecoder::new();
    let ctx = DecodeContext::default();
    let mut fed = 0;
    let mut refused = None;
    for piece in flood.chunks(8192) {
        d.push(piece);
        fed += piece.len();
        assert!(d.pending() <= PRE_LOGIN_MAX_REQUEST + 1, "{}", d.pending());
        match d.next_request(&ctx) {
            Ok(None) => {}
            Ok(Some(r)) => panic!("{r:?}"),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert_eq!(
        refused,
        Some(TtcError::TooLarge {
            limit: PRE_LOGIN_MAX_REQUEST
        })
    );
    assert!(fed <= PRE_LOGIN_MAX_REQUEST + 8192, "{fed}");
    // Each byte kept is read once, plus the entry a packet boundary cut: the probe of the
    // run that stops there (≤ 8 bytes), and its field-by-field read, which reads the start of
    // the field that ran out again when the rest arrives (≤ 8 bytes).
    let pushes = fed.div_ceil(8192) as u64;
    assert!(
        d.bytes_examined() <= (PRE_LOGIN_MAX_REQUEST + 1) as u64 + 16 * pushes,
        "{}",
        d.bytes_examined()
    );
    assert_eq!(d.pending(), 0);
}

/// One 2 MiB push before login (the largest TNS packet) is not kept beyond the cap.
#[test]
fn pre_login_push_keeps_at_most_the_cap() {
    let mut d = RequestDecoder::new();
    d.push(&endless_data_types(2 * 1024 * 1024));
    assert_eq!(d.pending(), PRE_LOGIN_MAX_REQUEST + 1);
    assert_eq!(
        d.next_request(&DecodeContext::default()),
        Err(TtcError::TooLarge {
            limit: PRE_LOGIN_MAX_REQUEST
        })
    );
    // A complete request above the cap is refused even when it arrived in one piece.
    let mut big = endless_data_types(PRE_LOGIN_MAX_REQUEST + 100);
    big.extend_from_slice(&[0, 0]);
    assert_eq!(
        decode_request(&big, &DecodeContext::default()),
        Err(TtcError::TooLarge {
            limit: PRE_LOGIN_MAX_REQUEST
        })
    );
    // The same request after login is fine.
    let (req, used) = decode_request(&big, &ctx12()).unwrap().unwrap();
    assert_eq!(used, big.len());
    assert!(matches!(req, Request::DataTypes(_)));
}

/// Bytes `push` dropped before login are never silently skipped: a complete request kept
/// before them is returned, then the overflow is an error, not a fresh start mid-stream.
#[test]
fn pre_login_overflow_after_a_complete_request_is_an_error() {
    let mut stream = b"\x01\x06\x00python-oracledb\x00".to_vec();
    let protocol_len = stream.len();
    stream.extend(std::iter::repeat_n(0u8, PRE_LOGIN_MAX_REQUEST));
    let pre = DecodeContext::default();
    let mut d = RequestDecoder::new();
    d.push(&stream);
    assert!(matches!(
        d.next_request(&pre),
        Ok(Some(Request::Protocol(_)))
    ));
    assert_eq!(d.pending(), PRE_LOGIN_MAX_REQUEST + 1 - protocol_len);
    // The rest kept is zeros: message type 0 is invalid, whatever was dropped.
    assert!(matches!(
        d.next_request(&pre),
        Err(TtcError::Invalid { .. })
    ));
    // PROTOCOL, then a DATA_TYPES that ends exactly where `push` stops keeping bytes, then
    // more: both requests are returned, then the dropped bytes are an error.
    let protocol = &stream[..protocol_len];
    let data_types = data_types_of_len(PRE_LOGIN_MAX_REQUEST + 1 - protocol_len);
    let mut d = RequestDecoder::new();
    d.push(protocol);
    d.push(&data_types);
    d.push(protocol);
    assert!(matches!(
        d.next_request(&pre),
        Ok(Some(Request::Protocol(_)))
    ));
    assert!(matches!(
        d.next_request(&pre),
        Ok(Some(Request::DataTypes(_)))
    ));
    assert_eq!(d.pending(), 0);
    assert_eq!(
        d.next_request(&pre),
        Err(TtcError::TooLarge {
            limit: PRE_LOGIN_MAX_REQUEST
        })
    );
    assert_eq!(d.next_request(&pre), Ok(None));
    // One byte more than the cap, complete in one push: refused though complete.
    let mut d = RequestDecoder::new();
    d.push(&data_types_of_len(PRE_LOGIN_MAX_REQUEST + 1));
    assert_eq!(
        d.next_request(&pre),
        Err(TtcError::TooLarge {
            limit: PRE_LOGIN_MAX_REQUEST
        })
    );
    let mut d = RequestDecoder::new();
    d.push(&data_types_of_len(PRE_LOGIN_MAX_REQUEST));
    assert!(matches!(
        d.next_request(&pre),
        Ok(Some(Request::DataTypes(_)))
    ));
}

/// A complete DATA_TYPES request of exactly `len` bytes (the compile caps take up the
/// remainder of the 8-byte type entries).
fn data_types_of_len(len: usize) -> Vec<u8> {
    let caps = (len - 11) % 8;
    let mut v = vec![msg_type::DATA_TYPES, 0x69, 0x03, 0x69, 0x03, 0x03];
    v.push(caps as u8);
    v.extend(std::iter::repeat_n(0u8, caps));
    v.extend_from_slice(&[0x01, 0x02]);
    while v.len() + 2 < len {
        v.extend_from_slice(&[0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
    }
    v.extend_from_slice(&[0, 0]);
    assert_eq!(v.len(), len);
    v
}

/// Before login only PROTOCOL, DATA_TYPES and the AUTH calls decode; anything else is
/// refused as soon as its function code is read, naming it.
#[test]
fn before_login_only_the_login_exchange_decodes() {
    let pre = DecodeContext::default();
    for (bytes, message_type, function) in [
        (&[0x03, 0x5E][..], 3, 94),   // EXECUTE
        (&[0x03, 0x93][..], 3, 147),  // PING
        (&[0x03, 0x09][..], 3, 9),    // LOGOFF
        (&[0x11, 0x69][..], 17, 105), // CLOSE_CURSORS piggyback
        (&[0x11, 0x76][..], 17, 118), // AUTH code in a piggyback
        (&[0x1A, 0xA3][..], 26, 163), // SESSION_RELEASE
        (&[0x03, 0xEE][..], 3, 238),  // unknown
    ] {
        let mut d = RequestDecoder::new();
        d.push(bytes);
        assert_eq!(
            d.next_request(&pre),
            Err(TtcError::NotLoggedOn {
                message_type,
                function
            }),
            "{bytes:02X?}"
        );
        assert_eq!(d.pending(), 0);
    }
    // EXECUTE_SELECT_1 decodes once logged on, and is refused before.
    assert!(
        decode_request(EXECUTE_SELECT_1, &ctx12())
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        decode_request(EXECUTE_SELECT_1, &pre),
        Err(TtcError::NotLoggedOn { function: 94, .. })
    ));
    // AUTH phase two is accepted both before and after login (password change).
    let auth = Auth {
        user: "scott".into(),
        mode: 0x101,
        pairs: vec![KeyValue::new("AUTH_NEWPASSWORD", "00", 0)],
    };
    let mut w = Writer::new();
    write_auth(&mut w, function::AUTH_PHASE_TWO, 4, 12, &auth);
    for ctx in [&pre, &ctx12()] {
        assert!(decode_request(w.as_bytes(), ctx).unwrap().is_some());
    }
}

/// After login the cap is [`MAX_REQUEST`]: a SQL text announcing a 4 GiB chunk is refused
/// once more than 16 MiB are buffered, not held until 4 GiB arrive.
#[test]
fn after_login_an_incomplete_request_above_the_cap_is_refused() {
    let mut head = vec![0x03, 0x5E, 0x03];
    head.extend_from_slice(&EXECUTE_SELECT_1[3..50]);
    let mut d = RequestDecoder::new();
    d.push(&head);
    d.push(&[DALC_LONG, 0x04, 0xFF, 0xFF, 0xFF, 0xFF]);
    let ctx = ctx12();
    assert_eq!(d.next_request(&ctx), Ok(None));
    let mb = vec![b'x'; 1024 * 1024];
    let mut pushed = d.pending();
    loop {
        d.push(&mb);
        pushed += mb.len();
        match d.next_request(&ctx) {
            Ok(None) => assert!(pushed <= MAX_REQUEST),
            Err(e) => {
                assert_eq!(e, TtcError::TooLarge { limit: MAX_REQUEST });
                assert!(pushed > MAX_REQUEST && pushed <= MAX_REQUEST + mb.len());
                break;
            }
            Ok(Some(r)) => panic!("{r:?}"),
        }
    }
    // The 16 MiB were looked at once (the chunk was never attempted before it was complete).
    assert!(d.bytes_examined() < 200, "{}", d.bytes_examined());
}

#[test]
fn the_clients_session_release_decodes_as_one() {
    for (fv, mode) in [(12, 0), (18, 2)] {
        let mut w = Writer::new();
        write_session_release(&mut w, 9, fv, mode);
        let ctx = DecodeContext {
            field_version: fv,
            ..ctx12()
        };
        let (req, used) = decode_request(w.as_bytes(), &ctx).unwrap().unwrap();
        assert_eq!(used, w.as_bytes().len());
        assert_eq!(
            req,
            Request::Call {
                piggybacks: vec![],
                seq: 9,
                call: Call::SessionRelease { mode }
            }
        );
    }
}

#[test]
fn execute_with_binds_round_trips_through_the_decoder() {
    // `begin dbms_output.get_lines(:1, :2); end;` as orasql sends it after each call: a
    // VARCHAR2 array bind sent empty and a NUMBER.
    let (lines, count) = (
        BindMetadata {
            ora_type: 1,
            flags: BIND_ARRAY,
            buffer_size: 32767,
            max_array_elements: 100,
            charset_id: 873,
            charset_form: 1,
        },
        BindMetadata {
            ora_type: 2,
            flags: 0,
            buffer_size: 22,
            max_array_elements: 0,
            charset_id: 0,
            charset_form: 0,
        },
    );
    let ex = Execute {
        options: 0x29,
        cursor_id: 0,
        sql: Some(b"begin dbms_output.get_lines(:1, :2); end;".to_vec()),
        prefetch_rows: 1,
        al8i4: vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0x8000, 0, 0, 0],
        binds: vec![lines, count],
        defines: Vec::new(),
        bind_rows: vec![vec![
            BindValue::Array(Vec::new()),
            BindValue::Bytes(crate::ttc::types::Decimal::from_i128(100).to_oracle_number()),
        ]],
    };
    let mut w = Writer::new();
    write_execute(&mut w, 4, 12, &ex);
    let (req, used) = decode_request(w.as_bytes(), &ctx12()).unwrap().unwrap();
    assert_eq!(used, w.as_bytes().len());
    let Request::Call {
        call: Call::Execute(back),
        ..
    } = req
    else {
        panic!("not execute")
    };
    assert_eq!(back, ex);
}
