//! TTC messages in both directions: the server replies (protocol, data types, PARAMETER
//! key/values, DESCRIBE_INFO, ROW_HEADER, ROW_DATA, end-of-call ERROR, STATUS) with the
//! decoders of their parts for the client side, and the client calls with their encoders.
//! The decoder of a whole response is [`super::response`]; the request decoder for the
//! server side is [`super::request`].
//!
//! Field-version gates are explicit: every layout that changes with the negotiated field
//! version takes it as a parameter.

use super::buf::{KeyValue, Reader, TtcError, Writer};
use super::types::ora_type;

/// TTC message types (first byte of each message).
pub mod msg_type {
    /// PROTOCOL negotiation.
    pub const PROTOCOL: u8 = 1;
    /// DATA_TYPES negotiation.
    pub const DATA_TYPES: u8 = 2;
    /// FUNCTION call.
    pub const FUNCTION: u8 = 3;
    /// End-of-call ERROR / status info.
    pub const ERROR: u8 = 4;
    /// ROW_HEADER.
    pub const ROW_HEADER: u8 = 6;
    /// ROW_DATA.
    pub const ROW_DATA: u8 = 7;
    /// PARAMETER (return parameters).
    pub const PARAMETER: u8 = 8;
    /// STATUS.
    pub const STATUS: u8 = 9;
    /// LOB data (inside a LOB write call and its reply).
    pub const LOB_DATA: u8 = 14;
    /// IO_VECTOR.
    pub const IO_VECTOR: u8 = 11;
    /// WARNING.
    pub const WARNING: u8 = 15;
    /// DESCRIBE_INFO.
    pub const DESCRIBE_INFO: u8 = 16;
    /// PIGGYBACK call.
    pub const PIGGYBACK: u8 = 17;
    /// BIT_VECTOR.
    pub const BIT_VECTOR: u8 = 21;
    /// SERVER_SIDE_PIGGYBACK: news from the server ahead of a reply (DRCP's SESS_RET).
    pub const SERVER_SIDE_PIGGYBACK: u8 = 23;
    /// ONEWAY_FN: a call that gets no response (DRCP session release).
    pub const ONEWAY_FN: u8 = 26;
    /// END_OF_RESPONSE.
    pub const END_OF_RESPONSE: u8 = 29;
}

/// Server-side piggybacks ([`msg_type::SERVER_SIDE_PIGGYBACK`]).
pub mod server_piggyback {
    /// Opcode: a DRCP client got a session back (after its release, at its next call).
    pub const SESS_RET: u8 = 4;
    /// SESS_RET flag: the session is not the one the client had (its cursor ids are void).
    pub const SESSGET_SESSION_CHANGED: u32 = 4;
}

/// TTC function codes.
pub mod function {
    /// Re-execute a non-query.
    pub const REEXECUTE: u8 = 4;
    /// FETCH.
    pub const FETCH: u8 = 5;
    /// LOGOFF.
    pub const LOGOFF: u8 = 9;
    /// COMMIT.
    pub const COMMIT: u8 = 14;
    /// ROLLBACK.
    pub const ROLLBACK: u8 = 15;
    /// REEXECUTE_AND_FETCH.
    pub const REEXECUTE_AND_FETCH: u8 = 78;
    /// EXECUTE (OALL8).
    pub const EXECUTE: u8 = 94;
    /// CLOSE_CURSORS (piggyback).
    pub const CLOSE_CURSORS: u8 = 105;
    /// SET_END_TO_END_ATTR (piggyback: module, action, client identifier).
    pub const SET_END_TO_END_ATTR: u8 = 135;
    /// SET_SCHEMA (piggyback).
    pub const SET_SCHEMA: u8 = 152;
    /// AUTH phase two (OAUTH).
    pub const AUTH_PHASE_TWO: u8 = 115;
    /// AUTH phase one (OSESSKEY).
    pub const AUTH_PHASE_ONE: u8 = 118;
    /// PING.
    pub const PING: u8 = 147;
    /// LOB operation (96): a call, or a piggyback freeing temporary LOBs.
    pub const LOB_OP: u8 = 96;
    /// Application context / session key-value pairs (154, piggyback).
    pub const SET_KEY_VALUE: u8 = 154;
    /// Session state: request boundaries (176, piggyback).
    pub const SESSION_STATE: u8 = 176;
    /// Pipeline begin (199, piggyback).
    pub const PIPELINE_BEGIN: u8 = 199;
    /// SESSION_RELEASE (DRCP, one-way).
    pub const SESSION_RELEASE: u8 = 163;
}

