//! Client requests: their encoders (client side) and the **incremental request decoder**
//! (server side). Requests span DATA packets and carry no "last packet" marker, so the only
//! way to know a request is complete is to parse it: [`RequestDecoder`] accumulates TTC bytes
//! and answers "a complete request" or "need more". Dedicated servers and dispatchers of
//! shared-server mode use the same decoder.

use std::collections::HashMap;

use super::buf::{KeyValue, Reader, TtcError, Writer};
use super::message::{DataTypesRequest, ProtocolRequest, function, msg_type};

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
    /// Bind rows (one per execution), values in DALC form (`None` = NULL).
    pub bind_rows: Vec<Vec<Option<Vec<u8>>>>,
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
        bind_rows: Vec<Vec<Option<Vec<u8>>>>,
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

/// A piggy-backed call (no response of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piggyback {
    /// CLOSE_CURSORS (105).
    CloseCursors(Vec<u32>),
    /// SET_END_TO_END_ATTR (135).
    EndToEnd(EndToEnd),
    /// SET_SCHEMA (152): `connection.current_schema = ...`.
    SetSchema(String),
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

/// What the decoder must know about the session to split requests.
#[derive(Debug, Clone, Default)]
pub struct DecodeContext {
    /// Negotiated field version (0 before negotiation).
    pub field_version: u8,
    /// Per cursor id: (bind count, is query) — REEXECUTE carries bind rows without metadata.
    pub cursor_binds: HashMap<u32, (usize, bool)>,
}

