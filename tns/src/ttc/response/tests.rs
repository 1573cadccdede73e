//! Response decoder tests: a captured python-oracledb login reply, round trips through the
//! server's encoders, bit-vector row compression, resumption after running out of bytes,
//! and a property that arbitrary bytes never panic it.

use super::*;
use crate::packet::{self, LengthMode, Packet};
use crate::ttc::buf::Writer;
use crate::ttc::message::{
    encode_describe_info, encode_parameter_pairs, encode_row_data, encode_row_header, encode_status,
};
use crate::ttc::types::ora_type;
use proptest::prelude::*;

fn columns() -> Vec<ColumnMetadata> {
    vec![
        ColumnMetadata::number("N"),
        ColumnMetadata::string("S", ora_type::VARCHAR, 40),
        ColumnMetadata::date("D"),
    ]
}

fn decode_all(bytes: &[u8], kind: ResponseKind) -> Vec<ResponseMessage> {
    let mut d = ResponseDecoder::new(12, kind, Vec::new());
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(d.decode(&mut r).unwrap());
    }
    out
}

/// The AUTH phase-one reply python-oracledb 26.1.0 accepted (captured, see `testdata/`).
#[test]
fn decodes_the_captured_auth_challenge() {
    let file = include_bytes!("../../../testdata/pyo_auth_challenge.bin");
    let (p, _) = packet::decode(file, LengthMode::Large).unwrap().unwrap();
    let Packet::Data(d) = p else {
        panic!("not data")
    };
    let msgs = decode_all(&d.payload, ResponseKind::Auth);
    let ResponseMessage::Parameters(kv) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    let keys: Vec<&str> = kv.iter().map(|k| k.key.as_str()).collect();
    assert!(keys.contains(&"AUTH_SESSKEY"), "{keys:?}");
    assert!(keys.contains(&"AUTH_VFR_DATA"), "{keys:?}");
    assert!(msgs.last().unwrap().ends_response(), "{msgs:?}");
}

#[test]
fn a_query_response_round_trips_through_the_server_encoders() {
    let cols = columns();
    let mut w = Writer::new();
    encode_describe_info(&mut w, &cols, 12);
    encode_row_header(&mut w);
    let row = vec![
        Some(vec![0xC1, 0x02]),
        None,
        Some(vec![120, 126, 1, 1, 1, 1, 1]),
    ];
    encode_row_data(&mut w, &cols, &row);
    ErrorInfo::error(1403, "ORA-01403: no data found").encode(&mut w, 12);
    let msgs = decode_all(w.as_bytes(), ResponseKind::Call);
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    let ResponseMessage::Describe(c) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(
        c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["N", "S", "D"]
    );
    assert_eq!(msgs[1], ResponseMessage::Skipped(msg_type::ROW_HEADER));
    assert_eq!(msgs[2], ResponseMessage::Row(row));
    let ResponseMessage::Error(e) = &msgs[3] else {
        panic!("{msgs:?}")
    };
    assert_eq!(e.error_code, 1403);
    assert_eq!(e.message.as_deref(), Some("ORA-01403: no data found"));
}

/// PARAMETER is key/value pairs for the AUTH phases and the return-parameter block after an
/// execute; STATUS ends a response.
#[test]
fn parameter_shape_follows_the_call_kind() {
    let mut w = Writer::new();
    encode_parameter_pairs(&mut w, &[KeyValue::new("AUTH_SESSKEY", "AB", 0)]);
    encode_status(&mut w, 2);
    assert_eq!(
        decode_all(w.as_bytes(), ResponseKind::Auth),
        [
            ResponseMessage::Parameters(vec![KeyValue::new("AUTH_SESSKEY", "AB", 0)]),
            ResponseMessage::Status { call_status: 2 }
        ]
    );
    // Return parameters: 2 al8o4 values, no transaction context, one pair, no registration.
    let mut w = Writer::new();
    w.u8(msg_type::PARAMETER).ub2(2).ub4(7).ub4(0).ub2(0).ub2(1);
    w.key_value(&KeyValue::new("K", "V", 0)).ub2(0);
    assert_eq!(
        decode_all(w.as_bytes(), ResponseKind::Call),
        [ResponseMessage::Skipped(msg_type::PARAMETER)]
    );
}