/// Execute option bits (the `options` ub4 of EXECUTE).
pub mod exec_option {
    /// Parse.
    pub const PARSE: u32 = 0x01;
    /// Bind.
    pub const BIND: u32 = 0x08;
    /// Define.
    pub const DEFINE: u32 = 0x10;
    /// Execute.
    pub const EXECUTE: u32 = 0x20;
    /// Fetch.
    pub const FETCH: u32 = 0x40;
    /// Commit (autocommit).
    pub const COMMIT: u32 = 0x100;
    /// Not PL/SQL.
    pub const NOT_PLSQL: u32 = 0x8000;
    /// Describe only.
    pub const DESCRIBE: u32 = 0x20000;
}

/// End-of-call status bits.
pub mod call_status {
    /// A transaction is in progress.
    pub const TXN_IN_PROGRESS: u32 = 0x02;
}

/// The field version this server advertises (19c-like: no tokens, no 23ai describe fields).
pub const SERVER_FIELD_VERSION: u8 = 12;
/// Length of the compile-time capability array we send.
pub const COMPILE_CAPS_LEN: usize = 55;
/// Length of the runtime capability array we send.
pub const RUNTIME_CAPS_LEN: usize = 11;
/// Index of the field version in the compile-time capabilities.
pub const CCAP_FIELD_VERSION: usize = 7;
/// Index of the time-zone byte in the runtime capabilities.
pub const RCAP_TZ: usize = 1;
/// Runtime capability `TZ_EX`: the DATA_TYPES request carries the client's time zone and the
/// reply the database time zone (Oracle 19c+ servers advertise it; node-oracledb 26 reads
/// DBTIMEZONE from it instead of querying it).
pub const RCAP_TZ_EX: u8 = 0x01;
/// Length of a time zone in the DATA_TYPES exchange: an INTERVAL DAY TO SECOND.
pub const TIME_ZONE_LEN: usize = 11;
/// AL32UTF8.
pub const CHARSET_AL32UTF8: u16 = 873;
/// AL16UTF16.
pub const CHARSET_AL16UTF16: u16 = 2000;

/// The client's PROTOCOL request: `01 06 00 <driver name> 00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolRequest {
    /// TTC protocol version (6).
    pub version: u8,
    /// Driver name, e.g. `python-oracledb`.
    pub driver: Vec<u8>,
}

impl ProtocolRequest {
    /// Encodes the request (client side).
    pub fn encode(&self, w: &mut Writer) {
        w.u8(msg_type::PROTOCOL).u8(self.version).u8(0);
        w.raw(&self.driver).u8(0);
    }
}

/// The server's PROTOCOL reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolReply {
    /// Server TTC version (6).
    pub version: u8,
    /// Banner, e.g. `x86_64/Linux 2.4.xx`.
    pub banner: Vec<u8>,
    /// Database character set.
    pub charset: u16,
    /// Server flags.
    pub flags: u8,
    /// Field data object; the national charset is read from it.
    pub fdo: Vec<u8>,
    /// Compile-time capabilities (index 7 = field version).
    pub compile_caps: Vec<u8>,
    /// Runtime capabilities.
    pub runtime_caps: Vec<u8>,
}

