//! Bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`), kept here so the stable property
//! tests run exactly the same code as `cargo fuzz`: arbitrary bytes must never panic the
//! packet decoder, the CONNECT decoder or the incremental request decoder.

use crate::packet::{self, LengthMode};
use crate::ttc::request::{DecodeContext, RequestDecoder};

/// Feeds `data` to the packet decoders in both length modes.
pub fn packet_decoders(data: &[u8]) {
    for mode in [LengthMode::Short, LengthMode::Large] {
        let mut pos = 0;
        while let Ok(Some((_, used))) = packet::decode(&data[pos..], mode) {
            pos += used;
        }
    }
    let _ = packet::decode_connect(data);
}

/// Feeds `data` to the request decoder in chunks, at two field versions, before and after
/// login.
pub fn request_decoder(data: &[u8]) {
    for (fv, logged_on) in [(12u8, false), (12, true), (18, true)] {
        let ctx = DecodeContext {
            field_version: fv,
            logged_on,
            ..DecodeContext::default()
        };
        let mut d = RequestDecoder::new();
        for chunk in data.chunks(97) {
            d.push(chunk);
            while let Ok(Some(_)) = d.next_request(&ctx) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_bodies_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            super::packet_decoders(&data);
            super::request_decoder(&data);
        }

        #[test]
        fn fuzz_bodies_never_panic_on_call_prefixes(code in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut data = vec![0x03, code, 0x01];
            data.extend(tail);
            super::request_decoder(&data);
        }
    }
}