/// A real server sends a BIT_VECTOR before a row that repeats columns of the previous one
/// and leaves those out; the decoder restores them.
#[test]
fn bit_vector_rows_take_left_out_columns_from_the_previous_row() {
    let cols = columns();
    let mut w = Writer::new();
    encode_describe_info(&mut w, &cols, 12);
    let first = vec![Some(vec![0xC1, 0x02]), Some(b"abc".to_vec()), None];
    encode_row_data(&mut w, &cols, &first);
    // Columns 0 and 2 sent (bits 0b101), column 1 repeats "abc".
    w.u8(msg_type::BIT_VECTOR).ub2(3).u8(0b101);
    w.u8(msg_type::ROW_DATA).dalc(&[0xC1, 0x03]).u8(0);
    encode_status(&mut w, 0);
    let msgs = decode_all(w.as_bytes(), ResponseKind::Call);
    assert_eq!(msgs[1], ResponseMessage::Row(first));
    assert_eq!(msgs[2], ResponseMessage::BitVector(vec![0b101]));
    assert_eq!(
        msgs[3],
        ResponseMessage::Row(vec![Some(vec![0xC1, 0x03]), Some(b"abc".to_vec()), None])
    );
}

/// Every prefix of a message is NeedMore and leaves the decoder as it was: trying again
/// with the whole message gives what one try would have.
#[test]
fn need_more_leaves_the_decoder_unchanged() {
    let cols = columns();
    let mut w = Writer::new();
    encode_describe_info(&mut w, &cols, 12);
    let describe_len = w.as_bytes().len();
    encode_row_data(
        &mut w,
        &cols,
        &[Some(vec![0xC1, 0x02]), Some(b"x".to_vec()), None],
    );
    let bytes = w.into_bytes();
    let mut d = ResponseDecoder::new(12, ResponseKind::Call, Vec::new());
    d.decode(&mut Reader::new(&bytes[..describe_len])).unwrap();
    let row = &bytes[describe_len..];
    for cut in 0..row.len() {
        let e = d.decode(&mut Reader::new(&row[..cut])).unwrap_err();
        assert!(matches!(e, TtcError::NeedMore { .. }), "{cut}: {e}");
    }
    assert_eq!(
        d.decode(&mut Reader::new(row)).unwrap(),
        ResponseMessage::Row(vec![Some(vec![0xC1, 0x02]), Some(b"x".to_vec()), None])
    );
}

proptest! {
    /// Whatever a server sends, decoding a response message returns a value or an error;
    /// it never panics.
    #[test]
    fn response_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                      fv in prop_oneof![Just(8u8), Just(12u8), Just(24u8)]) {
        for kind in [ResponseKind::Auth, ResponseKind::Call] {
            let mut d = ResponseDecoder::new(fv, kind, columns());
            d.prev_row = Some(vec![Some(vec![1u8]); 3]);
            d.bit_vector = Some(vec![0x05]);
            let _ = d.decode(&mut Reader::new(&bytes));
            let mut d = ResponseDecoder::new(fv, kind, columns());
            let _ = d.decode(&mut Reader::new(&bytes));
        }
    }
}

#[test]
fn decodes_drcp_session_return_ahead_of_the_reply() {
    // What orasim's pooled server sends when a released client's next call lands in another
    // session: SESS_RET with SESSION_CHANGED, sid 37, serial 5, then the call's STATUS.
    let mut w = Writer::new();
    w.u8(msg_type::SERVER_SIDE_PIGGYBACK)
        .u8(crate::ttc::message::server_piggyback::SESS_RET)
        .ub2(0)
        .u8(0)
        .ub2(0)
        .ub4(crate::ttc::message::server_piggyback::SESSGET_SESSION_CHANGED)
        .ub4(37)
        .ub2(5);
    encode_status(&mut w, 0);
    let msgs = decode_all(w.as_bytes(), ResponseKind::Call);
    assert_eq!(msgs[0], ResponseMessage::SessionReturned { changed: true });
    assert!(msgs[1].ends_response());
    // Any other server piggyback is refused, not misread.
    let mut r = Reader::new(&[msg_type::SERVER_SIDE_PIGGYBACK, 9]);
    let err = ResponseDecoder::new(12, ResponseKind::Call, Vec::new())
        .decode(&mut r)
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported server piggyback 9"),
        "{err}"
    );
}