impl ProtocolReply {
    /// What this server answers: AL32UTF8 / AL16UTF16, field version 12, 32 KiB strings.
    pub fn server_default() -> Self {
        let mut fdo = vec![0u8; 11];
        fdo[9..11].copy_from_slice(&CHARSET_AL16UTF16.to_be_bytes());
        let mut cc = vec![0u8; COMPILE_CAPS_LEN];
        cc[0] = 6;
        cc[4] = 0x6A;
        cc[CCAP_FIELD_VERSION] = SERVER_FIELD_VERSION;
        cc[27] = 1;
        let mut rc = vec![0u8; RUNTIME_CAPS_LEN];
        rc[0] = 2;
        rc[RCAP_TZ] = RCAP_TZ_EX;
        rc[6] = 0x05;
        ProtocolReply {
            version: 6,
            banner: b"x86_64/Linux 2.4.xx".to_vec(),
            charset: CHARSET_AL32UTF8,
            flags: 1,
            fdo,
            compile_caps: cc,
            runtime_caps: rc,
        }
    }

    /// The field version the server advertises (compile caps index 7).
    pub fn field_version(&self) -> Option<u8> {
        self.compile_caps.get(CCAP_FIELD_VERSION).copied()
    }

    /// The national character set carried in the FDO.
    pub fn ncharset(&self) -> Option<u16> {
        let f = &self.fdo;
        let ix = 6 + usize::from(*f.get(5)?) + usize::from(*f.get(6)?);
        Some(u16::from_be_bytes([*f.get(ix + 3)?, *f.get(ix + 4)?]))
    }

    /// Encodes the reply (server side).
    pub fn encode(&self, w: &mut Writer) {
        w.u8(msg_type::PROTOCOL).u8(self.version).u8(0);
        w.raw(&self.banner).u8(0);
        w.u16le(self.charset).u8(self.flags).u16le(0);
        w.u16be(u16::try_from(self.fdo.len()).unwrap_or(0))
            .raw(&self.fdo);
        w.dalc(&self.compile_caps).dalc(&self.runtime_caps);
    }

    /// Decodes the reply (client side), starting at the message type.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, TtcError> {
        expect_type(r, msg_type::PROTOCOL, "PROTOCOL reply")?;
        let version = r.u8("server TTC version")?;
        r.u8("protocol reply zero")?;
        let banner = r.cstr("server banner")?.to_vec();
        let charset = r.u16le("database charset")?;
        let flags = r.u8("server flags")?;
        let elems = r.u16le("charset element count")?;
        r.take(usize::from(elems) * 5, "charset elements")?;
        let fdo_len = r.u16be("FDO length")?;
        let fdo = r.take(usize::from(fdo_len), "FDO")?.to_vec();
        let compile_caps = r.dalc("compile-time capabilities")?.unwrap_or_default();
        let runtime_caps = r.dalc("runtime capabilities")?.unwrap_or_default();
        Ok(ProtocolReply {
            version,
            banner,
            charset,
            flags,
            fdo,
            compile_caps,
            runtime_caps,
        })
    }
}

/// One entry of the data-types negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTypeEntry {
    /// Data type.
    pub data_type: u16,
    /// Conversion type.
    pub conv_type: u16,
    /// Representation.
    pub representation: u16,
}

/// The client's DATA_TYPES request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTypesRequest {
    /// Client charset.
    pub charset: u16,
    /// Client national charset.
    pub ncharset: u16,
    /// Encoding flags.
    pub flags: u8,
    /// Client compile-time capabilities (index 7 = negotiated field version).
    pub compile_caps: Vec<u8>,
    /// Client runtime capabilities.
    pub runtime_caps: Vec<u8>,
    /// The client's time zone, sent when its runtime capabilities ask for `TZ_EX`.
    pub client_time_zone: Option<[u8; TIME_ZONE_LEN]>,
    /// Type table.
    pub types: Vec<DataTypeEntry>,
}

impl DataTypesRequest {
    /// True when the client asked for the time-zone exchange (and so expects the database
    /// time zone at the head of the reply).
    pub fn wants_time_zone(&self) -> bool {
        self.runtime_caps
            .get(RCAP_TZ)
            .is_some_and(|b| b & RCAP_TZ_EX != 0)
    }
}

