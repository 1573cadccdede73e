//! The one decoder of server responses (client side): a call's response is a sequence of
//! messages ending with an end-of-call ERROR or a STATUS. [`ResponseDecoder`] decodes them
//! one at a time and keeps what the next message depends on — the columns of the last
//! DESCRIBE_INFO, the previous row and a pending BIT_VECTOR (a real server leaves out the
//! columns that repeat the previous row). Besides the messages this server sends it reads
//! what a real Oracle server may add: the execute-time PARAMETER block, BIT_VECTOR, WARNING
//! and END_OF_RESPONSE; after an IO_VECTOR the next ROW_DATA holds the OUT values of a PL/SQL
//! execute's binds. The client library and the engine's tests both use it, so what the
//! server encodes is checked by the decoder the client really runs.

use super::buf::{KeyValue, Reader, TtcError};
use super::message::{
    BIND_DIR_INPUT, ColumnMetadata, ErrorInfo, RawValue, decode_describe_info,
    decode_parameter_pairs, msg_type, server_piggyback, skip_row_header,
};
use super::request::{BIND_ARRAY, BindMetadata};
use super::types::ora_type;

/// One message of a call's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseMessage {
    /// PARAMETER key/value pairs (the AUTH phases).
    Parameters(Vec<KeyValue>),
    /// DESCRIBE_INFO: the columns of the rows that follow.
    Describe(Vec<ColumnMetadata>),
    /// One row, the columns a BIT_VECTOR left out restored from the previous row.
    Row(Vec<RawValue>),
    /// BIT_VECTOR: which columns the next row carries (kept by the decoder too).
    BitVector(Vec<u8>),
    /// IO_VECTOR of a PL/SQL execute: each bind's direction (`BIND_DIR_*`), in bind order.
    IoVector(Vec<u8>),
    /// The ROW_DATA after an IO_VECTOR: the values of the OUT and IN OUT binds, in bind
    /// order, one value for a scalar bind and the elements of a PL/SQL array bind.
    OutBinds(Vec<Vec<RawValue>>),
    /// A message with nothing for the caller (ROW_HEADER, the execute PARAMETER block,
    /// WARNING, END_OF_RESPONSE); its message type.
    Skipped(u8),
    /// End-of-call ERROR (also the success status of most calls): ends the response.
    Error(ErrorInfo),
    /// STATUS: ends the response.
    Status {
        /// Call status (`0x02` = transaction in progress).
        call_status: u32,
    },
    /// SESS_RET: a DRCP client's first reply after its session release.
    SessionReturned {
        /// The session is another than the client had: its cursor ids mean nothing there.
        changed: bool,
    },
}

impl ResponseMessage {
    /// True for the messages that end a response.
    pub fn ends_response(&self) -> bool {
        matches!(
            self,
            ResponseMessage::Error(_) | ResponseMessage::Status { .. }
        )
    }
}

/// What kind of call the response answers: it decides the shape of PARAMETER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// AUTH phases: PARAMETER carries key/value pairs.
    Auth,
    /// Any other call: PARAMETER is the execute return-parameter block.
    Call,
}

/// Decodes the messages of one response, in order.
#[derive(Debug, Clone)]
pub struct ResponseDecoder {
    field_version: u8,
    kind: ResponseKind,
    columns: Vec<ColumnMetadata>,
    prev_row: Option<Vec<RawValue>>,
    bit_vector: Option<Vec<u8>>,
    /// The binds of the execute (their array flags shape the OUT values).
    binds: Vec<BindMetadata>,
    /// The directions of the last IO_VECTOR: the next ROW_DATA holds OUT values.
    io_vector: Option<Vec<u8>>,
}

impl ResponseDecoder {
    /// A decoder for the response to a call of `kind`, at the negotiated field version.
    /// `columns` are those of the cursor when the response has rows but no DESCRIBE_INFO
    /// (a FETCH or re-execute of a known query).
    pub fn new(field_version: u8, kind: ResponseKind, columns: Vec<ColumnMetadata>) -> Self {
        ResponseDecoder {
            field_version,
            kind,
            columns,
            prev_row: None,
            bit_vector: None,
            binds: Vec::new(),
            io_vector: None,
        }
    }

