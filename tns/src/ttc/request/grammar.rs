//! The grammar of client requests, written once as straight-line `async` code over
//! [`Input`]: each `.await` is a point where decoding may stop for lack of bytes and resume
//! later without re-reading what came before (see [`super::decoder`]). Every read is one
//! field, or a group of fields of bounded size; every loop reads at least one byte per turn,
//! so the work is bounded by the bytes received. Counts announced by the client are never
//! used to reserve memory.

use super::decoder::Input;
use super::{
    Auth, BIND_ARRAY, BindMetadata, BindRow, BindValue, Call, EndToEnd, Execute, KeyValueSet,
    LobOp, Piggyback, Request,
};
use crate::ttc::buf::{DALC_LONG, KeyValue, Reader, TtcError};
use crate::ttc::message::{
    DataTypeEntry, DataTypesRequest, ProtocolRequest, RCAP_TZ, RCAP_TZ_EX, TIME_ZONE_LEN, function,
    msg_type,
};

type Result<T> = std::result::Result<T, TtcError>;

impl Input {
    async fn u8(&self, reading: &'static str) -> Result<u8> {
        self.read(|r| r.u8(reading)).await
    }

    async fn u16le(&self, reading: &'static str) -> Result<u16> {
        self.read(|r| r.u16le(reading)).await
    }

    async fn u16be(&self, reading: &'static str) -> Result<u16> {
        self.read(|r| r.u16be(reading)).await
    }

    async fn ub2(&self, reading: &'static str) -> Result<u16> {
        self.read(|r| r.ub2(reading)).await
    }

    async fn ub4(&self, reading: &'static str) -> Result<u32> {
        self.read(|r| r.ub4(reading)).await
    }

    async fn ub8(&self, reading: &'static str) -> Result<u64> {
        self.read(|r| r.ub8(reading)).await
    }

    async fn take(&self, n: usize, reading: &'static str) -> Result<Vec<u8>> {
        self.read(|r| r.take(n, reading).map(<[u8]>::to_vec)).await
    }

    /// A DALC: the short form (≤ 253 bytes) in one read, the long form one chunk per read,
    /// so a value of many chunks is never read twice.
    async fn dalc(&self, reading: &'static str) -> Result<Option<Vec<u8>>> {
        if self.read(|r| r.peek_u8(reading)).await? != DALC_LONG {
            return self.read(|r| r.dalc(reading)).await;
        }
        self.u8(reading).await?;
        let mut out = Vec::new();
        loop {
            let n = self.ub4(reading).await?;
            if n == 0 {
                return Ok(Some(out));
            }
            let n = usize::try_from(n).map_err(|_| TtcError::invalid(reading, "chunk length"))?;
            self.read(|r| {
                out.extend_from_slice(r.take(n, reading)?);
                Ok(())
            })
            .await?;
        }
    }

    /// A NUL-terminated string, one byte per read (a driver name: a few bytes).
    async fn cstr(&self, reading: &'static str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            match self.u8(reading).await? {
                0 => return Ok(out),
                b => out.push(b),
            }
        }
    }

    /// A "length with bytes": `ub4` length, then a DALC when non-zero.
    async fn lwb(&self, reading: &'static str) -> Result<Option<Vec<u8>>> {
        if self.ub4(reading).await? == 0 {
            return Ok(None);
        }
        self.dalc(reading).await
    }

    /// A key/value pair: LWB key, LWB value, ub4 flags.
    async fn key_value(&self) -> Result<KeyValue> {
        let key = self.lwb("key/value key").await?.unwrap_or_default();
        let value = self.lwb("key/value value").await?.unwrap_or_default();
        let flags = self.ub4("key/value flags").await?;
        Ok(KeyValue {
            key: lossy(key),
            value,
            flags,
        })
    }
}

