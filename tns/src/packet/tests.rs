//! Golden-vector and property tests for the packet layer.

use super::*;
use proptest::prelude::*;

const CONNECT_SHORT: &[u8] = include_bytes!("../../testdata/connect_short.bin");
const CONNECT_OVERFLOW: &[u8] = include_bytes!("../../testdata/connect_overflow.bin");

// Golden vectors: the bytes python-oracledb 26.1.0 expects, written out from the reference
// (`shared/reference/tns-protocol.md` §3.1-3.4 and §6.2); see `testdata/README.md`.
/// §3.1: the recommended minimal ACCEPT, version 318, SDU 8192.
const GOLDEN_ACCEPT: &[u8] = include_bytes!("../../testdata/accept_sdu8192.bin");
/// §3.2: the REFUSE a 19c listener sends for ORA-12514.
const GOLDEN_REFUSE_19C: &[u8] = include_bytes!("../../testdata/refuse_12514_19c.bin");
/// §3.2: the same refusal with the 21c `VSNNUM` quoted in the reference.
const GOLDEN_REFUSE_21C: &[u8] = include_bytes!("../../testdata/refuse_12514_21c.bin");
/// §3.3: REDIRECT header packet (flags 0x02, data length only) + DATA packet with the data.
const GOLDEN_REDIRECT: &[u8] = include_bytes!("../../testdata/redirect_two_packets.bin");
/// §3.4: header-only RESEND, and the TCPS variant with header flag 0x08.
const GOLDEN_RESEND: &[u8] = include_bytes!("../../testdata/resend.bin");
const GOLDEN_RESEND_TLS: &[u8] = include_bytes!("../../testdata/resend_tls.bin");
/// §6.2: MARKER packets after the ACCEPT (4-byte length).
const GOLDEN_MARKER_BREAK: &[u8] = include_bytes!("../../testdata/marker_break.bin");
const GOLDEN_MARKER_RESET: &[u8] = include_bytes!("../../testdata/marker_reset.bin");
const GOLDEN_MARKER_INTERRUPT: &[u8] = include_bytes!("../../testdata/marker_interrupt.bin");

#[test]
fn decodes_python_connect_with_inline_descriptor() {
    let (c, used) = decode_connect(CONNECT_SHORT).unwrap().unwrap();
    assert_eq!(used, CONNECT_SHORT.len());
    assert_eq!(c.version, 319);
    assert_eq!(c.version_min, 300);
    assert_eq!(c.service_options, 0x0401);
    assert_eq!(c.sdu32, 8192);
    assert_eq!(c.connect_flags2, 1);
    let d = c.descriptor_str();
    assert!(d.starts_with("(DESCRIPTION="), "{d}");
    assert!(d.contains("(SERVICE_NAME=FREEPDB1)"), "{d}");
    assert_eq!(c.descriptor.len(), 206);
}

#[test]
fn decodes_python_connect_with_overflow_data_packet() {
    // Only the CONNECT: the decoder must ask for more.
    assert_eq!(decode_connect(&CONNECT_OVERFLOW[..74]).unwrap(), None);
    let (c, used) = decode_connect(CONNECT_OVERFLOW).unwrap().unwrap();
    assert_eq!(used, CONNECT_OVERFLOW.len());
    assert!(c.descriptor.len() > MAX_CONNECT_DATA);
    assert!(c.descriptor_str().contains(&"p".repeat(200)));
    assert!(c.descriptor_str().ends_with(")))"));
}

#[test]
fn connect_round_trips_to_the_captured_bytes() {
    for golden in [CONNECT_SHORT, CONNECT_OVERFLOW] {
        let (c, _) = decode_connect(golden).unwrap().unwrap();
        assert_eq!(c.encode(), golden);
    }
}