/// A fixed time-zone offset as the DATA_TYPES exchange carries it: days `0x80000000`
/// (the biased zero), hours and minutes biased by 60, then the 5-byte trailer.
pub fn encode_time_zone_offset(minutes: i16) -> [u8; TIME_ZONE_LEN] {
    let mut b = [0u8; TIME_ZONE_LEN];
    b[..4].copy_from_slice(&0x8000_0000u32.to_be_bytes());
    let hours = minutes / 60;
    let mins = minutes % 60;
    b[4] = u8::try_from(hours + 60).unwrap_or(60);
    b[5] = u8::try_from(mins + 60).unwrap_or(60);
    b[6] = 0x80;
    b
}

impl DataTypesRequest {
    /// Encodes the request (client side).
    pub fn encode(&self, w: &mut Writer) {
        w.u8(msg_type::DATA_TYPES)
            .u16le(self.charset)
            .u16le(self.ncharset)
            .u8(self.flags);
        w.dalc(&self.compile_caps).dalc(&self.runtime_caps);
        if let Some(tz) = &self.client_time_zone {
            w.raw(tz);
        }
        for t in &self.types {
            w.u16be(t.data_type)
                .u16be(t.conv_type)
                .u16be(t.representation)
                .u16be(0);
        }
        w.u16be(0);
    }
}

/// Encodes the server's DATA_TYPES reply: the database time zone when the client asked for
/// it (`TZ_EX`), the client's table echoed, then the terminator.
pub fn encode_data_types_reply(
    w: &mut Writer,
    db_time_zone: Option<&[u8; TIME_ZONE_LEN]>,
    types: &[DataTypeEntry],
) {
    w.u8(msg_type::DATA_TYPES);
    if let Some(tz) = db_time_zone {
        w.raw(tz);
    }
    for t in types {
        w.u16be(t.data_type).u16be(t.conv_type);
        if t.conv_type != 0 {
            w.u16be(t.representation).u16be(0);
        }
    }
    w.u16be(0);
}

/// Skips the server's DATA_TYPES reply (client side).
pub fn skip_data_types_reply(r: &mut Reader<'_>) -> Result<(), TtcError> {
    r.u8("DATA_TYPES reply type")?;
    loop {
        let t = r.u16be("data type")?;
        if t == 0 {
            return Ok(());
        }
        let conv = r.u16be("conversion type")?;
        if conv != 0 {
            r.take(4, "data type representation")?;
        }
    }
}

/// Encodes a PARAMETER message with key/value pairs (auth replies).
pub fn encode_parameter_pairs(w: &mut Writer, pairs: &[KeyValue]) {
    encode_parameters(
        w,
        pairs
            .iter()
            .map(|kv| (kv.key.as_bytes(), kv.value.as_slice(), kv.flags)),
    );
}

/// [`encode_parameter_pairs`] from borrowed (key, value, flags) parts: a reply made of the
/// server's own values needs no [`KeyValue`] (two allocations) per pair.
pub fn encode_parameters<'a>(
    w: &mut Writer,
    pairs: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8], u32)>,
) {
    w.u8(msg_type::PARAMETER)
        .ub2(u16::try_from(pairs.len()).unwrap_or(u16::MAX));
    for (key, value, flags) in pairs {
        w.key_value_parts(key, value, flags);
    }
}

/// Decodes a PARAMETER key/value message after its type byte (client side, auth replies).
pub fn decode_parameter_pairs(r: &mut Reader<'_>) -> Result<Vec<KeyValue>, TtcError> {
    let n = r.ub2("parameter pair count")?;
    (0..n).map(|_| r.key_value()).collect()
}

/// One column as DESCRIBE_INFO describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMetadata {
    /// Oracle type number ([`ora_type`]).
    pub ora_type: u8,
    /// Flags.
    pub flags: u8,
    /// Precision (raw signed byte).
    pub precision: i8,
    /// Scale (raw signed byte; −127 for unconstrained NUMBER).
    pub scale: i8,
    /// Buffer size in bytes (0 = always NULL for the client).
    pub buffer_size: u32,
    /// Max array elements.
    pub max_array_elements: u32,
    /// Continuation flags.
    pub cont_flags: u64,
    /// Character set id (873 for VARCHAR2, 0 for NUMBER).
    pub charset_id: u16,
    /// Character set form (0 none, 1 implicit, 2 NCHAR).
    pub charset_form: u8,
    /// Max size (characters for strings; 0 for NUMBER).
    pub max_size: u32,
    /// Nullable.
    pub nullable: bool,
    /// Column name.
    pub name: String,
    /// Schema (objects).
    pub schema: String,
    /// Type name (objects).
    pub type_name: String,
    /// 1-based column position.
    pub position: u16,
    /// UDS flags.
    pub uds_flags: u32,
}

