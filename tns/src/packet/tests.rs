//! Golden-vector and property tests for the packet layer.

use super::*;
use proptest::prelude::*;

const CONNECT_SHORT: &[u8] = include_bytes!("../../testdata/connect_short.bin");
const CONNECT_OVERFLOW: &[u8] = include_bytes!("../../testdata/connect_overflow.bin");

/// The ACCEPT validated against python-oracledb 26.1.0 (reference §3.1).
const GOLDEN_ACCEPT: [u8; 45] = [
    0x00, 0x2D, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x3E, 0x00, 0x01, 0x20, 0x00, 0x20, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x2D, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

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
    let (p, used) = decode(&GOLDEN_ACCEPT, LengthMode::Short).unwrap().unwrap();
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
    assert_eq!(
        m.encode(LengthMode::Large),
        [0, 0, 0, 0x0B, 0x0C, 0, 0, 0, 1, 0, 3]
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
}
