//! TNS packet layer: the 8-byte header, packet types and flags, and encode/decode of every
//! packet the connect phase and a session use (CONNECT with its overflow DATA packet, ACCEPT,
//! REFUSE, REDIRECT, RESEND, DATA, MARKER, CONTROL).
//!
//! It exists so that the listener, the dedicated server, the dispatchers and the client all
//! frame bytes the same way. No I/O: [`decode`] takes whatever bytes have arrived and answers
//! "a complete packet and how many bytes it used" or "need more" (`Ok(None)`).
//!
//! Bodies are read with the crate's one byte reader, [`crate::ttc::buf::Reader`]: a field
//! that runs past the end of a packet is [`DecodeError::Truncated`], named.
//!
//! Length modes: every packet up to and including the ACCEPT carries a 2-byte length; once a
//! version ≥ 315 has been accepted, every packet in both directions carries a 4-byte length
//! ([`LengthMode`]). The caller knows which phase it is in and says so.

use thiserror::Error;

use crate::ttc::buf::{Reader, TtcError};

/// Size of the TNS packet header.
pub const HEADER_LEN: usize = 8;
/// Descriptors longer than this are sent in a DATA packet after a 74-byte CONNECT.
pub const MAX_CONNECT_DATA: usize = 230;
/// Offset of the connect descriptor in a CONNECT packet (what every client sends).
pub const CONNECT_DATA_OFFSET: u16 = 74;
/// Largest packet accepted by the decoder (the largest SDU Oracle allows, 2 MiB, plus slack).
pub const MAX_PACKET_LEN: usize = 2 * 1024 * 1024 + 1024;
/// TNS version 318 (Oracle 12.2+), what we accept by default.
pub const VERSION_318: u16 = 318;
/// Lowest TNS version that switches to 4-byte packet lengths after the ACCEPT.
pub const VERSION_LARGE_SDU: u16 = 315;
/// Default SDU used by every recent client.
pub const DEFAULT_SDU: u32 = 8192;

/// Packet type codes (header byte 4).
pub mod packet_type {
    /// CONNECT.
    pub const CONNECT: u8 = 1;
    /// ACCEPT.
    pub const ACCEPT: u8 = 2;
    /// ACK (unused by modern clients).
    pub const ACK: u8 = 3;
    /// REFUSE.
    pub const REFUSE: u8 = 4;
    /// REDIRECT.
    pub const REDIRECT: u8 = 5;
    /// DATA.
    pub const DATA: u8 = 6;
    /// NULL.
    pub const NULL: u8 = 7;
    /// ABORT.
    pub const ABORT: u8 = 9;
    /// RESEND.
    pub const RESEND: u8 = 11;
    /// MARKER.
    pub const MARKER: u8 = 12;
    /// ATTENTION.
    pub const ATTENTION: u8 = 13;
    /// CONTROL.
    pub const CONTROL: u8 = 14;
}

/// Header flags (byte 5).
pub mod packet_flags {
    /// REDIRECT packet whose data follows in a DATA packet.
    pub const REDIRECT: u8 = 0x02;
    /// CONNECT re-sent after a redirect.
    pub const CONNECT_AFTER_REDIRECT: u8 = 0x04;
    /// RESEND over TCPS: renegotiate TLS first.
    pub const TLS_RENEG: u8 = 0x08;
}

/// DATA packet data flags (the `u16be` after the header).
pub mod data_flags {
    /// Legacy "more data".
    pub const MORE_DATA: u16 = 0x0020;
    /// End of file: the peer closes the session.
    pub const EOF: u16 = 0x0040;
    /// END_OF_REQUEST (client pipelining).
    pub const END_OF_REQUEST: u16 = 0x0800;
    /// BEGIN_PIPELINE (client pipelining).
    pub const BEGIN_PIPELINE: u16 = 0x1000;
    /// END_OF_RESPONSE (server, only when negotiated).
    pub const END_OF_RESPONSE: u16 = 0x2000;
}

