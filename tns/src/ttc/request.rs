//! Client requests: their encoders (client side) and the **incremental request decoder**
//! (server side). Requests span DATA packets and carry no "last packet" marker, so the only
//! way to know a request is complete is to parse it: [`RequestDecoder`] accumulates TTC bytes
//! and answers "a complete request" or "need more", in time linear in the bytes received
//! (`decoder`), with the grammar written once (`grammar`). It is phase-aware, because before
//! login the peer is unauthenticated: only the login exchange decodes, each request under
//! [`PRE_LOGIN_MAX_REQUEST`]. Dedicated servers and dispatchers of shared-server mode use the
//! same decoder.

use std::collections::HashMap;

use super::buf::{KeyValue, TtcError, Writer};
use super::message::{DataTypesRequest, ProtocolRequest, function, msg_type};

mod decoder;
mod grammar;

pub use decoder::RequestDecoder;

/// Bind metadata (OAC) of one bind or define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMetadata {
    /// Oracle type number.
    pub ora_type: u8,
    /// Flags.
    pub flags: u8,
    /// Buffer size.
    pub buffer_size: u32,
    /// Max array elements.
    pub max_array_elements: u32,
    /// Charset id.
    pub charset_id: u16,
    /// Charset form.
    pub charset_form: u8,
}

/// Bind flag: the bind is a PL/SQL array (a count, then that many values).
pub const BIND_ARRAY: u8 = 0x40;

/// One bind value as the client sent it, in the shape its type travels in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindValue {
    /// NULL.
    Null,
    /// A scalar in its wire encoding (NUMBER, VARCHAR2, DATE, RAW, BOOLEAN, ...).
    Bytes(Vec<u8>),
    /// A REF CURSOR bound IN: the id of a cursor the client opened earlier (0 = none yet).
    Cursor(u32),
    /// A LOB locator, or the locator + data of a JSON/VECTOR value.
    Locator(Vec<u8>),
    /// A PL/SQL array bind: its elements.
    Array(Vec<BindValue>),
}

impl BindValue {
    /// The bytes of a scalar (`None` for NULL and the other shapes).
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            BindValue::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// One row of bind values (one execution).
pub type BindRow = Vec<BindValue>;

/// EXECUTE (94).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execute {
    /// Options (`0x8061` for a query).
    pub options: u32,
    /// Cursor id (0 = new).
    pub cursor_id: u32,
    /// SQL text, when sent.
    pub sql: Option<Vec<u8>>,
    /// Prefetch row count.
    pub prefetch_rows: u32,
    /// al8i4 values (13 of them from current clients).
    pub al8i4: Vec<u32>,
    /// Bind metadata.
    pub binds: Vec<BindMetadata>,
    /// Define metadata.
    pub defines: Vec<BindMetadata>,
    /// Bind rows (one per execution). RETURNING INTO binds have no value in them (the
    /// client sends none): a row holds the first `binds.len() - returning` values.
    pub bind_rows: Vec<BindRow>,
}

impl Execute {
    /// True when al8i4\[7\] marks the statement as a query.
    pub fn is_query(&self) -> bool {
        self.al8i4.get(7).is_some_and(|&v| v == 1)
    }

    /// Execution count al8i4\[1\].
    pub fn num_execs(&self) -> u32 {
        self.al8i4.get(1).copied().unwrap_or(0)
    }
}

/// A call and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// AUTH phase one (118).
    AuthPhaseOne(Auth),
    /// AUTH phase two (115).
    AuthPhaseTwo(Auth),
    /// EXECUTE (94).
    Execute(Execute),
    /// REEXECUTE_AND_FETCH (78) or REEXECUTE (4).
    Reexecute {
        /// True for 78 (fetch rows too).
        fetch: bool,
        /// Cursor id.
        cursor_id: u32,
        /// Row count (prefetch rows or executions).
        rows: u32,
        /// Options 1 (`0x20` execute).
        options1: u32,
        /// Options 2 (`0x1` commit).
        options2: u32,
        /// Bind rows.
        bind_rows: Vec<BindRow>,
    },
    /// FETCH (5).
    Fetch {
        /// Cursor id.
        cursor_id: u32,
        /// Rows wanted.
        rows: u32,
    },
    /// PING (147).
    Ping,
    /// COMMIT (14).
    Commit,
    /// ROLLBACK (15).
    Rollback,
    /// LOGOFF (9).
    Logoff,
    /// LOB operation (96) on the locator the client holds.
    LobOp(LobOp),
    /// SESSION_RELEASE (163, one-way: no response): a DRCP session goes back to the pool.
    SessionRelease {
        /// Release mode (`0x2` = deauthenticate).
        mode: u32,
    },
}

