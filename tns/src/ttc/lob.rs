//! LOBs on the wire: the operation codes of TTC function 96, the 40-byte locator a server
//! hands out for a temporary LOB and the flags the drivers read in it, a LOB value in a row
//! or an OUT bind, and the reply of a LOB operation. Byte layouts as python-oracledb 26
//! reads and writes them (`impl/thin/lob.pyx`, `messages/lob_op.pyx`, `packet.pyx`).

use super::buf::Writer;
use super::message::msg_type;

/// Operation codes of a LOB operation (the request's `operation` field).
pub mod op {
    /// Length in characters (CLOB, UCS-2 code units) or bytes (BLOB).
    pub const GET_LENGTH: u32 = 0x0001;
    /// Read `amount` from `source_offset`.
    pub const READ: u32 = 0x0002;
    /// Trim to `amount`.
    pub const TRIM: u32 = 0x0020;
    /// Write the request's data at `source_offset`.
    pub const WRITE: u32 = 0x0040;
    /// Chunk size.
    pub const GET_CHUNK_SIZE: u32 = 0x4000;
    /// Create a temporary LOB (type in `dest_offset`, charset form in `source_offset`).
    pub const CREATE_TEMP: u32 = 0x0110;
    /// Free temporary LOBs (with [`ARRAY`]: the piggyback's concatenated locators).
    pub const FREE_TEMP: u32 = 0x0111;
    /// Open.
    pub const OPEN: u32 = 0x8000;
    /// Close.
    pub const CLOSE: u32 = 0x10000;
    /// Is the LOB open (reply: one byte).
    pub const IS_OPEN: u32 = 0x11000;
    /// The source is an array of locators.
    pub const ARRAY: u32 = 0x80000;
}

/// Length of a locator this server hands out (what python-oracledb allocates for a new
/// temporary LOB).
pub const LOCATOR_LEN: usize = 40;

/// Offsets and bits of the locator's flag bytes that drivers read.
pub mod locator {
    /// Byte of flags 1: [`FLAG1_BLOB`].
    pub const OFFSET_FLAG_1: usize = 4;
    /// Byte of flags 2: [`FLAG2_INIT`].
    pub const OFFSET_FLAG_2: usize = 5;
    /// Byte of flags 3: [`FLAG3_VAR_LENGTH_CHARSET`].
    pub const OFFSET_FLAG_3: usize = 6;
    /// Byte of flags 4: [`FLAG4_TEMP`].
    pub const OFFSET_FLAG_4: usize = 7;
    /// A BLOB.
    pub const FLAG1_BLOB: u8 = 0x01;
    /// Initialized.
    pub const FLAG2_INIT: u8 = 0x08;
    /// The CLOB's data travels in UTF-16 (big endian), offsets count UCS-2 code units: how
    /// a database with a variable-width character set (AL32UTF8) keeps CLOBs.
    pub const FLAG3_VAR_LENGTH_CHARSET: u8 = 0x80;
    /// A temporary LOB: the driver frees it (piggyback) when its object goes away.
    pub const FLAG4_TEMP: u8 = 0x01;
    /// Where this server keeps the session's tag (8 bytes) in its locators.
    pub const OFFSET_TAG: usize = 8;
    /// Where this server keeps the LOB's number (8 bytes) in its locators.
    pub const OFFSET_ID: usize = 16;
}

/// Builds the locator of temporary LOB `id` of the session tagged `tag`.
pub fn temp_locator(tag: u64, id: u64, blob: bool) -> [u8; LOCATOR_LEN] {
    let mut l = [0u8; LOCATOR_LEN];
    let len = u16::try_from(LOCATOR_LEN - 2).unwrap_or(0);
    l[0..2].copy_from_slice(&len.to_be_bytes());
    l[2..4].copy_from_slice(&1u16.to_be_bytes());
    if blob {
        l[locator::OFFSET_FLAG_1] = locator::FLAG1_BLOB;
    } else {
        l[locator::OFFSET_FLAG_3] = locator::FLAG3_VAR_LENGTH_CHARSET;
    }
    l[locator::OFFSET_FLAG_2] = locator::FLAG2_INIT;
    l[locator::OFFSET_FLAG_4] = locator::FLAG4_TEMP;
    l[locator::OFFSET_TAG..locator::OFFSET_TAG + 8].copy_from_slice(&tag.to_be_bytes());
    l[locator::OFFSET_ID..locator::OFFSET_ID + 8].copy_from_slice(&id.to_be_bytes());
    l
}