/// Global service option bits (CONNECT offset 12, ACCEPT offset 10).
pub mod service_options {
    /// Don't care.
    pub const DONT_CARE: u16 = 0x0001;
    /// Can receive attention (urgent-data breaks).
    pub const CAN_RECV_ATTENTION: u16 = 0x0400;
}

/// ACCEPT flags-2 bits.
pub mod accept_flags {
    /// Client must check out-of-band break support.
    pub const CHECK_OOB: u32 = 0x0000_0001;
    /// End-of-response framing.
    pub const HAS_END_OF_RESPONSE: u32 = 0x0200_0000;
    /// Fast authentication.
    pub const FAST_AUTH: u32 = 0x1000_0000;
}

/// Whether the length field is 2 bytes (connect phase) or 4 bytes (after ACCEPT ≥ 315).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthMode {
    /// `u16be` length at bytes 0–1, bytes 2–3 zero.
    #[default]
    Short,
    /// `u32be` length at bytes 0–3.
    Large,
}

impl LengthMode {
    /// The mode after a negotiated TNS version.
    pub fn for_version(version: u16) -> Self {
        if version >= VERSION_LARGE_SDU {
            LengthMode::Large
        } else {
            LengthMode::Short
        }
    }
}

/// Why a packet could not be decoded. Incomplete input is not an error (`Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The length field is smaller than the header or larger than [`MAX_PACKET_LEN`].
    #[error("invalid TNS packet length {length} (reading {reading})")]
    BadLength {
        /// What was being read.
        reading: &'static str,
        /// The length found.
        length: usize,
    },
    /// The packet body ended before a field was complete.
    #[error("TNS {packet} packet too short while reading {reading}")]
    Truncated {
        /// The packet type being decoded.
        packet: &'static str,
        /// The field being read.
        reading: &'static str,
    },
    /// A field held a value that cannot be right.
    #[error("TNS {packet} packet: invalid {reading}: {detail}")]
    Invalid {
        /// The packet type being decoded.
        packet: &'static str,
        /// The field being read.
        reading: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A packet of another type arrived where a specific one was required.
    #[error("expected a TNS {expected} packet, got type {got}")]
    UnexpectedType {
        /// The type wanted.
        expected: &'static str,
        /// The type code received.
        got: u8,
    },
}

/// CONNECT packet (client → listener).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Header flags (`0x04` after a redirect).
    pub header_flags: u8,
    /// Version desired (319 for python-oracledb).
    pub version: u16,
    /// Lowest version accepted.
    pub version_min: u16,
    /// Global service options.
    pub service_options: u16,
    /// SDU from the 16-bit field.
    pub sdu16: u16,
    /// TDU from the 16-bit field.
    pub tdu16: u16,
    /// NT protocol characteristics.
    pub nt_chars: u16,
    /// Line turnaround.
    pub turnaround: u16,
    /// Value of one in client byte order (raw bytes).
    pub value_of_one: [u8; 2],
    /// Max receivable connect data.
    pub max_receivable: u32,
    /// NSI (NA) flags byte 0.
    pub nsi0: u8,
    /// NSI (NA) flags byte 1.
    pub nsi1: u8,
    /// SDU from the 32-bit field (0 if the packet was too short to carry it).
    pub sdu32: u32,
    /// TDU from the 32-bit field.
    pub tdu32: u32,
    /// Connect flags 1.
    pub connect_flags1: u32,
    /// Connect flags 2 (`0x01` CHECK_OOB).
    pub connect_flags2: u32,
    /// The connect descriptor, ASCII.
    pub descriptor: Vec<u8>,
}

impl Connect {
    /// A CONNECT as a modern thin client sends it.
    pub fn new(descriptor: impl Into<Vec<u8>>, sdu: u32) -> Self {
        let sdu16 = u16::try_from(sdu).unwrap_or(u16::MAX);
        Connect {
            header_flags: 0,
            version: 319,
            version_min: 300,
            service_options: service_options::DONT_CARE,
            sdu16,
            tdu16: sdu16,
            nt_chars: 0x4F98,
            turnaround: 0,
            value_of_one: [0, 1],
            max_receivable: 0,
            nsi0: 0x84,
            nsi1: 0x84,
            sdu32: sdu,
            tdu32: sdu,
            connect_flags1: 0,
            connect_flags2: 0,
            descriptor: descriptor.into(),
        }
    }