/// AUTH phase one / two arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// User name as typed.
    pub user: String,
    /// Auth mode bits.
    pub mode: u32,
    /// Key/value pairs.
    pub pairs: Vec<KeyValue>,
}

impl Auth {
    /// The value of `key`, as text.
    pub fn get(&self, key: &str) -> Option<String> {
        super::buf::find_key(&self.pairs, key).map(KeyValue::value_str)
    }
}

/// End-to-end tracing attributes (`connection.module`, `.action`, `.client_identifier`,
/// `.client_info`, `.dbop`). Outer `None`: not changed; `Some(None)`: cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndToEnd {
    /// CLIENT_IDENTIFIER.
    pub client_identifier: Option<Option<String>>,
    /// MODULE.
    pub module: Option<Option<String>>,
    /// ACTION.
    pub action: Option<Option<String>>,
    /// CLIENT_INFO.
    pub client_info: Option<Option<String>>,
    /// DBOP.
    pub dbop: Option<Option<String>>,
}

/// A LOB operation (TTC function 96), as python-oracledb's and node-oracledb's
/// `LobOpMessage` write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobOp {
    /// Operation bits (`0x110` create temporary, `0x111` free temporary, `0x1` length,
    /// `0x2` read, `0x40` write, `0x20` trim, ...; `0x80000` = an array of locators).
    pub operation: u32,
    /// The source locator(s), when sent.
    pub locator: Vec<u8>,
    /// Character set of a new temporary LOB.
    pub charset: Option<u32>,
    /// Source offset (1-based, in characters or bytes).
    pub source_offset: u64,
    /// Destination offset.
    pub dest_offset: u64,
    /// The data of a write.
    pub data: Option<Vec<u8>>,
    /// The amount, when sent (read, trim, write).
    pub amount: Option<u64>,
}

/// An application-context change (piggyback 154): `SET` (flag 1) replaces the
/// namespace's values with `entries`, `CLEAR` (flag 2) empties it; other flags are the
/// client's own session keys (`ORA$HA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValueSet {
    /// Namespace (`CLIENTCONTEXT`, ...).
    pub namespace: String,
    /// Flags (`0x01` set, `0x02` clear).
    pub flags: u16,
    /// (attribute, value) pairs.
    pub entries: Vec<(String, String)>,
}

/// A piggy-backed call (no response of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piggyback {
    /// CLOSE_CURSORS (105).
    CloseCursors(Vec<u32>),
    /// SET_END_TO_END_ATTR (135).
    EndToEnd(EndToEnd),
    /// SET_SCHEMA (152): `connection.current_schema = ...`.
    SetSchema(String),
    /// SET_KEY_VALUE (154): application context (`set_app_context`) or session keys.
    KeyValues(KeyValueSet),
    /// SESSION_STATE (176): request boundary bits.
    SessionState(u64),
    /// PIPELINE_BEGIN (199): the pipeline mode of the calls that follow.
    PipelineBegin(u8),
    /// LOB_OP (96) as a piggyback: free these temporary LOBs.
    FreeTemporaryLobs(LobOp),
}

/// One complete client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// PROTOCOL negotiation.
    Protocol(ProtocolRequest),
    /// DATA_TYPES negotiation.
    DataTypes(DataTypesRequest),
    /// A function call, with the piggybacks that preceded it.
    Call {
        /// Piggybacks in order.
        piggybacks: Vec<Piggyback>,
        /// Sequence number of the call.
        seq: u8,
        /// The call.
        call: Call,
    },
}

/// Largest request accepted before login. The login exchange is small (python-oracledb's
/// DATA_TYPES request, the largest, is about 2.6 KiB; an AUTH phase two with every key about
/// 2 KiB), so 64 KiB leaves room for long user names, connect strings and future keys while
/// an unauthenticated peer can make the server hold at most this much.
pub const PRE_LOGIN_MAX_REQUEST: usize = 64 * 1024;

/// Largest request accepted after login: 16 MiB. A request is buffered whole before it is
/// handled, and the biggest ones clients send are EXECUTEs with in-line bind data —
/// `executemany` batches (python-oracledb sends a whole batch in one request: 100 000 rows
/// of ~100 bytes is 10 MB) and LONG/LONG RAW binds sent as chunked DALCs. Beyond 16 MiB a
/// client should use LOBs or smaller batches. It bounds what one authenticated session can
/// pin: the bytes, plus the decoded values (up to ~24 bytes of bookkeeping per 1-byte NULL
/// bind value, so about 400 MiB in the worst case), not the former 256 MiB of bytes.
pub const MAX_REQUEST: usize = 16 * 1024 * 1024;