/// Decodes one request from the front of `buf`: `Ok(None)` = need more bytes.
pub fn decode_request(
    buf: &[u8],
    ctx: &DecodeContext,
) -> Result<Option<(Request, usize)>, TtcError> {
    let mut r = Reader::new(buf);
    match parse_request(&mut r, ctx) {
        Ok(req) => Ok(Some((req, r.position()))),
        Err(TtcError::NeedMore { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Largest request the decoder buffers (a 1 GiB chunked bind is not a request we serve).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024 * 1024;

/// Accumulates TTC bytes from DATA packets and yields complete requests.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    buf: Vec<u8>,
}

impl RequestDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        RequestDecoder::default()
    }

    /// Appends the payload of a DATA packet.
    pub fn push(&mut self, payload: &[u8]) {
        self.buf.extend_from_slice(payload);
    }

    /// Bytes buffered and not yet part of a complete request.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Drops buffered bytes (after a break/reset).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The next complete request, if the buffered bytes hold one.
    pub fn next_request(&mut self, ctx: &DecodeContext) -> Result<Option<Request>, TtcError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        if self.buf.len() > MAX_REQUEST_BYTES {
            let n = self.buf.len();
            self.buf.clear();
            return Err(TtcError::invalid(
                "request",
                format!("{n} bytes without a complete request"),
            ));
        }
        match decode_request(&self.buf, ctx) {
            Ok(Some((req, used))) => {
                self.buf.drain(..used);
                Ok(Some(req))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }
}

fn parse_request(r: &mut Reader<'_>, ctx: &DecodeContext) -> Result<Request, TtcError> {
    let t = r.u8("message type")?;
    match t {
        msg_type::PROTOCOL => Ok(Request::Protocol(ProtocolRequest::decode_after_type(r)?)),
        msg_type::DATA_TYPES => Ok(Request::DataTypes(DataTypesRequest::decode_after_type(r)?)),
        msg_type::ONEWAY_FN => {
            let code = r.u8("function code")?;
            let seq = r.u8("sequence number")?;
            if ctx.field_version >= 18 {
                r.ub8("token number")?;
            }
            if code != function::SESSION_RELEASE {
                return Err(TtcError::invalid(
                    "one-way function code",
                    format!("unsupported one-way TTC function {code}"),
                ));
            }
            r.u8("release tag pointer")?;
            let tag_len = r.u8("release tag length")?;
            r.take(usize::from(tag_len), "release tag")?;
            let mode = r.ub4("release mode")?;
            Ok(Request::Call {
                piggybacks: Vec::new(),
                seq,
                call: Call::SessionRelease { mode },
            })
        }
        msg_type::FUNCTION | msg_type::PIGGYBACK => {
            let mut piggybacks = Vec::new();
            let mut t = t;
            loop {
                let code = r.u8("function code")?;
                let seq = r.u8("sequence number")?;
                if ctx.field_version >= 18 {
                    r.ub8("token number")?;
                }
                if t == msg_type::PIGGYBACK {
                    piggybacks.push(parse_piggyback(r, code)?);
                    t = r.u8("message type after piggyback")?;
                    if t != msg_type::FUNCTION && t != msg_type::PIGGYBACK {
                        return Err(TtcError::invalid(
                            "message type after piggyback",
                            format!("{t}"),
                        ));
                    }
                    continue;
                }
                let call = parse_call(r, code, ctx)?;
                return Ok(Request::Call {
                    piggybacks,
                    seq,
                    call,
                });
            }
        }
        other => Err(TtcError::invalid(
            "message type",
            format!("unexpected client message type {other}"),
        )),
    }
}

fn parse_piggyback(r: &mut Reader<'_>, code: u8) -> Result<Piggyback, TtcError> {
    match code {
        function::CLOSE_CURSORS => {
            r.u8("close cursors pointer")?;
            let n = r.ub4("close cursors count")?;
            let ids = (0..n)
                .map(|_| r.ub4("cursor id to close"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Piggyback::CloseCursors(ids))
        }
        function::SET_END_TO_END_ATTR => {
            r.u8("end-to-end cidnam pointer")?;
            r.u8("end-to-end cidser pointer")?;
            r.ub4("end-to-end flags")?;
            let head = |r: &mut Reader<'_>| -> Result<(bool, u32), TtcError> {
                let ptr = r.u8("end-to-end attribute pointer")?;
                let len = r.ub4("end-to-end attribute length")?;
                Ok((ptr != 0, len))
            };
            let ci = head(r)?;
            let module = head(r)?;
            let action = head(r)?;
            r.u8("end-to-end cideci pointer")?;
            r.ub4("end-to-end cideci length")?;
            r.u8("end-to-end cidcct")?;
            r.ub4("end-to-end cidecs")?;
            let info = head(r)?;
            for _ in 0..2 {
                r.u8("end-to-end cidkstk/cidktgt pointer")?;
                r.ub4("end-to-end cidkstk/cidktgt length")?;
            }
            let dbop = head(r)?;
            let value = |r: &mut Reader<'_>,
                         (set, len): (bool, u32)|
             -> Result<Option<Option<String>>, TtcError> {
                if !set {
                    return Ok(None);
                }
                if len == 0 {
                    return Ok(Some(None));
                }
                let b = r.dalc("end-to-end attribute")?.unwrap_or_default();
                Ok(Some(Some(String::from_utf8_lossy(&b).into_owned())))
            };
            Ok(Piggyback::EndToEnd(EndToEnd {
                client_identifier: value(r, ci)?,
                module: value(r, module)?,
                action: value(r, action)?,
                client_info: value(r, info)?,
                dbop: value(r, dbop)?,
            }))
        }
        function::SET_SCHEMA => {
            r.u8("schema pointer")?;
            let len = r.ub4("schema length")?;
            let b = if len > 0 {
                r.dalc("schema name")?.unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok(Piggyback::SetSchema(
                String::from_utf8_lossy(&b).into_owned(),
            ))
        }
        other => Err(TtcError::invalid(
            "piggyback",
            format!("unsupported piggyback function {other}"),
        )),
    }
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

fn parse_auth(r: &mut Reader<'_>) -> Result<Auth, TtcError> {
    let user_ptr = r.u8("auth user pointer")?;
    let user_len = r.ub4("auth user length")?;
    let mode = r.ub4("auth mode")?;
    r.u8("auth pairs pointer")?;
    let n = r.ub4("auth pair count")?;
    r.u8("auth pointer")?;
    r.u8("auth pointer")?;
    let user = if user_ptr != 0 && user_len > 0 {
        String::from_utf8_lossy(&r.dalc("auth user name")?.unwrap_or_default()).into_owned()
    } else {
        String::new()
    };
    let pairs = (0..n)
        .map(|_| r.key_value())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Auth { user, mode, pairs })
}

fn parse_oac(r: &mut Reader<'_>, fv: u8) -> Result<BindMetadata, TtcError> {
    let ora_type = r.u8("bind type")?;
    let flags = r.u8("bind flags")?;
    r.u8("bind precision")?;
    r.u8("bind scale")?;
    let buffer_size = r.ub4("bind buffer size")?;
    let max_array_elements = r.ub4("bind max array elements")?;
    r.ub8("bind cont flags")?;
    let oid = r.ub4("bind OID length")?;
    if oid > 0 {
        r.dalc("bind OID")?;
    }
    r.ub2("bind type version")?;
    let charset_id = r.ub2("bind charset")?;
    let charset_form = r.u8("bind charset form")?;
    r.ub4("bind LOB prefetch length")?;
    if fv >= 8 {
        r.ub4("bind oaccolid")?;
    }
    Ok(BindMetadata {
        ora_type,
        flags,
        buffer_size,
        max_array_elements,
        charset_id,
        charset_form,
    })
}

fn parse_bind_rows(
    r: &mut Reader<'_>,
    nbinds: usize,
    nrows: u32,
) -> Result<Vec<Vec<Option<Vec<u8>>>>, TtcError> {
    let mut rows = Vec::new();
    if nbinds == 0 {
        return Ok(rows);
    }
    for _ in 0..nrows.max(1) {
        let t = r.u8("bind row message type")?;
        if t != msg_type::ROW_DATA {
            return Err(TtcError::invalid(
                "bind row message type",
                format!("{t}, expected 7"),
            ));
        }
        let row = (0..nbinds)
            .map(|_| r.dalc("bind value"))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok(rows)
}

fn parse_execute(r: &mut Reader<'_>, fv: u8) -> Result<Execute, TtcError> {
    let options = r.ub4("execute options")?;
    let cursor_id = r.ub4("execute cursor id")?;
    let sql_ptr = r.u8("SQL pointer")?;
    r.ub4("SQL length")?;
    r.u8("al8i4 pointer")?;
    let al8i4_len = r.ub4("al8i4 length")?;
    r.u8("al8o4 pointer")?;
    r.u8("al8o4l pointer")?;
    r.ub4("prefetch buffer size")?;
    let prefetch_rows = r.ub4("prefetch row count")?;
    r.ub4("max LONG size")?;
    let binds_ptr = r.u8("binds pointer")?;
    let bind_count = r.ub4("bind count")?;
    for _ in 0..5 {
        r.u8("al8app/al8txn/al8txl/al8kv/al8kvl pointer")?;
    }
    let defines_ptr = r.u8("defines pointer")?;
    let define_count = r.ub4("define count")?;
    r.ub4("registration id (low)")?;
    r.u8("al8objlist pointer")?;
    r.u8("al8objlen pointer")?;
    r.u8("al8blv pointer")?;
    r.ub4("al8blvl")?;
    r.u8("al8dnam pointer")?;
    r.ub4("al8dnaml")?;
    r.ub4("registration id (high)")?;
    r.u8("DML rowcounts pointer")?;
    r.ub4("DML rowcounts count")?;
    r.u8("DML rowcounts pointer")?;
    if fv >= 8 {
        r.u8("SQL signature pointer")?;
        r.ub4("SQL signature length")?;
        r.u8("SQL id pointer")?;
        r.ub4("SQL id size")?;
        r.u8("SQL id length pointer")?;
    }
    if fv >= 9 {
        r.u8("chunk ids pointer")?;
        r.ub4("chunk ids count")?;
    }
    let sql = if sql_ptr != 0 {
        Some(r.dalc("SQL text")?.unwrap_or_default())
    } else {
        None
    };
    let al8i4 = (0..al8i4_len)
        .map(|_| r.ub4("al8i4 value"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ex = Execute {
        options,
        cursor_id,
        sql,
        prefetch_rows,
        al8i4,
        binds: Vec::new(),
        defines: Vec::new(),
        bind_rows: Vec::new(),
    };
    if defines_ptr != 0 && define_count > 0 {
        ex.defines = (0..define_count)
            .map(|_| parse_oac(r, fv))
            .collect::<Result<Vec<_>, _>>()?;
    } else if binds_ptr != 0 && bind_count > 0 {
        ex.binds = (0..bind_count)
            .map(|_| parse_oac(r, fv))
            .collect::<Result<Vec<_>, _>>()?;
        let rows = if ex.is_query() { 1 } else { ex.num_execs() };
        ex.bind_rows = parse_bind_rows(r, ex.binds.len(), rows)?;
    }
    Ok(ex)
}

fn parse_call(r: &mut Reader<'_>, code: u8, ctx: &DecodeContext) -> Result<Call, TtcError> {
    let fv = ctx.field_version;
    match code {
        function::AUTH_PHASE_ONE => Ok(Call::AuthPhaseOne(parse_auth(r)?)),
        function::AUTH_PHASE_TWO => Ok(Call::AuthPhaseTwo(parse_auth(r)?)),
        function::EXECUTE => Ok(Call::Execute(parse_execute(r, fv)?)),
        function::REEXECUTE | function::REEXECUTE_AND_FETCH => {
            let cursor_id = r.ub4("reexecute cursor id")?;
            let rows = r.ub4("reexecute row count")?;
            let options1 = r.ub4("reexecute options 1")?;
            let options2 = r.ub4("reexecute options 2")?;
            let (nbinds, is_query) = ctx
                .cursor_binds
                .get(&cursor_id)
                .copied()
                .unwrap_or((0, true));
            let nrows = if is_query { 1 } else { rows };
            let bind_rows = parse_bind_rows(r, nbinds, nrows)?;
            Ok(Call::Reexecute {
                fetch: code == function::REEXECUTE_AND_FETCH,
                cursor_id,
                rows,
                options1,
                options2,
                bind_rows,
            })
        }
        function::FETCH => Ok(Call::Fetch {
            cursor_id: r.ub4("fetch cursor id")?,
            rows: r.ub4("fetch row count")?,
        }),
        function::PING => Ok(Call::Ping),
        function::COMMIT => Ok(Call::Commit),
        function::ROLLBACK => Ok(Call::Rollback),
        function::LOGOFF => Ok(Call::Logoff),
        other => Err(TtcError::invalid(
            "function code",
            format!("unsupported TTC function {other}"),
        )),
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

/// Writes an EXECUTE (94) without binds or defines, as python-oracledb does at fv 12.
pub fn write_execute(w: &mut Writer, seq: u8, fv: u8, ex: &Execute) {
    write_function_header(w, function::EXECUTE, seq, fv);
    let sql = ex.sql.as_deref().unwrap_or_default();
    w.ub4(ex.options).ub4(ex.cursor_id);
    w.u8(u8::from(ex.sql.is_some()))
        .ub4(u32::try_from(sql.len()).unwrap_or(0));
    w.u8(1).ub4(u32::try_from(ex.al8i4.len()).unwrap_or(0));
    w.u8(0).u8(0).ub4(0).ub4(ex.prefetch_rows).ub4(0x7FFF_FFFF);
    w.u8(0).ub4(0); // binds
    w.u8(0).u8(0).u8(0).u8(0).u8(0);
    w.u8(0).ub4(0); // defines
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