    /// The SDU the client asked for: the 32-bit field when present, else the 16-bit one.
    pub fn requested_sdu(&self) -> u32 {
        if self.sdu32 != 0 {
            self.sdu32
        } else {
            u32::from(self.sdu16)
        }
    }

    /// The descriptor as text (lossy for non-UTF-8 bytes).
    pub fn descriptor_str(&self) -> String {
        // Valid UTF-8 (every client's) is checked by from_utf8, quicker on ASCII than the
        // lossy decoder, which replaces invalid bytes only when there are some.
        match std::str::from_utf8(&self.descriptor) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&self.descriptor).into_owned(),
        }
    }

    /// Encodes the CONNECT (2-byte length) and, when the descriptor is longer than
    /// [`MAX_CONNECT_DATA`], the overflow DATA packet after it.
    pub fn encode(&self) -> Vec<u8> {
        let cd_len = self.descriptor.len();
        let inline = cd_len <= MAX_CONNECT_DATA;
        let mut body = Vec::with_capacity(74 + cd_len);
        put_u16(&mut body, self.version);
        put_u16(&mut body, self.version_min);
        put_u16(&mut body, self.service_options);
        put_u16(&mut body, self.sdu16);
        put_u16(&mut body, self.tdu16);
        put_u16(&mut body, self.nt_chars);
        put_u16(&mut body, self.turnaround);
        body.extend_from_slice(&self.value_of_one);
        put_u16(&mut body, u16::try_from(cd_len).unwrap_or(u16::MAX));
        put_u16(&mut body, CONNECT_DATA_OFFSET);
        put_u32(&mut body, self.max_receivable);
        body.push(self.nsi0);
        body.push(self.nsi1);
        body.extend_from_slice(&[0u8; 24]);
        put_u32(&mut body, self.sdu32);
        put_u32(&mut body, self.tdu32);
        put_u32(&mut body, self.connect_flags1);
        put_u32(&mut body, self.connect_flags2);
        if inline {
            body.extend_from_slice(&self.descriptor);
        }
        let mut out = frame(
            packet_type::CONNECT,
            self.header_flags,
            &body,
            LengthMode::Short,
        );
        if !inline {
            out.extend(
                Data {
                    flags: 0,
                    payload: self.descriptor.clone(),
                }
                .encode(LengthMode::Short),
            );
        }
        out
    }

    fn decode_body(header_flags: u8, body: &[u8]) -> Result<(Self, usize), DecodeError> {
        read_body("CONNECT", body, |r| {
            Self::read_fields(header_flags, body, r)
        })
    }

    fn read_fields(
        header_flags: u8,
        body: &[u8],
        r: &mut Reader<'_>,
    ) -> Result<(Self, usize), TtcError> {
        let version = r.u16be("version")?;
        let version_min = r.u16be("lowest version")?;
        let service_options = r.u16be("service options")?;
        let sdu16 = r.u16be("SDU")?;
        let tdu16 = r.u16be("TDU")?;
        let nt_chars = r.u16be("NT protocol characteristics")?;
        let turnaround = r.u16be("line turnaround")?;
        let v1 = r.take(2, "value of one")?;
        let value_of_one = [v1[0], v1[1]];
        let cd_len = usize::from(r.u16be("connect data length")?);
        let cd_off = usize::from(r.u16be("connect data offset")?);
        let max_receivable = r.u32be("max receivable connect data")?;
        let nsi0 = r.u8("NSI flags 0")?;
        let nsi1 = r.u8("NSI flags 1")?;
        // The fields after the NSI flags exist only in packets long enough to hold them.
        let (mut sdu32, mut tdu32, mut cf1, mut cf2) = (0, 0, 0, 0);
        if body.len() >= 74 - HEADER_LEN {
            r.take(24, "obsolete area")?;
            sdu32 = r.u32be("SDU (32-bit)")?;
            tdu32 = r.u32be("TDU (32-bit)")?;
            cf1 = r.u32be("connect flags 1")?;
            cf2 = r.u32be("connect flags 2")?;
        }
        if cd_len > 0 && cd_off < HEADER_LEN {
            return Err(TtcError::invalid(
                "connect data offset",
                format!("offset {cd_off} inside the header"),
            ));
        }
        let start = cd_off.saturating_sub(HEADER_LEN);
        let inline = if cd_len > 0 && start + cd_len <= body.len() {
            body[start..start + cd_len].to_vec()
        } else {
            Vec::new()
        };
        Ok((
            Connect {
                header_flags,
                version,
                version_min,
                service_options,
                sdu16,
                tdu16,
                nt_chars,
                turnaround,
                value_of_one,
                max_receivable,
                nsi0,
                nsi1,
                sdu32,
                tdu32,
                connect_flags1: cf1,
                connect_flags2: cf2,
                descriptor: inline,
            },
            cd_len,
        ))
    }
}