/// What the decoder must know about the session to split requests.
#[derive(Debug, Clone, Default)]
pub struct DecodeContext {
    /// Negotiated field version (0 before negotiation).
    pub field_version: u8,
    /// Per cursor id: (bind metadata, is query) — REEXECUTE carries bind rows without
    /// metadata; RETURNING INTO binds are left out (no value travels for them).
    pub cursor_binds: HashMap<u32, (Vec<BindMetadata>, bool)>,
    /// How many binds of a statement are RETURNING INTO binds, given its SQL text: the
    /// client sends metadata for them but no value, and only the SQL layer above the
    /// decoder can tell. `None`: no statement has any.
    pub returning_binds: Option<fn(&[u8]) -> usize>,
    /// True between a successful login and LOGOFF: every call decodes, up to
    /// [`MAX_REQUEST`] bytes. False (the default): only the login exchange, up to
    /// [`PRE_LOGIN_MAX_REQUEST`] bytes.
    pub logged_on: bool,
}

/// Decodes one request from the front of `buf` in one go (tests and tools; a server uses
/// [`RequestDecoder`]): `Ok(None)` = need more bytes, else the request and the bytes it used.
pub fn decode_request(
    buf: &[u8],
    ctx: &DecodeContext,
) -> Result<Option<(Request, usize)>, TtcError> {
    let mut d = RequestDecoder::new();
    // The phase of the first `next_request` decides what `push` keeps.
    d.next_request(ctx)?;
    d.push(buf);
    let Some(req) = d.next_request(ctx)? else {
        return Ok(None);
    };
    Ok(Some((req, buf.len() - d.pending())))
}