/// The (session tag, LOB number) of a locator this server handed out, `None` for bytes
/// that are not one of its temporary-LOB locators.
pub fn parse_temp_locator(l: &[u8]) -> Option<(u64, u64)> {
    if l.len() != LOCATOR_LEN || l[locator::OFFSET_FLAG_4] & locator::FLAG4_TEMP == 0 {
        return None;
    }
    let word = |at: usize| {
        l.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
    };
    Some((word(locator::OFFSET_TAG)?, word(locator::OFFSET_ID)?))
}

/// A LOB value in a fetched row or an OUT bind (`read_lob_with_length`): locator length,
/// size, chunk size, then the locator. `None` is NULL.
pub fn encode_lob_value(w: &mut Writer, lob: Option<(&[u8], u64, u32)>) {
    match lob {
        None => {
            w.ub4(0);
        }
        Some((locator, size, chunk)) => {
            w.ub4(u32::try_from(locator.len()).unwrap_or(0))
                .ub8(size)
                .ub4(chunk)
                .dalc(locator);
        }
    }
}

/// The reply of a LOB operation before its end-of-call: the data a read returned (LOB_DATA),
/// then the return parameters — the locator again, and the charset + flags of a new
/// temporary LOB or the amount the call asked for — and the IS_OPEN flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LobOpReply {
    /// Data read (`None`: no LOB_DATA message).
    pub data: Option<Vec<u8>>,
    /// The locator (`None` when the request named none).
    pub locator: Option<Vec<u8>>,
    /// A new temporary LOB's character set id.
    pub created_charset: Option<u16>,
    /// The amount (length, bytes or characters read, chunk size), when the request sent one.
    pub amount: Option<i64>,
    /// IS_OPEN's answer.
    pub is_open: Option<bool>,
}

impl LobOpReply {
    /// Encodes the messages (the caller appends the end-of-call ERROR message).
    pub fn encode(&self, w: &mut Writer) {
        if let Some(data) = &self.data {
            w.u8(msg_type::LOB_DATA).dalc(data);
        }
        w.u8(msg_type::PARAMETER);
        if let Some(l) = &self.locator {
            w.raw(l);
        }
        if let Some(cs) = self.created_charset {
            w.ub2(cs).u8(0);
        } else if let Some(a) = self.amount {
            w.sb8(a);
        }
        if let Some(open) = self.is_open {
            w.u8(u8::from(open));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_locator_carries_the_flags_python_oracledb_reads() {
        let clob = temp_locator(0xABCD, 7, false);
        assert_eq!(clob.len(), 40);
        assert_eq!(&clob[0..2], &[0, 38]);
        assert_eq!(clob[locator::OFFSET_FLAG_4] & locator::FLAG4_TEMP, 1);
        assert_ne!(
            clob[locator::OFFSET_FLAG_3] & locator::FLAG3_VAR_LENGTH_CHARSET,
            0
        );
        assert_eq!(clob[locator::OFFSET_FLAG_1] & locator::FLAG1_BLOB, 0);
        assert_eq!(parse_temp_locator(&clob), Some((0xABCD, 7)));
        let blob = temp_locator(1, 2, true);
        assert_eq!(blob[locator::OFFSET_FLAG_3], 0);
        assert_eq!(blob[locator::OFFSET_FLAG_1], locator::FLAG1_BLOB);
        assert_eq!(parse_temp_locator(&blob[..39]), None);
        let mut not_temp = blob;
        not_temp[locator::OFFSET_FLAG_4] = 0;
        assert_eq!(parse_temp_locator(&not_temp), None);
    }

    #[test]
    fn a_lob_value_is_length_size_chunk_then_the_locator() {
        let mut w = Writer::new();
        encode_lob_value(&mut w, Some((&[9u8; 40], 3, 8132)));
        let b = w.into_bytes();
        // ub4 40, ub8 3, ub4 8132 (0x1FC4), dalc of 40 bytes.
        assert_eq!(&b[..8], &[1, 40, 1, 3, 2, 0x1F, 0xC4, 40]);
        assert_eq!(b.len(), 8 + 40);
        let mut w = Writer::new();
        encode_lob_value(&mut w, None);
        assert_eq!(w.into_bytes(), vec![0]);
    }

    #[test]
    fn a_read_reply_is_lob_data_then_the_locator_and_the_amount() {
        let mut w = Writer::new();
        LobOpReply {
            data: Some(vec![0, b'a']),
            locator: Some(vec![7; 40]),
            amount: Some(1),
            ..LobOpReply::default()
        }
        .encode(&mut w);
        let b = w.into_bytes();
        assert_eq!(&b[..4], &[14, 2, 0, b'a']);
        assert_eq!(b[4], 8);
        assert_eq!(&b[5..45], &[7; 40]);
        assert_eq!(&b[45..], &[1, 1]);
    }
}