/// A CONNECT as decoded from one packet: the descriptor may still be in the next DATA packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectPacket {
    /// The fields; `connect.descriptor` holds the inline descriptor (empty on overflow).
    pub connect: Connect,
    /// The descriptor length announced in the header.
    pub announced_len: usize,
}

impl ConnectPacket {
    /// True when the descriptor follows in a separate DATA packet.
    pub fn needs_overflow(&self) -> bool {
        self.announced_len > 0 && self.connect.descriptor.len() < self.announced_len
    }
}

/// ACCEPT packet (server → client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// Negotiated version.
    pub version: u16,
    /// Global service options (keep `0x0400` clear for in-band breaks).
    pub service_options: u16,
    /// Session SDU (written in both the 16- and 32-bit fields).
    pub sdu: u32,
    /// TDU.
    pub tdu: u32,
    /// NSI flags 0 (`0x04` = NA disabled).
    pub nsi0: u8,
    /// NSI flags 1.
    pub nsi1: u8,
    /// Compression flags.
    pub compression: u8,
    /// Flags 2 (only written for version ≥ 318).
    pub flags2: u32,
    /// Accept data (normally empty).
    pub data: Vec<u8>,
}

impl Accept {
    /// The recommended ACCEPT: version 318, options `0x0001`, NA disabled, flags-2 0.
    pub fn new(sdu: u32) -> Self {
        Accept {
            version: VERSION_318,
            service_options: service_options::DONT_CARE,
            sdu,
            tdu: sdu,
            nsi0: 0x04,
            nsi1: 0,
            compression: 0,
            flags2: 0,
            data: Vec::new(),
        }
    }

    /// The ACCEPT a server sends for `connect`: our version (318 unless the client wants
    /// less), SDU = min(client SDU, `max_sdu`), never below 512.
    pub fn for_connect(connect: &Connect, max_sdu: u32) -> Self {
        let sdu = connect.requested_sdu().clamp(512, max_sdu.max(512));
        let mut a = Accept::new(sdu);
        a.version = connect.version.min(VERSION_318);
        a
    }

    /// Encodes with a 2-byte length (ACCEPT always has one).
    pub fn encode(&self) -> Vec<u8> {
        let fixed = if self.version >= 318 { 45 } else { 41 };
        let mut body = Vec::with_capacity(fixed + self.data.len());
        put_u16(&mut body, self.version);
        put_u16(&mut body, self.service_options);
        put_u16(&mut body, u16::try_from(self.sdu).unwrap_or(u16::MAX));
        put_u16(&mut body, u16::try_from(self.tdu).unwrap_or(u16::MAX));
        body.extend_from_slice(&[0x01, 0x00]);
        put_u16(&mut body, u16::try_from(self.data.len()).unwrap_or(0));
        put_u16(&mut body, u16::try_from(fixed).unwrap_or(0));
        body.push(self.nsi0);
        body.push(self.nsi1);
        body.extend_from_slice(&[0u8; 8]);
        put_u32(&mut body, self.sdu);
        put_u32(&mut body, self.tdu);
        body.push(self.compression);
        if self.version >= 318 {
            put_u32(&mut body, self.flags2);
        }
        body.extend_from_slice(&self.data);
        frame(packet_type::ACCEPT, 0, &body, LengthMode::Short)
    }

    fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        read_body("ACCEPT", body, |r| {
            let version = r.u16be("version")?;
            let service_options = r.u16be("service options")?;
            let sdu16 = r.u16be("SDU")?;
            let tdu16 = r.u16be("TDU")?;
            r.take(2, "value of one")?;
            let data_len = usize::from(r.u16be("accept data length")?);
            let data_off = usize::from(r.u16be("accept data offset")?);
            let nsi0 = r.u8("NSI flags 0")?;
            let nsi1 = r.u8("NSI flags 1")?;
            let (mut sdu, mut tdu, mut compression, mut flags2) =
                (u32::from(sdu16), u32::from(tdu16), 0, 0);
            if version >= VERSION_LARGE_SDU {
                r.take(8, "timeouts and reconnect address")?;
                sdu = r.u32be("SDU (32-bit)")?;
                tdu = r.u32be("TDU (32-bit)")?;
                compression = r.u8("compression flags")?;
                if version >= 318 && body.len() >= 45 - HEADER_LEN {
                    flags2 = r.u32be("flags 2")?;
                }
            }
            let data = if data_len > 0 && data_off >= HEADER_LEN {
                let s = data_off - HEADER_LEN;
                body.get(s..s + data_len)
                    .ok_or(TtcError::NeedMore {
                        reading: "accept data",
                        needed: (s + data_len).saturating_sub(body.len()).max(1),
                    })?
                    .to_vec()
            } else {
                Vec::new()
            };
            Ok(Accept {
                version,
                service_options,
                sdu,
                tdu,
                nsi0,
                nsi1,
                compression,
                flags2,
                data,
            })
        })
    }
}

/// REFUSE packet (listener → client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refuse {
    /// User refuse reason (real listeners send `0x22`).
    pub user_reason: u8,
    /// System refuse reason.
    pub system_reason: u8,
    /// The refuse text, e.g. `(DESCRIPTION=(TMP=)(VSNNUM=..)(ERR=12514)...)`.
    pub text: String,
}

/// `VSNNUM` of a 19.0.0.0.0 server, as a real listener prints it.
pub const VSNNUM_19C: u32 = 318_767_104;

impl Refuse {
    /// The refusal a real listener sends for Oracle error `code` (12514, 12505, 12516, ...).
    pub fn for_error(code: u32, vsnnum: u32) -> Self {
        Refuse {
            user_reason: 0x22,
            system_reason: 0,
            text: format!(
                "(DESCRIPTION=(TMP=)(VSNNUM={vsnnum})(ERR={code})(ERROR_STACK=(ERROR=(CODE={code})(EMFI=4))))"
            ),
        }
    }

    /// The Oracle error number carried in the text (`(ERR=n)`), if any.
    pub fn error_code(&self) -> Option<u32> {
        let i = self.text.find("(ERR=")?;
        let rest = &self.text[i + 5..];
        let end = rest.find(')')?;
        rest[..end].trim().parse().ok()
    }

    /// Encodes with a 2-byte length.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = vec![self.user_reason, self.system_reason];
        put_u16(
            &mut body,
            u16::try_from(self.text.len()).unwrap_or(u16::MAX),
        );
        body.extend_from_slice(self.text.as_bytes());
        frame(packet_type::REFUSE, 0, &body, LengthMode::Short)
    }

    fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        read_body("REFUSE", body, |r| {
            let user_reason = r.u8("user reason")?;
            let system_reason = r.u8("system reason")?;
            let len = usize::from(r.u16be("refuse text length")?);
            let text = r.take(len, "refuse text")?;
            Ok(Refuse {
                user_reason,
                system_reason,
                text: String::from_utf8_lossy(text).into_owned(),
            })
        })
    }
}

/// REDIRECT (listener → client): sent as two packets, the REDIRECT with only the data length
/// and a DATA packet carrying `address NUL connect-data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// `address NUL connect-data`.
    pub data: Vec<u8>,
}