#[test]
fn accept_matches_golden_bytes() {
    let a = Accept::new(8192);
    assert_eq!(a.encode(), GOLDEN_ACCEPT);
    let (p, used) = decode(GOLDEN_ACCEPT, LengthMode::Short).unwrap().unwrap();
    assert_eq!(used, 45);
    assert_eq!(p, Packet::Accept(a));
}

#[test]
fn accept_for_connect_caps_sdu_and_version() {
    let (c, _) = decode_connect(CONNECT_SHORT).unwrap().unwrap();
    let a = Accept::for_connect(&c, 4096);
    assert_eq!(a.version, 318);
    assert_eq!(a.sdu, 4096);
}

#[test]
fn refuse_text_is_what_a_listener_sends() {
    let r = Refuse::for_error(12514, VSNNUM_19C);
    assert_eq!(
        r.text,
        "(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR=12514)(ERROR_STACK=(ERROR=(CODE=12514)(EMFI=4))))"
    );
    assert_eq!(r.error_code(), Some(12514));
    let bytes = r.encode();
    assert_eq!(&bytes[2..12], &[0, 0, 4, 0, 0, 0, 0x22, 0, 0, 91]);
    assert_eq!(usize::from(bytes[1]), bytes.len());
    let (p, _) = decode(&bytes, LengthMode::Short).unwrap().unwrap();
    assert_eq!(p, Packet::Refuse(r));
}

#[test]
fn redirect_is_two_packets() {
    let r = Redirect::new(
        "(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))",
        "(DESCRIPTION=x)",
    );
    let bytes = r.encode();
    let (p, used) = decode(&bytes, LengthMode::Short).unwrap().unwrap();
    assert_eq!(used, 10);
    let Packet::Redirect(h) = p else {
        panic!("not a redirect")
    };
    assert_eq!(h.header_flags, packet_flags::REDIRECT);
    assert_eq!(usize::from(h.data_len), r.data.len());
    let (p2, _) = decode(&bytes[used..], LengthMode::Short).unwrap().unwrap();
    assert_eq!(
        p2,
        Packet::Data(Data {
            flags: 0,
            payload: r.data.clone()
        })
    );
    assert_eq!(r.address(), b"(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))");
}

#[test]
fn marker_has_reference_bytes_in_large_mode() {
    let m = Marker {
        kind: MarkerKind::Interrupt,
    };
    assert_eq!(m.encode(LengthMode::Large), GOLDEN_MARKER_INTERRUPT);
}

#[test]
fn markers_encode_and_decode_as_the_golden_bytes() {
    for (kind, golden) in [
        (MarkerKind::Break, GOLDEN_MARKER_BREAK),
        (MarkerKind::Reset, GOLDEN_MARKER_RESET),
        (MarkerKind::Interrupt, GOLDEN_MARKER_INTERRUPT),
    ] {
        let m = Marker { kind };
        assert_eq!(m.encode(LengthMode::Large), golden, "{kind:?}");
        let (p, used) = decode(golden, LengthMode::Large).unwrap().unwrap();
        assert_eq!(used, golden.len());
        assert_eq!(p, Packet::Marker(m));
    }
}

#[test]
fn refuse_matches_golden_bytes() {
    for (vsnnum, golden) in [
        (VSNNUM_19C, GOLDEN_REFUSE_19C),
        (352_321_536, GOLDEN_REFUSE_21C),
    ] {
        let r = Refuse::for_error(12514, vsnnum);
        assert_eq!(r.encode(), golden, "VSNNUM={vsnnum}");
        let (p, used) = decode(golden, LengthMode::Short).unwrap().unwrap();
        assert_eq!(used, golden.len());
        let Packet::Refuse(got) = p else {
            panic!("not a refuse: {p:?}")
        };
        assert_eq!(got.user_reason, 0x22);
        assert_eq!(got.system_reason, 0);
        assert_eq!(got.error_code(), Some(12514));
        assert_eq!(got, r);
    }
}