fn lossy(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

/// One request, from its message type to its last byte.
pub(super) async fn request(i: Input) -> Result<Request> {
    let t = i.u8("message type").await?;
    match t {
        msg_type::PROTOCOL => Ok(Request::Protocol(protocol(&i).await?)),
        msg_type::DATA_TYPES => Ok(Request::DataTypes(data_types(&i).await?)),
        msg_type::ONEWAY_FN => oneway(&i).await,
        msg_type::FUNCTION | msg_type::PIGGYBACK => call_chain(&i, t).await,
        other => Err(TtcError::invalid(
            "message type",
            format!("unexpected client message type {other}"),
        )),
    }
}

async fn protocol(i: &Input) -> Result<ProtocolRequest> {
    let version = i.u8("protocol version").await?;
    i.u8("protocol array terminator").await?;
    let driver = i.cstr("driver name").await?;
    Ok(ProtocolRequest { version, driver })
}

async fn data_types(i: &Input) -> Result<DataTypesRequest> {
    let charset = i.u16le("client charset").await?;
    let ncharset = i.u16le("client ncharset").await?;
    let flags = i.u8("data types flags").await?;
    let compile_caps = i.dalc("client compile caps").await?.unwrap_or_default();
    let runtime_caps = i.dalc("client runtime caps").await?.unwrap_or_default();
    let client_time_zone = if runtime_caps
        .get(RCAP_TZ)
        .is_some_and(|b| b & RCAP_TZ_EX != 0)
    {
        let b = i.take(TIME_ZONE_LEN, "client time zone").await?;
        let mut tz = [0u8; TIME_ZONE_LEN];
        tz.copy_from_slice(&b);
        Some(tz)
    } else {
        None
    };
    let mut types = Vec::new();
    loop {
        let (run, ended) = i.read_run(usize::MAX, |r| {
            let data_type = r.u16be("data type")?;
            if data_type == 0 {
                return Ok(None);
            }
            data_type_rest(r, data_type).map(Some)
        })?;
        types.extend(run);
        if ended {
            break;
        }
        // An entry still arriving.
        let data_type = i.u16be("data type").await?;
        if data_type == 0 {
            break;
        }
        types.push(i.read(|r| data_type_rest(r, data_type)).await?);
    }
    Ok(DataTypesRequest {
        charset,
        ncharset,
        flags,
        compile_caps,
        runtime_caps,
        client_time_zone,
        types,
    })
}

/// A DATA_TYPES entry after its data type: conversion type, representation, padding.
fn data_type_rest(r: &mut Reader<'_>, data_type: u16) -> Result<DataTypeEntry> {
    let conv_type = r.u16be("conversion type")?;
    let representation = r.u16be("representation")?;
    r.u16be("data type padding")?;
    Ok(DataTypeEntry {
        data_type,
        conv_type,
        representation,
    })
}

/// True for the calls a client may send before it is logged on.
fn allowed_before_login(message_type: u8, code: u8) -> bool {
    message_type == msg_type::FUNCTION
        && matches!(code, function::AUTH_PHASE_ONE | function::AUTH_PHASE_TWO)
}

/// `code seq [token]` after a FUNCTION, PIGGYBACK or ONEWAY_FN type byte; refuses a call
/// that may not come before login as soon as its code is read.
async fn function_header(i: &Input, message_type: u8) -> Result<(u8, u8)> {
    let code = i.u8("function code").await?;
    if !i.logged_on() && !allowed_before_login(message_type, code) {
        return Err(TtcError::NotLoggedOn {
            message_type,
            function: code,
        });
    }
    let seq = i.u8("sequence number").await?;
    if i.field_version() >= 18 {
        i.ub8("token number").await?;
    }
    Ok((code, seq))
}

async fn oneway(i: &Input) -> Result<Request> {
    oneway_after(i, Vec::new()).await
}

/// A ONEWAY_FN call (after its type byte) with the piggybacks that came before it (a
/// client that closes cursors or sets attributes as it releases its DRCP session).
async fn oneway_after(i: &Input, piggybacks: Vec<Piggyback>) -> Result<Request> {
    let (code, seq) = function_header(i, msg_type::ONEWAY_FN).await?;
    if code != function::SESSION_RELEASE {
        return Err(TtcError::invalid(
            "one-way function code",
            format!("unsupported one-way TTC function {code}"),
        ));
    }
    i.u8("release tag pointer").await?;
    let tag_len = i.u8("release tag length").await?;
    i.take(usize::from(tag_len), "release tag").await?;
    let mode = i.ub4("release mode").await?;
    Ok(Request::Call {
        piggybacks,
        seq,
        call: Call::SessionRelease { mode },
    })
}

/// Piggybacks, each introduced by its PIGGYBACK type byte, then the FUNCTION (or ONEWAY_FN)
/// call.
async fn call_chain(i: &Input, first: u8) -> Result<Request> {
    let mut piggybacks = Vec::new();
    let mut t = first;
    loop {
        let (code, seq) = function_header(i, t).await?;
        if t == msg_type::FUNCTION {
            let call = call(i, code).await?;
            return Ok(Request::Call {
                piggybacks,
                seq,
                call,
            });
        }
        piggybacks.push(piggyback(i, code).await?);
        t = i.u8("message type after piggyback").await?;
        if t == msg_type::ONEWAY_FN {
            return oneway_after(i, piggybacks).await;
        }
        if t != msg_type::FUNCTION && t != msg_type::PIGGYBACK {
            return Err(TtcError::invalid(
                "message type after piggyback",
                format!("{t}"),
            ));
        }
    }
}

async fn piggyback(i: &Input, code: u8) -> Result<Piggyback> {
    match code {
        function::CLOSE_CURSORS => {
            i.u8("close cursors pointer").await?;
            let n = i.ub4("close cursors count").await?;
            let mut ids = Vec::new();
            for _ in 0..n {
                ids.push(i.ub4("cursor id to close").await?);
            }
            Ok(Piggyback::CloseCursors(ids))
        }
        function::SET_END_TO_END_ATTR => end_to_end(i).await.map(Piggyback::EndToEnd),
        function::SET_SCHEMA => {
            i.u8("schema pointer").await?;
            let len = i.ub4("schema length").await?;
            let b = if len > 0 {
                i.dalc("schema name").await?.unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok(Piggyback::SetSchema(lossy(b)))
        }
        function::SET_KEY_VALUE => {
            i.u8("key/value namespace pointer").await?;
            i.ub4("key/value namespace length").await?;
            i.u8("key/value pairs pointer").await?;
            let n = i.ub4("key/value pair count").await?;
            let flags = i.ub2("key/value flags").await?;
            i.u8("key/value unused pointer").await?;
            let namespace = lossy(i.dalc("key/value namespace").await?.unwrap_or_default());
            let mut entries = Vec::new();
            for _ in 0..n {
                let kv = i.key_value().await?;
                entries.push((kv.key.clone(), kv.value_str()));
            }
            Ok(Piggyback::KeyValues(KeyValueSet {
                namespace,
                flags,
                entries,
            }))
        }
        function::SESSION_STATE => Ok(Piggyback::SessionState(i.ub8("session state").await?)),
        function::PIPELINE_BEGIN => {
            i.ub2("pipeline error set id").await?;
            i.u8("pipeline error set mode").await?;
            Ok(Piggyback::PipelineBegin(i.u8("pipeline mode").await?))
        }
        function::LOB_OP => Ok(Piggyback::FreeTemporaryLobs(lob_op(i).await?)),
        other => Err(TtcError::invalid(
            "piggyback",
            format!("unsupported piggyback function {other}"),
        )),
    }
}

async fn end_to_end(i: &Input) -> Result<EndToEnd> {
    /// (pointer set, length) of one attribute.
    async fn head(i: &Input) -> Result<(bool, u32)> {
        let ptr = i.u8("end-to-end attribute pointer").await?;
        let len = i.ub4("end-to-end attribute length").await?;
        Ok((ptr != 0, len))
    }
    async fn value(i: &Input, (set, len): (bool, u32)) -> Result<Option<Option<String>>> {
        if !set {
            return Ok(None);
        }
        if len == 0 {
            return Ok(Some(None));
        }
        let b = i.dalc("end-to-end attribute").await?.unwrap_or_default();
        Ok(Some(Some(lossy(b))))
    }
    i.u8("end-to-end cidnam pointer").await?;
    i.u8("end-to-end cidser pointer").await?;
    i.ub4("end-to-end flags").await?;
    let ci = head(i).await?;
    let module = head(i).await?;
    let action = head(i).await?;
    i.u8("end-to-end cideci pointer").await?;
    i.ub4("end-to-end cideci length").await?;
    i.u8("end-to-end cidcct").await?;
    i.ub4("end-to-end cidecs").await?;
    let info = head(i).await?;
    for _ in 0..2 {
        i.u8("end-to-end cidkstk/cidktgt pointer").await?;
        i.ub4("end-to-end cidkstk/cidktgt length").await?;
    }
    let dbop = head(i).await?;
    Ok(EndToEnd {
        client_identifier: value(i, ci).await?,
        module: value(i, module).await?,
        action: value(i, action).await?,
        client_info: value(i, info).await?,
        dbop: value(i, dbop).await?,
    })
}

async fn call(i: &Input, code: u8) -> Result<Call> {
    match code {
        function::AUTH_PHASE_ONE => Ok(Call::AuthPhaseOne(auth(i).await?)),
        function::AUTH_PHASE_TWO => Ok(Call::AuthPhaseTwo(auth(i).await?)),
        function::EXECUTE => Ok(Call::Execute(execute(i).await?)),
        function::REEXECUTE | function::REEXECUTE_AND_FETCH => {
            let cursor_id = i.ub4("reexecute cursor id").await?;
            let rows = i.ub4("reexecute row count").await?;
            let options1 = i.ub4("reexecute options 1").await?;
            let options2 = i.ub4("reexecute options 2").await?;
            let (binds, is_query) = i.cursor_binds(cursor_id).await;
            let nrows = if is_query { 1 } else { rows };
            let bind_rows = bind_rows(i, &binds, nrows).await?;
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
            cursor_id: i.ub4("fetch cursor id").await?,
            rows: i.ub4("fetch row count").await?,
        }),
        function::LOB_OP => Ok(Call::LobOp(lob_op(i).await?)),
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

/// A LOB operation: the call and the piggyback that frees temporary LOBs share the layout
/// (the piggyback writes its zero fields as `u8 + ub4` where the call writes `u16be`, the
/// same zero bytes).
async fn lob_op(i: &Input) -> Result<LobOp> {
    let source_ptr = i.u8("LOB source pointer").await?;
    let source_len = i.ub4("LOB source length").await?;
    i.u8("LOB destination pointer").await?;
    i.ub4("LOB destination length").await?;
    i.ub4("LOB short source offset").await?;
    i.ub4("LOB short destination offset").await?;
    let charset_ptr = i.u8("LOB charset pointer").await?;
    i.u8("LOB short amount pointer").await?;
    i.u8("LOB NULL pointer").await?;
    let operation = i.ub4("LOB operation").await?;
    i.u8("LOB SCN pointer").await?;
    i.ub4("LOB SCN length").await?;
    let source_offset = i.ub8("LOB source offset").await?;
    let dest_offset = i.ub8("LOB destination offset").await?;
    let amount_ptr = i.u8("LOB amount pointer").await?;
    for _ in 0..3 {
        i.u8("LOB array pointer").await?;
        i.ub4("LOB array length").await?;
    }
    let locator = if source_ptr != 0 {
        let n =
            usize::try_from(source_len).map_err(|_| TtcError::invalid("LOB locator", "length"))?;
        i.take(n, "LOB locator").await?
    } else {
        Vec::new()
    };
    let charset = if charset_ptr != 0 {
        Some(i.ub4("LOB charset").await?)
    } else {
        None
    };
    let data = if operation == crate::ttc::lob::op::WRITE {
        let t = i.u8("LOB data message type").await?;
        if t != msg_type::LOB_DATA {
            return Err(TtcError::invalid("LOB data message type", format!("{t}")));
        }
        Some(i.dalc("LOB data").await?.unwrap_or_default())
    } else {
        None
    };
    let amount = if amount_ptr != 0 {
        Some(i.ub8("LOB amount").await?)
    } else {
        None
    };
    Ok(LobOp {
        operation,
        locator,
        charset,
        source_offset,
        dest_offset,
        data,
        amount,
    })
}

async fn auth(i: &Input) -> Result<Auth> {
    let user_ptr = i.u8("auth user pointer").await?;
    let user_len = i.ub4("auth user length").await?;
    let mode = i.ub4("auth mode").await?;
    i.u8("auth pairs pointer").await?;
    let n = i.ub4("auth pair count").await?;
    i.u8("auth pointer").await?;
    i.u8("auth pointer").await?;
    let user = if user_ptr != 0 && user_len > 0 {
        lossy(i.dalc("auth user name").await?.unwrap_or_default())
    } else {
        String::new()
    };
    let mut pairs = Vec::new();
    while pairs.len() < n as usize {
        let (run, _) = i.read_run(n as usize - pairs.len(), |r| r.key_value().map(Some))?;
        if run.is_empty() {
            // A pair still arriving.
            pairs.push(i.key_value().await?);
        }
        pairs.extend(run);
    }
    Ok(Auth { user, mode, pairs })
}

/// Bind or define metadata (OAC).
async fn oac(i: &Input) -> Result<BindMetadata> {
    let ora_type = i.u8("bind type").await?;
    let flags = i.u8("bind flags").await?;
    i.u8("bind precision").await?;
    i.u8("bind scale").await?;
    let buffer_size = i.ub4("bind buffer size").await?;
    let max_array_elements = i.ub4("bind max array elements").await?;
    i.ub8("bind cont flags").await?;
    if i.ub4("bind OID length").await? > 0 {
        i.dalc("bind OID").await?;
    }
    i.ub2("bind type version").await?;
    let charset_id = i.ub2("bind charset").await?;
    let charset_form = i.u8("bind charset form").await?;
    i.ub4("bind LOB prefetch length").await?;
    if i.field_version() >= 8 {
        i.ub4("bind oaccolid").await?;
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

/// `nrows` (at least one) rows of values for `binds` (the binds that carry a value), each
/// row introduced by ROW_DATA; none at all when no bind carries a value.
async fn bind_rows(i: &Input, binds: &[BindMetadata], nrows: u32) -> Result<Vec<BindRow>> {
    let mut rows = Vec::new();
    if binds.is_empty() {
        return Ok(rows);
    }
    for _ in 0..nrows.max(1) {
        let t = i.u8("bind row message type").await?;
        if t != msg_type::ROW_DATA {
            return Err(TtcError::invalid(
                "bind row message type",
                format!("{t}, expected 7"),
            ));
        }
        let mut row = Vec::new();
        for b in binds {
            if b.flags & BIND_ARRAY != 0 {
                let n = i.ub4("bind array element count").await?;
                let mut elements = Vec::new();
                for _ in 0..n {
                    elements.push(bind_value(i, b.ora_type).await?);
                }
                row.push(BindValue::Array(elements));
            } else {
                row.push(bind_value(i, b.ora_type).await?);
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// One bind value, in the shape its type travels in (python-oracledb's and node-oracledb's
/// `_write_bind_params_column`).
async fn bind_value(i: &Input, ora_type: u8) -> Result<BindValue> {
    const CURSOR: u8 = 102;
    const OBJECT: u8 = 109;
    const CLOB: u8 = 112;
    const BLOB: u8 = 113;
    const BFILE: u8 = 114;
    const JSON: u8 = 119;
    const VECTOR: u8 = 127;
    const BOOLEAN: u8 = 252;
    /// A NULL BOOLEAN: escape byte, then 1.
    const ESCAPE: u8 = 253;
    Ok(match ora_type {
        CURSOR => match i.ub4("REF CURSOR bind pointer").await? {
            0 => BindValue::Cursor(0),
            _ => BindValue::Cursor(i.ub4("REF CURSOR bind cursor id").await?),
        },
        CLOB | BLOB | BFILE => match i.lwb("LOB locator").await? {
            Some(l) => BindValue::Locator(l),
            None => BindValue::Null,
        },
        JSON | VECTOR => match i.lwb("JSON/VECTOR locator").await? {
            Some(mut l) => {
                l.extend(i.dalc("JSON/VECTOR data").await?.unwrap_or_default());
                BindValue::Locator(l)
            }
            None => BindValue::Null,
        },
        BOOLEAN if i.read(|r| r.peek_u8("BOOLEAN bind")).await? == ESCAPE => {
            i.u8("BOOLEAN NULL escape").await?;
            i.u8("BOOLEAN NULL marker").await?;
            BindValue::Null
        }
        OBJECT => {
            // A NULL object: TOID, OID, snapshot, version, length, flags. A non-NULL one is
            // a pickled image this server has no types for.
            let toid = i.ub4("object TOID length").await?;
            if toid != 0 {
                return Err(TtcError::invalid(
                    "object bind",
                    "object values are not supported",
                ));
            }
            i.ub4("object OID length").await?;
            i.ub4("object snapshot length").await?;
            i.ub2("object version").await?;
            i.ub4("object data length").await?;
            i.ub4("object flags").await?;
            BindValue::Null
        }
        _ => match i.dalc("bind value").await? {
            Some(b) if !b.is_empty() => BindValue::Bytes(b),
            _ => BindValue::Null,
        },
    })
}

async fn execute(i: &Input) -> Result<Execute> {
    let fv = i.field_version();
    let options = i.ub4("execute options").await?;
    let cursor_id = i.ub4("execute cursor id").await?;
    let sql_ptr = i.u8("SQL pointer").await?;
    i.ub4("SQL length").await?;
    i.u8("al8i4 pointer").await?;
    let al8i4_len = i.ub4("al8i4 length").await?;
    i.u8("al8o4 pointer").await?;
    i.u8("al8o4l pointer").await?;
    i.ub4("prefetch buffer size").await?;
    let prefetch_rows = i.ub4("prefetch row count").await?;
    i.ub4("max LONG size").await?;
    let binds_ptr = i.u8("binds pointer").await?;
    let bind_count = i.ub4("bind count").await?;
    for _ in 0..5 {
        i.u8("al8app/al8txn/al8txl/al8kv/al8kvl pointer").await?;
    }
    let defines_ptr = i.u8("defines pointer").await?;
    let define_count = i.ub4("define count").await?;
    i.ub4("registration id (low)").await?;
    i.u8("al8objlist pointer").await?;
    i.u8("al8objlen pointer").await?;
    i.u8("al8blv pointer").await?;
    i.ub4("al8blvl").await?;
    i.u8("al8dnam pointer").await?;
    i.ub4("al8dnaml").await?;
    i.ub4("registration id (high)").await?;
    i.u8("DML rowcounts pointer").await?;
    i.ub4("DML rowcounts count").await?;
    i.u8("DML rowcounts pointer").await?;
    if fv >= 8 {
        i.u8("SQL signature pointer").await?;
        i.ub4("SQL signature length").await?;
        i.u8("SQL id pointer").await?;
        i.ub4("SQL id size").await?;
        i.u8("SQL id length pointer").await?;
    }
    if fv >= 9 {
        i.u8("chunk ids pointer").await?;
        i.ub4("chunk ids count").await?;
    }
    let sql = if sql_ptr != 0 {
        Some(i.dalc("SQL text").await?.unwrap_or_default())
    } else {
        None
    };
    let mut al8i4 = Vec::new();
    for _ in 0..al8i4_len {
        al8i4.push(i.ub4("al8i4 value").await?);
    }
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
        for _ in 0..define_count {
            ex.defines.push(oac(i).await?);
        }
    } else if binds_ptr != 0 && bind_count > 0 {
        for _ in 0..bind_count {
            ex.binds.push(oac(i).await?);
        }
        let returning = match ex.sql.as_deref() {
            Some(sql) => i.returning_binds(sql),
            // A re-execution without the text: the cursor's binds with a value are known.
            None => {
                let (known, _) = i.cursor_binds(cursor_id).await;
                if known.is_empty() {
                    0
                } else {
                    ex.binds.len().saturating_sub(known.len())
                }
            }
        };
        let with_value = &ex.binds[..ex.binds.len().saturating_sub(returning)];
        let rows = if ex.is_query() { 1 } else { ex.num_execs() };
        ex.bind_rows = bind_rows(i, with_value, rows).await?;
    }
    Ok(ex)
}