impl Redirect {
    /// Builds the redirect data from an address and connect data.
    pub fn new(address: &str, connect_data: &str) -> Self {
        let mut data = address.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(connect_data.as_bytes());
        Redirect { data }
    }

    /// Encodes both packets (2-byte lengths).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        put_u16(
            &mut body,
            u16::try_from(self.data.len()).unwrap_or(u16::MAX),
        );
        let mut out = frame(
            packet_type::REDIRECT,
            packet_flags::REDIRECT,
            &body,
            LengthMode::Short,
        );
        out.extend(
            Data {
                flags: 0,
                payload: self.data.clone(),
            }
            .encode(LengthMode::Short),
        );
        out
    }

    /// The address part (before the NUL).
    pub fn address(&self) -> &[u8] {
        match self.data.iter().position(|&b| b == 0) {
            Some(i) => &self.data[..i],
            None => &self.data,
        }
    }
}

/// The REDIRECT packet itself: the length of data that follows in a DATA packet (or inline,
/// for servers that send it that way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectHeader {
    /// Header flags.
    pub header_flags: u8,
    /// Length of the redirect data.
    pub data_len: u16,
    /// Data found inline after the length (older servers).
    pub inline: Vec<u8>,
}

/// DATA packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// Data flags.
    pub flags: u16,
    /// TTC payload.
    pub payload: Vec<u8>,
}

impl Data {
    /// Encodes in the given length mode.
    pub fn encode(&self, mode: LengthMode) -> Vec<u8> {
        let mut body = Vec::with_capacity(2 + self.payload.len());
        put_u16(&mut body, self.flags);
        body.extend_from_slice(&self.payload);
        frame(packet_type::DATA, 0, &body, mode)
    }

    /// A DATA packet with only the EOF flag (session close).
    pub fn eof() -> Self {
        Data {
            flags: data_flags::EOF,
            payload: Vec::new(),
        }
    }
}

/// Splits a TTC payload into DATA packets of at most `sdu` bytes each and encodes them.
/// `last_flags` is OR-ed into the last packet's data flags (e.g. END_OF_RESPONSE).
pub fn encode_data_packets(payload: &[u8], sdu: u32, mode: LengthMode, last_flags: u16) -> Vec<u8> {
    let max = usize::try_from(sdu)
        .unwrap_or(usize::MAX)
        .max(HEADER_LEN + 2 + 1)
        - HEADER_LEN
        - 2;
    let mut out = Vec::with_capacity(payload.len() + 16);
    if payload.is_empty() {
        out.extend(
            Data {
                flags: last_flags,
                payload: Vec::new(),
            }
            .encode(mode),
        );
        return out;
    }
    let mut chunks = payload.chunks(max).peekable();
    while let Some(c) = chunks.next() {
        let flags = if chunks.peek().is_none() {
            last_flags
        } else {
            0
        };
        let mut body = Vec::with_capacity(2 + c.len());
        put_u16(&mut body, flags);
        body.extend_from_slice(c);
        out.extend(frame(packet_type::DATA, 0, &body, mode));
    }
    out
}

/// MARKER kinds (third byte of the marker payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// BREAK (1).
    Break,
    /// RESET (2).
    Reset,
    /// INTERRUPT (3).
    Interrupt,
    /// Anything else.
    Other(u8),
}

impl MarkerKind {
    fn code(self) -> u8 {
        match self {
            MarkerKind::Break => 1,
            MarkerKind::Reset => 2,
            MarkerKind::Interrupt => 3,
            MarkerKind::Other(c) => c,
        }
    }

    fn from_code(c: u8) -> Self {
        match c {
            1 => MarkerKind::Break,
            2 => MarkerKind::Reset,
            3 => MarkerKind::Interrupt,
            o => MarkerKind::Other(o),
        }
    }
}

/// MARKER packet: payload `01 00 kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The marker kind.
    pub kind: MarkerKind,
}