    /// The same decoder for the response to an execute with these binds.
    pub fn with_binds(mut self, binds: Vec<BindMetadata>) -> Self {
        self.binds = binds;
        self
    }

    /// The columns rows are decoded with (the last DESCRIBE_INFO's, else those given).
    pub fn columns(&self) -> &[ColumnMetadata] {
        &self.columns
    }

    /// Decodes the next message from `r`. On [`TtcError::NeedMore`] the decoder is unchanged
    /// (its state moves only when a message is complete), so the caller may try again from
    /// the same position with more bytes.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> Result<ResponseMessage, TtcError> {
        let fv = self.field_version;
        let t = r.u8("response message type")?;
        let msg = match t {
            msg_type::PARAMETER => match self.kind {
                ResponseKind::Auth => ResponseMessage::Parameters(decode_parameter_pairs(r)?),
                ResponseKind::Call => {
                    skip_return_parameters(r)?;
                    ResponseMessage::Skipped(t)
                }
            },
            msg_type::DESCRIBE_INFO => ResponseMessage::Describe(decode_describe_info(r, fv)?),
            msg_type::ROW_HEADER => {
                skip_row_header(r)?;
                ResponseMessage::Skipped(t)
            }
            msg_type::IO_VECTOR => ResponseMessage::IoVector(self.io_vector(r)?),
            msg_type::ROW_DATA if self.io_vector.is_some() => {
                ResponseMessage::OutBinds(self.out_binds(r)?)
            }
            msg_type::ROW_DATA => ResponseMessage::Row(self.row(r)?),
            msg_type::BIT_VECTOR => {
                r.ub2("bit vector column count")?;
                let n = self.columns.len().div_ceil(8);
                ResponseMessage::BitVector(r.take(n, "bit vector")?.to_vec())
            }
            msg_type::WARNING => {
                r.ub2("warning number")?;
                let len = r.ub2("warning length")?;
                r.ub2("warning flags")?;
                r.take(usize::from(len), "warning text")?;
                ResponseMessage::Skipped(t)
            }
            msg_type::END_OF_RESPONSE => ResponseMessage::Skipped(t),
            msg_type::ERROR => ResponseMessage::Error(ErrorInfo::decode(r, fv)?),
            msg_type::STATUS => {
                let call_status = r.ub4("call status")?;
                r.ub2("end-to-end sequence")?;
                ResponseMessage::Status { call_status }
            }
            msg_type::SERVER_SIDE_PIGGYBACK => decode_server_piggyback(r)?,
            other => {
                return Err(TtcError::invalid(
                    "response message type",
                    format!("unsupported message type {other}"),
                ));
            }
        };
        match &msg {
            ResponseMessage::Describe(c) => {
                self.columns = c.clone();
                self.prev_row = None;
            }
            ResponseMessage::BitVector(b) => self.bit_vector = Some(b.clone()),
            ResponseMessage::IoVector(d) => self.io_vector = Some(d.clone()),
            ResponseMessage::OutBinds(_) => self.io_vector = None,
            ResponseMessage::Row(row) => {
                self.bit_vector = None;
                self.prev_row = Some(row.clone());
            }
            _ => {}
        }
        Ok(msg)
    }

    /// IO_VECTOR after its type byte (python-oracledb's `_process_io_vector`): flag, request
    /// count, iterations, this time's iterations, UAC length, a fast-fetch bit vector and a
    /// ROWID (both skipped), then one direction byte per bind (per request when the decoder
    /// was given no binds).
    fn io_vector(&self, r: &mut Reader<'_>) -> Result<Vec<u8>, TtcError> {
        r.u8("io vector flag")?;
        let requests = r.ub2("io vector request count")?;
        r.ub4("io vector iterations")?;
        r.ub4("io vector iterations this time")?;
        r.ub2("io vector uac buffer length")?;
        let n = r.ub2("io vector bit vector length")?;
        r.take(usize::from(n), "io vector bit vector")?;
        let n = r.ub2("io vector rowid length")?;
        r.take(usize::from(n), "io vector rowid")?;
        let count = if self.binds.is_empty() {
            usize::from(requests)
        } else {
            self.binds.len()
        };
        (0..count).map(|_| r.u8("bind direction")).collect()
    }

    /// The OUT values after an IO_VECTOR: for each bind that is not IN only, a DALC and the
    /// bytes the value lost to the bind's buffer, or for an array bind a count and as many.
    fn out_binds(&self, r: &mut Reader<'_>) -> Result<Vec<Vec<RawValue>>, TtcError> {
        let directions = self.io_vector.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        for (i, d) in directions.iter().enumerate() {
            if *d == BIND_DIR_INPUT {
                continue;
            }
            let array = self.binds.get(i).is_some_and(|b| b.flags & BIND_ARRAY != 0);
            let n = if array {
                r.ub4("out bind array element count")?
            } else {
                1
            };
            let mut values = Vec::new();
            for _ in 0..n {
                values.push(r.dalc("out bind value")?.filter(|b| !b.is_empty()));
                r.sb4("out bind actual length")?;
            }
            out.push(values);
        }
        Ok(out)
    }

    /// ROW_DATA after its type byte: one DALC per column the bit vector says is sent (all
    /// when there is none); a column whose describe buffer size is 0 has no bytes.
    fn row(&self, r: &mut Reader<'_>) -> Result<Vec<RawValue>, TtcError> {
        let mut row = Vec::with_capacity(self.columns.len());
        for (i, c) in self.columns.iter().enumerate() {
            let sent = self
                .bit_vector
                .as_deref()
                .is_none_or(|bv| bv.get(i / 8).is_some_and(|byte| byte & (1 << (i % 8)) != 0));
            if !sent {
                row.push(
                    self.prev_row
                        .as_ref()
                        .and_then(|p| p.get(i).cloned())
                        .flatten(),
                );
            } else if c.buffer_size == 0 {
                row.push(None);
            } else {
                row.push(r.dalc("column value")?.filter(|b| !b.is_empty()));
                // A LONG / LONG RAW value (a LOB defined as one) is followed by its
                // indicator and return code.
                if matches!(c.ora_type, ora_type::LONG | ora_type::LONG_RAW) {
                    r.sb4("LONG indicator")?;
                    r.ub4("LONG return code")?;
                }
            }
        }
        Ok(row)
    }
}

