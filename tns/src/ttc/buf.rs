//! TTC encoding primitives: universal integers, DALC and chunked byte strings, "length with
//! bytes" strings and key/value pairs, plus the fixed-width fields TTC mixes in.
//!
//! [`Reader`] is the crate's one byte reader (TNS packet bodies are read with it too). It
//! distinguishes "the bytes ran out" ([`TtcError::NeedMore`], which says how many more bytes
//! the field needs at least, so that the incremental request decoder waits for them instead of
//! retrying on every DATA packet) from "these bytes are wrong" ([`TtcError::Invalid`]); both
//! name what was being read, rustls style. [`Reader::expect_end`] refuses trailing bytes where
//! a structure must fill its input exactly.

use thiserror::Error;

/// Why TTC bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TtcError {
    /// The input ended in the middle of a field; more bytes may complete it.
    #[error("TTC data ended while reading {reading}")]
    NeedMore {
        /// The field being read.
        reading: &'static str,
        /// How many more bytes the field needs at least (≥ 1).
        needed: usize,
    },
    /// The bytes cannot be a valid encoding.
    #[error("invalid TTC data while reading {reading}: {detail}")]
    Invalid {
        /// The field being read.
        reading: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A client call that may not come before login: only PROTOCOL, DATA_TYPES and the two
    /// AUTH phases may (the server answers ORA-01012 and closes).
    #[error("TTC function {function} (message type {message_type}) before login")]
    NotLoggedOn {
        /// The message type that carried it (FUNCTION, PIGGYBACK or ONEWAY_FN).
        message_type: u8,
        /// The function code seen.
        function: u8,
    },
    /// A client request larger than its phase allows (see
    /// [`crate::ttc::request::PRE_LOGIN_MAX_REQUEST`] and [`crate::ttc::request::MAX_REQUEST`]).
    #[error("TTC request larger than {limit} bytes")]
    TooLarge {
        /// The cap that was exceeded.
        limit: usize,
    },
}

impl TtcError {
    /// Shorthand for an [`TtcError::Invalid`].
    pub fn invalid(reading: &'static str, detail: impl Into<String>) -> Self {
        TtcError::Invalid {
            reading,
            detail: detail.into(),
        }
    }
}

/// DALC length byte meaning "long form, chunks follow".
pub const DALC_LONG: u8 = 0xFE;
/// DALC length byte meaning NULL.
pub const DALC_NULL: u8 = 0xFF;
/// Longest DALC written in the short form.
pub const DALC_SHORT_MAX: usize = 252;
/// Chunk size used when writing the long form.
pub const DALC_CHUNK: usize = 32767;