impl Marker {
    /// Encodes in the given length mode.
    pub fn encode(&self, mode: LengthMode) -> Vec<u8> {
        frame(packet_type::MARKER, 0, &[1, 0, self.kind.code()], mode)
    }
}

/// CONTROL packet: `u16be` command and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// Command (8 = in-band error notification, 9 = reset OOB).
    pub command: u16,
    /// The rest of the packet.
    pub data: Vec<u8>,
}

impl Control {
    /// Encodes in the given length mode.
    pub fn encode(&self, mode: LengthMode) -> Vec<u8> {
        let mut body = Vec::new();
        put_u16(&mut body, self.command);
        body.extend_from_slice(&self.data);
        frame(packet_type::CONTROL, 0, &body, mode)
    }
}

/// One decoded TNS packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT (descriptor may be in the next DATA packet, see [`ConnectPacket::needs_overflow`]).
    Connect(ConnectPacket),
    /// ACCEPT.
    Accept(Accept),
    /// REFUSE.
    Refuse(Refuse),
    /// REDIRECT (data follows in a DATA packet unless inline).
    Redirect(RedirectHeader),
    /// RESEND.
    Resend {
        /// Header flags (`0x08` = renegotiate TLS).
        header_flags: u8,
    },
    /// DATA.
    Data(Data),
    /// MARKER.
    Marker(Marker),
    /// CONTROL.
    Control(Control),
    /// Any other type, kept raw.
    Other {
        /// Packet type code.
        packet_type: u8,
        /// Header flags.
        header_flags: u8,
        /// Body after the header.
        body: Vec<u8>,
    },
}

impl Packet {
    /// The packet type code.
    pub fn type_code(&self) -> u8 {
        match self {
            Packet::Connect(_) => packet_type::CONNECT,
            Packet::Accept(_) => packet_type::ACCEPT,
            Packet::Refuse(_) => packet_type::REFUSE,
            Packet::Redirect(_) => packet_type::REDIRECT,
            Packet::Resend { .. } => packet_type::RESEND,
            Packet::Data(_) => packet_type::DATA,
            Packet::Marker(_) => packet_type::MARKER,
            Packet::Control(_) => packet_type::CONTROL,
            Packet::Other { packet_type, .. } => *packet_type,
        }
    }
}

/// Reads the packet length from a header prefix, if enough bytes are present.
pub fn peek_length(buf: &[u8], mode: LengthMode) -> Result<Option<usize>, DecodeError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = match mode {
        LengthMode::Short => usize::from(u16::from_be_bytes([buf[0], buf[1]])),
        LengthMode::Large => {
            usize::try_from(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]])).unwrap_or(0)
        }
    };
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) {
        return Err(DecodeError::BadLength {
            reading: "packet header",
            length: len,
        });
    }
    Ok(Some(len))
}

/// One packet split off a byte stream without interpreting its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// Packet type code.
    pub packet_type: u8,
    /// Header flags.
    pub header_flags: u8,
    /// Body after the 8-byte header.
    pub body: &'a [u8],
    /// Bytes consumed (header + body).
    pub len: usize,
}

/// Splits one raw packet (header + body) off the front of `buf` without interpreting the
/// body. `Ok(None)` means more bytes are needed.
pub fn split_raw(buf: &[u8], mode: LengthMode) -> Result<Option<RawPacket<'_>>, DecodeError> {
    let Some(len) = peek_length(buf, mode)? else {
        return Ok(None);
    };
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(RawPacket {
        packet_type: buf[4],
        header_flags: buf[5],
        body: &buf[HEADER_LEN..len],
        len,
    }))
}