/// The execute-time PARAMETER (return parameters) block: al8o4 values, transaction
/// context, key/value pairs, registration info.
fn skip_return_parameters(r: &mut Reader<'_>) -> Result<(), TtcError> {
    let n = r.ub2("return parameter count")?;
    for _ in 0..n {
        r.ub4("return parameter")?;
    }
    let len = r.ub2("transaction context length")?;
    r.take(usize::from(len), "transaction context")?;
    let n = r.ub2("return key/value count")?;
    for _ in 0..n {
        r.key_value()?;
    }
    let len = r.ub2("registration info length")?;
    r.take(usize::from(len), "registration info")?;
    Ok(())
}

/// A SERVER_SIDE_PIGGYBACK (after its type byte): only SESS_RET, DRCP's "here is a session
/// again", is known; its session-state elements are never sent by orasim and refused here.
fn decode_server_piggyback(r: &mut Reader<'_>) -> Result<ResponseMessage, TtcError> {
    let opcode = r.u8("server piggyback opcode")?;
    if opcode != server_piggyback::SESS_RET {
        return Err(TtcError::invalid(
            "server piggyback opcode",
            format!("unsupported server piggyback {opcode}"),
        ));
    }
    r.ub2("session-return header")?;
    r.u8("session-return header")?;
    let elements = r.ub2("session state element count")?;
    if elements != 0 {
        return Err(TtcError::invalid(
            "session state element count",
            format!("{elements} session state elements are not supported"),
        ));
    }
    let flags = r.ub4("session-return flags")?;
    r.ub4("session id")?;
    r.ub2("serial number")?;
    Ok(ResponseMessage::SessionReturned {
        changed: flags & server_piggyback::SESSGET_SESSION_CHANGED != 0,
    })
}

#[cfg(test)]
mod tests;