/// A cursor over TTC bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize, reading: &'static str) -> Result<&'a [u8], TtcError> {
        if n > self.remaining() {
            return Err(TtcError::NeedMore {
                reading,
                needed: n - self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self, reading: &'static str) -> Result<u8, TtcError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(TtcError::NeedMore { reading, needed: 1 })
    }

    /// Refuses trailing bytes: a structure that must fill its input exactly ends here.
    pub fn expect_end(&self, reading: &'static str) -> Result<(), TtcError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(TtcError::invalid(reading, format!("{n} trailing bytes"))),
        }
    }

    /// A raw byte.
    pub fn u8(&mut self, reading: &'static str) -> Result<u8, TtcError> {
        Ok(self.take(1, reading)?[0])
    }

    /// A raw signed byte.
    pub fn sb1(&mut self, reading: &'static str) -> Result<i8, TtcError> {
        Ok(i8::from_le_bytes([self.u8(reading)?]))
    }

    /// A big-endian u16.
    pub fn u16be(&mut self, reading: &'static str) -> Result<u16, TtcError> {
        let b = self.take(2, reading)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A little-endian u16.
    pub fn u16le(&mut self, reading: &'static str) -> Result<u16, TtcError> {
        let b = self.take(2, reading)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// A big-endian u32.
    pub fn u32be(&mut self, reading: &'static str) -> Result<u32, TtcError> {
        let b = self.take(4, reading)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A universal integer as (negative, magnitude).
    fn universal(&mut self, max_len: u8, reading: &'static str) -> Result<(bool, u64), TtcError> {
        let l = self.u8(reading)?;
        let neg = l & 0x80 != 0;
        let n = l & 0x7F;
        if n > max_len {
            return Err(TtcError::invalid(
                reading,
                format!("integer length {n} exceeds {max_len}"),
            ));
        }
        let b = self.take(usize::from(n), reading)?;
        let v = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        Ok((neg, v))
    }

    fn unsigned(&mut self, max_len: u8, reading: &'static str) -> Result<u64, TtcError> {
        let (neg, v) = self.universal(max_len, reading)?;
        if neg {
            return Err(TtcError::invalid(
                reading,
                "sign bit on an unsigned integer",
            ));
        }
        Ok(v)
    }

    /// A universal ub2.
    pub fn ub2(&mut self, reading: &'static str) -> Result<u16, TtcError> {
        let v = self.unsigned(8, reading)?;
        u16::try_from(v).map_err(|_| TtcError::invalid(reading, format!("{v} does not fit ub2")))
    }

    /// A universal ub4.
    pub fn ub4(&mut self, reading: &'static str) -> Result<u32, TtcError> {
        let v = self.unsigned(8, reading)?;
        u32::try_from(v).map_err(|_| TtcError::invalid(reading, format!("{v} does not fit ub4")))
    }

    /// A universal ub8.
    pub fn ub8(&mut self, reading: &'static str) -> Result<u64, TtcError> {
        self.unsigned(8, reading)
    }

    /// A universal signed integer (sb2/sb4/sb8).
    pub fn sb8(&mut self, reading: &'static str) -> Result<i64, TtcError> {
        let (neg, v) = self.universal(8, reading)?;
        let v = i64::try_from(v)
            .map_err(|_| TtcError::invalid(reading, format!("{v} does not fit sb8")))?;
        Ok(if neg { -v } else { v })
    }

    /// A universal sb4.
    pub fn sb4(&mut self, reading: &'static str) -> Result<i32, TtcError> {
        let v = self.sb8(reading)?;
        i32::try_from(v).map_err(|_| TtcError::invalid(reading, format!("{v} does not fit sb4")))
    }

    /// A DALC byte string: `None` for NULL (`FF`), empty for `00`.
    pub fn dalc(&mut self, reading: &'static str) -> Result<Option<Vec<u8>>, TtcError> {
        let l = self.u8(reading)?;
        match l {
            DALC_NULL => Ok(None),
            DALC_LONG => {
                let mut out = Vec::new();
                loop {
                    let n = self.ub4(reading)?;
                    if n == 0 {
                        break;
                    }
                    let n = usize::try_from(n).map_err(|_| TtcError::invalid(reading, "chunk"))?;
                    out.extend_from_slice(self.take(n, reading)?);
                }
                Ok(Some(out))
            }
            n => Ok(Some(self.take(usize::from(n), reading)?.to_vec())),
        }
    }

    /// A "length with bytes" string: `ub4` presence/length, then a DALC when non-zero.
    pub fn lwb(&mut self, reading: &'static str) -> Result<Option<Vec<u8>>, TtcError> {
        let n = self.ub4(reading)?;
        if n == 0 {
            return Ok(None);
        }
        self.dalc(reading)
    }

    /// A [`Self::lwb`] decoded as UTF-8 (lossy), empty when absent.
    pub fn lwb_string(&mut self, reading: &'static str) -> Result<String, TtcError> {
        Ok(self
            .lwb(reading)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default())
    }

    /// A NUL-terminated byte string (the NUL is consumed, not returned).
    pub fn cstr(&mut self, reading: &'static str) -> Result<&'a [u8], TtcError> {
        let rest = self.rest();
        let i = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(TtcError::NeedMore { reading, needed: 1 })?;
        let s = &rest[..i];
        self.pos += i + 1;
        Ok(s)
    }

    /// One key/value pair as both sides send it: LWB key, LWB value, ub4 flags.
    pub fn key_value(&mut self) -> Result<KeyValue, TtcError> {
        let key = self.lwb_string("key/value key")?;
        let value = self.lwb("key/value value")?.unwrap_or_default();
        let flags = self.ub4("key/value flags")?;
        Ok(KeyValue { key, value, flags })
    }
}

/// A TTC key/value pair (auth messages, PARAMETER replies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key, e.g. `AUTH_SESSKEY`.
    pub key: String,
    /// The value bytes (often ASCII).
    pub value: Vec<u8>,
    /// Flags; for `AUTH_VFR_DATA` the verifier type.
    pub flags: u32,
}

impl KeyValue {
    /// A pair with a text value.
    pub fn new(key: &str, value: impl AsRef<[u8]>, flags: u32) -> Self {
        KeyValue {
            key: key.to_owned(),
            value: value.as_ref().to_vec(),
            flags,
        }
    }

    /// The value as text (lossy).
    pub fn value_str(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

/// Finds a key in a list of pairs.
pub fn find_key<'a>(pairs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    pairs.iter().find(|kv| kv.key == key)
}

/// A growable TTC output buffer.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// An empty writer with room for `n` bytes (a reply whose size is about known).
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Raw bytes.
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// A raw byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// A raw signed byte.
    pub fn sb1(&mut self, v: i8) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A big-endian u16.
    pub fn u16be(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// A little-endian u16.
    pub fn u16le(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    /// A big-endian u32.
    pub fn u32be(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    fn universal(&mut self, neg: bool, v: u64) -> &mut Self {
        let sign = if neg { 0x80 } else { 0 };
        if v == 0 {
            self.u8(0)
        } else if v <= 0xFF {
            self.u8(1 | sign).u8(v as u8)
        } else if v <= 0xFFFF {
            self.u8(2 | sign).raw(&(v as u16).to_be_bytes())
        } else if v <= 0xFFFF_FFFF {
            self.u8(4 | sign).raw(&(v as u32).to_be_bytes())
        } else {
            self.u8(8 | sign).raw(&v.to_be_bytes())
        }
    }

    /// A universal ub2.
    pub fn ub2(&mut self, v: u16) -> &mut Self {
        self.universal(false, u64::from(v))
    }

    /// A universal ub4.
    pub fn ub4(&mut self, v: u32) -> &mut Self {
        self.universal(false, u64::from(v))
    }

    /// A universal ub8.
    pub fn ub8(&mut self, v: u64) -> &mut Self {
        self.universal(false, v)
    }

    /// A universal signed integer.
    pub fn sb8(&mut self, v: i64) -> &mut Self {
        self.universal(v < 0, v.unsigned_abs())
    }

    /// A DALC: short form up to 252 bytes, else chunked long form.
    pub fn dalc(&mut self, b: &[u8]) -> &mut Self {
        if b.len() <= DALC_SHORT_MAX {
            self.u8(b.len() as u8).raw(b)
        } else {
            self.u8(DALC_LONG);
            for c in b.chunks(DALC_CHUNK) {
                self.ub4(c.len() as u32).raw(c);
            }
            self.ub4(0)
        }
    }

    /// A NULL DALC (`FF`).
    pub fn dalc_null(&mut self) -> &mut Self {
        self.u8(DALC_NULL)
    }

    /// A "length with bytes": `ub4` length then DALC; empty → just `00`.
    pub fn lwb(&mut self, b: &[u8]) -> &mut Self {
        if b.is_empty() {
            return self.ub4(0);
        }
        self.ub4(u32::try_from(b.len()).unwrap_or(u32::MAX)).dalc(b)
    }

    /// A key/value pair.
    pub fn key_value(&mut self, kv: &KeyValue) -> &mut Self {
        self.key_value_parts(kv.key.as_bytes(), &kv.value, kv.flags)
    }

    /// A key/value pair from its parts, for a writer that has them at hand.
    pub fn key_value_parts(&mut self, key: &[u8], value: &[u8], flags: u32) -> &mut Self {
        self.lwb(key).lwb(value).ub4(flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn universal_integers_match_reference_examples() {
        let mut w = Writer::new();
        w.ub4(0).ub4(22).ub4(1403).ub4(0x7FFF_FFFF);
        assert_eq!(
            w.as_bytes(),
            [0, 1, 22, 2, 0x05, 0x7B, 4, 0x7F, 0xFF, 0xFF, 0xFF]
        );
        let mut r = Reader::new(w.as_bytes());
        assert_eq!(r.ub4("a").unwrap(), 0);
        assert_eq!(r.ub2("b").unwrap(), 22);
        assert_eq!(r.ub4("c").unwrap(), 1403);
        assert_eq!(r.ub8("d").unwrap(), 0x7FFF_FFFF);
        assert!(r.is_empty());
    }

    #[test]
    fn sign_bit_on_unsigned_is_invalid() {
        let e = Reader::new(&[0x81, 1]).ub4("cursor id").unwrap_err();
        assert!(matches!(
            e,
            TtcError::Invalid {
                reading: "cursor id",
                ..
            }
        ));
    }

    #[test]
    fn truncation_is_need_more_and_names_the_field() {
        let e = Reader::new(&[2, 5]).ub4("error number").unwrap_err();
        assert_eq!(
            e,
            TtcError::NeedMore {
                reading: "error number",
                needed: 1
            }
        );
    }

    #[test]
    fn trailing_bytes_are_refused_by_expect_end() {
        let mut r = Reader::new(&[1, 7, 9]);
        r.ub4("value").unwrap();
        assert_eq!(
            r.expect_end("value"),
            Err(TtcError::invalid("value", "1 trailing bytes"))
        );
        r.u8("last").unwrap();
        assert_eq!(r.expect_end("value"), Ok(()));
    }

    #[test]
    fn need_more_says_how_many_bytes_are_missing() {
        assert_eq!(
            Reader::new(&[0xFE, 4, 0, 0, 0x80, 0, 1, 2]).dalc("bind value"),
            Err(TtcError::NeedMore {
                reading: "bind value",
                needed: 0x8000 - 2
            })
        );
    }

    #[test]
    fn key_value_matches_the_auth_challenge_layout() {
        let mut w = Writer::new();
        w.key_value(&KeyValue::new("AUTH_VFR_DATA", "0011", 0x4815));
        assert_eq!(
            w.as_bytes(),
            b"\x01\x0d\x0dAUTH_VFR_DATA\x01\x04\x040011\x02\x48\x15"
        );
    }

    proptest! {
        #[test]
        fn dalc_round_trip(b in proptest::collection::vec(any::<u8>(), 0..70000)) {
            let mut w = Writer::new();
            w.dalc(&b);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.dalc("x").unwrap(), Some(b));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn ints_round_trip(a in any::<u64>(), s in any::<i64>().prop_filter("min", |v| *v != i64::MIN)) {
            let mut w = Writer::new();
            w.ub8(a).sb8(s);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.ub8("a").unwrap(), a);
            prop_assert_eq!(r.sb8("s").unwrap(), s);
        }
    }
}