impl ColumnMetadata {
    /// An unconstrained NUMBER column.
    pub fn number(name: &str) -> Self {
        ColumnMetadata {
            ora_type: ora_type::NUMBER,
            flags: 0,
            precision: 0,
            scale: -127,
            buffer_size: 22,
            max_array_elements: 0,
            cont_flags: 0,
            charset_id: 0,
            charset_form: 0,
            max_size: 0,
            nullable: true,
            name: name.to_owned(),
            schema: String::new(),
            type_name: String::new(),
            position: 0,
            uds_flags: 0,
        }
    }

    /// A VARCHAR2(n) or CHAR(n) column (byte semantics, AL32UTF8).
    pub fn string(name: &str, ora_type: u8, len: u32) -> Self {
        ColumnMetadata {
            ora_type,
            buffer_size: len,
            charset_id: CHARSET_AL32UTF8,
            charset_form: 1,
            max_size: len,
            scale: 0,
            ..ColumnMetadata::number(name)
        }
    }

    /// A CLOB column (AL32UTF8 database: its data travels as UTF-16, see [`super::lob`]).
    pub fn clob(name: &str) -> Self {
        ColumnMetadata {
            ora_type: ora_type::CLOB,
            max_size: 0,
            ..ColumnMetadata::string(name, ora_type::CLOB, 4000)
        }
    }

    /// A BLOB column.
    pub fn blob(name: &str) -> Self {
        ColumnMetadata {
            ora_type: ora_type::BLOB,
            buffer_size: 4000,
            scale: 0,
            ..ColumnMetadata::number(name)
        }
    }

    /// True for a CLOB or BLOB column.
    pub fn is_lob(&self) -> bool {
        matches!(self.ora_type, ora_type::CLOB | ora_type::BLOB)
    }

    /// A DATE column.
    pub fn date(name: &str) -> Self {
        ColumnMetadata {
            ora_type: ora_type::DATE,
            buffer_size: 7,
            scale: 0,
            ..ColumnMetadata::number(name)
        }
    }

    /// A TIMESTAMP(6) WITH TIME ZONE column.
    pub fn timestamp_tz(name: &str) -> Self {
        ColumnMetadata {
            ora_type: ora_type::TIMESTAMP_TZ,
            buffer_size: 13,
            scale: 6,
            ..ColumnMetadata::number(name)
        }
    }

    fn encode(&self, w: &mut Writer, fv: u8) {
        w.u8(self.ora_type)
            .u8(self.flags)
            .sb1(self.precision)
            .sb1(self.scale);
        w.ub4(self.buffer_size)
            .ub4(self.max_array_elements)
            .ub8(self.cont_flags);
        w.ub4(0); // type OID (objects only)
        w.ub2(0).ub2(self.charset_id).u8(self.charset_form);
        w.ub4(self.max_size);
        if fv >= 8 {
            w.ub4(0); // oaccolid
        }
        w.u8(u8::from(self.nullable)).u8(0);
        w.lwb(self.name.as_bytes())
            .lwb(self.schema.as_bytes())
            .lwb(self.type_name.as_bytes());
        w.ub2(self.position).ub4(self.uds_flags);
        if fv >= 17 {
            w.ub4(0).ub4(0);
        }
        if fv >= 20 {
            w.ub4(0);
        }
        if fv >= 24 {
            w.ub4(0).u8(0).u8(0);
        }
    }