/// Writes a SET_END_TO_END_ATTR piggyback (client side).
pub fn write_end_to_end(w: &mut Writer, seq: u8, fv: u8, e: &EndToEnd) {
    w.u8(msg_type::PIGGYBACK)
        .u8(function::SET_END_TO_END_ATTR)
        .u8(seq);
    if fv >= 18 {
        w.ub8(0);
    }
    let mut flags = 0u32;
    for (v, bit) in [
        (&e.action, 0x10u32),
        (&e.client_identifier, 0x01),
        (&e.client_info, 0x100),
        (&e.module, 0x08),
        (&e.dbop, 0x200),
    ] {
        if v.is_some() {
            flags |= bit;
        }
    }
    w.u8(0).u8(0).ub4(flags);
    let head = |w: &mut Writer, v: &Option<Option<String>>| {
        match v {
            Some(x) => w.u8(1).ub4(
                x.as_ref()
                    .map_or(0, |s| u32::try_from(s.len()).unwrap_or(0)),
            ),
            None => w.u8(0).ub4(0),
        };
    };
    head(w, &e.client_identifier);
    head(w, &e.module);
    head(w, &e.action);
    w.u8(0).ub4(0).u8(0).ub4(0);
    head(w, &e.client_info);
    w.u8(0).ub4(0).u8(0).ub4(0);
    head(w, &e.dbop);
    for v in [
        &e.client_identifier,
        &e.module,
        &e.action,
        &e.client_info,
        &e.dbop,
    ] {
        if let Some(Some(s)) = v
            && !s.is_empty()
        {
            w.dalc(s.as_bytes());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Client-side encoders.

/// Writes a function-call header (`03 fn seq [token]`).
pub fn write_function_header(w: &mut Writer, code: u8, seq: u8, fv: u8) {
    w.u8(msg_type::FUNCTION).u8(code).u8(seq);
    if fv >= 18 {
        w.ub8(0);
    }
}

/// Writes DRCP's one-way SESSION_RELEASE (no tag; `mode` 0, or 2 to log out as well).
pub fn write_session_release(w: &mut Writer, seq: u8, fv: u8, mode: u32) {
    w.u8(msg_type::ONEWAY_FN)
        .u8(function::SESSION_RELEASE)
        .u8(seq);
    if fv >= 18 {
        w.ub8(0);
    }
    w.u8(0).u8(0).ub4(mode);
}

/// Writes a CLOSE_CURSORS piggyback.
pub fn write_close_cursors(w: &mut Writer, seq: u8, fv: u8, ids: &[u32]) {
    w.u8(msg_type::PIGGYBACK)
        .u8(function::CLOSE_CURSORS)
        .u8(seq);
    if fv >= 18 {
        w.ub8(0);
    }
    w.u8(1).ub4(u32::try_from(ids.len()).unwrap_or(0));
    for id in ids {
        w.ub4(*id);
    }
}

/// Writes an AUTH phase-one or phase-two call.
pub fn write_auth(w: &mut Writer, code: u8, seq: u8, fv: u8, auth: &Auth) {
    write_function_header(w, code, seq, fv);
    let user = auth.user.as_bytes();
    w.u8(u8::from(!user.is_empty()))
        .ub4(u32::try_from(user.len()).unwrap_or(0))
        .ub4(auth.mode)
        .u8(1)
        .ub4(u32::try_from(auth.pairs.len()).unwrap_or(0))
        .u8(1)
        .u8(1);
    if !user.is_empty() {
        w.dalc(user);
    }
    for kv in &auth.pairs {
        w.key_value(kv);
    }
}

/// Writes an EXECUTE (94) with the defines or the binds and bind rows given, as python-oracledb does.
pub fn write_execute(w: &mut Writer, seq: u8, fv: u8, ex: &Execute) {
    write_function_header(w, function::EXECUTE, seq, fv);
    let sql = ex.sql.as_deref().unwrap_or_default();
    w.ub4(ex.options).ub4(ex.cursor_id);
    w.u8(u8::from(ex.sql.is_some()))
        .ub4(u32::try_from(sql.len()).unwrap_or(0));
    w.u8(1).ub4(u32::try_from(ex.al8i4.len()).unwrap_or(0));
    w.u8(0).u8(0).ub4(0).ub4(ex.prefetch_rows).ub4(0x7FFF_FFFF);
    let binds = u32::try_from(ex.binds.len()).unwrap_or(0);
    w.u8(u8::from(binds > 0)).ub4(binds);
    w.u8(0).u8(0).u8(0).u8(0).u8(0);
    match ex.defines.len() {
        0 => w.u8(0).ub4(0),
        n => w.u8(1).ub4(u32::try_from(n).unwrap_or(0)),
    };
    w.ub4(0);
    w.u8(0).u8(1).u8(0).ub4(0).u8(0).ub4(0);
    w.ub4(0);
    w.u8(0).ub4(0).u8(0);
    if fv >= 8 {
        w.u8(0).ub4(0).u8(0).ub4(0).u8(0);
    }
    if fv >= 9 {
        w.u8(0).ub4(0);
    }
    if ex.sql.is_some() {
        w.dalc(sql);
    }
    for v in &ex.al8i4 {
        w.ub4(*v);
    }
    for d in &ex.defines {
        write_oac(w, fv, d);
    }
    for b in &ex.binds {
        write_oac(w, fv, b);
    }
    for row in &ex.bind_rows {
        w.u8(msg_type::ROW_DATA);
        for v in row {
            write_bind_value(w, v);
        }
    }
}

/// One bind's metadata (OAC) as python-oracledb's `_write_column_metadata` writes it:
/// precision and scale 0, no OID, the LOB prefetch length 0.
fn write_oac(w: &mut Writer, fv: u8, b: &BindMetadata) {
    w.u8(b.ora_type).u8(b.flags).u8(0).u8(0);
    w.ub4(b.buffer_size).ub4(b.max_array_elements);
    w.ub8(0).ub4(0).ub2(0);
    w.ub2(b.charset_id).u8(b.charset_form).ub4(0);
    if fv >= 8 {
        w.ub4(0);
    }
}

/// One bind value of a bind row, as the grammar's `bind_value` reads it.
fn write_bind_value(w: &mut Writer, v: &BindValue) {
    match v {
        BindValue::Null => {
            w.u8(0);
        }
        BindValue::Bytes(b) => {
            w.dalc(b);
        }
        // A LOB locator (the JSON/VECTOR shape, locator + data, is not written by clients
        // of this encoder).
        BindValue::Locator(b) => {
            w.lwb(b);
        }
        BindValue::Cursor(0) => {
            w.ub4(0);
        }
        BindValue::Cursor(id) => {
            w.ub4(1).ub4(*id);
        }
        BindValue::Array(items) => {
            w.ub4(u32::try_from(items.len()).unwrap_or(0));
            for item in items {
                write_bind_value(w, item);
            }
        }
    }
}

/// Writes REEXECUTE_AND_FETCH (78) / REEXECUTE (4) without binds.
pub fn write_reexecute(w: &mut Writer, seq: u8, fv: u8, fetch: bool, cursor_id: u32, rows: u32) {
    let code = if fetch {
        function::REEXECUTE_AND_FETCH
    } else {
        function::REEXECUTE
    };
    write_function_header(w, code, seq, fv);
    w.ub4(cursor_id).ub4(rows).ub4(0x20).ub4(0);
}

/// Writes FETCH (5).
pub fn write_fetch(w: &mut Writer, seq: u8, fv: u8, cursor_id: u32, rows: u32) {
    write_function_header(w, function::FETCH, seq, fv);
    w.ub4(cursor_id).ub4(rows);
}

#[cfg(test)]
mod tests;