#[test]
fn redirect_matches_golden_bytes() {
    let address = "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=40001))";
    let connect_data = "(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=orcl)))";
    let r = Redirect::new(address, connect_data);
    assert_eq!(r.encode(), GOLDEN_REDIRECT);
    // The decoder reads the header packet alone (10 bytes), then the DATA packet.
    let (p, used) = decode(GOLDEN_REDIRECT, LengthMode::Short).unwrap().unwrap();
    assert_eq!(used, 10);
    assert_eq!(
        p,
        Packet::Redirect(RedirectHeader {
            header_flags: packet_flags::REDIRECT,
            data_len: u16::try_from(r.data.len()).unwrap(),
            inline: Vec::new(),
        })
    );
    let (p2, used2) = decode(&GOLDEN_REDIRECT[used..], LengthMode::Short)
        .unwrap()
        .unwrap();
    assert_eq!(used + used2, GOLDEN_REDIRECT.len());
    let Packet::Data(d) = p2 else {
        panic!("not data: {p2:?}")
    };
    assert_eq!(d.flags, 0);
    let mut want = address.as_bytes().to_vec();
    want.push(0);
    want.extend_from_slice(connect_data.as_bytes());
    assert_eq!(d.payload, want);
}

#[test]
fn resend_matches_golden_bytes() {
    for (flags, golden) in [
        (0u8, GOLDEN_RESEND),
        (packet_flags::TLS_RENEG, GOLDEN_RESEND_TLS),
    ] {
        assert_eq!(
            frame(packet_type::RESEND, flags, &[], LengthMode::Short),
            golden
        );
        let (p, used) = decode(golden, LengthMode::Short).unwrap().unwrap();
        assert_eq!(used, HEADER_LEN);
        assert_eq!(
            p,
            Packet::Resend {
                header_flags: flags
            }
        );
        assert_eq!(p.type_code(), 11);
    }
    // A RESEND is not a CONNECT: the listener-side decoder must say so, not misread it.
    assert!(matches!(
        decode_connect(GOLDEN_RESEND),
        Err(DecodeError::UnexpectedType { got: 11, .. })
    ));
    // Only a prefix: more bytes needed.
    assert_eq!(
        decode(&GOLDEN_RESEND[..7], LengthMode::Short).unwrap(),
        None
    );
}

#[test]
fn eof_data_packet_is_ten_bytes() {
    assert_eq!(
        Data::eof().encode(LengthMode::Large),
        [0, 0, 0, 10, 6, 0, 0, 0, 0, 0x40]
    );
}

#[test]
fn data_packets_are_split_at_sdu() {
    let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let bytes = encode_data_packets(
        &payload,
        512,
        LengthMode::Large,
        data_flags::END_OF_RESPONSE,
    );
    let mut pos = 0;
    let mut got = Vec::new();
    let mut flags = Vec::new();
    while pos < bytes.len() {
        let (p, used) = decode(&bytes[pos..], LengthMode::Large).unwrap().unwrap();
        assert!(used <= 512);
        let Packet::Data(d) = p else {
            panic!("not data")
        };
        got.extend(d.payload);
        flags.push(d.flags);
        pos += used;
    }
    assert_eq!(got, payload);
    assert_eq!(flags, [0, data_flags::END_OF_RESPONSE]);
}

#[test]
fn bad_lengths_are_errors_not_panics() {
    assert!(matches!(
        decode(&[0, 3, 0, 0, 1, 0, 0, 0], LengthMode::Short),
        Err(DecodeError::BadLength { .. })
    ));
    assert_eq!(decode(&[0, 20, 0, 0, 6], LengthMode::Short).unwrap(), None);
    let e = decode(&[0, 9, 0, 0, 6, 0, 0, 0, 1], LengthMode::Short).unwrap_err();
    assert!(e.to_string().contains("data flags"), "{e}");
}