    fn decode(r: &mut Reader<'_>, fv: u8) -> Result<Self, TtcError> {
        let ora_type = r.u8("column type")?;
        let flags = r.u8("column flags")?;
        let precision = r.sb1("column precision")?;
        let scale = r.sb1("column scale")?;
        let buffer_size = r.ub4("column buffer size")?;
        let max_array_elements = r.ub4("column max array elements")?;
        let cont_flags = r.ub8("column cont flags")?;
        r.lwb("column type OID")?;
        r.ub2("column type version")?;
        let charset_id = r.ub2("column charset id")?;
        let charset_form = r.u8("column charset form")?;
        let max_size = r.ub4("column max size")?;
        if fv >= 8 {
            r.ub4("column oaccolid")?;
        }
        let nullable = r.u8("column nullable")? != 0;
        r.u8("column v7 name length")?;
        let name = r.lwb_string("column name")?;
        let schema = r.lwb_string("column schema")?;
        let type_name = r.lwb_string("column type name")?;
        let position = r.ub2("column position")?;
        let uds_flags = r.ub4("column UDS flags")?;
        if fv >= 17 {
            r.lwb("column domain schema")?;
            r.lwb("column domain name")?;
        }
        if fv >= 20 {
            let n = r.ub4("column annotations count")?;
            if n > 0 {
                r.u8("annotations")?;
                let count = r.ub4("annotations count")?;
                r.u8("annotations")?;
                for _ in 0..count {
                    r.key_value()?;
                }
                r.ub4("annotations trailer")?;
            }
        }
        if fv >= 24 {
            r.ub4("vector dimensions")?;
            r.u8("vector format")?;
            r.u8("vector flags")?;
        }
        Ok(ColumnMetadata {
            ora_type,
            flags,
            precision,
            scale,
            buffer_size,
            max_array_elements,
            cont_flags,
            charset_id,
            charset_form,
            max_size,
            nullable,
            name,
            schema,
            type_name,
            position,
            uds_flags,
        })
    }
}

/// Encodes DESCRIBE_INFO for `columns` (positions are filled in 1-based).
pub fn encode_describe_info(w: &mut Writer, columns: &[ColumnMetadata], fv: u8) {
    w.u8(msg_type::DESCRIBE_INFO).dalc(&[]);
    encode_describe_body(w, columns, fv);
}

/// The describe information itself (DESCRIBE_INFO after its type and preamble): also how a
/// REF CURSOR OUT bind describes its query.
pub fn encode_describe_body(w: &mut Writer, columns: &[ColumnMetadata], fv: u8) {
    let max_row: u32 = columns.iter().map(|c| c.buffer_size).sum();
    w.ub4(max_row)
        .ub4(u32::try_from(columns.len()).unwrap_or(0));
    if !columns.is_empty() {
        w.u8(0);
    }
    for (i, c) in columns.iter().enumerate() {
        let mut c = c.clone();
        c.position = u16::try_from(i + 1).unwrap_or(u16::MAX);
        c.encode(w, fv);
    }
    // trailer: current date, dcbflag, dcbmdbz, dcbmnpr, dcbmxpr, query-cache key
    w.ub4(0).ub4(0).ub4(0).ub4(0).ub4(0).ub4(0);
}

/// Decodes DESCRIBE_INFO after its type byte (client side).
pub fn decode_describe_info(r: &mut Reader<'_>, fv: u8) -> Result<Vec<ColumnMetadata>, TtcError> {
    r.dalc("describe preamble")?;
    r.ub4("describe max row size")?;
    let n = r.ub4("describe column count")?;
    if n > 0 {
        r.u8("describe skipped byte")?;
    }
    let cols = (0..n)
        .map(|_| ColumnMetadata::decode(r, fv))
        .collect::<Result<Vec<_>, _>>()?;
    r.lwb("describe current date")?;
    for _ in 0..4 {
        r.ub4("describe dcb fields")?;
    }
    r.lwb("describe query cache key")?;
    Ok(cols)
}

/// Encodes a ROW_HEADER as real servers send it before rows.
pub fn encode_row_header(w: &mut Writer) {
    w.u8(msg_type::ROW_HEADER)
        .u8(0)
        .ub2(1)
        .ub4(0)
        .ub4(1)
        .ub2(0)
        .ub4(0)
        .ub4(0);
}