/// Decodes one packet from the front of `buf`. `Ok(None)` means more bytes are needed.
pub fn decode(buf: &[u8], mode: LengthMode) -> Result<Option<(Packet, usize)>, DecodeError> {
    let Some(RawPacket {
        packet_type: ty,
        header_flags: flags,
        body,
        len: used,
    }) = split_raw(buf, mode)?
    else {
        return Ok(None);
    };
    let packet = match ty {
        packet_type::CONNECT => {
            let (connect, announced_len) = Connect::decode_body(flags, body)?;
            Packet::Connect(ConnectPacket {
                connect,
                announced_len,
            })
        }
        packet_type::ACCEPT => Packet::Accept(Accept::decode_body(body)?),
        packet_type::REFUSE => Packet::Refuse(Refuse::decode_body(body)?),
        packet_type::REDIRECT => {
            let data_len = read_body("REDIRECT", body, |r| r.u16be("redirect data length"))?;
            Packet::Redirect(RedirectHeader {
                header_flags: flags,
                data_len,
                inline: body[2..].to_vec(),
            })
        }
        packet_type::RESEND => Packet::Resend {
            header_flags: flags,
        },
        packet_type::DATA => {
            let data_flags = read_body("DATA", body, |r| r.u16be("data flags"))?;
            Packet::Data(Data {
                flags: data_flags,
                payload: body[2..].to_vec(),
            })
        }
        packet_type::MARKER => {
            let k = read_body("MARKER", body, |r| {
                r.u8("marker type")?;
                r.u8("marker data byte 1")?;
                r.u8("marker kind")
            })?;
            Packet::Marker(Marker {
                kind: MarkerKind::from_code(k),
            })
        }
        packet_type::CONTROL => {
            let command = read_body("CONTROL", body, |r| r.u16be("control command"))?;
            Packet::Control(Control {
                command,
                data: body[2..].to_vec(),
            })
        }
        other => Packet::Other {
            packet_type: other,
            header_flags: flags,
            body: body.to_vec(),
        },
    };
    Ok(Some((packet, used)))
}

/// Decodes a complete CONNECT from the front of `buf` (2-byte lengths), including the
/// overflow DATA packet when the descriptor did not fit. `Ok(None)`: need more bytes.
/// This is what the listener reads and what it forwards to the dedicated server.
pub fn decode_connect(buf: &[u8]) -> Result<Option<(Connect, usize)>, DecodeError> {
    let Some((packet, used)) = decode(buf, LengthMode::Short)? else {
        return Ok(None);
    };
    let Packet::Connect(cp) = packet else {
        return Err(DecodeError::UnexpectedType {
            expected: "CONNECT",
            got: packet.type_code(),
        });
    };
    if !cp.needs_overflow() {
        return Ok(Some((cp.connect, used)));
    }
    let Some((next, used2)) = decode(&buf[used..], LengthMode::Short)? else {
        return Ok(None);
    };
    let Packet::Data(data) = next else {
        return Err(DecodeError::UnexpectedType {
            expected: "DATA (connect data overflow)",
            got: next.type_code(),
        });
    };
    let mut connect = cp.connect;
    let take = data.payload.len().min(cp.announced_len);
    connect.descriptor = data.payload[..take].to_vec();
    Ok(Some((connect, used + used2)))
}

/// Builds a packet: header in `mode` + body.
pub fn frame(ty: u8, flags: u8, body: &[u8], mode: LengthMode) -> Vec<u8> {
    let total = HEADER_LEN + body.len();
    let mut out = Vec::with_capacity(total);
    match mode {
        LengthMode::Short => {
            put_u16(&mut out, u16::try_from(total).unwrap_or(u16::MAX));
            out.extend_from_slice(&[0, 0]);
        }
        LengthMode::Large => put_u32(&mut out, u32::try_from(total).unwrap_or(u32::MAX)),
    }
    out.push(ty);
    out.push(flags);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
    out
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Reads a packet body with the crate's one byte reader ([`Reader`]). The body is complete
/// (framing already split it off), so running out of bytes is a truncated packet, named with
/// the field being read.
fn read_body<'a, T>(
    packet: &'static str,
    body: &'a [u8],
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, TtcError>,
) -> Result<T, DecodeError> {
    read(&mut Reader::new(body)).map_err(|e| match e {
        TtcError::NeedMore { reading, .. } => DecodeError::Truncated { packet, reading },
        TtcError::Invalid { reading, detail } => DecodeError::Invalid {
            packet,
            reading,
            detail,
        },
        other => DecodeError::Invalid {
            packet,
            reading: "body",
            detail: other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests;