fn arb_connect() -> impl Strategy<Value = Connect> {
    (
        proptest::collection::vec(0x20u8..0x7f, 0..600),
        512u32..65536,
        any::<u16>(),
        any::<u32>(),
    )
        .prop_map(|(d, sdu, opts, f2)| {
            let mut c = Connect::new(d, sdu);
            c.service_options = opts;
            c.connect_flags2 = f2;
            c
        })
}

proptest! {
    #[test]
    fn connect_round_trip(c in arb_connect()) {
        let bytes = c.encode();
        let (d, used) = decode_connect(&bytes).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(d, c);
    }

    #[test]
    fn accept_round_trip(sdu in 512u32..2_097_152, v in 315u16..=319, f2 in any::<u32>()) {
        let mut a = Accept::new(sdu);
        a.version = v;
        a.flags2 = if v >= 318 { f2 } else { 0 };
        a.sdu = sdu;
        a.tdu = sdu;
        let bytes = a.encode();
        let (p, _) = decode(&bytes, LengthMode::Short).unwrap().unwrap();
        prop_assert_eq!(p, Packet::Accept(a));
    }

    #[test]
    fn data_round_trip(flags in any::<u16>(), payload in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let d = Data { flags, payload };
        for mode in [LengthMode::Short, LengthMode::Large] {
            let bytes = d.encode(mode);
            let (p, used) = decode(&bytes, mode).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(p, Packet::Data(d.clone()));
        }
    }

    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for mode in [LengthMode::Short, LengthMode::Large] {
            let _ = decode(&bytes, mode);
        }
        let _ = decode_connect(&bytes);
    }

    /// Arbitrary bytes: whenever the decoder returns a packet, it consumed exactly the length
    /// declared in the header and never more than it was given.
    #[test]
    fn used_is_the_declared_length_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        for mode in [LengthMode::Short, LengthMode::Large] {
            if let Ok(Some((_, used))) = decode(&bytes, mode) {
                prop_assert!(used <= bytes.len());
                prop_assert_eq!(used, declared_len(&bytes, mode));
            }
        }
        if let Ok(Some((_, used))) = decode_connect(&bytes) {
            prop_assert!(used <= bytes.len());
            let first = declared_len(&bytes, LengthMode::Short);
            prop_assert!(used == first || used == first + declared_len(&bytes[first..], LengthMode::Short));
        }
    }

    /// A well-formed packet of any type followed by arbitrary trailing bytes: every strict
    /// prefix asks for more, the whole packet is consumed exactly, the trailer is left alone.
    #[test]
    fn incremental_decode_stops_at_the_declared_length(
        ty in prop_oneof![Just(4u8), Just(5), Just(6), Just(11), Just(12), Just(14), 15u8..=20],
        flags in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 4..300),
        trailer in proptest::collection::vec(any::<u8>(), 0..64),
        large in any::<bool>(),
    ) {
        let mode = if large { LengthMode::Large } else { LengthMode::Short };
        let mut body = body;
        if ty == 4 {
            // REFUSE: make the text length agree with the body.
            let n = u16::try_from(body.len() - 4).unwrap();
            body[2..4].copy_from_slice(&n.to_be_bytes());
        }
        let packet = frame(ty, flags, &body, mode);
        let mut stream = packet.clone();
        stream.extend_from_slice(&trailer);
        for cut in 0..packet.len() {
            prop_assert_eq!(decode(&stream[..cut], mode).unwrap(), None, "prefix {}", cut);
        }
        let (p, used) = decode(&stream, mode).unwrap().unwrap();
        prop_assert_eq!(used, packet.len());
        prop_assert_eq!(used, declared_len(&stream, mode));
        prop_assert_eq!(p.type_code(), ty);
    }
}

/// The packet length written in the header of `buf` (which must hold at least 4 bytes).
fn declared_len(buf: &[u8], mode: LengthMode) -> usize {
    match mode {
        LengthMode::Short => usize::from(u16::from_be_bytes([buf[0], buf[1]])),
        LengthMode::Large => u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize,
    }
}