/// Skips a ROW_HEADER after its type byte (client side).
pub fn skip_row_header(r: &mut Reader<'_>) -> Result<(), TtcError> {
    r.u8("row header flags")?;
    r.ub2("row header requests")?;
    r.ub4("row header iteration")?;
    r.ub4("row header iterations")?;
    r.ub2("row header buffer length")?;
    let bv = r.ub4("row header bit vector length")?;
    if bv > 0 {
        r.u8("row header bit vector")?;
        r.take(
            usize::try_from(bv).unwrap_or(usize::MAX),
            "row header bit vector",
        )?;
    }
    r.lwb("row header rowid")?;
    Ok(())
}

/// One value in a row, already in its Oracle encoding (`None` = NULL).
pub type RawValue = Option<Vec<u8>>;

/// Encodes one ROW_DATA message. Columns whose describe buffer size is 0 get no bytes.
pub fn encode_row_data(w: &mut Writer, columns: &[ColumnMetadata], values: &[RawValue]) {
    w.u8(msg_type::ROW_DATA);
    for (c, v) in columns.iter().zip(values) {
        if c.buffer_size == 0 {
            continue;
        }
        match v {
            Some(b) if !b.is_empty() => {
                w.dalc(b);
            }
            _ => {
                w.u8(0);
            }
        }
    }
}

/// The end-of-call ERROR message (also the success "status" of most calls).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorInfo {
    /// Call status (`0x02` = transaction in progress).
    pub call_status: u32,
    /// End-to-end sequence number.
    pub end_to_end_seq: u16,
    /// Current row number.
    pub row_number: u32,
    /// Cursor id the statement now owns.
    pub cursor_id: u16,
    /// Error position (offset in the SQL text).
    pub error_pos: i16,
    /// Warning flags.
    pub warning_flags: u8,
    /// OS error.
    pub os_error: u32,
    /// Successful iterations.
    pub iterations: u32,
    /// Oracle error number (0 = success).
    pub error_code: u32,
    /// Row count.
    pub row_count: u64,
    /// `ORA-nnnnn: text`, present when `error_code != 0`.
    pub message: Option<String>,
}

impl ErrorInfo {
    /// An error with its message.
    pub fn error(code: u32, message: impl Into<String>) -> Self {
        ErrorInfo {
            error_code: code,
            message: Some(message.into()),
            ..ErrorInfo::default()
        }
    }

    /// Encodes the message.
    pub fn encode(&self, w: &mut Writer, fv: u8) {
        w.u8(msg_type::ERROR)
            .ub4(self.call_status)
            .ub2(self.end_to_end_seq)
            .ub4(self.row_number)
            .ub2(u16::try_from(self.error_code).unwrap_or(u16::MAX))
            .ub2(0)
            .ub2(0)
            .ub2(self.cursor_id)
            .sb8(i64::from(self.error_pos));
        w.u8(0).u8(0).u8(0).u8(0).u8(0).u8(self.warning_flags);
        w.ub4(0).ub2(0).u8(0).ub4(0).ub2(0); // rowid
        w.ub4(self.os_error).u8(0).u8(0).ub2(0).ub4(self.iterations);
        w.ub4(0); // oerrdd
        w.ub2(0).ub4(0).ub2(0); // batch errors
        w.ub4(self.error_code).ub8(self.row_count);
        if fv >= 14 {
            w.ub4(0).ub4(0);
        }
        if self.error_code != 0 {
            w.dalc(self.message.as_deref().unwrap_or_default().as_bytes());
        }
    }

    /// Decodes after the type byte (client side).
    pub fn decode(r: &mut Reader<'_>, fv: u8) -> Result<Self, TtcError> {
        let call_status = r.ub4("call status")?;
        let end_to_end_seq = r.ub2("end-to-end sequence")?;
        let row_number = r.ub4("current row number")?;
        r.ub2("error number (short)")?;
        r.ub2("array element errors")?;
        r.ub2("array element errors")?;
        let cursor_id = r.ub2("cursor id")?;
        let error_pos = i16::try_from(r.sb8("error position")?).unwrap_or(0);
        r.take(5, "sql type, fatal, flags, cursor options, UPI parameter")?;
        let warning_flags = r.u8("warning flags")?;
        r.ub4("rowid rba")?;
        r.ub2("rowid partition")?;
        r.u8("rowid filler")?;
        r.ub4("rowid block")?;
        r.ub2("rowid slot")?;
        let os_error = r.ub4("OS error")?;
        r.u8("statement number")?;
        r.u8("call number")?;
        r.ub2("padding")?;
        let iterations = r.ub4("successful iterations")?;
        r.lwb("oerrdd")?;
        let n = r.ub2("batch error codes count")?;
        if n > 0 {
            r.u8("batch error codes")?;
            for _ in 0..n {
                r.ub2("batch error code")?;
            }
        }
        let n = r.ub4("batch error offsets count")?;
        if n > 0 {
            r.u8("batch error offsets")?;
            for _ in 0..n {
                r.ub4("batch error offset")?;
            }
        }
        let n = r.ub2("batch error messages count")?;
        if n > 0 {
            r.u8("batch error messages")?;
            for _ in 0..n {
                r.ub2("batch error message length")?;
                r.dalc("batch error message")?;
            }
        }
        let error_code = r.ub4("error number")?;
        let row_count = r.ub8("row count")?;
        if fv >= 14 {
            r.ub4("sql type")?;
            r.ub4("server checksum")?;
        }
        let message = if error_code != 0 {
            r.dalc("error message")?
                .map(|b| String::from_utf8_lossy(&b).trim_end().to_owned())
        } else {
            None
        };
        Ok(ErrorInfo {
            call_status,
            end_to_end_seq,
            row_number,
            cursor_id,
            error_pos,
            warning_flags,
            os_error,
            iterations,
            error_code,
            row_count,
            message,
        })
    }
}

/// Bind direction in the I/O vector: IN.
pub const BIND_DIR_INPUT: u8 = 32;
/// Bind direction in the I/O vector: OUT.
pub const BIND_DIR_OUTPUT: u8 = 16;
/// Bind direction in the I/O vector: IN OUT.
pub const BIND_DIR_INPUT_OUTPUT: u8 = 48;

/// Encodes the I/O vector a PL/SQL execute answers with: each bind's direction, in bind
/// order (the OUT values follow in a ROW_DATA).
pub fn encode_io_vector(w: &mut Writer, directions: &[u8]) {
    w.u8(msg_type::IO_VECTOR).u8(0);
    w.ub2(u16::try_from(directions.len()).unwrap_or(u16::MAX));
    w.ub4(0).ub4(1).ub2(0).ub2(0).ub2(0);
    for d in directions {
        w.u8(*d);
    }
}

/// Session-state keyword of the return parameters: the current schema changed.
pub const KEYWORD_CURRENT_SCHEMA: u16 = 168;
/// Session-state keyword of the return parameters: the edition changed.
pub const KEYWORD_EDITION: u16 = 172;

/// Encodes the execute-time PARAMETER block with session-state keywords only (no al8o4
/// values, transaction context or registration): how the server tells the client that
/// `ALTER SESSION SET CURRENT_SCHEMA` changed its schema.
pub fn encode_return_parameters(w: &mut Writer, keywords: &[(u16, &str)]) {
    w.u8(msg_type::PARAMETER).ub2(0).ub2(0);
    w.ub2(u16::try_from(keywords.len()).unwrap_or(u16::MAX));
    for (keyword, text) in keywords {
        let bytes = text.as_bytes();
        w.ub2(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
        if !bytes.is_empty() {
            w.dalc(bytes);
        }
        w.ub2(0).ub2(*keyword);
    }
    w.ub2(0);
}

/// Encodes STATUS: `09 <ub4 call status> <ub2 end-to-end seq>`.
pub fn encode_status(w: &mut Writer, call_status: u32) {
    w.u8(msg_type::STATUS).ub4(call_status).ub2(0);
}

fn expect_type(r: &mut Reader<'_>, want: u8, reading: &'static str) -> Result<(), TtcError> {
    let t = r.u8(reading)?;
    if t != want {
        return Err(TtcError::invalid(
            reading,
            format!("message type {t}, expected {want}"),
        ));
    }
    Ok(())
}
